//! `vigil::sync::OnceCell`: one initialiser runs however many tasks ask,
//! failed and cancelled initialisers let the next one try, and `set`
//! refuses while the cell is full or being initialised.

mod common;

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Waker};
use vigil::sync::{oneshot, OnceCell, SetError};

#[test]
fn one_initialiser_runs_for_many_concurrent_callers() {
    for (flavour, rt) in common::both_flavours() {
        rt.block_on(async {
            let cell = Arc::new(OnceCell::new());
            let runs = Arc::new(AtomicUsize::new(0));
            let tasks: Vec<_> = (0..32)
                .map(|i| {
                    let (cell, runs) = (cell.clone(), runs.clone());
                    vigil::spawn(async move {
                        *cell
                            .get_or_init(|| async move {
                                runs.fetch_add(1, Ordering::SeqCst);
                                vigil::task::yield_now().await;
                                i
                            })
                            .await
                    })
                })
                .collect();
            let mut values = Vec::new();
            for t in tasks {
                values.push(t.await.unwrap());
            }
            assert_eq!(runs.load(Ordering::SeqCst), 1, "{flavour}");
            assert!(values.iter().all(|v| *v == values[0]), "{flavour}");
            assert_eq!(cell.get(), Some(&values[0]));
        });
    }
}

#[test]
fn a_failed_initialiser_leaves_the_cell_empty_for_the_next() {
    vigil::block_on(async {
        let cell = OnceCell::new();
        let err = cell
            .get_or_try_init(|| async { Err::<u32, _>("no") })
            .await
            .unwrap_err();
        assert_eq!(err, "no");
        assert!(!cell.initialized());
        let v = cell.get_or_try_init(|| async { Ok::<_, ()>(7) }).await;
        assert_eq!(v, Ok(&7));
    });
}

#[test]
fn a_cancelled_initialiser_lets_the_next_one_run_and_set_waits_its_turn() {
    vigil::block_on(async {
        let cell = OnceCell::new();
        let (_hold, never) = oneshot::channel::<u32>();
        {
            let mut first = pin!(cell.get_or_init(|| async { never.await.unwrap() }));
            let cx = &mut Context::from_waker(Waker::noop());
            assert!(first.as_mut().poll(cx).is_pending());
            // An initialiser is running: `set` refuses, giving the value back.
            match cell.set(1) {
                Err(SetError::InitializingError(v)) => assert_eq!(v, 1),
                other => panic!("{other:?}"),
            }
        } // `first` dropped mid-initialisation
        assert_eq!(*cell.get_or_init(|| async { 2 }).await, 2);
        let err = cell.set(3).unwrap_err();
        assert!(err.is_already_init_err());
        assert_eq!(err.into_inner(), 3);
    });
}

#[test]
fn values_move_in_and_out() {
    let mut cell = OnceCell::from(String::from("a"));
    cell.get_mut().unwrap().push('b');
    assert_eq!(cell.clone().into_inner().as_deref(), Some("ab"));
    assert_eq!(cell.take().as_deref(), Some("ab"));
    assert!(!cell.initialized());
    assert!(cell.set("c".into()).is_ok());
    assert_eq!(OnceCell::<u8>::new_with(None).get(), None);
}
