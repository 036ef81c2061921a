//! [`Id`]: the identity of a scheduler.

use std::fmt;
use std::num::NonZeroU64;

/// An opaque identifier of a scheduler, such as a
/// [`LocalSet`](crate::task::LocalSet) (see
/// [`LocalSet::id`](crate::task::LocalSet::id)).
///
/// Ids are never reused within a process. They say nothing about the
/// order in which schedulers were created.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Id(NonZeroU64);

impl Id {
    pub(crate) fn next() -> Id {
        // A process-wide counter, independent of any scheduler (not
        // loom-modelled).
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Id(NonZeroU64::new(id).expect("scheduler ids exhausted"))
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({})", self.0)
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
