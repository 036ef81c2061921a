//! Type-erased access to a task: a pointer to its [`Header`] plus a vtable.
//!
//! Queues, wakers and handles all hold a [`RawTask`]; only the functions in
//! the vtable, monomorphised per future and scheduler type, know the layout
//! behind it.

use super::core::{Cell, Header};
use super::harness::Harness;
use super::Schedule;
use std::future::Future;
use std::ptr::NonNull;
use std::task::{Poll, Waker};

pub(crate) struct Vtable {
    /// Poll (or cancel) the future; consumes one `Notified` reference.
    pub(crate) poll: unsafe fn(NonNull<Header>),
    /// Hand a `Notified` reference to the task's scheduler.
    pub(crate) schedule: unsafe fn(NonNull<Header>),
    /// Free the allocation (reference count reached zero).
    pub(crate) dealloc: unsafe fn(NonNull<Header>),
    /// `JoinHandle::poll`: write the output to `dst` (a `*mut Poll<Result<T, JoinError>>`).
    pub(crate) try_read_output: unsafe fn(NonNull<Header>, *mut (), &Waker),
    /// `JoinHandle::drop`.
    pub(crate) drop_join_handle: unsafe fn(NonNull<Header>),
    /// Runtime shutdown: cancel the task if nobody runs it. `drop_future`
    /// false leaks the future instead (a `!Send` future on a foreign thread).
    pub(crate) shutdown: unsafe fn(NonNull<Header>, bool),
}

pub(crate) fn vtable<F: Future, S: Schedule>() -> &'static Vtable {
    &Vtable {
        poll: poll::<F, S>,
        schedule: schedule::<F, S>,
        dealloc: dealloc::<F, S>,
        try_read_output: try_read_output::<F, S>,
        drop_join_handle: drop_join_handle::<F, S>,
        shutdown: shutdown::<F, S>,
    }
}

unsafe fn poll<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the vtable is only ever installed in a `Cell<F, S>`.
    unsafe { Harness::<F, S>::from_raw(ptr) }.poll();
}

unsafe fn schedule<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: as above; the caller hands over one reference.
    let harness = unsafe { Harness::<F, S>::from_raw(ptr) };
    // SAFETY: the caller transfers a `Notified` reference.
    let notified = unsafe { super::Notified::from_raw(RawTask::from_raw(ptr)) };
    harness.scheduler().schedule(notified);
}

unsafe fn dealloc<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the reference count reached zero, so this is the last access,
    // and the allocation was made by `Box<Cell<F, S>>`.
    drop(unsafe { Box::from_raw(ptr.as_ptr().cast::<Cell<F, S>>()) });
}

unsafe fn try_read_output<F: Future, S: Schedule>(
    ptr: NonNull<Header>,
    dst: *mut (),
    waker: &Waker,
) {
    let dst = dst.cast::<Poll<Result<F::Output, super::JoinError>>>();
    // SAFETY: the caller is the join handle of a `Cell<F, S>` and `dst`
    // points at a `Poll<Result<F::Output, JoinError>>`.
    unsafe { Harness::<F, S>::from_raw(ptr).try_read_output(&mut *dst, waker) };
}

unsafe fn drop_join_handle<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the caller is the join handle, giving up its reference.
    unsafe { Harness::<F, S>::from_raw(ptr) }.drop_join_handle();
}

unsafe fn shutdown<F: Future, S: Schedule>(ptr: NonNull<Header>, drop_future: bool) {
    // SAFETY: the caller holds a reference to a `Cell<F, S>`.
    unsafe { Harness::<F, S>::from_raw(ptr) }.shutdown(drop_future);
}

/// A pointer to a task, without any reference-count ownership of its own;
/// the wrappers in `task/mod.rs` decide who owns which reference.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawTask {
    ptr: NonNull<Header>,
}

impl RawTask {
    pub(crate) fn new<F: Future, S: Schedule>(cell: Box<Cell<F, S>>) -> RawTask {
        let ptr = NonNull::from(Box::leak(cell)).cast::<Header>();
        RawTask { ptr }
    }

    /// # Safety
    /// `ptr` must point at the header of a live task.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> RawTask {
        RawTask { ptr }
    }

    pub(crate) fn header_ptr(self) -> NonNull<Header> {
        self.ptr
    }

    pub(crate) fn header(&self) -> &Header {
        // SAFETY: a `RawTask` is only used while some reference keeps the
        // allocation alive.
        unsafe { self.ptr.as_ref() }
    }

    pub(crate) fn poll(self) {
        // SAFETY: the vtable matches the allocation; the caller hands over a
        // `Notified` reference.
        unsafe { (self.header().vtable.poll)(self.ptr) }
    }

    pub(crate) fn schedule(self) {
        // SAFETY: as above.
        unsafe { (self.header().vtable.schedule)(self.ptr) }
    }

    pub(crate) fn dealloc(self) {
        // SAFETY: called only when the last reference was dropped.
        unsafe { (self.header().vtable.dealloc)(self.ptr) }
    }

    /// # Safety
    /// `dst` must be a `*mut Poll<Result<T, JoinError>>` of the task's output type.
    pub(crate) unsafe fn try_read_output(self, dst: *mut (), waker: &Waker) {
        // SAFETY: forwarded contract.
        unsafe { (self.header().vtable.try_read_output)(self.ptr, dst, waker) }
    }

    pub(crate) fn drop_join_handle(self) {
        // SAFETY: the join handle gives up its reference exactly once.
        unsafe { (self.header().vtable.drop_join_handle)(self.ptr) }
    }

    pub(crate) fn shutdown(self, drop_future: bool) {
        // SAFETY: the caller holds a reference.
        unsafe { (self.header().vtable.shutdown)(self.ptr, drop_future) }
    }

    pub(crate) fn ref_inc(self) {
        self.header().state.ref_inc();
    }

    /// Drops one reference, freeing the task if it was the last.
    pub(crate) fn drop_reference(self) {
        if self.header().state.ref_dec() {
            self.dealloc();
        }
    }
}

// SAFETY: tasks are designed to be referenced from any thread; `!Send`
// futures (spawn_local, `LocalSet`) are only ever polled on their owner
// thread, which the scheduler enforces.
unsafe impl Send for RawTask {}
// SAFETY: as above.
unsafe impl Sync for RawTask {}
