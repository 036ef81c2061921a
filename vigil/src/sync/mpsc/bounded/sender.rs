//! The bounded channel's senders: [`Sender`] (also a `Sink`) and [`WeakSender`].

use super::{OwnedPermit, Permit, PermitIterator};
use crate::runtime::coop;
use crate::sync::mpsc::chan::{Chan, WeakChan};
use crate::sync::mpsc::error::{SendError, SendTimeoutError, TrySendError};
use crate::sync::mpsc::fut::{Acquire, ClosedFuture, SendFuture};
use crate::sync::wait_list::Key;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

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
    pub(super) chan: Arc<Chan<T>>,
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
    /// A new handle on `chan`, already counted among its senders.
    pub(super) fn new(chan: Arc<Chan<T>>) -> Sender<T> {
        Sender {
            chan,
            sink: SinkState::Idle,
        }
    }

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
        self.acquire(1).await?;
        Ok(Permit { chan: &self.chan })
    }

    /// Waits until `n` slots can be reserved together, and reserves them:
    /// the returned [`PermitIterator`] yields `n` [`Permit`]s, so a batch
    /// of `n` values can then be sent without waiting, and without the
    /// batch getting stuck halfway for lack of room. Slots the iterator has
    /// not handed out when it is dropped (and permits dropped unused) go
    /// back to the channel.
    ///
    /// The request keeps its place in the queue of waiting senders while it
    /// collects its slots: slots that free up go to it (and are held by it)
    /// until it has `n`, and senders queued behind it wait meanwhile.
    /// `n == 0` completes at once with an empty iterator (unless the
    /// receiver is closed).
    ///
    /// Fails with [`SendError`] if the receiver is closed or dropped (also
    /// while waiting), and at once if `n` is larger than the channel's
    /// [`max_capacity`](Self::max_capacity), since that many slots can
    /// never be free together.
    ///
    /// **Cancel safety:** cancel-safe. Dropping the future before it
    /// completes leaves the queue (so a retry starts again at the back),
    /// and the slots it had collected so far pass on to the next waiting
    /// senders; nothing leaks.
    ///
    /// ```
    /// use vigil::sync::mpsc;
    ///
    /// # vigil::block_on(async {
    /// let (tx, mut rx) = mpsc::channel(4);
    /// let other = tx.clone();
    ///
    /// let mut permits = tx.reserve_many(3).await.unwrap();
    /// assert_eq!(permits.len(), 3);
    /// assert_eq!(tx.capacity(), 1);
    ///
    /// // Another sender gets the last free slot, not one of the three.
    /// other.try_send("other").unwrap();
    /// assert!(other.try_send("no room").is_err());
    ///
    /// for word in ["one", "two"] {
    ///     permits.next().unwrap().send(word);
    /// }
    /// // The third slot is not needed after all: dropping the iterator
    /// // gives it back.
    /// drop(permits);
    /// assert_eq!(tx.capacity(), 1);
    ///
    /// let mut got = Vec::new();
    /// rx.recv_many(&mut got, 4).await;
    /// assert_eq!(got, ["other", "one", "two"]);
    ///
    /// // More slots than the channel has can never be reserved.
    /// assert!(tx.reserve_many(5).await.is_err());
    /// # });
    /// ```
    pub async fn reserve_many(&self, n: usize) -> Result<PermitIterator<'_, T>, SendError<()>> {
        if n > self.max_capacity() {
            return Err(SendError(()));
        }
        self.acquire(n).await?;
        Ok(PermitIterator {
            chan: &self.chan,
            remaining: n,
        })
    }

    /// Like [`reserve`](Self::reserve), but the permit owns the sender, so
    /// it can move into another task. [`OwnedPermit::send`] gives the
    /// sender back. Cancel-safe, like `reserve`.
    pub async fn reserve_owned(self) -> Result<OwnedPermit<T>, SendError<()>> {
        self.acquire(1).await?;
        Ok(OwnedPermit { sender: Some(self) })
    }

    /// Waits for `n` (at most the bound) slots.
    async fn acquire(&self, n: usize) -> Result<(), SendError<()>> {
        if self.sink == SinkState::Detached {
            return Err(SendError(()));
        }
        Acquire::new(&self.chan, n)
            .await
            .map_err(|()| SendError(()))
    }

    /// Reserves a slot if one is free right now (and no sender is waiting).
    pub fn try_reserve(&self) -> Result<Permit<'_, T>, TrySendError<()>> {
        if self.sink == SinkState::Detached {
            return Err(TrySendError::Closed(()));
        }
        self.chan.try_reserve(1)?;
        Ok(Permit { chan: &self.chan })
    }

    /// Reserves `n` slots together if they are free right now and no
    /// sender is waiting ahead; all or nothing. The non-waiting form of
    /// [`reserve_many`](Self::reserve_many).
    ///
    /// Returns [`TrySendError::Full`] if fewer than `n` slots are free,
    /// if other senders are queued, or if `n` is larger than the channel's
    /// [`max_capacity`](Self::max_capacity) (it could never succeed), and
    /// [`TrySendError::Closed`] if the receiver is closed or dropped. With
    /// `n == 0` it succeeds with an empty iterator while the receiver is
    /// open.
    ///
    /// ```
    /// use vigil::sync::mpsc::{self, error::TrySendError};
    ///
    /// let (tx, rx) = mpsc::channel::<u8>(2);
    /// let permits = tx.try_reserve_many(2).unwrap();
    /// assert!(matches!(tx.try_reserve_many(1), Err(TrySendError::Full(()))));
    /// drop(permits);
    /// assert!(matches!(tx.try_reserve_many(3), Err(TrySendError::Full(()))));
    /// drop(rx);
    /// assert!(matches!(tx.try_reserve_many(1), Err(TrySendError::Closed(()))));
    /// ```
    pub fn try_reserve_many(&self, n: usize) -> Result<PermitIterator<'_, T>, TrySendError<()>> {
        if n > self.max_capacity() {
            return Err(TrySendError::Full(()));
        }
        if self.sink == SinkState::Detached {
            return Err(TrySendError::Closed(()));
        }
        self.chan.try_reserve(n)?;
        Ok(PermitIterator {
            chan: &self.chan,
            remaining: n,
        })
    }

    /// Like [`try_reserve`](Self::try_reserve), but the permit owns the
    /// sender, as with [`reserve_owned`](Self::reserve_owned). On failure
    /// the sender comes back inside the error
    /// ([`TrySendError::into_inner`]), so it is not lost.
    ///
    /// ```
    /// use vigil::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// let permit = tx.clone().try_reserve_owned().unwrap();
    /// // The only slot is taken: the clone comes back in the error.
    /// let tx2 = tx.clone().try_reserve_owned().unwrap_err().into_inner();
    /// assert!(tx2.same_channel(&tx));
    /// permit.send(5);
    /// assert_eq!(rx.try_recv(), Ok(5));
    /// ```
    pub fn try_reserve_owned(self) -> Result<OwnedPermit<T>, TrySendError<Self>> {
        if self.sink == SinkState::Detached {
            return Err(TrySendError::Closed(self));
        }
        match self.chan.try_reserve(1) {
            Ok(()) => Ok(OwnedPermit { sender: Some(self) }),
            Err(TrySendError::Full(())) => Err(TrySendError::Full(self)),
            Err(TrySendError::Closed(())) => Err(TrySendError::Closed(self)),
        }
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
            SinkState::Reserved => self.chan.release(1),
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
        let poll = this.chan.poll_acquire(&mut key, 1, cx);
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
