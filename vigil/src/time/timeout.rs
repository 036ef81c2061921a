//! [`Timeout`]: a future raced against a deadline.
//!
//! The wrapped future is always polled before the deadline is checked. So a
//! future that is ready right away wins even against a zero timeout, and a
//! future that completes in the same turn as the deadline passes is not
//! thrown away: its output is returned, not an error.

use crate::time::error::Elapsed;
use crate::time::{sleep, sleep_until, Instant, Sleep};
use pin_project_lite::pin_project;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// Runs `future`, giving up once `duration` has passed.
///
/// Resolves to `Ok(output)` if the future completes first and to
/// `Err(Elapsed)` otherwise; on timeout the future is dropped together with
/// the [`Timeout`]. A duration too large for the clock means "about thirty
/// years". Like [`sleep`], the timer is only registered on the first poll.
///
/// **Cancel safety:** the [`Timeout`] itself is as cancel safe as the future
/// it wraps: dropping it drops that future and cancels the timer.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use vigil::time::timeout;
///
/// let rt = vigil::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     // Ready futures win, even against a zero timeout.
///     assert_eq!(timeout(Duration::ZERO, async { 7 }).await, Ok(7));
///     // A future that never completes times out.
///     let never = std::future::pending::<()>();
///     assert!(timeout(Duration::from_millis(5), never).await.is_err());
/// });
/// ```
pub fn timeout<F>(duration: Duration, future: F) -> Timeout<F::IntoFuture>
where
    F: IntoFuture,
{
    Timeout::new(future.into_future(), sleep(duration))
}

/// Runs `future`, giving up once `deadline` is reached.
///
/// Like [`timeout`], with an absolute deadline.
///
/// **Cancel safety:** as cancel safe as the future it wraps.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use vigil::time::{timeout_at, Instant};
///
/// let rt = vigil::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     let deadline = Instant::now() + Duration::from_millis(5);
///     let res = timeout_at(deadline, std::future::pending::<()>()).await;
///     assert!(res.is_err());
///     assert!(Instant::now() >= deadline);
/// });
/// ```
pub fn timeout_at<F>(deadline: Instant, future: F) -> Timeout<F::IntoFuture>
where
    F: IntoFuture,
{
    Timeout::new(future.into_future(), sleep_until(deadline))
}

pin_project! {
    /// A future with a deadline, made by [`timeout`] and [`timeout_at`].
    ///
    /// Its output is `Result<T::Output, Elapsed>`.
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    #[derive(Debug)]
    pub struct Timeout<T> {
        #[pin]
        value: T,
        delay: Sleep,
    }
}

impl<T> Timeout<T> {
    fn new(value: T, delay: Sleep) -> Timeout<T> {
        Timeout { value, delay }
    }

    /// The wrapped future.
    pub fn get_ref(&self) -> &T {
        &self.value
    }

    /// The wrapped future, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.value
    }

    /// Unwraps the future, dropping (and cancelling) the deadline.
    pub fn into_inner(self) -> T {
        self.value
    }
}

impl<T: Future> Future for Timeout<T> {
    type Output = Result<T::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(output) = this.value.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        match Pin::new(this.delay).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed::new())),
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    fn noop_waker() -> Waker {
        struct Noop;
        impl std::task::Wake for Noop {
            fn wake(self: std::sync::Arc<Self>) {}
        }
        Waker::from(std::sync::Arc::new(Noop))
    }

    #[test]
    fn ready_future_wins_zero_timeout_without_runtime() {
        let waker = noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut t = Box::pin(timeout(Duration::ZERO, async { 5 }));
        assert_eq!(t.as_mut().poll(&mut cx), Poll::Ready(Ok(5)));
    }

    #[test]
    fn elapsed_deadline_without_runtime() {
        let waker = noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut t = Box::pin(timeout(Duration::ZERO, std::future::pending::<u8>()));
        assert_eq!(t.as_mut().poll(&mut cx), Poll::Ready(Err(Elapsed::new())));
    }

    #[test]
    fn accessors() {
        let mut t = timeout(Duration::from_secs(1), std::future::ready(3));
        let _r: &std::future::Ready<i32> = t.get_ref();
        let _m: &mut std::future::Ready<i32> = t.get_mut();
        let inner = t.into_inner();
        assert_eq!(inner.into_inner(), 3);
    }
}
