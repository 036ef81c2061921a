//! The task system: one allocation per spawned future, reference-counted
//! handles to it, and the state machine that arbitrates who may touch it.
//!
//! A task is a [`core::Cell`]: header (state word, vtable, identity,
//! counters), the scheduler handle, and the future/output slot. Everything
//! that refers to a task holds a counted reference: the owned-task list, each
//! run-queue entry ([`Notified`]), the [`JoinHandle`], each [`AbortHandle`],
//! and each clone of its waker. The last reference frees the cell.
//!
//! Schedulers implement [`Schedule`]; the task never knows which scheduler it
//! runs on beyond that trait.

mod abort;
mod core;
mod error;
mod harness;
mod join;
pub(crate) mod list;
mod meta;
mod raw;
mod state;
mod waker;

pub use abort::AbortHandle;
pub use error::JoinError;
pub use join::JoinHandle;
pub use meta::Id;

pub(crate) use self::core::Header;
pub(crate) use list::OwnedTasks;
pub(crate) use meta::{TaskMeta, TaskOptions};
pub(crate) use raw::RawTask;

use crate::runtime::watch::Watchdog;
use std::future::Future;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;

/// What a scheduler provides to its tasks.
pub(crate) trait Schedule: Send + Sync + Sized + 'static {
    /// Queue a task that was woken.
    fn schedule(&self, task: Notified<Self>);

    /// Queue a task that was just spawned.
    fn schedule_new(&self, task: Notified<Self>) {
        self.schedule(task)
    }

    /// Queue a task that woke itself during its poll; it goes behind the
    /// others.
    fn yield_now(&self, task: Notified<Self>) {
        self.schedule(task)
    }

    /// The task completed: unlink it from the owned-task list. Returns `true`
    /// if it was linked (the caller then drops the list's reference too).
    fn release(&self, task: RawTask) -> bool;

    /// The runtime's watchdog.
    fn watchdog(&self) -> &Watchdog;
}

/// A counted reference to a task.
pub(crate) struct Task<S: 'static> {
    raw: RawTask,
    _p: PhantomData<S>,
}

/// A task reference that is (or is about to be) in a run queue: running it
/// consumes it.
#[repr(transparent)]
pub(crate) struct Notified<S: 'static>(Task<S>);

// SAFETY: references may move between threads; see `RawTask`. Tasks holding
// `!Send` futures are created only by the current-thread scheduler, whose
// queues never hand them to another thread for polling, and by `LocalSet`,
// whose tasks only its owner thread runs or shuts down (see
// `task/local_set/mod.rs`).
unsafe impl<S> Send for Task<S> {}
// SAFETY: as above.
unsafe impl<S> Send for Notified<S> {}

impl<S: 'static> Task<S> {
    /// # Safety
    /// The caller transfers one counted reference.
    pub(crate) unsafe fn from_raw(raw: RawTask) -> Task<S> {
        Task {
            raw,
            _p: PhantomData,
        }
    }

    pub(crate) fn into_raw(self) -> RawTask {
        ManuallyDrop::new(self).raw
    }

    pub(crate) fn raw(&self) -> RawTask {
        self.raw
    }

    /// Cancels the task unless some thread runs it; consumes this reference.
    pub(crate) fn shutdown(self, drop_future: bool) {
        self.into_raw().shutdown(drop_future)
    }
}

impl<S: 'static> Notified<S> {
    /// # Safety
    /// The caller transfers one counted reference that represents a queue
    /// entry (the task's NOTIFIED bit is set for it).
    pub(crate) unsafe fn from_raw(raw: RawTask) -> Notified<S> {
        // SAFETY: forwarded contract.
        Notified(unsafe { Task::from_raw(raw) })
    }

    pub(crate) fn into_raw(self) -> RawTask {
        self.0.into_raw()
    }

    /// Polls the task (or cancels it, if it was aborted).
    pub(crate) fn run(self) {
        self.into_raw().poll()
    }
}

impl<S: 'static> Drop for Task<S> {
    fn drop(&mut self) {
        self.raw.drop_reference();
    }
}

/// Allocates a task. Returns the three initial references: for the owned
/// list, for the first run-queue entry, and the join handle.
pub(crate) fn new_task<F, S>(
    future: F,
    scheduler: S,
    meta: TaskMeta,
) -> (Task<S>, Notified<S>, JoinHandle<F::Output>)
where
    F: Future + 'static,
    S: Schedule,
{
    let raw = RawTask::new(core::Cell::new(future, scheduler, meta));
    // SAFETY: a new task starts with exactly three references.
    unsafe {
        (
            Task::from_raw(raw),
            Notified::from_raw(raw),
            JoinHandle::new(raw),
        )
    }
}

/// Spawns `future` on a scheduler whose owned-task list is `owned`: links it
/// and queues it, or cancels it at once if the runtime is shutting down.
pub(crate) fn bind_and_schedule<F, S>(
    owned: &OwnedTasks,
    future: F,
    scheduler: S,
    meta: TaskMeta,
) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    S: Schedule + Clone,
{
    let (task, notified, join) = new_task(future, scheduler.clone(), meta);
    if owned.bind(task.raw()) {
        // The list now owns that reference.
        let _ = task.into_raw();
        scheduler.schedule_new(notified);
    } else {
        drop(notified);
        task.shutdown(true);
    }
    join
}

pub(crate) fn abort_raw(raw: RawTask) {
    if raw.header().state.transition_to_notified_and_cancel() {
        // The new reference goes to the scheduler, which cancels the task on
        // a runtime thread.
        raw.schedule();
    }
}

#[cfg(all(test, loom))]
mod loom_tests;
