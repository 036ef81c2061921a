use super::raw::RawTask;
use super::Id;
use crate::loom::sync::atomic::Ordering::Release;
use std::fmt;

/// A handle that can cancel a task but not read its output. Cloneable.
pub struct AbortHandle {
    raw: RawTask,
}

// As for `JoinHandle`: only the task's atomic state is touched.
impl std::panic::UnwindSafe for AbortHandle {}
impl std::panic::RefUnwindSafe for AbortHandle {}

impl AbortHandle {
    /// Takes over a reference the caller already counted, after marking
    /// the task `ABORTABLE` (see `State::set_abortable`).
    pub(crate) fn new(raw: RawTask) -> AbortHandle {
        debug_assert!(raw.header().state.load().is_abortable());
        // Counted after the reference (see `watch::task_watch` on lost wakers).
        raw.header().watch.abort_handles.fetch_add(1, Release);
        AbortHandle { raw }
    }

    /// Asks the task to stop; see [`JoinHandle::abort`](super::JoinHandle::abort).
    pub fn abort(&self) {
        super::abort_raw(self.raw);
    }

    /// `true` once the task has completed, successfully or not.
    pub fn is_finished(&self) -> bool {
        self.raw.header().state.load().is_complete()
    }

    /// The id of the task.
    pub fn id(&self) -> Id {
        self.raw.header().meta.id
    }
}

impl Clone for AbortHandle {
    fn clone(&self) -> Self {
        self.raw.ref_inc();
        AbortHandle::new(self.raw)
    }
}

impl Drop for AbortHandle {
    fn drop(&mut self) {
        // Uncounted before the reference goes.
        self.raw.header().watch.abort_handles.fetch_sub(1, Release);
        self.raw.drop_reference();
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("id", &self.id())
            .finish()
    }
}
