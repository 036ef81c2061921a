//! Loom models of the work-stealing local run queue (`queue.rs`).
//!
//! Run with
//! `RUSTFLAGS="--cfg loom" cargo test -p vigil --release --lib loom`.
//! Under loom the ring holds `CAPACITY = 4` slots, so a handful of tasks is
//! enough to fill it, wrap its indices and overflow into the injection queue.
//!
//! The queue's correctness argument (see the module docs of `queue.rs`) is
//! that a slot is only ever claimed by whoever wins the compare-and-swap on
//! `head`, and that the owner only overwrites a slot after seeing `head` move
//! past it. A mistake there loses a task (it never runs: its waiter hangs) or
//! duplicates one (it is polled twice: a use-after-free). So every test
//! checks, over all interleavings loom explores:
//! * no task is taken out of a queue twice (checked on each claim, before
//!   the duplicate would run);
//! * each task was run exactly once (a per-task counter bumped by its future);
//! * each task was freed (its scheduler value, dropped with the task cell,
//!   bumps a counter), so no queue reference leaked.
//!
//! Tasks are real tasks and are run on whichever thread obtained them, so
//! loom also checks that a task's contents (written by the owner when it
//! created the task, before pushing it) are visible to the stealer that runs
//! it: the stage is a loom `UnsafeCell`, and the ring's Release/Acquire on
//! `tail` and `head` must order those accesses.
//!
//! Bookkeeping uses `std` atomics: loom runs all model threads on one OS
//! thread, so they are exact, and they stay out of the explored state space.

use super::queue::{self, Local, CAPACITY};
use crate::runtime::scheduler::inject::Inject;
use crate::runtime::task::{new_task, JoinHandle, Notified, RawTask, Schedule, TaskMeta};
use loom::thread;
use std::collections::HashSet;
use std::panic::Location;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};

/// Runs `f` under loom with preemption bound `bound` unless
/// `LOOM_MAX_PREEMPTIONS` overrides it. The bounds below keep each model at
/// seconds (the three-thread model grows about 4x per extra preemption);
/// most queue bugs need only one or two preemptions to show.
fn model(bound: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(bound);
    }
    // Report the explored iterations (visible with `--nocapture`), so a
    // model that silently explores almost nothing is noticed.
    let iterations = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = iterations.clone();
    builder.check(move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        f()
    });
    eprintln!(
        "{}: {} iterations",
        std::thread::current().name().unwrap_or("?"),
        iterations.load(std::sync::atomic::Ordering::Relaxed)
    );
}

/// The scheduler of the tasks in these tests. Tasks never wake themselves,
/// so `schedule` must not be called; its only job is to count, when dropped
/// together with the task cell, that the task was freed.
struct NoSchedule {
    freed: Arc<AtomicUsize>,
}

impl Drop for NoSchedule {
    fn drop(&mut self) {
        self.freed.fetch_add(1, SeqCst);
    }
}

impl Schedule for NoSchedule {
    fn schedule(&self, _task: Notified<Self>) {
        panic!("a queue-test task was woken");
    }

    fn release(&self, _task: RawTask) -> bool {
        // Not linked into any owned-task list.
        false
    }
    fn watchdog(&self) -> &crate::runtime::watch::Watchdog {
        crate::runtime::watch::Watchdog::off()
    }
}

/// The tasks of one model iteration and what happened to them.
struct Tasks {
    runs: Arc<Vec<AtomicUsize>>,
    freed: Arc<AtomicUsize>,
    /// Header addresses of the tasks taken out of a queue so far. Every
    /// join handle is kept until the end, so no task is freed (and no
    /// address reused) before the check: a slot claimed twice is reported
    /// here, before the second claim would run a completed task.
    claimed: Mutex<HashSet<usize>>,
    joins: Mutex<Vec<JoinHandle<()>>>,
}

impl Tasks {
    fn new(n: usize) -> Arc<Tasks> {
        Arc::new(Tasks {
            runs: Arc::new((0..n).map(|_| AtomicUsize::new(0)).collect()),
            freed: Arc::new(AtomicUsize::new(0)),
            claimed: Mutex::new(HashSet::new()),
            joins: Mutex::new(Vec::new()),
        })
    }

    /// Creates task `i` and returns its queue reference. The owned-list
    /// reference is dropped at once (there is no owned list here); the join
    /// handle is kept until `check`.
    fn task(&self, i: usize) -> Notified<NoSchedule> {
        let runs = self.runs.clone();
        let sched = NoSchedule {
            freed: self.freed.clone(),
        };
        let meta = TaskMeta::new(Default::default(), Location::caller());
        let (owned, notified, join) = new_task(
            async move {
                runs[i].fetch_add(1, SeqCst);
            },
            sched,
            meta,
        );
        drop(owned);
        self.joins.lock().unwrap().push(join);
        notified
    }

    /// Runs a task taken out of a queue, after checking that nobody took it
    /// before.
    fn run(&self, task: Notified<NoSchedule>) {
        let raw = task.into_raw();
        let addr = raw.header_ptr().as_ptr() as usize;
        assert!(
            self.claimed.lock().unwrap().insert(addr),
            "a task was taken out of the run queue twice"
        );
        raw.poll();
    }

    /// Ends the iteration: every task ran exactly once and, once the join
    /// handles are gone, was freed.
    fn check(&self) {
        for (i, runs) in self.runs.iter().enumerate() {
            let runs = runs.load(SeqCst);
            assert_eq!(runs, 1, "task {i} ran {runs} times");
        }
        // Take the handles out first: dropping one frees its task (loom
        // operations), which must not happen under a `std` lock.
        let joins = std::mem::take(&mut *self.joins.lock().unwrap());
        drop(joins);
        assert_eq!(
            self.freed.load(SeqCst),
            self.runs.len(),
            "a task was leaked"
        );
    }
}

/// What an idle worker does, `attempts` times: steal half of `victim` into
/// its own queue, run the task it is handed, then run what it stole.
fn steal_and_run(
    tasks: &Tasks,
    victim: &queue::Steal<NoSchedule>,
    own: &mut Local<NoSchedule>,
    attempts: usize,
) {
    for _ in 0..attempts {
        if let Some(task) = victim.steal_into(own) {
            tasks.run(task);
        }
        while let Some(task) = own.pop() {
            tasks.run(task);
        }
    }
}

/// The owner's and then the injection queue's remaining tasks.
fn drain(tasks: &Tasks, local: &mut Local<NoSchedule>, inject: &Inject<NoSchedule>) {
    while let Some(task) = local.pop() {
        tasks.run(task);
    }
    while let Some(task) = inject.pop() {
        tasks.run(task);
    }
}

/// The owner pushes and pops (interleaved, so its pops race the steal for
/// the same slots, and a push reuses a slot a steal may be copying) while one
/// other worker steals. Nothing may be lost or run twice.
#[test]
fn loom_queue_push_pop_vs_steal() {
    model(4, || {
        let tasks = Tasks::new(4);
        let inject = Inject::new();
        let (victim, mut local) = queue::local();
        let (_, mut thief_queue) = queue::local();

        let thief = thread::spawn({
            let tasks = tasks.clone();
            move || steal_and_run(&tasks, &victim, &mut thief_queue, 2)
        });

        for i in 0..3 {
            local.push_back(tasks.task(i), &inject);
        }
        if let Some(task) = local.pop() {
            tasks.run(task);
        }
        local.push_back(tasks.task(3), &inject);
        drain(&tasks, &mut local, &inject);

        thief.join().unwrap();
        tasks.check();
    });
}

/// The owner pushes more than `CAPACITY` tasks while a worker steals, so
/// (unless the steal made room first) the ring overflows: half of it plus
/// the new task move to the injection queue by a compare-and-swap on `head`
/// that races the stealer's compare-and-swap on the same word. The losing
/// side must retry without having taken anything. Also asserts that the
/// overflow path was in fact reached in some explored interleaving.
#[test]
fn loom_queue_overflow_to_inject_vs_steal() {
    let overflowed = Arc::new(AtomicUsize::new(0));
    let seen = overflowed.clone();
    model(4, move || {
        let n = CAPACITY + 1;
        let tasks = Tasks::new(n);
        let inject = Inject::new();
        let (victim, mut local) = queue::local();
        let (_, mut thief_queue) = queue::local();

        let thief = thread::spawn({
            let tasks = tasks.clone();
            move || steal_and_run(&tasks, &victim, &mut thief_queue, 2)
        });

        for i in 0..n {
            local.push_back(tasks.task(i), &inject);
        }
        if !inject.is_empty() {
            seen.fetch_add(1, SeqCst);
        }
        drain(&tasks, &mut local, &inject);

        thief.join().unwrap();
        tasks.check();
    });
    assert!(
        overflowed.load(SeqCst) > 0,
        "no interleaving overflowed the ring"
    );
}

/// Two workers steal from the same victim while its owner pops: three-way
/// contention on `head`, and each stealer copies slots into its own ring
/// before its CAS, so a failed CAS must leave no trace in either ring.
#[test]
fn loom_queue_two_stealers() {
    model(4, || {
        let tasks = Tasks::new(CAPACITY);
        let inject = Inject::new();
        let (victim, mut local) = queue::local();
        let victim = Arc::new(victim);
        for i in 0..CAPACITY {
            local.push_back(tasks.task(i), &inject);
        }
        assert!(inject.is_empty());

        let thieves: Vec<_> = (0..2)
            .map(|_| {
                let victim = victim.clone();
                let tasks = tasks.clone();
                let (_, mut own) = queue::local();
                thread::spawn(move || steal_and_run(&tasks, &victim, &mut own, 1))
            })
            .collect();

        if let Some(task) = local.pop() {
            tasks.run(task);
        }
        drain(&tasks, &mut local, &inject);
        for thief in thieves {
            thief.join().unwrap();
        }
        tasks.check();
    });
}
