use super::task::{BlockingSchedule, BlockingTask};
use crate::runtime::context;
use crate::runtime::hooks::ThreadHooks;
use crate::runtime::scheduler;
use crate::runtime::task::{self, JoinHandle, Notified, TaskMeta};
use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Owned by the runtime: shutting it down stops the threads.
pub(crate) struct BlockingPool {
    spawner: Spawner,
    /// Set once `shutdown` ran: a bounded wait must not become unbounded
    /// when the pool is dropped afterwards.
    is_shut_down: bool,
}

/// Cheap handle used to queue blocking work.
#[derive(Clone)]
pub(crate) struct Spawner {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    /// Idle threads wait here for work.
    work: Condvar,
    /// Shutdown waits here for the threads to leave.
    exited: Condvar,
    thread_name: Arc<dyn Fn() -> String + Send + Sync>,
    stack_size: Option<usize>,
    max_threads: usize,
    keep_alive: Duration,
    /// Start and stop callbacks for every thread started here.
    hooks: ThreadHooks,
    /// The runtime the pool's threads belong to (for `Handle::current`),
    /// held weakly: the runtime owns the pool, not the other way round.
    handle: OnceLock<scheduler::WeakHandle>,
}

struct State {
    queue: VecDeque<Notified<BlockingSchedule>>,
    threads: usize,
    idle: usize,
    /// Wake-ups handed out and not yet consumed by an idle thread.
    notified: usize,
    /// Threads that left the pool and are running the user's stop hook.
    stopping: usize,
    shutdown: bool,
}

impl BlockingPool {
    pub(crate) fn new(
        thread_name: Arc<dyn Fn() -> String + Send + Sync>,
        stack_size: Option<usize>,
        max_threads: usize,
        keep_alive: Duration,
        hooks: ThreadHooks,
    ) -> BlockingPool {
        BlockingPool {
            spawner: Spawner {
                inner: Arc::new(Inner {
                    state: Mutex::new(State {
                        queue: VecDeque::new(),
                        threads: 0,
                        idle: 0,
                        notified: 0,
                        stopping: 0,
                        shutdown: false,
                    }),
                    work: Condvar::new(),
                    exited: Condvar::new(),
                    thread_name,
                    stack_size,
                    max_threads: max_threads.max(1),
                    keep_alive,
                    hooks,
                    handle: OnceLock::new(),
                }),
            },
            is_shut_down: false,
        }
    }

    pub(crate) fn spawner(&self) -> &Spawner {
        &self.spawner
    }

    /// Stops accepting work, cancels what has not started, and waits (at
    /// most `timeout`) for running closures to return. Threads still busy
    /// after that are left to finish on their own.
    pub(crate) fn shutdown(&mut self, timeout: Option<Duration>) {
        if std::mem::replace(&mut self.is_shut_down, true) {
            return;
        }
        let inner = &self.spawner.inner;
        let pending: Vec<_> = {
            let mut state = inner.state.lock().unwrap();
            state.shutdown = true;
            state.queue.drain(..).collect()
        };
        inner.work.notify_all();
        for task in pending {
            let task: task::Task<BlockingSchedule> =
                // SAFETY: a queued `Notified` owns one reference; we turn it
                // into a plain reference to shut the task down.
                unsafe { task::Task::from_raw(task.into_raw()) };
            task.shutdown(true);
        }
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut state = inner.state.lock().unwrap();
        while state.threads > 0 || state.stopping > 0 {
            match deadline {
                None => state = inner.exited.wait(state).unwrap(),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        break;
                    }
                    state = inner.exited.wait_timeout(state, deadline - now).unwrap().0;
                }
            }
        }
    }
}

impl Drop for BlockingPool {
    fn drop(&mut self) {
        self.shutdown(None);
    }
}

impl Spawner {
    /// Threads of the pool: (all, idle), and closures waiting for a thread.
    pub(crate) fn stats(&self) -> (usize, usize, usize) {
        let state = self.inner.state.lock().unwrap();
        (state.threads, state.idle, state.queue.len())
    }

    pub(crate) fn set_runtime_handle(&self, handle: scheduler::WeakHandle) {
        let _ = self.inner.handle.set(handle);
    }

    #[track_caller]
    pub(crate) fn spawn_blocking<F, R>(&self, func: F, meta: TaskMeta) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let (task, notified, join) =
            task::new_task(BlockingTask::new(func), BlockingSchedule, meta);
        // Blocking tasks are not in an owned list: drop that reference.
        drop(task);
        if let Err(task) = self.queue(notified) {
            let raw = task.into_raw();
            // SAFETY: converting the queue reference into a plain one.
            let task: task::Task<BlockingSchedule> = unsafe { task::Task::from_raw(raw) };
            task.shutdown(true);
        }
        join
    }

    fn queue(&self, task: Notified<BlockingSchedule>) -> Result<(), Notified<BlockingSchedule>> {
        let mut state = self.inner.state.lock().unwrap();
        if state.shutdown {
            return Err(task);
        }
        state.queue.push_back(task);
        if state.idle > state.notified {
            state.notified += 1;
            drop(state);
            self.inner.work.notify_one();
            return Ok(());
        }
        if state.threads >= self.inner.max_threads {
            // Every thread is busy: the task waits in the queue.
            return Ok(());
        }
        state.threads += 1;
        drop(state);
        if let Err(err) = self.start_thread() {
            let mut state = self.inner.state.lock().unwrap();
            state.threads -= 1;
            // The task stays queued for an existing thread if there is one;
            // with none at all, nothing would ever run it.
            if state.threads == 0 {
                let tasks: Vec<_> = state.queue.drain(..).collect();
                drop(state);
                eprintln!("vigil: could not start a blocking-pool thread: {err}");
                for task in tasks {
                    let raw = task.into_raw();
                    // SAFETY: converting queue references into plain ones.
                    let task: task::Task<BlockingSchedule> = unsafe { task::Task::from_raw(raw) };
                    task.shutdown(true);
                }
            }
        }
        Ok(())
    }

    /// Starts a runtime thread running `f`, with the runtime's thread name
    /// and stack size, and the user's start and stop hooks around `f`.
    pub(crate) fn spawn_thread<F>(&self, f: F) -> io::Result<std::thread::JoinHandle<()>>
    where
        F: FnOnce() + Send + 'static,
    {
        self.inner.hooks.spawn(self.thread_builder(), f)
    }

    fn thread_builder(&self) -> std::thread::Builder {
        let builder = std::thread::Builder::new().name((self.inner.thread_name)());
        match self.inner.stack_size {
            Some(size) => builder.stack_size(size),
            None => builder,
        }
    }

    /// A pool thread runs the hooks itself (see `Inner::run`): the pool
    /// does not join its threads, so shutdown, which waits on the counts,
    /// must also see the threads still in their stop hook.
    fn start_thread(&self) -> io::Result<()> {
        let inner = self.inner.clone();
        self.thread_builder().spawn(move || inner.run())?;
        Ok(())
    }
}

impl Inner {
    fn run(self: Arc<Self>) {
        self.hooks.started();
        let handle = self.handle.get().and_then(scheduler::WeakHandle::upgrade);
        let guard = handle.as_ref().map(context::set_handle);
        let mut state = self.state.lock().unwrap();
        'outer: loop {
            while let Some(task) = state.queue.pop_front() {
                drop(state);
                task.run();
                state = self.state.lock().unwrap();
            }
            if state.shutdown {
                break;
            }
            state.idle += 1;
            let idle_since = Instant::now();
            loop {
                // A wake-up handed to us must be honoured before anything
                // else, or its task would sit in the queue unseen.
                if state.notified > 0 {
                    state.notified -= 1;
                    state.idle -= 1;
                    continue 'outer;
                }
                let waited = idle_since.elapsed();
                if state.shutdown || waited >= self.keep_alive {
                    state.idle -= 1;
                    break 'outer;
                }
                state = self
                    .work
                    .wait_timeout(state, self.keep_alive - waited)
                    .unwrap()
                    .0;
            }
        }
        // Out of the pool (no more work comes to this thread), but counted
        // as stopping while the stop hook runs, so that a shutdown waiting
        // for the threads to leave waits for the hook too.
        state.threads -= 1;
        state.stopping += 1;
        drop(state);
        drop(guard);
        self.hooks.stopping();
        self.state.lock().unwrap().stopping -= 1;
        self.exited.notify_all();
    }
}

impl fmt::Debug for Spawner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingSpawner").finish_non_exhaustive()
    }
}
