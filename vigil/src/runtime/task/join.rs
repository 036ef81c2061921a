use super::raw::RawTask;
use super::{AbortHandle, Id, JoinError};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

/// An owned permission to await a spawned task's output.
///
/// Awaiting it yields `Ok(output)`, or a [`JoinError`] if the task panicked
/// or was cancelled. Dropping it *detaches* the task: it keeps running and its
/// output is dropped when it finishes. Awaiting a `JoinHandle` is cancel
/// safe: dropping the `.await` loses nothing, and the handle can be awaited
/// again.
pub struct JoinHandle<T> {
    raw: RawTask,
    _p: PhantomData<T>,
}

// SAFETY: the handle only moves the output (`T: Send`) between threads; all
// shared state goes through the task's atomic state word.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: as above; `&JoinHandle` only exposes abort and status queries.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> Unpin for JoinHandle<T> {}

// A panic while a handle is in use leaves nothing half-updated: the task's
// state changes only through its atomic state word, and a task's own
// panic is caught and becomes its output. So handles may cross
// `catch_unwind`, as Tokio's do.
impl<T> std::panic::UnwindSafe for JoinHandle<T> {}
impl<T> std::panic::RefUnwindSafe for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    pub(crate) fn new(raw: RawTask) -> JoinHandle<T> {
        JoinHandle {
            raw,
            _p: PhantomData,
        }
    }

    /// Asks the task to stop. A task that has not finished is cancelled the
    /// next time it would be polled (its future is dropped on a runtime
    /// thread) and the handle then yields a cancelled [`JoinError`]. A task
    /// that already finished keeps its output.
    pub fn abort(&self) {
        super::abort_raw(self.raw);
    }

    /// `true` once the task has completed, successfully or not.
    pub fn is_finished(&self) -> bool {
        self.raw.header().state.load().is_complete()
    }

    /// A handle that can abort the task without owning its output.
    pub fn abort_handle(&self) -> AbortHandle {
        self.raw.header().state.set_abortable();
        self.raw.ref_inc();
        AbortHandle::new(self.raw)
    }

    /// The id of the task.
    pub fn id(&self) -> Id {
        self.raw.header().meta.id
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Awaiting many finished handles in a row counts against the budget,
        // like any other operation that completes without waiting.
        if crate::runtime::coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        let mut ret = Poll::Pending;
        // SAFETY: `ret` has the output type of the task this handle joins.
        unsafe {
            self.raw.try_read_output(
                &mut ret as *mut Poll<Result<T, JoinError>> as *mut (),
                cx.waker(),
            )
        };
        crate::runtime::coop::refund_if_pending(ret)
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        self.raw.drop_join_handle();
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id())
            .field("finished", &self.is_finished())
            .finish()
    }
}
