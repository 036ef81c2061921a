//! A fixed-size batch of wakers, collected under a primitive's lock and
//! woken after the lock is released.
//!
//! Waking under the lock would let the woken task (on another worker) run
//! straight into that lock and block on it; waking after it avoids that.
//! The batch lives on the stack, so notifying never allocates: a notifier
//! with more waiters than fit fills the batch, releases the lock, wakes,
//! and takes the lock again for the rest.
//!
//! Also here: the two steps shared by the channels, whose waiters hold
//! only a waker and recheck the state themselves when woken ([`register`]
//! a waiter, [`wake_list`] all of them).

use super::wait_list::{Key, WaitList};
use std::ops::DerefMut;
use std::task::Waker;

/// Wakers collected under the lock and woken after it, at most this many at
/// a time (no allocation; more are served in further rounds).
pub(crate) const WAKE_BATCH: usize = 32;

/// Wakers to wake once the lock is released.
pub(crate) struct Wakers {
    buf: [Option<Waker>; WAKE_BATCH],
    len: usize,
}

impl Wakers {
    pub(crate) fn new() -> Wakers {
        Wakers {
            buf: std::array::from_fn(|_| None),
            len: 0,
        }
    }

    /// `true` when no more wakers fit: wake these, then come back.
    pub(crate) fn is_full(&self) -> bool {
        self.len == WAKE_BATCH
    }

    /// Adds a waker (`None` is ignored). Must not be called when full.
    pub(crate) fn push(&mut self, waker: Option<Waker>) {
        if let Some(w) = waker {
            self.buf[self.len] = Some(w);
            self.len += 1;
        }
    }

    /// Wakes and forgets every collected waker.
    pub(crate) fn wake_all(&mut self) {
        for slot in &mut self.buf[..self.len] {
            if let Some(w) = slot.take() {
                w.wake();
            }
        }
        self.len = 0;
    }
}

/// For lists whose waiters hold nothing but their waker (waiters that
/// are all woken together and recheck the state themselves): queues the
/// waiter `key` names, or refreshes its waker if it is still queued.
///
/// A waiter that was unlinked by a wake but found nothing to do when it
/// ran is queued again at the back.
pub(crate) fn register(list: &mut WaitList<Option<Waker>>, key: &mut Option<Key>, waker: &Waker) {
    if let Some(k) = *key {
        if list.is_linked(k) {
            match list.get_mut(k) {
                Some(w) if w.will_wake(waker) => {}
                slot => *slot = Some(waker.clone()),
            }
            return;
        }
        list.remove(k);
    }
    *key = Some(list.push_back(Some(waker.clone())));
}

/// Unlinks every waiter of the list that `list` picks out of the state
/// behind `lock`, waking them after the lock is released (in batches, so
/// the lock may be taken several times).
pub(crate) fn wake_list<S, G: DerefMut<Target = S>>(
    mut lock: impl FnMut() -> G,
    mut list: impl FnMut(&mut S) -> &mut WaitList<Option<Waker>>,
) {
    let mut wakers = Wakers::new();
    loop {
        let mut guard = lock();
        let waiters = list(&mut guard);
        while !wakers.is_full() {
            let Some(key) = waiters.pop_front() else {
                break;
            };
            wakers.push(waiters.get_mut(key).take());
        }
        let more = !waiters.is_empty();
        drop(guard);
        wakers.wake_all();
        if !more {
            return;
        }
    }
}
