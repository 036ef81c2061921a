//! `echo_limit`: the `echo` suite's round trip with no runtime at all, to
//! see what the kernel allows on this machine.
//!
//! The `echo` suite measures runtimes against each other; this program
//! measures the floor under all of them. Each thread runs a hand-written
//! event loop over its share of loopback connection pairs (client writes 64
//! bytes, server echoes them, client reads them back and repeats), in one
//! of two kernel interfaces:
//!
//! - `epoll`: edge-triggered readiness, `recv`/`send` system calls, the
//!   pattern every readiness runtime (vigil, Tokio, smol) uses.
//! - `shared`: the `epoll` loop, but every thread harvests one shared
//!   epoll instance (as a runtime with one reactor does) and hands the
//!   events of ends it does not serve to their thread through a
//!   mutex-guarded inbox. The threads poll without sleeping, so this
//!   measures the shared instance and the hand-over, not wake-ups: with
//!   `colocated` it is the most a shared-reactor runtime could reach by
//!   placing both ends of every connection on one worker.
//! - `uring`: one io_uring per thread created with `SINGLE_ISSUER` and
//!   `DEFER_TASKRUN`; every `recv` and `send` is a submission entry, a
//!   server's send is linked to its next receive, and one `io_uring_enter`
//!   per loop both submits and waits. No `recv` ever returns `EAGAIN`.
//!
//! Placement: `colocated` gives each thread whole pairs (both ends of a
//! connection on one thread); `split` runs every client on thread 0 and
//! every server on thread 1; `mixed` colocates half of the pairs (a
//! quarter on each thread) and splits the other half (a quarter each
//! way), which is where a runtime that places each end by chance lands.
//! `split` and `mixed` need `--threads 2`.
//!
//! ```text
//! cargo run --release -p vigil-bench --bin echo_limit -- epoll 50 --threads 2 --placement split
//! ```
//!
//! It prints one line: round trips per second over all connections.

use io_uring::{opcode, squeue, types, IoUring};
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bytes per message, as in the `echo` suite.
const MESSAGE: usize = 64;
/// The server's read buffer, as in the `echo` suite.
const SERVER_BUF: usize = 4096;

/// Which ends of a pair a thread serves.
#[derive(Clone, Copy, PartialEq)]
enum Role {
    Both,
    Client,
    Server,
    Neither,
}

impl Role {
    fn serves_client(self) -> bool {
        matches!(self, Role::Both | Role::Client)
    }
    fn serves_server(self) -> bool {
        matches!(self, Role::Both | Role::Server)
    }
}

/// How the ends of the pairs are spread over the threads.
#[derive(Clone, Copy, PartialEq)]
enum Placement {
    Colocated,
    Split,
    Mixed,
}

impl Placement {
    fn parse(name: &str) -> Option<Placement> {
        match name {
            "colocated" => Some(Placement::Colocated),
            "split" => Some(Placement::Split),
            "mixed" => Some(Placement::Mixed),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Placement::Colocated => "colocated",
            Placement::Split => "split",
            Placement::Mixed => "mixed",
        }
    }

    /// The role of thread `k` (of `threads`) for pair `i` (of `n`).
    fn role(self, i: usize, n: usize, k: usize, threads: usize) -> Role {
        let (client_thread, server_thread) = match self {
            Placement::Colocated => (i * threads / n, i * threads / n),
            Placement::Split => (0, 1),
            Placement::Mixed => [(0, 0), (1, 1), (0, 1), (1, 0)][i % 4],
        };
        match (client_thread == k, server_thread == k) {
            (true, true) => Role::Both,
            (true, false) => Role::Client,
            (false, true) => Role::Server,
            (false, false) => Role::Neither,
        }
    }
}

/// `n` connected loopback pairs `(client, server)`, non-blocking, no Nagle.
fn pairs(n: usize) -> Vec<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    (0..n)
        .map(|_| {
            let client = TcpStream::connect(addr).expect("connect");
            let (server, _) = listener.accept().expect("accept");
            for s in [&client, &server] {
                s.set_nodelay(true).expect("nodelay");
                s.set_nonblocking(true).expect("nonblocking");
            }
            (client, server)
        })
        .collect()
}

/// Token of pair `i`'s client (even) or server (odd) end.
fn token(i: usize, server: bool) -> usize {
    2 * i + usize::from(server)
}

/// The readiness loop over the ends `roles` (one per pair) gives it, on
/// its own epoll instance or (mode `shared`) on the shared one as thread
/// `me`. Returns round trips completed by its clients.
fn run_epoll(
    pairs: &[(TcpStream, TcpStream)],
    roles: &[Role],
    until: Instant,
    shared: Option<(&Shared, usize)>,
) -> u64 {
    let ep = match shared {
        Some((sh, _)) => sh.ep,
        // SAFETY: plain system call; the result is checked.
        None => unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) },
    };
    assert!(ep >= 0, "epoll_create1");
    for (i, (client, server)) in pairs.iter().enumerate() {
        let ends = [
            (client, false, roles[i].serves_client()),
            (server, true, roles[i].serves_server()),
        ];
        for (stream, is_server, served) in ends {
            if !served {
                continue;
            }
            let mut event = libc::epoll_event {
                events: (libc::EPOLLIN | libc::EPOLLET) as u32,
                u64: token(i, is_server) as u64,
            };
            // SAFETY: `ep` and the stream's fd are open; `event` is valid.
            let rc =
                unsafe { libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, stream.as_raw_fd(), &mut event) };
            assert_eq!(rc, 0, "epoll_ctl");
        }
    }
    let message = [b'x'; MESSAGE];
    let mut received = vec![0usize; pairs.len()];
    let mut buf = [0u8; SERVER_BUF];
    let mut round_trips = 0u64;
    for ((client, _), role) in pairs.iter().zip(roles) {
        if role.serves_client() {
            let mut client = client;
            client.write_all(&message).expect("first write");
        }
    }
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 1024];
    let mut mine = Vec::new();
    while Instant::now() < until {
        let timeout = if shared.is_some() { 0 } else { 100 };
        // SAFETY: `events` has room for 1024 entries.
        let n = unsafe { libc::epoll_wait(ep, events.as_mut_ptr(), 1024, timeout) };
        mine.clear();
        for event in &events[..n.max(0) as usize] {
            let tok = event.u64 as usize;
            match shared {
                Some((sh, me)) if sh.owner[tok] != me => {
                    sh.inboxes[sh.owner[tok]].lock().unwrap().push(tok)
                }
                _ => mine.push(tok),
            }
        }
        if let Some((sh, me)) = shared {
            mine.append(&mut sh.inboxes[me].lock().unwrap());
        }
        for &tok in &mine {
            let i = tok / 2;
            if tok % 2 == 1 {
                let mut server = &pairs[i].1;
                // Edge-triggered: read until the socket is drained.
                while let Ok(n @ 1..) = server.read(&mut buf) {
                    server.write_all(&buf[..n]).expect("server write");
                }
            } else {
                let mut client = &pairs[i].0;
                loop {
                    match client.read(&mut buf[..MESSAGE - received[i]]) {
                        Ok(0) => break,
                        Ok(n) => {
                            received[i] += n;
                            if received[i] == MESSAGE {
                                received[i] = 0;
                                round_trips += 1;
                                client.write_all(&message).expect("client write");
                            }
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(e) => panic!("client read: {e}"),
                    }
                }
            }
        }
    }
    if shared.is_none() {
        // SAFETY: `ep` is ours and closed once.
        unsafe { libc::close(ep) };
    }
    round_trips
}

/// One epoll instance for every thread (mode `shared`): a thread that
/// harvests another thread's end hands its token over through an inbox.
struct Shared {
    ep: i32,
    /// Which thread serves each token.
    owner: Vec<usize>,
    inboxes: Vec<std::sync::Mutex<Vec<usize>>>,
}

/// The completion loop. Returns round trips completed (by its clients).
fn run_uring(pairs: &[(TcpStream, TcpStream)], roles: &[Role], until: Instant) -> u64 {
    let message = [b'x'; MESSAGE];
    // One buffer per end, indexed by token; never moved while in flight.
    let mut bufs = vec![[0u8; SERVER_BUF]; 2 * pairs.len()];
    let mut ring: IoUring = IoUring::builder()
        .setup_coop_taskrun()
        .setup_single_issuer()
        .setup_defer_taskrun()
        .build(4096)
        .expect("io_uring (SINGLE_ISSUER | DEFER_TASKRUN needs Linux 6.1)");
    let mut received = vec![0usize; pairs.len()];
    let mut round_trips = 0u64;
    // `user_data` = token << 1 | is_send.
    let push = |ring: &mut IoUring, entry: squeue::Entry| {
        // SAFETY: every buffer an entry points at is in `bufs` or is
        // `message`, both alive until this function returns, and the ring
        // is dropped (cancelling what is in flight) before them.
        while unsafe { ring.submission().push(&entry) }.is_err() {
            ring.submit().expect("submit");
        }
    };
    let recv = |bufs: &mut [[u8; SERVER_BUF]], tok: usize, from: usize, len: usize, fd: i32| {
        opcode::Recv::new(types::Fd(fd), bufs[tok][from..].as_mut_ptr(), len as u32)
            .build()
            .user_data((tok << 1) as u64)
    };
    let send = |tok: usize, data: *const u8, len: usize, fd: i32| {
        opcode::Send::new(types::Fd(fd), data, len as u32)
            .build()
            .user_data(((tok << 1) | 1) as u64)
    };
    for (i, (client, server)) in pairs.iter().enumerate() {
        if roles[i].serves_server() {
            let e = recv(&mut bufs, token(i, true), 0, SERVER_BUF, server.as_raw_fd());
            push(&mut ring, e);
        }
        if roles[i].serves_client() {
            let fd = client.as_raw_fd();
            push(
                &mut ring,
                send(token(i, false), message.as_ptr(), MESSAGE, fd),
            );
            let e = recv(&mut bufs, token(i, false), 0, MESSAGE, fd);
            push(&mut ring, e);
        }
    }
    let mut completions = Vec::with_capacity(4096);
    let wait = types::Timespec::new().nsec(100_000_000);
    while Instant::now() < until {
        let args = types::SubmitArgs::new().timespec(&wait);
        match ring.submitter().submit_with_args(1, &args) {
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(libc::ETIME) => {}
            Err(e) => panic!("io_uring_enter: {e}"),
        }
        completions.clear();
        completions.extend(ring.completion().map(|c| (c.user_data(), c.result())));
        for &(user_data, result) in &completions {
            assert!(result > 0, "operation failed or peer closed: {result}");
            if user_data & 1 == 1 {
                continue; // a send finished; 64 bytes never go short here
            }
            let tok = (user_data >> 1) as usize;
            let i = tok / 2;
            if tok % 2 == 1 {
                let fd = pairs[i].1.as_raw_fd();
                let echo = send(tok, bufs[tok].as_ptr(), result as usize, fd);
                push(&mut ring, echo.flags(squeue::Flags::IO_LINK));
                let e = recv(&mut bufs, tok, 0, SERVER_BUF, fd);
                push(&mut ring, e);
            } else {
                let fd = pairs[i].0.as_raw_fd();
                received[i] += result as usize;
                if received[i] == MESSAGE {
                    received[i] = 0;
                    round_trips += 1;
                    push(&mut ring, send(tok, message.as_ptr(), MESSAGE, fd));
                }
                let e = recv(&mut bufs, tok, received[i], MESSAGE - received[i], fd);
                push(&mut ring, e);
            }
        }
    }
    // Closing the ring cancels what is in flight, but the kernel finishes
    // that asynchronously: the buffers are leaked rather than freed under it.
    drop(ring);
    std::mem::forget(bufs);
    round_trips
}

fn usage() -> ! {
    eprintln!(
        "usage: echo_limit epoll|shared|uring <connections> [--threads N] \
         [--placement colocated|split|mixed] [--secs S]"
    );
    std::process::exit(2)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        usage();
    }
    let mode = args[0].clone();
    if mode != "epoll" && mode != "uring" && mode != "shared" {
        usage();
    }
    let conns: usize = args[1].parse().unwrap_or_else(|_| usage());
    let (mut threads, mut placement, mut secs) = (1usize, Placement::Colocated, 2.0f64);
    let mut rest = args[2..].iter();
    while let Some(flag) = rest.next() {
        let value = rest.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "--threads" => threads = value.parse().unwrap_or_else(|_| usage()),
            "--placement" => placement = Placement::parse(value).unwrap_or_else(|| usage()),
            "--secs" => secs = value.parse().unwrap_or_else(|_| usage()),
            _ => usage(),
        }
    }
    if placement != Placement::Colocated && threads != 2 {
        usage();
    }
    let all = Arc::new(pairs(conns));
    let roles: Vec<Vec<Role>> = (0..threads)
        .map(|k| {
            (0..conns)
                .map(|i| placement.role(i, conns, k, threads))
                .collect()
        })
        .collect();
    // Only threads with clients count round trips and decide the end; a
    // thread that only serves runs until the process exits.
    let counted: Vec<bool> = roles
        .iter()
        .map(|r| r.iter().any(|r| r.serves_client()))
        .collect();
    let mut owner = vec![0usize; 2 * conns];
    for (k, r) in roles.iter().enumerate() {
        for (i, role) in r.iter().enumerate() {
            if role.serves_client() {
                owner[token(i, false)] = k;
            }
            if role.serves_server() {
                owner[token(i, true)] = k;
            }
        }
    }
    let shared = (mode == "shared").then(|| {
        Arc::new(Shared {
            // SAFETY: plain system call; `run_epoll` checks the result.
            ep: unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) },
            owner,
            inboxes: (0..threads).map(|_| Default::default()).collect(),
        })
    });
    let start = Instant::now();
    let until = start + Duration::from_secs_f64(secs);
    let workers: Vec<_> = roles
        .into_iter()
        .zip(counted.iter().copied())
        .enumerate()
        .map(|(k, (roles, counted))| {
            let (all, mode, shared) = (all.clone(), mode.clone(), shared.clone());
            let until = if counted {
                until
            } else {
                until + Duration::from_secs(3600)
            };
            std::thread::spawn(move || {
                if mode == "uring" {
                    run_uring(&all, &roles, until)
                } else {
                    run_epoll(&all, &roles, until, shared.as_deref().map(|s| (s, k)))
                }
            })
        })
        .collect();
    let round_trips: u64 = workers
        .into_iter()
        .zip(counted)
        .filter(|(_, counted)| *counted)
        .map(|(w, _)| w.join().expect("worker"))
        .sum();
    println!(
        "RESULT echo_limit c{conns} {mode}-{}-t{threads} {:.0} per_s",
        placement.name(),
        round_trips as f64 / start.elapsed().as_secs_f64()
    );
    // A server-only thread is still waiting; leave without joining it.
    std::process::exit(0);
}
