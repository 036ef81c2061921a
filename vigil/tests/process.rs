//! `vigil::process`: exit codes, captured output, pipes in both directions
//! (with more data than a pipe holds), kills, and the reaping of children
//! nobody waits for. Every test runs under a timeout, synchronises through
//! pipes and exits rather than sleeps, and leaves no zombie behind (the
//! reaping tests check `/proc`).

mod common;

use common::{current_thread, run};
use std::future::Future;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::{Duration, Instant};
use vigil::process::{Child, Command};
use vigil::runtime::{Builder, Runtime};

fn multi_thread() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap()
}

/// Waits (polling `/proc`, with a deadline) until `pid` is gone. A zombie
/// keeps its `/proc` entry until reaped, so this fails for a child that was
/// not reaped, as for one still running.
async fn assert_reaped(pid: u32) {
    assert_reaped_while(pid, || async {
        vigil::time::sleep(Duration::from_millis(2)).await;
        Ok(())
    })
    .await
    .unwrap();
}

/// As [`assert_reaped`], running `step` between two looks (for example a
/// spawn, which polls the orphan list).
async fn assert_reaped_while<F, Fut>(pid: u32, mut step: F) -> io::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = io::Result<()>>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    let path = format!("/proc/{pid}/stat");
    while std::path::Path::new(&path).exists() {
        assert!(
            Instant::now() < deadline,
            "process {pid} was not reaped: {}",
            state(pid)
        );
        step().await?;
    }
    Ok(())
}

/// A spawn (of `true`): every spawn polls the orphan list.
async fn spawn_true() -> io::Result<()> {
    Command::new("true").status().await.map(drop)
}

/// The state letter of `/proc/<pid>/stat` (`Z` for a zombie).
fn state(pid: u32) -> String {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The command name is in parentheses and may hold spaces.
    stat.rsplit_once(") ")
        .and_then(|(_, rest)| rest.split(' ').next())
        .unwrap_or("gone")
        .to_string()
}

/// `len` bytes of a pattern that is not periodic in any small power of two.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

#[test]
fn exit_codes_of_true_and_false() {
    run(&current_thread(), async {
        assert!(Command::new("true").status().await?.success());
        let status = Command::new("false").status().await?;
        assert_eq!(status.code(), Some(1));

        let mut child = Command::new("sh").args(["-c", "exit 7"]).spawn()?;
        assert!(child.id().is_some());
        assert_eq!(child.wait().await?.code(), Some(7));
        // Collected once; returned again, and the PID is no longer ours.
        assert_eq!(child.wait().await?.code(), Some(7));
        assert_eq!(child.try_wait()?.unwrap().code(), Some(7));
        assert_eq!(child.id(), None);
        Ok(())
    });
}

#[test]
fn output_captures_both_streams_and_the_code() {
    run(&current_thread(), async {
        let out = Command::new("sh")
            .args(["-c", "echo out; echo err >&2; exit 3"])
            .output()
            .await?;
        assert_eq!(out.status.code(), Some(3));
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.stderr, b"err\n");

        // stdin defaults to null for `output`: `cat` reads end of file at once.
        let out = Command::new("cat").output().await?;
        assert!(out.status.success());
        assert!(out.stdout.is_empty());

        // Environment and working directory reach the child.
        let out = Command::new("sh")
            .args(["-c", "echo $VIGIL_X; pwd"])
            .env_clear()
            .env("VIGIL_X", "x")
            .current_dir("/")
            .output()
            .await?;
        assert_eq!(out.stdout, b"x\n/\n");
        Ok(())
    });
}

#[test]
fn vectored_writes_reach_the_child_whole_and_in_order() {
    use vigil::io::{AsyncReadExt, AsyncWriteExt};
    run(&current_thread(), async {
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let parts: [&[u8]; 3] = [b"one ", b"two ", b"three"];
        let slices: Vec<std::io::IoSlice<'_>> =
            parts.iter().map(|p| std::io::IoSlice::new(p)).collect();
        // A pipe takes up to its buffer in one `writev`: all 13 bytes.
        let n = stdin.write_vectored(&slices).await?;
        assert_eq!(n, 13);
        drop(stdin);
        let mut out = String::new();
        stdout.read_to_string(&mut out).await?;
        assert_eq!(out, "one two three");
        assert!(child.wait().await?.success());
        Ok(())
    });
}

#[test]
fn unix_options_reach_the_child() {
    use std::os::unix::fs::MetadataExt;
    run(&current_thread(), async {
        // argv[0] as given, not the program's path.
        let out = Command::new("sh")
            .arg0("renamed-shell")
            .args(["-c", "cat /proc/$$/cmdline"])
            .output()
            .await?;
        assert!(
            out.stdout.starts_with(b"renamed-shell\0-c\0"),
            "{:?}",
            String::from_utf8_lossy(&out.stdout)
        );

        // A new process group led by the child (field 5 of /proc/PID/stat).
        let out = Command::new("sh")
            .args(["-c", "cut -d' ' -f5 /proc/$$/stat; echo $$"])
            .process_group(0)
            .output()
            .await?;
        let text = String::from_utf8(out.stdout).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_eq!(lines[0], lines[1], "the child does not lead its group");

        // Our own ids are always allowed.
        let me = std::fs::metadata("/proc/self")?;
        let out = Command::new("sh")
            .args(["-c", "id -u; id -g"])
            .uid(me.uid())
            .gid(me.gid())
            .output()
            .await?;
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            format!("{}\n{}\n", me.uid(), me.gid())
        );

        // A failing pre_exec hook fails the spawn with its error.
        let mut cmd = Command::new("true");
        // SAFETY: the closure only builds an error from a raw code, which
        // neither allocates nor takes a lock.
        unsafe {
            cmd.pre_exec(|| Err(io::Error::from_raw_os_error(1)));
        }
        let err = cmd.spawn().unwrap_err();
        assert_eq!(err.raw_os_error(), Some(1), "{err}");

        let mut cmd = Command::new("true");
        assert!(!cmd.get_kill_on_drop());
        assert!(cmd.kill_on_drop(true).get_kill_on_drop());
        assert_eq!(cmd.into_std().get_program(), "true");
        Ok(())
    });
}

#[test]
fn cat_round_trip_of_one_mebibyte() {
    run(&current_thread(), async {
        use vigil::io::{AsyncReadExt, AsyncWriteExt};
        let data = pattern(1 << 20);
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        // Writing all before reading would deadlock once both pipes fill:
        // the writer runs as its own task.
        let sent = data.clone();
        let writer = vigil::spawn(async move {
            stdin.write_all(&sent).await?;
            drop(stdin);
            io::Result::Ok(())
        });
        let mut echoed = Vec::new();
        stdout.read_to_end(&mut echoed).await?;
        writer.await.unwrap()?;
        assert!(
            echoed == data,
            "cat echoed {} bytes, not the 1 MiB sent",
            echoed.len()
        );
        assert!(child.wait().await?.success());
        Ok(())
    });
}

#[test]
fn wait_with_output_drains_both_pipes_without_deadlock() {
    // 3 MB to each stream, stdout first then stderr, and then the other way
    // round: reading one pipe to its end before the other would hang.
    const N: usize = 3_000_000;
    for script in [
        "head -c 3000000 /dev/zero; head -c 3000000 /dev/zero | tr '\\0' e >&2",
        "head -c 3000000 /dev/zero | tr '\\0' e >&2; head -c 3000000 /dev/zero",
    ] {
        run(&multi_thread(), async {
            let child = Command::new("sh")
                .args(["-c", script])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()?;
            let out = child.wait_with_output().await?;
            assert!(out.status.success());
            assert_eq!(out.stdout.len(), N);
            assert!(out.stdout.iter().all(|&b| b == 0));
            assert_eq!(out.stderr.len(), N);
            assert!(out.stderr.iter().all(|&b| b == b'e'));
            Ok(())
        });
    }
}

#[test]
fn kill_ends_a_sleeping_child_with_sigkill() {
    run(&current_thread(), async {
        let mut child = Command::new("sleep").arg("1000").spawn()?;
        assert_eq!(child.try_wait()?, None);
        child.kill().await?;
        let status = child.try_wait()?.expect("killed and reaped");
        assert_eq!(status.signal(), Some(libc::SIGKILL));
        // Killing a reaped child is a no-op, as with std.
        child.start_kill()?;
        child.kill().await?;
        Ok(())
    });
}

#[test]
fn kill_on_drop_kills_and_reaps() {
    run(&current_thread(), async {
        let child = Command::new("sleep")
            .arg("1000")
            .kill_on_drop(true)
            .spawn()?;
        let pid = child.id().unwrap();
        drop(child);
        assert_reaped(pid).await;
        Ok(())
    });
}

#[test]
fn a_dropped_child_keeps_running_and_is_reaped_when_it_exits() {
    run(&multi_thread(), async {
        use vigil::io::{AsyncReadExt, AsyncWriteExt};
        let mut child = Command::new("sh")
            .args(["-c", "read x; echo got $x"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let pid = child.id().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        drop(child);
        // Not killed (no kill_on_drop): it still answers.
        assert_ne!(state(pid), "gone");
        stdin.write_all(b"go\n").await?;
        let mut answer = String::new();
        stdout.read_to_string(&mut answer).await?;
        assert_eq!(answer, "got go\n");
        // Its exit is collected by the background reaper.
        assert_reaped(pid).await;
        Ok(())
    });
}

/// A shell waiting for a line on stdin, spawned on a runtime that is then
/// shut down with the child's reaper task: the child is an orphan. Its pid
/// and stdin (dropping that lets it exit).
fn orphan_waiting_on_stdin() -> (u32, vigil::process::ChildStdin) {
    let rt = current_thread();
    let (pid, stdin) = rt.block_on(async {
        let mut child = Command::new("sh")
            .args(["-c", "read _"])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        (child.id().unwrap(), child.stdin.take().unwrap())
    });
    drop(rt);
    (pid, stdin)
}

#[test]
fn an_orphan_of_a_shut_down_runtime_is_reaped_when_it_exits() {
    let (pid, stdin) = orphan_waiting_on_stdin();
    assert_ne!(state(pid), "gone");
    // End of file on stdin: the shell exits, and the orphan watcher reaps
    // it, with no spawn or drop of another child to prompt it.
    drop(stdin);
    run(&current_thread(), async move {
        assert_reaped(pid).await;
        Ok(())
    });
}

#[test]
fn orphans_of_two_runtimes_are_reaped_one_by_one() {
    // Two runtimes, so that the second orphan arrives while the watcher
    // already waits on the first.
    let (first, first_stdin) = orphan_waiting_on_stdin();
    let (second, second_stdin) = orphan_waiting_on_stdin();
    let rt = current_thread();
    drop(second_stdin);
    run(&rt, async move {
        assert_reaped(second).await;
        assert_ne!(state(first), "gone");
        Ok(())
    });
    drop(first_stdin);
    run(&rt, async move {
        assert_reaped(first).await;
        Ok(())
    });
}

#[test]
fn a_child_dropped_on_another_runtime_after_its_own_shut_down_is_reaped() {
    let rt = current_thread();
    let (child, stdin) = rt.block_on(async {
        let mut child = Command::new("sh")
            .args(["-c", "read _"])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        (child, stdin)
    });
    let pid = child.id().unwrap();
    // The reactor its process descriptor is registered with is gone.
    drop(rt);
    run(&current_thread(), async move {
        // The reaper task's wait fails at once; the child becomes an orphan.
        drop(child);
        vigil::task::yield_now().await;
        drop(stdin);
        assert_reaped_while(pid, spawn_true).await
    });
}

#[test]
fn writing_to_a_child_that_closed_stdin_is_epipe() {
    run(&current_thread(), async {
        use vigil::io::AsyncWriteExt;
        let mut child = Command::new("true").stdin(Stdio::piped()).spawn()?;
        let mut stdin = child.stdin.take().unwrap();
        // Without waiting first: fill the pipe until `true` exits.
        let chunk = vec![0u8; 64 * 1024];
        let err = loop {
            if let Err(e) = stdin.write(&chunk).await {
                break e;
            }
        };
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "{err}");
        assert!(child.wait().await?.success());
        // And once the child is known to be gone, at once.
        let err = stdin.write_all(b"x").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
        Ok(())
    });
}

#[test]
fn wait_closes_stdin_first() {
    run(&current_thread(), async {
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()?;
        assert!(child.wait().await?.success());
        assert!(child.stdin.is_none());
        Ok(())
    });
}

// Under valgrind, glibc's `posix_spawn` cannot report a failed `exec`
// (valgrind runs its `CLONE_VFORK` child as a fork, so the error written
// into shared memory never reaches the parent): `spawn` succeeds and the
// child exits with 127.
#[cfg_attr(vigil_valgrind, ignore)]
#[test]
fn spawning_a_missing_program_is_not_found() {
    run(&current_thread(), async {
        let err = Command::new("/nonexistent/vigil-no-such-program")
            .spawn()
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        let err = Command::new("vigil-no-such-program-on-path")
            .output()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        Ok(())
    });
}

#[test]
fn spawn_outside_a_runtime_is_an_error_and_starts_nothing() {
    let err = Command::new("true").spawn().unwrap_err();
    assert!(err.to_string().contains("inside a vigil runtime"), "{err}");
}

#[test]
fn fifty_concurrent_children_on_the_multi_thread_runtime() {
    run(&multi_thread(), async {
        let tasks: Vec<_> = (0..50)
            .map(|i| {
                vigil::spawn(async move {
                    let code = i % 3;
                    let status = Command::new("sh")
                        .args(["-c", &format!("exit {code}")])
                        .status()
                        .await?;
                    assert_eq!(status.code(), Some(code));
                    io::Result::Ok(())
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap()?;
        }
        Ok(())
    });
}

#[test]
fn waiting_does_not_block_timers_on_the_current_thread_runtime() {
    run(&current_thread(), async {
        let mut child = Command::new("sleep").arg("0.3").spawn()?;
        let start = Instant::now();
        let timer = vigil::spawn(async move {
            vigil::time::sleep(Duration::from_millis(10)).await;
            start.elapsed()
        });
        assert!(child.wait().await?.success());
        // The timer's task ran (and finished) while the only thread waited.
        assert!(
            timer.is_finished(),
            "the 10 ms timer did not fire during a 300 ms wait"
        );
        let fired_after = timer.await.unwrap();
        assert!(fired_after < Duration::from_millis(300), "{fired_after:?}");
        Ok(())
    });
}

#[test]
fn a_cancelled_wait_loses_nothing() {
    run(&current_thread(), async {
        let mut child = Command::new("sleep")
            .arg("1000")
            .kill_on_drop(true)
            .spawn()?;
        let cut = vigil::time::timeout(Duration::from_millis(10), child.wait()).await;
        assert!(cut.is_err());
        assert!(child.id().is_some());
        child.kill().await?;
        assert_eq!(child.wait().await?.signal(), Some(libc::SIGKILL));
        Ok(())
    });
}

#[test]
fn a_pipe_handed_to_another_child_is_blocking_again() {
    run(&current_thread(), async {
        let mut first = Command::new("echo")
            .arg("through")
            .stdout(Stdio::piped())
            .spawn()?;
        let fd = first.stdout.take().unwrap().into_owned_fd()?;
        // SAFETY: F_GETFL on a descriptor we own takes no argument and
        // touches no memory.
        let flags = unsafe { libc::fcntl(std::os::fd::AsRawFd::as_raw_fd(&fd), libc::F_GETFL) };
        assert_eq!(flags & libc::O_NONBLOCK, 0);
        let out = Command::new("cat").stdin(fd).output().await?;
        assert_eq!(out.stdout, b"through\n");
        assert!(first.wait().await?.success());

        // The same through `Stdio::try_from`, as Tokio's pipes offer it.
        let mut first = Command::new("echo")
            .arg("again")
            .stdout(Stdio::piped())
            .spawn()?;
        let stdio = Stdio::try_from(first.stdout.take().unwrap())?;
        let out = Command::new("cat").stdin(stdio).output().await?;
        assert_eq!(out.stdout, b"again\n");
        assert!(first.wait().await?.success());
        Ok(())
    });
}

#[test]
fn the_types_are_send_sync_and_debug() {
    fn check<T: Send + Sync + std::fmt::Debug>() {}
    check::<Command>();
    check::<Child>();
    check::<vigil::process::ChildStdin>();
    check::<vigil::process::ChildStdout>();
    check::<vigil::process::ChildStderr>();
}

#[cfg(feature = "tokio-io")]
#[test]
fn the_pipes_implement_tokios_traits() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    run(&current_thread(), async {
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"tokio").await?;
        stdin.shutdown().await?;
        drop(stdin);
        let mut out = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .await?;
        assert_eq!(out, "tokio");
        let mut err = Vec::new();
        child.stderr.take().unwrap().read_to_end(&mut err).await?;
        assert!(err.is_empty());
        assert!(child.wait().await?.success());
        Ok(())
    });
}
