//! A runtime's clock: the system's monotonic clock, which tests may stop
//! and move by hand (`time::pause`, `time::advance`, with the `test-util`
//! feature).
//!
//! A test of timeouts, retries or rate limits should not have to wait for
//! them in real time, nor be flaky when the machine is slow. With the clock
//! paused, time stands still until the test moves it ([`Clock::advance`]),
//! and a runtime with nothing left to run moves it itself, straight to the
//! next timer ("auto-advance"): a test that sleeps an hour finishes in
//! microseconds, and its timers fire in deadline order, exactly on time.
//!
//! Auto-advance waits while work on the blocking pool is in flight
//! ([`Clock::inhibit_auto_advance`]): that work takes real time, and a
//! timeout racing it should not fire just because the runtime's own
//! threads were idle meanwhile.
//!
//! The clock reads `base` plus the real time elapsed since `since` while it
//! runs, and `base` alone while paused; a clock that was never paused reads
//! the system clock directly.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub(crate) struct Clock {
    /// Set once the clock has been paused at least once; until then `now`
    /// reads the system clock without taking the lock.
    adjusted: AtomicBool,
    state: Mutex<State>,
    /// Blocking-pool jobs in flight that hold auto-advance back.
    inhibitors: AtomicUsize,
}

struct State {
    /// The clock's reading at `since` (or for as long as it is paused).
    base: Instant,
    /// `None` while paused; otherwise the real instant at which the clock
    /// read `base`.
    since: Option<Instant>,
}

impl Clock {
    pub(crate) fn new(start_paused: bool) -> Clock {
        let now = Instant::now();
        Clock {
            adjusted: AtomicBool::new(start_paused),
            state: Mutex::new(State {
                base: now,
                since: if start_paused { None } else { Some(now) },
            }),
            inhibitors: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current time by this clock.
    pub(crate) fn now(&self) -> Instant {
        if !self.adjusted.load(Ordering::Acquire) {
            return Instant::now();
        }
        let state = self.lock();
        match state.since {
            Some(since) => state.base + since.elapsed(),
            None => state.base,
        }
    }

    /// The current time by this clock, given `real_now`, a fresh reading of
    /// the system clock: that reading itself unless the clock was adjusted.
    pub(crate) fn now_given(&self, real_now: Instant) -> Instant {
        if self.never_adjusted() {
            real_now
        } else {
            self.now()
        }
    }

    /// Whether the clock has always been the system's: never paused, so
    /// never moved by hand either.
    pub(crate) fn never_adjusted(&self) -> bool {
        !self.adjusted.load(Ordering::Acquire)
    }

    /// Whether the clock stands still.
    pub(crate) fn is_paused(&self) -> bool {
        self.adjusted.load(Ordering::Acquire) && self.lock().since.is_none()
    }

    /// Stops the clock. `Err` if it already stands still.
    #[cfg_attr(not(feature = "test-util"), allow(dead_code))]
    pub(crate) fn pause(&self) -> Result<(), &'static str> {
        let mut state = self.lock();
        let Some(since) = state.since else {
            return Err("the clock is already paused");
        };
        state.base += since.elapsed();
        state.since = None;
        self.adjusted.store(true, Ordering::Release);
        Ok(())
    }

    /// Starts the clock again from where it stands. `Err` if it runs.
    #[cfg_attr(not(feature = "test-util"), allow(dead_code))]
    pub(crate) fn resume(&self) -> Result<(), &'static str> {
        let mut state = self.lock();
        if state.since.is_some() {
            return Err("the clock is not paused");
        }
        state.since = Some(Instant::now());
        Ok(())
    }

    /// Moves a paused clock forward by `by`. `Err` if it runs.
    pub(crate) fn advance(&self, by: Duration) -> Result<(), &'static str> {
        let mut state = self.lock();
        if state.since.is_some() {
            return Err("the clock is not paused");
        }
        state.base = state.base.checked_add(by).unwrap_or(state.base);
        Ok(())
    }

    /// Whether a paused clock may move itself to the next timer now.
    pub(crate) fn can_auto_advance(&self) -> bool {
        self.is_paused() && self.inhibitors.load(Ordering::Acquire) == 0
    }

    /// Holds auto-advance back until the guard drops.
    #[cfg_attr(not(feature = "test-util"), allow(dead_code))]
    pub(crate) fn inhibit_auto_advance(self: &std::sync::Arc<Self>) -> Inhibit {
        self.inhibitors.fetch_add(1, Ordering::AcqRel);
        Inhibit {
            clock: self.clone(),
        }
    }
}

/// Auto-advance is held back while this lives.
#[cfg_attr(not(feature = "test-util"), allow(dead_code))]
pub(crate) struct Inhibit {
    clock: std::sync::Arc<Clock>,
}

impl Drop for Inhibit {
    fn drop(&mut self) {
        self.clock.inhibitors.fetch_sub(1, Ordering::AcqRel);
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clock").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clock_never_paused_follows_the_system_clock() {
        let clock = Clock::new(false);
        let before = Instant::now();
        let read = clock.now();
        assert!(read >= before && read <= Instant::now());
        assert!(!clock.is_paused());
    }

    #[test]
    fn a_paused_clock_stands_still_and_moves_only_when_told() {
        let clock = Clock::new(false);
        clock.pause().unwrap();
        let t0 = clock.now();
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(clock.now(), t0);
        clock.advance(Duration::from_secs(3600)).unwrap();
        assert_eq!(clock.now(), t0 + Duration::from_secs(3600));
        assert!(clock.pause().is_err());
    }

    #[test]
    fn a_resumed_clock_runs_on_from_where_it_stood() {
        let clock = Clock::new(true);
        let t0 = clock.now();
        clock.advance(Duration::from_secs(10)).unwrap();
        clock.resume().unwrap();
        assert!(clock.now() >= t0 + Duration::from_secs(10));
        assert!(clock.resume().is_err());
        assert!(clock.advance(Duration::from_secs(1)).is_err());
    }

    #[test]
    fn blocking_work_holds_auto_advance_back() {
        let clock = std::sync::Arc::new(Clock::new(true));
        assert!(clock.can_auto_advance());
        let guard = clock.inhibit_auto_advance();
        assert!(!clock.can_auto_advance());
        drop(guard);
        assert!(clock.can_auto_advance());
    }
}
