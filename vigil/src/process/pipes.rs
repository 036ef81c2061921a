//! The child's ends of its standard streams, as seen from the parent:
//! [`ChildStdin`] (write), [`ChildStdout`] and [`ChildStderr`] (read).
//!
//! They are the ends of ordinary pipes, so each wraps the general pipe
//! types of [`net::unix::pipe`](crate::net::unix::pipe): `std` creates the
//! pipes (blocking, close-on-exec); once taken from `std`'s `Child` the
//! parent's ends are ours alone, so they are switched to non-blocking mode
//! and registered with the reactor, and reads and writes (vectored ones
//! included) follow the same try -> `WouldBlock` -> wait pattern as the
//! sockets.

use crate::net::unix::pipe;
use crate::sys::process as sys;
use std::fmt;
use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

macro_rules! pipe_end {
    ($(#[$doc:meta])* $name:ident, $std:ty, $end:ty) => {
        $(#[$doc])*
        pub struct $name {
            inner: $end,
        }

        impl $name {
            /// Wraps the pipe of a child that `std::process::Command`
            /// spawned (switched to non-blocking mode and registered with
            /// the current runtime's reactor).
            ///
            /// # Errors
            /// Outside a runtime, or if the reactor refuses the descriptor.
            pub fn from_std(std: $std) -> io::Result<$name> {
                let fd = OwnedFd::from(std);
                sys::set_nonblocking(fd.as_raw_fd(), true)?;
                // `std` made a pipe, close-on-exec, with this end's access:
                // nothing for the checked constructor to verify.
                Ok($name { inner: <$end>::from_owned_fd_unchecked(fd)? })
            }

            /// Deregisters the pipe and returns its descriptor, switched
            /// back to blocking mode, e.g. to hand it to another process
            /// with [`std::process::Stdio::from`].
            ///
            /// # Errors
            /// If the descriptor's flags cannot be changed (it is returned
            /// in no case then; this does not happen for a valid pipe).
            pub fn into_owned_fd(self) -> io::Result<OwnedFd> {
                self.inner.into_blocking_fd()
            }
        }

        /// The pipe as another child's standard stream (blocking again, as
        /// [`into_owned_fd`]($name::into_owned_fd) leaves it), e.g. to
        /// connect two children: `.stdin(Stdio::try_from(stdout)?)`.
        impl TryFrom<$name> for std::process::Stdio {
            type Error = io::Error;

            fn try_from(pipe: $name) -> io::Result<std::process::Stdio> {
                pipe.into_owned_fd().map(std::process::Stdio::from)
            }
        }

        impl AsRawFd for $name {
            fn as_raw_fd(&self) -> RawFd {
                self.inner.as_raw_fd()
            }
        }

        impl AsFd for $name {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.inner.as_fd()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("fd", &self.as_raw_fd())
                    .finish()
            }
        }
    };
}

pipe_end!(
    /// The parent's writing end of a child's standard input.
    ///
    /// Writes go through [`AsyncWrite`](crate::io::AsyncWrite) (and its
    /// extension methods in [`crate::io`]). Dropping it closes the pipe, and
    /// the child reads end of file; [`Child::wait`](super::Child::wait)
    /// drops it first for that reason. As with Tokio, `close()` and `flush()`
    /// do nothing: a pipe has no buffer of ours to flush and no half-close;
    /// drop the value to close it.
    ///
    /// Writing after the child closed its end (or exited) fails with
    /// `BrokenPipe` (`EPIPE`); vigil ignores `SIGPIPE`, so the parent is
    /// not killed.
    ChildStdin,
    std::process::ChildStdin,
    pipe::Sender
);

pipe_end!(
    /// The parent's reading end of a child's standard output, read through
    /// [`AsyncRead`](crate::io::AsyncRead). Reads return 0 (end of file)
    /// once the child, and every process it shared the pipe with, closed it.
    ChildStdout,
    std::process::ChildStdout,
    pipe::Receiver
);

pipe_end!(
    /// The parent's reading end of a child's standard error, read through
    /// [`AsyncRead`](crate::io::AsyncRead), like [`ChildStdout`].
    ChildStderr,
    std::process::ChildStderr,
    pipe::Receiver
);

/// `AsyncRead` for the reading ends: the pipe's own (cancel safe: a read
/// either happened, and is returned, or did not).
macro_rules! impl_async_read {
    ($($t:ty),*) => {$(
        impl futures_io::AsyncRead for $t {
            fn poll_read(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                Pin::new(&mut self.inner).poll_read(cx, buf)
            }

            fn poll_read_vectored(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &mut [IoSliceMut<'_>],
            ) -> Poll<io::Result<usize>> {
                Pin::new(&mut self.inner).poll_read_vectored(cx, bufs)
            }
        }
    )*};
}

impl_async_read!(ChildStdout, ChildStderr);

/// The pipe's own writes, vectored ones included (one `writev`).
impl futures_io::AsyncWrite for ChildStdin {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
