//! A fixed-size batch of wakers collected under the timer lock.
//!
//! Waking a task can run arbitrary code (a scheduler push, a cross-thread
//! unpark, even dropping the task), and some of that code may want the timer
//! lock again. So due timers are never woken while the lock is held: the
//! wheel moves their wakers into this batch, the lock is released, the batch
//! is woken, and the lock is taken again if more timers are due. A fixed array
//! on the stack needs no allocation and bounds how long the lock is held.

use std::task::Waker;

/// How many wakers one lock hold may collect.
const CAPACITY: usize = 32;

pub(super) struct WakeBatch {
    wakers: [Option<Waker>; CAPACITY],
    len: usize,
}

impl WakeBatch {
    pub(super) fn new() -> WakeBatch {
        WakeBatch {
            wakers: std::array::from_fn(|_| None),
            len: 0,
        }
    }

    pub(super) fn is_full(&self) -> bool {
        self.len == CAPACITY
    }

    /// Adds a waker; the caller checks [`is_full`](Self::is_full) first.
    pub(super) fn push(&mut self, waker: Waker) {
        debug_assert!(!self.is_full());
        self.wakers[self.len] = Some(waker);
        self.len += 1;
    }

    /// Wakes and empties the batch. Call without holding the timer lock.
    pub(super) fn wake_all(&mut self) {
        let len = std::mem::replace(&mut self.len, 0);
        for waker in self.wakers[..len].iter_mut().filter_map(Option::take) {
            waker.wake();
        }
    }

    /// Empties the batch, handing out the wakers (tests use this).
    #[cfg(test)]
    pub(super) fn drain(&mut self) -> Vec<Waker> {
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
