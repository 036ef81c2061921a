//! [`WeakSender`]: a sender that does not keep the channel open, and the
//! counts of strong and weak senders.
//!
//! A task that wants to send only while someone else still does (a
//! background notifier that must not outlive its owners) holds a weak
//! sender and upgrades it for each send; once every strong sender is gone
//! the upgrade fails and receivers see the channel closed as usual.

use super::{channel, Receiver, Sender, Shared};
use std::fmt;
use std::sync::Arc;

/// A sender that does not count towards keeping the channel open; made by
/// [`Sender::downgrade`]. [`upgrade`](WeakSender::upgrade) gives a real
/// sender while at least one other still exists.
///
/// ```
/// use vigil::sync::broadcast;
///
/// let (tx, _rx) = broadcast::channel::<u8>(4);
/// let weak = tx.downgrade();
/// assert_eq!((tx.strong_count(), tx.weak_count()), (1, 1));
/// assert!(weak.upgrade().is_some());
/// drop(tx);
/// assert!(weak.upgrade().is_none(), "the channel closed with its last sender");
/// ```
pub struct WeakSender<T> {
    shared: Arc<Shared<T>>,
}

impl<T: Clone> Sender<T> {
    /// A sender of a new channel that has no receiver yet: values are
    /// refused until [`subscribe`](Sender::subscribe) makes one.
    ///
    /// # Panics
    /// If `capacity` is 0 or too large, as [`channel`].
    #[track_caller]
    pub fn new(capacity: usize) -> Sender<T> {
        let (tx, _rx) = channel(capacity);
        tx
    }
}

impl<T> Sender<T> {
    /// A [`WeakSender`] of this channel.
    pub fn downgrade(&self) -> WeakSender<T> {
        self.shared.lock().weak_senders += 1;
        WeakSender {
            shared: self.shared.clone(),
        }
    }

    /// How many senders (not counting weak ones) the channel has.
    pub fn strong_count(&self) -> usize {
        self.shared.lock().senders
    }

    /// How many [`WeakSender`]s the channel has.
    pub fn weak_count(&self) -> usize {
        self.shared.lock().weak_senders
    }
}

impl<T> Receiver<T> {
    /// How many senders (not counting weak ones) the channel has.
    pub fn sender_strong_count(&self) -> usize {
        self.shared.lock().senders
    }

    /// How many [`WeakSender`]s the channel has.
    pub fn sender_weak_count(&self) -> usize {
        self.shared.lock().weak_senders
    }
}

impl<T> WeakSender<T> {
    /// A sender, if the channel still has one (it is then kept open by the
    /// new one too); `None` once every sender has been dropped, which a
    /// weak sender cannot undo.
    pub fn upgrade(&self) -> Option<Sender<T>> {
        let mut state = self.shared.lock();
        if state.senders == 0 {
            return None;
        }
        state.senders += 1;
        drop(state);
        Some(Sender {
            shared: self.shared.clone(),
        })
    }

    /// How many senders (not counting weak ones) the channel has.
    pub fn strong_count(&self) -> usize {
        self.shared.lock().senders
    }

    /// How many weak senders the channel has, this one included.
    pub fn weak_count(&self) -> usize {
        self.shared.lock().weak_senders
    }
}

impl<T> Clone for WeakSender<T> {
    fn clone(&self) -> WeakSender<T> {
        self.shared.lock().weak_senders += 1;
        WeakSender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for WeakSender<T> {
    fn drop(&mut self) {
        self.shared.lock().weak_senders -= 1;
    }
}

impl<T> fmt::Debug for WeakSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakSender").finish_non_exhaustive()
    }
}
