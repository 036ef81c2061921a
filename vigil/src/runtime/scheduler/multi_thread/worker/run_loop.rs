//! The loop a worker thread runs: pick the next task (LIFO slot, local
//! queue, a share of the global queue), otherwise steal, otherwise turn the
//! driver for yielded tasks, otherwise park; and every `event_interval`
//! ticks a non-blocking driver turn so I/O and timers get in while every
//! worker is busy.
//!
//! A thread runs the loop only while it holds its core: a task that calls
//! `block_in_place` gives the core to another thread (which starts this
//! loop with it), and the thread it leaves ends its loop after that poll.

use super::{Context, Core, Handle, Task};
use crate::runtime::context;
use crate::runtime::scheduler::inject::CHECK_BATCH;
use crate::runtime::scheduler::multi_thread::queue;
use crate::runtime::watch::monitor::PollSlot;
use std::cell::RefCell;
use std::sync::Arc;

/// How many times in a row the LIFO slot may preempt the run queue.
const MAX_LIFO_POLLS: u32 = 3;
/// Ticks between two notes of the CPU a worker runs on (for `placement`).
const CPU_CHECK_INTERVAL: u32 = 16;

/// A thread's life with `core`: a worker's loop, or a replacement's (see
/// `replacement`) if the core is a replacement's.
pub(super) fn run(handle: Arc<Handle>, core: Box<Core>) {
    let _driving = context::enter_driving();
    let _current = context::set_handle(&crate::runtime::scheduler::Handle::MultiThread(
        handle.clone(),
    ));
    let _slot = context::set_poll_slot(core.slot.clone());
    let cx = crate::runtime::scheduler::Context::MultiThread(Context {
        handle,
        core: RefCell::new(None),
    });
    let crate::runtime::scheduler::Context::MultiThread(inner) = &cx else {
        unreachable!()
    };
    context::set_scheduler(&cx, || {
        if core.stands_in_for.is_some() {
            inner.run_replacement(core)
        } else {
            inner.run(core)
        }
    });
}

impl Context {
    fn run(&self, mut core: Box<Core>) {
        let handle = &*self.handle;
        let event_interval = handle.config.event_interval;
        let io = &handle.driver.io;
        io.set_current_worker(core.index);
        io.record_worker_cpu(core.index);
        while !handle.is_shutdown() {
            core.tick = core.tick.wrapping_add(1);
            if core.run_queue.len() > 0 && handle.idle.should_notify() {
                core.backlog.timed_tick(std::time::Instant::now());
            } else {
                core.backlog.untimed_tick();
            }
            if core.tick % CPU_CHECK_INTERVAL == 0 {
                io.record_worker_cpu(core.index);
            }
            if core.tick % event_interval == 0 {
                // Let I/O and due timers in even when every worker is busy.
                core = self.harvest_own(core).0;
                core = self.driver_turn(core);
            }
            if let Some(task) = self.next_task(&mut core) {
                match self.run_task(task, core) {
                    Some(kept) => core = kept,
                    // Our core went to another thread: this one is done.
                    None => return,
                }
                continue;
            }
            // Nothing queued: our own epoll first.
            let (kept, woken) = self.harvest_own(core);
            core = kept;
            if woken > 0 {
                continue;
            }
            if let Some(task) = self.steal_work(&mut core) {
                match self.run_task(task, core) {
                    Some(kept) => core = kept,
                    None => return,
                }
                continue;
            }
            if io.another_worker_busy() {
                // No task to steal: steal I/O, the events waiting in busy
                // workers' epolls.
                let (kept, woken) = self.harvest_others(core);
                core = kept;
                if woken > 0 {
                    continue;
                }
            }
            if core.has_deferred() {
                // Only yielded tasks are left: poll the driver, then run them.
                core = self.driver_turn(core);
                continue;
            }
            // About to sleep: marked idle, then one last look, so an event
            // after it is harvested by whoever hears of it (see
            // `driver::io::worker_epolls`).
            io.set_worker_idle(core.index, true);
            let (kept, woken) = self.harvest_own(core);
            core = kept;
            if woken == 0 {
                core = self.park(core);
            }
            io.set_worker_idle(core.index, false);
        }
        if core.is_searching {
            handle.idle.transition_worker_from_searching();
            core.is_searching = false;
        }
        handle.finish_shutdown(core);
    }

    /// Runs `task` (and what it puts in the LIFO slot) with `core`. Returns
    /// the core, or `None` if a `block_in_place` in a poll handed it to
    /// another thread (see `block_in_place`).
    pub(super) fn run_task(&self, task: Task, mut core: Box<Core>) -> Option<Box<Core>> {
        let handle = &*self.handle;
        if core.is_searching {
            core.is_searching = false;
            if handle.idle.transition_worker_from_searching() {
                // We were the last searcher: hand the search on, in case
                // there is more work than we can do.
                handle.notify_parked();
            }
        }
        core.lifo_polls = 0;
        *self.core.borrow_mut() = Some(core);
        task.run();
        loop {
            let mut core = self.core.borrow_mut().take()?;
            core.stash.settle();
            let Some(next) = core.take_lifo() else {
                return Some(core);
            };
            if core.lifo_polls >= MAX_LIFO_POLLS {
                core.run_queue.push_back(next, &handle.inject);
                return Some(core);
            }
            core.lifo_polls += 1;
            *self.core.borrow_mut() = Some(core);
            next.run();
        }
    }

    pub(super) fn next_task(&self, core: &mut Core) -> Option<Task> {
        let handle = &*self.handle;
        if core.tick % handle.config.global_queue_interval == 0 {
            // A small batch, not one task (see `CHECK_BATCH`).
            if let Some(task) = self.pop_inject_batch(core, CHECK_BATCH) {
                return Some(task);
            }
        }
        if let Some(task) = core.take_lifo() {
            return Some(task);
        }
        if let Some(task) = core.run_queue.pop() {
            return Some(task);
        }
        self.pop_inject_batch(core, queue::CAPACITY / 2)
    }

    /// Takes a fair share of the injection queue (its length divided by the
    /// workers, at least one task), at most `max` tasks: the first to run
    /// now, the rest into the local queue as far as it has room. A full local
    /// queue still lets one task through.
    pub(super) fn pop_inject_batch(&self, core: &mut Core, max: usize) -> Option<Task> {
        let handle = &*self.handle;
        if handle.inject.is_empty() {
            return None;
        }
        let share = handle.inject.len() / handle.remotes.len() + 1;
        let room = queue::CAPACITY - core.run_queue.len();
        let n = share.min(room + 1).min(max);
        let mut first = None;
        handle.inject.pop_n(n, |task| {
            if first.is_none() {
                first = Some(task);
            } else {
                core.run_queue.push_back(task, &handle.inject);
            }
        });
        first
    }

    fn steal_work(&self, core: &mut Core) -> Option<Task> {
        let handle = &*self.handle;
        if !core.is_searching {
            if !handle.idle.transition_worker_to_searching() {
                return None;
            }
            core.is_searching = true;
        }
        let n = handle.remotes.len();
        core.rand ^= core.rand << 13;
        core.rand ^= core.rand >> 17;
        core.rand ^= core.rand << 5;
        let start = core.rand as usize % n;
        for i in 0..n {
            let victim = (start + i) % n;
            if victim == core.index {
                continue;
            }
            if let Some(task) = handle.remotes[victim].steal.steal_into(&mut core.run_queue) {
                PollSlot::bump(&handle.remotes[core.index].poll_slot.steals);
                return Some(task);
            }
        }
        self.pop_inject_batch(core, queue::CAPACITY / 2)
    }

    /// Harvests this worker's own epoll without waiting; the tasks it wakes
    /// go to this worker's queues. Returns the core and the tasks woken.
    fn harvest_own(&self, core: Box<Core>) -> (Box<Core>, usize) {
        let mut woken = 0;
        let core = self.with_core_in_context(core, || woken = self.handle.driver.io.harvest_own());
        (core, woken)
    }

    /// Harvests the other workers' epolls for them (see
    /// `driver::io::worker_epolls`); the tasks woken go to this worker.
    fn harvest_others(&self, core: Box<Core>) -> (Box<Core>, usize) {
        let mut woken = 0;
        let core =
            self.with_core_in_context(core, || woken = self.handle.driver.io.harvest_others());
        (core, woken)
    }

    /// Runs `f` with the core reachable from this thread's context, so that
    /// tasks woken inside `f` (by the timer driver) go to this worker's
    /// queues.
    pub(super) fn with_core_in_context(&self, core: Box<Core>, f: impl FnOnce()) -> Box<Core> {
        *self.core.borrow_mut() = Some(core);
        f();
        self.core
            .borrow_mut()
            .take()
            .expect("worker core missing after a driver turn")
    }

    /// A non-blocking driver turn (I/O and due timers, unless another worker
    /// sits in the driver and handles them), after which yielded tasks are
    /// runnable again.
    pub(super) fn driver_turn(&self, core: Box<Core>) -> Box<Core> {
        let handle = &*self.handle;
        let mut core = self.with_core_in_context(core, || handle.shared_driver.maintenance());
        handle.watchdog.refresh_clock();
        let mut deferred = std::mem::take(&mut core.spare_deferred);
        core.own_stash(|s| std::mem::swap(&mut s.deferred, &mut deferred));
        if !deferred.is_empty() {
            for task in deferred.drain(..) {
                core.run_queue.push_back(task, &handle.inject);
            }
            handle.notify_parked();
        }
        core.spare_deferred = deferred;
        core
    }

    /// Notes where each other worker's queue ends now.
    fn mark_queues(&self, core: &mut Core) {
        let remotes = &self.handle.remotes;
        core.queue_marks.clear();
        core.queue_marks
            .extend(remotes.iter().map(|remote| remote.steal.mark()));
    }

    /// Whether another worker's queue still holds a task it held at the
    /// last [`mark_queues`](Self::mark_queues).
    fn queue_waited(&self, core: &Core) -> bool {
        let remotes = &self.handle.remotes;
        remotes
            .iter()
            .zip(&core.queue_marks)
            .enumerate()
            .any(|(i, (remote, &mark))| i != core.index && remote.steal.holds_since(mark))
    }

    fn park(&self, mut core: Box<Core>) -> Box<Core> {
        let handle = &*self.handle;
        let index = core.index;
        if handle
            .idle
            .transition_worker_to_parked(index, core.is_searching)
        {
            handle.notify_if_work_pending();
        }
        core.is_searching = false;
        // Work may have been injected between our last look and the state
        // change above; the pusher may have seen us as awake and woken no one.
        if !handle.inject.is_empty() && handle.idle.unpark_worker_by_id(index) {
            core.is_searching = handle.idle.transition_worker_to_searching();
            return core;
        }
        let mut parker = core.parker.take().expect("parker missing");
        let remote = &handle.remotes[index];
        remote.poll_slot.parking();
        handle.config.hooks.before_park();
        loop {
            // Tasks that timers wake while we sit in the driver land in our
            // own queue rather than the global one.
            core.parked = true;
            // Beside a worker that is awake, leave the driver to it (see
            // `park::Parker::park_beside_busy`), and note what its queue
            // holds now.
            let beside_busy = handle.idle.any_awake();
            if beside_busy {
                self.mark_queues(&mut core);
            }
            let mut watched = false;
            core = self.with_core_in_context(core, || {
                if beside_busy {
                    watched = parker.park_beside_busy();
                } else {
                    parker.park();
                }
            });
            core.parked = false;
            handle.watchdog.refresh_clock();
            if let Some(monitor) = handle.monitor.get() {
                monitor.notify_active(&remote.poll_slot);
            }
            if handle.is_shutdown() {
                break;
            }
            if !handle.idle.is_parked(index) {
                // Woken by `notify_parked`, which counted us as searching.
                core.is_searching = true;
                break;
            }
            // Woken by the driver (a timer, a time-out) or spuriously: look
            // for work, including I/O left waiting in busy workers' epolls.
            core = self.harvest_others(core).0;
            let has_local = core.has_lifo() || core.run_queue.len() > 0;
            // A task that has waited in a busy worker's queue for the whole
            // watch is worth stealing, small as that worker's backlog looked
            // (it may be in a long poll).
            let waited = watched && self.queue_waited(&core);
            if (has_local || waited || !handle.inject.is_empty())
                && handle.idle.unpark_worker_by_id(index)
            {
                core.is_searching = !has_local && handle.idle.transition_worker_to_searching();
                break;
            }
        }
        core.parker = Some(parker);
        handle.driver.io.record_worker_cpu(index);
        remote.poll_slot.unparked();
        handle.config.hooks.after_unpark();
        core.backlog.untimed_tick();
        if core.backlog.worth_help(core.run_queue.len()) {
            // Tasks woken while we slept would keep us busy a while: share
            // (see `backlog`).
            handle.notify_parked();
        }
        core
    }
}
