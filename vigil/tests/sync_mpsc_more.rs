//! `vigil::sync::mpsc`: Stream and Sink, the unbounded flavour, a
//! multi-producer stress test and the cooperative budget.

mod common;

use common::{both_flavours, current_thread, multi_thread, panic_message};
use futures_core::Stream;
use futures_sink::Sink;
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;
use vigil::sync::mpsc::{self, error::SendError, error::TryRecvError, error::TrySendError};

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

/// The next item of a stream (what `StreamExt::next` does).
async fn next<S: Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx)).await
}

fn ready<T, S: Sink<T> + Unpin>(sink: &mut S, waker: &Waker) -> Poll<Result<(), S::Error>> {
    Pin::new(sink).poll_ready(&mut Context::from_waker(waker))
}

fn start<T, S: Sink<T> + Unpin>(sink: &mut S, item: T) -> Result<(), S::Error> {
    Pin::new(sink).start_send(item)
}

fn close<T, S: Sink<T> + Unpin>(sink: &mut S) -> Poll<Result<(), S::Error>> {
    Pin::new(sink).poll_close(&mut Context::from_waker(Waker::noop()))
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
fn receivers_are_streams_with_a_sensible_size_hint() {
    vigil::block_on(async {
        let (tx, mut rx) = mpsc::channel(4);
        tx.send(1).await.unwrap();
        tx.send(2).await.unwrap();
        assert_eq!(rx.size_hint(), (2, None));
        assert_eq!(next(&mut rx).await, Some(1));
        drop(tx);
        assert_eq!(rx.size_hint(), (1, Some(1)));
        assert_eq!(next(&mut rx).await, Some(2));
        assert_eq!(next(&mut rx).await, None);
        assert_eq!(rx.size_hint(), (0, Some(0)));

        let (tx, mut rx) = mpsc::unbounded_channel();
        for i in 0..3 {
            tx.send(i).unwrap();
        }
        assert_eq!(rx.size_hint(), (3, None));
        drop(tx);
        let mut got = Vec::new();
        while let Some(v) = next(&mut rx).await {
            got.push(v);
        }
        assert_eq!(got, [0, 1, 2]);
    });
}

#[test]
fn sink_poll_ready_reserves_a_slot_that_start_send_fills() {
    let (mut tx, mut rx) = mpsc::channel(1);
    let mut other = tx.clone();
    let (waker, wakes) = counting_waker();
    assert!(matches!(ready(&mut tx, &waker), Poll::Ready(Ok(()))));
    // Ready again without taking a second slot.
    assert!(matches!(ready(&mut tx, &waker), Poll::Ready(Ok(()))));
    assert_eq!(tx.capacity(), 0);
    assert!(matches!(tx.try_send(9), Err(TrySendError::Full(9))));
    // Each clone has its own reservation: this one must wait.
    assert!(ready(&mut other, &waker).is_pending());
    start(&mut tx, 1).unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(woken(&wakes), 1, "the freed slot goes to the waiting sink");
    assert!(matches!(ready(&mut other, &waker), Poll::Ready(Ok(()))));
    start(&mut other, 2).unwrap();
    assert!(Pin::new(&mut other)
        .poll_flush(&mut Context::from_waker(&waker))
        .is_ready());
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(tx.capacity(), 1);
}

#[test]
fn a_waiting_sink_keeps_its_place_among_waiting_senders() {
    let (mut sink, mut rx) = mpsc::channel(1);
    let tx = sink.clone();
    let (waker, _) = counting_waker();
    tx.try_send(0).unwrap();
    assert!(ready(&mut sink, &waker).is_pending());
    let mut send = pin!(tx.send(2));
    assert!(send
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
    assert_eq!(rx.try_recv(), Ok(0));
    // The sink queued first, so it gets the slot.
    assert!(send
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
    assert!(matches!(ready(&mut sink, &waker), Poll::Ready(Ok(()))));
    start(&mut sink, 1).unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
    assert!(send
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_ready());
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn sink_reservations_are_returned_when_the_sender_drops_or_closes() {
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    let (waker, _) = counting_waker();
    let mut reserved = tx.clone();
    assert!(ready(&mut reserved, &waker).is_ready());
    assert_eq!(tx.capacity(), 0);
    drop(reserved);
    assert_eq!(tx.capacity(), 1);

    let mut reserved = tx.clone();
    assert!(ready(&mut reserved, &waker).is_ready());
    // A queued sink that is dropped leaves the queue.
    let mut queued = tx.clone();
    assert!(ready(&mut queued, &waker).is_pending());
    drop(queued);
    assert!(matches!(close(&mut reserved), Poll::Ready(Ok(()))));
    assert_eq!(tx.capacity(), 1);
    tx.try_send(3).unwrap();
    assert_eq!(rx.try_recv(), Ok(3));
}

#[test]
fn sink_close_ends_only_this_sender() {
    vigil::block_on(async {
        let (tx, mut rx) = mpsc::channel(4);
        let mut closing = tx.clone();
        assert!(matches!(close(&mut closing), Poll::Ready(Ok(()))));
        assert!(
            matches!(close(&mut closing), Poll::Ready(Ok(()))),
            "idempotent"
        );
        // This handle is done...
        assert_eq!(closing.send(1).await, Err(SendError(1)));
        assert!(matches!(closing.try_send(1), Err(TrySendError::Closed(1))));
        assert!(closing.reserve().await.is_err());
        let (waker, _) = counting_waker();
        assert!(matches!(ready(&mut closing, &waker), Poll::Ready(Err(_))));
        assert!(start(&mut closing, 1).is_err());
        let mut clone_of_closed = closing.clone();
        assert!(matches!(
            ready(&mut clone_of_closed, &waker),
            Poll::Ready(Err(_))
        ));
        // ... but the channel is not.
        assert!(!tx.is_closed() && !rx.is_closed());
        tx.send(2).await.unwrap();
        assert_eq!(rx.recv().await, Some(2));
        // It no longer counts as a sender: the channel ends with `tx`.
        drop(tx);
        assert_eq!(rx.recv().await, None);
        drop((closing, clone_of_closed));

        let (mut tx, mut rx) = mpsc::unbounded_channel();
        let other = tx.clone();
        assert!(matches!(ready(&mut tx, &waker), Poll::Ready(Ok(()))));
        start(&mut tx, 1).unwrap();
        assert!(matches!(close(&mut tx), Poll::Ready(Ok(()))));
        assert_eq!(tx.send(2), Err(SendError(2)));
        assert!(matches!(ready(&mut tx, &waker), Poll::Ready(Err(_))));
        other.send(3).unwrap();
        drop(other);
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, Some(3));
        assert_eq!(rx.recv().await, None);
    });
}

#[test]
fn sink_errors_once_the_receiver_is_gone() {
    let (waker, _) = counting_waker();
    let (mut tx, rx) = mpsc::channel::<u8>(1);
    assert!(ready(&mut tx, &waker).is_ready());
    drop(rx);
    assert_eq!(start(&mut tx, 1), Err(SendError(())));
    assert!(matches!(
        ready(&mut tx, &waker),
        Poll::Ready(Err(SendError(())))
    ));

    let (mut tx, rx) = mpsc::unbounded_channel::<u8>();
    drop(rx);
    assert!(matches!(ready(&mut tx, &waker), Poll::Ready(Err(_))));
    assert_eq!(start(&mut tx, 1), Err(SendError(())));
}

#[test]
fn start_send_without_poll_ready_panics() {
    let (mut tx, _rx) = mpsc::channel::<u8>(1);
    let msg = panic_message(move || {
        let _ = start(&mut tx, 1);
    });
    assert!(msg.contains("poll_ready"), "{msg}");
}

#[test]
fn unbounded_send_never_waits_and_keeps_order() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    for i in 0..10_000 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.len(), 10_000);
    for i in 0..10_000 {
        assert_eq!(rx.try_recv(), Ok(i));
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    let tx2 = tx.clone();
    assert!(tx2.same_channel(&tx));
    assert!(!tx2.same_channel(&mpsc::unbounded_channel().0));
    drop(tx);
    assert!(!rx.is_closed());
    drop(tx2);
    assert!(rx.is_closed());
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    assert_eq!(vigil::block_on(rx.recv()), None);
}

#[test]
fn unbounded_close_drop_and_closed() {
    vigil::block_on(async {
        let (tx, mut rx) = mpsc::unbounded_channel();
        tx.send(1).unwrap();
        let watcher = vigil::spawn({
            let tx = tx.clone();
            async move { tx.closed().await }
        });
        vigil::task::yield_now().await;
        assert!(!watcher.is_finished());
        rx.close();
        watcher.await.unwrap();
        assert!(tx.is_closed() && rx.is_closed());
        assert_eq!(tx.send(2), Err(SendError(2)));
        let mut out = Vec::new();
        assert_eq!(rx.recv_many(&mut out, 8).await, 1);
        assert_eq!(rx.recv_many(&mut out, 8).await, 0);
        assert_eq!(out, [1]);

        let (tx, rx) = mpsc::unbounded_channel::<u8>();
        drop(rx);
        tx.closed().await;
        assert_eq!(tx.send(3).unwrap_err().0, 3);
    });
}

#[test]
fn recv_waits_for_senders_in_other_tasks() {
    for (name, rt) in both_flavours() {
        rt.block_on(async {
            let (tx, mut rx) = mpsc::channel(1);
            let (utx, mut urx) = mpsc::unbounded_channel();
            vigil::spawn(async move {
                for i in 0..50 {
                    tx.send(i).await.unwrap();
                    utx.send(i).unwrap();
                }
            });
            for i in 0..50 {
                assert_eq!(rx.recv().await, Some(i), "{name}");
                assert_eq!(urx.recv().await, Some(i), "{name}");
            }
            assert_eq!(rx.recv().await, None, "{name}");
            assert_eq!(urx.recv().await, None, "{name}");
        });
    }
}

#[test]
fn four_producers_on_a_small_channel_keep_per_producer_order() {
    const PRODUCERS: usize = 4;
    const PER_PRODUCER: usize = 10_000;
    within(Duration::from_secs(60), || {
        multi_thread(2).block_on(async {
            let (tx, mut rx) = mpsc::channel::<(usize, usize)>(16);
            let mut producers = Vec::new();
            for p in 0..PRODUCERS {
                let tx = tx.clone();
                producers.push(vigil::spawn(async move {
                    for i in 0..PER_PRODUCER {
                        tx.send((p, i)).await.unwrap();
                    }
                }));
            }
            drop(tx);
            let mut next_expected = [0; PRODUCERS];
            let mut batch = Vec::new();
            while rx.recv_many(&mut batch, 32).await > 0 {
                for (p, i) in batch.drain(..) {
                    assert_eq!(i, next_expected[p], "producer {p} out of order");
                    next_expected[p] += 1;
                }
            }
            assert_eq!(next_expected, [PER_PRODUCER; PRODUCERS]);
            for p in producers {
                p.await.unwrap();
            }
        })
    });
}

/// A task that always finds its channel ready must still yield: the other
/// task on the current-thread runtime gets to run. Without the budget the
/// hog never returns from its poll and the `within` limit fails the test.
#[test]
fn an_always_ready_receiver_does_not_starve_other_tasks() {
    within(Duration::from_secs(20), || {
        current_thread().block_on(async {
            // Bounded: the hog's own sends keep the channel full.
            let hog = vigil::spawn(async {
                let (tx, mut rx) = mpsc::channel(1);
                tx.send(0u64).await.unwrap();
                loop {
                    let v = rx.recv().await.unwrap();
                    tx.send(v + 1).await.unwrap();
                }
            });
            vigil::task::yield_now().await;
            vigil::spawn(async { 1 }).await.unwrap();
            hog.abort();
            assert!(hog.await.unwrap_err().is_cancelled());

            // Unbounded: only `recv` spends budget.
            let hog = vigil::spawn(async {
                let (tx, mut rx) = mpsc::unbounded_channel();
                loop {
                    tx.send(1u8).unwrap();
                    let _ = rx.recv().await;
                }
            });
            vigil::task::yield_now().await;
            vigil::spawn(async { 2 }).await.unwrap();
            hog.abort();
            assert!(hog.await.unwrap_err().is_cancelled());
        })
    });
}

#[test]
fn weak_senders_do_not_keep_the_channel_open() {
    let (tx, mut rx) = mpsc::channel(2);
    let weak = tx.downgrade();
    let strong = weak.upgrade().expect("a sender is alive");
    strong.try_send(1).unwrap();
    drop(strong);
    drop(tx);
    assert!(weak.upgrade().is_none(), "the channel has ended");
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    assert!(weak.clone().upgrade().is_none());

    let (tx, mut rx) = mpsc::unbounded_channel();
    let weak = tx.downgrade();
    weak.upgrade().unwrap().send(2).unwrap();
    drop(tx);
    assert!(weak.upgrade().is_none());
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn send_timeout_gives_the_value_back_on_timeout_and_on_close() {
    use vigil::sync::mpsc::error::SendTimeoutError;
    for (flavour, rt) in both_flavours() {
        rt.block_on(async {
            let (tx, mut rx) = mpsc::channel::<String>(1);
            tx.send("first".into()).await.unwrap();
            let err = tx
                .send_timeout("late".into(), Duration::from_millis(5))
                .await
                .unwrap_err();
            assert!(err.is_timeout(), "{flavour}: {err}");
            assert_eq!(err.into_inner(), "late");
            // A slot freed while waiting lets it through.
            let sender = {
                let tx = tx.clone();
                vigil::spawn(async move {
                    tx.send_timeout("waited".into(), Duration::from_secs(10))
                        .await
                        .unwrap();
                })
            };
            assert_eq!(rx.recv().await.as_deref(), Some("first"));
            sender.await.unwrap();
            assert_eq!(rx.recv().await.as_deref(), Some("waited"));
            drop(rx);
            let err = tx
                .send_timeout("gone".into(), Duration::from_secs(10))
                .await
                .unwrap_err();
            assert!(
                matches!(&err, SendTimeoutError::Closed(v) if v == "gone"),
                "{flavour}"
            );
        });
    }
}

#[test]
fn sender_counts_follow_clones_downgrades_and_drops() {
    use vigil::sync::mpsc;
    let (tx, rx) = mpsc::channel::<u8>(4);
    assert_eq!((tx.strong_count(), tx.weak_count()), (1, 0));
    let tx2 = tx.clone();
    let weak = tx.downgrade();
    let weak2 = weak.clone();
    assert_eq!((tx.strong_count(), tx.weak_count()), (2, 2));
    assert_eq!((weak.strong_count(), weak.weak_count()), (2, 2));
    drop(weak2);
    drop(tx2);
    assert_eq!((weak.strong_count(), weak.weak_count()), (1, 1));
    // The receiver holds the channel too; it is never counted.
    drop(rx);
    assert_eq!((tx.strong_count(), tx.weak_count()), (1, 1));
    drop(tx);
    assert_eq!((weak.strong_count(), weak.weak_count()), (0, 1));
    assert!(weak.upgrade().is_none());

    let (utx, _urx) = mpsc::unbounded_channel::<u8>();
    let uweak = utx.downgrade();
    let upgraded = uweak.upgrade().unwrap();
    assert_eq!((utx.strong_count(), utx.weak_count()), (2, 1));
    drop(upgraded);
    drop(uweak);
    assert_eq!((utx.strong_count(), utx.weak_count()), (1, 0));
}
