//! The driver: what a worker thread sleeps in when it has no task to run.
//!
//! A driver turn asks the timer wheel for its next deadline, parks the thread
//! until then (or until something unparks it), and fires the timers that have
//! come due. Schedulers only know the [`Driver`] / [`Handle`] pair, so the I/O
//! reactor can later take the place of the condition-variable parker without
//! the schedulers changing.

pub(crate) mod park;
pub(crate) mod time;

pub(crate) use park::{Parker, Unparker};

use std::sync::Arc;
use std::time::Duration;

/// The shared half of the driver: reachable from every thread of a runtime.
#[derive(Debug)]
pub(crate) struct Handle {
    pub(crate) time: time::Handle,
    pub(crate) unpark: Unparker,
}

/// The owned half: only the thread currently parked in it touches it.
#[derive(Debug)]
pub(crate) struct Driver {
    parker: Parker,
}

impl Driver {
    pub(crate) fn new() -> (Driver, Arc<Handle>) {
        let parker = Parker::new();
        let unpark = parker.unparker();
        let handle = Arc::new(Handle {
            time: time::Handle::new(unpark.clone()),
            unpark,
        });
        (Driver { parker }, handle)
    }

    /// One driver turn: sleep until `timeout`, the next timer deadline, or an
    /// unpark, whichever comes first, then fire the timers that are due.
    pub(crate) fn park(&mut self, handle: &Handle, timeout: Option<Duration>) {
        let timeout = match (timeout, handle.time.next_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.parker.park(timeout);
        handle.time.process();
    }
}

impl Handle {
    pub(crate) fn unpark(&self) {
        self.unpark.unpark();
    }

    pub(crate) fn shutdown(&self) {
        self.time.shutdown();
    }
}
