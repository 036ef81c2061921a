//! Loom models for the watch channel.

use super::channel;
use crate::sync::loom_support::block_on;

/// Two sends race the receiver's `changed` loop and the sender's drop:
/// the receiver always ends up having seen the last value, and only
/// then learns the channel closed (a lost wake-up deadlocks the model).
#[test]
fn loom_watch_changed_races_send_and_drop() {
    loom::model(|| {
        let (tx, mut rx) = channel(0);
        let sender = loom::thread::spawn(move || {
            tx.send(1).unwrap();
            tx.send_replace(2);
        });
        let mut last = 0;
        block_on(async {
            while rx.changed().await.is_ok() {
                let v = *rx.borrow_and_update();
                assert!(v > last, "values go forward");
                last = v;
            }
        });
        sender.join().unwrap();
        assert_eq!(last, 2);
    });
}

/// `closed` wakes when the last receiver goes, on another thread.
#[test]
fn loom_watch_closed_races_receiver_drop() {
    loom::model(|| {
        let (tx, rx) = channel(());
        let rx2 = rx.clone();
        let t = loom::thread::spawn(move || drop(rx2));
        drop(rx);
        block_on(tx.closed());
        t.join().unwrap();
        assert!(tx.is_closed());
    });
}

/// Two clones of the sender send and drop on two threads: the channel
/// closes only after both are gone, and a receiver waiting in `changed`
/// sees the last value before it learns so (a lost wake-up deadlocks).
#[test]
fn loom_watch_cloned_senders_close_on_last_drop() {
    loom::model(|| {
        let (tx, mut rx) = channel(0);
        let tx2 = tx.clone();
        let t = loom::thread::spawn(move || {
            tx2.send_replace(1);
        });
        drop(tx);
        let mut last = 0;
        block_on(async {
            while rx.changed().await.is_ok() {
                last = *rx.borrow_and_update();
            }
        });
        // Closing when the first clone went would end the loop early.
        assert_eq!(last, 1, "closed before the other sender's value");
        t.join().unwrap();
        assert!(rx.is_closed());
    });
}
