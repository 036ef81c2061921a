//! Mutex guards narrowed to a part of the locked value.
//!
//! A mapped guard keeps the mutex's permit but no longer knows the type of
//! the whole value: it holds a pointer to the part it was narrowed to, plus
//! what it needs to give the permit back (the semaphore for a borrowed
//! guard, the `Arc` for an owned one).
//!
//! Mapping hands the permit from one guard to the next. The old guard is
//! disarmed (its `Drop` skipped) only once the closure has returned, so a
//! closure that panics unwinds through a still-armed guard, which unlocks
//! the mutex exactly once; and the new guard is the only one left to
//! unlock it afterwards.

use super::{Mutex, MutexGuard, OwnedMutexGuard};
use crate::sync::semaphore::Semaphore;
use std::fmt;
use std::marker::PhantomData;
use std::mem::{self, ManuallyDrop};
use std::ops::{Deref, DerefMut};
use std::ptr;
use std::sync::Arc;

/// Exclusive access to a part of a [`Mutex`]'s value, made by
/// [`MutexGuard::map`]; unlocks the mutex when dropped.
///
/// It derefs to that part only; the rest of the value stays locked but out
/// of reach until the guard drops. Narrow it further with
/// [`MappedMutexGuard::map`].
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct MappedMutexGuard<'a, T: ?Sized> {
    /// The mutex's semaphore, which gets the permit back on drop.
    sem: &'a Semaphore,
    /// The part of the locked value this guard reaches. It came from a
    /// `&mut` that the unmapped guard handed out under the permit this
    /// guard now holds, so it stays valid and unaliased until the drop.
    data: *mut T,
    /// The guard stands for a `&'a mut T`: it borrows the mutex for `'a`
    /// and is invariant in `T`, as a unique reference must be.
    _borrow: PhantomData<&'a mut T>,
}

// SAFETY: sending the guard sends a `&mut T` (sound when `T: Send`) and the
// duty to give one permit back, which goes through `&Semaphore` and may be
// done from any thread. The rest of the locked value is unreachable through
// a mapped guard, so its type does not matter here.
unsafe impl<'a, T: ?Sized + Send + 'a> Send for MappedMutexGuard<'a, T> {}

// SAFETY: a shared `&MappedMutexGuard` gives out nothing but `&T`.
unsafe impl<'a, T: ?Sized + Sync + 'a> Sync for MappedMutexGuard<'a, T> {}

/// Exclusive access to a part of the value of a [`Mutex`] held in an `Arc`,
/// made by [`OwnedMutexGuard::map`]; unlocks the mutex when dropped.
///
/// `T` is the type of the whole locked value and `U` the part the guard
/// derefs to. The guard keeps the `Arc` (and so the mutex) alive.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedMappedMutexGuard<T: ?Sized, U: ?Sized = T> {
    /// The locked mutex; also keeps the data behind `data` allocated.
    lock: Arc<Mutex<T>>,
    /// The part of the locked value this guard reaches, obtained as for
    /// [`MappedMutexGuard`]. A raw `*mut` keeps the guard invariant in `U`.
    data: *mut U,
}

// SAFETY: sending the guard sends the `Arc<Mutex<T>>` (which may end up
// dropping the mutex and its `T` on the other thread, and which
// `OwnedMappedMutexGuard::mutex` shares there: both sound when `T: Send`)
// and a `&mut U` (sound when `U: Send`).
unsafe impl<T: ?Sized + Send, U: ?Sized + Send> Send for OwnedMappedMutexGuard<T, U> {}

// SAFETY: a shared guard gives out `&U` (needs `U: Sync`) and
// `&Arc<Mutex<T>>` (needs `Mutex<T>: Send + Sync`, that is `T: Send`). The
// bounds asked here are stronger than that, matching Tokio's.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Send + Sync> Sync for OwnedMappedMutexGuard<T, U> {}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// Takes the mutex out of the guard without unlocking it: the caller
    /// now owns the permit.
    fn disarm(this: Self) -> &'a Mutex<T> {
        let lock = this.lock;
        mem::forget(this);
        lock
    }

    /// Narrows the guard to a part of the locked value (a field, an element
    /// of a slice...), keeping the mutex locked until the new guard drops.
    ///
    /// `f` receives the whole value and returns the part to keep. If `f`
    /// panics, the mutex is unlocked as the panic unwinds.
    ///
    /// This is an associated function, called as `MutexGuard::map(guard,
    /// f)`, so that it never hides a `map` method of `T` reached through
    /// the guard.
    ///
    /// ```
    /// use vigil::sync::{Mutex, MutexGuard};
    ///
    /// struct Account {
    ///     owner: String,
    ///     balance: u64,
    /// }
    ///
    /// # vigil::block_on(async {
    /// let account = Mutex::new(Account { owner: "ada".into(), balance: 10 });
    /// {
    ///     let mut balance = MutexGuard::map(account.lock().await, |a| &mut a.balance);
    ///     *balance += 5;
    ///     // Only the balance is reachable, but the whole account stays locked.
    ///     assert!(account.try_lock().is_err());
    /// }
    /// let account = account.lock().await;
    /// assert_eq!((account.owner.as_str(), account.balance), ("ada", 15));
    /// # });
    /// ```
    pub fn map<U, F>(mut this: Self, f: F) -> MappedMutexGuard<'a, U>
    where
        U: ?Sized,
        F: FnOnce(&mut T) -> &mut U,
    {
        let data: *mut U = f(&mut *this);
        let lock = Self::disarm(this);
        MappedMutexGuard {
            sem: &lock.sem,
            data,
            _borrow: PhantomData,
        }
    }

    /// Like [`map`](MutexGuard::map), but `f` may decline by returning
    /// `None`: the original guard is then handed back in `Err`, with the
    /// mutex still locked.
    ///
    /// ```
    /// use vigil::sync::{Mutex, MutexGuard};
    ///
    /// # vigil::block_on(async {
    /// let slots = Mutex::new(vec![1, 2, 3]);
    /// let guard = slots.lock().await;
    /// let guard = match MutexGuard::try_map(guard, |v| v.get_mut(7)) {
    ///     Ok(_) => unreachable!("there is no slot 7"),
    ///     Err(guard) => guard, // still locked
    /// };
    /// let mut last = MutexGuard::try_map(guard, |v| v.last_mut()).unwrap();
    /// *last = 30;
    /// drop(last);
    /// assert_eq!(*slots.lock().await, [1, 2, 30]);
    /// # });
    /// ```
    pub fn try_map<U, F>(mut this: Self, f: F) -> Result<MappedMutexGuard<'a, U>, Self>
    where
        U: ?Sized,
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let data: *mut U = match f(&mut *this) {
            Some(part) => part,
            None => return Err(this),
        };
        let lock = Self::disarm(this);
        Ok(MappedMutexGuard {
            sem: &lock.sem,
            data,
            _borrow: PhantomData,
        })
    }
}

impl<T: ?Sized> OwnedMutexGuard<T> {
    /// Takes the `Arc` out of the guard without unlocking the mutex: the
    /// caller now owns the permit.
    fn disarm(this: Self) -> Arc<Mutex<T>> {
        let this = ManuallyDrop::new(this);
        // SAFETY: `this` is never used again and, being `ManuallyDrop`,
        // never dropped, so the `Arc` is moved out exactly once and the
        // guard's unlocking `Drop` does not run.
        unsafe { ptr::read(&this.lock) }
    }

    /// Narrows the guard to a part of the locked value, like
    /// [`MutexGuard::map`]; the new guard keeps the `Arc` alive and unlocks
    /// the mutex when dropped. If `f` panics, the mutex is unlocked as the
    /// panic unwinds.
    ///
    /// An associated function: call it as `OwnedMutexGuard::map(guard, f)`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use vigil::sync::{Mutex, OwnedMutexGuard};
    ///
    /// # vigil::block_on(async {
    /// let pair = Arc::new(Mutex::new((String::from("left"), 0u32)));
    /// let mut right = OwnedMutexGuard::map(pair.clone().lock_owned().await, |p| &mut p.1);
    /// // The mapped guard is `'static`: it can move into a task.
    /// vigil::spawn(async move {
    ///     *right += 1;
    /// })
    /// .await
    /// .unwrap();
    /// assert_eq!(pair.lock().await.1, 1);
    /// # });
    /// ```
    pub fn map<U, F>(mut this: Self, f: F) -> OwnedMappedMutexGuard<T, U>
    where
        U: ?Sized,
        F: FnOnce(&mut T) -> &mut U,
    {
        let data: *mut U = f(&mut *this);
        OwnedMappedMutexGuard {
            lock: Self::disarm(this),
            data,
        }
    }

    /// Like [`map`](OwnedMutexGuard::map), but `f` may decline by returning
    /// `None`: the original guard is then handed back in `Err`, with the
    /// mutex still locked.
    pub fn try_map<U, F>(mut this: Self, f: F) -> Result<OwnedMappedMutexGuard<T, U>, Self>
    where
        U: ?Sized,
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let data: *mut U = match f(&mut *this) {
            Some(part) => part,
            None => return Err(this),
        };
        Ok(OwnedMappedMutexGuard {
            lock: Self::disarm(this),
            data,
        })
    }
}

impl<'a, T: ?Sized> MappedMutexGuard<'a, T> {
    /// Takes the semaphore out of the guard without unlocking: the caller
    /// now owns the permit.
    fn disarm(this: Self) -> &'a Semaphore {
        let sem = this.sem;
        mem::forget(this);
        sem
    }

    /// Narrows the guard further, as [`MutexGuard::map`] does for an
    /// unmapped guard. If `f` panics, the mutex is unlocked as the panic
    /// unwinds.
    ///
    /// ```
    /// use vigil::sync::{MappedMutexGuard, Mutex, MutexGuard};
    ///
    /// # vigil::block_on(async {
    /// let grid = Mutex::new([[0u8; 3]; 2]);
    /// let row = MutexGuard::map(grid.lock().await, |g| &mut g[1]);
    /// let mut cell = MappedMutexGuard::map(row, |r| &mut r[2]);
    /// *cell = 9;
    /// drop(cell);
    /// assert_eq!(*grid.lock().await, [[0, 0, 0], [0, 0, 9]]);
    /// # });
    /// ```
    pub fn map<U, F>(mut this: Self, f: F) -> MappedMutexGuard<'a, U>
    where
        U: ?Sized,
        F: FnOnce(&mut T) -> &mut U,
    {
        let data: *mut U = f(&mut *this);
        MappedMutexGuard {
            sem: Self::disarm(this),
            data,
            _borrow: PhantomData,
        }
    }

    /// Like [`map`](MappedMutexGuard::map), but `f` may decline by
    /// returning `None`: the guard is then handed back in `Err`, with the
    /// mutex still locked.
    pub fn try_map<U, F>(mut this: Self, f: F) -> Result<MappedMutexGuard<'a, U>, Self>
    where
        U: ?Sized,
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let data: *mut U = match f(&mut *this) {
            Some(part) => part,
            None => return Err(this),
        };
        Ok(MappedMutexGuard {
            sem: Self::disarm(this),
            data,
            _borrow: PhantomData,
        })
    }
}

impl<T: ?Sized> Deref for MappedMutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: `data` is valid and unaliased while this guard holds the
        // mutex's permit (see the field's docs).
        unsafe { &*self.data }
    }
}

impl<T: ?Sized> DerefMut for MappedMutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this borrow unique among
        // the guard's own borrows.
        unsafe { &mut *self.data }
    }
}

impl<T: ?Sized> Drop for MappedMutexGuard<'_, T> {
    fn drop(&mut self) {
        self.sem.add_permits(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MappedMutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MappedMutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: ?Sized, U: ?Sized> OwnedMappedMutexGuard<T, U> {
    /// Takes the `Arc` out of the guard without unlocking the mutex: the
    /// caller now owns the permit.
    fn disarm(this: Self) -> Arc<Mutex<T>> {
        let this = ManuallyDrop::new(this);
        // SAFETY: `this` is never used again and, being `ManuallyDrop`,
        // never dropped, so the `Arc` is moved out exactly once and the
        // guard's unlocking `Drop` does not run.
        unsafe { ptr::read(&this.lock) }
    }

    /// Narrows the guard further, as [`OwnedMutexGuard::map`] does for an
    /// unmapped guard. If `f` panics, the mutex is unlocked as the panic
    /// unwinds.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use vigil::sync::{Mutex, OwnedMappedMutexGuard, OwnedMutexGuard};
    ///
    /// # vigil::block_on(async {
    /// let names = Arc::new(Mutex::new(vec![String::from("ada")]));
    /// let first = OwnedMutexGuard::map(names.clone().lock_owned().await, |v| &mut v[0]);
    /// let mut initial = OwnedMappedMutexGuard::map(first, |s| s.as_mut_str());
    /// initial.make_ascii_uppercase();
    /// drop(initial);
    /// assert_eq!(names.lock().await[0], "ADA");
    /// # });
    /// ```
    pub fn map<S, F>(mut this: Self, f: F) -> OwnedMappedMutexGuard<T, S>
    where
        S: ?Sized,
        F: FnOnce(&mut U) -> &mut S,
    {
        let data: *mut S = f(&mut *this);
        OwnedMappedMutexGuard {
            lock: Self::disarm(this),
            data,
        }
    }

    /// Like [`map`](OwnedMappedMutexGuard::map), but `f` may decline by
    /// returning `None`: the guard is then handed back in `Err`, with the
    /// mutex still locked.
    pub fn try_map<S, F>(mut this: Self, f: F) -> Result<OwnedMappedMutexGuard<T, S>, Self>
    where
        S: ?Sized,
        F: FnOnce(&mut U) -> Option<&mut S>,
    {
        let data: *mut S = match f(&mut *this) {
            Some(part) => part,
            None => return Err(this),
        };
        Ok(OwnedMappedMutexGuard {
            lock: Self::disarm(this),
            data,
        })
    }

    /// The mutex this guard locks.
    ///
    /// An associated function (`OwnedMappedMutexGuard::mutex(&guard)`), so
    /// that it does not hide a `mutex` method of `U`.
    pub fn mutex(this: &Self) -> &Arc<Mutex<T>> {
        &this.lock
    }
}

impl<T: ?Sized, U: ?Sized> Deref for OwnedMappedMutexGuard<T, U> {
    type Target = U;
    fn deref(&self) -> &U {
        // SAFETY: `data` is valid and unaliased while this guard holds the
        // mutex's permit, and the `Arc` keeps its allocation alive.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized, U: ?Sized> DerefMut for OwnedMappedMutexGuard<T, U> {
    fn deref_mut(&mut self) -> &mut U {
        // SAFETY: as in `deref`; `&mut self` makes this borrow unique among
        // the guard's own borrows.
        unsafe { &mut *self.data }
    }
}

impl<T: ?Sized, U: ?Sized> Drop for OwnedMappedMutexGuard<T, U> {
    fn drop(&mut self) {
        self.lock.unlock();
    }
}

impl<T: ?Sized, U: ?Sized + fmt::Debug> fmt::Debug for OwnedMappedMutexGuard<T, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized, U: ?Sized + fmt::Display> fmt::Display for OwnedMappedMutexGuard<T, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
