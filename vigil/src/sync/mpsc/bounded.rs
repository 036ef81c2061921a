//! The bounded channel's handles: [`Sender`], [`Receiver`] and the permits.

use super::chan::{Chan, WeakChan};
use super::error::{SendError, SendTimeoutError, TryRecvError, TrySendError};
use super::fut::{Acquire, ClosedFuture, SendFuture};
use crate::runtime::coop;
use crate::sync::wait_list::Key;
use futures_core::Stream;
use std::fmt;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

/// Creates a channel that buffers up to `buffer` values.
///
/// Senders wait (in arrival order) while the buffer is full; a slot frees
/// when the receiver takes a value out or when a [`Permit`] is dropped
/// unused. The buffer grows on demand up to `buffer` entries and is reused.
///
/// # Panics
/// If `buffer` is 0: such a channel could never hold a value.
///
/// ```
/// # vigil::block_on(async {
/// let (tx, mut rx) = vigil::sync::mpsc::channel(8);
/// vigil::spawn(async move {
///     for i in 0..3 {
///         tx.send(i).await.unwrap();
///     }
/// });
/// assert_eq!(rx.recv().await, Some(0));
/// assert_eq!(rx.recv().await, Some(1));
/// assert_eq!(rx.recv().await, Some(2));
/// assert_eq!(rx.recv().await, None); // the sender is gone
/// # });
/// ```
#[track_caller]
pub fn channel<T>(buffer: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        buffer > 0,
        "mpsc::channel needs a buffer of at least one slot"
    );
    let chan = Arc::new(Chan::new(Some(buffer)));
    let tx = Sender {
        chan: chan.clone(),
        sink: SinkState::Idle,
    };
    (tx, Receiver { chan })
}

/// The sending half of a bounded channel; clone it for more producers.
///
/// The channel ends for the receiver when every `Sender` is dropped (or
/// closed as a [`Sink`](futures_sink::Sink)).
///
/// # As a `Sink`
/// `poll_ready` reserves a slot (queueing with the other senders like
/// [`reserve`](Sender::reserve)) and `start_send` fills it; each clone has
/// its own reservation. The error is `SendError<()>`: the receiver is gone,
/// and the item (if any) was dropped. `start_send` without a successful
/// `poll_ready` first panics. `poll_close` closes only **this** handle: it
/// gives back its reservation and stops counting as a sender (so the
/// receiver sees the end once the other senders are gone too), after which
/// every send through this handle fails. The channel stays open for the
/// other senders.
pub struct Sender<T> {
    chan: Arc<Chan<T>>,
    sink: SinkState,
}

/// What the `Sink` side of one handle holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SinkState {
    Idle,
    /// Queued for a slot.
    Waiting(Key),
    /// Holds a reserved slot for the next `start_send`.
    Reserved,
    /// `poll_close` ran: this handle no longer counts as a sender.
    Detached,
}

impl<T> Sender<T> {
    /// Sends `value`, waiting for a free slot if the buffer is full.
    ///
    /// Fails, giving the value back, if the receiver is closed or dropped
    /// (also when that happens while waiting).
    ///
    /// **Cancel safety:** dropping the future before it completes drops the
    /// value (it was never sent), but nothing else is lost: the future
    /// leaves the queue of waiting senders, and a slot it had already been
    /// granted goes to the next sender in line. Use [`reserve`](Self::reserve)
    /// to wait for a slot without giving up the value.
    ///
    /// ```
    /// # vigil::block_on(async {
    /// let (tx, mut rx) = vigil::sync::mpsc::channel(1);
    /// tx.send("a").await.unwrap();
    /// drop(rx);
    /// assert_eq!(tx.send("b").await.unwrap_err().0, "b");
    /// # });
    /// ```
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.sink == SinkState::Detached {
            return Err(SendError(value));
        }
        SendFuture::new(&self.chan, value).await.map_err(SendError)
    }

    /// [`send`](Sender::send), giving up after `timeout`: the value comes
    /// back in [`SendTimeoutError::Timeout`] if no slot came free in time,
    /// or in [`SendTimeoutError::Closed`] if the receiver is gone.
    ///
    /// **Cancel safety:** if the future is dropped before it completes, the
    /// value was not sent, and it is dropped with the future. To keep it,
    /// wait with [`reserve`](Sender::reserve) (cancel-safe) and send once a
    /// permit is granted.
    ///
    /// ```
    /// use std::time::Duration;
    /// use vigil::sync::mpsc::{self, error::SendTimeoutError};
    ///
    /// # vigil::block_on(async {
    /// let (tx, mut rx) = mpsc::channel(1);
    /// tx.send(1).await.unwrap();
    /// // Full, and nobody receives: the value comes back.
    /// let err = tx.send_timeout(2, Duration::from_millis(10)).await.unwrap_err();
    /// assert!(matches!(err, SendTimeoutError::Timeout(2)));
    /// assert_eq!(rx.recv().await, Some(1));
    /// tx.send_timeout(3, Duration::from_millis(10)).await.unwrap();
    /// # });
    /// ```
    pub async fn send_timeout(
        &self,
        value: T,
        timeout: std::time::Duration,
    ) -> Result<(), SendTimeoutError<T>> {
        match crate::time::timeout(timeout, self.reserve()).await {
            Ok(Ok(permit)) => {
                permit.send(value);
                Ok(())
            }
            Ok(Err(_closed)) => Err(SendTimeoutError::Closed(value)),
            Err(_elapsed) => Err(SendTimeoutError::Timeout(value)),
        }
    }

    /// [`send`](Sender::send) for synchronous code: blocks the thread
    /// until a slot is free (or the receiver is gone).
    ///
    /// # Panics
    ///
    /// On a thread that runs vigil tasks (use the async method there).
    #[track_caller]
    pub fn blocking_send(&self, value: T) -> Result<(), SendError<T>> {
        crate::sync::blocking::wait(self.send(value))
    }

    /// Sends `value` if a slot is free right now.
    ///
    /// Returns [`TrySendError::Full`] if the buffer is full or other senders
    /// are already waiting for a slot (they come first), and
    /// [`TrySendError::Closed`] if the receiver is closed or dropped.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        if self.sink == SinkState::Detached {
            return Err(TrySendError::Closed(value));
        }
        self.chan.try_push(value)
    }

    /// Waits for a free slot and reserves it, so that the value can be sent
    /// later without waiting (or chosen once room is certain).
    ///
    /// **Cancel safety:** cancel-safe. A dropped `reserve` leaves the queue;
    /// a slot granted to it meanwhile passes on to the next waiter.
    ///
    /// ```
    /// # vigil::block_on(async {
    /// let (tx, mut rx) = vigil::sync::mpsc::channel(1);
    /// let permit = tx.reserve().await.unwrap();
    /// assert_eq!(tx.capacity(), 0);
    /// permit.send(7);
    /// assert_eq!(rx.recv().await, Some(7));
    /// # });
    /// ```
    pub async fn reserve(&self) -> Result<Permit<'_, T>, SendError<()>> {
        self.acquire().await?;
        Ok(Permit { chan: &self.chan })
    }

    /// Like [`reserve`](Self::reserve), but the permit owns the sender, so
    /// it can move into another task. [`OwnedPermit::send`] gives the
    /// sender back. Cancel-safe, like `reserve`.
    pub async fn reserve_owned(self) -> Result<OwnedPermit<T>, SendError<()>> {
        self.acquire().await?;
        Ok(OwnedPermit { sender: Some(self) })
    }

    async fn acquire(&self) -> Result<(), SendError<()>> {
        if self.sink == SinkState::Detached {
            return Err(SendError(()));
        }
        Acquire::new(&self.chan).await.map_err(|()| SendError(()))
    }

    /// Reserves a slot if one is free right now (and no sender is waiting).
    pub fn try_reserve(&self) -> Result<Permit<'_, T>, TrySendError<()>> {
        if self.sink == SinkState::Detached {
            return Err(TrySendError::Closed(()));
        }
        self.chan.try_reserve()?;
        Ok(Permit { chan: &self.chan })
    }

    /// Completes once the receiver is closed or dropped, i.e. once sending
    /// can no longer succeed. Useful to stop producing work nobody will
    /// receive.
    ///
    /// **Cancel safety:** cancel-safe.
    pub async fn closed(&self) {
        ClosedFuture::new(&self.chan).await
    }

    /// `true` if the receiver is closed or dropped.
    pub fn is_closed(&self) -> bool {
        self.chan.is_rx_closed()
    }

    /// Slots free right now (neither filled nor reserved).
    pub fn capacity(&self) -> usize {
        self.chan.capacity()
    }

    /// The buffer size the channel was created with.
    pub fn max_capacity(&self) -> usize {
        self.chan.bound().unwrap_or(usize::MAX)
    }

    /// `true` if both senders belong to the same channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }

    /// A handle that does not keep the channel open; see [`WeakSender`].
    pub fn downgrade(&self) -> WeakSender<T> {
        WeakSender {
            chan: WeakChan::new(&self.chan),
        }
    }

    /// Senders that keep the channel open: this one and its clones, not
    /// counting those dropped or closed through `Sink::poll_close`.
    pub fn strong_count(&self) -> usize {
        self.chan.sender_counts().0
    }

    /// Weak senders ([`WeakSender`]) of this channel alive now.
    pub fn weak_count(&self) -> usize {
        self.chan.sender_counts().1
    }

    /// Ends this handle's part: drops any `Sink` reservation and stops
    /// counting as a sender. Idempotent.
    fn detach(&mut self) {
        match std::mem::replace(&mut self.sink, SinkState::Detached) {
            SinkState::Detached => return,
            SinkState::Idle => {}
            SinkState::Waiting(key) => self.chan.cancel_acquire(key),
            SinkState::Reserved => self.chan.release(),
        }
        self.chan.drop_sender();
    }
}

impl<T> Clone for Sender<T> {
    /// Another sender for the channel, with its own (empty) `Sink`
    /// reservation. A clone of a `Sink`-closed handle is closed too.
    fn clone(&self) -> Sender<T> {
        let sink = if self.sink == SinkState::Detached {
            SinkState::Detached
        } else {
            self.chan.add_sender();
            SinkState::Idle
        };
        Sender {
            chan: self.chan.clone(),
            sink,
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.detach();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("chan", &self.chan)
            .field("sink", &self.sink)
            .finish()
    }
}

impl<T> futures_sink::Sink<T> for Sender<T> {
    type Error = SendError<()>;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        let this = self.get_mut();
        let mut key = match this.sink {
            SinkState::Reserved => return Poll::Ready(Ok(())),
            SinkState::Detached => return Poll::Ready(Err(SendError(()))),
            SinkState::Waiting(key) => Some(key),
            SinkState::Idle => None,
        };
        ready!(coop::poll_proceed(cx));
        let poll = this.chan.poll_acquire(&mut key, cx);
        this.sink = match (&poll, key) {
            (Poll::Ready(Ok(())), _) => SinkState::Reserved,
            (_, Some(key)) => SinkState::Waiting(key),
            (_, None) => SinkState::Idle,
        };
        coop::refund_if_pending(poll).map_err(|()| SendError(()))
    }

    fn start_send(self: Pin<&mut Self>, item: T) -> Result<(), Self::Error> {
        let this = self.get_mut();
        match this.sink {
            SinkState::Reserved => {
                this.sink = SinkState::Idle;
                this.chan.push_reserved(item).map_err(|_| SendError(()))
            }
            SinkState::Detached => Err(SendError(())),
            _ => panic!("Sender::start_send called without a successful poll_ready"),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // `start_send` puts the value in the buffer at once.
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.get_mut().detach();
        Poll::Ready(Ok(()))
    }
}

/// A sender that does not count: the channel ends for the receiver when
/// the last [`Sender`] goes, whatever `WeakSender`s remain. Useful for a
/// task that must be able to send to a channel without being the reason it
/// stays open (a registry of subscribers, a self-reference).
pub struct WeakSender<T> {
    chan: WeakChan<T>,
}

impl<T> WeakSender<T> {
    /// Senders ([`Sender`]) that keep the channel open.
    pub fn strong_count(&self) -> usize {
        self.chan.sender_counts().0
    }

    /// Weak senders of this channel alive now, this one included.
    pub fn weak_count(&self) -> usize {
        self.chan.sender_counts().1
    }

    /// A full [`Sender`] again, or `None` if every sender is already gone
    /// (the channel ended, and an upgrade must not revive it).
    pub fn upgrade(&self) -> Option<Sender<T>> {
        self.chan.try_add_sender().then(|| Sender {
            chan: Arc::clone(&self.chan),
            sink: SinkState::Idle,
        })
    }
}

impl<T> Clone for WeakSender<T> {
    fn clone(&self) -> WeakSender<T> {
        WeakSender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> fmt::Debug for WeakSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakSender")
            .field("chan", &self.chan)
            .finish()
    }
}

/// A reserved slot: [`send`](Permit::send) fills it without waiting;
/// dropping the permit frees the slot for the next sender.
pub struct Permit<'a, T> {
    chan: &'a Chan<T>,
}

impl<T> Permit<'_, T> {
    /// Sends `value` into the reserved slot. If the receiver was dropped in
    /// the meantime, the value is dropped (a receiver that only called
    /// `close` still receives it).
    pub fn send(self, value: T) {
        let chan = self.chan;
        std::mem::forget(self);
        // Err: the receiver is gone; dropping the value is all there is to do.
        let _ = chan.push_reserved(value);
    }
}

impl<T> Drop for Permit<'_, T> {
    fn drop(&mut self) {
        self.chan.release();
    }
}

impl<T> fmt::Debug for Permit<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").field("chan", self.chan).finish()
    }
}

/// A reserved slot that owns its [`Sender`]; see
/// [`Sender::reserve_owned`].
pub struct OwnedPermit<T> {
    /// `None` only once consumed.
    sender: Option<Sender<T>>,
}

impl<T> OwnedPermit<T> {
    /// Sends `value` into the reserved slot and returns the sender. As with
    /// [`Permit::send`], the value is dropped if the receiver is gone.
    pub fn send(mut self, value: T) -> Sender<T> {
        let sender = self.sender.take().expect("OwnedPermit already used");
        let _ = sender.chan.push_reserved(value);
        sender
    }

    /// Gives the slot back unused and returns the sender.
    pub fn release(mut self) -> Sender<T> {
        let sender = self.sender.take().expect("OwnedPermit already used");
        sender.chan.release();
        sender
    }
}

impl<T> Drop for OwnedPermit<T> {
    fn drop(&mut self) {
        if let Some(sender) = self.sender.take() {
            sender.chan.release();
        }
    }
}

impl<T> fmt::Debug for OwnedPermit<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedPermit")
            .field("sender", &self.sender)
            .finish()
    }
}

/// The receiving half of a bounded channel.
///
/// Dropping it closes the channel: waiting and later sends fail with their
/// value, and values still buffered are dropped.
pub struct Receiver<T> {
    chan: Arc<Chan<T>>,
}

impl<T> Receiver<T> {
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
        if limit == 0 {
            return 0;
        }
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
