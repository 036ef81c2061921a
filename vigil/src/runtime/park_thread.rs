//! Blocking a plain thread on one future, without driving any scheduler.
//!
//! Used by `block_on` of the multi-thread runtime (its tasks run on the
//! workers; the calling thread only waits for its own future) and by a
//! current-thread `block_on` that waits for another thread to release the
//! scheduler.

use crate::runtime::watch::block_on::BlockOnWatch;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;

pub(crate) struct ThreadWaker {
    woken: AtomicBool,
    thread: Thread,
}

impl ThreadWaker {
    pub(crate) fn new() -> Arc<ThreadWaker> {
        Arc::new(ThreadWaker {
            woken: AtomicBool::new(true),
            thread: std::thread::current(),
        })
    }

    /// Consumes a pending wake-up.
    pub(crate) fn take_woken(&self) -> bool {
        self.woken.swap(false, Ordering::AcqRel)
    }
}

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.woken.swap(true, Ordering::AcqRel) {
            self.thread.unpark();
        }
    }
}

/// Polls `future` whenever it is woken, sleeping in between.
pub(crate) fn block_on<F: Future>(future: Pin<&mut F>) -> F::Output {
    run(future, None)
}

/// As [`block_on`], for the future of a runtime's `block_on`, which the
/// runtime's watchdog watches for a lost waker (see `watch::block_on`).
pub(crate) fn block_on_watched<F: Future>(
    future: Pin<&mut F>,
    watch: BlockOnWatch<'_>,
) -> F::Output {
    run(future, Some(watch))
}

fn run<F: Future>(mut future: Pin<&mut F>, mut watch: Option<BlockOnWatch<'_>>) -> F::Output {
    let state = ThreadWaker::new();
    let waker = Waker::from(state.clone());
    let mut cx = Context::from_waker(&waker);
    loop {
        if state.take_woken() {
            let Some(watch) = &mut watch else {
                let _budget = crate::runtime::coop::start_poll();
                if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                    return out;
                }
                continue;
            };
            if let Poll::Ready(out) = watch.poll(None, future.as_mut(), &mut cx, &state.woken) {
                return out;
            }
            // `state` and `waker` are this loop's own references.
            watch.check_lost_waker(&state, 2, &state.woken);
        }
        // `park` may return spuriously; the flag tells a real wake.
        if !state.woken.load(Ordering::Acquire) {
            std::thread::park();
        }
    }
}
