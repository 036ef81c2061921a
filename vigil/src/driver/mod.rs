//! The driver: what a worker thread sleeps in when it has no task to run.
//!
//! A driver turn asks the timer wheel for its next deadline, waits in
//! `epoll_wait` until then (or until I/O becomes ready, or another thread
//! unparks it through an eventfd), then wakes the tasks whose I/O is ready
//! and fires the timers that have come due. Schedulers only know the
//! [`Driver`] / [`Handle`] pair: one thread at a time owns the `Driver` and
//! sleeps in it; every thread can use the `Handle`.

pub(crate) mod io;
pub(crate) mod park;
pub(crate) mod time;
pub(crate) mod uring;
pub(crate) mod wake_batch;

pub(crate) use park::Unparker;

use std::sync::Arc;
use std::time::Duration;

/// The shared half of the driver: reachable from every thread of a runtime.
#[derive(Debug)]
pub(crate) struct Handle {
    pub(crate) time: time::Handle,
    pub(crate) io: io::Handle,
    pub(crate) uring: uring::Handle,
    pub(crate) unpark: Unparker,
}

/// The owned half: only the thread currently parked in it touches it.
#[derive(Debug)]
pub(crate) struct Driver {
    io: io::Driver,
}

/// How a driver is set up (from the runtime's builder).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Options {
    /// File operations may use an io_uring ring (created on first use).
    pub(crate) io_uring: bool,
    /// File reads first try to copy cached data without waiting.
    pub(crate) page_cache_first: bool,
    /// The clock starts paused (see `time::clock`).
    pub(crate) start_paused: bool,
    /// Ready events taken from epoll per driver turn.
    pub(crate) events_per_tick: usize,
}

impl Driver {
    /// A driver and its handle.
    pub(crate) fn new(options: Options) -> std::io::Result<(Driver, Arc<Handle>)> {
        crate::sys::signal::ignore_sigpipe();
        let unpark = Unparker::new()?;
        let (io, io_handle) = io::Handle::new(unpark.clone(), options.events_per_tick)?;
        let handle = Arc::new(Handle {
            time: time::Handle::new(unpark.clone(), options.start_paused),
            io: io_handle,
            uring: uring::Handle::new(options.io_uring, options.page_cache_first),
            unpark,
        });
        Ok((Driver { io }, handle))
    }

    /// One driver turn: wait in epoll until `timeout`, the next timer
    /// deadline, I/O readiness, or an unpark, whichever comes first; then
    /// wake the tasks whose I/O is ready and fire the timers that are due.
    ///
    /// With the clock paused (see `time::clock`), a turn that would sleep
    /// until the next timer instead looks for I/O without waiting and, if
    /// none came, moves the clock to that timer and fires it.
    pub(crate) fn park(&mut self, handle: &Handle, timeout: Option<Duration>) {
        let timer = handle.time.next_timeout();
        let auto_advance = match (timeout, timer) {
            (None, Some(t)) if !t.is_zero() && handle.time.clock.can_auto_advance() => Some(t),
            _ => None,
        };
        let mut timeout = match (timeout, timer) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if auto_advance.is_some() {
            timeout = Some(Duration::ZERO);
        }
        let ring = handle.uring.existing();
        if ring.is_some_and(|r| r.has_unsubmitted()) {
            // Entries wait for a retried submission: come back soon.
            let retry = Duration::from_millis(1);
            timeout = Some(timeout.map_or(retry, |t| t.min(retry)));
        }
        if timeout != Some(Duration::ZERO) && !handle.unpark.enter_park() {
            // A wake-up was already pending: just poll.
            timeout = Some(Duration::ZERO);
        }
        let anything_happened = self.io.turn(&handle.io, timeout);
        handle.unpark.leave_park();
        if let Some(by) = auto_advance {
            if !anything_happened {
                // Nothing else can happen before that timer but more
                // waiting: skip the wait.
                let _ = handle.time.clock.advance(by);
            }
        }
        if let Some(ring) = ring {
            if self.io.take_completions_ready() || ring.has_unsubmitted() {
                ring.complete();
            }
        }
        handle.time.process();
    }
}

impl Handle {
    pub(crate) fn unpark(&self) {
        self.unpark.unpark();
    }

    pub(crate) fn shutdown(&self) {
        self.time.shutdown();
        self.io.shutdown();
        self.uring.shutdown();
    }

    /// The runtime's io_uring ring, created (and put in the epoll set) on
    /// the first call; `None` where io_uring is unavailable or disabled.
    pub(crate) fn ring(&self) -> Option<&uring::Uring> {
        self.uring.get(|fd| self.io.watch_completions(fd))
    }
}
