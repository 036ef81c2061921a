//! Timers on the multi-threaded runtime: registration, firing and waking
//! across worker threads.

mod common;
use common::multi_thread;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use vigil::time::{sleep, sleep_until, timeout, Instant};

const MS: Duration = Duration::from_millis(1);

#[test]
fn spawned_sleeps_complete_not_early() {
    multi_thread(2).block_on(async {
        let handles: Vec<_> = (0..16u64)
            .map(|i| {
                vigil::spawn(async move {
                    let d = Duration::from_millis(3 * i);
                    let start = Instant::now();
                    sleep(d).await;
                    let took = start.elapsed();
                    assert!(took >= d, "task {i}: {took:?} < {d:?}");
                    took
                })
            })
            .collect();
        for h in handles {
            let took = h.await.expect("task failed");
            assert!(took < Duration::from_secs(5));
        }
    });
}

#[test]
fn timer_wakes_task_while_other_worker_is_blocked() {
    multi_thread(2).block_on(async {
        // Occupy one worker with blocking work, so the timer is likely
        // registered, fired and woken on different threads.
        let blocker = vigil::spawn(async {
            std::thread::sleep(150 * MS);
        });
        let fired = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..4u32)
            .map(|i| {
                let fired = fired.clone();
                vigil::spawn(async move {
                    let deadline = Instant::now() + 10 * MS * (i + 1);
                    sleep_until(deadline).await;
                    assert!(Instant::now() >= deadline);
                    fired.fetch_add(1, Ordering::SeqCst);
                })
            })
            .collect();
        for h in handles {
            h.await.expect("timer task failed");
        }
        assert_eq!(fired.load(Ordering::SeqCst), 4);
        blocker.await.expect("blocker failed");
    });
}

#[test]
fn sleep_created_on_one_thread_awaited_on_a_worker() {
    multi_thread(2).block_on(async {
        let s = sleep(20 * MS);
        let deadline = s.deadline();
        vigil::spawn(async move {
            s.await;
            assert!(Instant::now() >= deadline);
        })
        .await
        .expect("task failed");
    });
}

#[test]
fn timeouts_across_workers() {
    multi_thread(2).block_on(async {
        let handles: Vec<_> = (0..8u64)
            .map(|i| {
                vigil::spawn(async move {
                    let short = timeout(5 * MS, std::future::pending::<()>()).await;
                    let long =
                        timeout(Duration::from_secs(10), sleep(Duration::from_millis(i))).await;
                    (short.is_err(), long.is_ok())
                })
            })
            .collect();
        for h in handles {
            assert_eq!(h.await.expect("task failed"), (true, true));
        }
    });
}

#[test]
fn many_timers_from_many_tasks() {
    multi_thread(2).block_on(async {
        let handles: Vec<_> = (0..4u64)
            .map(|t| {
                vigil::spawn(async move {
                    for i in 0..50u64 {
                        // Mix of completed and cancelled sleeps.
                        let _ = timeout(
                            Duration::from_micros(200),
                            sleep(Duration::from_millis(1 + (i + t) % 7)),
                        )
                        .await;
                        if i % 10 == 0 {
                            sleep(MS).await;
                        }
                    }
                })
            })
            .collect();
        for h in handles {
            h.await.expect("task failed");
        }
    });
}
