//! TCP on the reactor: streams, half-close, split halves across workers,
//! readiness-driven reads, peek, name lookup and `TcpSocket`.

mod common;

use common::{current_thread, multi_thread, run};
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use vigil::io::{AsyncReadExt, AsyncWriteExt};
use vigil::net::{lookup_host, TcpListener, TcpSocket, TcpStream};

/// A connected (client, server) pair on 127.0.0.1.
async fn connected() -> io::Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let client = TcpStream::connect(listener.local_addr()?).await?;
    let (server, peer) = listener.accept().await?;
    assert_eq!(peer, client.local_addr()?);
    assert_eq!(server.local_addr()?, client.peer_addr()?);
    Ok((client, server))
}

#[test]
fn echo_round_trip_on_both_flavours() {
    for rt in [current_thread(), multi_thread(2)] {
        run(&rt, async {
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            let addr = listener.local_addr()?;
            let server = vigil::spawn(async move {
                let (mut s, _) = listener.accept().await?;
                let mut buf = vec![0; 4096];
                loop {
                    let n = s.read(&mut buf).await?;
                    if n == 0 {
                        return io::Result::Ok(());
                    }
                    s.write_all(&buf[..n]).await?;
                }
            });
            let mut client = TcpStream::connect(addr).await?;
            for round in 0..100u32 {
                let msg = format!("message {round}");
                client.write_all(msg.as_bytes()).await?;
                let mut back = vec![0; msg.len()];
                client.read_exact(&mut back).await?;
                assert_eq!(back, msg.as_bytes());
            }
            client.shutdown().await?;
            server.await.unwrap()
        });
    }
}

#[test]
fn half_close_in_both_directions() {
    run(&current_thread(), async {
        // Client closes its side first; the server still answers.
        let (mut client, mut server) = connected().await?;
        client.write_all(b"request").await?;
        client.shutdown().await?;
        let mut got = Vec::new();
        server.read_to_end(&mut got).await?;
        assert_eq!(got, b"request");
        server.write_all(b"reply after your EOF").await?;
        server.shutdown().await?;
        let mut reply = Vec::new();
        client.read_to_end(&mut reply).await?;
        assert_eq!(reply, b"reply after your EOF");

        // The other way round: the server closes first.
        let (mut client, mut server) = connected().await?;
        server.write_all(b"banner").await?;
        server.shutdown().await?;
        let mut banner = Vec::new();
        client.read_to_end(&mut banner).await?;
        assert_eq!(banner, b"banner");
        client.write_all(b"still talking").await?;
        client.shutdown().await?;
        let mut rest = Vec::new();
        server.read_to_end(&mut rest).await?;
        assert_eq!(rest, b"still talking");
        Ok(())
    });
}

#[test]
fn owned_halves_on_two_workers() {
    const TOTAL: usize = 4 << 20;
    run(&multi_thread(2), async {
        let (client, server) = connected().await?;
        // Server: echo everything back, one task pumping between halves.
        let echo = vigil::spawn(async move {
            let (mut sr, mut sw) = server.into_split();
            let n = vigil::io::copy(&mut sr, &mut sw).await?;
            sw.shutdown().await?;
            io::Result::Ok(n)
        });

        // Client: write from one task while reading from another.
        let (mut cr, mut cw) = client.into_split();
        let writer = vigil::spawn(async move {
            let data: Vec<u8> = (0..TOTAL).map(|i| (i % 251) as u8).collect();
            for chunk in data.chunks(64 * 1024) {
                cw.write_all(chunk).await?;
            }
            cw.shutdown().await?;
            io::Result::Ok(cw)
        });
        let reader = vigil::spawn(async move {
            let mut got = 0usize;
            let mut buf = vec![0; 32 * 1024];
            while got < TOTAL {
                let n = cr.read(&mut buf).await?;
                assert!(n > 0, "early EOF after {got} bytes");
                for (i, b) in buf[..n].iter().enumerate() {
                    assert_eq!(*b, ((got + i) % 251) as u8);
                }
                got += n;
            }
            io::Result::Ok(cr)
        });
        let cw = writer.await.unwrap()?;
        let cr = reader.await.unwrap()?;
        assert_eq!(echo.await.unwrap()?, TOTAL as u64);
        let stream = cr.reunite(cw).expect("same stream");
        assert!(stream.local_addr().is_ok());
        Ok(())
    });
}

#[test]
fn borrowed_halves_in_one_task() {
    run(&current_thread(), async {
        let (mut client, mut server) = connected().await?;
        let (mut r, mut w) = client.split();
        w.write_all(b"via halves").await?;
        let mut buf = [0; 10];
        server.read_exact(&mut buf).await?;
        server.write_all(&buf).await?;
        let mut back = [0; 10];
        r.read_exact(&mut back).await?;
        assert_eq!(&back, b"via halves");
        Ok(())
    });
}

#[test]
fn readable_then_try_read_loop() {
    run(&current_thread(), async {
        let (client, mut server) = connected().await?;
        let writer = vigil::spawn(async move {
            for i in 0..20u8 {
                server.write_all(&[i; 1000]).await?;
                vigil::task::yield_now().await;
            }
            server.shutdown().await?;
            io::Result::Ok(())
        });
        let mut got = Vec::new();
        let mut buf = [0; 4096];
        'outer: loop {
            client.readable().await?;
            loop {
                match client.try_read(&mut buf) {
                    Ok(0) => break 'outer,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => return Err(e),
                }
            }
        }
        writer.await.unwrap()?;
        assert_eq!(got.len(), 20_000);
        for (i, chunk) in got.chunks(1000).enumerate() {
            assert!(chunk.iter().all(|b| *b == i as u8));
        }
        // try_write without waiting on a fresh, writable socket.
        client.writable().await?;
        assert!(client.try_write(b"x").is_ok());
        Ok(())
    });
}

#[test]
fn peek_leaves_the_data_queued() {
    run(&current_thread(), async {
        let (mut client, mut server) = connected().await?;
        server.write_all(b"hello world").await?;
        let mut peeked = [0; 5];
        let n = client.peek(&mut peeked).await?;
        assert_eq!(&peeked[..n], &b"hello"[..n]);
        let mut all = [0; 11];
        client.read_exact(&mut all).await?;
        assert_eq!(&all, b"hello world");
        Ok(())
    });
}

#[test]
fn lookup_host_resolves_localhost_on_the_blocking_pool() {
    run(&multi_thread(2), async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let addrs: Vec<SocketAddr> = lookup_host(format!("localhost:{port}")).await?.collect();
        assert!(
            addrs
                .iter()
                .any(|a| a.ip().is_loopback() && a.port() == port),
            "{addrs:?}"
        );
        // Connecting by name tries each address (::1 may be refused first).
        let accept = vigil::spawn(async move { listener.accept().await.map(|_| ()) });
        let stream = TcpStream::connect(("localhost", port)).await?;
        assert_eq!(stream.peer_addr()?.port(), port);
        accept.await.unwrap()
    });
}

#[test]
fn tcp_socket_configures_before_connect_and_listen() {
    run(&current_thread(), async {
        let socket = TcpSocket::new_v4()?;
        socket.set_reuseaddr(true)?;
        assert!(socket.reuseaddr()?);
        socket.set_recv_buffer_size(64 * 1024)?;
        assert!(socket.recv_buffer_size()? >= 64 * 1024);
        socket.bind("127.0.0.1:0".parse().unwrap())?;
        let addr = socket.local_addr()?;
        let listener = socket.listen(8)?;
        assert_eq!(listener.local_addr()?, addr);

        let client = TcpSocket::new_v4()?;
        client.set_nodelay(true)?;
        client.set_send_buffer_size(32 * 1024)?;
        client.set_linger(Some(Duration::from_secs(1)))?;
        client.bind("127.0.0.1:0".parse().unwrap())?;
        let from = client.local_addr()?;
        let mut stream = client.connect(addr).await?;
        assert!(stream.nodelay()?);
        assert_eq!(stream.linger()?, Some(Duration::from_secs(1)));
        let (mut accepted, peer) = listener.accept().await?;
        assert_eq!(peer, from);
        stream.write_all(b"configured").await?;
        let mut buf = [0; 10];
        accepted.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"configured");
        Ok(())
    });
}

#[test]
fn tcp_socket_reuseport_shares_a_port() {
    run(&current_thread(), async {
        let first = TcpSocket::new_v4()?;
        first.set_reuseport(true)?;
        first.bind("127.0.0.1:0".parse().unwrap())?;
        let addr = first.local_addr()?;
        let second = TcpSocket::new_v4()?;
        second.set_reuseport(true)?;
        assert!(second.reuseport()?);
        second.bind(addr)?;
        let a = first.listen(4)?;
        let b = second.listen(4)?;
        assert_eq!(a.local_addr()?, b.local_addr()?);
        Ok(())
    });
}

#[test]
fn from_std_and_into_std_round_trip() {
    run(&current_thread(), async {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let listener = TcpListener::from_std(std_listener)?;
        let addr = listener.local_addr()?;
        let client = TcpStream::from_std(std::net::TcpStream::connect(addr)?)?;
        let (server, _) = listener.accept().await?;
        let mut std_server = server.into_std()?;
        std_server.set_nonblocking(false)?;
        std::io::Write::write_all(&mut std_server, b"std")?;
        let mut client = client;
        let mut buf = [0; 3];
        client.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"std");
        Ok(())
    });
}
