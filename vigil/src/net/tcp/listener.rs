use super::TcpStream;
use crate::driver::io::{Direction, PollEvented};
use crate::net::addr::{each_addr, ToSocketAddrs};
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{Context, Poll};

/// A TCP socket listening for connections.
///
/// ```
/// use vigil::io::{AsyncReadExt, AsyncWriteExt};
/// use vigil::net::{TcpListener, TcpStream};
///
/// # vigil::block_on(async {
/// let listener = TcpListener::bind("127.0.0.1:0").await?;
/// let addr = listener.local_addr()?;
/// let server = vigil::spawn(async move {
///     let (mut socket, _) = listener.accept().await?;
///     socket.write_all(b"hello").await?;
///     std::io::Result::Ok(())
/// });
/// let mut client = TcpStream::connect(addr).await?;
/// let mut buf = String::new();
/// client.read_to_string(&mut buf).await?;
/// assert_eq!(buf, "hello");
/// server.await??;
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct TcpListener {
    io: PollEvented<std::net::TcpListener>,
}

impl TcpListener {
    /// Binds to `addr` (trying each resolved address in turn) and listens,
    /// with `SO_REUSEADDR` set so a restarted server can bind at once.
    ///
    /// Cancel safe: dropping the future before it completes closes any
    /// socket it made; nothing stays bound.
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        each_addr(addr, |addr| async move {
            let socket = super::new_socket(addr)?;
            socket.set_reuse_address(true)?;
            socket.bind(&addr.into())?;
            socket.listen(1024)?;
            TcpListener::new(socket.into())
        })
        .await
    }

    fn new(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener {
            io: PollEvented::new(listener)?,
        })
    }

    /// Waits for a connection.
    ///
    /// Cancel safe: if the `.await` is dropped, no connection is lost (it
    /// stays in the kernel's queue). Errors such as `EMFILE` (out of file
    /// descriptors) are returned as they come; a server loop should back off
    /// briefly on them instead of retrying at once.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for a connection; see [`accept`](Self::accept).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        match self.io.poll_io(cx, Direction::Read, |l| l.accept()) {
            Poll::Ready(Ok((stream, addr))) => {
                Poll::Ready(TcpStream::from_accepted(stream).map(|s| (s, addr)))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Wraps a standard listener (switched to non-blocking mode).
    ///
    /// # Errors
    /// Outside a runtime, or if the reactor refuses the descriptor.
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        TcpListener::new(listener)
    }

    /// Deregisters and returns the standard listener (still non-blocking;
    /// call `set_nonblocking(false)` before blocking on it).
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        Ok(self.io.into_inner())
    }

    /// The local address, e.g. to learn the port chosen for port 0.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Sets `IP_TTL` for accepted sockets.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// Reads `IP_TTL`.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }
}

impl TryFrom<std::net::TcpListener> for TcpListener {
    type Error = io::Error;

    /// The same as [`TcpListener::from_std`].
    fn try_from(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        TcpListener::from_std(listener)
    }
}

impl AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl AsFd for TcpListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.get_ref().fmt(f)
    }
}
