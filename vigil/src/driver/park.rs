//! Waking a thread that sleeps in the driver.
//!
//! The sleeping thread waits in `epoll_wait`; an eventfd registered with the
//! same epoll instance is what another thread writes to wake it. Writing is a
//! system call, so it is done only when the driver is actually asleep: a
//! small state word records whether the driver is parked, and an unpark that
//! finds it awake only leaves a token, which makes the next park return at
//! once. A wake can therefore never fall into the gap between "I found no
//! work" and "I went to sleep".

use crate::sys::eventfd::EventFd;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

const EMPTY: usize = 0;
const PARKED: usize = 1;
const NOTIFIED: usize = 2;

/// The waking side: cheap to clone, usable from any thread.
#[derive(Clone, Debug)]
pub(crate) struct Unparker {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    state: AtomicUsize,
    eventfd: EventFd,
}

impl Unparker {
    pub(crate) fn new() -> io::Result<Unparker> {
        Ok(Unparker {
            inner: Arc::new(Inner {
                state: AtomicUsize::new(EMPTY),
                eventfd: EventFd::new()?,
            }),
        })
    }

    /// Wakes the driver, or makes its next park return at once.
    pub(crate) fn unpark(&self) {
        if self.inner.state.swap(NOTIFIED, SeqCst) == PARKED {
            self.inner.eventfd.wake();
        }
    }

    /// The descriptor the driver's epoll watches for wake-ups.
    pub(crate) fn wake_fd(&self) -> RawFd {
        self.inner.eventfd.as_raw_fd()
    }

    /// Called by the driver when the eventfd fired.
    pub(crate) fn drain(&self) {
        self.inner.eventfd.drain();
    }

    /// Before sleeping: returns `false` if a token was pending (it is
    /// consumed, and the driver must not sleep).
    pub(crate) fn enter_park(&self) -> bool {
        match self
            .inner
            .state
            .compare_exchange(EMPTY, PARKED, SeqCst, SeqCst)
        {
            Ok(_) => true,
            Err(_) => {
                self.inner.state.store(EMPTY, SeqCst);
                false
            }
        }
    }

    /// After a driver turn: back to awake, consuming any token (the caller
    /// looks for work after every turn anyway).
    pub(crate) fn leave_park(&self) {
        self.inner.state.store(EMPTY, SeqCst);
    }
}
