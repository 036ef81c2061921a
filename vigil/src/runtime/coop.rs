//! Cooperative scheduling: a budget of operations per task poll.
//!
//! A future that always finds its resource ready (a socket with a full
//! receive buffer, an in-memory pipe, a channel another task keeps filling)
//! would otherwise loop inside one poll forever, starving every other task
//! and every timer on its thread. So each poll of a task starts with a budget
//! of [`BUDGET`] operations; vigil's resources spend one unit per completed
//! operation through [`poll_proceed`], and once the budget is spent they
//! return `Pending` after waking the task. The task goes to the back of the
//! run queue and continues on its next turn. Outside a task (a plain
//! `block_on` on a non-runtime executor, for instance) the budget is
//! unconstrained.
//!
//! A forced yield is recorded, so diagnostics can tell it from a task that
//! spins by waking itself.

use super::context;
use std::task::{Context, Poll};

/// Operations a task may complete in one poll.
pub(crate) const BUDGET: u8 = 128;

/// The remaining budget of the current poll (`None`: unconstrained), and
/// whether the poll was forced to yield.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Budget {
    remaining: Option<u8>,
    forced_yield: bool,
    /// An operation completed while unconstrained (`remaining` is `None`),
    /// for [`with_unconstrained`] to report to the constrained poll around.
    progressed: bool,
}

impl Budget {
    pub(crate) const fn initial() -> Budget {
        Budget {
            remaining: Some(BUDGET),
            forced_yield: false,
            progressed: false,
        }
    }

    pub(crate) const fn unconstrained() -> Budget {
        Budget {
            remaining: None,
            forced_yield: false,
            progressed: false,
        }
    }

    /// `true` unless the budget is used up (an unconstrained one never is).
    #[inline]
    pub(crate) fn has_remaining(self) -> bool {
        self.remaining != Some(0)
    }

    /// `true` if the poll neither completed an operation (spent a unit and
    /// kept it) nor ran out of budget: the runtime saw it do nothing.
    #[inline]
    pub(crate) fn is_untouched(self) -> bool {
        self.remaining == Some(BUDGET) && !self.forced_yield
    }
}

/// Gives the current thread a fresh budget until the guard drops; the guard
/// then restores the previous one and reports whether this poll ran out.
pub(crate) struct BudgetGuard {
    prev: Budget,
}

pub(crate) fn start_poll() -> BudgetGuard {
    BudgetGuard {
        prev: context::replace_budget(Budget::initial()),
    }
}

impl BudgetGuard {
    /// Ends the poll's budget; returns what it was at the end.
    pub(crate) fn finish(self) -> Budget {
        let prev = self.prev;
        std::mem::forget(self);
        context::replace_budget(prev)
    }
}

impl Drop for BudgetGuard {
    fn drop(&mut self) {
        context::replace_budget(self.prev);
    }
}

/// Puts back a budget read before an operation that ended `Pending`
/// (`task::coop::RestoreOnPending`).
pub(crate) fn restore(budget: Budget) {
    context::replace_budget(budget);
}

/// Gives back the unit spent by the last [`poll_proceed`] when the
/// operation it allowed ended `Pending`: only completed operations count, so
/// an untouched budget at the end of a poll means the poll made no progress
/// on any vigil resource (which the watchdog uses to spot spinning tasks).
#[inline]
pub(crate) fn refund() {
    let _ = context::with_budget(|cell| {
        let mut budget = cell.get();
        if let Some(n) = budget.remaining {
            budget.remaining = Some(n.saturating_add(1).min(BUDGET));
            cell.set(budget);
        }
    });
}

/// Passes `poll` through, giving the budget unit back if it is `Pending`.
#[inline]
pub(crate) fn refund_if_pending<T>(poll: Poll<T>) -> Poll<T> {
    if poll.is_pending() {
        refund();
    }
    poll
}

/// Spends one unit of budget, or, if none is left, wakes the task and
/// returns `Pending` so that it yields.
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    let proceed = context::with_budget(|cell| {
        let mut budget = cell.get();
        match budget.remaining {
            None => {
                if !budget.progressed {
                    budget.progressed = true;
                    cell.set(budget);
                }
                true
            }
            Some(0) => {
                budget.forced_yield = true;
                cell.set(budget);
                false
            }
            Some(n) => {
                budget.remaining = Some(n - 1);
                cell.set(budget);
                true
            }
        }
    })
    .unwrap_or(true);
    if proceed {
        Poll::Ready(())
    } else {
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Runs `f` with no budget (vigil's resources never force a yield inside
/// it), then restores the budget of the poll around it. Progress made
/// inside counts as one operation of that poll, so the watchdog does not
/// mistake an unconstrained future that did work for a spinning one.
pub(crate) fn with_unconstrained<R>(f: impl FnOnce() -> R) -> R {
    /// Restores the outer budget even if `f` panics.
    struct Restore(Budget);
    impl Drop for Restore {
        fn drop(&mut self) {
            let inner = context::replace_budget(self.0);
            if inner.progressed {
                spend_one_without_yielding();
            }
        }
    }
    let _restore = Restore(context::replace_budget(Budget::unconstrained()));
    f()
}

/// Counts one completed operation against the current budget without ever
/// asking for a yield (an empty budget stays empty).
fn spend_one_without_yielding() {
    let _ = context::with_budget(|cell| {
        let mut budget = cell.get();
        match budget.remaining {
            Some(n) if n > 0 => budget.remaining = Some(n - 1),
            Some(_) => {}
            None => budget.progressed = true,
        }
        cell.set(budget);
    });
}

/// Like [`poll_proceed`] but spends nothing: `Pending` (after waking the
/// task, and counted as a forced yield) only when the budget is already
/// spent. For combinators such as `select!` that do no operation of their
/// own but should not keep picking a branch that ignores the budget while
/// the budget-aware ones have been told to yield.
#[cfg_attr(not(feature = "macros"), allow(dead_code))]
pub(crate) fn poll_budget_available(cx: &mut Context<'_>) -> Poll<()> {
    let available = context::with_budget(|cell| {
        let mut budget = cell.get();
        if budget.remaining == Some(0) {
            budget.forced_yield = true;
            cell.set(budget);
            false
        } else {
            true
        }
    })
    .unwrap_or(true);
    if available {
        Poll::Ready(())
    } else {
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::task::Waker;

    #[test]
    fn budget_runs_out_then_yields() {
        let guard = start_poll();
        let mut cx = Context::from_waker(Waker::noop());
        for _ in 0..BUDGET {
            assert!(poll_proceed(&mut cx).is_ready());
        }
        assert!(poll_proceed(&mut cx).is_pending());
        assert!(poll_budget_available(&mut cx).is_pending());
        let spent = guard.finish();
        assert!(spent.forced_yield && !spent.is_untouched());
        // Outside a poll: unconstrained again.
        for _ in 0..1000 {
            assert!(poll_proceed(&mut cx).is_ready());
        }
        assert!(poll_budget_available(&mut cx).is_ready());
    }

    #[test]
    fn checking_the_budget_spends_none() {
        let guard = start_poll();
        let mut cx = Context::from_waker(Waker::noop());
        for _ in 0..1000 {
            assert!(poll_budget_available(&mut cx).is_ready());
        }
        assert!(guard.finish().is_untouched());
    }

    #[test]
    fn unconstrained_never_yields_and_its_progress_counts_once() {
        let guard = start_poll();
        let mut cx = Context::from_waker(Waker::noop());
        with_unconstrained(|| {
            for _ in 0..10 * u32::from(BUDGET) {
                assert!(poll_proceed(&mut cx).is_ready());
            }
        });
        let spent = guard.finish();
        assert_eq!(spent.remaining, Some(BUDGET - 1));
        assert!(!spent.is_untouched());

        let guard = start_poll();
        with_unconstrained(|| {});
        assert!(guard.finish().is_untouched(), "no progress, nothing spent");
    }
}
