//! [`BroadcastStream`]: a broadcast receiver as a `futures_core::Stream`.

use super::error::{Lagged, RecvError};
use super::Receiver;
use crate::runtime::coop;
use crate::sync::wait_list::Key;
use futures_core::Stream;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A broadcast [`Receiver`] as a [`Stream`]: yields `Ok(value)` for each
/// value, `Err(Lagged(n))` once after falling `n` values behind (then goes
/// on from the oldest value held), and ends when every sender is gone and
/// nothing is left to read. It keeps its place in the channel's wait list
/// between polls, so polling it costs no more than a `recv`.
///
/// ```
/// use futures_core::Stream;
/// use std::pin::Pin;
/// use vigil::sync::broadcast::{self, BroadcastStream};
///
/// # vigil::block_on(async {
/// let (tx, rx) = broadcast::channel(8);
/// let mut stream = BroadcastStream::new(rx);
/// tx.send("a").unwrap();
/// drop(tx);
/// // With `futures::StreamExt` this is `stream.next().await`.
/// let item = std::future::poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await;
/// assert_eq!(item, Some(Ok("a")));
/// let end = std::future::poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await;
/// assert_eq!(end, None);
/// # });
/// ```
pub struct BroadcastStream<T> {
    rx: Receiver<T>,
    /// This stream's place in the wait list while it waits.
    key: Option<Key>,
}

impl<T> BroadcastStream<T> {
    /// Wraps `rx`; the stream starts where the receiver is.
    pub fn new(rx: Receiver<T>) -> BroadcastStream<T> {
        BroadcastStream { rx, key: None }
    }
}

impl<T> From<Receiver<T>> for BroadcastStream<T> {
    fn from(rx: Receiver<T>) -> BroadcastStream<T> {
        BroadcastStream::new(rx)
    }
}

impl<T: Clone> Stream for BroadcastStream<T> {
    type Item = Result<T, Lagged>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        let this = self.get_mut();
        let item = match this.rx.poll_recv_keyed(&mut this.key, cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(value)) => Poll::Ready(Some(Ok(value))),
            Poll::Ready(Err(RecvError::Lagged(n))) => Poll::Ready(Some(Err(Lagged(n)))),
            Poll::Ready(Err(RecvError::Closed)) => Poll::Ready(None),
        };
        coop::refund_if_pending(item)
    }
}

impl<T> Drop for BroadcastStream<T> {
    fn drop(&mut self) {
        self.rx.forget_waiter(&mut self.key);
    }
}

impl<T> fmt::Debug for BroadcastStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BroadcastStream")
            .field("rx", &self.rx)
            .finish_non_exhaustive()
    }
}
