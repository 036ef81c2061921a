//! Spawning and managing tasks.
//!
//! A task is a future the runtime polls on its own, concurrently with other
//! tasks, until it completes. [`spawn`] starts one and returns a
//! [`JoinHandle`] to await its output; [`spawn_local`] does the same for a
//! `!Send` future, which a [`LocalSet`] (on either runtime flavour) or a
//! current-thread runtime runs on this thread; [`spawn_blocking`] runs a
//! blocking closure on a thread of the blocking pool, and
//! [`block_in_place`] runs one right where a task is, on a multi-thread
//! runtime, while the worker's other tasks move on. [`Builder`] names
//! tasks, and every task records where it was spawned, so diagnostics can
//! point at your code. [`task_local!`](crate::task_local) declares values
//! that a task's code can read at any depth, whichever thread polls it.
//! [`consume_budget`] and [`unconstrained`] take part in, or opt out of,
//! the cooperative budget that keeps one busy task from starving the rest;
//! [`coop`] has the pieces for writing a future of your own that takes
//! part in it.
//!
//! ```
//! # vigil::block_on(async {
//! let handle = vigil::task::spawn(async { "hello" });
//! assert_eq!(handle.await.unwrap(), "hello");
//!
//! let sum = vigil::task::spawn_blocking(|| (1..=10).sum::<u32>()).await.unwrap();
//! assert_eq!(sum, 55);
//! # });
//! ```

mod block_in_place;
mod builder;
pub mod coop;
mod join_set;
mod local_set;
mod task_local;
mod yield_now;

pub use crate::runtime::task::{AbortHandle, Id, JoinError, JoinHandle};
pub use block_in_place::block_in_place;
pub use builder::Builder;
pub use coop::{consume_budget, unconstrained, Unconstrained};
pub use join_set::JoinSet;
pub use local_set::{LocalEnterGuard, LocalSet};
pub use task_local::{AccessError, LocalKey, TaskLocalFuture};
pub use yield_now::yield_now;

use crate::runtime::context;
use crate::runtime::scheduler;
use crate::runtime::task::{TaskMeta, TaskOptions};
use crate::runtime::Handle;
use std::future::Future;

/// Spawns a task on the current runtime and returns a handle to its output.
///
/// The task starts at once on a multi-thread runtime; on a current-thread
/// runtime it runs while that runtime's `block_on` is running. Dropping the
/// handle detaches the task.
///
/// # Panics
/// Outside a runtime. Spawn from inside a task or `block_on`, or use
/// [`Handle::spawn`](crate::runtime::Handle::spawn).
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    spawn_inner(future, TaskOptions::default())
}

#[track_caller]
pub(crate) fn spawn_inner<F>(future: F, options: TaskOptions) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    current_handle("spawn").spawn_named(future, options)
}

#[track_caller]
fn current_handle(what: &str) -> Handle {
    match Handle::try_current() {
        Ok(handle) => handle,
        Err(_) => panic!(
            "`vigil::{what}` was called outside a vigil runtime. Call it from inside a task or \
             `Runtime::block_on` / `#[vigil::main]`, or keep a `vigil::runtime::Handle` and use \
             `Handle::{what}`."
        ),
    }
}

/// Spawns a `!Send` future on this thread and returns a handle to its
/// output. The future is polled (and dropped) only on this thread.
///
/// It goes to the innermost [`LocalSet`] running on this thread: the one
/// whose [`run_until`](LocalSet::run_until) or
/// [`block_on`](LocalSet::block_on) is in progress (including inside its
/// tasks), or that was [entered](LocalSet::enter). Outside any set, it goes
/// to the current-thread runtime this thread drives (inside its `block_on`,
/// or a task running there).
///
/// ```
/// use std::rc::Rc;
/// use vigil::task::{self, LocalSet};
///
/// let rt = vigil::runtime::Runtime::new().unwrap();
/// let local = LocalSet::new();
/// local.block_on(&rt, async {
///     let counter = Rc::new(std::cell::Cell::new(0));
///     let c = counter.clone();
///     task::spawn_local(async move { c.set(c.get() + 1) }).await.unwrap();
///     assert_eq!(counter.get(), 1);
/// });
/// ```
///
/// # Panics
/// Outside a `LocalSet` on a thread that does not drive a current-thread
/// runtime (for instance in a task of a multi-thread runtime, or in its
/// `block_on` without a `LocalSet`).
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    spawn_local_inner(future, TaskOptions::default())
}

#[track_caller]
pub(crate) fn spawn_local_inner<F>(future: F, options: TaskOptions) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let meta = TaskMeta::new(options, std::panic::Location::caller());
    let (future, meta) = match local_set::spawn_on_current(future, meta) {
        Ok(handle) => return handle,
        Err(back) => back,
    };
    let spawned = context::with_scheduler(move |cx| match cx {
        Some(scheduler::Context::CurrentThread(cx)) if cx.has_core() => {
            Ok(cx.handle().spawn_local(future, meta))
        }
        _ => Err(()),
    });
    match spawned {
        Ok(handle) => handle,
        Err(()) => panic!(
            "`vigil::task::spawn_local` was called outside a `LocalSet` and outside a \
             current-thread runtime: call it inside `LocalSet::run_until` / `LocalSet::block_on` \
             (or a task of a `LocalSet`), or on the thread that drives a current-thread runtime \
             (inside `Runtime::block_on` of `Builder::new_current_thread()`, or a task running \
             there). A `!Send` future can only run on the thread it was created on."
        ),
    }
}

/// Runs a blocking closure on the current runtime's blocking pool, so it
/// does not stall the async worker threads.
///
/// The closure starts once a pool thread is free; it cannot be cancelled
/// once started (aborting its handle only stops it if it has not started).
/// To block without leaving the task (borrowing its data), see
/// [`block_in_place`].
///
/// # Panics
/// Outside a runtime.
#[track_caller]
pub fn spawn_blocking<F, R>(func: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    current_handle("spawn_blocking").spawn_blocking(func)
}

/// The id of the task being polled on this thread.
///
/// # Panics
/// Outside a task.
#[track_caller]
pub fn id() -> Id {
    try_id().expect("`vigil::task::id()` was called outside a task")
}

/// The id of the task being polled on this thread, if any.
pub fn try_id() -> Option<Id> {
    context::current_task_id()
}
