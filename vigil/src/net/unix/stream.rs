use super::split::{self, OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use super::SocketAddr;
use crate::driver::io::{Interest, PollEvented, Ready};
use crate::net::stream_io;
use std::io;
use std::path::Path;
use std::time::Duration;

/// The longest pause between two connects to a listener whose backlog is
/// full.
const MAX_BACKLOG_PAUSE: Duration = Duration::from_millis(50);

/// A Unix-domain stream connection.
///
/// Reading and writing go through the `futures-io` traits
/// ([`AsyncRead`](crate::io::AsyncRead), [`AsyncWrite`](crate::io::AsyncWrite))
/// and their extension methods in [`crate::io`]; both are also implemented
/// for `&UnixStream`, so one task can read while another writes. Closing
/// (`AsyncWriteExt::shutdown().await`) half-closes the writing side.
///
/// ```
/// use vigil::io::{AsyncReadExt, AsyncWriteExt};
/// use vigil::net::UnixStream;
///
/// # vigil::block_on(async {
/// let (mut a, mut b) = UnixStream::pair()?;
/// a.write_all(b"ping").await?;
/// let mut buf = [0; 4];
/// b.read_exact(&mut buf).await?;
/// assert_eq!(&buf, b"ping");
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct UnixStream {
    io: PollEvented<std::os::unix::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket listening at `path`. On Linux a path that
    /// starts with a NUL byte names an abstract socket (the rest of the
    /// bytes are its name).
    ///
    /// If the listener's backlog is full, the connect is retried after a
    /// pause that grows from 1 ms to 50 ms, until the listener makes room
    /// (bound the wait with [`crate::time::timeout`]).
    ///
    /// Cancel safe: dropping the future closes the unconnected socket.
    ///
    /// # Errors
    /// Outside a runtime; `NotFound` if nothing exists at `path`,
    /// `ConnectionRefused` if nothing listens there.
    pub async fn connect<P: AsRef<Path>>(path: P) -> io::Result<UnixStream> {
        let addr = socket2::SockAddr::unix(path)?;
        let socket = super::new_socket(socket2::Type::STREAM)?;
        UnixStream::connect_socket(socket, &addr).await
    }

    /// Connects to the socket listening at `addr`: a path, or on Linux an
    /// abstract name (made with std's `SocketAddrExt::from_abstract_name`).
    /// Waits out a full backlog like [`connect`](Self::connect).
    ///
    /// Cancel safe: dropping the future closes the unconnected socket.
    ///
    /// # Errors
    /// Outside a runtime; `ConnectionRefused` if nothing listens at `addr`;
    /// an unnamed `addr` can never be connected to.
    pub async fn connect_addr(addr: &SocketAddr) -> io::Result<UnixStream> {
        let addr = super::socket::sock_addr_of(addr)?;
        let socket = super::new_socket(socket2::Type::STREAM)?;
        UnixStream::connect_socket(socket, &addr).await
    }

    /// Connects `socket`, a non-blocking stream socket (perhaps bound, from
    /// `UnixSocket`), to `addr`. A full backlog (`EAGAIN`) leaves the socket
    /// unconnected, so the same socket tries again after a pause.
    pub(super) async fn connect_socket(
        socket: socket2::Socket,
        addr: &socket2::SockAddr,
    ) -> io::Result<UnixStream> {
        let mut pause = Duration::from_millis(1);
        loop {
            match socket.connect(addr) {
                Ok(()) => return UnixStream::new(socket.into()),
                Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {
                    let stream = UnixStream::new(socket.into())?;
                    stream.io.ready(Interest::WRITABLE).await?;
                    if let Some(err) = stream.io.get_ref().take_error()? {
                        return Err(err);
                    }
                    return Ok(stream);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    crate::time::sleep(pause).await;
                    pause = (pause * 2).min(MAX_BACKLOG_PAUSE);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// A connected pair of streams (`socketpair`), e.g. to talk to a child
    /// process or between two parts of one program.
    ///
    /// # Errors
    /// Outside a runtime, or if the process is out of descriptors.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = super::new_pair(socket2::Type::STREAM)?;
        Ok((UnixStream::new(a.into())?, UnixStream::new(b.into())?))
    }

    fn new(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            io: PollEvented::new(stream)?,
        })
    }

    /// Wraps a connected standard stream (switched to non-blocking mode).
    ///
    /// # Errors
    /// Outside a runtime, or if the reactor refuses the descriptor.
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        UnixStream::new(stream)
    }

    /// Deregisters and returns the standard stream (still non-blocking).
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixStream> {
        Ok(self.io.into_inner())
    }

    /// The local address (unnamed for a client or a `pair`).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The peer's address (the listener's path, for a client).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// The credentials of the process at the other end (`SO_PEERCRED`):
    /// for a server, who connected.
    ///
    /// ```
    /// # vigil::block_on(async {
    /// let (a, _b) = vigil::net::UnixStream::pair()?;
    /// let cred = a.peer_cred()?;
    /// assert_eq!(cred.pid(), Some(std::process::id() as i32));
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn peer_cred(&self) -> io::Result<super::UCred> {
        super::UCred::of(std::os::fd::AsRawFd::as_raw_fd(self.io.get_ref()))
    }

    /// Reads and clears the pending socket error (`SO_ERROR`).
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Waits for any of `interest`; returns what is ready. Cancel safe; many
    /// tasks may wait at once.
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        self.io.ready(interest).await
    }

    /// Waits until the stream is readable. Cancel safe.
    pub async fn readable(&self) -> io::Result<()> {
        self.ready(Interest::READABLE).await.map(|_| ())
    }

    /// Waits until the stream is writable. Cancel safe.
    pub async fn writable(&self) -> io::Result<()> {
        self.ready(Interest::WRITABLE).await.map(|_| ())
    }

    /// Reads without waiting: `WouldBlock` if no data is ready.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        use std::io::Read;
        self.io.try_io(Interest::READABLE, |mut s| s.read(buf))
    }

    /// Writes without waiting: `WouldBlock` if the send buffer is full.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        use std::io::Write;
        self.io.try_io(Interest::WRITABLE, |mut s| s.write(buf))
    }

    /// Borrowed read and write halves, for use in one task. Zero cost.
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        split::split(self)
    }

    /// Owned halves that can move to two different tasks. Dropping the
    /// write half shuts down the writing side.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split::into_split(self)
    }
}

stream_io::impl_stream_socket!(UnixStream, std::os::unix::net::UnixStream);
