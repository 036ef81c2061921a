//! [`PollEvented`]: a non-blocking descriptor plus its registration, with
//! the read and write halves of the readiness pattern written once.

use super::{Direction, Interest, ReadyEvent, Registration};
use crate::sys::socket;
use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::os::fd::AsRawFd;
use std::task::{Context, Poll};

/// Owns a non-blocking I/O object `E` and its reactor registration.
///
/// Field order matters: the registration is dropped (deregistered) before
/// the descriptor is closed, so a reused descriptor number can never be
/// confused with this one.
pub(crate) struct PollEvented<E: AsRawFd> {
    registration: Registration,
    io: Option<E>,
}

impl<E: AsRawFd> PollEvented<E> {
    /// Registers `io`, which must already be in non-blocking mode.
    pub(crate) fn new(io: E) -> io::Result<PollEvented<E>> {
        PollEvented::try_new(io).map_err(|(_, err)| err)
    }

    /// As [`new`](PollEvented::new), but a failure gives `io` back.
    pub(crate) fn try_new(io: E) -> Result<PollEvented<E>, (E, io::Error)> {
        match Registration::new(io.as_raw_fd()) {
            Ok(registration) => Ok(PollEvented {
                registration,
                io: Some(io),
            }),
            Err(err) => Err((io, err)),
        }
    }

    pub(crate) fn get_ref(&self) -> &E {
        self.io.as_ref().expect("I/O object already taken")
    }

    pub(crate) fn get_mut(&mut self) -> &mut E {
        self.io.as_mut().expect("I/O object already taken")
    }

    /// Deregisters and returns the I/O object (still non-blocking).
    pub(crate) fn into_inner(mut self) -> E {
        let io = self.io.take().expect("I/O object already taken");
        drop(self);
        io
    }

    /// Waits for `interest`; any number of tasks may wait at once.
    pub(crate) async fn ready(&self, interest: Interest) -> io::Result<super::Ready> {
        Ok(self.registration.readiness(interest).await?.ready)
    }

    /// Waits for `interest` like [`ready`](PollEvented::ready), and returns
    /// the observation itself, so that the caller can clear it later.
    pub(crate) async fn ready_event(&self, interest: Interest) -> io::Result<ReadyEvent> {
        self.registration.readiness(interest).await
    }

    /// Waits for readiness in `direction`; one waker per direction (the
    /// last task to poll is the one woken).
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<io::Result<ReadyEvent>> {
        self.registration.poll_ready(cx, direction)
    }

    /// Forgets the readiness in `event` (after `WouldBlock`), unless newer
    /// readiness arrived since.
    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        self.registration.clear_readiness(event)
    }

    /// Tries `op` once if readiness for `interest` is cached.
    pub(crate) fn try_io<R>(
        &self,
        interest: Interest,
        op: impl FnOnce(&E) -> io::Result<R>,
    ) -> io::Result<R> {
        self.registration.try_io(interest, || op(self.get_ref()))
    }

    /// The readiness pattern for methods that many tasks may await at once:
    /// wait for `interest` through the waiter list, try `op`, and on
    /// `WouldBlock` (readiness cleared by `try_io`) wait again.
    pub(crate) async fn async_io<R>(
        &self,
        interest: Interest,
        mut op: impl FnMut(&E) -> io::Result<R>,
    ) -> io::Result<R> {
        loop {
            self.ready(interest).await?;
            match self.try_io(interest, &mut op) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                res => return res,
            }
        }
    }

    /// The readiness pattern for any operation in `direction`.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut op: impl FnMut(&E) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let io = self.get_ref();
        self.registration.poll_io(cx, direction, || op(io))
    }
}

impl<E: AsRawFd> PollEvented<E> {
    /// The read half of the readiness pattern, shared by [`poll_read`] and
    /// [`poll_recv_uninit`]: wait for read readiness (spending one unit of
    /// coop budget), run `op`, and clear the readiness after `WouldBlock`
    /// or after a short read (`0 < n < len`). A short read from a stream
    /// socket means its receive buffer is drained, so readiness is cleared
    /// without paying for another `read` that would return `WouldBlock`
    /// (safe: an edge that arrives meanwhile carries a new tick and is kept).
    ///
    /// [`poll_read`]: PollEvented::poll_read
    /// [`poll_recv_uninit`]: PollEvented::poll_recv_uninit
    #[inline]
    fn poll_read_with(
        &self,
        cx: &mut Context<'_>,
        len: usize,
        mut op: impl FnMut(&E) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        let io = self.get_ref();
        loop {
            let event = match self.registration.poll_ready(cx, Direction::Read) {
                Poll::Ready(Ok(ev)) => ev,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            };
            match op(io) {
                Ok(n) => {
                    if n > 0 && n < len {
                        self.registration.clear_readiness(event);
                    }
                    return Poll::Ready(Ok(n));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.registration.clear_readiness(event)
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    /// Receives into `buf`, which need not be initialised, through the same
    /// readiness loop as [`poll_read`](PollEvented::poll_read). For stream
    /// sockets only.
    ///
    /// On `Ok(n)`, `n <= buf.len()` and the first `n` bytes of `buf` have
    /// been written with received data; nothing else in `buf` is touched
    /// (in particular nothing is de-initialised).
    // Only the compatibility shims (features `hyper`, `tokio-io`) read this way.
    #[cfg_attr(not(any(feature = "hyper", feature = "tokio-io")), allow(dead_code))]
    pub(crate) fn poll_recv_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_with(cx, buf.len(), |io| socket::recv_uninit(io.as_raw_fd(), buf))
    }

    /// Reads into `buf` (see `poll_read_with` for when readiness is
    /// cleared). For stream sockets only: this is `recv(2)`, which on a
    /// stream socket is what `read(2)` does.
    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_with(cx, buf.len(), |io| socket::recv(io.as_raw_fd(), buf))
    }

    /// Writes from `buf`; a short write clears readiness likewise. For
    /// stream sockets only (`send(2)` with `MSG_NOSIGNAL`).
    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let io = self.get_ref();
        loop {
            let event = match self.registration.poll_ready(cx, Direction::Write) {
                Poll::Ready(Ok(ev)) => ev,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            };
            match socket::send(io.as_raw_fd(), buf) {
                Ok(n) => {
                    if n > 0 && n < buf.len() {
                        self.registration.clear_readiness(event);
                    }
                    return Poll::Ready(Ok(n));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.registration.clear_readiness(event)
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    /// Writes the slices in order (`sendmsg(2)` with `MSG_NOSIGNAL`). For
    /// stream sockets only.
    pub(crate) fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let fd = self.get_ref().as_raw_fd();
        self.registration
            .poll_io(cx, Direction::Write, || socket::send_vectored(fd, bufs))
    }
}
