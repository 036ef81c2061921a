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
    /// reset the connection (an RST) instead of closing it gracefully.
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        self.inner.set_linger(linger)
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
