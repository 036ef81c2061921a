//! The watchdog's misuse messages: a runtime started (or `block_on` called)
//! on a thread that already runs vigil tasks, and vigil I/O objects or
//! timers used outside any runtime, fail with a message that names the fix.

mod common;

use common::panic_message;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use vigil::net::{TcpListener, TcpStream, UdpSocket, UnixListener};
use vigil::runtime::{Builder, Handle, Runtime};

fn current_thread() -> Runtime {
    Builder::new_current_thread().build().unwrap()
}

fn multi_thread() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
}

/// Polls `fut` once, outside any runtime, with a waker that does nothing.
fn poll_once<F: Future>(fut: F) -> Poll<F::Output> {
    let mut fut = pin!(fut);
    fut.as_mut().poll(&mut Context::from_waker(Waker::noop()))
}

fn assert_names_the_blocking_fix(msg: &str) {
    assert!(msg.contains("already running vigil tasks"), "{msg}");
    assert!(msg.contains("freeze"), "{msg}");
    assert!(msg.contains(".await"), "{msg}");
    assert!(msg.contains("spawn_blocking"), "{msg}");
}

#[test]
fn starting_a_runtime_inside_a_task_panics_with_the_fix() {
    for (outer_name, outer) in [
        ("current_thread", current_thread()),
        ("multi_thread", multi_thread()),
    ] {
        for inner_kind in ["current_thread", "multi_thread"] {
            let msg = outer.block_on(async move {
                vigil::spawn(async move {
                    // Building is allowed (it only creates threads and a
                    // reactor); driving it from here is not.
                    let inner = match inner_kind {
                        "current_thread" => current_thread(),
                        _ => multi_thread(),
                    };
                    let msg = panic_message(|| {
                        inner.block_on(async {});
                    });
                    // Dropped on a blocking-pool thread: shutting a
                    // runtime down waits for its threads.
                    vigil::task::spawn_blocking(move || drop(inner))
                        .await
                        .unwrap();
                    msg
                })
                .await
                .unwrap()
            });
            eprintln!("{outer_name} task, {inner_kind} runtime: {msg}");
            assert_names_the_blocking_fix(&msg);
            assert!(msg.contains("runtime was started"), "{msg}");
        }
        // The outer runtime still works, and so does a task on it.
        assert_eq!(
            outer.block_on(async { vigil::spawn(async { 3 }).await.unwrap() }),
            3
        );
    }
}

#[test]
fn handle_block_on_inside_a_task_panics_with_the_fix() {
    let other = multi_thread();
    let other_handle = other.handle().clone();
    for outer in [current_thread(), multi_thread()] {
        let h = other_handle.clone();
        let msg = outer.block_on(async move {
            vigil::spawn(async move { panic_message(|| h.block_on(async {})) })
                .await
                .unwrap()
        });
        assert_names_the_blocking_fix(&msg);
        // Its own handle too.
        let msg = outer.block_on(async {
            vigil::spawn(async { panic_message(|| Handle::current().block_on(async {})) })
                .await
                .unwrap()
        });
        assert_names_the_blocking_fix(&msg);
    }
    // Outside any runtime, the handle works.
    assert_eq!(other_handle.block_on(async { 5 }), 5);
}

#[test]
fn block_on_from_spawn_blocking_is_the_fix_and_works() {
    let rt = multi_thread();
    let out = rt.block_on(async {
        vigil::task::spawn_blocking(|| {
            let inner = current_thread();
            inner.block_on(async {
                vigil::time::sleep(Duration::from_millis(1)).await;
                7
            })
        })
        .await
        .unwrap()
    });
    assert_eq!(out, 7);
}

fn assert_names_the_runtime_fix(err: &std::io::Error) {
    let msg = err.to_string();
    assert!(msg.contains("inside a vigil runtime"), "{msg}");
    assert!(msg.contains("block_on"), "{msg}");
    assert!(msg.contains("enter"), "{msg}");
}

#[test]
fn io_objects_outside_a_runtime_fail_with_the_fix() {
    assert!(Handle::try_current().is_err());

    let Poll::Ready(res) = poll_once(TcpListener::bind("127.0.0.1:0")) else {
        panic!("TcpListener::bind did not complete at once outside a runtime");
    };
    let err = res.expect_err("a vigil TcpListener was created outside a runtime");
    assert_names_the_runtime_fix(&err);

    let Poll::Ready(res) = poll_once(UdpSocket::bind("127.0.0.1:0")) else {
        panic!("UdpSocket::bind did not complete at once outside a runtime");
    };
    assert_names_the_runtime_fix(&res.expect_err("UdpSocket outside a runtime"));

    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = std_listener.local_addr().unwrap();
    let err = TcpListener::from_std(std_listener.try_clone().unwrap())
        .expect_err("TcpListener::from_std outside a runtime");
    assert_names_the_runtime_fix(&err);

    let std_stream = std::net::TcpStream::connect(addr).unwrap();
    let err = TcpStream::from_std(std_stream).expect_err("TcpStream::from_std outside a runtime");
    assert_names_the_runtime_fix(&err);

    let dir = std::env::temp_dir().join(format!("vigil-wd-misuse-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("sock");
    let err = UnixListener::bind(&path).expect_err("UnixListener::bind outside a runtime");
    assert_names_the_runtime_fix(&err);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The fix the message names: `Runtime::enter` (or `block_on`).
#[test]
fn io_objects_created_after_runtime_enter_work() {
    let rt = current_thread();
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = std_listener.local_addr().unwrap();
    let listener = {
        let _guard = rt.enter();
        TcpListener::from_std(std_listener).unwrap()
    };
    rt.block_on(async move {
        let client = TcpStream::connect(addr).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        assert_eq!(server.peer_addr().unwrap(), client.local_addr().unwrap());
    });
}

/// An I/O object whose runtime has shut down, polled outside any runtime,
/// fails with an error that says so instead of hanging.
#[test]
fn io_object_polled_after_its_runtime_is_gone_fails_clearly() {
    let rt = current_thread();
    let listener = rt.block_on(async { TcpListener::bind("127.0.0.1:0").await.unwrap() });
    drop(rt);
    match poll_once(listener.accept()) {
        Poll::Ready(Err(err)) => {
            let msg = err.to_string();
            assert!(msg.contains("no longer registered"), "{msg}");
            assert!(msg.contains("runtime shut down"), "{msg}");
        }
        Poll::Ready(Ok(_)) => panic!("accepted a connection without a runtime"),
        Poll::Pending => panic!("pending forever: nothing can ever wake this accept"),
    }
}

#[test]
fn timer_polled_outside_a_runtime_panics_with_the_fix() {
    let msg = panic_message(|| {
        let _ = poll_once(vigil::time::sleep(Duration::from_secs(1)));
    });
    assert!(msg.contains("outside a vigil runtime"), "{msg}");
    assert!(msg.contains("block_on"), "{msg}");
    // An expired one needs no runtime.
    assert!(poll_once(vigil::time::sleep(Duration::ZERO)).is_ready());
}
