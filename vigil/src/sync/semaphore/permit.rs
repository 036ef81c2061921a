//! What a successful acquire hands out (permits that go back to the
//! semaphore when dropped, unless forgotten) and why an acquire fails.

use super::Semaphore;
use std::fmt;
use std::sync::Arc;

/// Permits borrowed from a [`Semaphore`], given back when dropped.
#[must_use = "the permit is given back as soon as it is dropped"]
pub struct SemaphorePermit<'a> {
    pub(super) sem: &'a Semaphore,
    pub(super) permits: usize,
}

impl<'a> SemaphorePermit<'a> {
    /// Keeps the permits out of the semaphore for good (drops the guard
    /// without giving them back).
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// Takes over the permits of `other`, which goes away without giving
    /// them back: this guard returns them all when dropped.
    ///
    /// # Panics
    ///
    /// If `other` came from a different semaphore, or if the sum
    /// overflows `usize`.
    ///
    /// ```
    /// use vigil::sync::Semaphore;
    ///
    /// let sem = Semaphore::new(4);
    /// let mut permit = sem.try_acquire().unwrap();
    /// permit.merge(sem.try_acquire_many(2).unwrap());
    /// assert_eq!(permit.num_permits(), 3);
    /// assert_eq!(sem.available_permits(), 1);
    /// drop(permit); // all three go back at once
    /// assert_eq!(sem.available_permits(), 4);
    /// ```
    #[track_caller]
    pub fn merge(&mut self, mut other: SemaphorePermit<'a>) {
        assert!(
            std::ptr::eq(self.sem, other.sem),
            "cannot merge permits of different semaphores"
        );
        self.permits = self
            .permits
            .checked_add(std::mem::take(&mut other.permits))
            .expect("permit count overflow");
    }

    /// Moves `n` of this guard's permits into a new guard; `None` (and no
    /// change) if it holds fewer than `n`.
    ///
    /// ```
    /// use vigil::sync::Semaphore;
    ///
    /// let sem = Semaphore::new(3);
    /// let mut permit = sem.try_acquire_many(3).unwrap();
    /// let one = permit.split(1).unwrap();
    /// assert_eq!((permit.num_permits(), one.num_permits()), (2, 1));
    /// assert!(permit.split(5).is_none());
    /// drop(one); // gives back its permit alone
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn split(&mut self, n: usize) -> Option<SemaphorePermit<'a>> {
        self.permits = self.permits.checked_sub(n)?;
        Some(SemaphorePermit {
            sem: self.sem,
            permits: n,
        })
    }

    /// The semaphore the permits came from.
    pub fn semaphore(&self) -> &'a Semaphore {
        self.sem
    }

    /// How many permits this guard holds.
    pub fn num_permits(&self) -> usize {
        self.permits
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.sem.add_permits(self.permits);
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.permits)
            .finish()
    }
}

/// Permits taken from a [`Semaphore`] in an `Arc`, given back when dropped.
#[must_use = "the permit is given back as soon as it is dropped"]
pub struct OwnedSemaphorePermit {
    pub(super) sem: Arc<Semaphore>,
    pub(super) permits: usize,
}

impl OwnedSemaphorePermit {
    /// Keeps the permits out of the semaphore for good.
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// Takes over the permits of `other`, which goes away without giving
    /// them back: this guard returns them all when dropped.
    ///
    /// # Panics
    ///
    /// If `other` came from a different semaphore (a different `Arc`
    /// allocation), or if the sum overflows `usize`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use vigil::sync::Semaphore;
    ///
    /// let sem = Arc::new(Semaphore::new(2));
    /// let mut permit = sem.clone().try_acquire_owned().unwrap();
    /// permit.merge(sem.clone().try_acquire_owned().unwrap());
    /// assert_eq!(permit.num_permits(), 2);
    /// drop(permit);
    /// assert_eq!(sem.available_permits(), 2);
    /// ```
    #[track_caller]
    pub fn merge(&mut self, mut other: OwnedSemaphorePermit) {
        assert!(
            Arc::ptr_eq(&self.sem, &other.sem),
            "cannot merge permits of different semaphores"
        );
        self.permits = self
            .permits
            .checked_add(std::mem::take(&mut other.permits))
            .expect("permit count overflow");
    }

    /// Moves `n` of this guard's permits into a new guard; `None` (and no
    /// change) if it holds fewer than `n`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use vigil::sync::Semaphore;
    ///
    /// let sem = Arc::new(Semaphore::new(3));
    /// let mut permit = sem.clone().try_acquire_many_owned(3).unwrap();
    /// let two = permit.split(2).unwrap();
    /// assert_eq!((permit.num_permits(), two.num_permits()), (1, 2));
    /// assert!(permit.split(2).is_none());
    /// ```
    pub fn split(&mut self, n: usize) -> Option<OwnedSemaphorePermit> {
        self.permits = self.permits.checked_sub(n)?;
        Some(OwnedSemaphorePermit {
            sem: self.sem.clone(),
            permits: n,
        })
    }

    /// How many permits this guard holds.
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// The semaphore the permits came from.
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.sem
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        self.sem.add_permits(self.permits);
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("permits", &self.permits)
            .finish()
    }
}

/// [`Semaphore::acquire`] failed: the semaphore is closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcquireError(pub(super) ());

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("semaphore closed")
    }
}

impl std::error::Error for AcquireError {}

/// Why [`Semaphore::try_acquire`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryAcquireError {
    /// The semaphore is closed.
    Closed,
    /// Not enough permits are free, or others are queued ahead.
    NoPermits,
}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TryAcquireError::Closed => "semaphore closed",
            TryAcquireError::NoPermits => "no permits available",
        })
    }
}

impl std::error::Error for TryAcquireError {}
