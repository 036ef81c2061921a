//! `vigil::task::{consume_budget, unconstrained}`: a compute loop that
//! spends budget by hand gives way to other tasks after a budget's worth of
//! iterations (not at each one, and not never), and an unconstrained
//! future is never made to yield by vigil's resources.

mod common;

use common::{current_thread, run};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
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
