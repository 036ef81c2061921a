//! The runtime: schedulers, worker threads, the blocking pool, and the
//! handles that reach them.
//!
//! A [`Runtime`] is built by a [`Builder`] in one of two flavours: the
//! current-thread runtime runs every task on the thread that calls
//! [`Runtime::block_on`]; the multi-thread runtime runs them on a pool of
//! work-stealing worker threads. Both sleep in the driver (timers now, I/O
//! later) when idle, so an idle runtime uses no CPU.
//!
//! ```
//! use vigil::runtime::Runtime;
//!
//! let rt = Runtime::new().unwrap();
//! let answer = rt.block_on(async {
//!     let task = vigil::spawn(async { 6 * 7 });
//!     task.await.unwrap()
//! });
//! assert_eq!(answer, 42);
//! ```

pub(crate) mod blocking;
mod builder;
pub(crate) mod config;
pub(crate) mod context;
pub(crate) mod coop;
mod dump;
mod handle;
pub(crate) mod hooks;
mod id;
mod metrics;
pub(crate) mod park_thread;
pub(crate) mod scheduler;
pub(crate) mod task;
pub(crate) mod watch;

pub use builder::Builder;
pub use dump::{Dump, TaskDump, TaskState};
pub use handle::{EnterGuard, Handle, RuntimeFlavor, TryCurrentError};
pub use id::Id;
pub use metrics::{Metrics, WorkerMetrics};

use blocking::BlockingPool;
use std::fmt;
use std::future::Future;
use std::time::Duration;

/// The task scheduler, timer driver and blocking pool of one runtime.
///
/// Dropping it shuts it down: every task that has not finished is
/// cancelled (its future dropped exactly once, on a runtime thread), the
/// worker threads are joined, and running blocking closures are waited for.
pub struct Runtime {
    handle: Handle,
    kind: RuntimeKind,
    blocking_pool: BlockingPool,
    is_shut_down: bool,
}

// A panic inside `block_on` or a task leaves the runtime usable (tasks'
// panics are caught; `block_on` returns its core and ends its poll on the
// way out), so a runtime may be used across `catch_unwind`, as Tokio's.
impl std::panic::UnwindSafe for Runtime {}
impl std::panic::RefUnwindSafe for Runtime {}

pub(crate) enum RuntimeKind {
    CurrentThread,
    MultiThread(Vec<std::thread::JoinHandle<()>>),
}

impl Runtime {
    /// A multi-thread runtime with default settings.
    pub fn new() -> std::io::Result<Runtime> {
        Builder::new_multi_thread().build()
    }

    pub(crate) fn from_parts(
        handle: Handle,
        kind: RuntimeKind,
        blocking_pool: BlockingPool,
    ) -> Runtime {
        Runtime {
            handle,
            kind,
            blocking_pool,
            is_shut_down: false,
        }
    }

    /// Runs `future` to completion on the current thread and returns its
    /// output. On a current-thread runtime, the runtime's tasks run on this
    /// thread while it waits.
    ///
    /// The watchdog watches `future` as it does a task, reporting it with
    /// this call's location ([`Report::is_block_on`](crate::watchdog::Report::is_block_on)):
    /// a poll of it that blocks a current-thread runtime's thread, a
    /// `Pending` after which no clone of its waker is left (the call could
    /// never return), and spinning (waking itself and returning `Pending`
    /// without progress, poll after poll).
    ///
    /// # Panics
    /// If called from a thread that is already running a vigil runtime
    /// (inside a task or another `block_on`): that would block the runtime.
    /// Use `.await` there instead.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.handle.block_on(future)
    }

    /// Spawns a task on this runtime; see [`crate::spawn`].
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> crate::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// Runs a blocking closure on this runtime's blocking pool.
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, func: F) -> crate::task::JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.handle.spawn_blocking(func)
    }

    /// A handle to this runtime, usable from any thread.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// A snapshot of the runtime's counters: [`Handle::metrics`] of its
    /// handle.
    pub fn metrics(&self) -> Metrics {
        self.handle.metrics()
    }

    /// Makes this runtime the current one for this thread until the guard is
    /// dropped, so `vigil::spawn` and timers work outside `block_on`.
    pub fn enter(&self) -> EnterGuard<'_> {
        self.handle.enter()
    }

    /// Shuts down, waiting at most `timeout` for worker and blocking threads
    /// to finish what they are running. Threads still busy after that are
    /// detached.
    pub fn shutdown_timeout(mut self, timeout: Duration) {
        self.shutdown(Some(timeout));
    }

    /// Shuts down without waiting for blocking threads.
    pub fn shutdown_background(self) {
        self.shutdown_timeout(Duration::ZERO);
    }

    fn shutdown(&mut self, timeout: Option<Duration>) {
        if std::mem::replace(&mut self.is_shut_down, true) {
            return;
        }
        let deadline = timeout.map(|t| std::time::Instant::now() + t);
        match (&self.handle.inner, &mut self.kind) {
            (scheduler::Handle::CurrentThread(h), _) => h.shutdown(),
            (scheduler::Handle::MultiThread(h), RuntimeKind::MultiThread(threads)) => {
                h.shutdown();
                join_threads(std::mem::take(threads), deadline);
                // Then the threads that took a core over from a
                // `block_in_place`: each was started by a thread joined
                // before it, so emptying the list until it stays empty
                // joins them all (except one started by a replacement
                // worker, which, like the replacement, is left detached).
                loop {
                    let handoffs = h.take_handoff_threads();
                    if handoffs.is_empty() {
                        break;
                    }
                    join_threads(handoffs, deadline);
                    if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                        break;
                    }
                }
            }
            _ => unreachable!("runtime flavour mismatch"),
        }
        let remaining = deadline.map(|d| d.saturating_duration_since(std::time::Instant::now()));
        self.blocking_pool.shutdown(remaining);
    }
}

/// Joins `threads`, giving up at `deadline` (the rest are detached).
fn join_threads(threads: Vec<std::thread::JoinHandle<()>>, deadline: Option<std::time::Instant>) {
    for thread in threads {
        match deadline {
            None => {
                let _ = thread.join();
            }
            Some(deadline) => {
                while !thread.is_finished() {
                    let now = std::time::Instant::now();
                    if now >= deadline {
                        break;
                    }
                    std::thread::sleep((deadline - now).min(Duration::from_millis(1)));
                }
                if thread.is_finished() {
                    let _ = thread.join();
                }
            }
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shutdown(None);
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("handle", &self.handle)
            .finish_non_exhaustive()
    }
}
