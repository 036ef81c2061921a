//! [`Sender`]: the writing end of a pipe.

use super::End;
use crate::driver::io::{Direction, PollEvented};
use crate::io::{Interest, Ready};
use std::fmt;
use std::fs::File;
use std::io::{self, IoSlice, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

/// The writing end of a pipe or FIFO.
///
/// Made by [`pipe`](super::pipe()), by
/// [`OpenOptions::open_sender`](super::OpenOptions::open_sender), or from a
/// descriptor ([`from_owned_fd`](Sender::from_owned_fd),
/// [`from_file`](Sender::from_file)). Writing goes through
/// [`AsyncWrite`](crate::io::AsyncWrite) and the extension methods of
/// [`AsyncWriteExt`](crate::io::AsyncWriteExt) (vectored writes are one
/// `writev(2)`), or through [`try_write`](Sender::try_write) after
/// [`writable`](Sender::writable).
///
/// A write waits while the pipe's buffer is full and fails with
/// [`BrokenPipe`](io::ErrorKind::BrokenPipe) once every reading end is
/// closed. `flush` and `close` do nothing (the bytes are in the kernel's
/// buffer as soon as a write returns, and a pipe has no half-close): drop
/// the `Sender` to close it, after which readers see end of file once no
/// other writer remains.
pub struct Sender {
    io: PollEvented<File>,
}

impl Sender {
    /// Wraps `file`, which must be the writing end of a pipe or a FIFO
    /// opened for writing; it is switched to non-blocking mode (see the
    /// [module docs](super#o_nonblock-and-other-processes) on what that
    /// means for other processes sharing it) and made close-on-exec.
    ///
    /// # Errors
    /// `InvalidInput` if `file` is not a pipe or FIFO, or was not opened
    /// for writing (the descriptor is closed then); outside a runtime.
    pub fn from_file(file: File) -> io::Result<Sender> {
        Sender::from_owned_fd(OwnedFd::from(file))
    }

    /// As [`from_file`](Sender::from_file), for a descriptor: e.g. the
    /// writing end of a pipe shared with a child process, or one received
    /// over a Unix socket.
    ///
    /// # Errors
    /// As [`from_file`](Sender::from_file).
    pub fn from_owned_fd(fd: OwnedFd) -> io::Result<Sender> {
        let file = super::check(fd, End::Sender)?;
        Ok(Sender {
            io: super::register(file)?,
        })
    }

    /// Wraps `file` as it is, with no checks and no changes: the caller
    /// guarantees that it is the writing end of a pipe or FIFO, open for
    /// writing and already in non-blocking mode. A blocking descriptor
    /// would block a worker thread whenever the pipe is full.
    ///
    /// # Errors
    /// Outside a runtime, or if the reactor refuses the descriptor.
    pub fn from_file_unchecked(file: File) -> io::Result<Sender> {
        Ok(Sender {
            io: super::register(file)?,
        })
    }

    /// As [`from_file_unchecked`](Sender::from_file_unchecked), for a
    /// descriptor.
    ///
    /// # Errors
    /// As [`from_file_unchecked`](Sender::from_file_unchecked).
    pub fn from_owned_fd_unchecked(fd: OwnedFd) -> io::Result<Sender> {
        Sender::from_file_unchecked(File::from(fd))
    }

    /// Waits until any readiness in `interest` is reported, and returns
    /// it. For a `Sender` the useful parts are
    /// [`is_writable`](Ready::is_writable) and
    /// [`is_write_closed`](Ready::is_write_closed) (no reader is left).
    /// Readiness is a hint: the next [`try_write`](Sender::try_write) may
    /// still return `WouldBlock`, which resets it.
    ///
    /// Cancel safe: dropping the future loses no readiness. Any number of
    /// tasks may wait at once.
    ///
    /// # Errors
    /// If the runtime shut down.
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        self.io.ready(interest).await
    }

    /// Waits until the pipe has room for a write, or has no reader left
    /// (the write then fails with `BrokenPipe`). Usually followed by
    /// [`try_write`](Sender::try_write).
    ///
    /// Cancel safe: dropping the future loses no readiness. Any number of
    /// tasks may wait at once.
    ///
    /// # Errors
    /// If the runtime shut down.
    pub async fn writable(&self) -> io::Result<()> {
        self.ready(Interest::WRITABLE).await.map(|_| ())
    }

    /// Polls for write readiness: `Ready(Ok(()))` when a write may
    /// succeed, `Pending` (and `cx`'s waker is woken later) otherwise.
    /// Only the waker of the last call is kept, as for
    /// `AsyncWrite::poll_write`; use [`writable`](Sender::writable) when
    /// several tasks wait. Spends one unit of the task's cooperative
    /// budget.
    ///
    /// # Errors
    /// If the runtime shut down.
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(cx, Direction::Write).map_ok(|_| ())
    }

    /// Writes as much of `buf` as fits, without waiting. Writes of at most
    /// `PIPE_BUF` (4096) bytes are all or nothing.
    ///
    /// # Errors
    /// `WouldBlock` if the pipe is full, or if the reactor has not reported
    /// it writable since the last `WouldBlock` (wait with
    /// [`writable`](Sender::writable)); `BrokenPipe` if no reader is left.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.io
            .try_io(Interest::WRITABLE, |mut file| file.write(buf))
    }

    /// As [`try_write`](Sender::try_write), writing the slices in order
    /// with one `writev(2)`; returns how many bytes were written in all.
    ///
    /// # Errors
    /// As [`try_write`](Sender::try_write).
    pub fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.io
            .try_io(Interest::WRITABLE, |mut file| file.write_vectored(bufs))
    }

    /// Runs `f` once if the pipe was reported writable, for a write that
    /// vigil has no method for (`vmsplice`, `tee`, ...) on
    /// [`as_raw_fd`](AsRawFd::as_raw_fd). If `f` returns `WouldBlock`, the
    /// readiness is cleared, so `f` must return it only when the pipe is
    /// really full.
    ///
    /// # Errors
    /// `WouldBlock` without calling `f` if the pipe is not known to be
    /// writable; otherwise whatever `f` returns.
    pub fn try_io<R>(&self, f: impl FnOnce() -> io::Result<R>) -> io::Result<R> {
        self.io.try_io(Interest::WRITABLE, |_| f())
    }

    /// Deregisters the end and returns its descriptor in blocking mode
    /// (`O_NONBLOCK` cleared), ready to give to code that does blocking
    /// writes, such as a child process's standard output.
    ///
    /// # Errors
    /// If `fcntl` fails; the descriptor is closed then.
    pub fn into_blocking_fd(self) -> io::Result<OwnedFd> {
        super::into_fd(self.io, false)
    }

    /// Deregisters the end and returns its descriptor, still in
    /// non-blocking mode (e.g. to register it with another reactor).
    ///
    /// # Errors
    /// None at present; the `Result` mirrors
    /// [`into_blocking_fd`](Sender::into_blocking_fd).
    pub fn into_nonblocking_fd(self) -> io::Result<OwnedFd> {
        super::into_fd(self.io, true)
    }
}

/// Writes go straight to the kernel through the reactor's readiness loop,
/// one unit of cooperative budget per attempt. Each `poll_*` is cancel
/// safe: it either wrote (and says how much) or wrote nothing.
impl futures_io::AsyncWrite for Sender {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(cx, Direction::Write, |mut file| file.write(buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(cx, Direction::Write, |mut file| file.write_vectored(bufs))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Does nothing: a pipe cannot be half-closed. Drop the `Sender` to
    /// close it.
    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl AsRawFd for Sender {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl AsFd for Sender {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl fmt::Debug for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}
