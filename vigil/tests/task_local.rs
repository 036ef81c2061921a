//! `vigil::task_local!`: a scope's value is visible inside every poll of
//! its future, on whichever thread, and nowhere else; scopes nest; the
//! value is restored when a poll panics; the inner future is dropped
//! inside its scope.

mod common;

use std::cell::Cell;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use vigil::task::AccessError;

vigil::task_local! {
    static NUMBER: u32;
    /// With an attribute and a visibility.
    pub(crate) static NAME: String;
    static SEEN_AT_DROP: Cell<Option<u32>>;
}

#[test]
fn the_value_is_seen_across_awaits_and_threads() {
    for (flavour, rt) in common::both_flavours() {
        rt.block_on(async {
            let tasks: Vec<_> = (0..16u32)
                .map(|i| {
                    vigil::spawn(NUMBER.scope(i, async move {
                        for _ in 0..10 {
                            vigil::task::yield_now().await;
                            assert_eq!(NUMBER.get(), i, "{flavour}");
                        }
                        NAME.try_with(|_| ()).unwrap_err();
                        NUMBER.get()
                    }))
                })
                .collect();
            for (i, task) in tasks.into_iter().enumerate() {
                assert_eq!(task.await.unwrap(), i as u32);
            }
        });
    }
}

#[test]
fn get_and_try_get_clone_non_copy_values() {
    assert!(NAME.try_get().is_err());
    NAME.sync_scope("outer".to_string(), || {
        assert_eq!(NAME.get(), "outer");
        assert_eq!(NAME.try_get().unwrap(), "outer");
        NAME.sync_scope("inner".to_string(), || assert_eq!(NAME.get(), "inner"));
    });
    assert!(NAME.try_get().is_err());
}

#[test]
fn outside_a_scope_reads_fail_and_with_panics() {
    let err: AccessError = NUMBER.try_with(|n| *n).unwrap_err();
    assert!(err.to_string().contains("outside a scope"), "{err}");
    let message = common::panic_message(|| {
        NUMBER.with(|_| ());
    });
    assert!(message.contains("outside a scope"), "{message}");
}

#[test]
fn scopes_nest_and_restore_the_outer_value() {
    vigil::block_on(NUMBER.scope(1, async {
        assert_eq!(NUMBER.get(), 1);
        NUMBER
            .scope(2, async {
                vigil::task::yield_now().await;
                assert_eq!(NUMBER.get(), 2);
                NUMBER.sync_scope(3, || assert_eq!(NUMBER.get(), 3));
                assert_eq!(NUMBER.get(), 2);
            })
            .await;
        assert_eq!(NUMBER.get(), 1);
    }));
}

#[test]
fn a_panicking_poll_gives_the_slot_back() {
    let result = std::panic::catch_unwind(|| {
        NUMBER.sync_scope(7, || panic!("inside"));
    });
    assert!(result.is_err());
    assert!(NUMBER.try_with(|_| ()).is_err(), "the slot is empty again");
    // The same for a future.
    let mut fut = pin!(NUMBER.scope(8, async { panic!("in a poll") }));
    let cx = &mut Context::from_waker(Waker::noop());
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = fut.as_mut().poll(cx);
    }));
    assert!(result.is_err());
    assert!(NUMBER.try_with(|_| ()).is_err());
}

#[test]
fn the_value_is_not_visible_between_polls_and_can_be_taken() {
    let mut fut = pin!(NAME.scope("scoped".to_string(), async {
        let first = NAME.with(|n| n.clone());
        std::future::pending::<()>().await;
        first
    }));
    let cx = &mut Context::from_waker(Waker::noop());
    assert!(fut.as_mut().poll(cx).is_pending());
    assert!(
        NAME.try_with(|_| ()).is_err(),
        "between polls the slot is empty"
    );
    assert_eq!(fut.as_mut().take_value().as_deref(), Some("scoped"));
    assert_eq!(fut.as_mut().take_value(), None);
}

/// Records the task-local value its destructor sees.
struct ReadsOnDrop(Arc<AtomicBool>);

impl Future for ReadsOnDrop {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        Poll::Pending
    }
}

impl Drop for ReadsOnDrop {
    fn drop(&mut self) {
        let seen = SEEN_AT_DROP.try_with(|c| {
            c.set(Some(5));
        });
        self.0.store(seen.is_ok(), Ordering::SeqCst);
    }
}

#[test]
fn the_inner_future_is_dropped_inside_the_scope() {
    let dropped_in_scope = Arc::new(AtomicBool::new(false));
    {
        let mut fut =
            Box::pin(SEEN_AT_DROP.scope(Cell::new(None), ReadsOnDrop(dropped_in_scope.clone())));
        let cx = &mut Context::from_waker(Waker::noop());
        assert!(fut.as_mut().poll(cx).is_pending());
    }
    assert!(dropped_in_scope.load(Ordering::SeqCst));
    // Also in a task that is aborted: the runtime drops its future.
    let dropped_in_task = Arc::new(AtomicBool::new(false));
    common::multi_thread(2).block_on(async {
        let task =
            vigil::spawn(SEEN_AT_DROP.scope(Cell::new(None), ReadsOnDrop(dropped_in_task.clone())));
        vigil::task::yield_now().await;
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
    });
    assert!(dropped_in_task.load(Ordering::SeqCst));
}
