//! The toy server from "Async Rust, Part Three: IO", on vigil.
//!
//! The server answers each connection with `start N`, waits one second, and
//! ends with `end N`. Ten clients connect at once and print what they
//! receive. With threads this needs a thread per connection; here every
//! connection is a task, the one-second waits are timers, and the sockets
//! wait in the reactor, so the whole run takes about one second of wall
//! time and almost no CPU: nothing polls in a loop. The example prints both
//! figures at the end.
//!
//! Run it with `cargo run --release --example toy_server`.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use vigil::io::{AsyncReadExt, AsyncWriteExt};
use vigil::net::{TcpListener, TcpStream};
use vigil::time::{sleep, Instant};

/// User + system CPU time of this process, from `/proc/self/stat`.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // Linux reports these in clock ticks of 1/100 s on every common config.
    Some(Duration::from_millis((utime + stime) * 10))
}

async fn one_response(mut socket: TcpStream, n: u64) -> io::Result<()> {
    socket.write_all(format!("start {n}\n").as_bytes()).await?;
    sleep(Duration::from_secs(1)).await;
    socket.write_all(format!("end {n}\n").as_bytes()).await?;
    Ok(())
}

async fn server_main(listener: TcpListener) {
    let mut n = 1;
    loop {
        match listener.accept().await {
            Ok((socket, _)) => {
                vigil::spawn(async move {
                    if let Err(e) = one_response(socket, n).await {
                        eprintln!("response {n} failed: {e}");
                    }
                });
                n += 1;
            }
            Err(e) => {
                // Out of descriptors (EMFILE) and the like: retrying at once
                // would spin; pause so connections can finish and free some.
                eprintln!("accept failed: {e}; backing off");
                sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

async fn client_main(addr: SocketAddr) -> io::Result<()> {
    let mut socket = TcpStream::connect(addr).await?;
    let mut buf = [0; 1024];
    loop {
        let n = socket.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        print!("{}", String::from_utf8_lossy(&buf[..n]));
    }
}

#[vigil::main]
async fn main() -> io::Result<()> {
    let started = Instant::now();
    // Bind before spawning the clients, so none can connect too early.
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    vigil::spawn(server_main(listener));

    let clients: Vec<_> = (0..10).map(|_| vigil::spawn(client_main(addr))).collect();
    for client in clients {
        client.await.expect("client panicked")?;
    }

    let wall = started.elapsed();
    println!("10 clients served in {wall:.2?} of wall time");
    match cpu_time() {
        Some(cpu) => {
            println!("process CPU time: {cpu:.2?} (no busy loop: far below the wall time)")
        }
        None => println!("process CPU time: unavailable (no /proc/self/stat)"),
    }
    Ok(())
}
