//! A TCP proxy: every connection accepted on LISTEN is joined to a new
//! connection to UPSTREAM, and bytes are pumped both ways by
//! `vigil::io::copy_bidirectional` until both sides have finished.
//!
//! ```text
//! cargo run --release --example proxy -- 127.0.0.1:8080 example.org:80
//! cargo run --release --example proxy       # self-test through a local echo server
//! ```
//!
//! `copy_bidirectional` forwards each direction's end of file as a
//! half-close, so protocols where one side finishes sending before reading
//! the answer work through the proxy unchanged.

use std::future::{poll_fn, Future};
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;
use vigil::io::{AsyncReadExt, AsyncWriteExt};
use vigil::net::{TcpListener, TcpStream};
use vigil::time::{sleep, Instant};

async fn proxy(listener: TcpListener, upstream: String) {
    loop {
        match listener.accept().await {
            Ok((client, peer)) => {
                let upstream = upstream.clone();
                vigil::spawn(async move {
                    match join(client, &upstream).await {
                        Ok((up, down)) => eprintln!("{peer}: {up} bytes up, {down} bytes down"),
                        Err(e) => eprintln!("{peer}: {e}"),
                    }
                });
            }
            Err(e) => {
                // Out of descriptors (EMFILE) and the like: back off so
                // finishing connections can free some, instead of spinning.
                eprintln!("accept failed: {e}; backing off");
                sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

async fn join(mut client: TcpStream, upstream: &str) -> io::Result<(u64, u64)> {
    let mut server = TcpStream::connect(upstream).await?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    vigil::io::copy_bidirectional(&mut client, &mut server).await
}

/// The self-test's upstream: echoes each connection, then closes it.
async fn echo_server(listener: TcpListener) {
    loop {
        let mut socket = match listener.accept().await {
            Ok((socket, _)) => socket,
            Err(e) => {
                // As in `proxy`: back off, and serve again later.
                eprintln!("echo server: accept failed: {e}; backing off");
                sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        vigil::spawn(async move {
            let (mut r, mut w) = socket.split();
            vigil::io::copy(&mut r, &mut w).await?;
            w.shutdown().await
        });
    }
}

async fn self_test() -> io::Result<()> {
    let upstream = TcpListener::bind("127.0.0.1:0").await?;
    let upstream_addr = upstream.local_addr()?;
    vigil::spawn(echo_server(upstream));
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let proxy_addr: SocketAddr = listener.local_addr()?;
    vigil::spawn(proxy(listener, upstream_addr.to_string()));
    println!("proxy {proxy_addr} -> echo server {upstream_addr}");

    let started = Instant::now();
    let clients: Vec<_> = (0..8u8)
        .map(|id| {
            vigil::spawn(async move {
                let data: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8 ^ id).collect();
                let mut stream = TcpStream::connect(proxy_addr).await?;
                let (mut r, mut w) = stream.split();
                let send = async {
                    w.write_all(&data).await?;
                    w.shutdown().await // half-close: the echo sees EOF
                };
                let mut back = Vec::with_capacity(data.len());
                let receive = r.read_to_end(&mut back);
                let (sent, received) = join2(send, receive).await;
                sent?;
                received?;
                assert!(back == data, "client {id}: data changed in transit");
                io::Result::Ok(back.len())
            })
        })
        .collect();
    let mut total = 0;
    for client in clients {
        total += client.await.expect("client panicked")?;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "self-test ok: {total} bytes echoed through the proxy by 8 clients in {secs:.3}s \
         ({:.0} MiB/s each way)",
        total as f64 / secs / (1 << 20) as f64
    );
    Ok(())
}

/// Runs two futures concurrently in one task and returns both outputs.
async fn join2<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut ra, mut rb) = (None, None);
    poll_fn(|cx| {
        if ra.is_none() {
            if let Poll::Ready(v) = a.as_mut().poll(cx) {
                ra = Some(v);
            }
        }
        if rb.is_none() {
            if let Poll::Ready(v) = b.as_mut().poll(cx) {
                rb = Some(v);
            }
        }
        match (ra.take(), rb.take()) {
            (Some(x), Some(y)) => Poll::Ready((x, y)),
            (x, y) => {
                (ra, rb) = (x, y);
                Poll::Pending
            }
        }
    })
    .await
}

#[vigil::main]
async fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => self_test().await,
        [listen, upstream] => {
            let listener = TcpListener::bind(listen.as_str()).await?;
            println!("proxying {} -> {upstream}", listener.local_addr()?);
            proxy(listener, upstream.clone()).await;
            Ok(())
        }
        _ => {
            eprintln!("usage: proxy [LISTEN UPSTREAM]");
            std::process::exit(2);
        }
    }
}
