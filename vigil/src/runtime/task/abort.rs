use super::raw::RawTask;
use super::Id;
use std::fmt;

/// A handle that can cancel a task but not read its output. Cloneable.
pub struct AbortHandle {
    raw: RawTask,
}

impl AbortHandle {
    pub(crate) fn new(raw: RawTask) -> AbortHandle {
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
        AbortHandle { raw: self.raw }
    }
}

impl Drop for AbortHandle {
    fn drop(&mut self) {
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
