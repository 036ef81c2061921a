//! Per-thread runtime context: which runtime this thread belongs to, which
//! scheduler core it drives, and which task it is polling right now.
//!
//! `vigil::spawn` finds its runtime here; a waker finds out here whether it
//! is being woken by its own task (a self-wake, which the watchdog counts)
//! and whether it can push straight onto this thread's local run queue.

use super::scheduler;
use crate::runtime::task::Header;
use crate::runtime::watch::monitor::PollSlot;
use crate::runtime::watch::task_watch::poll_flags;
use std::cell::{Cell, RefCell};
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::Arc;

struct Context {
    /// The runtime handle `spawn` and `Handle::current` use.
    handle: RefCell<Option<scheduler::Handle>>,
    /// Set while this thread drives a runtime (inside `block_on` or as a
    /// worker): blocking on another runtime here would stall its tasks.
    driving: Cell<bool>,
    /// The scheduler state of the core this thread is running, if any.
    scheduler: Cell<*const scheduler::Context>,
    /// The task being polled on this thread.
    current_task: Cell<Option<NonNull<Header>>>,
    /// What the current poll may still do before it must yield; see `coop`.
    budget: Cell<super::coop::Budget>,
    /// What happened during the current poll; see `watch::task_watch::poll_flags`.
    poll_flags: Cell<u8>,
    /// This thread's slot watched by the blocked-poll monitor, if any.
    poll_slot: Cell<*const PollSlot>,
    /// Task polls started on this thread (wrapping), for sampling.
    poll_count: Cell<u32>,
    /// The poll slot put aside by [`enter_nested_polls`] (null if none).
    nested_slot: Cell<*const PollSlot>,
}

crate::loom::thread_local! {
    static CONTEXT: Context = const {
        Context {
            handle: RefCell::new(None),
            driving: Cell::new(false),
            scheduler: Cell::new(std::ptr::null()),
            current_task: Cell::new(None),
            budget: Cell::new(super::coop::Budget::unconstrained()),
            poll_flags: Cell::new(0),
            poll_slot: Cell::new(std::ptr::null()),
            poll_count: Cell::new(0),
            nested_slot: Cell::new(std::ptr::null()),
        }
    };
}

/// Restores the previous handle when dropped.
pub(crate) struct SetHandleGuard {
    prev: Option<scheduler::Handle>,
    _not_send: PhantomData<*const ()>,
}

/// Makes `handle` the current runtime of this thread until the guard drops.
pub(crate) fn set_handle(handle: &scheduler::Handle) -> SetHandleGuard {
    let prev = CONTEXT.with(|c| c.handle.borrow_mut().replace(handle.clone()));
    SetHandleGuard {
        prev,
        _not_send: PhantomData,
    }
}

impl Drop for SetHandleGuard {
    fn drop(&mut self) {
        let prev = self.prev.take();
        let _ = CONTEXT.try_with(|c| *c.handle.borrow_mut() = prev);
    }
}

/// The current runtime handle, if this thread is inside one.
pub(crate) fn try_current() -> Option<scheduler::Handle> {
    current().ok()
}

/// Why [`current`] found no runtime.
pub(crate) enum NoCurrent {
    /// The thread is not inside a runtime.
    Missing,
    /// The thread is exiting and its context is gone.
    Destroyed,
}

/// The current runtime handle, or why there is none.
pub(crate) fn current() -> Result<scheduler::Handle, NoCurrent> {
    match CONTEXT.try_with(|c| c.handle.borrow().clone()) {
        Ok(Some(handle)) => Ok(handle),
        Ok(None) => Err(NoCurrent::Missing),
        Err(_) => Err(NoCurrent::Destroyed),
    }
}

/// Whether `handle` is this thread's current runtime.
pub(crate) fn is_current(handle: &scheduler::Handle) -> bool {
    CONTEXT
        .try_with(|c| c.handle.borrow().as_ref().is_some_and(|h| h.ptr_eq(handle)))
        .unwrap_or(false)
}

/// Marks this thread as driving a runtime until the guard drops; panics if
/// it already is (blocking here would freeze the runtime's tasks).
pub(crate) struct DrivingGuard {
    _not_send: PhantomData<*const ()>,
}

#[track_caller]
pub(crate) fn enter_driving() -> DrivingGuard {
    if CONTEXT.with(|c| c.driving.replace(true)) {
        panic!(
            "vigil: a runtime was started (or `block_on` called) on a thread that is already \
             running vigil tasks. Blocking here would freeze every task of that runtime. \
             Use `.await` instead, or move the blocking code into \
             `vigil::task::spawn_blocking` (or onto a thread of your own)."
        );
    }
    DrivingGuard {
        _not_send: PhantomData,
    }
}

impl Drop for DrivingGuard {
    fn drop(&mut self) {
        let _ = CONTEXT.try_with(|c| c.driving.set(false));
    }
}

/// Whether this thread drives a runtime (see [`enter_driving`]).
pub(crate) fn is_driving() -> bool {
    CONTEXT.try_with(|c| c.driving.get()).unwrap_or(false)
}

/// Lets this thread block again until the guard drops (`block_in_place`):
/// while it is out, `block_on` and the `blocking_*` methods work here.
pub(crate) struct ExitDrivingGuard {
    was_driving: bool,
    _not_send: PhantomData<*const ()>,
}

pub(crate) fn exit_driving() -> ExitDrivingGuard {
    let was_driving = CONTEXT
        .try_with(|c| c.driving.replace(false))
        .unwrap_or(false);
    ExitDrivingGuard {
        was_driving,
        _not_send: PhantomData,
    }
}

impl Drop for ExitDrivingGuard {
    fn drop(&mut self) {
        let _ = CONTEXT.try_with(|c| c.driving.set(self.was_driving));
    }
}

/// Runs `f` with `cx` as this thread's scheduler context.
pub(crate) fn set_scheduler<R>(cx: &scheduler::Context, f: impl FnOnce() -> R) -> R {
    struct Reset(*const scheduler::Context);
    impl Drop for Reset {
        fn drop(&mut self) {
            let _ = CONTEXT.try_with(|c| c.scheduler.set(self.0));
        }
    }
    let prev = CONTEXT.with(|c| c.scheduler.replace(cx));
    let _reset = Reset(prev);
    f()
}

/// Calls `f` with this thread's scheduler context, if any.
pub(crate) fn with_scheduler<R>(f: impl FnOnce(Option<&scheduler::Context>) -> R) -> R {
    let ptr = CONTEXT
        .try_with(|c| c.scheduler.get())
        .unwrap_or(std::ptr::null());
    // SAFETY: the pointer is set only by `set_scheduler`, for the duration of
    // a closure that borrows the context, and reset when that closure ends.
    f(unsafe { ptr.as_ref() })
}

/// Marks `task` as the one being polled on this thread until the guard drops.
pub(crate) struct CurrentTaskGuard {
    prev: Option<NonNull<Header>>,
}

pub(crate) fn set_current_task(task: NonNull<Header>) -> CurrentTaskGuard {
    let prev = CONTEXT
        .try_with(|c| c.current_task.replace(Some(task)))
        .ok()
        .flatten();
    CurrentTaskGuard { prev }
}

impl Drop for CurrentTaskGuard {
    fn drop(&mut self) {
        let _ = CONTEXT.try_with(|c| c.current_task.set(self.prev));
    }
}

/// The id of the task being polled on this thread, if any.
pub(crate) fn current_task_id() -> Option<crate::runtime::task::Id> {
    CONTEXT
        .try_with(|c| {
            c.current_task.get().map(|t| {
                // SAFETY: the pointer is set only while that task is polled,
                // which keeps it alive.
                unsafe { t.as_ref() }.meta.id
            })
        })
        .ok()
        .flatten()
}

/// `f` applied to the driver of the runtime this thread runs in (without
/// cloning its handle); `None` outside a runtime.
#[cfg(feature = "test-util")]
pub(crate) fn with_driver_handle<R>(f: impl FnOnce(&crate::driver::Handle) -> R) -> Option<R> {
    CONTEXT
        .try_with(|c| c.handle.borrow().as_ref().map(|h| f(h.driver())))
        .ok()
        .flatten()
}

/// The driver of the runtime this thread runs in, if any.
pub(crate) fn try_driver_handle() -> Option<Arc<crate::driver::Handle>> {
    try_current().map(|h| h.driver().clone())
}

/// The driver of the current runtime; panics with a clear message outside one.
#[track_caller]
pub(crate) fn driver_handle() -> Arc<crate::driver::Handle> {
    try_driver_handle().expect(
        "a vigil timer was polled outside a vigil runtime: poll it from a task \
         spawned on a runtime, or inside `Runtime::block_on` / `vigil::block_on`",
    )
}

/// Replaces this thread's cooperative budget, returning the previous one.
pub(crate) fn replace_budget(budget: super::coop::Budget) -> super::coop::Budget {
    CONTEXT
        .try_with(|c| c.budget.replace(budget))
        .unwrap_or(super::coop::Budget::unconstrained())
}

/// Applies `f` to this thread's budget.
pub(crate) fn with_budget<R>(f: impl FnOnce(&Cell<super::coop::Budget>) -> R) -> Option<R> {
    CONTEXT.try_with(|c| f(&c.budget)).ok()
}

/// A task poll in progress on this thread: the current task, its poll
/// flags, and the monitor's slot. See [`begin_poll`].
///
/// The poll ends on the slot the thread has *when it ends*, not the one it
/// began on: `block_in_place` may take the slot away in between (see
/// [`detach_poll_slot`]).
pub(crate) struct PollGuard {
    prev: Option<NonNull<Header>>,
    /// The number of this poll on this thread (wrapping).
    pub(crate) count: u32,
}

/// Marks the start of a poll of `task`: it becomes the current task, its
/// poll flags are cleared, and the blocked-poll monitor sees it start.
#[inline]
pub(crate) fn begin_poll(task: NonNull<Header>, id: crate::runtime::task::Id) -> PollGuard {
    CONTEXT
        .try_with(|c| {
            let prev = c.current_task.replace(Some(task));
            c.poll_flags.set(0);
            let count = c.poll_count.get().wrapping_add(1);
            c.poll_count.set(count);
            let slot = c.poll_slot.get();
            // SAFETY: a slot pointer is set only by `set_poll_slot`, whose
            // guard keeps the slot alive and clears the pointer before it is
            // dropped.
            match unsafe { slot.as_ref() } {
                Some(s) => s.begin(task, id),
                None => {
                    // SAFETY: a slot set aside by `enter_nested_polls` is
                    // alive until its guard restores it.
                    if let Some(s) = unsafe { c.nested_slot.get().as_ref() } {
                        s.begin_nested(task, id);
                    }
                }
            }
            PollGuard { prev, count }
        })
        // Lazily: a spare guard would run its `Drop` and undo the above.
        .unwrap_or_else(|_| PollGuard {
            prev: None,
            count: 1,
        })
}

impl PollGuard {
    /// Ends the poll; returns the flags it raised.
    #[inline]
    pub(crate) fn finish(self) -> u8 {
        let this = std::mem::ManuallyDrop::new(self);
        this.end()
    }

    fn end(&self) -> u8 {
        CONTEXT
            .try_with(|c| {
                // SAFETY: as in `begin_poll`: a slot pointer in the context
                // is kept alive by its `set_poll_slot` guard.
                match unsafe { c.poll_slot.get().as_ref() } {
                    Some(s) => s.end(),
                    None => {
                        // SAFETY: as in `begin_poll`: a slot set aside is
                        // alive until its guard restores it.
                        if let Some(s) = unsafe { c.nested_slot.get().as_ref() } {
                            let enclosing = self.prev.map(|task| {
                                // SAFETY: `prev` is the task polled around
                                // this poll (current again once it ends); its
                                // poller holds a reference, so it is alive.
                                let header = unsafe { task.as_ref() };
                                (task, header.meta.id)
                            });
                            s.end_nested(enclosing);
                        }
                    }
                }
                c.current_task.set(self.prev);
                c.poll_flags.replace(0)
            })
            .unwrap_or(0)
    }
}

impl Drop for PollGuard {
    fn drop(&mut self) {
        self.end();
    }
}

/// Replaces this thread's poll flags (for a poll that is not a task's: the
/// future of a `block_on`); returns the previous ones.
pub(crate) fn replace_poll_flags(flags: u8) -> u8 {
    CONTEXT
        .try_with(|c| c.poll_flags.replace(flags))
        .unwrap_or(0)
}

/// Records a fact about the current poll (if a task is being polled).
#[inline]
pub(crate) fn raise_poll_flag(flag: u8) {
    let _ = CONTEXT.try_with(|c| c.poll_flags.set(c.poll_flags.get() | flag));
}

/// Records that the current task woke itself, if `task` is the task being
/// polled on this thread. Returns whether it was.
#[inline]
pub(crate) fn note_self_wake(task: NonNull<Header>) -> bool {
    CONTEXT
        .try_with(|c| {
            let me = c.current_task.get() == Some(task);
            if me {
                c.poll_flags
                    .set(c.poll_flags.get() | poll_flags::SELF_WOKEN);
            }
            me
        })
        .unwrap_or(false)
}

/// Restores the previous poll slot when dropped.
pub(crate) struct PollSlotGuard {
    prev: *const PollSlot,
    _slot: std::sync::Arc<PollSlot>,
}

/// Makes `slot` the slot this thread's polls report to until the guard drops.
pub(crate) fn set_poll_slot(slot: std::sync::Arc<PollSlot>) -> PollSlotGuard {
    let prev = CONTEXT
        .try_with(|c| c.poll_slot.replace(std::sync::Arc::as_ptr(&slot)))
        .unwrap_or(std::ptr::null());
    PollSlotGuard { prev, _slot: slot }
}

impl Drop for PollSlotGuard {
    fn drop(&mut self) {
        let _ = CONTEXT.try_with(|c| c.poll_slot.set(self.prev));
    }
}

/// Task polls nested inside the current poll, see [`enter_nested_polls`].
pub(crate) struct NestedPollsGuard {
    /// The poll flags of the poll around, given back at the end.
    flags: u8,
    /// The slot set aside (null if the slot stayed, or there was none).
    slot: *const PollSlot,
    /// The slot set aside by an enclosing guard.
    prev_nested: *const PollSlot,
}

/// Lets task polls run inside the poll in progress on this thread (a
/// `LocalSet` polls its tasks inside the poll of whatever drives it) until
/// the guard drops, without disturbing that poll's bookkeeping:
///
/// * The nested polls' flags do not overwrite the outer poll's: they are
///   put back when the guard drops.
/// * If the outer poll is on the blocked-poll monitor's slot, the slot is
///   set aside, so the nested polls neither begin nor end a poll on it (the
///   slot counts one poll at a time): the monitor goes on timing the outer
///   poll, which a nested poll that blocks does block. The nested polls
///   only name their task on the slot, so that a block is blamed on the
///   nested task running at the time. While a slot is set aside, this
///   thread must not give its worker core away
///   ([`nested_poll_slot_aside`] tells `block_in_place`), since the slot
///   goes with the core.
pub(crate) fn enter_nested_polls() -> NestedPollsGuard {
    CONTEXT
        .try_with(|c| {
            let slot = c.poll_slot.get();
            // SAFETY: as in `begin_poll`: a slot pointer in the context is
            // kept alive by its `set_poll_slot` guard.
            let polling = unsafe { slot.as_ref() }.is_some_and(PollSlot::is_polling);
            let (slot, prev_nested) = if polling {
                c.poll_slot.set(std::ptr::null());
                (slot, c.nested_slot.replace(slot))
            } else {
                (std::ptr::null(), std::ptr::null())
            };
            NestedPollsGuard {
                flags: c.poll_flags.get(),
                slot,
                prev_nested,
            }
        })
        .unwrap_or(NestedPollsGuard {
            flags: 0,
            slot: std::ptr::null(),
            prev_nested: std::ptr::null(),
        })
}

impl Drop for NestedPollsGuard {
    fn drop(&mut self) {
        let _ = CONTEXT.try_with(|c| {
            c.poll_flags.set(self.flags);
            if !self.slot.is_null() {
                // The slot is still alive: its `set_poll_slot` guard encloses
                // the outer poll, which encloses this guard, and it did not
                // leave with a worker core (`block_in_place` refuses to
                // hand the core over while it is set aside).
                c.poll_slot.set(self.slot);
                c.nested_slot.set(self.prev_nested);
            }
        });
    }
}

/// Whether an [`enter_nested_polls`] guard has set this thread's poll slot
/// aside (a `LocalSet` runs inside a task's poll on a worker thread).
pub(crate) fn nested_poll_slot_aside() -> bool {
    CONTEXT
        .try_with(|c| !c.nested_slot.get().is_null())
        .unwrap_or(false)
}

/// This thread's poll slot, taken away by [`detach_poll_slot`].
pub(crate) struct DetachedPollSlot {
    slot: *const PollSlot,
    /// Whether a poll was in progress on it (and so was ended early).
    was_polling: bool,
}

/// Takes the poll slot away from this thread for the rest of the current
/// poll (`block_in_place` hands it to another thread along with the
/// worker's core): if a poll is in progress on it, the poll ends there now,
/// so the monitor sees the slot idle; and this thread writes nothing more
/// to it, since the poll's own end finds no slot.
pub(crate) fn detach_poll_slot() -> DetachedPollSlot {
    CONTEXT
        .try_with(|c| {
            let slot = c.poll_slot.replace(std::ptr::null());
            // SAFETY: as in `begin_poll`: a slot pointer in the context is
            // kept alive by its `set_poll_slot` guard.
            let was_polling = match unsafe { slot.as_ref() } {
                Some(s) if s.is_polling() => {
                    s.end();
                    true
                }
                _ => false,
            };
            DetachedPollSlot { slot, was_polling }
        })
        .unwrap_or(DetachedPollSlot {
            slot: std::ptr::null(),
            was_polling: false,
        })
}

impl DetachedPollSlot {
    /// Gives the slot back to this thread (its core came back) and, if a
    /// poll was in progress when it was taken, begins it again: the monitor
    /// times the rest of the poll from now.
    ///
    /// Must be called inside the same poll as [`detach_poll_slot`], on the
    /// same thread (the type is not `Send`).
    pub(crate) fn reattach(self) {
        let _ = CONTEXT.try_with(|c| {
            c.poll_slot.set(self.slot);
            if !self.was_polling {
                return;
            }
            // SAFETY: the pointer came from this thread's context within
            // the same poll, and the `set_poll_slot` guard that keeps the
            // slot alive encloses every poll on this thread.
            let Some(slot) = (unsafe { self.slot.as_ref() }) else {
                return;
            };
            if let Some(task) = c.current_task.get() {
                // SAFETY: the current task is alive while it is polled.
                let id = unsafe { task.as_ref() }.meta.id;
                slot.begin(task, id);
            }
        });
    }
}
