//! Loom models of a signal slot: the handler's flag, the dispatcher's
//! count and wake, and a listener registering its waker and reading the
//! count, raced in every order the memory model allows.
//!
//! Run with
//! `RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test -p vigil --release --lib loom_`.
//!
//! The property: a listener that looked and saw no new delivery is woken
//! by the dispatch that counts it (no lost wake-up), and a raised signal
//! is counted exactly once however many dispatchers race.

use super::Slot;
use loom::sync::Arc;
use loom::thread;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::SeqCst;
use std::task::{Wake, Waker};

#[derive(Default)]
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
fn loom_a_listener_racing_a_dispatch_sees_the_delivery_or_is_woken() {
    loom::model(|| {
        let slot = Arc::new(Slot::new());
        let seen = slot.delivered();
        let signal = {
            let slot = slot.clone();
            thread::spawn(move || {
                slot.raise();
                slot.deliver();
            })
        };
        // The listener's poll: waker first, then the count.
        let counter = std::sync::Arc::new(CountingWaker::default());
        let waker = Waker::from(counter.clone());
        let mut key = None;
        slot.set_waker(&mut key, &waker);
        let saw_it = slot.delivered() != seen;
        signal.join().unwrap();
        assert!(
            saw_it || counter.0.load(SeqCst) > 0,
            "a delivery was missed"
        );
        assert_eq!(slot.delivered(), seen + 1);
        slot.remove_waker(&mut key);
    });
}

#[test]
fn loom_one_raise_is_counted_once_by_racing_dispatchers() {
    loom::model(|| {
        let slot = Arc::new(Slot::new());
        slot.raise();
        let other = {
            let slot = slot.clone();
            thread::spawn(move || slot.deliver())
        };
        let here = slot.deliver();
        let there = other.join().unwrap();
        assert!(here ^ there, "exactly one dispatcher counts it");
        assert_eq!(slot.delivered(), 1);
    });
}

#[test]
fn loom_a_raise_during_a_dispatch_is_counted_by_it_or_the_next() {
    loom::model(|| {
        let slot = Arc::new(Slot::new());
        let handler = {
            let slot = slot.clone();
            thread::spawn(move || slot.raise())
        };
        slot.deliver();
        handler.join().unwrap();
        // The pipe byte the handler wrote makes the pipe readable again,
        // so a later dispatch always follows: it must find the flag if the
        // first did not.
        slot.deliver();
        assert_eq!(slot.delivered(), 1);
    });
}
