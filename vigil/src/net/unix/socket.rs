//! [`UnixSocket`]: a Unix-domain socket that is not yet a listener, a
//! stream or a datagram socket.
//!
//! [`UnixListener::bind`], [`UnixStream::connect`] and
//! [`UnixDatagram::bind`] create and set up their socket in one step. A
//! `UnixSocket` is the socket between creation and use, for what those
//! steps leave out: a listen backlog of your choice, a client stream bound
//! to a path of its own before it connects (so the server sees who it is
//! by address), or options set through the descriptor (`AsFd`) before
//! anything happens. Make it with [`new_stream`](UnixSocket::new_stream) or
//! [`new_datagram`](UnixSocket::new_datagram), then turn it into a
//! [`UnixListener`] ([`listen`](UnixSocket::listen)), a [`UnixStream`]
//! ([`connect`](UnixSocket::connect)) or a [`UnixDatagram`]
//! ([`datagram`](UnixSocket::datagram)).
//!
//! Like every vigil socket it is created non-blocking and close-on-exec; it
//! is registered with the reactor only when it becomes one of those, so a
//! `UnixSocket` itself can be created outside a runtime.

use super::{SocketAddr, UnixDatagram, UnixListener, UnixStream};
use std::ffi::OsStr;
use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// A Unix-domain socket to set up before it listens, connects or exchanges
/// datagrams.
///
/// ```
/// use vigil::io::{AsyncReadExt, AsyncWriteExt};
/// use vigil::net::{UnixSocket, UnixStream};
///
/// # vigil::block_on(async {
/// let dir = std::env::temp_dir().join(format!("vigil-doc-unix-socket-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("server.sock");
/// let _ = std::fs::remove_file(&path);
///
/// let socket = UnixSocket::new_stream()?;
/// socket.bind(&path)?;
/// let listener = socket.listen(8)?;
///
/// let mut client = UnixStream::connect(&path).await?;
/// let (mut server, _) = listener.accept().await?;
/// client.write_all(b"hi").await?;
/// let mut buf = [0; 2];
/// server.read_exact(&mut buf).await?;
/// assert_eq!(&buf, b"hi");
/// std::fs::remove_dir_all(&dir)?;
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct UnixSocket {
    inner: socket2::Socket,
}

impl UnixSocket {
    /// Creates a stream socket (`SOCK_STREAM`), to become a
    /// [`UnixListener`] or a [`UnixStream`].
    pub fn new_stream() -> io::Result<UnixSocket> {
        Ok(UnixSocket {
            inner: super::new_socket(socket2::Type::STREAM)?,
        })
    }

    /// Creates a datagram socket (`SOCK_DGRAM`), to become a
    /// [`UnixDatagram`].
    pub fn new_datagram() -> io::Result<UnixSocket> {
        Ok(UnixSocket {
            inner: super::new_socket(socket2::Type::DGRAM)?,
        })
    }

    /// Binds the socket to `path`, creating the socket file there (on
    /// Linux, a path starting with a NUL byte is an abstract name instead,
    /// with no file). Nothing removes the file when the socket closes.
    ///
    /// # Errors
    /// `AddrInUse` if the file exists, even a stale one; `NotFound` if its
    /// directory does not.
    pub fn bind(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.inner.bind(&socket2::SockAddr::unix(path)?)
    }

    /// Starts listening, with room for `backlog` connections not yet
    /// accepted (the kernel caps it at `somaxconn`), and returns the
    /// listener. Bind the socket first.
    ///
    /// # Errors
    /// `InvalidInput` for a datagram socket or (from the kernel) for one
    /// not bound; outside a runtime.
    pub fn listen(self, backlog: u32) -> io::Result<UnixListener> {
        self.expect_type(socket2::Type::STREAM, "listen needs a stream socket")?;
        self.inner
            .listen(i32::try_from(backlog).unwrap_or(i32::MAX))?;
        UnixListener::from_std(self.inner.into())
    }

    /// Connects to the socket listening at `path` and returns the stream.
    /// A full backlog is waited out like [`UnixStream::connect`] does, with
    /// this same socket, so an address it was bound to is kept.
    ///
    /// Cancel safe: dropping the future closes the socket, unconnected.
    ///
    /// # Errors
    /// `InvalidInput` for a datagram socket; outside a runtime; `NotFound`
    /// if nothing exists at `path`, `ConnectionRefused` if nothing listens
    /// there.
    pub async fn connect(self, path: impl AsRef<Path>) -> io::Result<UnixStream> {
        self.expect_type(socket2::Type::STREAM, "connect needs a stream socket")?;
        let addr = socket2::SockAddr::unix(path)?;
        // A socket made from a raw descriptor may still be blocking.
        self.inner.set_nonblocking(true)?;
        UnixStream::connect_socket(self.inner, &addr).await
    }

    /// Turns a datagram socket, bound or not, into a [`UnixDatagram`].
    ///
    /// # Errors
    /// `InvalidInput` for a stream socket; outside a runtime.
    pub fn datagram(self) -> io::Result<UnixDatagram> {
        self.expect_type(socket2::Type::DGRAM, "datagram needs a datagram socket")?;
        UnixDatagram::from_std(self.inner.into())
    }

    /// Fails with `msg` unless the socket is of type `ty` (`SO_TYPE`).
    fn expect_type(&self, ty: socket2::Type, msg: &str) -> io::Result<()> {
        if self.inner.r#type()? == ty {
            Ok(())
        } else {
            Err(io::Error::new(io::ErrorKind::InvalidInput, msg))
        }
    }
}

/// The `socket2` form of a Unix-domain address: its path, its abstract name
/// (a leading NUL byte, as `SockAddr::unix` expects), or nothing for an
/// unnamed address (which `bind` takes as "autobind").
pub(super) fn sock_addr_of(addr: &SocketAddr) -> io::Result<socket2::SockAddr> {
    use std::os::linux::net::SocketAddrExt;
    if let Some(path) = addr.as_pathname() {
        return socket2::SockAddr::unix(path);
    }
    if let Some(name) = addr.as_abstract_name() {
        let mut bytes = Vec::with_capacity(name.len() + 1);
        bytes.push(0);
        bytes.extend_from_slice(name);
        return socket2::SockAddr::unix(OsStr::from_bytes(&bytes));
    }
    socket2::SockAddr::unix("")
}

impl AsRawFd for UnixSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}

impl AsFd for UnixSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl IntoRawFd for UnixSocket {
    fn into_raw_fd(self) -> RawFd {
        self.inner.into_raw_fd()
    }
}

impl From<OwnedFd> for UnixSocket {
    /// Takes ownership of a Unix-domain socket descriptor; it is switched
    /// to non-blocking mode when it listens, connects or becomes a datagram
    /// socket.
    fn from(fd: OwnedFd) -> UnixSocket {
        UnixSocket {
            inner: socket2::Socket::from(fd),
        }
    }
}

impl FromRawFd for UnixSocket {
    /// # Safety
    /// `fd` must be an open Unix-domain socket that nothing else owns or
    /// closes.
    unsafe fn from_raw_fd(fd: RawFd) -> UnixSocket {
        // SAFETY: the caller hands over sole ownership of an open socket.
        let owned = unsafe { OwnedFd::from_raw_fd(fd) };
        UnixSocket::from(owned)
    }
}

impl fmt::Debug for UnixSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}
