//! UDP on the reactor: addressed and connected datagrams, peeking, the
//! non-waiting `try_*` calls, `poll_*` in hand-written futures, and many
//! tasks receiving on one shared socket.

mod common;

use common::{current_thread, run};
use std::future::poll_fn;
use std::io;
use std::sync::Arc;
use vigil::net::UdpSocket;
use vigil::runtime::Builder;

#[test]
fn send_to_and_recv_from() {
    run(&current_thread(), async {
        let a = UdpSocket::bind("127.0.0.1:0").await?;
        let b = UdpSocket::bind("127.0.0.1:0").await?;
        let (a_addr, b_addr) = (a.local_addr()?, b.local_addr()?);
        assert_eq!(a.send_to(b"ping", b_addr).await?, 4);
        let mut buf = [0; 64];
        let (n, from) = b.recv_from(&mut buf).await?;
        assert_eq!((&buf[..n], from), (&b"ping"[..], a_addr));
        // A host name target is resolved first.
        b.send_to(b"pong", format!("localhost:{}", a_addr.port()))
            .await?;
        let (n, from) = a.recv_from(&mut buf).await?;
        assert_eq!((&buf[..n], from), (&b"pong"[..], b_addr));
        Ok(())
    });
}

#[test]
fn connected_send_recv_and_peek() {
    run(&current_thread(), async {
        let a = UdpSocket::bind("127.0.0.1:0").await?;
        let b = UdpSocket::bind("127.0.0.1:0").await?;
        a.connect(b.local_addr()?).await?;
        b.connect(a.local_addr()?).await?;
        assert_eq!(a.peer_addr()?, b.local_addr()?);

        a.send(b"first").await?;
        a.send(b"second").await?;
        let mut buf = [0; 64];
        // Peeking leaves the datagram queued.
        let (n, from) = b.peek_from(&mut buf).await?;
        assert_eq!((&buf[..n], from), (&b"first"[..], a.local_addr()?));
        let n = b.peek(&mut buf).await?;
        assert_eq!(&buf[..n], b"first");
        let n = b.recv(&mut buf).await?;
        assert_eq!(&buf[..n], b"first");
        let n = b.recv(&mut buf).await?;
        assert_eq!(&buf[..n], b"second");
        // A datagram larger than the buffer is truncated, not split.
        a.send(&[9; 100]).await?;
        let mut small = [0; 10];
        assert_eq!(b.recv(&mut small).await?, 10);
        Ok(())
    });
}

#[test]
fn try_calls_and_readable_loop() {
    run(&current_thread(), async {
        let a = UdpSocket::bind("127.0.0.1:0").await?;
        let b = UdpSocket::bind("127.0.0.1:0").await?;
        let mut buf = [0; 64];
        let err = b.try_recv_from(&mut buf).expect_err("nothing queued");
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);

        a.writable().await?;
        for i in 0..10u8 {
            a.try_send_to(&[i], b.local_addr()?)?;
        }
        let mut got = Vec::new();
        while got.len() < 10 {
            b.readable().await?;
            loop {
                match b.try_recv_from(&mut buf) {
                    Ok((n, _)) => got.extend_from_slice(&buf[..n]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => return Err(e),
                }
            }
        }
        assert_eq!(got, (0..10).collect::<Vec<u8>>());

        a.connect(b.local_addr()?).await?;
        b.connect(a.local_addr()?).await?;
        a.try_send(b"direct")?;
        b.readable().await?;
        let n = b.try_recv(&mut buf)?;
        assert_eq!(&buf[..n], b"direct");
        Ok(())
    });
}

#[test]
fn poll_functions_in_hand_written_futures() {
    run(&current_thread(), async {
        let a = UdpSocket::bind("127.0.0.1:0").await?;
        let b = UdpSocket::bind("127.0.0.1:0").await?;
        let target = b.local_addr()?;
        let n = poll_fn(|cx| a.poll_send_to(cx, b"polled", target)).await?;
        assert_eq!(n, 6);
        let mut buf = [0; 16];
        let (n, from) = poll_fn(|cx| b.poll_recv_from(cx, &mut buf)).await?;
        assert_eq!((&buf[..n], from), (&b"polled"[..], a.local_addr()?));
        b.connect(a.local_addr()?).await?;
        poll_fn(|cx| b.poll_send(cx, b"back")).await?;
        let (n, _) = poll_fn(|cx| a.poll_peek_from(cx, &mut buf)).await?;
        assert_eq!(&buf[..n], b"back");
        Ok(())
    });
}

#[test]
fn many_tasks_receive_on_one_socket() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    run(&rt, async {
        const RECEIVERS: usize = 4;
        let socket = Arc::new(UdpSocket::bind("127.0.0.1:0").await?);
        let addr = socket.local_addr()?;
        let receivers: Vec<_> = (0..RECEIVERS)
            .map(|_| {
                let socket = socket.clone();
                vigil::spawn(async move {
                    let mut buf = [0; 8];
                    socket
                        .recv_from(&mut buf)
                        .await
                        .map(|(n, _)| buf[..n].to_vec())
                })
            })
            .collect();
        // Every waiting task is woken in turn: one datagram each.
        let sender = UdpSocket::bind("127.0.0.1:0").await?;
        for i in 0..RECEIVERS as u8 {
            sender.send_to(&[i], addr).await?;
        }
        let mut got = Vec::new();
        for r in receivers {
            got.extend(r.await.unwrap()?);
        }
        got.sort();
        assert_eq!(got, (0..RECEIVERS as u8).collect::<Vec<_>>());
        Ok(())
    });
}

#[test]
fn options_and_std_conversion() {
    run(&current_thread(), async {
        let socket = UdpSocket::bind("127.0.0.1:0").await?;
        socket.set_broadcast(true)?;
        assert!(socket.broadcast()?);
        socket.set_ttl(17)?;
        assert_eq!(socket.ttl()?, 17);
        socket.set_multicast_loop_v4(true)?;
        assert!(socket.take_error()?.is_none());
        let addr = socket.local_addr()?;
        let std_socket = socket.into_std()?;
        assert_eq!(std_socket.local_addr()?, addr);
        let socket = UdpSocket::from_std(std_socket)?;
        let peer = UdpSocket::bind("127.0.0.1:0").await?;
        peer.send_to(b"again", addr).await?;
        let mut buf = [0; 8];
        let (n, _) = socket.recv_from(&mut buf).await?;
        assert_eq!(&buf[..n], b"again");
        Ok(())
    });
}
