//! A single-value channel: senders publish the latest state, any number of
//! receivers look at it and wait for it to change.
//!
//! Use it for state where only the newest value matters (a configuration,
//! a "shutting down" flag, a connection status): a receiver that falls
//! behind does not queue up every intermediate value, it just sees the
//! current one.
//!
//! # Design
//!
//! The value sits behind a `RwLock`, so any number of receivers can read it
//! at once and a sender replaces it in place (no allocation per send).
//! Next to it is a version counter, an atomic: every send bumps it while it
//! still holds the write lock, so a reader holding the read lock sees a
//! version that belongs to exactly the value it is reading. A receiver only
//! remembers the last version it has seen; "has it changed?" is a single
//! comparison, and a receiver that misses ten sends sees one change.
//!
//! The lowest bit of the counter records that the last sender is gone, so
//! one load answers both "is there something new?" and "can there ever
//! be?".
//!
//! Receivers waiting in [`Receiver::changed`] queue in a wait list under a
//! short mutex. A sender bumps the version *before* taking that mutex and
//! wakes every queued waiter; a waiter checks the version *under* the
//! mutex before queueing. Either the waiter queued first and is woken, or
//! the sender's bump happened first and the waiter sees it: no wake-up is
//! lost. Wakers are woken after the mutex is released. The same mutex
//! counts receivers, for [`Sender::closed`], and senders, so that only the
//! last one to go sets the closed bit.
//!
//! Waiting for a change spends the task's cooperative budget when it
//! completes, so a task looping on an always-changing channel still yields.

use super::wait_list::{Key, WaitList};
use super::wake_batch::{register, wake_list};
use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::loom::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard};
use crate::runtime::coop;
use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::{Arc, PoisonError};
use std::task::{Context, Poll, Waker};

use error::{RecvError, SendError};

pub mod error;
mod stream;

pub use stream::WatchStream;

/// The counter's lowest bit: the last sender was dropped.
const CLOSED: usize = 1;
/// One send's step: versions live in the bits above [`CLOSED`].
const STEP: usize = 2;
/// A "seen" version no real version equals (real ones are even).
const NEVER_SEEN: usize = usize::MAX;

/// Creates a watch channel holding `init`; returns its sender and a first
/// receiver. The receiver counts `init` as already seen.
///
/// ```
/// use vigil::sync::watch;
///
/// #[vigil::main(flavor = "current_thread")]
/// async fn main() {
///     let (tx, mut rx) = watch::channel("starting");
///     let waiter = vigil::spawn(async move {
///         // Waits for a value newer than the one it has seen.
///         rx.changed().await.unwrap();
///         *rx.borrow_and_update()
///     });
///     tx.send("ready").unwrap();
///     assert_eq!(waiter.await.unwrap(), "ready");
/// }
/// ```
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let tx = Sender::new(init);
    let rx = tx.subscribe();
    (tx, rx)
}

struct Shared<T> {
    value: RwLock<T>,
    /// `sends * STEP`, plus [`CLOSED`] once the last sender is gone.
    version: AtomicUsize,
    state: Mutex<State>,
}

struct State {
    receivers: usize,
    /// Live [`Sender`]s; the last one to drop sets [`CLOSED`].
    senders: usize,
    /// Receivers waiting in `changed`.
    changed: WaitList<Option<Waker>>,
    /// Senders waiting in `closed`.
    closed: WaitList<Option<Waker>>,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Never held across user code: a poisoned lock's state is intact.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn read(&self) -> RwLockReadGuard<'_, T> {
        // A panic in a `send_modify` closure poisons the lock; the value is
        // whatever the closure left, like a panic in any other `&mut` use.
        self.value.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn wake_changed(&self) {
        wake_list(|| self.lock(), |s| &mut s.changed);
    }
}

/// The sending half: publishes new values.
///
/// Clone it to send from several places; all clones publish to the same
/// value. Dropping the last sender closes the channel: receivers can still
/// read the last value, and [`Receiver::changed`] fails once they have
/// seen it.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// A receiving half: reads the current value and waits for new ones.
///
/// Cloning a receiver gives another one that has seen the same versions.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The last version this receiver has seen (or [`NEVER_SEEN`]).
    seen: usize,
}

/// A read-locked view of the channel's value, from
/// [`Receiver::borrow`] and friends.
///
/// Holding it blocks the sender (it waits for the lock), so keep it
/// briefly and never across an `.await`; sending from the thread that
/// holds one deadlocks.
pub struct Ref<'a, T> {
    guard: RwLockReadGuard<'a, T>,
    has_changed: bool,
}

impl<T> Ref<'_, T> {
    /// `true` if the value was new to the receiver when it was borrowed
    /// (always `false` from [`Sender::borrow`]).
    pub fn has_changed(&self) -> bool {
        self.has_changed
    }
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl<T> Sender<T> {
    /// A sender holding `init`, with no receivers yet (get some with
    /// [`subscribe`](Sender::subscribe)).
    pub fn new(init: T) -> Sender<T> {
        Sender {
            shared: Arc::new(Shared {
                value: RwLock::new(init),
                version: AtomicUsize::new(0),
                state: Mutex::new(State {
                    receivers: 0,
                    senders: 1,
                    changed: WaitList::new(),
                    closed: WaitList::new(),
                }),
            }),
        }
    }

    /// Replaces the value and notifies the receivers; fails, giving the
    /// value back, if there are none (the channel's value is then left
    /// as it was).
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.shared.lock().receivers == 0 {
            return Err(SendError(value));
        }
        self.send_replace(value);
        Ok(())
    }

    /// Replaces the value even with no receivers, notifies any, and
    /// returns the old value.
    pub fn send_replace(&self, value: T) -> T {
        let mut value = Some(value);
        let mut old = None;
        self.send_if_modified(|cur| {
            old = Some(std::mem::replace(cur, value.take().unwrap()));
            true
        });
        old.unwrap()
    }

    /// Changes the value in place and notifies the receivers (even with no
    /// receivers).
    pub fn send_modify(&self, modify: impl FnOnce(&mut T)) {
        self.send_if_modified(|v| {
            modify(v);
            true
        });
    }

    /// Calls `modify` on the value under the write lock; if it returns
    /// `true` the receivers are notified, if `false` they are not (so
    /// `modify` should leave the value as it was). Returns what `modify`
    /// returned.
    ///
    /// If `modify` panics the panic propagates and nobody is notified;
    /// the channel stays usable.
    pub fn send_if_modified(&self, modify: impl FnOnce(&mut T) -> bool) -> bool {
        {
            let mut value = self
                .shared
                .value
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            if !modify(&mut value) {
                return false;
            }
            // Under the write lock, so readers see value and version
            // change together.
            self.shared.version.fetch_add(STEP, Ordering::Release);
        }
        self.shared.wake_changed();
        true
    }

    /// Borrows the current value. The [`Ref`] holds a read lock: keep it
    /// briefly.
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            guard: self.shared.read(),
            has_changed: false,
        }
    }

    /// A new receiver, which counts the current value as seen.
    pub fn subscribe(&self) -> Receiver<T> {
        self.shared.lock().receivers += 1;
        let version = self.shared.version.load(Ordering::Acquire);
        Receiver {
            shared: self.shared.clone(),
            seen: version & !CLOSED,
        }
    }

    /// How many receivers exist.
    pub fn receiver_count(&self) -> usize {
        self.shared.lock().receivers
    }

    /// How many senders exist (this one and its clones).
    ///
    /// ```
    /// use vigil::sync::watch;
    ///
    /// let (tx, _rx) = watch::channel(0);
    /// let tx2 = tx.clone();
    /// assert_eq!(tx.sender_count(), 2);
    /// drop(tx2);
    /// assert_eq!(tx.sender_count(), 1);
    /// ```
    pub fn sender_count(&self) -> usize {
        self.shared.lock().senders
    }

    /// `true` if there are no receivers (a later
    /// [`subscribe`](Sender::subscribe) reopens the channel).
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }

    /// Waits until there are no receivers; at once if there are none.
    ///
    /// **Cancel-safe**: it only observes.
    ///
    /// ```
    /// use vigil::sync::watch;
    ///
    /// #[vigil::main(flavor = "current_thread")]
    /// async fn main() {
    ///     let (tx, rx) = watch::channel(());
    ///     vigil::spawn(async move {
    ///         // ... a listener that eventually goes away ...
    ///         drop(rx);
    ///     });
    ///     // Stop producing once nobody listens.
    ///     tx.closed().await;
    ///     assert!(tx.is_closed());
    /// }
    /// ```
    pub async fn closed(&self) {
        Closed {
            shared: &self.shared,
            key: None,
        }
        .await
    }

    /// `true` if `other` is a sender of the same channel (a clone of this
    /// one, or of a clone), as in Tokio. For a receiver, see
    /// [`Receiver::is_of`].
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Clone for Sender<T> {
    /// Another sender for the same channel; the channel stays open until
    /// every sender is dropped.
    fn clone(&self) -> Sender<T> {
        self.shared.lock().senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T: Default> Default for Sender<T> {
    /// A sender holding `T::default()`, with no receivers yet.
    fn default() -> Sender<T> {
        Sender::new(T::default())
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
            self.shared.version.fetch_or(CLOSED, Ordering::Release);
            self.shared.wake_changed();
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("value", &*self.shared.read())
            .finish_non_exhaustive()
    }
}

impl<T> Receiver<T> {
    /// Borrows the current value without marking it seen. The [`Ref`]
    /// holds a read lock: keep it briefly, never across an `.await`.
    pub fn borrow(&self) -> Ref<'_, T> {
        let guard = self.shared.read();
        let version = self.shared.version.load(Ordering::Acquire) & !CLOSED;
        Ref {
            guard,
            has_changed: version != self.seen,
        }
    }

    /// Borrows the current value and marks it seen, so
    /// [`changed`](Receiver::changed) waits for a newer one.
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        let guard = self.shared.read();
        let version = self.shared.version.load(Ordering::Acquire) & !CLOSED;
        let has_changed = version != self.seen;
        self.seen = version;
        Ref { guard, has_changed }
    }

    /// `true` if there is a value this receiver has not seen.
    ///
    /// Fails once every sender is dropped, even if the last value is unseen
    /// (read it with [`borrow`](Receiver::borrow)).
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        let version = self.shared.version.load(Ordering::Acquire);
        if version & CLOSED != 0 {
            return Err(RecvError(()));
        }
        Ok(version != self.seen)
    }

    /// `true` once every sender is dropped: no new value will come (the
    /// last one can still be read, and may still be unseen).
    ///
    /// ```
    /// use vigil::sync::watch;
    ///
    /// let (tx, rx) = watch::channel("last words");
    /// assert!(!rx.is_closed());
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// assert_eq!(*rx.borrow(), "last words");
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.version.load(Ordering::Acquire) & CLOSED != 0
    }

    /// Makes the current value count as unseen.
    pub fn mark_changed(&mut self) {
        self.seen = NEVER_SEEN;
    }

    /// Makes the current value count as seen.
    pub fn mark_unchanged(&mut self) {
        self.seen = self.shared.version.load(Ordering::Acquire) & !CLOSED;
    }

    /// Waits for a value this receiver has not seen and marks it seen
    /// (read it with [`borrow`](Receiver::borrow)). Resolves at once if
    /// there already is one.
    ///
    /// Fails when every sender is dropped and this receiver has seen the last
    /// value.
    ///
    /// **Cancel-safe**: dropping the future before it completes changes
    /// nothing; the next call sees the same unseen value.
    pub async fn changed(&mut self) -> Result<(), RecvError> {
        Changed {
            shared: &self.shared,
            seen: &mut self.seen,
            key: None,
        }
        .await
    }

    /// Waits until `accept` returns `true` for the value, checking the
    /// current one first and then each new one, and returns it still
    /// borrowed. Marks every value it checked as seen.
    ///
    /// Fails when every sender is dropped and the last value was rejected.
    /// `accept` runs under the read lock: keep it quick.
    ///
    /// **Cancel-safe**: dropping the future loses nothing a later call
    /// would need; values it rejected stay seen.
    ///
    /// ```
    /// use vigil::sync::watch;
    ///
    /// #[vigil::main(flavor = "current_thread")]
    /// async fn main() {
    ///     let (tx, mut rx) = watch::channel(0u32);
    ///     let progress = vigil::spawn(async move {
    ///         for pct in (0..=100).step_by(25) {
    ///             tx.send_replace(pct);
    ///             vigil::task::yield_now().await;
    ///         }
    ///     });
    ///     // Skips the values in between, however many there were.
    ///     let done = rx.wait_for(|pct| *pct >= 50).await.unwrap();
    ///     assert!(*done >= 50);
    ///     drop(done); // release the read lock before waiting on anything
    ///     progress.await.unwrap();
    /// }
    /// ```
    pub async fn wait_for(
        &mut self,
        mut accept: impl FnMut(&T) -> bool,
    ) -> Result<Ref<'_, T>, RecvError> {
        let Receiver { shared, seen } = self;
        loop {
            {
                // In its own scope so the (non-`Send`) guard is visibly gone
                // at the `.await`, keeping the future `Send`.
                let guard = shared.read();
                let version = shared.version.load(Ordering::Acquire) & !CLOSED;
                let has_changed = version != *seen;
                *seen = version;
                if accept(&guard) {
                    return Ok(Ref { guard, has_changed });
                }
            }
            // Wait on a copy: `*seen` stays at the value just checked, so
            // the next check's `has_changed` compares against it.
            let mut probe = *seen;
            Changed {
                shared,
                seen: &mut probe,
                key: None,
            }
            .await?;
        }
    }

    /// `true` if both receivers belong to the same channel.
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// `true` if `sender` sends on this receiver's channel.
    pub fn is_of(&self, sender: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.shared, &sender.shared)
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Receiver<T> {
        self.shared.lock().receivers += 1;
        Receiver {
            shared: self.shared.clone(),
            seen: self.seen,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let last = {
            let mut state = self.shared.lock();
            state.receivers -= 1;
            state.receivers == 0
        };
        if last {
            wake_list(|| self.shared.lock(), |s| &mut s.closed);
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("value", &*self.shared.read())
            .field("has_changed", &self.borrow().has_changed())
            .finish()
    }
}

/// `Receiver::changed`: resolves once the version differs from `seen`.
struct Changed<'a, T> {
    shared: &'a Shared<T>,
    seen: &'a mut usize,
    key: Option<Key>,
}

impl<T> Shared<T> {
    /// One "has it changed?" step for a waiter that has seen `seen` and
    /// whose place in the wait list is `key` (a [`Changed`] future's, or a
    /// [`WatchStream`]'s); marks the new version seen when there is one.
    fn poll_changed(
        &self,
        seen: &mut usize,
        key: &mut Option<Key>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), RecvError>> {
        let mut state = self.lock();
        // Checked under the mutex a sender takes after bumping the version:
        // see the module docs.
        let version = self.version.load(Ordering::Acquire);
        let ready = if version & !CLOSED != *seen {
            *seen = version & !CLOSED;
            Ok(())
        } else if version & CLOSED != 0 {
            Err(RecvError(()))
        } else {
            register(&mut state.changed, key, cx.waker());
            return Poll::Pending;
        };
        if let Some(key) = key.take() {
            state.changed.remove(key);
        }
        Poll::Ready(ready)
    }

    /// Gives up the place `key` in the wait list, if it holds one.
    fn forget_changed_waiter(&self, key: &mut Option<Key>) {
        if let Some(key) = key.take() {
            self.lock().changed.remove(key);
        }
    }
}

impl<T> Future for Changed<'_, T> {
    type Output = Result<(), RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        let this = self.get_mut();
        coop::refund_if_pending(this.shared.poll_changed(this.seen, &mut this.key, cx))
    }
}

impl<T> Drop for Changed<'_, T> {
    fn drop(&mut self) {
        self.shared.forget_changed_waiter(&mut self.key);
    }
}

/// `Sender::closed`: resolves once no receiver is left.
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
            register(&mut state.closed, &mut this.key, cx.waker());
            return coop::refund_if_pending(Poll::Pending);
        }
        if let Some(key) = this.key.take() {
            state.closed.remove(key);
        }
        Poll::Ready(())
    }
}

impl<T> Drop for Closed<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.shared.lock().closed.remove(key);
        }
    }
}

#[cfg(all(test, loom))]
mod loom_watch;
