//! The watchdog: vigil notices the futures that quietly ruin a program, says
//! which task they are and where it was spawned, and keeps the other tasks
//! running.
//!
//! A runtime sees every poll, every wake and every waker clone of every
//! task, which is exactly what it takes to spot three bugs no compiler or
//! test catches and no other runtime reports:
//!
//! | [`ReportKind`] | what the task does | how vigil sees it |
//! |---|---|---|
//! | [`Spinning`](ReportKind::Spinning) | wakes itself and returns `Pending` without progress, forever (the 2025 TLS proxy at 100 % CPU) | a long run of polls in which the task woke itself, completed no operation on a vigil resource, was not out of budget, did not call [`yield_now`](crate::task::yield_now) and ran for less than [`Config::working_poll`] |
//! | [`BlockedPoll`](ReportKind::BlockedPoll) | blocks its thread inside `poll` (`std::thread::sleep`, blocking I/O, a long computation) | a monitor thread sees the same poll still running after a threshold, while it runs |
//! | [`LostWaker`](ReportKind::LostWaker) | returns `Pending` without keeping its waker anywhere: it will never run again | after the poll, the task's reference count shows no waker clone left |
//!
//! The watchdog is on by default with [`Policy::Warn`]: each diagnosis is
//! logged through `tracing` (target `vigil::watchdog`, level `WARN`) and
//! handed to the callback set with
//! [`Builder::on_watchdog`](crate::runtime::Builder::on_watchdog).
//! [`Policy::Throttle`] additionally slows a spinning task down to one poll
//! per millisecond (until it makes progress again), and [`Policy::Abort`]
//! cancels the task, whose [`JoinHandle`](crate::task::JoinHandle) then
//! returns a [`JoinError`](crate::task::JoinError) carrying the
//! [`Report`]. A policy can be set per task with
//! [`task::Builder::watchdog`](crate::task::Builder::watchdog).
//!
//! On the multi-thread runtime a blocked worker's work is taken over: its
//! run queue by another worker, which also takes over the timers and I/O,
//! and the tasks only that worker could reach (its LIFO slot, the task the
//! blocked task woke last, and the tasks that yielded on it) by the monitor,
//! which moves them to the global queue through an asymmetric barrier
//! (`membarrier(2)`), so the worker's own path pays no atomic operation for
//! it. The rest of the program keeps its latency while one poll misbehaves;
//! if every worker is blocked, a temporary replacement worker does the
//! work.
//!
//! Before any poll counts as blocked, the monitor also keeps timers and I/O
//! attended: when the worker that sat in the driver leaves it for a long
//! poll while the others sleep, nobody waits for events until a worker
//! parks again (Tokio has the same gap). At each sample the monitor checks
//! whether the driver has turned since the last one; if it has not and
//! nobody waits in it, a sleeping worker is woken to take it over. Timers
//! then fire within about two samples (a quarter of
//! [`Config::blocked_poll_threshold`] each, at most 50 ms) instead of after
//! the long poll.
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use vigil::watchdog::{Config, Policy, ReportKind};
//!
//! let reports = Arc::new(Mutex::new(Vec::new()));
//! let seen = reports.clone();
//! let rt = vigil::runtime::Builder::new_current_thread()
//!     .watchdog(Config::new().policy(Policy::Abort))
//!     .on_watchdog(move |report| seen.lock().unwrap().push(report.kind()))
//!     .build()
//!     .unwrap();
//! let err = rt.block_on(async {
//!     // A future that returns `Pending` and drops its waker: nothing can
//!     // ever wake it again.
//!     vigil::spawn(std::future::poll_fn(|_cx| std::task::Poll::<()>::Pending))
//!         .await
//!         .unwrap_err()
//! });
//! assert_eq!(err.watchdog_report().unwrap().kind(), ReportKind::LostWaker);
//! assert_eq!(*reports.lock().unwrap(), [ReportKind::LostWaker]);
//! ```
//!
//! # What it costs
//!
//! Nothing on the path of a healthy poll takes a lock or makes a system
//! call: a poll writes a few counters of its own task and of its thread's
//! monitor slot with plain stores, and reads the clock for one poll in 64
//! (and for every poll of a task whose last poll already looked spurious).
//! The lost-waker test reuses the read of the task's state word that ending
//! the poll makes anyway. On the multi-thread runtime a wake also sets and
//! clears a flag of its worker, so that the monitor can take over the LIFO
//! slot of a blocked worker (the monitor pays with a `membarrier(2)` call).
//! The monitor thread sleeps while the runtime is idle. `BENCHMARKS.md`
//! records every benchmark with the watchdog on and off.
//!
//! # What it cannot see
//!
//! Progress the runtime cannot observe, in short polls: a task that wakes
//! itself while working through a resource that is not vigil's (another
//! crate's channel, a computation that yields by waking itself instead of
//! calling [`yield_now`](crate::task::yield_now)) is told apart from a spin
//! only by how long its polls run. A self-woken poll of at least
//! [`Config::working_poll`] (20 µs) counts as work; one that yields more
//! often than that looks like a spin if it keeps doing so for
//! [`Config::spin_duration`]. Give such a task [`Policy::Ignore`], or yield
//! with `vigil::task::yield_now`. A future
//! that keeps its own waker inside itself (a waker cycle) is not detected
//! as lost.
//!
//! What it cannot rescue: a blocked *replacement* worker's LIFO slot and
//! yielded tasks (they run when its poll returns), and, where the kernel
//! offers no `membarrier(2)` expedited barrier, any blocked worker's.
//!
//! A thread that the OS does not run for longer than the threshold (an
//! oversubscribed machine) looks exactly like a blocked poll.

pub use crate::runtime::watch::{Config, Policy, Report, ReportKind};
