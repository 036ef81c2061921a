//! Data integrity: seeded pseudo-random streams through a chaotic
//! `copy_bidirectional` proxy arrive intact, in both directions at once:
//! over in-memory pipes (the buffered path, chaos on every end) and over
//! TCP sockets on 127.0.0.1 (the spliced path, chaos at the endpoints).
//!
//! `VIGIL_IO_INTEGRITY_BYTES` sets the size of each direction of the
//! in-memory test (default 256 MiB; under `scripts/valgrind.sh`, which runs
//! everything many times slower, the former default of 64 MiB). The TCP
//! test moves a quarter of that.

mod io_support;

use io_support::{checksum, within, Chaos, XorShift};
use std::future::Future;
use std::time::{Duration, Instant};
use vigil::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

const BLOCK: usize = 64 * 1024;
const SEED_UP: u64 = 0x9e37_79b9_7f4a_7c15;
const SEED_DOWN: u64 = 0xd1b5_4a32_d192_ed03;

fn stream_len() -> u64 {
    std::env::var("VIGIL_IO_INTEGRITY_BYTES")
        .ok()
        .map(|v| {
            v.parse()
                .expect("VIGIL_IO_INTEGRITY_BYTES must be a byte count")
        })
        .unwrap_or(if cfg!(vigil_valgrind) {
            64 << 20
        } else {
            256 << 20
        })
}

/// Writes `len` bytes of the stream seeded with `seed`, in random-sized
/// writes, then shuts down. Returns the checksum of what it wrote.
async fn send<W: AsyncWrite + Unpin>(mut w: W, seed: u64, len: u64) -> std::io::Result<u64> {
    let mut data = XorShift::new(seed);
    let mut sizes = XorShift::new(seed ^ 1);
    let mut block = vec![0; BLOCK];
    let (mut left, mut sum) = (len, 0);
    while left > 0 {
        let n = BLOCK.min(left as usize);
        data.fill(&mut block);
        sum = checksum(sum, &block[..n]);
        let mut rest = &block[..n];
        while !rest.is_empty() {
            let k = (1 + sizes.below(rest.len() * 2)).min(rest.len());
            w.write_all(&rest[..k]).await?;
            rest = &rest[k..];
        }
        left -= n as u64;
    }
    w.shutdown().await?;
    Ok(sum)
}

/// Reads to end of file, comparing with the stream seeded with `seed`.
/// Returns the byte count and the checksum of what it read.
async fn receive<R: AsyncRead + Unpin>(mut r: R, seed: u64) -> std::io::Result<(u64, u64)> {
    let mut expected = XorShift::new(seed);
    let mut want = vec![0; BLOCK];
    let mut got = vec![0; BLOCK];
    let (mut total, mut sum) = (0u64, 0);
    loop {
        // Fill a whole block (or up to end of file) through plain reads.
        let mut filled = 0;
        while filled < BLOCK {
            match r.read(&mut got[filled..]).await {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if filled == 0 {
            return Ok((total, sum));
        }
        expected.fill(&mut want);
        if got[..filled] != want[..filled] {
            let at = (0..filled).find(|&i| got[i] != want[i]).unwrap();
            panic!("stream {seed:#x} corrupt at byte {}", total + at as u64);
        }
        sum = checksum(sum, &got[..filled]);
        total += filled as u64;
        if filled < BLOCK {
            // End of file mid-block: the next read must say so too (Chaos
            // may interrupt it first; `Interrupted` means "try again").
            let after = loop {
                match r.read(&mut got).await {
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    res => break res?,
                }
            };
            assert_eq!(after, 0, "bytes after end of file");
            return Ok((total, sum));
        }
    }
}

/// What a run moved, each way: (checksum sent, (bytes received, checksum
/// received)); then the proxy's byte counts.
type Run = ((u64, (u64, u64)), (u64, (u64, u64)), (u64, u64));

type Ends = (
    vigil::task::JoinHandle<std::io::Result<u64>>,
    vigil::task::JoinHandle<std::io::Result<(u64, u64)>>,
);

/// Runs `run` on a fresh two-worker runtime, failing after 300 s.
fn on_two_workers(run: impl Future<Output = Run> + Send + 'static) -> Run {
    within(Duration::from_secs(300), move || {
        vigil::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap()
            .block_on(run)
    })
}

/// Waits for both directions' sender and receiver and for the proxy.
async fn join_run(
    up: Ends,
    down: Ends,
    proxy: vigil::task::JoinHandle<std::io::Result<(u64, u64)>>,
) -> Run {
    (
        (up.0.await.unwrap().unwrap(), up.1.await.unwrap().unwrap()),
        (
            down.0.await.unwrap().unwrap(),
            down.1.await.unwrap().unwrap(),
        ),
        proxy.await.unwrap().unwrap(),
    )
}

/// Every byte arrived intact each way, and the proxy counted them all.
fn assert_intact(run: &Run, len: u64, through: &str, started: Instant) {
    let ((up_sent, up_recv), (down_sent, down_recv), counts) = *run;
    assert_eq!(
        up_recv,
        (len, up_sent),
        "client to server: (bytes, checksum)"
    );
    assert_eq!(
        down_recv,
        (len, down_sent),
        "server to client: (bytes, checksum)"
    );
    assert_eq!(counts, (len, len), "copy_bidirectional's byte counts");
    eprintln!(
        "integrity: 2 x {len} bytes through {through} in {:?}",
        started.elapsed()
    );
}

#[test]
fn chaos_proxy_keeps_both_streams_intact() {
    let len = stream_len();
    let started = Instant::now();
    let run = on_two_workers(async move {
        // client <-> [Chaos(proxy_a) | Chaos(proxy_b)] <-> server
        let (client, proxy_a) = vigil::io::duplex(16 * 1024);
        let (proxy_b, server) = vigil::io::duplex(7 * 1024);
        let proxy = vigil::spawn(async move {
            let mut a = Chaos::new(proxy_a, 1);
            let mut b = Chaos::new(proxy_b, 2);
            vigil::io::copy_bidirectional(&mut a, &mut b).await
        });
        let (client_rd, client_wr) = vigil::io::split(Chaos::new(client, 3));
        let (server_rd, server_wr) = vigil::io::split(Chaos::new(server, 4));
        let up_send = vigil::spawn(send(client_wr, SEED_UP, len));
        let down_send = vigil::spawn(send(server_wr, SEED_DOWN, len));
        let up_recv = vigil::spawn(receive(server_rd, SEED_UP));
        let down_recv = vigil::spawn(receive(client_rd, SEED_DOWN));
        join_run((up_send, up_recv), (down_send, down_recv), proxy).await
    });
    assert_intact(&run, len, "a chaos proxy", started);
}

#[test]
fn odd_sizes_survive_too() {
    for len in [0u64, 1, 7, 8, 9, BLOCK as u64 - 1, BLOCK as u64 + 13] {
        let (sent, got, counts) = within(Duration::from_secs(30), move || {
            vigil::block_on(async move {
                let (client, proxy_a) = vigil::io::duplex(100);
                let (proxy_b, server) = vigil::io::duplex(33);
                let proxy = vigil::spawn(async move {
                    let mut a = Chaos::new(proxy_a, len + 5);
                    let mut b = Chaos::new(proxy_b, len + 6);
                    vigil::io::copy_bidirectional(&mut a, &mut b).await
                });
                let (_client_rd, client_wr) = vigil::io::split(client);
                let sender = vigil::spawn(send(Chaos::new(client_wr, len), SEED_UP, len));
                let (server_rd, mut server_wr) = vigil::io::split(server);
                let got = receive(Chaos::new(server_rd, 9), SEED_UP).await.unwrap();
                server_wr.shutdown().await.unwrap();
                drop(server_wr);
                let counts = proxy
                    .await
                    .unwrap()
                    .unwrap_or_else(|e| panic!("len {len}: {e}"));
                (sender.await.unwrap().unwrap(), got, counts)
            })
        });
        assert_eq!(got, (len, sent), "len {len}");
        assert_eq!(counts, (len, 0), "len {len}");
    }
}

/// A connected pair of TCP sockets on 127.0.0.1.
async fn tcp_pair() -> (vigil::net::TcpStream, vigil::net::TcpStream) {
    let listener = vigil::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connect = vigil::spawn(vigil::net::TcpStream::connect(addr));
    let (accepted, _) = listener.accept().await.unwrap();
    (connect.await.unwrap().unwrap(), accepted)
}

#[test]
fn chaos_endpoints_through_a_spliced_tcp_proxy() {
    // The proxy's ends are plain `TcpStream`s, so `copy_bidirectional`
    // takes the splice(2) path; the chaos sits at the client and the server
    // (a `Chaos` around the proxy's sockets would hide them from splice),
    // which then write and read in random sizes, with random `Pending`s.
    let len = stream_len() / 4;
    let started = Instant::now();
    let run = on_two_workers(async move {
        // client <-> [proxy_a | proxy_b] <-> server, all TCP.
        let (client, mut proxy_a) = tcp_pair().await;
        let (mut proxy_b, server) = tcp_pair().await;
        let proxy =
            vigil::spawn(
                async move { vigil::io::copy_bidirectional(&mut proxy_a, &mut proxy_b).await },
            );
        let (client_rd, client_wr) = client.into_split();
        let (server_rd, server_wr) = server.into_split();
        let up_send = vigil::spawn(send(Chaos::new(client_wr, 5), SEED_UP, len));
        let down_send = vigil::spawn(send(Chaos::new(server_wr, 6), SEED_DOWN, len));
        let up_recv = vigil::spawn(receive(Chaos::new(server_rd, 7), SEED_UP));
        let down_recv = vigil::spawn(receive(Chaos::new(client_rd, 8), SEED_DOWN));
        join_run((up_send, up_recv), (down_send, down_recv), proxy).await
    });
    assert_intact(&run, len, "a spliced TCP proxy", started);
}
