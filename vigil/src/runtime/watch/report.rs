//! What the watchdog tells a person.

use super::Policy;
use crate::runtime::task::Id;
use std::fmt;
use std::panic::Location;
use std::time::Duration;

/// Which misbehaviour a [`Report`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReportKind {
    /// The task keeps waking itself and returning `Pending` without making
    /// progress: it is rescheduled forever and burns a core (the shape of
    /// the 2025 TLS proxy incident).
    Spinning,
    /// One poll of the task has been running for a long time: it blocks its
    /// worker thread (a `std::thread::sleep`, blocking I/O, a lock held
    /// across slow work, or a long computation inside async code).
    BlockedPoll,
    /// The task returned `Pending` while no clone of its waker existed
    /// anywhere: nothing can ever wake it again.
    LostWaker,
}

impl ReportKind {
    pub(crate) fn index(self) -> usize {
        match self {
            ReportKind::Spinning => 0,
            ReportKind::BlockedPoll => 1,
            ReportKind::LostWaker => 2,
        }
    }

    fn label(self) -> &'static str {
        match self {
            ReportKind::Spinning => "spinning",
            ReportKind::BlockedPoll => "blocked poll",
            ReportKind::LostWaker => "lost waker",
        }
    }
}

impl fmt::Display for ReportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One diagnosis of the watchdog: which task, where it was spawned, what it
/// did and what the runtime did about it.
///
/// Its `Display` is a message a person can act on:
///
/// ```text
/// vigil watchdog: task 7 "proxy" spawned at src/main.rs:42:9 is spinning: it woke itself
/// 12031 times without making progress over 250 ms (41 ms of CPU inside its polls, ...
/// ```
#[derive(Clone, Debug)]
pub struct Report {
    pub(crate) kind: ReportKind,
    pub(crate) task_id: Id,
    pub(crate) task_name: Option<Box<str>>,
    pub(crate) location: &'static Location<'static>,
    pub(crate) policy: Policy,
    /// Spinning: the run of spurious polls; blocked: time in the poll so far.
    pub(crate) duration: Duration,
    /// Spinning: CPU time spent inside the spurious polls.
    pub(crate) cpu_time: Duration,
    /// Spinning: spurious wake-ups in the run.
    pub(crate) spurious_wakes: u64,
    /// Blocked poll: which worker (0 for the current-thread runtime).
    pub(crate) worker: Option<usize>,
    /// The future of a `block_on`, not a task.
    pub(crate) block_on: bool,
}

impl Report {
    /// What was detected.
    pub fn kind(&self) -> ReportKind {
        self.kind
    }

    /// The task's id. For the future of a `block_on`
    /// ([`is_block_on`](Self::is_block_on)), an id of its own that no task
    /// has, the same in every report about that call.
    pub fn task_id(&self) -> Id {
        self.task_id
    }

    /// The task's name, if it was spawned with
    /// [`task::Builder::name`](crate::task::Builder::name).
    pub fn task_name(&self) -> Option<&str> {
        self.task_name.as_deref()
    }

    /// Where the task was spawned; for the future of a `block_on`, where
    /// `block_on` was called (for `#[vigil::main]` and `#[vigil::test]`,
    /// the function they mark).
    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }

    /// Whether the report is about the future passed to `block_on` (the
    /// body of `#[vigil::main]` or `#[vigil::test]`) rather than a task.
    /// Such a future is watched for blocked polls on the current-thread
    /// runtime, where its thread is also the tasks' thread, and for a lost
    /// waker on both runtimes. It is never throttled or cancelled: the
    /// report is all the policy does.
    pub fn is_block_on(&self) -> bool {
        self.block_on
    }

    /// The policy the runtime applied.
    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// For [`ReportKind::Spinning`], how long the run of spurious polls has
    /// lasted; for [`ReportKind::BlockedPoll`], how long the poll had run
    /// when it was reported (at least that long). Zero for a lost waker.
    pub fn duration(&self) -> Duration {
        self.duration
    }

    /// For [`ReportKind::Spinning`], the CPU time spent inside the task's
    /// polls during the episode (estimated from the busy-time samples unless
    /// every poll is timed); otherwise zero. The thread spends more than
    /// that: rescheduling the task after each spurious wake is work too, so
    /// a spin typically occupies a whole core.
    pub fn cpu_time(&self) -> Duration {
        self.cpu_time
    }

    /// For [`ReportKind::Spinning`], how many times the task woke itself
    /// without progress in this episode; otherwise zero.
    pub fn spurious_wakes(&self) -> u64 {
        self.spurious_wakes
    }

    /// For [`ReportKind::BlockedPoll`], the worker thread that is blocked
    /// (its index; 0 on a current-thread runtime).
    pub fn worker(&self) -> Option<usize> {
        self.worker
    }

    pub(crate) fn new(
        kind: ReportKind,
        task_id: Id,
        task_name: Option<&str>,
        location: &'static Location<'static>,
        policy: Policy,
    ) -> Report {
        Report {
            kind,
            task_id,
            task_name: task_name.map(Into::into),
            location,
            policy,
            duration: Duration::ZERO,
            cpu_time: Duration::ZERO,
            spurious_wakes: 0,
            worker: None,
            block_on: false,
        }
    }
}

/// Milliseconds with one decimal below 10 ms.
struct Millis(Duration);

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_secs_f64() * 1e3;
        if ms < 10.0 {
            write!(f, "{ms:.1} ms")
        } else {
            write!(f, "{ms:.0} ms")
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.block_on {
            write!(
                f,
                "vigil watchdog: the future of block_on called at {} (id {})",
                self.location, self.task_id
            )?;
        } else {
            write!(f, "vigil watchdog: task {}", self.task_id)?;
            if let Some(name) = &self.task_name {
                write!(f, " \"{name}\"")?;
            }
            write!(f, " spawned at {}", self.location)?;
        }
        match self.kind {
            ReportKind::Spinning => write!(
                f,
                " is spinning: it woke itself {} times without making progress over {} ({} of \
                 CPU inside its polls, plus the runtime's work of rescheduling it each time), with \
                 no I/O, timer or yield to explain it. A future that returns Pending \
                 must be woken by an event it waits for; waking itself at once makes the runtime \
                 poll it forever.",
                self.spurious_wakes,
                Millis(self.duration),
                Millis(self.cpu_time),
            )?,
            ReportKind::BlockedPoll => {
                write!(
                    f,
                    " has been inside one poll for {} and blocks ",
                    Millis(self.duration)
                )?;
                match self.worker {
                    Some(w) => write!(f, "worker thread {w}")?,
                    None => f.write_str("its thread")?,
                }
                f.write_str(
                    ": blocking calls (std::thread::sleep, std I/O, a contended std Mutex) or \
                     long computations belong in vigil::task::spawn_blocking, or must be replaced \
                     by their async equivalents.",
                )?
            }
            ReportKind::LostWaker => {
                f.write_str(
                    " returned Pending but kept no waker: nothing can ever wake it again, ",
                )?;
                f.write_str(if self.block_on {
                    "so the block_on call will never return."
                } else {
                    "it will only end if it is aborted or the runtime shuts down."
                })?;
                f.write_str(
                    " A future must hand cx.waker() to whatever will complete it before \
                     returning Pending.",
                )?
            }
        }
        let action = match self.policy {
            _ if self.block_on => {
                "reported only (a block_on future is not a task: it is never \
                                   throttled or cancelled)"
            }
            Policy::Warn | Policy::Ignore => "reported only",
            Policy::Throttle if self.kind == ReportKind::Spinning => {
                "throttled to one poll per millisecond until it makes progress"
            }
            Policy::Throttle => "reported only (nothing to throttle)",
            Policy::Abort if self.kind == ReportKind::BlockedPoll => {
                "cancelled when its poll returns"
            }
            Policy::Abort => "cancelled",
        };
        write!(f, " [policy {:?}: {action}]", self.policy)
    }
}
