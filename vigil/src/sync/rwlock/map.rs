//! Narrowing `RwLock` guards to a part of the locked value, and turning a
//! writer into a narrowed reader.
//!
//! Every conversion hands the guard's permits to the new guard. The old
//! guard is disarmed (its `Drop` skipped) only once the closure has
//! returned, so a closure that panics unwinds through a still-armed guard,
//! which releases the lock exactly once; afterwards the new guard is the
//! only one left to release it.

use super::{
    OwnedRwLockMappedWriteGuard, OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock,
    RwLockMappedWriteGuard, RwLockReadGuard, RwLockWriteGuard,
};
use std::marker::PhantomData;
use std::sync::Arc;

impl<'a, T: ?Sized> RwLockReadGuard<'a, T> {
    /// Narrows the guard to a part of the locked value (a field, an element
    /// of a slice...), keeping the shared lock until the new guard drops.
    ///
    /// If `f` panics, the lock is released as the panic unwinds.
    ///
    /// This is an associated function, called as `RwLockReadGuard::map(guard,
    /// f)`, so that it never hides a `map` method of `T` reached through
    /// the guard.
    ///
    /// ```
    /// use vigil::sync::{RwLock, RwLockReadGuard};
    ///
    /// struct Config {
    ///     name: String,
    ///     retries: u32,
    /// }
    ///
    /// # vigil::block_on(async {
    /// let config = RwLock::new(Config { name: "prod".into(), retries: 3 });
    /// let name = RwLockReadGuard::map(config.read().await, |c| c.name.as_str());
    /// assert_eq!(&*name, "prod");
    /// // Still a reader: other readers get in, writers wait.
    /// assert_eq!(config.try_read().unwrap().retries, 3);
    /// assert!(config.try_write().is_err());
    /// # });
    /// ```
    pub fn map<F, U: ?Sized>(this: Self, f: F) -> RwLockReadGuard<'a, U>
    where
        F: FnOnce(&T) -> &U,
    {
        let data: *const U = f(&*this);
        RwLockReadGuard {
            sem: Self::disarm(this),
            data,
            _borrow: PhantomData,
        }
    }

    /// Like [`map`](RwLockReadGuard::map), but `f` may decline by returning
    /// `None`: the original guard is then handed back in `Err`, still
    /// holding the shared lock.
    ///
    /// ```
    /// use vigil::sync::{RwLock, RwLockReadGuard};
    ///
    /// # vigil::block_on(async {
    /// let words = RwLock::new(vec!["a", "b"]);
    /// let guard = words.read().await;
    /// let guard = RwLockReadGuard::try_map(guard, |w| w.get(5)).unwrap_err();
    /// assert_eq!(guard.len(), 2); // the original guard, still locked
    /// # });
    /// ```
    pub fn try_map<F, U: ?Sized>(this: Self, f: F) -> Result<RwLockReadGuard<'a, U>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        let data: *const U = match f(&*this) {
            Some(part) => part,
            None => return Err(this),
        };
        Ok(RwLockReadGuard {
            sem: Self::disarm(this),
            data,
            _borrow: PhantomData,
        })
    }
}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// A mapped write guard for `data`, taking over this guard's permits.
    fn into_mapped_at<U: ?Sized>(this: Self, data: *mut U) -> RwLockMappedWriteGuard<'a, U> {
        let lock = Self::disarm(this);
        RwLockMappedWriteGuard {
            sem: &lock.sem,
            permits: lock.max_readers,
            data,
            _borrow: PhantomData,
        }
    }

    /// A read guard for `data`, taking over one of this guard's permits and
    /// giving the others back.
    fn downgrade_at<U: ?Sized>(this: Self, data: *const U) -> RwLockReadGuard<'a, U> {
        let lock = Self::disarm(this);
        let reader = RwLockReadGuard {
            sem: &lock.sem,
            data,
            _borrow: PhantomData,
        };
        lock.downgrade();
        reader
    }

    /// Narrows the guard to a part of the locked value, keeping the
    /// exclusive lock until the new guard drops.
    ///
    /// If `f` panics, the lock is released as the panic unwinds. An
    /// associated function: call it as `RwLockWriteGuard::map(guard, f)`.
    ///
    /// ```
    /// use vigil::sync::{RwLock, RwLockWriteGuard};
    ///
    /// # vigil::block_on(async {
    /// let point = RwLock::new((1, 2));
    /// {
    ///     let mut y = RwLockWriteGuard::map(point.write().await, |p| &mut p.1);
    ///     *y = 20;
    ///     assert!(point.try_read().is_err(), "still exclusive");
    /// }
    /// assert_eq!(*point.read().await, (1, 20));
    /// # });
    /// ```
    pub fn map<F, U: ?Sized>(mut this: Self, f: F) -> RwLockMappedWriteGuard<'a, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let data: *mut U = f(&mut *this);
        Self::into_mapped_at(this, data)
    }

    /// Like [`map`](RwLockWriteGuard::map), but `f` may decline by
    /// returning `None`: the original guard is then handed back in `Err`,
    /// still holding the exclusive lock.
    pub fn try_map<F, U: ?Sized>(
        mut this: Self,
        f: F,
    ) -> Result<RwLockMappedWriteGuard<'a, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let data: *mut U = match f(&mut *this) {
            Some(part) => part,
            None => return Err(this),
        };
        Ok(Self::into_mapped_at(this, data))
    }

    /// The same guard as a [`RwLockMappedWriteGuard`] over the whole value,
    /// for code that stores mapped guards: `RwLockWriteGuard::map(this,
    /// |v| v)`.
    pub fn into_mapped(this: Self) -> RwLockMappedWriteGuard<'a, T> {
        RwLockWriteGuard::map(this, |v| v)
    }

    /// Narrows the guard to a part of the locked value and
    /// [downgrades](RwLockWriteGuard::downgrade) it to shared access in one
    /// step: no writer gets in between.
    ///
    /// `f` runs while the lock is still exclusive, but gets only `&T` (a
    /// `&mut T` would let the returned part be changed through interior
    /// mutability while the readers that are let in look at it). If `f`
    /// panics, the exclusive lock is released as the panic unwinds.
    ///
    /// ```
    /// use vigil::sync::{RwLock, RwLockWriteGuard};
    ///
    /// # vigil::block_on(async {
    /// let point = RwLock::new((1, 2));
    /// let mut writer = point.write().await;
    /// writer.0 = 10;
    /// let x = RwLockWriteGuard::downgrade_map(writer, |p| &p.0);
    /// // Other readers now share the lock; writers still wait.
    /// assert_eq!(*point.try_read().unwrap(), (10, 2));
    /// assert!(point.try_write().is_err());
    /// assert_eq!(*x, 10);
    /// # });
    /// ```
    pub fn downgrade_map<F, U: ?Sized>(this: Self, f: F) -> RwLockReadGuard<'a, U>
    where
        F: FnOnce(&T) -> &U,
    {
        let data: *const U = f(&*this);
        Self::downgrade_at(this, data)
    }

    /// Like [`downgrade_map`](RwLockWriteGuard::downgrade_map), but `f` may
    /// decline by returning `None`: the original guard is then handed back
    /// in `Err`, still exclusive (never downgraded nor released).
    pub fn try_downgrade_map<F, U: ?Sized>(this: Self, f: F) -> Result<RwLockReadGuard<'a, U>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        let data: *const U = match f(&*this) {
            Some(part) => part,
            None => return Err(this),
        };
        Ok(Self::downgrade_at(this, data))
    }
}

impl<'a, T: ?Sized> RwLockMappedWriteGuard<'a, T> {
    /// Narrows the guard further, as [`RwLockWriteGuard::map`] does for an
    /// unmapped guard. If `f` panics, the lock is released as the panic
    /// unwinds.
    ///
    /// ```
    /// use vigil::sync::{RwLock, RwLockMappedWriteGuard, RwLockWriteGuard};
    ///
    /// # vigil::block_on(async {
    /// let matrix = RwLock::new(vec![vec![0; 2]; 2]);
    /// let row = RwLockWriteGuard::map(matrix.write().await, |m| &mut m[0]);
    /// let mut cell = RwLockMappedWriteGuard::map(row, |r| &mut r[1]);
    /// *cell = 7;
    /// drop(cell);
    /// assert_eq!(*matrix.read().await, [[0, 7], [0, 0]]);
    /// # });
    /// ```
    pub fn map<F, U: ?Sized>(mut this: Self, f: F) -> RwLockMappedWriteGuard<'a, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let data: *mut U = f(&mut *this);
        let (sem, permits) = Self::disarm(this);
        RwLockMappedWriteGuard {
            sem,
            permits,
            data,
            _borrow: PhantomData,
        }
    }

    /// Like [`map`](RwLockMappedWriteGuard::map), but `f` may decline by
    /// returning `None`: the guard is then handed back in `Err`, still
    /// holding the exclusive lock.
    pub fn try_map<F, U: ?Sized>(
        mut this: Self,
        f: F,
    ) -> Result<RwLockMappedWriteGuard<'a, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let data: *mut U = match f(&mut *this) {
            Some(part) => part,
            None => return Err(this),
        };
        let (sem, permits) = Self::disarm(this);
        Ok(RwLockMappedWriteGuard {
            sem,
            permits,
            data,
            _borrow: PhantomData,
        })
    }
}

impl<T: ?Sized, U: ?Sized> OwnedRwLockReadGuard<T, U> {
    /// Narrows the guard to a part of what it reads, keeping the shared
    /// lock (and the `Arc`) until the new guard drops. If `f` panics, the
    /// lock is released as the panic unwinds.
    ///
    /// An associated function: call it as `OwnedRwLockReadGuard::map(guard,
    /// f)`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use vigil::sync::{OwnedRwLockReadGuard, RwLock};
    ///
    /// # vigil::block_on(async {
    /// let table = Arc::new(RwLock::new(vec![("k", 1)]));
    /// let first = OwnedRwLockReadGuard::map(table.clone().read_owned().await, |t| &t[0]);
    /// // The mapped guard is `'static`: it can move into a task.
    /// let key = vigil::spawn(async move { first.0 }).await.unwrap();
    /// assert_eq!(key, "k");
    /// assert!(table.try_write().is_ok(), "the task's guard was released");
    /// # });
    /// ```
    pub fn map<F, V: ?Sized>(this: Self, f: F) -> OwnedRwLockReadGuard<T, V>
    where
        F: FnOnce(&U) -> &V,
    {
        let data: *const V = f(&*this);
        OwnedRwLockReadGuard {
            lock: Self::disarm(this),
            data,
        }
    }

    /// Like [`map`](OwnedRwLockReadGuard::map), but `f` may decline by
    /// returning `None`: the guard is then handed back in `Err`, still
    /// holding the shared lock.
    pub fn try_map<F, V: ?Sized>(this: Self, f: F) -> Result<OwnedRwLockReadGuard<T, V>, Self>
    where
        F: FnOnce(&U) -> Option<&V>,
    {
        let data: *const V = match f(&*this) {
            Some(part) => part,
            None => return Err(this),
        };
        Ok(OwnedRwLockReadGuard {
            lock: Self::disarm(this),
            data,
        })
    }

    /// The lock this guard holds.
    ///
    /// An associated function (`OwnedRwLockReadGuard::rwlock(&guard)`), so
    /// that it does not hide a `rwlock` method of `U`.
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T>> {
        &this.lock
    }
}

impl<T: ?Sized> OwnedRwLockWriteGuard<T> {
    /// Narrows the guard to a part of the locked value, keeping the
    /// exclusive lock (and the `Arc`) until the new guard drops. If `f`
    /// panics, the lock is released as the panic unwinds.
    ///
    /// An associated function: call it as `OwnedRwLockWriteGuard::map(guard,
    /// f)`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use vigil::sync::{OwnedRwLockWriteGuard, RwLock};
    ///
    /// # vigil::block_on(async {
    /// let stats = Arc::new(RwLock::new((0u64, 0u64)));
    /// let mut hits = OwnedRwLockWriteGuard::map(stats.clone().write_owned().await, |s| &mut s.0);
    /// vigil::spawn(async move { *hits += 1 }).await.unwrap();
    /// assert_eq!(*stats.read().await, (1, 0));
    /// # });
    /// ```
    pub fn map<F, U: ?Sized>(mut this: Self, f: F) -> OwnedRwLockMappedWriteGuard<T, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let data: *mut U = f(&mut *this);
        OwnedRwLockMappedWriteGuard {
            lock: Self::disarm(this),
            data,
        }
    }

    /// Like [`map`](OwnedRwLockWriteGuard::map), but `f` may decline by
    /// returning `None`: the original guard is then handed back in `Err`,
    /// still holding the exclusive lock.
    pub fn try_map<F, U: ?Sized>(
        mut this: Self,
        f: F,
    ) -> Result<OwnedRwLockMappedWriteGuard<T, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let data: *mut U = match f(&mut *this) {
            Some(part) => part,
            None => return Err(this),
        };
        Ok(OwnedRwLockMappedWriteGuard {
            lock: Self::disarm(this),
            data,
        })
    }

    /// The same guard as an [`OwnedRwLockMappedWriteGuard`] over the whole
    /// value: `OwnedRwLockWriteGuard::map(this, |v| v)`.
    pub fn into_mapped(this: Self) -> OwnedRwLockMappedWriteGuard<T> {
        OwnedRwLockWriteGuard::map(this, |v| v)
    }

    /// Narrows the guard to a part of the locked value and
    /// [downgrades](OwnedRwLockWriteGuard::downgrade) it to shared access
    /// in one step, as [`RwLockWriteGuard::downgrade_map`] does. If `f`
    /// panics, the exclusive lock is released as the panic unwinds.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use vigil::sync::{OwnedRwLockWriteGuard, RwLock};
    ///
    /// # vigil::block_on(async {
    /// let lock = Arc::new(RwLock::new(String::from("draft")));
    /// let mut writer = lock.clone().write_owned().await;
    /// writer.push_str(" v2");
    /// let len = OwnedRwLockWriteGuard::downgrade_map(writer, |s| s.as_bytes());
    /// assert_eq!(*lock.try_read().unwrap(), "draft v2", "readers share now");
    /// assert_eq!(len.len(), 8);
    /// # });
    /// ```
    pub fn downgrade_map<F, U: ?Sized>(this: Self, f: F) -> OwnedRwLockReadGuard<T, U>
    where
        F: FnOnce(&T) -> &U,
    {
        let data: *const U = f(&*this);
        let reader = OwnedRwLockReadGuard {
            lock: Self::disarm(this),
            data,
        };
        reader.lock.downgrade();
        reader
    }

    /// Like [`downgrade_map`](OwnedRwLockWriteGuard::downgrade_map), but `f`
    /// may decline by returning `None`: the original guard is then handed
    /// back in `Err`, still exclusive (never downgraded nor released).
    pub fn try_downgrade_map<F, U: ?Sized>(
        this: Self,
        f: F,
    ) -> Result<OwnedRwLockReadGuard<T, U>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        let data: *const U = match f(&*this) {
            Some(part) => part,
            None => return Err(this),
        };
        let reader = OwnedRwLockReadGuard {
            lock: Self::disarm(this),
            data,
        };
        reader.lock.downgrade();
        Ok(reader)
    }

    /// The lock this guard holds.
    ///
    /// An associated function (`OwnedRwLockWriteGuard::rwlock(&guard)`), so
    /// that it does not hide a `rwlock` method of `T`.
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T>> {
        &this.lock
    }
}

impl<T: ?Sized, U: ?Sized> OwnedRwLockMappedWriteGuard<T, U> {
    /// Narrows the guard further, as [`OwnedRwLockWriteGuard::map`] does
    /// for an unmapped guard. If `f` panics, the lock is released as the
    /// panic unwinds.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use vigil::sync::{OwnedRwLockMappedWriteGuard, OwnedRwLockWriteGuard, RwLock};
    ///
    /// # vigil::block_on(async {
    /// let lock = Arc::new(RwLock::new((String::from("a"), vec![1, 2])));
    /// let list = OwnedRwLockWriteGuard::map(lock.clone().write_owned().await, |p| &mut p.1);
    /// let mut last = OwnedRwLockMappedWriteGuard::map(list, |v| v.last_mut().unwrap());
    /// *last = 5;
    /// drop(last);
    /// assert_eq!(lock.read().await.1, [1, 5]);
    /// # });
    /// ```
    pub fn map<F, V: ?Sized>(mut this: Self, f: F) -> OwnedRwLockMappedWriteGuard<T, V>
    where
        F: FnOnce(&mut U) -> &mut V,
    {
        let data: *mut V = f(&mut *this);
        OwnedRwLockMappedWriteGuard {
            lock: Self::disarm(this),
            data,
        }
    }

    /// Like [`map`](OwnedRwLockMappedWriteGuard::map), but `f` may decline
    /// by returning `None`: the guard is then handed back in `Err`, still
    /// holding the exclusive lock.
    pub fn try_map<F, V: ?Sized>(
        mut this: Self,
        f: F,
    ) -> Result<OwnedRwLockMappedWriteGuard<T, V>, Self>
    where
        F: FnOnce(&mut U) -> Option<&mut V>,
    {
        let data: *mut V = match f(&mut *this) {
            Some(part) => part,
            None => return Err(this),
        };
        Ok(OwnedRwLockMappedWriteGuard {
            lock: Self::disarm(this),
            data,
        })
    }

    /// The lock this guard holds.
    ///
    /// An associated function (`OwnedRwLockMappedWriteGuard::rwlock(&guard)`),
    /// so that it does not hide a `rwlock` method of `U`.
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T>> {
        &this.lock
    }
}
