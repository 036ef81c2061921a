//! No false report from a big idle server: 10,000 connections and their
//! tasks, plus 10,000 sleeping tasks, sit idle for 10 s on a multi-thread
//! runtime with a sensitive watchdog, which must say nothing. The client
//! ends live in a child process (this test binary again, as a plain
//! blocking client), so the server's process needs one descriptor per
//! connection, not two. A test binary of its own: it needs most of the
//! process's file descriptors for itself.

mod watchdog_support;

use std::io::{self, BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;
use vigil::io::AsyncReadExt;
use vigil::net::TcpListener;
use watchdog_support::{runtime, sensitive, within, Flavour};

const TEST_NAME: &str = "ten_thousand_idle_connections_for_ten_seconds_are_not_reported";
/// Set in the child: `ADDRESS COUNT` to connect to.
const CLIENT_ENV: &str = "VIGIL_IDLE_CLIENTS";
/// The child's line once every connection is up.
const CONNECTED: &str = "vigil-idle-clients-connected";

/// Raises the soft descriptor limit to the hard one; returns the new limit.
fn raise_fd_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid, writable rlimit.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    lim.rlim_cur = lim.rlim_max;
    // SAFETY: as above; raising the soft limit up to the hard one is allowed.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) }, 0);
    lim.rlim_cur
}

/// The child: opens `count` blocking connections to `addr`, says so, and
/// holds them until its standard input closes (the parent is done, or
/// gone).
fn run_clients(spec: &str) {
    raise_fd_limit();
    let (addr, count) = spec.split_once(' ').expect("ADDRESS COUNT");
    let count: usize = count.parse().expect("count");
    let conns: Vec<std::net::TcpStream> = (0..count)
        .map(|_| std::net::TcpStream::connect(addr).expect("client connect"))
        .collect();
    println!("{CONNECTED}");
    io::stdout().flush().unwrap();
    let _ = io::stdin().read_line(&mut String::new());
    drop(conns);
}

#[test]
fn ten_thousand_idle_connections_for_ten_seconds_are_not_reported() {
    if let Ok(spec) = std::env::var(CLIENT_ENV) {
        return run_clients(&spec);
    }
    let limit = raise_fd_limit();
    // One descriptor per connection here; keep room for everything else.
    let n = limit.saturating_sub(256).min(10_000) as usize;
    assert!(n >= 1_000, "only {limit} descriptors allowed");
    let (rt, reports) = runtime(
        Flavour::MultiThread(2),
        sensitive().blocked_poll_threshold(Duration::from_millis(500)),
    );
    within(Duration::from_secs(60), move || {
        rt.block_on(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let acceptor = vigil::spawn(async move {
                let mut tasks = Vec::with_capacity(n);
                for _ in 0..n {
                    let (mut s, _) = listener.accept().await?;
                    tasks.push(vigil::spawn(async move {
                        let mut buf = [0u8; 16];
                        s.read(&mut buf).await
                    }));
                }
                Ok::<_, io::Error>(tasks)
            });
            let mut child = Command::new(std::env::current_exe().unwrap())
                .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
                .env(CLIENT_ENV, format!("{addr} {n}"))
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("start the client process");
            // Wait for the child's line on the blocking pool (its connects
            // need the acceptor running here meanwhile). The reader is kept
            // open until the child has exited: it still writes its test
            // harness's result lines.
            let stdout = child.stdout.take().unwrap();
            let connected = vigil::task::spawn_blocking(move || {
                let mut reader = BufReader::new(stdout);
                let mut line = String::new();
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return (false, reader);
                    }
                    // (The child's test harness may have started the line
                    // with "test NAME ... ".)
                    if line.trim_end().ends_with(CONNECTED) {
                        return (true, reader);
                    }
                }
            });
            let servers = acceptor.await.unwrap().unwrap();
            let (connected, child_output) = connected.await.unwrap();
            assert!(connected, "the client process failed");
            // Ten seconds of nothing, plus as many sleeping timers.
            let sleepers: Vec<_> = (0..n)
                .map(|_| vigil::spawn(vigil::time::sleep(Duration::from_secs(3600))))
                .collect();
            vigil::time::sleep(Duration::from_secs(10)).await;
            assert!(servers.iter().all(|s| !s.is_finished()));
            let dump = vigil::runtime::Handle::current().dump();
            assert!(dump.tasks().len() >= 2 * n, "{} tasks", dump.tasks().len());
            sleepers.iter().for_each(|s| s.abort());
            // Closing the child's input ends it, and its connections.
            drop(child.stdin.take());
            for s in servers {
                assert_eq!(s.await.unwrap().unwrap(), 0);
            }
            assert!(child.wait().unwrap().success());
            drop(child_output);
            eprintln!("{n} connections and {n} sleepers idle for 10 s");
        });
        drop(rt);
    });
    reports.assert_none("idle connections");
}
