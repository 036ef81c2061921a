//! The guards [`AsyncFd`]'s waits return: proof of observed readiness,
//! and the means to clear it after `WouldBlock`.

use super::AsyncFd;
use crate::driver::io::{Ready, ReadyEvent};
use std::fmt;
use std::io;
use std::os::fd::AsRawFd;

/// The I/O function a guard ran returned `WouldBlock`; the guard's
/// readiness has been cleared, so wait again.
pub struct TryIoError(());

impl fmt::Debug for TryIoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TryIoError(WouldBlock)")
    }
}

/// Readiness of an [`AsyncFd`], observed by one of its waits. Dropping the
/// guard keeps the readiness (the next wait returns at once); after a
/// call that failed with `WouldBlock`, clear it with
/// [`clear_ready`](AsyncFdReadyGuard::clear_ready), or let
/// [`try_io`](AsyncFdReadyGuard::try_io) do it.
pub struct AsyncFdReadyGuard<'a, T: AsRawFd> {
    async_fd: &'a AsyncFd<T>,
    event: Option<ReadyEvent>,
}

/// As [`AsyncFdReadyGuard`], lending the wrapped value mutably.
pub struct AsyncFdReadyMutGuard<'a, T: AsRawFd> {
    async_fd: &'a mut AsyncFd<T>,
    event: Option<ReadyEvent>,
}

/// Clears `ready` of `event` in `async_fd`, unless newer readiness
/// arrived since the guard was made.
fn clear<T: AsRawFd>(async_fd: &AsyncFd<T>, event: &mut Option<ReadyEvent>, ready: Ready) {
    if let Some(ev) = *event {
        async_fd.evented().clear_readiness(ev.restricted(ready));
        let left = ev.ready - ready;
        *event = (!left.is_empty()).then_some(ev.restricted(left));
    }
}

/// The readiness methods both guards have, over their fields `async_fd`
/// and `event`.
macro_rules! readiness_methods {
    () => {
        /// The readiness observed (and not yet cleared).
        pub fn ready(&self) -> Ready {
            self.event.map_or(Ready::EMPTY, |ev| ev.ready)
        }

        /// Forgets the observed readiness: the next wait sleeps until the
        /// kernel reports the descriptor ready again. Call it only after an
        /// operation returned `WouldBlock`. Closed sides stay set.
        pub fn clear_ready(&mut self) {
            clear(&*self.async_fd, &mut self.event, Ready::ALL);
        }

        /// Forgets only `ready` of the observed readiness (for example the
        /// readable part, when writing may still go on).
        pub fn clear_ready_matching(&mut self, ready: Ready) {
            clear(&*self.async_fd, &mut self.event, ready);
        }

        /// Keeps the readiness when the guard is dropped (what dropping
        /// does anyway; for code written for Tokio).
        pub fn retain_ready(&mut self) {}
    };
}

impl<'a, T: AsRawFd> AsyncFdReadyGuard<'a, T> {
    pub(super) fn new(async_fd: &'a AsyncFd<T>, event: ReadyEvent) -> Self {
        AsyncFdReadyGuard {
            async_fd,
            event: Some(event),
        }
    }

    readiness_methods!();

    /// Runs `f`; if it fails with `WouldBlock`, clears the readiness and
    /// returns `Err(TryIoError)`, else `Ok` with its result.
    pub fn try_io<R>(
        &mut self,
        f: impl FnOnce(&'a AsyncFd<T>) -> io::Result<R>,
    ) -> Result<io::Result<R>, TryIoError> {
        let result = f(self.async_fd);
        would_block_clears(result, || self.clear_ready())
    }

    /// The `AsyncFd` this guard belongs to.
    pub fn get_ref(&self) -> &'a AsyncFd<T> {
        self.async_fd
    }

    /// The value the `AsyncFd` wraps.
    pub fn get_inner(&self) -> &'a T {
        self.async_fd.get_ref()
    }
}

impl<'a, T: AsRawFd> AsyncFdReadyMutGuard<'a, T> {
    pub(super) fn new(async_fd: &'a mut AsyncFd<T>, event: ReadyEvent) -> Self {
        AsyncFdReadyMutGuard {
            async_fd,
            event: Some(event),
        }
    }

    readiness_methods!();

    /// As [`AsyncFdReadyGuard::try_io`], with the `AsyncFd` lent mutably.
    pub fn try_io<R>(
        &mut self,
        f: impl FnOnce(&mut AsyncFd<T>) -> io::Result<R>,
    ) -> Result<io::Result<R>, TryIoError> {
        let result = f(self.async_fd);
        would_block_clears(result, || self.clear_ready())
    }

    /// The `AsyncFd` this guard belongs to.
    pub fn get_ref(&self) -> &AsyncFd<T> {
        self.async_fd
    }

    /// The `AsyncFd`, mutably.
    pub fn get_mut(&mut self) -> &mut AsyncFd<T> {
        self.async_fd
    }

    /// The value the `AsyncFd` wraps.
    pub fn get_inner(&self) -> &T {
        self.async_fd.get_ref()
    }

    /// The value the `AsyncFd` wraps, mutably.
    pub fn get_inner_mut(&mut self) -> &mut T {
        self.async_fd.get_mut()
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFdReadyGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFdReadyGuard")
            .field("async_fd", self.async_fd)
            .field("ready", &self.ready())
            .finish()
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFdReadyMutGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFdReadyMutGuard")
            .field("async_fd", &*self.async_fd)
            .field("ready", &self.ready())
            .finish()
    }
}

/// The end of both guards' `try_io`: `WouldBlock` clears the readiness
/// (through `clear`) and becomes `Err(TryIoError)`; anything else is the
/// closure's result.
fn would_block_clears<R>(
    result: io::Result<R>,
    clear: impl FnOnce(),
) -> Result<io::Result<R>, TryIoError> {
    match result {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
            clear();
            Err(TryIoError(()))
        }
        result => Ok(result),
    }
}
