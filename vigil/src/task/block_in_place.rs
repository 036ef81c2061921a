//! [`block_in_place`]: blocking inside a task without stalling the tasks
//! queued behind it. Which kind of thread the caller is on decides what
//! happens; the worker side of it (handing the core over) is in the
//! multi-thread scheduler's `worker::block_in_place`.

use crate::runtime::context;
use crate::runtime::coop::Budget;
use crate::runtime::scheduler::{self, multi_thread::HandedOff};

/// Runs the blocking closure `f` on the current thread, letting the
/// runtime's other tasks run elsewhere meanwhile, and returns its result.
///
/// On a worker thread of a multi-thread runtime, the worker first hands
/// its queued tasks and its share of timer and I/O duty to a new thread,
/// which carries on as that worker, so nothing waits behind `f`. Then `f`
/// runs here; the task that called `block_in_place` is not suspended, it
/// simply keeps this thread until `f` returns. Inside `f` the thread counts
/// as outside the runtime: `Handle::block_on`, `blocking_recv` and the
/// other `blocking_*` methods may be used there, and the cooperative budget
/// does not apply. The watchdog does not report the time spent in `f` as a
/// blocked poll.
///
/// When `f` returns, the task's poll goes on. If the new thread has not
/// taken the worker's place yet, this thread takes it back; otherwise it
/// finishes the poll without one and then ends.
///
/// Elsewhere (inside a multi-thread runtime's `block_on`, or on a thread
/// that runs no runtime) `f` is simply called.
///
/// # Which one to use
///
/// [`spawn_blocking`](super::spawn_blocking) is the usual choice: it runs
/// the closure on the blocking pool, works on both runtime flavours, and
/// the task can wait for it with `.await` (or run other futures
/// meanwhile). `block_in_place` suits blocking code that needs the task's
/// borrows (no `'static` bound, no `Send` bound), or a synchronous call
/// deep inside async code that cannot be restructured; it costs a thread
/// start per call, and the task itself waits for `f` (a `select!` around
/// it, for example, cannot cancel it).
///
/// # Panics
///
/// On a thread that drives a current-thread runtime (inside its
/// `block_on`, or in a task it runs): that thread is the only one its
/// tasks have, so blocking it stops them all. Use `spawn_blocking`, or a
/// multi-thread runtime.
///
/// In a task of a [`LocalSet`](super::LocalSet) that a worker thread polls
/// inside one of its own tasks: the worker cannot hand that poll over.
/// (Inside [`LocalSet::block_on`](super::LocalSet::block_on) on a
/// multi-thread runtime the set runs on the calling thread, not on a
/// worker, and `f` is simply called.)
///
/// A panic in `f` passes through: in a task, the task ends with a panic
/// its [`JoinHandle`](super::JoinHandle) reports, and the runtime goes on.
///
/// # Examples
///
/// ```
/// use vigil::runtime::Builder;
/// use vigil::sync::oneshot;
///
/// let rt = Builder::new_multi_thread().worker_threads(1).build().unwrap();
/// rt.block_on(async {
///     let (tx, rx) = oneshot::channel();
///     // Runs on the runtime while the task below blocks its thread.
///     vigil::spawn(async move { tx.send("from another task").unwrap() });
///
///     let got = vigil::spawn(async move {
///         let mut log = Vec::new();
///         // A borrowing closure that waits synchronously.
///         vigil::task::block_in_place(|| log.push(rx.blocking_recv().unwrap()));
///         log
///     })
///     .await
///     .unwrap();
///     assert_eq!(got, ["from another task"]);
/// });
/// ```
#[track_caller]
pub fn block_in_place<F, R>(f: F) -> R
where
    F: FnOnce() -> R,
{
    let _blocking = Blocking::enter();
    f()
}

/// The thread's state for the length of the closure: restored (and the
/// core taken back, if it can be) when dropped, even if the closure panics.
struct Blocking {
    handed_off: Option<HandedOff>,
    budget: Budget,
    _driving: context::ExitDrivingGuard,
}

/// Where `block_in_place` was called from.
enum Caller {
    CurrentThread,
    /// A worker of a multi-thread runtime, with what it handed over.
    Worker(Option<HandedOff>),
    /// A task of a `LocalSet` that a worker's task is polling.
    LocalSetInWorker,
    Elsewhere,
}

impl Blocking {
    #[track_caller]
    fn enter() -> Blocking {
        let caller = context::with_scheduler(|cx| match cx {
            Some(scheduler::Context::CurrentThread(_)) => Caller::CurrentThread,
            // A `LocalSet` polled inside a task on this worker: its tasks
            // (this caller among them) run inside that task's poll, which
            // holds the worker's poll slot and cannot hand it over.
            Some(scheduler::Context::MultiThread(_)) if context::nested_poll_slot_aside() => {
                Caller::LocalSetInWorker
            }
            Some(scheduler::Context::MultiThread(cx)) => Caller::Worker(cx.hand_off_core()),
            // A current-thread `block_on` that waits for another thread to
            // release the runtime's core still drives that runtime.
            None if context::is_driving()
                && matches!(
                    context::try_current(),
                    Some(scheduler::Handle::CurrentThread(_))
                ) =>
            {
                Caller::CurrentThread
            }
            None => Caller::Elsewhere,
        });
        let handed_off = match caller {
            Caller::CurrentThread => panic!(
                "`vigil::task::block_in_place` was called on a current-thread runtime, whose \
                 tasks have only this thread: blocking it would stop them all. Use \
                 `vigil::task::spawn_blocking`, or a multi-thread runtime."
            ),
            Caller::LocalSetInWorker => panic!(
                "`vigil::task::block_in_place` was called by a `LocalSet` task that a worker \
                 thread runs inside another task's poll: that poll cannot move to another \
                 thread. Use `vigil::task::spawn_blocking`, or drive the `LocalSet` from \
                 `Runtime::block_on` instead of from a task."
            ),
            Caller::Worker(handed_off) => handed_off,
            Caller::Elsewhere => None,
        };
        Blocking {
            handed_off,
            budget: context::replace_budget(Budget::unconstrained()),
            _driving: context::exit_driving(),
        }
    }
}

impl Drop for Blocking {
    fn drop(&mut self) {
        if let Some(handed_off) = self.handed_off.take() {
            context::with_scheduler(|cx| {
                if let Some(scheduler::Context::MultiThread(cx)) = cx {
                    cx.reclaim_core(handed_off);
                }
            });
        }
        context::replace_budget(self.budget);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::block_in_place;
    use crate::runtime::coop::{self, BUDGET};
    use std::task::{Context, Waker};

    /// Operations the current budget still allows (spending all of it).
    fn spend_all(cx: &mut Context<'_>) -> usize {
        (0..=usize::from(BUDGET) + 1)
            .take_while(|_| coop::poll_proceed(cx).is_ready())
            .count()
    }

    #[test]
    fn the_closure_has_no_budget_and_the_poll_gets_its_own_back() {
        let mut cx = Context::from_waker(Waker::noop());
        let poll = coop::start_poll();
        for _ in 0..10 {
            assert!(coop::poll_proceed(&mut cx).is_ready());
        }
        let inside = block_in_place(|| {
            let mut cx = Context::from_waker(Waker::noop());
            (0..1000)
                .filter(|_| coop::poll_proceed(&mut cx).is_ready())
                .count()
        });
        assert_eq!(inside, 1000, "the closure was held to a budget");
        assert_eq!(spend_all(&mut cx), usize::from(BUDGET) - 10);
        drop(poll);
    }
}
