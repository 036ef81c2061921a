//! Misuse gets a panic with a message that says what to do instead.

mod common;

use common::{current_thread, multi_thread, panic_message};
use vigil::runtime::Handle;

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
    for rt in [current_thread(), multi_thread(1)] {
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
    let outer = current_thread();
    let inner = current_thread();
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
    let rt = multi_thread(1);
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
