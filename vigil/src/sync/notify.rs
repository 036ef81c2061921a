//! [`Notify`]: wake one waiting task, or all of them, with no data attached.

use super::wait_list::{Key, WaitList};
use crate::loom::sync::atomic::AtomicUsize;
use crate::loom::sync::atomic::Ordering::SeqCst;
use crate::loom::sync::{Mutex, MutexGuard};
use crate::runtime::coop;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// Lets one task wake others, without sending any data.
///
/// Tasks wait with [`notified().await`](Notify::notified). A notifier wakes
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
/// simply dropped with it, as the other waiters got their own.
#[must_use = "futures do nothing unless polled"]
pub struct Notified<'a> {
    notify: &'a Notify,
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

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent even if a waker panicked elsewhere:
        // nothing here panics while holding the lock.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A future that completes when this `Notify` is notified.
    ///
    /// See [`Notified`] for when it starts to count as waiting and what
    /// dropping it does. Awaiting it is cancel safe.
    pub fn notified(&self) -> Notified<'_> {
        Notified {
            notify: self,
            generation: self.generation.load(SeqCst),
            stage: Stage::Init,
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
        self.get_mut().update(None)
    }

    /// Advances the stage; registers `waker` if still waiting (a `None`
    /// keeps the waker already stored). Returns `true` once notified.
    fn update(&mut self, waker: Option<&Waker>) -> bool {
        match self.stage {
            Stage::Notified(_) | Stage::Done => return true,
            Stage::Init => {
                let mut state = self.notify.lock();
                if self.notify.generation.load(SeqCst) != self.generation {
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
                let mut state = self.notify.lock();
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
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.stage == Stage::Done {
            return Poll::Ready(());
        }
        if coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        if this.update(Some(cx.waker())) {
            this.stage = Stage::Done;
            Poll::Ready(())
        } else {
            coop::refund();
            Poll::Pending
        }
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        if matches!(self.stage, Stage::Init | Stage::Done) {
            return;
        }
        let mut state = self.notify.lock();
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
        if unused == Kind::One {
            let waker = state.wake_front();
            drop(state);
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }
}

impl fmt::Debug for Notified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified")
            .field("stage", &self.stage)
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
