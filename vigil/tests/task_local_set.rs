//! `LocalSet`: `!Send` tasks driven by one thread, on both runtime
//! flavours: spawning, wakes from other threads, awaiting the set, dropping
//! it, panics, aborts, fairness, `block_on`, `enter` and nesting.

mod common;

use common::{both_flavours, current_thread, multi_thread};
use std::cell::{Cell, RefCell};
use std::future::{pending, poll_fn};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Poll, Waker};
use std::thread::{self, ThreadId};
use std::time::Duration;
use vigil::sync::oneshot;
use vigil::task::{self, JoinSet, LocalSet};

/// Runs `f` on a thread of its own and fails the test if it has not
/// returned within 30 seconds: a lost wake or a starved future hangs
/// rather than fails, and must not hang the test run.
fn within<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(catch_unwind(AssertUnwindSafe(f)));
    });
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(Ok(value)) => value,
        Ok(Err(panic)) => resume_unwind(panic),
        Err(_) => panic!("the test did not finish within 30 seconds"),
    }
}

/// Records the thread its owner was dropped on.
struct DropFlag(Arc<Mutex<Vec<ThreadId>>>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.lock().unwrap().push(thread::current().id());
    }
}

fn drop_flag() -> (DropFlag, Arc<Mutex<Vec<ThreadId>>>) {
    let dropped = Arc::new(Mutex::new(Vec::new()));
    (DropFlag(dropped.clone()), dropped)
}

#[test]
fn rc_tasks_run_on_the_driving_thread_with_run_until() {
    within(|| {
        for (name, rt) in both_flavours() {
            let local = LocalSet::new();
            let me = thread::current().id();
            let log = Rc::new(RefCell::new(Vec::new()));
            let total = rt.block_on(local.run_until(async {
                let handles: Vec<_> = (0..10u32)
                    .map(|i| {
                        let log = log.clone();
                        local.spawn_local(async move {
                            task::yield_now().await;
                            // The runtime works from a local task: a timer
                            // and a `Send` task on it.
                            vigil::time::sleep(Duration::from_millis(1)).await;
                            let doubled = vigil::spawn(async move { i * 2 }).await.unwrap();
                            assert_eq!(thread::current().id(), me, "{name}");
                            log.borrow_mut().push(i);
                            doubled
                        })
                    })
                    .collect();
                let mut total = 0;
                for handle in handles {
                    total += handle.await.unwrap();
                }
                total
            }));
            assert_eq!(total, 90, "{name}");
            let mut seen = log.borrow().clone();
            seen.sort_unstable();
            assert_eq!(seen, (0..10).collect::<Vec<_>>(), "{name}");
        }
    });
}

#[test]
fn free_spawn_local_inside_run_until_goes_to_the_set() {
    within(|| {
        // On a multi-thread runtime there is nothing else it could go to;
        // on a current-thread one it must go to the set, not the runtime:
        // dropping the set then cancels the task.
        for (name, rt) in both_flavours() {
            let local = LocalSet::new();
            let (flag, dropped) = drop_flag();
            let (ran, parked) = rt.block_on(local.run_until(async {
                let value = Rc::new(41);
                let ran = task::spawn_local(async move { *value + 1 }).await.unwrap();
                let parked = task::spawn_local(async move {
                    let _flag = flag;
                    pending::<()>().await
                });
                task::yield_now().await;
                (ran, parked)
            }));
            assert_eq!(ran, 42, "{name}");
            assert!(!parked.is_finished(), "{name}");
            assert!(dropped.lock().unwrap().is_empty(), "{name}");
            drop(local);
            assert_eq!(dropped.lock().unwrap().len(), 1, "{name}");
            let err = rt.block_on(parked).unwrap_err();
            assert!(err.is_cancelled(), "{name}: {err}");
        }
    });
}

#[test]
fn a_task_woken_from_another_thread_runs() {
    within(|| {
        for (name, rt) in both_flavours() {
            let local = LocalSet::new();
            for round in 0..20u32 {
                let (tx, rx) = oneshot::channel::<u32>();
                let (waiting_tx, waiting_rx) = mpsc::channel::<()>();
                // Sends once the task is about to wait: the wake then
                // usually finds the task (and the set) idle.
                let sender = thread::spawn(move || {
                    waiting_rx.recv().unwrap();
                    tx.send(round).unwrap();
                });
                let marker = Rc::new(round);
                let handle = local.spawn_local(async move {
                    waiting_tx.send(()).unwrap();
                    let got = rx.await.unwrap();
                    (*marker, got)
                });
                let (mine, got) = rt.block_on(local.run_until(handle)).unwrap();
                assert_eq!((mine, got), (round, round), "{name}");
                sender.join().unwrap();
            }
        }
    });
}

#[test]
fn a_local_join_handle_can_be_awaited_and_aborted_from_other_threads() {
    within(|| {
        let rt = multi_thread(2);
        let local = LocalSet::new();
        let handle = local.spawn_local(async {
            let value = Rc::new(5);
            task::yield_now().await;
            *value
        });
        // The output is `Send`, so the handle is too: a worker awaits it.
        let waiter = rt.spawn(async move { handle.await.unwrap() });
        assert_eq!(local.block_on(&rt, waiter).unwrap(), 5);

        // Abort from a plain thread while the set waits for the task.
        let (flag, dropped) = drop_flag();
        let (started_tx, started_rx) = mpsc::channel::<()>();
        let handle = local.spawn_local(async move {
            let _flag = flag;
            started_tx.send(()).unwrap();
            pending::<()>().await
        });
        let abort = handle.abort_handle();
        let aborter = thread::spawn(move || {
            started_rx.recv().unwrap();
            abort.abort();
        });
        let err = local.block_on(&rt, handle).unwrap_err();
        assert!(err.is_cancelled(), "{err}");
        aborter.join().unwrap();
        // Dropped on the set's thread, not the aborting one.
        assert_eq!(*dropped.lock().unwrap(), [thread::current().id()]);
    });
}

#[test]
fn awaiting_the_set_completes_when_every_task_has() {
    within(|| {
        for (name, rt) in both_flavours() {
            // An empty set is complete at once.
            rt.block_on(LocalSet::new());

            let mut local = LocalSet::new();
            let log = Rc::new(RefCell::new(Vec::new()));
            let (tx, rx) = oneshot::channel::<&'static str>();
            let l = log.clone();
            let first = local.spawn_local(async move {
                let word = rx.await.unwrap();
                l.borrow_mut().push(word);
            });
            let l = log.clone();
            local.spawn_local(async move {
                for _ in 0..5 {
                    task::yield_now().await;
                }
                vigil::time::sleep(Duration::from_millis(5)).await;
                // Spawned from a task, while the set is being awaited.
                let l2 = l.clone();
                task::spawn_local(async move {
                    task::yield_now().await;
                    l2.borrow_mut().push("grandchild");
                });
                l.borrow_mut().push("sender");
                tx.send("receiver").unwrap();
            });
            rt.block_on(&mut local);
            let mut seen = log.borrow().clone();
            seen.sort_unstable();
            assert_eq!(seen, ["grandchild", "receiver", "sender"], "{name}");
            assert!(first.is_finished(), "{name}");
            // Awaiting it again, with nothing left, completes at once.
            rt.block_on(&mut local);
        }
    });
}

#[test]
fn dropping_the_set_drops_unfinished_futures_and_cancels_their_handles() {
    within(|| {
        for (name, rt) in both_flavours() {
            let local = LocalSet::new();
            let started = Rc::new(Cell::new(false));
            let (flag_started, dropped_started) = drop_flag();
            let (flag_unpolled, dropped_unpolled) = drop_flag();
            let s = started.clone();
            let parked = local.spawn_local(async move {
                let _flag = flag_started;
                s.set(true);
                pending::<()>().await
            });
            // Keeps its waker where another thread will wake it after the
            // set is gone.
            let slot: Arc<Mutex<Option<Waker>>> = Arc::default();
            let s = slot.clone();
            let waiting = local.spawn_local(poll_fn(move |cx| {
                *s.lock().unwrap() = Some(cx.waker().clone());
                Poll::<()>::Pending
            }));
            rt.block_on(local.run_until(async {
                while !started.get() || slot.lock().unwrap().is_none() {
                    task::yield_now().await;
                }
            }));
            // Spawned after the last run: never polled.
            let unpolled = local.spawn_local(async move {
                let _flag = flag_unpolled;
                unreachable!("a task of a dropped set was polled")
            });
            assert!(dropped_started.lock().unwrap().is_empty(), "{name}");

            drop(local);
            let me = thread::current().id();
            assert_eq!(*dropped_started.lock().unwrap(), [me], "{name}");
            assert_eq!(*dropped_unpolled.lock().unwrap(), [me], "{name}");
            let waker = slot.lock().unwrap().take().unwrap();
            thread::spawn(move || waker.wake()).join().unwrap();
            for handle in [parked, waiting, unpolled] {
                assert!(handle.is_finished(), "{name}");
                let err = rt.block_on(handle).unwrap_err();
                assert!(err.is_cancelled(), "{name}: {err}");
            }
        }
    });
}

#[test]
fn a_panicking_task_is_reported_through_its_handle() {
    within(|| {
        for (name, rt) in both_flavours() {
            let local = LocalSet::new();
            let out = local.block_on(&rt, async {
                let boom = task::spawn_local(async {
                    let _not_send = Rc::new(());
                    task::yield_now().await;
                    panic!("boom in a local task");
                });
                let fine = task::spawn_local(async { Rc::new(3) });
                let err = boom.await.unwrap_err();
                assert!(err.is_panic(), "{name}: {err}");
                let payload = err.into_panic();
                assert_eq!(
                    payload.downcast_ref::<&str>(),
                    Some(&"boom in a local task"),
                    "{name}"
                );
                *fine.await.unwrap()
            });
            assert_eq!(out, 3, "{name}");
            // The set goes on running tasks afterwards.
            assert_eq!(
                local.block_on(&rt, local.spawn_local(async { 4 })).unwrap(),
                4
            );
        }
    });
}

#[test]
fn abort_cancels_a_local_task() {
    within(|| {
        for (name, rt) in both_flavours() {
            let local = LocalSet::new();
            let (flag, dropped) = drop_flag();
            local.block_on(&rt, async {
                let polls = Rc::new(Cell::new(0));
                let p = polls.clone();
                let handle = task::spawn_local(async move {
                    let _flag = flag;
                    loop {
                        p.set(p.get() + 1);
                        task::yield_now().await;
                    }
                });
                while polls.get() < 3 {
                    task::yield_now().await;
                }
                handle.abort();
                let err = handle.await.unwrap_err();
                assert!(err.is_cancelled(), "{name}: {err}");
                let after = polls.get();
                for _ in 0..10 {
                    task::yield_now().await;
                }
                assert_eq!(polls.get(), after, "{name}: polled after abort");
                // Aborted before it ever ran.
                let never = task::spawn_local(async { unreachable!("aborted task ran") });
                never.abort();
                assert!(never.await.unwrap_err().is_cancelled(), "{name}");
            });
            assert_eq!(*dropped.lock().unwrap(), [thread::current().id()], "{name}");
        }
    });
}

#[test]
fn an_always_ready_task_starves_neither_timers_nor_run_until_nor_the_runtime() {
    within(|| {
        for (name, rt) in both_flavours() {
            let local = LocalSet::new();
            let spins = Rc::new(Cell::new(0u64));
            let stop = Rc::new(Cell::new(false));
            let (s, st) = (spins.clone(), stop.clone());
            local.spawn_local(async move {
                while !st.get() {
                    s.set(s.get() + 1);
                    task::yield_now().await;
                }
            });
            let progress = Arc::new(AtomicUsize::new(0));
            let during = local.block_on(&rt, async {
                // A task of the runtime keeps moving.
                let p = progress.clone();
                let other = vigil::spawn(async move {
                    for _ in 0..50 {
                        p.fetch_add(1, Ordering::SeqCst);
                        task::yield_now().await;
                    }
                });
                // A timer fires.
                vigil::time::sleep(Duration::from_millis(20)).await;
                // This future is polled between bounded batches of the set.
                let before = spins.get();
                for _ in 0..100 {
                    task::yield_now().await;
                }
                let during = spins.get() - before;
                other.await.unwrap();
                stop.set(true);
                during
            });
            assert!(spins.get() > 0, "{name}: the local task never ran");
            assert_eq!(progress.load(Ordering::SeqCst), 50, "{name}");
            // At most one batch of the set per poll of the future (61
            // tasks, the runtime's default event interval).
            assert!(
                during <= 100 * 61,
                "{name}: {during} polls of the local task in 100 polls of run_until"
            );
        }
    });
}

#[test]
fn block_on_drives_the_set_on_both_flavours() {
    within(|| {
        for (name, rt) in both_flavours() {
            let local = LocalSet::new();
            let cell = Rc::new(RefCell::new(String::new()));
            let c = cell.clone();
            let out = local.block_on(&rt, async move {
                let c2 = c.clone();
                task::spawn_local(async move { c2.borrow_mut().push_str("local") })
                    .await
                    .unwrap();
                c.borrow().len()
            });
            assert_eq!(out, 5, "{name}");
            assert_eq!(*cell.borrow(), "local", "{name}");
        }
    });
}

#[test]
fn nested_sets_spawn_on_the_innermost() {
    within(|| {
        for (name, rt) in both_flavours() {
            let outer = LocalSet::new();
            let (flag, dropped) = drop_flag();
            outer.block_on(&rt, async {
                let inner = LocalSet::new();
                assert_ne!(inner.id(), outer.id(), "{name}");
                // The handle is awaited later, once the inner set is gone.
                #[allow(clippy::async_yields_async)]
                let parked = inner
                    .run_until(async {
                        let parked = task::spawn_local(async move {
                            let _flag = flag;
                            pending::<()>().await
                        });
                        task::yield_now().await;
                        parked
                    })
                    .await;
                // Back in the outer set.
                assert_eq!(task::spawn_local(async { 5 }).await.unwrap(), 5, "{name}");
                assert!(!parked.is_finished(), "{name}");
                // The task belonged to the inner set: dropping it cancels it.
                drop(inner);
                assert_eq!(dropped.lock().unwrap().len(), 1, "{name}");
                assert!(parked.await.unwrap_err().is_cancelled(), "{name}");

                // A set driven inside a task of another set.
                let nested = task::spawn_local(async {
                    let inner = LocalSet::new();
                    let value = inner
                        .run_until(async {
                            let rc = Rc::new(20);
                            task::spawn_local(async move { *rc + 1 }).await.unwrap()
                        })
                        .await;
                    let leftover = inner.spawn_local(async { 1 });
                    inner.await;
                    value + leftover.await.unwrap()
                });
                assert_eq!(nested.await.unwrap(), 22, "{name}");
            });
        }
    });
}

#[test]
fn a_set_driven_by_a_current_thread_local_task() {
    within(|| {
        let rt = current_thread();
        let out = rt.block_on(async {
            // No set here: this goes to the current-thread runtime, and the
            // set below runs inside that task's poll.
            task::spawn_local(async {
                let local = LocalSet::new();
                local
                    .run_until(async {
                        let mut total = 0;
                        for i in 0..10 {
                            let rc = Rc::new(i);
                            total += task::spawn_local(async move {
                                task::yield_now().await;
                                *rc
                            })
                            .await
                            .unwrap();
                        }
                        total
                    })
                    .await
            })
            .await
            .unwrap()
        });
        assert_eq!(out, 45);
    });
}

#[test]
fn enter_makes_spawn_local_use_the_set() {
    within(|| {
        for (name, rt) in both_flavours() {
            let local = LocalSet::new();
            let handle = {
                let _guard = local.enter();
                let value = Rc::new(7);
                task::spawn_local(async move { *value })
            };
            assert_eq!(local.block_on(&rt, handle).unwrap(), 7, "{name}");
            // Once the guard is gone, a plain thread has nowhere to spawn.
            let message = common::panic_message(|| drop(task::spawn_local(async {})));
            assert!(message.contains("LocalSet"), "{name}: {message}");
        }
    });
}

#[test]
fn spawn_local_outside_a_set_names_the_set() {
    let message = common::panic_message(|| drop(task::spawn_local(async {})));
    assert!(message.contains("`LocalSet`"), "{message}");
    assert!(message.contains("current-thread"), "{message}");
    let rt = multi_thread(1);
    let message =
        rt.block_on(async { common::panic_message(|| drop(task::spawn_local(async {}))) });
    assert!(message.contains("`LocalSet`"), "{message}");
}

#[test]
fn join_set_spawn_local_on_a_set() {
    within(|| {
        let rt = multi_thread(2);
        let local = LocalSet::new();
        let mut set = JoinSet::new();
        for i in 0..5u32 {
            let rc = Rc::new(i);
            set.spawn_local_on(
                async move {
                    task::yield_now().await;
                    *rc
                },
                &local,
            );
        }
        let mut got = local.block_on(&rt, async {
            let mut got = Vec::new();
            while let Some(res) = set.join_next().await {
                got.push(res.unwrap());
            }
            got
        });
        got.sort_unstable();
        assert_eq!(got, [0, 1, 2, 3, 4]);
    });
}

#[test]
fn ids_are_distinct_and_debug_names_the_set() {
    let a = LocalSet::new();
    let b = LocalSet::default();
    assert_ne!(a.id(), b.id());
    assert_eq!(a.id(), a.id());
    let debug = format!("{a:?}");
    assert!(debug.starts_with("LocalSet"), "{debug}");
    assert!(debug.contains(&a.id().to_string()), "{debug}");
    let guard = a.enter();
    assert!(format!("{guard:?}").contains("LocalEnterGuard"));
}
