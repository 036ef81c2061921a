//! `vigil::sync::Semaphore` and `vigil::sync::Mutex`: counting, FIFO
//! service, cancellation without leaks, closing, and exclusion under load
//! on both schedulers.

mod common;

use common::waker::{counting_waker, poll_once};
use common::{both_flavours, multi_thread};
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::task::Poll;
use vigil::sync::{AcquireError, Mutex, Semaphore, TryAcquireError};

#[test]
fn permits_are_counted_and_given_back() {
    let sem = Semaphore::new(3);
    let a = sem.try_acquire().unwrap();
    let b = sem.try_acquire_many(2).unwrap();
    assert_eq!(b.num_permits(), 2);
    assert_eq!(sem.available_permits(), 0);
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    drop(b);
    assert_eq!(sem.available_permits(), 2);
    a.forget();
    assert_eq!(sem.available_permits(), 2);
    sem.add_permits(5);
    assert_eq!(sem.available_permits(), 7);
    assert_eq!(sem.forget_permits(10), 7);
    assert_eq!(sem.available_permits(), 0);
}

#[test]
fn waiters_are_served_in_arrival_order_and_no_one_barges() {
    let sem = Semaphore::new(0);
    let (_, waker) = counting_waker();
    let mut big = pin!(sem.acquire_many(3));
    let mut small = pin!(sem.acquire());
    assert!(poll_once(big.as_mut(), &waker).is_pending());
    assert!(poll_once(small.as_mut(), &waker).is_pending());
    sem.add_permits(2);
    // Two permits would satisfy `small`, but `big` came first.
    assert!(poll_once(small.as_mut(), &waker).is_pending());
    assert_eq!(
        sem.try_acquire().unwrap_err(),
        TryAcquireError::NoPermits,
        "try_acquire must not barge ahead of queued waiters"
    );
    sem.add_permits(1);
    let Poll::Ready(Ok(p)) = poll_once(big.as_mut(), &waker) else {
        panic!("the first waiter is served first");
    };
    assert_eq!(p.num_permits(), 3);
    assert!(poll_once(small.as_mut(), &waker).is_pending());
    drop(p);
    assert!(matches!(
        poll_once(small.as_mut(), &waker),
        Poll::Ready(Ok(_))
    ));
    assert_eq!(sem.available_permits(), 3);
}

#[test]
fn a_release_wakes_exactly_the_waiter_it_serves() {
    let sem = Semaphore::new(0);
    let (c1, w1) = counting_waker();
    let (c2, w2) = counting_waker();
    let mut first = pin!(sem.acquire());
    let mut second = pin!(sem.acquire());
    assert!(poll_once(first.as_mut(), &w1).is_pending());
    assert!(poll_once(second.as_mut(), &w2).is_pending());
    sem.add_permits(1);
    assert_eq!(common::waker::wakes(&c1), 1);
    assert_eq!(common::waker::wakes(&c2), 0);
}

#[test]
fn the_latest_waker_is_the_one_woken() {
    let sem = Semaphore::new(0);
    let (old, w_old) = counting_waker();
    let (new, w_new) = counting_waker();
    let mut acquire = pin!(sem.acquire());
    assert!(poll_once(acquire.as_mut(), &w_old).is_pending());
    assert!(poll_once(acquire.as_mut(), &w_new).is_pending());
    sem.add_permits(1);
    assert_eq!(common::waker::wakes(&old), 0);
    assert_eq!(common::waker::wakes(&new), 1);
}

#[test]
fn a_cancelled_waiter_lets_the_next_one_through() {
    let sem = Semaphore::new(2);
    let (_, waker) = counting_waker();
    let (woken, w2) = counting_waker();
    let mut big = Box::pin(sem.acquire_many(3));
    let mut small = pin!(sem.acquire());
    assert!(poll_once(big.as_mut(), &waker).is_pending());
    assert!(poll_once(small.as_mut(), &w2).is_pending());
    // `big` blocks the queue; dropping it must serve `small` at once.
    drop(big);
    assert_eq!(common::waker::wakes(&woken), 1);
    assert!(matches!(poll_once(small.as_mut(), &w2), Poll::Ready(Ok(_))));
}

#[test]
fn a_grant_dropped_before_it_is_collected_goes_back() {
    let sem = Semaphore::new(0);
    let (_, waker) = counting_waker();
    let mut acquire = Box::pin(sem.acquire_many(2));
    assert!(poll_once(acquire.as_mut(), &waker).is_pending());
    sem.add_permits(2);
    assert_eq!(sem.available_permits(), 0, "granted to the waiter");
    drop(acquire);
    assert_eq!(sem.available_permits(), 2, "the grant is not leaked");
}

#[test]
fn closing_fails_queued_and_later_acquires_but_not_held_permits() {
    let sem = Semaphore::new(1);
    let held = sem.try_acquire().unwrap();
    let (woken, waker) = counting_waker();
    let mut queued = pin!(sem.acquire());
    assert!(poll_once(queued.as_mut(), &waker).is_pending());
    sem.close();
    assert!(sem.is_closed());
    assert_eq!(common::waker::wakes(&woken), 1);
    assert!(matches!(
        poll_once(queued.as_mut(), &waker),
        Poll::Ready(Err(AcquireError { .. }))
    ));
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
    let mut late = pin!(sem.acquire());
    assert!(matches!(
        poll_once(late.as_mut(), &waker),
        Poll::Ready(Err(_))
    ));
    drop(held);
    assert_eq!(sem.available_permits(), 1);
}

/// Closing a semaphore with more waiters than fit in one wake batch.
#[test]
fn closing_wakes_every_waiter() {
    let sem = Semaphore::new(0);
    let (woken, waker) = counting_waker();
    let mut waiters: Vec<_> = (0..100).map(|_| Box::pin(sem.acquire())).collect();
    for w in &mut waiters {
        assert!(poll_once(w.as_mut(), &waker).is_pending());
    }
    sem.close();
    assert_eq!(common::waker::wakes(&woken), 100);
}

/// A release that serves more waiters than fit in one wake batch.
#[test]
fn a_large_release_serves_every_waiter_it_covers() {
    let sem = Semaphore::new(0);
    let (woken, waker) = counting_waker();
    let mut waiters: Vec<_> = (0..100).map(|_| Box::pin(sem.acquire())).collect();
    for w in &mut waiters {
        assert!(poll_once(w.as_mut(), &waker).is_pending());
    }
    sem.add_permits(90);
    assert_eq!(common::waker::wakes(&woken), 90);
    // Keep the permits: dropping one would serve the next waiter.
    let polls: Vec<_> = waiters
        .iter_mut()
        .map(|w| poll_once(w.as_mut(), &waker))
        .collect();
    assert_eq!(polls.iter().filter(|p| p.is_ready()).count(), 90);
    assert!(
        polls[..90].iter().all(Poll::is_ready),
        "the first 90 in order"
    );
}

#[test]
fn zero_permits_are_granted_at_once() {
    let sem = Semaphore::new(0);
    let (_, waker) = counting_waker();
    let mut queued = pin!(sem.acquire());
    assert!(poll_once(queued.as_mut(), &waker).is_pending());
    let mut zero = pin!(sem.acquire_many(0));
    assert!(poll_once(zero.as_mut(), &waker).is_ready());
    assert!(sem.try_acquire_many(0).is_ok());
}

#[test]
fn owned_permits_move_into_tasks() {
    for (name, rt) in both_flavours() {
        let sem = Arc::new(Semaphore::new(2));
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            let mut tasks = Vec::new();
            for _ in 0..20 {
                let permit = sem.clone().acquire_owned().await.unwrap();
                let (running, peak) = (running.clone(), peak.clone());
                tasks.push(vigil::spawn(async move {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    vigil::task::yield_now().await;
                    running.fetch_sub(1, Ordering::SeqCst);
                    drop(permit);
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
        });
        assert!(peak.load(Ordering::SeqCst) <= 2, "{name}");
        assert_eq!(sem.available_permits(), 2, "{name}");
    }
}

#[test]
fn try_acquire_owned_reports_why() {
    let sem = Arc::new(Semaphore::new(1));
    let p = sem.clone().try_acquire_owned().unwrap();
    assert!(Arc::ptr_eq(p.semaphore(), &sem));
    assert_eq!(
        sem.clone().try_acquire_owned().unwrap_err(),
        TryAcquireError::NoPermits
    );
    drop(p);
    sem.close();
    assert_eq!(
        sem.clone().try_acquire_many_owned(1).unwrap_err(),
        TryAcquireError::Closed
    );
}

/// Acquiring from a semaphore that always has permits spends the task's
/// budget: the loop yields, so another task on the same thread gets in.
#[test]
fn an_always_ready_semaphore_yields_to_other_tasks() {
    let rt = common::current_thread();
    rt.block_on(async {
        let sem = Semaphore::new(1);
        let other_ran = Arc::new(AtomicUsize::new(0));
        let flag = other_ran.clone();
        let _other = vigil::spawn(async move { flag.store(1, Ordering::SeqCst) });
        let mut spins = 0u32;
        while other_ran.load(Ordering::SeqCst) == 0 {
            drop(sem.acquire().await.unwrap());
            spins += 1;
            assert!(spins < 100_000, "acquire never yielded");
        }
    });
}

#[test]
#[should_panic(expected = "at most")]
fn too_many_permits_panic() {
    let sem = Semaphore::new(Semaphore::MAX_PERMITS);
    sem.add_permits(1);
}

#[test]
fn mutex_excludes_across_awaits_on_many_threads() {
    let rt = multi_thread(2);
    let lock = Arc::new(Mutex::new((0u64, false)));
    rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let lock = lock.clone();
            tasks.push(vigil::spawn(async move {
                for _ in 0..500 {
                    let mut guard = lock.lock().await;
                    assert!(!guard.1, "two guards at once");
                    guard.1 = true;
                    vigil::task::yield_now().await;
                    guard.0 += 1;
                    guard.1 = false;
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
    assert_eq!(lock.try_lock().unwrap().0, 4_000);
}

#[test]
fn mutex_serves_waiters_in_arrival_order() {
    let lock = Mutex::new(Vec::new());
    let order = StdMutex::new(Vec::new());
    let (_, waker) = counting_waker();
    let guard = lock.try_lock().unwrap();
    let mut waiters: Vec<Option<Pin<Box<dyn Future<Output = ()> + '_>>>> = (0..5)
        .map(|i| {
            let (lock, order) = (&lock, &order);
            Some(Box::pin(async move {
                lock.lock().await.push(i);
                order.lock().unwrap().push(i);
            }) as Pin<Box<dyn Future<Output = ()>>>)
        })
        .collect();
    for w in waiters.iter_mut().flatten() {
        assert!(poll_once(w.as_mut(), &waker).is_pending());
    }
    assert!(lock.try_lock().is_err(), "held and queued");
    drop(guard);
    // Poll in reverse: only the head of the queue can have the lock.
    for _ in 0..5 {
        for slot in waiters.iter_mut().rev() {
            if let Some(w) = slot {
                if poll_once(w.as_mut(), &waker).is_ready() {
                    *slot = None;
                }
            }
        }
    }
    assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3, 4]);
    drop(waiters);
    assert_eq!(lock.into_inner(), [0, 1, 2, 3, 4]);
}

#[test]
fn a_cancelled_lock_does_not_lose_the_mutex() {
    let lock = Mutex::new(0);
    let (_, waker) = counting_waker();
    let guard = lock.try_lock().unwrap();
    let mut cancelled = Box::pin(lock.lock());
    assert!(poll_once(cancelled.as_mut(), &waker).is_pending());
    drop(guard); // hands the lock to `cancelled`...
    drop(cancelled); // ...which is dropped before taking it
    *lock.try_lock().expect("the lock came back") += 1;
    assert_eq!(*lock.try_lock().unwrap(), 1);
}

#[test]
fn owned_guards_and_plain_access() {
    let rt = multi_thread(2);
    let lock = Arc::new(Mutex::new(String::new()));
    rt.block_on(async {
        let guard = lock.clone().lock_owned().await;
        assert!(Arc::ptr_eq(guard.mutex(), &lock));
        let task = vigil::spawn(async move {
            let mut guard = guard;
            guard.push_str("moved");
        });
        task.await.unwrap();
        let again = lock.clone().try_lock_owned().unwrap();
        assert_eq!(&*again, "moved");
        assert!(lock.clone().try_lock_owned().is_err());
    });
    let mut lock = Arc::try_unwrap(lock).unwrap();
    lock.get_mut().push('!');
    assert_eq!(format!("{lock:?}"), "Mutex { data: \"moved!\" }");
}

// `const_new` does not exist under loom, whose primitives are not `const`.
#[cfg(not(loom))]
#[test]
fn mutex_const_new_works_in_a_static() {
    static GLOBAL: Mutex<u32> = Mutex::const_new(7);
    assert_eq!(*GLOBAL.try_lock().unwrap(), 7);
}

/// The guard's `Send`/`Sync` follow `std::sync::MutexGuard`'s reasoning:
/// a guard shared between threads must not hand out `&T` for a `!Sync` T.
#[test]
fn guards_are_send_when_the_value_is() {
    fn is_send<T: Send>() {}
    is_send::<vigil::sync::MutexGuard<'static, std::cell::Cell<u8>>>();
    is_send::<vigil::sync::OwnedMutexGuard<std::cell::Cell<u8>>>();
}
