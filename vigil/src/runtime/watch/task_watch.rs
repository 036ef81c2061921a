//! The watchdog's view of one task, and the checks run when a poll ends.
//!
//! # Telling a spin from a wait
//!
//! A poll is *spurious* when the task woke itself during it, the poll ends
//! `Pending`, and nothing the runtime can see explains the wake: no
//! operation on a vigil resource completed (every completed operation spends
//! one unit of the cooperative budget, and an operation that ends `Pending`
//! gives its unit back, so an untouched budget means no progress), the
//! budget did not run out (a forced yield is the runtime's own doing), and
//! the task did not call [`yield_now`](crate::task::yield_now) (a voluntary
//! yield). A healthy task rarely has two spurious polls in a row: a task
//! that waits for something is woken by that something, not by itself.
//!
//! One more sign counts as progress: time. Work the runtime cannot see (a
//! computation that yields by waking itself, as another crate's
//! `yield_now` does) takes time, and a spin does not: it runs the same few
//! instructions on every poll. So from the first spurious poll of an
//! episode on, every poll of the task is timed (two clock reads, only for
//! tasks that already look suspect), and a self-woken poll that ran for
//! [`Config::working_poll`](super::Config::working_poll) or longer is
//! taken as useful.
//!
//! Spurious polls raise a per-task *spin score* by one; every other poll
//! lowers it by an eighth (and one), and the episode ends when it reaches
//! zero. A task whose spurious polls outnumber its useful ones many times
//! over keeps a high score even if it makes a little progress now and then
//! (a spinning proxy whose other direction still carries a heartbeat); a
//! task that wakes itself now and then between real work stays near zero.
//! A score of [`Config::spin_threshold`](super::Config::spin_threshold) in
//! an episode that has lasted
//! [`Config::spin_duration`](super::Config::spin_duration) is a spin.
//!
//! This is exactly the incident's shape: a TLS stream that, after the peer's
//! `close_notify`, wakes itself and returns `Pending` without touching its
//! socket. The other half of its proxy may re-register interest in its own
//! socket on every poll, but re-registering is not progress.
//!
//! # Lost wakers
//!
//! When a poll ends `Pending` and the task did not wake itself, the poller
//! still holds its own reference and `RUNNING`, so the reference count is
//! stable except for references that other threads may drop (never add: a
//! waker can only be cloned from a waker). Subtracting what is known (the
//! owned-task list's reference, the poller's, the join handle's, the abort
//! handles') leaves the number of waker clones. Zero means nothing can ever
//! wake the task.
//!
//! The first look costs no extra memory access: the transition to idle
//! reads the state word anyway, and if it shows no reference beyond the
//! owned list's, the poller's and the join handle's (and no abort handle
//! was ever made, the sticky `ABORTABLE` bit, set before a handle takes its
//! reference), it leaves the task `RUNNING` and the close check below runs.
//! Every race errs towards "a waker exists", never the other way: an abort
//! handle is counted in the task's references before it is counted in
//! [`TaskWatch::abort_handles`] and leaves in the opposite order, and the
//! close check reads the abort-handle count before and after the state
//! word, giving up if it changed (reading it only once lets a handle
//! created or dropped between the two reads fake a lost waker; loom found
//! that).
//!
//! # Cost
//!
//! The counters are written only by the thread that polls the task, with
//! plain relaxed loads and stores. A clock is read only for one poll in 64
//! on each thread (the busy-time sample, so a task polled once is usually
//! not timed at all; a spinning task's CPU time is estimated from the same
//! samples), and for every poll if
//! [`Config::time_every_poll`](super::Config::time_every_poll) is set.

use super::{Policy, Report, ReportKind, Watchdog};
use crate::loom::sync::atomic::Ordering::Acquire;
use crate::runtime::coop::Budget;
use crate::runtime::task::Header;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// Per-task poll flags recorded in the thread-local context during a poll.
pub(crate) mod poll_flags {
    /// The task's own waker was woken during its poll.
    pub(crate) const SELF_WOKEN: u8 = 1;
    /// The task called `vigil::task::yield_now`.
    pub(crate) const VOLUNTARY_YIELD: u8 = 2;
}

/// Which per-poll checks a runtime's watchdog runs, in one byte.
pub(crate) mod checks {
    use super::super::Config;

    /// Spin and lost-waker detection at all.
    pub(crate) const ENABLED: u8 = 1;
    pub(crate) const LOST_WAKERS: u8 = 2;
    pub(crate) const TIME_EVERY_POLL: u8 = 4;

    pub(crate) fn of(config: &Config) -> u8 {
        let mut bits = 0;
        if config.enabled {
            bits |= ENABLED;
            if config.lost_wakers {
                bits |= LOST_WAKERS;
            }
        }
        if config.time_every_poll {
            bits |= TIME_EVERY_POLL;
        }
        bits
    }
}

const REPORTED_SPIN: u32 = 1;
const THROTTLED: u32 = 2;
const REPORTED_LOST: u32 = 4;
/// Cancelled by the watchdog (blocked poll under `Policy::Abort`): the
/// cancellation output carries the report kept by the watchdog.
pub(crate) const ABORTED: u32 = 8;

/// One poll in this many (per thread) is timed for the busy-time estimate.
pub(crate) const SAMPLE_EVERY: u32 = 64;

/// The watchdog's counters of one task (32 bytes in its header).
pub(crate) struct TaskWatch {
    /// The spin score: +1 per spurious poll, decays on useful ones; the
    /// episode ends when it falls back to zero.
    streak: AtomicU32,
    /// Spurious polls in the current episode.
    spurious: AtomicU32,
    flags: AtomicU32,
    /// Live `AbortHandle`s (for the lost-waker arithmetic; a loom atomic,
    /// so the models check its ordering against the reference count).
    pub(crate) abort_handles: crate::loom::sync::atomic::AtomicU32,
    /// When the current spurious run started (ms since the watchdog's epoch).
    streak_start_ms: AtomicU32,
    /// The task's timed-poll total when the episode began (see `cpu_since`).
    streak_cpu_ns: AtomicU64,
    /// When the task was last polled (ms since the watchdog's epoch).
    pub(crate) last_poll_ms: AtomicU32,
}

impl TaskWatch {
    pub(crate) fn new() -> TaskWatch {
        TaskWatch {
            streak: AtomicU32::new(0),
            spurious: AtomicU32::new(0),
            flags: AtomicU32::new(0),
            abort_handles: crate::loom::sync::atomic::AtomicU32::new(0),
            streak_start_ms: AtomicU32::new(0),
            streak_cpu_ns: AtomicU64::new(0),
            last_poll_ms: AtomicU32::new(u32::MAX),
        }
    }

    fn set_flags(&self, bits: u32) {
        self.flags.fetch_or(bits, Relaxed);
    }

    fn clear_flags(&self, bits: u32) {
        self.flags.fetch_and(!bits, Relaxed);
    }

    pub(crate) fn has_flag(&self, bits: u32) -> bool {
        self.flags.load(Relaxed) & bits != 0
    }

    pub(crate) fn mark_aborted(&self) {
        self.set_flags(ABORTED);
    }
}

/// Taken when a poll starts: since when it is timed, if it is.
pub(crate) struct PollProbe {
    started: Option<Instant>,
    /// The poll is one of the busy-time samples (as opposed to timed only
    /// because its task is in a spin episode).
    sampled: bool,
}

/// What the poller must do after a `Pending` poll (one byte: the hot path
/// returns it after every poll).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Nothing unusual.
    Continue,
    /// Reschedule through the watchdog's throttle instead of the run queue.
    Throttle,
    /// Cancel the task; its join handle gets the report the watchdog keeps
    /// for it (`Watchdog::take_abort`).
    Abort,
}

/// The spin score after a poll that was not spurious: an eighth (and one)
/// less, so a long spin is not wiped out by one useful poll.
pub(crate) fn decay_spin_score(score: u32) -> u32 {
    score.saturating_sub(score / 8 + 1)
}

fn ms(d: Duration) -> u32 {
    d.as_millis().min(u32::MAX as u128) as u32
}

impl Watchdog {
    /// The effective policy of a task.
    pub(crate) fn policy_of(&self, header: &Header) -> Policy {
        header.meta.policy.unwrap_or(self.config.policy)
    }

    /// `count` numbers this poll among the thread's polls: one in
    /// [`SAMPLE_EVERY`] is timed, and stands for that many polls of its task
    /// in the busy-time estimate (a sampling profiler's estimate: exact on
    /// average, noisy for a task polled only a few times).
    ///
    /// Every poll of a task in a spin episode is timed as well, so that a
    /// self-woken poll that worked for a while is not taken for a spin
    /// (see [`Config::working_poll`](super::Config::working_poll)).
    #[inline]
    pub(crate) fn begin_poll(&self, header: &Header, count: u32) -> PollProbe {
        let sampled = count % SAMPLE_EVERY == 0 || self.checks & checks::TIME_EVERY_POLL != 0;
        let in_episode = header.watch.streak.load(Relaxed) != 0;
        PollProbe {
            started: (sampled || in_episode).then(Instant::now),
            sampled,
        }
    }

    /// Bookkeeping after every poll, and the spin check after a `Pending`
    /// one. `flags` are the thread-local poll flags, `budget` what was left
    /// of the cooperative budget.
    #[inline]
    pub(crate) fn end_poll(
        &self,
        header: &Header,
        probe: PollProbe,
        flags: u8,
        budget: Budget,
        pending: bool,
    ) -> Verdict {
        let stats = &header.stats;
        stats.bump_polls();
        let now_ms = self.coarse_now_ms();
        header.watch.last_poll_ms.store(now_ms, Relaxed);
        let took = probe.started.map(|started| started.elapsed());
        if let (Some(took), true) = (took, probe.sampled) {
            stats.add_poll_nanos(took.as_nanos().min(u64::MAX as u128) as u64);
        }
        if !pending || !self.checks_spins() {
            return Verdict::Continue;
        }
        // Woke itself, did not yield on purpose, did nothing the runtime
        // saw. The flags alone settle most polls (a task woken by someone
        // else, a `yield_now`); the budget is only looked at, out of line,
        // for the rest.
        if flags == poll_flags::SELF_WOKEN {
            return self.self_woken_poll(header, budget, took);
        }
        if header.watch.streak.load(Relaxed) != 0 {
            self.useful_poll_in_streak(header);
        }
        Verdict::Continue
    }

    /// A `Pending` poll in which the task woke itself and did not call
    /// `yield_now`: spurious unless it spent budget (progress), ran out of
    /// it (a forced yield), or was timed and ran for at least
    /// [`Config::working_poll`](super::Config::working_poll) (work the
    /// runtime cannot see, yielded by waking itself).
    #[cold]
    #[inline(never)]
    fn self_woken_poll(&self, header: &Header, budget: Budget, took: Option<Duration>) -> Verdict {
        let worked = took.is_some_and(|took| took >= self.config.working_poll);
        if budget.is_untouched() && !worked {
            return self.spurious_poll(header);
        }
        if header.watch.streak.load(Relaxed) != 0 {
            self.useful_poll_in_streak(header);
        }
        Verdict::Continue
    }

    /// A poll that made progress (or yielded, or waited) during an
    /// episode: the score decays, and the episode ends at zero.
    #[cold]
    #[inline(never)]
    fn useful_poll_in_streak(&self, header: &Header) {
        let watch = &header.watch;
        let score = decay_spin_score(watch.streak.load(Relaxed));
        watch.streak.store(score, Relaxed);
        if score == 0 {
            watch.clear_flags(REPORTED_SPIN | THROTTLED);
        }
    }

    #[cold]
    #[inline(never)]
    fn spurious_poll(&self, header: &Header) -> Verdict {
        let watch = &header.watch;
        let score = watch.streak.load(Relaxed).saturating_add(1);
        watch.streak.store(score, Relaxed);
        let spurious = if score == 1 {
            watch.streak_start_ms.store(self.now_ms(), Relaxed);
            // The episode's CPU time is what the busy-time samples add from
            // here on (see `cpu_since`).
            watch
                .streak_cpu_ns
                .store(header.stats.poll_nanos.load(Relaxed), Relaxed);
            1
        } else {
            watch.spurious.load(Relaxed).saturating_add(1)
        };
        watch.spurious.store(spurious, Relaxed);
        let flags = watch.flags.load(Relaxed);
        if flags & THROTTLED != 0 {
            return Verdict::Throttle;
        }
        if flags & REPORTED_SPIN != 0 || score < self.config.spin_polls {
            return Verdict::Continue;
        }
        // Past the threshold, check the clock only every 64 spurious polls.
        if score != self.config.spin_polls && spurious % 64 != 0 {
            return Verdict::Continue;
        }
        let policy = self.policy_of(header);
        if policy == Policy::Ignore {
            return Verdict::Continue;
        }
        let started = watch.streak_start_ms.load(Relaxed);
        let lasted = self.now_ms().wrapping_sub(started);
        if lasted < ms(self.config.spin_duration) {
            return Verdict::Continue;
        }
        watch.set_flags(REPORTED_SPIN);
        let mut report = self.report_for(header, ReportKind::Spinning, policy);
        report.duration = Duration::from_millis(u64::from(lasted));
        report.cpu_time = self.cpu_since(header, watch.streak_cpu_ns.load(Relaxed));
        report.spurious_wakes = u64::from(spurious);
        self.emit(&report);
        match policy {
            Policy::Throttle => {
                watch.set_flags(THROTTLED);
                Verdict::Throttle
            }
            Policy::Abort => self.abort_with(header, report),
            Policy::Warn | Policy::Ignore => Verdict::Continue,
        }
    }

    /// CPU time of a task's polls since its timed-poll total was `mark`: the
    /// sampled time scaled by the sampling rate (exact if every poll is
    /// timed). A spinning task is polled back to back, so one poll in 64 on
    /// its thread is nearly one of its own polls in 64.
    fn cpu_since(&self, header: &Header, mark: u64) -> Duration {
        let timed = header.stats.poll_nanos.load(Relaxed).saturating_sub(mark);
        let scale = if self.checks & checks::TIME_EVERY_POLL != 0 {
            1
        } else {
            u64::from(SAMPLE_EVERY)
        };
        Duration::from_nanos(timed.saturating_mul(scale))
    }

    /// Whether `Pending` polls are checked for spinning.
    #[inline]
    pub(crate) fn checks_spins(&self) -> bool {
        self.checks & checks::ENABLED != 0
    }

    /// Whether `Pending` polls are checked for a lost waker.
    #[inline]
    pub(crate) fn checks_lost_wakers(&self) -> bool {
        self.checks & checks::LOST_WAKERS != 0
    }

    /// After a `Pending` poll whose state word showed no waker clone
    /// (`TransitionToIdle::MaybeLost`), with `RUNNING` and the poller's
    /// reference still held: `Some` if no waker clone exists, counting
    /// abort handles exactly.
    pub(crate) fn check_lost_waker(&self, header: &Header) -> Option<Verdict> {
        if !self.checks_lost_wakers() {
            return None;
        }
        // The abort-handle count is read on both sides of the state word: an
        // abort handle created or dropped in between changes it, and then we
        // cannot tell (see the module docs; a loom model checks this).
        let aborts = &header.watch.abort_handles;
        let before = aborts.load(Acquire);
        let state = header.state.load();
        if aborts.load(Acquire) != before {
            return None;
        }
        if state.is_notified() || state.is_cancelled() || state.is_complete() {
            return None;
        }
        // The owned list's reference and the poller's are always there.
        let known = 2 + usize::from(state.is_join_interested()) + before as usize;
        if state.ref_count() > known {
            return None;
        }
        Some(self.lost_waker(header))
    }

    #[cold]
    #[inline(never)]
    fn lost_waker(&self, header: &Header) -> Verdict {
        let policy = self.policy_of(header);
        if policy == Policy::Ignore || header.watch.has_flag(REPORTED_LOST) {
            return Verdict::Continue;
        }
        header.watch.set_flags(REPORTED_LOST);
        let report = self.report_for(header, ReportKind::LostWaker, policy);
        self.emit(&report);
        match policy {
            Policy::Abort => self.abort_with(header, report),
            _ => Verdict::Continue,
        }
    }

    /// Keeps `report` for the task's join handle and says to cancel it.
    fn abort_with(&self, header: &Header, report: Report) -> Verdict {
        header.watch.mark_aborted();
        self.stash_abort(report);
        Verdict::Abort
    }

    pub(crate) fn report_for(&self, header: &Header, kind: ReportKind, policy: Policy) -> Report {
        Report::new(
            kind,
            header.meta.id,
            header.meta.name.as_deref(),
            header.meta.location,
            policy,
        )
    }
}
