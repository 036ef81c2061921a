//! The task state word: every fact about a task's lifecycle in one atomic.
//!
//! Keeping lifecycle bits and the reference count in a single `usize` lets
//! each transition be one compare-and-swap, so there is no window in which a
//! waker sees "not running" while the poller is about to decide the task is
//! idle. The transitions below are the only code that writes the word.
//!
//! | bit | meaning |
//! | --- | --- |
//! | `RUNNING` | a thread owns the future (polling or cancelling it) |
//! | `COMPLETE` | the future is gone; the output (if any) is in the cell |
//! | `NOTIFIED` | a reference to the task sits in a run queue, or will when the current poll ends |
//! | `CANCELLED` | abort or shutdown asked the task to stop |
//! | `JOIN_INTEREST` | a `JoinHandle` still exists and wants the output |
//! | `JOIN_WAKER` | the join waker slot holds a waker the task may read |
//! | `ABORTABLE` | an `AbortHandle` was made (sticky): not every reference beyond the known ones is a waker |
//! | upper bits | reference count |
//!
//! A wake while `RUNNING` only sets `NOTIFIED`; the poller sees the bit when
//! the poll ends and reschedules the task once. A wake while `NOTIFIED` does
//! nothing. That is how "woken while running re-schedules once, never twice"
//! is enforced.

use crate::loom::sync::atomic::AtomicUsize;
use crate::loom::sync::atomic::Ordering::{AcqRel, Acquire};
use std::fmt;

const RUNNING: usize = 0b00_0001;
const COMPLETE: usize = 0b00_0010;
const NOTIFIED: usize = 0b00_0100;
const CANCELLED: usize = 0b00_1000;
const JOIN_INTEREST: usize = 0b01_0000;
const JOIN_WAKER: usize = 0b10_0000;
const ABORTABLE: usize = 0b100_0000;
const LIFECYCLE_MASK: usize = RUNNING | COMPLETE;
const REF_SHIFT: u32 = 7;
const REF_ONE: usize = 1 << REF_SHIFT;

/// A task starts with three references: the owned-task list, the first
/// `Notified` handed to the scheduler, and the `JoinHandle`.
const INITIAL: usize = (REF_ONE * 3) | JOIN_INTEREST | NOTIFIED;

pub(crate) struct State {
    val: AtomicUsize,
}

/// A copy of the state word, with readable accessors.
#[derive(Copy, Clone, PartialEq, Eq)]
pub(crate) struct Snapshot(usize);

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToRunning {
    /// The caller now owns the future and must poll it.
    Success,
    /// The caller owns the future and must cancel it (abort was requested).
    Cancelled,
    /// Someone else runs or completed the task; the caller's reference was dropped.
    Failed,
    /// As `Failed`, and it was the last reference: the caller must deallocate.
    Dealloc,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToIdle {
    /// Parked; the caller's reference was dropped.
    Ok,
    /// Woken during the poll: the caller keeps its reference and reschedules.
    OkNotified,
    /// Parked, and the caller's reference was the last one.
    OkDealloc,
    /// Aborted during the poll: the caller still owns the future and cancels it.
    Cancelled,
    /// Asked to look for a lost waker, and no reference beyond the known
    /// ones (owned list, poller, join handle) may be a waker: the word is
    /// unchanged (still `RUNNING`); the caller checks closely, then
    /// transitions again without the check.
    MaybeLost,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToNotified {
    /// Nothing to do (already queued, running, or complete).
    DoNothing,
    /// The caller holds a fresh reference and must submit it to the scheduler.
    Submit,
    /// The caller's reference was the last one: deallocate.
    Dealloc,
}

impl State {
    pub(crate) fn new() -> State {
        State {
            val: AtomicUsize::new(INITIAL),
        }
    }

    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.val.load(Acquire))
    }

    /// CAS loop helper: `f` returns the new value, or `None` to leave the
    /// word unchanged. Returns the value seen and whether it was replaced.
    fn fetch_update<R>(&self, mut f: impl FnMut(Snapshot) -> (R, Option<Snapshot>)) -> R {
        let mut curr = self.load();
        loop {
            let (ret, next) = f(curr);
            let Some(next) = next else { return ret };
            match self
                .val
                .compare_exchange_weak(curr.0, next.0, AcqRel, Acquire)
            {
                Ok(_) => return ret,
                Err(actual) => curr = Snapshot(actual),
            }
        }
    }

    /// Called by a scheduler that popped a `Notified` reference.
    pub(crate) fn transition_to_running(&self) -> TransitionToRunning {
        self.fetch_update(|mut s| {
            debug_assert!(s.is_notified() || s.is_complete() || s.is_running());
            if s.is_running() || s.is_complete() {
                // Shut down while queued: drop the queue's reference.
                s.ref_dec();
                let action = if s.ref_count() == 0 {
                    TransitionToRunning::Dealloc
                } else {
                    TransitionToRunning::Failed
                };
                return (action, Some(s));
            }
            s.0 |= RUNNING;
            s.0 &= !NOTIFIED;
            let action = if s.is_cancelled() {
                TransitionToRunning::Cancelled
            } else {
                TransitionToRunning::Success
            };
            (action, Some(s))
        })
    }

    /// Called by the poller when `poll` returned `Pending`. The watchdog's
    /// lost-waker test rides on the same read of the word: if the task was
    /// not woken during the poll, `lost_check()` says whether to look, and
    /// if it does and the word shows no waker, the word is left unchanged
    /// (see `TransitionToIdle::MaybeLost`). A plain loop rather than
    /// `fetch_update`: this runs after every `Pending` poll.
    #[inline]
    pub(crate) fn transition_to_idle(&self, lost_check: impl Fn() -> bool) -> TransitionToIdle {
        let mut curr = self.load();
        loop {
            debug_assert!(curr.is_running());
            if curr.is_cancelled() {
                return TransitionToIdle::Cancelled;
            }
            let mut next = Snapshot(curr.0 & !RUNNING);
            let action = if curr.is_notified() {
                TransitionToIdle::OkNotified
            } else {
                if curr.may_have_no_waker() && lost_check() {
                    return TransitionToIdle::MaybeLost;
                }
                next.ref_dec();
                if next.ref_count() == 0 {
                    TransitionToIdle::OkDealloc
                } else {
                    TransitionToIdle::Ok
                }
            };
            match self
                .val
                .compare_exchange_weak(curr.0, next.0, AcqRel, Acquire)
            {
                Ok(_) => return action,
                Err(actual) => curr = Snapshot(actual),
            }
        }
    }

    /// `RUNNING` -> `COMPLETE`. Returns the state just before.
    pub(crate) fn transition_to_complete(&self) -> Snapshot {
        let prev = Snapshot(self.val.fetch_xor(RUNNING | COMPLETE, AcqRel));
        debug_assert!(prev.is_running() && !prev.is_complete());
        prev
    }

    /// A waker consumed by `wake()`: its reference is handed over or dropped.
    pub(crate) fn transition_to_notified_by_val(&self) -> TransitionToNotified {
        self.fetch_update(|mut s| {
            let action = if s.is_running() {
                s.0 |= NOTIFIED;
                s.ref_dec();
                TransitionToNotified::DoNothing
            } else if s.is_complete() || s.is_notified() {
                s.ref_dec();
                if s.ref_count() == 0 {
                    TransitionToNotified::Dealloc
                } else {
                    TransitionToNotified::DoNothing
                }
            } else {
                // The waker's reference becomes the queue's reference.
                s.0 |= NOTIFIED;
                TransitionToNotified::Submit
            };
            (action, Some(s))
        })
    }

    /// `wake_by_ref()`: takes a new reference only when submitting.
    pub(crate) fn transition_to_notified_by_ref(&self) -> TransitionToNotified {
        self.fetch_update(|mut s| {
            if s.is_complete() {
                // Terminal: the task is never polled again.
                (TransitionToNotified::DoNothing, None)
            } else if s.is_notified() {
                // Already queued, so nothing changes, but the word is still
                // written (same value): that makes this wake a release
                // operation in the word's modification order, which the
                // poller's `transition_to_running` then reads from (or from
                // a later value), so whatever the waker wrote before waking
                // is visible to that poll. Returning on the plain load alone
                // would be a lost wakeup: the load may be stale (the poller
                // has already cleared NOTIFIED), and nothing would order the
                // waker's writes before the poll. Found by loom
                // (`loom_wake_by_ref_during_poll_reschedules_once`).
                (TransitionToNotified::DoNothing, Some(s))
            } else if s.is_running() {
                s.0 |= NOTIFIED;
                (TransitionToNotified::DoNothing, Some(s))
            } else {
                s.0 |= NOTIFIED;
                s.ref_inc();
                (TransitionToNotified::Submit, Some(s))
            }
        })
    }

    /// Abort from a handle. Returns `true` when the caller took a new
    /// reference that it must submit so a worker cancels the task.
    pub(crate) fn transition_to_notified_and_cancel(&self) -> bool {
        self.fetch_update(|mut s| {
            if s.is_cancelled() || s.is_complete() {
                (false, None)
            } else if s.is_running() || s.is_notified() {
                // The poller (now or when popped) sees CANCELLED.
                s.0 |= CANCELLED;
                (false, Some(s))
            } else {
                s.0 |= CANCELLED | NOTIFIED;
                s.ref_inc();
                (true, Some(s))
            }
        })
    }

    /// Shutdown: mark cancelled and, if nobody runs the task, claim it.
    /// Returns `true` when the caller now owns the future and must cancel it.
    pub(crate) fn transition_to_shutdown(&self) -> bool {
        self.fetch_update(|mut s| {
            let idle = s.0 & LIFECYCLE_MASK == 0;
            if idle {
                s.0 |= RUNNING;
            }
            s.0 |= CANCELLED;
            (idle, Some(s))
        })
    }

    /// The `JoinHandle` is going away. Returns the state just before, so the
    /// caller knows whether it must drop the output (complete) or the join
    /// waker (set and not complete).
    pub(crate) fn drop_join_interest(&self) -> Snapshot {
        self.fetch_update(|s| {
            let mut next = s;
            next.0 &= !JOIN_INTEREST;
            if !s.is_complete() {
                next.0 &= !JOIN_WAKER;
            }
            (s, Some(next))
        })
    }

    /// Publishes the join waker. Fails (returning the state) if the task
    /// completed meanwhile, in which case the caller still owns the slot.
    pub(crate) fn set_join_waker(&self) -> Result<(), Snapshot> {
        self.fetch_update(|s| {
            debug_assert!(s.is_join_interested() && !s.has_join_waker());
            if s.is_complete() {
                return (Err(s), None);
            }
            (Ok(()), Some(Snapshot(s.0 | JOIN_WAKER)))
        })
    }

    /// Takes the join waker slot back so it can be overwritten. Fails if the
    /// task completed meanwhile (the task may be reading the slot).
    pub(crate) fn unset_join_waker(&self) -> Result<(), Snapshot> {
        self.fetch_update(|s| {
            debug_assert!(s.is_join_interested() && s.has_join_waker());
            if s.is_complete() {
                return (Err(s), None);
            }
            (Ok(()), Some(Snapshot(s.0 & !JOIN_WAKER)))
        })
    }

    /// Marks the task as having (had) an abort handle, before that handle
    /// takes its reference: every snapshot that counts the handle's
    /// reference then shows `ABORTABLE`.
    pub(crate) fn set_abortable(&self) {
        if !self.load().is_abortable() {
            self.val.fetch_or(ABORTABLE, AcqRel);
        }
    }

    pub(crate) fn ref_inc(&self) {
        let prev = self
            .val
            .fetch_add(REF_ONE, crate::loom::sync::atomic::Ordering::Relaxed);
        // A reference count this large means refs are leaking in a loop;
        // stop before the count wraps into the flag bits.
        if prev > isize::MAX as usize {
            std::process::abort();
        }
    }

    /// Drops `n` references; returns `true` when they were the last ones.
    pub(crate) fn ref_dec_n(&self, n: usize) -> bool {
        let prev = Snapshot(self.val.fetch_sub(n * REF_ONE, AcqRel));
        debug_assert!(prev.ref_count() >= n);
        prev.ref_count() == n
    }

    pub(crate) fn ref_dec(&self) -> bool {
        self.ref_dec_n(1)
    }
}

impl Snapshot {
    pub(crate) fn is_running(self) -> bool {
        self.0 & RUNNING != 0
    }
    pub(crate) fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }
    pub(crate) fn is_notified(self) -> bool {
        self.0 & NOTIFIED != 0
    }
    pub(crate) fn is_cancelled(self) -> bool {
        self.0 & CANCELLED != 0
    }
    pub(crate) fn is_join_interested(self) -> bool {
        self.0 & JOIN_INTEREST != 0
    }
    pub(crate) fn has_join_waker(self) -> bool {
        self.0 & JOIN_WAKER != 0
    }

    /// Set once an `AbortHandle` was made for the task.
    pub(crate) fn is_abortable(self) -> bool {
        self.0 & ABORTABLE != 0
    }

    /// While `RUNNING`: no reference beyond the owned list's, the poller's
    /// and the join handle's exists, or some may be abort handles.
    fn may_have_no_waker(self) -> bool {
        self.is_abortable() || self.ref_count() <= 2 + usize::from(self.is_join_interested())
    }

    pub(crate) fn ref_count(self) -> usize {
        self.0 >> REF_SHIFT
    }
    fn ref_inc(&mut self) {
        self.0 += REF_ONE;
    }
    fn ref_dec(&mut self) {
        debug_assert!(self.ref_count() > 0);
        self.0 -= REF_ONE;
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("running", &self.is_running())
            .field("complete", &self.is_complete())
            .field("notified", &self.is_notified())
            .field("cancelled", &self.is_cancelled())
            .field("join_interest", &self.is_join_interested())
            .field("join_waker", &self.has_join_waker())
            .field("abortable", &self.is_abortable())
            .field("refs", &self.ref_count())
            .finish()
    }
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.load().fmt(f)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn wake_while_running_reschedules_once() {
        let s = State::new();
        assert_eq!(s.transition_to_running(), TransitionToRunning::Success);
        // Two wakes by reference during the poll: only NOTIFIED is set.
        assert_eq!(
            s.transition_to_notified_by_ref(),
            TransitionToNotified::DoNothing
        );
        assert_eq!(
            s.transition_to_notified_by_ref(),
            TransitionToNotified::DoNothing
        );
        assert_eq!(s.transition_to_idle(|| false), TransitionToIdle::OkNotified);
        // Already queued: further wakes do nothing.
        assert_eq!(
            s.transition_to_notified_by_ref(),
            TransitionToNotified::DoNothing
        );
        assert_eq!(s.load().ref_count(), 3);
    }

    #[test]
    fn idle_wake_submits_with_new_ref() {
        let s = State::new();
        assert_eq!(s.transition_to_running(), TransitionToRunning::Success);
        assert_eq!(s.transition_to_idle(|| false), TransitionToIdle::Ok);
        assert_eq!(s.load().ref_count(), 2);
        assert_eq!(
            s.transition_to_notified_by_ref(),
            TransitionToNotified::Submit
        );
        assert_eq!(s.load().ref_count(), 3);
    }

    #[test]
    fn lost_check_rides_on_the_idle_transition() {
        // Owned list, poller (the first `Notified`) and join handle: no
        // waker left, so the word stays RUNNING and the poller checks.
        let s = State::new();
        assert_eq!(s.transition_to_running(), TransitionToRunning::Success);
        assert_eq!(s.transition_to_idle(|| true), TransitionToIdle::MaybeLost);
        assert!(s.load().is_running());
        assert_eq!(s.load().ref_count(), 3);
        // A waker clone: not lost.
        s.ref_inc();
        assert_eq!(s.transition_to_idle(|| true), TransitionToIdle::Ok);
        assert_eq!(s.load().ref_count(), 3);

        // Woken during the poll: not lost either.
        let s = State::new();
        assert_eq!(s.transition_to_running(), TransitionToRunning::Success);
        s.transition_to_notified_by_ref();
        assert_eq!(s.transition_to_idle(|| true), TransitionToIdle::OkNotified);

        // Once an abort handle was made, every such poll is checked
        // closely (the extra reference may be the handle's).
        let s = State::new();
        s.set_abortable();
        s.ref_inc();
        assert_eq!(s.transition_to_running(), TransitionToRunning::Success);
        assert_eq!(s.transition_to_idle(|| true), TransitionToIdle::MaybeLost);
        assert_eq!(s.transition_to_idle(|| false), TransitionToIdle::Ok);
    }

    #[test]
    fn abort_idle_submits_and_cancels() {
        let s = State::new();
        assert_eq!(s.transition_to_running(), TransitionToRunning::Success);
        assert_eq!(s.transition_to_idle(|| false), TransitionToIdle::Ok);
        assert!(s.transition_to_notified_and_cancel());
        assert!(!s.transition_to_notified_and_cancel());
        assert_eq!(s.transition_to_running(), TransitionToRunning::Cancelled);
    }

    #[test]
    fn shutdown_claims_only_idle_tasks() {
        let s = State::new();
        assert_eq!(s.transition_to_running(), TransitionToRunning::Success);
        assert!(!s.transition_to_shutdown());
        assert_eq!(s.transition_to_idle(|| false), TransitionToIdle::Cancelled);
    }

    #[test]
    fn join_waker_handshake() {
        let s = State::new();
        s.set_join_waker().unwrap();
        s.unset_join_waker().unwrap();
        s.set_join_waker().unwrap();
        assert_eq!(s.transition_to_running(), TransitionToRunning::Success);
        let prev = s.transition_to_complete();
        assert!(prev.has_join_waker());
        assert!(s.unset_join_waker().is_err());
        let before = s.drop_join_interest();
        assert!(before.is_complete());
    }
}
