//! Task-local values: a value that a future, and everything it awaits,
//! can read, whatever thread polls it.
//!
//! A thread-local does not work for this: a task on the multi-thread
//! runtime moves between threads from one poll to the next, and many tasks
//! share a thread. So the value belongs to a future instead. [`LocalKey::scope`]
//! wraps a future in a [`TaskLocalFuture`] that holds the value and, for the
//! length of each poll of the inner future, lends it to a thread-local slot,
//! then takes it back (also when the poll panics). Code running inside that
//! poll, at any depth, reads the slot through the key.
//!
//! Scopes nest: an inner scope of the same key shadows the outer one for
//! its own polls and restores it after.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::thread::LocalKey as ThreadLocalKey;

/// Declares task-local keys: `static NAME: Type;`, any number, each with
/// optional attributes and visibility. The key is a [`LocalKey`].
///
/// ```
/// vigil::task_local! {
///     pub static REQUEST_ID: u64;
///     static USER: String;
/// }
///
/// # vigil::block_on(async {
/// REQUEST_ID
///     .scope(42, async {
///         vigil::task::yield_now().await;
///         assert_eq!(REQUEST_ID.get(), 42);
///         assert!(USER.try_with(|u| u.clone()).is_err()); // not in a scope
///     })
///     .await;
/// # });
/// ```
#[macro_export]
macro_rules! task_local {
    () => {};
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty; $($rest:tt)*) => {
        $(#[$attr])*
        $vis static $name: $crate::task::LocalKey<$t> = {
            ::std::thread_local! {
                static __VIGIL_TASK_LOCAL: ::std::cell::RefCell<::std::option::Option<$t>> =
                    const { ::std::cell::RefCell::new(::std::option::Option::None) };
            }
            $crate::task::LocalKey::__new(&__VIGIL_TASK_LOCAL)
        };
        $crate::task_local!($($rest)*);
    };
}

/// A key for task-local values of type `T`, declared with
/// [`task_local!`](crate::task_local).
pub struct LocalKey<T: 'static> {
    slot: &'static ThreadLocalKey<RefCell<Option<T>>>,
}

/// Why a task-local value could not be read: no scope of its key is
/// running on this thread (or the value is borrowed mutably elsewhere in
/// the same poll, which [`LocalKey::scope`] never does).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct AccessError(());

impl fmt::Debug for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessError")
    }
}

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task-local value read outside a scope of its key")
    }
}

impl std::error::Error for AccessError {}

impl<T: 'static> LocalKey<T> {
    #[doc(hidden)]
    pub const fn __new(slot: &'static ThreadLocalKey<RefCell<Option<T>>>) -> LocalKey<T> {
        LocalKey { slot }
    }

    /// Runs `future` with `value` as this key's value: inside every poll
    /// of `future`, [`with`](LocalKey::with) and friends see `value`.
    pub fn scope<F: Future>(&'static self, value: T, future: F) -> TaskLocalFuture<T, F> {
        TaskLocalFuture {
            key: self,
            value: Some(value),
            future: Some(future),
        }
    }

    /// Runs `f` with `value` as this key's value, synchronously.
    pub fn sync_scope<R>(&'static self, value: T, f: impl FnOnce() -> R) -> R {
        let mut value = Some(value);
        let _lent = Lent::lend(self, &mut value);
        f()
    }

    /// Calls `f` with the value of the innermost running scope.
    ///
    /// # Panics
    /// Outside a scope of this key.
    #[track_caller]
    pub fn with<R>(&'static self, f: impl FnOnce(&T) -> R) -> R {
        match self.try_with(f) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        }
    }

    /// Calls `f` with the value of the innermost running scope, or fails
    /// outside one.
    pub fn try_with<R>(&'static self, f: impl FnOnce(&T) -> R) -> Result<R, AccessError> {
        self.slot
            .try_with(|slot| {
                let slot = slot.try_borrow().map_err(|_| AccessError(()))?;
                slot.as_ref().map(f).ok_or(AccessError(()))
            })
            .unwrap_or(Err(AccessError(())))
    }

    /// A clone of the value of the innermost running scope.
    ///
    /// # Panics
    /// Outside a scope of this key.
    #[track_caller]
    pub fn get(&'static self) -> T
    where
        T: Clone,
    {
        self.with(T::clone)
    }

    /// A clone of the value of the innermost running scope, or
    /// [`AccessError`] outside any scope of this key.
    pub fn try_get(&'static self) -> Result<T, AccessError>
    where
        T: Clone,
    {
        self.try_with(T::clone)
    }
}

impl<T: 'static> fmt::Debug for LocalKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalKey").finish_non_exhaustive()
    }
}

/// The value of a scope, lent to the thread-local slot for as long as this
/// guard lives; dropping it (also while unwinding) takes the value back
/// and puts back what the slot held before (an outer scope's value).
struct Lent<'a, T: 'static> {
    key: &'static LocalKey<T>,
    value: &'a mut Option<T>,
}

impl<'a, T: 'static> Lent<'a, T> {
    fn lend(key: &'static LocalKey<T>, value: &'a mut Option<T>) -> Lent<'a, T> {
        key.slot
            .with(|slot| std::mem::swap(&mut *slot.borrow_mut(), value));
        Lent { key, value }
    }
}

impl<T: 'static> Drop for Lent<'_, T> {
    fn drop(&mut self) {
        // `try_with`: during thread teardown the slot may be gone; the value
        // then goes with it.
        let _ = self
            .key
            .slot
            .try_with(|slot| std::mem::swap(&mut *slot.borrow_mut(), self.value));
    }
}

pin_project_lite::pin_project! {
    /// A future run inside a scope of a task-local key, from
    /// [`LocalKey::scope`]. Holds the value between polls.
    pub struct TaskLocalFuture<T: 'static, F> {
        key: &'static LocalKey<T>,
        value: Option<T>,
        #[pin]
        future: Option<F>,
    }

    impl<T: 'static, F> PinnedDrop for TaskLocalFuture<T, F> {
        fn drop(this: Pin<&mut Self>) {
            // The inner future's destructor runs inside the scope too, as
            // its polls did.
            let this = this.project();
            if this.future.is_some() {
                let _lent = Lent::lend(this.key, this.value);
                let mut future = this.future;
                future.set(None);
            }
        }
    }
}

impl<T: 'static, F> TaskLocalFuture<T, F> {
    /// Takes the value out of the scope (typically after the future has
    /// completed); `None` if it was already taken. A future whose value was
    /// taken panics if polled again.
    pub fn take_value(self: Pin<&mut Self>) -> Option<T> {
        self.project().value.take()
    }
}

impl<T: 'static, F: Future> Future for TaskLocalFuture<T, F> {
    type Output = F::Output;

    #[track_caller]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        assert!(
            this.value.is_some(),
            "a TaskLocalFuture was polled after its value was taken"
        );
        let _lent = Lent::lend(this.key, this.value);
        let mut future = this.future;
        let inner = future
            .as_mut()
            .as_pin_mut()
            .expect("a TaskLocalFuture was polled after it completed");
        let poll = inner.poll(cx);
        if poll.is_ready() {
            future.set(None);
        }
        poll
    }
}

impl<T: 'static + fmt::Debug, F> fmt::Debug for TaskLocalFuture<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskLocalFuture")
            .field("value", &self.value)
            .finish_non_exhaustive()
    }
}
