//! `timers`: many concurrent sleeps, for timer throughput and accuracy.
//!
//! 100 000 tasks (10 000 in `--quick` mode) are spawned at once; each sleeps
//! with the runtime's own timer for a duration drawn uniformly from
//! 1..=100 ms by a seeded generator (the same durations on every runtime and
//! every run), measured from when the task first runs. Servers arm a timeout
//! per request, so registering, firing and waking a timer must stay cheap
//! when many are pending, and timers should fire close to their deadline.
//! Cases:
//!
//! - `total`: from the first spawn until the last task woke. Its floor is
//!   the longest sleep (100 ms) plus spawning; what is above it is timer and
//!   wake-up overhead.
//! - `lateness_p50`, `lateness_p99`, `lateness_max`: how long after its
//!   deadline each task actually resumed, from an HDR histogram of all
//!   tasks. Tokio and vigil round deadlines up to a 1 ms tick, so ~0.5 ms
//!   median lateness is expected of them; smol's timers are not ticked.

use crate::measure::Sample;
use crate::runtimes::{Runtime, Spawner};
use crate::suites::Params;
use crate::sync::Countdown;
use hdrhistogram::Histogram;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Seed of the sleep durations.
const SEED: u64 = 0x5EED_0F71_33E5;

/// One iteration.
pub fn iteration<R: Runtime>(rt: &R, p: &Params) -> Vec<Sample> {
    let n = p.size(100_000, 10_000);
    let durations = sleep_durations(n, SEED);
    let lateness: Arc<Vec<AtomicU64>> = Arc::new((0..n).map(|_| AtomicU64::new(0)).collect());

    let start = Instant::now();
    let late = lateness.clone();
    rt.run_in_task(move |spawner| async move {
        let (countdown, done) = Countdown::new(n);
        for (i, d) in durations.into_iter().enumerate() {
            let countdown = countdown.clone();
            let late = late.clone();
            spawner.spawn_detached(async move {
                let deadline = Instant::now() + d;
                R::sleep_until(deadline).await;
                let woke = Instant::now();
                let ns = woke.saturating_duration_since(deadline).as_nanos() as u64;
                late[i].store(ns, Ordering::Relaxed);
                countdown.count();
            });
        }
        done.wait().await;
    });
    let total = start.elapsed();

    // 1 ns .. 1 min at 3 significant digits; anything later is clamped.
    let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("histogram");
    for l in lateness.iter() {
        hist.saturating_record(l.load(Ordering::Relaxed));
    }
    vec![
        Sample::time("total", total),
        Sample::time(
            "lateness_p50",
            Duration::from_nanos(hist.value_at_quantile(0.50)),
        ),
        Sample::time(
            "lateness_p99",
            Duration::from_nanos(hist.value_at_quantile(0.99)),
        ),
        Sample::time("lateness_max", Duration::from_nanos(hist.max())),
    ]
}

/// `n` durations uniform in 1..=100 ms (whole microseconds), from `seed`.
fn sleep_durations(n: usize, seed: u64) -> Vec<Duration> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            let us = 1_000 + splitmix64(&mut state) % 99_001;
            Duration::from_micros(us)
        })
        .collect()
}

/// The SplitMix64 generator: small, fast, and good enough to spread sleeps.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_in_range_and_deterministic() {
        let a = sleep_durations(10_000, SEED);
        assert_eq!(a, sleep_durations(10_000, SEED));
        assert!(a
            .iter()
            .all(|d| *d >= Duration::from_millis(1) && *d <= Duration::from_millis(100)));
        let mean = a.iter().sum::<Duration>() / a.len() as u32;
        assert!(mean > Duration::from_millis(45) && mean < Duration::from_millis(56));
    }
}
