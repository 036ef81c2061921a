use super::SocketAddr;
use crate::driver::io::{Direction, Interest, PollEvented, Ready};
use std::fmt;
use std::io;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::Path;
use std::task::{Context, Poll};

/// A Unix-domain datagram socket.
///
/// Datagrams between local processes are reliable and ordered (the kernel
/// never drops one; a full receiver makes the sender wait), but otherwise
/// work like UDP: each send is one message, each receive takes one. As with
/// [`UdpSocket`](crate::net::UdpSocket), the `async` methods may be awaited
/// by many tasks at once.
///
/// ```
/// use vigil::net::UnixDatagram;
///
/// # vigil::block_on(async {
/// let (a, b) = UnixDatagram::pair()?;
/// a.send(b"one").await?;
/// a.send(b"two").await?;
/// let mut buf = [0; 8];
/// let n = b.recv(&mut buf).await?;
/// assert_eq!(&buf[..n], b"one");
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct UnixDatagram {
    io: PollEvented<std::os::unix::net::UnixDatagram>,
}

impl UnixDatagram {
    /// Creates the socket file at `path` and binds to it.
    ///
    /// # Errors
    /// Outside a runtime; `AddrInUse` if the file exists.
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixDatagram> {
        let socket = super::new_socket(socket2::Type::DGRAM)?;
        socket.bind(&socket2::SockAddr::unix(path)?)?;
        UnixDatagram::new(socket.into())
    }

    /// A socket bound to no path: it can send, but only a peer it is
    /// connected to (or a `pair`) can answer it.
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::new(super::new_socket(socket2::Type::DGRAM)?.into())
    }

    /// A connected pair of datagram sockets (`socketpair`).
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = super::new_pair(socket2::Type::DGRAM)?;
        Ok((UnixDatagram::new(a.into())?, UnixDatagram::new(b.into())?))
    }

    fn new(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram {
            io: PollEvented::new(socket)?,
        })
    }

    /// Wraps a standard socket (switched to non-blocking mode).
    ///
    /// # Errors
    /// Outside a runtime, or if the reactor refuses the descriptor.
    pub fn from_std(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        socket.set_nonblocking(true)?;
        UnixDatagram::new(socket)
    }

    /// Deregisters and returns the standard socket (still non-blocking).
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixDatagram> {
        Ok(self.io.into_inner())
    }

    /// Sets the default peer: `send` goes to the socket bound at `path`,
    /// and only its datagrams are received. Not `async`: it never waits.
    pub fn connect<P: AsRef<Path>>(&self, path: P) -> io::Result<()> {
        self.io.get_ref().connect(path)
    }

    /// The local address (unnamed unless bound).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Waits for any of `interest`; returns what is ready. Cancel safe; many
    /// tasks may wait at once.
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        self.io.ready(interest).await
    }

    /// Waits until a datagram can be received. Cancel safe.
    pub async fn readable(&self) -> io::Result<()> {
        self.ready(Interest::READABLE).await.map(|_| ())
    }

    /// Waits until a datagram can be sent. Cancel safe.
    pub async fn writable(&self) -> io::Result<()> {
        self.ready(Interest::WRITABLE).await.map(|_| ())
    }

    /// Polls until a datagram can be received, for code that drives the
    /// socket by hand. `Ready(Ok(()))` once the reactor has seen the socket
    /// readable; polling does not consume that: a receive that fails with
    /// `WouldBlock` (such as [`try_recv`](Self::try_recv)) clears it.
    ///
    /// The receive direction keeps a single waker, the one of the most
    /// recent `poll_*` call in that direction (this method, `poll_recv`,
    /// `poll_recv_from`); the send direction keeps its own. For several
    /// tasks waiting at once, await [`readable`](Self::readable).
    ///
    /// # Errors
    /// When the socket is no longer registered with a running reactor.
    pub fn poll_recv_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(cx, Direction::Read).map_ok(|_| ())
    }

    /// Polls until a datagram can be sent; the counterpart of
    /// [`poll_recv_ready`](Self::poll_recv_ready), cleared by a send that
    /// fails with `WouldBlock`.
    ///
    /// The send direction keeps a single waker, the one of the most recent
    /// `poll_*` call in that direction (this method, `poll_send`,
    /// `poll_send_to`); the receive direction keeps its own. For several
    /// tasks waiting at once, await [`writable`](Self::writable).
    ///
    /// # Errors
    /// When the socket is no longer registered with a running reactor.
    pub fn poll_send_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(cx, Direction::Write).map_ok(|_| ())
    }

    /// Sends `buf` as one datagram to the connected peer.
    ///
    /// Cancel safe: if the future is dropped, the datagram was not sent.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.async_io(Interest::WRITABLE, |s| s.send(buf)).await
    }

    /// Sends to the connected peer without waiting: `WouldBlock` if the
    /// socket is not writable.
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(Interest::WRITABLE, |s| s.send(buf))
    }

    /// Receives one datagram from the connected peer; returns its length
    /// (truncated to `buf.len()`).
    ///
    /// Cancel safe: if the future is dropped, no datagram was taken.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.async_io(Interest::READABLE, |s| s.recv(buf)).await
    }

    /// Receives without waiting: `WouldBlock` if no datagram is queued.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Interest::READABLE, |s| s.recv(buf))
    }

    /// Sends `buf` as one datagram to the socket bound at `path`.
    ///
    /// Cancel safe: if the future is dropped, the datagram was not sent.
    pub async fn send_to<P: AsRef<Path>>(&self, buf: &[u8], path: P) -> io::Result<usize> {
        let path = path.as_ref();
        self.io
            .async_io(Interest::WRITABLE, |s| s.send_to(buf, path))
            .await
    }

    /// Sends to `path` without waiting: `WouldBlock` if not writable.
    pub fn try_send_to<P: AsRef<Path>>(&self, buf: &[u8], path: P) -> io::Result<usize> {
        self.io
            .try_io(Interest::WRITABLE, |s| s.send_to(buf, path.as_ref()))
    }

    /// Receives one datagram; returns its length and sender.
    ///
    /// Cancel safe: if the future is dropped, no datagram was taken.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .async_io(Interest::READABLE, |s| s.recv_from(buf))
            .await
    }

    /// Receives one datagram without waiting: `WouldBlock` if none is queued.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.try_io(Interest::READABLE, |s| s.recv_from(buf))
    }

    /// Polls receiving one datagram from the connected peer. Each direction
    /// remembers only the task that polled it last.
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Direction::Read, |s| s.recv(buf))
    }

    /// Polls sending one datagram to the connected peer.
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Direction::Write, |s| s.send(buf))
    }

    /// Polls receiving one datagram; gives its length (truncated to
    /// `buf.len()`) and sender. One waker for the receive direction, as for
    /// [`poll_recv`](Self::poll_recv).
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.io.poll_io(cx, Direction::Read, |s| s.recv_from(buf))
    }

    /// Polls sending `buf` as one datagram to the socket bound at `target`.
    /// One waker for the send direction, as for
    /// [`poll_send`](Self::poll_send).
    pub fn poll_send_to<P: AsRef<Path>>(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: P,
    ) -> Poll<io::Result<usize>> {
        let target = target.as_ref();
        self.io
            .poll_io(cx, Direction::Write, |s| s.send_to(buf, target))
    }

    /// Runs `f`, a non-blocking operation of the caller's own on this
    /// socket (a system call vigil does not wrap, such as `sendmsg` passing
    /// descriptors, made through the raw descriptor), if readiness for
    /// `interest` is cached.
    ///
    /// If none is, `f` is not called and the result is `WouldBlock`. If `f`
    /// returns `WouldBlock`, the readiness is cleared, so the next wait goes
    /// to the reactor again; any other result is returned as it is. So `f`
    /// must return `WouldBlock` only when its system call did, and should
    /// not use this socket's own methods. Give one interest per call.
    pub fn try_io<R>(
        &self,
        interest: Interest,
        f: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        self.io.try_io(interest, |_| f())
    }

    /// Waits for readiness for `interest`, then runs `f` as
    /// [`try_io`](Self::try_io) does, until `f` gives something other than
    /// `WouldBlock` (each `WouldBlock` clears the readiness and waits
    /// again). The same rules for `f` apply.
    ///
    /// Cancel safe as far as `f` is: `f` runs only inside a poll, so
    /// dropping the future never interrupts it. Any number of tasks may
    /// call it at once.
    pub async fn async_io<R>(
        &self,
        interest: Interest,
        mut f: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        self.io.async_io(interest, |_| f()).await
    }

    /// Shuts down reading, writing or both (`shutdown(2)`).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Reads and clears the pending socket error (`SO_ERROR`).
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

crate::net::datagram_buf::datagram_buf_methods!(UnixDatagram, SocketAddr, recv_buf_from_of);

impl TryFrom<std::os::unix::net::UnixDatagram> for UnixDatagram {
    type Error = io::Error;

    /// The same as [`UnixDatagram::from_std`].
    fn try_from(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        UnixDatagram::from_std(socket)
    }
}

impl AsRawFd for UnixDatagram {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl AsFd for UnixDatagram {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.get_ref().fmt(f)
    }
}

/// One datagram and its sender into the spare capacity of `buf`, zeroed
/// first and offered whole so the datagram is not cut short: `std`'s
/// `recv_from` builds the sender's address (unnamed and abstract Unix
/// addresses cannot be built outside `std`), and it takes initialised
/// bytes.
fn recv_buf_from_of<B: bytes::BufMut + ?Sized>(
    socket: &std::os::unix::net::UnixDatagram,
    buf: &mut B,
) -> io::Result<(usize, SocketAddr)> {
    crate::io::spare::fill_zeroed(buf, usize::MAX, |bytes| socket.recv_from(bytes))
}
