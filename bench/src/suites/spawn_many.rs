//! `spawn_many`: the cost of creating, scheduling, running and freeing a
//! large number of trivial tasks.
//!
//! Spawning is the runtime's most basic operation, and many servers spawn a
//! task per request, so its fixed cost (allocation, queue push, a wake-up of
//! an idle worker, freeing) matters. Each task only counts down a shared
//! [`Countdown`]; the last one sets a [`Signal`](crate::sync::Signal) that
//! the measuring side awaits. Three cases:
//!
//! - `inside`: a task spawns all of them (detached), the common server case,
//!   which on a multi-thread runtime goes through the spawning worker's
//!   local queue and work stealing.
//! - `inside_join`: the same, but the spawner keeps every `JoinHandle` and
//!   awaits them in order, which adds the join handle's cost (its output
//!   slot, waking the joiner).
//! - `outside`: a plain `std::thread` that is not part of the runtime spawns
//!   them through the runtime handle while the main thread waits in
//!   `block_on`: every spawn goes through the runtime's global (injection)
//!   queue and may have to unpark a worker. Not applicable to `smol-local`,
//!   whose executor cannot be reached from another thread.

use crate::measure::Sample;
use crate::runtimes::{Runtime, Spawner};
use crate::suites::Params;
use crate::sync::Countdown;
use std::time::{Duration, Instant};

/// One iteration of every case.
pub fn iteration<R: Runtime>(rt: &R, p: &Params) -> Vec<Sample> {
    let n = p.size(100_000, 10_000);
    let mut samples = vec![
        Sample::time("inside", inside(rt, n)),
        Sample::time("inside_join", inside_join(rt, n)),
    ];
    if R::REMOTE_SPAWN {
        samples.push(Sample::time("outside", outside(rt, n)));
    }
    samples
}

fn inside<R: Runtime>(rt: &R, n: usize) -> Duration {
    let start = Instant::now();
    rt.run_in_task(move |spawner| async move {
        let (countdown, done) = Countdown::new(n);
        for _ in 0..n {
            let countdown = countdown.clone();
            spawner.spawn_detached(async move { countdown.count() });
        }
        done.wait().await;
    });
    start.elapsed()
}

fn inside_join<R: Runtime>(rt: &R, n: usize) -> Duration {
    let start = Instant::now();
    let sum = rt.run_in_task(move |spawner| async move {
        let handles: Vec<_> = (0..n).map(|i| spawner.spawn(async move { i })).collect();
        let mut sum = 0usize;
        for h in handles {
            sum += h.await;
        }
        sum
    });
    let elapsed = start.elapsed();
    assert_eq!(sum, n * (n - 1) / 2);
    elapsed
}

fn outside<R: Runtime>(rt: &R, n: usize) -> Duration {
    let start = Instant::now();
    let spawner = rt.spawner();
    let (countdown, done) = Countdown::new(n);
    let thread = std::thread::spawn(move || {
        for _ in 0..n {
            let countdown = countdown.clone();
            spawner.spawn_detached(async move { countdown.count() });
        }
    });
    rt.block_on(done.wait());
    let elapsed = start.elapsed();
    thread.join().expect("spawning thread panicked");
    elapsed
}
