//! Taking part in cooperative scheduling by hand, and opting out of it.
//!
//! Each poll of a task may complete a bounded number of operations on
//! vigil's resources (sockets, channels, timers...); past that, the next
//! one returns `Pending` after waking the task, which goes to the back of
//! the run queue (see `runtime::coop`). That keeps an always-ready socket
//! from starving the other tasks on its thread. Two cases fall outside it:
//! a loop that does CPU work without touching any vigil resource never
//! spends budget, so it should call [`consume_budget`] now and then; and a
//! future that must not be interrupted between two operations (a latency
//! critical hand-off, a benchmark's inner loop) can run [`unconstrained`].

use crate::runtime::coop;
use pin_project_lite::pin_project;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Spends one unit of the current task's cooperative budget, yielding to
/// the scheduler first if the budget is used up (then the task continues
/// on its next turn with a fresh one).
///
/// Call it inside loops that compute without awaiting any vigil resource,
/// so they give way like I/O loops do. It is much cheaper than
/// [`yield_now`](crate::task::yield_now), which gives way every time.
/// Outside a task it completes at once.
///
/// **Cancel safety:** cancel-safe; nothing happens if it is dropped.
///
/// ```
/// # vigil::block_on(async {
/// let mut sum = 0u64;
/// for i in 0..100_000u64 {
///     sum += i;
///     vigil::task::consume_budget().await;
/// }
/// assert_eq!(sum, 4_999_950_000);
/// # });
/// ```
pub async fn consume_budget() {
    poll_fn(coop::poll_proceed).await
}

/// Runs `future` with no cooperative budget: vigil's resources never force
/// it to yield, however many operations it completes in one poll.
///
/// Use it sparingly: an unconstrained future that always finds its
/// resource ready (a socket with a full receive buffer, a channel another
/// task keeps filling) runs until it returns `Pending` on its own, and
/// nothing else runs on its thread meanwhile, timers included. The budget
/// of the task around it is untouched (it keeps what it had).
///
/// ```
/// # vigil::block_on(async {
/// let (tx, mut rx) = vigil::sync::mpsc::unbounded_channel();
/// for i in 0..1000 {
///     tx.send(i).unwrap();
/// }
/// drop(tx);
/// // All 1000 values in one poll, without the yield after 128.
/// let total = vigil::task::unconstrained(async move {
///     let mut total = 0;
///     while let Some(i) = rx.recv().await {
///         total += i;
///     }
///     total
/// })
/// .await;
/// assert_eq!(total, 499_500);
/// # });
/// ```
pub fn unconstrained<F: Future>(future: F) -> Unconstrained<F> {
    Unconstrained { inner: future }
}

pin_project! {
    /// The future returned by [`unconstrained`].
    #[must_use = "futures do nothing unless polled"]
    pub struct Unconstrained<F> {
        #[pin]
        inner: F,
    }
}

impl<F: Future> Future for Unconstrained<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let inner = self.project().inner;
        coop::with_unconstrained(|| inner.poll(cx))
    }
}

impl<F> fmt::Debug for Unconstrained<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Unconstrained").finish_non_exhaustive()
    }
}
