//! The futures built on [`Chan`]'s poll functions. Each one that queues
//! holds its [`Key`] and leaves the queue in its `Drop`, which is what makes
//! cancelling it lossless.

use super::chan::Chan;
use super::error::TrySendError;
use crate::runtime::coop;
use crate::sync::wait_list::Key;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// Waits for `n` slots: the future behind `reserve` and `reserve_many`.
/// Dropping it leaves the queue and gives back the slots assigned to it
/// meanwhile (some or all of them).
pub(crate) struct Acquire<'a, T> {
    chan: &'a Chan<T>,
    key: Option<Key>,
    n: usize,
}

impl<'a, T> Acquire<'a, T> {
    /// `n` must not exceed the channel's bound.
    pub(crate) fn new(chan: &'a Chan<T>, n: usize) -> Acquire<'a, T> {
        Acquire { chan, key: None, n }
    }
}

impl<T> Future for Acquire<'_, T> {
    type Output = Result<(), ()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        ready!(coop::poll_proceed(cx));
        let this = &mut *self;
        coop::refund_if_pending(this.chan.poll_acquire(&mut this.key, this.n, cx))
    }
}

impl<T> Drop for Acquire<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.chan.cancel_acquire(key);
        }
    }
}

/// The future behind bounded `send`: one lock on the fast path, the waiter
/// queue otherwise.
pub(crate) struct SendFuture<'a, T> {
    chan: &'a Chan<T>,
    key: Option<Key>,
    value: Option<T>,
}

// The value is only ever moved, never pinned.
impl<T> Unpin for SendFuture<'_, T> {}

impl<'a, T> SendFuture<'a, T> {
    pub(crate) fn new(chan: &'a Chan<T>, value: T) -> SendFuture<'a, T> {
        SendFuture {
            chan,
            key: None,
            value: Some(value),
        }
    }
}

impl<T> Future for SendFuture<'_, T> {
    type Output = Result<(), T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        ready!(coop::poll_proceed(cx));
        let this = &mut *self;
        if this.key.is_none() {
            // First poll: try the one-lock path.
            let value = this
                .value
                .take()
                .expect("SendFuture polled after completion");
            match this.chan.try_push(value) {
                Ok(()) => return Poll::Ready(Ok(())),
                Err(TrySendError::Closed(v)) => return Poll::Ready(Err(v)),
                Err(TrySendError::Full(v)) => this.value = Some(v),
            }
        }
        match this.chan.poll_acquire(&mut this.key, 1, cx) {
            Poll::Pending => {
                coop::refund();
                Poll::Pending
            }
            Poll::Ready(Ok(())) => {
                let value = this
                    .value
                    .take()
                    .expect("SendFuture polled after completion");
                Poll::Ready(this.chan.push_reserved(value))
            }
            Poll::Ready(Err(())) => Poll::Ready(Err(this
                .value
                .take()
                .expect("SendFuture polled after completion"))),
        }
    }
}

impl<T> Drop for SendFuture<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.chan.cancel_acquire(key);
        }
    }
}

/// The future behind `closed`: ready once the receiver is closed or gone.
pub(crate) struct ClosedFuture<'a, T> {
    chan: &'a Chan<T>,
    key: Option<Key>,
}

impl<'a, T> ClosedFuture<'a, T> {
    pub(crate) fn new(chan: &'a Chan<T>) -> ClosedFuture<'a, T> {
        ClosedFuture { chan, key: None }
    }
}

impl<T> Future for ClosedFuture<'_, T> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        this.chan.poll_closed(&mut this.key, cx)
    }
}

impl<T> Drop for ClosedFuture<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.chan.cancel_closed(key);
        }
    }
}
