//! Loom models of the task state machine.
//!
//! Run with
//! `RUSTFLAGS="--cfg loom" cargo test -p vigil --release --lib loom`.
//!
//! Every test drives real tasks (the same `Cell`, `Harness`, waker vtable and
//! state word the runtime uses) through a tiny mock scheduler, so loom checks
//! the actual compare-and-swap protocol in `state.rs` and the `UnsafeCell`
//! accesses it arbitrates (the stage and the join-waker slot are loom cells:
//! an access not ordered by the state word is reported as a data race).
//!
//! Each test races exactly one pair of operations whose interleaving the
//! state word must arbitrate. Their shared checks are:
//! * every future and every output is dropped exactly once (drop counters);
//! * every task is freed: the mock scheduler's handle is a `loom::sync::Arc`
//!   and each task cell holds a clone of it, so a task whose reference count
//!   never reaches zero makes loom fail the iteration with "Arc leaked";
//! * a task is never in the run queue twice at once (asserted on each push).
//!
//! The bookkeeping (drop counters, counting wakers) deliberately uses `std`
//! atomics: loom runs all model threads on one OS thread, so they are exact,
//! and keeping them out of the model keeps the state space small.

use super::{
    bind_and_schedule, JoinError, JoinHandle, Notified, OwnedTasks, RawTask, Schedule, TaskMeta,
};
use crate::loom::sync::{Arc, Mutex};
use crate::runtime::watch::{Config, Watchdog};
use loom::thread;
use std::collections::VecDeque;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::{Acquire, Release, SeqCst};
use std::task::{Context, Poll, Wake, Waker};

/// Runs `f` under loom with a preemption bound of 8 (override with
/// `LOOM_MAX_PREEMPTIONS`). These models are small: at 8 the explored
/// iterations have all but stopped growing (measured: 3,000 for the largest,
/// well under a second), so this is close to exhaustive while still bounded
/// if the code under test grows.
fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(8);
    }
    // Report the explored iterations (visible with `--nocapture`), so a
    // model that silently explores almost nothing is noticed.
    let iterations = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = iterations.clone();
    builder.check(move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        f()
    });
    eprintln!(
        "{}: {} iterations",
        std::thread::current().name().unwrap_or("?"),
        iterations.load(std::sync::atomic::Ordering::Relaxed)
    );
}

/// The scheduler the tasks under test belong to: a run queue behind a loom
/// mutex (so handing a task to another thread through it is modelled) and
/// an owned-task list, exactly as a real scheduler has.
#[derive(Clone)]
struct Mock(Arc<Shared>);

struct Shared {
    queue: Mutex<VecDeque<Notified<Mock>>>,
    owned: OwnedTasks,
    /// Number of `schedule`/`yield_now` calls, including the first one.
    pushes: AtomicUsize,
    /// `None`: the watchdog is off.
    watchdog: Option<std::sync::Arc<Watchdog>>,
}

impl Schedule for Mock {
    fn schedule(&self, task: Notified<Mock>) {
        let mut queue = self.0.queue.lock().unwrap();
        // Every test here has a single task: a second entry would mean a
        // wake was turned into two queue references.
        assert!(queue.is_empty(), "task queued twice");
        queue.push_back(task);
        self.0.pushes.fetch_add(1, SeqCst);
    }

    fn release(&self, task: RawTask) -> bool {
        self.0.owned.remove(task)
    }
    fn watchdog(&self) -> &Watchdog {
        self.0.watchdog.as_deref().unwrap_or(Watchdog::off())
    }
}

impl Mock {
    fn new() -> Mock {
        Mock::with_watchdog(None)
    }

    fn with_watchdog(watchdog: Option<std::sync::Arc<Watchdog>>) -> Mock {
        Mock(Arc::new(Shared {
            queue: Mutex::new(VecDeque::new()),
            owned: OwnedTasks::new(1),
            pushes: AtomicUsize::new(0),
            watchdog,
        }))
    }

    fn spawn<F: Future + Send + 'static>(&self, future: F) -> JoinHandle<F::Output> {
        let meta = TaskMeta::new(Default::default(), Location::caller());
        bind_and_schedule(&self.0.owned, future, self.clone(), meta)
    }

    /// Pops and runs one queued task; `false` if the queue was empty.
    fn run_one(&self) -> bool {
        let task = self.0.queue.lock().unwrap().pop_front();
        match task {
            Some(task) => {
                task.run();
                true
            }
            None => false,
        }
    }

    fn run_until_idle(&self) {
        while self.run_one() {}
    }

    fn pushes(&self) -> usize {
        self.0.pushes.load(SeqCst)
    }

    /// Ends the iteration: nothing may be left queued or alive. Any task
    /// reference still held keeps a clone of `self.0` alive, which loom then
    /// reports as a leak.
    fn finish(self) {
        assert!(self.0.queue.lock().unwrap().is_empty(), "tasks left queued");
        assert_eq!(self.0.owned.len(), 0, "tasks left in the owned list");
        self.0.owned.close_and_shutdown_all(true);
    }
}

/// Counts drops of the values it hands out.
#[derive(Clone, Default)]
struct Counter(std::sync::Arc<AtomicUsize>);

struct Guard(Counter);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0 .0.fetch_add(1, SeqCst);
    }
}

impl Counter {
    fn guard(&self) -> Guard {
        Guard(self.clone())
    }
    fn get(&self) -> usize {
        self.0.load(SeqCst)
    }
}

/// A future driven by a closure, carrying a guard so its own drop is counted.
struct Probe<P> {
    poll: P,
    _dropped: Guard,
}

impl<T, P: FnMut(&mut Context<'_>) -> Poll<T> + Unpin> Future for Probe<P> {
    type Output = T;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        (self.poll)(cx)
    }
}

fn probe<T, P: FnMut(&mut Context<'_>) -> Poll<T> + Unpin>(dropped: &Counter, poll: P) -> Probe<P> {
    Probe {
        poll,
        _dropped: dropped.guard(),
    }
}

/// A waker that counts its wakes (a stand-in for the task awaiting a
/// `JoinHandle`).
#[derive(Default)]
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn counting_waker() -> (std::sync::Arc<CountingWaker>, Waker) {
    let inner = std::sync::Arc::new(CountingWaker::default());
    (inner.clone(), Waker::from(inner))
}

fn poll_join<T>(join: &mut JoinHandle<T>, waker: &Waker) -> Poll<Result<T, JoinError>> {
    Pin::new(join).poll(&mut Context::from_waker(waker))
}

/// How the racing thread wakes the task.
#[derive(Clone, Copy)]
enum WakeKind {
    ByRef,
    ByVal,
}

/// Wake racing a poll. The task parks once (on the main thread) and hands
/// out its waker; it is then woken and a second thread polls it while a
/// third sets the condition the future waits for and wakes it again.
///
/// The property: the wake is neither lost nor doubled. Either the poll
/// already saw the condition (and completed), or the task was queued exactly
/// once more: by the poller itself (wake while RUNNING sets NOTIFIED, and
/// `transition_to_idle` reports OkNotified) or by the waker (wake after the
/// poll went idle). A wake that lands while the task is still queued must be
/// absorbed, and then the poll that follows sees the condition.
fn wake_during_poll(kind: WakeKind) {
    model(move || {
        let sched = Mock::new();
        let future_drops = Counter::default();
        let output_drops = Counter::default();
        // The condition the future waits for, published with Release before
        // the wake and read with Acquire in the poll: a loom atomic, so the
        // model allows exactly the reorderings real hardware and compilers do.
        let ready = Arc::new(loom::sync::atomic::AtomicBool::new(false));
        let stash = std::sync::Arc::new(std::sync::Mutex::new(None::<Waker>));
        let polls = std::sync::Arc::new(AtomicUsize::new(0));

        let mut join = sched.spawn(probe(&future_drops, {
            let (ready, stash, polls, out) = (
                ready.clone(),
                stash.clone(),
                polls.clone(),
                output_drops.clone(),
            );
            move |cx: &mut Context<'_>| {
                if polls.fetch_add(1, SeqCst) == 0 {
                    // Clone outside the std lock: the clone is a loom
                    // operation, and a loom thread switch while a std mutex
                    // is held could deadlock the model.
                    let waker = cx.waker().clone();
                    *stash.lock().unwrap() = Some(waker);
                }
                if ready.load(Acquire) {
                    Poll::Ready(out.guard())
                } else {
                    Poll::Pending
                }
            }
        }));

        // First poll, uncontended: the task parks and stashes its waker.
        assert!(sched.run_one());
        let waker = stash.lock().unwrap().take().unwrap();
        // Queue it again; the thread below pops and polls it.
        waker.wake_by_ref();
        assert_eq!(sched.pushes(), 2);

        let poller = thread::spawn({
            let sched = sched.clone();
            move || assert!(sched.run_one())
        });
        let waker_thread = thread::spawn({
            let ready = ready.clone();
            move || {
                ready.store(true, Release);
                match kind {
                    WakeKind::ByRef => {
                        waker.wake_by_ref();
                        drop(waker);
                    }
                    WakeKind::ByVal => waker.wake(),
                }
            }
        });
        poller.join().unwrap();
        waker_thread.join().unwrap();

        let second_poll_completed = polls.load(SeqCst) == 2 && future_drops.get() == 1;
        let requeued = sched.pushes() - 2;
        if second_poll_completed {
            assert_eq!(requeued, 0, "a completed task was rescheduled");
        } else {
            assert_eq!(requeued, 1, "wake during poll lost or doubled");
        }

        // Whatever happened, draining the queue finishes the task.
        sched.run_until_idle();
        assert_eq!(future_drops.get(), 1);
        assert!(polls.load(SeqCst) <= 3);
        let (_, noop) = counting_waker();
        match poll_join(&mut join, &noop) {
            Poll::Ready(Ok(output)) => drop(output),
            other => panic!("task did not complete: {:?}", other.map(|r| r.map(|_| ()))),
        }
        assert_eq!(output_drops.get(), 1);
        drop(join);
        sched.finish();
    });
}

#[test]
fn loom_wake_by_ref_during_poll_reschedules_once() {
    wake_during_poll(WakeKind::ByRef);
}

#[test]
fn loom_wake_by_val_during_poll_reschedules_once() {
    wake_during_poll(WakeKind::ByVal);
}

/// Dropping the `JoinHandle` while the task completes. Whichever side comes
/// second owns the output: `complete` drops it if join interest is already
/// gone, `drop_join_handle` drops it if the task is already COMPLETE. It must
/// be dropped exactly once, and the task freed. The handle has registered a
/// waker first, so completion may also be reading the join-waker slot while
/// the handle clears it (loom checks that those slot accesses are ordered).
#[test]
fn loom_drop_join_handle_during_completion() {
    model(|| {
        let sched = Mock::new();
        let future_drops = Counter::default();
        let output_drops = Counter::default();
        let out = output_drops.clone();
        let mut join = sched.spawn(probe(&future_drops, move |_: &mut Context<'_>| {
            Poll::Ready(out.guard())
        }));

        let (join_waker, waker) = counting_waker();
        assert!(poll_join(&mut join, &waker).is_pending());

        let worker = thread::spawn({
            let sched = sched.clone();
            move || assert!(sched.run_one())
        });
        drop(join);
        worker.join().unwrap();

        assert_eq!(future_drops.get(), 1);
        assert_eq!(
            output_drops.get(),
            1,
            "output dropped {} times",
            output_drops.get()
        );
        drop(waker);
        // The task's clone of the join waker is gone too.
        assert_eq!(std::sync::Arc::strong_count(&join_waker), 1);
        sched.finish();
    });
}

/// Abort racing the poll of a future that would complete on this poll. The
/// handle must see either the output (completion won) or a cancellation
/// (abort won); the future is dropped exactly once either way, and an abort
/// that arrives after completion changes nothing.
#[test]
fn loom_abort_during_poll_of_ready_future() {
    model(|| {
        let sched = Mock::new();
        let future_drops = Counter::default();
        let output_drops = Counter::default();
        let out = output_drops.clone();
        let mut join = sched.spawn(probe(&future_drops, move |_: &mut Context<'_>| {
            Poll::Ready(out.guard())
        }));
        let abort = join.abort_handle();

        let worker = thread::spawn({
            let sched = sched.clone();
            move || assert!(sched.run_one())
        });
        abort.abort();
        drop(abort);
        worker.join().unwrap();
        // A cancellation scheduled by the abort is run here.
        sched.run_until_idle();

        assert_eq!(future_drops.get(), 1);
        let (_, noop) = counting_waker();
        match poll_join(&mut join, &noop) {
            Poll::Ready(Ok(output)) => {
                drop(output);
                assert_eq!(output_drops.get(), 1);
            }
            Poll::Ready(Err(err)) => {
                assert!(err.is_cancelled());
                assert_eq!(output_drops.get(), 0);
            }
            Poll::Pending => panic!("task neither completed nor cancelled"),
        }
        drop(join);
        sched.finish();
    });
}

/// Abort racing the poll of a future that never completes by itself. All
/// three windows must end in a cancellation: abort while queued (the poller's
/// `transition_to_running` sees CANCELLED), abort while running (the poller's
/// `transition_to_idle` sees it), abort after the poll parked (the abort
/// queues the task and the next run cancels it). The future is dropped
/// exactly once, on a scheduler thread, and the task freed.
#[test]
fn loom_abort_during_poll_of_pending_future() {
    model(|| {
        let sched = Mock::new();
        let future_drops = Counter::default();
        let mut join = sched.spawn(probe(&future_drops, |_: &mut Context<'_>| {
            Poll::<()>::Pending
        }));
        let abort = join.abort_handle();

        let worker = thread::spawn({
            let sched = sched.clone();
            move || assert!(sched.run_one())
        });
        let aborter = thread::spawn(move || abort.abort());
        worker.join().unwrap();
        aborter.join().unwrap();
        sched.run_until_idle();

        assert_eq!(future_drops.get(), 1);
        let (_, noop) = counting_waker();
        match poll_join(&mut join, &noop) {
            Poll::Ready(Err(err)) => assert!(err.is_cancelled()),
            other => panic!(
                "expected cancellation, got {:?}",
                other.map(|r| r.map(|_| ()))
            ),
        }
        drop(join);
        sched.finish();
    });
}

/// A `JoinHandle` polled (registering its waker) while the task completes on
/// another thread. If the poll returns `Pending`, completion must wake the
/// waker that poll registered, or the awaiting task would hang forever. The
/// handle was polled once before with a different waker, so the race covers
/// both publishing a waker (`set_join_waker`) and taking the slot back to
/// replace it (`unset_join_waker`).
#[test]
fn loom_join_waker_registration_races_completion() {
    model(|| {
        let sched = Mock::new();
        let future_drops = Counter::default();
        let mut join = sched.spawn(probe(&future_drops, |_: &mut Context<'_>| {
            Poll::Ready(7_u32)
        }));

        let (first, first_waker) = counting_waker();
        assert!(poll_join(&mut join, &first_waker).is_pending());

        let worker = thread::spawn({
            let sched = sched.clone();
            move || assert!(sched.run_one())
        });
        let (second, second_waker) = counting_waker();
        let res = poll_join(&mut join, &second_waker);
        worker.join().unwrap();

        match res {
            Poll::Ready(out) => assert_eq!(out.unwrap(), 7),
            Poll::Pending => {
                assert_eq!(
                    second.0.load(SeqCst),
                    1,
                    "join waker not woken on completion"
                );
                assert_eq!(first.0.load(SeqCst), 0, "replaced join waker was woken");
                match poll_join(&mut join, &second_waker) {
                    Poll::Ready(out) => assert_eq!(out.unwrap(), 7),
                    Poll::Pending => panic!("woken, but the output is not readable"),
                }
            }
        }
        drop(join);
        drop((first_waker, second_waker));
        assert_eq!(std::sync::Arc::strong_count(&first), 1);
        assert_eq!(std::sync::Arc::strong_count(&second), 1);
        assert_eq!(future_drops.get(), 1);
        sched.finish();
    });
}

/// Runtime shutdown (`close_and_shutdown_all`) racing a poll of a parked
/// future. Shutdown may only cancel the task if nobody is running it;
/// otherwise the poller must notice CANCELLED when its poll ends and cancel
/// the task itself. Either way the future is dropped exactly once and the
/// list's and the queue's references are both released.
#[test]
fn loom_shutdown_during_poll() {
    model(|| {
        let sched = Mock::new();
        let future_drops = Counter::default();
        let mut join = sched.spawn(probe(&future_drops, |_: &mut Context<'_>| {
            Poll::<()>::Pending
        }));

        let worker = thread::spawn({
            let sched = sched.clone();
            move || assert!(sched.run_one())
        });
        sched.0.owned.close_and_shutdown_all(true);
        worker.join().unwrap();

        assert!(sched.0.queue.lock().unwrap().is_empty());
        assert_eq!(future_drops.get(), 1);
        let (_, noop) = counting_waker();
        match poll_join(&mut join, &noop) {
            Poll::Ready(Err(err)) => assert!(err.is_cancelled()),
            other => panic!(
                "expected cancellation, got {:?}",
                other.map(|r| r.map(|_| ()))
            ),
        }
        drop(join);
        sched.finish();
    });
}

/// The lost-waker check counts references: owned list, poller, join
/// handle, abort handles, and whatever is left must be waker clones. An
/// abort handle created and dropped on another thread while the check runs
/// must never make a task that *does* keep its waker look lost (abort
/// handles are counted after their reference and uncounted before it).
#[test]
fn loom_abort_handle_churn_never_fakes_a_lost_waker() {
    model(|| {
        let reports = std::sync::Arc::new(AtomicUsize::new(0));
        let counted = reports.clone();
        let watchdog = Watchdog::detached(
            Config::new().detect_blocked_polls(false),
            Some(std::sync::Arc::new(move |_: &crate::watchdog::Report| {
                counted.fetch_add(1, SeqCst);
            })),
        );
        let sched = Mock::with_watchdog(Some(std::sync::Arc::new(watchdog)));
        let kept: std::sync::Arc<std::sync::Mutex<Option<Waker>>> = Default::default();
        let slot = kept.clone();
        let join = sched.spawn(std::future::poll_fn(move |cx| {
            // Keeps a clone of its waker, as a correct future must.
            *slot.lock().unwrap() = Some(cx.waker().clone());
            Poll::<()>::Pending
        }));
        let abort = join.abort_handle();
        let churn = thread::spawn(move || {
            let extra = abort.clone();
            drop(abort);
            drop(extra);
        });
        assert!(sched.run_one());
        churn.join().unwrap();
        assert_eq!(reports.load(SeqCst), 0, "a kept waker was reported lost");
        // Clean up: cancel the task and release the kept waker.
        join.abort();
        sched.run_until_idle();
        drop(kept.lock().unwrap().take());
        drop(join);
        sched.finish();
    });
}
