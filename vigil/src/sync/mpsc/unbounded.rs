//! The unbounded channel's handles: [`UnboundedSender`] and
//! [`UnboundedReceiver`].

use super::chan::{Chan, WeakChan};
use super::error::{SendError, TryRecvError};
use super::fut::ClosedFuture;
use futures_core::Stream;
use std::fmt;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Creates a channel with no limit on how many values it buffers.
///
/// Sending never waits, so nothing slows a producer that outpaces its
/// consumer: memory use grows with the backlog. Prefer
/// [`channel`](super::channel) unless the producer is bounded by other means.
///
/// ```
/// # vigil::block_on(async {
/// let (tx, mut rx) = vigil::sync::mpsc::unbounded_channel();
/// for i in 0..100 {
///     tx.send(i).unwrap(); // never waits
/// }
/// drop(tx);
/// let mut sum = 0;
/// while let Some(i) = rx.recv().await {
///     sum += i;
/// }
/// assert_eq!(sum, 4950);
/// # });
/// ```
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let chan = Arc::new(Chan::new(None));
    let tx = UnboundedSender {
        chan: chan.clone(),
        detached: false,
    };
    (tx, UnboundedReceiver { chan })
}

/// The sending half of an unbounded channel; clone it for more producers.
///
/// # As a `Sink`
/// Always ready while the receiver is open; the error is `SendError<()>`
/// (the receiver is closed or dropped; the item was dropped). `poll_close`
/// closes only **this** handle (it stops counting as a sender, and sends
/// through it fail afterwards); the channel stays open for other senders.
pub struct UnboundedSender<T> {
    chan: Arc<Chan<T>>,
    /// `poll_close` ran: this handle no longer counts as a sender.
    detached: bool,
}

impl<T> UnboundedSender<T> {
    /// Sends `value` at once; fails, giving it back, if the receiver is
    /// closed or dropped. Never waits.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.detached {
            return Err(SendError(value));
        }
        self.chan
            .try_push(value)
            .map_err(|e| SendError(e.into_inner()))
    }

    /// Completes once the receiver is closed or dropped.
    ///
    /// **Cancel safety:** cancel-safe.
    pub async fn closed(&self) {
        ClosedFuture::new(&self.chan).await
    }

    /// `true` if the receiver is closed or dropped.
    pub fn is_closed(&self) -> bool {
        self.chan.is_rx_closed()
    }

    /// `true` if both senders belong to the same channel.
    pub fn same_channel(&self, other: &UnboundedSender<T>) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }

    /// A handle that does not keep the channel open; see
    /// [`WeakUnboundedSender`].
    pub fn downgrade(&self) -> WeakUnboundedSender<T> {
        WeakUnboundedSender {
            chan: WeakChan::new(&self.chan),
        }
    }

    /// Senders that keep the channel open: this one and its clones, not
    /// counting those dropped or closed through `Sink::poll_close`.
    pub fn strong_count(&self) -> usize {
        self.chan.sender_counts().0
    }

    /// Weak senders ([`WeakUnboundedSender`]) of this channel alive now.
    pub fn weak_count(&self) -> usize {
        self.chan.sender_counts().1
    }

    fn detach(&mut self) {
        if !std::mem::replace(&mut self.detached, true) {
            self.chan.drop_sender();
        }
    }
}

impl<T> Clone for UnboundedSender<T> {
    /// Another sender for the channel. A clone of a `Sink`-closed handle is
    /// closed too.
    fn clone(&self) -> UnboundedSender<T> {
        if !self.detached {
            self.chan.add_sender();
        }
        UnboundedSender {
            chan: self.chan.clone(),
            detached: self.detached,
        }
    }
}

impl<T> Drop for UnboundedSender<T> {
    fn drop(&mut self) {
        self.detach();
    }
}

impl<T> fmt::Debug for UnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnboundedSender")
            .field("chan", &self.chan)
            .field("detached", &self.detached)
            .finish()
    }
}

impl<T> futures_sink::Sink<T> for UnboundedSender<T> {
    type Error = SendError<()>;

    fn poll_ready(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if self.detached || self.chan.is_rx_closed() {
            Poll::Ready(Err(SendError(())))
        } else {
            Poll::Ready(Ok(()))
        }
    }

    fn start_send(self: Pin<&mut Self>, item: T) -> Result<(), Self::Error> {
        self.send(item).map_err(|_| SendError(()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.get_mut().detach();
        Poll::Ready(Ok(()))
    }
}

/// An unbounded sender that does not keep the channel open (the unbounded
/// twin of [`WeakSender`](super::WeakSender)).
pub struct WeakUnboundedSender<T> {
    chan: WeakChan<T>,
}

impl<T> WeakUnboundedSender<T> {
    /// Senders ([`UnboundedSender`]) that keep the channel open.
    pub fn strong_count(&self) -> usize {
        self.chan.sender_counts().0
    }

    /// Weak senders of this channel alive now, this one included.
    pub fn weak_count(&self) -> usize {
        self.chan.sender_counts().1
    }

    /// A full [`UnboundedSender`] again, or `None` if every sender is
    /// already gone.
    pub fn upgrade(&self) -> Option<UnboundedSender<T>> {
        self.chan.try_add_sender().then(|| UnboundedSender {
            chan: Arc::clone(&self.chan),
            detached: false,
        })
    }
}

impl<T> Clone for WeakUnboundedSender<T> {
    fn clone(&self) -> WeakUnboundedSender<T> {
        WeakUnboundedSender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> fmt::Debug for WeakUnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakUnboundedSender")
            .field("chan", &self.chan)
            .finish()
    }
}

/// The receiving half of an unbounded channel.
///
/// Dropping it closes the channel: later sends fail with their value, and
/// values still buffered are dropped.
pub struct UnboundedReceiver<T> {
    chan: Arc<Chan<T>>,
}

impl<T> UnboundedReceiver<T> {
    /// Receives the next value, waiting for one if none is buffered.
    /// Returns `None` once the buffer is empty and every sender is gone (or
    /// the channel was [`close`](Self::close)d).
    ///
    /// **Cancel safety:** cancel-safe: a value leaves the channel only in
    /// the poll that returns it.
    pub async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| self.chan.poll_recv(cx)).await
    }

    /// Receives up to `limit` values into `buffer` (appending), waiting for
    /// at least one. Returns how many were added; 0 if `limit` is 0 or the
    /// channel is finished.
    ///
    /// **Cancel safety:** cancel-safe, like `recv`.
    pub async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        poll_fn(|cx| self.chan.poll_recv_many(cx, buffer, limit)).await
    }

    /// [`recv`](UnboundedReceiver::recv) for synchronous code: blocks the
    /// thread until a value arrives or every sender is gone.
    ///
    /// # Panics
    ///
    /// On a thread that runs vigil tasks (use the async method there).
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Option<T> {
        crate::sync::blocking::wait(self.recv())
    }

    /// [`recv_many`](UnboundedReceiver::recv_many) for synchronous code:
    /// blocks the thread until at least one value can be appended to
    /// `buffer` (up to `limit`), and returns how many were; 0 if `limit` is
    /// 0 or every sender is gone and nothing is left.
    ///
    /// # Panics
    ///
    /// On a thread that runs vigil tasks (use the async method there).
    #[track_caller]
    pub fn blocking_recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        crate::sync::blocking::wait(self.recv_many(buffer, limit))
    }

    /// Receives a value if one is buffered right now.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.chan.try_recv()
    }

    /// Polls for the next value, registering `cx`'s waker if there is none
    /// yet. Only the waker of the latest call is woken.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.chan.poll_recv(cx)
    }

    /// Polls for values, appending up to `limit` of them to `buffer`; the
    /// building block of [`recv_many`](Self::recv_many). `Ready(n)` with
    /// `n > 0` is how many were appended (whatever was buffered, up to
    /// `limit`). `Ready(0)` means `limit` was 0 or nothing more can arrive.
    /// `Pending` registers `cx`'s waker; only the waker of the latest call
    /// (to this method or [`poll_recv`](Self::poll_recv)) is woken.
    pub fn poll_recv_many(
        &mut self,
        cx: &mut Context<'_>,
        buffer: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        self.chan.poll_recv_many(cx, buffer, limit)
    }

    /// Senders ([`UnboundedSender`]) that keep the channel open now. Same
    /// count as [`UnboundedSender::strong_count`].
    pub fn sender_strong_count(&self) -> usize {
        self.chan.sender_counts().0
    }

    /// Weak senders ([`WeakUnboundedSender`]) of this channel alive now.
    /// Same count as [`UnboundedSender::weak_count`].
    pub fn sender_weak_count(&self) -> usize {
        self.chan.sender_counts().1
    }

    /// Closes the channel for senders while keeping what is buffered; `recv`
    /// returns the remaining values, then `None`.
    pub fn close(&mut self) {
        self.chan.close_rx();
    }

    /// Values buffered now.
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    /// `true` if nothing is buffered now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `true` once every sender is gone or [`close`](Self::close) was
    /// called. Values may still be buffered.
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed_for_rx()
    }
}

impl<T> Drop for UnboundedReceiver<T> {
    fn drop(&mut self) {
        self.chan.drop_rx();
    }
}

impl<T> fmt::Debug for UnboundedReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnboundedReceiver")
            .field("chan", &self.chan)
            .finish()
    }
}

/// Yields the values as [`recv`](UnboundedReceiver::recv) does, ending at
/// `None`.
impl<T> Stream for UnboundedReceiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.chan.poll_recv(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.chan.size_hint()
    }
}
