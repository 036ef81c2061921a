//! A multi-producer, multi-consumer channel where every receiver gets
//! every value (a clone of it), up to a bounded backlog.
//!
//! Use it to fan events out to many listeners: chat messages to every
//! connection, invalidations to every cache.
//!
//! # Design
//!
//! Values go into a ring buffer of `capacity` slots (rounded up to a power
//! of two, so a position maps to its slot with a mask). Positions count
//! up forever; a receiver is just the position of the next value it wants.
//! Senders never wait: when the buffer is full the oldest value is
//! overwritten, and a receiver that was still behind it learns, on its
//! next receive, that it *lagged* and by how many values, then carries on
//! from the oldest value still held. A slow listener therefore costs memory
//! bounded by the capacity, never back-pressure on the senders.
//!
//! Each slot counts the receivers that still have to read its value (those
//! alive when it was sent, minus those that read it since or left). The
//! last reader takes the value out instead of cloning it, so the value is
//! dropped as soon as nobody will read it, not when it is overwritten. A
//! dropped receiver walks its unread positions and gives up its share of
//! each. Every value is dropped exactly once: by its last reader, by being
//! overwritten, or with the channel.
//!
//! All of this sits behind one short mutex, with receivers waiting in
//! `recv` queued in a wait list and woken (after the mutex is released) on
//! each send. Values are cloned under that mutex, so keep `Clone` cheap
//! (wrap large values in an `Arc`); values are never *dropped* under it, so
//! a value's destructor may use the channel. A completed receive spends the
//! task's cooperative budget, so a receiver that always finds a value
//! waiting still lets other tasks run.

use super::wait_list::{Key, WaitList};
use super::wake_batch::{register, wake_list};
use crate::loom::sync::{Mutex, MutexGuard};
use crate::runtime::coop;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, PoisonError};
use std::task::{Context, Poll, Waker};

use error::{RecvError, SendError, TryRecvError};

pub mod error;
mod stream;
mod weak;

pub use stream::BroadcastStream;
pub use weak::WeakSender;

/// Creates a broadcast channel holding up to `capacity` unread values
/// (rounded up to a power of two); returns a sender and a first receiver.
///
/// # Panics
///
/// If `capacity` is zero or larger than `usize::MAX / 2`.
///
/// ```
/// use vigil::sync::broadcast;
///
/// #[vigil::main(flavor = "current_thread")]
/// async fn main() {
///     let (tx, mut rx1) = broadcast::channel(16);
///     let mut rx2 = tx.subscribe();
///     let listener = vigil::spawn(async move {
///         let mut got = Vec::new();
///         // `recv` fails with `Closed` once every sender is gone.
///         while let Ok(v) = rx2.recv().await {
///             got.push(v);
///         }
///         got
///     });
///     assert_eq!(tx.send(1).unwrap(), 2); // two receivers
///     tx.send(2).unwrap();
///     drop(tx);
///     assert_eq!(rx1.recv().await.unwrap(), 1);
///     assert_eq!(listener.await.unwrap(), [1, 2]);
/// }
/// ```
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(capacity > 0, "broadcast capacity must be at least 1");
    assert!(capacity <= usize::MAX >> 1, "broadcast capacity too large");
    let slots = (0..capacity.next_power_of_two())
        .map(|_| Slot {
            unread: 0,
            value: None,
        })
        .collect();
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            slots,
            tail: 0,
            senders: 1,
            weak_senders: 0,
            receivers: 1,
            recv_waiters: WaitList::new(),
            closed_waiters: WaitList::new(),
        }),
    });
    let rx = Receiver {
        shared: shared.clone(),
        next: 0,
    };
    (Sender { shared }, rx)
}

struct Shared<T> {
    state: Mutex<State<T>>,
}

struct State<T> {
    slots: Box<[Slot<T>]>,
    /// Position of the next value to be sent.
    tail: u64,
    senders: usize,
    /// Live [`WeakSender`]s, which do not keep the channel open.
    weak_senders: usize,
    receivers: usize,
    recv_waiters: WaitList<Option<Waker>>,
    closed_waiters: WaitList<Option<Waker>>,
}

struct Slot<T> {
    /// Receivers that have yet to read this slot's value; it is `None`
    /// exactly when this is 0.
    unread: usize,
    value: Option<T>,
}

impl<T> State<T> {
    /// The oldest position still held.
    fn head(&self) -> u64 {
        self.tail.saturating_sub(self.slots.len() as u64)
    }

    fn slot(&mut self, pos: u64) -> &mut Slot<T> {
        let mask = self.slots.len() - 1;
        &mut self.slots[pos as usize & mask]
    }

    /// Values still waiting for at least one receiver.
    fn queued(&self) -> usize {
        self.slots.iter().filter(|s| s.unread > 0).count()
    }
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // Only `Clone::clone` runs under the lock, and it runs before any
        // change, so a poisoned lock's state is intact.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The sending half; clone it for more senders.
///
/// The channel closes when the last sender drops: receivers get what is
/// left, then [`RecvError::Closed`].
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// A receiving half: gets every value sent after it was created.
///
/// Make more with [`Sender::subscribe`] or [`Receiver::resubscribe`]
/// (a receiver is not `Clone`: a clone's place in the backlog would be
/// ambiguous).
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// Position of the next value to read.
    next: u64,
}

impl<T> Sender<T> {
    /// Sends `value` to every current receiver; returns how many there
    /// are. Never waits: if the buffer is full the oldest value is
    /// overwritten (receivers that had not read it will report
    /// [`RecvError::Lagged`]). Fails, giving the value back, if there are
    /// no receivers.
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let mut state = self.shared.lock();
        let receivers = state.receivers;
        if receivers == 0 {
            return Err(SendError(value));
        }
        let tail = state.tail;
        let slot = state.slot(tail);
        let overwritten = slot.value.replace(value);
        slot.unread = receivers;
        state.tail += 1;
        let wake = !state.recv_waiters.is_empty();
        drop(state);
        drop(overwritten);
        if wake {
            wake_list(|| self.shared.lock(), |s| &mut s.recv_waiters);
        }
        Ok(receivers)
    }

    /// A new receiver, which gets the values sent from now on.
    pub fn subscribe(&self) -> Receiver<T> {
        new_receiver(&self.shared)
    }

    /// How many receivers exist.
    pub fn receiver_count(&self) -> usize {
        self.shared.lock().receivers
    }

    /// Values that some receiver has yet to read (and that were not
    /// overwritten).
    pub fn len(&self) -> usize {
        self.shared.lock().queued()
    }

    /// `true` if every receiver has read every value still held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `true` if both senders belong to the same channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Waits until there are no receivers; at once if there are none.
    ///
    /// **Cancel-safe**: it only observes.
    pub async fn closed(&self) {
        Closed {
            shared: &self.shared,
            key: None,
        }
        .await
    }
}

fn new_receiver<T>(shared: &Arc<Shared<T>>) -> Receiver<T> {
    let mut state = shared.lock();
    state.receivers += 1;
    Receiver {
        shared: shared.clone(),
        next: state.tail,
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        self.shared.lock().senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let last = {
            let mut state = self.shared.lock();
            state.senders -= 1;
            state.senders == 0
        };
        if last {
            wake_list(|| self.shared.lock(), |s| &mut s.recv_waiters);
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

/// Reads the value at `*next`, or says why not. The value is taken out
/// if this was its last reader, cloned otherwise.
fn take_next<T: Clone>(state: &mut State<T>, next: &mut u64) -> Result<T, TryRecvError> {
    if *next >= state.tail {
        return Err(if state.senders == 0 {
            TryRecvError::Closed
        } else {
            TryRecvError::Empty
        });
    }
    let head = state.head();
    if *next < head {
        let missed = head - *next;
        *next = head;
        return Err(TryRecvError::Lagged(missed));
    }
    let slot = state.slot(*next);
    let value = if slot.unread == 1 {
        slot.value.take()
    } else {
        // May panic (user code): nothing has changed yet.
        slot.value.clone()
    };
    slot.unread -= 1;
    *next += 1;
    Ok(value.expect("an unread slot holds its value"))
}

impl<T: Clone> Receiver<T> {
    /// Waits for the next value and returns a clone of it (or the value
    /// itself, for its last reader).
    ///
    /// Fails with [`RecvError::Lagged`] once after this receiver fell
    /// behind (then resumes from the oldest value held), and with
    /// [`RecvError::Closed`] once every sender is gone and nothing is left
    /// to read.
    ///
    /// **Cancel-safe**: a value is taken only when the future completes,
    /// so dropping it early loses nothing.
    ///
    /// ```
    /// use vigil::sync::broadcast::{self, error::RecvError};
    ///
    /// #[vigil::main(flavor = "current_thread")]
    /// async fn main() {
    ///     let (tx, mut rx) = broadcast::channel(2);
    ///     for i in 1..=5 {
    ///         tx.send(i).unwrap(); // never waits, even with a slow reader
    ///     }
    ///     // Only the last two were kept: three were missed.
    ///     assert_eq!(rx.recv().await, Err(RecvError::Lagged(3)));
    ///     assert_eq!(rx.recv().await, Ok(4));
    ///     assert_eq!(rx.recv().await, Ok(5));
    ///     drop(tx);
    ///     assert_eq!(rx.recv().await, Err(RecvError::Closed));
    /// }
    /// ```
    pub async fn recv(&mut self) -> Result<T, RecvError> {
        Recv {
            rx: self,
            key: None,
        }
        .await
    }

    /// [`recv`](Receiver::recv) for synchronous code: blocks the thread
    /// until a value arrives (or a lag or the end is reported).
    ///
    /// # Panics
    ///
    /// On a thread that runs vigil tasks (use the async method there).
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Result<T, RecvError> {
        crate::sync::blocking::wait(self.recv())
    }

    /// Returns the next value if one is waiting, without waiting.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut state = self.shared.lock();
        take_next(&mut state, &mut self.next)
    }

    /// A new receiver on the same channel, which gets the values sent from
    /// now on (not this one's backlog).
    pub fn resubscribe(&self) -> Receiver<T> {
        new_receiver(&self.shared)
    }
}

impl<T> Receiver<T> {
    /// Values sent that this receiver has not read yet (including any it
    /// lagged past and will never see).
    pub fn len(&self) -> usize {
        let state = self.shared.lock();
        (state.tail - self.next) as usize
    }

    /// `true` if this receiver has read everything sent.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `true` once every sender is gone (values may still be left to read).
    pub fn is_closed(&self) -> bool {
        self.shared.lock().senders == 0
    }

    /// `true` if both receivers belong to the same channel.
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // Values sent from here on do not count us; give up our share of
        // those sent before, dropping each that nobody else will read.
        let (end, last) = {
            let mut state = self.shared.lock();
            state.receivers -= 1;
            (state.tail, state.receivers == 0)
        };
        while self.next < end {
            let mut state = self.shared.lock();
            let mut orphan = None;
            let mut pos = self.next.max(state.head());
            while pos < end && orphan.is_none() {
                let slot = state.slot(pos);
                slot.unread -= 1;
                if slot.unread == 0 {
                    orphan = slot.value.take();
                }
                pos += 1;
            }
            self.next = pos;
            drop(state);
            drop(orphan);
        }
        if last {
            wake_list(|| self.shared.lock(), |s| &mut s.closed_waiters);
        }
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

/// `Receiver::recv`.
struct Recv<'a, T> {
    rx: &'a mut Receiver<T>,
    key: Option<Key>,
}

impl<T: Clone> Receiver<T> {
    /// One receive step for a waiter whose place in the wait list is `key`
    /// (a [`Recv`] future's, or a [`BroadcastStream`]'s): a value, a lag or
    /// the end, or `Pending` with the waker registered.
    fn poll_recv_keyed(
        &mut self,
        key: &mut Option<Key>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<T, RecvError>> {
        let Receiver { shared, next } = self;
        let mut state = shared.lock();
        let ret = match take_next(&mut state, next) {
            Ok(v) => Ok(v),
            Err(TryRecvError::Lagged(n)) => Err(RecvError::Lagged(n)),
            Err(TryRecvError::Closed) => Err(RecvError::Closed),
            Err(TryRecvError::Empty) => {
                register(&mut state.recv_waiters, key, cx.waker());
                return Poll::Pending;
            }
        };
        if let Some(key) = key.take() {
            state.recv_waiters.remove(key);
        }
        Poll::Ready(ret)
    }
}

impl<T> Receiver<T> {
    /// Gives up the place `key` in the wait list, if it holds one.
    fn forget_waiter(&self, key: &mut Option<Key>) {
        if let Some(key) = key.take() {
            self.shared.lock().recv_waiters.remove(key);
        }
    }
}

impl<T: Clone> Future for Recv<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        let this = self.get_mut();
        coop::refund_if_pending(this.rx.poll_recv_keyed(&mut this.key, cx))
    }
}

impl<T> Drop for Recv<'_, T> {
    fn drop(&mut self) {
        self.rx.forget_waiter(&mut self.key);
    }
}

/// `Sender::closed`.
struct Closed<'a, T> {
    shared: &'a Shared<T>,
    key: Option<Key>,
}

impl<T> Future for Closed<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        let this = self.get_mut();
        let mut state = this.shared.lock();
        if state.receivers > 0 {
            register(&mut state.closed_waiters, &mut this.key, cx.waker());
            return coop::refund_if_pending(Poll::Pending);
        }
        if let Some(key) = this.key.take() {
            state.closed_waiters.remove(key);
        }
        Poll::Ready(())
    }
}

impl<T> Drop for Closed<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.shared.lock().closed_waiters.remove(key);
        }
    }
}

#[cfg(all(test, loom))]
mod loom_broadcast;
