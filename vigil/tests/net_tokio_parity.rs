//! The parts of `vigil::net` that match `tokio::net` methods for driving
//! sockets by hand: readiness polling (`poll_read_ready`, `poll_recv_ready`
//! and their write counterparts), `try_io`/`async_io` with the caller's own
//! system calls, vectored `try_*`, peeking at UDP datagrams and their
//! senders, the socket options, the split halves' forwarding methods, and
//! `UnixSocket`. Sockets bind 127.0.0.1 or paths in a fresh temporary
//! directory that is removed afterwards.

mod common;

use common::{current_thread, run, TempDir};
use std::cell::Cell;
use std::future::poll_fn;
use std::io::{self, IoSlice, IoSliceMut, Read};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, IntoRawFd, OwnedFd};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::ffi::OsStrExt;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;
use vigil::io::{AsyncReadExt, AsyncWriteExt, Interest};
use vigil::net::{
    TcpListener, TcpSocket, TcpStream, UdpSocket, UnixDatagram, UnixListener, UnixSocket,
    UnixStream,
};

/// A connected (client, server) pair on 127.0.0.1.
async fn tcp_pair() -> io::Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let client = TcpStream::connect(listener.local_addr()?).await?;
    let (server, _) = listener.accept().await?;
    Ok((client, server))
}

/// A UDP socket on 127.0.0.1 with a port of the kernel's choice.
async fn udp() -> io::Result<UdpSocket> {
    UdpSocket::bind("127.0.0.1:0").await
}

/// A UDP socket of the IPv6 family that is bound to nothing, for the IPv6
/// options (tests bind 127.0.0.1 only).
fn unbound_udp_v6() -> io::Result<UdpSocket> {
    let socket = socket2::Socket::new(socket2::Domain::IPV6, socket2::Type::DGRAM, None)?;
    UdpSocket::from_std(socket.into())
}

/// Polls `f` once with the task's context and returns what it gave.
async fn poll_once<T>(mut f: impl FnMut(&mut std::task::Context<'_>) -> Poll<T>) -> Poll<T> {
    poll_fn(|cx| Poll::Ready(f(cx))).await
}

fn is_would_block<T: std::fmt::Debug>(res: io::Result<T>) -> bool {
    matches!(res, Err(ref e) if e.kind() == io::ErrorKind::WouldBlock)
}

/// `recv(2)` straight on the descriptor, bypassing vigil's readiness, with
/// `MSG_DONTWAIT`.
fn raw_recv(fd: &impl AsFd, buf: &mut [u8]) -> io::Result<usize> {
    let mut tmp = vec![MaybeUninit::<u8>::uninit(); buf.len()];
    let n = socket2::SockRef::from(fd).recv_with_flags(&mut tmp, libc::MSG_DONTWAIT)?;
    for (dst, src) in buf.iter_mut().zip(&tmp[..n]) {
        // SAFETY: `recv` initialised the first `n` bytes of `tmp`.
        *dst = unsafe { src.assume_init() };
    }
    Ok(n)
}

// ---- readiness polling -------------------------------------------------

#[test]
fn tcp_poll_read_ready_is_pending_until_the_peer_writes() {
    run(&current_thread(), async {
        let (client, mut server) = tcp_pair().await?;
        assert!(
            poll_once(|cx| client.poll_read_ready(cx))
                .await
                .is_pending(),
            "nothing was sent yet"
        );
        server.write_all(b"ping").await?;
        poll_fn(|cx| client.poll_read_ready(cx)).await?;
        // Polling did not consume the readiness: the read finds the data.
        let mut buf = [0; 8];
        assert_eq!(client.try_read(&mut buf)?, 4);
        assert_eq!(&buf[..4], b"ping");
        // A read that would block clears it; polling is pending again.
        assert!(is_would_block(client.try_read(&mut buf)));
        assert!(poll_once(|cx| client.poll_read_ready(cx))
            .await
            .is_pending());
        Ok(())
    });
}

#[test]
fn unix_poll_read_ready_is_pending_until_the_peer_writes() {
    run(&current_thread(), async {
        let (a, mut b) = UnixStream::pair()?;
        assert!(poll_once(|cx| a.poll_read_ready(cx)).await.is_pending());
        b.write_all(b"pong").await?;
        poll_fn(|cx| a.poll_read_ready(cx)).await?;
        let mut buf = [0; 8];
        assert_eq!(a.try_read(&mut buf)?, 4);
        assert_eq!(&buf[..4], b"pong");
        assert!(is_would_block(a.try_read(&mut buf)));
        assert!(poll_once(|cx| a.poll_read_ready(cx)).await.is_pending());
        Ok(())
    });
}

#[test]
fn poll_write_ready_is_ready_on_fresh_connections() {
    run(&current_thread(), async {
        let (client, server) = tcp_pair().await?;
        for s in [&client, &server] {
            poll_fn(|cx| s.poll_write_ready(cx)).await?;
            // Still ready: polling consumes nothing.
            assert!(matches!(
                poll_once(|cx| s.poll_write_ready(cx)).await,
                Poll::Ready(Ok(()))
            ));
            assert_eq!(s.try_write(b"x")?, 1);
        }
        let (a, b) = UnixStream::pair()?;
        for s in [&a, &b] {
            poll_fn(|cx| s.poll_write_ready(cx)).await?;
            assert_eq!(s.try_write(b"y")?, 1);
        }
        Ok(())
    });
}

/// The read and write directions keep a waker each: a task waiting in
/// `poll_read_ready` is still woken after another task parked in
/// `poll_write_ready` on the same stream.
#[test]
fn read_and_write_readiness_keep_separate_wakers() {
    run(&current_thread(), async {
        let (a, mut b) = UnixStream::pair()?;
        let a = Arc::new(a);
        let reader = vigil::spawn({
            let a = a.clone();
            async move { poll_fn(|cx| a.poll_read_ready(cx)).await }
        });
        vigil::task::yield_now().await; // the reader is now parked

        // Fill the send buffer so that write readiness is pending too.
        a.writable().await?;
        let chunk = vec![7u8; 64 * 1024];
        let mut sent = 0;
        loop {
            match a.try_write(&chunk) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        assert!(sent > 0);
        assert!(poll_once(|cx| a.poll_write_ready(cx)).await.is_pending());

        b.write_all(b"wake the reader").await?;
        vigil::time::timeout(Duration::from_secs(10), reader)
            .await
            .expect("the reader was never woken")
            .unwrap()?;

        // Drain what `a` sent; the writer's waker is then woken in turn.
        let mut buf = vec![0; 64 * 1024];
        let mut got = 0;
        while got < sent {
            got += b.read(&mut buf).await?;
        }
        poll_fn(|cx| a.poll_write_ready(cx)).await?;
        Ok(())
    });
}

#[test]
fn udp_poll_recv_ready_and_poll_send_ready() {
    run(&current_thread(), async {
        let a = udp().await?;
        let b = udp().await?;
        poll_fn(|cx| a.poll_send_ready(cx)).await?;
        assert!(poll_once(|cx| b.poll_recv_ready(cx)).await.is_pending());
        a.send_to(b"dgram", b.local_addr()?).await?;
        poll_fn(|cx| b.poll_recv_ready(cx)).await?;
        let mut buf = [0; 16];
        let (n, from) = b.try_recv_from(&mut buf)?;
        assert_eq!((&buf[..n], from), (&b"dgram"[..], a.local_addr()?));
        assert!(is_would_block(b.try_recv_from(&mut buf)));
        assert!(poll_once(|cx| b.poll_recv_ready(cx)).await.is_pending());
        Ok(())
    });
}

#[test]
fn unix_datagram_poll_functions() {
    let dir = TempDir::new("net-parity");
    let path = dir.path("dgram.sock");
    run(&current_thread(), async {
        let (a, b) = UnixDatagram::pair()?;
        poll_fn(|cx| a.poll_send_ready(cx)).await?;
        assert!(poll_once(|cx| b.poll_recv_ready(cx)).await.is_pending());
        a.send(b"one").await?;
        poll_fn(|cx| b.poll_recv_ready(cx)).await?;
        assert_eq!(b.try_recv(&mut [0; 8])?, 3);

        // poll_send_to / poll_recv_from with a bound receiver.
        let server = UnixDatagram::bind(&path)?;
        let client = UnixDatagram::unbound()?;
        let n = poll_fn(|cx| client.poll_send_to(cx, b"to a path", &path)).await?;
        assert_eq!(n, 9);
        let mut buf = [0; 16];
        let (n, from) = poll_fn(|cx| server.poll_recv_from(cx, &mut buf)).await?;
        assert_eq!(&buf[..n], b"to a path");
        assert!(from.is_unnamed());
        Ok(())
    });
}

// ---- try_io / async_io ---------------------------------------------------

#[test]
fn tcp_try_io_reads_through_the_raw_socket_and_would_block_clears() {
    run(&current_thread(), async {
        let (client, mut server) = tcp_pair().await?;
        let calls = Cell::new(0);
        let raw = socket2::SockRef::from(&client);
        let mut buf = [0; 16];

        // No readiness cached: the closure is not even called.
        let res = client.try_io(Interest::READABLE, || {
            calls.set(calls.get() + 1);
            (&*raw).read(&mut buf)
        });
        assert!(is_would_block(res));
        assert_eq!(calls.get(), 0);

        server.write_all(b"raw bytes").await?;
        client.readable().await?;
        let n = client.try_io(Interest::READABLE, || {
            calls.set(calls.get() + 1);
            (&*raw).read(&mut buf)
        })?;
        assert_eq!(&buf[..n], b"raw bytes");
        assert_eq!(calls.get(), 1);

        // The closure's own WouldBlock clears the readiness ...
        let res = client.try_io(Interest::READABLE, || {
            calls.set(calls.get() + 1);
            (&*raw).read(&mut buf)
        });
        assert!(is_would_block(res));
        assert_eq!(calls.get(), 2);
        // ... so the next try does not call it, and polling is pending.
        let res = client.try_io(Interest::READABLE, || {
            calls.set(calls.get() + 1);
            Ok(0)
        });
        assert!(is_would_block(res));
        assert_eq!(calls.get(), 2);
        assert!(poll_once(|cx| client.poll_read_ready(cx))
            .await
            .is_pending());

        // async_io waits for readiness and retries after WouldBlock.
        let writer = vigil::spawn(async move {
            server.write_all(b"later").await?;
            io::Result::Ok(server)
        });
        let n = client
            .async_io(Interest::READABLE, || (&*raw).read(&mut buf))
            .await?;
        assert_eq!(&buf[..n], b"later");
        let _server = writer.await.unwrap()?;

        // A write through the raw socket.
        let n = client
            .async_io(Interest::WRITABLE, || {
                socket2::SockRef::from(&client).send(b"back")
            })
            .await?;
        assert_eq!(n, 4);
        Ok(())
    });
}

#[test]
fn unix_stream_try_io_and_async_io() {
    run(&current_thread(), async {
        let (a, b) = UnixStream::pair()?;
        let raw_a = socket2::SockRef::from(&a);
        let raw_b = socket2::SockRef::from(&b);
        b.writable().await?;
        let n = b.try_io(Interest::WRITABLE, || raw_b.send(b"abc"))?;
        assert_eq!(n, 3);
        let mut buf = [0; 8];
        let n = a
            .async_io(Interest::READABLE, || (&*raw_a).read(&mut buf))
            .await?;
        assert_eq!(&buf[..n], b"abc");
        let res = a.try_io(Interest::READABLE, || (&*raw_a).read(&mut buf));
        assert!(is_would_block(res));
        assert!(poll_once(|cx| a.poll_read_ready(cx)).await.is_pending());
        Ok(())
    });
}

#[test]
fn udp_try_io_receives_through_the_raw_socket() {
    run(&current_thread(), async {
        let a = udp().await?;
        let b = udp().await?;
        let raw_b = socket2::SockRef::from(&b);
        let mut buf = [0; 16];
        assert!(is_would_block(
            b.try_io(Interest::READABLE, || (&*raw_b).read(&mut buf))
        ));
        a.send_to(b"via try_io", b.local_addr()?).await?;
        b.readable().await?;
        let n = b.try_io(Interest::READABLE, || (&*raw_b).read(&mut buf))?;
        assert_eq!(&buf[..n], b"via try_io");
        assert!(is_would_block(
            b.try_io(Interest::READABLE, || (&*raw_b).read(&mut buf))
        ));
        assert!(poll_once(|cx| b.poll_recv_ready(cx)).await.is_pending());

        // UdpSocket::async_io (which vigil already had) with the same call.
        a.send_to(b"again", b.local_addr()?).await?;
        let n = b
            .async_io(Interest::READABLE, || (&*raw_b).read(&mut buf))
            .await?;
        assert_eq!(&buf[..n], b"again");
        Ok(())
    });
}

#[test]
fn unix_datagram_try_io_and_async_io() {
    run(&current_thread(), async {
        let (a, b) = UnixDatagram::pair()?;
        let raw_a = socket2::SockRef::from(&a);
        let raw_b = socket2::SockRef::from(&b);
        let n = a
            .async_io(Interest::WRITABLE, || raw_a.send(b"datagram"))
            .await?;
        assert_eq!(n, 8);
        b.readable().await?;
        let mut buf = [0; 16];
        let n = b.try_io(Interest::READABLE, || (&*raw_b).read(&mut buf))?;
        assert_eq!(&buf[..n], b"datagram");
        assert!(is_would_block(
            b.try_io(Interest::READABLE, || (&*raw_b).read(&mut buf))
        ));
        assert!(poll_once(|cx| b.poll_recv_ready(cx)).await.is_pending());
        Ok(())
    });
}

// ---- vectored try_read / try_write ----------------------------------------

#[test]
fn vectored_try_read_and_try_write_move_the_right_bytes() {
    run(&current_thread(), async {
        let (client, server) = tcp_pair().await?;
        let (a, b) = UnixStream::pair()?;
        let pairs: [(&dyn VectoredStream, &dyn VectoredStream); 2] = [(&client, &server), (&a, &b)];
        for (writer, reader) in pairs {
            writer.wait_writable().await?;
            let bufs = [IoSlice::new(b"ab"), IoSlice::new(b""), IoSlice::new(b"cde")];
            assert_eq!(writer.write_v(&bufs)?, 5);
            reader.wait_readable().await?;
            let (mut x, mut y) = ([0u8; 3], [0u8; 4]);
            let n = reader.read_v(&mut [IoSliceMut::new(&mut x), IoSliceMut::new(&mut y)])?;
            assert_eq!(n, 5);
            assert_eq!(&x, b"abc");
            assert_eq!(&y[..2], b"de");
            assert!(is_would_block(
                reader.read_v(&mut [IoSliceMut::new(&mut x)])
            ));
        }
        Ok(())
    });
}

/// The vectored calls of both stream types, behind one object-safe face.
trait VectoredStream {
    fn wait_readable(
        &self,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = io::Result<()>> + '_>>;
    fn wait_writable(
        &self,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = io::Result<()>> + '_>>;
    fn read_v(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize>;
    fn write_v(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize>;
}

macro_rules! vectored_stream {
    ($t:ty) => {
        impl VectoredStream for $t {
            fn wait_readable(
                &self,
            ) -> std::pin::Pin<Box<dyn std::future::Future<Output = io::Result<()>> + '_>> {
                Box::pin(self.readable())
            }
            fn wait_writable(
                &self,
            ) -> std::pin::Pin<Box<dyn std::future::Future<Output = io::Result<()>> + '_>> {
                Box::pin(self.writable())
            }
            fn read_v(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
                self.try_read_vectored(bufs)
            }
            fn write_v(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
                self.try_write_vectored(bufs)
            }
        }
    };
}

vectored_stream!(TcpStream);
vectored_stream!(UnixStream);

// ---- split halves ----------------------------------------------------------

#[test]
fn tcp_halves_forward_try_calls_addresses_and_peek() {
    run(&current_thread(), async {
        let (mut client, server) = tcp_pair().await?;
        let (client_addr, server_addr) = (client.local_addr()?, server.local_addr()?);
        {
            let (mut r, w) = client.split();
            assert_eq!(r.local_addr()?, client_addr);
            assert_eq!(w.peer_addr()?, server_addr);
            w.writable().await?;
            assert_eq!(w.try_write(b"1")?, 1);
            assert_eq!(w.try_write_vectored(&[IoSlice::new(b"23")])?, 2);

            server.readable().await?;
            let mut got = [0; 3];
            let mut n = 0;
            while n < 3 {
                server.readable().await?;
                match server.try_read(&mut got[n..]) {
                    Ok(k) => n += k,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                    Err(e) => return Err(e),
                }
            }
            assert_eq!(&got, b"123");

            server.writable().await?;
            assert_eq!(server.try_write(b"xyz")?, 3);
            r.readable().await?;
            let mut peeked = [0; 3];
            assert_eq!(r.peek(&mut peeked).await?, 3);
            assert_eq!(&peeked, b"xyz");
            let n = poll_fn(|cx| r.poll_peek(cx, &mut peeked)).await?;
            assert_eq!(n, 3);
            let (mut x, mut y) = ([0u8; 1], [0u8; 2]);
            let n = r.try_read_vectored(&mut [IoSliceMut::new(&mut x), IoSliceMut::new(&mut y)])?;
            assert_eq!((n, &x, &y), (3, b"x", b"yz"));
        }

        let (mut r, w) = client.into_split();
        assert_eq!(r.peer_addr()?, server_addr);
        assert_eq!(w.local_addr()?, client_addr);
        server.writable().await?;
        assert_eq!(server.try_write(b"!")?, 1);
        let mut one = [0; 1];
        assert_eq!(r.peek(&mut one).await?, 1);
        r.readable().await?;
        assert_eq!(r.try_read(&mut one)?, 1);
        assert_eq!(&one, b"!");
        let ready = w.ready(Interest::WRITABLE).await?;
        assert!(ready.is_writable());
        Ok(())
    });
}

#[test]
fn owned_write_half_forget_leaves_the_writing_side_open() {
    run(&current_thread(), async {
        // Dropped normally, the write half shuts down: the peer sees EOF.
        let (a, b) = UnixStream::pair()?;
        let (_ar, aw) = a.into_split();
        drop(aw);
        assert_eq!(raw_recv(&b, &mut [0; 1])?, 0, "drop shuts down writing");

        // Forgotten, it does not: the peer has nothing to read, not EOF.
        let (c, d) = UnixStream::pair()?;
        let (cr, cw) = c.into_split();
        cw.forget();
        let err = raw_recv(&d, &mut [0; 1]).expect_err("no end of file");
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);

        // The read half still works and addresses are forwarded.
        assert!(cr.peer_addr()?.is_unnamed());
        d.writable().await?;
        assert_eq!(d.try_write(b"ok")?, 2);
        cr.readable().await?;
        let mut buf = [0; 2];
        assert_eq!(cr.try_read_vectored(&mut [IoSliceMut::new(&mut buf)])?, 2);
        assert_eq!(&buf, b"ok");
        Ok(())
    });
}

#[test]
fn unix_borrowed_halves_forward_try_calls() {
    run(&current_thread(), async {
        let (mut a, b) = UnixStream::pair()?;
        let (r, w) = a.split();
        w.writable().await?;
        assert_eq!(
            w.try_write_vectored(&[IoSlice::new(b"he"), IoSlice::new(b"llo")])?,
            5
        );
        b.readable().await?;
        let mut buf = [0; 5];
        assert_eq!(b.try_read(&mut buf)?, 5);
        assert_eq!(&buf, b"hello");
        b.writable().await?;
        b.try_write(b"back")?;
        let ready = r.ready(Interest::READABLE).await?;
        assert!(ready.is_readable());
        assert_eq!(r.try_read(&mut buf)?, 4);
        assert_eq!(&buf[..4], b"back");
        assert!(r.local_addr()?.is_unnamed());
        assert!(w.peer_addr()?.is_unnamed());
        Ok(())
    });
}

// ---- UDP peeking ---------------------------------------------------------------

#[test]
fn udp_try_peek_and_peek_sender_leave_the_datagram_queued() {
    run(&current_thread(), async {
        let a = udp().await?;
        let b = udp().await?;
        b.connect(a.local_addr()?).await?;
        let mut buf = [0; 16];
        assert!(is_would_block(b.try_peek(&mut buf)));
        assert!(is_would_block(b.try_peek_sender()));

        a.send_to(b"first", b.local_addr()?).await?;
        assert_eq!(b.peek_sender().await?, a.local_addr()?);
        assert_eq!(b.try_peek_sender()?, a.local_addr()?);
        assert_eq!(poll_fn(|cx| b.poll_peek_sender(cx)).await?, a.local_addr()?);
        let n = b.try_peek(&mut buf)?;
        assert_eq!(&buf[..n], b"first");
        let mut buf2 = [0; 16];
        let n = poll_fn(|cx| b.poll_peek(cx, &mut buf2)).await?;
        assert_eq!(&buf2[..n], b"first");

        // Still queued: the receive gets it, and then the queue is empty.
        let mut got = [0; 16];
        let n = b.recv(&mut got).await?;
        assert_eq!(&got[..n], b"first");
        assert!(is_would_block(b.try_peek(&mut buf)));
        assert!(is_would_block(b.try_peek_sender()));

        // peek_sender waits for a datagram to arrive.
        let b_addr = b.local_addr()?;
        let sender = vigil::spawn(async move { a.send_to(b"second", b_addr).await.map(|_| a) });
        let from = b.peek_sender().await?;
        let a = sender.await.unwrap()?;
        assert_eq!(from, a.local_addr()?);
        let n = b.recv(&mut got).await?;
        assert_eq!(&got[..n], b"second");
        Ok(())
    });
}

// ---- options -----------------------------------------------------------------

#[test]
fn tcp_stream_options_round_trip() {
    run(&current_thread(), async {
        let (client, _server) = tcp_pair().await?;
        client.set_quickack(true)?;
        assert!(client.quickack()?);
        client.set_quickack(false)?;
        assert!(!client.quickack()?);
        assert_eq!(client.linger()?, None);
        client.set_zero_linger()?;
        assert_eq!(client.linger()?, Some(Duration::ZERO));
        assert!(client.take_error()?.is_none());
        Ok(())
    });
}

#[test]
fn tcp_socket_options_round_trip() {
    let v4 = TcpSocket::new_v4().unwrap();
    v4.set_tos_v4(0x28).unwrap();
    assert_eq!(v4.tos_v4().unwrap(), 0x28);
    #[allow(deprecated)]
    {
        v4.set_tos(0x10).unwrap();
        assert_eq!(v4.tos().unwrap(), 0x10);
    }
    assert_eq!(v4.linger().unwrap(), None);
    v4.set_zero_linger().unwrap();
    assert_eq!(v4.linger().unwrap(), Some(Duration::ZERO));
    assert_eq!(v4.device().unwrap(), None);
    v4.bind_device(Some(b"lo")).unwrap();
    assert_eq!(v4.device().unwrap().as_deref(), Some(&b"lo"[..]));

    let v6 = TcpSocket::new_v6().unwrap();
    v6.set_tclass_v6(0x20).unwrap();
    assert_eq!(v6.tclass_v6().unwrap(), 0x20);
}

#[test]
fn tcp_socket_from_std_stream_keeps_options_set_beforehand() {
    run(&current_thread(), async {
        let raw = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
        raw.set_reuse_address(true)?;
        let socket = TcpSocket::from_std_stream(raw.into());
        assert!(socket.reuseaddr()?);
        socket.bind("127.0.0.1:0".parse().unwrap())?;
        let listener = socket.listen(4)?;
        let client = TcpStream::connect(listener.local_addr()?).await?;
        let (server, _) = listener.accept().await?;
        assert_eq!(server.peer_addr()?, client.local_addr()?);
        Ok(())
    });
}

#[test]
fn udp_options_round_trip() {
    run(&current_thread(), async {
        let s = udp().await?;
        s.set_multicast_loop_v4(false)?;
        assert!(!s.multicast_loop_v4()?);
        s.set_multicast_loop_v4(true)?;
        assert!(s.multicast_loop_v4()?);
        s.set_multicast_ttl_v4(7)?;
        assert_eq!(s.multicast_ttl_v4()?, 7);
        s.set_tos_v4(0x28)?;
        assert_eq!(s.tos_v4()?, 0x28);
        #[allow(deprecated)]
        {
            s.set_tos(0x10)?;
            assert_eq!(s.tos()?, 0x10);
        }
        assert_eq!(s.device()?, None);
        s.bind_device(Some(b"lo"))?;
        assert_eq!(s.device()?.as_deref(), Some(&b"lo"[..]));

        let v6 = unbound_udp_v6()?;
        v6.set_multicast_loop_v6(false)?;
        assert!(!v6.multicast_loop_v6()?);
        v6.set_multicast_loop_v6(true)?;
        assert!(v6.multicast_loop_v6()?);
        v6.set_tclass_v6(0x20)?;
        assert_eq!(v6.tclass_v6()?, 0x20);
        Ok(())
    });
}

#[test]
fn try_from_std_registers_every_socket_type() {
    let dir = TempDir::new("net-parity");
    let path = dir.path("std.sock");
    run(&current_thread(), async {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let addr = std_listener.local_addr()?;
        let listener = TcpListener::try_from(std_listener)?;
        let client = TcpStream::try_from(std::net::TcpStream::connect(addr)?)?;
        let (mut server, _) = listener.accept().await?;
        server.write_all(b"t").await?;
        let mut one = [0; 1];
        client.readable().await?;
        assert_eq!(client.try_read(&mut one)?, 1);
        // AsRef<Self>, as the halves have AsRef<TcpStream>.
        let as_ref: &TcpStream = client.as_ref();
        assert_eq!(as_ref.local_addr()?, client.local_addr()?);

        let udp = UdpSocket::try_from(std::net::UdpSocket::bind("127.0.0.1:0")?)?;
        udp.send_to(b"u", udp.local_addr()?).await?;
        assert_eq!(udp.recv_from(&mut one).await?.0, 1);

        let unix_listener = UnixListener::try_from(std::os::unix::net::UnixListener::bind(&path)?)?;
        let unix_client = UnixStream::try_from(std::os::unix::net::UnixStream::connect(&path)?)?;
        let (mut unix_server, _) = unix_listener.accept().await?;
        unix_server.write_all(b"s").await?;
        unix_client.readable().await?;
        assert_eq!(unix_client.try_read(&mut one)?, 1);

        let (x, y) = std::os::unix::net::UnixDatagram::pair()?;
        let (x, y) = (UnixDatagram::try_from(x)?, UnixDatagram::try_from(y)?);
        x.send(b"d").await?;
        assert_eq!(y.recv(&mut one).await?, 1);
        Ok(())
    });
}

// ---- UnixSocket ------------------------------------------------------------

#[test]
fn unix_socket_stream_bind_listen_accepts_a_connect() {
    let dir = TempDir::new("net-parity");
    let path = dir.path("listen.sock");
    run(&current_thread(), async {
        let socket = UnixSocket::new_stream()?;
        assert_eq!(socket.as_raw_fd(), socket.as_fd().as_raw_fd());
        let fd = socket.into_raw_fd();
        // SAFETY: `into_raw_fd` just gave up the descriptor, which is open
        // and owned by nothing else.
        let socket = unsafe { UnixSocket::from_raw_fd(fd) };
        socket.bind(&path)?;
        let listener = socket.listen(4)?;
        assert_eq!(listener.local_addr()?.as_pathname(), Some(path.as_path()));

        let mut client = UnixStream::connect(&path).await?;
        let (mut server, _) = listener.accept().await?;
        client.write_all(b"over UnixSocket").await?;
        let mut buf = [0; 15];
        server.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"over UnixSocket");
        Ok(())
    });
}

#[test]
fn unix_socket_stream_connect_keeps_its_bound_address() {
    let dir = TempDir::new("net-parity");
    let server_path = dir.path("server.sock");
    let client_path = dir.path("client.sock");
    run(&current_thread(), async {
        let listener = UnixListener::bind(&server_path)?;
        let socket = UnixSocket::new_stream()?;
        socket.bind(&client_path)?;
        let mut client = socket.connect(&server_path).await?;
        let (mut server, peer) = listener.accept().await?;
        assert_eq!(peer.as_pathname(), Some(client_path.as_path()));
        assert_eq!(
            client.peer_addr()?.as_pathname(),
            Some(server_path.as_path())
        );
        server.write_all(b"hi").await?;
        let mut buf = [0; 2];
        client.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"hi");

        // An unbound one connects too.
        let plain = UnixSocket::new_stream()?.connect(&server_path).await?;
        let (_s, peer) = listener.accept().await?;
        assert!(peer.is_unnamed());
        assert!(plain.local_addr()?.is_unnamed());
        Ok(())
    });
}

#[test]
fn unix_socket_datagram_exchanges_datagrams() {
    let dir = TempDir::new("net-parity");
    let a_path = dir.path("a.sock");
    let b_path = dir.path("b.sock");
    run(&current_thread(), async {
        let a = UnixSocket::new_datagram()?;
        a.bind(&a_path)?;
        let a = a.datagram()?;
        let b = UnixSocket::new_datagram()?;
        b.bind(&b_path)?;
        let b = b.datagram()?;
        a.send_to(b"to b", &b_path).await?;
        let mut buf = [0; 8];
        let (n, from) = b.recv_from(&mut buf).await?;
        assert_eq!(&buf[..n], b"to b");
        assert_eq!(from.as_pathname(), Some(a_path.as_path()));
        b.send_to(b"to a", &a_path).await?;
        let n = a.recv(&mut buf).await?;
        assert_eq!(&buf[..n], b"to a");
        Ok(())
    });
}

#[test]
fn unix_socket_refuses_the_wrong_kind_of_use() {
    run(&current_thread(), async {
        let err = UnixSocket::new_datagram()?.listen(4).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        let err = UnixSocket::new_datagram()?
            .connect("/nonexistent/vigil")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        let err = UnixSocket::new_stream()?.datagram().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        Ok(())
    });
}

#[test]
fn unix_socket_from_blocking_descriptors_ends_up_non_blocking() {
    let dir = TempDir::new("net-parity");
    let path = dir.path("owned.sock");
    run(&current_thread(), async {
        // Made blocking on purpose: listen() and connect() must switch them
        // (a blocking accept or read would hang the runtime's only thread).
        let raw = socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None)?;
        assert!(!raw.nonblocking()?);
        let socket = UnixSocket::from(OwnedFd::from(raw));
        socket.bind(&path)?;
        let listener = socket.listen(4)?;
        assert!(socket2::SockRef::from(&listener).nonblocking()?);

        let raw = socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None)?;
        let client = UnixSocket::from(OwnedFd::from(raw)).connect(&path).await?;
        assert!(socket2::SockRef::from(&client).nonblocking()?);
        listener.accept().await?;

        let raw = socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::DGRAM, None)?;
        let datagram = UnixSocket::from(OwnedFd::from(raw)).datagram()?;
        assert!(socket2::SockRef::from(&datagram).nonblocking()?);
        Ok(())
    });
}

#[test]
fn abstract_names_bind_and_connect() {
    run(&current_thread(), async {
        let name = format!("vigil-net-parity-{}", std::process::id());
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
        let listener = UnixListener::bind_addr(&addr)?;
        assert_eq!(
            listener.local_addr()?.as_abstract_name(),
            Some(name.as_bytes())
        );
        let mut client = UnixStream::connect_addr(&addr).await?;
        let (mut server, _) = listener.accept().await?;
        client.write_all(b"abstract").await?;
        let mut buf = [0; 8];
        server.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"abstract");

        // A path starting with NUL names the same socket.
        let mut nul_path = vec![0u8];
        nul_path.extend_from_slice(name.as_bytes());
        let path = std::path::Path::new(std::ffi::OsStr::from_bytes(&nul_path));
        let _again = UnixStream::connect(path).await?;
        listener.accept().await?;
        Ok(())
    });
}
