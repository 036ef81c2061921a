use super::context;
use super::dump::{Dump, TaskDump};
use super::metrics::Metrics;
use super::scheduler;
use super::task::{OwnedTasks, TaskMeta, TaskOptions};
use super::watch::block_on::BlockOnWatch;
use super::watch::ReportKind;
use crate::task::JoinHandle;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::Location;

/// A cloneable reference to a runtime, to spawn onto it from anywhere.
///
/// Inside a runtime, [`Handle::current`] returns the runtime's handle.
#[derive(Clone)]
pub struct Handle {
    pub(crate) inner: scheduler::Handle,
}

// As for `Runtime`.
impl std::panic::UnwindSafe for Handle {}
impl std::panic::RefUnwindSafe for Handle {}

/// Returned by [`Handle::try_current`] outside a runtime.
#[derive(Debug)]
pub struct TryCurrentError {
    thread_local_destroyed: bool,
}

impl TryCurrentError {
    /// `true` if the thread simply is not inside a runtime (no `block_on`,
    /// no task, no [`Handle::enter`] guard).
    pub fn is_missing_context(&self) -> bool {
        !self.thread_local_destroyed
    }

    /// `true` if the call came while the thread was exiting, after its
    /// runtime context (a thread-local) had been destroyed: from another
    /// thread-local's destructor, for example.
    pub fn is_thread_local_destroyed(&self) -> bool {
        self.thread_local_destroyed
    }
}

impl fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.thread_local_destroyed {
            f.write_str(
                "the runtime context of this thread was already destroyed (the thread is exiting)",
            )
        } else {
            f.write_str("this thread is not inside a vigil runtime")
        }
    }
}

impl std::error::Error for TryCurrentError {}

/// Which scheduler a runtime runs, from [`Handle::runtime_flavor`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RuntimeFlavor {
    /// All tasks on the thread inside `block_on`
    /// ([`Builder::new_current_thread`](super::Builder::new_current_thread)).
    CurrentThread,
    /// Work-stealing worker threads
    /// ([`Builder::new_multi_thread`](super::Builder::new_multi_thread)).
    MultiThread,
}

/// Keeps a runtime current on this thread; see [`Handle::enter`].
pub struct EnterGuard<'a> {
    _guard: context::SetHandleGuard,
    _p: PhantomData<&'a Handle>,
}

impl fmt::Debug for EnterGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EnterGuard")
    }
}

impl Handle {
    /// The handle of the runtime this thread is running in.
    ///
    /// # Panics
    /// Outside a runtime (use [`Handle::try_current`] to check instead).
    #[track_caller]
    pub fn current() -> Handle {
        match Handle::try_current() {
            Ok(handle) => handle,
            Err(_) => panic!(
                "vigil::runtime::Handle::current() was called outside a vigil runtime: call it \
                 from a task or inside `Runtime::block_on`, or keep the `Handle` from \
                 `Runtime::handle()` and pass it along"
            ),
        }
    }

    /// The handle of the runtime this thread is running in, if any.
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        match context::current() {
            Ok(inner) => Ok(Handle { inner }),
            Err(context::NoCurrent::Missing) => Err(TryCurrentError {
                thread_local_destroyed: false,
            }),
            Err(context::NoCurrent::Destroyed) => Err(TryCurrentError {
                thread_local_destroyed: true,
            }),
        }
    }

    /// Spawns a task on this runtime. The task starts running right away on
    /// a multi-thread runtime, and when the runtime's `block_on` runs on a
    /// current-thread one.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_named(future, TaskOptions::default())
    }

    #[track_caller]
    pub(crate) fn spawn_named<F>(&self, future: F, options: TaskOptions) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let meta = TaskMeta::new(options, std::panic::Location::caller());
        self.inner.spawn(future, meta)
    }

    /// Runs a blocking closure on this runtime's blocking pool.
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, func: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.spawn_blocking_named(func, TaskOptions::default())
    }

    #[track_caller]
    pub(crate) fn spawn_blocking_named<F, R>(&self, func: F, options: TaskOptions) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let meta = TaskMeta::new(options, std::panic::Location::caller());
        // A paused clock must not jump to the next timer while blocking work
        // runs in real time (see `driver::time::clock`).
        #[cfg(feature = "test-util")]
        let func = {
            let inhibit = self.inner.driver().time.clock.inhibit_auto_advance();
            move || {
                let _inhibit = inhibit;
                func()
            }
        };
        self.inner.blocking().spawn_blocking(func, meta)
    }

    /// Runs `future` to completion on this thread; see [`super::Runtime::block_on`].
    ///
    /// # Panics
    /// If called from a thread that is already running a vigil runtime.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        match &self.inner {
            scheduler::Handle::CurrentThread(h) => h.block_on(future),
            scheduler::Handle::MultiThread(_) => {
                let _driving = context::enter_driving();
                let _current = context::set_handle(&self.inner);
                let watch = BlockOnWatch::new(self.inner.watchdog(), Location::caller());
                super::park_thread::block_on_watched(std::pin::pin!(future), watch)
            }
        }
    }

    /// Makes this runtime current on this thread until the guard drops.
    pub fn enter(&self) -> EnterGuard<'_> {
        EnterGuard {
            _guard: context::set_handle(&self.inner),
            _p: PhantomData,
        }
    }

    /// Number of tasks alive on this runtime (spawned and not finished).
    pub fn num_alive_tasks(&self) -> usize {
        match &self.inner {
            scheduler::Handle::CurrentThread(h) => h.num_tasks(),
            scheduler::Handle::MultiThread(h) => h.num_tasks(),
        }
    }

    /// The runtime's scheduler, for code that must choose, say, between
    /// [`block_in_place`](crate::task::block_in_place) (multi-thread only)
    /// and [`spawn_blocking`](crate::task::spawn_blocking).
    ///
    /// ```
    /// use vigil::runtime::{Handle, RuntimeFlavor};
    ///
    /// #[vigil::main(flavor = "current_thread")]
    /// async fn main() {
    ///     assert_eq!(Handle::current().runtime_flavor(), RuntimeFlavor::CurrentThread);
    /// }
    /// ```
    pub fn runtime_flavor(&self) -> RuntimeFlavor {
        match &self.inner {
            scheduler::Handle::CurrentThread(_) => RuntimeFlavor::CurrentThread,
            scheduler::Handle::MultiThread(_) => RuntimeFlavor::MultiThread,
        }
    }

    /// Number of worker threads (1 for a current-thread runtime).
    pub fn num_workers(&self) -> usize {
        match &self.inner {
            scheduler::Handle::CurrentThread(_) => 1,
            scheduler::Handle::MultiThread(h) => h.num_workers(),
        }
    }

    /// Every live task: id, name, spawn location, state, polls, busy time
    /// and time since its last poll. Its `Display` is a table. Taking a dump
    /// locks each shard of the task list briefly, one after the other; the
    /// runtime keeps running meanwhile.
    ///
    /// The tasks of a live [`LocalSet`](crate::task::LocalSet) that this
    /// runtime has driven are listed too.
    pub fn dump(&self) -> Dump {
        let watchdog = self.inner.watchdog();
        let mut tasks = Vec::new();
        let mut collect = |owned: &OwnedTasks| {
            owned.for_each(|header| tasks.push(TaskDump::of(header, watchdog)));
        };
        self.inner.for_each_owned(&mut collect);
        watchdog.for_each_adopted(&mut collect);
        tasks.sort_by_key(|t| t.id());
        Dump { tasks }
    }

    /// The runtime's counters: workers, queue depths, steals, parks, polls,
    /// I/O events, timers, blocking threads and watchdog reports.
    pub fn metrics(&self) -> Metrics {
        let driver = self.inner.driver();
        let (blocking_threads, idle_blocking_threads, blocking_queue_depth) =
            self.inner.blocking().stats();
        let watchdog = self.inner.watchdog();
        Metrics {
            workers: self.inner.worker_metrics(),
            global_queue_depth: self.inner.global_queue_depth(),
            alive_tasks: self.num_alive_tasks(),
            driver_events: driver.io.events_dispatched(),
            active_timers: driver.time.active_timers(),
            blocking_threads,
            idle_blocking_threads,
            blocking_queue_depth,
            reports: [
                watchdog.report_count(ReportKind::Spinning),
                watchdog.report_count(ReportKind::BlockedPoll),
                watchdog.report_count(ReportKind::LostWaker),
            ],
        }
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}
