//! The stream sockets' read path for uninitialised buffers, as the `hyper`
//! and `tokio-io` shims use it (hyper's `ReadBufCursor`, Tokio's `ReadBuf`):
//! the right bytes land in the filled part, short reads and full reads are
//! reported as such, a short read does not lose the next wake-up, end of
//! file leaves the buffer unfilled, and the coop budget is spent.
#![cfg(any(feature = "hyper", feature = "tokio-io"))]

use std::future::{poll_fn, Future};
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::time::Duration;
use vigil::io::AsyncWriteExt;
use vigil::net::{TcpListener, TcpStream, UnixStream};

/// A connected TCP pair on loopback (the kernel completes the handshake
/// before `accept` is called).
async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (accepted, _) = listener.accept().await.unwrap();
    (client, accepted)
}

/// One read into a fresh uninitialised buffer of `cap` bytes through
/// whichever shim `read_once` stands for; returns the filled bytes.
type ReadOnce<S> = for<'a> fn(&'a mut S, usize) -> Pin<Box<dyn Future<Output = Vec<u8>> + 'a>>;

/// The script every (shim, stream type) pair runs: `writer` is the peer of
/// the stream `reader` reads from.
async fn script<S, W>(reader: &mut S, mut writer: W, read_once: ReadOnce<S>)
where
    W: vigil::io::AsyncWrite + Unpin + Send + 'static,
{
    writer.write_all(b"hello, world").await.unwrap();
    // A buffer smaller than what is queued is filled exactly.
    assert_eq!(read_once(reader, 5).await, b"hello");
    // A larger one gets the rest: a short read, which clears readiness...
    assert_eq!(read_once(reader, 64).await, b", world");
    // ...so the next read waits for the reactor, and must be woken.
    let late = vigil::spawn(async move {
        vigil::time::sleep(Duration::from_millis(20)).await;
        writer.write_all(b"more").await.unwrap();
        writer
    });
    assert_eq!(read_once(reader, 64).await, b"more");
    let mut writer = late.await.unwrap();
    // A larger message, read in pieces of odd sizes, arrives intact.
    let big: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let sent = big.clone();
    let send = vigil::spawn(async move {
        writer.write_all(&sent).await.unwrap();
        // Half-close: the reader sees end of file after the data.
        writer.shutdown().await.unwrap();
        writer
    });
    let mut got = Vec::new();
    while got.len() < big.len() {
        let piece = read_once(reader, 1 + got.len() % 3000).await;
        assert!(!piece.is_empty(), "end of file after {} bytes", got.len());
        got.extend_from_slice(&piece);
    }
    assert_eq!(got, big);
    // End of file: Ready with nothing filled, every time it is asked.
    assert_eq!(read_once(reader, 64).await, b"");
    assert_eq!(read_once(reader, 64).await, b"");
    drop(send.await.unwrap());
}

#[cfg(feature = "hyper")]
mod hyper_cursor {
    use super::*;
    use hyper::rt::{Read, ReadBuf};
    use std::task::Poll;

    /// One `hyper::rt::Read::poll_read` into a fresh uninitialised buffer.
    async fn read_once<S: Read + Unpin>(stream: &mut S, cap: usize) -> Vec<u8> {
        let mut storage = vec![MaybeUninit::<u8>::uninit(); cap];
        let mut buf = ReadBuf::uninit(&mut storage);
        poll_fn(|cx| Pin::new(&mut *stream).poll_read(cx, buf.unfilled()))
            .await
            .unwrap();
        buf.filled().to_vec()
    }

    fn read_once_boxed<S: Read + Unpin>(
        stream: &mut S,
        cap: usize,
    ) -> Pin<Box<dyn Future<Output = Vec<u8>> + '_>> {
        Box::pin(read_once(stream, cap))
    }

    #[vigil::test]
    async fn tcp_stream() {
        let (mut a, b) = tcp_pair().await;
        script(&mut a, b, read_once_boxed::<TcpStream>).await;
    }

    #[vigil::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tcp_owned_read_half_multi_thread() {
        let (a, b) = tcp_pair().await;
        let (mut r, _w) = a.into_split();
        script(&mut r, b, read_once_boxed::<vigil::net::tcp::OwnedReadHalf>).await;
    }

    #[vigil::test]
    async fn tcp_borrowed_read_half() {
        let (mut a, b) = tcp_pair().await;
        let (mut r, _w) = a.split();
        script(&mut r, b, read_once_boxed::<vigil::net::tcp::ReadHalf<'_>>).await;
    }

    #[vigil::test]
    async fn unix_stream_and_ref() {
        let (a, b) = UnixStream::pair().unwrap();
        let mut by_ref = &a;
        script(&mut by_ref, b, read_once_boxed::<&UnixStream>).await;
    }

    #[vigil::test]
    async fn unix_owned_read_half() {
        let (a, b) = UnixStream::pair().unwrap();
        let (mut r, _w) = a.into_split();
        script(
            &mut r,
            b,
            read_once_boxed::<vigil::net::unix::OwnedReadHalf>,
        )
        .await;
    }

    /// A cursor over bytes that are already initialised (and non-zero) is
    /// filled from its start; the bytes after the read are left alone.
    #[vigil::test]
    async fn initialised_buffer() {
        let (mut a, mut b) = tcp_pair().await;
        b.write_all(b"abc").await.unwrap();
        let mut storage = [0xAAu8; 8];
        let mut buf = ReadBuf::new(&mut storage);
        poll_fn(|cx| Pin::new(&mut a).poll_read(cx, buf.unfilled()))
            .await
            .unwrap();
        assert_eq!(buf.filled(), b"abc");
        assert_eq!(storage, [b'a', b'b', b'c', 0xAA, 0xAA, 0xAA, 0xAA, 0xAA]);
    }

    /// The uninit path spends the coop budget like `poll_read`: a socket
    /// that always has data cannot keep one task polling forever.
    #[vigil::test]
    async fn spends_the_coop_budget() {
        let (mut a, mut b) = tcp_pair().await;
        b.write_all(&[7u8; 4096]).await.unwrap();
        // Until the reactor has seen the data, the read would be Pending
        // for want of readiness, not of budget.
        a.readable().await.unwrap();
        let mut storage = [MaybeUninit::<u8>::uninit(); 1];
        let mut reads = 0usize;
        // One task poll: read one byte at a time until the stream says
        // Pending although 4096 bytes are queued.
        poll_fn(|cx| loop {
            let mut buf = ReadBuf::uninit(&mut storage);
            match Pin::new(&mut a).poll_read(cx, buf.unfilled()) {
                Poll::Ready(res) => {
                    res.unwrap();
                    assert_eq!(buf.filled(), [7]);
                    reads += 1;
                    assert!(reads < 4096, "the budget never ran out");
                }
                Poll::Pending => return Poll::Ready(()),
            }
        })
        .await;
        assert!(
            (1..=128).contains(&reads),
            "{reads} reads in one poll; the budget is 128 operations"
        );
        // The rest is still there once the task is polled again.
        let rest = {
            let mut storage = vec![MaybeUninit::<u8>::uninit(); 8192];
            let mut got = 0;
            while got < 4096 - reads {
                let mut buf = ReadBuf::uninit(&mut storage);
                poll_fn(|cx| Pin::new(&mut a).poll_read(cx, buf.unfilled()))
                    .await
                    .unwrap();
                assert!(buf.filled().iter().all(|&x| x == 7));
                got += buf.filled().len();
            }
            got
        };
        assert_eq!(rest, 4096 - reads);
    }

    /// A whole hyper exchange over a Unix stream (the server side reads
    /// through the uninit path).
    #[vigil::test]
    async fn http1_over_unix_stream() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        use http_body_util::{BodyExt, Full};
        use hyper::body::{Bytes, Incoming};
        use hyper::rt::Executor as _;
        let (server_io, client_io) = UnixStream::pair()?;
        vigil::spawn(hyper::server::conn::http1::Builder::new().serve_connection(
            server_io,
            hyper::service::service_fn(|req: hyper::Request<Incoming>| async move {
                let body = req.into_body().collect().await?.to_bytes();
                Ok::<_, hyper::Error>(hyper::Response::new(Full::new(body)))
            }),
        ));
        let (mut sender, conn) = hyper::client::conn::http1::handshake(client_io).await?;
        vigil::hyper::Executor::new().execute(async move {
            let _ = conn.await;
        });
        let big = Bytes::from("0123456789".repeat(30_000));
        let req = hyper::Request::post("/")
            .header("host", "test")
            .body(Full::new(big.clone()))?;
        let res = sender.send_request(req).await?;
        assert_eq!(res.into_body().collect().await?.to_bytes(), big);
        Ok(())
    }
}

#[cfg(feature = "tokio-io")]
mod tokio_read_buf {
    use super::*;
    use std::io;
    use tokio::io::{AsyncRead, ReadBuf};

    /// One `tokio::io::AsyncRead::poll_read` into a fresh uninitialised
    /// buffer (as `hyper-util`'s `TokioIo` hands out).
    async fn read_once<S: AsyncRead + Unpin>(stream: &mut S, cap: usize) -> Vec<u8> {
        let mut storage = vec![MaybeUninit::<u8>::uninit(); cap];
        let mut buf = ReadBuf::uninit(&mut storage);
        poll_fn(|cx| Pin::new(&mut *stream).poll_read(cx, &mut buf))
            .await
            .unwrap();
        // The filled part counts as initialised, and no more than that was
        // claimed.
        assert_eq!(buf.initialized().len(), buf.filled().len());
        buf.filled().to_vec()
    }

    fn read_once_boxed<S: AsyncRead + Unpin>(
        stream: &mut S,
        cap: usize,
    ) -> Pin<Box<dyn Future<Output = Vec<u8>> + '_>> {
        Box::pin(read_once(stream, cap))
    }

    #[vigil::test]
    async fn tcp_stream() {
        let (mut a, b) = tcp_pair().await;
        script(&mut a, b, read_once_boxed::<TcpStream>).await;
    }

    #[vigil::test]
    async fn unix_owned_read_half() {
        let (a, b) = UnixStream::pair().unwrap();
        let (mut r, _w) = a.into_split();
        script(
            &mut r,
            b,
            read_once_boxed::<vigil::net::unix::OwnedReadHalf>,
        )
        .await;
    }

    /// Appending after bytes already filled (and a partly initialised
    /// buffer) keeps Tokio's counts right.
    #[vigil::test]
    async fn appends_after_filled() -> io::Result<()> {
        let (a, mut b) = UnixStream::pair()?;
        b.write_all(b"xyz").await?;
        let mut storage = [MaybeUninit::<u8>::uninit(); 16];
        let mut buf = ReadBuf::uninit(&mut storage);
        buf.put_slice(b"12");
        let mut a_ref = &a;
        poll_fn(|cx| Pin::new(&mut a_ref).poll_read(cx, &mut buf)).await?;
        assert_eq!(buf.filled(), b"12xyz");
        assert!(buf.initialized().len() >= 5);
        Ok(())
    }
}
