//! `idle`: what idle connections and sleeping tasks cost while nothing
//! happens.
//!
//! The child raises its `RLIMIT_NOFILE` soft limit to the hard limit and
//! serves the largest of 10 000, 5 000 or 2 000 loopback connections that
//! fits (1 000 in `--quick` mode). The client ends live in a helper process
//! (this binary again, with the hidden argument `__idle_clients`: plain
//! blocking sockets that connect and then wait), so the runtime under test
//! holds one descriptor per connection and only its own costs are
//! measured. Each server end is held by a task parked in `read` (so every
//! socket is registered with the reactor). Then 10 000 tasks (1 000 in
//! `--quick` mode) each sleep for an hour. After a 100 ms settle the
//! process's CPU time (`getrusage(RUSAGE_SELF)`, user + system, all
//! threads) is sampled over 5 s (1 s in `--quick` mode); an idle runtime
//! should use about none.
//!
//! Cases: `cpu` (CPU time used over the window), `rss_per_conn` (RSS growth
//! while accepting the connections / connections: one task and one
//! registered socket each; kernel socket buffers are not in RSS),
//! `rss_per_sleeper` (RSS growth while spawning the sleepers / sleepers),
//! and the counts used: `connections`, `nofile` (the soft limit after
//! raising it). One measurement per fresh process, like `memory`.

use crate::measure::{cpu_time, rss_bytes, Sample, Unit};
use crate::runtimes::{Runtime, Spawner};
use crate::suites::Params;
use crate::sync::Countdown;
use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// Raises the soft `RLIMIT_NOFILE` to the hard limit; returns the new soft
/// limit.
fn raise_nofile() -> u64 {
    // SAFETY: getrlimit/setrlimit with a valid, initialised struct.
    unsafe {
        let mut lim: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim = raised;
            }
        }
        lim.rlim_cur
    }
}

/// One measurement; call once per process.
pub fn measure<R: Runtime>(p: &Params) -> Vec<Sample> {
    let nofile = raise_nofile();
    // One descriptor per connection plus headroom for the runtime's own.
    let fits = |n: u64| n + 256 <= nofile;
    let conns = if p.quick {
        1_000
    } else {
        [10_000, 5_000, 2_000]
            .into_iter()
            .find(|&n| fits(n))
            .unwrap_or_else(|| nofile.saturating_sub(256) / 2) as usize
    };
    let sleepers = p.size(10_000, 1_000);
    let window = Duration::from_millis(p.size(5_000, 1_000) as u64);

    let rt = R::build(p.workers);
    // Let the runtime set up its reactor and timer before the baseline.
    rt.run_in_task(|_| async move {
        let (listener, addr) = R::bind().expect("bind");
        let _c = R::connect(addr).await.expect("connect");
        let _s = R::accept(&listener).await.expect("accept");
        R::sleep_until(Instant::now() + Duration::from_millis(1)).await;
    });

    let before = rss_bytes();
    let mut clients = rt.run_in_task(move |spawner| async move {
        let (listener, addr) = R::bind().expect("bind");
        let clients = spawn_clients(addr, conns);
        let (countdown, parked) = Countdown::new(conns);
        for _ in 0..conns {
            let s = R::accept(&listener).await.expect("accept");
            spawner.spawn_detached(park::<R>(s, countdown.clone()));
        }
        parked.wait().await;
        clients
    });
    wait_connected(&mut clients);
    let with_conns = rss_bytes();
    rt.run_in_task(move |spawner| async move {
        let (countdown, all_sleeping) = Countdown::new(sleepers);
        let deadline = Instant::now() + Duration::from_secs(3600);
        for _ in 0..sleepers {
            let countdown = countdown.clone();
            spawner.spawn_detached(async move {
                countdown.count();
                drop(countdown);
                R::sleep_until(deadline).await;
            });
        }
        all_sleeping.wait().await;
    });
    let with_sleepers = rss_bytes();

    // The timer futures are created inside `block_on`: Tokio's need the
    // runtime's context when they are made.
    let settle = Instant::now() + Duration::from_millis(100);
    rt.block_on(async move { R::sleep_until(settle).await });
    let cpu_before = cpu_time();
    let end = Instant::now() + window;
    rt.block_on(async move { R::sleep_until(end).await });
    let cpu = cpu_time().saturating_sub(cpu_before);

    // Tearing down 10 000 sockets is not what is measured; the process
    // exits right after this.
    let _ = clients.kill();
    let _ = clients.wait();
    std::mem::forget(rt);
    vec![
        Sample::time("cpu", cpu),
        Sample::new(
            "rss_per_conn",
            Unit::Bytes,
            with_conns.saturating_sub(before) as f64 / conns as f64,
        ),
        Sample::new(
            "rss_per_sleeper",
            Unit::Bytes,
            with_sleepers.saturating_sub(with_conns) as f64 / sleepers as f64,
        ),
        Sample::new("connections", Unit::Count, conns as f64),
        Sample::new("nofile", Unit::Count, nofile as f64),
    ]
}

/// Holds one end of a connection in a parked `read` until the peer closes.
async fn park<R: Runtime>(mut s: R::Stream, countdown: std::sync::Arc<Countdown>) {
    countdown.count();
    drop(countdown);
    let mut b = [0u8; 1];
    let _ = R::read(&mut s, &mut b).await;
}

/// Starts the helper process that holds the client ends of `conns`
/// connections to `addr`.
fn spawn_clients(addr: SocketAddr, conns: usize) -> Child {
    let exe = std::env::current_exe().expect("current_exe");
    Command::new(exe)
        .args(["__idle_clients", &addr.to_string(), &conns.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the idle clients' process")
}

/// Waits for the helper's report that every client connected.
fn wait_connected(clients: &mut Child) {
    let stdout = clients.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the idle clients' report");
    assert_eq!(line.trim(), "connected", "the idle clients failed");
}

/// The helper process (`__idle_clients ADDR N`): connects `N` blocking
/// sockets to `ADDR`, says so on stdout, and holds them until its stdin
/// closes (or it is killed).
pub fn clients(args: &[String]) -> ExitCode {
    let (Some(addr), Some(n)) = (args.first(), args.get(1)) else {
        eprintln!("__idle_clients needs an address and a count");
        return ExitCode::from(2);
    };
    let (Ok(addr), Ok(n)) = (addr.parse::<SocketAddr>(), n.parse::<usize>()) else {
        eprintln!("__idle_clients: bad address or count");
        return ExitCode::from(2);
    };
    raise_nofile();
    let mut held = Vec::with_capacity(n);
    for _ in 0..n {
        match TcpStream::connect(addr) {
            Ok(s) => held.push(s),
            Err(e) => {
                eprintln!("__idle_clients: connect: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    println!("connected");
    // Hold the connections until the parent goes away.
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    drop(held);
    ExitCode::SUCCESS
}
