//! The watchdog: the runtime watching its own tasks for the three ways a
//! future can quietly ruin a program.
//!
//! * **Spinning** ([`task_watch`]): a task that wakes itself and returns
//!   `Pending` without progress is rescheduled forever. Only the runtime can
//!   see it: it knows who woke the task and whether the poll did anything.
//! * **Blocked polls** ([`monitor`]): a poll that does not return blocks a
//!   worker thread and everything queued behind it. A monitor thread
//!   watches a per-worker poll counter and reports a poll that has not ended
//!   after the threshold, while it is still going on; on the multi-thread
//!   runtime it wakes an idle worker to take over the blocked worker's queue
//!   and the driver.
//! * **Lost wakers** ([`task_watch`]): a task that returns `Pending` while no
//!   clone of its waker exists can never run again; the reference count
//!   tells.
//!
//! What happens then is a [`Policy`]: report it, throttle the task
//! ([`throttle`]), or cancel it. Reports go to `tracing` (target
//! `vigil::watchdog`, level WARN) and to the
//! [`on_watchdog`](crate::runtime::Builder::on_watchdog) callback.
//!
//! Nothing here takes a lock or makes a system call on the path of a
//! healthy poll; see [`task_watch`] for the few stores each poll costs.
//!
//! # Tasks of other schedulers
//!
//! A [`LocalSet`](crate::task::LocalSet) runs its tasks inside the poll of
//! whatever drives it, with a scheduler of its own. Its tasks are watched
//! by the watchdog of the runtime that first drives the set, one by one
//! like the runtime's own (each report names the local task, not the task
//! that drives the set). The set *adopts* that watchdog: it is listed here
//! (weakly) so that [`Handle::dump`](crate::runtime::Handle::dump) shows its
//! tasks too.
//!
//! The future passed to `block_on` is not a task either; [`block_on`]
//! explains what is watched of it.

pub(crate) mod block_on;
mod config;
pub(crate) mod monitor;
mod report;
pub(crate) mod task_watch;
mod throttle;

pub use config::{Config, Policy};
pub use report::{Report, ReportKind};

use crate::driver;
use crate::runtime::task::{Id, OwnedTasks};
use std::collections::HashMap;
use std::fmt;
use std::panic::{self, AssertUnwindSafe, Location};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, Weak};
use std::time::Instant;

/// The user's report callback.
pub(crate) type Callback = Arc<dyn Fn(&Report) + Send + Sync + 'static>;

/// A scheduler other than the runtime's whose tasks a runtime's watchdog
/// watches (a `LocalSet`): its task list, for the dump.
pub(crate) trait AdoptedTasks: Send + Sync {
    /// Calls `f` with each list of the scheduler's live tasks.
    fn for_each_owned(&self, f: &mut dyn FnMut(&OwnedTasks));
}

/// The watchdog state of one runtime, shared by its scheduler and monitor.
pub(crate) struct Watchdog {
    /// The per-poll switches of `config`, packed into one byte read on every
    /// poll (see `task_watch::checks`).
    pub(crate) checks: u8,
    pub(crate) config: Config,
    callback: Option<Callback>,
    /// Reports so far, by [`ReportKind::index`].
    reports: [AtomicU64; 3],
    epoch: Instant,
    /// Milliseconds since `epoch`, refreshed at every driver turn: a clock
    /// that costs one load to read.
    coarse_ms: AtomicU32,
    pub(crate) throttle: throttle::Throttle,
    /// Reports for tasks the monitor asked to cancel; the cancelled task's
    /// join handle takes its report from here.
    aborts: Mutex<HashMap<Id, Report>>,
    /// Schedulers whose tasks this watchdog watches too (live `LocalSet`s
    /// this runtime drove); dead entries are pruned on every adoption.
    adopted: Mutex<Vec<Weak<dyn AdoptedTasks>>>,
}

impl Watchdog {
    pub(crate) fn new(
        config: Config,
        callback: Option<Callback>,
        driver: Arc<driver::Handle>,
    ) -> Watchdog {
        Watchdog::build(config, callback, Some(driver))
    }

    /// A watchdog with no throttle timer (tasks it would throttle are
    /// rescheduled at once), for schedulers without a driver (loom models).
    #[cfg(all(test, loom))]
    pub(crate) fn detached(config: Config, callback: Option<Callback>) -> Watchdog {
        Watchdog::build(config, callback, None)
    }

    /// A watchdog that watches nothing, for tasks outside any runtime
    /// scheduler (blocking closures, tests).
    pub(crate) fn off() -> &'static Watchdog {
        static OFF: std::sync::OnceLock<Watchdog> = std::sync::OnceLock::new();
        OFF.get_or_init(|| Watchdog::build(Config::disabled(), None, None))
    }

    fn build(
        config: Config,
        callback: Option<Callback>,
        driver: Option<Arc<driver::Handle>>,
    ) -> Watchdog {
        Watchdog {
            checks: task_watch::checks::of(&config),
            config,
            callback,
            reports: [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)],
            epoch: Instant::now(),
            coarse_ms: AtomicU32::new(0),
            throttle: throttle::Throttle::new(driver),
            aborts: Mutex::new(HashMap::new()),
            adopted: Mutex::new(Vec::new()),
        }
    }

    /// Milliseconds since the watchdog started (wraps after 49 days; every
    /// use subtracts with wrapping).
    pub(crate) fn now_ms(&self) -> u32 {
        self.epoch.elapsed().as_millis() as u32
    }

    /// The clock as of the last driver turn.
    #[inline]
    pub(crate) fn coarse_now_ms(&self) -> u32 {
        self.coarse_ms.load(Relaxed)
    }

    /// Called by schedulers after each driver turn.
    pub(crate) fn refresh_clock(&self) {
        self.coarse_ms.store(self.now_ms(), Relaxed);
    }

    /// Reports so far of one kind.
    pub(crate) fn report_count(&self, kind: ReportKind) -> u64 {
        self.reports[kind.index()].load(Relaxed)
    }

    /// Counts, logs and hands a report to the callback. A panicking
    /// callback is contained (the report is still counted and logged).
    #[cold]
    pub(crate) fn emit(&self, report: &Report) {
        self.reports[report.kind.index()].fetch_add(1, Relaxed);
        tracing::warn!(
            target: "vigil::watchdog",
            kind = %report.kind,
            task.id = report.task_id.as_u64(),
            task.name = report.task_name.as_deref().unwrap_or(""),
            location = %report.location,
            "{report}"
        );
        if let Some(callback) = &self.callback {
            let _ = panic::catch_unwind(AssertUnwindSafe(|| callback(report)));
        }
    }

    /// The report of `kind` about the future of the `block_on` called at
    /// `site` (standing for it: `id`), unless the runtime's policy is
    /// `Ignore`.
    pub(crate) fn block_on_report(
        &self,
        id: Id,
        site: &'static Location<'static>,
        kind: ReportKind,
    ) -> Option<Report> {
        let policy = self.config.policy;
        if policy == Policy::Ignore {
            return None;
        }
        let mut report = Report::new(kind, id, None, site, policy);
        report.block_on = true;
        Some(report)
    }

    /// Keeps `report` for the join handle of a task the watchdog cancels
    /// from outside its poll.
    pub(crate) fn stash_abort(&self, report: Report) {
        self.aborts.lock().unwrap().insert(report.task_id, report);
    }

    /// The report kept by [`stash_abort`](Self::stash_abort), if any.
    pub(crate) fn take_abort(&self, id: Id) -> Option<Report> {
        self.aborts.lock().unwrap().remove(&id)
    }

    /// Starts watching the tasks of another scheduler (see the module docs).
    pub(crate) fn adopt(&self, tasks: Weak<dyn AdoptedTasks>) {
        let mut adopted = self.adopted.lock().unwrap();
        adopted.retain(|t| t.strong_count() > 0);
        adopted.push(tasks);
    }

    /// Calls `f` with each task list of the adopted schedulers still alive.
    pub(crate) fn for_each_adopted(&self, f: &mut dyn FnMut(&OwnedTasks)) {
        // Upgraded under the lock, walked after it: a set dropped meanwhile
        // is dropped by our reference, outside the lock.
        let live: Vec<_> = {
            let adopted = self.adopted.lock().unwrap();
            adopted.iter().filter_map(Weak::upgrade).collect()
        };
        for tasks in &live {
            tasks.for_each_owned(f);
        }
    }

    /// Runtime shutdown: releases throttled tasks.
    pub(crate) fn shutdown(&self) {
        self.throttle.shutdown();
        self.aborts.lock().unwrap().clear();
    }
}

impl fmt::Debug for Watchdog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Watchdog")
            .field("config", &self.config)
            .field("spinning", &self.report_count(ReportKind::Spinning))
            .field("blocked_polls", &self.report_count(ReportKind::BlockedPoll))
            .field("lost_wakers", &self.report_count(ReportKind::LostWaker))
            .finish_non_exhaustive()
    }
}
