//! The timer driver: a hierarchical timing wheel behind one mutex.
//!
//! # Design
//!
//! * **One wheel per runtime**, shared by all its threads through
//!   [`Handle`]. Any thread registers, cancels and fires timers; the critical
//!   sections are O(1) (or bounded by the wake batch size), so one mutex is
//!   simpler than sharding and rarely contended.
//! * **Millisecond ticks** counted from the moment the handle is created. A
//!   deadline rounds *up* to a tick and "now" rounds *down*, so a timer is
//!   only fired once the clock has really passed its deadline: never early,
//!   at most about a millisecond (plus scheduling) late.
//! * **Entries live in an index-addressed arena** ([`entry`]) and slot lists
//!   are threaded through `u32` indices ([`level`]), giving O(1) insert and
//!   cancel, 40-byte entries and no `unsafe` code. The wheel itself is in
//!   [`wheel`].
//! * **Wakers are never called, or dropped, under the lock** ([`batch`]):
//!   waking or dropping a waker can re-enter the timer (a task that is freed
//!   drops its `Sleep`s), which would deadlock on a non-reentrant mutex.
//! * **Sleeping and waking the driver.** Before the driver parks it asks
//!   [`Handle::next_timeout`], which also records the tick the driver will
//!   sleep until. Registering a timer due earlier than that unparks the
//!   driver; the parker keeps the wake-up as a token, so one that arrives
//!   before the driver actually blocks is not lost.
//! * **Shutdown** drops every waker (breaking task ↔ timer reference cycles)
//!   and turns every later request into [`TimerPoll::Shutdown`] /
//!   [`Registration::Shutdown`]; `Sleep` turns that into "pending, never woken
//!   by this runtime" rather than a panic. Firing a timer early would break
//!   the "never early" promise, and panicking in a poll that may run during
//!   teardown tends to turn one failure into an abort.

mod clock;
mod entry;
mod level;
mod wheel;

#[cfg(test)]
mod tests;

use crate::driver::wake_batch::WakeBatch;
use crate::driver::Unparker;
use crate::loom::sync::{Mutex, MutexGuard};
use std::sync::Arc;
use std::task::Waker;
use std::time::{Duration, Instant};
use wheel::Wheel;

pub(crate) use clock::Clock;

/// The shared timer state of one runtime.
pub(crate) struct Handle {
    /// Tick zero.
    start: Instant,
    /// What "now" is for this runtime (see [`clock`]).
    pub(crate) clock: Arc<Clock>,
    unpark: Unparker,
    inner: Mutex<Inner>,
}

struct Inner {
    wheel: Wheel,
    /// The tick the driver was last told to sleep until (`u64::MAX`: with no
    /// timeout). A registration due before it must unpark the driver.
    sleeping_until: u64,
    is_shutdown: bool,
}

/// Names one registered timer. Deliberately neither `Copy` nor `Clone`: its
/// single owner is the only one who may free the entry, which is what makes
/// index reuse safe (see [`entry`]).
#[derive(Debug)]
pub(crate) struct TimerKey(u32);

/// Outcome of [`Handle::register`].
#[derive(Debug)]
pub(crate) enum Registration {
    /// Stored; the waker is called once the deadline passes.
    Armed(TimerKey),
    /// The deadline's tick has already been processed: nothing was stored.
    Expired,
    /// The runtime has shut down: nothing was stored.
    Shutdown,
}

/// Outcome of polling a registered timer.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TimerPoll {
    /// Not due yet; the waker is stored.
    Pending,
    /// Fired. The entry has been freed and the key must not be used again.
    Fired,
    /// The runtime has shut down; the key is dead.
    Shutdown,
}

impl Handle {
    /// A timer wheel for the driver behind `unpark`, with a clock that
    /// starts paused if `start_paused` (see [`clock`]).
    pub(crate) fn new(unpark: Unparker, start_paused: bool) -> Handle {
        let clock = Arc::new(Clock::new(start_paused));
        Handle {
            start: clock.now(),
            clock,
            unpark,
            inner: Mutex::new(Inner {
                wheel: Wheel::new(),
                sleeping_until: u64::MAX,
                is_shutdown: false,
            }),
        }
    }

    /// How long the driver may sleep before the next timer is due: `None` if no
    /// timer is pending, `Some(ZERO)` if one is already due. Records the
    /// deadline so an earlier registration unparks the driver.
    pub(crate) fn next_timeout(&self) -> Option<Duration> {
        let mut inner = self.lock();
        if inner.is_shutdown {
            return None;
        }
        let Some(next) = inner.wheel.next_expiration() else {
            inner.sleeping_until = u64::MAX;
            return None;
        };
        inner.sleeping_until = next;
        drop(inner);
        let now = self.clock.now();
        if next <= self.tick_floor(now) {
            return Some(Duration::ZERO);
        }
        Some(match self.tick_to_instant(next) {
            Some(at) => at.saturating_duration_since(now),
            // Unrepresentable instant: sleep "forever"; the parker copes with
            // an over-long timeout, and any registration re-arms us.
            None => Duration::MAX,
        })
    }

    /// Fires every timer whose deadline has passed, waking them outside the
    /// lock in batches. Safe to call from any thread.
    #[cfg(test)]
    pub(crate) fn process(&self) {
        self.process_at(Instant::now());
    }

    /// [`process`](Self::process) with `real_now`, a reading of the system
    /// clock the caller has just taken, standing for "now" (unless a test
    /// has adjusted this runtime's clock, which is then read instead).
    pub(crate) fn process_at(&self, real_now: Instant) {
        let now = self.tick_floor(self.clock.now_given(real_now));
        let mut batch = WakeBatch::new();
        loop {
            let done = {
                let mut inner = self.lock();
                if inner.is_shutdown {
                    return;
                }
                inner.wheel.poll(now, &mut batch)
            };
            batch.wake_all();
            if done {
                return;
            }
        }
    }

    /// Runtime shutdown: drops every registered waker and makes every later
    /// request a no-op answering `Shutdown`.
    pub(crate) fn shutdown(&self) {
        let old = {
            let mut inner = self.lock();
            inner.is_shutdown = true;
            inner.sleeping_until = u64::MAX;
            inner.wheel.take_all()
        };
        // Dropped here, outside the lock: dropping a waker may drop a task,
        // which may drop a `Sleep`, which locks the timer.
        drop(old);
    }

    /// Timers waiting for their deadline.
    pub(crate) fn active_timers(&self) -> usize {
        self.lock().wheel.pending()
    }

    /// Registers a timer due at `deadline` that wakes `waker`.
    pub(crate) fn register(&self, deadline: Instant, waker: &Waker) -> Registration {
        let when = self.tick_ceil(deadline);
        let mut inner = self.lock();
        if inner.is_shutdown {
            return Registration::Shutdown;
        }
        if when <= inner.wheel.elapsed() {
            return Registration::Expired;
        }
        let Ok(key) = inner.wheel.insert(when, Some(waker.clone())) else {
            unreachable!("deadline checked against elapsed above");
        };
        let unpark = inner.note_deadline(when);
        drop(inner);
        if unpark {
            self.unpark.unpark();
        }
        Registration::Armed(TimerKey(key))
    }

    /// Checks a registered timer. While pending, stores `waker` (if it would
    /// not wake the same task as the stored one); once fired, frees the entry.
    pub(crate) fn poll_timer(&self, key: &TimerKey, waker: &Waker) -> TimerPoll {
        let mut inner = self.lock();
        if inner.is_shutdown {
            return TimerPoll::Shutdown;
        }
        if inner.wheel.is_fired(key.0) {
            let old = inner.wheel.remove(key.0);
            drop(inner);
            drop(old);
            TimerPoll::Fired
        } else {
            let old = inner.wheel.set_waker(key.0, waker);
            drop(inner);
            drop(old);
            TimerPoll::Pending
        }
    }

    /// Whether a registered timer has fired (without claiming it).
    pub(crate) fn is_fired(&self, key: &TimerKey) -> bool {
        let inner = self.lock();
        !inner.is_shutdown && inner.wheel.is_fired(key.0)
    }

    /// Moves a registered timer to a new deadline, keeping its waker. A
    /// deadline that has already passed fires it at once (its waker is woken,
    /// outside the lock).
    pub(crate) fn reset_timer(&self, key: &TimerKey, deadline: Instant) -> TimerPoll {
        // A deadline the clock has already passed fires now, not a tick later.
        let when = if deadline <= self.clock.now() {
            0
        } else {
            self.tick_ceil(deadline)
        };
        let mut inner = self.lock();
        if inner.is_shutdown {
            return TimerPoll::Shutdown;
        }
        match inner.wheel.reset(key.0, when) {
            Ok(()) => {
                let unpark = inner.note_deadline(when);
                drop(inner);
                if unpark {
                    self.unpark.unpark();
                }
                TimerPoll::Pending
            }
            Err(waker) => {
                drop(inner);
                if let Some(waker) = waker {
                    waker.wake();
                }
                TimerPoll::Fired
            }
        }
    }

    /// Cancels (or releases a fired) timer and frees its entry in O(1).
    pub(crate) fn deregister(&self, key: TimerKey) {
        let old = {
            let mut inner = self.lock();
            if inner.is_shutdown {
                return;
            }
            inner.wheel.remove(key.0)
        };
        drop(old);
    }

    /// Whether [`shutdown`](Self::shutdown) has run.
    #[cfg(test)]
    pub(crate) fn is_shutdown(&self) -> bool {
        self.lock().is_shutdown
    }

    /// Locks the state. A panic while holding the lock can only come from a
    /// wheel invariant check; the state is still structurally sound, so
    /// poisoning is ignored rather than turning every later drop into a panic.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The first tick at or after `at` (rounding up: never early).
    fn tick_ceil(&self, at: Instant) -> u64 {
        let nanos = at.saturating_duration_since(self.start).as_nanos();
        u64::try_from(nanos.div_ceil(1_000_000)).unwrap_or(u64::MAX)
    }

    /// The last tick at or before `at`.
    fn tick_floor(&self, at: Instant) -> u64 {
        let millis = at.saturating_duration_since(self.start).as_millis();
        u64::try_from(millis).unwrap_or(u64::MAX)
    }

    /// The instant tick `tick` begins, if representable.
    fn tick_to_instant(&self, tick: u64) -> Option<Instant> {
        self.start.checked_add(Duration::from_millis(tick))
    }
}

impl Inner {
    /// Notes a new deadline; says whether the driver must be unparked to
    /// shorten its sleep.
    fn note_deadline(&mut self, when: u64) -> bool {
        if when < self.sleeping_until {
            self.sleeping_until = when;
            true
        } else {
            false
        }
    }
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // No locking here: `Debug` may be called from anywhere, including
        // code that already holds the lock.
        f.debug_struct("time::Handle")
            .field("start", &self.start)
            .finish_non_exhaustive()
    }
}
