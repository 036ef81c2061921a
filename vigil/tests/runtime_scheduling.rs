//! Scheduler behaviour: remote wakes, spawn_local, blocking pool, handles.

mod common;

use common::{current_thread, multi_thread};
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use vigil::runtime::{Builder, Handle};
use vigil::task;

/// Completes once `flag` is set, registering its waker with `tx` each time.
struct WaitFlag {
    flag: Arc<AtomicBool>,
    tx: mpsc::Sender<Waker>,
}

impl Future for WaitFlag {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.flag.load(Ordering::SeqCst) {
            return Poll::Ready(());
        }
        self.tx.send(cx.waker().clone()).unwrap();
        Poll::Pending
    }
}

#[test]
fn current_thread_remote_wake_from_another_thread() {
    let rt = current_thread();
    let flag = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel();
    let f = flag.clone();
    let waker_thread = std::thread::spawn(move || {
        let waker: Waker = rx.recv().unwrap();
        f.store(true, Ordering::SeqCst);
        waker.wake();
    });
    rt.block_on(async move {
        // The task parks; only the other thread can wake it, while this
        // thread sleeps in the driver.
        vigil::spawn(WaitFlag { flag, tx }).await.unwrap();
    });
    waker_thread.join().unwrap();
}

#[test]
fn spawn_local_runs_non_send_futures() {
    vigil::block_on(async {
        let shared = Rc::new(Cell::new(0));
        let mut handles = Vec::new();
        for i in 1..=10 {
            let shared = shared.clone();
            handles.push(task::spawn_local(async move {
                task::yield_now().await;
                shared.set(shared.get() + i);
                Rc::new(i)
            }));
        }
        for h in handles {
            let _rc: Rc<i32> = h.await.unwrap();
        }
        assert_eq!(shared.get(), 55);
    });
}

#[test]
fn spawn_local_from_inside_a_local_task() {
    let rt = current_thread();
    let out = rt.block_on(async {
        task::spawn_local(async {
            let inner = task::spawn_local(async { Rc::new(5) });
            *inner.await.unwrap()
        })
        .await
        .unwrap()
    });
    assert_eq!(out, 5);
}

#[test]
fn spawn_blocking_runs_off_the_workers() {
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("vigil-test-worker")
        .build()
        .unwrap();
    rt.block_on(async {
        let worker = vigil::spawn(async { std::thread::current().id() })
            .await
            .unwrap();
        let blocking = task::spawn_blocking(|| std::thread::current().id())
            .await
            .unwrap();
        assert_ne!(worker, blocking);
        // Handle::current works inside blocking closures.
        let n = task::spawn_blocking(|| Handle::current().block_on(async { 3 }))
            .await
            .unwrap();
        assert_eq!(n, 3);
    });
}

#[test]
fn blocking_pool_respects_its_limit() {
    let rt = Builder::new_current_thread()
        .max_blocking_threads(2)
        .build()
        .unwrap();
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        let mut handles = Vec::new();
        for _ in 0..8 {
            let running = running.clone();
            let peak = peak.clone();
            handles.push(task::spawn_blocking(move || {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(5));
                running.fetch_sub(1, Ordering::SeqCst);
            }));
        }
        for h in handles {
            h.await.unwrap();
        }
    });
    assert!(peak.load(Ordering::SeqCst) <= 2);
}

#[test]
fn blocking_does_not_block_the_async_workers() {
    let rt = multi_thread(1);
    rt.block_on(async {
        let (tx, rx) = mpsc::channel::<()>();
        let blocker = task::spawn_blocking(move || rx.recv().unwrap());
        // The single worker still runs tasks while the blocking call waits.
        let n = vigil::spawn(async { 10 }).await.unwrap();
        assert_eq!(n, 10);
        tx.send(()).unwrap();
        blocker.await.unwrap();
    });
}

#[test]
fn runtime_spawn_from_a_plain_thread() {
    let rt = multi_thread(2);
    let handle = rt.handle().clone();
    let out = std::thread::spawn(move || {
        let h = handle.spawn(async { 21 * 2 });
        handle.block_on(h).unwrap()
    })
    .join()
    .unwrap();
    assert_eq!(out, 42);
}

#[test]
fn yield_now_lets_other_tasks_run() {
    for rt in [current_thread(), multi_thread(1)] {
        rt.block_on(async {
            vigil::spawn(async {
                let flag = Arc::new(AtomicBool::new(false));
                let f = flag.clone();
                vigil::spawn(async move { f.store(true, Ordering::SeqCst) });
                // Without fair yielding this loop would never see the flag.
                while !flag.load(Ordering::SeqCst) {
                    task::yield_now().await;
                }
            })
            .await
            .unwrap();
        });
    }
}

#[test]
fn ping_pong_between_workers() {
    let rt = multi_thread(2);
    let barrier = Arc::new(Barrier::new(1));
    rt.block_on(async move {
        barrier.wait();
        let mut handles = Vec::new();
        for _ in 0..50 {
            handles.push(vigil::spawn(async {
                let mut count = 0u32;
                for _ in 0..100 {
                    let h = vigil::spawn(async { 1u32 });
                    count += h.await.unwrap();
                }
                count
            }));
        }
        for h in handles {
            assert_eq!(h.await.unwrap(), 100);
        }
    });
}

#[test]
fn runtime_enter_allows_spawn_outside_block_on() {
    let rt = multi_thread(1);
    let _guard = rt.enter();
    let h = vigil::spawn(async { 9 });
    drop(_guard);
    assert_eq!(rt.block_on(h).unwrap(), 9);
}

#[test]
fn block_on_from_two_threads_on_one_current_thread_runtime() {
    let rt = Arc::new(current_thread());
    let r = rt.clone();
    let (tx, rx) = mpsc::channel::<()>();
    let other = std::thread::spawn(move || {
        r.block_on(async move {
            // Holds the scheduler while it waits for the main thread.
            while rx.try_recv().is_err() {
                vigil::time::sleep(Duration::from_millis(1)).await;
            }
        })
    });
    let n = rt.block_on(async move {
        tx.send(()).unwrap();
        vigil::spawn(async { 4 }).await.unwrap()
    });
    other.join().unwrap();
    assert_eq!(n, 4);
}

#[test]
fn awaiting_finished_handles_yields_to_other_tasks() {
    // Every finished JoinHandle is ready at once; without a per-poll budget
    // the loop below would run to the end before anything else could run.
    current_thread().block_on(async {
        vigil::spawn(async {
            let handles: Vec<_> = (0..1000).map(|i| vigil::spawn(async move { i })).collect();
            while !handles.iter().all(|h| h.is_finished()) {
                task::yield_now().await;
            }
            let other_ran = Arc::new(AtomicBool::new(false));
            let flag = other_ran.clone();
            vigil::spawn(async move { flag.store(true, Ordering::SeqCst) });
            let mut seen_at = None;
            for (i, h) in handles.into_iter().enumerate() {
                h.await.unwrap();
                if seen_at.is_none() && other_ran.load(Ordering::SeqCst) {
                    seen_at = Some(i);
                }
            }
            let seen_at = seen_at.expect("the other task never ran during the loop");
            assert!(seen_at < 1000, "the other task only ran at {seen_at}");
        })
        .await
        .unwrap();
    });
}

/// Hundreds of sockets turning readable at once while the only worker is
/// busy: its next driver turn wakes more tasks than its run queue holds, so
/// the queue overflows into the global queue (counted in the metrics), and
/// every task is still run.
#[test]
fn a_burst_of_ready_sockets_overflows_the_run_queue_and_loses_no_task() {
    use vigil::io::AsyncReadExt;
    use vigil::net::UnixStream;
    const SOCKETS: usize = 600;
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .watchdog(vigil::watchdog::Config::disabled())
        .build()
        .unwrap();
    let handle = rt.handle().clone();
    rt.block_on(async move {
        let (armed_tx, armed_rx) = mpsc::channel();
        let (done_tx, mut done_rx) = vigil::sync::mpsc::unbounded_channel();
        let mut writers = Vec::with_capacity(SOCKETS);
        for _ in 0..SOCKETS {
            let (mut reader, writer) = UnixStream::pair().unwrap();
            writers.push(writer);
            let armed_tx = armed_tx.clone();
            let done_tx = done_tx.clone();
            vigil::spawn(async move {
                armed_tx.send(()).unwrap();
                let mut byte = [0u8; 1];
                assert_eq!(reader.read(&mut byte).await.unwrap(), 1);
                done_tx.send(()).unwrap();
            });
        }
        for _ in 0..SOCKETS {
            armed_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        }
        // Occupy the worker: it runs this only after every reader's first
        // poll (one worker), so all of them wait on their sockets.
        let (busy_tx, busy_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        vigil::spawn(async move {
            busy_tx.send(()).unwrap();
            release_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        });
        busy_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        for writer in &writers {
            assert_eq!(writer.try_write(b"x").unwrap(), 1);
        }
        release_tx.send(()).unwrap();
        for _ in 0..SOCKETS {
            vigil::time::timeout(Duration::from_secs(10), done_rx.recv())
                .await
                .expect("a reader was not woken")
                .unwrap();
        }
        assert!(handle.metrics().workers()[0].overflows() > 0);
    });
}

/// Ping-pong pairs keep the runtime's one worker from ever running out of
/// local work while `WOKEN` tasks are woken from another thread, so they wait
/// in the injection queue; returns how many rounds the busy pairs made
/// before all of them ran: counted in rounds, not in time. Taking one
/// injected task per `global_queue_interval` ticks lets the pairs make
/// about `WOKEN * INTERVAL` rounds or more (measured: ~250 000 on the
/// multi-thread runtime, where a tick can run several polls through the
/// LIFO slot; ~24 000 on the current-thread one); taking a batch of eight
/// at each check, ~30 000 and ~2 500.
fn busy_rounds_while_injected_tasks_wait(mut builder: Builder, interval: u32) -> usize {
    const PAIRS: usize = 150;
    let rt = builder
        .global_queue_interval(interval)
        .watchdog(vigil::watchdog::Config::disabled())
        .build()
        .unwrap();
    rt.block_on(async move {
        let go = Arc::new(AtomicBool::new(false));
        let (waker_tx, waker_rx) = mpsc::channel();
        let (done_tx, mut done_rx) = vigil::sync::mpsc::unbounded_channel();
        for _ in 0..WOKEN {
            let wait = WaitFlag {
                flag: go.clone(),
                tx: waker_tx.clone(),
            };
            let done_tx = done_tx.clone();
            vigil::spawn(async move {
                wait.await;
                done_tx.send(()).unwrap();
            });
        }

        let busy = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (b, st) = (busy.clone(), stop.clone());
        vigil::spawn(async move {
            for _ in 0..PAIRS {
                let ping = Arc::new(vigil::sync::Notify::new());
                let pong = Arc::new(vigil::sync::Notify::new());
                for (mine, theirs) in [(ping.clone(), pong.clone()), (pong, ping)] {
                    let (b, st) = (b.clone(), st.clone());
                    vigil::spawn(async move {
                        while !st.load(Ordering::Relaxed) {
                            b.fetch_add(1, Ordering::Relaxed);
                            theirs.notify_one();
                            mine.notified().await;
                        }
                    });
                }
            }
        });

        // Once every waiter waits, hold the worker while another thread
        // wakes them all, so all of them are in the injection queue when it
        // goes on. (The holder is spawned only then: a waiter that the busy
        // local queue overflowed back to the injection queue could otherwise
        // come after it.)
        let b = busy.clone();
        let handle = Handle::current();
        let waker = std::thread::spawn(move || {
            let wakers: Vec<Waker> = (0..WOKEN)
                .map(|_| waker_rx.recv_timeout(Duration::from_secs(10)).unwrap())
                .collect();
            let (holding_tx, holding_rx) = mpsc::channel();
            let (release_tx, release_rx) = mpsc::channel::<()>();
            handle.spawn(async move {
                holding_tx.send(()).unwrap();
                release_rx.recv_timeout(Duration::from_secs(10)).unwrap();
            });
            holding_rx.recv_timeout(Duration::from_secs(10)).unwrap();
            go.store(true, Ordering::SeqCst);
            for w in wakers {
                w.wake();
            }
            let before = b.load(Ordering::Relaxed);
            release_tx.send(()).unwrap();
            before
        });
        for _ in 0..WOKEN {
            vigil::time::timeout(Duration::from_secs(10), done_rx.recv())
                .await
                .expect("a woken task was not run")
                .unwrap();
        }
        let rounds = busy.load(Ordering::Relaxed);
        stop.store(true, Ordering::Relaxed);
        rounds - waker.join().unwrap()
    })
}

const WOKEN: usize = 400;

#[test]
fn a_busy_worker_drains_the_injection_queue_in_shares() {
    const INTERVAL: usize = 61;
    let mut one_worker = Builder::new_multi_thread();
    one_worker.worker_threads(1);
    let rounds = busy_rounds_while_injected_tasks_wait(one_worker, INTERVAL as u32);
    assert!(
        rounds < 4 * WOKEN * INTERVAL,
        "the busy tasks made {rounds} rounds before {WOKEN} injected tasks all ran"
    );
}

#[test]
fn a_busy_current_thread_runtime_drains_remote_wakes_in_batches() {
    const INTERVAL: usize = 31;
    let rounds =
        busy_rounds_while_injected_tasks_wait(Builder::new_current_thread(), INTERVAL as u32);
    assert!(
        rounds < WOKEN * INTERVAL / 2,
        "the busy tasks made {rounds} rounds before {WOKEN} remote wakes all ran"
    );
}

#[test]
fn runtime_flavor_names_the_scheduler() {
    use vigil::runtime::RuntimeFlavor;
    let ct = current_thread();
    assert_eq!(ct.handle().runtime_flavor(), RuntimeFlavor::CurrentThread);
    let mt = multi_thread(2);
    assert_eq!(mt.handle().runtime_flavor(), RuntimeFlavor::MultiThread);
    // From inside, through the current handle.
    let inside = mt.block_on(async {
        vigil::spawn(async { Handle::current().runtime_flavor() })
            .await
            .unwrap()
    });
    assert_eq!(inside, RuntimeFlavor::MultiThread);
}
