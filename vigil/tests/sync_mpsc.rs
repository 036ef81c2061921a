//! `vigil::sync::mpsc`, bounded channel: ordering, capacity, waiting
//! senders, permits, closing and drops.
//!
//! Most tests poll futures by hand with a counting waker, so they can check
//! exactly who is pending and who was woken. Stream, Sink, the unbounded
//! flavour and runtime-level tests are in `sync_mpsc_more.rs`.

mod common;

use common::{panic_message, DropCounter};
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use vigil::sync::mpsc::{self, error::TryRecvError, error::TrySendError};

/// Counts how often it is woken.
#[derive(Default)]
struct Wakes(AtomicUsize);

impl Wake for Wakes {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counting_waker() -> (Waker, Arc<Wakes>) {
    let wakes = Arc::new(Wakes::default());
    (Waker::from(wakes.clone()), wakes)
}

fn woken(w: &Wakes) -> usize {
    w.0.load(Ordering::SeqCst)
}

fn poll<F: Future>(fut: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(waker))
}

#[test]
fn values_come_out_in_send_order() {
    vigil::block_on(async {
        let (tx, mut rx) = mpsc::channel(4);
        let producer = vigil::spawn(async move {
            for i in 0..100 {
                tx.send(i).await.unwrap();
            }
        });
        for i in 0..100 {
            assert_eq!(rx.recv().await, Some(i));
        }
        assert_eq!(rx.recv().await, None);
        producer.await.unwrap();
    });
}

#[test]
fn zero_buffer_panics() {
    let msg = panic_message(|| drop(mpsc::channel::<u8>(0)));
    assert!(msg.contains("at least one slot"), "{msg}");
}

#[test]
fn send_waits_while_full_and_is_woken_by_recv() {
    let (tx, mut rx) = mpsc::channel(2);
    let (waker, wakes) = counting_waker();
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    assert_eq!(tx.capacity(), 0);
    assert_eq!(tx.max_capacity(), 2);
    let mut send = pin!(tx.send(3));
    assert!(poll(send.as_mut(), &waker).is_pending());
    assert!(poll(send.as_mut(), &waker).is_pending());
    assert_eq!(woken(&wakes), 0);
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(woken(&wakes), 1, "the freed slot wakes the waiting sender");
    // The slot is reserved for the waiter: nobody else can take it.
    assert_eq!(tx.capacity(), 0);
    assert!(matches!(tx.try_send(9), Err(TrySendError::Full(9))));
    assert!(matches!(poll(send.as_mut(), &waker), Poll::Ready(Ok(()))));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(tx.capacity(), 2);
}

#[test]
fn waiting_senders_are_served_in_arrival_order() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let (w1, wakes1) = counting_waker();
    let (w2, wakes2) = counting_waker();
    let (w3, wakes3) = counting_waker();
    let mut s1 = pin!(tx.send(1));
    let mut s2 = pin!(tx.send(2));
    let mut s3 = pin!(tx.send(3));
    assert!(poll(s1.as_mut(), &w1).is_pending());
    assert!(poll(s2.as_mut(), &w2).is_pending());
    assert!(poll(s3.as_mut(), &w3).is_pending());
    // Each freed slot goes to the earliest waiter, even if a later one is
    // polled first.
    assert_eq!(rx.try_recv(), Ok(0));
    assert!(poll(s3.as_mut(), &w3).is_pending());
    assert!(poll(s2.as_mut(), &w2).is_pending());
    assert!(poll(s1.as_mut(), &w1).is_ready());
    assert_eq!(rx.try_recv(), Ok(1));
    assert!(poll(s3.as_mut(), &w3).is_pending());
    assert!(poll(s2.as_mut(), &w2).is_ready());
    assert_eq!(rx.try_recv(), Ok(2));
    assert!(poll(s3.as_mut(), &w3).is_ready());
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!((woken(&wakes1), woken(&wakes2), woken(&wakes3)), (1, 1, 1));
}

#[test]
fn cancelled_waiting_send_leaves_the_queue() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let (w1, wakes1) = counting_waker();
    let (w2, wakes2) = counting_waker();
    let mut first = Box::pin(tx.send(1));
    let mut second = pin!(tx.send(2));
    assert!(poll(first.as_mut(), &w1).is_pending());
    assert!(poll(second.as_mut(), &w2).is_pending());
    drop(first); // cancelled while still queued
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!(woken(&wakes1), 0);
    assert_eq!(woken(&wakes2), 1, "the slot goes to the next waiter");
    assert!(poll(second.as_mut(), &w2).is_ready());
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(tx.capacity(), 1);
}

#[test]
fn cancelled_send_after_its_grant_passes_the_slot_on_and_leaks_none() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let (w1, wakes1) = counting_waker();
    let (w2, wakes2) = counting_waker();
    let mut first = Box::pin(tx.send(1));
    let mut second = Box::pin(tx.send(2));
    assert!(poll(first.as_mut(), &w1).is_pending());
    assert!(poll(second.as_mut(), &w2).is_pending());
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!(woken(&wakes1), 1, "granted the slot");
    drop(first); // ... but cancelled before using it
    assert_eq!(woken(&wakes2), 1, "so the slot moves on");
    drop(second); // and that one is cancelled too
    assert_eq!(tx.capacity(), 1, "no capacity leaked");
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.try_send(5).unwrap();
    assert_eq!(rx.try_recv(), Ok(5));
}

#[test]
fn permits_reserve_a_slot_and_return_it_when_dropped() {
    let (tx, mut rx) = mpsc::channel::<&str>(2);
    let (waker, _) = counting_waker();
    let p1 = vigil::block_on(tx.reserve()).unwrap();
    assert_eq!(tx.capacity(), 1);
    let p2 = tx.try_reserve().unwrap();
    assert_eq!(tx.capacity(), 0);
    assert!(matches!(tx.try_reserve(), Err(TrySendError::Full(()))));
    assert!(matches!(tx.try_send("x"), Err(TrySendError::Full("x"))));
    {
        let mut waiting = pin!(tx.reserve());
        assert!(poll(waiting.as_mut(), &waker).is_pending());
        drop(p1); // hands its slot to the waiting reserve
        match poll(waiting.as_mut(), &waker) {
            Poll::Ready(Ok(p)) => p.send("via waiting permit"),
            other => panic!("expected a permit, got {other:?}"),
        }
    }
    p2.send("via permit");
    assert_eq!(rx.try_recv(), Ok("via waiting permit"));
    assert_eq!(rx.try_recv(), Ok("via permit"));
    assert_eq!(tx.capacity(), 2);
}

#[test]
fn owned_permits_move_the_sender_along() {
    vigil::block_on(async {
        let (tx, mut rx) = mpsc::channel(1);
        let permit = tx.clone().reserve_owned().await.unwrap();
        assert_eq!(tx.capacity(), 0);
        let task = vigil::spawn(async move {
            let sender = permit.send(1);
            sender.reserve_owned().await.unwrap().release()
        });
        assert_eq!(rx.recv().await, Some(1));
        let sender = task.await.unwrap();
        assert!(sender.same_channel(&tx));
        assert_eq!(tx.capacity(), 1);
        let dropped = sender.reserve_owned().await.unwrap();
        assert_eq!(tx.capacity(), 0);
        drop(dropped);
        assert_eq!(tx.capacity(), 1);
    });
}

#[test]
fn dropping_the_receiver_fails_every_send_and_drops_the_buffer() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::channel(1);
    let (waker, wakes) = counting_waker();
    tx.try_send(DropCounter(drops.clone())).unwrap();
    let mut waiting = pin!(tx.send(DropCounter(drops.clone())));
    assert!(poll(waiting.as_mut(), &waker).is_pending());
    let mut closed = pin!(tx.closed());
    assert!(poll(closed.as_mut(), &waker).is_pending());
    assert!(!tx.is_closed());
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), 1, "the buffered value");
    assert_eq!(woken(&wakes), 2, "the waiting send and `closed`");
    assert!(tx.is_closed());
    assert!(poll(closed.as_mut(), &waker).is_ready());
    match poll(waiting.as_mut(), &waker) {
        Poll::Ready(Err(err)) => drop(err.0),
        _ => panic!("the waiting send must fail"),
    }
    assert_eq!(drops.load(Ordering::SeqCst), 2);
    let err = vigil::block_on(tx.send(DropCounter(drops.clone()))).unwrap_err();
    assert_eq!(drops.load(Ordering::SeqCst), 2, "the value came back");
    drop(err);
    assert_eq!(drops.load(Ordering::SeqCst), 3);
    let err = tx.try_send(DropCounter(drops.clone())).unwrap_err();
    assert!(err.is_closed());
    drop(err);
    assert!(vigil::block_on(tx.reserve()).is_err());
    assert_eq!(drops.load(Ordering::SeqCst), 4);
}

#[test]
fn a_permit_outliving_the_receiver_drops_its_value() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::channel(1);
    let permit = tx.try_reserve().unwrap();
    drop(rx);
    permit.send(DropCounter(drops.clone()));
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    assert!(matches!(
        tx.try_send(DropCounter(drops.clone())),
        Err(TrySendError::Closed(_))
    ));
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}

#[test]
fn recv_returns_none_after_the_last_sender_and_the_buffer() {
    let (tx, mut rx) = mpsc::channel(4);
    let tx2 = tx.clone();
    let (waker, wakes) = counting_waker();
    tx.try_send(1).unwrap();
    tx2.try_send(2).unwrap();
    drop(tx);
    assert!(!rx.is_closed());
    assert_eq!(rx.len(), 2);
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Ok(2));
    assert!(rx.is_empty());
    {
        let mut recv = pin!(rx.recv());
        assert!(poll(recv.as_mut(), &waker).is_pending(), "tx2 is alive");
        drop(tx2);
        assert_eq!(
            woken(&wakes),
            1,
            "the last sender's drop wakes the receiver"
        );
        assert_eq!(poll(recv.as_mut(), &waker), Poll::Ready(None));
    }
    assert!(rx.is_closed());
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn close_stops_senders_but_keeps_the_buffer_and_permits() {
    let (tx, mut rx) = mpsc::channel(3);
    let (waker, wakes) = counting_waker();
    tx.try_send(1).unwrap();
    let permit = tx.try_reserve().unwrap();
    rx.close();
    assert!(rx.is_closed() && tx.is_closed());
    assert!(matches!(tx.try_send(2), Err(TrySendError::Closed(2))));
    assert_eq!(vigil::block_on(tx.send(3)).unwrap_err().0, 3);
    assert_eq!(rx.try_recv(), Ok(1));
    // A permit taken before `close` can still send, so the receiver waits.
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    {
        let mut recv = pin!(rx.recv());
        assert!(poll(recv.as_mut(), &waker).is_pending());
        permit.send(4);
        assert_eq!(woken(&wakes), 1);
        assert_eq!(poll(recv.as_mut(), &waker), Poll::Ready(Some(4)));
    }
    assert_eq!(vigil::block_on(rx.recv()), None);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn close_ends_recv_when_the_last_permit_is_dropped_unused() {
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    let (waker, wakes) = counting_waker();
    let permit = tx.try_reserve().unwrap();
    rx.close();
    let mut recv = pin!(rx.recv());
    assert!(poll(recv.as_mut(), &waker).is_pending());
    drop(permit);
    assert_eq!(woken(&wakes), 1);
    assert_eq!(poll(recv.as_mut(), &waker), Poll::Ready(None));
}

#[test]
fn close_fails_waiting_senders_and_completes_closed() {
    let (tx, mut rx) = mpsc::channel(1);
    let (waker, wakes) = counting_waker();
    tx.try_send(1).unwrap();
    let mut waiting = pin!(tx.send(2));
    assert!(poll(waiting.as_mut(), &waker).is_pending());
    let mut waiting_reserve = pin!(tx.reserve());
    assert!(poll(waiting_reserve.as_mut(), &waker).is_pending());
    vigil::block_on(async {
        let closed = vigil::spawn({
            let tx = tx.clone();
            async move { tx.closed().await }
        });
        vigil::task::yield_now().await;
        rx.close();
        closed.await.unwrap();
    });
    assert_eq!(woken(&wakes), 2);
    assert!(matches!(poll(waiting.as_mut(), &waker), Poll::Ready(Err(e)) if e.0 == 2));
    assert!(matches!(
        poll(waiting_reserve.as_mut(), &waker),
        Poll::Ready(Err(_))
    ));
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn try_variants_report_full_closed_empty_and_disconnected() {
    let (tx, mut rx) = mpsc::channel(1);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.try_send(1).unwrap();
    let err = tx.try_send(2).unwrap_err();
    assert!(err.is_full() && !err.is_closed());
    assert_eq!(err.into_inner(), 2);
    assert_eq!(rx.try_recv(), Ok(1));
    drop(tx);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));

    let (tx, rx) = mpsc::channel(1);
    drop(rx);
    let err = tx.try_send("v").unwrap_err();
    assert!(err.is_closed());
    assert_eq!(err, TrySendError::Closed("v"));
}

#[test]
fn recv_many_takes_up_to_the_limit_and_frees_slots() {
    vigil::block_on(async {
        let (tx, mut rx) = mpsc::channel(3);
        let mut out = vec![0];
        assert_eq!(rx.recv_many(&mut out, 0).await, 0);
        for i in 1..=3 {
            tx.send(i).await.unwrap();
        }
        assert_eq!(rx.recv_many(&mut out, 2).await, 2);
        assert_eq!(out, [0, 1, 2]);
        assert_eq!(tx.capacity(), 2);
        let waiter = vigil::spawn({
            let tx = tx.clone();
            async move {
                tx.send(4).await.unwrap();
                tx.send(5).await.unwrap();
                tx.send(6).await.unwrap();
            }
        });
        drop(tx);
        loop {
            if rx.recv_many(&mut out, 10).await == 0 {
                break;
            }
        }
        waiter.await.unwrap();
        assert_eq!(out, [0, 1, 2, 3, 4, 5, 6]);
    });
}

#[test]
fn recv_is_cancel_safe() {
    let (tx, mut rx) = mpsc::channel(1);
    let (waker, _) = counting_waker();
    {
        let mut recv = pin!(rx.recv());
        assert!(poll(recv.as_mut(), &waker).is_pending());
    }
    tx.try_send(1).unwrap();
    {
        // Created, never polled, dropped: nothing is taken.
        let _recv = rx.recv();
    }
    assert_eq!(rx.try_recv(), Ok(1));
}

#[test]
fn every_value_is_dropped_exactly_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let value = || DropCounter(drops.clone());
    let count = || drops.load(Ordering::SeqCst);
    {
        let (tx, mut rx) = mpsc::channel(4);
        tx.try_send(value()).unwrap(); // received and dropped
        tx.try_send(value()).unwrap(); // left in the buffer when all is dropped
        let permit = tx.try_reserve().unwrap();
        permit.send(value()); // left in the buffer
        let full = {
            tx.try_send(value()).unwrap();
            tx.try_send(value()) // full: comes back
        };
        drop(full);
        assert_eq!(count(), 1);
        drop(rx.try_recv().unwrap());
        assert_eq!(count(), 2);
        drop(tx);
        // The receiver still owns 3 buffered values.
        assert_eq!(count(), 2);
    }
    assert_eq!(count(), 5);
    {
        // A cancelled send drops its value once, with the future.
        let (tx, _rx) = mpsc::channel(1);
        tx.try_send(value()).unwrap();
        let (waker, _) = counting_waker();
        let mut send = Box::pin(tx.send(value()));
        assert!(poll(send.as_mut(), &waker).is_pending());
        drop(send);
        assert_eq!(count(), 6);
    }
    assert_eq!(count(), 7);
}

#[test]
fn values_that_own_a_sender_can_be_dropped_by_the_channel() {
    // The buffer's values are dropped outside the channel's lock: a value
    // holding a sender of the same channel must not deadlock.
    let (tx, rx) = mpsc::channel(2);
    tx.try_send(SelfSender(tx.clone())).unwrap();
    drop(rx);
    assert!(tx.is_closed());
    let (tx, rx) = mpsc::unbounded_channel();
    tx.send(SelfUnbounded(tx.clone())).unwrap();
    drop(tx);
    drop(rx);
}

struct SelfSender(#[allow(dead_code)] mpsc::Sender<SelfSender>);
struct SelfUnbounded(#[allow(dead_code)] mpsc::UnboundedSender<SelfUnbounded>);

#[test]
fn errors_display_debug_and_convert() {
    let send = mpsc::error::SendError(NoDebug);
    assert!(send.to_string().contains("closed"));
    assert_eq!(format!("{send:?}"), "SendError { .. }");
    let full: TrySendError<NoDebug> = TrySendError::Full(NoDebug);
    assert_eq!(format!("{full:?}"), "Full(..)");
    assert!(!full.to_string().is_empty());
    let closed: TrySendError<u8> = mpsc::error::SendError(1).into();
    assert_eq!(closed, TrySendError::Closed(1));
    assert_ne!(
        TryRecvError::Empty.to_string(),
        TryRecvError::Disconnected.to_string()
    );
    fn is_error<E: std::error::Error + Send + Sync + 'static>(_: &E) {}
    is_error(&mpsc::error::SendError(NoDebug));
    is_error(&closed);
    is_error(&TryRecvError::Empty);
}

struct NoDebug;

#[test]
fn handles_are_send_sync_and_debug() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<mpsc::Sender<String>>();
    send_sync::<mpsc::Receiver<String>>();
    send_sync::<mpsc::OwnedPermit<String>>();
    send_sync::<mpsc::UnboundedSender<String>>();
    send_sync::<mpsc::UnboundedReceiver<String>>();
    fn send_future<F: Future + Send>(_: F) {}
    let (tx, mut rx) = mpsc::channel::<String>(1);
    send_future(tx.send(String::new()));
    send_future(tx.reserve());
    send_future(rx.recv());
    let (tx, rx) = mpsc::channel::<NoDebug>(1);
    assert!(format!("{tx:?} {rx:?}").contains("Sender"));
}

#[test]
fn a_granted_send_fails_with_its_value_if_the_receiver_drops_first() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx) = mpsc::channel(1);
    let (waker, wakes) = counting_waker();
    tx.try_send(DropCounter(drops.clone())).unwrap();
    let mut send = pin!(tx.send(DropCounter(drops.clone())));
    assert!(poll(send.as_mut(), &waker).is_pending());
    drop(rx.try_recv().unwrap()); // grants the slot to `send`
    assert_eq!(woken(&wakes), 1);
    drop(rx);
    match poll(send.as_mut(), &waker) {
        Poll::Ready(Err(err)) => {
            assert_eq!(drops.load(Ordering::SeqCst), 1, "handed back, not dropped");
            drop(err);
        }
        _ => panic!("the receiver is gone: the send must fail"),
    }
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}

#[test]
fn poll_recv_registers_the_latest_waker() {
    let (tx, mut rx) = mpsc::channel(1);
    let (first, first_wakes) = counting_waker();
    let (second, second_wakes) = counting_waker();
    assert!(rx.poll_recv(&mut Context::from_waker(&first)).is_pending());
    assert!(rx.poll_recv(&mut Context::from_waker(&second)).is_pending());
    tx.try_send(1).unwrap();
    assert_eq!((woken(&first_wakes), woken(&second_wakes)), (0, 1));
    assert_eq!(
        rx.poll_recv(&mut Context::from_waker(&second)),
        Poll::Ready(Some(1))
    );
    drop(tx);
    assert_eq!(
        rx.poll_recv(&mut Context::from_waker(&second)),
        Poll::Ready(None)
    );
}
