//! `io::copy` between two sockets goes through splice(2); the bytes and the
//! count must be exactly those of the buffered path.

mod common;

use common::{current_thread, multi_thread};
use vigil::io::{AsyncReadExt, AsyncWriteExt};
use vigil::net::{TcpListener, TcpStream, UnixStream};

const LEN: usize = 8 << 20;

fn data() -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..LEN)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (client, accepted) = futures_join(TcpStream::connect(addr), listener.accept()).await;
    (client.unwrap(), accepted.unwrap().0)
}

async fn futures_join<A, B>(a: A, b: B) -> (A::Output, B::Output)
where
    A: std::future::Future + Send + 'static,
    B: std::future::Future,
    A::Output: Send + 'static,
{
    let a = vigil::spawn(a);
    let b = b.await;
    (a.await.unwrap(), b)
}

#[test]
fn tcp_to_tcp_copy_is_exact() {
    for rt in [current_thread(), multi_thread(2)] {
        rt.block_on(async {
            let expected = data();
            let (mut src_w, mut src_r) = pair().await;
            let (mut dst_w, mut dst_r) = pair().await;
            let payload = expected.clone();
            let writer = vigil::spawn(async move {
                src_w.write_all(&payload).await.unwrap();
                src_w.shutdown().await.unwrap();
            });
            let copier = vigil::spawn(async move {
                let n = vigil::io::copy(&mut src_r, &mut dst_w).await.unwrap();
                dst_w.shutdown().await.unwrap();
                n
            });
            let mut got = Vec::with_capacity(LEN);
            dst_r.read_to_end(&mut got).await.unwrap();
            writer.await.unwrap();
            assert_eq!(copier.await.unwrap(), LEN as u64);
            assert!(got == expected, "bytes differ");
        });
    }
}

#[test]
fn unix_to_tcp_copy_through_owned_halves() {
    current_thread().block_on(async {
        let expected = data();
        let (mut u_w, u_r) = UnixStream::pair().unwrap();
        let (tcp_w, mut tcp_r) = pair().await;
        let (u_read_half, _u_write_half) = u_r.into_split();
        let (_t_read_half, mut t_write_half) = tcp_w.into_split();
        let payload = expected.clone();
        let writer = vigil::spawn(async move {
            u_w.write_all(&payload).await.unwrap();
            u_w.shutdown().await.unwrap();
        });
        let copier = vigil::spawn(async move {
            let mut r = u_read_half;
            let n = vigil::io::copy(&mut r, &mut t_write_half).await.unwrap();
            drop(t_write_half);
            n
        });
        let mut got = Vec::new();
        tcp_r.read_to_end(&mut got).await.unwrap();
        writer.await.unwrap();
        assert_eq!(copier.await.unwrap(), LEN as u64);
        assert!(got == expected, "bytes differ");
    });
}

#[test]
fn spliced_proxy_carries_both_directions_and_half_closes() {
    multi_thread(2).block_on(async {
        let up = data();
        let down: Vec<u8> = data().into_iter().rev().take(LEN / 3).collect();
        let (mut client, mut proxy_a) = pair().await;
        let (mut proxy_b, mut server) = pair().await;
        let proxy =
            vigil::spawn(
                async move { vigil::io::copy_bidirectional(&mut proxy_a, &mut proxy_b).await },
            );
        let (up2, down2) = (up.clone(), down.clone());
        let server_task = vigil::spawn(async move {
            // Reads the whole upload (ends when the client half-closes),
            // then answers and closes.
            let mut got = Vec::new();
            server.read_to_end(&mut got).await.unwrap();
            server.write_all(&down2).await.unwrap();
            server.shutdown().await.unwrap();
            got == up2
        });
        client.write_all(&up).await.unwrap();
        client.shutdown().await.unwrap();
        let mut got = Vec::new();
        client.read_to_end(&mut got).await.unwrap();
        assert!(server_task.await.unwrap(), "upload corrupted");
        assert!(got == down, "download corrupted");
        let counts = proxy.await.unwrap().unwrap();
        assert_eq!(counts, (up.len() as u64, down.len() as u64));
    });
}
