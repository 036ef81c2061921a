//! Spawning, joining, aborting and panicking tasks, on both schedulers.

mod common;

use common::{both_flavours, current_thread, multi_thread, DropCounter};
use std::future::{pending, poll_fn, Future};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll, Waker};
use vigil::task::{self, JoinSet};

#[test]
fn join_returns_output() {
    for (name, rt) in both_flavours() {
        let out = rt.block_on(async { vigil::spawn(async { 7 }).await.unwrap() });
        assert_eq!(out, 7, "{name}");
    }
}

#[test]
fn join_after_completion() {
    for (name, rt) in both_flavours() {
        rt.block_on(async {
            let handle = vigil::spawn(async { String::from("done") });
            while !handle.is_finished() {
                task::yield_now().await;
            }
            assert_eq!(handle.await.unwrap(), "done", "{name}");
        });
    }
}

#[test]
fn abort_before_first_poll() {
    let runtimes = [
        ("current_thread", current_thread()),
        ("multi_thread", multi_thread(1)),
    ];
    for (name, rt) in runtimes {
        let drops = Arc::new(AtomicUsize::new(0));
        let polled = Arc::new(AtomicUsize::new(0));
        let (d, p) = (drops.clone(), polled.clone());
        // Occupy the only worker so the task cannot be polled before the
        // abort (the current-thread runtime polls nothing until we yield).
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let (busy_tx, busy_rx) = mpsc::channel::<()>();
        let blocker = (name == "multi_thread").then(|| {
            rt.spawn(async move {
                busy_tx.send(()).unwrap();
                let _ = release_rx.recv();
            })
        });
        if blocker.is_some() {
            busy_rx.recv().unwrap();
        }
        let guard = DropCounter(d);
        let handle = rt.spawn(async move {
            let _guard = guard;
            p.fetch_add(1, Ordering::SeqCst);
        });
        handle.abort();
        drop(release_tx);
        let err = rt.block_on(handle).unwrap_err();
        assert!(err.is_cancelled(), "{name}: {err}");
        assert_eq!(polled.load(Ordering::SeqCst), 0, "{name}");
        assert_eq!(drops.load(Ordering::SeqCst), 1, "{name}");
    }
}

#[test]
fn abort_while_pending() {
    for (name, rt) in both_flavours() {
        let drops = Arc::new(AtomicUsize::new(0));
        let d = drops.clone();
        let err = rt.block_on(async move {
            let (started_tx, started_rx) = mpsc::channel();
            let handle = vigil::spawn(async move {
                let _guard = DropCounter(d);
                started_tx.send(()).unwrap();
                pending::<()>().await;
            });
            while started_rx.try_recv().is_err() {
                task::yield_now().await;
            }
            handle.abort();
            handle.await.unwrap_err()
        });
        assert!(err.is_cancelled(), "{name}");
        assert_eq!(drops.load(Ordering::SeqCst), 1, "{name}");
    }
}

#[test]
fn abort_from_inside_own_poll() {
    // The task aborts itself while running: it is cancelled when the poll
    // returns Pending, and never polled again.
    for (name, rt) in both_flavours() {
        let polls = Arc::new(AtomicUsize::new(0));
        let p = polls.clone();
        let err = rt.block_on(async move {
            let (tx, rx) = mpsc::channel::<task::AbortHandle>();
            let handle = vigil::spawn(async move {
                let me = rx.recv().unwrap();
                poll_fn(|cx| {
                    p.fetch_add(1, Ordering::SeqCst);
                    me.abort();
                    cx.waker().wake_by_ref();
                    Poll::<()>::Pending
                })
                .await
            });
            tx.send(handle.abort_handle()).unwrap();
            handle.await.unwrap_err()
        });
        assert!(err.is_cancelled(), "{name}");
        assert_eq!(polls.load(Ordering::SeqCst), 1, "{name}");
    }
}

#[test]
fn abort_after_completion_keeps_output() {
    for (name, rt) in both_flavours() {
        rt.block_on(async {
            let handle = vigil::spawn(async { 5 });
            while !handle.is_finished() {
                task::yield_now().await;
            }
            handle.abort();
            assert_eq!(handle.await.unwrap(), 5, "{name}");
        });
    }
}

#[test]
fn panic_payload_reaches_join_error() {
    for (name, rt) in both_flavours() {
        let err = rt.block_on(async {
            vigil::spawn(async {
                if true {
                    panic!("boom {}", 42);
                }
            })
            .await
            .unwrap_err()
        });
        assert!(err.is_panic(), "{name}");
        assert!(err.to_string().contains("boom 42"), "{name}: {err}");
        let payload = err.into_panic();
        let msg = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied());
        assert_eq!(msg, Some("boom 42"), "{name}");
        // The runtime keeps running after a task panicked.
        assert_eq!(
            rt.block_on(async { vigil::spawn(async { 1 }).await.unwrap() }),
            1
        );
    }
}

#[test]
fn dropping_join_handle_detaches() {
    for (name, rt) in both_flavours() {
        let (tx, rx) = mpsc::channel();
        rt.block_on(async move {
            drop(vigil::spawn(async move {
                task::yield_now().await;
                tx.send(name).unwrap();
            }));
            // Give the detached task a chance to run.
            for _ in 0..10 {
                task::yield_now().await;
            }
        });
        assert_eq!(rx.recv().unwrap(), name);
    }
}

/// A future that hands its waker out, then completes once woken.
struct SendWaker {
    tx: Option<mpsc::Sender<Waker>>,
    woken: Arc<AtomicUsize>,
}

impl Future for SendWaker {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if let Some(tx) = self.tx.take() {
            tx.send(cx.waker().clone()).unwrap();
            return Poll::Pending;
        }
        self.woken.fetch_add(1, Ordering::SeqCst);
        Poll::Ready(())
    }
}

#[test]
fn wakers_used_from_other_threads_after_completion() {
    for (name, rt) in both_flavours() {
        let woken = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = mpsc::channel();
        let handle = rt.spawn(SendWaker {
            tx: Some(tx),
            woken: woken.clone(),
        });
        // On the current-thread runtime the task only runs inside block_on.
        let waker = rt.block_on(async {
            loop {
                if let Ok(waker) = rx.try_recv() {
                    break waker;
                }
                task::yield_now().await;
            }
        });
        let clones: Vec<Waker> = (0..8).map(|_| waker.clone()).collect();
        // Wake from another thread; the task completes.
        let w = waker.clone();
        std::thread::spawn(move || w.wake()).join().unwrap();
        rt.block_on(handle).unwrap();
        assert_eq!(woken.load(Ordering::SeqCst), 1, "{name}");
        // The task is finished; its wakers must still be safe to use and drop
        // from any thread.
        let threads: Vec<_> = clones
            .into_iter()
            .map(|w| {
                std::thread::spawn(move || {
                    w.wake_by_ref();
                    w.wake();
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        drop(waker);
        drop(rt);
    }
}

#[test]
fn hundred_thousand_tasks_each_run_once() {
    const N: usize = 100_000;
    for (name, rt) in both_flavours() {
        let runs: Arc<Vec<AtomicUsize>> = Arc::new((0..N).map(|_| AtomicUsize::new(0)).collect());
        let r = runs.clone();
        rt.block_on(async move {
            let mut handles = Vec::with_capacity(N);
            for i in 0..N {
                let r = r.clone();
                handles.push(vigil::spawn(async move {
                    r[i].fetch_add(1, Ordering::Relaxed);
                }));
            }
            for h in handles {
                h.await.unwrap();
            }
        });
        assert!(
            runs.iter().all(|c| c.load(Ordering::Relaxed) == 1),
            "{name}: some task ran zero or several times"
        );
    }
}

#[test]
fn tasks_spread_over_all_workers() {
    let rt = multi_thread(2);
    let threads = rt.block_on(async {
        let (tx, rx) = mpsc::channel();
        let barrier = Arc::new(std::sync::Barrier::new(2));
        let mut handles = Vec::new();
        for _ in 0..2 {
            let tx = tx.clone();
            let barrier = barrier.clone();
            // Each task blocks until the other one runs: only possible if
            // both workers take one.
            handles.push(vigil::spawn(async move {
                barrier.wait();
                tx.send(std::thread::current().id()).unwrap();
            }));
        }
        for h in handles {
            h.await.unwrap();
        }
        [rx.recv().unwrap(), rx.recv().unwrap()]
    });
    assert_ne!(threads[0], threads[1]);
}

#[test]
fn join_set_collects_in_completion_order() {
    for (name, rt) in both_flavours() {
        rt.block_on(async {
            let mut set = JoinSet::new();
            for i in 0..100u32 {
                set.spawn(async move {
                    for _ in 0..(i % 7) {
                        task::yield_now().await;
                    }
                    i
                });
            }
            let mut seen = Vec::new();
            while let Some(res) = set.join_next().await {
                seen.push(res.unwrap());
            }
            seen.sort_unstable();
            assert_eq!(seen, (0..100).collect::<Vec<_>>(), "{name}");
            assert!(set.is_empty());
        });
    }
}

/// More finished tasks than one poll's cooperative budget: the join
/// handles start answering `Pending` (and waking their entries at once)
/// part-way through, and `join_next` must yield instead of spinning on
/// them. This hung the multi-thread `block_on` before the fix.
#[test]
fn join_set_outlasts_the_cooperative_budget() {
    for (name, rt) in both_flavours() {
        let (tx, rx) = std::sync::mpsc::channel();
        let handle = rt.handle().clone();
        std::thread::spawn(move || {
            let n = handle.block_on(async {
                let mut set = JoinSet::new();
                for i in 0..1000u32 {
                    set.spawn(async move { i });
                }
                // Let every task finish before the first join.
                while vigil::runtime::Handle::current().num_alive_tasks() > 0 {
                    task::yield_now().await;
                }
                let mut n = 0;
                while let Some(res) = set.join_next().await {
                    res.unwrap();
                    n += 1;
                }
                n
            });
            tx.send(n).unwrap();
        });
        let n = rx
            .recv_timeout(std::time::Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("{name}: join_next never finished"));
        assert_eq!(n, 1000, "{name}");
    }
}

#[test]
fn join_set_ids_collect_extend_and_blocking_on_a_handle() {
    for (name, rt) in both_flavours() {
        let handle = rt.handle().clone();
        rt.block_on(async move {
            // Collected and extended from iterators of futures.
            let mut set: JoinSet<u32> = (0..5u32).map(|i| async move { i }).collect();
            set.extend((5..8u32).map(|i| async move { i }));
            let mut ids = std::collections::HashMap::new();
            let blocking = set.spawn_blocking_on(|| 100, &handle);
            ids.insert(blocking.id(), 100);
            let failing = set.spawn(async { panic!("boom") });
            let failing_id = failing.id();
            let mut seen = Vec::new();
            let mut failed = 0;
            while let Some(res) = set.join_next_with_id().await {
                match res {
                    Ok((id, v)) => {
                        if let Some(expected) = ids.get(&id) {
                            assert_eq!(*expected, v, "{name}");
                        }
                        seen.push(v);
                    }
                    Err(e) => {
                        assert!(e.is_panic(), "{name}");
                        assert_eq!(e.id(), failing_id, "{name}");
                        failed += 1;
                    }
                }
            }
            seen.sort_unstable();
            assert_eq!(seen, [0, 1, 2, 3, 4, 5, 6, 7, 100], "{name}");
            assert_eq!(failed, 1, "{name}");
            // try_join_next_with_id on a finished task, without waiting.
            let id = set.spawn(async { 9 }).id();
            while vigil::runtime::Handle::current().num_alive_tasks() > 0 {
                task::yield_now().await;
            }
            let Some(Ok((got, 9))) = set.try_join_next_with_id() else {
                panic!("{name}: the finished task was not returned");
            };
            assert_eq!(got, id, "{name}");
            assert!(set.try_join_next_with_id().is_none());
        });
    }
}

#[test]
fn join_set_drop_aborts() {
    for (name, rt) in both_flavours() {
        let drops = Arc::new(AtomicUsize::new(0));
        let d = drops.clone();
        rt.block_on(async move {
            let mut set = JoinSet::new();
            for _ in 0..10 {
                let guard = DropCounter(d.clone());
                set.spawn(async move {
                    let _guard = guard;
                    pending::<()>().await
                });
            }
            task::yield_now().await;
            drop(set);
            while d.load(Ordering::SeqCst) < 10 {
                task::yield_now().await;
            }
        });
        assert_eq!(drops.load(Ordering::SeqCst), 10, "{name}");
    }
}

#[test]
fn named_tasks_and_ids() {
    let rt = current_thread();
    rt.block_on(async {
        let handle = task::Builder::new()
            .name("worker-a")
            .spawn(async { task::id() })
            .unwrap();
        let id = handle.id();
        assert_eq!(handle.await.unwrap(), id);
        assert!(task::try_id().is_none(), "block_on's future is not a task");
    });
}
