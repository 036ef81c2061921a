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
//!
//! A resource of your own (a channel from another crate, a device with a
//! readiness callback) joins in with [`poll_proceed`] at the top of its
//! poll function, or by wrapping its future in [`cooperative`]. Besides
//! fairness, this tells vigil's watchdog that a poll did useful work: a
//! task that wakes itself and returns `Pending` without spending any
//! budget is what the watchdog calls spinning (see
//! [`vigil::watchdog`](crate::watchdog)).

use crate::runtime::{context, coop};
use pin_project_lite::pin_project;
use std::cell::Cell;
use std::fmt;
use std::future::{poll_fn, Future};
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

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

/// `true` unless the current task has used up its cooperative budget for
/// this poll (then the next operation on a vigil resource returns
/// `Pending` and the task yields). Outside a task, or inside
/// [`unconstrained`], always `true`.
///
/// ```
/// # vigil::block_on(async {
/// assert!(vigil::task::coop::has_budget_remaining());
/// # });
/// ```
pub fn has_budget_remaining() -> bool {
    context::with_budget(|cell| cell.get().has_remaining()).unwrap_or(true)
}

/// Spends one unit of the current task's budget for an operation about to
/// be attempted, or returns `Pending` (after waking the task, so that it
/// runs again on its next turn) if the budget is used up.
///
/// The unit is given back when the returned [`RestoreOnPending`] is
/// dropped, unless [`made_progress`](RestoreOnPending::made_progress) was
/// called on it: only completed operations count, as for vigil's own
/// resources. Call it at the top of a leaf future's poll (one that does
/// not poll other futures), so that nested futures do not spend twice.
///
/// ```
/// use std::pin::Pin;
/// use std::task::{ready, Context, Poll};
/// use vigil::task::coop;
///
/// /// Counts down; each step is an operation that spends budget.
/// struct Countdown(u32);
///
/// impl std::future::Future for Countdown {
///     type Output = ();
///     fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
///         loop {
///             let restore = ready!(coop::poll_proceed(cx));
///             if self.0 == 0 {
///                 restore.made_progress();
///                 return Poll::Ready(());
///             }
///             self.0 -= 1;
///             restore.made_progress();
///         }
///     }
/// }
///
/// # vigil::block_on(async {
/// // 1,000 steps: the task yields every 128 of them, and finishes.
/// vigil::spawn(Countdown(1_000)).await.unwrap();
/// # });
/// ```
pub fn poll_proceed(cx: &mut Context<'_>) -> Poll<RestoreOnPending> {
    let before = context::with_budget(|cell| cell.get());
    ready!(coop::poll_proceed(cx));
    Poll::Ready(RestoreOnPending {
        before: Cell::new(before),
        _not_send: PhantomData,
    })
}

/// Returned by [`poll_proceed`]: dropped without
/// [`made_progress`](Self::made_progress), it puts the task's budget back
/// as it was before `poll_proceed` (adjustments made in between are undone
/// too).
#[must_use = "dropping it at once gives the budget unit back"]
pub struct RestoreOnPending {
    /// The budget to restore; `None` once progress was made, or outside a
    /// runtime.
    before: Cell<Option<coop::Budget>>,
    /// The budget is the current thread's.
    _not_send: PhantomData<*mut ()>,
}

impl RestoreOnPending {
    /// The operation completed: keep the unit spent.
    pub fn made_progress(&self) {
        self.before.set(None);
    }
}

impl Drop for RestoreOnPending {
    fn drop(&mut self) {
        if let Some(before) = self.before.get() {
            coop::restore(before);
        }
    }
}

impl fmt::Debug for RestoreOnPending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RestoreOnPending").finish_non_exhaustive()
    }
}

/// Makes `future` take part in the cooperative budget as a vigil resource
/// does: each poll first spends a unit (returning `Pending` if there is
/// none left), and the unit is kept only when the poll completes the
/// future.
///
/// ```
/// # vigil::block_on(async {
/// let (tx, rx) = std::sync::mpsc::channel();
/// tx.send(7).unwrap();
/// // A ready value from a std channel, received as an operation.
/// let got = vigil::task::coop::cooperative(async move { rx.recv().unwrap() }).await;
/// assert_eq!(got, 7);
/// # });
/// ```
pub fn cooperative<F: Future>(future: F) -> Coop<F> {
    Coop { inner: future }
}

pin_project! {
    /// The future returned by [`cooperative`].
    #[must_use = "futures do nothing unless polled"]
    pub struct Coop<F> {
        #[pin]
        inner: F,
    }
}

impl<F: Future> Future for Coop<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let restore = ready!(poll_proceed(cx));
        let out = ready!(self.project().inner.poll(cx));
        restore.made_progress();
        Poll::Ready(out)
    }
}

impl<F> fmt::Debug for Coop<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Coop").finish_non_exhaustive()
    }
}
