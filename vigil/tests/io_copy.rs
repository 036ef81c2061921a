//! `copy`, `copy_buf` and `copy_bidirectional` over duplex pairs: byte
//! counts, flushing, and half-close in both directions.

use std::io::ErrorKind;
use vigil::io::{AsyncReadExt, AsyncWriteExt, BufReader, BufWriter};

#[test]
fn copy_counts_and_flushes() {
    vigil::block_on(async {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7) as u8).collect();
        let mut reader = &data[..];
        let (a, mut b) = vigil::io::duplex(1000);
        // Through a BufWriter: copy must flush it at the end.
        let mut writer = BufWriter::with_capacity(4096, a);
        let reading = vigil::spawn(async move {
            let mut got = Vec::new();
            b.read_to_end(&mut got).await.map(|_| got)
        });
        let n = vigil::io::copy(&mut reader, &mut writer).await.unwrap();
        assert_eq!(n, data.len() as u64);
        assert!(writer.buffer().is_empty(), "copy flushed the writer");
        drop(writer);
        assert_eq!(reading.await.unwrap().unwrap(), data);
    });
}

#[test]
fn copy_flushes_while_the_reader_waits() {
    vigil::block_on(async {
        let (mut src_w, mut src_r) = vigil::io::duplex(64);
        let (dst_w, mut dst_r) = vigil::io::duplex(64);
        let copier = vigil::spawn(async move {
            let mut w = BufWriter::new(dst_w);
            vigil::io::copy(&mut src_r, &mut w).await
        });
        // A request/response exchange: the bytes must arrive although the
        // source stays open (the BufWriter's buffer is not full).
        for msg in [&b"ping"[..], b"pong", b"again"] {
            src_w.write_all(msg).await.unwrap();
            let mut got = vec![0; msg.len()];
            dst_r.read_exact(&mut got).await.unwrap();
            assert_eq!(got, msg);
        }
        drop(src_w);
        assert_eq!(copier.await.unwrap().unwrap(), 13);
    });
}

#[test]
fn copy_buf_from_a_buf_reader() {
    vigil::block_on(async {
        let mut r = BufReader::with_capacity(7, &b"the quick brown fox"[..]);
        let mut out = Vec::new();
        assert_eq!(vigil::io::copy_buf(&mut r, &mut out).await.unwrap(), 19);
        assert_eq!(out, b"the quick brown fox");
        let mut empty = vigil::io::empty();
        assert_eq!(vigil::io::copy_buf(&mut empty, &mut out).await.unwrap(), 0);
    });
}

/// client <-> [proxy_a | proxy_b] <-> server, with `copy_bidirectional`
/// between the proxy ends.
fn proxy_pair() -> (
    vigil::io::DuplexStream,
    vigil::io::DuplexStream,
    vigil::task::JoinHandle<std::io::Result<(u64, u64)>>,
) {
    let (client, mut proxy_a) = vigil::io::duplex(32);
    let (mut proxy_b, server) = vigil::io::duplex(32);
    let proxy =
        vigil::spawn(
            async move { vigil::io::copy_bidirectional(&mut proxy_a, &mut proxy_b).await },
        );
    (client, server, proxy)
}

#[test]
fn half_close_from_the_client_side() {
    vigil::block_on(async {
        let (mut client, mut server, proxy) = proxy_pair();
        client.write_all(b"request body").await.unwrap();
        client.shutdown().await.unwrap();
        let mut request = Vec::new();
        server.read_to_end(&mut request).await.unwrap(); // end of file arrives
        assert_eq!(request, b"request body");
        // The other direction is still open: a long response after the
        // client's half-close.
        let response = vec![b'r'; 10_000];
        let expected = response.clone();
        let responder = vigil::spawn(async move {
            server.write_all(&response).await?;
            server.shutdown().await
        });
        let mut got = Vec::new();
        client.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, expected);
        responder.await.unwrap().unwrap();
        assert_eq!(proxy.await.unwrap().unwrap(), (12, 10_000));
    });
}

#[test]
fn half_close_from_the_server_side() {
    vigil::block_on(async {
        let (mut client, mut server, proxy) = proxy_pair();
        server.write_all(b"banner").await.unwrap();
        server.shutdown().await.unwrap();
        let mut banner = Vec::new();
        client.read_to_end(&mut banner).await.unwrap();
        assert_eq!(banner, b"banner");
        client.write_all(b"still talking").await.unwrap();
        let mut got = [0; 13];
        server.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"still talking");
        drop(client); // end of file for the proxy's client side
        assert_eq!(server.read(&mut got).await.unwrap(), 0);
        assert_eq!(proxy.await.unwrap().unwrap(), (13, 6));
    });
}

#[test]
fn copy_bidirectional_reports_errors() {
    vigil::block_on(async {
        let (mut client, server, proxy) = proxy_pair();
        drop(server); // the proxy's writes to it fail
                      // Keep sending until the proxy notices.
        let mut sent = 0;
        while client.write_all(b"data").await.is_ok() && sent < 1000 {
            sent += 1;
        }
        let err = proxy.await.unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BrokenPipe);
    });
}

#[test]
fn copy_bidirectional_with_sizes_and_trivial_streams() {
    vigil::block_on(async {
        let (mut a, mut b) = vigil::io::duplex(8);
        let (mut x, mut y) = vigil::io::duplex(8);
        let proxy = vigil::spawn(async move {
            vigil::io::copy_bidirectional_with_sizes(&mut b, &mut x, 3, 5).await
        });
        let drain = vigil::spawn(async move {
            let n = vigil::io::copy(&mut y, &mut vigil::io::sink()).await?;
            y.shutdown().await.map(|()| n)
        });
        let mut payload = vigil::io::repeat(b'z').take(1000);
        let n = vigil::io::copy(&mut payload, &mut a).await.unwrap();
        a.shutdown().await.unwrap();
        assert_eq!(drain.await.unwrap().unwrap(), n);
        assert_eq!(a.read(&mut [0; 1]).await.unwrap(), 0);
        assert_eq!(proxy.await.unwrap().unwrap(), (1000, 0));
    });
}
