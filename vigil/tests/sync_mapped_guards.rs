//! Mapped guards of `vigil::sync::Mutex` and `vigil::sync::RwLock`: writes
//! through a mapped guard land in the locked value, the lock is released
//! exactly once (on drop, or when the mapping closure panics), `try_map`
//! hands the original guard back still locked, `downgrade_map` lets readers
//! in but not writers, owned guards keep their `Arc` alive, and the guards'
//! `Send`/`Sync` follow what they hand out.

mod common;

use common::waker::{counting_waker, poll_once};
use common::{both_flavours, DropCounter};
use std::cell::Cell;
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use vigil::sync::{
    MappedMutexGuard, Mutex, MutexGuard, OwnedMappedMutexGuard, OwnedMutexGuard,
    OwnedRwLockMappedWriteGuard, OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock,
    RwLockMappedWriteGuard, RwLockReadGuard, RwLockWriteGuard,
};

#[derive(Debug, Default)]
struct Account {
    owner: String,
    balance: u64,
    history: Vec<u64>,
}

/// The mutex is unlocked, and was unlocked once: a second permit would let
/// a second `try_lock` through.
#[track_caller]
fn assert_unlocked_once<T: ?Sized>(lock: &Mutex<T>) {
    let guard = lock.try_lock().expect("the mutex was left locked");
    assert!(
        lock.try_lock().is_err(),
        "the mutex was unlocked twice: two guards at once"
    );
    drop(guard);
}

/// The lock is free, and its permits were given back once: after a writer
/// takes them all, a reader must find none left.
#[track_caller]
fn assert_released_once<T: ?Sized>(lock: &RwLock<T>) {
    let writer = lock.try_write().expect("the lock was left held");
    assert!(
        lock.try_read().is_err(),
        "permits were given back twice: a reader got in beside a writer"
    );
    drop(writer);
}

/// Runs `f`, which must panic, and swallows the panic.
#[track_caller]
fn must_panic<R>(f: impl FnOnce() -> R) {
    let result = catch_unwind(AssertUnwindSafe(f));
    assert!(result.is_err(), "the closure was expected to panic");
}

// ---- Mutex ----

#[test]
fn mutex_map_writes_through_to_the_field() {
    let account = Mutex::new(Account {
        owner: "ada".into(),
        balance: 10,
        ..Account::default()
    });
    let guard = account.try_lock().unwrap();
    assert!(std::ptr::eq(MutexGuard::mutex(&guard), &account));
    let mut balance = MutexGuard::map(guard, |a| &mut a.balance);
    *balance += 5;
    assert_eq!(*balance, 15);
    assert!(account.try_lock().is_err(), "a mapped guard keeps the lock");
    drop(balance);
    assert_unlocked_once(&account);
    let account = account.into_inner();
    assert_eq!((account.owner.as_str(), account.balance), ("ada", 15));
}

#[test]
fn mapped_mutex_guard_unlock_wakes_a_queued_waiter() {
    let lock = Mutex::new((0u32, String::new()));
    let (wakes, waker) = counting_waker();
    let mut text = MutexGuard::map(lock.try_lock().unwrap(), |p| &mut p.1);
    let mut waiter = pin!(lock.lock());
    assert!(poll_once(waiter.as_mut(), &waker).is_pending());
    text.push_str("hi");
    assert_eq!(common::waker::wakes(&wakes), 0);
    drop(text);
    assert_eq!(common::waker::wakes(&wakes), 1, "the waiter was woken");
    let Poll::Ready(guard) = poll_once(waiter.as_mut(), &waker) else {
        panic!("the waiter gets the lock the mapped guard gave back");
    };
    assert_eq!(guard.1, "hi");
    assert!(lock.try_lock().is_err());
    drop(guard);
    assert_unlocked_once(&lock);
}

// `Mutex::const_new` is not `const` under loom.
#[cfg(not(loom))]
#[test]
fn mapped_mutex_guards_hand_the_lock_to_a_waiting_task() {
    for (name, rt) in both_flavours() {
        // A static, so that borrowed guards are `'static` and can be
        // spawned; emptied for each flavour.
        static LOCK: Mutex<Account> = Mutex::const_new(Account {
            owner: String::new(),
            balance: 0,
            history: Vec::new(),
        });
        let lock = &LOCK;
        *lock.try_lock().unwrap() = Account::default();
        rt.block_on(async {
            let history = MutexGuard::map(lock.lock().await, |a| &mut a.history);
            // The mapped guard is `Send`: move it into a task that writes
            // through it and drops it while a second task waits.
            let writer = vigil::spawn(async move {
                let mut history = history;
                vigil::task::yield_now().await;
                history.push(1);
            });
            let waiter = vigil::spawn(async move {
                let mut balance = MutexGuard::map(lock.lock().await, |a| &mut a.balance);
                *balance += 1;
            });
            writer.await.unwrap();
            waiter.await.unwrap();
            let account = lock.lock().await;
            assert_eq!(
                (account.history.as_slice(), account.balance),
                (&[1][..], 1),
                "{name}"
            );
        });
        assert_unlocked_once(lock);

        // The same with owned guards.
        let lock = Arc::new(Mutex::new(Account::default()));
        rt.block_on(async {
            let history = OwnedMutexGuard::map(lock.clone().lock_owned().await, |a| &mut a.history);
            let writer = vigil::spawn(async move {
                let mut history = history;
                vigil::task::yield_now().await;
                history.push(2);
            });
            let lock2 = lock.clone();
            let waiter = vigil::spawn(async move {
                let mut balance =
                    OwnedMutexGuard::map(lock2.lock_owned().await, |a| &mut a.balance);
                *balance += 2;
                OwnedMappedMutexGuard::mutex(&balance).clone()
            });
            writer.await.unwrap();
            let from_waiter = waiter.await.unwrap();
            assert!(Arc::ptr_eq(&from_waiter, &lock), "{name}");
            let account = lock.lock().await;
            assert_eq!(
                (account.history.as_slice(), account.balance),
                (&[2][..], 2),
                "{name}"
            );
        });
        assert_unlocked_once(&lock);
    }
}

#[test]
fn mutex_try_map_none_gives_back_the_guard_still_locked() {
    let lock = Mutex::new(vec![1, 2, 3]);
    let guard = lock.try_lock().unwrap();
    let mut guard = match MutexGuard::try_map(guard, |v| v.get_mut(10)) {
        Ok(_) => panic!("there is no element 10"),
        Err(guard) => guard,
    };
    assert!(lock.try_lock().is_err(), "the returned guard still locks");
    guard.push(4);
    let mut last = MutexGuard::try_map(guard, |v| v.last_mut()).expect("a last element");
    *last = 40;
    let last = match MappedMutexGuard::try_map(last, |_| None::<&mut u8>) {
        Ok(_) => panic!("the closure declined"),
        Err(last) => last,
    };
    assert!(
        lock.try_lock().is_err(),
        "the returned mapped guard still locks"
    );
    assert_eq!(*last, 40);
    drop(last);
    assert_unlocked_once(&lock);
    assert_eq!(*lock.try_lock().unwrap(), [1, 2, 3, 40]);
}

#[test]
fn mapped_mutex_guards_map_further() {
    let lock = Mutex::new([[0u8; 2]; 2]);
    let row = MutexGuard::map(lock.try_lock().unwrap(), |g| &mut g[1]);
    let mut cell = MappedMutexGuard::map(row, |r| &mut r[0]);
    *cell = 3;
    let mut slice = MappedMutexGuard::try_map(cell, |c| Some(std::slice::from_mut(c)))
        .expect("the closure accepted");
    slice[0] += 1;
    assert_eq!(format!("{slice:?}"), "[4]");
    drop(slice);
    assert_unlocked_once(&lock);
    assert_eq!(*lock.try_lock().unwrap(), [[0, 0], [4, 0]]);
}

#[test]
fn mutex_guards_format_like_their_value() {
    let lock = Mutex::new((String::from("left"), 7u32));
    let number = MutexGuard::map(lock.try_lock().unwrap(), |p| &mut p.1);
    assert_eq!(format!("{number}|{number:?}"), "7|7");
    drop(number);
    let lock = Arc::new(lock);
    let owned = OwnedMutexGuard::map(lock.clone().try_lock_owned().unwrap(), |p| &mut p.0);
    assert_eq!(format!("{owned}|{owned:?}"), "left|\"left\"");
    drop(owned);
    let whole = lock.try_lock().unwrap();
    assert_eq!(format!("{:?}", whole), "(\"left\", 7)");
}

#[test]
fn owned_mapped_mutex_guard_keeps_the_mutex_alive() {
    let drops = Arc::new(AtomicUsize::new(0));
    let lock = Arc::new(Mutex::new((DropCounter(drops.clone()), 0u32)));
    let guard = lock.clone().try_lock_owned().unwrap();
    let mut count = OwnedMutexGuard::map(guard, |p| &mut p.1);
    drop(lock);
    // The guard holds the only `Arc` now.
    assert_eq!(Arc::strong_count(OwnedMappedMutexGuard::mutex(&count)), 1);
    *count += 1;
    let count = OwnedMappedMutexGuard::map(count, |c| c);
    let count = match OwnedMappedMutexGuard::try_map(count, |_| None::<&mut u8>) {
        Ok(_) => panic!("the closure declined"),
        Err(count) => count,
    };
    assert!(OwnedMappedMutexGuard::mutex(&count).try_lock().is_err());
    assert_eq!(*count, 1);
    assert_eq!(drops.load(Ordering::SeqCst), 0, "the mutex is still alive");
    let lock = OwnedMappedMutexGuard::mutex(&count).clone();
    drop(count);
    assert_eq!(drops.load(Ordering::SeqCst), 0, "our clone keeps it alive");
    assert_unlocked_once(&lock);
    assert_eq!(lock.try_lock().unwrap().1, 1);
    drop(lock);
    assert_eq!(drops.load(Ordering::SeqCst), 1, "the last Arc freed it");
}

#[test]
fn owned_mutex_try_map_none_gives_back_the_guard_still_locked() {
    let lock = Arc::new(Mutex::new(Some(5)));
    let guard = lock.clone().try_lock_owned().unwrap();
    let mut guard = match OwnedMutexGuard::try_map(guard, |_| None::<&mut u8>) {
        Ok(_) => panic!("the closure declined"),
        Err(guard) => guard,
    };
    assert!(lock.try_lock().is_err());
    *guard = Some(6);
    let mut inner = OwnedMutexGuard::try_map(guard, Option::as_mut).expect("Some");
    *inner += 1;
    drop(inner);
    assert_unlocked_once(&lock);
    assert_eq!(*lock.try_lock().unwrap(), Some(7));
}

#[test]
fn a_panic_in_a_mutex_mapping_closure_unlocks_exactly_once() {
    let lock = Arc::new(Mutex::new((0u8, 0u8)));

    must_panic(|| MutexGuard::map::<u8, _>(lock.try_lock().unwrap(), |_| panic!("boom")));
    assert_unlocked_once(&lock);

    must_panic(|| MutexGuard::try_map::<u8, _>(lock.try_lock().unwrap(), |_| panic!("boom")));
    assert_unlocked_once(&lock);

    must_panic(|| {
        let mapped = MutexGuard::map(lock.try_lock().unwrap(), |p| &mut p.0);
        MappedMutexGuard::map::<u8, _>(mapped, |_| panic!("boom"))
    });
    assert_unlocked_once(&lock);

    must_panic(|| {
        let mapped = MutexGuard::map(lock.try_lock().unwrap(), |p| &mut p.0);
        MappedMutexGuard::try_map::<u8, _>(mapped, |_| panic!("boom"))
    });
    assert_unlocked_once(&lock);

    must_panic(|| {
        OwnedMutexGuard::map::<u8, _>(lock.clone().try_lock_owned().unwrap(), |_| panic!("boom"))
    });
    assert_unlocked_once(&lock);

    must_panic(|| {
        OwnedMutexGuard::try_map::<u8, _>(lock.clone().try_lock_owned().unwrap(), |_| {
            panic!("boom")
        })
    });
    assert_unlocked_once(&lock);

    must_panic(|| {
        let mapped = OwnedMutexGuard::map(lock.clone().try_lock_owned().unwrap(), |p| &mut p.1);
        OwnedMappedMutexGuard::map::<u8, _>(mapped, |_| panic!("boom"))
    });
    assert_unlocked_once(&lock);

    must_panic(|| {
        let mapped = OwnedMutexGuard::map(lock.clone().try_lock_owned().unwrap(), |p| &mut p.1);
        OwnedMappedMutexGuard::try_map::<u8, _>(mapped, |_| panic!("boom"))
    });
    assert_unlocked_once(&lock);
    assert_eq!(Arc::strong_count(&lock), 1, "no guard leaked its Arc");
}

// ---- RwLock ----

#[test]
fn read_map_narrows_and_still_shares() {
    let lock = RwLock::new(Account {
        owner: "ada".into(),
        ..Account::default()
    });
    let owner = RwLockReadGuard::map(lock.try_read().unwrap(), |a| a.owner.as_str());
    assert_eq!(&*owner, "ada");
    assert_eq!(format!("{owner}|{owner:?}"), "ada|\"ada\"");
    let other = lock.try_read().expect("readers still share");
    assert!(
        lock.try_write().is_err(),
        "a mapped reader keeps writers out"
    );
    drop(other);
    let first = RwLockReadGuard::map(owner, |s| &s[..1]);
    assert_eq!(&*first, "a");
    assert!(lock.try_write().is_err());
    drop(first);
    assert_released_once(&lock);
}

#[test]
fn read_try_map_none_gives_back_the_guard() {
    let lock = RwLock::new(vec![1, 2]);
    let guard = lock.try_read().unwrap();
    let guard = match RwLockReadGuard::try_map(guard, |v| v.get(9)) {
        Ok(_) => panic!("there is no element 9"),
        Err(guard) => guard,
    };
    assert!(lock.try_write().is_err(), "the returned guard still reads");
    assert_eq!(guard.len(), 2);
    let second = RwLockReadGuard::try_map(guard, |v| v.get(1)).expect("element 1");
    assert_eq!(*second, 2);
    drop(second);
    assert_released_once(&lock);
}

#[test]
fn write_map_writes_through_and_wakes_a_queued_reader() {
    let lock = RwLock::new(Account::default());
    let (wakes, waker) = counting_waker();
    let mut balance = RwLockWriteGuard::map(lock.try_write().unwrap(), |a| &mut a.balance);
    let mut reader = pin!(lock.read());
    assert!(poll_once(reader.as_mut(), &waker).is_pending());
    *balance = 9;
    assert_eq!(format!("{balance}|{balance:?}"), "9|9");
    assert!(lock.try_read().is_err(), "a mapped writer stays exclusive");
    drop(balance);
    assert_eq!(common::waker::wakes(&wakes), 1, "the reader was woken");
    let Poll::Ready(read) = poll_once(reader.as_mut(), &waker) else {
        panic!("the reader gets in once the mapped writer is gone");
    };
    assert_eq!(read.balance, 9);
    drop(read);
    assert_released_once(&lock);
}

#[test]
fn write_try_map_none_keeps_the_write_lock() {
    let lock = RwLock::new((0u32, vec![0u32]));
    let guard = lock.try_write().unwrap();
    let mut guard = match RwLockWriteGuard::try_map(guard, |p| p.1.get_mut(3)) {
        Ok(_) => panic!("there is no element 3"),
        Err(guard) => guard,
    };
    assert!(
        lock.try_read().is_err(),
        "the returned guard is still exclusive"
    );
    guard.0 = 1;
    let list = RwLockWriteGuard::try_map(guard, |p| Some(&mut p.1)).expect("accepted");
    let mut list = match RwLockMappedWriteGuard::try_map(list, |l| l.get_mut(3)) {
        Ok(_) => panic!("there is no element 3"),
        Err(list) => list,
    };
    assert!(
        lock.try_read().is_err(),
        "the returned mapped guard is exclusive"
    );
    list.push(5);
    let mut last = RwLockMappedWriteGuard::map(list, |l| l.last_mut().unwrap());
    *last += 1;
    drop(last);
    assert_released_once(&lock);
    assert_eq!(*lock.try_read().unwrap(), (1, vec![0, 6]));
}

#[test]
fn into_mapped_covers_the_whole_value() {
    let lock = RwLock::new(String::from("a"));
    let mut whole = RwLockWriteGuard::into_mapped(lock.try_write().unwrap());
    whole.push('b');
    assert!(lock.try_read().is_err());
    drop(whole);
    assert_released_once(&lock);
    assert_eq!(*lock.try_read().unwrap(), "ab");
}

#[test]
fn downgrade_map_lets_readers_in_but_not_writers() {
    let lock = RwLock::new((String::from("x"), 0u32));
    let (reader_wakes, reader_waker) = counting_waker();
    let (writer_wakes, writer_waker) = counting_waker();
    let mut writer = lock.try_write().unwrap();
    writer.1 = 1;
    // A reader queued behind the writer.
    let mut reader = pin!(lock.read());
    assert!(poll_once(reader.as_mut(), &reader_waker).is_pending());

    let count = RwLockWriteGuard::downgrade_map(writer, |p| &p.1);
    assert_eq!(
        common::waker::wakes(&reader_wakes),
        1,
        "the reader was woken"
    );
    let Poll::Ready(read) = poll_once(reader.as_mut(), &reader_waker) else {
        panic!("the queued reader shares the downgraded lock");
    };
    assert_eq!((read.0.as_str(), read.1, *count), ("x", 1, 1));
    assert!(lock.try_read().is_ok(), "new readers share too");
    assert!(lock.try_write().is_err(), "but writers stay out");

    // A writer queued now waits for both readers.
    let mut second_writer = pin!(lock.write());
    assert!(poll_once(second_writer.as_mut(), &writer_waker).is_pending());
    drop(read);
    assert!(poll_once(second_writer.as_mut(), &writer_waker).is_pending());
    drop(count);
    assert_eq!(common::waker::wakes(&writer_wakes), 1);
    let Poll::Ready(w) = poll_once(second_writer.as_mut(), &writer_waker) else {
        panic!("the writer gets in once the mapped reader is gone");
    };
    drop(w);
    assert_released_once(&lock);
}

#[test]
fn downgrade_map_leaves_no_gap_for_a_queued_writer() {
    let lock = RwLock::new(5u32);
    let (_, waker) = counting_waker();
    let writer = lock.try_write().unwrap();
    let mut next_writer = pin!(lock.write());
    assert!(poll_once(next_writer.as_mut(), &waker).is_pending());
    let read = RwLockWriteGuard::downgrade_map(writer, |v| v);
    assert!(
        poll_once(next_writer.as_mut(), &waker).is_pending(),
        "the queued writer must wait for the downgraded reader"
    );
    assert_eq!(*read, 5);
    drop(read);
    assert!(poll_once(next_writer.as_mut(), &waker).is_ready());
}

#[test]
fn try_downgrade_map_none_keeps_the_write_lock() {
    let lock = RwLock::new(vec![1u8]);
    let guard = lock.try_write().unwrap();
    let mut guard = match RwLockWriteGuard::try_downgrade_map(guard, |v| v.get(4)) {
        Ok(_) => panic!("there is no element 4"),
        Err(guard) => guard,
    };
    assert!(lock.try_read().is_err(), "neither downgraded nor released");
    guard.push(2);
    let last = RwLockWriteGuard::try_downgrade_map(guard, |v| v.last()).expect("a last one");
    assert_eq!(*last, 2);
    assert_eq!(*lock.try_read().expect("downgraded"), [1, 2]);
    assert!(lock.try_write().is_err());
    drop(last);
    assert_released_once(&lock);
}

#[test]
fn owned_read_map_keeps_the_lock_alive() {
    let drops = Arc::new(AtomicUsize::new(0));
    let lock = Arc::new(RwLock::new((DropCounter(drops.clone()), 3u32)));
    let guard = lock.clone().try_read_owned().unwrap();
    let n = OwnedRwLockReadGuard::map(guard, |p| &p.1);
    let weak = Arc::downgrade(&lock);
    drop(lock);
    assert_eq!(weak.strong_count(), 1, "only the guard holds the lock");
    assert_eq!(*n, 3);
    let n = match OwnedRwLockReadGuard::try_map(n, |_| None::<&u8>) {
        Ok(_) => panic!("the closure declined"),
        Err(n) => n,
    };
    let n = OwnedRwLockReadGuard::try_map(n, |v| Some(v)).expect("accepted");
    assert!(OwnedRwLockReadGuard::rwlock(&n).try_write().is_err());
    assert_eq!(format!("{n}|{n:?}"), "3|3");
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(n);
    assert_eq!(drops.load(Ordering::SeqCst), 1, "the guard freed the lock");
    assert!(weak.upgrade().is_none());
}

#[test]
fn owned_write_map_and_downgrade_map() {
    let lock = Arc::new(RwLock::new((String::from("a"), vec![1u32])));
    let guard = lock.clone().try_write_owned().unwrap();
    assert!(Arc::ptr_eq(OwnedRwLockWriteGuard::rwlock(&guard), &lock));
    let guard = match OwnedRwLockWriteGuard::try_map(guard, |p| p.1.get_mut(8)) {
        Ok(_) => panic!("there is no element 8"),
        Err(guard) => guard,
    };
    let mut list = OwnedRwLockWriteGuard::try_map(guard, |p| Some(&mut p.1)).expect("accepted");
    list.push(2);
    let list = match OwnedRwLockMappedWriteGuard::try_map(list, |l| l.get_mut(8)) {
        Ok(_) => panic!("there is no element 8"),
        Err(list) => list,
    };
    assert!(Arc::ptr_eq(
        OwnedRwLockMappedWriteGuard::rwlock(&list),
        &lock
    ));
    let mut first = OwnedRwLockMappedWriteGuard::map(list, |l| &mut l[0]);
    *first = 10;
    assert!(
        lock.try_read().is_err(),
        "mapped owned writers are exclusive"
    );
    drop(first);
    assert_released_once(&lock);

    let mut whole = OwnedRwLockWriteGuard::into_mapped(lock.clone().try_write_owned().unwrap());
    whole.0.push('b');
    let tag = OwnedRwLockMappedWriteGuard::try_map(whole, |p| Some(&mut p.0)).expect("ok");
    assert_eq!(format!("{tag}|{tag:?}"), "ab|\"ab\"");
    drop(tag);
    assert_released_once(&lock);

    let guard = lock.clone().try_write_owned().unwrap();
    let guard = match OwnedRwLockWriteGuard::try_downgrade_map(guard, |p| p.1.get(8)) {
        Ok(_) => panic!("there is no element 8"),
        Err(guard) => guard,
    };
    assert!(lock.try_read().is_err(), "neither downgraded nor released");
    let tag = OwnedRwLockWriteGuard::downgrade_map(guard, |p| p.0.as_str());
    assert_eq!(&*tag, "ab");
    assert_eq!(lock.try_read().expect("readers share").1, [10, 2]);
    assert!(lock.try_write().is_err());
    drop(tag);
    assert_released_once(&lock);

    let guard = lock.clone().try_write_owned().unwrap();
    let second = OwnedRwLockWriteGuard::try_downgrade_map(guard, |p| p.1.get(1)).expect("ok");
    assert_eq!(*second, 2);
    assert!(lock.try_read().is_ok());
    assert!(lock.try_write().is_err());
    drop(second);
    assert_released_once(&lock);
    assert_eq!(Arc::strong_count(&lock), 1, "no guard leaked its Arc");
}

#[test]
fn owned_mapped_rwlock_guards_move_into_tasks() {
    for (name, rt) in both_flavours() {
        let lock = Arc::new(RwLock::new((0u64, String::new())));
        rt.block_on(async {
            let mut count =
                OwnedRwLockWriteGuard::map(lock.clone().write_owned().await, |p| &mut p.0);
            let lock2 = lock.clone();
            let reader = vigil::spawn(async move {
                let text = OwnedRwLockReadGuard::map(lock2.read_owned().await, |p| &p.1);
                text.len()
            });
            let writer = vigil::spawn(async move {
                vigil::task::yield_now().await;
                *count += 1;
                let all = OwnedRwLockMappedWriteGuard::rwlock(&count).clone();
                drop(count);
                all
            });
            let all = writer.await.unwrap();
            assert!(Arc::ptr_eq(&all, &lock), "{name}");
            assert_eq!(reader.await.unwrap(), 0, "{name}");
            assert_eq!(lock.read().await.0, 1, "{name}");
        });
        assert_released_once(&lock);
    }
}

#[test]
fn a_panic_in_a_rwlock_mapping_closure_releases_exactly_once() {
    let lock = Arc::new(RwLock::with_max_readers((0u8, 0u8), 4));

    must_panic(|| RwLockReadGuard::map::<_, u8>(lock.try_read().unwrap(), |_| panic!("boom")));
    assert_released_once(&lock);
    must_panic(|| RwLockReadGuard::try_map::<_, u8>(lock.try_read().unwrap(), |_| panic!("boom")));
    assert_released_once(&lock);

    must_panic(|| RwLockWriteGuard::map::<_, u8>(lock.try_write().unwrap(), |_| panic!("boom")));
    assert_released_once(&lock);
    must_panic(|| {
        RwLockWriteGuard::try_map::<_, u8>(lock.try_write().unwrap(), |_| panic!("boom"))
    });
    assert_released_once(&lock);
    must_panic(|| {
        RwLockWriteGuard::downgrade_map::<_, u8>(lock.try_write().unwrap(), |_| panic!("boom"))
    });
    assert_released_once(&lock);
    must_panic(|| {
        RwLockWriteGuard::try_downgrade_map::<_, u8>(lock.try_write().unwrap(), |_| panic!("boom"))
    });
    assert_released_once(&lock);

    must_panic(|| {
        let mapped = RwLockWriteGuard::map(lock.try_write().unwrap(), |p| &mut p.0);
        RwLockMappedWriteGuard::map::<_, u8>(mapped, |_| panic!("boom"))
    });
    assert_released_once(&lock);
    must_panic(|| {
        let mapped = RwLockWriteGuard::map(lock.try_write().unwrap(), |p| &mut p.0);
        RwLockMappedWriteGuard::try_map::<_, u8>(mapped, |_| panic!("boom"))
    });
    assert_released_once(&lock);

    must_panic(|| {
        OwnedRwLockReadGuard::map::<_, u8>(lock.clone().try_read_owned().unwrap(), |_| {
            panic!("boom")
        })
    });
    assert_released_once(&lock);
    must_panic(|| {
        OwnedRwLockReadGuard::try_map::<_, u8>(lock.clone().try_read_owned().unwrap(), |_| {
            panic!("boom")
        })
    });
    assert_released_once(&lock);

    let owned_write = || lock.clone().try_write_owned().unwrap();
    must_panic(|| OwnedRwLockWriteGuard::map::<_, u8>(owned_write(), |_| panic!("boom")));
    assert_released_once(&lock);
    must_panic(|| OwnedRwLockWriteGuard::try_map::<_, u8>(owned_write(), |_| panic!("boom")));
    assert_released_once(&lock);
    must_panic(|| OwnedRwLockWriteGuard::downgrade_map::<_, u8>(owned_write(), |_| panic!("boom")));
    assert_released_once(&lock);
    must_panic(|| {
        OwnedRwLockWriteGuard::try_downgrade_map::<_, u8>(owned_write(), |_| panic!("boom"))
    });
    assert_released_once(&lock);
    must_panic(|| {
        let mapped = OwnedRwLockWriteGuard::map(owned_write(), |p| &mut p.1);
        OwnedRwLockMappedWriteGuard::map::<_, u8>(mapped, |_| panic!("boom"))
    });
    assert_released_once(&lock);
    must_panic(|| {
        let mapped = OwnedRwLockWriteGuard::map(owned_write(), |p| &mut p.1);
        OwnedRwLockMappedWriteGuard::try_map::<_, u8>(mapped, |_| panic!("boom"))
    });
    assert_released_once(&lock);
    assert_eq!(Arc::strong_count(&lock), 1, "no guard leaked its Arc");
}

#[test]
fn successful_mapping_hands_over_the_permits_without_releasing() {
    // Every conversion, chained: at each step the lock is held exactly as
    // before (a release in between would let the probe in), and the final
    // drop gives the permits back once.
    let lock = Arc::new(RwLock::with_max_readers(vec![0u8; 4], 4));
    let w = lock.try_write().unwrap();
    let w = RwLockWriteGuard::into_mapped(w);
    assert!(lock.try_read().is_err());
    let w = RwLockMappedWriteGuard::map(w, |v| &mut v[1..]);
    assert!(lock.try_read().is_err());
    drop(w);
    assert_released_once(&lock);

    let r = lock.try_read().unwrap();
    let r = RwLockReadGuard::map(r, |v| &v[2..]);
    let r = RwLockReadGuard::map(r, |v| &v[0]);
    let _others = [
        lock.try_read().unwrap(),
        lock.try_read().unwrap(),
        lock.try_read().unwrap(),
    ];
    assert!(
        lock.try_read().is_err(),
        "4 readers max: the mapped one still counts"
    );
    drop((r, _others));
    assert_released_once(&lock);

    let r = lock.clone().try_read_owned().unwrap();
    let r = OwnedRwLockReadGuard::map(r, |v| &v[1..]);
    let _others = [
        lock.try_read().unwrap(),
        lock.try_read().unwrap(),
        lock.try_read().unwrap(),
    ];
    assert!(
        lock.try_read().is_err(),
        "the mapped owned reader still counts"
    );
    drop((r, _others));
    assert_released_once(&lock);
}

// ---- Send / Sync ----

/// Tells at run time whether a type is `Send`/`Sync`: the inherent methods
/// apply only when the bound holds, otherwise the trait's fallback does.
struct Probe<T: ?Sized>(PhantomData<T>);

trait NotProven {
    fn is_send(&self) -> bool {
        false
    }
    fn is_sync(&self) -> bool {
        false
    }
}

impl<T: ?Sized> NotProven for Probe<T> {}

impl<T: ?Sized + Send> Probe<T> {
    fn is_send(&self) -> bool {
        true
    }
}

impl<T: ?Sized + Sync> Probe<T> {
    fn is_sync(&self) -> bool {
        true
    }
}

macro_rules! auto_traits {
    ($ty:ty) => {
        (
            Probe::<$ty>(PhantomData).is_send(),
            Probe::<$ty>(PhantomData).is_sync(),
        )
    };
}

#[test]
fn the_probe_tells_send_and_sync_apart() {
    assert_eq!(auto_traits!(u8), (true, true));
    assert_eq!(auto_traits!(Cell<u8>), (true, false));
    assert_eq!(auto_traits!(Rc<u8>), (false, false));
    assert_eq!(
        auto_traits!(std::sync::MutexGuard<'static, u8>),
        (false, true)
    );
}

#[test]
fn mapped_mutex_guards_are_send_and_sync_as_their_target() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<MappedMutexGuard<'static, Vec<u8>>>();
    send_sync::<OwnedMappedMutexGuard<Vec<u8>, [u8]>>();

    // A mapped guard hands out `&mut U`: `Send` iff `U: Send`, `Sync` iff
    // `U: Sync`.
    assert_eq!(auto_traits!(MappedMutexGuard<'static, u8>), (true, true));
    assert_eq!(
        auto_traits!(MappedMutexGuard<'static, Cell<u8>>),
        (true, false)
    );
    assert_eq!(
        auto_traits!(MappedMutexGuard<'static, Rc<u8>>),
        (false, false)
    );
    assert_eq!(
        auto_traits!(MappedMutexGuard<'static, std::sync::MutexGuard<'static, u8>>),
        (false, true)
    );
    // The owned guard also carries the `Arc<Mutex<T>>`.
    assert_eq!(auto_traits!(OwnedMappedMutexGuard<u8, u8>), (true, true));
    assert_eq!(
        auto_traits!(OwnedMappedMutexGuard<Rc<u8>, u8>),
        (false, false)
    );
    assert_eq!(
        auto_traits!(OwnedMappedMutexGuard<u8, Cell<u8>>),
        (true, false)
    );
    assert_eq!(
        auto_traits!(OwnedMappedMutexGuard<u8, Rc<u8>>),
        (false, false)
    );
    // The unmapped guards keep their bounds.
    assert_eq!(auto_traits!(MutexGuard<'static, Cell<u8>>), (true, false));
    assert_eq!(auto_traits!(OwnedMutexGuard<Cell<u8>>), (true, false));
}

#[test]
fn rwlock_guards_are_send_and_sync_as_their_target() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<RwLockReadGuard<'static, [u8]>>();
    send_sync::<RwLockMappedWriteGuard<'static, str>>();
    send_sync::<OwnedRwLockReadGuard<Vec<u8>, [u8]>>();
    send_sync::<OwnedRwLockMappedWriteGuard<Vec<u8>, [u8]>>();

    // A read guard hands out `&T`: sending it needs `T: Sync`.
    assert_eq!(auto_traits!(RwLockReadGuard<'static, u8>), (true, true));
    assert_eq!(
        auto_traits!(RwLockReadGuard<'static, Cell<u8>>),
        (false, false)
    );
    assert_eq!(
        auto_traits!(RwLockReadGuard<'static, std::sync::MutexGuard<'static, u8>>),
        (true, false)
    );
    assert_eq!(
        auto_traits!(OwnedRwLockReadGuard<u8, Cell<u8>>),
        (false, false)
    );
    assert_eq!(
        auto_traits!(OwnedRwLockReadGuard<Cell<u8>, u8>),
        (false, false)
    );
    // Mapped write guards need their target `Send + Sync`.
    assert_eq!(
        auto_traits!(RwLockMappedWriteGuard<'static, Cell<u8>>),
        (false, false)
    );
    assert_eq!(
        auto_traits!(OwnedRwLockMappedWriteGuard<u8, Cell<u8>>),
        (false, false)
    );
    assert_eq!(
        auto_traits!(OwnedRwLockMappedWriteGuard<Cell<u8>, u8>),
        (false, false)
    );
    // Unmapped write guards follow `&RwLock<T>`.
    assert_eq!(auto_traits!(RwLockWriteGuard<'static, u8>), (true, true));
    assert_eq!(
        auto_traits!(RwLockWriteGuard<'static, Cell<u8>>),
        (false, false)
    );
}
