//! Identity and counters recorded for every task.
//!
//! The identity (id, optional name, spawn location) is what a diagnostic
//! must print for a person to find the code. The counters are what the
//! watchdog reads to decide whether a task misbehaves. They are written only
//! by the thread that polls the task, with plain relaxed loads and stores (no
//! read-modify-write), so keeping them costs a few cycles per poll; poll
//! timing, which needs a clock read, runs only when the runtime asks for it.

use crate::loom::sync::atomic::{AtomicU64, Ordering::Relaxed};
use crate::runtime::watch::Policy;
use std::fmt;
use std::num::NonZeroU64;
use std::panic::Location;

/// An opaque, unique identifier of a task, never reused within a process.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(NonZeroU64);

impl Id {
    pub(crate) fn next() -> Id {
        // Not loom-modelled: a process-wide counter, independent of any task.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Id(NonZeroU64::new(id).expect("task ids exhausted"))
    }

    /// The id whose numeric value is `n` (`None` for 0, which no id has).
    pub(crate) fn from_u64(n: u64) -> Option<Id> {
        NonZeroU64::new(n).map(Id)
    }

    /// The numeric value of the id.
    pub fn as_u64(&self) -> u64 {
        self.0.get()
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

/// What a spawner may choose about a task (`task::Builder`).
#[derive(Clone, Debug, Default)]
pub(crate) struct TaskOptions {
    pub(crate) name: Option<Box<str>>,
    pub(crate) policy: Option<Policy>,
}

/// Who a task is: fixed at spawn.
pub(crate) struct TaskMeta {
    pub(crate) id: Id,
    pub(crate) name: Option<Box<str>>,
    pub(crate) location: &'static Location<'static>,
    /// Overrides the runtime's watchdog policy for this task.
    pub(crate) policy: Option<Policy>,
}

impl TaskMeta {
    pub(crate) fn new(options: TaskOptions, location: &'static Location<'static>) -> TaskMeta {
        TaskMeta {
            id: Id::next(),
            name: options.name,
            location,
            policy: options.policy,
        }
    }
}

/// What a task has done so far.
pub(crate) struct TaskStats {
    /// Number of completed polls.
    pub(crate) polls: AtomicU64,
    /// Nanoseconds spent inside the polls that were timed (one in
    /// [`SAMPLE_EVERY`](crate::runtime::watch::task_watch::SAMPLE_EVERY) per
    /// thread, or all of them if the watchdog is configured so).
    pub(crate) poll_nanos: AtomicU64,
    /// Wakes of the task by itself, from inside its own poll.
    pub(crate) self_wakes: AtomicU64,
}

impl TaskStats {
    pub(crate) fn new() -> TaskStats {
        TaskStats {
            polls: AtomicU64::new(0),
            poll_nanos: AtomicU64::new(0),
            self_wakes: AtomicU64::new(0),
        }
    }

    /// Single-writer increment: only the polling thread writes these.
    #[inline]
    pub(crate) fn bump(counter: &AtomicU64, by: u64) {
        counter.store(counter.load(Relaxed).wrapping_add(by), Relaxed);
    }

    #[inline]
    pub(crate) fn bump_polls(&self) {
        TaskStats::bump(&self.polls, 1);
    }

    #[inline]
    pub(crate) fn add_poll_nanos(&self, nanos: u64) {
        TaskStats::bump(&self.poll_nanos, nanos);
    }
}
