//! Runtime behaviour of `#[vigil::main]` and `#[vigil::test]`.
//!
//! Compile-time errors of the macros are covered by `macros_ui.rs`.
#![cfg(feature = "macros")]

use std::collections::HashSet;
use std::error::Error;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

/// Runs on the test harness's thread (`block_on` drives the body there).
fn harness_thread() -> ThreadId {
    thread::current().id()
}

/// Spawns `n` tasks and returns the set of threads they ran on.
async fn spawned_task_threads(n: usize) -> HashSet<ThreadId> {
    let mut handles = Vec::with_capacity(n);
    for _ in 0..n {
        handles.push(vigil::spawn(async { thread::current().id() }));
    }
    let mut threads = HashSet::new();
    for handle in handles {
        threads.insert(handle.await.expect("task panicked"));
    }
    threads
}

#[vigil::test]
async fn default_test_has_a_runtime() {
    let handle = vigil::runtime::Handle::current();
    drop(handle);
    // The default flavor for tests is `current_thread`: spawned tasks run on
    // the thread that called `block_on`, which is the test's thread.
    let threads = spawned_task_threads(8).await;
    assert_eq!(threads.len(), 1);
    assert!(threads.contains(&harness_thread()));
}

#[vigil::test]
async fn default_test_returns_a_value_through_the_body() {
    // Inference of the body's output goes through the declared return type.
    let value = async { 40 + 2 }.await;
    assert_eq!(value, 42);
}

#[vigil::test(flavor = "current_thread")]
async fn explicit_current_thread() {
    let _handle = vigil::runtime::Handle::current();
    let threads = spawned_task_threads(4).await;
    assert_eq!(threads, HashSet::from([harness_thread()]));
}

#[vigil::test(flavor = "multi_thread")]
async fn multi_thread_runs_tasks_on_worker_threads() {
    let _handle = vigil::runtime::Handle::current();
    let threads = spawned_task_threads(16).await;
    assert!(!threads.is_empty());
    assert!(
        !threads.contains(&harness_thread()),
        "spawned tasks should run on worker threads, not on the thread blocked in `block_on`"
    );
}

#[vigil::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_thread_with_two_workers() {
    let _handle = vigil::runtime::Handle::current();

    // At most two workers run tasks.
    let threads = spawned_task_threads(64).await;
    assert!(!threads.contains(&harness_thread()));
    assert!(
        (1..=2).contains(&threads.len()),
        "expected tasks on at most 2 worker threads, saw {}",
        threads.len()
    );

    // And two really run at the same time: each task waits (bounded) until
    // the other one has started.
    let arrived = Arc::new(AtomicUsize::new(0));
    let rendezvous = |arrived: Arc<AtomicUsize>| async move {
        arrived.fetch_add(1, Ordering::SeqCst);
        let deadline = Instant::now() + Duration::from_secs(10);
        while arrived.load(Ordering::SeqCst) < 2 {
            if Instant::now() > deadline {
                return false;
            }
            thread::yield_now();
        }
        true
    };
    let a = vigil::spawn(rendezvous(arrived.clone()));
    let b = vigil::spawn(rendezvous(arrived.clone()));
    assert!(
        a.await.expect("task a panicked"),
        "the two workers never ran concurrently"
    );
    assert!(
        b.await.expect("task b panicked"),
        "the two workers never ran concurrently"
    );
}

#[vigil::test]
async fn test_returning_result_with_question_mark() -> Result<(), Box<dyn Error>> {
    let _handle = vigil::runtime::Handle::current();
    let n: u32 = "41".parse()?;
    let text = async { String::from("1") }.await;
    let m: u32 = text.parse()?;
    assert_eq!(n + m, 42);
    Ok(())
}

#[vigil::test(flavor = "multi_thread")]
async fn multi_thread_returning_result() -> Result<(), Box<dyn Error>> {
    let n = vigil::spawn(async { "7".parse::<u8>() }).await??;
    assert_eq!(n, 7);
    if n == 7 {
        // An early `return` leaves the async body, not something else.
        return Ok(());
    }
    Err("unreachable".into())
}

#[vigil::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_thread_two_workers_returning_result() -> Result<(), std::num::ParseIntError> {
    let n: i64 = "-3".parse()?;
    assert_eq!(n, -3);
    Ok(())
}

#[vigil::test]
#[should_panic(expected = "boom inside the runtime")]
async fn should_panic_works() {
    let _handle = vigil::runtime::Handle::current();
    panic!("boom inside the runtime");
}

#[vigil::test]
#[ignore = "checks that #[ignore] is kept; never run"]
async fn ignore_is_kept() {
    panic!("ignored tests are not run");
}

// `#[vigil::main]` works on any async fn without arguments, not only `main`,
// keeps its visibility and return type, and infers `?` conversions from it.

#[vigil::main]
pub(crate) async fn compute_on_multi_thread() -> Result<u32, Box<dyn Error>> {
    let _handle = vigil::runtime::Handle::current();
    let on_worker = vigil::spawn(async { thread::current().id() }).await?;
    assert_ne!(on_worker, thread::current().id());
    let n: u32 = "41".parse()?;
    Ok(n + 1)
}

#[vigil::main(flavor = "current_thread")]
async fn compute_on_current_thread() -> Result<u32, String> {
    let _handle = vigil::runtime::Handle::current();
    let on_task = vigil::spawn(async { thread::current().id() })
        .await
        .map_err(|e| format!("{e:?}"))?;
    assert_eq!(on_task, thread::current().id());
    Err("expected".into())
}

#[vigil::main(worker_threads = 1)]
async fn unit_main() {
    let _handle = vigil::runtime::Handle::current();
}

#[test]
fn main_attribute_on_other_functions() {
    assert_eq!(compute_on_multi_thread().unwrap(), 42);
    assert_eq!(compute_on_current_thread(), Err(String::from("expected")));
    unit_main();
    unit_main(); // a fresh runtime each call
}

// The `crate` option: reach vigil through another path.
mod reexport {
    pub use ::vigil as rt;
}

#[vigil::test(crate = "crate::reexport::rt")]
async fn crate_option_renames_the_path() {
    let _handle = reexport::rt::runtime::Handle::current();
}

#[vigil::main(crate = "crate::reexport::rt", flavor = "current_thread")]
async fn main_with_crate_option() -> u8 {
    7
}

#[test]
fn crate_option_on_main() {
    assert_eq!(main_with_crate_option(), 7);
}

// The attribute also works through a `use`.
use vigil::test as vigil_test;

#[vigil_test]
async fn attribute_through_use() {
    let _handle = vigil::runtime::Handle::current();
}
