//! Unit tests of the paths integration tests cannot choose: waiting on
//! helper threads (the fallback when `pidfd_open` is unavailable).

use super::Command;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn with_timeout<F: std::future::Future>(f: F) -> F::Output {
    crate::block_on(async {
        crate::time::timeout(Duration::from_secs(20), f)
            .await
            .expect("test timed out")
    })
}

#[test]
fn spawn_uses_a_process_descriptor_by_default() {
    with_timeout(async {
        let mut child = Command::new("true").spawn().unwrap();
        // Skip (but say so) where the kernel or a sandbox refuses pidfds.
        if crate::sys::process::pidfd_open(child.id().unwrap()).is_ok() {
            assert!(child_uses_pidfd(&mut child));
        } else {
            eprintln!("pidfd_open unavailable: only the thread path runs here");
        }
        assert!(child.wait().await.unwrap().success());
    });
}

fn child_uses_pidfd(child: &mut super::Child) -> bool {
    child.inner_for_tests().uses_pidfd()
}

#[test]
fn thread_wait_reports_exit_codes() {
    with_timeout(async {
        let ok = Command::new("true")
            .force_thread_wait()
            .status()
            .await
            .unwrap();
        assert!(ok.success());
        let mut child = Command::new("false").force_thread_wait().spawn().unwrap();
        assert!(!child_uses_pidfd(&mut child));
        assert_eq!(child.wait().await.unwrap().code(), Some(1));
        // Collected once, returned again.
        assert_eq!(child.wait().await.unwrap().code(), Some(1));
        assert_eq!(child.id(), None);
    });
}

#[test]
fn thread_wait_survives_cancellation_and_kill() {
    with_timeout(async {
        let mut child = Command::new("sleep")
            .arg("1000")
            .force_thread_wait()
            .spawn()
            .unwrap();
        // A wait cut short leaves the child to wait for again.
        let cut = crate::time::timeout(Duration::from_millis(20), child.wait()).await;
        assert!(cut.is_err());
        assert_eq!(child.try_wait().unwrap(), None);
        child.kill().await.unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            child.try_wait().unwrap().unwrap().signal(),
            Some(libc::SIGKILL)
        );
    });
}

#[test]
fn thread_wait_does_not_block_timers() {
    crate::block_on(async {
        let mut child = Command::new("sleep")
            .arg("0.3")
            .force_thread_wait()
            .spawn()
            .unwrap();
        let timer = crate::spawn(async {
            let start = Instant::now();
            crate::time::sleep(Duration::from_millis(10)).await;
            start.elapsed()
        });
        let status = child.wait().await.unwrap();
        assert!(status.success());
        assert!(
            timer.is_finished(),
            "the timer did not fire during the wait"
        );
    });
}

#[test]
fn thread_path_output_and_pipes() {
    with_timeout(async {
        let out = Command::new("sh")
            .args(["-c", "echo out; echo err >&2; exit 3"])
            .force_thread_wait()
            .output()
            .await
            .unwrap();
        assert_eq!(out.status.code(), Some(3));
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.stderr, b"err\n");
    });
}

#[test]
fn thread_path_reaps_dropped_children() {
    with_timeout(async {
        let child = Command::new("sh")
            .args(["-c", "read _"])
            .stdin(Stdio::piped())
            .force_thread_wait()
            .spawn()
            .unwrap();
        let pid = child.id().unwrap();
        // Dropping the child drops its stdin: `read` sees end of file and
        // the shell exits; the reaper thread must collect it.
        drop(child);
        assert_reaped(pid).await;

        let child = Command::new("sleep")
            .arg("1000")
            .kill_on_drop(true)
            .force_thread_wait()
            .spawn()
            .unwrap();
        let pid = child.id().unwrap();
        drop(child);
        assert_reaped(pid).await;
    });
}

/// Polls `/proc/<pid>` (with a deadline) until the process is gone; a
/// zombie still has an entry, so this fails if nobody reaps it.
pub(crate) async fn assert_reaped(pid: u32) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let path = format!("/proc/{pid}/stat");
    while std::path::Path::new(&path).exists() {
        assert!(Instant::now() < deadline, "process {pid} was not reaped");
        crate::time::sleep(Duration::from_millis(2)).await;
    }
}
