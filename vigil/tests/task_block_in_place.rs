//! `vigil::task::block_in_place`: a task blocks its worker thread while the
//! runtime's other tasks, timers and I/O go on elsewhere; its value and its
//! panic come back; it nests; many run at once; it panics on a
//! current-thread runtime and just runs outside a runtime; the watchdog
//! does not call it a blocked poll; a replacement worker hands its core on
//! too; and shutting the runtime down while a closure blocks completes with
//! every task cancelled.

mod common;

use common::{panic_message, DropCounter};
use std::future::pending;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc as std_mpsc, Arc, Barrier, Mutex};
use std::time::{Duration, Instant};
use vigil::io::{AsyncReadExt, AsyncWriteExt};
use vigil::net::UnixStream;
use vigil::runtime::{Builder, Runtime};
use vigil::sync::{mpsc, oneshot};
use vigil::task::{self, block_in_place};
use vigil::watchdog::{Config, Report, ReportKind};

/// Every test's bound: a hang fails the test instead of stalling the suite.
const LIMIT: Duration = Duration::from_secs(20);

/// A multi-thread runtime whose watchdog does not look for blocked polls:
/// it would start replacement workers for a blocked one, which would let
/// these tests pass without `block_in_place` handing anything over.
fn multi_thread(workers: usize) -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(workers)
        .watchdog(Config::new().detect_blocked_polls(false))
        .build()
        .unwrap()
}

/// Runs `f` on a thread of its own and fails if it takes longer than
/// [`LIMIT`].
fn within<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std_mpsc::channel();
    let thread = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(LIMIT) {
        Ok(value) => {
            let _ = thread.join();
            value
        }
        Err(std_mpsc::RecvTimeoutError::Timeout) => panic!("did not finish within {LIMIT:?}"),
        Err(std_mpsc::RecvTimeoutError::Disconnected) => match thread.join() {
            Err(payload) => std::panic::resume_unwind(payload),
            Ok(()) => panic!("the test thread ended without a result"),
        },
    }
}

/// Other tasks, a timer and a socket pair make progress while the only
/// worker is blocked in `block_in_place`: the closure waits (on a plain
/// channel) for them to finish their whole exchange.
#[test]
fn other_tasks_timers_and_io_progress_on_a_one_worker_runtime() {
    within(|| {
        let rt = multi_thread(1);
        rt.block_on(async {
            let (done_tx, done_rx) = std_mpsc::channel::<Vec<u32>>();
            let (started_tx, started_rx) = oneshot::channel();
            let blocker = vigil::spawn(async move {
                block_in_place(move || {
                    started_tx.send(()).unwrap();
                    done_rx
                        .recv_timeout(LIMIT)
                        .expect("the other tasks never finished")
                })
            });
            started_rx.await.unwrap();

            // A ping-pong between two tasks over vigil channels, a timer,
            // and bytes through a socket pair, all while the closure blocks.
            let (ping_tx, mut ping_rx) = mpsc::channel::<u32>(1);
            let (pong_tx, mut pong_rx) = mpsc::channel::<u32>(1);
            let ponger = vigil::spawn(async move {
                while let Some(n) = ping_rx.recv().await {
                    pong_tx.send(n + 1).await.unwrap();
                }
            });
            let worker = vigil::spawn(async move {
                let mut seen = Vec::new();
                for i in 0..50 {
                    ping_tx.send(i * 2).await.unwrap();
                    seen.push(pong_rx.recv().await.unwrap());
                }
                vigil::time::sleep(Duration::from_millis(20)).await;
                let (mut a, mut b) = UnixStream::pair().unwrap();
                a.write_all(b"through the driver").await.unwrap();
                let mut buf = [0; 18];
                b.read_exact(&mut buf).await.unwrap();
                assert_eq!(&buf, b"through the driver");
                seen
            });
            let seen = worker.await.unwrap();
            ponger.await.unwrap();
            assert!(!blocker.is_finished(), "the closure did not wait");
            done_tx.send(seen).unwrap();
            let seen = blocker.await.unwrap();
            assert_eq!(seen, (0..50).map(|i| i * 2 + 1).collect::<Vec<_>>());
        });
    });
}

/// The closure's value comes back, it may borrow the task's data, and the
/// task goes on after it (awaiting, spawning, yielding) on whichever thread
/// then holds a core.
#[test]
fn the_value_comes_back_and_the_task_goes_on() {
    within(|| {
        let rt = multi_thread(2);
        rt.block_on(async {
            let out = vigil::spawn(async {
                let id = task::id();
                let mut words = vec!["a"];
                let n = block_in_place(|| {
                    assert_eq!(task::id(), id, "the closure runs inside its task");
                    words.push("b");
                    words.len()
                });
                task::yield_now().await;
                let spawned = vigil::spawn(async { 40 }).await.unwrap();
                vigil::time::sleep(Duration::from_millis(1)).await;
                // A second call in the same task, after the first one's core
                // may have gone.
                let m = block_in_place(|| spawned + n);
                (words, m)
            })
            .await
            .unwrap();
            assert_eq!(out, (vec!["a", "b"], 42));
        });
    });
}

/// A panic in the closure panics the task, which its `JoinHandle` reports;
/// the runtime keeps running tasks and `block_in_place` calls afterwards.
#[test]
fn a_panic_in_the_closure_fails_the_task_and_the_runtime_goes_on() {
    within(|| {
        let rt = multi_thread(2);
        rt.block_on(async {
            let err = vigil::spawn(async {
                block_in_place(|| panic!("boom in block_in_place"));
            })
            .await
            .unwrap_err();
            assert!(err.is_panic(), "{err:?}");
            let payload = err.into_panic();
            assert_eq!(
                payload.downcast_ref::<&str>(),
                Some(&"boom in block_in_place")
            );

            for i in 0..4u32 {
                let got = vigil::spawn(async move { block_in_place(|| i * 10) })
                    .await
                    .unwrap();
                assert_eq!(got, i * 10);
            }
            let (tx, rx) = oneshot::channel();
            vigil::spawn(async move { tx.send(7).unwrap() });
            assert_eq!(rx.await.unwrap(), 7);
        });
    });
}

/// A `block_in_place` inside another just runs its closure.
#[test]
fn nested_calls_run_inline() {
    within(|| {
        let rt = multi_thread(2);
        let got = rt.block_on(async {
            vigil::spawn(async {
                block_in_place(|| {
                    let inner = block_in_place(|| block_in_place(|| 1) + 1);
                    inner + 1
                })
            })
            .await
            .unwrap()
        });
        assert_eq!(got, 3);
    });
}

/// Many closures block at once on a two-worker runtime: each call hands its
/// core on, so every task gets to its closure, and they all meet at a
/// barrier that needs every one of them.
#[test]
fn many_concurrent_calls_on_two_workers() {
    const N: usize = 16;
    within(|| {
        let rt = multi_thread(2);
        rt.block_on(async {
            let barrier = Arc::new(Barrier::new(N));
            let tasks: Vec<_> = (0..N)
                .map(|i| {
                    let barrier = barrier.clone();
                    vigil::spawn(async move {
                        vigil::time::sleep(Duration::from_millis(1)).await;
                        block_in_place(|| {
                            barrier.wait();
                        });
                        task::yield_now().await;
                        block_in_place(|| i)
                    })
                })
                .collect();
            for (i, t) in tasks.into_iter().enumerate() {
                assert_eq!(t.await.unwrap(), i);
            }
        });
        assert_eq!(rt.block_on(rt.spawn(async { 1 })).unwrap(), 1);
    });
}

/// Short calls in a loop, on both sides of the race between the new thread
/// taking the core and the closure returning first.
#[test]
fn short_calls_in_a_loop() {
    within(|| {
        let rt = multi_thread(2);
        let counted = Arc::new(AtomicUsize::new(0));
        let c = counted.clone();
        rt.block_on(async move {
            let tasks: Vec<_> = (0..4)
                .map(|_| {
                    let c = c.clone();
                    vigil::spawn(async move {
                        for _ in 0..100 {
                            block_in_place(|| c.fetch_add(1, Ordering::Relaxed));
                            task::yield_now().await;
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
        assert_eq!(counted.load(Ordering::Relaxed), 400);
    });
}

/// Inside the closure the thread counts as outside the runtime: it may
/// `block_on` a future of the same runtime, or use `blocking_recv`.
#[test]
fn the_closure_may_block_on_the_runtime() {
    within(|| {
        let rt = multi_thread(2);
        rt.block_on(async {
            let got = vigil::spawn(async {
                let handle = vigil::runtime::Handle::current();
                let (tx, mut rx) = mpsc::unbounded_channel();
                vigil::spawn(async move {
                    vigil::time::sleep(Duration::from_millis(5)).await;
                    tx.send(2).unwrap();
                });
                block_in_place(|| {
                    let a = handle.block_on(async {
                        vigil::time::sleep(Duration::from_millis(5)).await;
                        vigil::spawn(async { 1 }).await.unwrap()
                    });
                    a + rx.blocking_recv().unwrap()
                })
            })
            .await
            .unwrap();
            assert_eq!(got, 3);
        });
    });
}

/// On a current-thread runtime it panics, in `block_on` and in a task.
#[test]
fn a_current_thread_runtime_panics() {
    within(|| {
        let rt = Builder::new_current_thread().build().unwrap();
        let msg = panic_message(|| rt.block_on(async { block_in_place(|| ()) }));
        assert!(msg.contains("current-thread runtime"), "{msg}");
        assert!(msg.contains("spawn_blocking"), "{msg}");
        let ran = Arc::new(AtomicUsize::new(0));
        let r = ran.clone();
        let err = rt
            .block_on(rt.spawn(async move {
                block_in_place(|| r.fetch_add(1, Ordering::SeqCst));
            }))
            .unwrap_err();
        assert!(err.is_panic());
        assert_eq!(ran.load(Ordering::SeqCst), 0, "the closure ran");
        // `vigil::block_on` runs a current-thread runtime too.
        let msg = panic_message(|| vigil::block_on(async { block_in_place(|| ()) }));
        assert!(msg.contains("current-thread runtime"), "{msg}");
        // The runtime is still usable.
        assert_eq!(
            rt.block_on(async { vigil::spawn(async { 5 }).await.unwrap() }),
            5
        );
    });
}

/// Outside a runtime, in a multi-thread runtime's `block_on`, and in a
/// `spawn_blocking` closure, the closure just runs.
#[test]
fn elsewhere_the_closure_just_runs() {
    within(|| {
        assert_eq!(block_in_place(|| 5), 5);
        let rt = multi_thread(1);
        let _entered = rt.enter();
        assert_eq!(block_in_place(|| 6), 6);
        rt.block_on(async {
            assert_eq!(block_in_place(|| 7), 7);
            let got = task::spawn_blocking(|| block_in_place(|| 8)).await.unwrap();
            assert_eq!(got, 8);
        });
    });
}

/// A watchdog-enabled runtime whose reports go to the returned list.
fn watched_runtime(workers: usize, threshold: Duration) -> (Runtime, Arc<Mutex<Vec<Report>>>) {
    let reports = Arc::new(Mutex::new(Vec::new()));
    let sink = reports.clone();
    let rt = Builder::new_multi_thread()
        .worker_threads(workers)
        .watchdog(Config::new().blocked_poll_threshold(threshold))
        .on_watchdog(move |r| sink.lock().unwrap().push(r.clone()))
        .build()
        .unwrap();
    (rt, reports)
}

/// The watchdog reports nothing about a task that blocks 300 ms inside
/// `block_in_place`, but still reports one that blocks as long without it.
#[test]
fn the_watchdog_reports_a_plain_blocking_poll_but_not_block_in_place() {
    within(|| {
        let threshold = Duration::from_millis(100);
        let (rt, reports) = watched_runtime(2, threshold);
        let about = |id: task::Id| {
            reports
                .lock()
                .unwrap()
                .iter()
                .filter(|r| r.task_id() == id)
                .cloned()
                .collect::<Vec<_>>()
        };
        rt.block_on(async {
            let quiet = vigil::spawn(async {
                block_in_place(|| std::thread::sleep(Duration::from_millis(300)));
            });
            let quiet_id = quiet.id();
            quiet.await.unwrap();
            // Give the monitor a few samples past the closure's end.
            vigil::time::sleep(threshold).await;
            let quiet_reports = about(quiet_id);
            assert!(quiet_reports.is_empty(), "reported: {quiet_reports:?}");

            let loud = vigil::spawn(async {
                std::thread::sleep(Duration::from_millis(300));
            });
            let loud_id = loud.id();
            loud.await.unwrap();
            let start = Instant::now();
            while about(loud_id).is_empty() && start.elapsed() < Duration::from_secs(2) {
                vigil::time::sleep(Duration::from_millis(10)).await;
            }
            let loud_reports = about(loud_id);
            assert!(
                loud_reports
                    .iter()
                    .any(|r| r.kind() == ReportKind::BlockedPoll),
                "the plain blocking poll was not reported: {loud_reports:?}"
            );
        });
    });
}

/// Dropping the runtime while a closure blocks completes: the closure waits
/// for a message from a task that shutdown cancels, so it returns once the
/// last core has finished the shutdown (which needs the core the closure's
/// worker handed on), and every task is cancelled by the time drop returns.
#[test]
fn dropping_the_runtime_while_a_closure_blocks_completes() {
    within(|| {
        let rt = multi_thread(2);
        let dropped = Arc::new(AtomicUsize::new(0));
        let (started_tx, started_rx) = std_mpsc::channel();
        let (result_tx, result_rx) = std_mpsc::channel();
        let (tx, mut rx) = mpsc::channel::<u32>(1);
        let counter = DropCounter(dropped.clone());
        // Holds the sender, and never sends.
        rt.spawn(async move {
            let _tx = tx;
            let _counter = counter;
            pending::<()>().await;
        });
        let counter = DropCounter(dropped.clone());
        rt.spawn(async move {
            let _counter = counter;
            let got = block_in_place(|| {
                started_tx.send(()).unwrap();
                rx.blocking_recv()
            });
            result_tx.send(got).unwrap();
            pending::<()>().await;
        });
        // Cores handed on earlier, parked with tasks of their own.
        for _ in 0..3 {
            let counter = DropCounter(dropped.clone());
            rt.spawn(async move {
                block_in_place(|| ());
                let _counter = counter;
                pending::<()>().await;
            });
        }
        started_rx.recv_timeout(LIMIT).unwrap();
        drop(rt);
        assert_eq!(result_rx.try_recv(), Ok(None), "the closure did not end");
        assert_eq!(
            dropped.load(Ordering::SeqCst),
            5,
            "not every task was cancelled"
        );
    });
}

/// `shutdown_timeout` does not wait past its timeout for a closure that
/// keeps blocking; the closure's task is cancelled once it returns.
#[test]
fn shutdown_timeout_does_not_wait_for_a_blocked_closure() {
    within(|| {
        let rt = multi_thread(2);
        let dropped = Arc::new(AtomicUsize::new(0));
        let (started_tx, started_rx) = std_mpsc::channel();
        let (release_tx, release_rx) = std_mpsc::channel::<()>();
        let counter = DropCounter(dropped.clone());
        rt.spawn(async move {
            let _counter = counter;
            block_in_place(|| {
                started_tx.send(()).unwrap();
                release_rx.recv_timeout(LIMIT).unwrap();
            });
            pending::<()>().await;
        });
        let counter = DropCounter(dropped.clone());
        rt.spawn(async move {
            let _counter = counter;
            pending::<()>().await;
        });
        started_rx.recv_timeout(LIMIT).unwrap();
        let start = Instant::now();
        rt.shutdown_timeout(Duration::from_millis(100));
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "shutdown_timeout took {:?}",
            start.elapsed()
        );
        // The idle task is cancelled by the shutdown (which the core handed
        // on lets finish); the blocked one only when its poll ends, after
        // the closure.
        let wait_for = |n: usize| {
            let start = Instant::now();
            while dropped.load(Ordering::SeqCst) < n {
                assert!(start.elapsed() < LIMIT, "only {n} - 1 tasks were cancelled");
                std::thread::sleep(Duration::from_millis(1));
            }
        };
        wait_for(1);
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(
            dropped.load(Ordering::SeqCst),
            1,
            "cancelled during its closure"
        );
        release_tx.send(()).unwrap();
        wait_for(2);
    });
}

/// Counts its drop after a pause, so that a drop racing the runtime's own
/// drop would be seen late.
struct SlowDrop(Arc<AtomicUsize>);

impl Drop for SlowDrop {
    fn drop(&mut self) {
        std::thread::sleep(Duration::from_millis(50));
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Once the only worker's core has moved to a thread started by
/// `block_in_place` (and the worker thread has ended), dropping the runtime
/// still waits for that thread to cancel the tasks.
#[test]
fn drop_waits_for_the_thread_that_took_the_core() {
    within(|| {
        let rt = multi_thread(1);
        let dropped = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            let (tx, rx) = std_mpsc::channel();
            let moved = vigil::spawn(async move {
                // Returns only once another task ran, so the core has surely
                // gone to the new thread.
                block_in_place(|| rx.recv_timeout(LIMIT).unwrap());
            });
            vigil::spawn(async move { tx.send(()).unwrap() });
            moved.await.unwrap();
            for _ in 0..2 {
                let slow = SlowDrop(dropped.clone());
                vigil::spawn(async move {
                    let _slow = slow;
                    pending::<()>().await;
                });
            }
            task::yield_now().await;
        });
        drop(rt);
        assert_eq!(
            dropped.load(Ordering::SeqCst),
            2,
            "drop returned before the tasks were cancelled"
        );
    });
}

/// A task on a replacement worker (started by the watchdog because the
/// only worker is stuck in a plain blocking poll) hands the replacement's
/// core on like a worker's: a task it spawned runs while both block.
#[test]
#[cfg_attr(vigil_valgrind, ignore = "timing-sensitive: too slow under valgrind")]
fn a_replacement_worker_hands_its_core_on() {
    within(|| {
        let (rt, reports) = watched_runtime(1, Duration::from_millis(100));
        rt.block_on(async {
            let (stuck_tx, stuck_rx) = oneshot::channel();
            let (release_tx, release_rx) = std_mpsc::channel::<()>();
            // Blocks the only worker until released.
            let stuck = vigil::spawn(async move {
                stuck_tx.send(()).unwrap();
                release_rx.recv_timeout(LIMIT).unwrap();
            });
            stuck_rx.await.unwrap();
            // Runs on the replacement the watchdog starts.
            let on_replacement = vigil::spawn(async {
                let (tx, rx) = std_mpsc::channel();
                vigil::spawn(async move { tx.send("ran meanwhile").unwrap() });
                block_in_place(|| rx.recv_timeout(LIMIT).unwrap())
            });
            assert_eq!(on_replacement.await.unwrap(), "ran meanwhile");
            assert!(!stuck.is_finished());
            let blocked = reports
                .lock()
                .unwrap()
                .iter()
                .any(|r| r.task_id() == stuck.id());
            assert!(
                blocked,
                "the stuck task was not reported, so no replacement ran"
            );
            release_tx.send(()).unwrap();
            stuck.await.unwrap();
            // Workers and replacements sorted out: the runtime runs on.
            let again = vigil::spawn(async { block_in_place(|| 1) }).await;
            assert_eq!(again.unwrap(), 1);
        });
    });
}
