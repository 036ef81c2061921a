//! The driver: what a worker thread sleeps in when it has no task to run.
//!
//! A driver turn asks the timer wheel for its next deadline, waits in
//! `epoll_wait` until then (or until I/O becomes ready, or another thread
//! unparks it through an eventfd), then wakes the tasks whose I/O is ready
//! and fires the timers that have come due. Schedulers only know the
//! [`Driver`] / [`Handle`] pair: one thread at a time owns the `Driver` and
//! sleeps in it; every thread can use the `Handle`.
//!
//! A turn that may not wait (timeout zero) is skipped when the previous
//! turn ended less than [`RECENT_TURN`] ago. Schedulers ask for such turns
//! to let I/O and timers in between tasks: after every round of yielded
//! tasks, and every `event_interval` polls. When a handful of tasks keep
//! yielding (a semaphore passed around, a loop that yields between steps),
//! the run queue drains every few hundred nanoseconds, and a turn each time
//! costs an `epoll_wait` and two clock reads that find nothing new. Skipping
//! turns that close together bounds how late I/O is seen by the window, in
//! real time, instead of by a number of polls (which is what let Tokio's
//! drivers starve before its yielded tasks waited for a turn: a poll can be
//! long). A turn that may sleep is never skipped, and nor is any turn once
//! a test has paused the clock: `time::advance` relies on the turn after
//! its yield to fire the timers it made due.

pub(crate) mod io;
pub(crate) mod park;
#[cfg(test)]
pub(crate) mod test_support;
pub(crate) mod time;
pub(crate) mod uring;
pub(crate) mod wake_batch;

pub(crate) use park::Unparker;

use std::sync::Arc;
use std::time::{Duration, Instant};

/// How recent a turn makes a non-blocking turn redundant (module docs).
pub(crate) const RECENT_TURN: Duration = Duration::from_micros(50);

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
    /// When the last turn's wait ended (the reading the timers were then
    /// fired by).
    last_turn: Instant,
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
        let driver = Driver {
            io,
            last_turn: Instant::now(),
        };
        Ok((driver, handle))
    }

    /// One driver turn: wait in epoll until `timeout`, the next timer
    /// deadline, I/O readiness, or an unpark, whichever comes first; then
    /// wake the tasks whose I/O is ready and fire the timers that are due.
    ///
    /// With the clock paused (see `time::clock`), a turn that would sleep
    /// until the next timer instead looks for I/O without waiting and, if
    /// none came, moves the clock to that timer and fires it.
    ///
    /// A turn with a zero `timeout` less than [`RECENT_TURN`] after the last
    /// one does nothing (module docs).
    pub(crate) fn park(&mut self, handle: &Handle, timeout: Option<Duration>) {
        if timeout == Some(Duration::ZERO)
            && handle.time.clock.never_adjusted()
            && self.last_turn.elapsed() < RECENT_TURN
        {
            return;
        }
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
        // One clock reading serves the timers and the stamp.
        let turned_at = Instant::now();
        handle.time.process_at(turned_at);
        self.last_turn = turned_at;
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

#[cfg(test)]
mod tests {
    use super::test_support::Count;
    use super::{io, Driver, Handle, Options, RECENT_TURN};
    use std::sync::atomic::Ordering;
    use std::sync::Arc;
    use std::task::Waker;
    use std::time::{Duration, Instant};

    /// A last turn that stays recent however slowly the test runs (under
    /// valgrind, say): `elapsed` of an instant still to come is zero.
    fn just_turned() -> Instant {
        Instant::now() + Duration::from_secs(3600)
    }

    fn driver(start_paused: bool) -> (Driver, Arc<Handle>) {
        Driver::new(Options {
            io_uring: false,
            page_cache_first: false,
            start_paused,
            events_per_tick: io::DEFAULT_EVENTS_PER_TURN,
        })
        .unwrap()
    }

    /// A timer that is already due when the test's turns begin, and the
    /// count of its wake-ups.
    fn due_timer(handle: &Handle) -> (Arc<Count>, super::time::Registration) {
        let count = Arc::new(Count::default());
        let at = handle.time.clock.now() + Duration::from_millis(1);
        let registration = handle.time.register(at, &Waker::from(count.clone()));
        if handle.time.clock.is_paused() {
            handle.time.clock.advance(Duration::from_millis(5)).unwrap();
        } else {
            std::thread::sleep(Duration::from_millis(5));
        }
        (count, registration)
    }

    #[test]
    fn a_non_blocking_turn_right_after_a_turn_is_skipped_and_a_later_one_is_not() {
        let (mut driver, handle) = driver(false);
        let (count, _registration) = due_timer(&handle);
        driver.last_turn = just_turned();
        driver.park(&handle, Some(Duration::ZERO));
        assert_eq!(count.0.load(Ordering::SeqCst), 0, "the turn was skipped");
        driver.last_turn = Instant::now() - RECENT_TURN;
        driver.park(&handle, Some(Duration::ZERO));
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "a stale turn is made");
    }

    #[test]
    fn a_turn_stamps_the_driver() {
        let (mut driver, handle) = driver(false);
        driver.last_turn = Instant::now() - Duration::from_secs(10);
        driver.park(&handle, Some(Duration::ZERO));
        assert!(driver.last_turn.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_turn_that_may_wait_is_never_skipped() {
        let (mut driver, handle) = driver(false);
        let (count, _registration) = due_timer(&handle);
        driver.last_turn = just_turned();
        driver.park(&handle, Some(Duration::from_millis(1)));
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn with_the_clock_paused_no_turn_is_skipped() {
        // `time::advance` yields once and counts on the next turn to fire
        // what it made due.
        let (mut driver, handle) = driver(true);
        let (count, _registration) = due_timer(&handle);
        driver.last_turn = just_turned();
        driver.park(&handle, Some(Duration::ZERO));
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
    }
}
