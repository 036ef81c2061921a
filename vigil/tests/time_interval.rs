//! `vigil::time::interval` and the missed-tick behaviours.

mod common;
use common::current_thread;

use std::future::Future;
use std::time::Duration;
use vigil::time::{interval, interval_at, Instant, MissedTickBehavior};

const MS: Duration = Duration::from_millis(1);

#[test]
fn first_tick_is_immediate_then_periodic() {
    current_thread().block_on(async {
        let before = Instant::now();
        let mut iv = interval(10 * MS);
        assert_eq!(iv.period(), 10 * MS);
        assert_eq!(iv.missed_tick_behavior(), MissedTickBehavior::Burst);
        let first = iv.tick().await;
        assert!(first >= before && first <= Instant::now());
        for k in 1..=4u32 {
            let t = iv.tick().await;
            assert_eq!(t, first + 10 * MS * k);
            assert!(Instant::now() >= t, "tick {k} early");
        }
    });
}

#[test]
fn interval_at_starts_at_start() {
    current_thread().block_on(async {
        let start = Instant::now() + 20 * MS;
        let mut iv = interval_at(start, 5 * MS);
        assert_eq!(iv.tick().await, start);
        assert!(Instant::now() >= start);
        assert_eq!(iv.tick().await, start + 5 * MS);
    });
}

#[test]
#[should_panic(expected = "period must be greater than zero")]
fn zero_period_panics() {
    let _ = interval(Duration::ZERO);
}

/// Starts an interval, takes the first tick, then blocks the thread past
/// three more ticks (at 10, 20 and 30 ms). Returns the interval, its start,
/// and the instant the stall ended.
async fn stalled(behavior: MissedTickBehavior) -> (vigil::time::Interval, Instant, Instant) {
    let mut iv = interval(10 * MS);
    iv.set_missed_tick_behavior(behavior);
    let start = iv.tick().await;
    std::thread::sleep(35 * MS);
    let stall_end = Instant::now();
    (iv, start, stall_end)
}

#[test]
fn burst_catches_up_on_the_original_schedule() {
    current_thread().block_on(async {
        let (mut iv, start, stall_end) = stalled(MissedTickBehavior::Burst).await;
        // The missed ticks come back to back, reporting their scheduled times.
        for k in 1..=3u32 {
            assert_eq!(iv.tick().await, start + 10 * MS * k);
        }
        assert!(stall_end >= start + 35 * MS);
        // Then the schedule continues unchanged.
        let next = iv.tick().await;
        assert!(next >= start + 40 * MS);
        assert_eq!((next - start).as_millis() % 10, 0);
        assert!(Instant::now() >= next);
    });
}

#[test]
// Valgrind slows every tick by more than the 5 ms tolerance for a missed
// tick, which legitimately moves a Delay schedule.
#[cfg_attr(vigil_valgrind, ignore = "timing-sensitive: too slow under valgrind")]
fn delay_restarts_the_schedule_from_now() {
    current_thread().block_on(async {
        let (mut iv, start, stall_end) = stalled(MissedTickBehavior::Delay).await;
        let late = iv.tick().await;
        assert_eq!(late, start + 10 * MS);
        let observed_by = Instant::now();
        let next = iv.tick().await;
        assert!(next >= stall_end + 10 * MS, "{:?}", next - stall_end);
        assert!(next <= observed_by + 10 * MS);
        assert!(Instant::now() >= next);
        // Back on a regular period from there.
        assert_eq!(iv.tick().await, next + 10 * MS);
    });
}

#[test]
fn skip_keeps_the_original_phase() {
    current_thread().block_on(async {
        let (mut iv, start, stall_end) = stalled(MissedTickBehavior::Skip).await;
        assert_eq!(iv.tick().await, start + 10 * MS);
        let next = iv.tick().await;
        assert!(next > stall_end, "skip must not replay missed ticks");
        assert!(next >= start + 40 * MS);
        assert_eq!((next - start).as_nanos() % (10 * MS).as_nanos(), 0);
        assert!(Instant::now() >= next);
        assert_eq!(iv.tick().await, next + 10 * MS);
    });
}

#[test]
fn resets() {
    current_thread().block_on(async {
        let mut iv = interval(Duration::from_secs(3600));
        iv.tick().await; // immediate
        iv.reset_immediately();
        let t = iv.tick().await;
        assert!(t <= Instant::now());

        let before = Instant::now();
        iv.reset_after(15 * MS);
        let t = iv.tick().await;
        assert!(t >= before + 15 * MS);
        assert!(Instant::now() >= t);

        let at = Instant::now() + 10 * MS;
        iv.reset_at(at);
        assert_eq!(iv.tick().await, at);

        let mut iv = interval(20 * MS);
        iv.tick().await;
        let before = Instant::now();
        iv.reset();
        let t = iv.tick().await;
        assert!(t >= before + 20 * MS);
    });
}

#[test]
fn tick_is_cancel_safe() {
    current_thread().block_on(async {
        // The period is long against any scheduling delay (valgrind, a
        // loaded CI machine): the test drops `tick` while it is pending, and
        // must not depend on how quickly that happens.
        let mut iv = interval(200 * MS);
        let start = iv.tick().await;
        // Start waiting for the next tick a few times, and give up while it
        // is still pending (its timer is registered by then)...
        for _ in 0..3 {
            let mut tick = Box::pin(iv.tick());
            let polled = std::future::poll_fn(|cx| {
                std::task::Poll::Ready(tick.as_mut().poll(cx).is_pending())
            })
            .await;
            assert!(polled, "the second tick came before its period");
        }
        // ...no tick was lost or skipped.
        assert_eq!(iv.tick().await, start + 200 * MS);
        assert_eq!(iv.tick().await, start + 400 * MS);
    });
}

#[test]
fn interval_created_outside_runtime() {
    let mut iv = interval(5 * MS);
    current_thread().block_on(async move {
        let a = iv.tick().await;
        let b = iv.tick().await;
        assert_eq!(b - a, 5 * MS);
    });
}
