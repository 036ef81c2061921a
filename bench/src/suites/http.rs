//! `http`: hyper 1.x serving HTTP/1.1 "hello world" on the runtime under
//! test, loaded from outside.
//!
//! The server is the same hyper code on every runtime: an accept loop that
//! spawns `http1::Builder::new().serve_connection(io, service_fn(hello))`
//! per connection (default settings, no timer on either runtime). On vigil
//! `io` is `vigil::net::TcpStream`, which implements hyper's I/O traits
//! itself (feature `hyper`); on Tokio it is `tokio::net::TcpStream` in
//! [`TokioIo`], a hyper-util-style adapter written here. smol is skipped.
//!
//! The load client is not on the runtime under test: it is a Tokio
//! current-thread runtime on its own thread, with 50 keep-alive
//! connections, each a task that sends `GET /` and reads the response
//! (parsed just enough to find its end: headers, then `content-length`
//! bytes) before sending the next; for 2 s (0.2 s in `--quick` mode). The
//! client is a minimal hand-written HTTP/1.1 client, much cheaper than
//! hyper's, so that it is less likely to be the bottleneck. Cases: `rps`
//! (responses per second) and `p50`/`p99` request latency.

use crate::measure::{Sample, Unit};
use crate::runtimes::{Runtime, Spawner, TokioCt, TokioMt, VigilCt, VigilMt};
use crate::suites::Params;
use crate::sync::Signal;
use hdrhistogram::Histogram;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

/// Keep-alive connections of the load client.
const CONNECTIONS: usize = 50;

/// The runtimes that can serve hyper, and how their stream becomes hyper I/O.
pub trait HyperServer: Runtime {
    /// What hyper reads and writes.
    type Io: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static;
    /// Wraps an accepted stream.
    fn hyper_io(s: Self::Stream) -> Self::Io;
}

impl HyperServer for VigilMt {
    type Io = vigil::net::TcpStream;
    fn hyper_io(s: Self::Stream) -> Self::Io {
        s
    }
}

impl HyperServer for VigilCt {
    type Io = vigil::net::TcpStream;
    fn hyper_io(s: Self::Stream) -> Self::Io {
        s
    }
}

impl HyperServer for TokioMt {
    type Io = TokioIo<tokio::net::TcpStream>;
    fn hyper_io(s: Self::Stream) -> Self::Io {
        TokioIo(s)
    }
}

impl HyperServer for TokioCt {
    type Io = TokioIo<tokio::net::TcpStream>;
    fn hyper_io(s: Self::Stream) -> Self::Io {
        TokioIo(s)
    }
}

/// Tokio's I/O traits as hyper's (what `hyper_util::rt::TokioIo` does).
pub struct TokioIo<T>(T);

impl<T: tokio::io::AsyncRead + Unpin> hyper::rt::Read for TokioIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        // SAFETY: Tokio's `ReadBuf` only writes initialised bytes into the
        // uninitialised tail and reports how many it filled; exactly those
        // are then marked filled in hyper's cursor.
        let filled = unsafe {
            let mut tbuf = tokio::io::ReadBuf::uninit(buf.as_mut());
            ready!(Pin::new(&mut self.0).poll_read(cx, &mut tbuf))?;
            tbuf.filled().len()
        };
        // SAFETY: `filled` bytes were initialised above.
        unsafe { buf.advance(filled) };
        Poll::Ready(Ok(()))
    }
}

impl<T: tokio::io::AsyncWrite + Unpin> hyper::rt::Write for TokioIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }
}

async fn hello(_req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(
        b"Hello, world!\n",
    ))))
}

/// One iteration on runtime `R`.
pub fn iteration<R: HyperServer>(rt: &R, p: &Params) -> Vec<Sample> {
    let duration = Duration::from_millis(p.size(2_000, 200) as u64);
    let (rate, hist) = rt.run_in_task(move |spawner| async move {
        let (listener, addr) = R::bind().expect("bind");
        let stop = Arc::new(AtomicBool::new(false));
        let server_stop = stop.clone();
        let server_spawner = spawner.clone();
        let server = spawner.spawn(async move {
            loop {
                let s = R::accept(&listener).await.expect("accept");
                if server_stop.load(Ordering::Acquire) {
                    break;
                }
                server_spawner.spawn_detached(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(R::hyper_io(s), hyper::service::service_fn(hello))
                        .await;
                });
            }
        });

        // The load client runs on its own thread; its result comes back
        // through a slot and a runtime-neutral signal.
        let done = Signal::new();
        let slot = Arc::new(Mutex::new(None));
        let (thread_done, thread_slot) = (done.clone(), slot.clone());
        let client = std::thread::Builder::new()
            .name("http-load".to_string())
            .spawn(move || {
                let result = load(addr, duration);
                *thread_slot.lock().unwrap() = Some(result);
                thread_done.set();
            })
            .expect("spawn load thread");
        done.wait().await;
        client.join().expect("load thread");
        let result = slot.lock().unwrap().take().expect("load result");

        stop.store(true, Ordering::Release);
        let _last = R::connect(addr).await.expect("connect");
        server.await;
        result
    });
    vec![
        Sample::new("rps", Unit::PerSec, rate),
        Sample::new("p50", Unit::Ns, hist.value_at_quantile(0.50) as f64),
        Sample::new("p99", Unit::Ns, hist.value_at_quantile(0.99) as f64),
    ]
}

/// The load client: a Tokio current-thread runtime on the calling thread.
fn load(addr: SocketAddr, duration: Duration) -> (f64, Histogram<u64>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    rt.block_on(async move {
        let mut streams = Vec::with_capacity(CONNECTIONS);
        for _ in 0..CONNECTIONS {
            let s = tokio::net::TcpStream::connect(addr).await.expect("connect");
            s.set_nodelay(true).expect("nodelay");
            streams.push(s);
        }
        let start = Instant::now();
        let end = start + duration;
        let tasks: Vec<_> = streams
            .into_iter()
            .map(|s| tokio::spawn(client_connection(s, end)))
            .collect();
        let mut hist = Histogram::<u64>::new(3).expect("histogram");
        let mut total = 0u64;
        for t in tasks {
            for l in t.await.expect("client task") {
                hist.record(l).expect("record");
                total += 1;
            }
        }
        (total as f64 / start.elapsed().as_secs_f64(), hist)
    })
}

/// One keep-alive connection: request, whole response, repeat until `end`.
async fn client_connection(mut s: tokio::net::TcpStream, end: Instant) -> Vec<u64> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n";
    let mut buf = vec![0u8; 4096];
    let mut latencies = Vec::with_capacity(1024);
    loop {
        let t0 = Instant::now();
        if t0 >= end {
            break;
        }
        s.write_all(REQUEST).await.expect("write request");
        let mut len = 0;
        loop {
            let n = s.read(&mut buf[len..]).await.expect("read response");
            assert!(n > 0, "server closed the connection");
            len += n;
            if let Some(need) = response_len(&buf[..len]) {
                if len >= need {
                    assert_eq!(len, need, "unexpected bytes after the response");
                    break;
                }
            }
        }
        assert!(buf.starts_with(b"HTTP/1.1 200"), "not a 200 response");
        latencies.push(t0.elapsed().as_nanos() as u64);
    }
    latencies
}

/// The total length of the response at the start of `buf` once its headers
/// are complete (headers + `content-length`), else `None`.
fn response_len(buf: &[u8]) -> Option<usize> {
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&buf[..head_end]).expect("ASCII headers");
    let body = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.trim().parse::<usize>().expect("content-length"))
        .unwrap_or(0);
    Some(head_end + body)
}

#[cfg(test)]
mod tests {
    use super::response_len;

    #[test]
    fn response_length() {
        let r = b"HTTP/1.1 200 OK\r\ncontent-length: 14\r\ndate: x\r\n\r\nHello, world!\n";
        assert_eq!(response_len(r), Some(r.len()));
        assert_eq!(response_len(b"HTTP/1.1 200 OK\r\ncontent-len"), None);
    }
}
