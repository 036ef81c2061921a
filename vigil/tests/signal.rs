//! `vigil::signal`: listeners receive signals raised after they were
//! created, on both runtime flavours and across runtimes, merge deliveries
//! they have not looked at yet, refuse signals they cannot handle, and end
//! with `None` when their runtime is gone.
//!
//! Signal dispositions are process-wide and the tests of this file run in
//! parallel threads of one process, so every test uses signals no other
//! test raises. `raise(3)` runs the handler on the raising thread before it
//! returns, so the pipe is written by the time a test goes on.

mod common;

use futures_core::Stream;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::mpsc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use vigil::signal::unix::{signal, Signal, SignalKind};

const LIMIT: Duration = Duration::from_secs(20);

fn raise(signum: i32) {
    // SAFETY: `raise` only sends a signal to this thread; every signal the
    // tests raise has vigil's handler installed first.
    assert_eq!(unsafe { libc::raise(signum) }, 0);
}

fn rt_signal(offset: i32) -> SignalKind {
    SignalKind::from_raw(libc::SIGRTMIN() + offset)
}

/// Runs `f` on its own thread and fails if it takes longer than `LIMIT`.
fn within(f: impl FnOnce() + Send + 'static) {
    let (done, finished) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        f();
        let _ = done.send(());
    });
    match finished.recv_timeout(LIMIT) {
        Ok(()) => thread.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // `f` panicked: show its panic.
            std::panic::resume_unwind(thread.join().unwrap_err())
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("the test took longer than {LIMIT:?}"),
    }
}

/// Polls `fut` once with a waker that does nothing.
fn poll_once<F: Future + ?Sized>(fut: Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn a_raised_signal_completes_recv_on_both_flavours() {
    within(|| {
        for (flavour, rt) in common::both_flavours() {
            rt.block_on(async {
                let mut listener = signal(SignalKind::user_defined1()).unwrap();
                assert_eq!(listener.kind(), SignalKind::user_defined1());
                for round in 0..3 {
                    raise(libc::SIGUSR1);
                    assert_eq!(listener.recv().await, Some(()), "{flavour}, round {round}");
                }
            });
        }
    });
}

#[test]
fn deliveries_not_yet_received_merge_into_one() {
    within(|| {
        common::current_thread().block_on(async {
            let mut listener = signal(SignalKind::user_defined2()).unwrap();
            for _ in 0..3 {
                raise(libc::SIGUSR2);
            }
            assert_eq!(listener.recv().await, Some(()));
            // The pipe is empty and the count seen: nothing more is there.
            assert!(poll_once(pin!(listener.recv())).is_pending());
            raise(libc::SIGUSR2);
            assert_eq!(listener.recv().await, Some(()));
        });
    });
}

#[test]
fn a_listener_sees_only_signals_raised_after_it_was_created() {
    within(|| {
        common::current_thread().block_on(async {
            let kind = rt_signal(5);
            let mut first = signal(kind).unwrap();
            raise(kind.as_raw_value());
            assert_eq!(first.recv().await, Some(()));
            // Created after that delivery was counted.
            let mut second = signal(kind).unwrap();
            assert!(poll_once(pin!(second.recv())).is_pending());
            raise(kind.as_raw_value());
            assert_eq!(second.recv().await, Some(()));
            assert_eq!(first.recv().await, Some(()));
        });
    });
}

#[test]
fn every_listener_in_every_runtime_sees_one_signal() {
    within(|| {
        let kind = rt_signal(1);
        let (ready_tx, ready) = mpsc::channel::<&str>();
        let mut threads = Vec::new();
        for (flavour, rt) in common::both_flavours() {
            let ready_tx = ready_tx.clone();
            threads.push(std::thread::spawn(move || {
                rt.block_on(async move {
                    // Two listeners in each runtime, one in a spawned task.
                    let mut here = signal(kind).unwrap();
                    let mut there = signal(kind).unwrap();
                    let task = vigil::spawn(async move { there.recv().await });
                    ready_tx.send(flavour).unwrap();
                    assert_eq!(here.recv().await, Some(()), "{flavour}");
                    assert_eq!(task.await.unwrap(), Some(()), "{flavour}");
                });
            }));
        }
        for _ in 0..2 {
            ready.recv().unwrap();
        }
        raise(kind.as_raw_value());
        for thread in threads {
            thread.join().unwrap();
        }
    });
}

#[test]
fn dropping_one_listener_leaves_the_others_listening() {
    within(|| {
        common::multi_thread(2).block_on(async {
            let kind = rt_signal(3);
            let mut kept = signal(kind).unwrap();
            let mut dropped = signal(kind).unwrap();
            // `dropped` registers its waker, then goes away.
            assert!(poll_once(pin!(dropped.recv())).is_pending());
            drop(dropped);
            raise(kind.as_raw_value());
            assert_eq!(kept.recv().await, Some(()));
        });
    });
}

#[test]
fn a_listener_is_a_stream() {
    within(|| {
        common::current_thread().block_on(async {
            let mut listener = signal(SignalKind::window_change()).unwrap();
            for _ in 0..2 {
                raise(libc::SIGWINCH);
                let next = std::future::poll_fn(|cx| Pin::new(&mut listener).poll_next(cx)).await;
                assert_eq!(next, Some(()));
            }
        });
    });
}

#[test]
fn ctrl_c_completes_on_sigint() {
    within(|| {
        common::multi_thread(2).block_on(async {
            let mut ctrl_c = pin!(vigil::signal::ctrl_c());
            // The first poll installs the handler; only then is SIGINT safe.
            assert!(poll_once(ctrl_c.as_mut()).is_pending());
            raise(libc::SIGINT);
            ctrl_c.await.unwrap();
        });
    });
}

#[test]
fn signals_that_cannot_be_handled_are_refused() {
    within(|| {
        common::current_thread().block_on(async {
            let forbidden = [
                libc::SIGKILL,
                libc::SIGSTOP,
                libc::SIGSEGV,
                libc::SIGBUS,
                libc::SIGILL,
                libc::SIGFPE,
            ];
            for signum in [0, -3, libc::SIGRTMAX() + 1, 4096]
                .into_iter()
                .chain(forbidden)
            {
                let err = signal(SignalKind::from_raw(signum)).unwrap_err();
                assert_eq!(
                    err.kind(),
                    std::io::ErrorKind::InvalidInput,
                    "{signum}: {err}"
                );
            }
        });
    });
}

#[test]
fn outside_a_runtime_nothing_is_installed() {
    let kind = rt_signal(2);
    let err = signal(kind).unwrap_err();
    assert!(err.to_string().contains("inside a vigil runtime"), "{err}");
    // SAFETY: a zeroed `sigaction` is a valid out-parameter, and a null new
    // action only reads the current disposition.
    let disposition = unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        assert_eq!(
            libc::sigaction(kind.as_raw_value(), std::ptr::null(), &mut old),
            0
        );
        old.sa_sigaction
    };
    assert_eq!(disposition, libc::SIG_DFL);
}

#[test]
fn a_listener_ends_with_none_when_its_runtime_is_gone() {
    within(|| {
        let kind = rt_signal(4);
        let rt = common::current_thread();
        let mut orphan: Signal = rt.block_on(async { signal(kind).unwrap() });
        drop(rt);
        common::current_thread().block_on(async {
            assert_eq!(orphan.recv().await, None);
            assert_eq!(orphan.recv().await, None);
        });
    });
}
