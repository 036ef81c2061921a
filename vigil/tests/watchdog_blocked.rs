//! The watchdog and blocked polls: a poll that blocks its thread
//! (`std::thread::sleep` inside async code) is reported while it is still
//! running, and on the multi-thread runtime the rest of the program keeps
//! its latency.

mod watchdog_support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use vigil::task;
use vigil::watchdog::{Config, Policy, Report, ReportKind};
use watchdog_support::{channel, exclusive, quantile, runtime, shared, within, Flavour, BOTH};

const LIMIT: Duration = Duration::from_secs(10);
/// How long the blocking task blocks its thread.
const BLOCK: Duration = Duration::from_secs(2);
/// The default blocked-poll threshold.
const THRESHOLD: Duration = Duration::from_millis(100);
/// The issue: "reported within 200 ms".
const REPORTED_WITHIN: Duration = Duration::from_millis(200);

/// When the blocking poll began (set from inside it).
type Started = Arc<Mutex<Option<Instant>>>;

fn started_at(started: &Started) -> Instant {
    started
        .lock()
        .unwrap()
        .expect("the blocking task never ran")
}

/// Whether this kernel lets the monitor take over a blocked worker's LIFO
/// slot and yielded tasks: vigil needs `membarrier(2)` for that (the
/// expedited private command, or the global one), which a seccomp filter
/// may forbid. The tests of that take-over say so and pass vacuously
/// without it.
fn stash_take_over_available() -> bool {
    const QUERY: libc::c_long = 0;
    const GLOBAL: libc::c_long = 1;
    const PRIVATE_EXPEDITED: libc::c_long = 1 << 3;
    // SAFETY: `membarrier` takes two integers and touches no memory.
    let supported = unsafe { libc::syscall(libc::SYS_membarrier, QUERY, 0) };
    let ok = supported > 0 && supported & (GLOBAL | PRIVATE_EXPEDITED) != 0;
    if !ok {
        eprintln!("skipped: this kernel offers no membarrier(2) barrier");
    }
    ok
}

fn check_blocked_report(report: &Report, id: task::Id, line: u32, name: &str) {
    assert_eq!(report.kind(), ReportKind::BlockedPoll, "{report}");
    assert_eq!(report.task_id(), id, "{report}");
    assert_eq!(report.task_name(), Some(name), "{report}");
    assert_eq!(report.location().file(), file!(), "{report}");
    assert_eq!(report.location().line(), line, "{report}");
    assert!(report.duration() >= THRESHOLD, "{report}");
    assert!(report.duration() < BLOCK, "{report}");
    assert!(report.worker().is_some(), "{report}");
    let text = report.to_string();
    assert!(text.contains(&format!("\"{name}\"")), "{text}");
    assert!(text.contains(&format!("{}:{}", file!(), line)), "{text}");
    assert!(text.contains("spawn_blocking"), "{text}");
}

#[test]
fn blocked_poll_on_two_workers_is_reported_within_200ms_and_timers_stay_on_time() {
    let _cores = exclusive();
    let (rt, reports) = runtime(Flavour::MultiThread(2), Config::new());
    within(LIMIT, move || {
        rt.block_on(async move {
            // Another task with 10 ms timers, running before, during and
            // after the blocked poll.
            let stop = Arc::new(AtomicBool::new(false));
            let stop2 = stop.clone();
            let ticker = task::Builder::new()
                .name("ticker")
                .spawn(async move {
                    let mut sleeps = Vec::new();
                    while !stop2.load(Ordering::SeqCst) {
                        let start = Instant::now();
                        vigil::time::sleep(Duration::from_millis(10)).await;
                        sleeps.push((start, start.elapsed()));
                    }
                    sleeps
                })
                .unwrap();
            vigil::time::sleep(Duration::from_millis(50)).await;

            let started: Started = Arc::default();
            let started2 = started.clone();
            let blocking = async move {
                *started2.lock().unwrap() = Some(Instant::now());
                std::thread::sleep(BLOCK);
            };
            let builder = task::Builder::new().name("blocker");
            let (blocker, line) = (builder.spawn(blocking).unwrap(), line!());
            let seen = reports
                .wait_for(Duration::from_secs(1), |r| {
                    r.kind() == ReportKind::BlockedPoll
                })
                .await
                .expect("no blocked-poll report within 1 s");
            let start = started_at(&started);
            let after = seen.at.duration_since(start);
            eprintln!("reported {after:?} after the poll began: {}", seen.report);
            check_blocked_report(&seen.report, blocker.id(), line, "blocker");
            assert!(
                after <= REPORTED_WITHIN,
                "reported {after:?} after the blocking poll began (the issue says within 200 ms)"
            );
            // The poll is still going on when it is reported.
            assert!(!blocker.is_finished());
            assert!(start.elapsed() < BLOCK);

            // Let the ticker run through most of the blocked poll.
            vigil::time::sleep(BLOCK - start.elapsed() - Duration::from_millis(300)).await;
            stop.store(true, Ordering::SeqCst);
            let sleeps = ticker.await.unwrap();
            assert!(!blocker.is_finished(), "the blocked poll ended early");
            blocker.await.unwrap();
            let ended = start + BLOCK;

            let late = |d: Duration| d.saturating_sub(Duration::from_millis(10));
            // Timers that ran while the poll was blocked, after the report
            // (the monitor's rescue has happened by then).
            let mut rescued: Vec<Duration> = sleeps
                .iter()
                .filter(|(s, _)| *s >= seen.at && *s < ended)
                .map(|(_, d)| *d)
                .collect();
            // Timers that began after the poll did but before the report.
            let before: Vec<Duration> = sleeps
                .iter()
                .filter(|(s, _)| *s >= start && *s < seen.at)
                .map(|(_, d)| *d)
                .collect();
            assert!(
                rescued.len() > 50,
                "only {} sleeps: {sleeps:?}",
                rescued.len()
            );
            let n = rescued.len();
            let median = quantile(&mut rescued, 0.5);
            let p90 = quantile(&mut rescued, 0.9);
            let worst = quantile(&mut rescued, 1.0);
            let slow: Vec<(Duration, Duration)> = sleeps
                .iter()
                .filter(|(_, d)| *d > Duration::from_millis(25))
                .map(|(s, d)| (s.saturating_duration_since(start), *d))
                .collect();
            eprintln!(
                "10 ms sleeps during the blocked poll: before the report {before:?}; after it \
                 {n} sleeps, median {median:?}, p90 {p90:?}, worst {worst:?}; over 25 ms \
                 (began after the block, took): {slow:?}"
            );
            // "Still on time": a typical sleep is at most 5 ms late and nine
            // in ten at most 15 ms (the bound holds with margin on an idle
            // machine: median ~11 ms, worst ~12-17 ms). The worst sample is
            // left to the machine's scheduler, which on two shared cores can
            // delay any single wake-up by tens of milliseconds (seen with no
            // blocked poll at all); it must still be far from waiting for
            // the blocked poll.
            assert!(
                late(median) <= Duration::from_millis(5),
                "median 10 ms sleep took {median:?} while a poll was blocked"
            );
            assert!(
                late(p90) <= Duration::from_millis(15),
                "p90 10 ms sleep took {p90:?} while a poll was blocked"
            );
            assert!(
                late(worst) <= REPORTED_WITHIN,
                "worst 10 ms sleep took {worst:?} while a poll was blocked"
            );
            for d in before {
                assert!(
                    late(d) <= REPORTED_WITHIN,
                    "a 10 ms sleep took {d:?} before the report"
                );
            }
            assert_eq!(reports.count(), 1, "{:?}", reports.all());
        });
        drop(rt);
    });
}

#[test]
fn blocked_poll_on_current_thread_is_reported_while_it_runs() {
    let _cores = shared();
    let (rt, reports) = runtime(Flavour::CurrentThread, Config::new());
    within(LIMIT, move || {
        let started: Started = Arc::default();
        let started2 = started.clone();
        let (id, line) = rt.block_on(async move {
            let blocking = async move {
                *started2.lock().unwrap() = Some(Instant::now());
                std::thread::sleep(Duration::from_millis(500));
            };
            let builder = task::Builder::new().name("blocker");
            let (blocker, line) = (builder.spawn(blocking).unwrap(), line!());
            let id = blocker.id();
            blocker.await.unwrap();
            (id, line)
        });
        let start = started_at(&started);
        let all = reports.all();
        assert_eq!(all.len(), 1, "{all:?}");
        let seen = &all[0];
        let after = seen.at.duration_since(start);
        eprintln!("reported {after:?} after the poll began: {}", seen.report);
        check_blocked_report(&seen.report, id, line, "blocker");
        assert_eq!(seen.report.worker(), Some(0));
        assert!(
            after <= REPORTED_WITHIN,
            "reported {after:?} after the poll began"
        );
        drop(rt);
    });
}

/// Tasks spawned by the blocking task just before it blocks sit in its
/// worker's queues: the other worker must take them over.
#[test]
fn tasks_queued_behind_a_blocked_poll_still_run() {
    if !stash_take_over_available() {
        return;
    }
    let _cores = shared();
    let (rt, _reports) = runtime(Flavour::MultiThread(2), Config::new());
    within(LIMIT, move || {
        rt.block_on(async move {
            const N: usize = 4;
            let (tx, mut rx) = channel::<(usize, Instant)>();
            let started: Started = Arc::default();
            let started2 = started.clone();
            let blocker = task::Builder::new()
                .name("blocker")
                .spawn(async move {
                    for i in 0..N {
                        let tx = tx.clone();
                        vigil::spawn(async move { tx.send((i, Instant::now())) });
                    }
                    drop(tx);
                    *started2.lock().unwrap() = Some(Instant::now());
                    std::thread::sleep(BLOCK);
                })
                .unwrap();
            let mut done = Vec::new();
            let deadline = Duration::from_secs(1);
            while let Ok(Some((i, at))) = vigil::time::timeout(deadline, rx.recv()).await {
                done.push((i, at));
                if done.len() == N {
                    break;
                }
            }
            let start = started_at(&started);
            let ran: Vec<_> = done
                .iter()
                .map(|(i, at)| (*i, at.saturating_duration_since(start)))
                .collect();
            eprintln!("ran (task, after the block began): {ran:?}");
            assert!(!blocker.is_finished(), "the blocked poll ended early");
            assert_eq!(
                done.len(),
                N,
                "only tasks {:?} of 0..{N} ran during the 2 s blocked poll",
                done.iter().map(|d| d.0).collect::<Vec<_>>()
            );
            blocker.await.unwrap();
        });
        drop(rt);
    });
}

/// A task that yielded (`yield_now`) on the worker that then runs the
/// blocking poll: it waits in that worker's list of yielded tasks, which
/// must not stay stuck behind the blocked poll either. Task A spawns the
/// blocker (into its worker's LIFO slot) and yields; the worker runs the
/// blocker right after A's poll.
#[test]
fn a_task_that_yielded_on_the_blocked_worker_still_runs() {
    if !stash_take_over_available() {
        return;
    }
    let _cores = shared();
    let (rt, _reports) = runtime(Flavour::MultiThread(2), Config::new());
    within(LIMIT, move || {
        rt.block_on(async move {
            let (tx, mut rx) = channel::<&'static str>();
            let started: Started = Arc::default();
            let started2 = started.clone();
            let yielder = task::Builder::new()
                .name("yielder")
                .spawn(async move {
                    let blocker = vigil::spawn(async move {
                        *started2.lock().unwrap() = Some(Instant::now());
                        std::thread::sleep(BLOCK);
                    });
                    task::yield_now().await;
                    tx.send("yielder resumed");
                    // (Returned to be awaited by the test.)
                    Some(blocker)
                })
                .unwrap();
            let got = vigil::time::timeout(Duration::from_secs(1), rx.recv()).await;
            let start = started_at(&started);
            eprintln!("{got:?}, {:?} after the block began", start.elapsed());
            assert!(
                start.elapsed() < BLOCK,
                "the blocked poll ended before the check"
            );
            assert!(
                matches!(got, Ok(Some(_))),
                "a task that yielded on the blocked worker did not run within 1 s of the block"
            );
            yielder.await.unwrap().unwrap().await.unwrap();
        });
        drop(rt);
    });
}

/// A blocked poll that goes on queueing work after it was reported (here a
/// spawn between two sleeps, which lands in its worker's LIFO slot): the
/// monitor keeps taking that work over on every sample while the poll
/// stays blocked, not only at the first report.
#[test]
fn work_queued_after_the_report_is_taken_over_too() {
    if !stash_take_over_available() {
        return;
    }
    let _cores = shared();
    let (rt, reports) = runtime(Flavour::MultiThread(2), Config::new());
    within(LIMIT, move || {
        rt.block_on(async move {
            let (tx, mut rx) = channel::<Instant>();
            let spawned: Started = Arc::default();
            let spawned2 = spawned.clone();
            let seen = reports.clone();
            let blocker = task::Builder::new()
                .name("blocker")
                .spawn(async move {
                    // Block until the poll has been reported, and a while
                    // longer so that the first take-over (right after the
                    // report) is over; then queue more work.
                    let deadline = Instant::now() + BLOCK;
                    while seen.count() == 0 && Instant::now() < deadline {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    std::thread::sleep(THRESHOLD);
                    *spawned2.lock().unwrap() = Some(Instant::now());
                    vigil::spawn(async move { tx.send(Instant::now()) });
                    std::thread::sleep(BLOCK);
                })
                .unwrap();
            let got = vigil::time::timeout(Duration::from_secs(1), rx.recv()).await;
            let ran_after = got
                .ok()
                .flatten()
                .map(|at| at.saturating_duration_since(started_at(&spawned)));
            eprintln!("ran {ran_after:?} after its spawn");
            assert!(!blocker.is_finished(), "the blocked poll ended early");
            let reported = reports.of_kind(ReportKind::BlockedPoll);
            assert_eq!(reported.len(), 1, "one blocked poll, one report");
            assert!(
                reported[0].at < started_at(&spawned),
                "the poll was not reported before the spawn"
            );
            assert!(
                ran_after.is_some(),
                "a task spawned by the blocked poll after its report did not run within 1 s"
            );
            blocker.await.unwrap();
        });
        drop(rt);
    });
}

/// "start a replacement worker if all of them are blocked": with both
/// workers of a 2-worker runtime blocked, a task with a 10 ms timer still
/// runs.
#[test]
fn a_replacement_worker_runs_tasks_when_every_worker_is_blocked() {
    let _cores = exclusive();
    let (rt, reports) = runtime(Flavour::MultiThread(2), Config::new());
    within(LIMIT, move || {
        rt.block_on(async move {
            let (tx, mut rx) = channel::<()>();
            let mut blockers = Vec::new();
            for _ in 0..2 {
                let tx = tx.clone();
                blockers.push(
                    task::Builder::new()
                        .name("blocker")
                        .spawn(async move {
                            tx.send(());
                            std::thread::sleep(BLOCK);
                        })
                        .unwrap(),
                );
            }
            drop(tx);
            // Both blockers have started: both workers are blocked.
            rx.recv().await.unwrap();
            rx.recv().await.unwrap();
            let start = Instant::now();
            // `block_on` runs on this thread, not a worker: a spawned task
            // needs a worker.
            let ticker = vigil::spawn(async {
                let start = Instant::now();
                vigil::time::sleep(Duration::from_millis(10)).await;
                start.elapsed()
            });
            let res = vigil::time::timeout(Duration::from_secs(1), ticker).await;
            eprintln!(
                "with both workers blocked: {res:?} after {:?}; reports {:?}",
                start.elapsed(),
                reports
                    .all()
                    .iter()
                    .map(|s| s.report.to_string())
                    .collect::<Vec<_>>()
            );
            let took = res
                .expect("no task ran within 1 s while both workers were blocked")
                .unwrap();
            assert!(took < Duration::from_millis(500), "{took:?}");
            for b in blockers {
                b.await.unwrap();
            }
        });
        drop(rt);
    });
}

/// Both ends of a loopback connection within the runtime live in worker
/// epolls, one of them in the epoll of the worker whose task waited on it
/// (`driver::io::placement`). When that worker then blocks, the others
/// must take the events of its epoll (an idle worker steals them, the
/// watchdog's rescue marks the blocked worker idle), or the connection's
/// tasks, run on the other worker, would hear nothing until the blocked
/// poll ends.
#[test]
fn io_registered_on_a_blocked_worker_is_still_served() {
    use vigil::io::{AsyncReadExt, AsyncWriteExt};
    use vigil::net::{TcpListener, TcpStream};
    let _cores = shared();
    let (rt, _reports) = runtime(Flavour::MultiThread(2), Config::new());
    within(LIMIT, move || {
        rt.block_on(async move {
            let (tx, mut rx) = channel::<(TcpStream, TcpStream)>();
            let started: Started = Arc::default();
            let started2 = started.clone();
            let blocker = task::Builder::new()
                .name("blocker")
                .spawn(async move {
                    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                    let mut client = TcpStream::connect(listener.local_addr().unwrap())
                        .await
                        .unwrap();
                    let (mut server, _) = listener.accept().await.unwrap();
                    // Wait on both ends from this worker (nothing to read:
                    // each wait times out), so the pair settles here.
                    let mut buf = [0u8; 1];
                    let short = Duration::from_millis(1);
                    for first in [true, false, true] {
                        let end = if first { &mut client } else { &mut server };
                        let read = vigil::time::timeout(short, end.read(&mut buf)).await;
                        assert!(read.is_err(), "nothing was sent yet");
                    }
                    tx.send((client, server));
                    *started2.lock().unwrap() = Some(Instant::now());
                    std::thread::sleep(BLOCK);
                })
                .unwrap();
            let (mut client, mut server) = rx.recv().await.unwrap();
            // Spawned from here (not a worker): they run on the other worker.
            let echo = vigil::spawn(async move {
                let mut buf = [0u8; 4];
                server.read_exact(&mut buf).await.unwrap();
                server.write_all(&buf).await.unwrap();
            });
            let answered = vigil::spawn(async move {
                client.write_all(b"ping").await.unwrap();
                let mut buf = [0u8; 4];
                let read = vigil::time::timeout(BLOCK / 2, client.read_exact(&mut buf)).await;
                read.map(|r| (r.map(|_| buf), Instant::now()))
            })
            .await
            .unwrap();
            let (buf, at) = answered.expect("no echo while the worker holding the pair blocked");
            assert_eq!(&buf.unwrap(), b"ping");
            let start = started_at(&started);
            assert!(
                at < start + BLOCK,
                "answered only {:?} after the block began",
                at - start
            );
            assert!(!blocker.is_finished(), "the blocked poll ended early");
            echo.await.unwrap();
            blocker.await.unwrap();
        });
        drop(rt);
    });
}

#[test]
fn abort_policy_cancels_a_blocked_task_when_its_poll_returns() {
    let _cores = shared();
    for flavour in BOTH {
        let (rt, reports) = runtime(flavour, Config::new());
        within(LIMIT, move || {
            rt.block_on(async move {
                let dropped = Arc::new(AtomicBool::new(false));
                let guard = DropFlag(dropped.clone());
                let after_block = Arc::new(AtomicBool::new(false));
                let after2 = after_block.clone();
                let blocking = async move {
                    let _guard = guard;
                    std::thread::sleep(Duration::from_millis(300));
                    // The poll returns `Pending` here ...
                    vigil::time::sleep(Duration::from_millis(20)).await;
                    // ... and the task must never get this far.
                    after2.store(true, Ordering::SeqCst);
                    1
                };
                let builder = task::Builder::new().name("blocker").watchdog(Policy::Abort);
                let (blocker, line) = (builder.spawn(blocking).unwrap(), line!());
                let err = vigil::time::timeout(Duration::from_secs(2), blocker)
                    .await
                    .expect("the blocked task did not end")
                    .expect_err("the blocked task was not cancelled");
                eprintln!("{flavour:?}: {err}");
                assert!(err.is_cancelled(), "{err}");
                let report = err.watchdog_report().expect("no report in the JoinError");
                check_blocked_report(report, err.id(), line, "blocker");
                assert_eq!(report.policy(), Policy::Abort);
                assert!(report
                    .to_string()
                    .contains("cancelled when its poll returns"));
                assert!(dropped.load(Ordering::SeqCst), "the future was not dropped");
                assert!(!after_block.load(Ordering::SeqCst));
                let all = reports.all();
                assert_eq!(all.len(), 1, "{all:?}");
                assert_eq!(all[0].report.task_id(), err.id());
            });
            drop(rt);
        });
    }
}

struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}
