//! [`SetOnce`]: a value that is set once, by anyone, and that tasks can
//! wait for.
//!
//! Where [`OnceCell`](super::OnceCell) runs an initialiser on behalf of
//! whoever asks first, a `SetOnce` is filled from the outside: some task
//! calls [`set`](SetOnce::set), and tasks that need the value before then
//! [`wait`](SetOnce::wait) for it. It is an event that carries a value.
//!
//! # Design
//!
//! The value lives in a cell of its own next to a `set` flag, an atomic.
//! The protocol is the usual one-shot publication:
//!
//! - A setter takes a small mutex (only setters ever take it, so two of
//!   them cannot both write the cell), checks the flag again, writes the
//!   value, then stores the flag with `Release`.
//! - A reader loads the flag with `Acquire`; once it sees it set, the
//!   value written before it is visible, and nobody writes the cell again
//!   (only `&mut self` methods touch it from then on). So reading needs no
//!   lock at all.
//!
//! A losing setter returns its error only after taking the mutex, so by the
//! time it learns it lost, the value is readable: `set` failing means
//! `get` returns `Some`.
//!
//! Waiters sleep on a private [`Notify`]. A waiter creates its
//! [`Notified`](super::Notified) *before* it looks at the flag a second
//! time, and the setter calls `notify_waiters` *after* storing the flag.
//! `Notify` counts `notify_waiters` calls in a `SeqCst` counter that each
//! `Notified` reads when created. If the waiter read the counter before the
//! setter bumped it, its future completes; if after, the bump (which
//! follows the flag store) is visible to it and so is the flag. Either way
//! no wake-up is lost. The loom models below check this.

use super::Notify;
use crate::loom::cell::UnsafeCell;
use crate::loom::sync::atomic::AtomicBool;
use crate::loom::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use crate::loom::sync::Mutex;
use std::error::Error;
use std::fmt;
use std::mem::MaybeUninit;
use std::sync::PoisonError;

/// A cell that is written at most once and that tasks can wait on until it
/// is: an event with a value attached.
///
/// Any task may [`set`](SetOnce::set) it; the first one to do so wins and
/// the others get their value back in a [`SetOnceError`]. Readers look with
/// [`get`](SetOnce::get) (one atomic load, no lock) or wait with
/// [`wait`](SetOnce::wait). Unlike [`OnceCell`](super::OnceCell), it never
/// runs an initialiser itself: use it when whoever produces the value is
/// not whoever first needs it.
///
/// ```
/// use std::sync::Arc;
/// use vigil::sync::SetOnce;
///
/// #[vigil::main(flavor = "current_thread")]
/// async fn main() {
///     // Filled in once the listener is bound; readers wait until then.
///     let port = Arc::new(SetOnce::<u16>::new());
///
///     let reader = vigil::spawn({
///         let port = port.clone();
///         async move { *port.wait().await }
///     });
///
///     assert!(port.get().is_none());
///     port.set(8080).unwrap();
///     // Only the first `set` counts; the loser gets its value back.
///     assert_eq!(port.set(9090).unwrap_err().0, 9090);
///
///     assert_eq!(reader.await.unwrap(), 8080);
///     assert_eq!(port.get(), Some(&8080));
/// }
/// ```
///
/// In a `static`, with [`const_new`](SetOnce::const_new):
///
/// ```
/// use vigil::sync::SetOnce;
///
/// static SHUTDOWN_REASON: SetOnce<&'static str> = SetOnce::const_new();
///
/// # vigil::block_on(async {
/// vigil::spawn(async { SHUTDOWN_REASON.set("signal received") });
/// assert_eq!(*SHUTDOWN_REASON.wait().await, "signal received");
/// # });
/// ```
pub struct SetOnce<T> {
    /// `true` once `value` holds a value; stored (`Release`) after the
    /// value is written.
    set: AtomicBool,
    /// Written once, by the setter holding `writer`, while `set` is false;
    /// read only after `set` was seen true.
    value: UnsafeCell<MaybeUninit<T>>,
    /// Taken by setters only, so that exactly one of them writes `value`.
    writer: Mutex<()>,
    /// Where `wait` sleeps; `set` calls `notify_waiters` on it.
    notify: Notify,
}

/// [`SetOnce::set`] found the cell already set; holds the value that was
/// not stored.
#[derive(Debug, PartialEq, Eq)]
pub struct SetOnceError<T>(pub T);

impl<T> fmt::Display for SetOnceError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the SetOnce is already set")
    }
}

impl<T: fmt::Debug> Error for SetOnceError<T> {}

impl<T> SetOnce<T> {
    /// An empty cell.
    pub fn new() -> SetOnce<T> {
        SetOnce {
            set: AtomicBool::new(false),
            value: UnsafeCell::new(MaybeUninit::uninit()),
            writer: Mutex::new(()),
            notify: Notify::new(),
        }
    }

    /// An empty cell, in a `const` context (for `static`s).
    ///
    /// ```
    /// use vigil::sync::SetOnce;
    ///
    /// static READY: SetOnce<()> = SetOnce::const_new();
    ///
    /// assert!(!READY.initialized());
    /// READY.set(()).unwrap();
    /// assert!(READY.initialized());
    /// ```
    #[cfg(not(loom))]
    pub const fn const_new() -> SetOnce<T> {
        SetOnce {
            set: AtomicBool::new(false),
            value: UnsafeCell::new(MaybeUninit::uninit()),
            writer: Mutex::new(()),
            notify: Notify::new(),
        }
    }

    /// A cell holding `value` if it is `Some`, empty if it is `None`.
    pub fn new_with(value: Option<T>) -> SetOnce<T> {
        match value {
            Some(value) => SetOnce::from(value),
            None => SetOnce::new(),
        }
    }

    /// A cell already holding `value`, in a `const` context (for
    /// `static`s).
    ///
    /// ```
    /// use vigil::sync::SetOnce;
    ///
    /// static LIMIT: SetOnce<u32> = SetOnce::const_new_with(64);
    ///
    /// assert_eq!(LIMIT.get(), Some(&64));
    /// assert!(LIMIT.set(128).is_err());
    /// ```
    #[cfg(not(loom))]
    pub const fn const_new_with(value: T) -> SetOnce<T> {
        SetOnce {
            set: AtomicBool::new(true),
            value: UnsafeCell::new(MaybeUninit::new(value)),
            writer: Mutex::new(()),
            notify: Notify::new(),
        }
    }

    /// Whether the cell holds a value.
    pub fn initialized(&self) -> bool {
        // Pairs with the `Release` store in `set`: seeing `true` makes the
        // value written before it visible.
        self.set.load(Acquire)
    }

    /// The value, if set.
    pub fn get(&self) -> Option<&T> {
        if !self.initialized() {
            return None;
        }
        let value = self.value.with(|ptr| {
            // The flag was seen set with `Acquire`, pairing with the
            // setter's `Release`; `set` writes only while the flag is
            // clear, and only `&mut self` methods touch the cell after.
            // SAFETY: so the value is initialised and unwritten for `&self`'s life.
            unsafe { (*ptr).assume_init_ref() }
        });
        Some(value)
    }

    /// Stores `value` if the cell is empty, and wakes every task in
    /// [`wait`](SetOnce::wait).
    ///
    /// Fails, handing `value` back in the error, if the cell was already
    /// set. When it fails, the value that won is already readable with
    /// [`get`](SetOnce::get).
    pub fn set(&self, value: T) -> Result<(), SetOnceError<T>> {
        if self.initialized() {
            return Err(SetOnceError(value));
        }
        {
            // No user code runs under this lock, so a poisoned one (which
            // cannot happen) would still guard a consistent cell.
            let _writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
            // The lock orders us after any setter that went before, so a
            // relaxed load sees its store.
            if self.set.load(Relaxed) {
                return Err(SetOnceError(value));
            }
            self.value.with_mut(|ptr| {
                // SAFETY: we hold `writer` and the flag is still false, so
                // no other setter writes the cell and no reader reads it
                // (readers wait for the flag); it holds no value to leak.
                unsafe { (*ptr).write(value) };
            });
            // Publishes the value to every `Acquire` load of the flag.
            self.set.store(true, Release);
        }
        // After the flag store: see the module docs for why no waiter
        // misses this.
        self.notify.notify_waiters();
        Ok(())
    }

    /// The value, if set, consuming the cell.
    pub fn into_inner(self) -> Option<T> {
        // With `self` owned, nobody else can touch the cell.
        if !self.set.load(Acquire) {
            return None;
        }
        // Clear the flag first, so our `Drop` (which runs when `self` goes
        // out of scope below) does not drop the value we move out.
        self.set.store(false, Relaxed);
        let value = self.value.with_mut(|ptr| {
            // SAFETY: the flag was set, so the value is initialised; we own
            // the cell, and with the flag cleared nothing reads or drops
            // the value again: reading it out moves ownership to the caller.
            unsafe { (*ptr).assume_init_read() }
        });
        Some(value)
    }

    /// Waits until the cell is set and returns the value; returns at once
    /// if it is set already.
    ///
    /// **Cancel safety:** cancel-safe. A waiter only watches the cell:
    /// dropping the future takes nothing from the cell or from other
    /// waiters, and calling `wait` again simply waits again.
    pub async fn wait(&self) -> &T {
        loop {
            if let Some(value) = self.get() {
                return value;
            }
            // Created before the second look: a `set` after that look
            // completes this future (see the module docs).
            let notified = self.notify.notified();
            if let Some(value) = self.get() {
                return value;
            }
            notified.await;
        }
    }
}

impl<T> Drop for SetOnce<T> {
    fn drop(&mut self) {
        if self.set.load(Acquire) {
            self.value.with_mut(|ptr| {
                // SAFETY: the flag is set, so the value is initialised, and
                // `&mut self` means nobody else holds a reference into it.
                // The cell is never used again.
                unsafe { (*ptr).assume_init_drop() }
            });
        }
    }
}

// SAFETY: `SetOnce` is `Send` by itself when `T: Send` (all its fields
// are). Sharing it needs more than `T: Send` because of what `&SetOnce<T>`
// allows:
// - `get` and `wait` hand out `&T` to whichever thread holds the `&SetOnce`,
//   so `T` must be `Sync`;
// - `set` moves a `T` from whichever thread calls it into the cell, and
//   whoever owns the cell later drops or takes it on its own thread, so `T`
//   must be `Send`.
// The cell itself is guarded by the protocol in the module docs: one writer
// (under `writer`, before the flag is set), then only shared reads until
// `&mut self` access.
unsafe impl<T: Send + Sync> Sync for SetOnce<T> {}

impl<T> Default for SetOnce<T> {
    fn default() -> SetOnce<T> {
        SetOnce::new()
    }
}

impl<T> From<T> for SetOnce<T> {
    fn from(value: T) -> SetOnce<T> {
        SetOnce {
            set: AtomicBool::new(true),
            value: UnsafeCell::new(MaybeUninit::new(value)),
            writer: Mutex::new(()),
            notify: Notify::new(),
        }
    }
}

impl<T: Clone> Clone for SetOnce<T> {
    /// A new cell holding a clone of the value, if any (it has no waiters).
    fn clone(&self) -> SetOnce<T> {
        SetOnce::new_with(self.get().cloned())
    }
}

impl<T: PartialEq> PartialEq for SetOnce<T> {
    /// Compares the values ([`get`](SetOnce::get)); two empty cells are
    /// equal.
    fn eq(&self, other: &SetOnce<T>) -> bool {
        self.get() == other.get()
    }
}

impl<T: Eq> Eq for SetOnce<T> {}

impl<T: fmt::Debug> fmt::Debug for SetOnce<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SetOnce")
            .field("value", &self.get())
            .finish()
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! Loom models of `SetOnce`: publication of the value, racing setters,
    //! and no lost wake-up between `set` and `wait`.

    use super::SetOnce;
    use crate::sync::loom_support::block_on;
    use loom::sync::Arc;
    use loom::thread;

    /// A waiter racing the setter always ends up with the value; a lost
    /// wake-up would leave `block_on` asleep, which loom reports as a
    /// deadlock. The value is a heap `String` in a loom cell, so an
    /// unordered read would be reported as a race.
    #[test]
    fn loom_set_once_wait_races_set() {
        loom::model(|| {
            let cell = Arc::new(SetOnce::new());
            let setter = {
                let cell = cell.clone();
                thread::spawn(move || cell.set(String::from("v")).unwrap())
            };
            assert_eq!(block_on(cell.wait()), "v");
            setter.join().unwrap();
        });
    }

    /// Two setters race: exactly one wins, the loser gets its own value
    /// back, and once `set` has failed the winner's value is readable.
    #[test]
    fn loom_set_once_two_setters() {
        loom::model(|| {
            let cell = Arc::new(SetOnce::new());
            let other = {
                let cell = cell.clone();
                thread::spawn(move || {
                    let res = cell.set(1u8);
                    if let Err(e) = &res {
                        assert_eq!(e.0, 1);
                        assert_eq!(cell.get(), Some(&2));
                    }
                    res.is_ok()
                })
            };
            let res = cell.set(2u8);
            if let Err(e) = &res {
                assert_eq!(e.0, 2);
                assert_eq!(cell.get(), Some(&1));
            }
            let other_won = other.join().unwrap();
            assert!(other_won != res.is_ok(), "exactly one setter wins");
            let expected = if other_won { 1 } else { 2 };
            assert_eq!(cell.get(), Some(&expected));
        });
    }

    /// `get` on another thread sees either nothing or the whole value.
    #[test]
    fn loom_set_once_get_races_set() {
        loom::model(|| {
            let cell = Arc::new(SetOnce::new());
            let reader = {
                let cell = cell.clone();
                thread::spawn(move || cell.get().cloned())
            };
            cell.set(vec![1, 2, 3]).unwrap();
            if let Some(seen) = reader.join().unwrap() {
                assert_eq!(seen, [1, 2, 3]);
            }
        });
    }
}
