//! The memory layout of a task: one allocation holding header, scheduler,
//! future and output.
//!
//! The [`Header`] comes first (`#[repr(C)]`) so a type-erased pointer to it
//! is also a pointer to the whole [`Cell`]; the vtable stored in the header
//! knows the concrete future and scheduler types and casts back. The future
//! and its output share one slot ([`Stage`]): a task never needs both.

use super::list::Slot;
use super::meta::{TaskMeta, TaskStats};
use super::raw::Vtable;
use super::state::State;
use super::Schedule;
use crate::loom::cell::UnsafeCell;
use crate::runtime::task::JoinError;
use crate::runtime::watch::task_watch::TaskWatch;
use std::future::Future;
use std::ptr::NonNull;
use std::task::Waker;

/// What every task has, whatever its future type.
#[repr(C)]
pub(crate) struct Header {
    pub(crate) state: State,
    pub(crate) vtable: &'static Vtable,
    /// Index in the runtime's owned-task list; guarded by that list's lock.
    pub(crate) owned: UnsafeCell<Slot>,
    /// The `JoinHandle`'s waker; access is arbitrated by the `JOIN_WAKER` bit.
    pub(crate) join_waker: UnsafeCell<Option<Waker>>,
    /// The next task in the injection queue while this one is in it (a
    /// notified task is in one queue at most); guarded by that queue's lock.
    pub(crate) queue_next: UnsafeCell<Option<NonNull<Header>>>,
    pub(crate) meta: TaskMeta,
    pub(crate) stats: TaskStats,
    pub(crate) watch: TaskWatch,
}

// SAFETY: every field that is not itself `Sync` is an `UnsafeCell` whose
// access is arbitrated by the state word (join waker) or a lock (owned links).
unsafe impl Send for Header {}
// SAFETY: as above.
unsafe impl Sync for Header {}

pub(crate) enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, JoinError>),
    Consumed,
}

/// The whole allocation.
#[repr(C)]
pub(crate) struct Cell<F: Future, S> {
    pub(crate) header: Header,
    pub(crate) scheduler: S,
    /// Only the thread that holds `RUNNING` (or, once `COMPLETE`, the join
    /// handle) touches the stage.
    pub(crate) stage: UnsafeCell<Stage<F>>,
}

impl<F: Future, S: Schedule> Cell<F, S> {
    pub(crate) fn new(future: F, scheduler: S, meta: TaskMeta) -> Box<Cell<F, S>> {
        Box::new(Cell {
            header: Header {
                state: State::new(),
                vtable: super::raw::vtable::<F, S>(),
                owned: UnsafeCell::new(Slot::new()),
                join_waker: UnsafeCell::new(None),
                queue_next: UnsafeCell::new(None),
                meta,
                stats: TaskStats::new(),
                watch: TaskWatch::new(),
            },
            scheduler,
            stage: UnsafeCell::new(Stage::Running(future)),
        })
    }
}
