//! Helpers shared by the integration tests.
// Each test crate uses a different subset.
#![allow(dead_code)]

pub mod waker;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;
use vigil::runtime::{Builder, Runtime};

/// A current-thread runtime.
pub fn current_thread() -> Runtime {
    Builder::new_current_thread().build().unwrap()
}

/// A multi-thread runtime with `workers` worker threads.
pub fn multi_thread(workers: usize) -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .unwrap()
}

/// Runs `f` on `rt` and fails the test if it errors or takes longer than
/// 30 seconds.
pub fn run<F: std::future::Future<Output = std::io::Result<()>>>(rt: &Runtime, f: F) {
    rt.block_on(async {
        vigil::time::timeout(Duration::from_secs(30), f)
            .await
            .expect("test timed out")
            .expect("test failed")
    })
}

/// One runtime of each flavour (two workers for the multi-thread one),
/// named for assertion messages.
pub fn both_flavours() -> Vec<(&'static str, Runtime)> {
    vec![
        ("current_thread", current_thread()),
        ("multi_thread", multi_thread(2)),
    ]
}

/// Counts drops of the value it wraps.
pub struct DropCounter(pub Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Runs `f`, which must panic, and returns the panic message.
pub fn panic_message(f: impl FnOnce()) -> String {
    let err = catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic");
    err.downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// Re-runs this test binary in a child process with only the ignored test
/// `child_test` selected and `env` set to `1` (the child test does nothing
/// unless it is set), and returns what the child printed and how it ended.
/// For scenarios that must not share the harness's process (resource
/// limits, signal dispositions). Panics, after killing the child, if it
/// runs longer than `limit`.
pub fn run_in_child(child_test: &str, env: &str, limit: Duration) -> Output {
    let exe = std::env::current_exe().unwrap();
    let child = Command::new(exe)
        .args(["--exact", child_test, "--ignored", "--nocapture"])
        .env(env, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    match rx.recv_timeout(limit) {
        Ok(output) => output.unwrap(),
        Err(_) => {
            // SAFETY: plain kill(2) of the child we spawned and never reaped.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            panic!("the child test {child_test} did not finish within {limit:?}");
        }
    }
}

/// A fresh, empty directory under the system's temporary directory, named
/// after `label`, the process and a counter; removed with its contents on
/// drop.
pub struct TempDir(std::path::PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "vigil-{label}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    /// The path of `name` inside the directory.
    pub fn path(&self, name: &str) -> std::path::PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
