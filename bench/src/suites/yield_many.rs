//! `yield_many`: the bare cost of one trip through the scheduler.
//!
//! 200 tasks each call the runtime's own `yield_now` 1000 times (200 in
//! `--quick` mode). A yield does no work: the task wakes itself, goes to
//! the back of the run queue and is polled again, so this measures the
//! scheduler's per-poll overhead (queue push/pop, task state transitions,
//! any periodic checks of timers or the global queue) and, on a
//! multi-thread runtime, how the ready tasks are spread between workers.

use crate::measure::Sample;
use crate::runtimes::{Runtime, Spawner};
use crate::suites::Params;
use crate::sync::Countdown;
use std::time::Instant;

/// Tasks that yield.
const TASKS: usize = 200;

/// One iteration.
pub fn iteration<R: Runtime>(rt: &R, p: &Params) -> Vec<Sample> {
    let yields = p.size(1_000, 200);
    let start = Instant::now();
    rt.run_in_task(move |spawner| async move {
        let (countdown, done) = Countdown::new(TASKS);
        for _ in 0..TASKS {
            let countdown = countdown.clone();
            spawner.spawn_detached(async move {
                for _ in 0..yields {
                    R::yield_now().await;
                }
                countdown.count();
            });
        }
        done.wait().await;
    });
    vec![Sample::time("tasks", start.elapsed())]
}
