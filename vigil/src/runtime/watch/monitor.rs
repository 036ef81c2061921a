//! Blocked-poll detection: a monitor thread that notices a poll which does
//! not return, while it is still running.
//!
//! Every thread that polls tasks (each worker, and each thread inside a
//! current-thread `block_on`) owns a [`PollSlot`]: a sequence number that is
//! odd while a poll runs, and the task being polled. Starting and ending a
//! poll are plain stores; no clock is read. The monitor samples the slots
//! every quarter of the threshold: a slot whose odd number has not changed
//! since a sample taken at least `threshold` ago belongs to a poll that has
//! run at least that long. It is reported once, with the task looked up in
//! the runtime's owned-task lists or those of the `LocalSet`s it watches
//! (under that list's lock, where the task is sure to be alive), and the
//! scheduler is asked to rescue the rest of the worker's work. A poll that
//! runs a `LocalSet` names on the slot the local task it is polling, and a
//! block is blamed on that task.
//!
//! When no slot changes for two samples in a row the runtime is idle and the
//! monitor sleeps until a thread leaves its park; an idle runtime costs no
//! CPU. The hand-over uses a store/load pair on each side (Dekker style),
//! so either the monitor sees the thread's wake or the thread sees the
//! monitor asleep and wakes it.

use super::{Policy, ReportKind, Watchdog};
use crate::runtime::task::{Header, Id, OwnedTasks, RawTask};
use std::panic::Location;
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::thread;
use std::time::{Duration, Instant};

/// The poll in progress on one thread.
pub(crate) struct PollSlot {
    /// Odd while a poll runs; `seq / 2` is the number of polls so far.
    seq: AtomicU64,
    /// The task being polled; null while the poll is a `block_on`'s future
    /// (see [`begin_block_on`](Self::begin_block_on)).
    task: AtomicPtr<Header>,
    task_id: AtomicU64,
    /// Where the `block_on` whose future is polled was called (meaningful
    /// only while `task` is null).
    site: AtomicPtr<Location<'static>>,
    /// The task polled inside that poll right now, if any (a `LocalSet`'s
    /// task, run by the task on the slot): the one a block is blamed on.
    nested_task: AtomicPtr<Header>,
    nested_task_id: AtomicU64,
    /// Bumped each time the thread leaves its park.
    wakes: AtomicU64,
    worker: usize,
    /// Counters for `Handle::metrics`, kept here (one allocation per
    /// polling thread, written only by it) rather than next to what other
    /// threads read often.
    pub(crate) parks: AtomicU64,
    pub(crate) unparks: AtomicU64,
    pub(crate) steals: AtomicU64,
    /// Polls of a `block_on`'s future, which count on the sequence number
    /// but are not task polls.
    block_on_polls: AtomicU64,
    /// Time spent out of the park before the last park, in nanoseconds.
    pub(crate) busy_nanos: AtomicU64,
    /// When the thread last left its park, in nanoseconds since `epoch`.
    unparked_at: AtomicU64,
    epoch: Instant,
}

impl PollSlot {
    pub(crate) fn new(worker: usize) -> PollSlot {
        PollSlot {
            seq: AtomicU64::new(0),
            task: AtomicPtr::new(ptr::null_mut()),
            task_id: AtomicU64::new(0),
            site: AtomicPtr::new(ptr::null_mut()),
            nested_task: AtomicPtr::new(ptr::null_mut()),
            nested_task_id: AtomicU64::new(0),
            wakes: AtomicU64::new(0),
            worker,
            parks: AtomicU64::new(0),
            unparks: AtomicU64::new(0),
            steals: AtomicU64::new(0),
            block_on_polls: AtomicU64::new(0),
            busy_nanos: AtomicU64::new(0),
            unparked_at: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }

    /// The thread is about to sleep: counts the park and the busy time
    /// since it last woke. Called by the slot's thread only.
    pub(crate) fn parking(&self) {
        Self::bump(&self.parks);
        let now = self.epoch.elapsed().as_nanos() as u64;
        let busy = now.saturating_sub(self.unparked_at.load(Ordering::Relaxed));
        let total = self.busy_nanos.load(Ordering::Relaxed);
        self.busy_nanos.store(total + busy, Ordering::Relaxed);
    }

    /// The thread woke from sleeping. Called by the slot's thread only.
    pub(crate) fn unparked(&self) {
        Self::bump(&self.unparks);
        let now = self.epoch.elapsed().as_nanos() as u64;
        self.unparked_at.store(now, Ordering::Relaxed);
    }

    #[inline]
    pub(crate) fn begin(&self, task: NonNull<Header>, id: Id) {
        self.task.store(task.as_ptr(), Ordering::Relaxed);
        self.task_id.store(id.as_u64(), Ordering::Relaxed);
        let seq = self.seq.load(Ordering::Relaxed);
        self.seq.store(seq.wrapping_add(1), Ordering::Release);
    }

    /// A poll of the future of the `block_on` called at `site` starts; `id`
    /// stands for it in reports (it is not a task).
    #[inline]
    pub(crate) fn begin_block_on(&self, id: Id, site: &'static Location<'static>) {
        self.task.store(ptr::null_mut(), Ordering::Relaxed);
        self.task_id.store(id.as_u64(), Ordering::Relaxed);
        self.site
            .store(ptr::from_ref(site).cast_mut(), Ordering::Relaxed);
        Self::bump(&self.block_on_polls);
        let seq = self.seq.load(Ordering::Relaxed);
        self.seq.store(seq.wrapping_add(1), Ordering::Release);
    }

    #[inline]
    pub(crate) fn end(&self) {
        let seq = self.seq.load(Ordering::Relaxed);
        self.seq.store(seq.wrapping_add(1), Ordering::Release);
    }

    /// A poll of `task` starts inside the poll in progress (which goes on
    /// counting as one poll: the sequence number does not move).
    #[inline]
    pub(crate) fn begin_nested(&self, task: NonNull<Header>, id: Id) {
        self.nested_task_id.store(id.as_u64(), Ordering::Relaxed);
        self.nested_task.store(task.as_ptr(), Ordering::Release);
    }

    /// The nested poll ended; `enclosing` is the task whose poll it ran
    /// inside, if any. If that poll is itself nested (a set driven by a
    /// task of another set), it is named again, so that a block after the
    /// inner poll ended is still blamed on the innermost task running;
    /// otherwise the slot's own poll is the one going on.
    #[inline]
    pub(crate) fn end_nested(&self, enclosing: Option<(NonNull<Header>, Id)>) {
        match enclosing {
            Some((task, id)) if task.as_ptr() != self.task.load(Ordering::Relaxed) => {
                self.begin_nested(task, id);
            }
            _ => self.nested_task.store(ptr::null_mut(), Ordering::Release),
        }
    }

    /// Whether a poll is in progress on this slot. Exact only on the
    /// thread that writes the slot.
    #[inline]
    pub(crate) fn is_polling(&self) -> bool {
        self.seq.load(Ordering::Relaxed) % 2 == 1
    }

    /// Single-writer increment of one of this slot's counters.
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.store(counter.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }

    /// The raw sequence number (changes whenever a poll starts or ends).
    pub(crate) fn seq(&self) -> u64 {
        self.seq.load(Ordering::Acquire)
    }

    /// Task polls started on this thread so far.
    pub(crate) fn polls(&self) -> u64 {
        // Read from other threads, the two may be a poll apart.
        let all = self.seq.load(Ordering::Relaxed).div_ceil(2);
        all.saturating_sub(self.block_on_polls.load(Ordering::Relaxed))
    }
}

/// What the monitor needs from the scheduler it watches.
pub(crate) trait Supervised: Send + Sync + 'static {
    /// Calls `f` with each owned-task list of the runtime.
    fn for_each_owned(&self, f: &mut dyn FnMut(&OwnedTasks));
    fn watchdog(&self) -> &Watchdog;
    /// A poll on `worker` (its slot's sequence number `seq`) is blocked
    /// (and, if `all_blocked`, so is every other polling thread): let other
    /// threads take over its work.
    fn rescue(self: &Arc<Self>, worker: usize, seq: u64, all_blocked: bool);
    /// The same poll is still blocked a sample later: take over whatever
    /// work it queued since, where only its thread could reach it.
    fn take_over_stash(&self, worker: usize, seq: u64);
    /// Called every sample while a poll runs: if I/O and timers have gone
    /// unattended since the last sample although a thread sleeps that could
    /// attend to them, wake it. Nothing to do where the polling thread is
    /// the only one (current-thread).
    fn tend_driver(&self) {}
}

/// The monitor thread's handle, kept by the scheduler.
pub(crate) struct Monitor {
    shared: Arc<Shared>,
    thread: Mutex<Option<thread::JoinHandle<()>>>,
}

struct Shared {
    slots: Mutex<Vec<Arc<PollSlot>>>,
    sleeping: AtomicBool,
    lock: Mutex<bool>,
    cvar: Condvar,
}

impl Monitor {
    /// Starts the monitor if blocked-poll detection is on.
    pub(crate) fn start<S: Supervised>(target: &Arc<S>, thread_name: String) -> Option<Monitor> {
        let config = &target.watchdog().config;
        let threshold = config.blocked_poll.filter(|_| config.enabled)?;
        let shared = Arc::new(Shared {
            slots: Mutex::new(Vec::new()),
            sleeping: AtomicBool::new(false),
            lock: Mutex::new(false),
            cvar: Condvar::new(),
        });
        let weak: Weak<S> = Arc::downgrade(target);
        let thread_shared = shared.clone();
        let thread = thread::Builder::new()
            .name(thread_name)
            .spawn(move || run(thread_shared, weak, threshold))
            .ok()?;
        Some(Monitor {
            shared,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Adds a polling thread's slot.
    pub(crate) fn watch(&self, slot: Arc<PollSlot>) {
        self.shared.slots.lock().unwrap().push(slot);
        self.notify_active_slow();
    }

    /// Removes a slot (its thread is leaving).
    pub(crate) fn unwatch(&self, slot: &Arc<PollSlot>) {
        self.shared
            .slots
            .lock()
            .unwrap()
            .retain(|s| !Arc::ptr_eq(s, slot));
    }

    /// Called by a thread leaving its park, before it polls anything.
    #[inline]
    pub(crate) fn notify_active(&self, slot: &PollSlot) {
        slot.wakes.fetch_add(1, Ordering::SeqCst);
        if self.shared.sleeping.load(Ordering::SeqCst) {
            self.notify_active_slow();
        }
    }

    #[cold]
    fn notify_active_slow(&self) {
        let _guard = self.shared.lock.lock().unwrap();
        self.shared.sleeping.store(false, Ordering::SeqCst);
        self.shared.cvar.notify_one();
    }

    /// Stops the monitor thread and waits for it.
    pub(crate) fn shutdown(&self) {
        {
            let mut stop = self.shared.lock.lock().unwrap();
            *stop = true;
            self.shared.cvar.notify_one();
        }
        let thread = self.thread.lock().unwrap().take();
        if let Some(thread) = thread {
            if thread.thread().id() != thread::current().id() {
                let _ = thread.join();
            }
        }
    }
}

/// The monitor's memory of one slot.
struct Seen {
    slot: Arc<PollSlot>,
    seq: u64,
    wakes: u64,
    since: Instant,
    reported: bool,
}

fn run<S: Supervised>(shared: Arc<Shared>, target: Weak<S>, threshold: Duration) {
    let period = (threshold / 4).clamp(Duration::from_millis(1), Duration::from_millis(50));
    let mut seen: Vec<Seen> = Vec::new();
    let mut quiet_rounds = 0;
    loop {
        {
            let stop = shared.lock.lock().unwrap();
            let (stop, _) = shared.cvar.wait_timeout(stop, period).unwrap();
            if *stop {
                return;
            }
        }
        let Some(target) = target.upgrade() else {
            return;
        };
        refresh(&shared, &mut seen);
        let now = Instant::now();
        let mut active = false;
        let mut newly_blocked = Vec::new();
        for s in seen.iter_mut() {
            let seq = s.slot.seq.load(Ordering::SeqCst);
            let wakes = s.slot.wakes.load(Ordering::SeqCst);
            if seq != s.seq || wakes != s.wakes {
                s.seq = seq;
                s.wakes = wakes;
                s.since = now;
                s.reported = false;
                active = true;
                continue;
            }
            if seq % 2 == 0 {
                continue;
            }
            active = true;
            let lasted = now.duration_since(s.since);
            if s.reported {
                target.take_over_stash(s.slot.worker, seq);
            } else if lasted >= threshold {
                s.reported = true;
                newly_blocked.push((s.slot.clone(), seq, lasted));
            }
        }
        if active {
            target.tend_driver();
        }
        // Every watched thread is inside a poll that has been reported.
        let all_blocked = seen.iter().all(|s| s.reported && s.seq % 2 == 1);
        for (slot, seq, lasted) in newly_blocked.drain(..) {
            blocked(&target, &slot, seq, lasted, all_blocked);
        }
        drop(target);
        quiet_rounds = if active { 0 } else { quiet_rounds + 1 };
        if quiet_rounds >= 2 && sleep_until_active(&shared, &seen) {
            return;
        }
    }
}

/// Syncs the monitor's list with the registered slots.
fn refresh(shared: &Shared, seen: &mut Vec<Seen>) {
    let slots = shared.slots.lock().unwrap();
    seen.retain(|s| slots.iter().any(|x| Arc::ptr_eq(x, &s.slot)));
    for slot in slots.iter() {
        if !seen.iter().any(|s| Arc::ptr_eq(&s.slot, slot)) {
            seen.push(Seen {
                slot: slot.clone(),
                seq: slot.seq.load(Ordering::SeqCst),
                wakes: slot.wakes.load(Ordering::SeqCst),
                since: Instant::now(),
                reported: false,
            });
        }
    }
}

/// Sleeps until a thread leaves its park (or shutdown); `true` on shutdown.
fn sleep_until_active(shared: &Shared, seen: &[Seen]) -> bool {
    let mut stop = shared.lock.lock().unwrap();
    shared.sleeping.store(true, Ordering::SeqCst);
    // Anything that moved after the last sample keeps us awake.
    let moved = seen.iter().any(|s| {
        s.slot.seq.load(Ordering::SeqCst) != s.seq || s.slot.wakes.load(Ordering::SeqCst) != s.wakes
    });
    while !*stop && !moved && shared.sleeping.load(Ordering::SeqCst) {
        stop = shared.cvar.wait(stop).unwrap();
    }
    shared.sleeping.store(false, Ordering::SeqCst);
    *stop
}

/// Reports the poll in `slot` (sequence `seq`) and applies the policy.
fn blocked<S: Supervised>(
    target: &Arc<S>,
    slot: &PollSlot,
    seq: u64,
    lasted: Duration,
    all_blocked: bool,
) {
    let watchdog = target.watchdog();
    let task = slot.task.load(Ordering::Relaxed);
    let id = slot.task_id.load(Ordering::Relaxed);
    let site = slot.site.load(Ordering::Relaxed);
    let nested = slot.nested_task.load(Ordering::Acquire);
    let nested_id = slot.nested_task_id.load(Ordering::Relaxed);
    // The pointers are only trusted if the poll is still the same one.
    if slot.seq.load(Ordering::Acquire) != seq {
        return;
    }
    let outer = NonNull::new(task).map(|task| (task, id));
    // Blame the nested poll if it is still going on, else the poll around
    // it. A pointer is never dereferenced before the list finds it
    // registered under `id`, so a stale or torn pair finds nothing.
    let mut found = None;
    let candidates = [NonNull::new(nested).map(|t| (t, nested_id)), outer];
    for (task, id) in candidates.into_iter().flatten() {
        let mut search = |owned: &OwnedTasks| {
            if found.is_none() {
                found = owned.with_task(task, id, |header, raw| {
                    describe(watchdog, slot, lasted, header, raw)
                });
            }
        };
        target.for_each_owned(&mut search);
        // A `LocalSet`'s task.
        watchdog.for_each_adopted(&mut search);
        if found.is_some() {
            break;
        }
    }
    if found.is_none() && outer.is_none() {
        // The poll is a `block_on`'s future, not a task's.
        // SAFETY: `site` is null or was stored from a
        // `&'static Location<'static>` by `begin_block_on`.
        let site = unsafe { site.as_ref() };
        let block_on = site.zip(Id::from_u64(id));
        found = block_on.map(|(site, id)| {
            watchdog
                .block_on_report(id, site, ReportKind::BlockedPoll)
                .map(|mut report| {
                    report.duration = lasted;
                    report.worker = Some(slot.worker);
                    (report, None)
                })
        });
    }
    let Some(Some((report, keep))) = found else {
        return;
    };
    watchdog.emit(&report);
    if let Some(raw) = keep {
        watchdog.stash_abort(report);
        crate::runtime::task::abort_raw(raw);
        RawTask::drop_reference(raw);
    }
    target.rescue(slot.worker, seq, all_blocked);
}

/// Builds the report of a blocked poll, under the owned list's lock (the
/// task is alive); for `Policy::Abort`, also a counted reference to it.
fn describe(
    watchdog: &Watchdog,
    slot: &PollSlot,
    lasted: Duration,
    header: &Header,
    raw: RawTask,
) -> Option<(super::Report, Option<RawTask>)> {
    {
        let policy = watchdog.policy_of(header);
        if policy == Policy::Ignore {
            return None;
        }
        let mut report = watchdog.report_for(header, ReportKind::BlockedPoll, policy);
        report.duration = lasted;
        report.worker = Some(slot.worker);
        // Keep the task alive past the list lock if we are to cancel it.
        let keep = (policy == Policy::Abort).then(|| {
            raw.ref_inc();
            header.watch.mark_aborted();
            raw
        });
        Some((report, keep))
    }
}
