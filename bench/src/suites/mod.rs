//! The benchmark suites, one module each, and the code that runs one suite
//! on one runtime.
//!
//! Every suite exposes `iteration::<R>(&rt, &params)`, which performs the
//! suite's work once on an already built runtime and returns one
//! [`Sample`] per case. [`run`] builds the runtime, does one unrecorded
//! warm-up iteration (skipped in `--quick` mode) and then `runs` recorded
//! ones (the harness asks for one per process). The exception is
//! [`memory`], which measures the process's RSS and therefore does exactly
//! one measurement per (fresh) process whatever `runs` says, and so does
//! [`idle`].
//!
//! The I/O suites ([`echo`], [`bulk`], [`churn`], [`idle`], [`http`]) run for
//! a fixed duration or volume and get no warm-up iteration: each process
//! measures once, cold (connections are established before the clock
//! starts). [`http`] runs only on vigil and Tokio, and [`bulk`] also on the
//! `std-blocking` pseudo-runtime, as does [`fs`] (see [`applies`]). [`fs`]
//! and [`process`] get no warm-up iteration either.

pub mod bulk;
pub mod chained_spawn;
pub mod churn;
pub mod echo;
pub mod fs;
pub mod http;
pub mod idle;
pub mod memory;
pub mod ping_pong;
pub mod process;
pub mod spawn_many;
pub mod sync_primitives;
pub mod timers;
pub mod yield_many;

use crate::measure::Sample;
use crate::runtimes::{Runtime, SmolLocal, SmolMt, TokioCt, TokioMt, VigilCt, VigilMt, LIMIT};
use std::io;

/// Every suite, in the order they run and are printed.
pub const ALL: [&str; 14] = [
    "spawn_many",
    "ping_pong",
    "yield_many",
    "chained_spawn",
    "timers",
    "sync",
    "memory",
    "echo",
    "bulk",
    "churn",
    "idle",
    "http",
    "fs",
    "process",
];

/// Whether `suite` runs on `runtime` (`std-blocking` only in `bulk` and `fs`, no
/// smol in `http`).
pub fn applies(suite: &str, runtime: &str) -> bool {
    let runtime = runtime.strip_suffix("-nowd").unwrap_or(runtime);
    match suite {
        "bulk" | "fs" => true,
        "http" => matches!(runtime, "vigil-mt" | "vigil-ct" | "tokio-mt" | "tokio-ct"),
        _ => runtime != LIMIT,
    }
}

/// Reads exactly `buf.len()` bytes from `s` with the runtime's `read`.
pub async fn read_exact<R: Runtime>(s: &mut R::Stream, buf: &mut [u8]) -> io::Result<()> {
    let mut got = 0;
    while got < buf.len() {
        match R::read(s, &mut buf[got..]).await? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => got += n,
        }
    }
    Ok(())
}

/// Settings shared by all suites.
#[derive(Clone, Debug)]
pub struct Params {
    /// Recorded iterations per (suite, runtime).
    pub runs: usize,
    /// Worker threads of every multi-thread runtime.
    pub workers: usize,
    /// Smoke mode: workloads about ten times smaller, no warm-up.
    pub quick: bool,
}

impl Params {
    /// `full` normally, `quick` in `--quick` mode.
    pub fn size(&self, full: usize, quick: usize) -> usize {
        if self.quick {
            quick
        } else {
            full
        }
    }
}

/// Runs `suite` on the runtime called `runtime`, in this process. `None` if
/// either name is unknown.
pub fn run_named(suite: &str, runtime: &str, p: &Params) -> Option<Vec<Sample>> {
    fn named<R: Runtime>(runtime: &str, suite: &str, p: &Params) -> Option<Vec<Sample>> {
        if runtime == R::NAME {
            run::<R>(suite, p)
        } else {
            None
        }
    }
    let runtime = crate::runtimes::select_variant(runtime);
    if !applies(suite, runtime) {
        return None;
    }
    if runtime == LIMIT {
        return Some(if suite == "fs" {
            fs::blocking(p)
        } else {
            bulk::blocking(p)
        });
    }
    if suite == "http" {
        fn http<R: http::HyperServer>(p: &Params) -> Vec<Sample> {
            let rt = R::build(p.workers);
            (0..p.runs).flat_map(|_| http::iteration(&rt, p)).collect()
        }
        return match runtime {
            "vigil-mt" => Some(http::<VigilMt>(p)),
            "vigil-ct" => Some(http::<VigilCt>(p)),
            "tokio-mt" => Some(http::<TokioMt>(p)),
            "tokio-ct" => Some(http::<TokioCt>(p)),
            _ => None,
        };
    }
    if suite == "fs" {
        fn files<R: fs::FsKit>(p: &Params) -> Vec<Sample> {
            let rt = R::build(p.workers);
            (0..p.runs).flat_map(|_| fs::iteration(&rt, p)).collect()
        }
        return match runtime {
            "vigil-mt" => Some(files::<VigilMt>(p)),
            "vigil-ct" => Some(files::<VigilCt>(p)),
            "tokio-mt" => Some(files::<TokioMt>(p)),
            "tokio-ct" => Some(files::<TokioCt>(p)),
            "smol-mt" => Some(files::<SmolMt>(p)),
            "smol-local" => Some(files::<SmolLocal>(p)),
            _ => None,
        };
    }
    if suite == "process" {
        fn processes<R: process::ProcessKit>(p: &Params) -> Vec<Sample> {
            let rt = R::build(p.workers);
            (0..p.runs)
                .flat_map(|_| process::iteration(&rt, p))
                .collect()
        }
        return match runtime {
            "vigil-mt" => Some(processes::<VigilMt>(p)),
            "vigil-ct" => Some(processes::<VigilCt>(p)),
            "tokio-mt" => Some(processes::<TokioMt>(p)),
            "tokio-ct" => Some(processes::<TokioCt>(p)),
            "smol-mt" => Some(processes::<SmolMt>(p)),
            "smol-local" => Some(processes::<SmolLocal>(p)),
            _ => None,
        };
    }
    if suite == "sync" {
        fn sync<R: sync_primitives::SyncKit>(p: &Params) -> Vec<Sample> {
            let rt = R::build(p.workers);
            if !p.quick {
                sync_primitives::iteration(&rt, p);
            }
            (0..p.runs)
                .flat_map(|_| sync_primitives::iteration(&rt, p))
                .collect()
        }
        return match runtime {
            "vigil-mt" => Some(sync::<VigilMt>(p)),
            "vigil-ct" => Some(sync::<VigilCt>(p)),
            "tokio-mt" => Some(sync::<TokioMt>(p)),
            "tokio-ct" => Some(sync::<TokioCt>(p)),
            "smol-mt" => Some(sync::<SmolMt>(p)),
            "smol-local" => Some(sync::<SmolLocal>(p)),
            _ => None,
        };
    }
    named::<VigilMt>(runtime, suite, p)
        .or_else(|| named::<VigilCt>(runtime, suite, p))
        .or_else(|| named::<TokioMt>(runtime, suite, p))
        .or_else(|| named::<TokioCt>(runtime, suite, p))
        .or_else(|| named::<SmolMt>(runtime, suite, p))
        .or_else(|| named::<SmolLocal>(runtime, suite, p))
}

/// Runs `suite` on runtime `R`: builds it, warms up, and returns the
/// samples of every recorded iteration.
pub fn run<R: Runtime>(suite: &str, p: &Params) -> Option<Vec<Sample>> {
    match suite {
        "memory" => return Some(memory::measure::<R>(p)),
        "idle" => return Some(idle::measure::<R>(p)),
        _ => {}
    }
    let iteration: fn(&R, &Params) -> Vec<Sample> = match suite {
        "spawn_many" => spawn_many::iteration::<R>,
        "ping_pong" => ping_pong::iteration::<R>,
        "yield_many" => yield_many::iteration::<R>,
        "chained_spawn" => chained_spawn::iteration::<R>,
        "timers" => timers::iteration::<R>,
        "echo" => echo::iteration::<R>,
        "bulk" => bulk::iteration::<R>,
        "churn" => churn::iteration::<R>,
        _ => return None,
    };
    let io_suite = matches!(suite, "echo" | "bulk" | "churn");
    let rt = R::build(p.workers);
    if !p.quick && !io_suite {
        iteration(&rt, p);
    }
    let mut samples = Vec::new();
    for _ in 0..p.runs {
        samples.extend(iteration(&rt, p));
    }
    Some(samples)
}
