//! `vigil::io::{stdin, stdout, stderr}` in a child process (this binary
//! again, running one ignored test selected by an environment variable):
//! a megabyte through stdin and back out, on the io_uring engine and on the
//! blocking pool, and a runtime that stops while a stdin read waits in the
//! ring shuts down instead of hanging.
//!
//! The child echoes stdin to *stderr*: the test harness prints its own
//! lines on stdout, which is where the child writes a marker.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use vigil::io::{AsyncReadExt, AsyncWriteExt};
use vigil::runtime::Builder;

const CHILD_ENV: &str = "VIGIL_IO_STDIO_CHILD";
const MARKER: &str = "stdio child: done";
const LIMIT: Duration = Duration::from_secs(60);

fn runtime(io_uring: bool) -> vigil::runtime::Runtime {
    Builder::new_current_thread()
        .io_uring(io_uring)
        .build()
        .unwrap()
}

/// The child: what it does depends on the environment variable.
#[test]
#[ignore = "run by the tests below in a child process"]
fn stdio_child() {
    let Ok(mode) = std::env::var(CHILD_ENV) else {
        return;
    };
    match mode.as_str() {
        "echo-uring" | "echo-blocking" => {
            runtime(mode == "echo-uring").block_on(async {
                let mut input = Vec::new();
                vigil::io::stdin().read_to_end(&mut input).await.unwrap();
                let mut err = vigil::io::stderr();
                err.write_all(&input).await.unwrap();
                err.flush().await.unwrap();
                let mut out = vigil::io::stdout();
                out.write_all(format!("{MARKER} {}\n", input.len()).as_bytes())
                    .await
                    .unwrap();
                out.flush().await.unwrap();
            });
        }
        "abandon-read" => {
            let rt = runtime(true);
            rt.block_on(async {
                let reader = vigil::spawn(async {
                    let mut byte = [0u8; 1];
                    let _ = vigil::io::stdin().read(&mut byte).await;
                });
                vigil::time::sleep(Duration::from_millis(20)).await;
                assert!(!reader.is_finished(), "stdin was expected to stay empty");
            });
            drop(rt);
            println!("{MARKER}");
        }
        "one-handle-three-runtimes" => {
            // One handle, used on an io_uring runtime, then on one without
            // io_uring, then on a second io_uring runtime.
            let mut err = vigil::io::stderr();
            for (line, io_uring) in [("first\n", true), ("second\n", false), ("third\n", true)] {
                runtime(io_uring).block_on(async {
                    err.write_all(line.as_bytes()).await.unwrap();
                    err.flush().await.unwrap();
                });
            }
            println!("{MARKER}");
        }
        other => panic!("unknown child mode {other}"),
    }
}

/// Runs the child in `mode` with `input` on its stdin (kept open, and
/// never written, if `input` is `None`); returns (stdout, stderr).
fn run_child(mode: &str, input: Option<Vec<u8>>) -> (String, Vec<u8>) {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args(["--exact", "stdio_child", "--ignored", "--nocapture"])
        .env(CHILD_ENV, mode)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let (release, released) = mpsc::channel::<()>();
    let feeder = std::thread::spawn(move || {
        match input {
            Some(input) => stdin.write_all(&input).unwrap(),
            // Held open until the child is gone: a read waits forever.
            None => drop(released.recv_timeout(LIMIT)),
        }
        drop(stdin);
    });
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        // Both pipes at once: the child fills stderr before it writes stdout.
        let output = child.wait_with_output().unwrap();
        let out = String::from_utf8_lossy(&output.stdout).into_owned();
        let _ = tx.send((output.status, out, output.stderr));
    });
    let (status, out, err) = match rx.recv_timeout(LIMIT) {
        Ok(done) => done,
        Err(_) => {
            // SAFETY: plain kill(2) of the child we spawned and never reaped.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            panic!("the {mode} child did not finish within {LIMIT:?}");
        }
    };
    drop(release);
    feeder.join().unwrap();
    assert!(
        status.success(),
        "{mode} child failed ({status}):\n{out}\n{}",
        String::from_utf8_lossy(&err)
    );
    (out, err)
}

#[test]
fn a_megabyte_goes_through_stdin_and_stderr_on_both_engines() {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let data: Vec<u8> = (0..1 << 20)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    for mode in ["echo-uring", "echo-blocking"] {
        let (out, err) = run_child(mode, Some(data.clone()));
        assert!(
            out.contains(&format!("{MARKER} {}", data.len())),
            "{mode}: {out}"
        );
        assert!(
            err == data,
            "{mode}: {} bytes came back, not the same",
            err.len()
        );
    }
}

#[test]
fn a_runtime_with_a_stdin_read_in_the_ring_shuts_down() {
    let (out, _) = run_child("abandon-read", None);
    assert!(out.contains(MARKER), "{out}");
}

#[test]
fn one_stderr_handle_writes_on_three_runtimes_in_turn() {
    let (out, err) = run_child("one-handle-three-runtimes", Some(Vec::new()));
    assert!(out.contains(MARKER), "{out}");
    assert_eq!(String::from_utf8_lossy(&err), "first\nsecond\nthird\n");
}
