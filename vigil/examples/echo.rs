//! An echo server and a load generator for it.
//!
//! ```text
//! cargo run --release --example echo -- server 127.0.0.1:7000
//! cargo run --release --example echo -- client 127.0.0.1:7000 50 5
//! cargo run --release --example echo            # both, for three seconds
//! ```
//!
//! The client opens CONNS connections; each sends a 64-byte message, waits
//! for it to come back, and repeats for SECS seconds. It prints round trips
//! per second: a measure of the reactor's wake-up path (every round trip is
//! two readiness events and two task wake-ups) more than of bandwidth.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use vigil::io::{AsyncReadExt, AsyncWriteExt};
use vigil::net::{TcpListener, TcpStream};
use vigil::time::{sleep, Instant};

const MESSAGE: usize = 64;

async fn serve(listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((socket, _)) => {
                vigil::spawn(async move {
                    if let Err(e) = echo(socket).await {
                        eprintln!("connection failed: {e}");
                    }
                });
            }
            Err(e) => {
                // EMFILE and friends: back off instead of spinning on an
                // error that only time (closing connections) can cure.
                eprintln!("accept failed: {e}; backing off");
                sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

async fn echo(mut socket: TcpStream) -> io::Result<()> {
    socket.set_nodelay(true)?;
    let (mut read, mut write) = socket.split();
    vigil::io::copy(&mut read, &mut write).await?;
    Ok(())
}

async fn load(addr: SocketAddr, conns: usize, secs: u64) -> io::Result<()> {
    let round_trips = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for _ in 0..conns {
        let mut socket = TcpStream::connect(addr).await?;
        socket.set_nodelay(true)?;
        let (round_trips, stop) = (round_trips.clone(), stop.clone());
        clients.push(vigil::spawn(async move {
            let out = [b'x'; MESSAGE];
            let mut back = [0; MESSAGE];
            while !stop.load(Ordering::Relaxed) {
                socket.write_all(&out).await?;
                socket.read_exact(&mut back).await?;
                round_trips.fetch_add(1, Ordering::Relaxed);
            }
            io::Result::Ok(())
        }));
    }
    let started = Instant::now();
    for second in 1..=secs {
        let before = round_trips.load(Ordering::Relaxed);
        sleep(Duration::from_secs(1)).await;
        let done = round_trips.load(Ordering::Relaxed) - before;
        println!("second {second}: {done} round trips/s over {conns} connections");
    }
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.expect("client panicked")?;
    }
    let total = round_trips.load(Ordering::Relaxed);
    let rate = total as f64 / started.elapsed().as_secs_f64();
    println!("total: {total} round trips, {rate:.0} per second");
    Ok(())
}

fn usage() -> ! {
    eprintln!("usage: echo [server ADDR | client ADDR CONNS SECS]");
    std::process::exit(2);
}

fn parse<T: std::str::FromStr>(arg: Option<&String>) -> T {
    arg.and_then(|a| a.parse().ok()).unwrap_or_else(|| usage())
}

#[vigil::main]
async fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("server") => {
            let listener =
                TcpListener::bind(args.get(1).unwrap_or_else(|| usage()).as_str()).await?;
            println!("echo server on {}; Ctrl-C stops it", listener.local_addr()?);
            let server = vigil::spawn(serve(listener));
            vigil::signal::ctrl_c().await?;
            // Stops accepting; connections already open end with the runtime.
            server.abort();
            println!("Ctrl-C: shutting down");
            Ok(())
        }
        Some("client") => {
            let addr = vigil::net::lookup_host(args.get(1).unwrap_or_else(|| usage()).as_str())
                .await?
                .next()
                .unwrap_or_else(|| usage());
            load(addr, parse(args.get(2)), parse(args.get(3))).await
        }
        None => {
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            let addr = listener.local_addr()?;
            println!("echo server on {addr}; 20 connections for 3 seconds");
            vigil::spawn(serve(listener));
            load(addr, 20, 3).await
        }
        Some(_) => usage(),
    }
}
