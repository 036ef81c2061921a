//! [`TcpSocket`]: a TCP socket that is not yet connected or listening.
//!
//! `TcpStream::connect` and `TcpListener::bind` create, configure and use
//! their socket in one step, with the options almost every program wants.
//! Some options only mean something when set *before* the connect or the
//! listen: the local address and port a client connects from, buffer sizes
//! (which fix the TCP window scale during the handshake), `SO_REUSEPORT` to
//! spread one port over several listeners, or a listen backlog other than
//! vigil's default. A `TcpSocket` is that socket between creation and use:
//! set what you need, then turn it into a stream with
//! [`connect`](TcpSocket::connect) or a listener with
//! [`listen`](TcpSocket::listen).
//!
//! Like every vigil socket it is created non-blocking and close-on-exec; it
//! is registered with the reactor only when it becomes a stream or a
//! listener, so a `TcpSocket` itself can be created outside a runtime.

use super::{TcpListener, TcpStream};
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::time::Duration;

/// A TCP socket to configure before connecting or listening.
///
/// ```
/// use vigil::net::TcpSocket;
///
/// # vigil::block_on(async {
/// let socket = TcpSocket::new_v4()?;
/// socket.set_reuseaddr(true)?;
/// socket.bind("127.0.0.1:0".parse().unwrap())?;
/// let listener = socket.listen(16)?;
/// let addr = listener.local_addr()?;
///
/// let client = TcpSocket::new_v4()?;
/// client.set_nodelay(true)?;
/// let stream = client.connect(addr).await?;
/// assert_eq!(stream.peer_addr()?, addr);
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct TcpSocket {
    inner: socket2::Socket,
}

impl TcpSocket {
    /// Creates an IPv4 TCP socket.
    pub fn new_v4() -> io::Result<TcpSocket> {
        TcpSocket::new(socket2::Domain::IPV4)
    }

    /// Creates an IPv6 TCP socket.
    pub fn new_v6() -> io::Result<TcpSocket> {
        TcpSocket::new(socket2::Domain::IPV6)
    }

    /// Creates a socket of the family of `addr` (IPv4 or IPv6).
    pub fn new_for_addr(addr: SocketAddr) -> io::Result<TcpSocket> {
        TcpSocket::new(socket2::Domain::for_address(addr))
    }

    /// Turns a standard TCP stream that is not yet connected (typically a
    /// socket made and configured with `socket2`, converted) into a
    /// `TcpSocket`, for options this type does not offer.
    ///
    /// The socket is switched to non-blocking mode when it connects or
    /// listens, so it need not be non-blocking yet.
    pub fn from_std_stream(std_stream: std::net::TcpStream) -> TcpSocket {
        TcpSocket {
            inner: socket2::Socket::from(std_stream),
        }
    }

    fn new(domain: socket2::Domain) -> io::Result<TcpSocket> {
        let inner = socket2::Socket::new(
            domain,
            socket2::Type::STREAM.nonblocking().cloexec(),
            Some(socket2::Protocol::TCP),
        )?;
        Ok(TcpSocket { inner })
    }

    /// Sets `SO_REUSEADDR`: lets a listener bind a port that still has
    /// connections in `TIME_WAIT` (a restarted server, typically).
    pub fn set_reuseaddr(&self, reuseaddr: bool) -> io::Result<()> {
        self.inner.set_reuse_address(reuseaddr)
    }

    /// Reads `SO_REUSEADDR`.
    pub fn reuseaddr(&self) -> io::Result<bool> {
        self.inner.reuse_address()
    }

    /// Sets `SO_REUSEPORT`: several sockets (all with the option set, all
    /// owned by the same user) may bind the same address and port, and the
    /// kernel spreads incoming connections over them.
    pub fn set_reuseport(&self, reuseport: bool) -> io::Result<()> {
        self.inner.set_reuse_port(reuseport)
    }

    /// Reads `SO_REUSEPORT`.
    pub fn reuseport(&self) -> io::Result<bool> {
        self.inner.reuse_port()
    }

    /// Sets `SO_SNDBUF`. The kernel doubles the value for its bookkeeping
    /// and clamps it, so [`send_buffer_size`](Self::send_buffer_size) may
    /// report something else.
    pub fn set_send_buffer_size(&self, size: u32) -> io::Result<()> {
        self.inner.set_send_buffer_size(size as usize)
    }

    /// Reads `SO_SNDBUF`.
    pub fn send_buffer_size(&self) -> io::Result<u32> {
        self.inner.send_buffer_size().map(clamp_u32)
    }

    /// Sets `SO_RCVBUF`. Set it before connecting or listening: the window
    /// scale is agreed during the handshake. See
    /// [`set_send_buffer_size`](Self::set_send_buffer_size) on the value read
    /// back.
    pub fn set_recv_buffer_size(&self, size: u32) -> io::Result<()> {
        self.inner.set_recv_buffer_size(size as usize)
    }

    /// Reads `SO_RCVBUF`.
    pub fn recv_buffer_size(&self) -> io::Result<u32> {
        self.inner.recv_buffer_size().map(clamp_u32)
    }

    /// Sets `TCP_NODELAY` (disables Nagle's algorithm), inherited by the
    /// stream.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.set_tcp_nodelay(nodelay)
    }

    /// Reads `TCP_NODELAY`.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.inner.tcp_nodelay()
    }

    /// Sets `SO_LINGER`. `Some(Duration::ZERO)` makes closing the socket
    /// reset the connection (an RST) instead of closing it gracefully; see
    /// [`set_zero_linger`](Self::set_zero_linger). A non-zero duration makes
    /// closing the stream block the closing thread (a runtime worker) until
    /// the unsent data is acknowledged or the time is up.
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        self.inner.set_linger(linger)
    }

    /// Sets `SO_LINGER` to zero, inherited by the stream: closing it then
    /// aborts the connection (unsent data is discarded, the peer gets an RST
    /// instead of end of file, and the port skips `TIME_WAIT`) without ever
    /// blocking.
    pub fn set_zero_linger(&self) -> io::Result<()> {
        self.inner.set_linger(Some(Duration::ZERO))
    }

    /// Reads `SO_LINGER`.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        self.inner.linger()
    }

    /// Sets `SO_KEEPALIVE`.
    pub fn set_keepalive(&self, keepalive: bool) -> io::Result<()> {
        self.inner.set_keepalive(keepalive)
    }

    /// Reads `SO_KEEPALIVE`.
    pub fn keepalive(&self) -> io::Result<bool> {
        self.inner.keepalive()
    }

    /// Reads `IP_TOS`, the type-of-service byte of outgoing IPv4 packets.
    pub fn tos_v4(&self) -> io::Result<u32> {
        self.inner.tos_v4()
    }

    /// Sets `IP_TOS`: the type-of-service byte (DSCP and ECN bits) of the
    /// IPv4 packets this socket sends. Meaningless on an IPv6 socket (see
    /// [`set_tclass_v6`](Self::set_tclass_v6)).
    pub fn set_tos_v4(&self, tos: u32) -> io::Result<()> {
        self.inner.set_tos_v4(tos)
    }

    /// The former name of [`tos_v4`](Self::tos_v4).
    #[deprecated(note = "IPv4-only: use `tos_v4`")]
    #[doc(hidden)]
    pub fn tos(&self) -> io::Result<u32> {
        self.tos_v4()
    }

    /// The former name of [`set_tos_v4`](Self::set_tos_v4).
    #[deprecated(note = "IPv4-only: use `set_tos_v4`")]
    #[doc(hidden)]
    pub fn set_tos(&self, tos: u32) -> io::Result<()> {
        self.set_tos_v4(tos)
    }

    /// Reads `IPV6_TCLASS`, the traffic class of outgoing IPv6 packets.
    pub fn tclass_v6(&self) -> io::Result<u32> {
        self.inner.tclass_v6()
    }

    /// Sets `IPV6_TCLASS`: the traffic class (DSCP and ECN bits) of the IPv6
    /// packets this socket sends; the IPv6 counterpart of
    /// [`set_tos_v4`](Self::set_tos_v4). Fails on an IPv4 socket.
    pub fn set_tclass_v6(&self, tclass: u32) -> io::Result<()> {
        self.inner.set_tclass_v6(tclass)
    }

    /// The interface the socket is bound to with
    /// [`bind_device`](Self::bind_device) (`SO_BINDTODEVICE`), by name
    /// (without a trailing NUL); `None` if it is bound to none.
    pub fn device(&self) -> io::Result<Option<Vec<u8>>> {
        self.inner.device()
    }

    /// Sets `SO_BINDTODEVICE`: the socket then sends and receives only
    /// through the network interface named `interface` (such as `b"eth0"`);
    /// `None` or an empty name removes the binding. Changing or removing a
    /// binding needs `CAP_NET_RAW` (and before Linux 5.7, so did setting
    /// the first one).
    pub fn bind_device(&self, interface: Option<&[u8]>) -> io::Result<()> {
        self.inner.bind_device(interface)
    }

    /// Binds to a local address: the address to listen on, or the one to
    /// connect from. Port 0 lets the kernel choose.
    pub fn bind(&self, addr: SocketAddr) -> io::Result<()> {
        self.inner.bind(&addr.into())
    }

    /// The local address, once bound (or connected).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner
            .local_addr()?
            .as_socket()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not an IP socket"))
    }

    /// Reads and clears the pending socket error (`SO_ERROR`).
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }

    /// Connects to `addr` and returns the stream.
    ///
    /// The connect is non-blocking; the task waits for the socket to become
    /// writable. Cancel safe: dropping the future closes the half-open
    /// socket, and no connection is left behind. Bound the wait with
    /// [`crate::time::timeout`].
    ///
    /// # Errors
    /// Outside a runtime, or whatever the connect reports (`ConnectionRefused`,
    /// `AddrNotAvailable`, ...).
    pub async fn connect(self, addr: SocketAddr) -> io::Result<TcpStream> {
        // A socket built from a raw descriptor may still be blocking.
        self.inner.set_nonblocking(true)?;
        TcpStream::connect_socket(self.inner, addr).await
    }

    /// Starts listening with room for `backlog` connections not yet
    /// accepted (the kernel may round it or cap it at `somaxconn`).
    ///
    /// # Errors
    /// Outside a runtime, or if `listen` fails (e.g. the address is in use).
    pub fn listen(self, backlog: u32) -> io::Result<TcpListener> {
        let backlog = i32::try_from(backlog).unwrap_or(i32::MAX);
        self.inner.listen(backlog)?;
        TcpListener::from_std(self.inner.into())
    }
}

fn clamp_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl AsRawFd for TcpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}

impl AsFd for TcpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl IntoRawFd for TcpSocket {
    fn into_raw_fd(self) -> RawFd {
        self.inner.into_raw_fd()
    }
}

impl From<OwnedFd> for TcpSocket {
    /// Takes ownership of a TCP socket descriptor; it is switched to
    /// non-blocking mode when it connects or listens.
    fn from(fd: OwnedFd) -> TcpSocket {
        TcpSocket {
            inner: socket2::Socket::from(fd),
        }
    }
}

impl FromRawFd for TcpSocket {
    /// # Safety
    /// `fd` must be an open TCP socket that nothing else owns or closes.
    unsafe fn from_raw_fd(fd: RawFd) -> TcpSocket {
        // SAFETY: the caller hands over sole ownership of an open socket.
        let owned = unsafe { OwnedFd::from_raw_fd(fd) };
        TcpSocket::from(owned)
    }
}

impl fmt::Debug for TcpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}
