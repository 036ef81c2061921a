//! Feature `tokio-io`: Tokio's I/O traits (and Tokio's generic helpers built
//! on them) over vigil's streams, on a vigil runtime.
//!
//! Only Tokio's extension traits are imported here: vigil's types implement
//! both trait families, and importing both would make `read`/`write_all`
//! ambiguous.
#![cfg(feature = "tokio-io")]

use std::io::IoSlice;
use std::time::Duration;
use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt,
};
use vigil::net::{TcpListener, TcpStream};

/// Generic over Tokio's traits only, as third-party Tokio code is.
async fn echo_once<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S) -> std::io::Result<()> {
    let mut buf = [0u8; 5];
    stream.read_exact(&mut buf).await?;
    stream.write_all(&buf).await?;
    stream.flush().await
}

fn assert_tokio_io<T: AsyncRead + AsyncWrite>() {}
fn assert_tokio_read<T: AsyncRead>() {}
fn assert_tokio_write<T: AsyncWrite>() {}
fn assert_tokio_buf_read<T: AsyncBufRead>() {}

#[test]
fn the_io_types_implement_tokio_traits() {
    assert_tokio_io::<TcpStream>();
    assert_tokio_io::<&TcpStream>();
    assert_tokio_read::<vigil::net::tcp::ReadHalf<'_>>();
    assert_tokio_write::<vigil::net::tcp::WriteHalf<'_>>();
    assert_tokio_read::<vigil::net::tcp::OwnedReadHalf>();
    assert_tokio_write::<vigil::net::tcp::OwnedWriteHalf>();
    assert_tokio_io::<vigil::net::UnixStream>();
    assert_tokio_io::<&vigil::net::UnixStream>();
    assert_tokio_read::<vigil::net::unix::ReadHalf<'_>>();
    assert_tokio_write::<vigil::net::unix::WriteHalf<'_>>();
    assert_tokio_read::<vigil::net::unix::OwnedReadHalf>();
    assert_tokio_write::<vigil::net::unix::OwnedWriteHalf>();
    assert_tokio_io::<vigil::io::DuplexStream>();
    assert_tokio_io::<vigil::io::SimplexStream>();
    assert_tokio_buf_read::<vigil::io::BufReader<vigil::io::DuplexStream>>();
    assert_tokio_io::<vigil::io::BufWriter<vigil::io::DuplexStream>>();
    assert_tokio_buf_read::<vigil::io::BufWriter<vigil::io::BufReader<vigil::io::DuplexStream>>>();
    assert_tokio_io::<vigil::io::BufStream<vigil::io::DuplexStream>>();
    assert_tokio_buf_read::<vigil::io::BufStream<vigil::io::DuplexStream>>();
    assert_tokio_write::<vigil::process::ChildStdin>();
    assert_tokio_read::<vigil::process::ChildStdout>();
    assert_tokio_read::<vigil::process::ChildStderr>();
}

async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (client, accepted) = futures_join(TcpStream::connect(addr), listener.accept()).await;
    (client.unwrap(), accepted.unwrap().0)
}

/// Polls two futures to completion together (no `futures` dependency).
async fn futures_join<A: std::future::Future, B: std::future::Future>(
    a: A,
    b: B,
) -> (A::Output, B::Output) {
    let mut a = std::pin::pin!(a);
    let mut b = std::pin::pin!(b);
    let (mut ra, mut rb) = (None, None);
    std::future::poll_fn(|cx| {
        if ra.is_none() {
            if let std::task::Poll::Ready(v) = a.as_mut().poll(cx) {
                ra = Some(v);
            }
        }
        if rb.is_none() {
            if let std::task::Poll::Ready(v) = b.as_mut().poll(cx) {
                rb = Some(v);
            }
        }
        if ra.is_some() && rb.is_some() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    (ra.unwrap(), rb.unwrap())
}

#[vigil::test]
async fn tcp_round_trip_through_tokio_traits() {
    let (mut client, mut server) = tcp_pair().await;
    let echo = vigil::spawn(async move {
        echo_once(&mut server).await.unwrap();
        // Then read to end of file and send back how much arrived.
        let mut rest = Vec::new();
        server.read_to_end(&mut rest).await.unwrap();
        server.write_u64(rest.len() as u64).await.unwrap();
        server.shutdown().await.unwrap();
    });

    client.write_all(b"hello").await.unwrap();
    let mut back = [0u8; 5];
    client.read_exact(&mut back).await.unwrap();
    assert_eq!(&back, b"hello");

    // A large write, vectored, then a half-close (`poll_shutdown`).
    assert!(AsyncWrite::is_write_vectored(&client));
    let big = vec![7u8; 256 * 1024];
    let mut sent = client
        .write_vectored(&[IoSlice::new(b"ab"), IoSlice::new(b"cd")])
        .await
        .unwrap();
    assert!(sent > 0);
    client.write_all(&b"abcd"[sent..]).await.unwrap();
    client.write_all(&big).await.unwrap();
    sent = 4 + big.len();
    client.shutdown().await.unwrap();

    assert_eq!(client.read_u64().await.unwrap(), sent as u64);
    // `read_buf` reads into spare, uninitialised capacity of a `Vec`: the
    // uninitialised-buffer path (`recv` straight into it, no zero-fill).
    let mut tail = Vec::with_capacity(64);
    assert_eq!(client.read_buf(&mut tail).await.unwrap(), 0, "end of file");
    echo.await.unwrap();
}

#[vigil::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_halves_and_shared_references() {
    let (client, server) = tcp_pair().await;

    // Owned halves on two tasks, through Tokio's `copy`: an echo server.
    let (mut read, mut write) = server.into_split();
    let echo = vigil::spawn(async move {
        let n = tokio::io::copy(&mut read, &mut write).await.unwrap();
        write.shutdown().await.unwrap();
        n
    });

    // `&TcpStream` reads and writes; borrowed halves too.
    let mut client = client;
    (&client).write_all(b"by reference ").await.unwrap();
    {
        let (mut r, mut w) = client.split();
        w.write_all(b"and by half").await.unwrap();
        w.shutdown().await.unwrap();
        let mut got = String::new();
        r.read_to_string(&mut got).await.unwrap();
        assert_eq!(got, "by reference and by half");
    }
    let mut nothing = Vec::new();
    (&client).read_to_end(&mut nothing).await.unwrap();
    assert!(nothing.is_empty());
    assert_eq!(echo.await.unwrap(), 24);
}

#[vigil::test]
async fn duplex_round_trip_through_tokio_traits() {
    let (mut a, mut b) = vigil::io::duplex(16);
    assert!(!AsyncWrite::is_write_vectored(&a));

    let peer = vigil::spawn(async move {
        echo_once(&mut b).await.unwrap();
        // More than the pipe holds: the writer waits for the reader.
        let data: Vec<u8> = (0..=255).cycle().take(10_000).collect();
        b.write_all(&data).await.unwrap();
        b.shutdown().await.unwrap();
        data
    });

    a.write_all(b"ping!").await.unwrap();
    let mut back = [0u8; 5];
    a.read_exact(&mut back).await.unwrap();
    assert_eq!(&back, b"ping!");

    let mut got = Vec::new();
    a.read_to_end(&mut got).await.unwrap();
    assert_eq!(got, peer.await.unwrap());
}

#[vigil::test]
async fn simplex_through_tokio_traits() {
    let mut pipe = vigil::io::SimplexStream::new_unsplit(4);
    pipe.write_all(b"tok").await.unwrap();
    pipe.shutdown().await.unwrap();
    let mut got = Vec::new();
    pipe.read_to_end(&mut got).await.unwrap();
    assert_eq!(got, b"tok");
}

#[vigil::test]
async fn buf_reader_is_tokio_async_buf_read() {
    let (mut a, b) = vigil::io::duplex(64);
    a.write_all(b"first line\nsecond line\nno newline")
        .await
        .unwrap();
    a.shutdown().await.unwrap();

    let mut reader = vigil::io::BufReader::with_capacity(8, b);
    let mut line = String::new();
    reader.read_line(&mut line).await.unwrap();
    assert_eq!(line, "first line\n");

    let mut lines = reader.lines();
    assert_eq!(
        lines.next_line().await.unwrap().as_deref(),
        Some("second line")
    );
    assert_eq!(
        lines.next_line().await.unwrap().as_deref(),
        Some("no newline")
    );
    assert_eq!(lines.next_line().await.unwrap(), None);
}

#[vigil::test]
async fn buf_writer_batches_writes_through_tokio_traits() {
    let (a, mut b) = vigil::io::duplex(64);
    let mut writer = vigil::io::BufWriter::new(a);
    // Tokio's `AsyncWriteExt`: the writes stay buffered until the flush.
    writer.write_all(b"one ").await.unwrap();
    writer.write_all(b"two").await.unwrap();
    assert_eq!(writer.buffer(), b"one two");
    writer.shutdown().await.unwrap();
    let mut text = String::new();
    b.read_to_string(&mut text).await.unwrap();
    assert_eq!(text, "one two");
}

#[vigil::test]
async fn tokio_read_buf_into_uninitialised_memory() {
    let (mut a, mut b) = vigil::io::duplex(1024);
    a.write_all(&[0xAB; 300]).await.unwrap();
    drop(a);

    // `BytesMut`-like: a `Vec` with spare capacity, filled through
    // `ReadBuf::uninit` inside Tokio.
    let mut buf = Vec::with_capacity(1000);
    while b.read_buf(&mut buf).await.unwrap() != 0 {}
    assert_eq!(buf, vec![0xAB; 300]);

    // And a reader still works after a timer on the same runtime.
    vigil::time::sleep(Duration::from_millis(1)).await;
}

/// `vigil::fs::File` through Tokio's traits only, seeking included.
#[test]
fn files_implement_tokio_read_write_and_seek() {
    use tokio::io::AsyncSeekExt;
    fn assert_tokio_seek<T: tokio::io::AsyncSeek>() {}
    assert_tokio_io::<vigil::fs::File>();
    assert_tokio_seek::<vigil::fs::File>();
    let rt = vigil::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let path = std::env::temp_dir().join(format!("vigil-compat-file-{}", std::process::id()));
    rt.block_on(async {
        let mut file = vigil::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .await
            .unwrap();
        file.write_all(b"0123456789").await.unwrap();
        assert_eq!(file.seek(std::io::SeekFrom::Start(4)).await.unwrap(), 4);
        let mut four = [0; 4];
        file.read_exact(&mut four).await.unwrap();
        assert_eq!(&four, b"4567");
        assert_eq!(file.stream_position().await.unwrap(), 8);
        let mut rest = Vec::new();
        file.read_to_end(&mut rest).await.unwrap();
        assert_eq!(rest, b"89");
    });
    std::fs::remove_file(&path).unwrap();
}

#[vigil::test]
async fn buffered_files_seek_through_tokio_traits() {
    use std::io::SeekFrom;
    use std::pin::Pin;
    use tokio::io::{AsyncSeek, AsyncSeekExt};
    let path = std::env::temp_dir().join(format!("vigil-tokio-seek-{}", std::process::id()));
    std::fs::write(&path, b"0123456789").unwrap();
    let open = || async {
        vigil::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .await
    };

    // BufReader: positions as the reader's caller sees them.
    let mut reader = vigil::io::BufReader::with_capacity(4, open().await.unwrap());
    let mut two = [0u8; 2];
    reader.read_exact(&mut two).await.unwrap();
    assert_eq!(reader.stream_position().await.unwrap(), 2);
    assert_eq!(reader.seek(SeekFrom::Current(3)).await.unwrap(), 5);
    reader.read_exact(&mut two).await.unwrap();
    assert_eq!(&two, b"56");
    // A second start before completing is refused; completing then works.
    let mut pinned = Pin::new(&mut reader);
    pinned.as_mut().start_seek(SeekFrom::Start(1)).unwrap();
    assert!(pinned.as_mut().start_seek(SeekFrom::Start(2)).is_err());
    assert_eq!(
        std::future::poll_fn(|cx| pinned.as_mut().poll_complete(cx))
            .await
            .unwrap(),
        1
    );
    reader.read_exact(&mut two).await.unwrap();
    assert_eq!(&two, b"12");

    // BufWriter: the buffer goes out at its own position before the seek.
    let mut writer = vigil::io::BufWriter::new(open().await.unwrap());
    writer.write_all(b"ab").await.unwrap();
    assert_eq!(writer.seek(SeekFrom::End(-1)).await.unwrap(), 9);
    writer.write_all(b"Z").await.unwrap();
    writer.flush().await.unwrap();

    // BufStream: both.
    let mut stream = vigil::io::BufStream::new(open().await.unwrap());
    assert_eq!(stream.seek(SeekFrom::Start(2)).await.unwrap(), 2);
    let mut rest = String::new();
    stream.read_to_string(&mut rest).await.unwrap();
    // The writer's "ab" went to the start, its "Z" over the last byte.
    assert_eq!(rest, "2345678Z");
    std::fs::remove_file(&path).unwrap();
}
