//! `block_in_place` on a worker thread: the worker hands its core to a new
//! thread, blocks, and takes the core back if nobody took it meanwhile.
//!
//! # Why the core moves, not the blocking code
//!
//! A worker thread that blocks inside a poll stalls everything only it can
//! reach: its LIFO slot and yielded tasks, its share of driver duty, and
//! the tasks that would have been scheduled on it. `spawn_blocking` avoids
//! that by moving the blocking code to another thread, but it needs a
//! `'static + Send` closure and an `.await`. `block_in_place` moves the
//! other way: the blocking code stays on this thread, with the task's
//! borrows, and the *core* (run queue, LIFO slot, stash, parker, the poll
//! slot the watchdog watches) goes to a new thread, which runs the usual
//! loop with it ([`run_loop::run`]). The runtime never has fewer running
//! cores than workers, so finishing shutdown still collects every core.
//!
//! # The hand-over
//!
//! 1. The poll slot leaves this thread ([`context::detach_poll_slot`]): the
//!    poll ends on it there and then, so the watchdog's monitor sees the
//!    worker idle rather than blocked, and this thread writes nothing more
//!    to it; the slot has one writer at a time, whoever holds the core.
//! 2. The stash is settled, as after any poll, which waits out a monitor
//!    that was taking it over. Its tasks (LIFO slot, yielded tasks) go to
//!    the stealable run queue, so that other workers can run them if the
//!    new thread is slow to start (or cannot be started at all).
//! 3. The core goes into a [`Handoff`] cell shared with a new thread, and
//!    the thread is started. Whoever takes the core out of the cell first
//!    owns it: normally the new thread, which runs the worker loop; but if
//!    the closure returns before the new thread got to it (or the thread
//!    could not be started), this thread takes it back, re-attaches the
//!    poll slot and goes on as the worker, and the new thread, finding the
//!    cell empty, just ends. A mutex is enough for the cell: it is touched
//!    twice per `block_in_place`, next to a thread start.
//!
//! When the closure returns and the core is gone, the task's poll goes on
//! here without a core (its wakes and spawns go to the global queue, as
//! from any thread outside the runtime) and, once it returns,
//! [`Context::run_task`] finds no core and the thread leaves its loop and
//! ends. One thread start per call, and no pool to size: a dedicated thread
//! cannot be held up behind `spawn_blocking` work the way a blocking-pool
//! slot could, which would leave the core unused.
//!
//! The new threads are joined when the runtime shuts down, after the
//! workers it started: each is started by a thread joined before it, so the
//! runtime waits for all of them (and for the closures that still run, as
//! it does for `spawn_blocking` closures).

use super::{run_loop, Context, Core, Handle};
use crate::runtime::context::{self, DetachedPollSlot};
use std::sync::{Arc, Mutex, PoisonError};

/// A core between the thread that gave it up and the one started to take
/// it; whichever takes it out first runs it.
type Handoff = Arc<Mutex<Option<Box<Core>>>>;

fn take(cell: &Handoff) -> Option<Box<Core>> {
    cell.lock().unwrap_or_else(PoisonError::into_inner).take()
}

/// What a worker thread gave up for a `block_in_place`, to try to take
/// back when the closure returns ([`Context::reclaim_core`]).
pub(crate) struct HandedOff {
    cell: Handoff,
    slot: DetachedPollSlot,
}

impl Context {
    /// Hands this thread's core to a new thread, if it holds one and is
    /// polling a task. `None` if there is nothing to hand over: a nested
    /// `block_in_place`, the rest of a poll whose core already went, or a
    /// call from outside any task (a driver turn's waker).
    pub(crate) fn hand_off_core(&self) -> Option<HandedOff> {
        context::current_task_id()?;
        let mut core = self.core.borrow_mut().take()?;
        let slot = context::detach_poll_slot();
        core.stash.settle();
        let handle = &*self.handle;
        let pinned: Vec<_> = core
            .take_lifo()
            .into_iter()
            .chain(core.take_deferred())
            .collect();
        if core.stands_in_for.is_some() {
            // Nobody can steal from a replacement's queue: share it all.
            let queued = std::iter::from_fn(|| core.run_queue.pop());
            handle.inject.push_batch(pinned.into_iter().chain(queued));
            handle.notify_parked();
        } else {
            for task in pinned {
                core.run_queue.push_back(task, &handle.inject);
            }
        }
        let cell: Handoff = Arc::new(Mutex::new(Some(core)));
        if !self.handle.start_handoff_thread(cell.clone()) {
            // The core stays in the cell until the closure returns: let the
            // other workers take its queued tasks meanwhile.
            handle.notify_parked();
        }
        Some(HandedOff { cell, slot })
    }

    /// After the closure: takes the core back if the new thread has not
    /// taken it, and goes on as the worker. Otherwise the rest of the poll
    /// runs without a core, and this thread's loop ends after it.
    pub(crate) fn reclaim_core(&self, handed: HandedOff) {
        if let Some(core) = take(&handed.cell) {
            handed.slot.reattach();
            let previous = self.core.borrow_mut().replace(core);
            debug_assert!(previous.is_none(), "a worker thread held two cores");
        }
    }
}

impl Handle {
    /// Starts a thread to take the core in `cell` and run it. `false` if
    /// the thread could not be started.
    fn start_handoff_thread(self: &Arc<Self>, cell: Handoff) -> bool {
        let handle = self.clone();
        let spawned = self.blocking.spawn_thread(move || {
            if let Some(core) = take(&cell) {
                run_loop::run(handle, core);
            }
        });
        let Ok(thread) = spawned else {
            return false;
        };
        let mut threads = self
            .handoff_threads
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Join the threads that have ended, so the list stays short.
        let mut i = 0;
        while i < threads.len() {
            if threads[i].is_finished() {
                let _ = threads.swap_remove(i).join();
            } else {
                i += 1;
            }
        }
        threads.push(thread);
        true
    }

    /// The threads started for `block_in_place` so far (see the module
    /// docs), for the runtime to join at shutdown.
    pub(crate) fn take_handoff_threads(&self) -> Vec<std::thread::JoinHandle<()>> {
        std::mem::take(
            &mut *self
                .handoff_threads
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }
}
