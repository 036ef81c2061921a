//! The child's ends of its standard streams, as seen from the parent:
//! [`ChildStdin`] (write), [`ChildStdout`] and [`ChildStderr`] (read).
//!
//! `std` creates these pipes in blocking mode (and close-on-exec). Once
//! taken from `std`'s `Child` the parent's ends are ours alone, so they are
//! switched to non-blocking mode and registered with the reactor; reads and
//! writes then follow the same try -> `WouldBlock` -> wait pattern as the
//! sockets, with `read(2)`/`write(2)` in place of `recv`/`send`.

use crate::driver::io::{Direction, PollEvented};
use crate::sys::{pipe, process as sys};
use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Wraps the parent's end of a pipe: non-blocking, registered.
fn register(fd: OwnedFd) -> io::Result<PollEvented<OwnedFd>> {
    sys::set_nonblocking(fd.as_raw_fd(), true)?;
    PollEvented::new(fd)
}

/// Deregisters and returns the descriptor, switched back to blocking mode
/// (what a program given it as its standard stream expects).
fn unregister(io: PollEvented<OwnedFd>) -> io::Result<OwnedFd> {
    let fd = io.into_inner();
    sys::set_nonblocking(fd.as_raw_fd(), false)?;
    Ok(fd)
}

macro_rules! pipe_end {
    ($(#[$doc:meta])* $name:ident, $std:ty) => {
        $(#[$doc])*
        pub struct $name {
            io: PollEvented<OwnedFd>,
        }

        impl $name {
            /// Wraps the pipe `std` created (switched to non-blocking mode).
            pub(crate) fn from_std(std: $std) -> io::Result<$name> {
                Ok($name { io: register(OwnedFd::from(std))? })
            }

            /// Deregisters the pipe and returns its descriptor, switched
            /// back to blocking mode, e.g. to hand it to another process
            /// with [`std::process::Stdio::from`].
            ///
            /// # Errors
            /// If the descriptor's flags cannot be changed (it is returned
            /// in no case then; this does not happen for a valid pipe).
            pub fn into_owned_fd(self) -> io::Result<OwnedFd> {
                unregister(self.io)
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
                self.io.get_ref().as_raw_fd()
            }
        }

        impl AsFd for $name {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.io.get_ref().as_fd()
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
    std::process::ChildStdin
);

pipe_end!(
    /// The parent's reading end of a child's standard output, read through
    /// [`AsyncRead`](crate::io::AsyncRead). Reads return 0 (end of file)
    /// once the child, and every process it shared the pipe with, closed it.
    ChildStdout,
    std::process::ChildStdout
);

pipe_end!(
    /// The parent's reading end of a child's standard error, read through
    /// [`AsyncRead`](crate::io::AsyncRead), like [`ChildStdout`].
    ChildStderr,
    std::process::ChildStderr
);

/// Reads into `buf` from a registered pipe (cancel safe: a read either
/// happened, and is returned, or did not).
fn poll_read(
    io: &PollEvented<OwnedFd>,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>> {
    io.poll_io(cx, Direction::Read, |fd| pipe::read(fd.as_raw_fd(), buf))
}

/// `AsyncRead` for the reading ends, through [`poll_read`].
macro_rules! impl_async_read {
    ($($t:ty),*) => {$(
        impl futures_io::AsyncRead for $t {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                poll_read(&self.io, cx, buf)
            }
        }
    )*};
}

impl_async_read!(ChildStdout, ChildStderr);

impl futures_io::AsyncWrite for ChildStdin {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(cx, Direction::Write, |fd| pipe::write(fd.as_raw_fd(), buf))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
