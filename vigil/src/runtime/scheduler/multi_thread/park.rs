//! How a worker sleeps: in the driver if it is free, on a condition variable
//! otherwise.
//!
//! Exactly one worker at a time may sit in the driver (it owns the timer
//! wheel's sleep, and later `epoll_wait`); the others wait on their own
//! condition variable. Whoever wants to wake a worker does not need to know
//! which: `unpark` checks where the worker sleeps and pokes the driver or the
//! condition variable accordingly. Wake tokens are kept, so an unpark that
//! arrives before the park is not lost.

use crate::driver::{self, Driver};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

const EMPTY: usize = 0;
const PARKED_CONDVAR: usize = 1;
const PARKED_DRIVER: usize = 2;
const NOTIFIED: usize = 3;

/// Shared by all workers of a runtime.
pub(crate) struct SharedDriver {
    driver: Mutex<Driver>,
    pub(crate) handle: Arc<driver::Handle>,
}

impl SharedDriver {
    pub(crate) fn new(driver: Driver, handle: Arc<driver::Handle>) -> SharedDriver {
        SharedDriver {
            driver: Mutex::new(driver),
            handle,
        }
    }

    /// Waits in the driver for at most `timeout` if it is free, or simply
    /// sleeps that long (a replacement worker with nothing to do).
    pub(crate) fn park_for(&self, timeout: Duration) {
        match self.driver.try_lock() {
            Ok(mut driver) => driver.park(&self.handle, Some(timeout)),
            Err(_) => std::thread::sleep(timeout),
        }
    }

    /// A non-blocking driver turn (fire due timers) if no one else holds the
    /// driver.
    pub(crate) fn maintenance(&self) {
        if let Ok(mut driver) = self.driver.try_lock() {
            driver.park(&self.handle, Some(Duration::ZERO));
        }
    }
}

/// One per worker.
pub(crate) struct Unparker {
    inner: Arc<Inner>,
}

pub(crate) struct Parker {
    inner: Arc<Inner>,
}

struct Inner {
    state: AtomicUsize,
    lock: Mutex<()>,
    cvar: Condvar,
    shared: Arc<SharedDriver>,
}

pub(crate) fn pair(shared: Arc<SharedDriver>) -> (Parker, Unparker) {
    let inner = Arc::new(Inner {
        state: AtomicUsize::new(EMPTY),
        lock: Mutex::new(()),
        cvar: Condvar::new(),
        shared,
    });
    (
        Parker {
            inner: inner.clone(),
        },
        Unparker { inner },
    )
}

impl Parker {
    pub(crate) fn park(&mut self) {
        let inner = &*self.inner;
        if inner
            .state
            .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
            .is_ok()
        {
            return;
        }
        if let Ok(mut driver) = inner.shared.driver.try_lock() {
            match inner
                .state
                .compare_exchange(EMPTY, PARKED_DRIVER, SeqCst, SeqCst)
            {
                Ok(_) => {}
                Err(_) => {
                    inner.state.store(EMPTY, SeqCst);
                    return;
                }
            }
            driver.park(&inner.shared.handle, None);
            inner.state.store(EMPTY, SeqCst);
            return;
        }
        let mut guard = inner.lock.lock().unwrap();
        match inner
            .state
            .compare_exchange(EMPTY, PARKED_CONDVAR, SeqCst, SeqCst)
        {
            Ok(_) => {}
            Err(_) => {
                inner.state.store(EMPTY, SeqCst);
                return;
            }
        }
        loop {
            guard = inner.cvar.wait(guard).unwrap();
            if inner
                .state
                .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
                .is_ok()
            {
                return;
            }
        }
    }
}

impl Unparker {
    pub(crate) fn unpark(&self) {
        let inner = &*self.inner;
        match inner.state.swap(NOTIFIED, SeqCst) {
            EMPTY | NOTIFIED => {}
            PARKED_CONDVAR => {
                drop(inner.lock.lock().unwrap());
                inner.cvar.notify_one();
            }
            PARKED_DRIVER => inner.shared.handle.unpark(),
            actual => unreachable!("inconsistent park state {actual}"),
        }
    }
}
