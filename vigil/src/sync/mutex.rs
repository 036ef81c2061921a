//! A mutual-exclusion lock whose guard may be held across `.await`.
//!
//! The lock is a [`Semaphore`] with one permit: whoever holds the permit
//! owns the data. That gives the lock the semaphore's properties for free:
//! waiting tasks are served in arrival order (no task starves behind a
//! stream of newcomers), and a `lock()` cancelled while queued leaves the
//! queue without losing the lock for the others.
//!
//! Prefer `std::sync::Mutex` when the guard is never held across an
//! `.await` and the critical section is short: it is cheaper, and blocking
//! for a few nanoseconds does no harm. This lock is for critical sections
//! that wait (I/O, a timer, another lock) while holding it.

use super::semaphore::Semaphore;
use std::cell::UnsafeCell;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

mod mapped;

pub use mapped::{MappedMutexGuard, OwnedMappedMutexGuard};

/// An async mutual-exclusion lock protecting a `T`.
///
/// [`lock`](Mutex::lock) waits (without blocking the thread) until the lock
/// is free and returns a guard; the lock is released when the guard drops.
/// Waiters get the lock in arrival order.
///
/// ```
/// use std::sync::Arc;
/// use vigil::sync::Mutex;
///
/// #[vigil::main(flavor = "current_thread")]
/// async fn main() {
///     let log = Arc::new(Mutex::new(Vec::new()));
///     let mut tasks = Vec::new();
///     for i in 0..3 {
///         let log = log.clone();
///         tasks.push(vigil::spawn(async move {
///             let mut log = log.lock().await;
///             // The guard may be held across an await point.
///             vigil::task::yield_now().await;
///             log.push(i);
///         }));
///     }
///     for t in tasks {
///         t.await.unwrap();
///     }
///     assert_eq!(log.lock().await.len(), 3);
/// }
/// ```
pub struct Mutex<T: ?Sized> {
    sem: Semaphore,
    data: UnsafeCell<T>,
}

// SAFETY: the data is reached only through a guard, and the semaphore's
// single permit makes guards exclusive, so sharing the mutex only ever moves
// `&mut T` access from one thread to another: `T: Send` suffices, as for
// `std::sync::Mutex`.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

impl<T> Mutex<T> {
    /// An unlocked mutex holding `value`.
    pub fn new(value: T) -> Mutex<T> {
        Mutex {
            sem: Semaphore::new(1),
            data: UnsafeCell::new(value),
        }
    }

    /// Like [`new`](Mutex::new), usable in a `static`.
    #[cfg(not(loom))]
    pub const fn const_new(value: T) -> Mutex<T> {
        Mutex {
            sem: Semaphore::const_new(1),
            data: UnsafeCell::new(value),
        }
    }

    /// The protected value (no locking needed: the mutex is consumed).
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Waits for the lock.
    ///
    /// **Cancel-safe**: dropping the future before it completes leaves the
    /// queue (passing the lock on if it had just been handed to us), so
    /// the lock is never lost; re-calling it queues again at the back.
    pub async fn lock(&self) -> MutexGuard<'_, T> {
        match self.sem.acquire().await {
            Ok(permit) => permit.forget(),
            Err(_) => unreachable!("a mutex's semaphore is never closed"),
        }
        MutexGuard { lock: self }
    }

    /// [`lock`](Mutex::lock) for synchronous code: blocks the thread
    /// until the lock is free.
    ///
    /// # Panics
    ///
    /// On a thread that runs vigil tasks (use the async method there).
    #[track_caller]
    pub fn blocking_lock(&self) -> MutexGuard<'_, T> {
        crate::sync::blocking::wait(self.lock())
    }

    /// [`lock_owned`](Mutex::lock_owned) for synchronous code: blocks the
    /// thread until the lock is free.
    ///
    /// # Panics
    ///
    /// On a thread that runs vigil tasks (use the async method there).
    #[track_caller]
    pub fn blocking_lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        crate::sync::blocking::wait(self.lock_owned())
    }

    /// Takes the lock if it is free and nobody is queued for it.
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        self.sem
            .try_acquire()
            .map_err(|_| TryLockError(()))?
            .forget();
        Ok(MutexGuard { lock: self })
    }

    /// [`lock`](Mutex::lock) for a mutex in an `Arc`: the guard owns a
    /// reference, so it can move into a spawned task. Cancel-safe.
    pub async fn lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        match self.sem.acquire().await {
            Ok(permit) => permit.forget(),
            Err(_) => unreachable!("a mutex's semaphore is never closed"),
        }
        OwnedMutexGuard { lock: self }
    }

    /// [`try_lock`](Mutex::try_lock) returning an owned guard.
    pub fn try_lock_owned(self: Arc<Self>) -> Result<OwnedMutexGuard<T>, TryLockError> {
        self.sem
            .try_acquire()
            .map_err(|_| TryLockError(()))?
            .forget();
        Ok(OwnedMutexGuard { lock: self })
    }

    /// The protected value, through a unique borrow (no locking needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    fn unlock(&self) {
        self.sem.add_permits(1);
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Mutex<T> {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Mutex<T> {
        Mutex::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// Exclusive access to a [`Mutex`]'s value; unlocks when dropped.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct MutexGuard<'a, T: ?Sized> {
    lock: &'a Mutex<T>,
}

// SAFETY: a guard gives `&T` through `&MutexGuard`, so sharing the guard
// between threads shares `&T`: sound when `T: Sync` (and `Send`, which the
// mutex itself needs to be shared at all). Without this impl the guard
// would be `Sync` whenever `T: Send`, which is not enough.
unsafe impl<T: ?Sized + Send + Sync> Sync for MutexGuard<'_, T> {}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// The mutex this guard locks.
    ///
    /// An associated function (`MutexGuard::mutex(&guard)`), so that it does
    /// not hide a `mutex` method of `T`.
    pub fn mutex(this: &Self) -> &'a Mutex<T> {
        this.lock
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard holds the mutex's only permit, so no other
        // reference to the data exists while it lives.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this borrow unique among
        // the guard's own borrows.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// Exclusive access to the value of a [`Mutex`] held in an `Arc`; unlocks
/// when dropped.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedMutexGuard<T: ?Sized> {
    lock: Arc<Mutex<T>>,
}

// SAFETY: as for `MutexGuard`.
unsafe impl<T: ?Sized + Send + Sync> Sync for OwnedMutexGuard<T> {}

impl<T: ?Sized> OwnedMutexGuard<T> {
    /// The mutex this guard locks.
    pub fn mutex(&self) -> &Arc<Mutex<T>> {
        &self.lock
    }
}

impl<T: ?Sized> Deref for OwnedMutexGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard holds the mutex's only permit.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for OwnedMutexGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: this guard holds the mutex's only permit; `&mut self`
        // makes the borrow unique.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for OwnedMutexGuard<T> {
    fn drop(&mut self) {
        self.lock.unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// [`Mutex::try_lock`] failed: the lock is held, or others are queued for
/// it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TryLockError(());

impl TryLockError {
    pub(super) fn new() -> TryLockError {
        TryLockError(())
    }
}

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the mutex is locked")
    }
}

impl std::error::Error for TryLockError {}
