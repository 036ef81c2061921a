//! `vigil::sync::SetOnce`: the first `set` wins, waiters are woken by it,
//! values are dropped exactly once, and the auto traits follow `T`.

mod common;

use common::waker::{counting_waker, poll_once, wakes};
use common::{both_flavours, DropCounter};
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::task::{Poll, Waker};
use vigil::sync::{oneshot, Semaphore, SetOnce, SetOnceError};

#[test]
fn set_then_get() {
    let cell = SetOnce::new();
    assert!(!cell.initialized());
    assert_eq!(cell.get(), None);
    assert_eq!(cell.set(7u32), Ok(()));
    assert!(cell.initialized());
    assert_eq!(cell.get(), Some(&7));
}

#[test]
fn second_set_fails_and_hands_the_value_back() {
    let cell = SetOnce::new();
    cell.set(String::from("first")).unwrap();
    let err = cell.set(String::from("second")).unwrap_err();
    assert_eq!(err, SetOnceError(String::from("second")));
    assert_eq!(err.0, "second");
    assert_eq!(cell.get().map(String::as_str), Some("first"));
    // The error is a proper error type.
    let boxed: Box<dyn std::error::Error> = Box::new(err);
    assert!(!boxed.to_string().is_empty());
}

#[test]
fn wait_returns_at_once_when_already_set() {
    let cell = SetOnce::from(3u8);
    let mut wait = pin!(cell.wait());
    assert_eq!(poll_once(wait.as_mut(), Waker::noop()), Poll::Ready(&3));
}

#[test]
fn a_pending_wait_is_woken_by_set_from_another_thread() {
    let cell = Arc::new(SetOnce::new());
    let (count, waker) = counting_waker();
    let mut wait = pin!(cell.wait());
    assert!(poll_once(wait.as_mut(), &waker).is_pending());
    assert_eq!(wakes(&count), 0);
    let setter = {
        let cell = cell.clone();
        std::thread::spawn(move || cell.set(41u32 + 1).unwrap())
    };
    setter.join().unwrap();
    assert_eq!(wakes(&count), 1, "set did not wake the waiter");
    assert_eq!(poll_once(wait.as_mut(), &waker), Poll::Ready(&42));
}

#[test]
fn wait_in_a_task_is_woken_by_set_in_another_task() {
    for (name, rt) in both_flavours() {
        let got = rt.block_on(async {
            let cell = Arc::new(SetOnce::<String>::new());
            let (waiting_tx, waiting_rx) = oneshot::channel();
            let waiter = vigil::spawn({
                let cell = cell.clone();
                async move {
                    let mut wait = pin!(cell.wait());
                    // Poll once by hand so the waiter is registered before
                    // the setter is told to go.
                    let first =
                        std::future::poll_fn(|cx| Poll::Ready(wait.as_mut().poll(cx))).await;
                    assert!(first.is_pending(), "the cell was set too early");
                    waiting_tx.send(()).unwrap();
                    wait.await.clone()
                }
            });
            let setter = vigil::spawn({
                let cell = cell.clone();
                async move {
                    waiting_rx.await.unwrap();
                    cell.set(String::from("ready")).unwrap();
                }
            });
            setter.await.unwrap();
            waiter.await.unwrap()
        });
        assert_eq!(got, "ready", "{name}");
    }
}

#[test]
fn every_waiter_is_woken_once() {
    let cell = SetOnce::new();
    let mut waits: Vec<_> = (0..10).map(|_| Box::pin(cell.wait())).collect();
    let counters: Vec<_> = waits
        .iter_mut()
        .map(|w| {
            let (count, waker) = counting_waker();
            assert!(poll_once(w.as_mut(), &waker).is_pending());
            (count, waker)
        })
        .collect();
    cell.set(5u16).unwrap();
    for (i, (w, (count, waker))) in waits.iter_mut().zip(&counters).enumerate() {
        assert_eq!(wakes(count), 1, "waiter {i}");
        assert_eq!(poll_once(w.as_mut(), waker), Poll::Ready(&5), "waiter {i}");
    }
}

#[test]
fn many_waiting_tasks_all_get_the_value() {
    const TASKS: usize = 20;
    for (name, rt) in both_flavours() {
        let sum = rt.block_on(async {
            let cell = Arc::new(SetOnce::new());
            // Each waiter adds a permit once it is registered.
            let registered = Arc::new(Semaphore::new(0));
            let waiters: Vec<_> = (0..TASKS)
                .map(|_| {
                    let cell = cell.clone();
                    let registered = registered.clone();
                    vigil::spawn(async move {
                        let mut wait = pin!(cell.wait());
                        let first =
                            std::future::poll_fn(|cx| Poll::Ready(wait.as_mut().poll(cx))).await;
                        assert!(first.is_pending());
                        registered.add_permits(1);
                        *wait.await
                    })
                })
                .collect();
            registered
                .acquire_many(TASKS as u32)
                .await
                .unwrap()
                .forget();
            cell.set(3usize).unwrap();
            let mut sum = 0;
            for w in waiters {
                sum += w.await.unwrap();
            }
            sum
        });
        assert_eq!(sum, 3 * TASKS, "{name}");
    }
}

#[test]
fn a_dropped_wait_does_not_disturb_the_others() {
    let cell = SetOnce::new();
    let (count, waker) = counting_waker();
    let mut kept = pin!(cell.wait());
    assert!(poll_once(kept.as_mut(), &waker).is_pending());
    {
        let mut dropped = pin!(cell.wait());
        assert!(poll_once(dropped.as_mut(), Waker::noop()).is_pending());
    }
    cell.set('x').unwrap();
    assert_eq!(wakes(&count), 1);
    assert_eq!(poll_once(kept.as_mut(), &waker), Poll::Ready(&'x'));
    // Waiting again after a cancel works too.
    assert_eq!(vigil::block_on(cell.wait()), &'x');
}

#[test]
fn racing_setters_one_wins_and_losers_see_the_winner() {
    const THREADS: usize = 8;
    for _ in 0..50 {
        let cell = Arc::new(SetOnce::new());
        let start = Arc::new(Barrier::new(THREADS));
        let threads: Vec<_> = (0..THREADS)
            .map(|i| {
                let (cell, start) = (cell.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    match cell.set(i) {
                        Ok(()) => true,
                        Err(SetOnceError(v)) => {
                            assert_eq!(v, i, "the loser gets its own value back");
                            // A failed set means the winner's value is visible.
                            assert!(cell.get().is_some(), "set failed but get is empty");
                            false
                        }
                    }
                })
            })
            .collect();
        let winners: Vec<usize> = threads
            .into_iter()
            .enumerate()
            .filter_map(|(i, t)| t.join().unwrap().then_some(i))
            .collect();
        assert_eq!(winners.len(), 1, "exactly one set wins");
        assert_eq!(cell.get(), Some(&winners[0]));
    }
}

#[test]
fn new_with_from_and_default() {
    let full = SetOnce::new_with(Some(1u8));
    assert!(full.initialized());
    assert_eq!(full.get(), Some(&1));
    assert!(full.set(2).is_err());
    let empty = SetOnce::<u8>::new_with(None);
    assert!(!empty.initialized());
    assert_eq!(empty.set(2), Ok(()));
    assert_eq!(SetOnce::from(4u8).get(), Some(&4));
    assert_eq!(SetOnce::<u8>::default().get(), None);
}

// `const_new` and `const_new_with` do not exist under loom.
#[cfg(not(loom))]
#[test]
fn const_constructors_work_in_statics() {
    static EMPTY: SetOnce<u32> = SetOnce::const_new();
    static FULL: SetOnce<&str> = SetOnce::const_new_with("preset");
    assert_eq!(FULL.get(), Some(&"preset"));
    assert_eq!(FULL.set("other"), Err(SetOnceError("other")));
    assert_eq!(EMPTY.get(), None);
    let waiter = std::thread::spawn(|| *vigil::block_on(EMPTY.wait()));
    EMPTY.set(9).unwrap();
    assert_eq!(waiter.join().unwrap(), 9);
}

#[test]
fn into_inner_takes_the_value() {
    assert_eq!(SetOnce::from(vec![1, 2]).into_inner(), Some(vec![1, 2]));
    assert_eq!(SetOnce::<Vec<u8>>::new().into_inner(), None);
    let cell = SetOnce::new();
    cell.set(String::from("owned")).unwrap();
    assert_eq!(cell.into_inner().as_deref(), Some("owned"));
}

#[test]
fn values_are_dropped_exactly_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let count = || drops.load(Ordering::SeqCst);

    // A set value is dropped with the cell.
    let cell = SetOnce::new();
    assert!(cell.set(DropCounter(drops.clone())).is_ok());
    assert_eq!(count(), 0);
    drop(cell);
    assert_eq!(count(), 1);

    // A rejected value comes back in the error, not dropped by the cell.
    let cell = SetOnce::from(DropCounter(drops.clone()));
    let err = cell.set(DropCounter(drops.clone())).unwrap_err();
    assert_eq!(count(), 1);
    drop(err);
    assert_eq!(count(), 2);
    drop(cell);
    assert_eq!(count(), 3);

    // `into_inner` moves the value out: the cell does not drop it too.
    let value = SetOnce::new_with(Some(DropCounter(drops.clone())))
        .into_inner()
        .unwrap();
    assert_eq!(count(), 3);
    drop(value);
    assert_eq!(count(), 4);

    // An empty cell drops nothing.
    drop(SetOnce::<DropCounter>::new());
    assert_eq!(SetOnce::<DropCounter>::new().into_inner().map(|_| ()), None);
    assert_eq!(count(), 4);
}

#[test]
fn clone_eq_and_debug() {
    let cell = SetOnce::from(String::from("v"));
    let copy = cell.clone();
    assert_eq!(copy.get().map(String::as_str), Some("v"));
    assert_eq!(cell, copy);
    assert_eq!(SetOnce::<u8>::new(), SetOnce::new());
    assert_ne!(SetOnce::from(1u8), SetOnce::new());
    assert_ne!(SetOnce::from(1u8), SetOnce::from(2u8));
    // A clone of an empty cell is a separate cell.
    let empty = SetOnce::<u8>::new();
    let empty_copy = empty.clone();
    empty.set(1).unwrap();
    assert_eq!(empty_copy.get(), None);
    assert_eq!(format!("{cell:?}"), r#"SetOnce { value: Some("v") }"#);
    assert_eq!(
        format!("{:?}", SetOnce::<u8>::new()),
        "SetOnce { value: None }"
    );
}

/// Compile-time checks of the auto traits.
mod auto_traits {
    use super::SetOnce;
    use std::cell::Cell;
    use std::rc::Rc;
    use std::sync::MutexGuard;

    fn is_send<T: Send>() {}
    fn is_sync<T: Sync>() {}
    fn future_is_send<F: std::future::Future + Send>(_: F) {}

    // `AmbiguousIf*<_>` resolves only if exactly one impl applies, that
    // is, if the type does NOT have the trait: a compile error otherwise.
    trait AmbiguousIfSend<A> {
        fn check() {}
    }
    impl<T: ?Sized> AmbiguousIfSend<()> for T {}
    impl<T: ?Sized + Send> AmbiguousIfSend<u8> for T {}

    trait AmbiguousIfSync<A> {
        fn check() {}
    }
    impl<T: ?Sized> AmbiguousIfSync<()> for T {}
    impl<T: ?Sized + Sync> AmbiguousIfSync<u8> for T {}

    #[test]
    fn set_once_is_send_and_sync_as_t_allows() {
        is_send::<SetOnce<String>>();
        is_sync::<SetOnce<String>>();
        // `Cell` is `Send` but not `Sync`: the cell can move, not be shared
        // (sharing would hand out `&Cell` to several threads).
        is_send::<SetOnce<Cell<u8>>>();
        <SetOnce<Cell<u8>> as AmbiguousIfSync<_>>::check();
        // `MutexGuard` is `Sync` but not `Send`: sharing the cell would let
        // another thread `set` (and so move) one in.
        <SetOnce<MutexGuard<'static, ()>> as AmbiguousIfSend<_>>::check();
        <SetOnce<MutexGuard<'static, ()>> as AmbiguousIfSync<_>>::check();
        <SetOnce<Rc<u8>> as AmbiguousIfSend<_>>::check();
        <SetOnce<Rc<u8>> as AmbiguousIfSync<_>>::check();
        // The `wait` future can be held across an `.await` in a spawned task.
        let cell = SetOnce::<u8>::from(1);
        future_is_send(cell.wait());
        is_send::<super::SetOnceError<String>>();
        is_sync::<super::SetOnceError<String>>();
    }
}
