//! Loom models of the channel core.
//!
//! Run with
//! `RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test -p vigil --release --lib loom_`.
//!
//! The lock is loom's, so loom explores every order in which the model
//! threads take it. Futures are driven by the module's loom `block_on`,
//! which sleeps until woken: a wakeup the channel forgets shows up as a
//! deadlock. Drop counts use `std` atomics (loom runs all model threads on
//! one OS thread, so they are exact and add no states).

use super::{channel, error::TryRecvError};
use crate::sync::loom_support::block_on;
use loom::thread;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// Runs `f` under loom with a preemption bound of 8 (override with
/// `LOOM_MAX_PREEMPTIONS`): these models stay under 10,000 iterations and a
/// second in release builds at that bound.
fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(8);
    }
    // Count the explored interleavings (shown with `--nocapture`), so a
    // model that explores next to nothing gets noticed.
    let iterations = Arc::new(AtomicUsize::new(0));
    let counter = iterations.clone();
    builder.check(move || {
        counter.fetch_add(1, SeqCst);
        f()
    });
    eprintln!(
        "{}: {} iterations",
        std::thread::current().name().unwrap_or("?"),
        iterations.load(SeqCst)
    );
}

/// A sender fills the one-slot buffer and waits to send a second value
/// while the receiver takes one value and then drops: the waiting send is
/// woken either way (granted a slot, or failed), and both values are
/// dropped exactly once, wherever they end up.
#[test]
fn loom_send_recv_and_drop_receiver() {
    model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, mut rx) = channel(1);
        let d = drops.clone();
        let producer = thread::spawn(move || {
            let first = block_on(tx.send(Counted(d.clone())));
            assert!(first.is_ok() || first.is_err());
            // May wait for the slot the receiver frees, or fail if it is gone.
            drop(block_on(tx.send(Counted(d))));
        });
        let got = block_on(rx.recv());
        assert!(got.is_some(), "the sender was alive, so a value comes");
        drop(got);
        drop(rx);
        producer.join().unwrap();
        assert_eq!(drops.load(SeqCst), 2);
    });
}

/// With the buffer full, one sender queues for a slot and gives up (its
/// `reserve` future or its permit is dropped) while the receiver frees the
/// slot and a second sender waits: the slot must reach the second sender
/// whatever the order, and afterwards the full capacity is back.
#[test]
fn loom_cancelled_waiter_passes_the_slot_on() {
    model(|| {
        let (tx, mut rx) = channel::<u32>(1);
        tx.try_send(0).unwrap();
        let tx2 = tx.clone();
        let quitter = thread::spawn(move || {
            let mut cx = Context::from_waker(Waker::noop());
            let mut reserve = pin!(tx.reserve());
            match reserve.as_mut().poll(&mut cx) {
                // Got the freed slot: give it back unused.
                Poll::Ready(permit) => drop(permit.unwrap()),
                // Queued (maybe granted meanwhile): leave.
                Poll::Pending => {}
            }
        });
        let waiter = thread::spawn(move || {
            block_on(tx2.send(2)).unwrap();
            tx2
        });
        assert_eq!(block_on(rx.recv()), Some(0));
        quitter.join().unwrap();
        let tx2 = waiter.join().unwrap();
        assert_eq!(rx.try_recv(), Ok(2));
        assert_eq!(tx2.capacity(), 1);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    });
}

/// `close` races a send and a permit: whatever was accepted is received,
/// then `recv` ends (once the permit is used), and nothing is lost.
#[test]
fn loom_close_races_send_and_permit() {
    model(|| {
        let (tx, mut rx) = channel::<u32>(2);
        let permit_tx = tx.clone();
        let sender = thread::spawn(move || block_on(tx.send(1)).is_ok());
        let permit_thread = thread::spawn(move || {
            if let Ok(permit) = block_on(permit_tx.reserve()) {
                permit.send(2);
                true
            } else {
                false
            }
        });
        rx.close();
        let mut got = Vec::new();
        while let Some(v) = block_on(rx.recv()) {
            got.push(v);
        }
        let sent = sender.join().unwrap();
        let permitted = permit_thread.join().unwrap();
        got.sort_unstable();
        let mut expected = Vec::new();
        if sent {
            expected.push(1);
        }
        if permitted {
            expected.push(2);
        }
        assert_eq!(got, expected);
    });
}

/// A batch of two slots is requested on a two-slot channel holding one
/// value, while the receiver frees that slot and a single sender waits. The
/// batch polls once and gives up: if it got both slots it sends one value
/// and drops the iterator with the other; if not, its future is dropped
/// holding none, one or both of them. Whatever the order, the single
/// sender gets a slot, and once everything is received the full capacity
/// is back: exactly what the batch held was returned.
#[test]
fn loom_dropped_reserve_many_returns_exactly_its_slots() {
    model(|| {
        let (tx, mut rx) = channel::<u32>(2);
        tx.try_send(0).unwrap();
        let tx2 = tx.clone();
        let batcher = thread::spawn(move || {
            let mut cx = Context::from_waker(Waker::noop());
            let mut reserve = pin!(tx.reserve_many(2));
            match reserve.as_mut().poll(&mut cx) {
                Poll::Ready(permits) => {
                    let mut permits = permits.unwrap();
                    permits.next().unwrap().send(1);
                    // The iterator still holds the second slot.
                    assert_eq!(permits.len(), 1);
                    true
                }
                Poll::Pending => false,
            }
        });
        let waiter = thread::spawn(move || {
            block_on(tx2.send(2)).unwrap();
            tx2
        });
        assert_eq!(block_on(rx.recv()), Some(0));
        let sent_one = batcher.join().unwrap();
        let tx2 = waiter.join().unwrap();
        let mut got = Vec::new();
        while let Ok(v) = rx.try_recv() {
            got.push(v);
        }
        got.sort_unstable();
        assert_eq!(got, if sent_one { vec![1, 2] } else { vec![2] });
        assert_eq!(tx2.capacity(), 2);
    });
}

/// `close` races a batch of three on a three-slot channel that the
/// receiver is draining: the batch collects its slots one by one, and
/// either gets all three before the close (then sends three values, which
/// are received) or fails, holding some of them when the close comes. The
/// receiver ends in both cases (nothing waits for the slots a failed batch
/// held) and no wakeup is lost.
#[test]
fn loom_close_races_reserve_many() {
    model(|| {
        let (tx, mut rx) = channel::<u32>(3);
        tx.try_send(0).unwrap();
        tx.try_send(1).unwrap();
        let batcher = thread::spawn(move || match block_on(tx.reserve_many(3)) {
            Ok(permits) => {
                assert_eq!(permits.len(), 3);
                for (permit, v) in permits.zip(10..) {
                    permit.send(v);
                }
                true
            }
            Err(_) => false,
        });
        assert_eq!(block_on(rx.recv()), Some(0));
        assert_eq!(block_on(rx.recv()), Some(1));
        rx.close();
        let mut got = Vec::new();
        while let Some(v) = block_on(rx.recv()) {
            got.push(v);
        }
        let sent = batcher.join().unwrap();
        assert_eq!(got, if sent { vec![10, 11, 12] } else { vec![] });
    });
}
