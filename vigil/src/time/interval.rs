//! [`Interval`]: ticks on a fixed schedule.
//!
//! An interval is one reusable [`Sleep`] plus a rule for choosing the next
//! deadline. Re-using the sleep means one timer entry for the interval's
//! whole life, and keeping all state in the `Interval` (not in the future
//! returned by [`Interval::tick`]) is what makes `tick` cancel safe.
//!
//! When the program falls behind — the task was busy, or the thread was
//! blocked — ticks are missed, and [`MissedTickBehavior`] decides how the
//! schedule recovers. A tick observed within a few milliseconds of its
//! deadline is not treated as missed: timers fire at millisecond granularity
//! and a little scheduling delay should not shift the schedule.

use crate::time::{sleep_until, Instant, Sleep};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// How late a tick may be observed before it counts as missed.
const MISSED_AFTER: Duration = Duration::from_millis(5);

/// Creates an [`Interval`] whose first tick completes immediately and whose
/// later ticks come every `period`.
///
/// Equivalent to `interval_at(Instant::now(), period)`. Like [`Sleep`], the
/// interval can be created outside a runtime and only needs one when polled.
///
/// # Panics
///
/// Panics if `period` is zero.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let rt = vigil::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     let mut interval = vigil::time::interval(Duration::from_millis(10));
///     let first = interval.tick().await; // immediately
///     let second = interval.tick().await; // 10 ms later
///     assert_eq!(second - first, Duration::from_millis(10));
/// });
/// ```
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Creates an [`Interval`] whose first tick completes at `start` and whose
/// later ticks come every `period` after that.
///
/// # Panics
///
/// Panics if `period` is zero.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use vigil::time::{interval_at, Instant};
///
/// let rt = vigil::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     let start = Instant::now() + Duration::from_millis(20);
///     let mut interval = interval_at(start, Duration::from_millis(10));
///     assert_eq!(interval.tick().await, start);
/// });
/// ```
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(
        !period.is_zero(),
        "vigil::time::interval: the period must be greater than zero"
    );
    Interval {
        delay: sleep_until(start),
        period,
        missed_tick_behavior: MissedTickBehavior::default(),
    }
}

/// What an [`Interval`] does after it has missed one or more ticks.
///
/// Suppose a 10 ms interval started at `t = 0` and the program was busy from
/// `t = 5` until `t = 37`, so the ticks due at 10, 20 and 30 were missed:
///
/// | behaviour | ticks after the stall (times completed → deadline reported) |
/// |-----------|------------------------------------------------------------|
/// | `Burst`   | 37 → 10, 37 → 20, 37 → 30, then 40, 50, …                  |
/// | `Delay`   | 37 → 10, then 47, 57, …                                    |
/// | `Skip`    | 37 → 10, then 40, 50, …                                    |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks back to back, as fast as they are polled, until
    /// the interval has caught up with its original schedule. The default:
    /// right when every tick must be accounted for.
    #[default]
    Burst,
    /// Start the schedule afresh: the next tick comes a full `period` after
    /// the moment the late tick was observed. Ticks are never closer together
    /// than `period`.
    Delay,
    /// Drop the missed ticks and continue with the next tick of the original
    /// schedule that is still in the future.
    Skip,
}

impl MissedTickBehavior {
    /// The deadline after a tick due at `missed` that was only observed at
    /// `now`.
    fn next_deadline(self, missed: Instant, now: Instant, period: Duration) -> Instant {
        match self {
            MissedTickBehavior::Burst => missed.saturating_add(period),
            MissedTickBehavior::Delay => now.saturating_add(period),
            MissedTickBehavior::Skip => {
                // The next point `missed + k * period` strictly after `now`.
                let behind = now.saturating_duration_since(missed).as_nanos();
                let into_period = behind % period.as_nanos();
                now.saturating_add(period - nanos_to_duration(into_period))
            }
        }
    }
}

/// Converts a nanosecond count known to fit a `Duration`.
fn nanos_to_duration(nanos: u128) -> Duration {
    const NANOS_PER_SEC: u128 = 1_000_000_000;
    let secs = u64::try_from(nanos / NANOS_PER_SEC).unwrap_or(u64::MAX);
    Duration::new(secs, (nanos % NANOS_PER_SEC) as u32)
}

/// A stream of ticks on a fixed schedule, made by [`interval`] and
/// [`interval_at`].
///
/// Each call to [`tick`](Interval::tick) completes at the next scheduled
/// instant and returns it. What happens when ticks are missed is set by
/// [`MissedTickBehavior`] (default [`Burst`](MissedTickBehavior::Burst)).
#[derive(Debug)]
pub struct Interval {
    /// Completes at the next tick's deadline.
    delay: Sleep,
    period: Duration,
    missed_tick_behavior: MissedTickBehavior,
}

impl Interval {
    /// Completes at the next tick and returns its scheduled instant (which,
    /// for a late tick, is earlier than the time it completes).
    ///
    /// **Cancel safety:** this method is cancel safe. Dropping the returned
    /// future before it completes loses no tick: the next call waits for the
    /// same tick.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = vigil::runtime::Builder::new_current_thread().build().unwrap();
    /// rt.block_on(async {
    ///     let mut interval = vigil::time::interval(Duration::from_millis(5));
    ///     for _ in 0..3 {
    ///         interval.tick().await;
    ///     }
    /// });
    /// ```
    pub async fn tick(&mut self) -> Instant {
        std::future::poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick: `Ready(scheduled instant)` once it is due.
    ///
    /// After `Pending`, only the waker of the most recent poll is woken.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        match Pin::new(&mut self.delay).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(()) => {}
        }
        let due = self.delay.deadline();
        let now = Instant::now();
        let next = if now.saturating_duration_since(due) > MISSED_AFTER {
            self.missed_tick_behavior
                .next_deadline(due, now, self.period)
        } else {
            due.saturating_add(self.period)
        };
        self.delay.reset_inner(next);
        Poll::Ready(due)
    }

    /// Restarts the schedule so the next tick comes one `period` from now.
    pub fn reset(&mut self) {
        self.delay
            .reset_inner(Instant::now().saturating_add(self.period));
    }

    /// Restarts the schedule so the next tick completes immediately.
    pub fn reset_immediately(&mut self) {
        self.delay.reset_inner(Instant::now());
    }

    /// Restarts the schedule so the next tick comes `after` from now.
    pub fn reset_after(&mut self, after: Duration) {
        self.delay.reset_inner(Instant::now().saturating_add(after));
    }

    /// Restarts the schedule so the next tick comes at `deadline`.
    pub fn reset_at(&mut self, deadline: Instant) {
        self.delay.reset_inner(deadline);
    }

    /// The time between ticks.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// What the interval does after missed ticks.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed_tick_behavior
    }

    /// Sets what the interval does after missed ticks.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed_tick_behavior = behavior;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn next_deadlines() {
        let t0 = Instant::now();
        let p = 10 * MS;
        let now = t0 + 37 * MS;
        assert_eq!(MissedTickBehavior::Burst.next_deadline(t0, now, p), t0 + p);
        assert_eq!(MissedTickBehavior::Delay.next_deadline(t0, now, p), now + p);
        assert_eq!(
            MissedTickBehavior::Skip.next_deadline(t0, now, p),
            t0 + 40 * MS
        );
        // Exactly on a schedule point: the next one, strictly later.
        let now = t0 + 40 * MS;
        assert_eq!(
            MissedTickBehavior::Skip.next_deadline(t0, now, p),
            t0 + 50 * MS
        );
    }

    #[test]
    fn huge_period_does_not_overflow() {
        let t0 = Instant::now();
        let now = t0 + 3 * MS;
        for b in [
            MissedTickBehavior::Burst,
            MissedTickBehavior::Delay,
            MissedTickBehavior::Skip,
        ] {
            assert!(b.next_deadline(t0, now, Duration::MAX) > now);
        }
    }

    #[test]
    #[should_panic(expected = "period must be greater than zero")]
    fn zero_period_panics() {
        let _ = interval(Duration::ZERO);
    }

    #[test]
    fn first_tick_without_runtime() {
        // The first tick is due now, so it completes without a driver.
        struct Noop;
        impl std::task::Wake for Noop {
            fn wake(self: std::sync::Arc<Self>) {}
        }
        let waker = std::task::Waker::from(std::sync::Arc::new(Noop));
        let mut cx = Context::from_waker(&waker);
        let start = Instant::now();
        let mut iv = interval_at(start, 10 * MS);
        assert_eq!(iv.poll_tick(&mut cx), Poll::Ready(start));
        assert_eq!(iv.period(), 10 * MS);
        iv.set_missed_tick_behavior(MissedTickBehavior::Skip);
        assert_eq!(iv.missed_tick_behavior(), MissedTickBehavior::Skip);
        iv.reset_immediately();
        assert!(matches!(iv.poll_tick(&mut cx), Poll::Ready(_)));
    }
}
