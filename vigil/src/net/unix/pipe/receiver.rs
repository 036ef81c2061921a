//! [`Receiver`]: the reading end of a pipe.

use super::End;
use crate::driver::io::{Direction, PollEvented};
use crate::io::{Interest, Ready};
use std::fmt;
use std::fs::File;
use std::io::{self, IoSliceMut, Read};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

/// The reading end of a pipe or FIFO.
///
/// Made by [`pipe`](super::pipe()), by
/// [`OpenOptions::open_receiver`](super::OpenOptions::open_receiver), or
/// from a descriptor ([`from_owned_fd`](Receiver::from_owned_fd),
/// [`from_file`](Receiver::from_file)). Reading goes through
/// [`AsyncRead`](crate::io::AsyncRead) and the extension methods of
/// [`AsyncReadExt`](crate::io::AsyncReadExt), or through
/// [`try_read`](Receiver::try_read) after [`readable`](Receiver::readable).
///
/// A read waits while the pipe is empty and returns 0 (end of file) once
/// it is empty and every writing end, in every process, is closed. A
/// writer's bytes arrive in order; writes of at most `PIPE_BUF` (4096)
/// bytes are never split or interleaved with another writer's. Dropping
/// the last `Receiver` makes writers fail with `BrokenPipe`.
pub struct Receiver {
    io: PollEvented<File>,
}

impl Receiver {
    /// Wraps `file`, which must be the reading end of a pipe or a FIFO
    /// opened for reading; it is switched to non-blocking mode (see the
    /// [module docs](super#o_nonblock-and-other-processes) on what that
    /// means for other processes sharing it) and made close-on-exec.
    ///
    /// # Errors
    /// `InvalidInput` if `file` is not a pipe or FIFO, or was not opened
    /// for reading (the descriptor is closed then); outside a runtime.
    pub fn from_file(file: File) -> io::Result<Receiver> {
        Receiver::from_owned_fd(OwnedFd::from(file))
    }

    /// As [`from_file`](Receiver::from_file), for a descriptor: e.g. a
    /// pipe inherited as standard input, or the reading end of a pipe
    /// whose writing end was given to a child process.
    ///
    /// # Errors
    /// As [`from_file`](Receiver::from_file).
    pub fn from_owned_fd(fd: OwnedFd) -> io::Result<Receiver> {
        let file = super::check(fd, End::Receiver)?;
        Ok(Receiver {
            io: super::register(file)?,
        })
    }

    /// Wraps `file` as it is, with no checks and no changes: the caller
    /// guarantees that it is the reading end of a pipe or FIFO, open for
    /// reading and already in non-blocking mode. A blocking descriptor
    /// would block a worker thread whenever the pipe is empty.
    ///
    /// # Errors
    /// Outside a runtime, or if the reactor refuses the descriptor.
    pub fn from_file_unchecked(file: File) -> io::Result<Receiver> {
        Ok(Receiver {
            io: super::register(file)?,
        })
    }

    /// As [`from_file_unchecked`](Receiver::from_file_unchecked), for a
    /// descriptor.
    ///
    /// # Errors
    /// As [`from_file_unchecked`](Receiver::from_file_unchecked).
    pub fn from_owned_fd_unchecked(fd: OwnedFd) -> io::Result<Receiver> {
        Receiver::from_file_unchecked(File::from(fd))
    }

    /// Waits until any readiness in `interest` is reported, and returns
    /// it. For a `Receiver` the useful parts are
    /// [`is_readable`](Ready::is_readable) and
    /// [`is_read_closed`](Ready::is_read_closed) (every writer closed).
    /// Readiness is a hint: the next [`try_read`](Receiver::try_read) may
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

    /// Waits until the pipe has bytes to read, or has no writer left (a
    /// read then returns end of file). Usually followed by
    /// [`try_read`](Receiver::try_read).
    ///
    /// Cancel safe: dropping the future loses no readiness. Any number of
    /// tasks may wait at once.
    ///
    /// # Errors
    /// If the runtime shut down.
    pub async fn readable(&self) -> io::Result<()> {
        self.ready(Interest::READABLE).await.map(|_| ())
    }

    /// Polls for read readiness: `Ready(Ok(()))` when a read may succeed,
    /// `Pending` (and `cx`'s waker is woken later) otherwise. Only the
    /// waker of the last call is kept, as for `AsyncRead::poll_read`; use
    /// [`readable`](Receiver::readable) when several tasks wait. Spends one
    /// unit of the task's cooperative budget.
    ///
    /// # Errors
    /// If the runtime shut down.
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(cx, Direction::Read).map_ok(|_| ())
    }

    /// Reads what the pipe holds, up to `buf.len()` bytes, without
    /// waiting. `Ok(0)` is end of file (for a non-empty `buf`).
    ///
    /// # Errors
    /// `WouldBlock` if the pipe is empty, or if the reactor has not
    /// reported it readable since the last `WouldBlock` (wait with
    /// [`readable`](Receiver::readable)).
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io
            .try_io(Interest::READABLE, |mut file| file.read(buf))
    }

    /// As [`try_read`](Receiver::try_read), filling the buffers in order
    /// with one `readv(2)`; returns how many bytes were read in all.
    ///
    /// # Errors
    /// As [`try_read`](Receiver::try_read).
    pub fn try_read_vectored(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        self.io
            .try_io(Interest::READABLE, |mut file| file.read_vectored(bufs))
    }

    /// Reads what the pipe holds into the spare capacity of `buf` (a
    /// [`bytes::BufMut`] such as `BytesMut`) without waiting, and advances
    /// `buf` past it; returns how many bytes that was. `Ok(0)` is end of
    /// file (or no room in `buf`). The kernel writes straight into the
    /// spare capacity: nothing is zeroed or copied first.
    ///
    /// # Errors
    /// As [`try_read`](Receiver::try_read).
    pub fn try_read_buf<B: bytes::BufMut + ?Sized>(&self, buf: &mut B) -> io::Result<usize> {
        self.io.try_io(Interest::READABLE, |file| {
            crate::io::spare::read(file.as_raw_fd(), buf)
        })
    }

    /// Runs `f` once if the pipe was reported readable, for a read that
    /// vigil has no method for (`splice`, `tee`, `FIONREAD`, ...) on
    /// [`as_raw_fd`](AsRawFd::as_raw_fd). If `f` returns `WouldBlock`, the
    /// readiness is cleared, so `f` must return it only when the pipe is
    /// really empty.
    ///
    /// # Errors
    /// `WouldBlock` without calling `f` if the pipe is not known to be
    /// readable; otherwise whatever `f` returns.
    pub fn try_io<R>(&self, f: impl FnOnce() -> io::Result<R>) -> io::Result<R> {
        self.io.try_io(Interest::READABLE, |_| f())
    }

    /// Deregisters the end and returns its descriptor in blocking mode
    /// (`O_NONBLOCK` cleared), ready to give to code that does blocking
    /// reads, such as a child process's standard input.
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
    /// [`into_blocking_fd`](Receiver::into_blocking_fd).
    pub fn into_nonblocking_fd(self) -> io::Result<OwnedFd> {
        super::into_fd(self.io, true)
    }
}

/// Reads come straight from the kernel through the reactor's readiness
/// loop, one unit of cooperative budget per attempt. Each `poll_*` is
/// cancel safe: it either read (and says how much) or read nothing.
impl futures_io::AsyncRead for Receiver {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(cx, Direction::Read, |mut file| file.read(buf))
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(cx, Direction::Read, |mut file| file.read_vectored(bufs))
    }
}

impl AsRawFd for Receiver {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl AsFd for Receiver {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl fmt::Debug for Receiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}
