//! Worker threads: what a worker owns ([`Core`]), what others may touch of
//! it ([`Remote`]), scheduling from inside and outside the runtime, and
//! shutdown. The loop each worker thread runs is in [`run_loop`]; how a
//! worker hands its core on to block is in [`block_in_place`].

// Cores are boxed so that handing one between the run loop, the thread-local
// context and the shutdown list moves a pointer, not the whole core.
#![allow(clippy::vec_box)]

pub(crate) mod block_in_place;
mod replacement;
mod run_loop;

use super::backlog::Backlog;
use super::idle::Idle;
use super::park::{self, Parker, SharedDriver, Unparker};
use super::queue::{self, Local, Steal};
use super::stash::{Contents, Stash};
use crate::driver::{self, Driver};
use crate::runtime::blocking;
use crate::runtime::config::Config;
use crate::runtime::context;
use crate::runtime::metrics::WorkerMetrics;
use crate::runtime::scheduler::inject::Inject;
use crate::runtime::task::{self, JoinHandle, Notified, OwnedTasks, RawTask, Schedule, TaskMeta};
use crate::runtime::watch::monitor::{Monitor, PollSlot, Supervised};
use crate::runtime::watch::Watchdog;
use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

type Task = Notified<Arc<Handle>>;

/// Shared state of a multi-thread runtime.
pub(crate) struct Handle {
    remotes: Box<[Remote]>,
    inject: Inject<Arc<Handle>>,
    idle: Idle,
    owned: OwnedTasks,
    shared_driver: Arc<SharedDriver>,
    pub(crate) driver: Arc<driver::Handle>,
    pub(crate) blocking: blocking::Spawner,
    config: Config,
    is_shutdown: AtomicBool,
    /// Cores handed back by exiting workers; the last one finishes shutdown.
    exited_cores: Mutex<Vec<Box<Core>>>,
    pub(crate) watchdog: Watchdog,
    monitor: OnceLock<Monitor>,
    /// Replacement workers running now (see `replacement`).
    replacements: AtomicUsize,
    /// Index for the next replacement's poll slot (after the workers').
    next_core_index: AtomicUsize,
    /// Threads started to take over a core from a `block_in_place`; the
    /// runtime joins them at shutdown, as it joins the workers.
    handoff_threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
}

/// What other workers (and the watchdog's monitor) may touch of a worker.
struct Remote {
    steal: Steal<Arc<Handle>>,
    unpark: Unparker,
    /// The poll in progress on this worker, watched by the monitor.
    poll_slot: Arc<PollSlot>,
    /// The worker's LIFO slot and yielded tasks, which the monitor takes
    /// over when the worker blocks.
    stash: Arc<Stash<Task>>,
}

/// What a worker owns.
pub(crate) struct Core {
    index: usize,
    tick: u32,
    lifo_polls: u32,
    run_queue: Local<Arc<Handle>>,
    /// The LIFO slot and the tasks that yielded (`yield_now`, or out of
    /// budget; requeued only after the next driver turn, so I/O and timers
    /// get in first). Reached through [`Core::stash_from_wake`] and
    /// [`Core::own_stash`].
    stash: Arc<Stash<Task>>,
    is_searching: bool,
    /// An empty list with capacity, swapped with the stash's yielded tasks
    /// at each driver turn so that neither list grows again from nothing.
    spare_deferred: Vec<Task>,
    /// Set while this worker sleeps in its parker: it is still listed as a
    /// sleeper then, so tasks its driver turn wakes must not "wake a
    /// sleeper" (that would pick itself and write its own eventfd); `park`
    /// wakes a helper once afterwards if it has work to share.
    parked: bool,
    parker: Option<Parker>,
    rand: u32,
    /// Whether tasks woken into the run queue are worth a sibling's help.
    backlog: Backlog,
    /// Where each worker's queue ended when this one went to sleep beside
    /// a busy one (see `run_loop`'s `queue_waited`).
    queue_marks: Vec<u64>,
    /// The monitor's slot for the polls run with this core (for a worker,
    /// its `Remote`'s). It goes wherever the core goes, so the slot keeps a
    /// single writer when `block_in_place` moves the core to another thread.
    slot: Arc<PollSlot>,
    /// Set on a replacement's core: the blocked polls it stands in for, by
    /// worker (see `replacement`).
    stands_in_for: Option<Box<[u64]>>,
}

/// How a task came to be scheduled, which decides whether a sleeping
/// worker is woken for it (see `backlog`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Arrival {
    /// Woken by an event, a timer or another task.
    Woken,
    /// Just spawned.
    Spawned,
    /// Woke itself during its poll (`yield_now`, or out of budget).
    Yielded,
}

impl Core {
    fn new(
        index: usize,
        run_queue: Local<Arc<Handle>>,
        parker: Option<Parker>,
        stash: Arc<Stash<Task>>,
        slot: Arc<PollSlot>,
    ) -> Core {
        Core {
            index,
            tick: 0,
            lifo_polls: 0,
            run_queue,
            stash,
            spare_deferred: Vec::with_capacity(super::stash::YIELDED_CAPACITY),
            is_searching: false,
            parked: false,
            parker,
            rand: (index as u32).wrapping_mul(0x9E37_79B9) | 1,
            backlog: Backlog::new(),
            queue_marks: Vec::new(),
            slot,
            stands_in_for: None,
        }
    }

    /// The owner's access to its stash from a wake, which may come from
    /// inside a poll (the polled task waking or spawning a task, or being
    /// rescheduled) or from a driver turn. `None` while the watchdog's
    /// monitor is taking the stash over. `f` must not drop tasks (a drop
    /// can wake, and wakes come back here).
    #[inline]
    fn stash_from_wake<R>(&self, f: impl FnOnce(&mut Contents<Task>) -> R) -> Option<R> {
        // SAFETY: whoever holds a core is its stash's only owner, and stash
        // accesses do not nest (`f` neither wakes nor drops).
        unsafe { self.stash.guarded(f) }
    }

    /// The owner's access to its stash between polls (the run loop, driver
    /// turns, parking, shutdown): no poll runs on this thread, and
    /// `run_task` settled the stash after the last one.
    #[inline]
    fn own_stash<R>(&self, f: impl FnOnce(&mut Contents<Task>) -> R) -> R {
        // SAFETY: whoever holds a core is its stash's only owner; the
        // callers are all outside polls, after `run_task`'s `settle`.
        unsafe { self.stash.between_polls(f) }
    }

    fn take_lifo(&self) -> Option<Task> {
        self.own_stash(|s| s.lifo.take())
    }

    fn has_lifo(&self) -> bool {
        self.own_stash(|s| s.lifo.is_some())
    }

    fn has_deferred(&self) -> bool {
        self.own_stash(|s| !s.deferred.is_empty())
    }

    fn take_deferred(&self) -> Vec<Task> {
        self.own_stash(|s| std::mem::take(&mut s.deferred))
    }
}

/// A fresh core index for a replacement worker (never a worker's).
fn bump_core_index(handle: &Handle) -> usize {
    handle.next_core_index.fetch_add(1, Ordering::Relaxed)
}

/// The scheduler context of a worker thread.
pub(crate) struct Context {
    handle: Arc<Handle>,
    core: RefCell<Option<Box<Core>>>,
}

impl Handle {
    pub(crate) fn new(
        num_workers: usize,
        driver: Driver,
        driver_handle: Arc<driver::Handle>,
        blocking: blocking::Spawner,
        config: Config,
        watchdog: Watchdog,
    ) -> (Arc<Handle>, Vec<Box<Core>>) {
        if let Err(err) = driver_handle.io.enable_worker_epolls(num_workers) {
            // Out of descriptors or kernel memory: every worker shares the
            // one epoll, which works the same, only slower on loopback.
            tracing::warn!("vigil: no epoll per worker ({err}); sharing one");
        }
        let shared_driver = Arc::new(SharedDriver::new(driver, driver_handle.clone()));
        let mut remotes = Vec::with_capacity(num_workers);
        let mut cores = Vec::with_capacity(num_workers);
        for index in 0..num_workers {
            let (steal, run_queue) = queue::local();
            let (parker, unpark) = park::pair(shared_driver.clone());
            let stash = Arc::new(Stash::new());
            let poll_slot = Arc::new(PollSlot::new(index));
            remotes.push(Remote {
                steal,
                unpark,
                poll_slot: poll_slot.clone(),
                stash: stash.clone(),
            });
            cores.push(Box::new(Core::new(
                index,
                run_queue,
                Some(parker),
                stash,
                poll_slot,
            )));
        }
        let handle = Arc::new(Handle {
            remotes: remotes.into_boxed_slice(),
            inject: Inject::new(),
            idle: Idle::new(num_workers),
            owned: OwnedTasks::new(num_workers),
            shared_driver,
            driver: driver_handle,
            blocking,
            config,
            is_shutdown: AtomicBool::new(false),
            exited_cores: Mutex::new(Vec::with_capacity(num_workers)),
            watchdog,
            monitor: OnceLock::new(),
            replacements: AtomicUsize::new(0),
            next_core_index: AtomicUsize::new(num_workers),
            handoff_threads: Mutex::new(Vec::new()),
        });
        (handle, cores)
    }

    /// Starts the blocked-poll monitor (if the watchdog wants one) and shows
    /// it every worker's poll slot.
    pub(crate) fn start_monitor(self: &Arc<Self>, thread_name: String) {
        if let Some(monitor) = Monitor::start(self, thread_name) {
            for remote in self.remotes.iter() {
                monitor.watch(remote.poll_slot.clone());
            }
            let _ = self.monitor.set(monitor);
        }
    }

    #[track_caller]
    pub(crate) fn spawn<F>(self: &Arc<Self>, future: F, meta: TaskMeta) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        task::bind_and_schedule(&self.owned, future, self.clone(), meta)
    }

    fn schedule_task(self: &Arc<Self>, task: Task, arrival: Arrival) {
        context::with_scheduler(|cx| {
            if let Some(crate::runtime::scheduler::Context::MultiThread(cx)) = cx {
                if Arc::ptr_eq(&cx.handle, self) {
                    if let Some(core) = cx.core.borrow_mut().as_mut() {
                        self.schedule_local(core, task, arrival);
                        return;
                    }
                }
            }
            self.inject.push(task);
            self.notify_parked();
        })
    }

    fn schedule_local(&self, core: &mut Core, task: Task, arrival: Arrival) {
        let mut task = Some(task);
        let to_share = if arrival == Arrival::Yielded {
            core.stash_from_wake(|s| s.deferred.push(task.take().expect("task")));
            // Refused only while the stash is being taken over: the task
            // then goes where others can reach it.
            match task {
                Some(refused) => refused,
                None => return,
            }
        } else {
            match core.stash_from_wake(|s| s.lifo.replace(task.take().expect("task"))) {
                Some(Some(prev)) => prev,
                // Only the LIFO slot holds work, which nobody can steal.
                Some(None) => return,
                None => task.take().expect("refused task"),
            }
        };
        core.run_queue.push_back(to_share, &self.inject);
        if core.parked {
            return;
        }
        if arrival == Arrival::Woken && !core.backlog.worth_help(core.run_queue.len()) {
            return;
        }
        self.notify_parked();
    }

    fn notify_parked(&self) {
        if let Some(index) = self.idle.worker_to_notify() {
            self.remotes[index].unpark.unpark();
        }
    }

    fn notify_if_work_pending(&self) {
        let pending = !self.inject.is_empty() || self.remotes.iter().any(|r| !r.steal.is_empty());
        if pending {
            self.notify_parked();
        }
    }

    /// Asks the workers to stop; the last one to stop cancels every task.
    pub(crate) fn shutdown(&self) {
        if self.is_shutdown.swap(true, Ordering::SeqCst) {
            return;
        }
        for remote in self.remotes.iter() {
            remote.unpark.unpark();
        }
    }

    fn is_shutdown(&self) -> bool {
        self.is_shutdown.load(Ordering::Acquire)
    }

    fn finish_shutdown(&self, mut core: Box<Core>) {
        // Drop whatever this worker still had queued.
        drop(core.take_lifo());
        drop(core.take_deferred());
        while let Some(task) = core.run_queue.pop() {
            drop(task);
        }
        let mut exited = self.exited_cores.lock().unwrap();
        exited.push(core);
        if exited.len() != self.remotes.len() {
            return;
        }
        drop(exited);
        // Every worker has stopped: no task is running anywhere. Cancel them
        // all here, on a runtime thread.
        self.owned.close_and_shutdown_all(true);
        self.inject.close();
        self.watchdog.shutdown();
        self.driver.shutdown();
        if let Some(monitor) = self.monitor.get() {
            monitor.shutdown();
        }
    }

    /// Number of live tasks.
    pub(crate) fn num_tasks(&self) -> usize {
        self.owned.len()
    }

    pub(crate) fn num_workers(&self) -> usize {
        self.remotes.len()
    }

    pub(crate) fn worker_metrics(&self) -> Vec<WorkerMetrics> {
        self.remotes
            .iter()
            .map(|r| WorkerMetrics {
                polls: r.poll_slot.polls(),
                parks: r.poll_slot.parks.load(Ordering::Relaxed),
                unparks: r.poll_slot.unparks.load(Ordering::Relaxed),
                busy: std::time::Duration::from_nanos(
                    r.poll_slot.busy_nanos.load(Ordering::Relaxed),
                ),
                steals: r.poll_slot.steals.load(Ordering::Relaxed),
                overflows: r.steal.overflows(),
                local_queue_depth: r.steal.len(),
            })
            .collect()
    }

    pub(crate) fn global_queue_depth(&self) -> usize {
        self.inject.len()
    }
}

impl Schedule for Arc<Handle> {
    fn schedule(&self, task: Notified<Self>) {
        self.schedule_task(task, Arrival::Woken);
    }

    fn schedule_new(&self, task: Notified<Self>) {
        self.schedule_task(task, Arrival::Spawned);
    }

    fn yield_now(&self, task: Notified<Self>) {
        self.schedule_task(task, Arrival::Yielded);
    }

    fn release(&self, task: RawTask) -> bool {
        self.owned.remove(task)
    }

    fn watchdog(&self) -> &Watchdog {
        &self.watchdog
    }
}

impl Supervised for Handle {
    fn for_each_owned(&self, f: &mut dyn FnMut(&OwnedTasks)) {
        f(&self.owned);
    }

    fn watchdog(&self) -> &Watchdog {
        &self.watchdog
    }

    /// Wakes a sleeping worker even if others are searching: it steals the
    /// blocked worker's queue and, when it parks again, takes over the
    /// driver (timers and I/O) the blocked worker may have left.
    ///
    /// If every worker is blocked there is nobody to wake: a replacement
    /// worker is started instead (see `replacement`).
    ///
    /// First, the blocked worker's LIFO slot and yielded tasks go to the
    /// global queue (see `stash`).
    fn rescue(self: &Arc<Self>, worker: usize, seq: u64, all_blocked: bool) {
        self.take_over_stash(worker, seq);
        // Its I/O too: others may harvest its epoll until it runs again.
        // Harvested here once, since the notification that its epoll had
        // events may already have been passed over while it looked busy.
        self.driver.io.set_worker_idle(worker, true);
        if self.driver.io.harvest_worker(worker) > 0 {
            self.notify_parked();
        }
        if let Some(index) = self.idle.worker_to_rescue() {
            self.remotes[index].unpark.unpark();
        } else if all_blocked {
            self.start_replacement();
        }
    }

    /// The driver sat vacant for a whole sample (its last holder went on to
    /// a long poll, the other workers sleep on their condition variables):
    /// wake one of them, which parks again straight away, in the driver.
    fn tend_driver(&self) {
        if self.shared_driver.vacant_since_last_look() {
            if let Some(index) = self.idle.worker_to_rescue() {
                self.remotes[index].unpark.unpark();
            }
        }
    }

    fn take_over_stash(&self, worker: usize, seq: u64) {
        // A replacement worker's stash is its own: nobody takes it over.
        let Some(remote) = self.remotes.get(worker) else {
            return;
        };
        let tasks = remote.stash.rescue(|| remote.poll_slot.seq() == seq);
        if !tasks.is_empty() {
            self.inject.push_batch(tasks.into_iter());
            self.notify_parked();
        }
    }
}

/// Starts one thread per core. On failure the threads already started are
/// stopped and joined before the error is returned.
/// The threads are named, sized and hooked as the blocking pool's are.
pub(crate) fn launch(
    handle: &Arc<Handle>,
    cores: Vec<Box<Core>>,
) -> io::Result<Vec<std::thread::JoinHandle<()>>> {
    let mut threads = Vec::with_capacity(cores.len());
    for core in cores {
        let worker_handle = handle.clone();
        match handle
            .blocking
            .spawn_thread(move || run_loop::run(worker_handle, core))
        {
            Ok(thread) => threads.push(thread),
            Err(err) => {
                handle.shutdown();
                for thread in threads {
                    let _ = thread.join();
                }
                // No task was spawned yet; release the driver's wakers.
                handle.driver.shutdown();
                return Err(err);
            }
        }
    }
    Ok(threads)
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MultiThread")
            .field("workers", &self.remotes.len())
            .finish_non_exhaustive()
    }
}
