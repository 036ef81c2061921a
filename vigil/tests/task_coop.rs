//! `vigil::task::{consume_budget, unconstrained}`: a compute loop that
//! spends budget by hand gives way to other tasks after a budget's worth of
//! iterations (not at each one, and not never), and an unconstrained
//! future is never made to yield by vigil's resources. `task::coop` lets a
//! future of another crate take part: operations it reports as progress
//! spend budget, ones that made none give their unit back.

mod common;

use common::{current_thread, run};
use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{ready, Poll};
use vigil::task::coop::{cooperative, has_budget_remaining, poll_proceed};
use vigil::task::{consume_budget, unconstrained};

/// A task that raises the returned flag when it first runs.
fn spawn_flag_raiser() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let theirs = flag.clone();
    vigil::spawn(async move { theirs.store(true, Ordering::SeqCst) });
    flag
}

#[test]
fn consume_budget_gives_way_after_about_a_budget_of_calls() {
    run(&current_thread(), async {
        let flag = spawn_flag_raiser();
        let mut calls = 0u32;
        while !flag.load(Ordering::SeqCst) {
            consume_budget().await;
            calls += 1;
            assert!(calls <= 1_000, "consume_budget never yielded");
        }
        // Not at the first call: the budget allows a batch of them.
        assert!(calls > 1, "yielded after {calls} call(s)");
        Ok(())
    });
}

#[test]
fn unconstrained_receives_past_the_budget_without_yielding() {
    run(&current_thread(), async {
        let (tx, mut rx) = vigil::sync::mpsc::unbounded_channel();
        for i in 0..1000u32 {
            tx.send(i).unwrap();
        }
        // Constrained, 1000 ready receives yield at least once.
        let flag = spawn_flag_raiser();
        for _ in 0..500 {
            rx.recv().await.unwrap();
        }
        assert!(flag.load(Ordering::SeqCst), "the budget forced no yield");
        // Unconstrained, they do not.
        let flag = spawn_flag_raiser();
        unconstrained(async {
            for _ in 0..500 {
                rx.recv().await.unwrap();
            }
        })
        .await;
        assert!(!flag.load(Ordering::SeqCst), "unconstrained yielded");
        // The task's own budget is back: the flag raiser runs soon.
        while !flag.load(Ordering::SeqCst) {
            consume_budget().await;
        }
        Ok(())
    });
}

#[test]
fn both_work_outside_a_runtime() {
    vigil::block_on(async {
        consume_budget().await;
        assert_eq!(unconstrained(async { 7 }).await, 7);
    });
}

#[test]
fn a_leaf_future_that_reports_progress_gives_way_after_a_budget() {
    run(&current_thread(), async {
        let flag = spawn_flag_raiser();
        let mut operations = 0u32;
        let mut polls = 0u32;
        poll_fn(|cx| {
            polls += 1;
            loop {
                let restore = ready!(poll_proceed(cx));
                restore.made_progress();
                if flag.load(Ordering::SeqCst) {
                    return Poll::Ready(());
                }
                operations += 1;
                assert!(operations <= 1_000, "poll_proceed never yielded");
            }
        })
        .await;
        // The whole budget in the first poll, then a yield that let the
        // flag raiser run.
        assert_eq!(polls, 2);
        assert!(operations > 1, "yielded after {operations} operation(s)");
        Ok(())
    });
}

#[test]
fn an_operation_without_progress_gives_its_unit_back() {
    run(&current_thread(), async {
        poll_fn(|cx| {
            for _ in 0..1_000 {
                // Dropped without `made_progress`: restored.
                let Poll::Ready(restore) = poll_proceed(cx) else {
                    panic!("the budget ran out although nothing was spent");
                };
                drop(restore);
            }
            assert!(has_budget_remaining());
            Poll::Ready(())
        })
        .await;
        Ok(())
    });
}

#[test]
fn cooperative_futures_spend_budget_only_when_they_complete() {
    run(&current_thread(), async {
        // Completing ones: a budget's worth, then the task gives way.
        let flag = spawn_flag_raiser();
        let mut completed = 0u32;
        while !flag.load(Ordering::SeqCst) {
            cooperative(async { 1 }).await;
            completed += 1;
            assert!(completed <= 1_000, "cooperative never yielded");
        }
        assert!(completed > 1, "yielded after {completed}");
        assert!(has_budget_remaining());
        // One that stays pending (woken by itself each time) spends nothing:
        // its unit comes back after every poll.
        let mut polls = 0u32;
        cooperative(poll_fn(|cx| {
            polls += 1;
            if polls < 500 {
                assert!(has_budget_remaining(), "poll {polls}");
                cx.waker().wake_by_ref();
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        }))
        .await;
        Ok(())
    });
}

#[test]
fn coop_helpers_work_outside_a_runtime() {
    assert!(has_budget_remaining());
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    for _ in 0..1_000 {
        let Poll::Ready(restore) = poll_proceed(&mut cx) else {
            panic!("no budget outside a runtime");
        };
        restore.made_progress();
    }
}
