//! A readers-writer lock whose guards may be held across `.await`.
//!
//! Like [`Mutex`](super::Mutex), the lock is a [`Semaphore`]: it holds
//! `max_readers` permits, a reader takes one and a writer takes them all.
//! Because the semaphore serves waiters strictly in arrival order and lets
//! nobody barge ahead of the queue, a queued writer holds back the readers
//! that arrive after it: a steady stream of readers cannot starve writers,
//! and readers that arrived before the writer still share the lock.

use super::mutex::TryLockError;
use super::semaphore::{Semaphore, SemaphorePermit};
use std::cell::UnsafeCell;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

/// Readers allowed at once by [`RwLock::new`].
const MAX_READERS: u32 = u32::MAX >> 3;

/// An async readers-writer lock protecting a `T`.
///
/// Any number of readers (up to a maximum), or one writer, at a time;
/// waiters are served in arrival order.
///
/// ```
/// use vigil::sync::RwLock;
///
/// #[vigil::main(flavor = "current_thread")]
/// async fn main() {
///     let config = RwLock::new(String::from("v1"));
///     {
///         let a = config.read().await;
///         let b = config.read().await; // readers share
///         assert_eq!(*a, *b);
///     }
///     config.write().await.push_str("-patched");
///     assert_eq!(*config.read().await, "v1-patched");
/// }
/// ```
pub struct RwLock<T: ?Sized> {
    max_readers: u32,
    sem: Semaphore,
    data: UnsafeCell<T>,
}

// SAFETY: readers on several threads share `&T` (needs `T: Sync`); a writer
// gets `&mut T` on whichever thread holds its guard (needs `T: Send`). The
// semaphore makes a writer exclusive with everyone else.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

impl<T> RwLock<T> {
    /// An unlocked lock holding `value`.
    pub fn new(value: T) -> RwLock<T> {
        RwLock::with_max_readers(value, MAX_READERS)
    }

    /// An unlocked lock admitting at most `max_readers` readers at once.
    ///
    /// # Panics
    ///
    /// If `max_readers` is 0 or above `u32::MAX >> 3`.
    pub fn with_max_readers(value: T, max_readers: u32) -> RwLock<T> {
        assert!(
            (1..=MAX_READERS).contains(&max_readers),
            "max_readers must be between 1 and {MAX_READERS}"
        );
        RwLock {
            max_readers,
            sem: Semaphore::new(max_readers as usize),
            data: UnsafeCell::new(value),
        }
    }

    /// Like [`new`](RwLock::new), usable in a `static`.
    #[cfg(not(loom))]
    pub const fn const_new(value: T) -> RwLock<T> {
        RwLock {
            max_readers: MAX_READERS,
            sem: Semaphore::const_new(MAX_READERS as usize),
            data: UnsafeCell::new(value),
        }
    }

    /// The protected value (no locking needed: the lock is consumed).
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

/// Takes `n` permits for good: the guard gives them back by hand.
fn keep(permit: SemaphorePermit<'_>) {
    permit.forget();
}

impl<T: ?Sized> RwLock<T> {
    /// Waits for shared access.
    ///
    /// **Cancel-safe**: a dropped `read()` leaves the queue without taking
    /// or losing anything; re-calling it queues again at the back.
    pub async fn read(&self) -> RwLockReadGuard<'_, T> {
        keep(self.sem.acquire().await.expect("never closed"));
        RwLockReadGuard { lock: self }
    }

    /// Waits for exclusive access. **Cancel-safe** like
    /// [`read`](RwLock::read).
    pub async fn write(&self) -> RwLockWriteGuard<'_, T> {
        keep(
            self.sem
                .acquire_many(self.max_readers)
                .await
                .expect("never closed"),
        );
        RwLockWriteGuard { lock: self }
    }

    /// [`read`](RwLock::read) for synchronous code: blocks the thread.
    ///
    /// # Panics
    ///
    /// On a thread that runs vigil tasks (use the async method there).
    #[track_caller]
    pub fn blocking_read(&self) -> RwLockReadGuard<'_, T> {
        crate::sync::blocking::wait(self.read())
    }

    /// [`write`](RwLock::write) for synchronous code: blocks the thread.
    ///
    /// # Panics
    ///
    /// On a thread that runs vigil tasks (use the async method there).
    #[track_caller]
    pub fn blocking_write(&self) -> RwLockWriteGuard<'_, T> {
        crate::sync::blocking::wait(self.write())
    }

    /// Shared access if it is free now and no writer is queued.
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        keep(self.sem.try_acquire().map_err(|_| TryLockError::new())?);
        Ok(RwLockReadGuard { lock: self })
    }

    /// Exclusive access if the lock is free now and nobody is queued.
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        keep(
            self.sem
                .try_acquire_many(self.max_readers)
                .map_err(|_| TryLockError::new())?,
        );
        Ok(RwLockWriteGuard { lock: self })
    }

    /// [`read`](RwLock::read) for a lock in an `Arc`; the guard can move
    /// into a spawned task. Cancel-safe.
    pub async fn read_owned(self: Arc<Self>) -> OwnedRwLockReadGuard<T> {
        keep(self.sem.acquire().await.expect("never closed"));
        OwnedRwLockReadGuard { lock: self }
    }

    /// [`write`](RwLock::write) for a lock in an `Arc`. Cancel-safe.
    pub async fn write_owned(self: Arc<Self>) -> OwnedRwLockWriteGuard<T> {
        keep(
            self.sem
                .acquire_many(self.max_readers)
                .await
                .expect("never closed"),
        );
        OwnedRwLockWriteGuard { lock: self }
    }

    /// [`try_read`](RwLock::try_read) returning an owned guard.
    pub fn try_read_owned(self: Arc<Self>) -> Result<OwnedRwLockReadGuard<T>, TryLockError> {
        keep(self.sem.try_acquire().map_err(|_| TryLockError::new())?);
        Ok(OwnedRwLockReadGuard { lock: self })
    }

    /// [`try_write`](RwLock::try_write) returning an owned guard.
    pub fn try_write_owned(self: Arc<Self>) -> Result<OwnedRwLockWriteGuard<T>, TryLockError> {
        keep(
            self.sem
                .try_acquire_many(self.max_readers)
                .map_err(|_| TryLockError::new())?,
        );
        Ok(OwnedRwLockWriteGuard { lock: self })
    }

    /// The protected value, through a unique borrow (no locking needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// Gives back a reader's permit.
    fn read_unlock(&self) {
        self.sem.add_permits(1);
    }

    /// Gives back a writer's permits.
    fn write_unlock(&self) {
        self.sem.add_permits(self.max_readers as usize);
    }

    /// A writer becomes a reader: gives back all permits but one.
    fn downgrade(&self) {
        self.sem.add_permits(self.max_readers as usize - 1);
    }

    /// # Safety
    ///
    /// The caller holds at least a reader's permit for as long as the
    /// reference lives.
    unsafe fn shared(&self) -> &T {
        // SAFETY: the caller holds a permit, so no writer (who needs all
        // of them) has `&mut T`.
        unsafe { &*self.data.get() }
    }

    /// # Safety
    ///
    /// The caller holds every permit and the reference is unique among the
    /// guard's borrows.
    #[allow(clippy::mut_from_ref)]
    unsafe fn exclusive(&self) -> &mut T {
        // SAFETY: holding every permit excludes all other guards.
        unsafe { &mut *self.data.get() }
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> RwLock<T> {
        RwLock::new(T::default())
    }
}

impl<T> From<T> for RwLock<T> {
    fn from(value: T) -> RwLock<T> {
        RwLock::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// Defines a guard type: its struct, `Deref`, `Drop` (giving its permits
/// back) and `Debug`. Write guards add `DerefMut` by hand.
macro_rules! guard {
    (
        $(#[$doc:meta])*
        $name:ident $(<$lt:lifetime>)?, $lock:ty, unlock: $unlock:ident
    ) => {
        $(#[$doc])*
        #[must_use = "the lock is released as soon as the guard is dropped"]
        pub struct $name<$($lt,)? T: ?Sized> {
            lock: $lock,
        }

        impl<$($lt,)? T: ?Sized> Deref for $name<$($lt,)? T> {
            type Target = T;
            fn deref(&self) -> &T {
                // SAFETY: a live guard holds at least a reader's permit.
                unsafe { self.lock.shared() }
            }
        }

        impl<$($lt,)? T: ?Sized> Drop for $name<$($lt,)? T> {
            fn drop(&mut self) {
                self.lock.$unlock();
            }
        }

        impl<$($lt,)? T: ?Sized + fmt::Debug> fmt::Debug for $name<$($lt,)? T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&**self, f)
            }
        }
    };
}

guard! {
    /// Shared access to a [`RwLock`]'s value; released when dropped.
    RwLockReadGuard<'a>, &'a RwLock<T>, unlock: read_unlock
}

guard! {
    /// Exclusive access to a [`RwLock`]'s value; released when dropped.
    RwLockWriteGuard<'a>, &'a RwLock<T>, unlock: write_unlock
}

guard! {
    /// Shared access to the value of a [`RwLock`] in an `Arc`.
    OwnedRwLockReadGuard, Arc<RwLock<T>>, unlock: read_unlock
}

guard! {
    /// Exclusive access to the value of a [`RwLock`] in an `Arc`.
    OwnedRwLockWriteGuard, Arc<RwLock<T>>, unlock: write_unlock
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: a live write guard holds every permit, and `&mut self`
        // makes this borrow unique.
        unsafe { self.lock.exclusive() }
    }
}

impl<T: ?Sized> DerefMut for OwnedRwLockWriteGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as for `RwLockWriteGuard`.
        unsafe { self.lock.exclusive() }
    }
}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// Turns exclusive access into shared access without letting a writer
    /// in between.
    pub fn downgrade(self) -> RwLockReadGuard<'a, T> {
        let lock = self.lock;
        std::mem::forget(self);
        lock.downgrade();
        RwLockReadGuard { lock }
    }
}

impl<T: ?Sized> OwnedRwLockWriteGuard<T> {
    /// Turns exclusive access into shared access without letting a writer
    /// in between.
    pub fn downgrade(self) -> OwnedRwLockReadGuard<T> {
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again, so the `Arc` is
        // moved out exactly once.
        let lock = unsafe { std::ptr::read(&this.lock) };
        lock.downgrade();
        OwnedRwLockReadGuard { lock }
    }
}
