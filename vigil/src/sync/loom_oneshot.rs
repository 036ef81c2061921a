//! Loom models of the oneshot state word.
//!
//! Run with
//! `RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test -p vigil --release --lib loom_`.
//!
//! Each model races one operation of one end against one of the other and
//! checks the outcome is one of the allowed ones, and that a `Pending` poll
//! is always followed by a wake-up (no lost wake-ups). The value slot and
//! both waker slots are loom cells, so an access the state word does not
//! order is reported as a data race; the shared allocation is a loom `Arc`,
//! so a leak fails the model. Bookkeeping (wake and drop counters) uses
//! `std` atomics, which are exact under loom's single OS thread and stay
//! out of the explored state space.

use super::error::{RecvError, TryRecvError};
use super::{channel, Receiver};
use loom::thread;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

#[derive(Default)]
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn counting() -> (Arc<CountingWaker>, Waker) {
    let counter = Arc::new(CountingWaker::default());
    (counter.clone(), Waker::from(counter))
}

fn poll_rx<T>(rx: &mut Receiver<T>, waker: &Waker) -> Poll<Result<T, RecvError>> {
    Pin::new(rx).poll(&mut Context::from_waker(waker))
}

struct Dropped(Arc<AtomicUsize>);

impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
fn loom_send_vs_recv() {
    loom::model(|| {
        let (tx, mut rx) = channel();
        let sender = thread::spawn(move || tx.send(7u32).unwrap());
        let (count, waker) = counting();
        let first = poll_rx(&mut rx, &waker);
        sender.join().unwrap();
        match first {
            Poll::Ready(v) => assert_eq!(v, Ok(7)),
            Poll::Pending => {
                assert_eq!(count.0.load(SeqCst), 1, "pending receiver not woken");
                assert_eq!(poll_rx(&mut rx, &waker), Poll::Ready(Ok(7)));
            }
        }
    });
}

#[test]
fn loom_sender_drop_vs_recv() {
    loom::model(|| {
        let (tx, mut rx) = channel::<u32>();
        let sender = thread::spawn(move || drop(tx));
        let (count, waker) = counting();
        let first = poll_rx(&mut rx, &waker);
        sender.join().unwrap();
        if first.is_pending() {
            assert_eq!(count.0.load(SeqCst), 1, "pending receiver not woken");
        }
        assert_eq!(poll_rx(&mut rx, &waker), Poll::Ready(Err(RecvError(()))));
    });
}

#[test]
fn loom_send_vs_receiver_drop() {
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = channel();
        let value = Dropped(drops.clone());
        let sender = thread::spawn(move || tx.send(value).is_ok());
        drop(rx);
        let _sent = sender.join().unwrap();
        assert_eq!(drops.load(SeqCst), 1, "value not dropped exactly once");
    });
}

#[test]
fn loom_close_vs_send() {
    loom::model(|| {
        let (tx, mut rx) = channel();
        let sender = thread::spawn(move || tx.send(3u8).is_ok());
        rx.close();
        let got = rx.try_recv();
        let sent = sender.join().unwrap();
        // A send that succeeded happened before the close: its value stays.
        if sent {
            assert_eq!(got, Ok(3));
        } else {
            assert_eq!(got, Err(TryRecvError::Closed));
        }
    });
}

#[test]
fn loom_closed_vs_receiver_drop() {
    loom::model(|| {
        let (mut tx, rx) = channel::<u8>();
        let receiver = thread::spawn(move || drop(rx));
        let (count, waker) = counting();
        let mut cx = Context::from_waker(&waker);
        let first = tx.poll_closed(&mut cx);
        receiver.join().unwrap();
        if first.is_pending() {
            assert_eq!(count.0.load(SeqCst), 1, "pending closed() not woken");
        }
        assert!(tx.poll_closed(&mut cx).is_ready());
        assert!(tx.is_closed());
    });
}

#[test]
fn loom_rx_waker_replaced_during_send() {
    loom::model(|| {
        let (tx, mut rx) = channel();
        let (_, first_waker) = counting();
        // Register a first waker before the race starts.
        assert!(poll_rx(&mut rx, &first_waker).is_pending());
        let sender = thread::spawn(move || tx.send(1u8).unwrap());
        let (count, waker) = counting();
        let second = poll_rx(&mut rx, &waker);
        sender.join().unwrap();
        if second.is_pending() {
            assert_eq!(
                count.0.load(SeqCst),
                1,
                "the replacement waker was not woken"
            );
            assert_eq!(poll_rx(&mut rx, &waker), Poll::Ready(Ok(1)));
        } else {
            assert_eq!(second, Poll::Ready(Ok(1)));
        }
    });
}

#[test]
fn loom_is_empty_vs_send() {
    loom::model(|| {
        let (tx, mut rx) = channel();
        let sender = thread::spawn(move || tx.send(String::from("v")).unwrap());
        // Reads the value slot once `COMPLETE` is seen: loom reports a
        // race if the state word does not order it after the write.
        let empty = rx.is_empty();
        let got = rx.try_recv();
        sender.join().unwrap();
        if !empty {
            assert_eq!(got.as_deref(), Ok("v"), "a value seen must be received");
        }
        assert!(rx.is_empty() || got.is_err());
        assert_eq!(rx.is_terminated(), got.is_ok());
    });
}
