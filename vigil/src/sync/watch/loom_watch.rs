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
