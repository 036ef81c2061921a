//! [`WatchStream`]: a watch receiver as a `futures_core::Stream`.

use super::Receiver;
use crate::runtime::coop;
use crate::sync::wait_list::Key;
use futures_core::Stream;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A watch [`Receiver`] as a [`Stream`] of values: each item is a clone of
/// a value the receiver had not seen, so a stream polled less often than
/// the sender sends skips the values in between (the newest one always
/// comes). The stream ends when every sender is gone and the last value
/// has been yielded.
///
/// [`new`](WatchStream::new) yields the current value first;
/// [`from_changes`](WatchStream::from_changes) waits for the next one.
///
/// ```
/// use futures_core::Stream;
/// use std::pin::Pin;
/// use vigil::sync::watch::{self, WatchStream};
///
/// # vigil::block_on(async {
/// let (tx, rx) = watch::channel(1);
/// let mut stream = WatchStream::new(rx);
/// // With `futures::StreamExt` this is `stream.next().await`.
/// let first = std::future::poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await;
/// assert_eq!(first, Some(1));
/// tx.send(2).unwrap();
/// tx.send(3).unwrap();
/// drop(tx);
/// let newest = std::future::poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await;
/// assert_eq!(newest, Some(3));
/// let end = std::future::poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await;
/// assert_eq!(end, None);
/// # });
/// ```
pub struct WatchStream<T> {
    rx: Receiver<T>,
    /// This stream's place in the wait list while it waits.
    key: Option<Key>,
}

impl<T> WatchStream<T> {
    /// A stream whose first item is the channel's current value, whether
    /// or not `rx` had seen it, then every change.
    pub fn new(mut rx: Receiver<T>) -> WatchStream<T> {
        rx.mark_changed();
        WatchStream { rx, key: None }
    }

    /// A stream of the values `rx` has not seen: the current one only if
    /// it is new to `rx`, then every change.
    pub fn from_changes(rx: Receiver<T>) -> WatchStream<T> {
        WatchStream { rx, key: None }
    }
}

impl<T: Clone> Stream for WatchStream<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        if coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        let this = self.get_mut();
        let rx = &mut this.rx;
        let item = match rx.shared.poll_changed(&mut rx.seen, &mut this.key, cx) {
            Poll::Pending => Poll::Pending,
            // The value and its version are read together: a send since
            // the check is the one yielded, and is not yielded again.
            Poll::Ready(Ok(())) => Poll::Ready(Some(rx.borrow_and_update().clone())),
            Poll::Ready(Err(_)) => Poll::Ready(None),
        };
        coop::refund_if_pending(item)
    }
}

impl<T> Drop for WatchStream<T> {
    fn drop(&mut self) {
        self.rx.shared.forget_changed_waiter(&mut self.key);
    }
}

impl<T: fmt::Debug> fmt::Debug for WatchStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WatchStream")
            .field("rx", &self.rx)
            .finish_non_exhaustive()
    }
}
