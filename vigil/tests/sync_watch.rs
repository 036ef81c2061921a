//! `vigil::sync::watch`: values and versions, closing from either side,
//! waking and cancellation of `changed`, `wait_for`, and behaviour under
//! load and under the cooperative budget.

mod common;

use common::waker::{counting_waker, poll_once, wakes};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use vigil::sync::watch::{self, error::SendError};

#[test]
fn send_publishes_and_borrow_and_update_marks_seen() {
    let (tx, mut rx) = watch::channel(1);
    assert_eq!(*rx.borrow(), 1);
    assert!(
        !rx.borrow().has_changed(),
        "the initial value counts as seen"
    );
    assert_eq!(rx.has_changed(), Ok(false));
    tx.send(2).unwrap();
    assert_eq!(*tx.borrow(), 2);
    assert!(!tx.borrow().has_changed());
    // `borrow` looks without marking.
    let r = rx.borrow();
    assert!(r.has_changed());
    assert_eq!(*r, 2);
    drop(r);
    assert_eq!(rx.has_changed(), Ok(true));
    let r = rx.borrow_and_update();
    assert!(r.has_changed());
    assert_eq!(*r, 2);
    drop(r);
    assert_eq!(rx.has_changed(), Ok(false));
    assert!(!rx.borrow_and_update().has_changed());
}

#[test]
fn send_fails_without_receivers_and_keeps_the_old_value() {
    let (tx, rx) = watch::channel(String::from("a"));
    assert_eq!(tx.receiver_count(), 1);
    assert!(!tx.is_closed());
    drop(rx);
    assert_eq!(tx.receiver_count(), 0);
    assert!(tx.is_closed());
    assert_eq!(tx.send("b".into()), Err(SendError(String::from("b"))));
    assert_eq!(*tx.borrow(), "a");
    // send_replace and send_modify work regardless.
    assert_eq!(tx.send_replace("c".into()), "a");
    tx.send_modify(|s| s.push('!'));
    let rx = tx.subscribe();
    assert_eq!(*rx.borrow(), "c!");
    assert!(
        !rx.borrow().has_changed(),
        "subscribe counts the current value as seen"
    );
    assert!(!tx.is_closed());
    tx.send("d".into()).unwrap();
    assert_eq!(rx.has_changed(), Ok(true));
}

#[test]
fn send_if_modified_notifies_only_when_told() {
    let (tx, mut rx) = watch::channel(0);
    let (woken, waker) = counting_waker();
    let mut changed = Box::pin(rx.changed());
    assert!(poll_once(changed.as_mut(), &waker).is_pending());
    assert!(!tx.send_if_modified(|v| {
        assert_eq!(*v, 0);
        false
    }));
    assert_eq!(wakes(&woken), 0, "no change, no wake");
    assert!(poll_once(changed.as_mut(), &waker).is_pending());
    assert!(tx.send_if_modified(|v| {
        *v = 5;
        true
    }));
    assert_eq!(wakes(&woken), 1);
    assert_eq!(poll_once(changed.as_mut(), &waker), Poll::Ready(Ok(())));
    drop(changed);
    assert_eq!(*rx.borrow(), 5);
}

#[test]
fn mark_changed_and_mark_unchanged() {
    let (tx, mut rx) = watch::channel(0);
    rx.mark_changed();
    assert_eq!(rx.has_changed(), Ok(true));
    assert!(rx.borrow().has_changed());
    let (_, waker) = counting_waker();
    assert_eq!(poll_once(pin!(rx.changed()), &waker), Poll::Ready(Ok(())));
    assert_eq!(rx.has_changed(), Ok(false));
    tx.send(1).unwrap();
    rx.mark_unchanged();
    assert_eq!(rx.has_changed(), Ok(false));
    assert!(poll_once(pin!(rx.changed()), &waker).is_pending());
    assert_eq!(*rx.borrow(), 1);
}

#[test]
fn missed_sends_are_one_change() {
    let (tx, mut rx) = watch::channel(0);
    for i in 1..=10 {
        tx.send(i).unwrap();
    }
    let (_, waker) = counting_waker();
    assert_eq!(poll_once(pin!(rx.changed()), &waker), Poll::Ready(Ok(())));
    assert_eq!(*rx.borrow(), 10);
    assert!(poll_once(pin!(rx.changed()), &waker).is_pending());
}

#[test]
fn sender_drop_ends_changed_after_the_last_value_is_seen() {
    let (tx, mut rx) = watch::channel(0);
    let (_, waker) = counting_waker();
    tx.send(7).unwrap();
    drop(tx);
    assert!(
        rx.has_changed().is_err(),
        "has_changed reports the closed sender"
    );
    // The unseen value is still delivered, then the error.
    assert_eq!(poll_once(pin!(rx.changed()), &waker), Poll::Ready(Ok(())));
    assert_eq!(*rx.borrow(), 7);
    assert!(matches!(
        poll_once(pin!(rx.changed()), &waker),
        Poll::Ready(Err(_))
    ));
    assert_eq!(*rx.borrow_and_update(), 7, "the last value stays readable");
}

#[test]
fn send_and_sender_drop_wake_the_waiters() {
    let (tx, mut rx) = watch::channel(0);
    let mut rx2 = rx.clone();
    let (w1, waker1) = counting_waker();
    let (w2, waker2) = counting_waker();
    let mut a = Box::pin(rx.changed());
    let mut b = Box::pin(rx2.changed());
    assert!(poll_once(a.as_mut(), &waker1).is_pending());
    assert!(poll_once(b.as_mut(), &waker2).is_pending());
    tx.send(1).unwrap();
    assert_eq!((wakes(&w1), wakes(&w2)), (1, 1));
    assert_eq!(poll_once(a.as_mut(), &waker1), Poll::Ready(Ok(())));
    drop(a);
    let mut a = Box::pin(rx.changed());
    assert!(poll_once(a.as_mut(), &waker1).is_pending());
    drop(tx);
    assert_eq!(wakes(&w1), 2, "the sender's drop wakes a waiter");
    assert!(matches!(
        poll_once(a.as_mut(), &waker1),
        Poll::Ready(Err(_))
    ));
    // `b` never saw 1: it gets it, then the error.
    assert_eq!(poll_once(b.as_mut(), &waker2), Poll::Ready(Ok(())));
}

#[test]
fn the_latest_waker_is_the_one_woken() {
    let (tx, mut rx) = watch::channel(0);
    let (old, w_old) = counting_waker();
    let (new, w_new) = counting_waker();
    let mut changed = pin!(rx.changed());
    assert!(poll_once(changed.as_mut(), &w_old).is_pending());
    assert!(poll_once(changed.as_mut(), &w_new).is_pending());
    tx.send(1).unwrap();
    assert_eq!(wakes(&old), 0);
    assert_eq!(wakes(&new), 1);
}

/// Dropping `changed` (before or after the wake) loses nothing: the next
/// call sees the same unseen value.
#[test]
fn a_cancelled_changed_loses_nothing() {
    let (tx, mut rx) = watch::channel(0);
    let (_, waker) = counting_waker();
    for _ in 0..100 {
        let mut c = Box::pin(rx.changed());
        assert!(poll_once(c.as_mut(), &waker).is_pending());
    }
    let mut c = Box::pin(rx.changed());
    assert!(poll_once(c.as_mut(), &waker).is_pending());
    tx.send(1).unwrap();
    drop(c); // woken but never polled again
    assert_eq!(rx.has_changed(), Ok(true));
    assert_eq!(poll_once(pin!(rx.changed()), &waker), Poll::Ready(Ok(())));
    assert_eq!(*rx.borrow(), 1);
}

/// More waiters than one wake batch holds are all woken by one send.
#[test]
fn one_send_wakes_every_waiter() {
    let (tx, rx) = watch::channel(0);
    let (woken, waker) = counting_waker();
    let mut rxs: Vec<_> = (0..100).map(|_| rx.clone()).collect();
    let mut futs: Vec<_> = rxs.iter_mut().map(|r| Box::pin(r.changed())).collect();
    for f in &mut futs {
        assert!(poll_once(f.as_mut(), &waker).is_pending());
    }
    tx.send(1).unwrap();
    assert_eq!(wakes(&woken), 100);
    assert!(futs
        .iter_mut()
        .all(|f| poll_once(f.as_mut(), &waker) == Poll::Ready(Ok(()))));
}

#[test]
fn wait_for_checks_the_current_value_then_each_new_one() {
    let (tx, mut rx) = watch::channel(3);
    let (_, waker) = counting_waker();
    // Already satisfied: no wait.
    let Poll::Ready(Ok(r)) = poll_once(pin!(rx.wait_for(|v| *v == 3)), &waker) else {
        panic!("the current value satisfies the predicate");
    };
    assert!(!r.has_changed());
    drop(r);
    let mut seen = Vec::new();
    {
        let mut wait = pin!(rx.wait_for(|v| {
            seen.push(*v);
            *v >= 10
        }));
        assert!(poll_once(wait.as_mut(), &waker).is_pending());
        tx.send(5).unwrap();
        assert!(poll_once(wait.as_mut(), &waker).is_pending());
        tx.send(12).unwrap();
        let Poll::Ready(Ok(r)) = poll_once(wait.as_mut(), &waker) else {
            panic!("12 satisfies the predicate");
        };
        assert_eq!(*r, 12);
        assert!(r.has_changed());
    }
    assert_eq!(seen, [3, 5, 12]);
    assert_eq!(rx.has_changed(), Ok(false), "wait_for marks what it saw");
    // After the sender goes: the last value is still checked once, then
    // the error.
    tx.send(20).unwrap();
    drop(tx);
    assert!(matches!(
        poll_once(pin!(rx.wait_for(|v| *v == 20)), &waker),
        Poll::Ready(Ok(_))
    ));
    assert!(matches!(
        poll_once(pin!(rx.wait_for(|v| *v == 99)), &waker),
        Poll::Ready(Err(_))
    ));
}

#[test]
fn clones_share_the_channel_and_keep_their_own_seen_version() {
    let (tx, mut rx) = watch::channel(0);
    tx.send(1).unwrap();
    let rx2 = rx.clone();
    assert_eq!(tx.receiver_count(), 2);
    rx.borrow_and_update();
    assert_eq!(rx.has_changed(), Ok(false));
    assert_eq!(rx2.has_changed(), Ok(true), "the clone had not seen 1");
    assert!(rx.same_channel(&rx2));
    assert!(rx2.is_of(&tx));
    assert!(tx.same_channel(&tx.clone()));
    let (other_tx, other_rx) = watch::channel(0);
    assert!(!rx.same_channel(&other_rx));
    assert!(!rx.is_of(&other_tx));
    assert!(!other_tx.same_channel(&tx));
    drop(rx2);
    assert_eq!(tx.receiver_count(), 1);
}

#[test]
fn closed_waits_for_every_receiver() {
    let (tx, rx) = watch::channel(());
    let rx2 = rx.clone();
    let (woken, waker) = counting_waker();
    let mut closed = pin!(tx.closed());
    assert!(poll_once(closed.as_mut(), &waker).is_pending());
    drop(rx);
    assert_eq!(wakes(&woken), 0);
    assert!(poll_once(closed.as_mut(), &waker).is_pending());
    drop(rx2);
    assert_eq!(wakes(&woken), 1);
    assert!(poll_once(closed.as_mut(), &waker).is_ready());
    assert!(poll_once(pin!(tx.closed()), &waker).is_ready());
}

#[test]
fn a_panicking_send_modify_leaves_the_channel_usable() {
    let (tx, mut rx) = watch::channel(vec![1]);
    let err = catch_unwind(AssertUnwindSafe(|| {
        tx.send_modify(|v| {
            v.push(2);
            panic!("boom");
        })
    }));
    assert!(err.is_err());
    assert_eq!(
        rx.has_changed(),
        Ok(false),
        "a panicking modify notifies nobody"
    );
    assert_eq!(*rx.borrow(), [1, 2]);
    tx.send(vec![3]).unwrap();
    assert_eq!(*rx.borrow_and_update(), [3]);
}

#[test]
fn types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let (tx, mut rx) = watch::channel(0u32);
    send_sync(&tx);
    send_sync(&rx);
    send(&tx.closed());
    send(&rx.changed());
    send(&rx.wait_for(|_| true));
}

/// Receivers on several worker threads follow a fast sender: each sees
/// values only go forward and ends on the last one.
#[test]
fn receivers_on_many_threads_see_the_last_value() {
    const N: u64 = 20_000;
    let rt = common::multi_thread(2);
    rt.block_on(async {
        let (tx, rx) = watch::channel(0u64);
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let mut rx = rx.clone();
            tasks.push(vigil::spawn(async move {
                let mut last = 0;
                let mut changes = 0u64;
                while rx.changed().await.is_ok() {
                    let v = *rx.borrow_and_update();
                    assert!(v > last, "went from {last} back to {v}");
                    last = v;
                    changes += 1;
                }
                (last, changes)
            }));
        }
        drop(rx);
        let sender = vigil::spawn(async move {
            for i in 1..=N {
                tx.send(i).unwrap();
                if i % 64 == 0 {
                    vigil::task::yield_now().await;
                }
            }
        });
        sender.await.unwrap();
        for t in tasks {
            let (last, changes) = t.await.unwrap();
            assert_eq!(last, N);
            assert!((1..=N).contains(&changes));
        }
    });
}

/// `changed` on a channel that always has something new spends the
/// task's budget, so another task on the same thread gets in.
#[test]
fn an_always_changing_watch_yields_to_other_tasks() {
    let rt = common::current_thread();
    rt.block_on(async {
        let (tx, mut rx) = watch::channel(0u32);
        let other_ran = Arc::new(AtomicUsize::new(0));
        let flag = other_ran.clone();
        let _other = vigil::spawn(async move { flag.store(1, Ordering::SeqCst) });
        let mut spins = 0u32;
        while other_ran.load(Ordering::SeqCst) == 0 {
            tx.send_replace(spins);
            rx.changed().await.unwrap();
            spins += 1;
            assert!(spins < 100_000, "changed never yielded");
        }
    });
}

fn poll_next<S: futures_core::Stream + Unpin>(s: &mut S, waker: &Waker) -> Poll<Option<S::Item>> {
    Pin::new(s).poll_next(&mut Context::from_waker(waker))
}

#[test]
fn watch_stream_yields_the_current_value_then_each_newest() {
    use vigil::sync::watch::WatchStream;
    let (tx, rx) = watch::channel(0);
    let mut stream = WatchStream::new(rx);
    let (w, waker) = counting_waker();
    assert_eq!(poll_next(&mut stream, &waker), Poll::Ready(Some(0)));
    assert!(poll_next(&mut stream, &waker).is_pending());
    tx.send(1).unwrap();
    assert_eq!(wakes(&w), 1);
    tx.send(2).unwrap();
    // The values in between are skipped: only the newest comes.
    assert_eq!(poll_next(&mut stream, &waker), Poll::Ready(Some(2)));
    assert!(poll_next(&mut stream, &waker).is_pending());
    tx.send(3).unwrap();
    drop(tx);
    assert_eq!(poll_next(&mut stream, &waker), Poll::Ready(Some(3)));
    assert_eq!(poll_next(&mut stream, &waker), Poll::Ready(None));
}

#[test]
fn watch_stream_from_changes_waits_for_a_new_value() {
    use vigil::sync::watch::WatchStream;
    let (tx, rx) = watch::channel("old");
    let mut stream = WatchStream::from_changes(rx);
    let (w, waker) = counting_waker();
    assert!(poll_next(&mut stream, &waker).is_pending());
    tx.send("new").unwrap();
    assert_eq!(wakes(&w), 1);
    assert_eq!(poll_next(&mut stream, &waker), Poll::Ready(Some("new")));
    // A dropped waiting stream leaves the wait list: the next send wakes
    // nobody.
    assert!(poll_next(&mut stream, &waker).is_pending());
    drop(stream);
    let _ = tx.send("newer");
    assert_eq!(wakes(&w), 1);
}
