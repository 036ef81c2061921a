use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Yields to the scheduler: the task goes behind every other task that is
/// ready to run, then continues.
///
/// Cancel safe (it holds nothing).
///
/// ```
/// # vigil::block_on(async {
/// for _ in 0..3 {
///     vigil::task::yield_now().await;
/// }
/// # });
/// ```
pub async fn yield_now() {
    YieldNow { yielded: false }.await
}

struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        // A voluntary yield: the watchdog must not take it for a spin.
        crate::runtime::context::raise_poll_flag(
            crate::runtime::watch::task_watch::poll_flags::VOLUNTARY_YIELD,
        );
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
