//! `vigil::sync::mpsc` in batches: `reserve_many` / `try_reserve_many` and
//! their `PermitIterator`, `try_reserve_owned`, the sender counts seen from
//! the receiver, and `poll_recv_many` / `blocking_recv_many`.
//!
//! As in `sync_mpsc.rs`, most tests poll futures by hand with a counting
//! waker, so they can check exactly who is pending and who was woken; the
//! runtime-level tests synchronise through channels, never through sleeps.

mod common;

use common::{both_flavours, current_thread, panic_message};
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;
use vigil::sync::mpsc::{self, error::SendError, error::TryRecvError, error::TrySendError};

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

/// Polls a future that must be ready on its first poll.
fn now<F: Future>(fut: F) -> F::Output {
    match pin!(fut).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("expected the future to be ready at once"),
    }
}

/// Everything buffered now.
fn drain<T>(rx: &mut mpsc::Receiver<T>) -> Vec<T> {
    std::iter::from_fn(|| rx.try_recv().ok()).collect()
}

/// Runs `f` on its own thread; fails if it takes longer than `limit`.
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit)
        .unwrap_or_else(|e| panic!("did not finish within {limit:?}: {e}"))
}

#[test]
fn reserve_many_reserves_n_slots_and_yields_n_permits() {
    let (tx, mut rx) = mpsc::channel(5);
    tx.try_send(0).unwrap();
    let mut permits = now(tx.reserve_many(3)).unwrap();
    assert_eq!(permits.len(), 3);
    assert_eq!(permits.size_hint(), (3, Some(3)));
    // One value buffered, three slots reserved: one left.
    assert_eq!(tx.capacity(), 1);
    assert_eq!(rx.capacity(), 1);
    tx.try_send(100).unwrap();
    assert!(matches!(tx.try_send(101), Err(TrySendError::Full(101))));
    assert!(matches!(tx.try_reserve(), Err(TrySendError::Full(()))));

    for i in 1..=3 {
        permits.next().unwrap().send(i);
        assert_eq!(permits.len(), 3 - i as usize);
    }
    assert!(permits.next().is_none());
    assert!(permits.next().is_none(), "fused");
    assert_eq!(permits.len(), 0);
    drop(permits);
    // Sent values fill their slots; dropping the exhausted iterator frees
    // nothing more.
    assert_eq!(tx.capacity(), 0);
    assert_eq!(drain(&mut rx), [0, 100, 1, 2, 3]);
    assert_eq!(tx.capacity(), 5);
}

#[test]
fn try_reserve_many_takes_all_or_nothing() {
    let (tx, mut rx) = mpsc::channel::<u32>(4);
    tx.try_send(0).unwrap();
    // Three free, four asked: nothing is taken.
    assert!(matches!(
        tx.try_reserve_many(4),
        Err(TrySendError::Full(()))
    ));
    assert_eq!(tx.capacity(), 3);
    let permits = tx.try_reserve_many(3).unwrap();
    assert_eq!(permits.len(), 3);
    assert_eq!(tx.capacity(), 0);
    assert!(matches!(
        tx.try_reserve_many(1),
        Err(TrySendError::Full(()))
    ));
    for (i, permit) in permits.enumerate() {
        permit.send(i as u32 + 1);
    }
    assert_eq!(drain(&mut rx), [0, 1, 2, 3]);
    assert_eq!(tx.capacity(), 4);
}

#[test]
fn dropping_the_iterator_or_its_permits_gives_capacity_back() {
    let (tx, mut rx) = mpsc::channel(6);
    let mut permits = now(tx.reserve_many(5)).unwrap();
    assert_eq!(tx.capacity(), 1);

    // A permit taken out and dropped unused frees its slot.
    drop(permits.next().unwrap());
    assert_eq!(tx.capacity(), 2);
    // A permit that sends keeps its slot (now holding the value).
    permits.next().unwrap().send("a");
    assert_eq!(tx.capacity(), 2);
    // A permit taken out survives the iterator.
    let kept = permits.next().unwrap();
    assert_eq!(permits.len(), 2);
    // The iterator frees the two slots it still holds.
    drop(permits);
    assert_eq!(tx.capacity(), 4);
    kept.send("b");
    assert_eq!(tx.capacity(), 4);
    assert_eq!(drain(&mut rx), ["a", "b"]);
    assert_eq!(tx.capacity(), 6);

    // Same through try_reserve_many, with the iterator untouched.
    let permits = tx.try_reserve_many(6).unwrap();
    assert_eq!(tx.capacity(), 0);
    drop(permits);
    assert_eq!(tx.capacity(), 6);
}

#[test]
fn slots_given_back_by_the_iterator_wake_a_waiting_sender() {
    let (tx, mut rx) = mpsc::channel(2);
    let permits = tx.try_reserve_many(2).unwrap();
    let (waker, wakes) = counting_waker();
    let mut send = pin!(tx.send(7));
    assert!(poll(send.as_mut(), &waker).is_pending());
    drop(permits);
    assert_eq!(
        woken(&wakes),
        1,
        "the freed slot goes to the waiting sender"
    );
    assert_eq!(poll(send.as_mut(), &waker), Poll::Ready(Ok(())));
    assert_eq!(rx.try_recv(), Ok(7));
}

#[test]
fn try_reserve_many_reports_full_and_closed() {
    // Full: the buffer is full.
    let (tx, mut rx) = mpsc::channel(2);
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    let err = tx.try_reserve_many(1).unwrap_err();
    assert!(err.is_full(), "{err:?}");
    // Full: slots are free, but a sender is already waiting for them.
    assert_eq!(rx.try_recv(), Ok(1));
    let (waker, _wakes) = counting_waker();
    let mut waiting = pin!(tx.reserve_many(2));
    assert!(poll(waiting.as_mut(), &waker).is_pending());
    assert!(matches!(
        tx.try_reserve_many(1),
        Err(TrySendError::Full(()))
    ));

    // Closed: the receiver closed (with values still buffered) ...
    rx.close();
    assert!(matches!(
        tx.try_reserve_many(1),
        Err(TrySendError::Closed(()))
    ));
    assert!(matches!(
        tx.try_reserve_many(0),
        Err(TrySendError::Closed(()))
    ));
    // ... or dropped.
    let (tx, rx) = mpsc::channel::<u8>(2);
    drop(rx);
    assert!(matches!(
        tx.try_reserve_many(2),
        Err(TrySendError::Closed(()))
    ));
    assert!(matches!(now(tx.reserve_many(1)), Err(SendError(()))));
}

#[test]
fn reserving_zero_slots_gives_an_empty_iterator_while_open() {
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    tx.try_send(1).unwrap();
    // Even with the buffer full there is room for nothing.
    let mut none = tx.try_reserve_many(0).unwrap();
    assert_eq!(none.len(), 0);
    assert!(none.next().is_none());
    let none = now(tx.reserve_many(0)).unwrap();
    assert_eq!(none.len(), 0);
    drop(none);
    assert_eq!(tx.capacity(), 0);
    rx.close();
    assert!(matches!(now(tx.reserve_many(0)), Err(SendError(()))));
}

#[test]
fn more_than_max_capacity_is_an_error_not_a_wait() {
    let (tx, mut rx) = mpsc::channel::<u8>(4);
    // An empty channel cannot give five slots, now or ever: fail at once.
    assert!(matches!(now(tx.reserve_many(5)), Err(SendError(()))));
    assert!(matches!(
        now(tx.reserve_many(usize::MAX)),
        Err(SendError(()))
    ));
    assert!(matches!(
        tx.try_reserve_many(5),
        Err(TrySendError::Full(()))
    ));
    // Nothing was reserved or queued by the failed calls.
    assert_eq!(tx.capacity(), 4);
    // Exactly the bound is fine.
    drop(now(tx.reserve_many(4)).unwrap());
    assert_eq!(tx.capacity(), 4);
    // As in Tokio, the size check comes before the closed check.
    rx.close();
    assert!(matches!(
        tx.try_reserve_many(5),
        Err(TrySendError::Full(()))
    ));
    assert!(matches!(
        tx.try_reserve_many(4),
        Err(TrySendError::Closed(()))
    ));
}

#[test]
fn reserve_many_collects_freed_slots_and_keeps_its_place() {
    let (tx, mut rx) = mpsc::channel(3);
    for i in 0..3 {
        tx.try_send(i).unwrap();
    }
    let (waker, wakes) = counting_waker();
    let mut batch = pin!(tx.reserve_many(2));
    assert!(poll(batch.as_mut(), &waker).is_pending());

    // A single-slot sender arriving later queues behind the batch.
    let (later_waker, later_wakes) = counting_waker();
    let mut later = pin!(tx.send(10));
    assert!(poll(later.as_mut(), &later_waker).is_pending());

    // The first freed slot goes to the batch (which still needs one more):
    // it is not free, and nobody is woken yet.
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!(tx.capacity(), 0);
    assert_eq!(woken(&wakes), 0);
    assert!(poll(batch.as_mut(), &waker).is_pending());
    assert!(matches!(tx.try_send(99), Err(TrySendError::Full(99))));

    // The second completes the batch.
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(woken(&wakes), 1);
    assert_eq!(woken(&later_wakes), 0);
    let Poll::Ready(Ok(permits)) = poll(batch.as_mut(), &waker) else {
        panic!("the batch has its two slots");
    };
    assert_eq!(permits.len(), 2);
    for (permit, v) in permits.zip([20, 21]) {
        permit.send(v);
    }
    // Only now does the later sender get its turn.
    assert!(poll(later.as_mut(), &later_waker).is_pending());
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(woken(&later_wakes), 1);
    assert_eq!(poll(later.as_mut(), &later_waker), Poll::Ready(Ok(())));
    assert_eq!(drain(&mut rx), [20, 21, 10]);
    assert_eq!(tx.capacity(), 3);
}

#[test]
fn a_cancelled_reserve_many_passes_its_slots_on() {
    let (tx, mut rx) = mpsc::channel(3);
    for i in 0..3 {
        tx.try_send(i).unwrap();
    }
    let (waker, _wakes) = counting_waker();
    let mut batch = Box::pin(tx.reserve_many(3));
    assert!(poll(batch.as_mut(), &waker).is_pending());
    let (next_waker, next_wakes) = counting_waker();
    let mut next = pin!(tx.reserve_many(2));
    assert!(poll(next.as_mut(), &next_waker).is_pending());

    // The batch collects two of its three slots ...
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(tx.capacity(), 0);
    assert_eq!(woken(&next_wakes), 0);
    // ... and gives up: both go to the next waiter, which had asked for 2.
    drop(batch);
    assert_eq!(woken(&next_wakes), 1);
    let Poll::Ready(Ok(permits)) = poll(next.as_mut(), &next_waker) else {
        panic!("the next waiter got the slots of the cancelled one");
    };
    assert_eq!(permits.len(), 2);
    drop(permits);
    assert_eq!(tx.capacity(), 2);
    assert_eq!(drain(&mut rx), [2]);
    assert_eq!(tx.capacity(), 3);
}

#[test]
fn closing_fails_a_waiting_reserve_many_and_takes_its_slots_back() {
    let (tx, mut rx) = mpsc::channel(2);
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    let (waker, wakes) = counting_waker();
    let mut batch = pin!(tx.reserve_many(2));
    assert!(poll(batch.as_mut(), &waker).is_pending());
    // One slot collected, one still missing.
    assert_eq!(rx.try_recv(), Ok(1));
    rx.close();
    assert_eq!(woken(&wakes), 1);
    // The receiver does not wait for the half-served batch: once the
    // buffer is drained the channel is finished, before the batch is even
    // polled again.
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    assert!(matches!(
        poll(batch.as_mut(), &waker),
        Poll::Ready(Err(SendError(())))
    ));
}

#[test]
fn reserve_many_waits_until_the_receiver_drains() {
    for (name, rt) in both_flavours() {
        rt.block_on(async {
            vigil::time::timeout(Duration::from_secs(30), async {
                let (tx, mut rx) = mpsc::channel(4);
                for i in 0..4 {
                    tx.send(i).await.unwrap();
                }
                // Signals from the producer (plain unbounded channels).
                let (queued_tx, mut queued_rx) = mpsc::unbounded_channel();
                let (done_tx, mut done_rx) = mpsc::unbounded_channel();
                let producer = vigil::spawn(async move {
                    let mut batch = pin!(tx.reserve_many(3));
                    // Poll once by hand to report that it is queued.
                    let first = poll_fn(|cx| Poll::Ready(batch.as_mut().poll(cx))).await;
                    assert!(first.is_pending(), "the buffer is full");
                    queued_tx.send(()).unwrap();
                    let permits = batch.await.unwrap();
                    done_tx.send(()).unwrap();
                    for (permit, v) in permits.zip(10..) {
                        permit.send(v);
                    }
                });
                queued_rx.recv().await.unwrap();
                // Two slots freed: not enough for the batch of three.
                assert_eq!(rx.recv().await, Some(0), "{name}");
                assert_eq!(rx.recv().await, Some(1), "{name}");
                vigil::task::yield_now().await;
                assert_eq!(
                    done_rx.try_recv(),
                    Err(TryRecvError::Empty),
                    "{name}: the batch completed with only two slots"
                );
                // The third completes it.
                assert_eq!(rx.recv().await, Some(2), "{name}");
                done_rx.recv().await.unwrap();
                producer.await.unwrap();
                let mut rest = Vec::new();
                while rx.recv_many(&mut rest, 8).await > 0 {}
                assert_eq!(rest, [3, 10, 11, 12], "{name}");
            })
            .await
            .expect("timed out");
        });
    }
}

#[test]
fn batches_from_many_producers_all_arrive_in_order() {
    const PRODUCERS: usize = 4;
    const PER_PRODUCER: usize = 200;
    for (name, rt) in both_flavours() {
        rt.block_on(async {
            vigil::time::timeout(Duration::from_secs(60), async {
                let (tx, mut rx) = mpsc::channel(3);
                for p in 0..PRODUCERS {
                    let tx = tx.clone();
                    vigil::spawn(async move {
                        let mut next = 0;
                        let mut size = p % 3 + 1;
                        while next < PER_PRODUCER {
                            let n = size.min(PER_PRODUCER - next);
                            let permits = if size % 2 == 0 {
                                tx.reserve_many(n).await.unwrap()
                            } else {
                                match tx.try_reserve_many(n) {
                                    Ok(permits) => permits,
                                    Err(_) => tx.reserve_many(n).await.unwrap(),
                                }
                            };
                            assert_eq!(permits.len(), n);
                            for permit in permits {
                                permit.send((p, next));
                                next += 1;
                            }
                            size = size % 3 + 1;
                        }
                    });
                }
                let probe = tx.clone();
                drop(tx);
                let mut seen = [0; PRODUCERS];
                let mut batch = Vec::new();
                let mut total = 0;
                while total < PRODUCERS * PER_PRODUCER {
                    batch.clear();
                    let n = rx.recv_many(&mut batch, 5).await;
                    assert!(n > 0, "{name}");
                    for &(p, i) in &batch {
                        assert_eq!(i, seen[p], "{name}: producer {p} out of order");
                        seen[p] += 1;
                    }
                    total += n;
                }
                // Every slot came back.
                assert_eq!(probe.capacity(), 3, "{name}");
                drop(probe);
                assert_eq!(rx.recv().await, None, "{name}");
            })
            .await
            .expect("timed out");
        });
    }
}

#[test]
fn permit_iterator_debug_shows_what_is_left() {
    let (tx, _rx) = mpsc::channel::<u8>(3);
    let mut permits = tx.try_reserve_many(3).unwrap();
    let _first = permits.next().unwrap();
    let text = format!("{permits:?}");
    assert!(text.starts_with("PermitIterator"), "{text}");
    assert!(text.contains("remaining: 2"), "{text}");
}

#[test]
fn try_reserve_owned_returns_the_sender_on_failure() {
    let (tx, mut rx) = mpsc::channel(1);
    let permit = tx.clone().try_reserve_owned().unwrap();
    assert_eq!(tx.capacity(), 0);
    assert!(permit.same_channel_as_sender(&tx));

    // Full: the sender comes back, still counted and usable.
    let err = tx.clone().try_reserve_owned().unwrap_err();
    assert!(err.is_full(), "{err:?}");
    let back = err.into_inner();
    assert!(back.same_channel(&tx));
    assert_eq!(tx.strong_count(), 3, "tx, the permit's sender and `back`");

    let permit_tx = permit.send(5);
    assert_eq!(rx.try_recv(), Ok(5));
    // Free again: `back` can reserve now; releasing hands the sender back.
    let permit = back.try_reserve_owned().unwrap();
    assert_eq!(tx.capacity(), 0);
    let back = permit.release();
    assert_eq!(tx.capacity(), 1);

    // A permit whose sender is dropped is still good.
    let permit = back.try_reserve_owned().unwrap();
    drop(permit_tx);
    drop(tx);
    drop(permit.send(6));
    assert_eq!(rx.try_recv(), Ok(6));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));

    // Closed: the sender comes back too.
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    rx.close();
    let err = tx.try_reserve_owned().unwrap_err();
    assert!(err.is_closed(), "{err:?}");
    let tx = err.into_inner();
    assert!(tx.is_closed());
}

#[test]
fn try_reserve_owned_does_not_barge_past_waiting_senders() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(1).unwrap();
    let (waker, _wakes) = counting_waker();
    let mut waiting = pin!(tx.send(2));
    assert!(poll(waiting.as_mut(), &waker).is_pending());
    assert_eq!(rx.try_recv(), Ok(1));
    // The freed slot belongs to the waiting sender.
    assert!(tx.clone().try_reserve_owned().unwrap_err().is_full());
    assert_eq!(poll(waiting.as_mut(), &waker), Poll::Ready(Ok(())));
}

#[test]
fn owned_permits_compare_channels() {
    let (tx, _rx) = mpsc::channel::<u8>(2);
    let (other_tx, _other_rx) = mpsc::channel::<u8>(2);
    let a = tx.clone().try_reserve_owned().unwrap();
    let b = now(tx.clone().reserve_owned()).unwrap();
    let c = other_tx.clone().try_reserve_owned().unwrap();
    assert!(a.same_channel(&b));
    assert!(b.same_channel(&a));
    assert!(!a.same_channel(&c));
    assert!(a.same_channel_as_sender(&tx));
    assert!(!c.same_channel_as_sender(&tx));
    assert!(c.same_channel_as_sender(&other_tx));
}

#[test]
fn the_receiver_sees_the_sender_counts() {
    let (tx, rx) = mpsc::channel::<u8>(2);
    assert_eq!((rx.sender_strong_count(), rx.sender_weak_count()), (1, 0));
    let tx2 = tx.clone();
    let weak = tx.downgrade();
    let weak2 = weak.clone();
    assert_eq!((rx.sender_strong_count(), rx.sender_weak_count()), (2, 2));
    // An owned permit holds a sender, which still counts.
    let permit = tx2.try_reserve_owned().unwrap();
    assert_eq!(rx.sender_strong_count(), 2);
    drop(permit);
    drop(weak2);
    assert_eq!((rx.sender_strong_count(), rx.sender_weak_count()), (1, 1));
    let upgraded = weak.upgrade().unwrap();
    assert_eq!(rx.sender_strong_count(), 2);
    drop(upgraded);
    drop(tx);
    assert_eq!((rx.sender_strong_count(), rx.sender_weak_count()), (0, 1));
    drop(weak);
    assert_eq!((rx.sender_strong_count(), rx.sender_weak_count()), (0, 0));

    let (utx, urx) = mpsc::unbounded_channel::<u8>();
    assert_eq!((urx.sender_strong_count(), urx.sender_weak_count()), (1, 0));
    let uweak = utx.downgrade();
    let utx2 = utx.clone();
    assert_eq!((urx.sender_strong_count(), urx.sender_weak_count()), (2, 1));
    drop(utx);
    drop(utx2);
    assert_eq!((urx.sender_strong_count(), urx.sender_weak_count()), (0, 1));
    drop(uweak);
    assert_eq!((urx.sender_strong_count(), urx.sender_weak_count()), (0, 0));
}

#[test]
fn poll_recv_many_takes_what_is_there_up_to_the_limit() {
    let (tx, mut rx) = mpsc::channel(8);
    let (waker, wakes) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut got = vec![-1];

    // Nothing yet: pending, and woken by the next send.
    assert_eq!(rx.poll_recv_many(&mut cx, &mut got, 4), Poll::Pending);
    // A limit of 0 is ready at once, even on an empty open channel.
    assert_eq!(rx.poll_recv_many(&mut cx, &mut got, 0), Poll::Ready(0));
    tx.try_send(0).unwrap();
    assert_eq!(woken(&wakes), 1);
    for i in 1..5 {
        tx.try_send(i).unwrap();
    }
    // Appends, up to the limit ...
    assert_eq!(rx.poll_recv_many(&mut cx, &mut got, 3), Poll::Ready(3));
    assert_eq!(got, [-1, 0, 1, 2]);
    // ... and does not wait to fill it.
    assert_eq!(rx.poll_recv_many(&mut cx, &mut got, 10), Poll::Ready(2));
    assert_eq!(got, [-1, 0, 1, 2, 3, 4]);
    assert_eq!(tx.capacity(), 8);
    // Finished: 0.
    drop(tx);
    assert_eq!(rx.poll_recv_many(&mut cx, &mut got, 10), Poll::Ready(0));
    assert_eq!(got.len(), 6);

    let (utx, mut urx) = mpsc::unbounded_channel();
    assert_eq!(urx.poll_recv_many(&mut cx, &mut got, 4), Poll::Pending);
    assert_eq!(urx.poll_recv_many(&mut cx, &mut got, 0), Poll::Ready(0));
    let before = woken(&wakes);
    utx.send(7).unwrap();
    assert_eq!(woken(&wakes), before + 1);
    utx.send(8).unwrap();
    assert_eq!(urx.poll_recv_many(&mut cx, &mut got, 1), Poll::Ready(1));
    assert_eq!(urx.poll_recv_many(&mut cx, &mut got, 5), Poll::Ready(1));
    assert_eq!(got[6..], [7, 8]);
    drop(utx);
    assert_eq!(urx.poll_recv_many(&mut cx, &mut got, 5), Poll::Ready(0));
}

#[test]
fn poll_recv_many_frees_slots_for_waiting_senders() {
    let (tx, mut rx) = mpsc::channel(2);
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    let (waker, wakes) = counting_waker();
    let mut batch = pin!(tx.reserve_many(2));
    assert!(poll(batch.as_mut(), &waker).is_pending());
    let mut got = Vec::new();
    let mut cx = Context::from_waker(Waker::noop());
    assert_eq!(rx.poll_recv_many(&mut cx, &mut got, 2), Poll::Ready(2));
    assert_eq!(woken(&wakes), 1);
    assert!(matches!(poll(batch.as_mut(), &waker), Poll::Ready(Ok(p)) if p.len() == 2));
}

#[test]
fn blocking_recv_many_from_a_plain_thread() {
    let rt = current_thread();
    let (tx, mut rx) = mpsc::channel(4);
    let (utx, mut urx) = mpsc::unbounded_channel();
    let consumer = std::thread::spawn(move || {
        // A limit of 0 returns at once, without waiting for a value.
        assert_eq!(rx.blocking_recv_many(&mut Vec::new(), 0), 0);
        assert_eq!(urx.blocking_recv_many(&mut Vec::new(), 0), 0);
        let mut got = Vec::new();
        let mut calls = 0;
        loop {
            let n = rx.blocking_recv_many(&mut got, 3);
            assert!(n <= 3, "{n} values with a limit of 3");
            if n == 0 {
                break;
            }
            calls += 1;
        }
        // The bounded channel ended after the last unbounded send, so all
        // twenty unbounded values are buffered by now: one call takes them.
        let mut ugot = Vec::new();
        assert_eq!(urx.blocking_recv_many(&mut ugot, 100), 20);
        assert_eq!(urx.blocking_recv_many(&mut ugot, 100), 0);
        (got, calls, ugot)
    });
    rt.block_on(async move {
        for i in 0..20 {
            tx.send(i).await.unwrap();
            utx.send(i).unwrap();
        }
    });
    let (got, calls, ugot) = within(Duration::from_secs(30), move || consumer.join().unwrap());
    assert_eq!(got, (0..20).collect::<Vec<_>>());
    assert!(calls >= 7, "at most 3 per call, got {calls} calls");
    assert_eq!(ugot, (0..20).collect::<Vec<_>>());
}

#[test]
fn blocking_recv_many_inside_a_runtime_panics() {
    let (_tx, mut rx) = mpsc::channel::<u8>(1);
    let (_utx, mut urx) = mpsc::unbounded_channel::<u8>();
    current_thread().block_on(async {
        // Even with a limit of 0, which would not wait.
        let msg = panic_message(|| {
            rx.blocking_recv_many(&mut Vec::new(), 0);
        });
        assert!(msg.contains("`.await`"), "{msg}");
        let msg = panic_message(|| {
            urx.blocking_recv_many(&mut Vec::new(), 1);
        });
        assert!(msg.contains("`.await`"), "{msg}");
    });
}
