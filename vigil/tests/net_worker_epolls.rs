//! Connections on a multi-thread runtime, where every worker has an epoll
//! of its own and registrations move between them (`driver::io::placement`):
//! whatever moves, and whoever harvests, no byte and no wake-up is lost.

mod common;

use common::{multi_thread, run};
use std::io;
use vigil::io::{AsyncReadExt, AsyncWriteExt};
use vigil::net::{TcpListener, TcpStream};

/// Loopback pairs whose two ends are both tasks of the runtime: the
/// lower-port end of each follows its data, the other its task, and tasks
/// hop between workers by work stealing and yields. Every round trip must
/// come back whole.
#[test]
fn in_process_pairs_keep_talking_while_their_ends_move() {
    const PAIRS: usize = 24;
    const ROUNDS: usize = 300;
    let rt = multi_thread(2);
    run(&rt, async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let servers = vigil::spawn(async move {
            let mut echoes = Vec::new();
            for _ in 0..PAIRS {
                let (mut s, _) = listener.accept().await?;
                echoes.push(vigil::spawn(async move {
                    let mut buf = [0u8; 256];
                    let mut echoed = 0usize;
                    loop {
                        let n = s.read(&mut buf).await?;
                        if n == 0 {
                            return io::Result::Ok(echoed);
                        }
                        s.write_all(&buf[..n]).await?;
                        echoed += n;
                    }
                }));
            }
            io::Result::Ok(echoes)
        });
        let mut clients = Vec::new();
        for pair in 0..PAIRS {
            let mut s = TcpStream::connect(addr).await?;
            clients.push(vigil::spawn(async move {
                let mut back = [0u8; 64];
                for round in 0..ROUNDS {
                    let out = [(pair * 7 + round) as u8; 64];
                    s.write_all(&out).await?;
                    s.read_exact(&mut back).await?;
                    assert_eq!(back, out, "pair {pair}, round {round}");
                    if round % 7 == pair % 7 {
                        vigil::task::yield_now().await;
                    }
                }
                io::Result::Ok(())
            }));
        }
        for c in clients {
            c.await.unwrap()?;
        }
        for echo in servers.await.unwrap()? {
            assert_eq!(echo.await.unwrap()?, ROUNDS * 64);
        }
        Ok(())
    });
}

/// A connection whose reading task is handed from task to task, each
/// spawned from a different place (this thread, then a worker): its
/// registration follows, and every read completes, whether its byte was
/// written before the read began waiting or after.
#[test]
fn a_stream_passed_between_tasks_keeps_reading() {
    let rt = multi_thread(2);
    run(&rt, async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let mut writer = TcpStream::connect(listener.local_addr()?).await?;
        let (mut reader, _) = listener.accept().await?;
        for hop in 0..40u8 {
            if hop % 2 == 0 {
                writer.write_all(&[hop]).await?;
            }
            let read = vigil::spawn(async move {
                let mut buf = [0u8; 1];
                reader.read_exact(&mut buf).await?;
                // Handed back through a task spawned from this worker.
                let reader = vigil::spawn(async move { reader }).await.unwrap();
                io::Result::Ok((reader, buf[0]))
            });
            if hop % 2 == 1 {
                writer.write_all(&[hop]).await?;
            }
            let (back, byte) = read.await.unwrap()?;
            assert_eq!(byte, hop);
            reader = back;
        }
        Ok(())
    });
}
