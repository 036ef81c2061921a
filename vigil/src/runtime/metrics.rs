//! [`Handle::metrics`](super::Handle::metrics): counters of a runtime, read
//! without stopping it.
//!
//! Every counter is kept by the thread that does the counted thing, with
//! plain stores, and read here with relaxed loads: each number is exact for
//! itself, the set of them is not one consistent instant.

use super::watch::ReportKind;
use std::fmt;
use std::time::Duration;

/// A snapshot of a runtime's counters.
///
/// ```
/// let rt = vigil::runtime::Builder::new_multi_thread()
///     .worker_threads(2)
///     .build()
///     .unwrap();
/// rt.block_on(async {
///     vigil::spawn(async {}).await.unwrap();
/// });
/// let m = rt.handle().metrics();
/// assert_eq!(m.num_workers(), 2);
/// assert!(m.total_polls() >= 1);
/// println!("{m}");
/// ```
#[derive(Clone, Debug)]
pub struct Metrics {
    pub(crate) workers: Vec<WorkerMetrics>,
    pub(crate) global_queue_depth: usize,
    pub(crate) alive_tasks: usize,
    pub(crate) driver_events: u64,
    pub(crate) active_timers: usize,
    pub(crate) blocking_threads: usize,
    pub(crate) idle_blocking_threads: usize,
    pub(crate) blocking_queue_depth: usize,
    pub(crate) reports: [u64; 3],
}

/// Counters of one worker thread (the thread inside `block_on` for a
/// current-thread runtime).
#[derive(Clone, Debug, Default)]
pub struct WorkerMetrics {
    pub(crate) polls: u64,
    pub(crate) parks: u64,
    pub(crate) unparks: u64,
    pub(crate) busy: Duration,
    pub(crate) steals: u64,
    pub(crate) overflows: u64,
    pub(crate) local_queue_depth: usize,
}

impl WorkerMetrics {
    /// Task polls run by this worker.
    pub fn polls(&self) -> u64 {
        self.polls
    }

    /// Times the worker ran out of work and went to sleep.
    pub fn parks(&self) -> u64 {
        self.parks
    }

    /// Times the worker woke from sleeping (one less than
    /// [`parks`](Self::parks) while it sleeps).
    pub fn unparks(&self) -> u64 {
        self.unparks
    }

    /// Time the worker spent awake (running tasks, looking for work,
    /// polling the driver without waiting), up to its last park.
    pub fn busy_duration(&self) -> Duration {
        self.busy
    }

    /// Successful steals from other workers' queues.
    pub fn steals(&self) -> u64 {
        self.steals
    }

    /// Times the worker's local run queue was full and moved half of its
    /// tasks to the global queue (always 0 on a current-thread runtime,
    /// whose queue grows instead). A burst of spawns or of ready sockets
    /// larger than the queue (256 tasks) causes one; frequent overflows
    /// mean tasks wait in the global queue, which workers check less often.
    pub fn overflows(&self) -> u64 {
        self.overflows
    }

    /// Tasks in the worker's local run queue (for a current-thread runtime,
    /// as of its last driver turn).
    pub fn local_queue_depth(&self) -> usize {
        self.local_queue_depth
    }
}

impl Metrics {
    /// Number of worker threads (1 for a current-thread runtime).
    pub fn num_workers(&self) -> usize {
        self.workers.len()
    }

    /// Per-worker counters, by worker index.
    pub fn workers(&self) -> &[WorkerMetrics] {
        &self.workers
    }

    /// Task polls on all workers.
    pub fn total_polls(&self) -> u64 {
        self.workers.iter().map(|w| w.polls).sum()
    }

    /// Steals on all workers.
    pub fn total_steals(&self) -> u64 {
        self.workers.iter().map(|w| w.steals).sum()
    }

    /// Parks on all workers.
    pub fn total_parks(&self) -> u64 {
        self.workers.iter().map(|w| w.parks).sum()
    }

    /// Times worker `worker` went to sleep (Tokio's name for
    /// [`WorkerMetrics::parks`]).
    ///
    /// # Panics
    /// If `worker` is not below [`num_workers`](Self::num_workers).
    #[track_caller]
    pub fn worker_park_count(&self, worker: usize) -> u64 {
        self.workers[worker].parks
    }

    /// Parks plus unparks of worker `worker`, as Tokio counts them: an odd
    /// number means the worker is asleep.
    ///
    /// # Panics
    /// If `worker` is not below [`num_workers`](Self::num_workers).
    #[track_caller]
    pub fn worker_park_unpark_count(&self, worker: usize) -> u64 {
        self.workers[worker].parks + self.workers[worker].unparks
    }

    /// Time worker `worker` spent awake, up to its last park (Tokio's name
    /// for [`WorkerMetrics::busy_duration`]).
    ///
    /// # Panics
    /// If `worker` is not below [`num_workers`](Self::num_workers).
    #[track_caller]
    pub fn worker_total_busy_duration(&self, worker: usize) -> Duration {
        self.workers[worker].busy
    }

    /// Tasks in the global (injection) queue: woken or spawned from outside
    /// the workers.
    pub fn global_queue_depth(&self) -> usize {
        self.global_queue_depth
    }

    /// Tasks spawned and not yet completed.
    pub fn num_alive_tasks(&self) -> usize {
        self.alive_tasks
    }

    /// I/O readiness events the reactor has dispatched.
    pub fn driver_events(&self) -> u64 {
        self.driver_events
    }

    /// Timers waiting for their deadline.
    pub fn active_timers(&self) -> usize {
        self.active_timers
    }

    /// Threads of the blocking pool (busy and idle).
    pub fn blocking_threads(&self) -> usize {
        self.blocking_threads
    }

    /// Idle threads of the blocking pool.
    pub fn idle_blocking_threads(&self) -> usize {
        self.idle_blocking_threads
    }

    /// Blocking closures waiting for a thread.
    pub fn blocking_queue_depth(&self) -> usize {
        self.blocking_queue_depth
    }

    /// Watchdog reports of one kind so far.
    pub fn watchdog_reports(&self, kind: ReportKind) -> u64 {
        self.reports[kind.index()]
    }
}

impl fmt::Display for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "tasks alive {}, global queue {}, driver events {}, timers {}, blocking threads {} \
             ({} idle, {} queued)",
            self.alive_tasks,
            self.global_queue_depth,
            self.driver_events,
            self.active_timers,
            self.blocking_threads,
            self.idle_blocking_threads,
            self.blocking_queue_depth,
        )?;
        writeln!(
            f,
            "watchdog reports: spinning {}, blocked poll {}, lost waker {}",
            self.reports[0], self.reports[1], self.reports[2]
        )?;
        writeln!(
            f,
            "{:>6} {:>12} {:>10} {:>10} {:>10} {:>7} {:>12}",
            "worker", "polls", "parks", "steals", "overflows", "queue", "busy ms"
        )?;
        for (i, w) in self.workers.iter().enumerate() {
            writeln!(
                f,
                "{i:>6} {:>12} {:>10} {:>10} {:>10} {:>7} {:>12.1}",
                w.polls,
                w.parks,
                w.steals,
                w.overflows,
                w.local_queue_depth,
                w.busy.as_secs_f64() * 1e3
            )?;
        }
        Ok(())
    }
}
