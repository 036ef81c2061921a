//! The scheduler behind a [`LocalSet`](super::LocalSet): its two halves,
//! the thread's current set, and the loop that runs the tasks.

use crate::loom::sync::Mutex;
use crate::runtime::context;
use crate::runtime::scheduler::{self, inject::Inject};
use crate::runtime::task::{self, JoinHandle, Notified, OwnedTasks, RawTask, Schedule, TaskMeta};
use crate::runtime::watch::{AdoptedTasks, Watchdog};
use crate::runtime::Id;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};
use std::task::Waker;
use std::thread::ThreadId;

/// Tasks a set runs per poll before it yields to whatever drives it (a
/// runtime's default `event_interval`).
const TASKS_PER_POLL: u32 = 61;

/// Every this many tasks the remote queue is looked at first, so that tasks
/// woken from other threads are not held back by ones woken on this one.
const REMOTE_FIRST_INTERVAL: u32 = 31;

/// The owner thread's half of a set. Reached only through an `Rc`, so only
/// on the thread that created the set.
pub(super) struct Context {
    pub(super) shared: Arc<Shared>,
    /// The thread that created the set (for debug checks).
    owner: ThreadId,
    /// Tasks spawned on this thread, or woken on it while the set was
    /// current here.
    queue: RefCell<VecDeque<Notified<Arc<Shared>>>>,
    /// Tasks that yielded (woke themselves) while the set was running them:
    /// they run in the next poll of the set.
    deferred: RefCell<Vec<Notified<Arc<Shared>>>>,
    /// Tasks taken from the queues (wrapping), for `REMOTE_FIRST_INTERVAL`.
    tick: Cell<u32>,
}

/// The half of a set that other threads reach; the tasks' scheduler.
pub(crate) struct Shared {
    pub(super) id: Id,
    owned: OwnedTasks,
    /// Tasks bound to the set and not completed. Changed only on the owner
    /// thread (spawn, release); an atomic because `Shared` must be `Sync`.
    live: AtomicUsize,
    /// Tasks woken off the owner thread, or while the set was not current.
    remote: Inject<Arc<Shared>>,
    /// The waker of whatever last polled the set.
    waker: Mutex<Option<Waker>>,
    /// The runtime that first drove the set: its watchdog watches the
    /// set's tasks (unset until then, and in loom models).
    runtime: OnceLock<scheduler::Handle>,
    /// That runtime drives the set right now (set by the owner thread at
    /// every run). A set driven by another runtime later is not watched:
    /// the first one's throttle timer may be gone with it.
    watched: AtomicBool,
}

/// This thread's innermost current set.
struct Current {
    set: RefCell<Option<Rc<Context>>>,
    /// `set` was entered with `LocalSet::enter` (not being polled): work
    /// queued to it must wake its poller.
    entered: Cell<bool>,
}

crate::loom::thread_local! {
    static CURRENT: Current = const {
        Current {
            set: RefCell::new(None),
            entered: Cell::new(false),
        }
    };
}

/// Keeps a set current on this thread until dropped, then restores the
/// one before.
pub(super) struct Enter {
    prev: Option<Rc<Context>>,
    prev_entered: bool,
}

/// Makes `cx` this thread's current set: `entered` if by
/// `LocalSet::enter`, else because it is being polled or dropped. `None`
/// while the thread's locals are being torn down.
pub(super) fn enter(cx: &Rc<Context>, entered: bool) -> Option<Enter> {
    CURRENT
        .try_with(|c| Enter {
            prev: c.set.replace(Some(cx.clone())),
            prev_entered: c.entered.replace(entered),
        })
        .ok()
}

impl Drop for Enter {
    fn drop(&mut self) {
        let prev = self.prev.take();
        // Our `Rc` is dropped after the `RefCell` is released.
        let _ours = CURRENT.try_with(|c| {
            c.entered.set(self.prev_entered);
            c.set.replace(prev)
        });
    }
}

impl Context {
    pub(super) fn new() -> Context {
        Context {
            shared: Arc::new(Shared {
                id: Id::next(),
                owned: OwnedTasks::new(1),
                live: AtomicUsize::new(0),
                remote: Inject::new(),
                waker: Mutex::new(None),
                runtime: OnceLock::new(),
                watched: AtomicBool::new(false),
            }),
            owner: std::thread::current().id(),
            queue: RefCell::new(VecDeque::new()),
            deferred: RefCell::new(Vec::new()),
            tick: Cell::new(0),
        }
    }

    /// Binds and queues a new task (on the owner thread: `self` is reached
    /// through an `Rc`).
    pub(super) fn spawn<F>(&self, future: F, meta: TaskMeta) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let (task, notified, join) = task::new_task(future, self.shared.clone(), meta);
        if self.shared.owned.bind(task.raw()) {
            // The owned list keeps that reference.
            let _ = task.into_raw();
            self.shared.live.fetch_add(1, Relaxed);
            self.queue.borrow_mut().push_back(notified);
            if !self.is_polled_here() {
                self.shared.wake();
            }
        } else {
            // The set was dropped (a destructor spawned): cancel the task
            // here, on the owner thread.
            drop(notified);
            task.shutdown(true);
        }
        join
    }

    /// Whether this set is being polled (not merely entered) on this thread.
    fn is_polled_here(&self) -> bool {
        CURRENT
            .try_with(|c| {
                !c.entered.get()
                    && c.set
                        .try_borrow()
                        .is_ok_and(|s| s.as_deref().is_some_and(|s| std::ptr::eq(s, self)))
            })
            .unwrap_or(false)
    }

    /// Whether every task spawned on the set has completed.
    pub(super) fn is_empty(&self) -> bool {
        self.shared.live.load(Relaxed) == 0
    }

    /// Runs up to [`TASKS_PER_POLL`] queued tasks. Returns `true` if tasks
    /// are left to run (the caller then yields and asks to be polled again).
    ///
    /// The caller made the set current on this thread and registered its
    /// waker.
    pub(super) fn run_tasks(&self) -> bool {
        debug_assert_eq!(
            self.owner,
            std::thread::current().id(),
            "a LocalSet ran on a thread other than its own"
        );
        let watched = match self.shared.runtime.get() {
            Some(bound) => context::is_current(bound),
            None => self.adopt_runtime(),
        };
        self.shared.watched.store(watched, Relaxed);
        // The tasks are polled inside the poll of whatever drives the set.
        let _nested = context::enter_nested_polls();
        {
            let mut deferred = self.deferred.borrow_mut();
            if !deferred.is_empty() {
                self.queue.borrow_mut().extend(deferred.drain(..));
            }
        }
        for _ in 0..TASKS_PER_POLL {
            let Some(task) = self.next_task() else {
                return !self.deferred.borrow().is_empty();
            };
            // The owner thread polls (or cancels) the task: this is the one
            // place a set's task is run. No `RefCell` borrow is held: the
            // task may spawn or wake tasks of this set.
            task.run();
        }
        !self.queue.borrow().is_empty()
            || !self.deferred.borrow().is_empty()
            || !self.shared.remote.is_empty()
    }

    /// The first run inside a runtime: that runtime's watchdog watches the
    /// set's tasks from now on, and lists them in its dumps. Returns
    /// whether it does (not outside a runtime).
    #[cold]
    fn adopt_runtime(&self) -> bool {
        let Some(handle) = context::try_current() else {
            return false;
        };
        let shared: Arc<dyn AdoptedTasks> = self.shared.clone();
        handle.watchdog().adopt(Arc::downgrade(&shared));
        // Only the owner thread sets it: it was empty.
        let _ = self.shared.runtime.set(handle);
        true
    }

    fn next_task(&self) -> Option<Notified<Arc<Shared>>> {
        let tick = self.tick.get().wrapping_add(1);
        self.tick.set(tick);
        let local = || self.queue.borrow_mut().pop_front();
        if tick % REMOTE_FIRST_INTERVAL == 0 {
            self.shared.remote.pop().or_else(local)
        } else {
            local().or_else(|| self.shared.remote.pop())
        }
    }

    /// `LocalSet::drop`: cancels every task left, dropping its future on
    /// this (the owner) thread, and drops the queued references. The set
    /// must be current (a destructor that spawns locally is then refused by
    /// the closed list and its task cancelled at once).
    pub(super) fn shut_down(&self) {
        self.shared.owned.close_and_shutdown_all(true);
        let queued = std::mem::take(&mut *self.queue.borrow_mut());
        drop(queued);
        let deferred = std::mem::take(&mut *self.deferred.borrow_mut());
        drop(deferred);
        // From now on a remote wake drops its reference at once.
        self.shared.remote.close();
    }
}

impl Shared {
    /// Remembers the waker of whatever polls the set.
    pub(super) fn register(&self, waker: &Waker) {
        let mut slot = self.waker.lock().unwrap();
        if slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
            return;
        }
        let old = slot.replace(waker.clone());
        drop(slot);
        drop(old);
    }

    /// Wakes whatever polls the set (outside the lock: the waker may be a
    /// task of this very set, whose wake comes back here).
    fn wake(&self) {
        let waker = self.waker.lock().unwrap().clone();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Queues a woken task: on the owner's queue if the set is current on
    /// this thread, else on the remote queue; then wakes the set's poller
    /// unless it is polling the set right now.
    fn queue_task(self: &Arc<Self>, task: Notified<Arc<Shared>>, yielded: bool) {
        let mut task = Some(task);
        let wake = CURRENT
            .try_with(|c| {
                let Ok(set) = c.set.try_borrow() else {
                    return true;
                };
                match set.as_deref() {
                    // The set is current here, so this is its owner thread.
                    Some(cx) if Arc::ptr_eq(&cx.shared, self) => {
                        let task = task.take().expect("queued once");
                        if yielded {
                            cx.deferred.borrow_mut().push(task);
                        } else {
                            cx.queue.borrow_mut().push_back(task);
                        }
                        c.entered.get()
                    }
                    _ => true,
                }
            })
            .unwrap_or(true);
        if let Some(task) = task {
            // Once the set is dropped the queue is closed and drops the
            // reference at once (the task's future is gone by then).
            self.remote.push(task);
        }
        if wake {
            self.wake();
        }
    }
}

impl Schedule for Arc<Shared> {
    fn schedule(&self, task: Notified<Self>) {
        self.queue_task(task, false);
    }

    fn yield_now(&self, task: Notified<Self>) {
        self.queue_task(task, true);
    }

    fn release(&self, task: RawTask) -> bool {
        let linked = self.owned.remove(task);
        if linked {
            self.live.fetch_sub(1, Relaxed);
        }
        linked
    }

    /// The watchdog of the runtime that first drove the set, while that
    /// runtime drives it (only the owner thread asks: it polls the tasks).
    fn watchdog(&self) -> &Watchdog {
        match self.runtime.get() {
            Some(handle) if self.watched.load(Relaxed) => handle.watchdog(),
            _ => Watchdog::off(),
        }
    }
}

impl AdoptedTasks for Shared {
    fn for_each_owned(&self, f: &mut dyn FnMut(&OwnedTasks)) {
        f(&self.owned);
    }
}

/// Spawns on the innermost set current on this thread (being driven, or
/// entered), if any; otherwise hands the future back.
pub(crate) fn spawn_on_current<F>(
    future: F,
    meta: TaskMeta,
) -> Result<JoinHandle<F::Output>, (F, TaskMeta)>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let set = CURRENT
        .try_with(|c| c.set.try_borrow().ok().and_then(|s| s.clone()))
        .ok()
        .flatten();
    match set {
        Some(set) => Ok(set.spawn(future, meta)),
        None => Err((future, meta)),
    }
}
