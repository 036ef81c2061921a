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
use std::marker::PhantomData;
use std::mem::{self, ManuallyDrop};
use std::ops::{Deref, DerefMut};
use std::ptr;
use std::sync::Arc;

mod map;

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

    /// Like [`with_max_readers`](RwLock::with_max_readers), usable in a
    /// `static`.
    ///
    /// # Panics
    ///
    /// If `max_readers` is 0 or above `u32::MAX >> 3` (at compile time in
    /// a `static`).
    #[cfg(not(loom))]
    pub const fn const_with_max_readers(value: T, max_readers: u32) -> RwLock<T> {
        assert!(
            max_readers >= 1 && max_readers <= MAX_READERS,
            "max_readers must be between 1 and u32::MAX >> 3"
        );
        RwLock {
            max_readers,
            sem: Semaphore::const_new(max_readers as usize),
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
        RwLockReadGuard::new(self)
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
        Ok(RwLockReadGuard::new(self))
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
        OwnedRwLockReadGuard::new(self)
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
        Ok(OwnedRwLockReadGuard::new(self))
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

/// Implements what every guard shares: `Deref` (plus `DerefMut` for write
/// guards), `Drop`, `Debug` and `Display`. Each guard type provides two
/// associated functions: `ptr(this)`, the value it gives access to, and
/// `release(this)`, which gives its permits back.
macro_rules! guard_impls {
    (write [$($gen:tt)*] $guard:ty => $target:ident) => {
        guard_impls!(read [$($gen)*] $guard => $target);

        impl<$($gen)*> DerefMut for $guard {
            fn deref_mut(&mut self) -> &mut $target {
                // SAFETY: as for `deref`; a write guard moreover holds every
                // permit, so no other guard reaches the value, and
                // `&mut self` makes this borrow unique among the guard's own.
                unsafe { &mut *Self::ptr(self) }
            }
        }
    };
    (read [$($gen:tt)*] $guard:ty => $target:ident) => {
        impl<$($gen)*> Deref for $guard {
            type Target = $target;
            fn deref(&self) -> &$target {
                // `ptr` is the locked value, or what a mapping closure
                // reached through a borrow of it under the permits this
                // guard holds; the lock outlives the guard (borrowed, or
                // kept by its `Arc`), and writers stay out while a reader's
                // permits are held.
                // SAFETY: so `ptr` is valid and unwritten for `&self`'s life.
                unsafe { &*Self::ptr(self) }
            }
        }

        impl<$($gen)*> Drop for $guard {
            fn drop(&mut self) {
                Self::release(self);
            }
        }

        impl<$($gen)*> fmt::Debug for $guard
        where
            $target: fmt::Debug,
        {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&**self, f)
            }
        }

        impl<$($gen)*> fmt::Display for $guard
        where
            $target: fmt::Display,
        {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&**self, f)
            }
        }
    };
}

/// Shared access to a [`RwLock`]'s value, or to a part of it after
/// [`RwLockReadGuard::map`]; released when dropped.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    /// The lock's semaphore, which gets the reader's permit back.
    sem: &'a Semaphore,
    /// What the guard reads: the locked value or, once mapped, a part of it.
    data: *const T,
    /// The guard stands for a `&'a T` (and, like it, is covariant in `T`).
    _borrow: PhantomData<&'a T>,
}

impl<'a, T: ?Sized> RwLockReadGuard<'a, T> {
    /// A guard for a reader's permit the caller took from `lock`.
    fn new(lock: &'a RwLock<T>) -> Self {
        RwLockReadGuard {
            sem: &lock.sem,
            data: lock.data.get(),
            _borrow: PhantomData,
        }
    }

    fn ptr(this: &Self) -> *const T {
        this.data
    }

    fn release(this: &Self) {
        this.sem.add_permits(1);
    }

    /// Takes the semaphore out of the guard without releasing: the caller
    /// now owns the reader's permit.
    fn disarm(this: Self) -> &'a Semaphore {
        let sem = this.sem;
        mem::forget(this);
        sem
    }
}

guard_impls!(read ['a, T: ?Sized] RwLockReadGuard<'a, T> => T);

/// Exclusive access to a [`RwLock`]'s value; released when dropped.
///
/// [`RwLockWriteGuard::map`] narrows it to a part of the value
/// ([`RwLockMappedWriteGuard`]), [`downgrade`](RwLockWriteGuard::downgrade)
/// and [`RwLockWriteGuard::downgrade_map`] turn it into a reader.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    fn ptr(this: &Self) -> *mut T {
        this.lock.data.get()
    }

    fn release(this: &Self) {
        this.lock.write_unlock();
    }

    /// Takes the lock out of the guard without releasing: the caller now
    /// owns the writer's permits.
    fn disarm(this: Self) -> &'a RwLock<T> {
        let lock = this.lock;
        mem::forget(this);
        lock
    }

    /// Turns exclusive access into shared access without letting a writer
    /// in between.
    pub fn downgrade(self) -> RwLockReadGuard<'a, T> {
        let lock = Self::disarm(self);
        let reader = RwLockReadGuard::new(lock);
        lock.downgrade();
        reader
    }
}

guard_impls!(write ['a, T: ?Sized] RwLockWriteGuard<'a, T> => T);

/// Exclusive access to a part of a [`RwLock`]'s value, made by
/// [`RwLockWriteGuard::map`]; released when dropped.
///
/// The rest of the value stays locked but out of reach until the guard
/// drops.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwLockMappedWriteGuard<'a, T: ?Sized> {
    /// The lock's semaphore, which gets the writer's permits back.
    sem: &'a Semaphore,
    /// How many permits a writer of this lock holds (its `max_readers`).
    permits: u32,
    /// The part of the value the guard reaches, derived from the `&mut`
    /// an unmapped write guard handed out under the same permits.
    data: *mut T,
    /// The guard stands for a `&'a mut T`, invariant in `T`.
    _borrow: PhantomData<&'a mut T>,
}

impl<'a, T: ?Sized> RwLockMappedWriteGuard<'a, T> {
    fn ptr(this: &Self) -> *mut T {
        this.data
    }

    fn release(this: &Self) {
        this.sem.add_permits(this.permits as usize);
    }

    /// Takes the semaphore and the permit count out of the guard without
    /// releasing: the caller now owns the writer's permits.
    fn disarm(this: Self) -> (&'a Semaphore, u32) {
        let parts = (this.sem, this.permits);
        mem::forget(this);
        parts
    }
}

guard_impls!(write ['a, T: ?Sized] RwLockMappedWriteGuard<'a, T> => T);

/// Shared access to the value of a [`RwLock`] in an `Arc`, or to a part of
/// it after [`OwnedRwLockReadGuard::map`]; released when dropped.
///
/// `T` is the type of the whole locked value and `U` what the guard derefs
/// to. The guard keeps the `Arc` (and so the lock) alive.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedRwLockReadGuard<T: ?Sized, U: ?Sized = T> {
    lock: Arc<RwLock<T>>,
    /// What the guard reads: the locked value or, once mapped, a part of it.
    data: *const U,
}

impl<T: ?Sized> OwnedRwLockReadGuard<T> {
    /// A guard for a reader's permit the caller took from `lock`.
    fn new(lock: Arc<RwLock<T>>) -> Self {
        let data = lock.data.get();
        OwnedRwLockReadGuard { lock, data }
    }
}

impl<T: ?Sized, U: ?Sized> OwnedRwLockReadGuard<T, U> {
    fn ptr(this: &Self) -> *const U {
        this.data
    }

    fn release(this: &Self) {
        this.lock.read_unlock();
    }

    /// Takes the `Arc` out of the guard without releasing: the caller now
    /// owns the reader's permit.
    fn disarm(this: Self) -> Arc<RwLock<T>> {
        let this = ManuallyDrop::new(this);
        // SAFETY: `this` is never used again and, being `ManuallyDrop`,
        // never dropped, so the `Arc` is moved out exactly once and the
        // guard's releasing `Drop` does not run.
        unsafe { ptr::read(&this.lock) }
    }
}

guard_impls!(read [T: ?Sized, U: ?Sized] OwnedRwLockReadGuard<T, U> => U);

/// Exclusive access to the value of a [`RwLock`] in an `Arc`; released
/// when dropped.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedRwLockWriteGuard<T: ?Sized> {
    lock: Arc<RwLock<T>>,
}

impl<T: ?Sized> OwnedRwLockWriteGuard<T> {
    fn ptr(this: &Self) -> *mut T {
        this.lock.data.get()
    }

    fn release(this: &Self) {
        this.lock.write_unlock();
    }

    /// Takes the `Arc` out of the guard without releasing: the caller now
    /// owns the writer's permits.
    fn disarm(this: Self) -> Arc<RwLock<T>> {
        let this = ManuallyDrop::new(this);
        // SAFETY: as in `OwnedRwLockReadGuard::disarm`.
        unsafe { ptr::read(&this.lock) }
    }

    /// Turns exclusive access into shared access without letting a writer
    /// in between.
    pub fn downgrade(self) -> OwnedRwLockReadGuard<T> {
        let reader = OwnedRwLockReadGuard::new(Self::disarm(self));
        reader.lock.downgrade();
        reader
    }
}

guard_impls!(write [T: ?Sized] OwnedRwLockWriteGuard<T> => T);

/// Exclusive access to a part of the value of a [`RwLock`] in an `Arc`,
/// made by [`OwnedRwLockWriteGuard::map`]; released when dropped.
///
/// `T` is the type of the whole locked value and `U` what the guard derefs
/// to. The guard keeps the `Arc` (and so the lock) alive.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedRwLockMappedWriteGuard<T: ?Sized, U: ?Sized = T> {
    lock: Arc<RwLock<T>>,
    /// The part of the value the guard reaches, as for
    /// [`RwLockMappedWriteGuard`]. A raw `*mut` keeps the guard invariant in
    /// `U`.
    data: *mut U,
}

impl<T: ?Sized, U: ?Sized> OwnedRwLockMappedWriteGuard<T, U> {
    fn ptr(this: &Self) -> *mut U {
        this.data
    }

    fn release(this: &Self) {
        this.lock.write_unlock();
    }

    /// Takes the `Arc` out of the guard without releasing: the caller now
    /// owns the writer's permits.
    fn disarm(this: Self) -> Arc<RwLock<T>> {
        let this = ManuallyDrop::new(this);
        // SAFETY: as in `OwnedRwLockReadGuard::disarm`.
        unsafe { ptr::read(&this.lock) }
    }
}

guard_impls!(write [T: ?Sized, U: ?Sized] OwnedRwLockMappedWriteGuard<T, U> => U);

// The guards holding a `&RwLock<T>` or an `Arc<RwLock<T>>` only get `Send`
// and `Sync` from their fields (when `T: Send + Sync`). The ones holding a
// raw pointer need them spelled out; the bounds are Tokio's.
//
// SAFETY (all the impls below): a guard's `Drop` gives permits back
// through `&Semaphore`, which any thread may do, so what matters is what
// the guard hands out. Call `X` the type it derefs to (`T` for the borrowed
// guards, `U` for the owned ones):
// - Sending a read guard sends a `&X`: fine when `X: Sync`.
// - Sharing a read guard shares that `&X`: `X: Sync` would do; the
//   `X: Send` asked on top keeps the bounds these guards always had.
// - An owned guard also sends or shares its `Arc<RwLock<T>>` (the last one
//   may drop the `T` on another thread, and `rwlock()` shares it), which
//   needs `RwLock<T>: Send + Sync`, that is `T: Send + Sync`.
// - Sending a mapped write guard sends a `&mut X` (needs `X: Send`);
//   sharing it shares `&X` (needs `X: Sync`). Both impls ask for both.
unsafe impl<T: ?Sized + Sync> Send for RwLockReadGuard<'_, T> {}
// SAFETY: see above.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLockReadGuard<'_, T> {}
// SAFETY: see above.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Sync> Send for OwnedRwLockReadGuard<T, U> {}
// SAFETY: see above.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Send + Sync> Sync for OwnedRwLockReadGuard<T, U> {}
// SAFETY: see above.
unsafe impl<T: ?Sized + Send + Sync> Send for RwLockMappedWriteGuard<'_, T> {}
// SAFETY: see above.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLockMappedWriteGuard<'_, T> {}
// SAFETY: see above.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Send + Sync> Send
    for OwnedRwLockMappedWriteGuard<T, U>
{
}
// SAFETY: see above.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Send + Sync> Sync
    for OwnedRwLockMappedWriteGuard<T, U>
{
}
