//! The waker of a task is the task pointer itself with a static vtable:
//! cloning is a reference-count increment, waking is a state transition and,
//! at most once per poll, a push onto a run queue. Nothing allocates.

use super::core::Header;
use super::meta::TaskStats;
use super::raw::RawTask;
use super::state::TransitionToNotified;
use crate::runtime::context;
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake_by_val, wake_by_ref, drop_waker);

/// A waker borrowed from the poller's reference: no count change on
/// creation, none on drop.
pub(crate) struct WakerRef {
    waker: ManuallyDrop<Waker>,
}

impl Deref for WakerRef {
    type Target = Waker;
    fn deref(&self) -> &Waker {
        &self.waker
    }
}

pub(crate) fn waker_ref(header: NonNull<Header>) -> WakerRef {
    // SAFETY: the vtable functions below uphold the `RawWaker` contract for a
    // task header pointer; ManuallyDrop keeps this borrowed waker from
    // dropping a reference it never took.
    let waker = unsafe { Waker::from_raw(RawWaker::new(header.as_ptr() as *const (), &VTABLE)) };
    WakerRef {
        waker: ManuallyDrop::new(waker),
    }
}

fn raw(ptr: *const ()) -> RawTask {
    // SAFETY: wakers of this vtable are only built from live task headers,
    // and each owns (or borrows) a reference that keeps the task alive.
    unsafe { RawTask::from_raw(NonNull::new_unchecked(ptr as *mut Header)) }
}

fn note_self_wake(task: RawTask) {
    if context::note_self_wake(task.header_ptr()) {
        TaskStats::bump(&task.header().stats.self_wakes, 1);
    }
}

unsafe fn clone(ptr: *const ()) -> RawWaker {
    raw(ptr).ref_inc();
    RawWaker::new(ptr, &VTABLE)
}

unsafe fn wake_by_val(ptr: *const ()) {
    let task = raw(ptr);
    note_self_wake(task);
    match task.header().state.transition_to_notified_by_val() {
        TransitionToNotified::Submit => task.schedule(),
        TransitionToNotified::Dealloc => task.dealloc(),
        TransitionToNotified::DoNothing => {}
    }
}

unsafe fn wake_by_ref(ptr: *const ()) {
    let task = raw(ptr);
    note_self_wake(task);
    if task.header().state.transition_to_notified_by_ref() == TransitionToNotified::Submit {
        task.schedule();
    }
}

unsafe fn drop_waker(ptr: *const ()) {
    raw(ptr).drop_reference();
}
