//! Slots reserved in a bounded channel: [`Permit`], [`PermitIterator`] and [`OwnedPermit`].

use super::Sender;
use crate::sync::mpsc::chan::Chan;
use std::fmt;

/// A reserved slot: [`send`](Permit::send) fills it without waiting;
/// dropping the permit frees the slot for the next sender.
pub struct Permit<'a, T> {
    pub(super) chan: &'a Chan<T>,
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
        self.chan.release(1);
    }
}

impl<T> fmt::Debug for Permit<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").field("chan", self.chan).finish()
    }
}

/// Slots reserved together by [`Sender::reserve_many`] or
/// [`Sender::try_reserve_many`], handed out one [`Permit`] at a time.
///
/// Its length ([`ExactSizeIterator::len`]) is the number of slots not yet
/// handed out. Each permit behaves like one from [`Sender::reserve`]: send
/// through it, or drop it to free its slot. Dropping the iterator frees
/// the slots it still holds, in one step.
pub struct PermitIterator<'a, T> {
    pub(super) chan: &'a Chan<T>,
    /// Slots reserved and not yet handed out as permits.
    pub(super) remaining: usize,
}

impl<'a, T> Iterator for PermitIterator<'a, T> {
    type Item = Permit<'a, T>;

    fn next(&mut self) -> Option<Permit<'a, T>> {
        // The slot moves from the iterator to the permit.
        self.remaining = self.remaining.checked_sub(1)?;
        Some(Permit { chan: self.chan })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<T> ExactSizeIterator for PermitIterator<'_, T> {}

impl<T> std::iter::FusedIterator for PermitIterator<'_, T> {}

impl<T> Drop for PermitIterator<'_, T> {
    fn drop(&mut self) {
        self.chan.release(std::mem::take(&mut self.remaining));
    }
}

impl<T> fmt::Debug for PermitIterator<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PermitIterator")
            .field("chan", self.chan)
            .field("remaining", &self.remaining)
            .finish()
    }
}

/// A reserved slot that owns its [`Sender`]; see
/// [`Sender::reserve_owned`].
pub struct OwnedPermit<T> {
    /// `None` only once consumed.
    pub(super) sender: Option<Sender<T>>,
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
        sender.chan.release(1);
        sender
    }

    /// `true` if both permits reserve slots of the same channel.
    ///
    /// ```
    /// # vigil::block_on(async {
    /// let (tx, _rx) = vigil::sync::mpsc::channel::<u8>(2);
    /// let (other_tx, _other_rx) = vigil::sync::mpsc::channel::<u8>(1);
    /// let a = tx.clone().reserve_owned().await.unwrap();
    /// let b = tx.reserve_owned().await.unwrap();
    /// let c = other_tx.reserve_owned().await.unwrap();
    /// assert!(a.same_channel(&b));
    /// assert!(!a.same_channel(&c));
    /// # });
    /// ```
    pub fn same_channel(&self, other: &OwnedPermit<T>) -> bool {
        match (&self.sender, &other.sender) {
            (Some(a), Some(b)) => a.same_channel(b),
            _ => false,
        }
    }

    /// `true` if this permit reserves a slot of `sender`'s channel.
    ///
    /// ```
    /// let (tx, _rx) = vigil::sync::mpsc::channel::<u8>(1);
    /// let (other_tx, _other_rx) = vigil::sync::mpsc::channel::<u8>(1);
    /// let permit = tx.clone().try_reserve_owned().unwrap();
    /// assert!(permit.same_channel_as_sender(&tx));
    /// assert!(!permit.same_channel_as_sender(&other_tx));
    /// ```
    pub fn same_channel_as_sender(&self, sender: &Sender<T>) -> bool {
        self.sender
            .as_ref()
            .is_some_and(|own| own.same_channel(sender))
    }
}

impl<T> Drop for OwnedPermit<T> {
    fn drop(&mut self) {
        if let Some(sender) = self.sender.take() {
            sender.chan.release(1);
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
