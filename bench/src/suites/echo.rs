//! `echo`: request/response over many TCP connections: the reactor's
//! wake-up path (every round trip is two readiness events and two task
//! wake-ups on each side) more than bandwidth.
//!
//! An echo server (one task per connection: read up to 4 KiB, write it
//! back) and its load client both run on the runtime under test, in the
//! same process, so the runtime drives both ends: a round trip costs the
//! runtime two socket wake-ups and the kernel's loopback path. Each of the
//! client's connections is one task that writes a 64-byte message, reads
//! the 64 bytes back, records the round trip's latency and repeats until
//! the deadline. All connections are established before the clock starts.
//!
//! Cases, for 50 and for 1000 connections (`c50_*`, `c1000_*`), each for
//! 1 s (0.15 s in `--quick` mode): `rps` = round trips per second over all
//! connections, `p50`/`p99` = round-trip latency from an HDR histogram.

use crate::measure::{Sample, Unit};
use crate::runtimes::{Runtime, Spawner};
use crate::suites::{read_exact, Params};
use hdrhistogram::Histogram;
use std::time::{Duration, Instant};

/// Bytes per message.
const MESSAGE: usize = 64;

/// One iteration: both connection counts.
pub fn iteration<R: Runtime>(rt: &R, p: &Params) -> Vec<Sample> {
    let duration = Duration::from_millis(p.size(1_000, 150) as u64);
    let mut samples = Vec::new();
    for (conns, [rps, p50, p99]) in [
        (50, ["c50_rps", "c50_p50", "c50_p99"]),
        (1_000, ["c1000_rps", "c1000_p50", "c1000_p99"]),
    ] {
        let (rate, hist) = run_case(rt, conns, duration);
        samples.push(Sample::new(rps, Unit::PerSec, rate));
        samples.push(Sample::new(
            p50,
            Unit::Ns,
            hist.value_at_quantile(0.50) as f64,
        ));
        samples.push(Sample::new(
            p99,
            Unit::Ns,
            hist.value_at_quantile(0.99) as f64,
        ));
    }
    samples
}

/// Runs `conns` connections for `duration`; round trips per second and the
/// latency histogram (ns).
fn run_case<R: Runtime>(rt: &R, conns: usize, duration: Duration) -> (f64, Histogram<u64>) {
    let (latencies, elapsed) = rt.run_in_task(move |spawner| async move {
        let (listener, addr) = R::bind().expect("bind");
        let server_spawner = spawner.clone();
        let server = spawner.spawn(async move {
            for _ in 0..conns {
                let mut s = R::accept(&listener).await.expect("accept");
                server_spawner.spawn_detached(async move {
                    let mut buf = [0u8; 4096];
                    loop {
                        let n = R::read(&mut s, &mut buf).await.expect("server read");
                        if n == 0 {
                            break;
                        }
                        R::write_all(&mut s, &buf[..n]).await.expect("server write");
                    }
                });
            }
        });
        let mut streams = Vec::with_capacity(conns);
        for _ in 0..conns {
            streams.push(R::connect(addr).await.expect("connect"));
        }
        server.await;

        let start = Instant::now();
        let end = start + duration;
        let clients: Vec<_> = streams
            .into_iter()
            .map(|mut s| {
                spawner.spawn(async move {
                    let out = [b'x'; MESSAGE];
                    let mut back = [0u8; MESSAGE];
                    let mut latencies = Vec::with_capacity(1024);
                    loop {
                        let t0 = Instant::now();
                        if t0 >= end {
                            break;
                        }
                        R::write_all(&mut s, &out).await.expect("client write");
                        read_exact::<R>(&mut s, &mut back)
                            .await
                            .expect("client read");
                        latencies.push(t0.elapsed().as_nanos() as u64);
                    }
                    // Dropping `s` closes the connection; the server task
                    // reads end of stream and exits.
                    latencies
                })
            })
            .collect();
        let mut all = Vec::with_capacity(conns);
        for c in clients {
            all.push(c.await);
        }
        (all, start.elapsed())
    });
    let mut hist = Histogram::<u64>::new(3).expect("histogram");
    let mut total = 0u64;
    for l in latencies.iter().flatten() {
        hist.record(*l).expect("record");
        total += 1;
    }
    (total as f64 / elapsed.as_secs_f64(), hist)
}
