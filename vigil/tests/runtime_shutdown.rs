//! What dropping a runtime does to the tasks still in it.

mod common;

use common::{both_flavours, current_thread, multi_thread};
use std::future::pending;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

/// Records each drop and the thread it happened on.
struct Tracked {
    drops: Arc<AtomicUsize>,
    threads: Arc<Mutex<Vec<ThreadId>>>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
        self.threads
            .lock()
            .unwrap()
            .push(std::thread::current().id());
    }
}

#[test]
fn shutdown_drops_each_pending_future_exactly_once() {
    const N: usize = 1000;
    for (name, rt) in both_flavours() {
        let drops = Arc::new(AtomicUsize::new(0));
        let threads = Arc::new(Mutex::new(Vec::new()));
        rt.block_on(async {
            for i in 0..N {
                let tracked = Tracked {
                    drops: drops.clone(),
                    threads: threads.clone(),
                };
                vigil::spawn(async move {
                    let _tracked = tracked;
                    if i % 2 == 0 {
                        // Half of them have been polled once.
                        vigil::task::yield_now().await;
                    }
                    pending::<()>().await
                });
            }
            vigil::task::yield_now().await;
        });
        assert_eq!(drops.load(Ordering::SeqCst), 0, "{name}");
        drop(rt);
        assert_eq!(drops.load(Ordering::SeqCst), N, "{name}");
        if name == "multi_thread" {
            // Dropped on a runtime worker, not on the thread that dropped the runtime.
            let me = std::thread::current().id();
            assert!(threads.lock().unwrap().iter().all(|t| *t != me), "{name}");
        }
    }
}

#[test]
fn shutdown_drops_tasks_that_were_never_polled() {
    for (name, rt) in both_flavours() {
        let drops = Arc::new(AtomicUsize::new(0));
        let tracked = Tracked {
            drops: drops.clone(),
            threads: Arc::default(),
        };
        // Spawned from outside, on a current-thread runtime never driven.
        if name == "current_thread" {
            rt.spawn(async move {
                let _t = tracked;
            });
        } else {
            drop(tracked);
            drops.store(0, Ordering::SeqCst);
            let t = Tracked {
                drops: drops.clone(),
                threads: Arc::default(),
            };
            rt.spawn(async move {
                let _t = t;
                pending::<()>().await;
            });
        }
        drop(rt);
        assert_eq!(drops.load(Ordering::SeqCst), 1, "{name}");
    }
}

/// Spawns another task from its destructor.
struct SpawnOnDrop {
    spawned_dropped: Arc<AtomicUsize>,
}

impl Drop for SpawnOnDrop {
    fn drop(&mut self) {
        let counter = self.spawned_dropped.clone();
        let guard = Tracked {
            drops: counter,
            threads: Arc::default(),
        };
        // The runtime is shutting down: the new task must be cancelled (its
        // future dropped) rather than leaked or run.
        let handle = vigil::spawn(async move {
            let _guard = guard;
            pending::<()>().await
        });
        drop(handle);
    }
}

#[test]
fn future_spawning_from_its_destructor_during_shutdown() {
    for (name, rt) in both_flavours() {
        let spawned_dropped = Arc::new(AtomicUsize::new(0));
        let s = SpawnOnDrop {
            spawned_dropped: spawned_dropped.clone(),
        };
        rt.block_on(async {
            vigil::spawn(async move {
                let _s = s;
                pending::<()>().await
            });
            vigil::task::yield_now().await;
        });
        drop(rt);
        assert_eq!(spawned_dropped.load(Ordering::SeqCst), 1, "{name}");
    }
}

#[test]
fn join_handle_of_shut_down_task_reports_cancelled() {
    for (name, rt) in both_flavours() {
        let handle = rt.spawn(pending::<()>());
        drop(rt);
        let err = vigil::block_on(handle).unwrap_err();
        assert!(err.is_cancelled(), "{name}");
    }
}

#[test]
fn shutdown_timeout_bounds_the_wait_on_blocking_threads() {
    let rt = multi_thread(1);
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    rt.spawn_blocking(move || {
        started_tx.send(()).unwrap();
        // Blocks until the test releases it, long after shutdown returned.
        let _ = release_rx.recv_timeout(Duration::from_secs(30));
    });
    started_rx.recv().unwrap();
    let start = Instant::now();
    rt.shutdown_timeout(Duration::from_millis(100));
    let waited = start.elapsed();
    assert!(waited < Duration::from_secs(10), "waited {waited:?}");
    release_tx.send(()).unwrap();
}

#[test]
fn drop_waits_for_running_blocking_closures() {
    let rt = current_thread();
    let done = Arc::new(AtomicUsize::new(0));
    let d = done.clone();
    let (started_tx, started_rx) = mpsc::channel();
    rt.spawn_blocking(move || {
        started_tx.send(()).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        d.store(1, Ordering::SeqCst);
    });
    started_rx.recv().unwrap();
    drop(rt);
    assert_eq!(done.load(Ordering::SeqCst), 1);
}
