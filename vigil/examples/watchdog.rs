//! The watchdog at work: three broken tasks, and a runtime that names each
//! of them and keeps serving.
//!
//! 1. **Spinning**: the 2025 TLS proxy incident in miniature. A stream that,
//!    once its peer said goodbye with bytes still buffered, wakes itself and
//!    returns `Pending` forever, read by a proxy through
//!    `copy_bidirectional`. The watchdog reports it and, under
//!    `Policy::Throttle`, slows it to one poll per millisecond, so the CPU
//!    it burns drops from a whole core to almost nothing. A second copy of
//!    it runs under `Policy::Abort` and is cancelled.
//! 2. **Blocked poll**: a task calling `std::thread::sleep` inside async
//!    code, reported while it is still asleep; the other worker takes over.
//! 3. **Lost waker**: a future that returns `Pending` without keeping its
//!    waker, which nothing can ever wake again.
//!
//! Meanwhile an echo client measures round trips on the same runtime. At
//! the end the example prints `Handle::dump()` and `Handle::metrics()`.
//!
//! Run it with `cargo run --release --example watchdog`.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use vigil::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use vigil::net::{TcpListener, TcpStream};
use vigil::watchdog::{Config, Policy, Report};

/// A stream with the incident's bug: after `closed` is set (the peer's
/// "close_notify") it still has buffered plaintext, and instead of handing
/// it out or reading the socket it wakes itself and returns `Pending`.
struct FaultyTls {
    inner: TcpStream,
    closed: Arc<AtomicBool>,
}

impl AsyncRead for FaultyTls {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if self.closed.load(Ordering::Acquire) {
            // The bug: "more to do later", but nothing will ever change.
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for FaultyTls {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

/// User + system CPU time of this process.
fn cpu_time() -> Duration {
    let read = || -> Option<Duration> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        let rest = &stat[stat.rfind(')')? + 2..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 =
            fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        Some(Duration::from_millis(ticks * 10))
    };
    read().unwrap_or_default()
}

/// A connected pair of TCP streams on 127.0.0.1.
async fn pair() -> io::Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let client = TcpStream::connect(listener.local_addr()?).await?;
    let (server, _) = listener.accept().await?;
    Ok((client, server))
}

/// Starts a proxy task between a faulty stream and an upstream socket,
/// with the given policy; returns what is needed to trigger the bug.
async fn spawn_faulty_proxy(
    name: &str,
    policy: Policy,
) -> io::Result<(
    Arc<AtomicBool>,
    vigil::task::JoinHandle<io::Result<(u64, u64)>>,
    [TcpStream; 2],
)> {
    let (client, proxy_side) = pair().await?;
    let (proxy_up, upstream) = pair().await?;
    let closed = Arc::new(AtomicBool::new(false));
    let mut faulty = FaultyTls {
        inner: proxy_side,
        closed: closed.clone(),
    };
    let mut up = proxy_up;
    let task = vigil::task::Builder::new()
        .name(name)
        .watchdog(policy)
        .spawn(async move { vigil::io::copy_bidirectional(&mut faulty, &mut up).await })?;
    Ok((closed, task, [client, upstream]))
}

async fn echo_round_trips(stream: &mut TcpStream, n: usize) -> io::Result<Vec<Duration>> {
    let mut times = Vec::with_capacity(n);
    let mut buf = [0u8; 64];
    for _ in 0..n {
        let t = Instant::now();
        stream.write_all(&buf).await?;
        stream.read_exact(&mut buf).await?;
        times.push(t.elapsed());
    }
    Ok(times)
}

fn percentile(times: &mut [Duration], p: f64) -> Duration {
    times.sort();
    times[((times.len() - 1) as f64 * p) as usize]
}

fn main() -> io::Result<()> {
    let (tx, reports) = mpsc::channel::<Report>();
    let tx = std::sync::Mutex::new(tx);
    let rt = vigil::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .watchdog(Config::new().policy(Policy::Throttle))
        .on_watchdog(move |report| {
            let _ = tx.lock().unwrap().send(report.clone());
        })
        .build()?;
    let print_reports = || {
        while let Ok(report) = reports.recv_timeout(Duration::from_millis(400)) {
            println!("  -> {report}\n");
        }
    };

    rt.block_on(async {
        // An echo server and a client measuring round trips throughout.
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        vigil::task::Builder::new().name("echo-server").spawn(async move {
            loop {
                let mut conn = match listener.accept().await {
                    Ok((conn, _)) => conn,
                    Err(e) => {
                        // Out of descriptors and the like: back off rather
                        // than spin or give up serving.
                        eprintln!("echo server: accept failed: {e}; backing off");
                        vigil::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                vigil::spawn(async move {
                    let (mut r, mut w) = conn.split();
                    let _ = vigil::io::copy(&mut r, &mut w).await;
                });
            }
        })?;
        let mut echo = TcpStream::connect(addr).await?;
        echo.set_nodelay(true)?;

        println!("1. spinning: a TLS-like stream wakes itself forever after close_notify");
        let (closed, _throttled, mut ends) =
            spawn_faulty_proxy("tls-proxy", Policy::Throttle).await?;
        let cpu_before = cpu_time();
        // The peer's close_notify arrives, with the flag telling the stream
        // it is now "closing with bytes buffered".
        closed.store(true, Ordering::Release);
        ends[0].write_all(b"close_notify").await?;
        vigil::time::sleep(Duration::from_millis(600)).await;
        let mut rtt = echo_round_trips(&mut echo, 2000).await?;
        let cpu_after = cpu_time();
        println!(
            "  while it spins (throttled): echo p50 {:?}, p99 {:?}; process CPU over that time {:?}",
            percentile(&mut rtt, 0.5),
            percentile(&mut rtt, 0.99),
            cpu_after - cpu_before,
        );

        let (closed, aborted, mut ends) =
            spawn_faulty_proxy("tls-proxy-abort", Policy::Abort).await?;
        closed.store(true, Ordering::Release);
        ends[0].write_all(b"close_notify").await?;
        match aborted.await {
            Err(err) => println!("  the Policy::Abort copy ended with: {err}\n"),
            Ok(res) => println!("  unexpected: the aborting proxy returned {res:?}"),
        }
        Ok::<_, io::Error>(())
    })?;
    print_reports();

    println!("2. blocked poll: std::thread::sleep inside a task");
    rt.block_on(async {
        let blocker = vigil::task::Builder::new()
            .name("sleepy-handler")
            .spawn(async { std::thread::sleep(Duration::from_millis(400)) })
            .unwrap();
        // Timers keep their time on the other worker meanwhile.
        let t = Instant::now();
        for _ in 0..20 {
            vigil::time::sleep(Duration::from_millis(10)).await;
        }
        println!("  20 x 10 ms sleeps took {:?} next to it", t.elapsed());
        blocker.await.unwrap();
    });
    print_reports();

    println!("3. lost waker: Pending without keeping the waker");
    rt.block_on(async {
        let _lost = vigil::task::Builder::new()
            .name("forgetful")
            .spawn(std::future::poll_fn(|_cx| Poll::<()>::Pending))
            .unwrap();
        vigil::time::sleep(Duration::from_millis(50)).await;
    });
    print_reports();

    let handle = rt.handle();
    println!("Handle::dump():\n{}\n", handle.dump());
    println!("Handle::metrics():\n{}", handle.metrics());
    Ok(())
}
