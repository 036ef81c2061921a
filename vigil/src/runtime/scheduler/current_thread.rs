//! The current-thread scheduler: every task runs on the thread that calls
//! `block_on`.
//!
//! The run queue is a plain `VecDeque` owned by the [`Core`]; only the thread
//! holding the core touches it, so a wake from inside a task is a push with
//! no atomics. Wakes from other threads go to the injection queue and unpark
//! the driver. Because tasks never leave the driving thread, this scheduler
//! can also run `!Send` futures (`spawn_local`), which are bound to the first
//! thread that spawns one.

use super::inject::{Inject, CHECK_BATCH};
use crate::driver::{self, Driver};
use crate::runtime::blocking;
use crate::runtime::config::Config;
use crate::runtime::context;
use crate::runtime::metrics::WorkerMetrics;
use crate::runtime::task::{self, JoinHandle, Notified, OwnedTasks, RawTask, Schedule, TaskMeta};
use crate::runtime::watch::block_on::BlockOnWatch;
use crate::runtime::watch::monitor::{Monitor, PollSlot, Supervised};
use crate::runtime::watch::Watchdog;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll, Wake, Waker};
use std::thread::{Thread, ThreadId};
use std::time::Duration;

/// Shared state of a current-thread runtime.
pub(crate) struct Handle {
    inject: Inject<Arc<Handle>>,
    owned: OwnedTasks,
    owned_local: OwnedTasks,
    pub(crate) driver: Arc<driver::Handle>,
    pub(crate) blocking: blocking::Spawner,
    config: Config,
    /// The core, when no thread is driving the scheduler.
    core: Mutex<Option<Box<Core>>>,
    /// Threads in `block_on` waiting for the core to come free.
    core_waiters: Mutex<Vec<Thread>>,
    /// The thread `!Send` tasks are bound to, once one was spawned.
    local_owner: OnceLock<ThreadId>,
    pub(crate) watchdog: Watchdog,
    monitor: OnceLock<Monitor>,
    /// The poll in progress on whichever thread holds the core.
    poll_slot: Arc<PollSlot>,
    /// Length of the run queue at the last driver turn (for `Handle::metrics`).
    queue_depth: AtomicUsize,
}

/// What the driving thread owns.
pub(crate) struct Core {
    tasks: VecDeque<Notified<Arc<Handle>>>,
    /// Tasks that yielded (`yield_now`, or out of budget): they run again
    /// only after the next driver turn, so I/O and timers get in first (a
    /// turn the driver skips because the last one is recent counts: see
    /// `driver::RECENT_TURN`).
    deferred: Vec<Notified<Arc<Handle>>>,
    driver: Option<Driver>,
    tick: u32,
}

/// The scheduler context of the driving thread.
pub(crate) struct Context {
    handle: Arc<Handle>,
    core: RefCell<Option<Box<Core>>>,
}

/// Schedules `!Send` tasks: same queues, separate owned list.
#[derive(Clone)]
pub(crate) struct LocalScheduler(Arc<Handle>);

impl Handle {
    pub(crate) fn new(
        driver: Driver,
        driver_handle: Arc<driver::Handle>,
        blocking: blocking::Spawner,
        config: Config,
        watchdog: Watchdog,
    ) -> Arc<Handle> {
        Arc::new(Handle {
            inject: Inject::new(),
            owned: OwnedTasks::new(1),
            owned_local: OwnedTasks::new(1),
            driver: driver_handle,
            blocking,
            config,
            core: Mutex::new(Some(Box::new(Core {
                tasks: VecDeque::with_capacity(64),
                // As many as the run queue starts with: the first yields
                // queue without allocating.
                deferred: Vec::with_capacity(64),
                driver: Some(driver),
                tick: 0,
            }))),
            core_waiters: Mutex::new(Vec::new()),
            local_owner: OnceLock::new(),
            watchdog,
            monitor: OnceLock::new(),
            poll_slot: Arc::new(PollSlot::new(0)),
            queue_depth: AtomicUsize::new(0),
        })
    }

    /// Starts the blocked-poll monitor if the watchdog wants one.
    pub(crate) fn start_monitor(self: &Arc<Self>, thread_name: String) {
        if let Some(monitor) = Monitor::start(self, thread_name) {
            monitor.watch(self.poll_slot.clone());
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

    /// Spawns a `!Send` future. The caller checked that this thread drives
    /// the scheduler.
    pub(crate) fn spawn_local<F>(
        self: &Arc<Self>,
        future: F,
        meta: TaskMeta,
    ) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let owner = *self.local_owner.get_or_init(|| std::thread::current().id());
        assert_eq!(
            owner,
            std::thread::current().id(),
            "vigil: this current-thread runtime already runs `spawn_local` tasks bound to another \
             thread; spawn local tasks only from that thread"
        );
        task::bind_and_schedule(
            &self.owned_local,
            future,
            LocalScheduler(self.clone()),
            meta,
        )
    }

    fn schedule_task(self: &Arc<Self>, task: Notified<Arc<Handle>>, is_yield: bool) {
        context::with_scheduler(|cx| {
            if let Some(super::Context::CurrentThread(cx)) = cx {
                if Arc::ptr_eq(&cx.handle, self) {
                    if let Some(core) = cx.core.borrow_mut().as_mut() {
                        if is_yield {
                            core.deferred.push(task);
                        } else {
                            core.tasks.push_back(task);
                        }
                        return;
                    }
                }
            }
            self.inject.push(task);
            self.driver.unpark();
        })
    }

    fn take_core(&self) -> Option<Box<Core>> {
        self.core.lock().unwrap().take()
    }

    fn release_core(&self, core: Box<Core>) {
        *self.core.lock().unwrap() = Some(core);
        for waiter in self.core_waiters.lock().unwrap().drain(..) {
            waiter.unpark();
        }
    }

    /// Runs `future` to completion on this thread, driving the scheduler's
    /// tasks while it waits.
    #[track_caller]
    pub(crate) fn block_on<F: Future>(self: &Arc<Self>, future: F) -> F::Output {
        let site = Location::caller();
        let _driving = context::enter_driving();
        let _guard = context::set_handle(&super::Handle::CurrentThread(self.clone()));
        if let Some(&owner) = self.local_owner.get() {
            assert_eq!(
                owner,
                std::thread::current().id(),
                "vigil: `block_on` was called from another thread than the one this runtime's \
                 `spawn_local` tasks are bound to"
            );
        }
        let mut future = std::pin::pin!(future);
        let thread_waker = std::sync::Arc::new(BlockOnWaker {
            woken: AtomicBool::new(true),
            unpark: UnparkTarget::Thread(std::thread::current()),
        });
        loop {
            if let Some(core) = self.take_core() {
                return self.run_with_core(core, future.as_mut(), site);
            }
            // Another thread drives the scheduler. Poll our own future, and
            // take the core over as soon as it is released.
            self.core_waiters
                .lock()
                .unwrap()
                .push(std::thread::current());
            if self.core.lock().unwrap().is_some() {
                continue;
            }
            if thread_waker.woken.swap(false, Ordering::AcqRel) {
                let waker = Waker::from(thread_waker.clone());
                let mut cx = TaskContext::from_waker(&waker);
                if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                    return out;
                }
            }
            std::thread::park();
        }
    }

    fn run_with_core<F: Future>(
        self: &Arc<Self>,
        core: Box<Core>,
        future: Pin<&mut F>,
        site: &'static Location<'static>,
    ) -> F::Output {
        let cx = super::Context::CurrentThread(Context {
            handle: self.clone(),
            core: RefCell::new(Some(core)),
        });
        // Returns the core even if the future panics.
        struct Release<'a>(&'a super::Context);
        impl Drop for Release<'_> {
            fn drop(&mut self) {
                let super::Context::CurrentThread(cx) = self.0 else {
                    unreachable!()
                };
                if let Some(core) = cx.core.borrow_mut().take() {
                    cx.handle.release_core(core);
                }
            }
        }
        let _release = Release(&cx);
        let _slot = context::set_poll_slot(self.poll_slot.clone());
        let super::Context::CurrentThread(inner) = &cx else {
            unreachable!()
        };
        context::set_scheduler(&cx, || self.run(inner, future, site))
    }

    /// The `block_on` loop: polls `future` (the watchdog watching it as
    /// the future of the `block_on` called at `site`) whenever it is woken,
    /// runs a batch of tasks, and parks in the driver.
    fn run<F: Future>(
        self: &Arc<Self>,
        cx: &Context,
        mut future: Pin<&mut F>,
        site: &'static Location<'static>,
    ) -> F::Output {
        let block_on_waker = std::sync::Arc::new(BlockOnWaker {
            woken: AtomicBool::new(true),
            unpark: UnparkTarget::Driver(self.driver.clone()),
        });
        let waker = Waker::from(block_on_waker.clone());
        let mut task_cx = TaskContext::from_waker(&waker);
        let mut watch = BlockOnWatch::new(&self.watchdog, site);
        let event_interval = self.config.event_interval;
        loop {
            if block_on_waker.woken.swap(false, Ordering::AcqRel) {
                // The block_on future gets a budget like a task (in
                // `watch.poll`), so an always-ready resource in it cannot
                // starve the tasks.
                let slot = Some(&*self.poll_slot);
                let woken = &block_on_waker.woken;
                if let Poll::Ready(out) = watch.poll(slot, future.as_mut(), &mut task_cx, woken) {
                    return out;
                }
                // `block_on_waker` and `waker` are this loop's own references.
                watch.check_lost_waker(&block_on_waker, 2, &block_on_waker.woken);
            }
            let mut ran = 0;
            // Run a batch of tasks even if the block_on future was woken
            // meanwhile: a future that keeps yielding must not starve them.
            while ran < event_interval {
                let task = {
                    let mut core = cx.core.borrow_mut();
                    let core = core.as_mut().expect("core missing");
                    core.tick = core.tick.wrapping_add(1);
                    self.next_task(core)
                };
                let Some(task) = task else { break };
                task.run();
                ran += 1;
            }
            let timeout = if ran == event_interval || block_on_waker.woken.load(Ordering::Acquire) {
                // Still busy: let I/O and timers in, without sleeping.
                Some(Duration::ZERO)
            } else {
                None
            };
            self.park(cx, timeout);
        }
    }

    fn next_task(&self, core: &mut Core) -> Option<Notified<Arc<Handle>>> {
        if core.tick % self.config.global_queue_interval == 0 {
            // A small batch, not one task (see `CHECK_BATCH`): with a local
            // queue that never empties, one task per interval would leave
            // the last of many remote wakes waiting `len * interval` ticks.
            // The rest of the batch queues behind the local tasks.
            let mut first = None;
            self.inject.pop_n(CHECK_BATCH, |task| match first {
                None => first = Some(task),
                Some(_) => core.tasks.push_back(task),
            });
            first.or_else(|| core.tasks.pop_front())
        } else {
            core.tasks.pop_front().or_else(|| self.inject.pop())
        }
    }

    fn park(&self, cx: &Context, timeout: Option<Duration>) {
        let (mut driver, timeout) = {
            let mut core = cx.core.borrow_mut();
            let core = core.as_mut().expect("core missing");
            if timeout.is_none() && !core.tasks.is_empty() {
                return;
            }
            let busy = !core.deferred.is_empty() || !self.inject.is_empty();
            let timeout = if busy { Some(Duration::ZERO) } else { timeout };
            (core.driver.take().expect("driver missing"), timeout)
        };
        // Timers and I/O fired here wake tasks, which land on `core.tasks`:
        // the core must stay reachable (not borrowed) while parked.
        let idles = timeout != Some(Duration::ZERO);
        if idles {
            self.poll_slot.parking();
            self.config.hooks.before_park();
        }
        driver.park(&self.driver, timeout);
        if idles {
            self.poll_slot.unparked();
            self.config.hooks.after_unpark();
        }
        self.watchdog.refresh_clock();
        if let Some(monitor) = self.monitor.get() {
            monitor.notify_active(&self.poll_slot);
        }
        if let Some(core) = cx.core.borrow_mut().as_mut() {
            self.queue_depth
                .store(core.tasks.len() + core.deferred.len(), Ordering::Relaxed);
            core.driver = Some(driver);
            // The driver has had its turn: the yielded tasks may run again.
            // (Drained, not taken: the list keeps its capacity for the next
            // round of yields instead of growing again from nothing.)
            core.tasks.extend(core.deferred.drain(..));
        }
    }

    /// Cancels every task and drops its future, on this thread, with this
    /// runtime as the current one (a destructor may call `spawn`; its task is
    /// cancelled at once).
    pub(crate) fn shutdown(self: &Arc<Self>) {
        let _guard = context::set_handle(&super::Handle::CurrentThread(self.clone()));
        let core = self.take_core();
        let on_owner_thread = self
            .local_owner
            .get()
            .is_none_or(|owner| *owner == std::thread::current().id());
        let cx = super::Context::CurrentThread(Context {
            handle: self.clone(),
            core: RefCell::new(core),
        });
        context::set_scheduler(&cx, || {
            self.owned.close_and_shutdown_all(true);
            self.owned_local.close_and_shutdown_all(on_owner_thread);
        });
        let super::Context::CurrentThread(cx) = cx else {
            unreachable!()
        };
        if let Some(mut core) = cx.core.into_inner() {
            core.tasks.clear();
            core.deferred.clear();
            *self.core.lock().unwrap() = Some(core);
        }
        self.inject.close();
        self.watchdog.shutdown();
        self.driver.shutdown();
        if let Some(monitor) = self.monitor.get() {
            monitor.shutdown();
        }
    }

    pub(crate) fn worker_metrics(&self) -> WorkerMetrics {
        WorkerMetrics {
            polls: self.poll_slot.polls(),
            parks: self.poll_slot.parks.load(Ordering::Relaxed),
            unparks: self.poll_slot.unparks.load(Ordering::Relaxed),
            busy: Duration::from_nanos(self.poll_slot.busy_nanos.load(Ordering::Relaxed)),
            steals: 0,
            overflows: 0,
            local_queue_depth: self.queue_depth.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn global_queue_depth(&self) -> usize {
        self.inject.len()
    }

    /// Number of live tasks.
    pub(crate) fn num_tasks(&self) -> usize {
        self.owned.len() + self.owned_local.len()
    }
}

impl Schedule for Arc<Handle> {
    fn schedule(&self, task: Notified<Self>) {
        self.schedule_task(task, false);
    }

    fn yield_now(&self, task: Notified<Self>) {
        self.schedule_task(task, true);
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
        f(&self.owned_local);
    }

    fn watchdog(&self) -> &Watchdog {
        &self.watchdog
    }

    /// One thread runs every task: there is nobody to hand its work to.
    fn rescue(self: &Arc<Self>, _worker: usize, _seq: u64, _all_blocked: bool) {}

    fn take_over_stash(&self, _worker: usize, _seq: u64) {}
}

impl Schedule for LocalScheduler {
    fn schedule(&self, task: Notified<Self>) {
        // SAFETY: the reference is handed over unchanged; the scheduler type
        // parameter only selects `release`, which the vtable remembers.
        let task = unsafe { Notified::from_raw(task.into_raw()) };
        self.0.schedule_task(task, false);
    }

    fn yield_now(&self, task: Notified<Self>) {
        // SAFETY: as in `schedule`.
        let task = unsafe { Notified::from_raw(task.into_raw()) };
        self.0.schedule_task(task, true);
    }

    fn release(&self, task: RawTask) -> bool {
        self.0.owned_local.remove(task)
    }

    fn watchdog(&self) -> &Watchdog {
        &self.0.watchdog
    }
}

impl Context {
    pub(crate) fn handle(&self) -> &Arc<Handle> {
        &self.handle
    }

    /// `true` while this thread holds the core (inside `block_on`).
    pub(crate) fn has_core(&self) -> bool {
        self.core.borrow().is_some()
    }
}

enum UnparkTarget {
    Driver(Arc<driver::Handle>),
    Thread(Thread),
}

/// The waker of the future passed to `block_on`.
struct BlockOnWaker {
    woken: AtomicBool,
    unpark: UnparkTarget,
}

impl Wake for BlockOnWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref()
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        if !self.woken.swap(true, Ordering::AcqRel) {
            match &self.unpark {
                UnparkTarget::Driver(d) => d.unpark(),
                UnparkTarget::Thread(t) => t.unpark(),
            }
        }
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CurrentThread").finish_non_exhaustive()
    }
}
