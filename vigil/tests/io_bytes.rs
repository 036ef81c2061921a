//! The `bytes` buffer methods: `AsyncReadExt::read_buf`,
//! `AsyncWriteExt::{write_buf, write_all_buf}`, `try_read_buf` of the
//! stream sockets (and their halves) and of pipes, and the datagram
//! sockets' `recv_buf` family. Each reads into or writes from a `BufMut` /
//! `Buf` and advances it by exactly what moved, also when the stream
//! misbehaves or the future is dropped.

mod common;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use common::{current_thread, run};
use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::{pin, Pin};
use std::task::{Context, Poll, Waker};
use vigil::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use vigil::net::{TcpListener, TcpStream, UdpSocket, UnixDatagram, UnixStream};

/// A reader whose every `poll_read` is decided by `f`, which also sees the
/// length offered.
struct FnReader<F>(F);

impl<F: FnMut(&mut [u8]) -> Poll<io::Result<usize>> + Unpin> AsyncRead for FnReader<F> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        (self.0)(buf)
    }
}

/// A writer that takes at most `per_call` bytes per call (`0`: none), or
/// returns `Pending` (without waking) once `budget` bytes were taken;
/// records what it took and how many calls it saw.
struct Recorder {
    per_call: usize,
    budget: usize,
    taken: Vec<u8>,
    calls: usize,
}

impl Recorder {
    fn new(per_call: usize, budget: usize) -> Recorder {
        Recorder {
            per_call,
            budget,
            taken: Vec::new(),
            calls: 0,
        }
    }

    fn take(&mut self, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        self.calls += 1;
        let room = self.per_call.min(self.budget - self.taken.len());
        if room == 0 && self.per_call > 0 {
            return Poll::Pending;
        }
        let start = self.taken.len();
        for b in bufs {
            let k = b.len().min(room - (self.taken.len() - start));
            self.taken.extend_from_slice(&b[..k]);
        }
        Poll::Ready(Ok(self.taken.len() - start))
    }
}

impl AsyncWrite for Recorder {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().take(&[IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().take(bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Polls `fut` once with a waker that does nothing.
fn poll_once<F: Future>(fut: Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn read_buf_appends_what_arrives_and_returns_zero_at_end_of_file() {
    run(&current_thread(), async {
        let (mut a, mut b) = vigil::io::duplex(64);
        let mut buf = BytesMut::from(&b"head:"[..]);
        a.write_all(b"hello").await?;
        assert_eq!(b.read_buf(&mut buf).await?, 5);
        a.write_all(b" world").await?;
        assert_eq!(b.read_buf(&mut buf).await?, 6);
        assert_eq!(&buf[..], b"head:hello world");
        a.shutdown().await?;
        assert_eq!(b.read_buf(&mut buf).await?, 0);
        // A `Vec<u8>` is a `BufMut` too.
        let (mut a, mut b) = vigil::io::duplex(64);
        a.write_all(b"vec").await?;
        let mut vec = Vec::new();
        assert_eq!(b.read_buf(&mut vec).await?, 3);
        assert_eq!(vec, b"vec");
        Ok(())
    });
}

#[test]
fn read_buf_with_no_room_returns_zero_without_reading() {
    run(&current_thread(), async {
        let mut reader = FnReader(|_: &mut [u8]| panic!("read although the buffer is full"));
        let mut storage = [7u8; 4];
        let mut full = (&mut storage[..]).limit(0);
        assert_eq!(reader.read_buf(&mut full).await?, 0);
        Ok(())
    });
}

#[test]
fn read_buf_offers_zeroed_bytes_at_most_sixteen_kib_at_a_time() {
    run(&current_thread(), async {
        let mut offered = Vec::new();
        let mut reader = FnReader(|b: &mut [u8]| {
            assert!(b.iter().all(|&x| x == 0), "offered bytes are zeroed");
            offered.push(b.len());
            b.fill(1);
            Poll::Ready(Ok(b.len()))
        });
        let mut buf = BytesMut::with_capacity(40 * 1024);
        reader.read_buf(&mut buf).await?;
        reader.read_buf(&mut buf).await?;
        reader.read_buf(&mut buf).await?;
        assert_eq!(offered, [16 * 1024, 16 * 1024, 8 * 1024]);
        assert_eq!(buf.len(), 40 * 1024);
        assert!(buf.iter().all(|&x| x == 1));
        Ok(())
    });
}

#[test]
fn read_buf_refuses_a_count_beyond_the_buffer_and_keeps_it_unchanged() {
    run(&current_thread(), async {
        let mut reader = FnReader(|b: &mut [u8]| Poll::Ready(Ok(b.len() + 1)));
        let mut buf = BytesMut::with_capacity(8);
        let err = reader.read_buf(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(buf.is_empty());
        Ok(())
    });
}

#[test]
fn read_buf_is_cancel_safe() {
    let mut reader = FnReader(|b: &mut [u8]| {
        b[0] = b'x';
        Poll::Pending
    });
    let mut buf = BytesMut::with_capacity(8);
    {
        let fut = pin!(reader.read_buf(&mut buf));
        assert!(poll_once(fut).is_pending());
    }
    // Dropped while pending: nothing was added.
    assert!(buf.is_empty());
}

#[test]
fn write_buf_writes_one_chunk_and_advances_past_what_was_taken() {
    run(&current_thread(), async {
        let mut writer = Recorder::new(3, usize::MAX);
        let mut buf = Bytes::from_static(b"abcdef");
        assert_eq!(writer.write_buf(&mut buf).await?, 3);
        assert_eq!(&buf[..], b"def");
        assert_eq!(writer.write_buf(&mut buf).await?, 3);
        assert_eq!(writer.write_buf(&mut buf).await?, 0);
        assert_eq!((writer.taken.as_slice(), writer.calls), (&b"abcdef"[..], 2));
        Ok(())
    });
}

#[test]
fn write_all_buf_sends_a_chain_in_one_vectored_write() {
    run(&current_thread(), async {
        let mut writer = Recorder::new(usize::MAX, usize::MAX);
        let mut buf = Bytes::from_static(b"one,")
            .chain(Bytes::from_static(b"two,"))
            .chain(Bytes::from_static(b"three"));
        writer.write_all_buf(&mut buf).await?;
        assert!(!buf.has_remaining());
        assert_eq!(
            (writer.taken.as_slice(), writer.calls),
            (&b"one,two,three"[..], 1)
        );

        // Through a real stream, a few bytes at a time on the far side.
        let (mut a, mut b) = vigil::io::duplex(4);
        let mut buf = Bytes::from(vec![5u8; 1000]).chain(Bytes::from(vec![6u8; 1000]));
        let reader = vigil::spawn(async move {
            let mut got = Vec::new();
            b.read_to_end(&mut got).await.map(|_| got)
        });
        a.write_all_buf(&mut buf).await?;
        a.shutdown().await?;
        let got = reader.await.unwrap()?;
        assert_eq!((got.len(), &got[999..1001]), (2000, &[5u8, 6][..]));
        Ok(())
    });
}

#[test]
fn write_all_buf_fails_on_a_writer_that_takes_nothing() {
    run(&current_thread(), async {
        let mut writer = Recorder::new(0, usize::MAX);
        let mut buf = Bytes::from_static(b"abc");
        let err = writer.write_all_buf(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WriteZero);
        assert_eq!(&buf[..], b"abc");
        Ok(())
    });
}

#[test]
fn write_all_buf_dropped_midway_has_advanced_by_exactly_what_was_written() {
    let mut writer = Recorder::new(2, 5);
    let mut buf = Bytes::from_static(b"abcdefgh");
    {
        let fut = pin!(writer.write_all_buf(&mut buf));
        assert!(poll_once(fut).is_pending());
    }
    assert_eq!(writer.taken, b"abcde");
    assert_eq!(&buf[..], b"fgh");
    // Calling again goes on from there.
    writer.budget = usize::MAX;
    let fut = pin!(writer.write_all_buf(&mut buf));
    assert!(matches!(poll_once(fut), Poll::Ready(Ok(()))));
    assert_eq!(writer.taken, b"abcdefgh");
}

#[test]
fn tcp_try_read_buf_on_the_stream_and_its_halves() {
    run(&current_thread(), async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let mut client = TcpStream::connect(listener.local_addr()?).await?;
        let (mut server, _) = listener.accept().await?;
        let mut buf = BytesMut::with_capacity(64);
        // Nothing queued yet: `WouldBlock`, buffer untouched.
        let err = server.try_read_buf(&mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);

        client.write_all(b"stream").await?;
        let n = when_ready(|| server.readable(), || server.try_read_buf(&mut buf)).await?;
        assert_eq!(n, 6);
        client.write_all(b"+half").await?;
        {
            let (read, _write) = server.split();
            let n = when_ready(|| read.readable(), || read.try_read_buf(&mut buf)).await?;
            assert_eq!(n, 5);
        }
        client.write_all(b"+owned").await?;
        let (read, _write) = server.into_split();
        let n = when_ready(|| read.readable(), || read.try_read_buf(&mut buf)).await?;
        assert_eq!(n, 6);
        assert_eq!(&buf[..], b"stream+half+owned");
        drop(client);
        let n = when_ready(|| read.readable(), || read.try_read_buf(&mut buf)).await?;
        assert_eq!(n, 0, "end of file");
        Ok(())
    });
}

/// Runs `op`, a non-waiting read, each time `wait` (a readiness wait)
/// completes, until it gives something other than `WouldBlock`: readiness
/// may be cached from an earlier read before the new bytes arrive.
async fn when_ready<T, W: Future<Output = io::Result<()>>>(
    mut wait: impl FnMut() -> W,
    mut op: impl FnMut() -> io::Result<T>,
) -> io::Result<T> {
    loop {
        wait().await?;
        match op() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            res => return res,
        }
    }
}

#[test]
fn unix_stream_try_read_buf() {
    run(&current_thread(), async {
        let (mut a, b) = UnixStream::pair()?;
        a.write_all(b"unix").await?;
        b.readable().await?;
        let mut buf = Vec::with_capacity(16);
        assert_eq!(b.try_read_buf(&mut buf)?, 4);
        assert_eq!(buf, b"unix");
        Ok(())
    });
}

#[test]
fn udp_recv_buf_family() {
    run(&current_thread(), async {
        let a = UdpSocket::bind("127.0.0.1:0").await?;
        let b = UdpSocket::bind("127.0.0.1:0").await?;
        let a_addr = a.local_addr()?;
        a.send_to(b"first", b.local_addr()?).await?;
        a.send_to(b"second", b.local_addr()?).await?;
        let mut buf = BytesMut::with_capacity(1500);
        let (n, from) = b.recv_buf_from(&mut buf).await?;
        assert_eq!((n, from), (5, a_addr));
        let (n, from) = when_ready(|| b.readable(), || b.try_recv_buf_from(&mut buf)).await?;
        assert_eq!((n, from), (6, a_addr));
        assert_eq!(&buf[..], b"firstsecond");
        let err = b.try_recv_buf_from(&mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);

        // Connected, and a datagram longer than the room offered: cut to
        // it, the rest discarded, the next datagram whole.
        b.connect(a_addr).await?;
        a.send_to(&[7; 100], b.local_addr()?).await?;
        a.send_to(b"next", b.local_addr()?).await?;
        let mut small = [0u8; 10];
        let mut room = &mut small[..];
        assert_eq!(b.recv_buf(&mut room).await?, 10);
        assert_eq!(room.len(), 0, "the slice was advanced past the bytes");
        let mut buf = BytesMut::with_capacity(64);
        let n = when_ready(|| b.readable(), || b.try_recv_buf(&mut buf)).await?;
        assert_eq!(n, 4);
        assert_eq!(&buf[..], b"next");
        assert_eq!(small, [7; 10]);
        Ok(())
    });
}

#[test]
fn unix_datagram_recv_buf_family_keeps_senders_and_long_datagrams() {
    run(&current_thread(), async {
        let dir = std::env::temp_dir().join(format!("vigil-io-bytes-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("rx.sock");
        let _ = std::fs::remove_file(&path);
        let rx = UnixDatagram::bind(&path)?;
        let named_tx_path = dir.join("tx.sock");
        let _ = std::fs::remove_file(&named_tx_path);
        let named_tx = UnixDatagram::bind(&named_tx_path)?;
        let unnamed_tx = UnixDatagram::unbound()?;

        // Longer than the 16 KiB a byte stream is offered at a time: a
        // datagram is offered all the spare capacity, so none is cut.
        let long = vec![3u8; 100 * 1024];
        named_tx.send_to(&long, &path).await?;
        let mut buf = BytesMut::with_capacity(128 * 1024);
        let (n, from) = rx.recv_buf_from(&mut buf).await?;
        assert_eq!(n, long.len());
        assert_eq!(from.as_pathname(), Some(named_tx_path.as_path()));
        assert!(buf[..] == long[..]);

        unnamed_tx.send_to(b"anon", &path).await?;
        rx.readable().await?;
        let mut buf = BytesMut::with_capacity(64);
        let (n, from) = rx.try_recv_buf_from(&mut buf)?;
        assert_eq!((n, &buf[..]), (4, &b"anon"[..]));
        assert!(from.is_unnamed());

        let (a, b) = UnixDatagram::pair()?;
        a.send(b"pair").await?;
        let mut buf = Vec::with_capacity(16);
        assert_eq!(b.recv_buf(&mut buf).await?, 4);
        assert_eq!(buf, b"pair");
        let err = b.try_recv_buf(&mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        drop((rx, named_tx));
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    });
}

#[test]
fn pipe_receiver_try_read_buf() {
    run(&current_thread(), async {
        let (mut tx, rx) = vigil::net::unix::pipe::pipe()?;
        let mut buf = BytesMut::with_capacity(16);
        let err = rx.try_read_buf(&mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        tx.write_all(b"piped").await?;
        let n = when_ready(|| rx.readable(), || rx.try_read_buf(&mut buf)).await?;
        assert_eq!((n, &buf[..]), (5, &b"piped"[..]));
        drop(tx);
        let n = when_ready(|| rx.readable(), || rx.try_read_buf(&mut buf)).await?;
        assert_eq!(n, 0, "end of file");
        Ok(())
    });
}
