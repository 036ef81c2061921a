//! A channel for sending exactly one value from one task to another.
//!
//! [`channel`] returns a [`Sender`] and a [`Receiver`]. The sender gives up
//! its value with [`Sender::send`]; the receiver is a future that resolves
//! to that value, or to [`error::RecvError`] if the sender went
//! away without sending.
//!
//! ```
//! use vigil::sync::oneshot;
//!
//! #[vigil::main(flavor = "current_thread")]
//! async fn main() {
//!     let (tx, rx) = oneshot::channel();
//!     vigil::spawn(async move {
//!         let _ = tx.send(6 * 7);
//!     });
//!     assert_eq!(rx.await, Ok(42));
//! }
//! ```
//!
//! # Design
//!
//! Each end is used by one owner at a time, and each event happens at most
//! once, so no lock and no wait queue are needed (unlike the other
//! primitives in [`crate::sync`]). The two ends share an allocation holding
//! a slot for the value, one waker slot for each end, and a state word of
//! four flags:
//!
//! - `COMPLETE`: the sender is finished, having either stored a value or
//!   been dropped. Set at most once, and never after `CLOSED`.
//! - `CLOSED`: the receiver closed the channel or was dropped.
//! - `RX_WAKER` / `TX_WAKER`: the receiver's (sender's) waker slot holds a
//!   waker that the other end should wake.
//!
//! Every cross-thread handover goes through one atomic read-modify-write on
//! that word: the sender writes the value and *then* sets `COMPLETE`, so a
//! receiver that sees `COMPLETE` also sees the value. A waker slot is
//! written by its owner only while its flag is clear, and read by the other
//! end only when it sees the flag set as it publishes its event; an owner
//! that wants to replace its waker first clears the flag, and if that
//! reveals the event already happened it leaves the slot alone and
//! completes instead. So a wake-up is never lost and a slot is never written
//! while read.
//!
//! A value still in the channel lives until both ends are gone, and is then
//! dropped once with the shared allocation.

use crate::loom::cell::UnsafeCell;
use crate::loom::sync::atomic::AtomicUsize;
use crate::loom::sync::atomic::Ordering::{AcqRel, Acquire};
use crate::runtime::coop;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

#[cfg(loom)]
use loom::sync::Arc;
#[cfg(not(loom))]
use std::sync::Arc;

#[cfg(all(test, loom))]
#[path = "loom_oneshot.rs"]
mod loom_tests;

pub mod error {
    //! Errors of [`oneshot`](super) channels.

    use std::fmt;

    /// The [`Sender`](super::Sender) was dropped without sending a value.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct RecvError(pub(super) ());

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("oneshot sender dropped without sending a value")
        }
    }

    impl std::error::Error for RecvError {}

    /// Why [`Receiver::try_recv`](super::Receiver::try_recv) returned no
    /// value.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum TryRecvError {
        /// No value yet; the sender may still send one.
        Empty,
        /// No value will come: the sender was dropped without sending, the
        /// receiver was closed, or the value was already received.
        Closed,
    }

    impl fmt::Display for TryRecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(match self {
                TryRecvError::Empty => "oneshot channel is empty",
                TryRecvError::Closed => "oneshot channel is closed",
            })
        }
    }

    impl std::error::Error for TryRecvError {}
}

use error::{RecvError, TryRecvError};

const COMPLETE: usize = 0b0001;
const CLOSED: usize = 0b0010;
const RX_WAKER: usize = 0b0100;
const TX_WAKER: usize = 0b1000;

/// Creates a channel for one value: the [`Sender`] half and the
/// [`Receiver`] half.
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(Inner {
        state: AtomicUsize::new(0),
        value: UnsafeCell::new(None),
        rx_waker: UnsafeCell::new(None),
        tx_waker: UnsafeCell::new(None),
    });
    (
        Sender {
            inner: Some(inner.clone()),
        },
        Receiver {
            inner,
            terminated: false,
        },
    )
}

/// Sends one value to the paired [`Receiver`].
///
/// Dropping it without calling [`send`](Sender::send) makes the receiver
/// resolve to [`RecvError`].
pub struct Sender<T> {
    /// `None` once `send` has handed the channel over.
    inner: Option<Arc<Inner<T>>>,
}

/// Receives the value of the paired [`Sender`]: `.await` it, or poll it
/// with [`try_recv`](Receiver::try_recv).
///
/// As a future it resolves to `Ok(value)`, or to [`RecvError`] if the
/// sender was dropped without sending (or the channel was closed before a
/// value arrived). After that it is [terminated](Receiver::is_terminated):
/// polling it again returns `Err(RecvError)`.
///
/// **Cancel safety:** awaiting it is cancel safe. Dropping the `.await`
/// (in a `select!`, say) keeps the receiver and its channel intact, and a
/// later `.await` on the same `Receiver` still gets the value. Dropping the
/// `Receiver` itself closes the channel; a value already sent is then
/// dropped with it.
pub struct Receiver<T> {
    inner: Arc<Inner<T>>,
    /// Set once the receiver has produced its outcome (a value, or the
    /// news that none will come), from a poll or `try_recv`.
    terminated: bool,
}

struct Inner<T> {
    state: AtomicUsize,
    /// Written by the sender before it sets `COMPLETE` (or taken back by it
    /// if `COMPLETE` could not be set); read by the receiver only after it
    /// saw `COMPLETE`.
    value: UnsafeCell<Option<T>>,
    /// The receiver's waker; see the module docs for who may touch it when.
    rx_waker: UnsafeCell<Option<Waker>>,
    /// The sender's waker (for `closed`).
    tx_waker: UnsafeCell<Option<Waker>>,
}

// SAFETY: the cells are only accessed under the protocol of the state word
// (module docs), which gives every access to the value exclusive ownership,
// so sharing `Inner` only moves a `T` between threads: `T: Send` suffices.
// Wakers are `Send + Sync`.
unsafe impl<T: Send> Send for Inner<T> {}
// SAFETY: as above; no `&T` is ever handed out through a shared `Inner`.
unsafe impl<T: Send> Sync for Inner<T> {}

impl<T> Inner<T> {
    /// Sets `COMPLETE` unless the receiver closed first. Returns the state
    /// before the change, or `Err` if the channel was closed.
    fn complete(&self) -> Result<usize, ()> {
        let mut cur = self.state.load(Acquire);
        loop {
            if cur & CLOSED != 0 {
                return Err(());
            }
            match self
                .state
                .compare_exchange_weak(cur, cur | COMPLETE, AcqRel, Acquire)
            {
                Ok(prev) => return Ok(prev),
                Err(actual) => cur = actual,
            }
        }
    }

    /// Wakes the receiver if its flag was set in `prev`, the state just
    /// before this end set `COMPLETE`.
    fn wake_rx(&self, prev: usize) {
        if prev & RX_WAKER != 0 {
            // `RX_WAKER` was set when we set `COMPLETE`, so the receiver
            // finished writing the slot (its flag store released it) and
            // will not write it again: it only writes after clearing the
            // flag and seeing no `COMPLETE`.
            self.rx_waker.with(|w| {
                // SAFETY: the receiver no longer writes its waker slot.
                unsafe { &*w }.as_ref().map(Waker::wake_by_ref)
            });
        }
    }

    /// Takes the value out. Only the receiver calls this, after seeing
    /// `COMPLETE`.
    fn take_value(&self) -> Option<T> {
        // `COMPLETE` was observed with Acquire, so the sender's write of the
        // value is visible and the sender no longer touches the slot; the
        // receiver is the only other user and holds `&mut` to its handle.
        self.value.with_mut(|v| {
            // SAFETY: the value slot is the receiver's alone after `COMPLETE`.
            unsafe { &mut *v }.take()
        })
    }
}

/// Registers `cx`'s waker in `slot` under flag `flag`, unless `event`
/// appears in the state first. Returns `true` if the event happened (the
/// caller must not wait). Called only by the slot's owning end.
fn register(
    state: &AtomicUsize,
    slot: &UnsafeCell<Option<Waker>>,
    flag: usize,
    event: usize,
    cx: &Context<'_>,
) -> bool {
    let cur = state.load(Acquire);
    if cur & event != 0 {
        return true;
    }
    if cur & flag != 0 {
        // The flag is set, so the other end may at most read the slot (to
        // wake it); a shared read here is fine.
        let same = slot.with(|w| {
            // SAFETY: only shared reads of the slot while the flag is set.
            unsafe { &*w }
                .as_ref()
                .is_some_and(|w| w.will_wake(cx.waker()))
        });
        if same {
            return false;
        }
        // Take the slot back before rewriting it.
        let prev = state.fetch_and(!flag, AcqRel);
        if prev & event != 0 {
            // The other end saw our flag and may be reading the slot now:
            // leave it; the event is what we were waiting for anyway.
            return true;
        }
    }
    // SAFETY: the flag is clear and `event` was not set when we cleared it
    // (or read the state), so the other end will not read the slot until
    // we set the flag again; only this end writes it.
    slot.with_mut(|w| unsafe { *w = Some(cx.waker().clone()) });
    let prev = state.fetch_or(flag, AcqRel);
    prev & event != 0
}

impl<T> Sender<T> {
    /// Sends `value`, consuming the sender.
    ///
    /// Fails, handing `value` back, if the receiver was dropped or
    /// [closed](Receiver::close). Success does not mean the value will be
    /// received: the receiver may still be dropped before reading it.
    pub fn send(mut self, value: T) -> Result<(), T> {
        let inner = self.inner.take().expect("sender used after send");
        // SAFETY: `COMPLETE` is not set (only this sender sets it, and it
        // has not yet), so the receiver does not read the slot.
        inner.value.with_mut(|v| unsafe { *v = Some(value) });
        match inner.complete() {
            Ok(prev) => {
                inner.wake_rx(prev);
                Ok(())
            }
            // `COMPLETE` was never set, so the receiver never reads the
            // value; we take back what we wrote.
            Err(()) => Err(inner
                .value
                .with_mut(|v| {
                    // SAFETY: without `COMPLETE` the slot is the sender's alone.
                    unsafe { &mut *v }.take()
                })
                .expect("value just stored")),
        }
    }

    /// `true` if the receiver was dropped or closed: a `send` would fail.
    pub fn is_closed(&self) -> bool {
        let inner = self.inner.as_ref().expect("sender used after send");
        inner.state.load(Acquire) & CLOSED != 0
    }

    /// Resolves once the receiver is dropped or [closed](Receiver::close),
    /// so a producer can stop computing a value nobody will read.
    ///
    /// **Cancel safety:** cancel safe; it only watches the channel.
    ///
    /// ```
    /// use vigil::sync::oneshot;
    ///
    /// vigil::block_on(async {
    ///     let (mut tx, rx) = oneshot::channel::<u32>();
    ///     vigil::spawn(async move { drop(rx) });
    ///     tx.closed().await;
    ///     assert!(tx.send(1).is_err());
    /// });
    /// ```
    pub async fn closed(&mut self) {
        poll_fn(|cx| self.poll_closed(cx)).await
    }

    /// Polls whether the receiver is gone; registers `cx`'s waker (the last
    /// one passed is the one woken) to be woken when it goes.
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let inner = self.inner.as_ref().expect("sender used after send");
        if coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        let closed = register(&inner.state, &inner.tx_waker, TX_WAKER, CLOSED, cx);
        coop::refund_if_pending(if closed {
            Poll::Ready(())
        } else {
            Poll::Pending
        })
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            if let Ok(prev) = inner.complete() {
                inner.wake_rx(prev);
            }
        }
    }
}

impl<T> Receiver<T> {
    /// Awaits the value from synchronous code: blocks the thread until it
    /// arrives or the sender is dropped.
    ///
    /// # Panics
    ///
    /// On a thread that runs vigil tasks (use the async method there).
    #[track_caller]
    pub fn blocking_recv(self) -> Result<T, RecvError> {
        crate::sync::blocking::wait(self)
    }

    /// Takes the value if it has arrived, without waiting.
    ///
    /// [`TryRecvError::Empty`] means the sender may still send;
    /// [`TryRecvError::Closed`] means no value will come (the sender was
    /// dropped, the channel was closed before a value arrived, or the value
    /// was already taken).
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let state = self.inner.state.load(Acquire);
        let outcome = if state & COMPLETE != 0 {
            self.inner.take_value().ok_or(TryRecvError::Closed)
        } else if state & CLOSED != 0 {
            Err(TryRecvError::Closed)
        } else {
            return Err(TryRecvError::Empty);
        };
        self.terminated = true;
        outcome
    }

    /// `true` once this receiver has produced its outcome: it returned
    /// `Ready` when polled (awaited), or [`try_recv`](Receiver::try_recv)
    /// returned a value or [`TryRecvError::Closed`]. A terminated receiver
    /// has nothing more to give; polling it again returns
    /// `Err(RecvError)`.
    ///
    /// A value that was sent but not yet received does not terminate the
    /// receiver, nor does the sender going away: only receiving the
    /// outcome does.
    ///
    /// ```
    /// use vigil::sync::oneshot;
    ///
    /// # vigil::block_on(async {
    /// let (tx, mut rx) = oneshot::channel();
    /// assert!(!rx.is_terminated());
    /// tx.send("hi").unwrap();
    /// assert!(!rx.is_terminated()); // sent, not yet received
    /// assert_eq!((&mut rx).await, Ok("hi"));
    /// assert!(rx.is_terminated());
    /// # });
    /// ```
    pub fn is_terminated(&self) -> bool {
        self.terminated
    }

    /// `true` if the channel holds no value for this receiver right now:
    /// none was sent yet, the sender went away without sending, the
    /// channel was closed before a value arrived, or the value was already
    /// received.
    ///
    /// An empty receiver is not necessarily finished (a value may still
    /// come); see [`is_terminated`](Receiver::is_terminated) for that.
    ///
    /// ```
    /// use vigil::sync::oneshot;
    ///
    /// let (tx, mut rx) = oneshot::channel();
    /// assert!(rx.is_empty());
    /// tx.send(5).unwrap();
    /// assert!(!rx.is_empty());
    /// assert_eq!(rx.try_recv(), Ok(5));
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        if self.inner.state.load(Acquire) & COMPLETE == 0 {
            return true;
        }
        self.inner.value.with(|v| {
            // `COMPLETE` seen with `Acquire`: the sender's write is visible
            // and it no longer touches the slot; this receiver writes it
            // only through `&mut self`, which cannot exist beside `&self`.
            // SAFETY: so this shared read races no write.
            unsafe { &*v }.is_none()
        })
    }

    /// Closes the channel from the receiving side: later sends fail and
    /// return their value, and [`Sender::closed`] resolves. A value sent
    /// before the close can still be received.
    ///
    /// ```
    /// use vigil::sync::oneshot;
    ///
    /// let (tx, mut rx) = oneshot::channel();
    /// rx.close();
    /// assert_eq!(tx.send("late"), Err("late"));
    /// ```
    pub fn close(&mut self) {
        let prev = self.inner.state.fetch_or(CLOSED, AcqRel);
        if prev & (TX_WAKER | CLOSED | COMPLETE) == TX_WAKER {
            // `TX_WAKER` was set when we set `CLOSED`, so the sender finished
            // writing its slot and will not write it again (it only writes
            // after clearing the flag and seeing no `CLOSED`).
            self.inner.tx_waker.with(|w| {
                // SAFETY: the sender no longer writes its waker slot.
                unsafe { &*w }.as_ref().map(Waker::wake_by_ref)
            });
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        let inner = &*this.inner;
        let state = inner.state.load(Acquire);
        let ready = state & (COMPLETE | CLOSED) != 0
            || register(&inner.state, &inner.rx_waker, RX_WAKER, COMPLETE, cx);
        if !ready {
            coop::refund();
            return Poll::Pending;
        }
        this.terminated = true;
        // Re-read: `register` may have seen `COMPLETE` after our load.
        let state = inner.state.load(Acquire);
        if state & COMPLETE != 0 {
            Poll::Ready(inner.take_value().ok_or(RecvError(())))
        } else {
            Poll::Ready(Err(RecvError(())))
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.close();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field(
                "closed",
                &self
                    .inner
                    .as_ref()
                    .map(|i| i.state.load(Acquire) & CLOSED != 0),
            )
            .finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.state.load(Acquire);
        f.debug_struct("Receiver")
            .field("complete", &(state & COMPLETE != 0))
            .field("closed", &(state & CLOSED != 0))
            .field("terminated", &self.terminated)
            .finish()
    }
}
