//! Multi-producer, single-consumer channels: many tasks send values, one
//! task receives them in order.
//!
//! Two flavours, with the names and behaviour of Tokio's `mpsc`:
//!
//! - [`channel`] is **bounded**: it holds at most `buffer` values, and
//!   [`Sender::send`] waits while it is full. The bound is what gives
//!   *backpressure*: a producer faster than its consumer is slowed down to
//!   the consumer's pace instead of filling memory.
//! - [`unbounded_channel`] never makes a sender wait
//!   ([`UnboundedSender::send`] is not even `async`), at the price of an
//!   unlimited backlog. It suits producers that cannot wait (synchronous
//!   code, callbacks) and flows that are bounded elsewhere.
//!
//! ```
//! use vigil::sync::mpsc;
//!
//! #[vigil::main(flavor = "current_thread")]
//! async fn main() {
//!     let (tx, mut rx) = mpsc::channel(16);
//!     for id in 0..3 {
//!         let tx = tx.clone();
//!         vigil::spawn(async move {
//!             tx.send(format!("hello from {id}")).await.unwrap();
//!         });
//!     }
//!     drop(tx); // otherwise `recv` would wait for it forever
//!     let mut n = 0;
//!     while let Some(msg) = rx.recv().await {
//!         assert!(msg.starts_with("hello"));
//!         n += 1;
//!     }
//!     assert_eq!(n, 3);
//! }
//! ```
//!
//! ## Lifecycle
//!
//! Values come out in the order they went in (per channel; concurrent
//! senders are ordered by who got in first). The channel ends in one of two
//! ways:
//!
//! - **Every sender is dropped.** The receiver still gets everything
//!   buffered, then `recv` returns `None`.
//! - **The receiver is closed or dropped.** Sends fail at once and hand the
//!   value back inside the error; senders waiting for a slot fail too, and
//!   [`Sender::closed`] completes. [`Receiver::close`] keeps the buffered
//!   values for the receiver to drain; dropping the receiver drops them.
//!
//! Every value is dropped exactly once: by the receiver that takes it, by
//! the caller that gets it back in an error, or by the channel when the
//! receiver is dropped (or when the last handle goes).
//!
//! ## Waiting for room, and cancelling
//!
//! Bounded senders that find the buffer full queue in arrival order, and a
//! freed slot goes to the first in line (a new `try_send` cannot take it
//! while others wait), so no sender starves. Because every `select!` and
//! timeout cancels futures, giving up is designed to be cheap and lossless:
//! a dropped `send` or `reserve` leaves the queue, and if a slot was already
//! granted to it, that slot passes to the next waiter. Capacity never leaks.
//!
//! Which operations are **cancel-safe** (can be dropped before completion
//! and retried without losing anything):
//!
//! - [`Receiver::recv`], [`Receiver::recv_many`] and their unbounded twins:
//!   yes; a value leaves the channel only in the poll that returns it.
//! - [`Sender::reserve`], [`Sender::reserve_owned`] and
//!   [`Sender::reserve_many`]: yes; they hold no value, and slots granted
//!   to a dropped call are passed on (the call loses its place in the
//!   queue, though).
//! - [`Sender::send`]: the value is lost (dropped with the future), but
//!   nobody else's place or slot is. To keep the value, `reserve` first and
//!   send through the [`Permit`].
//! - [`Sender::closed`] and [`UnboundedSender::closed`]: yes, they hold
//!   nothing.
//!
//! A [`Permit`] is a slot reserved ahead of time: sending through it cannot
//! wait or fail for lack of room, and dropping it unused frees the slot.
//! [`Sender::reserve_many`] reserves several slots in one go and hands them
//! out through a [`PermitIterator`], for sending a batch that cannot get
//! stuck halfway for lack of room.
//!
//! A [`WeakSender`] (from [`Sender::downgrade`]) can be upgraded to a sender
//! while one still exists, but does not itself keep the channel open.
//!
//! ## Design
//!
//! All state sits behind one short lock (see [`crate::sync`]): the buffer
//! (a `VecDeque` that keeps its allocation), the receiver's waker, and the
//! queue of waiting senders with a "granted" flag per sender. A send on the
//! fast path takes the lock once and allocates nothing beyond buffer growth.
//! Wakers are woken, and values dropped, only after the lock is released.
//!
//! Completed `recv`, `send` and `reserve` calls spend one unit of the task's
//! cooperative budget, so a task that always finds its channel ready (a
//! receiver fed faster than it drains, a sender that never fills the buffer)
//! still yields to the other tasks on its thread.
//!
//! ## Streams and sinks
//!
//! [`Receiver`] and [`UnboundedReceiver`] implement
//! [`futures_core::Stream`]. [`Sender`] and [`UnboundedSender`] implement
//! [`futures_sink::Sink`] with error `SendError<()>`; `poll_close` on a
//! sender closes that handle only, not the channel (see [`Sender`]).

mod bounded;
mod chan;
pub mod error;
mod fut;
mod unbounded;

#[cfg(all(test, loom))]
mod loom_tests;

pub use bounded::{channel, OwnedPermit, Permit, PermitIterator, Receiver, Sender, WeakSender};
pub use unbounded::{unbounded_channel, UnboundedReceiver, UnboundedSender, WeakUnboundedSender};
