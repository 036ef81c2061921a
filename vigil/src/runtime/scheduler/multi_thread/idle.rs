//! Who is asleep, and who should be woken.
//!
//! Waking every idle worker for every new task would make them all race for
//! one task (a thundering herd). Instead, a new task wakes at most one
//! sleeping worker, and only when no worker is already *searching* for work:
//! a searcher will find the task anyway. A woken worker starts out searching;
//! when it finds work and was the last searcher, it wakes the next sleeper,
//! so wake-ups ripple out one at a time as long as there is work to share.
//!
//! `state` packs the number of searching workers (low half) and of unparked
//! workers (high half) so both are read and updated in one atomic step.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Mutex;

const UNPARK_SHIFT: usize = 16;
const SEARCH_MASK: usize = (1 << UNPARK_SHIFT) - 1;

pub(crate) struct Idle {
    state: AtomicUsize,
    /// Indices of parked workers.
    sleepers: Mutex<Vec<usize>>,
    num_workers: usize,
}

fn searching(state: usize) -> usize {
    state & SEARCH_MASK
}

fn unparked(state: usize) -> usize {
    state >> UNPARK_SHIFT
}

impl Idle {
    pub(crate) fn new(num_workers: usize) -> Idle {
        Idle {
            state: AtomicUsize::new(num_workers << UNPARK_SHIFT),
            sleepers: Mutex::new(Vec::with_capacity(num_workers)),
            num_workers,
        }
    }

    /// Picks a sleeping worker to wake for new work, if waking one is
    /// useful; the picked worker is already counted as unparked and searching.
    pub(crate) fn worker_to_notify(&self) -> Option<usize> {
        if !self.should_notify() {
            return None;
        }
        let mut sleepers = self.sleepers.lock().unwrap();
        if !self.should_notify() {
            return None;
        }
        let worker = sleepers.pop()?;
        self.state.fetch_add((1 << UNPARK_SHIFT) | 1, SeqCst);
        Some(worker)
    }

    /// Whether new work would wake a sleeping worker now: nobody is
    /// searching and somebody sleeps.
    pub(crate) fn should_notify(&self) -> bool {
        let state = self.state.load(SeqCst);
        searching(state) == 0 && unparked(state) < self.num_workers
    }

    /// Records that `worker` goes to sleep. Returns `true` if it was the last
    /// searching worker (it must then re-check for work before sleeping).
    pub(crate) fn transition_worker_to_parked(&self, worker: usize, is_searching: bool) -> bool {
        let mut sleepers = self.sleepers.lock().unwrap();
        let dec = (1 << UNPARK_SHIFT) | usize::from(is_searching);
        let prev = self.state.fetch_sub(dec, SeqCst);
        sleepers.push(worker);
        is_searching && searching(prev) == 1
    }

    /// A worker wants to look for work to steal. Refused when half the
    /// workers are already searching (more would only contend).
    pub(crate) fn transition_worker_to_searching(&self) -> bool {
        let state = self.state.load(SeqCst);
        if 2 * searching(state) >= self.num_workers {
            return false;
        }
        self.state.fetch_add(1, SeqCst);
        true
    }

    /// Picks a sleeping worker to wake whatever the searchers are doing:
    /// the watchdog's rescue of a blocked worker. Counted like
    /// [`worker_to_notify`](Self::worker_to_notify).
    pub(crate) fn worker_to_rescue(&self) -> Option<usize> {
        let mut sleepers = self.sleepers.lock().unwrap();
        let worker = sleepers.pop()?;
        self.state.fetch_add((1 << UNPARK_SHIFT) | 1, SeqCst);
        Some(worker)
    }

    /// A searching worker found work (or gave up). Returns `true` if it was
    /// the last searcher.
    pub(crate) fn transition_worker_from_searching(&self) -> bool {
        let prev = self.state.fetch_sub(1, SeqCst);
        debug_assert!(searching(prev) > 0);
        searching(prev) == 1
    }

    /// If `worker` is still listed as asleep, removes it and counts it as
    /// unparked (used when it woke on its own). Returns `false` if someone
    /// else already woke it.
    pub(crate) fn unpark_worker_by_id(&self, worker: usize) -> bool {
        let mut sleepers = self.sleepers.lock().unwrap();
        if let Some(i) = sleepers.iter().position(|&w| w == worker) {
            sleepers.swap_remove(i);
            self.state.fetch_add(1 << UNPARK_SHIFT, SeqCst);
            true
        } else {
            false
        }
    }

    /// Whether any worker is awake (as seen by a worker that is itself
    /// counted as parked).
    pub(crate) fn any_awake(&self) -> bool {
        unparked(self.state.load(SeqCst)) > 0
    }

    /// `true` while `worker` is listed as asleep.
    pub(crate) fn is_parked(&self, worker: usize) -> bool {
        self.sleepers.lock().unwrap().contains(&worker)
    }
}
