//! No false report from a big idle server: 10,000 connections (or as many
//! as this process may open, both ends counted) and their tasks sit idle
//! for 10 s on a multi-thread runtime with a sensitive watchdog, which must
//! say nothing. A test binary of its own: it needs most of the process's
//! file descriptors for itself.

mod watchdog_support;

use std::io;
use std::time::Duration;
use vigil::io::AsyncReadExt;
use vigil::net::{TcpListener, TcpStream};
use watchdog_support::{runtime, sensitive, within, Flavour};

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

#[test]
fn ten_thousand_idle_connections_for_ten_seconds_are_not_reported() {
    let limit = raise_fd_limit();
    // Both ends live in this process; keep some room for everything else.
    let n = (limit.saturating_sub(256) / 2).min(10_000) as usize;
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
            let mut clients = Vec::with_capacity(n);
            for _ in 0..n {
                let mut s = TcpStream::connect(addr).await.unwrap();
                clients.push(vigil::spawn(async move {
                    let mut buf = [0u8; 16];
                    s.read(&mut buf).await
                }));
            }
            let servers = acceptor.await.unwrap().unwrap();
            // Ten seconds of nothing, plus ten thousand sleeping timers.
            let sleepers: Vec<_> = (0..n)
                .map(|_| vigil::spawn(vigil::time::sleep(Duration::from_secs(3600))))
                .collect();
            vigil::time::sleep(Duration::from_secs(10)).await;
            assert!(clients.iter().all(|c| !c.is_finished()));
            let dump = vigil::runtime::Handle::current().dump();
            assert!(dump.tasks().len() >= 3 * n, "{} tasks", dump.tasks().len());
            clients.iter().for_each(|c| c.abort());
            sleepers.iter().for_each(|s| s.abort());
            for s in servers {
                assert_eq!(s.await.unwrap().unwrap(), 0);
            }
            eprintln!("{n} connections and {n} sleepers idle for 10 s");
        });
        drop(rt);
    });
    reports.assert_none("idle connections");
}
