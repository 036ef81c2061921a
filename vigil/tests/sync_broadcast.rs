//! `vigil::sync::broadcast`: fan-out in order, lagging and recovery,
//! exactly-once drops, closing from either side, waking and cancellation
//! of `recv`, weak senders, and behaviour under load and under the
//! cooperative budget.

mod common;

use common::waker::{counting_waker, poll_once, wakes};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use vigil::sync::broadcast::{
    self,
    error::{RecvError, SendError, TryRecvError},
};

/// Counts every copy made and every copy dropped.
#[derive(Debug)]
struct Tracked {
    id: u32,
    live: Arc<AtomicUsize>,
}

impl Tracked {
    fn new(id: u32, live: &Arc<AtomicUsize>) -> Tracked {
        live.fetch_add(1, Ordering::SeqCst);
        Tracked {
            id,
            live: live.clone(),
        }
    }
}

impl Clone for Tracked {
    fn clone(&self) -> Tracked {
        Tracked::new(self.id, &self.live)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        // Would underflow (and panic) on a double drop.
        let before = self.live.fetch_sub(1, Ordering::SeqCst);
        assert!(before > 0, "dropped more copies than were made");
    }
}

fn live(c: &Arc<AtomicUsize>) -> usize {
    c.load(Ordering::SeqCst)
}

#[test]
fn every_receiver_gets_every_value_in_order() {
    let (tx, mut rx1) = broadcast::channel(8);
    let mut rx2 = tx.subscribe();
    let tx2 = tx.clone();
    assert!(tx.same_channel(&tx2));
    assert!(rx1.same_channel(&rx2));
    for i in 0..5 {
        let sender = if i % 2 == 0 { &tx } else { &tx2 };
        assert_eq!(sender.send(i), Ok(2));
    }
    for rx in [&mut rx1, &mut rx2] {
        for i in 0..5 {
            assert_eq!(rx.try_recv(), Ok(i));
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    }
    // A late subscriber sees only what is sent after it.
    let mut late = tx.subscribe();
    assert_eq!(late.try_recv(), Err(TryRecvError::Empty));
    tx.send(9).unwrap();
    assert_eq!(late.try_recv(), Ok(9));
}

#[test]
fn send_counts_receivers_and_fails_without_any() {
    let (tx, rx) = broadcast::channel(4);
    assert_eq!(tx.receiver_count(), 1);
    let rx2 = rx.resubscribe();
    assert_eq!(tx.send("a"), Ok(2));
    drop(rx);
    drop(rx2);
    assert_eq!(tx.receiver_count(), 0);
    assert_eq!(tx.send("b"), Err(SendError("b")));
    assert!(tx.is_empty());
    let mut rx = tx.subscribe();
    assert_eq!(tx.send("c"), Ok(1));
    assert_eq!(rx.try_recv(), Ok("c"));
}

#[test]
fn a_lagging_receiver_learns_how_much_it_missed_then_recovers() {
    let (tx, mut rx) = broadcast::channel(2);
    for i in 1..=5 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.len(), 5);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(3)));
    assert_eq!(rx.try_recv(), Ok(4), "resumes at the oldest value held");
    assert_eq!(rx.try_recv(), Ok(5));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    // Again through `recv`, reported once.
    for i in 6..=10 {
        tx.send(i).unwrap();
    }
    let (_, waker) = counting_waker();
    assert_eq!(
        poll_once(pin!(rx.recv()), &waker),
        Poll::Ready(Err(RecvError::Lagged(3)))
    );
    assert_eq!(poll_once(pin!(rx.recv()), &waker), Poll::Ready(Ok(9)));
    assert_eq!(poll_once(pin!(rx.recv()), &waker), Poll::Ready(Ok(10)));
}

#[test]
fn capacity_rounds_up_to_a_power_of_two() {
    let (tx, mut rx) = broadcast::channel(3);
    for i in 0..5 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(1)), "holds four");
    assert_eq!(rx.try_recv(), Ok(1));
}

#[test]
#[should_panic(expected = "at least 1")]
fn zero_capacity_panics() {
    let _ = broadcast::channel::<u8>(0);
}

#[test]
fn the_backlog_outlives_the_senders_then_recv_reports_closed() {
    let (tx, mut rx) = broadcast::channel(4);
    let tx2 = tx.clone();
    tx.send(1).unwrap();
    drop(tx);
    assert!(!rx.is_closed(), "one sender is left");
    tx2.send(2).unwrap();
    drop(tx2);
    assert!(rx.is_closed());
    let (_, waker) = counting_waker();
    assert_eq!(poll_once(pin!(rx.recv()), &waker), Poll::Ready(Ok(1)));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(
        poll_once(pin!(rx.recv()), &waker),
        Poll::Ready(Err(RecvError::Closed))
    );
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn len_and_is_empty() {
    let (tx, mut rx1) = broadcast::channel(4);
    let mut rx2 = tx.subscribe();
    assert!(tx.is_empty() && rx1.is_empty());
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    assert_eq!((tx.len(), rx1.len(), rx2.len()), (2, 2, 2));
    rx1.try_recv().unwrap();
    assert_eq!((tx.len(), rx1.len(), rx2.len()), (2, 1, 2));
    rx2.try_recv().unwrap();
    assert_eq!(tx.len(), 1, "1 was read by everyone");
    rx1.try_recv().unwrap();
    rx2.try_recv().unwrap();
    assert!(tx.is_empty() && rx1.is_empty() && rx2.is_empty());
}

#[test]
fn values_are_released_by_their_last_reader_exactly_once() {
    let copies = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx1) = broadcast::channel(4);
    let mut rx2 = tx.subscribe();
    tx.send(Tracked::new(1, &copies)).unwrap();
    assert_eq!(live(&copies), 1);
    let a = rx1.try_recv().unwrap();
    assert_eq!(live(&copies), 2, "a clone for the first reader");
    let b = rx2.try_recv().unwrap();
    assert_eq!(live(&copies), 2, "the last reader takes the original");
    assert_eq!((a.id, b.id), (1, 1));
    drop((a, b));
    assert_eq!(live(&copies), 0, "nothing left in the channel");
    drop((tx, rx1, rx2));
    assert_eq!(live(&copies), 0);
}

#[test]
fn overwritten_values_are_dropped_once() {
    let copies = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx) = broadcast::channel(2);
    for i in 0..6 {
        tx.send(Tracked::new(i, &copies)).unwrap();
    }
    assert_eq!(live(&copies), 2, "only the last two are held");
    assert_eq!(rx.try_recv().unwrap_err(), TryRecvError::Lagged(4));
    assert_eq!(rx.try_recv().unwrap().id, 4);
    assert_eq!(live(&copies), 1);
    drop(tx);
    drop(rx);
    assert_eq!(live(&copies), 0);
}

#[test]
fn a_dropped_receiver_gives_up_its_share() {
    let copies = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx1) = broadcast::channel(4);
    let rx2 = tx.subscribe();
    let rx3 = tx.subscribe();
    for i in 0..3 {
        tx.send(Tracked::new(i, &copies)).unwrap();
    }
    drop(rx2);
    assert_eq!(live(&copies), 3, "rx1 and rx3 still need them");
    for i in 0..3 {
        assert_eq!(rx1.try_recv().unwrap().id, i);
    }
    assert_eq!(live(&copies), 3, "rx3 still needs them");
    drop(rx3);
    assert_eq!(live(&copies), 0, "the last reader left");
    assert!(tx.is_empty());
    // A lagged receiver leaving: only what it could still read is its.
    for i in 0..6 {
        tx.send(Tracked::new(i, &copies)).unwrap();
    }
    let rx4 = tx.subscribe();
    tx.send(Tracked::new(6, &copies)).unwrap();
    assert_eq!(live(&copies), 4);
    drop(rx1);
    assert_eq!(live(&copies), 1, "rx4 still needs the newest");
    drop(rx4);
    assert_eq!(live(&copies), 0);
    assert_eq!(tx.receiver_count(), 0);
}

#[test]
fn resubscribe_starts_from_now() {
    let (tx, mut rx) = broadcast::channel(4);
    tx.send(1).unwrap();
    let mut fresh = rx.resubscribe();
    assert_eq!(fresh.try_recv(), Err(TryRecvError::Empty));
    tx.send(2).unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(fresh.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn send_and_close_wake_waiting_receivers() {
    let (tx, mut rx1) = broadcast::channel(4);
    let mut rx2 = tx.subscribe();
    let (w1, waker1) = counting_waker();
    let (w2, waker2) = counting_waker();
    let mut a = Box::pin(rx1.recv());
    let mut b = Box::pin(rx2.recv());
    assert!(poll_once(a.as_mut(), &waker1).is_pending());
    assert!(poll_once(b.as_mut(), &waker2).is_pending());
    tx.send(1).unwrap();
    assert_eq!((wakes(&w1), wakes(&w2)), (1, 1));
    assert_eq!(poll_once(a.as_mut(), &waker1), Poll::Ready(Ok(1)));
    drop(a);
    let mut a = Box::pin(rx1.recv());
    assert!(poll_once(a.as_mut(), &waker1).is_pending());
    drop(tx);
    assert_eq!(wakes(&w1), 2, "the last sender's drop wakes");
    assert_eq!(
        poll_once(a.as_mut(), &waker1),
        Poll::Ready(Err(RecvError::Closed))
    );
    assert_eq!(poll_once(b.as_mut(), &waker2), Poll::Ready(Ok(1)));
}

#[test]
fn the_latest_waker_is_the_one_woken() {
    let (tx, mut rx) = broadcast::channel(4);
    let (old, w_old) = counting_waker();
    let (new, w_new) = counting_waker();
    let mut recv = pin!(rx.recv());
    assert!(poll_once(recv.as_mut(), &w_old).is_pending());
    assert!(poll_once(recv.as_mut(), &w_new).is_pending());
    tx.send(1).unwrap();
    assert_eq!(wakes(&old), 0);
    assert_eq!(wakes(&new), 1);
    assert_eq!(poll_once(recv.as_mut(), &w_new), Poll::Ready(Ok(1)));
}

/// Dropping `recv` (before or after the wake) loses nothing.
#[test]
fn a_cancelled_recv_loses_nothing() {
    let (tx, mut rx) = broadcast::channel(4);
    let (_, waker) = counting_waker();
    for _ in 0..100 {
        let mut r = Box::pin(rx.recv());
        assert!(poll_once(r.as_mut(), &waker).is_pending());
    }
    let mut r = Box::pin(rx.recv());
    assert!(poll_once(r.as_mut(), &waker).is_pending());
    tx.send(7).unwrap();
    drop(r); // woken but never polled again
    assert_eq!(rx.len(), 1);
    assert_eq!(poll_once(pin!(rx.recv()), &waker), Poll::Ready(Ok(7)));
}

/// More waiting receivers than one wake batch holds are all woken.
#[test]
fn one_send_wakes_every_waiting_receiver() {
    let (tx, rx) = broadcast::channel(4);
    let (woken, waker) = counting_waker();
    let mut rxs: Vec<_> = (0..100).map(|_| rx.resubscribe()).collect();
    let mut futs: Vec<_> = rxs.iter_mut().map(|r| Box::pin(r.recv())).collect();
    for f in &mut futs {
        assert!(poll_once(f.as_mut(), &waker).is_pending());
    }
    assert_eq!(tx.send(5).unwrap(), 101);
    assert_eq!(wakes(&woken), 100);
    assert!(futs
        .iter_mut()
        .all(|f| poll_once(f.as_mut(), &waker) == Poll::Ready(Ok(5))));
}

#[test]
fn closed_waits_for_every_receiver() {
    let (tx, rx) = broadcast::channel::<u8>(1);
    let rx2 = rx.resubscribe();
    let (woken, waker) = counting_waker();
    let mut closed = pin!(tx.closed());
    assert!(poll_once(closed.as_mut(), &waker).is_pending());
    drop(rx);
    assert!(poll_once(closed.as_mut(), &waker).is_pending());
    assert_eq!(wakes(&woken), 0);
    drop(rx2);
    assert_eq!(wakes(&woken), 1);
    assert!(poll_once(closed.as_mut(), &waker).is_ready());
}

#[test]
fn types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let (tx, mut rx) = broadcast::channel::<String>(1);
    send_sync(&tx);
    send_sync(&rx);
    send(&tx.closed());
    send(&rx.recv());
}

/// Two senders and three receivers on worker threads, with room for the
/// whole backlog: every receiver gets every value, each sender's in order.
#[test]
fn fan_out_on_many_threads_loses_nothing() {
    const N: u32 = 5_000;
    let rt = common::multi_thread(2);
    rt.block_on(async {
        let (tx, rx) = broadcast::channel(2 * N as usize);
        let mut readers = Vec::new();
        for _ in 0..3 {
            let mut rx = rx.resubscribe();
            readers.push(vigil::spawn(async move {
                let mut next = [0u32; 2];
                loop {
                    match rx.recv().await {
                        Ok((who, i)) => {
                            assert_eq!(i, next[who], "sender {who} out of order");
                            next[who] += 1;
                        }
                        Err(RecvError::Closed) => return next,
                        Err(e) => panic!("{e}"),
                    }
                }
            }));
        }
        drop(rx);
        let senders: Vec<_> = (0..2)
            .map(|who| {
                let tx = tx.clone();
                vigil::spawn(async move {
                    for i in 0..N {
                        tx.send((who, i)).unwrap();
                        if i % 32 == 0 {
                            vigil::task::yield_now().await;
                        }
                    }
                })
            })
            .collect();
        drop(tx);
        for s in senders {
            s.await.unwrap();
        }
        for r in readers {
            assert_eq!(r.await.unwrap(), [N, N]);
        }
    });
}

/// A small buffer on worker threads: receivers lag, and what they receive
/// plus what they are told they missed is exactly what was sent.
#[test]
fn lag_accounting_is_exact_on_many_threads() {
    const N: u64 = 20_000;
    let rt = common::multi_thread(2);
    rt.block_on(async {
        let (tx, rx) = broadcast::channel(4);
        let mut readers = Vec::new();
        for _ in 0..3 {
            let mut rx = rx.resubscribe();
            readers.push(vigil::spawn(async move {
                let (mut got, mut missed, mut last) = (0u64, 0u64, None);
                loop {
                    match rx.recv().await {
                        Ok(v) => {
                            assert!(last.is_none_or(|l| v > l), "out of order");
                            last = Some(v);
                            got += 1;
                        }
                        Err(RecvError::Lagged(n)) => missed += n,
                        Err(RecvError::Closed) => return (got, missed, last),
                    }
                }
            }));
        }
        drop(rx);
        for i in 0..N {
            tx.send(i).unwrap();
            if i % 16 == 0 {
                vigil::task::yield_now().await;
            }
        }
        drop(tx);
        for r in readers {
            let (got, missed, last) = r.await.unwrap();
            assert_eq!(got + missed, N);
            assert_eq!(last, Some(N - 1));
        }
    });
}

/// `recv` on a channel that always has a value spends the task's budget,
/// so another task on the same thread gets in.
#[test]
fn an_always_ready_receiver_yields_to_other_tasks() {
    let rt = common::current_thread();
    rt.block_on(async {
        let (tx, mut rx) = broadcast::channel(4);
        let other_ran = Arc::new(AtomicUsize::new(0));
        let flag = other_ran.clone();
        let _other = vigil::spawn(async move { flag.store(1, Ordering::SeqCst) });
        let mut spins = 0u32;
        while other_ran.load(Ordering::SeqCst) == 0 {
            tx.send(spins).unwrap();
            assert_eq!(rx.recv().await, Ok(spins));
            spins += 1;
            assert!(spins < 100_000, "recv never yielded");
        }
    });
}

fn poll_next<S: futures_core::Stream + Unpin>(s: &mut S, waker: &Waker) -> Poll<Option<S::Item>> {
    Pin::new(s).poll_next(&mut Context::from_waker(waker))
}

#[test]
fn broadcast_stream_yields_values_lags_and_ends() {
    use vigil::sync::broadcast::{error::Lagged, BroadcastStream};
    let (tx, rx) = broadcast::channel(2);
    let mut stream = BroadcastStream::from(rx);
    let (w, waker) = counting_waker();
    assert!(poll_next(&mut stream, &waker).is_pending());
    tx.send(1).unwrap();
    assert_eq!(
        common::waker::wakes(&w),
        1,
        "a send wakes the waiting stream"
    );
    assert_eq!(poll_next(&mut stream, &waker), Poll::Ready(Some(Ok(1))));
    for i in 2..=5 {
        tx.send(i).unwrap();
    }
    // Capacity 2: 2 and 3 were overwritten.
    assert_eq!(
        poll_next(&mut stream, &waker),
        Poll::Ready(Some(Err(Lagged(2))))
    );
    assert_eq!(poll_next(&mut stream, &waker), Poll::Ready(Some(Ok(4))));
    assert_eq!(poll_next(&mut stream, &waker), Poll::Ready(Some(Ok(5))));
    assert!(poll_next(&mut stream, &waker).is_pending());
    drop(tx);
    assert_eq!(poll_next(&mut stream, &waker), Poll::Ready(None));
    assert_eq!(poll_next(&mut stream, &waker), Poll::Ready(None));
}

#[test]
fn a_dropped_waiting_broadcast_stream_leaves_the_wait_list() {
    use vigil::sync::broadcast::BroadcastStream;
    let (tx, rx) = broadcast::channel::<u32>(4);
    let mut other = tx.subscribe();
    let mut stream = BroadcastStream::new(rx);
    let (w, waker) = counting_waker();
    assert!(poll_next(&mut stream, &waker).is_pending());
    drop(stream);
    // Only one receiver left to count, and the dropped stream is not woken.
    assert_eq!(tx.send(7).unwrap(), 1);
    assert_eq!(common::waker::wakes(&w), 0);
    assert_eq!(other.try_recv(), Ok(7));
}

#[test]
fn broadcast_streams_receive_from_another_task() {
    use vigil::sync::broadcast::BroadcastStream;
    for (flavour, rt) in common::both_flavours() {
        rt.block_on(async {
            // Room for every value: the reader may start late, never lag.
            let (tx, rx) = broadcast::channel(1024);
            let mut stream = BroadcastStream::new(rx);
            let reader = vigil::spawn(async move {
                let mut got = Vec::new();
                while let Some(item) = std::future::poll_fn(|cx| {
                    futures_core::Stream::poll_next(Pin::new(&mut stream), cx)
                })
                .await
                {
                    got.push(item.unwrap());
                }
                got
            });
            for i in 0..1000u32 {
                tx.send(i).unwrap_or_default();
                if i % 32 == 0 {
                    vigil::task::yield_now().await;
                }
            }
            drop(tx);
            let got = reader.await.unwrap();
            assert_eq!(got, (0..1000).collect::<Vec<_>>(), "{flavour}");
        });
    }
}

#[test]
fn weak_senders_do_not_keep_the_channel_open() {
    vigil::block_on(async {
        let (tx, mut rx) = broadcast::channel::<u32>(4);
        let weak = tx.downgrade();
        let weak2 = weak.clone();
        assert_eq!((tx.strong_count(), tx.weak_count()), (1, 2));
        assert_eq!((rx.sender_strong_count(), rx.sender_weak_count()), (1, 2));
        let upgraded = weak.upgrade().expect("a sender is alive");
        assert_eq!(weak.strong_count(), 2);
        upgraded.send(7).unwrap();
        drop(upgraded);
        assert_eq!(rx.recv().await.unwrap(), 7);
        drop(weak2);
        assert_eq!(weak.weak_count(), 1);
        drop(tx);
        // The last strong sender is gone: closed, whatever weak ones remain.
        assert!(weak.upgrade().is_none());
        assert_eq!(rx.recv().await, Err(RecvError::Closed));
        assert_eq!(rx.sender_weak_count(), 1);
        drop(weak);
        assert_eq!(rx.sender_weak_count(), 0);
    });
}

#[test]
fn a_sender_made_alone_refuses_values_until_someone_subscribes() {
    vigil::block_on(async {
        let tx = broadcast::Sender::<u32>::new(2);
        assert_eq!(tx.receiver_count(), 0);
        assert!(tx.send(1).is_err());
        let mut rx = tx.subscribe();
        assert_eq!(tx.send(2).unwrap(), 1);
        assert_eq!(rx.recv().await.unwrap(), 2);
    });
}
