//! Loom models of a `LocalSet`'s cross-thread paths.
//!
//! Run with
//! `RUSTFLAGS="--cfg loom" cargo test -p vigil --release --lib loom`.
//!
//! The set is driven by the model's main thread, as its owner, and polled
//! by hand with a waker that records wakes. Another model thread wakes or
//! aborts one of its tasks. The set's queues and waker slot are loom
//! mutexes and the task state word is a loom atomic, so loom explores how
//! the wake meets the owner's poll. Checked: no wake is lost (a `Pending`
//! poll is always followed by a wake of the set's poller), a task's future
//! is dropped exactly once and by the owner thread, and every task is
//! freed (each task holds a clone of the set's `Arc<Shared>`).
//!
//! Bookkeeping uses `std` atomics, as in `runtime/task/loom_tests.rs`.

use super::LocalSet;
use crate::loom::sync::atomic::AtomicBool;
use crate::loom::sync::{Arc, Mutex};
use loom::thread;
use std::future::{pending, poll_fn, Future};
use std::pin::Pin;
use std::sync::atomic::Ordering::{Acquire, Release, SeqCst};
use std::task::{Context, Poll, Wake, Waker};

/// Runs `f` under loom with a preemption bound of 8 (override with
/// `LOOM_MAX_PREEMPTIONS`), printing the explored iterations.
fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(8);
    }
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

/// The waker of whatever polls the set: records that it was woken.
#[derive(Default)]
struct Poller {
    woken: std::sync::atomic::AtomicBool,
}

impl Wake for Poller {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.woken.store(true, SeqCst);
    }
}

/// Polls `local` with the waker of a new [`Poller`] (as if a different
/// future polled the set each time: the set must wake the latest one),
/// and returns the result and that poller.
fn poll_set(local: &mut LocalSet) -> (Poll<()>, std::sync::Arc<Poller>) {
    let poller = std::sync::Arc::new(Poller::default());
    let waker = Waker::from(poller.clone());
    let res = Pin::new(local).poll(&mut Context::from_waker(&waker));
    (res, poller)
}

/// Records which model thread dropped it.
struct DropRecord(std::sync::Arc<std::sync::Mutex<Vec<loom::thread::ThreadId>>>);

impl Drop for DropRecord {
    fn drop(&mut self) {
        self.0.lock().unwrap().push(thread::current().id());
    }
}

#[test]
fn loom_remote_wake_reaches_the_set() {
    model(|| {
        let mut local = LocalSet::new();
        let shared = local.context.shared.clone();
        let ready = Arc::new(AtomicBool::new(false));
        let slot: Arc<Mutex<Option<Waker>>> = Arc::new(Mutex::new(None));
        let (r, s) = (ready.clone(), slot.clone());
        let handle = local.spawn_local(poll_fn(move |cx| {
            // Register, then check: a wake between the two is not lost.
            *s.lock().unwrap() = Some(cx.waker().clone());
            if r.load(Acquire) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }));
        // The task runs and waits; the set waits for it.
        assert!(poll_set(&mut local).0.is_pending());

        let waker_thread = thread::spawn(move || {
            ready.store(true, Release);
            let waker = slot.lock().unwrap().take();
            if let Some(waker) = waker {
                waker.wake();
            }
        });
        // The owner polls the set while the wake happens.
        let (mut res, mut poller) = poll_set(&mut local);
        waker_thread.join().unwrap();
        let mut polls = 0;
        while res.is_pending() {
            assert!(
                poller.woken.load(SeqCst),
                "the set returned Pending and nothing woke its poller"
            );
            polls += 1;
            assert!(polls < 5, "the set keeps asking to be polled");
            (res, poller) = poll_set(&mut local);
        }
        assert!(handle.is_finished());
        drop(handle);
        drop(local);
        assert_eq!(std::sync::Arc::strong_count(&shared), 1, "a task leaked");
    });
}

#[test]
fn loom_abort_from_another_thread_races_dropping_the_set() {
    // With and without a first run of the task: the abort then finds it
    // idle (and queues it remotely) or still queued.
    for run_first in [false, true] {
        model(move || {
            let mut local = LocalSet::new();
            let shared = local.context.shared.clone();
            let dropped = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
            let record = DropRecord(dropped.clone());
            let handle = local.spawn_local(async move {
                let _record = record;
                pending::<()>().await
            });
            if run_first {
                assert!(poll_set(&mut local).0.is_pending());
            }
            let abort = handle.abort_handle();
            let aborter = thread::spawn(move || abort.abort());
            drop(local);
            aborter.join().unwrap();
            assert_eq!(
                *dropped.lock().unwrap(),
                [thread::current().id()],
                "the future was not dropped exactly once, by the owner"
            );
            assert!(handle.is_finished());
            let mut handle = handle;
            let out = Pin::new(&mut handle).poll(&mut Context::from_waker(Waker::noop()));
            match out {
                Poll::Ready(Err(err)) => assert!(err.is_cancelled(), "{err}"),
                _ => panic!("the handle of a cancelled task did not report it"),
            }
            drop(handle);
            assert_eq!(std::sync::Arc::strong_count(&shared), 1, "a task leaked");
        });
    }
}
