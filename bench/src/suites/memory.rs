//! `memory`: resident memory per idle task.
//!
//! A connection-per-task server keeps one mostly idle task per connection,
//! so the fixed memory cost of a task (header, scheduler links, the stored
//! future, the allocation's rounding) bounds how many it can hold.
//! 1 000 000 tasks (100 000 in `--quick` mode) are spawned detached; each
//! counts itself on its first poll and then awaits
//! `std::future::pending()` forever. Once every task has been polled, the
//! growth of the process's RSS (`/proc/self/statm`) since just before the
//! spawns, divided by the number of tasks, is the `per_task` case.
//!
//! RSS is a property of the whole process, and the allocator keeps freed
//! memory, so each measurement runs in a fresh process (the harness
//! re-executes itself) and the runtime is leaked rather than dropped.

use crate::measure::{rss_bytes, Sample, Unit};
use crate::runtimes::{Runtime, Spawner};
use crate::suites::Params;
use crate::sync::Signal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// One measurement; call once per process.
pub fn measure<R: Runtime>(p: &Params) -> Vec<Sample> {
    let n = p.size(1_000_000, 100_000);
    let rt = R::build(p.workers);
    // Let the runtime allocate whatever it allocates lazily (queues, thread
    // locals, timer state) before the baseline is taken.
    rt.run_in_task(|spawner| async move {
        for _ in 0..1_000 {
            spawner.spawn(async {}).await;
        }
    });

    let before = rss_bytes();
    let polled = Arc::new(AtomicUsize::new(0));
    let all_polled = Signal::new();
    rt.run_in_task(move |spawner| async move {
        for _ in 0..n {
            let polled = polled.clone();
            let all_polled = all_polled.clone();
            spawner.spawn_detached(async move {
                if polled.fetch_add(1, Ordering::AcqRel) + 1 == n {
                    all_polled.set();
                }
                drop((polled, all_polled));
                std::future::pending::<()>().await;
            });
        }
        all_polled.wait().await;
    });
    let after = rss_bytes();

    // Dropping a runtime with a million tasks is not what is measured, and
    // the process exits right after this: skip it.
    std::mem::forget(rt);
    vec![Sample {
        case: "per_task",
        unit: Unit::Bytes,
        value: after.saturating_sub(before) as f64 / n as f64,
    }]
}
