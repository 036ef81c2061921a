//! Parking a thread until it is woken or a timeout passes.
//!
//! This is the bottom of the driver stack for now: a worker with nothing to
//! do sleeps here, and any thread that makes work for it calls
//! [`Unparker::unpark`]. A wake-up is a token: an `unpark` that arrives before
//! the `park` makes that `park` return at once, so a wake can never fall into
//! the gap between "I found no work" and "I went to sleep". The I/O reactor
//! replaces the condition variable with `epoll_wait` and an eventfd while
//! keeping this contract.

use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

const EMPTY: usize = 0;
const PARKED: usize = 1;
const NOTIFIED: usize = 2;

/// The sleeping side: owned by the one thread that parks on it.
#[derive(Debug)]
pub(crate) struct Parker {
    inner: Arc<Inner>,
}

/// The waking side: cheap to clone, usable from any thread.
#[derive(Clone, Debug)]
pub(crate) struct Unparker {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    state: AtomicUsize,
    lock: Mutex<()>,
    cvar: Condvar,
}

impl Parker {
    pub(crate) fn new() -> Parker {
        Parker {
            inner: Arc::new(Inner {
                state: AtomicUsize::new(EMPTY),
                lock: Mutex::new(()),
                cvar: Condvar::new(),
            }),
        }
    }

    pub(crate) fn unparker(&self) -> Unparker {
        Unparker {
            inner: self.inner.clone(),
        }
    }

    /// Blocks until unparked or until `timeout` passes (`None`: no timeout).
    /// A zero timeout only consumes a pending token.
    pub(crate) fn park(&mut self, timeout: Option<Duration>) {
        self.inner.park(timeout)
    }
}

impl Unparker {
    pub(crate) fn unpark(&self) {
        self.inner.unpark()
    }
}

impl Inner {
    fn park(&self, timeout: Option<Duration>) {
        // Fast path: a token is already there.
        if self
            .state
            .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
            .is_ok()
        {
            return;
        }
        if timeout == Some(Duration::ZERO) {
            return;
        }
        let mut guard = self.lock.lock().unwrap();
        match self.state.compare_exchange(EMPTY, PARKED, SeqCst, SeqCst) {
            Ok(_) => {}
            Err(NOTIFIED) => {
                self.state.swap(EMPTY, SeqCst);
                return;
            }
            Err(actual) => panic!("inconsistent park state: {actual}"),
        }
        match timeout {
            None => loop {
                guard = self.cvar.wait(guard).unwrap();
                if self
                    .state
                    .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
                    .is_ok()
                {
                    return;
                }
                // Spurious wake-up: sleep again.
            },
            Some(timeout) => {
                let (_guard, _) = self.cvar.wait_timeout(guard, timeout).unwrap();
                // Whether woken or timed out, go back to EMPTY; a token that
                // raced in is consumed here, which is what the caller wants.
                self.state.swap(EMPTY, SeqCst);
            }
        }
    }

    fn unpark(&self) {
        match self.state.swap(NOTIFIED, SeqCst) {
            EMPTY | NOTIFIED => {}
            PARKED => {
                // Take the lock so the notification cannot slip between the
                // parker's state change and its wait.
                drop(self.lock.lock().unwrap());
                self.cvar.notify_one();
            }
            actual => panic!("inconsistent park state: {actual}"),
        }
    }
}
