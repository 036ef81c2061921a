use super::{AbortHandle, Id, JoinError, JoinHandle};
use crate::runtime::Handle;
use slab::Slab;
use std::collections::VecDeque;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

/// A collection of tasks, awaited in the order they finish.
///
/// Dropping a `JoinSet` aborts every task still in it.
///
/// ```
/// # vigil::block_on(async {
/// let mut set = vigil::task::JoinSet::new();
/// for i in 0..10u32 {
///     set.spawn(async move { i * 2 });
/// }
/// let mut total = 0;
/// while let Some(res) = set.join_next().await {
///     total += res.unwrap();
/// }
/// assert_eq!(total, 90);
/// # });
/// ```
pub struct JoinSet<T> {
    entries: Slab<(JoinHandle<T>, Waker)>,
    ready: Arc<Ready>,
}

// A panic between two calls leaves the set consistent: `ready` is only
// changed under its mutex, and the handles are unwind safe themselves.
impl<T> std::panic::UnwindSafe for JoinSet<T> {}
impl<T> std::panic::RefUnwindSafe for JoinSet<T> {}

/// Which entries were woken, and who waits on the set.
struct Ready {
    inner: Mutex<ReadyInner>,
}

struct ReadyInner {
    keys: VecDeque<usize>,
    waker: Option<Waker>,
}

/// The waker given to one entry's join handle.
struct EntryWaker {
    key: usize,
    ready: Arc<Ready>,
}

impl Wake for EntryWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref()
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let waker = {
            let mut inner = self.ready.inner.lock().unwrap();
            inner.keys.push_back(self.key);
            inner.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> JoinSet<T> {
    /// An empty set.
    pub fn new() -> JoinSet<T> {
        JoinSet {
            entries: Slab::new(),
            ready: Arc::new(Ready {
                inner: Mutex::new(ReadyInner {
                    keys: VecDeque::new(),
                    waker: None,
                }),
            }),
        }
    }

    /// Number of tasks in the set (finished ones count until joined).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// `true` if the set holds no task.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn insert(&mut self, handle: JoinHandle<T>) -> AbortHandle {
        let abort = handle.abort_handle();
        let entry = self.entries.vacant_entry();
        let key = entry.key();
        let waker = Waker::from(Arc::new(EntryWaker {
            key,
            ready: self.ready.clone(),
        }));
        entry.insert((handle, waker));
        // Poll it once so its waker is registered.
        self.ready.inner.lock().unwrap().keys.push_back(key);
        abort
    }

    /// Aborts every task; they are still returned (as cancelled) by
    /// [`join_next`](Self::join_next).
    pub fn abort_all(&mut self) {
        for (_, (handle, _)) in self.entries.iter() {
            handle.abort();
        }
    }

    /// Removes every task from the set without aborting them.
    pub fn detach_all(&mut self) {
        self.entries.clear();
        self.ready.inner.lock().unwrap().keys.clear();
    }

    /// Waits for the next task to finish. `None` when the set is empty.
    ///
    /// Cancel safe: if the `.await` is dropped, no output is lost.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// As [`join_next`](Self::join_next), with the finished task's
    /// [`Id`] (a failed task's is in its [`JoinError::id`]).
    ///
    /// Cancel safe, like `join_next`.
    pub async fn join_next_with_id(&mut self) -> Option<Result<(Id, T), JoinError>> {
        poll_fn(|cx| self.poll_join_next_with_id(cx)).await
    }

    /// Returns the output of a task that already finished, without waiting.
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        self.try_join_next_with_id()
            .map(|res| res.map(|(_, output)| output))
    }

    /// As [`try_join_next`](Self::try_join_next), with the task's [`Id`].
    pub fn try_join_next_with_id(&mut self) -> Option<Result<(Id, T), JoinError>> {
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        match self.poll_join_next_with_id(&mut cx) {
            Poll::Ready(res) => res,
            Poll::Pending => None,
        }
    }

    /// Aborts every task and waits for them all to stop.
    ///
    /// Cancel safe: every task is aborted at the first poll; dropping the
    /// future then only stops the waiting (tasks still in the set stop
    /// anyway, and the rest go when the set is dropped).
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }

    /// Waits for every task and returns their outputs in completion order.
    ///
    /// Not cancel safe: it consumes the set, so dropping the future aborts
    /// the tasks still running and loses the outputs collected so far. Loop
    /// on [`join_next`](Self::join_next) to keep them.
    ///
    /// # Panics
    /// Resumes the panic of a task that panicked.
    pub async fn join_all(mut self) -> Vec<T> {
        let mut out = Vec::with_capacity(self.len());
        while let Some(res) = self.join_next().await {
            match res {
                Ok(v) => out.push(v),
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(e) => panic!("a task of the JoinSet was cancelled: {e}"),
            }
        }
        out
    }

    /// Polls for the next finished task; see [`join_next`](Self::join_next).
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        self.poll_join_next_with_id(cx)
            .map(|next| next.map(|res| res.map(|(_, output)| output)))
    }

    /// Polls for the next finished task, with its [`Id`]; see
    /// [`join_next_with_id`](Self::join_next_with_id).
    pub fn poll_join_next_with_id(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<(Id, T), JoinError>>> {
        // Each entry woken so far is polled at most once per call. A join
        // handle whose task's cooperative budget is spent answers `Pending`
        // and wakes its entry at once, which puts the key straight back in
        // the queue: without this bound the loop would spin on it forever.
        let mut tries = self.ready.inner.lock().unwrap().keys.len().max(1);
        loop {
            let key = {
                let mut inner = self.ready.inner.lock().unwrap();
                let next = if tries == 0 {
                    None
                } else {
                    inner.keys.pop_front()
                };
                match next {
                    Some(key) => key,
                    None => {
                        if self.entries.is_empty() {
                            return Poll::Ready(None);
                        }
                        if !inner.keys.is_empty() {
                            // Out of tries with entries still woken: come
                            // back after the task has yielded.
                            drop(inner);
                            cx.waker().wake_by_ref();
                            return Poll::Pending;
                        }
                        if !inner
                            .waker
                            .as_ref()
                            .is_some_and(|w| w.will_wake(cx.waker()))
                        {
                            inner.waker = Some(cx.waker().clone());
                        }
                        return Poll::Pending;
                    }
                }
            };
            tries -= 1;
            let Some((handle, waker)) = self.entries.get_mut(key) else {
                continue;
            };
            let mut entry_cx = Context::from_waker(waker);
            let id = handle.id();
            if let Poll::Ready(res) = Pin::new(handle).poll(&mut entry_cx) {
                self.entries.remove(key);
                return Poll::Ready(Some(res.map(|output| (id, output))));
            }
        }
    }
}

impl<T: Send + 'static> JoinSet<T> {
    /// Spawns a task on the current runtime into the set.
    ///
    /// # Panics
    /// Outside a runtime.
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.insert(super::spawn(future))
    }

    /// Spawns a task on the given runtime into the set.
    #[track_caller]
    pub fn spawn_on<F>(&mut self, future: F, handle: &Handle) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.insert(handle.spawn(future))
    }

    /// Runs a blocking closure on the blocking pool, into the set.
    #[track_caller]
    pub fn spawn_blocking<F>(&mut self, func: F) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
    {
        self.insert(super::spawn_blocking(func))
    }

    /// Runs a blocking closure on the given runtime's blocking pool, into
    /// the set.
    #[track_caller]
    pub fn spawn_blocking_on<F>(&mut self, func: F, handle: &Handle) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
    {
        self.insert(handle.spawn_blocking(func))
    }
}

/// Spawns each future on the current runtime, as [`JoinSet::spawn`] does.
///
/// ```
/// # vigil::block_on(async {
/// let set: vigil::task::JoinSet<u32> = (1..=3u32).map(|i| async move { i * i }).collect();
/// let mut squares = set.join_all().await;
/// squares.sort();
/// assert_eq!(squares, [1, 4, 9]);
/// # });
/// ```
///
/// # Panics
/// Outside a runtime.
impl<T: Send + 'static, F> FromIterator<F> for JoinSet<T>
where
    F: Future<Output = T> + Send + 'static,
{
    #[track_caller]
    fn from_iter<I: IntoIterator<Item = F>>(futures: I) -> JoinSet<T> {
        let mut set = JoinSet::new();
        set.extend(futures);
        set
    }
}

/// Spawns each future on the current runtime into the set.
///
/// # Panics
/// Outside a runtime.
impl<T: Send + 'static, F> Extend<F> for JoinSet<T>
where
    F: Future<Output = T> + Send + 'static,
{
    #[track_caller]
    fn extend<I: IntoIterator<Item = F>>(&mut self, futures: I) {
        for future in futures {
            self.spawn(future);
        }
    }
}

impl<T: 'static> JoinSet<T> {
    /// Spawns a `!Send` future into the set; see [`super::spawn_local`].
    #[track_caller]
    pub fn spawn_local<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        self.insert(super::spawn_local(future))
    }

    /// Spawns a `!Send` future on `local_set` into the set; see
    /// [`LocalSet::spawn_local`](super::LocalSet::spawn_local). The task
    /// runs while `local_set` is driven.
    #[track_caller]
    pub fn spawn_local_on<F>(&mut self, future: F, local_set: &super::LocalSet) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        self.insert(local_set.spawn_local(future))
    }
}

impl<T> Default for JoinSet<T> {
    fn default() -> Self {
        JoinSet::new()
    }
}

impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        self.abort_all();
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len()).finish()
    }
}
