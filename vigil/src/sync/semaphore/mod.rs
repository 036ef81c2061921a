//! A counting semaphore whose waiters are served strictly in arrival order.
//!
//! Released permits go to the waiter at the front of the queue as soon as
//! there are enough for its whole request; a new acquire that finds others
//! queued joins the back even if enough permits are free for it alone. That
//! is what keeps a large `acquire_many` from starving behind a stream of
//! small ones, and it is also the property [`Mutex`](super::Mutex) relies on
//! for its fairness.
//!
//! The common case, nobody waiting, is one compare-and-swap on one word:
//! the free permits, shifted left, with two flag bits, `QUEUED` (someone
//! waits) and `CLOSED`. Acquires and releases change the count directly
//! only while `QUEUED` is clear. Once it is set, everything goes through
//! the lock that guards the queue: releases add their permits and serve
//! the front, and fast-path acquires fail (they may not barge). Because the
//! flag and the count share the word, a release that races with an acquire
//! going to sleep cannot slip between its last look at the count and its
//! enqueueing: one of the two compare-and-swaps fails and retries. The flag
//! is set and cleared only under the lock, so whoever holds the lock and
//! sees it set knows that nobody else adds to the count (only
//! `forget_permits` may still take from it).
//!
//! Invariant, true whenever the lock is released: `QUEUED` is set exactly
//! when someone is queued, and then the front waiter needs more permits
//! than are free. Every operation that adds permits or removes a waiter
//! restores it by serving the front.
//!
//! An acquire that is dropped while queued leaves the queue (possibly
//! letting the next waiter through); one dropped after it was served but
//! before it was polled gives its permits back. So cancelling an acquire
//! never leaks permits. Wakers are woken after the lock is released.
//!
//! A served acquire collects its permits without the lock. Each queued
//! acquire draws a ticket (under the lock, in queue order), and serving the
//! front frees its node and publishes "every ticket up to this one has left
//! the queue" in the atomic `served`. Since the queue is only ever served
//! from the front, a live acquire whose ticket is below `served` was
//! granted its permits, unless the semaphore closed: `close` unlinks the
//! waiters with a mark and leaves their nodes for them to collect, and a
//! later waiter may still be served while it does so. So the lock-free
//! look trusts `served` only if `CLOSED` is clear when read after it (the
//! acquire load of `served` makes a close that came before the grant
//! visible). Otherwise, and whenever the look is negative, the acquire
//! asks under the lock whether its node is still there (its key holds a
//! node with its ticket): gone means served. The point is the hand-off
//! under contention: the releaser holds the lock to serve, and a second
//! round trip through the lock per hand-off doubled the traffic on its
//! cache line between workers.

#[cfg(all(test, loom))]
mod loom_semaphore;
mod permit;

pub use permit::{AcquireError, OwnedSemaphorePermit, SemaphorePermit, TryAcquireError};

use super::wait_list::{Key, WaitList};
use super::wake_batch::Wakers;
use crate::loom::sync::atomic::{AtomicU64, AtomicUsize, Ordering::*};
use crate::loom::sync::{Mutex, MutexGuard};
use crate::runtime::coop;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// A counting semaphore for tasks.
///
/// Holds a number of permits; [`acquire`](Semaphore::acquire) waits until
/// one is free and returns it as a guard that gives it back when dropped.
/// Waiters are served first come, first served. Use it to bound
/// concurrency (at most *n* connections, requests, open files...).
///
/// ```
/// use std::sync::Arc;
/// use vigil::sync::Semaphore;
///
/// #[vigil::main(flavor = "current_thread")]
/// async fn main() {
///     // At most two downloads at once.
///     let slots = Arc::new(Semaphore::new(2));
///     let mut tasks = Vec::new();
///     for i in 0..5 {
///         let slots = slots.clone();
///         tasks.push(vigil::spawn(async move {
///             let _permit = slots.acquire().await.unwrap();
///             i * 10 // ... work while holding the permit ...
///         }));
///     }
///     for t in tasks {
///         t.await.unwrap();
///     }
///     assert_eq!(slots.available_permits(), 2);
/// }
/// ```
pub struct Semaphore {
    /// Free permits `<< SHIFT`, plus [`QUEUED`] and [`CLOSED`].
    word: AtomicUsize,
    /// Waiting acquires; [`QUEUED`] changes only under this lock.
    waiters: Mutex<WaitList<Waiter>>,
    /// The next ticket to hand out (written only under the lock).
    tickets: AtomicU64,
    /// Every ticket below this has left the queue, the last of them by
    /// being served (written only under the lock, read by served waiters
    /// without it).
    served: AtomicU64,
}

const CLOSED: usize = 1;
const QUEUED: usize = 2;
const SHIFT: u32 = 2;

fn permits(word: usize) -> usize {
    word >> SHIFT
}

struct Waiter {
    needed: usize,
    ticket: u64,
    /// Unlinked by `close`: the node waits for its acquire to collect it.
    /// (A served waiter's node is freed when it is served.)
    closed: bool,
    waker: Option<Waker>,
}

impl Semaphore {
    /// The most permits a semaphore can hold.
    pub const MAX_PERMITS: usize = usize::MAX >> 3;

    /// A semaphore holding `permits` permits.
    ///
    /// # Panics
    ///
    /// If `permits` exceeds [`MAX_PERMITS`](Semaphore::MAX_PERMITS).
    pub fn new(permits: usize) -> Semaphore {
        assert!(
            permits <= Self::MAX_PERMITS,
            "a semaphore holds at most {} permits",
            Self::MAX_PERMITS
        );
        Semaphore {
            word: AtomicUsize::new(permits << SHIFT),
            waiters: Mutex::new(WaitList::new()),
            tickets: AtomicU64::new(0),
            served: AtomicU64::new(0),
        }
    }

    /// Like [`new`](Semaphore::new), usable in a `static`.
    #[cfg(not(loom))]
    pub const fn const_new(permits: usize) -> Semaphore {
        assert!(permits <= Self::MAX_PERMITS);
        Semaphore {
            word: AtomicUsize::new(permits << SHIFT),
            waiters: Mutex::new(WaitList::new()),
            tickets: AtomicU64::new(0),
            served: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, WaitList<Waiter>> {
        // The lock is never held across user code, so it cannot be poisoned
        // by a panic that leaves the queue half-updated; recover the guard.
        self.waiters.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Serves front waiters while the free permits cover them, and clears
    /// [`QUEUED`] if the queue empties. Called under the lock; stops early
    /// when `wakers` is full (the caller then wakes and comes back).
    /// Returns `true` when the invariant holds again.
    fn serve(&self, waiters: &mut WaitList<Waiter>, wakers: &mut Wakers) -> bool {
        loop {
            let Some(key) = waiters.front() else {
                // Nobody waits: the count is free for fast paths again.
                self.word.fetch_and(!QUEUED, Release);
                return true;
            };
            let needed = waiters.get_mut(key).needed;
            if wakers.is_full() {
                return false;
            }
            // With `QUEUED` set only lock holders add permits, but
            // `forget_permits` may still take some: compare-and-swap.
            let mut word = self.word.load(Acquire);
            loop {
                if needed > permits(word) {
                    return true;
                }
                match self.word.compare_exchange_weak(
                    word,
                    word - (needed << SHIFT),
                    AcqRel,
                    Acquire,
                ) {
                    Ok(_) => break,
                    Err(actual) => word = actual,
                }
            }
            let waiter = waiters.remove(key);
            // Publishes the grant: the acquire may now take its permits
            // without the lock (the release pairs with its acquire load).
            self.served.store(waiter.ticket + 1, Release);
            wakers.push(waiter.waker);
        }
    }

    /// Runs `f` under the lock, then serves the queue and wakes whoever was
    /// served, after the lock is released.
    fn update<R>(&self, f: impl FnOnce(&mut WaitList<Waiter>) -> R) -> R {
        let mut wakers = Wakers::new();
        let mut waiters = self.lock();
        let ret = f(&mut waiters);
        loop {
            let done = self.serve(&mut waiters, &mut wakers);
            drop(waiters);
            wakers.wake_all();
            if done {
                return ret;
            }
            waiters = self.lock();
        }
    }

    /// `true` if the live waiter holding `ticket` has certainly been
    /// served, read without the lock (see the module docs); `false` means
    /// "ask under the lock".
    #[inline]
    fn surely_served(&self, ticket: u64) -> bool {
        self.served.load(Acquire) > ticket && self.word.load(Acquire) & CLOSED == 0
    }

    /// Permits free right now.
    pub fn available_permits(&self) -> usize {
        permits(self.word.load(Acquire))
    }

    /// Adds `n` permits, serving waiters that they satisfy.
    ///
    /// # Panics
    ///
    /// If the total would exceed [`MAX_PERMITS`](Semaphore::MAX_PERMITS).
    pub fn add_permits(&self, n: usize) {
        if n == 0 {
            return;
        }
        let mut word = self.word.load(Acquire);
        loop {
            let total = permits(word).checked_add(n);
            assert!(
                total.is_some_and(|t| t <= Self::MAX_PERMITS),
                "a semaphore holds at most {} permits",
                Self::MAX_PERMITS
            );
            if word & QUEUED != 0 {
                break;
            }
            match self
                .word
                .compare_exchange_weak(word, word + (n << SHIFT), AcqRel, Acquire)
            {
                Ok(_) => return,
                Err(actual) => word = actual,
            }
        }
        // Someone waits: add under the lock and serve the front.
        self.update(|_| {
            self.word.fetch_add(n << SHIFT, AcqRel);
        });
    }

    /// Removes up to `n` free permits for good; returns how many it removed.
    pub fn forget_permits(&self, n: usize) -> usize {
        let mut word = self.word.load(Acquire);
        loop {
            let removed = n.min(permits(word));
            match self
                .word
                .compare_exchange_weak(word, word - (removed << SHIFT), AcqRel, Acquire)
            {
                Ok(_) => return removed,
                Err(actual) => word = actual,
            }
        }
    }

    /// Closes the semaphore: queued and future acquires fail with
    /// [`AcquireError`]. Permits already held stay valid and may still be
    /// returned.
    pub fn close(&self) {
        let mut wakers = Wakers::new();
        loop {
            let mut waiters = self.lock();
            self.word.fetch_or(CLOSED, Release);
            while !wakers.is_full() {
                let Some(key) = waiters.pop_front() else {
                    break;
                };
                let waiter = waiters.get_mut(key);
                waiter.closed = true;
                wakers.push(waiter.waker.take());
            }
            let more = !waiters.is_empty();
            if !more {
                self.word.fetch_and(!QUEUED, Release);
            }
            drop(waiters);
            wakers.wake_all();
            if !more {
                return;
            }
        }
    }

    /// `true` once [`close`](Semaphore::close) was called.
    pub fn is_closed(&self) -> bool {
        self.word.load(Acquire) & CLOSED != 0
    }

    /// Waits for one permit.
    ///
    /// Fails only if the semaphore is closed. **Cancel-safe**, and fair: a
    /// dropped `acquire` gives up its place in the queue (and any permit it
    /// was granted but had not yet taken), so nothing leaks; but dropping it
    /// does lose its place, so re-calling it queues again at the back.
    pub fn acquire(&self) -> Acquire<'_> {
        Acquire::new(self, 1)
    }

    /// Waits for `n` permits at once (all or none). Cancel-safe like
    /// [`acquire`](Semaphore::acquire). Asking for zero permits succeeds at
    /// once unless the semaphore is closed.
    pub fn acquire_many(&self, n: u32) -> Acquire<'_> {
        Acquire::new(self, n as usize)
    }

    /// Takes one permit if one is free and nobody is queued ahead.
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are free and nobody is queued ahead.
    pub fn try_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_take(n as usize)?;
        Ok(SemaphorePermit {
            sem: self,
            permits: n as usize,
        })
    }

    /// The fast path: takes `n` permits if they are free and nobody is
    /// queued, with one compare-and-swap.
    fn try_take(&self, n: usize) -> Result<(), TryAcquireError> {
        let mut word = self.word.load(Acquire);
        loop {
            if word & CLOSED != 0 {
                return Err(TryAcquireError::Closed);
            }
            if n == 0 {
                return Ok(());
            }
            if word & QUEUED != 0 || permits(word) < n {
                return Err(TryAcquireError::NoPermits);
            }
            match self
                .word
                .compare_exchange_weak(word, word - (n << SHIFT), AcqRel, Acquire)
            {
                Ok(_) => return Ok(()),
                Err(actual) => word = actual,
            }
        }
    }

    /// [`acquire`](Semaphore::acquire) from synchronous code: blocks the
    /// thread until a permit is free (queueing like `acquire`) or the
    /// semaphore is closed.
    ///
    /// # Panics
    ///
    /// On a thread that runs vigil tasks (use `acquire().await` there).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use vigil::sync::Semaphore;
    ///
    /// let sem = Arc::new(Semaphore::new(1));
    /// let held = sem.try_acquire().unwrap();
    /// let thread = std::thread::spawn({
    ///     let sem = sem.clone();
    ///     move || sem.blocking_acquire().unwrap().forget()
    /// });
    /// drop(held); // lets the thread through
    /// thread.join().unwrap();
    /// assert_eq!(sem.available_permits(), 0);
    /// ```
    #[track_caller]
    pub fn blocking_acquire(&self) -> Result<SemaphorePermit<'_>, AcquireError> {
        crate::sync::blocking::wait(self.acquire())
    }

    /// [`acquire_many`](Semaphore::acquire_many) from synchronous code;
    /// see [`blocking_acquire`](Semaphore::blocking_acquire).
    ///
    /// # Panics
    ///
    /// On a thread that runs vigil tasks.
    #[track_caller]
    pub fn blocking_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, AcquireError> {
        crate::sync::blocking::wait(self.acquire_many(n))
    }

    /// [`acquire_owned`](Semaphore::acquire_owned) from synchronous code;
    /// see [`blocking_acquire`](Semaphore::blocking_acquire).
    ///
    /// # Panics
    ///
    /// On a thread that runs vigil tasks.
    #[track_caller]
    pub fn blocking_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, AcquireError> {
        crate::sync::blocking::wait(self.acquire_owned())
    }

    /// [`acquire_many_owned`](Semaphore::acquire_many_owned) from
    /// synchronous code; see
    /// [`blocking_acquire`](Semaphore::blocking_acquire).
    ///
    /// # Panics
    ///
    /// On a thread that runs vigil tasks.
    #[track_caller]
    pub fn blocking_acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, AcquireError> {
        crate::sync::blocking::wait(self.acquire_many_owned(n))
    }

    /// [`acquire`](Semaphore::acquire) for a semaphore in an `Arc`: the
    /// permit owns a reference, so it can move into a spawned task.
    /// Cancel-safe.
    pub async fn acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, AcquireError> {
        self.acquire_many_owned(1).await
    }

    /// [`acquire_many`](Semaphore::acquire_many) returning an owned permit.
    /// Cancel-safe.
    pub async fn acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, AcquireError> {
        let permit = self.acquire_many(n).await?;
        let permits = permit.permits;
        std::mem::forget(permit);
        Ok(OwnedSemaphorePermit { sem: self, permits })
    }

    /// [`try_acquire`](Semaphore::try_acquire) returning an owned permit.
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_acquire_many_owned(1)
    }

    /// [`try_acquire_many`](Semaphore::try_acquire_many) returning an owned
    /// permit.
    pub fn try_acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_take(n as usize)?;
        Ok(OwnedSemaphorePermit {
            sem: self,
            permits: n as usize,
        })
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = self.word.load(Acquire);
        f.debug_struct("Semaphore")
            .field("permits", &permits(word))
            .field("closed", &(word & CLOSED != 0))
            .field("queued", &(word & QUEUED != 0))
            .finish()
    }
}

/// The future returned by [`Semaphore::acquire`] and
/// [`Semaphore::acquire_many`].
#[must_use = "futures do nothing unless polled"]
pub struct Acquire<'a> {
    sem: &'a Semaphore,
    needed: usize,
    /// Our node in the queue and our ticket, once queued.
    queued: Option<(Key, u64)>,
}

impl<'a> Acquire<'a> {
    fn new(sem: &'a Semaphore, needed: usize) -> Acquire<'a> {
        assert!(
            needed <= Semaphore::MAX_PERMITS,
            "cannot acquire more than {} permits",
            Semaphore::MAX_PERMITS
        );
        Acquire {
            sem,
            needed,
            queued: None,
        }
    }

    fn poll_acquire(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), AcquireError>> {
        let Some((key, ticket)) = self.queued else {
            match self.sem.try_take(self.needed) {
                Ok(()) => return Poll::Ready(Ok(())),
                Err(TryAcquireError::Closed) => return Poll::Ready(Err(AcquireError(()))),
                Err(TryAcquireError::NoPermits) => return self.enqueue(cx),
            }
        };
        // Served: the permits are ours and the node is gone (no lock).
        if self.sem.surely_served(ticket) {
            self.queued = None;
            return Poll::Ready(Ok(()));
        }
        let mut waiters = self.sem.lock();
        if !still_queued(&waiters, key, ticket) {
            self.queued = None;
            return Poll::Ready(Ok(()));
        }
        let waiter = waiters.get_mut(key);
        if waiter.closed {
            waiters.remove(key);
            self.queued = None;
            return Poll::Ready(Err(AcquireError(())));
        }
        match &mut waiter.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// The slow path: under the lock, either take the permits after all (a
    /// release got in since the fast path looked) or queue, setting
    /// [`QUEUED`] in the same compare-and-swap that checked the count.
    fn enqueue(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), AcquireError>> {
        let mut waiters = self.sem.lock();
        let mut word = self.sem.word.load(Acquire);
        loop {
            if word & CLOSED != 0 {
                return Poll::Ready(Err(AcquireError(())));
            }
            let next = if word & QUEUED != 0 {
                break;
            } else if permits(word) >= self.needed {
                word - (self.needed << SHIFT)
            } else {
                word | QUEUED
            };
            match self
                .sem
                .word
                .compare_exchange_weak(word, next, AcqRel, Acquire)
            {
                Ok(_) if next & QUEUED == 0 => return Poll::Ready(Ok(())),
                Ok(_) => break,
                Err(actual) => word = actual,
            }
        }
        // Tickets change only under the lock, which we hold.
        let ticket = self.sem.tickets.load(Relaxed);
        self.sem.tickets.store(ticket + 1, Relaxed);
        let key = waiters.push_back(Waiter {
            needed: self.needed,
            ticket,
            closed: false,
            waker: Some(cx.waker().clone()),
        });
        self.queued = Some((key, ticket));
        Poll::Pending
    }
}

/// Under the lock: `true` if the waiter with `key` and `ticket` still has
/// its node (queued, or unlinked by `close`); `false` once it was served,
/// which frees the node (the key may hold a newer waiter's node by then).
fn still_queued(waiters: &WaitList<Waiter>, key: Key, ticket: u64) -> bool {
    waiters.get(key).is_some_and(|w| w.ticket == ticket)
}

impl<'a> Future for Acquire<'a> {
    type Output = Result<SemaphorePermit<'a>, AcquireError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        let this = self.get_mut();
        let ret = this.poll_acquire(cx).map(|res| {
            res.map(|()| SemaphorePermit {
                sem: this.sem,
                permits: this.needed,
            })
        });
        coop::refund_if_pending(ret)
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        let Some((key, ticket)) = self.queued else {
            return;
        };
        // Leaving the queue may let the next waiter through; a grant we
        // never collected (our node is gone) goes back to the pool.
        self.sem.update(|waiters| {
            if still_queued(waiters, key, ticket) {
                waiters.remove(key);
            } else {
                self.sem.word.fetch_add(self.needed << SHIFT, AcqRel);
            }
        });
    }
}

impl fmt::Debug for Acquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("needed", &self.needed)
            .field("queued", &self.queued.is_some())
            .finish()
    }
}
