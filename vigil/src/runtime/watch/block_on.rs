//! Watching the future passed to `block_on`.
//!
//! That future is not a task: `block_on` polls it on the calling thread,
//! outside any run queue, so the per-task checks never see it. Yet it is
//! where blocking code most often ends up (the body of `#[vigil::main]` or
//! of a `#[vigil::test]`), and two of the watchdog's failures hurt there
//! as much as in a task:
//!
//! * **A blocked poll** on the current-thread runtime: the thread that
//!   polls the future is the one that runs every task and the driver, so a
//!   future that blocks stops them all. Each poll of the future is marked
//!   on the runtime's poll slot as a poll of its own ([`BlockOnWatch::poll`]),
//!   and the monitor reports it like a task's, naming the `block_on` call
//!   site. (A `LocalSet` driven by the future puts its tasks on the slot as
//!   nested polls, so a block there is still blamed on the local task.) On
//!   the multi-thread runtime the future's thread is not a worker: blocking
//!   it holds up only the caller, and it is not watched.
//! * **A lost waker**, on both runtimes: if the future returns `Pending`
//!   and no clone of `block_on`'s waker survives, nothing can wake it and
//!   the call never returns ([`BlockOnWatch::check_lost_waker`]).
//! * **Spinning**, on both runtimes: a future that wakes `block_on`'s
//!   waker during its own poll and returns `Pending` without having done
//!   anything the runtime can see is polled again at once, forever, at full
//!   CPU. A task in that state is visible through its trips through the run
//!   queue; the block_on future never makes them, so each poll is judged
//!   here, by the same rules and thresholds as a task's (see
//!   `task_watch`): the waker was woken before the poll returned, the
//!   cooperative budget is untouched (no operation completed) and there was
//!   no `yield_now`. A wake from another thread that lands during the poll
//!   looks the same, but the poll after it finds what that thread sent and
//!   spends budget, which brings the score back down.
//!
//! None of this can throttle or cancel the future; the report is all.

use super::task_watch::{decay_spin_score, poll_flags};
use super::{monitor::PollSlot, ReportKind, Watchdog};
use crate::runtime::{context, coop, task::Id};
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::atomic::{self, AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// The watchdog's view of one `block_on` call.
pub(crate) struct BlockOnWatch<'a> {
    watchdog: &'a Watchdog,
    /// Stands for the future in reports (an id no task has).
    id: Id,
    site: &'static Location<'static>,
    reported_lost: bool,
    spin: SpinEpisode,
}

/// The current run of spurious polls of the future (all zero outside one).
#[derive(Default)]
struct SpinEpisode {
    /// As a task's spin score: +1 per spurious poll, decays on others.
    score: u32,
    /// Spurious polls since the episode began.
    spurious: u32,
    /// When it began.
    started: Option<Instant>,
    /// Time inside the polls of the episode (each poll is timed while an
    /// episode lasts; the first one is not).
    cpu: Duration,
    reported: bool,
}

impl<'a> BlockOnWatch<'a> {
    /// Watches the future of the `block_on` called at `site`.
    pub(crate) fn new(watchdog: &'a Watchdog, site: &'static Location<'static>) -> Self {
        BlockOnWatch {
            watchdog,
            id: Id::next(),
            site,
            reported_lost: false,
            spin: SpinEpisode::default(),
        }
    }

    /// Polls `future` with a fresh cooperative budget, as a task is polled;
    /// with a `slot`, as the poll in progress on it, which the blocked-poll
    /// monitor times (the poll ends on the slot even if the future panics).
    /// `woken` is the flag a wake of `cx`'s waker sets (and `block_on`
    /// clears before each poll): set when the poll returns, the future was
    /// woken during it.
    #[inline]
    pub(crate) fn poll<F: Future + ?Sized>(
        &mut self,
        slot: Option<&PollSlot>,
        future: Pin<&mut F>,
        cx: &mut Context<'_>,
        woken: &AtomicBool,
    ) -> Poll<F::Output> {
        struct End<'s>(&'s PollSlot);
        impl Drop for End<'_> {
            fn drop(&mut self) {
                self.0.end();
            }
        }
        let end = slot.map(|slot| {
            slot.begin_block_on(self.id, self.site);
            End(slot)
        });
        let budget = coop::start_poll();
        let outer_flags = context::replace_poll_flags(0);
        let timed = (self.spin.score != 0).then(Instant::now);
        let poll = future.poll(cx);
        let flags = context::replace_poll_flags(outer_flags);
        let budget = budget.finish();
        drop(end);
        if poll.is_pending() && self.watchdog.checks_spins() {
            let took = timed.map(|started| started.elapsed());
            let worked = took.is_some_and(|took| took >= self.watchdog.config.working_poll);
            let spurious = woken.load(Ordering::Acquire)
                && flags & poll_flags::VOLUNTARY_YIELD == 0
                && budget.is_untouched()
                && !worked;
            if let Some(took) = took {
                self.spin.cpu += took;
            }
            self.judge_pending(spurious);
        }
        poll
    }

    /// Scores a `Pending` poll and reports a spin once the score and the
    /// episode's length pass the watchdog's thresholds (once per episode).
    #[cold]
    fn judge_pending(&mut self, spurious: bool) {
        let spin = &mut self.spin;
        if !spurious {
            if spin.score != 0 {
                spin.score = decay_spin_score(spin.score);
                if spin.score == 0 {
                    *spin = SpinEpisode::default();
                }
            }
            return;
        }
        spin.score = spin.score.saturating_add(1);
        spin.spurious = spin.spurious.saturating_add(1);
        let started = *spin.started.get_or_insert_with(Instant::now);
        let config = &self.watchdog.config;
        if spin.reported || spin.score < config.spin_polls {
            return;
        }
        // Past the threshold, look at the clock every 64 spurious polls.
        if spin.score != config.spin_polls && spin.spurious % 64 != 0 {
            return;
        }
        let lasted = started.elapsed();
        if lasted < config.spin_duration {
            return;
        }
        spin.reported = true;
        let report = self
            .watchdog
            .block_on_report(self.id, self.site, ReportKind::Spinning);
        if let Some(mut report) = report {
            report.duration = lasted;
            report.cpu_time = spin.cpu;
            report.spurious_wakes = u64::from(spin.spurious);
            self.watchdog.emit(&report);
        }
    }

    /// After a poll that returned `Pending`: reports a lost waker (once per
    /// call) if no clone of the waker survives. `waker` is what the waker
    /// wraps, of which `block_on` itself holds `own` references (its own
    /// and the `Waker`'s), and `woken` the flag a wake sets.
    pub(crate) fn check_lost_waker<W>(&mut self, waker: &Arc<W>, own: usize, woken: &AtomicBool) {
        if self.reported_lost || !self.watchdog.checks_lost_wakers() {
            return;
        }
        if Arc::strong_count(waker) > own {
            return;
        }
        // A clone dropped since the poll was woken first: the fence pairs
        // with the release of its reference count, so its wake is seen.
        atomic::fence(Ordering::Acquire);
        if woken.load(Ordering::Acquire) {
            return;
        }
        self.reported_lost = true;
        let report = self
            .watchdog
            .block_on_report(self.id, self.site, ReportKind::LostWaker);
        if let Some(report) = report {
            self.watchdog.emit(&report);
        }
    }
}
