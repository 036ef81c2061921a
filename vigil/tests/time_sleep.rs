//! `vigil::time::sleep` and friends, driven by a real runtime.

mod common;
use common::current_thread;

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;
use vigil::time::{sleep, sleep_until, timeout, Instant, Sleep};

const MS: Duration = Duration::from_millis(1);
/// Generous bound on lateness: only catches "never fired" style bugs.
const LATE: Duration = Duration::from_secs(1);

fn noop_waker() -> Waker {
    struct Noop;
    impl Wake for Noop {
        fn wake(self: std::sync::Arc<Self>) {}
    }
    Waker::from(std::sync::Arc::new(Noop))
}

/// Polls all sleeps together; returns ids grouped by the poll pass in which
/// they completed (each group sorted by deadline), flattened.
async fn completion_order(mut sleeps: Vec<(usize, Sleep)>) -> Vec<usize> {
    let mut order = Vec::new();
    poll_fn(|cx| {
        let mut pass = Vec::new();
        sleeps.retain_mut(|(id, s)| {
            if Pin::new(&mut *s).poll(cx).is_ready() {
                assert!(Instant::now() >= s.deadline(), "sleep {id} completed early");
                pass.push((s.deadline(), *id));
                false
            } else {
                true
            }
        });
        pass.sort();
        order.extend(pass.into_iter().map(|(_, id)| id));
        if sleeps.is_empty() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    order
}

#[test]
fn sleep_is_never_early() {
    current_thread().block_on(async {
        for ms in [0u64, 1, 2, 5, 13, 30] {
            let d = Duration::from_millis(ms);
            let start = Instant::now();
            sleep(d).await;
            let took = start.elapsed();
            assert!(took >= d, "slept {took:?} < {d:?}");
            assert!(took < d + LATE, "slept {took:?} for {d:?}");
        }
    });
}

#[test]
fn timers_fire_in_deadline_order() {
    current_thread().block_on(async {
        let base = Instant::now();
        // Registered in scrambled order, spaced 20 ms apart.
        let ids = [3usize, 0, 4, 1, 5, 2];
        let sleeps = ids
            .iter()
            .map(|&id| (id, sleep_until(base + 20 * MS * (id as u32 + 1))))
            .collect();
        let order = completion_order(sleeps).await;
        assert_eq!(order, vec![0, 1, 2, 3, 4, 5]);
    });
}

#[test]
fn sleep_until_past_deadline_is_ready_at_once() {
    current_thread().block_on(async {
        sleep_until(Instant::now() - 5 * MS).await;
        let s = sleep(Duration::ZERO);
        assert!(s.is_elapsed());
        s.await;
    });
}

#[test]
fn sleep_created_outside_runtime() {
    let start = Instant::now();
    let s = sleep(25 * MS);
    assert!(!s.is_elapsed());
    let rt = current_thread();
    rt.block_on(s);
    assert!(start.elapsed() >= 25 * MS);
}

#[test]
#[should_panic(expected = "outside a vigil runtime")]
fn polling_outside_runtime_panics() {
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    let mut s = sleep(Duration::from_secs(5));
    let _ = Pin::new(&mut s).poll(&mut cx);
}

#[test]
fn huge_durations_do_not_panic() {
    current_thread().block_on(async {
        let s = sleep(Duration::MAX);
        assert!(s.deadline() > Instant::now() + Duration::from_secs(86_400 * 365));
        assert!(timeout(5 * MS, s).await.is_err());
        let s = sleep(Duration::from_secs(u64::MAX / 2));
        assert!(timeout(2 * MS, s).await.is_err());
    });
}

#[test]
fn reset_moves_deadline_both_ways() {
    current_thread().block_on(async {
        let start = Instant::now();
        let mut s = sleep(Duration::from_secs(3600));
        // Register it, then pull the deadline in.
        assert!(timeout(2 * MS, &mut s).await.is_err());
        let deadline = Instant::now() + 15 * MS;
        Pin::new(&mut s).reset(deadline);
        assert_eq!(s.deadline(), deadline);
        (&mut s).await;
        assert!(Instant::now() >= deadline);
        assert!(s.is_elapsed());
        // A completed sleep can be re-armed.
        let again = Instant::now() + 10 * MS;
        Pin::new(&mut s).reset(again);
        assert!(!s.is_elapsed());
        (&mut s).await;
        assert!(Instant::now() >= again);
        // Pushing it out works too.
        // (Durations are long against scheduling delays under valgrind or
        // on a loaded machine: the first poll must find the sleep pending.)
        let mut s = sleep(200 * MS);
        assert!(timeout(Duration::ZERO, &mut s).await.is_err());
        let later = Instant::now() + 250 * MS;
        Pin::new(&mut s).reset(later);
        s.await;
        assert!(Instant::now() >= later);
        assert!(start.elapsed() < Duration::from_secs(30));
    });
}

#[test]
fn reset_to_past_completes() {
    current_thread().block_on(async {
        let mut s = sleep(Duration::from_secs(3600));
        assert!(timeout(MS, &mut s).await.is_err());
        Pin::new(&mut s).reset(Instant::now());
        s.await;
    });
}

#[test]
fn dropping_registered_sleeps_cancels_them() {
    current_thread().block_on(async {
        let waker = noop_waker();
        for round in 0..3 {
            let mut sleeps: Vec<Sleep> = (0..10_000u64)
                .map(|i| sleep(Duration::from_secs(60) + Duration::from_millis(i % 5000)))
                .collect();
            // Register every one of them, then drop them all.
            poll_fn(|cx| {
                for s in &mut sleeps {
                    assert!(Pin::new(s).poll(cx).is_pending());
                }
                Poll::Ready(())
            })
            .await;
            drop(sleeps);
            // A fresh timer still works.
            let start = Instant::now();
            sleep(2 * MS).await;
            assert!(start.elapsed() >= 2 * MS, "round {round}");
        }
        drop(waker);
    });
}

#[test]
fn sleep_is_unpin_and_movable_between_polls() {
    fn assert_unpin<T: Unpin + Send + Sync + 'static>(_: &T) {}
    current_thread().block_on(async {
        let mut s = sleep(200 * MS);
        assert_unpin(&s);
        assert!(timeout(MS, &mut s).await.is_err());
        let moved = Box::new(s);
        let deadline = moved.deadline();
        (*moved).await;
        assert!(Instant::now() >= deadline);
    });
}

#[test]
fn sleep_survives_its_runtime_and_rearms_in_another() {
    // Long enough that building the first runtime (slow under valgrind)
    // cannot outlast it.
    let mut s = sleep(500 * MS);
    let deadline = s.deadline();
    let first = current_thread();
    first.block_on(async {
        assert!(timeout(MS, &mut s).await.is_err());
    });
    drop(first);
    // Polling after the runtime is gone must not panic or complete early;
    // outside any runtime it just stays pending.
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(Pin::new(&mut s).poll(&mut cx).is_pending() || Instant::now() >= deadline);
    // In a live runtime it registers anew and completes.
    let res = current_thread().block_on(timeout(Duration::from_secs(10), s));
    assert!(res.is_ok(), "orphaned sleep never completed");
    assert!(Instant::now() >= deadline);
}
