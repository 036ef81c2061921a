//! Loom models of the semaphore's fast path, queue and cancellation.

use super::Semaphore;
use crate::sync::loom_support::block_on;
use loom::sync::atomic::{AtomicBool, Ordering::SeqCst};
use loom::sync::Arc;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// Two threads take a one-permit semaphore in turn: never both at once,
/// and the permit is back at the end.
#[test]
fn loom_semaphore_excludes() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let inside = Arc::new(AtomicBool::new(false));
        let other = {
            let (sem, inside) = (sem.clone(), inside.clone());
            loom::thread::spawn(move || {
                block_on(async {
                    let _p = sem.acquire().await.unwrap();
                    assert!(!inside.swap(true, SeqCst));
                    inside.store(false, SeqCst);
                })
            })
        };
        block_on(async {
            let _p = sem.acquire().await.unwrap();
            assert!(!inside.swap(true, SeqCst));
            inside.store(false, SeqCst);
        });
        other.join().unwrap();
        assert_eq!(sem.available_permits(), 1);
    });
}

/// A release on the fast path races an acquire going to sleep: the
/// shared word makes one of them see the other, so the acquire is
/// woken (a lost wake would leave `block_on` asleep: a deadlock).
#[test]
fn loom_release_races_enqueue() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let releaser = {
            let sem = sem.clone();
            loom::thread::spawn(move || sem.add_permits(2))
        };
        block_on(sem.acquire_many(2)).unwrap().forget();
        releaser.join().unwrap();
        assert_eq!(sem.available_permits(), 0);
    });
}

/// A queued acquire is dropped while another thread releases the
/// permit it waits for: the permit ends up back in the semaphore
/// whichever happens first.
#[test]
fn loom_cancelled_acquire_races_release() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let releaser = {
            let sem = sem.clone();
            loom::thread::spawn(move || sem.add_permits(1))
        };
        {
            let mut acquire = pin!(sem.acquire());
            let mut cx = Context::from_waker(Waker::noop());
            if let Poll::Ready(permit) = acquire.as_mut().poll(&mut cx) {
                drop(permit.unwrap());
            }
        }
        releaser.join().unwrap();
        assert_eq!(sem.available_permits(), 1);
    });
}

/// More acquires queued than `close` can wake in one batch, while a permit
/// comes back: `close` unlinks the first batch, lets go of the lock, and
/// the release may then serve a waiter of the second batch. Whichever
/// acquire gets the permit, none that was closed takes that grant for its
/// own (the lock-free look at `served` must not trust it once closed), and
/// no permit is lost.
#[test]
fn loom_close_races_release_across_wake_batches() {
    use crate::sync::wake_batch::WAKE_BATCH;
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let mut cx = Context::from_waker(Waker::noop());
        let mut acquires: Vec<_> = (0..WAKE_BATCH + 1)
            .map(|_| Box::pin(sem.acquire()))
            .collect();
        for acquire in &mut acquires {
            assert!(acquire.as_mut().poll(&mut cx).is_pending());
        }
        let closer = {
            let sem = sem.clone();
            loom::thread::spawn(move || sem.close())
        };
        let releaser = {
            let sem = sem.clone();
            loom::thread::spawn(move || sem.add_permits(1))
        };
        closer.join().unwrap();
        releaser.join().unwrap();
        // Every acquire is settled: the permit or the error.
        let mut granted = 0;
        for acquire in &mut acquires {
            match acquire.as_mut().poll(&mut cx) {
                Poll::Ready(Ok(permit)) => {
                    granted += 1;
                    drop(permit);
                }
                Poll::Ready(Err(_)) => {}
                Poll::Pending => panic!("an acquire is still waiting after close"),
            }
        }
        assert!(granted <= 1, "{granted} acquires share one permit");
        drop(acquires);
        assert_eq!(sem.available_permits(), 1);
    });
}
