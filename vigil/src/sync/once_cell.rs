//! [`OnceCell`]: a value set once, possibly by an async initialiser that
//! only one task runs.
//!
//! Two well-tested pieces make it: the value lives in a
//! [`std::sync::OnceLock`], so reading it after initialisation is one
//! atomic load and no lock; and initialisers queue on an async
//! [`Mutex`](super::Mutex), so exactly one of them runs at a time, the
//! others wait without blocking their threads, and an initialiser that is
//! cancelled (its future dropped) or fails lets the next one in line try.

use super::Mutex;
use std::fmt;
use std::future::Future;
use std::sync::OnceLock;

/// A cell written at most once, then read freely; the async counterpart of
/// [`std::sync::OnceLock`], for values whose construction awaits (a
/// connection pool, a configuration fetched at start-up).
///
/// ```
/// use vigil::sync::OnceCell;
///
/// static CONFIG: OnceCell<String> = OnceCell::const_new();
///
/// async fn config() -> &'static str {
///     CONFIG
///         .get_or_init(|| async {
///             // Runs once, however many tasks ask at the same time.
///             vigil::task::yield_now().await;
///             "answer = 42".to_string()
///         })
///         .await
/// }
///
/// # vigil::block_on(async {
/// let (a, b) = (vigil::spawn(config()), vigil::spawn(config()));
/// assert_eq!(a.await.unwrap(), b.await.unwrap());
/// assert_eq!(CONFIG.get().map(String::as_str), Some("answer = 42"));
/// # });
/// ```
pub struct OnceCell<T> {
    value: OnceLock<T>,
    /// Held by the one initialiser running.
    init: Mutex<()>,
}

/// Why [`OnceCell::set`] did not store the value; holds it.
#[derive(PartialEq, Eq)]
pub enum SetError<T> {
    /// The cell already holds a value.
    AlreadyInitializedError(T),
    /// An initialiser is running at this moment.
    InitializingError(T),
}

impl<T> SetError<T> {
    /// `true` for [`SetError::AlreadyInitializedError`].
    pub fn is_already_init_err(&self) -> bool {
        matches!(self, SetError::AlreadyInitializedError(_))
    }

    /// `true` for [`SetError::InitializingError`].
    pub fn is_initializing_err(&self) -> bool {
        matches!(self, SetError::InitializingError(_))
    }

    /// The value that was not stored.
    pub fn into_inner(self) -> T {
        match self {
            SetError::AlreadyInitializedError(v) | SetError::InitializingError(v) => v,
        }
    }
}

impl<T> fmt::Debug for SetError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetError::AlreadyInitializedError(_) => f.write_str("AlreadyInitializedError(..)"),
            SetError::InitializingError(_) => f.write_str("InitializingError(..)"),
        }
    }
}

impl<T> fmt::Display for SetError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetError::AlreadyInitializedError(_) => f.write_str("the cell is already set"),
            SetError::InitializingError(_) => f.write_str("the cell is being initialised"),
        }
    }
}

impl<T> std::error::Error for SetError<T> {}

impl<T> OnceCell<T> {
    /// An empty cell.
    pub fn new() -> OnceCell<T> {
        OnceCell {
            value: OnceLock::new(),
            init: Mutex::new(()),
        }
    }

    /// An empty cell, in a `const` context (for `static`s).
    #[cfg(not(loom))]
    pub const fn const_new() -> OnceCell<T> {
        OnceCell {
            value: OnceLock::new(),
            init: Mutex::const_new(()),
        }
    }

    /// A cell holding `value` if it is `Some`.
    pub fn new_with(value: Option<T>) -> OnceCell<T> {
        let cell = OnceCell::new();
        if let Some(value) = value {
            let _ = cell.value.set(value);
        }
        cell
    }

    /// The value, if set.
    pub fn get(&self) -> Option<&T> {
        self.value.get()
    }

    /// The value, mutably, if set.
    pub fn get_mut(&mut self) -> Option<&mut T> {
        self.value.get_mut()
    }

    /// Whether the cell holds a value.
    pub fn initialized(&self) -> bool {
        self.value.get().is_some()
    }

    /// Stores `value` if the cell is empty and no initialiser is running.
    pub fn set(&self, value: T) -> Result<(), SetError<T>> {
        if self.initialized() {
            return Err(SetError::AlreadyInitializedError(value));
        }
        let Ok(_running) = self.init.try_lock() else {
            return Err(SetError::InitializingError(value));
        };
        self.value
            .set(value)
            .map_err(SetError::AlreadyInitializedError)
    }

    /// The value, initialising it with `init` first if the cell is empty.
    /// Of the tasks that call this on an empty cell at once, one runs its
    /// `init`; the others wait and then get its value.
    ///
    /// **Cancel safety:** cancel-safe. A caller dropped while waiting
    /// leaves the queue; one dropped while its `init` runs abandons that
    /// attempt, and the next waiter runs its own.
    ///
    /// # Panics
    /// If `init` panics, the panic propagates and the cell stays empty.
    pub async fn get_or_init<F, Fut>(&self, init: F) -> &T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        match self
            .get_or_try_init(|| async { Ok::<T, std::convert::Infallible>(init().await) })
            .await
        {
            Ok(value) => value,
            Err(never) => match never {},
        }
    }

    /// As [`get_or_init`](OnceCell::get_or_init) with an initialiser that
    /// may fail: an error is returned to this caller, the cell stays empty,
    /// and the next caller in line runs its own initialiser. Cancel-safe.
    pub async fn get_or_try_init<E, F, Fut>(&self, init: F) -> Result<&T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if let Some(value) = self.value.get() {
            return Ok(value);
        }
        let _running = self.init.lock().await;
        if let Some(value) = self.value.get() {
            // Set by the initialiser we queued behind.
            return Ok(value);
        }
        let value = init().await?;
        // Nobody else can set it while we hold `init` (`set` takes it too).
        let _ = self.value.set(value);
        Ok(self.value.get().expect("just set"))
    }

    /// The value, if set, consuming the cell.
    pub fn into_inner(self) -> Option<T> {
        self.value.into_inner()
    }

    /// Takes the value out, leaving the cell empty.
    pub fn take(&mut self) -> Option<T> {
        self.value.take()
    }
}

impl<T> Default for OnceCell<T> {
    fn default() -> OnceCell<T> {
        OnceCell::new()
    }
}

impl<T> From<T> for OnceCell<T> {
    fn from(value: T) -> OnceCell<T> {
        OnceCell::new_with(Some(value))
    }
}

impl<T: Clone> Clone for OnceCell<T> {
    fn clone(&self) -> OnceCell<T> {
        OnceCell::new_with(self.get().cloned())
    }
}

/// Two cells are equal when both are empty or both hold equal values (an
/// initialiser still running counts as empty).
impl<T: PartialEq> PartialEq for OnceCell<T> {
    fn eq(&self, other: &OnceCell<T>) -> bool {
        self.get() == other.get()
    }
}

impl<T: Eq> Eq for OnceCell<T> {}

impl<T: fmt::Debug> fmt::Debug for OnceCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnceCell")
            .field("value", &self.get())
            .finish()
    }
}
