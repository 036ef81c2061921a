//! When a worker asks a sleeping sibling for help with the tasks it woke.
//!
//! A work-stealing scheduler usually wakes a sleeping worker whenever a
//! task lands in a busy worker's queue and nobody is already looking for
//! work. That is right when the queued work is long: the sibling takes half
//! of it and both cores run. It is wrong when the queue drains in a few
//! dozen microseconds anyway: the wake-up costs a futex call on each side
//! (and an inter-processor interrupt, dear in a virtual machine), the
//! sibling steals tasks whose sockets were just touched on the other CPU,
//! and when every CPU is already busy (a load generator in the same
//! process, another service on the machine) the sibling only preempts
//! someone. An HTTP server on two cores loaded from a third thread serves
//! more requests with one worker than with two for exactly this reason.
//!
//! So a worker estimates how long its queue would take it alone: the
//! number of queued tasks times its recent time per task (an exponentially
//! weighted mean of the time between two ticks of its loop, so it includes
//! the driver turns a tick triggers). A task woken into the queue wakes a
//! sibling only when that estimate reaches [`HELP_AFTER`], half a
//! millisecond: the span for which Linux's load balancer considers a thread
//! cache-hot and leaves it where it is (`sched_migration_cost`), the same
//! trade between a cold start elsewhere and a wait here.
//!
//! Ticks are timed only while the decision can matter (tasks are queued and
//! a sibling sleeps with nobody searching), so a runtime whose workers are
//! all busy reads no clock for it.
//!
//! Spawned and yielded tasks still wake a sibling at once (a spawn is
//! usually meant to run in parallel, and a task that yields is
//! compute-bound), as do tasks queued from outside the runtime. And a
//! sleeping sibling keeps watch over queues whose backlog looked short but
//! whose worker got stuck in a long poll (see `park`).

use std::time::{Duration, Instant};

/// The backlog (queued tasks times the mean time per task) from which a
/// task woken into a worker's queue wakes a sleeping sibling. On the http
/// benchmark (two cores, 50 connections loaded from a third thread, about
/// 4 µs per tick) 200 µs still woke the sibling for the largest bursts of
/// requests, after which it kept taking events; 500 µs never did.
pub(crate) const HELP_AFTER: Duration = Duration::from_micros(500);

/// The weight of the newest sample in the mean time per task, as a shift:
/// each tick moves the mean 1/8 of the way to its own duration.
const WEIGHT_SHIFT: u32 = 3;

/// A worker's recent time per task, and what it implies for its queue.
#[derive(Debug)]
pub(crate) struct Backlog {
    /// Mean nanoseconds per timed tick, scaled by `1 << WEIGHT_SHIFT`.
    scaled_tick_nanos: u64,
    /// When the last tick started, if it was timed.
    last_tick: Option<Instant>,
    help_after_nanos: u64,
}

impl Backlog {
    pub(crate) fn new() -> Backlog {
        Backlog::with_threshold(HELP_AFTER)
    }

    fn with_threshold(help_after: Duration) -> Backlog {
        Backlog {
            scaled_tick_nanos: 0,
            last_tick: None,
            help_after_nanos: u64::try_from(help_after.as_nanos()).unwrap_or(u64::MAX),
        }
    }

    /// A tick of the worker's loop starting at `now`: if the previous tick
    /// was timed too, its duration joins the mean.
    pub(crate) fn timed_tick(&mut self, now: Instant) {
        if let Some(last) = self.last_tick.replace(now) {
            let nanos =
                u64::try_from(now.saturating_duration_since(last).as_nanos()).unwrap_or(u64::MAX);
            let mean = self.scaled_tick_nanos >> WEIGHT_SHIFT;
            self.scaled_tick_nanos = self
                .scaled_tick_nanos
                .saturating_sub(mean)
                .saturating_add(nanos);
        }
    }

    /// A tick that is not timed (nobody could be woken, or nothing is
    /// queued), or a park: the time until the next timed tick is no task's.
    pub(crate) fn untimed_tick(&mut self) {
        self.last_tick = None;
    }

    /// The mean time per timed tick.
    #[cfg(test)]
    fn mean_tick(&self) -> Duration {
        Duration::from_nanos(self.scaled_tick_nanos >> WEIGHT_SHIFT)
    }

    /// Whether `queued` tasks are worth waking a sibling for.
    pub(crate) fn worth_help(&self, queued: usize) -> bool {
        let mean = self.scaled_tick_nanos >> WEIGHT_SHIFT;
        (queued as u64).saturating_mul(mean) >= self.help_after_nanos
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ticks `n` times, `each` apart, from `start`; returns the last.
    fn ticks(backlog: &mut Backlog, start: Instant, each: Duration, n: u32) -> Instant {
        let mut at = start;
        for _ in 0..n {
            backlog.timed_tick(at);
            at += each;
        }
        at - each
    }

    #[test]
    fn no_help_before_anything_was_timed() {
        let backlog = Backlog::new();
        assert_eq!(backlog.mean_tick(), Duration::ZERO);
        assert!(!backlog.worth_help(queue_capacity()));
    }

    fn queue_capacity() -> usize {
        crate::runtime::scheduler::multi_thread::queue::CAPACITY
    }

    #[test]
    fn the_mean_follows_the_ticks() {
        let mut backlog = Backlog::new();
        let at = ticks(&mut backlog, Instant::now(), Duration::from_micros(4), 200);
        let mean = backlog.mean_tick();
        assert!(mean > Duration::from_nanos(3_900) && mean <= Duration::from_micros(4));
        // Longer ticks pull it up within a few dozen ticks.
        ticks(&mut backlog, at, Duration::from_micros(40), 60);
        assert!(backlog.mean_tick() > Duration::from_micros(39));
    }

    #[test]
    fn help_once_the_queue_outlasts_the_threshold() {
        let mut backlog = Backlog::with_threshold(Duration::from_micros(100));
        ticks(&mut backlog, Instant::now(), Duration::from_micros(10), 200);
        assert!(!backlog.worth_help(9));
        assert!(backlog.worth_help(10));
    }

    #[test]
    fn time_between_untimed_ticks_counts_for_nothing() {
        let mut backlog = Backlog::with_threshold(Duration::from_micros(100));
        let at = ticks(&mut backlog, Instant::now(), Duration::from_micros(1), 200);
        // A park of a second, then timed ticks again.
        backlog.untimed_tick();
        ticks(
            &mut backlog,
            at + Duration::from_secs(1),
            Duration::from_micros(1),
            2,
        );
        assert!(backlog.mean_tick() < Duration::from_micros(2));
        assert!(!backlog.worth_help(50));
    }
}
