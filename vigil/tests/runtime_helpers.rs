//! When a busy multi-thread worker gets help from a sleeping one.
//!
//! Tasks *woken* into a busy worker's queue wake a sleeping sibling only
//! when the queue would take the worker a while (its backlog); a short
//! queue is drained where its tasks' data is hot. A sleeping sibling keeps
//! watch, though, and steals a task that has waited in a busy worker's
//! queue for a whole watch period, so a long poll cannot hold woken tasks
//! back. Spawned tasks wake a sibling at once.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vigil::runtime::{Builder, Runtime};
use vigil::sync::{mpsc, Notify};

fn two_workers(watchdog: bool) -> Runtime {
    let config = if watchdog {
        vigil::watchdog::Config::new()
    } else {
        vigil::watchdog::Config::disabled()
    };
    Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .watchdog(config)
        .build()
        .unwrap()
}

/// Spins (blocking its worker) until `other` is set or `limit` passes;
/// returns whether `other` was set.
fn spin_until(other: &AtomicBool, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if other.load(SeqCst) {
            return true;
        }
        std::hint::spin_loop();
    }
    other.load(SeqCst)
}

/// Two tasks woken together by one task, each of which blocks its worker
/// until the other has started: they can only both finish in time if the
/// sleeping worker takes one of them from the busy worker's queue. With the
/// watchdog off, nothing but the watch can move it (the backlog of one
/// short task is far below the help threshold).
#[test]
fn a_woken_task_stuck_behind_a_long_poll_is_stolen() {
    let rt = two_workers(false);
    for round in 0..5 {
        let started = Arc::new([AtomicBool::new(false), AtomicBool::new(false)]);
        let (tx0, rx0) = mpsc::channel::<()>(1);
        let (tx1, rx1) = mpsc::channel::<()>(1);
        let mut handles = Vec::new();
        for (me, mut rx) in [(0usize, rx0), (1, rx1)] {
            let started = started.clone();
            handles.push(rt.spawn(async move {
                rx.recv().await.expect("go");
                started[me].store(true, SeqCst);
                spin_until(&started[1 - me], Duration::from_secs(5))
            }));
        }
        let saw_each_other = rt.block_on(async move {
            // Let both tasks reach their `recv` and every worker go idle,
            // then wake both from one task.
            vigil::time::sleep(Duration::from_millis(20)).await;
            vigil::spawn(async move {
                tx0.send(()).await.unwrap();
                tx1.send(()).await.unwrap();
            })
            .await
            .unwrap();
            let mut all = true;
            for handle in handles {
                all &= handle.await.unwrap();
            }
            all
        });
        assert!(
            saw_each_other,
            "round {round}: the two tasks never ran at once"
        );
    }
}

/// A task that wakes a handful of short tasks again and again: they are
/// run by its own worker, which does not wake the other for them. Before
/// the backlog rule nearly every round woke the sleeping worker.
#[test]
fn short_woken_tasks_stay_with_their_worker() {
    const TASKS: usize = 8;
    const ROUNDS: usize = 400;
    let rt = two_workers(true);
    let wakes = rt.block_on(async {
        vigil::spawn(async {
            let notify = Arc::new(Notify::new());
            let done = Arc::new(AtomicUsize::new(0));
            let (ack_tx, mut ack_rx) = mpsc::channel::<()>(TASKS);
            let mut tasks = Vec::new();
            for _ in 0..TASKS {
                let notify = notify.clone();
                let done = done.clone();
                let ack_tx = ack_tx.clone();
                tasks.push(vigil::spawn(async move {
                    for _ in 0..ROUNDS {
                        let notified = notify.notified();
                        ack_tx.send(()).await.unwrap();
                        notified.await;
                        done.fetch_add(1, SeqCst);
                    }
                }));
            }
            let handle = vigil::runtime::Handle::current();
            let unparks = || -> u64 {
                let metrics = handle.metrics();
                metrics.workers().iter().map(|w| w.unparks()).sum()
            };
            let mut unparks_before = None;
            for round in 0..ROUNDS {
                for _ in 0..TASKS {
                    ack_rx.recv().await.unwrap();
                }
                if round == 10 {
                    // The spawns are settled: count from here.
                    unparks_before = Some(unparks());
                }
                notify.notify_waiters();
            }
            for task in tasks {
                task.await.unwrap();
            }
            assert_eq!(done.load(SeqCst), TASKS * ROUNDS);
            unparks() - unparks_before.unwrap()
        })
        .await
        .unwrap()
    });
    assert!(
        wakes < (ROUNDS / 4) as u64,
        "workers woke {wakes} times in {ROUNDS} rounds of short woken tasks"
    );
}
