//! The future passed to `block_on` (the body of `#[vigil::main]` and
//! `#[vigil::test]`), watched by the runtime's watchdog although it is not
//! a task: a blocked poll on the current-thread runtime, whose tasks share
//! its thread; a lost waker and spinning on both runtimes; reported with
//! the `block_on` call site and never throttled or cancelled.

mod watchdog_support;

use std::future::{poll_fn, Future};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll};
use std::time::Duration;
use vigil::runtime::{Builder, Runtime};
use vigil::watchdog::{Config, Policy, Report, ReportKind};
use watchdog_support::{
    builder, exclusive, no_blocked, runtime, sensitive, shared, within, work_then_wake,
};
use watchdog_support::{Flavour, BOTH};

const THRESHOLD: Duration = Duration::from_millis(50);
const LIMIT: Duration = Duration::from_secs(20);

/// A runtime of `flavour` whose watchdog reports go down a std channel.
fn reporting(flavour: Flavour, config: Config) -> (Runtime, mpsc::Receiver<Report>) {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let rt = builder(flavour)
        .watchdog(config)
        .on_watchdog(move |report| {
            let _ = tx.lock().unwrap().send(report.clone());
        })
        .build()
        .unwrap();
    (rt, rx)
}

#[test]
fn a_blocking_block_on_future_on_current_thread_is_reported_while_it_blocks() {
    let _cores = exclusive();
    let (report, line) = within(LIMIT, || {
        let config = Config::new().blocked_poll_threshold(THRESHOLD);
        let (rt, reports) = reporting(Flavour::CurrentThread, config);
        // The future blocks its thread until the report about it arrives:
        // so the report comes while the poll is still going on.
        let line = line!() + 1;
        let report = rt.block_on(async { reports.recv_timeout(LIMIT).expect("no report") });
        (report, line)
    });
    assert_eq!(report.kind(), ReportKind::BlockedPoll);
    assert!(report.is_block_on());
    assert_eq!(report.location().file(), file!());
    assert_eq!(report.location().line(), line);
    assert!(report.duration() >= THRESHOLD);
    assert_eq!(report.worker(), Some(0));
    let text = report.to_string();
    assert!(
        text.contains("the future of block_on called at")
            && text.contains(&format!("{}:{line}", file!())),
        "{text}"
    );
}

#[test]
fn tasks_of_the_runtime_are_not_blamed_for_a_blocking_block_on_future() {
    let _cores = exclusive();
    let reports = within(LIMIT, || {
        let config = Config::new().blocked_poll_threshold(THRESHOLD);
        let (rt, reports) = reporting(Flavour::CurrentThread, config);
        rt.block_on(async {
            // A task that has run and now waits: not the one blocking.
            let (tx, rx) = vigil::sync::oneshot::channel::<()>();
            let waiting = vigil::spawn(rx);
            vigil::task::yield_now().await;
            let report = reports.recv_timeout(LIMIT).expect("no report");
            drop(tx);
            let _ = waiting.await;
            report
        })
    });
    assert!(reports.is_block_on(), "{reports}");
}

#[test]
fn the_abort_policy_only_reports_a_block_on_future() {
    let _cores = exclusive();
    let (report, out) = within(LIMIT, || {
        let config = Config::new()
            .blocked_poll_threshold(THRESHOLD)
            .policy(Policy::Abort);
        let (rt, reports) = reporting(Flavour::CurrentThread, config);
        rt.block_on(async {
            let report = reports.recv_timeout(LIMIT).expect("no report");
            (report, "finished")
        })
    });
    assert!(report.is_block_on());
    assert_eq!(report.policy(), Policy::Abort);
    assert!(report.to_string().contains("never throttled or cancelled"));
    assert_eq!(out, "finished", "the future ran to its end");
}

#[test]
fn the_ignore_policy_keeps_a_block_on_future_unreported() {
    let _cores = exclusive();
    within(LIMIT, || {
        let config = Config::new()
            .blocked_poll_threshold(THRESHOLD)
            .policy(Policy::Ignore);
        let (rt, reports) = runtime(Flavour::CurrentThread, config);
        rt.block_on(async { std::thread::sleep(THRESHOLD * 4) });
        reports.assert_none("policy Ignore");
    });
}

#[test]
fn a_blocking_block_on_future_on_multi_thread_is_not_reported() {
    // Its thread is not a worker: the tasks run on, only the caller waits.
    let _cores = exclusive();
    within(LIMIT, || {
        let config = Config::new().blocked_poll_threshold(THRESHOLD);
        let (rt, reports) = runtime(Flavour::MultiThread(2), config);
        let ran = rt.block_on(async {
            let task = vigil::spawn(async { 7 });
            std::thread::sleep(THRESHOLD * 4);
            task.await.unwrap()
        });
        assert_eq!(ran, 7);
        reports.assert_none("multi-thread block_on future");
    });
}

#[test]
fn a_block_on_future_that_panicked_leaves_no_poll_behind() {
    let _cores = exclusive();
    within(LIMIT, || {
        let config = Config::new().blocked_poll_threshold(THRESHOLD);
        let (rt, reports) = runtime(Flavour::CurrentThread, config);
        // `resume_unwind` skips the panic hook, whose backtrace printing
        // could itself outlast the threshold inside the poll.
        let panicked = catch_unwind(AssertUnwindSafe(|| {
            rt.block_on(async { resume_unwind(Box::new("inside block_on")) })
        }));
        assert!(panicked.is_err());
        // Idle for several thresholds: a poll left open on the slot by the
        // panic would be reported now.
        rt.block_on(vigil::time::sleep(THRESHOLD * 4));
        reports.assert_none("after a panicking block_on");
    });
}

#[test]
fn block_on_polls_are_not_counted_as_task_polls() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        for _ in 0..5 {
            vigil::task::yield_now().await;
        }
    });
    assert_eq!(rt.metrics().total_polls(), 0);
    rt.block_on(async { vigil::spawn(async {}).await.unwrap() });
    assert_eq!(rt.metrics().total_polls(), 1);
}

/// Returns `Pending` once without keeping the waker: nothing can wake it.
struct LosesItsWaker;

impl Future for LosesItsWaker {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        Poll::Pending
    }
}

#[test]
fn a_block_on_future_that_lost_its_waker_is_reported_on_both_runtimes() {
    for flavour in BOTH {
        let (rt, reports) = reporting(flavour, Config::new().detect_blocked_polls(false));
        let line = line!() + 4;
        // The call can never return: its thread is left parked for the
        // rest of the test process.
        std::thread::spawn(move || {
            rt.block_on(LosesItsWaker);
        });
        let report = reports.recv_timeout(LIMIT).expect("no report");
        assert_eq!(report.kind(), ReportKind::LostWaker, "{flavour:?}");
        assert!(report.is_block_on(), "{flavour:?}");
        assert_eq!(report.location().line(), line, "{flavour:?}");
        let text = report.to_string();
        assert!(text.contains("block_on call will never return"), "{text}");
    }
}

#[test]
fn a_block_on_future_that_keeps_its_waker_is_not_reported() {
    for flavour in BOTH {
        let (rt, reports) = runtime(flavour, Config::new().detect_blocked_polls(false));
        rt.block_on(async {
            // Wakers handed to a timer, to a channel, and to another
            // thread that wakes the future after dropping nothing else.
            vigil::time::sleep(Duration::from_millis(1)).await;
            let (tx, rx) = vigil::sync::oneshot::channel();
            std::thread::spawn(move || tx.send(1).unwrap());
            assert_eq!(rx.await.unwrap(), 1);
            let mut first = true;
            poll_fn(|cx| {
                if std::mem::take(&mut first) {
                    let waker = cx.waker().clone();
                    std::thread::spawn(move || waker.wake());
                    Poll::Pending
                } else {
                    Poll::Ready(())
                }
            })
            .await;
        });
        reports.assert_none(&format!("{flavour:?}"));
    }
}

#[test]
fn a_spinning_block_on_future_is_reported_while_tasks_keep_running() {
    let _cores = shared();
    for flavour in BOTH {
        // Within a limit: were the spin never reported, the future would
        // spin forever.
        let (report, ticks, line) = within(LIMIT, move || {
            let (rt, reports) = reporting(flavour, no_blocked(sensitive()));
            let line = line!() + 1;
            let (report, ticks) = rt.block_on(async {
                // A task on timers, which must finish while the future
                // spins (the future waits for it).
                let ticked = Arc::new(AtomicBool::new(false));
                let ticker = vigil::spawn({
                    let ticked = ticked.clone();
                    async move {
                        for _ in 0..5 {
                            vigil::time::sleep(Duration::from_millis(1)).await;
                        }
                        ticked.store(true, Ordering::Release);
                        5
                    }
                });
                // Spins (wakes itself, does nothing) until it is reported
                // and the ticker is done.
                let mut report = None;
                let report = poll_fn(|cx| {
                    if report.is_none() {
                        report = reports.try_recv().ok();
                    }
                    if report.is_some() && ticked.load(Ordering::Acquire) {
                        return Poll::Ready(report.take().unwrap());
                    }
                    cx.waker().wake_by_ref();
                    Poll::Pending
                })
                .await;
                (report, ticker.await.unwrap())
            });
            (report, ticks, line)
        });
        assert_eq!(ticks, 5, "{flavour:?}");
        assert_eq!(report.kind(), ReportKind::Spinning, "{flavour:?}: {report}");
        assert!(report.is_block_on(), "{flavour:?}");
        assert_eq!(report.location().line(), line, "{flavour:?}");
        assert!(report.spurious_wakes() >= 100, "{flavour:?}: {report}");
        assert!(report.duration() >= Duration::from_millis(100), "{report}");
        let text = report.to_string();
        assert!(
            text.contains("the future of block_on called at") && text.contains("is spinning"),
            "{text}"
        );
    }
}

#[test]
fn a_block_on_future_that_computes_and_wakes_itself_is_a_spin_only_when_poll_length_is_not_work() {
    let _cores = shared();
    // Each poll works for five times the default `Config::working_poll`.
    let chunk = Duration::from_micros(100);
    let run = Duration::from_millis(400);
    for flavour in BOTH {
        let (reports, polls) = within(LIMIT, move || {
            let (rt, reports) = reporting(flavour, no_blocked(sensitive()));
            let polls = rt.block_on(work_then_wake(chunk, run));
            (reports.try_iter().collect::<Vec<_>>(), polls)
        });
        assert!(polls > 200, "{flavour:?}: only {polls} polls");
        assert!(reports.is_empty(), "{flavour:?}: {reports:?}");

        let report = within(LIMIT, move || {
            let config = no_blocked(sensitive()).working_poll(Duration::MAX);
            let (rt, reports) = reporting(flavour, config);
            rt.block_on(work_then_wake(chunk, run));
            reports
                .try_recv()
                .expect("without working polls it looks like a spin")
        });
        assert_eq!(report.kind(), ReportKind::Spinning, "{flavour:?}: {report}");
        assert!(report.is_block_on(), "{flavour:?}");
    }
}

#[test]
fn a_block_on_future_that_yields_or_is_fed_by_another_thread_is_not_reported() {
    let _cores = shared();
    for flavour in BOTH {
        let (rt, reports) = runtime(flavour, no_blocked(sensitive()));
        rt.block_on(async {
            // Yields on purpose, well past the thresholds.
            let until = std::time::Instant::now() + Duration::from_millis(250);
            while std::time::Instant::now() < until {
                vigil::task::yield_now().await;
            }
            // Woken by a busy producer on another thread, often while it
            // is being polled; every wake brings a message.
            let (tx, mut rx) = vigil::sync::mpsc::unbounded_channel();
            let producer = std::thread::spawn(move || {
                let until = std::time::Instant::now() + Duration::from_millis(250);
                let mut sent = 0u64;
                while std::time::Instant::now() < until {
                    tx.send(sent).unwrap();
                    sent += 1;
                }
                sent
            });
            let mut received = 0u64;
            while rx.recv().await.is_some() {
                received += 1;
            }
            assert_eq!(received, producer.join().unwrap());
        });
        reports.assert_none(&format!("{flavour:?}"));
    }
}
