//! What the watchdog looks for, and what it does about it.

use std::time::Duration;

/// What the runtime does with a task the watchdog caught misbehaving.
///
/// Set per runtime with [`Config::policy`] and per task with
/// [`task::Builder::watchdog`](crate::task::Builder::watchdog).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Policy {
    /// Report it (a `tracing` warning and the
    /// [`on_watchdog`](crate::runtime::Builder::on_watchdog) callback) and
    /// change nothing else. The default.
    Warn,
    /// Report it, and from then on poll a spinning task at most once per
    /// timer tick (1 ms), after the other ready tasks, until it makes
    /// progress again: it can no longer starve its neighbours or burn a core.
    Throttle,
    /// Report it and cancel the task: its future is dropped (closing whatever
    /// it owns) and its [`JoinHandle`](crate::task::JoinHandle) returns a
    /// [`JoinError`](crate::task::JoinError) carrying the report. A blocked
    /// poll cannot be interrupted; the task is cancelled when it returns.
    Abort,
    /// Do not watch this task at all (for a task known to wake itself on
    /// purpose through means the runtime cannot see).
    Ignore,
}

/// Watchdog settings of a runtime, given to
/// [`Builder::watchdog`](crate::runtime::Builder::watchdog).
///
/// ```
/// use std::time::Duration;
/// use vigil::watchdog::{Config, Policy};
///
/// let rt = vigil::runtime::Builder::new_multi_thread()
///     .worker_threads(2)
///     .watchdog(
///         Config::new()
///             .policy(Policy::Throttle)
///             .blocked_poll_threshold(Duration::from_millis(50)),
///     )
///     .on_watchdog(|report| eprintln!("{report}"))
///     .build()
///     .unwrap();
/// # drop(rt);
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) enabled: bool,
    pub(crate) policy: Policy,
    pub(crate) spin_polls: u32,
    pub(crate) spin_duration: Duration,
    pub(crate) working_poll: Duration,
    pub(crate) blocked_poll: Option<Duration>,
    pub(crate) lost_wakers: bool,
    pub(crate) time_every_poll: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config::new()
    }
}

impl Config {
    /// The defaults: on, [`Policy::Warn`], a task is spinning after 1,000
    /// spurious polls (nearly) in a row lasting at least 250 ms, a
    /// self-woken poll of 20 µs or more is work rather than a spin, a poll
    /// is blocked after 100 ms, lost wakers are reported.
    pub fn new() -> Config {
        Config {
            enabled: true,
            policy: Policy::Warn,
            spin_polls: 1_000,
            spin_duration: Duration::from_millis(250),
            working_poll: Duration::from_micros(20),
            blocked_poll: Some(Duration::from_millis(100)),
            lost_wakers: true,
            time_every_poll: false,
        }
    }

    /// A watchdog that watches nothing (no monitor thread, no per-poll
    /// checks beyond a flag test).
    pub fn disabled() -> Config {
        Config {
            enabled: false,
            ..Config::new()
        }
    }

    /// Turns the whole watchdog on or off.
    pub fn enabled(mut self, on: bool) -> Config {
        self.enabled = on;
        self
    }

    /// The runtime-wide policy (default [`Policy::Warn`]).
    pub fn policy(mut self, policy: Policy) -> Config {
        self.policy = policy;
        self
    }

    /// The spin score that makes a task spinning, provided its episode has
    /// also lasted [`spin_duration`](Self::spin_duration). Default 1,000.
    ///
    /// A spurious poll (the task woke itself, and the poll neither made
    /// progress on a vigil resource, nor yielded on purpose, nor ran for
    /// [`working_poll`](Self::working_poll)) adds one to the
    /// score; any other poll takes an eighth of it (and one) away. So this
    /// is the number of spurious polls in a row, give or take a little
    /// progress in between.
    ///
    /// # Panics
    /// If `polls` is zero.
    #[track_caller]
    pub fn spin_threshold(mut self, polls: u32) -> Config {
        assert!(polls > 0, "the spin threshold must be at least one poll");
        self.spin_polls = polls;
        self
    }

    /// How long a run of spurious polls must last before it is reported
    /// (default 250 ms): a short burst of self-wakes is normal, a run that
    /// goes on is not.
    pub fn spin_duration(mut self, duration: Duration) -> Config {
        self.spin_duration = duration;
        self
    }

    /// How long a self-woken poll must run to count as work rather than as
    /// a spin (default 20 µs).
    ///
    /// The runtime sees progress on its own resources (sockets, timers,
    /// channels, `yield_now`), not on anything else: a computation that
    /// yields by waking itself (another crate's `yield_now`, a
    /// hand-written cooperative loop) looks like a spin by those signs
    /// alone. Time tells them apart: the polls of a task that has started
    /// to look spurious are timed, and one that ran this long did
    /// something. A spinning future's poll is short and the same every time
    /// (the incident's stream: well under a microsecond), so the default
    /// leaves a margin of more than ten times even for unoptimised builds.
    /// A computation that yields more often than this still looks like a
    /// spin: yield through [`task::yield_now`](crate::task::yield_now),
    /// report progress through [`task::coop`](crate::task::coop), or give
    /// the task [`Policy::Ignore`]. `Duration::MAX` counts no poll as work
    /// by its length.
    ///
    /// ```
    /// use std::time::Duration;
    /// use vigil::watchdog::Config;
    ///
    /// // Polls of a tight cooperative loop that yields every ~5 µs of work.
    /// let config = Config::new().working_poll(Duration::from_micros(4));
    /// # let _ = config;
    /// ```
    pub fn working_poll(mut self, duration: Duration) -> Config {
        self.working_poll = duration;
        self
    }

    /// How long one poll may run before it is reported as blocking its
    /// thread (default 100 ms). A monitor thread checks every quarter of
    /// this (at least every 5 ms), only while some worker is busy.
    ///
    /// # Panics
    /// If `threshold` is zero.
    #[track_caller]
    pub fn blocked_poll_threshold(mut self, threshold: Duration) -> Config {
        assert!(
            !threshold.is_zero(),
            "the blocked-poll threshold must be positive"
        );
        self.blocked_poll = Some(threshold);
        self
    }

    /// Turns blocked-poll detection (and its monitor thread) on or off.
    pub fn detect_blocked_polls(mut self, on: bool) -> Config {
        if !on {
            self.blocked_poll = None;
        } else if self.blocked_poll.is_none() {
            self.blocked_poll = Config::new().blocked_poll;
        }
        self
    }

    /// Turns lost-waker detection on or off.
    pub fn detect_lost_wakers(mut self, on: bool) -> Config {
        self.lost_wakers = on;
        self
    }

    /// Times every poll for [`Handle::dump`](crate::runtime::Handle::dump)'s
    /// busy column (two clock reads per poll). By default each thread times
    /// one poll in 64 and the busy time is a sampling estimate.
    pub fn time_every_poll(mut self, on: bool) -> Config {
        self.time_every_poll = on;
        self
    }
}
