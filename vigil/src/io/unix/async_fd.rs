//! [`AsyncFd`]: any non-blocking descriptor, registered with the reactor.

use super::guard::{AsyncFdReadyGuard, AsyncFdReadyMutGuard};
use crate::driver::io::{Direction, Interest, PollEvented};
use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{Context, Poll};

/// A descriptor that vigil's reactor watches for readiness, for I/O vigil
/// has no type of its own for: an inotify or timer descriptor, a TUN
/// device, a pipe, another library's socket.
///
/// `AsyncFd` does no I/O. It tells a task *when* to try: wait with
/// [`readable`](AsyncFd::readable) or [`writable`](AsyncFd::writable) (or
/// their `poll_` forms), make the non-blocking call, and when that call
/// fails with `WouldBlock`, clear the readiness through the returned guard
/// (its [`try_io`](AsyncFdReadyGuard::try_io) does both) so the next wait
/// sleeps until the kernel reports the descriptor ready again. The reactor
/// is edge-triggered: readiness that is not cleared after `WouldBlock`
/// makes the next wait return at once, and readiness cleared while the
/// descriptor is still ready (before `WouldBlock`) may never come back.
///
/// The descriptor must be in non-blocking mode (`O_NONBLOCK`): a blocking
/// call would block the worker thread (the watchdog reports it). `AsyncFd`
/// owns `inner` and deregisters it before dropping it, so the descriptor
/// number cannot be confused with a new one that reuses it.
///
/// ```
/// use std::os::fd::AsRawFd;
/// use std::os::unix::net::UnixDatagram;
/// use vigil::io::unix::AsyncFd;
///
/// # vigil::block_on(async {
/// let (a, b) = UnixDatagram::pair()?;
/// a.set_nonblocking(true)?;
/// let a = AsyncFd::new(a)?;
/// b.send(b"ping")?;
/// let mut buf = [0u8; 16];
/// let n = loop {
///     let mut guard = a.readable().await?;
///     match guard.try_io(|fd| fd.get_ref().recv(&mut buf)) {
///         Ok(result) => break result?,
///         Err(_would_block) => continue, // readiness cleared: wait again
///     }
/// };
/// assert_eq!(&buf[..n], b"ping");
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub struct AsyncFd<T: AsRawFd> {
    io: PollEvented<T>,
    interest: Interest,
}

/// [`AsyncFd::try_new`] failed: the error, and the value it did not take.
pub struct AsyncFdTryNewError<T> {
    inner: T,
    cause: io::Error,
}

impl<T> AsyncFdTryNewError<T> {
    /// The value back, and why it could not be registered.
    pub fn into_parts(self) -> (T, io::Error) {
        (self.inner, self.cause)
    }
}

impl<T> fmt::Debug for AsyncFdTryNewError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFdTryNewError")
            .field("cause", &self.cause)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Display for AsyncFdTryNewError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.cause, f)
    }
}

impl<T> std::error::Error for AsyncFdTryNewError<T> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.cause)
    }
}

impl<T> From<AsyncFdTryNewError<T>> for io::Error {
    fn from(err: AsyncFdTryNewError<T>) -> io::Error {
        err.cause
    }
}

impl<T: AsRawFd> AsyncFd<T> {
    /// Registers `inner` with the current runtime's reactor, for both
    /// reading and writing.
    ///
    /// # Errors
    /// Outside a runtime; for a descriptor epoll cannot watch (a regular
    /// file or a directory: `EPERM`); when the runtime is shutting down.
    /// `inner` is dropped then; [`try_new`](AsyncFd::try_new) gives it
    /// back instead.
    pub fn new(inner: T) -> io::Result<AsyncFd<T>> {
        Self::with_interest(inner, Interest::READABLE | Interest::WRITABLE)
    }

    /// As [`new`](AsyncFd::new), naming the readiness the caller will wait
    /// for. vigil registers every descriptor for all of it (edge-triggered,
    /// so readiness nobody waits for costs one bit in a word), so `interest`
    /// only documents intent and is returned by
    /// [`interest`](AsyncFd::interest); it exists so that code written for
    /// Tokio's `AsyncFd` compiles unchanged.
    pub fn with_interest(inner: T, interest: Interest) -> io::Result<AsyncFd<T>> {
        Self::try_with_interest(inner, interest).map_err(io::Error::from)
    }

    /// As [`new`](AsyncFd::new), but a failure gives `inner` back.
    pub fn try_new(inner: T) -> Result<AsyncFd<T>, AsyncFdTryNewError<T>> {
        Self::try_with_interest(inner, Interest::READABLE | Interest::WRITABLE)
    }

    /// As [`with_interest`](AsyncFd::with_interest), but a failure gives
    /// `inner` back.
    pub fn try_with_interest(
        inner: T,
        interest: Interest,
    ) -> Result<AsyncFd<T>, AsyncFdTryNewError<T>> {
        match PollEvented::try_new(inner) {
            Ok(io) => Ok(AsyncFd { io, interest }),
            Err((inner, cause)) => Err(AsyncFdTryNewError { inner, cause }),
        }
    }

    /// The wrapped value.
    pub fn get_ref(&self) -> &T {
        self.io.get_ref()
    }

    /// The wrapped value, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        self.io.get_mut()
    }

    /// Deregisters the descriptor and returns the wrapped value, still open.
    pub fn into_inner(self) -> T {
        self.io.into_inner()
    }

    /// The interest given at construction.
    pub fn interest(&self) -> Interest {
        self.interest
    }

    /// Waits until the descriptor is readable (or its read side closed, or
    /// it has an error). Any number of tasks may wait at once.
    ///
    /// Cancel-safe: dropping the future loses no readiness.
    pub async fn readable(&self) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        self.ready(Interest::READABLE).await
    }

    /// [`readable`](AsyncFd::readable), with a guard that lends the value
    /// mutably.
    pub async fn readable_mut(&mut self) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        self.ready_mut(Interest::READABLE).await
    }

    /// Waits until the descriptor is writable (or its write side closed).
    /// Any number of tasks may wait at once. Cancel-safe.
    pub async fn writable(&self) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        self.ready(Interest::WRITABLE).await
    }

    /// [`writable`](AsyncFd::writable), with a guard that lends the value
    /// mutably.
    pub async fn writable_mut(&mut self) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        self.ready_mut(Interest::WRITABLE).await
    }

    /// Waits for any readiness in `interest`. Cancel-safe.
    pub async fn ready(&self, interest: Interest) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        let event = self.io.ready_event(interest).await?;
        Ok(AsyncFdReadyGuard::new(self, event))
    }

    /// [`ready`](AsyncFd::ready), with a guard that lends the value mutably.
    pub async fn ready_mut(
        &mut self,
        interest: Interest,
    ) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        let event = self.io.ready_event(interest).await?;
        Ok(AsyncFdReadyMutGuard::new(self, event))
    }

    /// Polls for read readiness. Only the task that polled last is woken
    /// (one waker per direction, as for `AsyncRead::poll_read`); use
    /// [`readable`](AsyncFd::readable) for several waiters.
    pub fn poll_read_ready<'a>(
        &'a self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        self.poll_ready(cx, Direction::Read)
    }

    /// [`poll_read_ready`](AsyncFd::poll_read_ready) with a mutable guard.
    pub fn poll_read_ready_mut<'a>(
        &'a mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyMutGuard<'a, T>>> {
        self.poll_ready_mut(cx, Direction::Read)
    }

    /// Polls for write readiness; one waker, as for
    /// [`poll_read_ready`](AsyncFd::poll_read_ready).
    pub fn poll_write_ready<'a>(
        &'a self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        self.poll_ready(cx, Direction::Write)
    }

    /// [`poll_write_ready`](AsyncFd::poll_write_ready) with a mutable guard.
    pub fn poll_write_ready_mut<'a>(
        &'a mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyMutGuard<'a, T>>> {
        self.poll_ready_mut(cx, Direction::Write)
    }

    fn poll_ready<'a>(
        &'a self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        self.io
            .poll_ready(cx, direction)
            .map_ok(|event| AsyncFdReadyGuard::new(self, event))
    }

    fn poll_ready_mut<'a>(
        &'a mut self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<io::Result<AsyncFdReadyMutGuard<'a, T>>> {
        let event = std::task::ready!(self.io.poll_ready(cx, direction))?;
        Poll::Ready(Ok(AsyncFdReadyMutGuard::new(self, event)))
    }

    /// The whole readiness loop: waits for `interest`, runs `f`, and after
    /// `WouldBlock` clears the readiness and waits again; returns `f`'s
    /// first other result.
    ///
    /// Cancel-safe as long as `f` is: a dropped `async_io` is between two
    /// calls of `f` or waiting.
    pub async fn async_io<R>(
        &self,
        interest: Interest,
        f: impl FnMut(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        self.io.async_io(interest, f).await
    }

    /// [`async_io`](AsyncFd::async_io) with `f` given the value mutably.
    pub async fn async_io_mut<R>(
        &mut self,
        interest: Interest,
        mut f: impl FnMut(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        loop {
            let mut guard = self.ready_mut(interest).await?;
            match guard.try_io(|fd| f(fd.get_mut())) {
                Ok(result) => return result,
                Err(_would_block) => continue,
            }
        }
    }

    /// Runs `f` once if readiness for `interest` is known, without waiting;
    /// `WouldBlock` otherwise. `WouldBlock` from `f` clears the readiness.
    pub fn try_io<R>(
        &self,
        interest: Interest,
        f: impl FnOnce(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        self.io.try_io(interest, f)
    }

    pub(super) fn evented(&self) -> &PollEvented<T> {
        &self.io
    }
}

impl<T: AsRawFd> AsRawFd for AsyncFd<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.get_ref().as_raw_fd()
    }
}

impl<T: AsRawFd + AsFd> AsFd for AsyncFd<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.get_ref().as_fd()
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFd<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFd")
            .field("inner", self.get_ref())
            .field("interest", &self.interest)
            .finish()
    }
}
