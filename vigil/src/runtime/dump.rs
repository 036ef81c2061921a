//! [`Handle::dump`](super::Handle::dump): every live task of a runtime, for
//! a person wondering what the program is doing (or not doing).

use super::task::{Header, Id};
use super::watch::task_watch::SAMPLE_EVERY;
use super::watch::Watchdog;
use std::fmt;
use std::panic::Location;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

/// Where a task is in its life, at the moment of the dump.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TaskState {
    /// Waiting to be woken.
    Idle,
    /// Woken, waiting in a run queue.
    Scheduled,
    /// Being polled right now.
    Running,
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            TaskState::Idle => "idle",
            TaskState::Scheduled => "scheduled",
            TaskState::Running => "running",
        })
    }
}

/// One task in a [`Dump`].
#[derive(Clone, Debug)]
pub struct TaskDump {
    id: Id,
    name: Option<Box<str>>,
    location: &'static Location<'static>,
    state: TaskState,
    polls: u64,
    busy: Duration,
    since_last_poll: Option<Duration>,
}

impl TaskDump {
    /// The task's id.
    pub fn id(&self) -> Id {
        self.id
    }

    /// The task's name, if it has one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Where the task was spawned.
    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }

    /// Idle, scheduled or running.
    pub fn state(&self) -> TaskState {
        self.state
    }

    /// Completed polls.
    pub fn polls(&self) -> u64 {
        self.polls
    }

    /// Time spent inside `poll`. Unless the watchdog is configured with
    /// [`time_every_poll`](crate::watchdog::Config::time_every_poll), this
    /// is a sampling estimate: each thread times one poll in 64, and a timed
    /// poll counts 64 times. Exact on average and close for busy tasks;
    /// a task polled only a few times may show zero or too much.
    pub fn busy(&self) -> Duration {
        self.busy
    }

    /// Time since the task was last polled (to within a driver turn);
    /// `None` if it was never polled.
    pub fn since_last_poll(&self) -> Option<Duration> {
        self.since_last_poll
    }

    pub(crate) fn of(header: &Header, watchdog: &Watchdog) -> TaskDump {
        let state = header.state.load();
        let state = if state.is_running() {
            TaskState::Running
        } else if state.is_notified() {
            TaskState::Scheduled
        } else {
            TaskState::Idle
        };
        let polls = header.stats.polls.load(Relaxed);
        let timed = header.stats.poll_nanos.load(Relaxed) as u128;
        let busy_nanos = if watchdog.config.time_every_poll {
            timed
        } else {
            // Each timed poll stands for `SAMPLE_EVERY` polls of its thread.
            timed * u128::from(SAMPLE_EVERY)
        };
        let last = header.watch.last_poll_ms.load(Relaxed);
        let since_last_poll = (last != u32::MAX)
            .then(|| Duration::from_millis(u64::from(watchdog.now_ms().wrapping_sub(last))));
        TaskDump {
            id: header.meta.id,
            name: header.meta.name.clone(),
            location: header.meta.location,
            state,
            polls,
            busy: Duration::from_nanos(busy_nanos.min(u64::MAX as u128) as u64),
            since_last_poll,
        }
    }
}

/// Every live task of a runtime, sorted by id. `Display` prints a table.
///
/// ```
/// let rt = vigil::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     let _parked = vigil::task::Builder::new()
///         .name("sleeper")
///         .spawn(async { vigil::time::sleep(std::time::Duration::from_secs(60)).await })
///         .unwrap();
///     vigil::task::yield_now().await;
///     let dump = vigil::runtime::Handle::current().dump();
///     assert_eq!(dump.tasks()[0].name(), Some("sleeper"));
///     println!("{dump}");
/// });
/// ```
#[derive(Clone, Debug)]
pub struct Dump {
    pub(crate) tasks: Vec<TaskDump>,
}

impl Dump {
    /// The tasks, sorted by id.
    pub fn tasks(&self) -> &[TaskDump] {
        &self.tasks
    }
}

struct Ms(Duration);

impl fmt::Display for Ms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_secs_f64() * 1e3;
        let text = if ms >= 1_000.0 {
            format!("{:.1} s", ms / 1e3)
        } else if ms >= 10.0 {
            format!("{ms:.0} ms")
        } else {
            format!("{ms:.2} ms")
        };
        f.pad(&text)
    }
}

impl fmt::Display for Dump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name_width = self
            .tasks
            .iter()
            .filter_map(|t| t.name.as_deref())
            .map(str::len)
            .max()
            .unwrap_or(0)
            .clamp(4, 32);
        writeln!(
            f,
            "{:>6}  {:<name_width$}  {:<9}  {:>10}  {:>10}  {:>13}  spawned at",
            "id", "name", "state", "polls", "busy", "last poll"
        )?;
        for t in &self.tasks {
            let since = match t.since_last_poll {
                Some(d) => format!("{} ago", Ms(d)),
                None => "never".to_string(),
            };
            writeln!(
                f,
                "{:>6}  {:<name_width$}  {:<9}  {:>10}  {:>10}  {:>13}  {}",
                t.id.as_u64(),
                t.name.as_deref().unwrap_or("-"),
                t.state,
                t.polls,
                Ms(t.busy),
                since,
                t.location,
            )?;
        }
        write!(f, "{} live task(s)", self.tasks.len())
    }
}
