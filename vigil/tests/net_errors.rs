//! The failures a network program meets in production, each turned into an
//! error for the task involved (never a panic, a hang or a dead process):
//! resets, writes to a closed peer, refused and stuck connects, and a
//! descriptor closed behind the runtime's back.

use std::future::Future;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd};
use std::time::Duration;
use vigil::io::{AsyncReadExt, AsyncWriteExt};
use vigil::net::{TcpListener, TcpSocket, TcpStream};
use vigil::runtime::{Builder, Runtime};

const LIMIT: Duration = Duration::from_secs(20);

fn current_thread() -> Runtime {
    Builder::new_current_thread().build().unwrap()
}

fn run<F: Future<Output = io::Result<()>>>(rt: &Runtime, f: F) {
    rt.block_on(async {
        vigil::time::timeout(LIMIT, f)
            .await
            .expect("test timed out")
            .expect("test failed")
    })
}

async fn connected() -> io::Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let client = TcpStream::connect(listener.local_addr()?).await?;
    let (server, _) = listener.accept().await?;
    Ok((client, server))
}

/// Lets the other tasks of a current-thread runtime run until they wait.
async fn let_others_run() {
    for _ in 0..8 {
        vigil::task::yield_now().await;
    }
}

/// Closes `stream` with an RST instead of a FIN.
fn reset(stream: TcpStream) {
    stream.set_linger(Some(Duration::ZERO)).unwrap();
    drop(stream);
}

fn is_peer_gone(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
    )
}

#[test]
fn peer_reset_while_reading() {
    run(&current_thread(), async {
        let (client, mut server) = connected().await?;
        let reader = vigil::spawn(async move {
            let mut buf = [0; 64];
            server.read(&mut buf).await
        });
        let_others_run().await;
        assert!(!reader.is_finished(), "the read must be waiting");
        reset(client);
        let err = reader.await.unwrap().expect_err("a reset read is an error");
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err}");
        Ok(())
    });
}

#[test]
fn peer_reset_while_writing() {
    run(&current_thread(), async {
        let (mut client, mut server) = connected().await?;
        let writer = vigil::spawn(async move {
            // Far more than the socket buffers hold: the write must wait.
            let data = vec![7u8; 64 << 20];
            server.write_all(&data).await
        });
        // Data is flowing once the first bytes arrive.
        let mut first = [0; 1024];
        client.read_exact(&mut first).await?;
        let_others_run().await;
        assert!(!writer.is_finished(), "the write must be waiting");
        reset(client);
        let err = writer
            .await
            .unwrap()
            .expect_err("a reset write is an error");
        assert!(is_peer_gone(&err), "{err:?}");
        Ok(())
    });
}

#[test]
fn write_after_the_peer_closed_is_an_error() {
    run(&current_thread(), async {
        let (mut client, server) = connected().await?;
        drop(server);
        // The FIN arrives: end of file.
        let mut buf = [0; 8];
        assert_eq!(client.read(&mut buf).await?, 0);
        // The first write is accepted locally and answered by an RST; a
        // later one reports it. The process must survive (no SIGPIPE).
        let mut err = None;
        for _ in 0..1000 {
            match client.write_all(b"anyone there?").await {
                Ok(()) => vigil::time::sleep(Duration::from_millis(1)).await,
                Err(e) => {
                    err = Some(e);
                    break;
                }
            }
        }
        let err = err.expect("writing to a closed peer must fail");
        assert!(is_peer_gone(&err), "{err:?}");
        Ok(())
    });
}

#[test]
fn connect_to_a_closed_port_is_refused() {
    run(&current_thread(), async {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        // The listener is dropped: nothing listens on `addr` any more.
        let err = TcpStream::connect(addr).await.expect_err("refused");
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
        Ok(())
    });
}

#[test]
fn connect_to_a_full_backlog_times_out() {
    run(&current_thread(), async {
        // A listener that never accepts, with the smallest backlog: once its
        // queue is full the kernel drops new SYNs, so a connect hangs (the
        // client would retry for minutes) until the timeout cancels it.
        let socket = TcpSocket::new_v4()?;
        socket.bind("127.0.0.1:0".parse().unwrap())?;
        let addr = socket.local_addr()?;
        let _listener = socket.listen(0)?;
        let mut queued = Vec::new();
        for _ in 0..16 {
            let attempt = TcpStream::connect(addr);
            match vigil::time::timeout(Duration::from_millis(200), attempt).await {
                Ok(stream) => queued.push(stream?),
                Err(elapsed) => {
                    assert!(!elapsed.to_string().is_empty());
                    assert!(queued.len() <= 4, "{} connects fitted", queued.len());
                    return Ok(());
                }
            }
        }
        panic!(
            "a listener with backlog 0 took {} connections",
            queued.len()
        );
    });
}

#[test]
fn connect_with_a_zero_timeout_elapses() {
    run(&current_thread(), async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let res =
            vigil::time::timeout(Duration::ZERO, TcpStream::connect(listener.local_addr()?)).await;
        // A connect's first poll always waits for the reactor to report the
        // socket writable; by then the zero deadline has passed.
        assert!(res.is_err(), "a zero timeout must elapse");
        Ok(())
    });
}

#[test]
fn descriptor_closed_behind_the_runtimes_back() {
    run(&current_thread(), async {
        let (stale, _stale_peer) = connected().await?;
        let stale_fd = stale.as_raw_fd();
        let stale = std::sync::Arc::new(stale);
        let waiter = vigil::spawn({
            let stale = stale.clone();
            async move {
                let mut buf = [0; 64];
                (&*stale).read(&mut buf).await
            }
        });
        let_others_run().await;
        assert!(!waiter.is_finished());

        // Atomically close the descriptor and reuse its number for another
        // connection, as a library calling close() and then socket() could.
        let other_peer = std::net::TcpListener::bind("127.0.0.1:0")?;
        let other = std::net::TcpStream::connect(other_peer.local_addr()?)?;
        let (mut other_server, _) = other_peer.accept()?;
        // SAFETY: both descriptors are open; dup2 closes `stale_fd` (the
        // reactor's epoll entry goes with its last reference) and makes the
        // number refer to `other`'s socket.
        let rc = unsafe { libc::dup2(other.as_raw_fd(), stale_fd) };
        assert_eq!(rc, stale_fd, "{}", io::Error::last_os_error());

        // Traffic on the new socket behind the reused number, not yet
        // registered, must not wake the old waiter.
        std::io::Write::write_all(&mut other_server, b"not for you")?;
        vigil::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiter.is_finished(), "woken by an unrelated socket");

        // Registering the reused number tells the reactor the old
        // descriptor is gone: the waiter gets an error, not the new data.
        // SAFETY: `stale_fd` now refers to a socket nothing else owns (the
        // old stream's copy is leaked below instead of closed).
        let reused = unsafe { std::net::TcpStream::from_raw_fd(stale_fd) };
        let mut reused = TcpStream::from_std(reused)?;
        let err = waiter.await.unwrap().expect_err("stale waiter must fail");
        assert_eq!(err.kind(), io::ErrorKind::NotConnected, "{err}");
        let mut buf = [0; 11];
        reused.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"not for you");

        // The old stream must not close the number it no longer owns.
        let stale = std::sync::Arc::try_unwrap(stale).expect("waiter is done");
        let _ = stale.into_std()?.into_raw_fd();
        Ok(())
    });
}
