//! The watchdog and lost wakers: a task that returns `Pending` while no
//! clone of its waker exists anywhere can never run again. It is reported
//! once, with its spawn location; a task waiting on something that keeps its
//! waker is not.

mod watchdog_support;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use vigil::net::{TcpListener, TcpStream};
use vigil::signal::unix::SignalKind;
use vigil::task::{self, JoinSet};
use vigil::watchdog::{Config, Policy, ReportKind};
use watchdog_support::{channel, no_blocked, runtime, sensitive, shared, within, Forgetful, BOTH};

const LIMIT: Duration = Duration::from_secs(10);

#[test]
fn a_future_that_drops_its_waker_is_reported_once() {
    let _cores = shared();
    for flavour in BOTH {
        let (rt, reports) = runtime(flavour, no_blocked(Config::new()));
        within(LIMIT, move || {
            rt.block_on(async {
                let builder = task::Builder::new().name("forgetful");
                let (handle, line) = (builder.spawn(Forgetful).unwrap(), line!());
                let seen = reports
                    .wait_for(Duration::from_secs(2), |_| true)
                    .await
                    .expect("no lost-waker report");
                let report = &seen.report;
                eprintln!("{flavour:?}: {report}");
                assert_eq!(report.kind(), ReportKind::LostWaker, "{report}");
                assert_eq!(report.task_id(), handle.id());
                assert_eq!(report.task_name(), Some("forgetful"));
                assert_eq!(report.location().file(), file!());
                assert_eq!(report.location().line(), line);
                assert_eq!(report.policy(), Policy::Warn);
                let text = report.to_string();
                assert!(text.contains("\"forgetful\""), "{text}");
                assert!(text.contains(&format!("{}:{line}", file!())), "{text}");
                assert!(text.contains("waker"), "{text}");
                // Once: nothing more comes, and the task is still there.
                vigil::time::sleep(Duration::from_millis(200)).await;
                assert_eq!(reports.count(), 1, "{:?}", reports.all());
                assert!(!handle.is_finished());
                let metrics = vigil::runtime::Handle::current().metrics();
                assert_eq!(metrics.watchdog_reports(ReportKind::LostWaker), 1);
                assert_eq!(metrics.watchdog_reports(ReportKind::Spinning), 0);
                // An abort still ends it (the abort handle's wake).
                handle.abort();
                let err = handle.await.unwrap_err();
                assert!(
                    err.is_cancelled() && err.watchdog_report().is_none(),
                    "{err}"
                );
                assert_eq!(reports.count(), 1, "{:?}", reports.all());
            });
            drop(rt);
        });
    }
}

/// A task polled several times, whose last poll loses the waker, is
/// reported once, at that poll; the polls before it kept their waker.
#[test]
fn a_task_that_loses_its_waker_after_some_waits_is_reported_then() {
    let _cores = shared();
    for flavour in BOTH {
        let (rt, reports) = runtime(flavour, no_blocked(Config::new()));
        within(LIMIT, move || {
            rt.block_on(async {
                let reached = Arc::new(AtomicBool::new(false));
                let reached2 = reached.clone();
                let handle = task::Builder::new()
                    .name("waits-then-forgets")
                    .spawn(async move {
                        for _ in 0..3 {
                            vigil::time::sleep(Duration::from_millis(20)).await;
                            task::yield_now().await;
                        }
                        reached2.store(true, Ordering::SeqCst);
                        Forgetful.await
                    })
                    .unwrap();
                let seen = reports
                    .wait_for(Duration::from_secs(2), |_| true)
                    .await
                    .expect("no lost-waker report");
                assert!(reached.load(Ordering::SeqCst), "reported too early");
                assert_eq!(seen.report.kind(), ReportKind::LostWaker);
                assert_eq!(seen.report.task_id(), handle.id());
                vigil::time::sleep(Duration::from_millis(100)).await;
                assert_eq!(reports.count(), 1, "{:?}", reports.all());
                handle.abort();
            });
            drop(rt);
        });
    }
}

#[test]
fn std_future_pending_is_reported() {
    let _cores = shared();
    for flavour in BOTH {
        let (rt, reports) = runtime(flavour, no_blocked(Config::new()));
        within(LIMIT, move || {
            rt.block_on(async {
                let (handle, line) = (vigil::spawn(std::future::pending::<()>()), line!());
                let seen = reports
                    .wait_for(Duration::from_secs(2), |_| true)
                    .await
                    .expect("no report for std::future::pending()");
                assert_eq!(seen.report.kind(), ReportKind::LostWaker);
                assert_eq!(seen.report.task_id(), handle.id());
                assert_eq!(seen.report.task_name(), None);
                assert_eq!(seen.report.location().line(), line);
                handle.abort();
            });
            drop(rt);
        });
    }
}

/// The task's own `AbortHandle` (its `JoinHandle` dropped) can cancel it
/// but never wake it: still a lost waker.
#[test]
fn a_task_known_only_through_an_abort_handle_is_still_reported() {
    let _cores = shared();
    for flavour in BOTH {
        for keep_join_handle in [false, true] {
            let (rt, reports) = runtime(flavour, no_blocked(Config::new()));
            within(LIMIT, move || {
                rt.block_on(async move {
                    let handle = task::Builder::new()
                        .name("abortable")
                        .spawn(Forgetful)
                        .unwrap();
                    let id = handle.id();
                    let aborts = [handle.abort_handle(), handle.abort_handle()];
                    let join = keep_join_handle.then_some(handle);
                    let seen = reports
                        .wait_for(Duration::from_secs(2), |_| true)
                        .await
                        .unwrap_or_else(|| {
                            panic!(
                                "{flavour:?} (join handle kept: {keep_join_handle}): no report \
                                 for a task with only abort handles"
                            )
                        });
                    assert_eq!(seen.report.kind(), ReportKind::LostWaker);
                    assert_eq!(seen.report.task_id(), id);
                    aborts[0].abort();
                    if let Some(join) = join {
                        assert!(join.await.unwrap_err().is_cancelled());
                    }
                    drop(aborts);
                    assert_eq!(reports.count(), 1, "{:?}", reports.all());
                });
                drop(rt);
            });
        }
    }
}

#[test]
fn abort_policy_cancels_a_task_that_lost_its_waker() {
    let _cores = shared();
    for flavour in BOTH {
        let (rt, reports) = runtime(flavour, no_blocked(Config::new()).policy(Policy::Abort));
        within(LIMIT, move || {
            rt.block_on(async {
                let dropped = Arc::new(AtomicBool::new(false));
                let flag = DropFlag(dropped.clone());
                let forgetful = async move {
                    let _flag = flag;
                    Forgetful.await
                };
                let builder = task::Builder::new().name("forgetful");
                let (handle, line) = (builder.spawn(forgetful).unwrap(), line!());
                let err = vigil::time::timeout(Duration::from_secs(2), handle)
                    .await
                    .expect("the task was not cancelled")
                    .unwrap_err();
                assert!(err.is_cancelled(), "{err}");
                let report = err.watchdog_report().expect("no report in the JoinError");
                assert_eq!(report.kind(), ReportKind::LostWaker);
                assert_eq!(report.policy(), Policy::Abort);
                assert_eq!(report.location().line(), line);
                assert!(dropped.load(Ordering::SeqCst));
                assert_eq!(reports.count(), 1, "{:?}", reports.all());
            });
            drop(rt);
        });
    }
}

/// Waits that keep the task's waker (a timer, a channel, a join handle, a
/// socket, ...) are never taken for a lost waker, even by a sensitive
/// watchdog.
#[test]
fn waiting_tasks_that_keep_their_waker_are_not_reported() {
    let _cores = shared();
    for flavour in BOTH {
        let (rt, reports) = runtime(flavour, no_blocked(sensitive()));
        within(LIMIT, move || {
            rt.block_on(async {
                let wait = Duration::from_millis(300);
                let mut tasks = Vec::new();
                // A timer.
                tasks.push(vigil::spawn(async move {
                    vigil::time::sleep(wait).await;
                }));
                // A timeout around something that never completes but keeps
                // its waker.
                let (_tx_forever, mut rx_forever) = channel::<()>();
                tasks.push(vigil::spawn(async move {
                    let r = vigil::time::timeout(wait, rx_forever.recv()).await;
                    assert!(r.is_err());
                }));
                // A channel.
                let (tx, mut rx) = channel::<u32>();
                tasks.push(vigil::spawn(async move {
                    assert_eq!(rx.recv().await, Some(7));
                }));
                // A join handle, of a task and of a blocking closure.
                let sleeper = vigil::spawn(async move {
                    vigil::time::sleep(wait).await;
                    5
                });
                tasks.push(vigil::spawn(async move {
                    assert_eq!(sleeper.await.unwrap(), 5);
                }));
                let blocking = task::spawn_blocking(move || std::thread::sleep(wait));
                tasks.push(vigil::spawn(async move {
                    blocking.await.unwrap();
                }));
                // A JoinSet.
                tasks.push(vigil::spawn(async move {
                    let mut set = JoinSet::new();
                    set.spawn(async move { vigil::time::sleep(wait).await });
                    assert!(set.join_next().await.unwrap().is_ok());
                }));
                // A socket: accept, then a read.
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                tasks.push(vigil::spawn(async move {
                    use vigil::io::AsyncReadExt;
                    let (mut s, _) = listener.accept().await.unwrap();
                    let mut buf = [0u8; 8];
                    assert_eq!(s.read(&mut buf).await.unwrap(), 0);
                }));
                // A signal listener (SIGURG is raised by no other test here).
                let mut urgent =
                    vigil::signal::unix::signal(SignalKind::from_raw(libc::SIGURG)).unwrap();
                tasks.push(vigil::spawn(async move {
                    assert_eq!(urgent.recv().await, Some(()));
                }));
                // A future that stores its waker and is woken by a thread.
                tasks.push(vigil::spawn(WokenByThread {
                    spawned: false,
                    done: Arc::new(AtomicBool::new(false)),
                }));

                vigil::time::sleep(Duration::from_millis(100)).await;
                let client = TcpStream::connect(addr).await.unwrap();
                vigil::time::sleep(Duration::from_millis(100)).await;
                tx.send(7);
                drop(client);
                // SAFETY: `raise` only sends a signal to this thread, and
                // vigil's handler for it is installed above.
                unsafe { libc::raise(libc::SIGURG) };
                for t in tasks {
                    vigil::time::timeout(Duration::from_secs(3), t)
                        .await
                        .expect("a waiting task did not finish")
                        .unwrap();
                }
            });
            drop(rt);
        });
        reports.assert_none(&format!("waiting tasks on {flavour:?}"));
    }
}

/// Keeps its waker and hands a clone to a thread that wakes it later.
struct WokenByThread {
    spawned: bool,
    done: Arc<AtomicBool>,
}

impl Future for WokenByThread {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.done.load(Ordering::SeqCst) {
            return Poll::Ready(());
        }
        if !self.spawned {
            self.spawned = true;
            let waker = cx.waker().clone();
            let done = self.done.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(200));
                done.store(true, Ordering::SeqCst);
                waker.wake();
            });
        }
        Poll::Pending
    }
}

#[test]
fn lost_waker_detection_can_be_turned_off_and_ignored_per_task() {
    let _cores = shared();
    for flavour in BOTH {
        let (rt, reports) = runtime(flavour, no_blocked(Config::new()).detect_lost_wakers(false));
        within(LIMIT, move || {
            rt.block_on(async {
                let h = vigil::spawn(Forgetful);
                vigil::time::sleep(Duration::from_millis(100)).await;
                h.abort();
            });
            drop(rt);
        });
        reports.assert_none(&format!("detect_lost_wakers(false) on {flavour:?}"));

        let (rt, reports) = runtime(flavour, no_blocked(Config::new()));
        within(LIMIT, move || {
            rt.block_on(async {
                let h = task::Builder::new()
                    .watchdog(Policy::Ignore)
                    .spawn(Forgetful)
                    .unwrap();
                vigil::time::sleep(Duration::from_millis(100)).await;
                h.abort();
            });
            drop(rt);
        });
        reports.assert_none(&format!("Policy::Ignore on {flavour:?}"));
    }
}

struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}
