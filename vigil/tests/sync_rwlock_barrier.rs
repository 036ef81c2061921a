//! `vigil::sync::RwLock` (sharing, exclusion, writer fairness, downgrade,
//! cancellation) and `vigil::sync::Barrier` (generations, one leader,
//! reuse), on both schedulers.

mod common;

use common::waker::{counting_waker, poll_once};
use common::{both_flavours, multi_thread};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use vigil::sync::{Barrier, RwLock};

#[test]
fn readers_share_and_writers_exclude() {
    let lock = RwLock::new(1);
    let r1 = lock.try_read().unwrap();
    let r2 = lock.try_read().unwrap();
    assert_eq!(*r1 + *r2, 2);
    assert!(lock.try_write().is_err());
    drop((r1, r2));
    let mut w = lock.try_write().unwrap();
    *w = 5;
    assert!(lock.try_read().is_err());
    assert!(lock.try_write().is_err());
    drop(w);
    assert_eq!(*lock.try_read().unwrap(), 5);
}

#[test]
fn a_queued_writer_holds_back_later_readers() {
    let lock = RwLock::new(0);
    let (_, waker) = counting_waker();
    let early = lock.try_read().unwrap();
    let mut writer = pin!(lock.write());
    assert!(poll_once(writer.as_mut(), &waker).is_pending());
    // A reader arriving after the writer must wait behind it.
    assert!(lock.try_read().is_err());
    let mut late_reader = pin!(lock.read());
    assert!(poll_once(late_reader.as_mut(), &waker).is_pending());
    drop(early);
    let Poll::Ready(mut w) = poll_once(writer.as_mut(), &waker) else {
        panic!("the writer goes first");
    };
    assert!(poll_once(late_reader.as_mut(), &waker).is_pending());
    *w = 1;
    drop(w);
    let Poll::Ready(r) = poll_once(late_reader.as_mut(), &waker) else {
        panic!("then the reader");
    };
    assert_eq!(*r, 1);
}

#[test]
fn downgrade_keeps_writers_out_and_lets_readers_in() {
    let lock = RwLock::new(String::from("a"));
    let (_, waker) = counting_waker();
    let mut w = lock.try_write().unwrap();
    w.push('b');
    let r = w.downgrade();
    assert_eq!(&*r, "ab");
    assert!(lock.try_write().is_err());
    assert!(
        lock.try_read().is_ok(),
        "other readers share after a downgrade"
    );
    let mut writer = pin!(lock.write());
    assert!(poll_once(writer.as_mut(), &waker).is_pending());
    drop(r);
    assert!(poll_once(writer.as_mut(), &waker).is_ready());
}

#[test]
fn a_cancelled_write_does_not_block_readers_for_good() {
    let lock = RwLock::new(0);
    let (_, waker) = counting_waker();
    let reader = lock.try_read().unwrap();
    let mut writer = Box::pin(lock.write());
    assert!(poll_once(writer.as_mut(), &waker).is_pending());
    assert!(lock.try_read().is_err(), "queued writer blocks readers");
    drop(writer);
    assert!(
        lock.try_read().is_ok(),
        "the cancelled writer left the queue"
    );
    drop(reader);
    assert!(lock.try_write().is_ok());
}

#[test]
fn max_readers_is_enforced() {
    let lock = RwLock::with_max_readers((), 2);
    let _a = lock.try_read().unwrap();
    let _b = lock.try_read().unwrap();
    assert!(lock.try_read().is_err());
}

#[test]
fn rwlock_keeps_invariants_under_load() {
    let rt = multi_thread(2);
    // Writers keep the two halves equal; readers check they are.
    let lock = Arc::new(RwLock::new((0u64, 0u64)));
    rt.block_on(async {
        let mut tasks = Vec::new();
        for i in 0..6 {
            let lock = lock.clone();
            tasks.push(vigil::spawn(async move {
                for _ in 0..300 {
                    if i % 3 == 0 {
                        let mut g = lock.write().await;
                        g.0 += 1;
                        vigil::task::yield_now().await;
                        g.1 += 1;
                    } else {
                        let g = lock.read().await;
                        assert_eq!(g.0, g.1, "a reader saw a half-done write");
                        vigil::task::yield_now().await;
                    }
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
    assert_eq!(*lock.try_read().unwrap(), (600, 600));
}

#[test]
fn owned_guards_move_into_tasks() {
    for (name, rt) in both_flavours() {
        let lock = Arc::new(RwLock::new(Vec::new()));
        rt.block_on(async {
            let w = lock.clone().write_owned().await;
            let t = vigil::spawn(async move {
                let mut w = w;
                w.push(1);
                w.downgrade().len()
            });
            assert_eq!(t.await.unwrap(), 1, "{name}");
            let r = lock.clone().read_owned().await;
            assert!(lock.clone().try_write_owned().is_err(), "{name}");
            assert_eq!(r.len(), 1);
            drop(r);
            assert!(lock.clone().try_read_owned().is_ok(), "{name}");
        });
        let mut inner = Arc::try_unwrap(lock).unwrap();
        inner.get_mut().push(2);
        assert_eq!(inner.into_inner(), [1, 2]);
    }
}

// `const_new` does not exist under loom, whose primitives are not `const`.
#[cfg(not(loom))]
#[test]
fn rwlock_const_new_works_in_a_static() {
    static GLOBAL: RwLock<u8> = RwLock::const_new(3);
    assert_eq!(format!("{GLOBAL:?}"), "RwLock { data: 3 }");
}

#[test]
fn barrier_releases_each_generation_with_one_leader() {
    for (name, rt) in both_flavours() {
        let barrier = Arc::new(Barrier::new(4));
        let leaders = Arc::new(AtomicUsize::new(0));
        let passed = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            let mut tasks = Vec::new();
            for _ in 0..4 {
                let (barrier, leaders, passed) = (barrier.clone(), leaders.clone(), passed.clone());
                tasks.push(vigil::spawn(async move {
                    for round in 0..50 {
                        // Nobody gets past round r before everyone arrived.
                        assert!(passed.load(Ordering::SeqCst) >= round * 4);
                        if barrier.wait().await.is_leader() {
                            leaders.fetch_add(1, Ordering::SeqCst);
                        }
                        passed.fetch_add(1, Ordering::SeqCst);
                        barrier.wait().await;
                    }
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
        });
        assert_eq!(leaders.load(Ordering::SeqCst), 50, "{name}");
    }
}

#[test]
fn a_barrier_waits_for_the_last_arrival() {
    let barrier = Barrier::new(3);
    let (woken, waker) = counting_waker();
    let mut a = pin!(barrier.wait());
    let mut b = pin!(barrier.wait());
    assert!(poll_once(a.as_mut(), &waker).is_pending());
    assert!(poll_once(b.as_mut(), &waker).is_pending());
    assert!(poll_once(a.as_mut(), &waker).is_pending());
    let mut c = pin!(barrier.wait());
    let Poll::Ready(res) = poll_once(c.as_mut(), &waker) else {
        panic!("the last arrival does not wait");
    };
    assert!(res.is_leader());
    assert_eq!(common::waker::wakes(&woken), 2);
    let Poll::Ready(res) = poll_once(a.as_mut(), &waker) else {
        panic!("released");
    };
    assert!(!res.is_leader());
    assert!(poll_once(b.as_mut(), &waker).is_ready());
    // A barrier of 0 or 1 never waits.
    let one = Barrier::new(0);
    assert!(poll_once(pin!(one.wait()), &waker).is_ready());
}

#[test]
fn a_dropped_wait_still_counts_as_arrived() {
    let barrier = Barrier::new(2);
    let (_, waker) = counting_waker();
    {
        let mut gone = Box::pin(barrier.wait());
        assert!(poll_once(gone.as_mut(), &waker).is_pending());
    }
    // The dropped arrival counted: this one completes the generation.
    let res = poll_once(pin!(barrier.wait()), &waker);
    assert!(matches!(res, Poll::Ready(r) if r.is_leader()));
}

/// A barrier of one completes every wait at once; a loop over it must
/// still spend the task's budget and let another task on the thread run.
#[test]
fn a_barrier_of_one_yields_to_other_tasks() {
    let rt = common::current_thread();
    rt.block_on(async {
        let barrier = Barrier::new(1);
        let other_ran = Arc::new(AtomicUsize::new(0));
        let flag = other_ran.clone();
        let _other = vigil::spawn(async move { flag.store(1, Ordering::SeqCst) });
        let mut waits = 0u32;
        while other_ran.load(Ordering::SeqCst) == 0 {
            assert!(barrier.wait().await.is_leader());
            waits += 1;
            assert!(waits < 100_000, "wait never yielded");
        }
    });
}
