//! `BufReader`, `BufWriter` and `BufStream` semantics, checked by counting the calls
//! that reach the inner stream.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use vigil::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use vigil::io::{BufReader, BufStream, BufWriter};

/// Records every call that reaches it; reads come from `data`.
#[derive(Default)]
struct Recorder {
    data: Vec<u8>,
    reads: Vec<usize>,
    writes: Vec<Vec<u8>>,
    flushes: usize,
    closes: usize,
}

impl AsyncRead for Recorder {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let n = buf.len().min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data.drain(..n);
        self.reads.push(buf.len());
        Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for Recorder {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.writes.push(buf.to_vec());
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.flushes += 1;
        Poll::Ready(Ok(()))
    }
    fn poll_close(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.closes += 1;
        Poll::Ready(Ok(()))
    }
}

#[test]
fn buf_reader_reads_in_large_chunks() {
    vigil::block_on(async {
        let data: Vec<u8> = (0..100).collect();
        let inner = Recorder {
            data: data.clone(),
            ..Default::default()
        };
        let mut r = BufReader::with_capacity(16, inner);
        assert_eq!(r.capacity(), 16);
        let mut one = [0; 1];
        for i in 0..16 {
            r.read_exact(&mut one).await.unwrap();
            assert_eq!(one[0], i);
        }
        assert_eq!(
            r.get_ref().reads,
            [16],
            "sixteen 1-byte reads, one inner read"
        );
        r.read_exact(&mut one).await.unwrap();
        assert_eq!(r.buffer(), &data[17..32]);

        // A large read with an empty buffer bypasses it.
        let mut big = [0; 15];
        r.read_exact(&mut big).await.unwrap(); // drains the buffer
        let mut big = [0; 32];
        r.read_exact(&mut big).await.unwrap();
        assert_eq!(&big[..], &data[32..64]);
        assert_eq!(r.get_ref().reads, [16, 16, 32]);

        // Writes pass through.
        r.write_all(b"through").await.unwrap();
        r.flush().await.unwrap();
        let inner = r.into_inner();
        assert_eq!(
            (inner.writes.concat(), inner.flushes),
            (b"through".to_vec(), 1)
        );
    });
}

#[test]
fn buf_writer_batches_and_flushes() {
    vigil::block_on(async {
        let mut w = BufWriter::with_capacity(8, Recorder::default());
        w.write_all(b"abc").await.unwrap();
        w.write_all(b"def").await.unwrap();
        assert!(w.get_ref().writes.is_empty(), "still buffered");
        assert_eq!(w.buffer(), b"abcdef");
        w.write_all(b"gh!").await.unwrap(); // would overflow: write out first
        assert_eq!(w.get_ref().writes, [b"abcdef".to_vec()]);
        assert_eq!(w.buffer(), b"gh!");
        w.flush().await.unwrap();
        assert_eq!(w.get_ref().writes.len(), 2);
        assert_eq!(w.get_ref().flushes, 1);

        // A write at least as large as the buffer goes straight through.
        w.write_all(b"x").await.unwrap();
        w.write_all(b"0123456789").await.unwrap();
        assert_eq!(
            w.get_ref().writes[2..],
            [b"x".to_vec(), b"0123456789".to_vec()]
        );
        assert!(w.buffer().is_empty());

        w.write_all(b"tail").await.unwrap();
        w.shutdown().await.unwrap();
        let inner = w.into_inner();
        assert_eq!(inner.writes.last().unwrap(), b"tail");
        assert_eq!((inner.flushes, inner.closes), (1, 1));
    });
}

#[test]
fn buf_writer_passes_reads_through_and_waits_for_a_slow_peer() {
    vigil::block_on(async {
        let (a, mut b) = vigil::io::duplex(4);
        let mut w = BufWriter::with_capacity(64, a);
        let payload: Vec<u8> = (0..200u8).collect();
        let expected = payload.clone();
        let writer = vigil::spawn(async move {
            w.write_all(&payload).await.unwrap();
            w.shutdown().await.unwrap();
            let mut reply = Vec::new();
            w.read_to_end(&mut reply).await.unwrap();
            reply
        });
        let mut got = Vec::new();
        b.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, expected);
        b.write_all(b"ok").await.unwrap();
        drop(b);
        assert_eq!(writer.await.unwrap(), b"ok");
    });
}

#[test]
fn buf_reader_lines_over_a_chunked_peer() {
    vigil::block_on(async {
        let (mut a, b) = vigil::io::duplex(3);
        vigil::spawn(async move {
            for i in 0..50 {
                a.write_all(format!("line {i}\n").as_bytes()).await.unwrap();
            }
        });
        let mut lines = BufReader::with_capacity(5, b).lines();
        for i in 0..50 {
            assert_eq!(lines.next_line().await.unwrap(), Some(format!("line {i}")));
        }
        assert_eq!(lines.next_line().await.unwrap(), None);
    });
}

#[test]
fn buf_stream_buffers_both_directions() {
    vigil::block_on(async {
        let inner = Recorder {
            data: b"one\ntwo\n".to_vec(),
            ..Default::default()
        };
        let mut s = BufStream::with_capacity(64, 16, inner);
        // Reads: one inner read serves both lines.
        let mut line = String::new();
        s.read_line(&mut line).await.unwrap();
        s.read_line(&mut line).await.unwrap();
        assert_eq!(line, "one\ntwo\n");
        assert_eq!(s.get_ref().reads, [64]);
        // Writes: held until the buffer fills or a flush.
        s.write_all(b"abc").await.unwrap();
        s.write_all(b"def").await.unwrap();
        assert!(s.get_ref().writes.is_empty(), "still buffered");
        s.flush().await.unwrap();
        assert_eq!(s.get_ref().writes, [b"abcdef".to_vec()]);
        assert_eq!(s.get_ref().flushes, 1);
        s.write_all(b"tail").await.unwrap();
        s.shutdown().await.unwrap();
        let inner = s.into_inner();
        assert_eq!(inner.writes.last().unwrap(), b"tail");
        assert_eq!((inner.flushes, inner.closes), (1, 1));
    });
}
