//! [`LocalSet`]: `!Send` tasks run by whichever thread drives the set.
//!
//! # Design
//!
//! A set is two halves (see [`scheduler`]). The `Context` is the owner
//! thread's half: the run queue of tasks woken or spawned on that thread,
//! and the tasks that yielded. It sits behind an `Rc`, so only the thread
//! that created the set can reach it. The `Shared` half is what wakers, join handles and abort
//! handles reach from any thread: the owned-task list, a mutex-protected
//! *remote* queue, and the waker of whatever polls the set. It is the
//! tasks' scheduler (`Arc<Shared>` implements `Schedule`).
//!
//! # Why a `!Send` future never leaves its thread
//!
//! A task's future is touched only by the thread that holds the task's
//! `RUNNING` bit, and for a task of a set that is always the thread that
//! owns the set, for each of the three ways to get the bit:
//!
//! * *Polling* (or cancelling after an abort): `Notified::run` is called
//!   only by `Context::run_tasks`, which needs the `Rc<Context>`, so it
//!   runs on the owner thread. The queues are only ever popped there.
//!   `Schedule::schedule` never polls: from any thread it only pushes the
//!   reference onto the remote queue (or, on the owner thread while the set
//!   is current there, onto the owner's queue) and wakes the poller.
//! * *Shutdown*: `OwnedTasks::close_and_shutdown_all` runs only in
//!   `LocalSet::drop`, and `LocalSet` is `!Send`: the owner thread drops it.
//! * *Refused spawn* (the set is closed): `Context::spawn` shuts the task
//!   down on the spawning thread, which holds the `Rc<Context>`: the owner.
//!
//! No runtime scheduler ever holds these tasks: they are in neither a
//! runtime's owned-task list nor its queues. A reference dropped on another
//! thread (a waker, an abort handle, a queue entry refused after close)
//! can free the task only after its future is gone, because the owned list
//! keeps a reference until the task completes or is shut down. An output
//! is dropped either by the owner (when nobody joins it) or by the
//! [`JoinHandle`], which is `Send` only if the output is.
//!
//! # Wakes
//!
//! The owner thread queues locally while the set is *current* on it (being
//! polled, or entered with [`LocalSet::enter`]); any other wake goes to the
//! remote queue. Either way, unless the set is being polled right now, the
//! poller's waker is woken. The waker is registered before every run of
//! the queues and the remote queue is popped only after that, both under
//! locks, so a remote push after the last pop always finds the waker.

mod scheduler;

#[cfg(all(test, loom))]
mod loom_tests;

pub(crate) use scheduler::spawn_on_current;

use crate::runtime::context;
use crate::runtime::task::{JoinHandle, TaskMeta, TaskOptions};
use crate::runtime::watch::task_watch::poll_flags;
use crate::runtime::{Id, Runtime};
use scheduler::{enter, Context, Enter};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context as TaskContext, Poll};

/// A set of `!Send` tasks that run on the thread that drives the set.
///
/// [`spawn_local`](LocalSet::spawn_local) (or the free function
/// [`task::spawn_local`](crate::task::spawn_local) while the set runs)
/// adds a future that need not be `Send`: it may hold an `Rc`, a
/// `RefCell` borrow, or anything else tied to one thread. The set polls its
/// tasks only while it is itself being driven, by one of:
///
/// * [`run_until`](LocalSet::run_until): drives the set while a future runs,
///   and returns that future's output;
/// * [`block_on`](LocalSet::block_on): the same, as the root future of a
///   runtime's `block_on`;
/// * awaiting the set itself (it implements [`Future`]): completes once
///   every task in it has completed.
///
/// This works on both runtime flavours. On a multi-thread runtime the set
/// runs on the thread that calls `block_on`, not on a worker; the tasks can
/// still use the runtime (spawn `Send` tasks, sleep, do I/O). Tasks left
/// when `run_until` returns stay in the set and run again the next time the
/// set is driven.
///
/// # Scheduling
///
/// Each poll of the set runs a bounded number of tasks, then yields, so a
/// task that is always ready starves neither the future passed to
/// `run_until` nor the runtime's other tasks, timers and I/O. A task that
/// yields (or wakes itself) runs again in the next poll of the set.
///
/// # Wakes from other threads
///
/// The waker of a local task is `Send` and may be woken from any thread:
/// the task is queued for the set's thread, and whatever polls the set is
/// woken. A task's [`JoinHandle`] may be awaited (and
/// [aborted](JoinHandle::abort)) from another thread when its output is
/// `Send`.
///
/// # Watched like the runtime's tasks
///
/// The first runtime to drive the set watches its tasks with its
/// [watchdog](crate::watchdog), one by one: a local task that wakes itself
/// without progress, loses its waker or blocks its thread is reported
/// under its own id, name and spawn location, and the runtime's policy (or
/// the task's) applies to it alone; the set's other tasks keep running.
/// [`Handle::dump`](crate::runtime::Handle::dump) lists the set's tasks
/// for as long as the set lives. While another runtime drives the set
/// (the first one gone, say), its tasks are not watched.
///
/// # Dropping the set
///
/// Dropping a `LocalSet` cancels every task that has not completed: each
/// future is dropped right there, on the thread that drops the set, and
/// its `JoinHandle` reports a cancelled [`JoinError`](crate::task::JoinError).
///
/// # Not `Send`
///
/// A `LocalSet` is neither `Send` nor `Sync`, so it cannot be moved into a
/// task spawned with [`vigil::spawn`](crate::spawn), nor held across an
/// `.await` in one: drive it from `block_on`, or from a task of a
/// current-thread runtime spawned with `spawn_local`.
///
/// ```compile_fail,E0277
/// let rt = vigil::runtime::Runtime::new().unwrap();
/// rt.spawn(async {
///     let local = vigil::task::LocalSet::new();
///     local.run_until(async {}).await;
/// });
/// ```
///
/// # Limits
///
/// A set's tasks are not counted by
/// [`Handle::num_alive_tasks`](crate::runtime::Handle::num_alive_tasks).
/// Blocked polls are watched on the threads the runtime watches: a set
/// driven by a current-thread runtime (from `block_on` or from one of its
/// tasks) has a local task that blocks reported by name; the thread that
/// calls a multi-thread runtime's `block_on` is not watched.
/// [`block_in_place`](crate::task::block_in_place) panics in a local task
/// that a worker thread polls inside one of its own tasks.
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
/// use vigil::task::{self, LocalSet};
///
/// let rt = vigil::runtime::Runtime::new().unwrap();
/// let local = LocalSet::new();
/// let shared = Rc::new(String::from("not Send"));
///
/// let len = local.block_on(&rt, async {
///     let shared = shared.clone();
///     // `Rc` is not `Send`: this task must stay on this thread.
///     task::spawn_local(async move { shared.len() }).await.unwrap()
/// });
/// assert_eq!(len, 8);
/// ```
pub struct LocalSet {
    context: Rc<Context>,
    /// Bound to its thread even if `Rc` were not.
    _not_send: PhantomData<*const ()>,
}

/// A guard that keeps a [`LocalSet`] current on this thread (see
/// [`LocalSet::enter`]) until it is dropped.
///
/// Guards must be dropped in the reverse order of their creation.
pub struct LocalEnterGuard {
    _enter: Option<Enter>,
}

impl fmt::Debug for LocalEnterGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalEnterGuard").finish_non_exhaustive()
    }
}

impl LocalSet {
    /// An empty set, bound to the current thread.
    pub fn new() -> LocalSet {
        LocalSet {
            context: Rc::new(Context::new()),
            _not_send: PhantomData,
        }
    }

    /// Makes this set the one [`task::spawn_local`](crate::task::spawn_local)
    /// spawns on, from this thread, until the guard is dropped, even while
    /// the set is not being driven. Its tasks still run only while it is
    /// driven.
    ///
    /// ```
    /// use vigil::task::{self, LocalSet};
    ///
    /// let rt = vigil::runtime::Builder::new_current_thread().build().unwrap();
    /// let local = LocalSet::new();
    /// let handle = {
    ///     let _guard = local.enter();
    ///     task::spawn_local(async { 7 })
    /// };
    /// assert_eq!(local.block_on(&rt, handle).unwrap(), 7);
    /// ```
    pub fn enter(&self) -> LocalEnterGuard {
        LocalEnterGuard {
            _enter: enter(&self.context, true),
        }
    }

    /// Spawns a `!Send` future on this set and returns a handle to its
    /// output.
    ///
    /// This works whether or not the set is being driven: the task starts
    /// the next time the set runs (even if the handle is never awaited).
    ///
    /// ```
    /// use vigil::task::LocalSet;
    ///
    /// let rt = vigil::runtime::Builder::new_current_thread().build().unwrap();
    /// let local = LocalSet::new();
    /// let handle = local.spawn_local(async { "ran on the set" });
    /// // Awaiting the set drives it until every task has completed.
    /// rt.block_on(local);
    /// assert!(handle.is_finished());
    /// ```
    #[track_caller]
    pub fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.spawn_with(future, TaskOptions::default())
    }

    /// [`spawn_local`](Self::spawn_local) with a [`task::Builder`]'s
    /// options (name, watchdog policy).
    ///
    /// [`task::Builder`]: crate::task::Builder
    #[track_caller]
    pub(crate) fn spawn_with<F>(&self, future: F, options: TaskOptions) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let meta = TaskMeta::new(options, std::panic::Location::caller());
        self.context.spawn(future, meta)
    }

    /// Runs `future` to completion on `rt`, driving this set on the current
    /// thread meanwhile: `rt.block_on(self.run_until(future))`.
    ///
    /// # Panics
    ///
    /// Where [`Runtime::block_on`] panics: on a thread that already drives a
    /// runtime. A panic of `future` passes through.
    ///
    /// ```
    /// use std::rc::Rc;
    /// use vigil::task::{self, LocalSet};
    ///
    /// let rt = vigil::runtime::Runtime::new().unwrap();
    /// let local = LocalSet::new();
    /// let out = local.block_on(&rt, async {
    ///     let value = Rc::new(3);
    ///     task::spawn_local(async move { *value * 2 }).await.unwrap()
    /// });
    /// assert_eq!(out, 6);
    /// ```
    #[track_caller]
    pub fn block_on<F>(&self, rt: &Runtime, future: F) -> F::Output
    where
        F: Future,
    {
        rt.block_on(self.run_until(future))
    }

    /// Drives this set while `future` runs, and returns `future`'s output.
    ///
    /// While it runs, [`task::spawn_local`](crate::task::spawn_local) called
    /// from `future` or from the set's tasks spawns on this set. Tasks not
    /// finished when `future` completes stay in the set.
    ///
    /// Cancel safe if `future` is: dropping it drops `future` and leaves
    /// the set's tasks in the set.
    ///
    /// ```
    /// use vigil::task::{self, LocalSet};
    ///
    /// # let rt = vigil::runtime::Builder::new_current_thread().build().unwrap();
    /// # rt.block_on(async {
    /// let local = LocalSet::new();
    /// let sum = local
    ///     .run_until(async {
    ///         let a = task::spawn_local(async { 1 });
    ///         let b = task::spawn_local(async { 2 });
    ///         a.await.unwrap() + b.await.unwrap()
    ///     })
    ///     .await;
    /// assert_eq!(sum, 3);
    /// # });
    /// ```
    pub async fn run_until<F>(&self, future: F) -> F::Output
    where
        F: Future,
    {
        RunUntil {
            local_set: self,
            future,
        }
        .await
    }

    /// The id of this set, unique among the schedulers of this process.
    pub fn id(&self) -> Id {
        self.context.shared.id
    }
}

impl Default for LocalSet {
    fn default() -> LocalSet {
        LocalSet::new()
    }
}

impl fmt::Debug for LocalSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalSet")
            .field("id", &self.id())
            .finish_non_exhaustive()
    }
}

/// Completes once every task spawned on the set has completed, driving the
/// set meanwhile.
impl Future for LocalSet {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        let set = &self.context;
        set.shared.register(cx.waker());
        let _enter = enter(set, false);
        if set.run_tasks() {
            yield_to_driver(cx);
            return Poll::Pending;
        }
        if set.is_empty() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for LocalSet {
    fn drop(&mut self) {
        let set = &self.context;
        // Current while the futures are dropped: a destructor that spawns
        // locally is refused by the closed list (its task is cancelled at
        // once), and one that wakes a task queues it here.
        let _enter = enter(set, false);
        // This is the owner thread (`LocalSet` is `!Send`): every future
        // still in the set is dropped here.
        set.shut_down();
    }
}

/// Asks to be polled again, after the driver's other work: the set has
/// tasks left to run. A voluntary yield, which the watchdog must not take
/// for a task spinning.
fn yield_to_driver(cx: &mut TaskContext<'_>) {
    context::raise_poll_flag(poll_flags::VOLUNTARY_YIELD);
    cx.waker().wake_by_ref();
}

pin_project_lite::pin_project! {
    /// The future of [`LocalSet::run_until`].
    struct RunUntil<'a, F> {
        local_set: &'a LocalSet,
        #[pin]
        future: F,
    }
}

impl<F: Future> Future for RunUntil<'_, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        let me = self.project();
        let set = &me.local_set.context;
        set.shared.register(cx.waker());
        let _enter = enter(set, false);
        if let Poll::Ready(output) = me.future.poll(cx) {
            return Poll::Ready(output);
        }
        if set.run_tasks() {
            yield_to_driver(cx);
        }
        Poll::Pending
    }
}
