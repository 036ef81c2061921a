//! A line-based TCP chat room: every line a client sends goes to every
//! other client.
//!
//! ```text
//! cargo run --release --example chat -- server 127.0.0.1:7001   # then: nc 127.0.0.1 7001
//! cargo run --release --example chat                            # a server and three bots
//! ```
//!
//! One task per connection. Lines fan out through a
//! `vigil::sync::broadcast` channel: each connection task waits, in one
//! `select`-like loop, for either a line from its client or a line from the
//! room. A slow client that falls more than `BACKLOG` lines behind is told
//! how many it missed instead of holding the room back. A `watch` channel
//! counts the members, and the bots wait on it until everyone is in.

use std::future::{poll_fn, Future};
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;
use vigil::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use vigil::net::{TcpListener, TcpStream};
use vigil::sync::{broadcast, watch};

/// Lines a member may fall behind before it skips ahead.
const BACKLOG: usize = 64;

/// A line said in the room, and who said it (so it is not echoed back).
#[derive(Clone, Debug)]
struct Said {
    from: SocketAddr,
    line: String,
}

/// What one turn of a member's loop saw first.
enum Event {
    FromClient(io::Result<Option<String>>),
    FromRoom(Result<Said, broadcast::error::RecvError>),
}

async fn serve(listener: TcpListener, members: Arc<watch::Sender<usize>>) {
    let (room, _) = broadcast::channel::<Said>(BACKLOG);
    loop {
        match listener.accept().await {
            Ok((socket, peer)) => {
                let room = room.clone();
                let members = members.clone();
                // Subscribe before counting the member in, so that nothing
                // said once everyone is counted can be missed.
                let heard = room.subscribe();
                vigil::spawn(async move {
                    members.send_modify(|n| *n += 1);
                    if let Err(e) = member(socket, peer, room, heard).await {
                        eprintln!("{peer}: {e}");
                    }
                    members.send_modify(|n| *n -= 1);
                });
            }
            Err(e) => {
                // Out of fds and the like: back off instead of spinning.
                eprintln!("accept failed: {e}; backing off");
                vigil::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

async fn member(
    socket: TcpStream,
    peer: SocketAddr,
    room: broadcast::Sender<Said>,
    mut heard: broadcast::Receiver<Said>,
) -> io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    loop {
        // Wait for whichever comes first. Both `next_line` and `recv` are
        // cancel-safe, so dropping the one that lost loses nothing.
        let event = {
            let mut from_client = pin!(lines.next_line());
            let mut from_room = pin!(heard.recv());
            poll_fn(|cx| {
                if let Poll::Ready(r) = from_client.as_mut().poll(cx) {
                    return Poll::Ready(Event::FromClient(r));
                }
                from_room.as_mut().poll(cx).map(Event::FromRoom)
            })
            .await
        };
        match event {
            Event::FromClient(Ok(Some(line))) => {
                let _ = room.send(Said { from: peer, line });
            }
            Event::FromClient(Ok(None)) => return Ok(()),
            Event::FromClient(Err(e)) => return Err(e),
            Event::FromRoom(Ok(said)) if said.from != peer => {
                let text = format!("{}: {}\n", said.from, said.line);
                write.write_all(text.as_bytes()).await?;
            }
            Event::FromRoom(Ok(_)) => {}
            Event::FromRoom(Err(broadcast::error::RecvError::Lagged(n))) => {
                let text = format!("(you missed {n} lines)\n");
                write.write_all(text.as_bytes()).await?;
            }
            Event::FromRoom(Err(broadcast::error::RecvError::Closed)) => return Ok(()),
        }
    }
}

/// A bot: waits until `expected` members are in, says hello, and returns
/// the lines it hears from the others.
async fn bot(
    addr: SocketAddr,
    name: &str,
    mut members: watch::Receiver<usize>,
    expected: usize,
) -> io::Result<Vec<String>> {
    let socket = TcpStream::connect(addr).await?;
    members
        .wait_for(|n| *n == expected)
        .await
        .map_err(|_| io::Error::other("server gone"))?;
    let (read, mut write) = socket.into_split();
    write
        .write_all(format!("hello from {name}\n").as_bytes())
        .await?;
    let mut lines = BufReader::new(read).lines();
    let mut heard = Vec::new();
    while heard.len() < expected - 1 {
        match lines.next_line().await? {
            Some(line) => heard.push(line),
            None => break,
        }
    }
    Ok(heard)
}

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rt = vigil::runtime::Builder::new_multi_thread().build()?;
    rt.block_on(async {
        let (members, watcher) = watch::channel(0usize);
        match args.first().map(String::as_str) {
            Some("server") => {
                let addr = args.get(1).map_or("127.0.0.1:7001", String::as_str);
                let listener = TcpListener::bind(addr).await?;
                println!("chat room on {}", listener.local_addr()?);
                serve(listener, Arc::new(members)).await;
                Ok(())
            }
            None => {
                let listener = TcpListener::bind("127.0.0.1:0").await?;
                let addr = listener.local_addr()?;
                vigil::spawn(serve(listener, Arc::new(members)));
                let names = ["ada", "bob", "cy"];
                let bots: Vec<_> = names
                    .iter()
                    .map(|name| vigil::spawn(bot(addr, name, watcher.clone(), names.len())))
                    .collect();
                for (name, bot) in names.iter().zip(bots) {
                    let heard = bot.await.expect("bot panicked")?;
                    println!("{name} heard: {heard:?}");
                    assert_eq!(heard.len(), names.len() - 1);
                }
                Ok(())
            }
            Some(other) => Err(io::Error::other(format!(
                "unknown mode {other:?}; use `server [ADDR]` or nothing"
            ))),
        }
    })
}
