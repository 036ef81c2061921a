use crate::runtime::task::{Notified, RawTask, Schedule};
use crate::runtime::watch::Watchdog;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A closure dressed as a future that completes on its first poll.
pub(crate) struct BlockingTask<F> {
    func: Option<F>,
}

impl<F> BlockingTask<F> {
    pub(crate) fn new(func: F) -> BlockingTask<F> {
        BlockingTask { func: Some(func) }
    }
}

impl<F> Unpin for BlockingTask<F> {}

impl<F: FnOnce() -> R, R> Future for BlockingTask<F> {
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<R> {
        let func = self
            .func
            .take()
            .expect("a blocking task was polled after it completed");
        Poll::Ready(func())
    }
}

/// Blocking tasks are run exactly once by a pool thread and never woken, so
/// their scheduler has nothing to do.
#[derive(Clone, Copy)]
pub(crate) struct BlockingSchedule;

impl Schedule for BlockingSchedule {
    fn schedule(&self, _task: Notified<Self>) {
        unreachable!("a blocking task was woken");
    }

    fn release(&self, _task: RawTask) -> bool {
        false
    }

    /// A blocking closure is expected to block: nothing to watch.
    fn watchdog(&self) -> &Watchdog {
        Watchdog::off()
    }
}
