//! The watchdog and `LocalSet`: a set's tasks are watched one by one by the
//! watchdog of the runtime that drives the set, like the runtime's own
//! tasks. A local task that spins or loses its waker is reported under its
//! own id, name and spawn line (not as the task or thread that drives the
//! set), the set's other tasks keep running, the policy applies to the
//! local task, and `Handle::dump` lists the set's tasks while it lives.

mod watchdog_support;

use std::cell::Cell;
use std::future::{pending, Future};
use std::rc::Rc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use vigil::runtime::Handle;
use vigil::task::{self, LocalSet};
use vigil::watchdog::{Config, Policy, ReportKind};
use watchdog_support::{
    exclusive, no_blocked, runtime, sensitive, shared, within, Flavour, Forgetful, Reports,
    Spinner, BOTH,
};

const LIMIT: Duration = Duration::from_secs(10);

#[test]
fn a_spinning_local_task_is_reported_by_name_and_the_set_keeps_running() {
    let _cores = shared();
    on_a_set_in_each_flavour(no_blocked(sensitive()), |flavour, reports| async move {
        let (spinner, polls) = Spinner::new();
        let builder = task::Builder::new().name("local-spinner");
        let (handle, line) = (builder.spawn_local(spinner).unwrap(), line!());
        let seen = reports
            .wait_for(Duration::from_secs(5), |r| r.kind() == ReportKind::Spinning)
            .await
            .expect("no spinning report");
        let report = &seen.report;
        eprintln!("{flavour:?}: {report}");
        assert_eq!(report.task_id(), handle.id());
        assert_eq!(report.task_name(), Some("local-spinner"));
        assert_eq!(report.location().file(), file!());
        assert_eq!(report.location().line(), line);
        assert_eq!(report.policy(), Policy::Warn);
        assert!(report.spurious_wakes() >= 100, "{report}");
        // The rest of the set and of the runtime still run.
        let not_send = Rc::new(41);
        let answer = task::spawn_local(async move { *not_send + 1 })
            .await
            .unwrap();
        assert_eq!(answer, 42);
        vigil::spawn(async {}).await.unwrap();
        vigil::time::sleep(Duration::from_millis(5)).await;
        assert!(polls.load(Relaxed) > 100);
        handle.abort();
        assert!(handle.await.unwrap_err().is_cancelled());
        let spins = reports.of_kind(ReportKind::Spinning);
        assert_eq!(
            spins.len(),
            1,
            "reported more than once: {:?}",
            reports.all()
        );
    });
}

#[test]
fn a_spinning_local_task_is_cancelled_under_the_abort_policy() {
    let _cores = shared();
    on_a_set_in_each_flavour(
        no_blocked(sensitive().policy(Policy::Abort)),
        |flavour, _reports| async move {
            let (spinner, _polls) = Spinner::new();
            let handle = local_spawn_named("doomed", spinner);
            let id = handle.id();
            let err = handle.await.expect_err("the spinner ended normally");
            eprintln!("{flavour:?}: {err}");
            assert!(err.is_cancelled(), "{err}");
            assert_eq!(err.id(), id);
            let report = err.watchdog_report().expect("no report in the error");
            assert_eq!(report.kind(), ReportKind::Spinning);
            assert_eq!(report.task_name(), Some("doomed"));
        },
    );
}

#[test]
fn a_spinning_local_task_is_throttled_and_still_polled_under_the_throttle_policy() {
    let _cores = shared();
    on_a_set_in_each_flavour(
        no_blocked(sensitive().policy(Policy::Throttle)),
        |_flavour, reports| async move {
            let (spinner, polls) = Spinner::new();
            let handle = local_spawn_named("throttled", spinner);
            reports
                .wait_for(Duration::from_secs(5), |r| r.kind() == ReportKind::Spinning)
                .await
                .expect("no spinning report");
            // Throttled polls come back through the set's remote queue,
            // from whichever thread releases them.
            let before = polls.load(Relaxed);
            while polls.load(Relaxed) < before + 3 {
                vigil::time::sleep(Duration::from_millis(1)).await;
            }
            assert_eq!(task::spawn_local(async { 5 }).await.unwrap(), 5);
            handle.abort();
            assert!(handle.await.unwrap_err().is_cancelled());
            assert_eq!(reports.of_kind(ReportKind::Spinning).len(), 1);
        },
    );
}

#[test]
fn builder_spawn_local_on_names_the_task_and_sets_its_own_policy() {
    let _cores = shared();
    for flavour in BOTH {
        // The runtime only warns; the task asked to be cancelled.
        let (rt, _reports) = runtime(flavour, no_blocked(sensitive()));
        within(LIMIT, move || {
            let local = LocalSet::new();
            let (spinner, _polls) = Spinner::new();
            let builder = task::Builder::new().name("strict").watchdog(Policy::Abort);
            let (handle, line) = (builder.spawn_local_on(spinner, &local).unwrap(), line!());
            let id = handle.id();
            let err = local.block_on(&rt, handle).expect_err("the spinner ended");
            let report = err.watchdog_report().expect("no report in the error");
            assert_eq!(report.task_id(), id);
            assert_eq!(report.task_name(), Some("strict"));
            assert_eq!(report.location().file(), file!());
            assert_eq!(report.location().line(), line);
            assert_eq!(report.policy(), Policy::Abort);
        });
    }
}

#[test]
fn a_local_task_that_lost_its_waker_is_reported() {
    let _cores = shared();
    on_a_set_in_each_flavour(no_blocked(Config::new()), |flavour, reports| async move {
        let (handle, line) = (local_spawn_named("forgetful", Forgetful), line!());
        let seen = reports
            .wait_for(Duration::from_secs(5), |_| true)
            .await
            .expect("no lost-waker report");
        let report = &seen.report;
        eprintln!("{flavour:?}: {report}");
        assert_eq!(report.kind(), ReportKind::LostWaker, "{report}");
        assert_eq!(report.task_id(), handle.id());
        assert_eq!(report.task_name(), Some("forgetful"));
        assert_eq!(report.location().line(), line);
        handle.abort();
    });
}

#[test]
fn a_local_task_waiting_on_a_timer_or_a_channel_is_not_reported() {
    let _cores = shared();
    on_a_set_in_each_flavour(no_blocked(sensitive()), |_flavour, reports| async move {
        let (tx, rx) = vigil::sync::oneshot::channel::<u32>();
        let waiter = task::spawn_local(async move { rx.await.unwrap() });
        let sleeper = task::spawn_local(async {
            for _ in 0..20 {
                vigil::time::sleep(Duration::from_millis(1)).await;
                task::yield_now().await;
            }
        });
        sleeper.await.unwrap();
        // Sent from another thread: the local task is woken remotely.
        vigil::task::spawn_blocking(move || tx.send(7).unwrap())
            .await
            .unwrap();
        assert_eq!(waiter.await.unwrap(), 7);
        reports.assert_none("local tasks that wait properly");
    });
}

#[test]
fn a_blocking_local_task_under_a_current_thread_block_on_is_reported_by_name() {
    // Blocked-poll detection: alone on the machine (see `no_blocked`).
    let _cores = exclusive();
    let (rt, reports) = runtime(Flavour::CurrentThread, Config::new());
    within(LIMIT, move || {
        let local = LocalSet::new();
        let (id, line) = local.block_on(&rt, async {
            let blocking = async { std::thread::sleep(Duration::from_millis(500)) };
            let (handle, line) = (local_spawn_named("local-blocker", blocking), line!());
            let id = handle.id();
            handle.await.unwrap();
            (id, line)
        });
        let blocked = reports.of_kind(ReportKind::BlockedPoll);
        assert_eq!(blocked.len(), 1, "{:?}", reports.all());
        let report = &blocked[0].report;
        eprintln!("{report}");
        assert_eq!(report.task_id(), id);
        assert_eq!(report.task_name(), Some("local-blocker"));
        assert_eq!(report.location().line(), line);
    });
}

#[test]
fn a_blocking_local_task_in_a_set_driven_by_a_task_is_blamed_by_name() {
    let _cores = exclusive();
    // A set is `!Send`: only a current-thread runtime's local task can
    // drive one.
    {
        let flavour = Flavour::CurrentThread;
        let (rt, reports) = runtime(flavour, Config::new());
        let checked = reports.clone();
        within(LIMIT, move || {
            let (driver_id, blocker_id) = rt.block_on(async {
                // A task of the runtime drives the set: the local task's poll
                // is nested inside the driving task's poll.
                let driver = task::Builder::new()
                    .name("set-driver")
                    .spawn_local(async {
                        let local = LocalSet::new();
                        local
                            .run_until(async {
                                let blocking = async {
                                    std::thread::sleep(Duration::from_millis(500));
                                };
                                let handle = local_spawn_named("nested-blocker", blocking);
                                let id = handle.id();
                                handle.await.unwrap();
                                id
                            })
                            .await
                    })
                    .unwrap();
                let driver_id = driver.id();
                (driver_id, driver.await.unwrap())
            });
            let blocked = checked.of_kind(ReportKind::BlockedPoll);
            assert_eq!(blocked.len(), 1, "{flavour:?}: {:?}", checked.all());
            let report = &blocked[0].report;
            eprintln!("{flavour:?}: {report}");
            assert_eq!(report.task_id(), blocker_id, "not {driver_id:?}: {report}");
            assert_eq!(report.task_name(), Some("nested-blocker"));
        });
    }
}

#[test]
fn a_block_two_sets_deep_is_blamed_on_the_innermost_task_running() {
    let _cores = exclusive();
    let (rt, reports) = runtime(Flavour::CurrentThread, Config::new());
    let checked = reports.clone();
    within(LIMIT, move || {
        let outer = LocalSet::new();
        let middle_id = outer.block_on(&rt, async {
            // A task of the outer set drives a set of its own; a task of
            // that inner set runs and ends, then the middle task blocks in
            // the same poll.
            let middle = local_spawn_named("middle", async {
                let mut inner = std::pin::pin!(LocalSet::new());
                inner.spawn_local(async {});
                std::future::poll_fn(|cx| {
                    // Runs the inner task to its end, nested in this poll.
                    assert!(inner.as_mut().poll(cx).is_ready());
                    std::thread::sleep(Duration::from_millis(500));
                    std::task::Poll::Ready(())
                })
                .await;
            });
            let id = middle.id();
            middle.await.unwrap();
            id
        });
        let blocked = checked.of_kind(ReportKind::BlockedPoll);
        assert_eq!(blocked.len(), 1, "{:?}", checked.all());
        let report = &blocked[0].report;
        eprintln!("{report}");
        assert_eq!(report.task_name(), Some("middle"), "{report}");
        assert_eq!(report.task_id(), middle_id);
    });
}

#[test]
fn a_busy_set_driven_by_a_task_is_not_taken_for_a_spinning_task() {
    let _cores = shared();
    {
        let flavour = Flavour::CurrentThread;
        let (rt, reports) = runtime(flavour, no_blocked(sensitive()));
        let checked = reports.clone();
        within(LIMIT, move || {
            let spins = rt.block_on(async {
                // A task of the runtime drives the set: each of its polls
                // runs the always-yielding local task once and asks to be
                // polled again.
                task::spawn_local(async {
                    let local = LocalSet::new();
                    let spins = Rc::new(Cell::new(0u32));
                    let s = spins.clone();
                    local.spawn_local(async move {
                        loop {
                            s.set(s.get() + 1);
                            task::yield_now().await;
                        }
                    });
                    // Busy past the spin duration and threshold (100 ms,
                    // 100 polls) whatever the machine's speed.
                    let s = spins.clone();
                    local
                        .run_until(async move {
                            vigil::time::sleep(Duration::from_millis(150)).await;
                            while s.get() <= 200 {
                                task::yield_now().await;
                            }
                        })
                        .await;
                    spins.get()
                })
                .await
                .unwrap()
            });
            assert!(spins > 200, "the local task ran only {spins} times");
        });
        checked.assert_none("a set and a local task that only yield");
    }
}

#[test]
fn a_set_driven_by_a_second_runtime_is_left_alone_by_the_first_one_s_watchdog() {
    let _cores = shared();
    let (first, first_reports) = runtime(
        Flavour::CurrentThread,
        no_blocked(sensitive().policy(Policy::Throttle)),
    );
    let (second, _) = runtime(Flavour::CurrentThread, no_blocked(Config::new()));
    within(LIMIT, move || {
        let local = LocalSet::new();
        // The first runtime drives the set, then goes away.
        local.block_on(&first, task::yield_now());
        drop(first);
        // A task that spins for a while, then finishes: had the dead
        // runtime's watchdog throttled it, its timer would never fire.
        let spins_then_ends = async {
            let started = std::time::Instant::now();
            let mut polls = 0u32;
            std::future::poll_fn(|cx| {
                polls += 1;
                if polls > 500 && started.elapsed() > Duration::from_millis(300) {
                    return std::task::Poll::Ready(polls);
                }
                cx.waker().wake_by_ref();
                std::task::Poll::Pending
            })
            .await
        };
        let handle = local.spawn_local(spins_then_ends);
        let polls = local.block_on(&second, handle).unwrap();
        assert!(polls > 500);
        first_reports.assert_none("a set the first runtime no longer drives");
    });
}

#[test]
fn the_dump_lists_the_tasks_of_a_set_while_it_lives() {
    let _cores = shared();
    for flavour in BOTH {
        let (rt, _reports) = runtime(flavour, no_blocked(Config::new()));
        within(LIMIT, move || {
            let local = LocalSet::new();
            let (id, line) = local.block_on(&rt, async {
                let (handle, line) = (local_spawn_named("parked-local", pending::<()>()), line!());
                // Let it run once, so that it has been polled.
                task::yield_now().await;
                let dump = Handle::current().dump();
                let row = dump
                    .tasks()
                    .iter()
                    .find(|t| t.name() == Some("parked-local"))
                    .unwrap_or_else(|| panic!("the local task is not in the dump:\n{dump}"));
                assert_eq!(row.id(), handle.id());
                assert_eq!(row.location().line(), line);
                assert_eq!(row.polls(), 1);
                (handle.id(), line)
            });
            // Between drives the set is alive and its task still listed.
            let dump = rt.handle().dump();
            assert!(dump.tasks().iter().any(|t| t.id() == id), "{dump}");
            drop(local);
            let dump = rt.handle().dump();
            assert!(
                dump.tasks().iter().all(|t| t.id() != id),
                "task spawned at line {line} still listed after the set was dropped:\n{dump}"
            );
        });
    }
}

/// Runs `test` on a fresh set driven by `block_on`, once on a runtime of
/// each flavour whose watchdog has `config` (the test gets the flavour and
/// the runtime's reports).
fn on_a_set_in_each_flavour<T, F>(config: Config, test: T)
where
    T: Fn(Flavour, Reports) -> F + Clone + Send + 'static,
    F: std::future::Future<Output = ()>,
{
    for flavour in BOTH {
        let (rt, reports) = runtime(flavour, config.clone());
        let test = test.clone();
        within(LIMIT, move || {
            LocalSet::new().block_on(&rt, test(flavour, reports))
        });
    }
}

/// Spawns `future` on the current set under `name`.
#[track_caller]
fn local_spawn_named<F>(name: &str, future: F) -> task::JoinHandle<F::Output>
where
    F: std::future::Future + 'static,
    F::Output: 'static,
{
    task::Builder::new().name(name).spawn_local(future).unwrap()
}
