//! Small pieces of `vigil::sync` that match `tokio::sync`:
//! `Notify::notified_owned`, `oneshot::Receiver::{is_terminated, is_empty}`,
//! cloned `watch::Sender`s with `sender_count` and `Receiver::is_closed`,
//! and `SemaphorePermit::{merge, split}` with the blocking acquires.

mod common;

use common::waker::{counting_waker, poll_once, wakes};
use common::{both_flavours, current_thread, panic_message};
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::{Poll, Waker};
use vigil::sync::oneshot::{self, error::TryRecvError};
use vigil::sync::{watch, Notify, OwnedNotified, Semaphore};

fn owned(notify: &Arc<Notify>) -> Pin<Box<OwnedNotified>> {
    Box::pin(notify.clone().notified_owned())
}

// ===== Notify::notified_owned =====

#[test]
fn owned_notified_is_woken_by_notify_one() {
    let notify = Arc::new(Notify::new());
    let (count, waker) = counting_waker();
    let mut fut = owned(&notify);
    assert!(poll_once(fut.as_mut(), &waker).is_pending());
    notify.notify_one();
    assert_eq!(wakes(&count), 1);
    assert!(poll_once(fut.as_mut(), &waker).is_ready());
    // Fused: done stays done.
    assert!(poll_once(fut.as_mut(), &waker).is_ready());
    // The notification went to the waiter: no permit is left over.
    assert!(poll_once(owned(&notify).as_mut(), Waker::noop()).is_pending());
}

#[test]
fn owned_notified_takes_a_stored_permit() {
    let notify = Arc::new(Notify::new());
    notify.notify_one();
    assert!(poll_once(owned(&notify).as_mut(), Waker::noop()).is_ready());
    assert!(poll_once(owned(&notify).as_mut(), Waker::noop()).is_pending());
}

#[test]
fn owned_notified_counts_for_notify_waiters_from_creation() {
    let notify = Arc::new(Notify::new());
    let mut early = owned(&notify);
    notify.notify_waiters();
    let mut late = owned(&notify);
    // Created before the broadcast, never polled: still reached by it.
    assert!(poll_once(early.as_mut(), Waker::noop()).is_ready());
    // Created after it: not reached, and no permit was stored.
    assert!(poll_once(late.as_mut(), Waker::noop()).is_pending());
}

#[test]
fn owned_notified_enable_registers_without_polling() {
    let notify = Arc::new(Notify::new());
    let mut fut = owned(&notify);
    assert!(!fut.as_mut().enable());
    notify.notify_one();
    assert!(fut.as_mut().enable(), "the enabled waiter was picked");
    // Picked the waiter rather than storing a permit.
    assert!(poll_once(owned(&notify).as_mut(), Waker::noop()).is_pending());
    assert!(poll_once(fut.as_mut(), Waker::noop()).is_ready());
}

#[test]
fn dropped_owned_notified_passes_its_notification_on() {
    let notify = Arc::new(Notify::new());
    let (count, waker) = counting_waker();
    let mut first = owned(&notify);
    let mut second = owned(&notify);
    assert!(poll_once(first.as_mut(), Waker::noop()).is_pending());
    assert!(poll_once(second.as_mut(), &waker).is_pending());
    notify.notify_one(); // picks `first`
    assert_eq!(wakes(&count), 0);
    drop(first);
    assert_eq!(
        wakes(&count),
        1,
        "the notification moved to the next waiter"
    );
    assert!(poll_once(second.as_mut(), &waker).is_ready());

    // With nobody else waiting, it goes back into the permit.
    let mut lone = owned(&notify);
    assert!(!lone.as_mut().enable());
    notify.notify_one();
    drop(lone);
    assert!(poll_once(owned(&notify).as_mut(), Waker::noop()).is_ready());
}

#[test]
fn dropped_waiting_owned_notified_leaves_the_queue() {
    let notify = Arc::new(Notify::new());
    let (count, waker) = counting_waker();
    let mut gone = owned(&notify);
    let mut stays = owned(&notify);
    assert!(poll_once(gone.as_mut(), Waker::noop()).is_pending());
    assert!(poll_once(stays.as_mut(), &waker).is_pending());
    drop(gone);
    notify.notify_one();
    assert_eq!(wakes(&count), 1, "notify_one went to a dropped waiter");
    assert!(poll_once(stays.as_mut(), &waker).is_ready());
}

#[test]
fn owned_notified_moves_into_spawned_tasks() {
    for (name, rt) in both_flavours() {
        let done = rt.block_on(async {
            let notify = Arc::new(Notify::new());
            let tasks: Vec<_> = (0..4)
                .map(|i| {
                    // Created here, so the broadcast below reaches it even if
                    // the task has not been polled yet.
                    let notified = notify.clone().notified_owned();
                    vigil::spawn(async move {
                        notified.await;
                        i
                    })
                })
                .collect();
            notify.notify_waiters();
            let mut sum = 0;
            for t in tasks {
                sum += t.await.unwrap();
            }
            sum
        });
        assert_eq!(done, 6, "{name}");
    }
}

#[test]
fn owned_notified_keeps_the_notify_alive() {
    let notify = Arc::new(Notify::new());
    let mut fut = owned(&notify);
    let weak = Arc::downgrade(&notify);
    drop(notify);
    assert!(weak.upgrade().is_some(), "the future holds the Notify");
    weak.upgrade().unwrap().notify_one();
    assert!(poll_once(fut.as_mut(), Waker::noop()).is_ready());
    drop(fut);
    assert!(weak.upgrade().is_none());
}

#[cfg(not(loom))]
#[test]
fn notify_const_new_works_in_a_static() {
    static NOTIFY: Notify = Notify::const_new();
    NOTIFY.notify_one();
    assert!(poll_once(pin!(NOTIFY.notified()), Waker::noop()).is_ready());
}

/// Compile-time checks of the auto traits.
mod auto_traits {
    use super::OwnedNotified;

    fn is_send_sync_static<T: Send + Sync + 'static>() {}

    // Resolves only if `T: Unpin` does not hold (see `sync_set_once.rs`).
    trait AmbiguousIfUnpin<A> {
        fn check() {}
    }
    impl<T: ?Sized> AmbiguousIfUnpin<()> for T {}
    impl<T: ?Sized + Unpin> AmbiguousIfUnpin<u8> for T {}

    #[test]
    fn owned_notified_is_send_sync_static_and_not_unpin() {
        is_send_sync_static::<OwnedNotified>();
        // As in Tokio: pin it before polling.
        <OwnedNotified as AmbiguousIfUnpin<_>>::check();
    }
}

// ===== oneshot::Receiver::{is_terminated, is_empty} =====

#[test]
fn receiver_terminates_when_it_yields_a_value() {
    let (tx, mut rx) = oneshot::channel();
    let (count, waker) = counting_waker();
    assert!(!rx.is_terminated());
    assert!(rx.is_empty());
    assert!(poll_once(Pin::new(&mut rx), &waker).is_pending());
    assert!(!rx.is_terminated(), "pending is not terminated");
    tx.send(1u8).unwrap();
    assert_eq!(wakes(&count), 1);
    assert!(!rx.is_terminated(), "sent but not yet received");
    assert!(!rx.is_empty());
    assert_eq!(poll_once(Pin::new(&mut rx), &waker), Poll::Ready(Ok(1)));
    assert!(rx.is_terminated());
    assert!(rx.is_empty());
}

#[test]
fn receiver_terminates_when_it_yields_the_error() {
    let (tx, mut rx) = oneshot::channel::<u8>();
    drop(tx);
    assert!(!rx.is_terminated(), "the error is not yet received");
    assert!(rx.is_empty());
    assert!(matches!(
        poll_once(Pin::new(&mut rx), Waker::noop()),
        Poll::Ready(Err(_))
    ));
    assert!(rx.is_terminated());
    assert!(rx.is_empty());
}

#[test]
fn try_recv_terminates_only_with_an_outcome() {
    let (tx, mut rx) = oneshot::channel();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert!(!rx.is_terminated(), "Empty is not an outcome");
    tx.send("v").unwrap();
    assert_eq!(rx.try_recv(), Ok("v"));
    assert!(rx.is_terminated());
    assert!(rx.is_empty());

    let (tx, mut rx) = oneshot::channel::<u8>();
    rx.close();
    assert!(tx.is_closed());
    assert!(!rx.is_terminated(), "closing is not receiving");
    assert!(rx.is_empty());
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    assert!(rx.is_terminated());
}

#[test]
fn a_value_sent_before_close_keeps_the_receiver_non_empty() {
    let (tx, mut rx) = oneshot::channel();
    tx.send(3u8).unwrap();
    rx.close();
    assert!(!rx.is_empty());
    assert!(!rx.is_terminated());
    assert_eq!(vigil::block_on(&mut rx), Ok(3));
    assert!(rx.is_terminated());
    assert!(rx.is_empty());
}

#[test]
fn awaiting_in_a_task_terminates_the_receiver() {
    for (name, rt) in both_flavours() {
        let terminated = rt.block_on(async {
            let (tx, mut rx) = oneshot::channel();
            let sender = vigil::spawn(async move { tx.send(5u32).unwrap() });
            assert_eq!((&mut rx).await, Ok(5));
            sender.await.unwrap();
            rx.is_terminated()
        });
        assert!(terminated, "{name}");
    }
}

// ===== watch: cloned senders, sender_count, Receiver::is_closed =====

#[test]
fn sender_count_follows_clones_and_drops() {
    let (tx, _rx) = watch::channel(0);
    assert_eq!(tx.sender_count(), 1);
    let tx2 = tx.clone();
    let tx3 = tx2.clone();
    assert_eq!((tx.sender_count(), tx3.sender_count()), (3, 3));
    drop(tx2);
    assert_eq!(tx.sender_count(), 2);
    drop(tx3);
    assert_eq!(tx.sender_count(), 1);
}

#[test]
fn the_channel_closes_when_the_last_sender_goes() {
    let (tx, mut rx) = watch::channel(0);
    let tx2 = tx.clone();
    assert!(!rx.is_closed());
    drop(tx);
    assert!(!rx.is_closed(), "a clone still lives");
    assert_eq!(rx.has_changed(), Ok(false));
    // A waiter stays pending while a sender lives, and sees its value.
    let (count, waker) = counting_waker();
    {
        let mut changed = pin!(rx.changed());
        assert!(poll_once(changed.as_mut(), &waker).is_pending());
        tx2.send(1).unwrap();
        assert_eq!(wakes(&count), 1);
        assert_eq!(poll_once(changed.as_mut(), &waker), Poll::Ready(Ok(())));
    }
    assert_eq!(*rx.borrow_and_update(), 1);
    {
        let mut changed = pin!(rx.changed());
        assert!(poll_once(changed.as_mut(), &waker).is_pending());
        drop(tx2);
        assert_eq!(wakes(&count), 2, "the last drop wakes waiters");
        assert!(matches!(
            poll_once(changed.as_mut(), &waker),
            Poll::Ready(Err(_))
        ));
    }
    assert!(rx.is_closed());
    assert_eq!(*rx.borrow(), 1);
}

#[test]
fn cloned_senders_publish_to_the_same_value() {
    let (tx, mut rx) = watch::channel(String::new());
    let tx2 = tx.clone();
    assert!(rx.is_of(&tx2));
    tx2.send_modify(|s| s.push('a'));
    assert_eq!(*tx.borrow(), "a");
    tx.send(String::from("ab")).unwrap();
    assert_eq!(*tx2.borrow(), "ab");
    assert_eq!(*rx.borrow_and_update(), "ab");
    // Receivers count for every clone.
    let _rx2 = tx2.subscribe();
    assert_eq!(tx.receiver_count(), 2);
}

#[test]
fn senders_from_other_tasks_keep_the_channel_open() {
    for (name, rt) in both_flavours() {
        let seen = rt.block_on(async {
            let (tx, mut rx) = watch::channel(0u32);
            let senders: Vec<_> = (1..=3)
                .map(|i| {
                    let tx = tx.clone();
                    vigil::spawn(async move { tx.send_modify(|v| *v += i) })
                })
                .collect();
            drop(tx);
            // Ends only once the three clones are gone, so by then every
            // clone has sent.
            while rx.changed().await.is_ok() {}
            let at_close = *rx.borrow();
            for s in senders {
                s.await.unwrap();
            }
            at_close
        });
        assert_eq!(seen, 6, "{name}");
    }
}

#[test]
fn default_sender_holds_the_default_value() {
    let tx = watch::Sender::<Vec<u8>>::default();
    assert!(tx.borrow().is_empty());
    assert_eq!((tx.receiver_count(), tx.sender_count()), (0, 1));
    let rx = tx.subscribe();
    assert!(rx.is_of(&tx));
}

// ===== Semaphore permits: merge, split, semaphore(); blocking acquires =====

#[test]
fn merged_permits_go_back_together() {
    let sem = Semaphore::new(5);
    let mut permit = sem.try_acquire().unwrap();
    let other = sem.try_acquire_many(3).unwrap();
    permit.merge(other);
    assert_eq!(permit.num_permits(), 4);
    assert_eq!(sem.available_permits(), 1, "merging gives nothing back");
    drop(permit);
    assert_eq!(sem.available_permits(), 5);
}

#[test]
fn split_moves_permits_into_a_new_guard() {
    let sem = Semaphore::new(4);
    let mut permit = sem.try_acquire_many(4).unwrap();
    let part = permit.split(3).unwrap();
    assert_eq!((permit.num_permits(), part.num_permits()), (1, 3));
    assert!(std::ptr::eq(part.semaphore(), &sem));
    assert!(permit.split(2).is_none(), "more than it holds");
    assert_eq!(permit.num_permits(), 1, "a failed split changes nothing");
    drop(part);
    assert_eq!(sem.available_permits(), 3);
    let empty = permit.split(0).unwrap();
    assert_eq!(empty.num_permits(), 0);
    drop(empty);
    assert_eq!(sem.available_permits(), 3);
    drop(permit);
    assert_eq!(sem.available_permits(), 4);
}

#[test]
fn a_split_permit_serves_a_waiter() {
    let sem = Semaphore::new(2);
    let mut permit = sem.try_acquire_many(2).unwrap();
    let (count, waker) = counting_waker();
    let mut acquire = pin!(sem.acquire());
    assert!(poll_once(acquire.as_mut(), &waker).is_pending());
    drop(permit.split(1).unwrap());
    assert_eq!(wakes(&count), 1);
    assert!(poll_once(acquire.as_mut(), &waker).is_ready());
    assert_eq!(permit.num_permits(), 1);
}

#[test]
fn merging_permits_of_different_semaphores_panics() {
    let (a, b) = (Semaphore::new(1), Semaphore::new(1));
    let mut pa = a.try_acquire().unwrap();
    let pb = b.try_acquire().unwrap();
    let msg = panic_message(move || pa.merge(pb));
    assert!(msg.contains("different semaphores"), "{msg}");
    // Both guards were dropped during the unwind and gave their permit back.
    assert_eq!((a.available_permits(), b.available_permits()), (1, 1));

    let (a, b) = (Arc::new(Semaphore::new(1)), Arc::new(Semaphore::new(1)));
    let mut pa = a.clone().try_acquire_owned().unwrap();
    let pb = b.clone().try_acquire_owned().unwrap();
    let msg = panic_message(move || pa.merge(pb));
    assert!(msg.contains("different semaphores"), "{msg}");
    assert_eq!((a.available_permits(), b.available_permits()), (1, 1));
}

#[test]
fn owned_permits_merge_and_split() {
    let sem = Arc::new(Semaphore::new(6));
    let mut permit = sem.clone().try_acquire_many_owned(2).unwrap();
    permit.merge(sem.clone().try_acquire_many_owned(3).unwrap());
    assert_eq!(permit.num_permits(), 5);
    assert_eq!(sem.available_permits(), 1);
    let part = permit.split(4).unwrap();
    assert!(Arc::ptr_eq(part.semaphore(), &sem));
    assert_eq!((permit.num_permits(), part.num_permits()), (1, 4));
    assert!(permit.split(2).is_none());
    // The split guard is 'static: it can outlive the scope in a task.
    let rt = current_thread();
    rt.block_on(async move { vigil::spawn(async move { drop(part) }).await })
        .unwrap();
    assert_eq!(sem.available_permits(), 5);
    drop(permit);
    assert_eq!(sem.available_permits(), 6);
}

#[test]
fn blocking_acquire_waits_for_a_release() {
    let sem = Arc::new(Semaphore::new(1));
    let held = sem.clone().try_acquire_owned().unwrap();
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let thread = {
        let sem = sem.clone();
        std::thread::spawn(move || {
            started_tx.send(()).unwrap();
            let p = sem.blocking_acquire().unwrap();
            let n = p.num_permits();
            p.forget();
            let many = sem.clone().blocking_acquire_many_owned(0).unwrap();
            (n, many.num_permits())
        })
    };
    started_rx.recv().unwrap();
    // Wait (spinning, no sleep) until the thread is queued on the
    // semaphore, so the release below is what lets it through.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !format!("{sem:?}").contains("queued: true") {
        assert!(std::time::Instant::now() < deadline, "never queued");
        std::thread::yield_now();
    }
    drop(held);
    assert_eq!(thread.join().unwrap(), (1, 0));
    assert_eq!(sem.available_permits(), 0);
    sem.add_permits(2);
    assert_eq!(sem.blocking_acquire_many(2).unwrap().num_permits(), 2);
    assert_eq!(
        sem.clone().blocking_acquire_owned().unwrap().num_permits(),
        1
    );
    sem.close();
    assert!(sem.blocking_acquire().is_err());
    assert!(sem.clone().blocking_acquire_owned().is_err());
}

#[test]
fn blocking_acquire_inside_a_runtime_panics() {
    let rt = current_thread();
    let msg = panic_message(|| {
        rt.block_on(async {
            let sem = Semaphore::new(1);
            drop(sem.blocking_acquire());
        })
    });
    assert!(msg.contains("`.await`"), "{msg}");
}
