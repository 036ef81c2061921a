//! `vigil::sync::oneshot`: delivery, errors, close, drops and wake-ups.

mod common;

use common::waker::{counting_waker, wakes};
use common::{both_flavours, multi_thread, DropCounter};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use vigil::sync::oneshot::{
    self,
    error::{RecvError, TryRecvError},
};

fn poll_once<F: Future + Unpin>(fut: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(fut).poll(&mut Context::from_waker(waker))
}

#[test]
fn send_then_recv_across_tasks() {
    for (name, rt) in both_flavours() {
        let got = rt.block_on(async {
            let (tx, rx) = oneshot::channel();
            let receiver = vigil::spawn(rx);
            vigil::spawn(async move { tx.send(String::from("hi")).unwrap() });
            receiver.await.unwrap()
        });
        assert_eq!(got.as_deref(), Ok("hi"), "{name}");
    }
}

#[test]
fn receiver_waits_for_a_later_send() {
    for (name, rt) in both_flavours() {
        rt.block_on(async {
            let (tx, rx) = oneshot::channel();
            let (go_tx, go_rx) = oneshot::channel::<()>();
            let sender = vigil::spawn(async move {
                go_rx.await.unwrap();
                tx.send(5u8).unwrap();
            });
            let receiver = vigil::spawn(async move {
                let mut rx = rx;
                assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
                go_tx.send(()).unwrap();
                rx.await
            });
            assert_eq!(receiver.await.unwrap(), Ok(5), "{name}");
            sender.await.unwrap();
        });
    }
}

#[test]
fn sender_dropped_gives_recv_error() {
    for (name, rt) in both_flavours() {
        let got = rt.block_on(async {
            let (tx, rx) = oneshot::channel::<u32>();
            vigil::spawn(async move { drop(tx) });
            rx.await
        });
        assert_eq!(got, Err(error_value()), "{name}");
    }
}

/// A `RecvError` obtained the public way.
fn error_value() -> RecvError {
    let (tx, mut rx) = oneshot::channel::<()>();
    drop(tx);
    match poll_once(&mut rx, Waker::noop()) {
        Poll::Ready(Err(e)) => e,
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn send_to_dropped_receiver_returns_value() {
    let (tx, rx) = oneshot::channel();
    assert!(!tx.is_closed());
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(tx.send(vec![1, 2]), Err(vec![1, 2]));
}

#[test]
fn close_rejects_later_sends() {
    let (tx, mut rx) = oneshot::channel();
    rx.close();
    assert!(tx.is_closed());
    assert_eq!(tx.send(1), Err(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(
        poll_once(&mut rx, Waker::noop()),
        Poll::Ready(Err(error_value()))
    );
}

#[test]
fn close_keeps_a_value_sent_before() {
    let (tx, mut rx) = oneshot::channel();
    tx.send(9).unwrap();
    rx.close();
    assert_eq!(poll_once(&mut rx, Waker::noop()), Poll::Ready(Ok(9)));
}

#[test]
fn close_then_sender_dropped_is_an_error() {
    let (tx, mut rx) = oneshot::channel::<u8>();
    rx.close();
    drop(tx);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn try_recv_states() {
    let (tx, mut rx) = oneshot::channel();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.send('x').unwrap();
    assert_eq!(rx.try_recv(), Ok('x'));
    // Taken: nothing more will come.
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));

    let (tx, mut rx) = oneshot::channel::<char>();
    drop(tx);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn closed_resolves_when_receiver_dropped() {
    for (name, rt) in both_flavours() {
        rt.block_on(async {
            let (mut tx, rx) = oneshot::channel::<u8>();
            let (ready_tx, ready_rx) = oneshot::channel::<()>();
            let dropper = vigil::spawn(async move {
                ready_rx.await.unwrap();
                drop(rx);
            });
            let waiter = vigil::spawn(async move {
                {
                    let mut closed = std::pin::pin!(tx.closed());
                    // Not closed yet: the receiver is still alive.
                    let first = std::future::poll_fn(|cx| Poll::Ready(closed.as_mut().poll(cx)));
                    assert!(first.await.is_pending());
                    ready_tx.send(()).unwrap();
                    closed.await;
                }
                tx.is_closed()
            });
            dropper.await.unwrap();
            assert!(waiter.await.unwrap(), "{name}");
        });
    }
}

#[test]
fn closed_resolves_on_close_and_wakes() {
    let (mut tx, mut rx) = oneshot::channel::<u8>();
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(tx.poll_closed(&mut cx).is_pending());
    rx.close();
    assert_eq!(wakes(&count), 1);
    assert!(tx.poll_closed(&mut cx).is_ready());
    // Dropping the closed receiver wakes nothing more.
    drop(rx);
    assert_eq!(wakes(&count), 1);
}

#[test]
fn value_dropped_once_with_the_channel() {
    let drops = Arc::new(AtomicUsize::new(0));
    // Received: dropped by the receiver's owner.
    let (tx, rx) = oneshot::channel();
    tx.send(DropCounter(drops.clone())).ok().unwrap();
    let mut rx = rx;
    let value = rx.try_recv().ok().unwrap();
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(value);
    assert_eq!(drops.load(Ordering::SeqCst), 1);

    // Never received: dropped when the receiver goes.
    let (tx, rx) = oneshot::channel();
    tx.send(DropCounter(drops.clone())).ok().unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), 2);

    // Rejected: handed back, not dropped by the channel.
    let (tx, rx) = oneshot::channel();
    drop(rx);
    let back = tx.send(DropCounter(drops.clone())).err().unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 2);
    drop(back);
    assert_eq!(drops.load(Ordering::SeqCst), 3);
}

#[test]
fn waker_reregistration_wakes_the_latest() {
    let (tx, mut rx) = oneshot::channel();
    let (first, first_waker) = counting_waker();
    let (second, second_waker) = counting_waker();
    assert!(poll_once(&mut rx, &first_waker).is_pending());
    assert!(poll_once(&mut rx, &second_waker).is_pending());
    // Same waker again: still registered once.
    assert!(poll_once(&mut rx, &second_waker).is_pending());
    tx.send(1).unwrap();
    assert_eq!(wakes(&first), 0);
    assert_eq!(wakes(&second), 1);
    assert_eq!(poll_once(&mut rx, &second_waker), Poll::Ready(Ok(1)));
}

#[test]
fn sender_drop_wakes_pending_receiver() {
    let (tx, mut rx) = oneshot::channel::<u8>();
    let (count, waker) = counting_waker();
    assert!(poll_once(&mut rx, &waker).is_pending());
    drop(tx);
    assert_eq!(wakes(&count), 1);
    assert_eq!(poll_once(&mut rx, &waker), Poll::Ready(Err(error_value())));
}

#[test]
fn dropped_await_keeps_the_value() {
    let rt = common::current_thread();
    rt.block_on(async {
        let (tx, mut rx) = oneshot::channel();
        // Cancel one await half way through, as a select! would.
        assert!(poll_once(&mut rx, Waker::noop()).is_pending());
        tx.send(3).unwrap();
        assert_eq!((&mut rx).await, Ok(3));
    });
}

#[test]
fn errors_display_and_compare() {
    let e = error_value();
    assert_eq!(e.clone(), e);
    assert!(!e.to_string().is_empty());
    assert_ne!(TryRecvError::Empty, TryRecvError::Closed);
    assert_ne!(
        TryRecvError::Empty.to_string(),
        TryRecvError::Closed.to_string()
    );
    let _: &dyn std::error::Error = &e;
    let _: &dyn std::error::Error = &TryRecvError::Empty;
}

#[test]
fn receiving_spends_coop_budget() {
    // A task receiving from many ready channels in one poll must yield once
    // its budget is spent, instead of completing them all in one go.
    let rt = common::current_thread();
    rt.block_on(async {
        let mut rxs = Vec::new();
        for i in 0..1000 {
            let (tx, rx) = oneshot::channel();
            tx.send(i).unwrap();
            rxs.push(rx);
        }
        let mut pending_seen = false;
        let mut rxs = rxs.into_iter();
        let mut current = rxs.next();
        std::future::poll_fn(|cx| {
            while let Some(rx) = current.as_mut() {
                match Pin::new(rx).poll(cx) {
                    Poll::Ready(v) => {
                        v.unwrap();
                        current = rxs.next();
                    }
                    Poll::Pending => {
                        pending_seen = true;
                        return Poll::Pending;
                    }
                }
            }
            Poll::Ready(())
        })
        .await;
        assert!(pending_seen, "1000 ready receives never yielded");
    });
}

#[test]
fn stress_many_threads() {
    let rt = multi_thread(2);
    let drops = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        let mut tasks = Vec::new();
        for i in 0..1000usize {
            let (tx, rx) = oneshot::channel();
            let value = (i, DropCounter(drops.clone()));
            // Alternate who goes first, and sometimes drop the receiver.
            let send = vigil::spawn(async move { tx.send(value).is_ok() });
            let recv = vigil::spawn(async move {
                if i % 5 == 0 {
                    drop(rx);
                    None
                } else {
                    Some(rx.await.unwrap().0)
                }
            });
            tasks.push((i, send, recv));
        }
        for (i, send, recv) in tasks {
            let sent = send.await.unwrap();
            match recv.await.unwrap() {
                Some(got) => {
                    assert!(sent);
                    assert_eq!(got, i);
                }
                None => assert_eq!(i % 5, 0),
            }
        }
    });
    assert_eq!(drops.load(Ordering::SeqCst), 1000);
}
