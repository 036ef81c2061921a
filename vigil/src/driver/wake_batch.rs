//! A fixed-size batch of wakers collected under a driver lock.
//!
//! Waking a task can run arbitrary code (a scheduler push, a cross-thread
//! unpark, even dropping the task), and some of that code may want the timer
//! lock again. So the drivers never wake while holding their lock: the
//! wheel (or the reactor) moves wakers into this batch, the lock is released, the batch
//! is woken, and the lock is taken again if there is more. A fixed array
//! on the stack needs no allocation and bounds how long the lock is held.

use std::task::Waker;

/// How many wakers one lock hold may collect.
const CAPACITY: usize = 32;

pub(crate) struct WakeBatch {
    wakers: [Option<Waker>; CAPACITY],
    len: usize,
}

impl WakeBatch {
    pub(crate) fn new() -> WakeBatch {
        WakeBatch {
            wakers: std::array::from_fn(|_| None),
            len: 0,
        }
    }

    pub(crate) fn is_full(&self) -> bool {
        self.len == CAPACITY
    }

    /// Adds a waker; the caller checks [`is_full`](Self::is_full) first.
    pub(crate) fn push(&mut self, waker: Waker) {
        debug_assert!(!self.is_full());
        self.wakers[self.len] = Some(waker);
        self.len += 1;
    }

    /// Adds `waker`, if any; the caller knows there is room.
    pub(crate) fn extend(&mut self, waker: Option<Waker>) {
        if let Some(w) = waker {
            self.push(w);
        }
    }

    /// Wakes and empties the batch. Call without holding the timer lock.
    pub(crate) fn wake_all(&mut self) {
        let len = std::mem::replace(&mut self.len, 0);
        for waker in self.wakers[..len].iter_mut().filter_map(Option::take) {
            waker.wake();
        }
    }

    /// Empties the batch without waking anyone (the wakers' futures are
    /// known to be gone).
    pub(crate) fn clear(&mut self) {
        let len = std::mem::replace(&mut self.len, 0);
        self.wakers[..len].iter_mut().for_each(|w| drop(w.take()));
    }

    /// Empties the batch, handing out the wakers (tests use this).
    #[cfg(test)]
    pub(crate) fn drain(&mut self) -> Vec<Waker> {
        let len = std::mem::replace(&mut self.len, 0);
        self.wakers[..len]
            .iter_mut()
            .filter_map(Option::take)
            .collect()
    }
}

impl std::fmt::Debug for WakeBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WakeBatch").field("len", &self.len).finish()
    }
}
