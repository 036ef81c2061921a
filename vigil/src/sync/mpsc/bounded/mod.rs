//! The bounded channel: [`channel`] and its handles, one file each: the
//! senders ([`Sender`], [`WeakSender`]), the reserved slots ([`Permit`],
//! [`PermitIterator`], [`OwnedPermit`]) and the [`Receiver`]. All of them
//! are thin handles over the shared [`Chan`](super::chan::Chan), which
//! keeps the buffer, the slot accounting and the waiting senders.

mod permit;
mod receiver;
mod sender;

pub use permit::{OwnedPermit, Permit, PermitIterator};
pub use receiver::Receiver;
pub use sender::{Sender, WeakSender};

use super::chan::Chan;
use std::sync::Arc;

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
    (Sender::new(chan.clone()), Receiver::new(chan))
}
