//! The bounded channel's [`Receiver`] (also a `Stream`).

#[cfg(doc)]
use super::{Sender, WeakSender};
use crate::sync::mpsc::chan::Chan;
use crate::sync::mpsc::error::TryRecvError;
use futures_core::Stream;
use std::fmt;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// The receiving half of a bounded channel.
///
/// Dropping it closes the channel: waiting and later sends fail with their
/// value, and values still buffered are dropped.
pub struct Receiver<T> {
    chan: Arc<Chan<T>>,
}

impl<T> Receiver<T> {
    /// The receiving handle of `chan`.
    pub(super) fn new(chan: Arc<Chan<T>>) -> Receiver<T> {
        Receiver { chan }
    }

    /// Receives the next value, waiting for one if the buffer is empty.
    /// Returns `None` once the buffer is empty and nothing more can arrive
    /// (every sender is gone, or the channel was [`close`](Self::close)d and
    /// no permit is left).
    ///
    /// Taking a value out frees its slot for a waiting sender.
    ///
    /// **Cancel safety:** cancel-safe. A value is only taken out of the
    /// channel by the poll that returns it, so a dropped `recv` loses
    /// nothing.
    pub async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| self.chan.poll_recv(cx)).await
    }

    /// Receives up to `limit` values into `buffer` (appending), waiting for
    /// at least one. Returns how many were added; 0 if `limit` is 0 or the
    /// channel is finished (as when [`recv`](Self::recv) returns `None`).
    ///
    /// **Cancel safety:** cancel-safe, like `recv`.
    ///
    /// ```
    /// # vigil::block_on(async {
    /// let (tx, mut rx) = vigil::sync::mpsc::channel(4);
    /// for i in 0..3 {
    ///     tx.send(i).await.unwrap();
    /// }
    /// let mut got = Vec::new();
    /// assert_eq!(rx.recv_many(&mut got, 2).await, 2);
    /// assert_eq!(got, [0, 1]);
    /// # });
    /// ```
    pub async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        poll_fn(|cx| self.chan.poll_recv_many(cx, buffer, limit)).await
    }

    /// [`recv`](Receiver::recv) for synchronous code: blocks the thread
    /// until a value arrives or every sender is gone.
    ///
    /// # Panics
    ///
    /// On a thread that runs vigil tasks (use the async method there).
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Option<T> {
        crate::sync::blocking::wait(self.recv())
    }

    /// [`recv_many`](Receiver::recv_many) for synchronous code: blocks the
    /// thread until at least one value can be appended to `buffer` (up to
    /// `limit`), and returns how many were; 0 if `limit` is 0 or nothing
    /// more can arrive.
    ///
    /// # Panics
    ///
    /// On a thread that runs vigil tasks (use the async method there).
    ///
    /// ```
    /// let (tx, mut rx) = vigil::sync::mpsc::channel(8);
    /// let consumer = std::thread::spawn(move || {
    ///     let mut got = Vec::new();
    ///     while rx.blocking_recv_many(&mut got, 8) > 0 {}
    ///     got
    /// });
    /// for i in 0..5 {
    ///     tx.blocking_send(i).unwrap();
    /// }
    /// drop(tx);
    /// assert_eq!(consumer.join().unwrap(), [0, 1, 2, 3, 4]);
    /// ```
    #[track_caller]
    pub fn blocking_recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        crate::sync::blocking::wait(self.recv_many(buffer, limit))
    }

    /// Receives a value if one is buffered right now.
    ///
    /// [`TryRecvError::Empty`] means one may still come;
    /// [`TryRecvError::Disconnected`] means none ever will.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.chan.try_recv()
    }

    /// Polls for the next value, registering `cx`'s waker if there is none
    /// yet; the building block of [`recv`](Self::recv) for hand-written
    /// futures. Only the waker of the latest call is woken.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.chan.poll_recv(cx)
    }

    /// Polls for values, appending up to `limit` of them to `buffer`; the
    /// building block of [`recv_many`](Self::recv_many). `Ready(n)` with
    /// `n > 0` is how many were appended (whatever was buffered, up to
    /// `limit`; it does not wait to fill `limit`). `Ready(0)` means `limit`
    /// was 0 or nothing more can arrive. `Pending` registers `cx`'s waker;
    /// as with [`poll_recv`](Self::poll_recv), only the waker of the latest
    /// call (to either method) is woken.
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// # vigil::block_on(async {
    /// let (tx, mut rx) = vigil::sync::mpsc::channel(8);
    /// for i in 0..5 {
    ///     tx.send(i).await.unwrap();
    /// }
    /// let mut got = Vec::new();
    /// let n = poll_fn(|cx| rx.poll_recv_many(cx, &mut got, 3)).await;
    /// assert_eq!((n, &got[..]), (3, &[0, 1, 2][..]));
    /// # });
    /// ```
    pub fn poll_recv_many(
        &mut self,
        cx: &mut Context<'_>,
        buffer: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        self.chan.poll_recv_many(cx, buffer, limit)
    }

    /// Senders ([`Sender`]) that keep the channel open now; 0 once the
    /// channel has ended for want of senders. Same count as
    /// [`Sender::strong_count`].
    pub fn sender_strong_count(&self) -> usize {
        self.chan.sender_counts().0
    }

    /// Weak senders ([`WeakSender`]) of this channel alive now. Same count
    /// as [`Sender::weak_count`].
    pub fn sender_weak_count(&self) -> usize {
        self.chan.sender_counts().1
    }

    /// Closes the channel for senders while keeping what is buffered: sends
    /// and waiting senders fail, [`Sender::closed`] completes, outstanding
    /// permits can still send, and `recv` returns the remaining values, then
    /// `None`.
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

    /// Slots free right now (see [`Sender::capacity`]).
    pub fn capacity(&self) -> usize {
        self.chan.capacity()
    }

    /// The buffer size the channel was created with.
    pub fn max_capacity(&self) -> usize {
        self.chan.bound().unwrap_or(usize::MAX)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.chan.drop_rx();
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("chan", &self.chan)
            .finish()
    }
}

/// Yields the values as [`recv`](Receiver::recv) does, ending at `None`.
impl<T> Stream for Receiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.chan.poll_recv(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.chan.size_hint()
    }
}
