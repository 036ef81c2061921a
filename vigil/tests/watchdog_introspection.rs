//! `Handle::dump()` (every live task: id, name, spawn location, state,
//! polls, busy time, time since the last poll) and `Handle::metrics()`
//! (workers, queues, polls, timers, blocking threads, watchdog reports).

mod watchdog_support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;
use vigil::runtime::{Handle, TaskDump, TaskState};
use vigil::task;
use vigil::watchdog::{Config, ReportKind};
use watchdog_support::{channel, runtime, sensitive, shared, within, Flavour, Forgetful, Spinner};

const LIMIT: Duration = Duration::from_secs(10);

fn find<'a>(tasks: &'a [TaskDump], name: &str) -> &'a TaskDump {
    tasks
        .iter()
        .find(|t| t.name() == Some(name))
        .unwrap_or_else(|| panic!("no task named {name:?} in the dump: {tasks:#?}"))
}

/// A sleeping task is idle, a task blocked inside its poll is running, and
/// the dump says who they are and where they were spawned.
#[test]
fn dump_shows_names_locations_and_states() {
    let _cores = shared();
    let (rt, _reports) = runtime(Flavour::MultiThread(2), Config::new());
    within(LIMIT, move || {
        rt.block_on(async {
            let (ready_tx, mut ready_rx) = channel::<()>();
            let ready = ready_tx.clone();
            let sleeper = async move {
                for _ in 0..3 {
                    task::yield_now().await;
                }
                ready.send(());
                vigil::time::sleep(Duration::from_secs(30)).await;
            };
            let builder = task::Builder::new().name("sleeper");
            let (sleeper, sleeper_line) = (builder.spawn(sleeper).unwrap(), line!());
            let forgetful = async move {
                ready_tx.send(());
                Forgetful.await
            };
            let (unnamed, unnamed_line) = (vigil::spawn(forgetful), line!());
            // Both are waiting (their polls end right after they send).
            ready_rx.recv().await.unwrap();
            ready_rx.recv().await.unwrap();
            vigil::time::sleep(Duration::from_millis(30)).await;

            // Blocks its worker inside a poll until released (bounded).
            let (release_tx, release_rx) = mpsc::channel::<()>();
            let (entered_tx, mut entered_rx) = channel::<()>();
            let busy = async move {
                entered_tx.send(());
                let _ = release_rx.recv_timeout(Duration::from_secs(5));
            };
            let builder = task::Builder::new().name("busy-in-poll");
            let (busy, busy_line) = (builder.spawn(busy).unwrap(), line!());
            entered_rx.recv().await.unwrap();

            let dump = Handle::current().dump();
            let text = dump.to_string();
            eprintln!("{text}");
            release_tx.send(()).unwrap();

            let tasks = dump.tasks();
            // Sorted by id.
            assert!(tasks
                .windows(2)
                .all(|w| w[0].id().as_u64() < w[1].id().as_u64()));
            assert_eq!(tasks.len(), 3, "{tasks:#?}");

            let s = find(tasks, "sleeper");
            assert_eq!(s.id(), sleeper.id());
            assert_eq!(s.state(), TaskState::Idle);
            assert_eq!(s.location().file(), file!());
            assert_eq!(s.location().line(), sleeper_line);
            assert!(s.polls() >= 4, "{s:?}");
            let since = s.since_last_poll().expect("polled, but no last poll");
            assert!(since >= Duration::from_millis(20), "{s:?}");
            assert!(since < Duration::from_secs(5), "{s:?}");

            let b = find(tasks, "busy-in-poll");
            assert_eq!(b.id(), busy.id());
            assert_eq!(b.state(), TaskState::Running);
            assert_eq!(b.location().line(), busy_line);

            let u = tasks.iter().find(|t| t.id() == unnamed.id()).unwrap();
            assert_eq!(u.name(), None);
            assert_eq!(u.state(), TaskState::Idle);
            assert_eq!(u.location().line(), unnamed_line);
            assert_eq!(u.polls(), 1);

            // The table: a header, one row per task with its name, state and
            // spawn location, and a total.
            let mut lines = text.lines();
            let header = lines.next().unwrap();
            for column in [
                "id",
                "name",
                "state",
                "polls",
                "busy",
                "last poll",
                "spawned at",
            ] {
                assert!(
                    header.contains(column),
                    "header {header:?} lacks {column:?}"
                );
            }
            let row = |name: &str| {
                text.lines()
                    .find(|l| l.contains(name))
                    .unwrap_or_else(|| panic!("no row for {name:?} in\n{text}"))
                    .to_string()
            };
            let sleeper_row = row("sleeper");
            assert!(sleeper_row.contains("idle"), "{sleeper_row}");
            assert!(
                sleeper_row.contains(&format!("{}:{sleeper_line}", file!())),
                "{sleeper_row}"
            );
            let busy_row = row("busy-in-poll");
            assert!(busy_row.contains("running"), "{busy_row}");
            assert!(
                busy_row.contains(&format!("{}:{busy_line}", file!())),
                "{busy_row}"
            );
            assert!(
                text.contains(&format!("{}:{unnamed_line}", file!())),
                "{text}"
            );
            assert!(text.trim_end().ends_with("3 live task(s)"), "{text}");

            busy.await.unwrap();
            sleeper.abort();
            unnamed.abort();
            let _ = sleeper.await;
            let _ = unnamed.await;
            // A finished task leaves the list right after its join handle
            // sees its output (the worker releases it just after).
            let mut dump = Handle::current().dump();
            for _ in 0..100 {
                if dump.tasks().is_empty() {
                    break;
                }
                vigil::time::sleep(Duration::from_millis(10)).await;
                dump = Handle::current().dump();
            }
            assert!(dump.tasks().is_empty(), "{dump}");
        });
        drop(rt);
    });
}

/// On a current-thread runtime, a task spawned from `block_on` waits in the
/// run queue until `block_on`'s future yields: `Scheduled`, never polled.
/// After it has yielded five times and parked on a timer it has been polled
/// six times.
#[test]
fn dump_shows_scheduled_tasks_and_exact_poll_counts() {
    let _cores = shared();
    let (rt, _reports) = runtime(Flavour::CurrentThread, Config::new().time_every_poll(true));
    within(LIMIT, move || {
        rt.block_on(async {
            let builder = task::Builder::new().name("yielder");
            let yielder = builder
                .spawn(async {
                    for _ in 0..5 {
                        task::yield_now().await;
                    }
                    vigil::time::sleep(Duration::from_secs(30)).await;
                })
                .unwrap();
            let dump = Handle::current().dump();
            let y = find(dump.tasks(), "yielder");
            assert_eq!(y.state(), TaskState::Scheduled);
            assert_eq!(y.polls(), 0);
            assert_eq!(y.since_last_poll(), None);
            assert_eq!(y.busy(), Duration::ZERO);
            let text = dump.to_string();
            assert!(text.contains("scheduled"), "{text}");
            assert!(text.contains("never"), "{text}");

            vigil::time::sleep(Duration::from_millis(20)).await;
            let dump = Handle::current().dump();
            let y = find(dump.tasks(), "yielder");
            assert_eq!(y.state(), TaskState::Idle);
            assert_eq!(y.polls(), 6, "{y:?}");
            assert!(y.busy() > Duration::ZERO, "{y:?}");
            assert!(y.since_last_poll().is_some());
            yielder.abort();
        });
        drop(rt);
    });
}

#[test]
fn metrics_count_workers_polls_timers_and_blocking_threads() {
    let _cores = shared();
    for (flavour, workers) in [(Flavour::CurrentThread, 1), (Flavour::MultiThread(2), 2)] {
        let (rt, _reports) = runtime(flavour, Config::new());
        let handle = rt.handle().clone();
        within(LIMIT, move || {
            let m0 = handle.metrics();
            assert_eq!(m0.num_workers(), workers);
            assert_eq!(m0.workers().len(), workers);
            rt.block_on(async {
                for _ in 0..20 {
                    vigil::spawn(async {
                        task::yield_now().await;
                    })
                    .await
                    .unwrap();
                }
                let m1 = Handle::current().metrics();
                assert!(
                    m1.total_polls() >= m0.total_polls() + 40,
                    "polls {} -> {}",
                    m0.total_polls(),
                    m1.total_polls()
                );
                assert_eq!(
                    m1.total_polls(),
                    m1.workers().iter().map(|w| w.polls()).sum::<u64>()
                );

                // Five sleeping tasks: five timers.
                let sleepers: Vec<_> = (0..5)
                    .map(|_| vigil::spawn(vigil::time::sleep(Duration::from_secs(30))))
                    .collect();
                vigil::time::sleep(Duration::from_millis(30)).await;
                let m2 = Handle::current().metrics();
                assert!(m2.active_timers() >= 5, "{m2}");
                assert!(m2.num_alive_tasks() >= 5, "{m2}");
                for s in &sleepers {
                    s.abort();
                }
                for s in sleepers {
                    let _ = s.await;
                }
                let m3 = Handle::current().metrics();
                assert!(m3.active_timers() < m2.active_timers(), "{m3}");

                // A blocking closure starts a thread of the blocking pool.
                let (inside_tx, mut inside_rx) = channel::<()>();
                let (release_tx, release_rx) = mpsc::channel::<()>();
                let blocking = task::spawn_blocking(move || {
                    inside_tx.send(());
                    let _ = release_rx.recv_timeout(Duration::from_secs(5));
                });
                inside_rx.recv().await.unwrap();
                let m4 = Handle::current().metrics();
                assert!(m4.blocking_threads() >= 1, "{m4}");
                release_tx.send(()).unwrap();
                blocking.await.unwrap();
                // The thread stays in the pool, idle.
                let m5 = Handle::current().metrics();
                assert!(m5.blocking_threads() >= 1, "{m5}");

                let text = m5.to_string();
                eprintln!("{flavour:?}:\n{text}");
                for word in [
                    "tasks alive",
                    "timers",
                    "blocking threads",
                    "watchdog reports",
                ] {
                    assert!(text.contains(word), "{text}");
                }
                assert_eq!(text.lines().filter(|l| !l.is_empty()).count(), 3 + workers);
            });
            drop(rt);
        });
    }
}

/// `watchdog_reports(kind)` counts what the callback received.
#[test]
fn metrics_count_watchdog_reports_by_kind() {
    let _cores = shared();
    for flavour in [Flavour::CurrentThread, Flavour::MultiThread(2)] {
        let config = sensitive().blocked_poll_threshold(Duration::from_millis(40));
        let (rt, reports) = runtime(flavour, config);
        within(LIMIT, move || {
            rt.block_on(async {
                let kinds = [
                    ReportKind::Spinning,
                    ReportKind::BlockedPoll,
                    ReportKind::LostWaker,
                ];
                let m = Handle::current().metrics();
                for kind in kinds {
                    assert_eq!(m.watchdog_reports(kind), 0);
                }
                let lost: Vec<_> = (0..2).map(|_| vigil::spawn(Forgetful)).collect();
                let (spinner, _) = Spinner::new();
                let spinner = vigil::spawn(spinner);
                let blocked = Arc::new(AtomicBool::new(false));
                let blocked2 = blocked.clone();
                let blocker = vigil::spawn(async move {
                    std::thread::sleep(Duration::from_millis(150));
                    blocked2.store(true, Ordering::SeqCst);
                });
                for kind in kinds {
                    reports
                        .wait_for(Duration::from_secs(3), |r| r.kind() == kind)
                        .await
                        .unwrap_or_else(|| panic!("no {kind:?} report"));
                }
                blocker.await.unwrap();
                assert!(blocked.load(Ordering::SeqCst));
                spinner.abort();
                for t in lost {
                    t.abort();
                }
                let m = Handle::current().metrics();
                for kind in kinds {
                    assert_eq!(
                        m.watchdog_reports(kind),
                        reports.of_kind(kind).len() as u64,
                        "{kind:?}: {m}"
                    );
                }
                assert_eq!(m.watchdog_reports(ReportKind::LostWaker), 2, "{m}");
                assert_eq!(m.watchdog_reports(ReportKind::Spinning), 1, "{m}");
                assert!(m.watchdog_reports(ReportKind::BlockedPoll) >= 1, "{m}");
                let text = m.to_string();
                assert!(
                    text.contains(&format!(
                        "spinning 1, blocked poll {}, lost waker 2",
                        m.watchdog_reports(ReportKind::BlockedPoll)
                    )),
                    "{text}"
                );
            });
            drop(rt);
        });
    }
}

/// "`Display` prints it as a table a person can read": every row's columns
/// line up under the header's.
#[test]
fn dump_table_columns_line_up() {
    let _cores = shared();
    let (rt, _reports) = runtime(Flavour::CurrentThread, Config::new());
    within(LIMIT, move || {
        rt.block_on(async {
            let idle = task::Builder::new()
                .name("idle-task")
                .spawn(vigil::time::sleep(Duration::from_secs(30)))
                .unwrap();
            task::yield_now().await;
            // Spawned and not yet run: scheduled.
            let scheduled = task::Builder::new().name("queued").spawn(async {}).unwrap();
            let text = Handle::current().dump().to_string();
            eprintln!("{text}");
            let header = text.lines().next().unwrap();
            let location_col = header.find("spawned at").unwrap();
            let polls_end = header.find("polls").unwrap() + "polls".len();
            for row in text.lines().skip(1).filter(|l| l.contains(file!())) {
                assert_eq!(
                    row.find(file!()),
                    Some(location_col),
                    "the location is not under \"spawned at\":\n{header}\n{row}"
                );
                let polls = row.split_whitespace().nth(3).unwrap();
                assert!(polls.parse::<u64>().is_ok(), "{row}");
                let at = row[..polls_end].trim_end();
                assert!(
                    at.ends_with(polls),
                    "polls not right-aligned under the header:\n{header}\n{row}"
                );
            }
            idle.abort();
            scheduled.await.unwrap();
        });
        drop(rt);
    });
}
