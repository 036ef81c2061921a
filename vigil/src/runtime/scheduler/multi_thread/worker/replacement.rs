//! Replacement workers: what keeps a multi-thread runtime running when every
//! worker is stuck in a blocking poll.
//!
//! When one worker blocks, the watchdog wakes an idle one, which steals the
//! blocked worker's queue and takes over the driver. When *all* of them
//! block there is nobody to wake, so the watchdog starts a replacement: a
//! temporary thread with a core of its own (a fresh local queue that nobody
//! steals from). It takes work from the global queue and steals from the
//! blocked workers' queues, turns the driver (timers, I/O) while idle, and
//! runs until one of the blocked workers finishes its poll. Then it hands
//! whatever it still holds to the global queue and exits. At most as many
//! replacements as workers run at once; each is watched by the monitor like
//! a worker, so a replacement that blocks in turn is reported (and
//! replaced) too.
//!
//! A replacement's core carries what it stands in for
//! (`Core::stands_in_for`), so that a task on it that calls
//! `block_in_place` can hand it to another thread like a worker's core; the
//! thread that ends the replacement, whichever it is, retires it.

use super::{bump_core_index, run_loop, Context, Core, Handle};
use crate::runtime::scheduler::multi_thread::queue;
use crate::runtime::scheduler::multi_thread::stash::Stash;
use crate::runtime::watch::monitor::PollSlot;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// How long an idle replacement waits in the driver before checking
/// whether the blocked workers are back.
const IDLE_WAIT: Duration = Duration::from_millis(5);

impl Handle {
    /// Starts a replacement worker unless the limit is reached. Called by
    /// the watchdog's monitor when every worker is blocked.
    pub(super) fn start_replacement(self: &Arc<Self>) {
        let running = self.replacements.fetch_add(1, Ordering::AcqRel);
        if running >= self.remotes.len() || self.is_shutdown() {
            self.replacements.fetch_sub(1, Ordering::AcqRel);
            return;
        }
        // The blocked polls, by worker: the replacement exits once any of
        // them has moved on.
        let stuck: Box<[u64]> = self.remotes.iter().map(|r| r.poll_slot.seq()).collect();
        let index = bump_core_index(self);
        let slot = Arc::new(PollSlot::new(index));
        if let Some(monitor) = self.monitor.get() {
            monitor.watch(slot.clone());
        }
        // Our queue's stealing half is dropped: nobody knows this core. So
        // is our stash: no monitor takes over a replacement's LIFO slot.
        let (_, run_queue) = queue::local();
        let mut core = Box::new(Core::new(
            index,
            run_queue,
            None,
            Arc::new(Stash::new()),
            slot.clone(),
        ));
        core.stands_in_for = Some(stuck);
        let handle = self.clone();
        let spawned = self.config.hooks.spawn(
            std::thread::Builder::new().name("vigil-replacement".to_string()),
            move || run_loop::run(handle, core),
        );
        if spawned.is_err() {
            self.retire_replacement(&slot);
        }
    }

    /// A replacement has ended: the monitor stops watching its slot, and
    /// another may start.
    fn retire_replacement(&self, slot: &Arc<PollSlot>) {
        if let Some(monitor) = self.monitor.get() {
            monitor.unwatch(slot);
        }
        self.replacements.fetch_sub(1, Ordering::AcqRel);
    }

    fn blocked_workers_still_stuck(&self, stuck: &[u64]) -> bool {
        self.remotes
            .iter()
            .zip(stuck)
            .all(|(r, &seq)| r.poll_slot.seq() == seq)
    }
}

impl Context {
    /// The replacement's loop (started by `run_loop::run` for a core that
    /// stands in for blocked workers).
    pub(super) fn run_replacement(&self, mut core: Box<Core>) {
        let handle = &*self.handle;
        let event_interval = handle.config.event_interval;
        let stuck = core.stands_in_for.clone().unwrap_or_default();
        while !handle.is_shutdown() && handle.blocked_workers_still_stuck(&stuck) {
            core.tick = core.tick.wrapping_add(1);
            if core.tick % event_interval == 0 {
                core = self.driver_turn(core);
            }
            if let Some(task) = self
                .next_task(&mut core)
                .or_else(|| self.steal_any(&mut core))
            {
                match self.run_task(task, core) {
                    Some(kept) => core = kept,
                    // A `block_in_place` gave the core to another thread,
                    // which goes on as this replacement.
                    None => return,
                }
                continue;
            }
            if core.has_deferred() {
                core = self.driver_turn(core);
                continue;
            }
            core = self.with_core_in_context(core, || {
                handle.shared_driver.park_for(IDLE_WAIT);
            });
            handle.watchdog.refresh_clock();
        }
        // Hand everything back to the regular workers.
        let leftovers = core
            .take_lifo()
            .into_iter()
            .chain(core.take_deferred())
            .chain(std::iter::from_fn(|| core.run_queue.pop()));
        handle.inject.push_batch(leftovers);
        handle.notify_parked();
        handle.retire_replacement(&core.slot);
    }

    /// Steals from any worker, without taking part in the idle workers'
    /// searching protocol (a replacement is not one of them).
    fn steal_any(&self, core: &mut Core) -> Option<super::Task> {
        let handle = &*self.handle;
        for remote in handle.remotes.iter() {
            if let Some(task) = remote.steal.steal_into(&mut core.run_queue) {
                return Some(task);
            }
        }
        self.pop_inject_batch(core, queue::CAPACITY / 2)
    }
}
