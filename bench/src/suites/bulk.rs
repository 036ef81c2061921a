//! `bulk`: bandwidth of the runtime's `copy` over loopback TCP.
//!
//! A sender task writes 1 GiB (64 MiB in `--quick` mode) in 64 KiB
//! `write_all`s and shuts its write half down; a receiver task runs the
//! runtime's own `copy` from the socket into the runtime's own sink
//! (`vigil::io::copy` + `vigil::io::sink`, `tokio::io::copy` +
//! `tokio::io::sink`, `futures_lite::io::copy` + `futures_lite::io::sink`).
//! The time runs from connect until the receiver has counted every byte.
//!
//! Cases, in bytes per second (shown as GiB/s):
//! * `copy`: sender -> receiver.
//! * `proxy`: sender -> proxy -> receiver, where the proxy task runs the
//!   runtime's `copy_bidirectional` between the accepted client connection
//!   and its own connection to the receiver (smol has none; see
//!   [`crate::runtimes::Runtime::copy_bidirectional`]).
//!
//! The pseudo-runtime `std-blocking` ([`blocking`]) does the same with
//! plain threads and blocking sockets (`std::io::copy` into
//! `std::io::sink()`; the proxy is two threads, one `std::io::copy` per
//! direction): the physical limit of this machine, reported as its own row
//! and as the `vs std-blocking` ratio.

use crate::measure::{Sample, Unit};
use crate::runtimes::{Runtime, Spawner};
use crate::suites::Params;
use std::io::Write;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::Instant;

/// Bytes per `write_all` of the sender.
const CHUNK: usize = 64 * 1024;

fn total(p: &Params) -> u64 {
    p.size(1 << 30, 64 << 20) as u64
}

/// One iteration on runtime `R`.
pub fn iteration<R: Runtime>(rt: &R, p: &Params) -> Vec<Sample> {
    let total = total(p);
    vec![
        Sample::new("copy", Unit::BytesPerSec, direct(rt, total)),
        Sample::new("proxy", Unit::BytesPerSec, proxy(rt, total)),
    ]
}

/// Writes `total` bytes to `s`, then shuts its write half down.
async fn send<R: Runtime>(s: &mut R::Stream, total: u64) {
    let chunk = vec![0x5a_u8; CHUNK];
    let mut left = total;
    while left > 0 {
        let n = left.min(CHUNK as u64) as usize;
        R::write_all(s, &chunk[..n]).await.expect("send");
        left -= n as u64;
    }
    R::shutdown(s).await.expect("shutdown");
}

fn direct<R: Runtime>(rt: &R, total: u64) -> f64 {
    rt.run_in_task(move |spawner| async move {
        let (listener, addr) = R::bind().expect("bind");
        let receiver = spawner.spawn(async move {
            let mut s = R::accept(&listener).await.expect("accept");
            R::copy_to_sink(&mut s).await.expect("copy")
        });
        let start = Instant::now();
        let mut s = R::connect(addr).await.expect("connect");
        send::<R>(&mut s, total).await;
        assert_eq!(receiver.await, total);
        total as f64 / start.elapsed().as_secs_f64()
    })
}

fn proxy<R: Runtime>(rt: &R, total: u64) -> f64 {
    rt.run_in_task(move |spawner| async move {
        let (server, server_addr) = R::bind().expect("bind");
        let (front, proxy_addr) = R::bind().expect("bind");
        let receiver = spawner.spawn(async move {
            let mut s = R::accept(&server).await.expect("accept");
            R::copy_to_sink(&mut s).await.expect("copy")
            // Dropping `s` ends the proxy's server -> client direction.
        });
        let proxy = spawner.spawn(async move {
            let mut client = R::accept(&front).await.expect("proxy accept");
            let mut upstream = R::connect(server_addr).await.expect("proxy connect");
            R::copy_bidirectional(&mut client, &mut upstream)
                .await
                .expect("copy_bidirectional")
        });
        let start = Instant::now();
        let mut s = R::connect(proxy_addr).await.expect("connect");
        send::<R>(&mut s, total).await;
        assert_eq!(receiver.await, total);
        let rate = total as f64 / start.elapsed().as_secs_f64();
        assert_eq!(proxy.await, (total, 0));
        rate
    })
}

/// The `std-blocking` pseudo-runtime: the same two cases with threads.
pub fn blocking(p: &Params) -> Vec<Sample> {
    let total = total(p);
    let mut samples = Vec::new();
    for _ in 0..p.runs {
        samples.push(Sample::new(
            "copy",
            Unit::BytesPerSec,
            blocking_direct(total),
        ));
        samples.push(Sample::new(
            "proxy",
            Unit::BytesPerSec,
            blocking_proxy(total),
        ));
    }
    samples
}

fn blocking_send(s: &mut TcpStream, total: u64) {
    let chunk = vec![0x5a_u8; CHUNK];
    let mut left = total;
    while left > 0 {
        let n = left.min(CHUNK as u64) as usize;
        s.write_all(&chunk[..n]).expect("send");
        left -= n as u64;
    }
    s.shutdown(Shutdown::Write).expect("shutdown");
}

fn blocking_sink(listener: TcpListener) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let (mut s, _) = listener.accept().expect("accept");
        s.set_nodelay(true).expect("nodelay");
        std::io::copy(&mut s, &mut std::io::sink()).expect("copy")
    })
}

fn connect(addr: std::net::SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_nodelay(true).expect("nodelay");
    s
}

fn blocking_direct(total: u64) -> f64 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let receiver = blocking_sink(listener);
    let start = Instant::now();
    let mut s = connect(addr);
    blocking_send(&mut s, total);
    assert_eq!(receiver.join().expect("receiver"), total);
    total as f64 / start.elapsed().as_secs_f64()
}

fn blocking_proxy(total: u64) -> f64 {
    let server = TcpListener::bind("127.0.0.1:0").expect("bind");
    let server_addr = server.local_addr().expect("addr");
    let front = TcpListener::bind("127.0.0.1:0").expect("bind");
    let proxy_addr = front.local_addr().expect("addr");
    let receiver = blocking_sink(server);
    let proxy = std::thread::spawn(move || {
        let (client, _) = front.accept().expect("proxy accept");
        client.set_nodelay(true).expect("nodelay");
        let upstream = connect(server_addr);
        let (mut c2, mut u2) = (
            client.try_clone().expect("clone"),
            upstream.try_clone().expect("clone"),
        );
        let back = std::thread::spawn(move || {
            let n = std::io::copy(&mut u2, &mut c2).expect("copy back");
            let _ = c2.shutdown(Shutdown::Write);
            n
        });
        let (mut c, mut u) = (client, upstream);
        let n = std::io::copy(&mut c, &mut u).expect("copy forth");
        u.shutdown(Shutdown::Write).expect("shutdown");
        (n, back.join().expect("back"))
    });
    let start = Instant::now();
    let mut s = connect(proxy_addr);
    blocking_send(&mut s, total);
    assert_eq!(receiver.join().expect("receiver"), total);
    let rate = total as f64 / start.elapsed().as_secs_f64();
    assert_eq!(proxy.join().expect("proxy"), (total, 0));
    rate
}
