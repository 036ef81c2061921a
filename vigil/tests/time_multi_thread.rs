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

/// The worker sitting in the driver is the one a timer wakes; when the task
/// it wakes then runs for a long time, the driver is left vacant while the
/// other worker sleeps. The watchdog's monitor notices the vacancy and wakes
/// the sleeper to take the driver over, so other timers still fire about on
/// time: within a few of the monitor's samples, not after the long poll
/// (600 ms here) and not after a blocked-poll report (set to 10 s here, so
/// that this test sees the vacancy check alone).
#[test]
#[cfg_attr(vigil_valgrind, ignore = "timing-sensitive: too slow under valgrind")]
fn timers_fire_while_the_driver_holder_runs_a_long_poll() {
    let rt = vigil::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .watchdog(vigil::watchdog::Config::new().blocked_poll_threshold(Duration::from_secs(10)))
        .build()
        .unwrap();
    let late = rt.block_on(async {
        // Both workers idle: one in the driver, one on its condition variable.
        sleep(20 * MS).await;
        let hog = vigil::spawn(async {
            // Woken by the driver, so it runs on the worker that held it.
            sleep(20 * MS).await;
            let start = std::time::Instant::now();
            while start.elapsed() < 600 * MS {
                std::hint::spin_loop();
            }
        });
        let timer = vigil::spawn(async {
            let deadline = Instant::now() + 40 * MS;
            sleep_until(deadline).await;
            Instant::now().duration_since(deadline)
        });
        let late = timer.await.unwrap();
        hog.await.unwrap();
        late
    });
    // The monitor samples every 50 ms at this threshold (a quarter of it,
    // at most 50 ms); a vacancy is seen within two samples.
    assert!(
        late < 300 * MS,
        "a 40 ms timer fired {late:?} late while another worker slept"
    );
}
