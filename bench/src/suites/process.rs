//! `process`: spawning a child and awaiting its exit, with each runtime's
//! own process API.
//!
//! vigil's `vigil::process` (the exit awaited through a pidfd registered
//! with the reactor) against `tokio::process` and smol's `async-process`.
//! The child is `true`, so the time is almost all process creation and
//! exit notification: `fork`/`exec` (the same `std::process::Command::spawn`
//! in all three), plus what each runtime adds to learn of the exit and
//! reap. [`ProcessKit`] maps the one operation onto each API. Each
//! (runtime, run) is a fresh process.
//!
//! Cases (sizes in `--quick` mode in brackets):
//! - `spawn_wait_seq`: 200 (20) spawn-then-wait of `true`, one after
//!   another, in one task. Spawns/s.
//! - `spawn_wait_16`: 16 tasks, each 12 (2) spawn-then-wait of `true`, so
//!   up to 16 children at a time. Spawns/s.

use crate::measure::{Sample, Unit};
use crate::runtimes::{Runtime, SmolLocal, SmolMt, Spawner, TokioCt, TokioMt, VigilCt, VigilMt};
use crate::suites::Params;
use std::future::Future;
use std::time::Instant;

/// Tasks of `spawn_wait_16`.
const CONCURRENT: usize = 16;

/// A runtime's own child-process API.
pub trait ProcessKit: Runtime {
    /// Spawns `true` and waits for it; panics unless it succeeded.
    fn run_true() -> impl Future<Output = ()> + Send;
}

macro_rules! process_kit {
    ($command:path: $($rt:ty),+) => {$(
        impl ProcessKit for $rt {
            async fn run_true() {
                let status = <$command>::new("true").status().await.expect("spawn true");
                assert!(status.success());
            }
        }
    )+};
}

process_kit!(vigil::process::Command: VigilMt, VigilCt);
process_kit!(tokio::process::Command: TokioMt, TokioCt);
process_kit!(async_process::Command: SmolMt, SmolLocal);

/// One iteration: both cases.
pub fn iteration<R: ProcessKit>(rt: &R, p: &Params) -> Vec<Sample> {
    vec![sequential(rt, p), concurrent(rt, p)]
}

fn rate(case: &'static str, count: usize, start: Instant) -> Sample {
    Sample::new(
        case,
        Unit::PerSec,
        count as f64 / start.elapsed().as_secs_f64(),
    )
}

fn sequential<R: ProcessKit>(rt: &R, p: &Params) -> Sample {
    let n = p.size(200, 20);
    let start = Instant::now();
    rt.run_in_task(move |_| async move {
        for _ in 0..n {
            R::run_true().await;
        }
    });
    rate("spawn_wait_seq", n, start)
}

fn concurrent<R: ProcessKit>(rt: &R, p: &Params) -> Sample {
    let each = p.size(12, 2);
    let start = Instant::now();
    rt.run_in_task(move |spawner| async move {
        let joins: Vec<_> = (0..CONCURRENT)
            .map(|_| {
                spawner.spawn(async move {
                    for _ in 0..each {
                        R::run_true().await;
                    }
                })
            })
            .collect();
        for j in joins {
            j.await;
        }
    });
    rate("spawn_wait_16", CONCURRENT * each, start)
}
