//! `vigil::sync::Notify`: permits, order, broadcasts and cancellation.

mod common;

use common::waker::{counting_waker, wakes};
use common::{both_flavours, multi_thread};
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use vigil::sync::{oneshot, Notified, Notify};

fn poll(fut: Pin<&mut Notified<'_>>, waker: &Waker) -> Poll<()> {
    fut.poll(&mut Context::from_waker(waker))
}

fn is_ready(fut: Pin<&mut Notified<'_>>) -> bool {
    poll(fut, Waker::noop()).is_ready()
}

#[test]
fn notified_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Notify>();
    check::<Notified<'static>>();
}

#[test]
fn notify_one_wakes_a_task() {
    for (name, rt) in both_flavours() {
        rt.block_on(async {
            let notify = Arc::new(Notify::new());
            let (started_tx, started_rx) = oneshot::channel();
            let waiter = vigil::spawn({
                let notify = notify.clone();
                async move {
                    let mut notified = pin!(notify.notified());
                    notified.as_mut().enable();
                    started_tx.send(()).unwrap();
                    notified.await;
                }
            });
            started_rx.await.unwrap();
            notify.notify_one();
            waiter.await.unwrap();
            // The waiter took the notification: no permit is left.
            assert!(!is_ready(pin!(notify.notified())), "{name}");
        });
    }
}

#[test]
fn permit_stored_once() {
    let notify = Notify::new();
    notify.notify_one();
    notify.notify_one();
    assert!(is_ready(pin!(notify.notified())));
    assert!(!is_ready(pin!(notify.notified())));
}

#[test]
fn notify_one_is_fifo() {
    let notify = Notify::new();
    let mut a = pin!(notify.notified());
    let mut b = pin!(notify.notified());
    let mut c = pin!(notify.notified());
    let (ca, wa) = counting_waker();
    let (cb, wb) = counting_waker();
    let (cc, wc) = counting_waker();
    // Queue in the order b, a, c: polling, not creation, sets the order.
    assert!(poll(b.as_mut(), &wb).is_pending());
    assert!(poll(a.as_mut(), &wa).is_pending());
    assert!(poll(c.as_mut(), &wc).is_pending());
    notify.notify_one();
    assert_eq!((wakes(&ca), wakes(&cb), wakes(&cc)), (0, 1, 0));
    notify.notify_one();
    assert_eq!((wakes(&ca), wakes(&cb), wakes(&cc)), (1, 1, 0));
    assert!(poll(a.as_mut(), &wa).is_ready());
    assert!(poll(b.as_mut(), &wb).is_ready());
    assert!(poll(c.as_mut(), &wc).is_pending());
}

#[test]
fn notify_last_wakes_the_newest() {
    let notify = Notify::new();
    let mut a = pin!(notify.notified());
    let mut b = pin!(notify.notified());
    let (ca, wa) = counting_waker();
    let (cb, wb) = counting_waker();
    assert!(poll(a.as_mut(), &wa).is_pending());
    assert!(poll(b.as_mut(), &wb).is_pending());
    notify.notify_last();
    assert_eq!((wakes(&ca), wakes(&cb)), (0, 1));
    assert!(poll(b.as_mut(), &wb).is_ready());
    assert!(poll(a.as_mut(), &wa).is_pending());
    // With nobody waiting it stores the permit, like notify_one.
    notify.notify_one();
    assert!(poll(a.as_mut(), &wa).is_ready());
    notify.notify_last();
    assert!(is_ready(pin!(notify.notified())));
}

#[test]
fn dropped_picked_waiter_passes_it_on() {
    let notify = Notify::new();
    let (ca, wa) = counting_waker();
    let (cb, wb) = counting_waker();
    let mut b = pin!(notify.notified());
    {
        let mut a = pin!(notify.notified());
        assert!(poll(a.as_mut(), &wa).is_pending());
        assert!(poll(b.as_mut(), &wb).is_pending());
        notify.notify_one();
        assert_eq!(wakes(&ca), 1);
        assert_eq!(wakes(&cb), 0);
        // `a` is cancelled before it sees the notification.
    }
    assert_eq!(wakes(&cb), 1, "the next waiter was not woken");
    assert!(poll(b.as_mut(), &wb).is_ready());
    // Passed on, not duplicated.
    assert!(!is_ready(pin!(notify.notified())));
}

#[test]
fn dropped_picked_waiter_returns_the_permit() {
    let notify = Notify::new();
    {
        let mut a = pin!(notify.notified());
        assert!(!a.as_mut().enable());
        notify.notify_one();
        assert!(a.as_mut().enable());
    }
    assert!(is_ready(pin!(notify.notified())));
    assert!(!is_ready(pin!(notify.notified())));
    // A permit taken by `enable` but never awaited also goes back.
    notify.notify_one();
    {
        let a = pin!(notify.notified());
        assert!(a.enable());
    }
    assert!(is_ready(pin!(notify.notified())));
}

#[test]
fn completed_waiter_does_not_pass_it_on() {
    let notify = Notify::new();
    let mut a = Box::pin(notify.notified());
    assert!(!a.as_mut().enable());
    notify.notify_one();
    assert!(is_ready(a.as_mut()));
    // Polling again after completion stays ready.
    assert!(is_ready(a.as_mut()));
    drop(a);
    assert!(!is_ready(pin!(notify.notified())));
}

#[test]
fn cancelled_waiter_in_a_task_passes_it_on() {
    for (name, rt) in both_flavours() {
        rt.block_on(async {
            let notify = Arc::new(Notify::new());
            let (queued_tx, queued_rx) = oneshot::channel();
            let (cancel_tx, cancel_rx) = oneshot::channel::<()>();
            // The first waiter gives up (as in a select!) after being picked.
            let first = vigil::spawn({
                let notify = notify.clone();
                async move {
                    let mut notified = pin!(notify.notified());
                    notified.as_mut().enable();
                    queued_tx.send(()).unwrap();
                    cancel_rx.await.unwrap();
                }
            });
            queued_rx.await.unwrap();
            let second = vigil::spawn({
                let notify = notify.clone();
                async move { notify.notified().await }
            });
            notify.notify_one();
            cancel_tx.send(()).unwrap();
            first.await.unwrap();
            // A guard, not a synchronisation: a lost notification would
            // leave `second` waiting forever.
            vigil::time::timeout(Duration::from_secs(10), second)
                .await
                .unwrap_or_else(|_| panic!("{name}: the notification was lost"))
                .unwrap();
            assert!(!is_ready(pin!(notify.notified())), "{name}");
        });
    }
}

#[test]
fn notify_waiters_wakes_all_and_stores_no_permit() {
    let notify = Notify::new();
    let waiters: Vec<_> = (0..3).map(|_| counting_waker()).collect();
    let mut futs: Vec<_> = (0..3).map(|_| Box::pin(notify.notified())).collect();
    for (fut, (_, waker)) in futs.iter_mut().zip(&waiters) {
        assert!(poll(fut.as_mut(), waker).is_pending());
    }
    notify.notify_waiters();
    for (fut, (count, waker)) in futs.iter_mut().zip(&waiters) {
        assert_eq!(wakes(count), 1);
        assert!(poll(fut.as_mut(), waker).is_ready());
    }
    assert!(!is_ready(pin!(notify.notified())));
}

#[test]
fn notify_waiters_counts_created_but_unpolled() {
    let notify = Notify::new();
    let mut before = pin!(notify.notified());
    notify.notify_waiters();
    let mut after = pin!(notify.notified());
    assert!(is_ready(before.as_mut()), "created before: notified");
    assert!(!is_ready(after.as_mut()), "created after: not notified");
    // A broadcast dropped unconsumed is not passed on.
    let unused = notify.notified();
    notify.notify_waiters();
    drop(unused);
    assert!(!is_ready(pin!(notify.notified())));
}

#[test]
fn notify_waiters_leaves_permit_alone() {
    let notify = Notify::new();
    notify.notify_one();
    notify.notify_waiters();
    assert!(is_ready(pin!(notify.notified())));
}

#[test]
fn waker_reregistration_wakes_the_latest() {
    let notify = Notify::new();
    let mut a = pin!(notify.notified());
    let (first, w1) = counting_waker();
    let (second, w2) = counting_waker();
    assert!(poll(a.as_mut(), &w1).is_pending());
    assert!(poll(a.as_mut(), &w2).is_pending());
    notify.notify_one();
    assert_eq!((wakes(&first), wakes(&second)), (0, 1));
    assert!(poll(a.as_mut(), &w2).is_ready());
}

// `Notify::new` is not `const` under loom, whose primitives are not.
#[cfg(not(loom))]
#[test]
fn const_new_and_default() {
    static GLOBAL: Notify = Notify::new();
    GLOBAL.notify_one();
    assert!(is_ready(pin!(GLOBAL.notified())));
    let notify = Notify::default();
    assert!(!is_ready(pin!(notify.notified())));
    assert!(format!("{notify:?}").contains("Notify"));
}

#[test]
fn completing_spends_coop_budget() {
    let rt = common::current_thread();
    rt.block_on(async {
        let notify = Notify::new();
        let mut pending_seen = false;
        let mut done = 0;
        std::future::poll_fn(|cx| {
            while done < 1000 {
                notify.notify_one();
                let mut fut = pin!(notify.notified());
                if fut.as_mut().poll(cx).is_pending() {
                    pending_seen = true;
                    return Poll::Pending;
                }
                done += 1;
            }
            Poll::Ready(())
        })
        .await;
        assert!(pending_seen, "1000 ready notifications never yielded");
    });
}

#[test]
fn stress_many_threads() {
    // Ping-pong between two tasks on a two-worker runtime, 1000 rounds,
    // mixing permits and queued waiters; every round must complete.
    let rt = multi_thread(2);
    rt.block_on(async {
        let ping = Arc::new(Notify::new());
        let pong = Arc::new(Notify::new());
        let rounds = 1000;
        let other = vigil::spawn({
            let (ping, pong) = (ping.clone(), pong.clone());
            async move {
                for _ in 0..rounds {
                    ping.notified().await;
                    pong.notify_one();
                }
            }
        });
        for _ in 0..rounds {
            ping.notify_one();
            pong.notified().await;
        }
        other.await.unwrap();
    });
    // Many tasks, one broadcast each round, each picked up exactly once.
    let rt = multi_thread(2);
    rt.block_on(async {
        let notify = Arc::new(Notify::new());
        let woken = Arc::new(AtomicUsize::new(0));
        for _ in 0..100 {
            let mut tasks = Vec::new();
            for _ in 0..10 {
                let (ready_tx, ready_rx) = oneshot::channel();
                let (notify, woken) = (notify.clone(), woken.clone());
                tasks.push(vigil::spawn(async move {
                    let notified = notify.notified();
                    ready_tx.send(()).unwrap();
                    notified.await;
                    woken.fetch_add(1, Ordering::SeqCst);
                }));
                ready_rx.await.unwrap();
            }
            notify.notify_waiters();
            for task in tasks {
                task.await.unwrap();
            }
        }
        assert_eq!(woken.load(Ordering::SeqCst), 1000);
    });
}
