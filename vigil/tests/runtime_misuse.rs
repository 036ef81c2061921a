//! Misuse gets a panic with a message that says what to do instead.

use std::panic::{catch_unwind, AssertUnwindSafe};
use vigil::runtime::{Builder, Handle};

fn panic_message(f: impl FnOnce()) -> String {
    let err = catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic");
    err.downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn spawn_outside_a_runtime_panics_clearly() {
    let msg = panic_message(|| {
        drop(vigil::spawn(async {}));
    });
    assert!(msg.contains("outside a vigil runtime"), "{msg}");
    assert!(msg.contains("Handle"), "{msg}");
}

#[test]
fn spawn_blocking_outside_a_runtime_panics_clearly() {
    let msg = panic_message(|| {
        drop(vigil::task::spawn_blocking(|| {}));
    });
    assert!(msg.contains("outside a vigil runtime"), "{msg}");
}

#[test]
fn block_on_inside_a_runtime_panics_clearly() {
    for rt in [
        Builder::new_current_thread().build().unwrap(),
        Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap(),
    ] {
        let msg = rt.block_on(async {
            vigil::spawn(async {
                panic_message(|| {
                    vigil::block_on(async {});
                })
            })
            .await
            .unwrap()
        });
        assert!(msg.contains("already running vigil tasks"), "{msg}");
        assert!(msg.contains("spawn_blocking"), "{msg}");
    }
}

#[test]
fn nested_block_on_in_block_on_panics() {
    let outer = Builder::new_current_thread().build().unwrap();
    let inner = Builder::new_current_thread().build().unwrap();
    let msg = outer.block_on(async { panic_message(|| inner.block_on(async {})) });
    assert!(msg.contains("already running vigil tasks"), "{msg}");
    // Both runtimes still work afterwards.
    assert_eq!(inner.block_on(async { 1 }), 1);
    assert_eq!(outer.block_on(async { 2 }), 2);
}

#[test]
fn spawn_local_outside_block_on_panics_clearly() {
    let msg = panic_message(|| {
        drop(vigil::task::spawn_local(async {}));
    });
    assert!(msg.contains("current-thread"), "{msg}");
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let msg = rt.block_on(async {
        vigil::spawn(async {
            panic_message(|| {
                drop(vigil::task::spawn_local(async {}));
            })
        })
        .await
        .unwrap()
    });
    assert!(msg.contains("current-thread"), "{msg}");
}

#[test]
fn handle_current_outside_panics_and_try_current_errs() {
    assert!(Handle::try_current().is_err());
    let msg = panic_message(|| {
        let _ = Handle::current();
    });
    assert!(msg.contains("outside a vigil runtime"), "{msg}");
}
