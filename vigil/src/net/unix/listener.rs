use super::{SocketAddr, UnixStream};
use crate::driver::io::{Direction, PollEvented};
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::Path;
use std::task::{Context, Poll};

/// A Unix-domain socket listening for connections at a path.
///
/// ```
/// use vigil::io::{AsyncReadExt, AsyncWriteExt};
/// use vigil::net::{UnixListener, UnixStream};
///
/// # vigil::block_on(async {
/// let path = std::env::temp_dir().join(format!("vigil-doc-{}.sock", std::process::id()));
/// let _ = std::fs::remove_file(&path);
/// let listener = UnixListener::bind(&path)?;
/// let server = vigil::spawn(async move {
///     let (mut socket, _) = listener.accept().await?;
///     socket.write_all(b"hello").await?;
///     std::io::Result::Ok(())
/// });
/// let mut client = UnixStream::connect(&path).await?;
/// let mut buf = String::new();
/// client.read_to_string(&mut buf).await?;
/// assert_eq!(buf, "hello");
/// server.await??;
/// std::fs::remove_file(&path)?;
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct UnixListener {
    io: PollEvented<std::os::unix::net::UnixListener>,
}

impl UnixListener {
    /// Creates the socket file at `path` and listens on it.
    ///
    /// Not `async`: binding a path never waits.
    ///
    /// # Errors
    /// Outside a runtime; `AddrInUse` if the file exists (even a stale
    /// socket file from an earlier run: remove it first).
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixListener> {
        let socket = super::new_socket(socket2::Type::STREAM)?;
        socket.bind(&socket2::SockAddr::unix(path)?)?;
        socket.listen(1024)?;
        UnixListener::new(socket.into())
    }

    /// Binds to `addr` and listens: a path, or on Linux an abstract name
    /// (no file is created for those; std's `SocketAddrExt` makes one).
    /// An unnamed address has the kernel pick a unique abstract name
    /// (autobind); [`local_addr`](Self::local_addr) tells which.
    ///
    /// # Errors
    /// Outside a runtime; `AddrInUse` if the path or name is taken.
    ///
    /// ```
    /// use std::os::linux::net::SocketAddrExt;
    /// use std::os::unix::net::SocketAddr;
    /// use vigil::net::{UnixListener, UnixStream};
    ///
    /// # vigil::block_on(async {
    /// let name = format!("vigil-doc-bind-addr-{}", std::process::id());
    /// let addr = SocketAddr::from_abstract_name(name.as_bytes())?;
    /// let listener = UnixListener::bind_addr(&addr)?;
    /// let _client = UnixStream::connect_addr(&addr).await?;
    /// let (_server, _) = listener.accept().await?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn bind_addr(addr: &SocketAddr) -> io::Result<UnixListener> {
        let socket = super::new_socket(socket2::Type::STREAM)?;
        socket.bind(&super::socket::sock_addr_of(addr)?)?;
        socket.listen(1024)?;
        UnixListener::new(socket.into())
    }

    fn new(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        Ok(UnixListener {
            io: PollEvented::new(listener)?,
        })
    }

    /// Waits for a connection.
    ///
    /// Cancel safe: if the `.await` is dropped, no connection is lost (it
    /// stays in the kernel's queue). Errors such as `EMFILE` (out of file
    /// descriptors) are returned as they come; a server loop should back off
    /// briefly on them instead of retrying at once.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for a connection; see [`accept`](Self::accept).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        match self.io.poll_io(cx, Direction::Read, |l| l.accept()) {
            Poll::Ready(Ok((stream, addr))) => {
                Poll::Ready(UnixStream::from_std(stream).map(|s| (s, addr)))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Wraps a standard listener (switched to non-blocking mode).
    ///
    /// # Errors
    /// Outside a runtime, or if the reactor refuses the descriptor.
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        UnixListener::new(listener)
    }

    /// Deregisters and returns the standard listener (still non-blocking).
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixListener> {
        Ok(self.io.into_inner())
    }

    /// The address (path) the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Reads and clears the pending socket error (`SO_ERROR`).
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

impl TryFrom<std::os::unix::net::UnixListener> for UnixListener {
    type Error = io::Error;

    /// The same as [`UnixListener::from_std`].
    fn try_from(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        UnixListener::from_std(listener)
    }
}

impl AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl AsFd for UnixListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.get_ref().fmt(f)
    }
}
