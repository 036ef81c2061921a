//! What an I/O object holds: its slot in the reactor, and the
//! try -> `WouldBlock` -> register -> `Pending` loop written once for all of
//! them.

use super::scheduled_io::{Direction, ReadyEvent, ScheduledIo};
use super::Interest;
use crate::runtime::{context, coop};
use std::future::Future;
use std::io;
use std::os::fd::RawFd;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// A descriptor registered with a runtime's reactor. Deregisters on drop,
/// which must happen before the descriptor is closed.
pub(crate) struct Registration {
    driver: Arc<crate::driver::Handle>,
    io: Arc<ScheduledIo>,
    fd: RawFd,
    key: usize,
}

fn gone() -> io::Error {
    io::Error::new(
        io::ErrorKind::NotConnected,
        "this I/O object is no longer registered with a running vigil reactor: its runtime \
         shut down, or its file descriptor was closed while a task was waiting on it",
    )
}

fn no_runtime() -> io::Error {
    io::Error::other(
        "vigil I/O objects must be created inside a vigil runtime: call this from a task or \
         inside `Runtime::block_on` (or enter a runtime with `Runtime::enter`)",
    )
}

impl Registration {
    /// Registers `fd` with the reactor of the current runtime.
    pub(crate) fn new(fd: RawFd) -> io::Result<Registration> {
        let driver = context::try_driver_handle().ok_or_else(no_runtime)?;
        let (key, io) = driver.io.register(fd)?;
        Ok(Registration {
            driver,
            io,
            fd,
            key,
        })
    }

    /// Waits until the resource is ready in `direction`. Spends one unit of
    /// the task's cooperative budget.
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<io::Result<ReadyEvent>> {
        if coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        match self.io.poll_ready(cx, direction) {
            Poll::Ready(ev) if ev.is_shutdown => Poll::Ready(Err(gone())),
            Poll::Ready(ev) => Poll::Ready(Ok(ev)),
            Poll::Pending => {
                coop::refund();
                if let Direction::Read = direction {
                    // Where this registration should live (see `placement`).
                    self.driver.io.on_read_wait(self.key, &self.io, self.fd);
                }
                Poll::Pending
            }
        }
    }

    /// Forgets readiness after `WouldBlock` (unless a newer edge arrived).
    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        self.io.clear_readiness(event);
    }

    /// The readiness pattern: wait until ready, try `op`; on `WouldBlock`
    /// clear the readiness and wait again. Every other result is returned.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            let event = match self.poll_ready(cx, direction) {
                Poll::Ready(Ok(ev)) => ev,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            };
            match op() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.clear_readiness(event),
                res => return Poll::Ready(res),
            }
        }
    }

    /// Tries `op` once if the cached readiness allows it; `WouldBlock`
    /// otherwise (and clears the readiness if `op` would block).
    pub(crate) fn try_io<R>(
        &self,
        interest: Interest,
        op: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        let event = self.io.ready_now(interest);
        if event.is_shutdown {
            return Err(gone());
        }
        if event.ready.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let res = op();
        if matches!(&res, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
            self.clear_readiness(event);
        }
        res
    }

    /// Waits for `interest`; any number of tasks may wait at once.
    pub(crate) fn readiness(&self, interest: Interest) -> Readiness<'_> {
        Readiness {
            io: &self.io,
            interest,
            key: None,
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.driver.io.deregister(self.fd, self.key, &self.io);
    }
}

/// Future of [`Registration::readiness`]. Cancel safe.
pub(crate) struct Readiness<'a> {
    io: &'a ScheduledIo,
    interest: Interest,
    key: Option<usize>,
}

impl Future for Readiness<'_> {
    type Output = io::Result<ReadyEvent>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        match this.io.poll_ready_shared(cx, this.interest, &mut this.key) {
            Poll::Ready(ev) if ev.is_shutdown => Poll::Ready(Err(gone())),
            Poll::Ready(ev) => Poll::Ready(Ok(ev)),
            Poll::Pending => {
                coop::refund();
                Poll::Pending
            }
        }
    }
}

impl Drop for Readiness<'_> {
    fn drop(&mut self) {
        self.io.remove_waiter(&mut self.key);
    }
}
