use super::JoinHandle;
use crate::runtime::task::TaskOptions;
use crate::runtime::Handle;
use crate::watchdog::Policy;
use std::future::Future;
use std::io;

/// Spawns tasks with a name, shown in diagnostics next to the task id and
/// spawn location.
///
/// ```
/// # vigil::block_on(async {
/// let handle = vigil::task::Builder::new()
///     .name("fetch-config")
///     .spawn(async { 7 })
///     .unwrap();
/// assert_eq!(handle.await.unwrap(), 7);
/// # });
/// ```
#[derive(Debug, Default, Clone)]
pub struct Builder {
    options: TaskOptions,
}

impl Builder {
    /// A builder for an unnamed task.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Names the task.
    pub fn name(mut self, name: &str) -> Builder {
        self.options.name = Some(name.into());
        self
    }

    /// Overrides the runtime's [watchdog policy](crate::watchdog::Policy)
    /// for this task: for instance [`Policy::Abort`](crate::watchdog::Policy::Abort)
    /// for a connection handler that should rather die than spin, or
    /// [`Policy::Ignore`](crate::watchdog::Policy::Ignore) for a task that
    /// wakes itself on purpose.
    ///
    /// ```
    /// use vigil::watchdog::Policy;
    /// # vigil::block_on(async {
    /// let handle = vigil::task::Builder::new()
    ///     .name("conn")
    ///     .watchdog(Policy::Abort)
    ///     .spawn(async { 1 })
    ///     .unwrap();
    /// assert_eq!(handle.await.unwrap(), 1);
    /// # });
    /// ```
    pub fn watchdog(mut self, policy: Policy) -> Builder {
        self.options.policy = Some(policy);
        self
    }

    /// Spawns on the current runtime; see [`super::spawn`].
    ///
    /// # Panics
    /// Outside a runtime.
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> io::Result<JoinHandle<F::Output>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Ok(super::spawn_inner(future, self.options))
    }

    /// Spawns on the given runtime.
    #[track_caller]
    pub fn spawn_on<F>(self, future: F, handle: &Handle) -> io::Result<JoinHandle<F::Output>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Ok(handle.spawn_named(future, self.options))
    }

    /// Spawns a `!Send` future; see [`super::spawn_local`].
    #[track_caller]
    pub fn spawn_local<F>(self, future: F) -> io::Result<JoinHandle<F::Output>>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        Ok(super::spawn_local_inner(future, self.options))
    }

    /// Spawns a `!Send` future on `local_set`, whether or not it is being
    /// driven; see [`LocalSet::spawn_local`](super::LocalSet::spawn_local).
    ///
    /// ```
    /// use vigil::task::{Builder, LocalSet};
    ///
    /// let rt = vigil::runtime::Builder::new_current_thread().build().unwrap();
    /// let local = LocalSet::new();
    /// let handle = Builder::new()
    ///     .name("local-worker")
    ///     .spawn_local_on(async { std::rc::Rc::new(5) }, &local)
    ///     .unwrap();
    /// assert_eq!(*local.block_on(&rt, handle).unwrap(), 5);
    /// ```
    #[track_caller]
    pub fn spawn_local_on<F>(
        self,
        future: F,
        local_set: &super::LocalSet,
    ) -> io::Result<JoinHandle<F::Output>>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        Ok(local_set.spawn_with(future, self.options))
    }

    /// Runs a blocking closure on the current runtime's blocking pool.
    ///
    /// # Panics
    /// Outside a runtime.
    #[track_caller]
    pub fn spawn_blocking<F, R>(self, func: F) -> io::Result<JoinHandle<R>>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let handle = Handle::current();
        Ok(handle.spawn_blocking_named(func, self.options))
    }
}
