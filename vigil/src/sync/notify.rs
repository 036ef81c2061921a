//! [`Notify`]: wake one waiting task, or all of them, with no data attached.

use super::wait_list::{Key, WaitList};
use crate::loom::sync::atomic::AtomicUsize;
use crate::loom::sync::atomic::Ordering::SeqCst;
use crate::loom::sync::{Mutex, MutexGuard};
use crate::runtime::coop;
use std::fmt;
use std::future::Future;
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// Lets one task wake others, without sending any data.
///
/// Tasks wait with [`notified().await`](Notify::notified), or, with the
/// `Notify` in an `Arc`, with a [`notified_owned`](Notify::notified_owned)
/// future that can move into a spawned task. A notifier wakes
/// the longest waiting one with [`notify_one`](Notify::notify_one), the
/// most recent one with [`notify_last`](Notify::notify_last), or all those
/// waiting at that moment with [`notify_waiters`](Notify::notify_waiters).
///
/// If `notify_one` finds nobody waiting, it stores a single *permit*: the
/// next `notified()` completes at once and consumes it. Permits do not add
/// up: several calls with nobody waiting still leave one. This makes the
/// common pattern safe from lost wake-ups: a consumer checks for work, finds
/// none, and awaits `notified()`; a producer that added work and called
/// `notify_one` between the check and the await has left a permit behind.
///
/// ```
/// use std::sync::Arc;
/// use vigil::sync::Notify;
///
/// #[vigil::main(flavor = "current_thread")]
/// async fn main() {
///     let notify = Arc::new(Notify::new());
///     let waiter = vigil::spawn({
///         let notify = notify.clone();
///         async move {
///             notify.notified().await;
///             "woken"
///         }
///     });
///     notify.notify_one();
///     assert_eq!(waiter.await.unwrap(), "woken");
/// }
/// ```
///
/// # Design
///
/// The permit, a generation count and the queue of waiters sit behind one
/// short lock, in the `WaitList` shared with the other primitives of
/// [`crate::sync`]. A waiter's node records the waker to wake and, once a
/// notifier has picked it, which kind of notification it got; the
/// [`Notified`] future reads that when polled, then frees the node.
///
/// - A notification given to one waiter must not vanish if that waiter is
///   cancelled, or `notify_one` could wake nobody. So a dropped [`Notified`]
///   that was picked by `notify_one`/`notify_last` but had not yet returned
///   `Ready` passes the notification to the next waiter, or back into the
///   permit.
/// - `notify_waiters` must also reach futures created but not yet polled
///   (so that a task can create the future, then check a condition, then
///   await, without missing a broadcast in between). Every `Notified`
///   remembers the generation it was created in, and `notify_waiters`
///   advances it; a future that finds the generation moved on is done.
/// - Wakers are collected under the lock and woken after it is released,
///   so a woken task on another thread does not immediately block on it.
pub struct Notify {
    /// Bumped (under the lock) by each `notify_waiters`; read without the
    /// lock when a `Notified` is created.
    generation: AtomicUsize,
    state: Mutex<State>,
}

struct State {
    /// A stored `notify_one` nobody has consumed yet.
    permit: bool,
    waiters: WaitList<Waiter>,
}

struct Waiter {
    waker: Option<Waker>,
    /// Set by the notifier that unlinks this waiter.
    notified: Option<Kind>,
}

/// Which call picked a waiter: matters when a picked waiter is dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// `notify_one` or `notify_last`: pass it on if not consumed.
    One,
    /// `notify_waiters`: a broadcast; nothing to pass on.
    All,
}

/// The future returned by [`Notify::notified`]: completes once this waiter
/// is notified.
///
/// It takes part in [`notify_waiters`](Notify::notify_waiters) from the
/// moment it is created, and in `notify_one`/`notify_last` (and permits)
/// from its first poll or [`enable`](Notified::enable).
///
/// **Cancel safety:** dropping it loses no notification. If it was chosen by
/// `notify_one`/`notify_last` (or took a permit) and is dropped before it
/// returned `Ready`, that notification goes to the next waiter in line, or
/// back into the permit if none waits. A broadcast from `notify_waiters` is
/// simply dropped with it, as the other waiters got their own. What it does
/// lose is its place in the queue: a new `notified()` waits at the back.
#[must_use = "futures do nothing unless polled"]
pub struct Notified<'a> {
    notify: &'a Notify,
    wait: Wait,
}

/// The future returned by [`Notify::notified_owned`]: a [`Notified`] that
/// holds the `Notify` through an [`Arc`] instead of borrowing it, so it is
/// `'static` and can be moved into a spawned task.
///
/// It behaves exactly like [`Notified`]: it takes part in
/// [`notify_waiters`](Notify::notify_waiters) from the moment it is
/// created and in `notify_one`/`notify_last` from its first poll or
/// [`enable`](OwnedNotified::enable), and once it has completed, polling it
/// again returns `Ready` at once.
///
/// It is not `Unpin` (pin it with [`std::pin::pin!`] or `Box::pin` to poll
/// it by hand), as in Tokio, where the waiter it embeds must not move.
///
/// **Cancel safety:** as for [`Notified`], dropping it loses no
/// notification: a `notify_one`/`notify_last` (or permit) it received but
/// had not yet returned goes to the next waiter, or back into the permit.
/// It does lose its place in the queue.
#[must_use = "futures do nothing unless polled"]
pub struct OwnedNotified {
    notify: Arc<Notify>,
    wait: Wait,
    /// Keeps the type `!Unpin`, like Tokio's.
    _pinned: PhantomPinned,
}

/// What [`Notified`] and [`OwnedNotified`] share: where this waiter is in
/// its `Notify`. The `Notify` itself is passed in by the owner.
#[derive(Debug)]
struct Wait {
    /// The generation when created; a later one means `notify_waiters` ran.
    generation: usize,
    stage: Stage,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Not yet registered.
    Init,
    /// Queued (or picked but not yet collected) under this key.
    Waiting(Key),
    /// Notified (the kind), not yet returned `Ready`.
    Notified(Kind),
    /// Returned `Ready`.
    Done,
}

impl Notify {
    /// A `Notify` with no permit and no waiters.
    #[cfg(not(loom))]
    pub const fn new() -> Notify {
        Notify {
            generation: AtomicUsize::new(0),
            state: Mutex::new(State {
                permit: false,
                waiters: WaitList::new(),
            }),
        }
    }

    /// A `Notify` with no permit and no waiters (loom's types are not
    /// `const`).
    #[cfg(loom)]
    pub fn new() -> Notify {
        Notify {
            generation: AtomicUsize::new(0),
            state: Mutex::new(State {
                permit: false,
                waiters: WaitList::new(),
            }),
        }
    }

    /// The same as [`new`](Notify::new), which is already `const`; for
    /// code written against Tokio, whose `new` is not.
    ///
    /// ```
    /// use vigil::sync::Notify;
    ///
    /// static WAKE_UP: Notify = Notify::const_new();
    ///
    /// WAKE_UP.notify_one(); // stores the permit
    /// vigil::block_on(WAKE_UP.notified()); // and this consumes it
    /// ```
    #[cfg(not(loom))]
    pub const fn const_new() -> Notify {
        Notify::new()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent even if a waker panicked elsewhere:
        // nothing here panics while holding the lock.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A future that completes when this `Notify` is notified.
    ///
    /// See [`Notified`] for when it starts to count as waiting and what
    /// dropping it does.
    ///
    /// **Cancel safety:** cancel-safe: dropping the future passes on a
    /// notification it had received and not yet returned. It loses the
    /// waiter's place in the queue, so waiters are served in the order
    /// their current futures started waiting.
    pub fn notified(&self) -> Notified<'_> {
        Notified {
            notify: self,
            wait: Wait::new(self),
        }
    }

    /// Like [`notified`](Notify::notified), but the future keeps the
    /// `Notify` alive through the `Arc` rather than borrowing it, so it can
    /// be created here and awaited in a spawned task (it is `'static`).
    ///
    /// The future counts for [`notify_waiters`](Notify::notify_waiters)
    /// from this call on, just like [`Notified`].
    ///
    /// **Cancel safety:** cancel-safe in the same way as `notified`: a
    /// dropped [`OwnedNotified`] passes on a `notify_one` it had received,
    /// but loses its place in the queue.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use vigil::sync::Notify;
    ///
    /// #[vigil::main(flavor = "current_thread")]
    /// async fn main() {
    ///     let start = Arc::new(Notify::new());
    ///     let mut workers = Vec::new();
    ///     for id in 0..3 {
    ///         // Created now, so the broadcast below reaches each of them
    ///         // even if the task has not run yet.
    ///         let go = start.clone().notified_owned();
    ///         workers.push(vigil::spawn(async move {
    ///             go.await;
    ///             id
    ///         }));
    ///     }
    ///     start.notify_waiters();
    ///     for (id, worker) in workers.into_iter().enumerate() {
    ///         assert_eq!(worker.await.unwrap(), id);
    ///     }
    /// }
    /// ```
    pub fn notified_owned(self: Arc<Self>) -> OwnedNotified {
        OwnedNotified {
            wait: Wait::new(&self),
            notify: self,
            _pinned: PhantomPinned,
        }
    }

    /// Wakes the waiter that has waited longest, or, if none waits, stores
    /// the permit (at most one) for the next [`notified`](Self::notified).
    pub fn notify_one(&self) {
        let mut state = self.lock();
        let waker = state.wake_front();
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Like [`notify_one`](Self::notify_one), but wakes the waiter that
    /// started waiting most recently. Finding it walks the queue.
    pub fn notify_last(&self) {
        let mut state = self.lock();
        let mut queued = 0;
        state.waiters.drain_filter(|_| {
            queued += 1;
            false
        });
        let mut waker = None;
        if queued == 0 {
            state.permit = true;
        } else {
            let mut seen = 0;
            state.waiters.drain_filter(|w| {
                seen += 1;
                if seen == queued {
                    w.notified = Some(Kind::One);
                    waker = w.waker.take();
                    true
                } else {
                    false
                }
            });
        }
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Wakes every waiter that exists now: each queued one, and each
    /// [`Notified`] already created but not yet polled. Stores no permit,
    /// and does not affect futures created after it returns.
    pub fn notify_waiters(&self) {
        let mut state = self.lock();
        self.generation.fetch_add(1, SeqCst);
        let mut wakers = Vec::new();
        state.waiters.drain_filter(|w| {
            w.notified = Some(Kind::All);
            wakers.extend(w.waker.take());
            true
        });
        drop(state);
        for waker in wakers {
            waker.wake();
        }
    }
}

impl State {
    /// Picks the first waiter for a `notify_one`, or stores the permit.
    /// Returns the waker to wake once the lock is released.
    fn wake_front(&mut self) -> Option<Waker> {
        match self.waiters.pop_front() {
            Some(key) => {
                let waiter = self.waiters.get_mut(key);
                waiter.notified = Some(Kind::One);
                waiter.waker.take()
            }
            None => {
                self.permit = true;
                None
            }
        }
    }
}

impl Default for Notify {
    fn default() -> Notify {
        Notify::new()
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("Notify")
            .field("permit", &state.permit)
            .field("waiting", &!state.waiters.is_empty())
            .finish()
    }
}

impl Notified<'_> {
    /// Registers this future as a waiter without polling it, so that a
    /// `notify_one` from now on can pick it (it always counts for
    /// `notify_waiters`). Returns `true` if it is already notified: the
    /// next poll will return `Ready`.
    ///
    /// Useful to wait for a condition without racing a `notify_one`:
    /// enable, check the condition, then await.
    ///
    /// ```
    /// use std::pin::pin;
    /// use vigil::sync::Notify;
    ///
    /// let notify = Notify::new();
    /// let mut notified = pin!(notify.notified());
    /// assert!(!notified.as_mut().enable());
    /// notify.notify_one(); // picks the enabled waiter; stores no permit
    /// assert!(notified.as_mut().enable());
    /// vigil::block_on(notified);
    /// ```
    pub fn enable(self: Pin<&mut Self>) -> bool {
        let this = self.get_mut();
        this.wait.update(this.notify, None)
    }
}

impl OwnedNotified {
    /// Registers this future as a waiter without polling it; the same as
    /// [`Notified::enable`]. Returns `true` if it is already notified.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use vigil::sync::Notify;
    ///
    /// let notify = Arc::new(Notify::new());
    /// let mut notified = Box::pin(notify.clone().notified_owned());
    /// assert!(!notified.as_mut().enable());
    /// notify.notify_one(); // goes to the enabled waiter
    /// assert!(notified.as_mut().enable());
    /// vigil::block_on(notified);
    /// ```
    pub fn enable(self: Pin<&mut Self>) -> bool {
        // SAFETY: nothing here is structurally pinned (`PhantomPinned` only
        // opts out of `Unpin`); we neither move out of `self` nor hand out a
        // pinned reference to a field.
        let this = unsafe { self.get_unchecked_mut() };
        this.wait.update(&this.notify, None)
    }
}

impl Wait {
    fn new(notify: &Notify) -> Wait {
        Wait {
            generation: notify.generation.load(SeqCst),
            stage: Stage::Init,
        }
    }

    /// Advances the stage; registers `waker` if still waiting (a `None`
    /// keeps the waker already stored). Returns `true` once notified.
    fn update(&mut self, notify: &Notify, waker: Option<&Waker>) -> bool {
        match self.stage {
            Stage::Notified(_) | Stage::Done => return true,
            Stage::Init => {
                let mut state = notify.lock();
                if notify.generation.load(SeqCst) != self.generation {
                    self.stage = Stage::Notified(Kind::All);
                } else if state.permit {
                    state.permit = false;
                    self.stage = Stage::Notified(Kind::One);
                } else {
                    let key = state.waiters.push_back(Waiter {
                        waker: waker.cloned(),
                        notified: None,
                    });
                    self.stage = Stage::Waiting(key);
                }
            }
            Stage::Waiting(key) => {
                let mut state = notify.lock();
                if state.waiters.is_linked(key) {
                    if let Some(new) = waker {
                        let slot = &mut state.waiters.get_mut(key).waker;
                        if !slot.as_ref().is_some_and(|w| w.will_wake(new)) {
                            *slot = Some(new.clone());
                        }
                    }
                } else {
                    let waiter = state.waiters.remove(key);
                    self.stage = Stage::Notified(waiter.notified.expect("unlinked by a notifier"));
                }
            }
        }
        matches!(self.stage, Stage::Notified(_))
    }

    /// One poll of the future that owns this waiter.
    fn poll(&mut self, notify: &Notify, cx: &mut Context<'_>) -> Poll<()> {
        if self.stage == Stage::Done {
            return Poll::Ready(());
        }
        if coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        if self.update(notify, Some(cx.waker())) {
            self.stage = Stage::Done;
            Poll::Ready(())
        } else {
            coop::refund();
            Poll::Pending
        }
    }

    /// The owning future is dropped: leave the queue, and pass on a
    /// `notify_one` that was received but not returned.
    fn cancel(&mut self, notify: &Notify) {
        if matches!(self.stage, Stage::Init | Stage::Done) {
            return;
        }
        let mut state = notify.lock();
        let unused = match self.stage {
            Stage::Init | Stage::Done => return,
            Stage::Notified(kind) => kind,
            Stage::Waiting(key) => {
                let waiter = state.waiters.remove(key);
                match waiter.notified {
                    Some(kind) => kind,
                    None => return,
                }
            }
        };
        self.stage = Stage::Done;
        if unused == Kind::One {
            let waker = state.wake_front();
            drop(state);
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        this.wait.poll(this.notify, cx)
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        self.wait.cancel(self.notify);
    }
}

impl fmt::Debug for Notified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified")
            .field("stage", &self.wait.stage)
            .finish()
    }
}

impl Future for OwnedNotified {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // SAFETY: as in `enable`: no field is structurally pinned, and we
        // do not move out of `self`.
        let this = unsafe { self.get_unchecked_mut() };
        this.wait.poll(&this.notify, cx)
    }
}

impl Drop for OwnedNotified {
    fn drop(&mut self) {
        self.wait.cancel(&self.notify);
    }
}

impl fmt::Debug for OwnedNotified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedNotified")
            .field("stage", &self.wait.stage)
            .finish()
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! Loom models of `Notify`: a notification picked for a waiter that is
    //! then cancelled is never lost. Run with the oneshot models (see
    //! `loom_oneshot.rs`).

    use super::Notify;
    use loom::sync::Arc;
    use loom::thread;
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Waker};

    #[test]
    fn loom_notify_one_vs_drop_of_enabled_waiter() {
        loom::model(|| {
            let notify = Arc::new(Notify::new());
            let n = notify.clone();
            let notifier = thread::spawn(move || n.notify_one());
            {
                let mut waiter = pin!(notify.notified());
                waiter.as_mut().enable();
                // Dropped here, whether or not it was picked.
            }
            notifier.join().unwrap();
            // The notification went back into the permit either way.
            let mut next = pin!(notify.notified());
            let mut cx = Context::from_waker(Waker::noop());
            assert!(next.as_mut().poll(&mut cx).is_ready());
        });
    }

    /// The same race with the owned future, which shares the code but
    /// has its own `Drop`. `notified_owned` takes a `std` `Arc`: loom does
    /// not need to track that one, the `Notify` inside is loom's.
    #[test]
    fn loom_notify_one_vs_drop_of_enabled_owned_waiter() {
        loom::model(|| {
            let notify = std::sync::Arc::new(Notify::new());
            let n = notify.clone();
            let notifier = thread::spawn(move || n.notify_one());
            {
                let mut waiter = Box::pin(notify.clone().notified_owned());
                waiter.as_mut().enable();
                // Dropped here, whether or not it was picked.
            }
            notifier.join().unwrap();
            let mut next = pin!(notify.notified());
            let mut cx = Context::from_waker(Waker::noop());
            assert!(next.as_mut().poll(&mut cx).is_ready());
        });
    }

    #[test]
    fn loom_notify_one_vs_poll_then_notify_waiters() {
        loom::model(|| {
            let notify = Arc::new(Notify::new());
            let n = notify.clone();
            let mut cx = Context::from_waker(Waker::noop());
            let mut waiter = pin!(notify.notified());
            let notifier = thread::spawn(move || {
                n.notify_one();
                n.notify_waiters();
            });
            let _ = waiter.as_mut().poll(&mut cx);
            notifier.join().unwrap();
            assert!(waiter.as_mut().poll(&mut cx).is_ready());
        });
    }
}
