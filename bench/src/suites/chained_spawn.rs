//! `chained_spawn`: a sequential chain of spawns, where each task spawns
//! the next and then ends.
//!
//! Only one task exists at a time, so there is no parallelism to exploit:
//! this measures the latency of spawn -> first poll on a mostly idle runtime
//! (does the new task run right away on the same worker, or does it need a
//! cross-thread wake-up?), the pattern of recursive or pipelined spawning.
//! One case, `depth_1000`: a chain 1000 tasks deep whose last task sets a
//! [`Signal`], repeated 100 times per iteration (10 in `--quick` mode).

use crate::measure::Sample;
use crate::runtimes::{Runtime, Spawner};
use crate::suites::Params;
use crate::sync::Signal;
use std::sync::Arc;
use std::time::Instant;

/// Tasks per chain.
const DEPTH: usize = 1_000;

/// One iteration.
pub fn iteration<R: Runtime>(rt: &R, p: &Params) -> Vec<Sample> {
    let repeats = p.size(100, 10);
    let start = Instant::now();
    rt.run_in_task(move |spawner| async move {
        for _ in 0..repeats {
            let done = Signal::new();
            link(&spawner, DEPTH, done.clone());
            done.wait().await;
        }
    });
    vec![Sample::time("depth_1000", start.elapsed())]
}

/// Spawns the task that is `left` links from the end of the chain.
fn link<S: Spawner>(spawner: &S, left: usize, done: Arc<Signal>) {
    let next = spawner.clone();
    spawner.spawn_detached(async move {
        if left <= 1 {
            done.set();
        } else {
            link(&next, left - 1, done);
        }
    });
}
