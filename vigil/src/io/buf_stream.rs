//! [`BufStream`]: a read buffer and a write buffer around one stream.

use super::buf_reader::DEFAULT_BUF_SIZE;
use super::{BufReader, BufWriter};
use futures_io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};
use std::io::{self, IoSlice, SeekFrom};
use std::pin::Pin;
use std::task::{Context, Poll};

pin_project_lite::pin_project! {
    /// Buffers both directions of a stream: reads as a [`BufReader`] does
    /// (with [`AsyncBufRead`]: `read_line`, `lines`, ...) and writes as a
    /// [`BufWriter`] does. It is `BufReader<BufWriter<S>>` under one name,
    /// as in Tokio. Written data stays in the buffer until it fills or
    /// [`flush`](crate::io::AsyncWriteExt::flush) is called, so flush before
    /// waiting for an answer.
    ///
    /// Over a seekable stream (a [`File`](crate::fs::File)) it is
    /// [`AsyncSeek`] as well: a seek writes out pending writes and then
    /// seeks as [`BufReader`] does.
    ///
    /// ```
    /// use vigil::io::{AsyncBufReadExt, AsyncWriteExt, BufStream};
    ///
    /// # vigil::block_on(async {
    /// let (a, mut b) = vigil::io::duplex(64);
    /// let mut stream = BufStream::new(a);
    /// stream.write_all(b"ping\n").await?;
    /// stream.flush().await?;
    /// let mut request = [0; 5];
    /// vigil::io::AsyncReadExt::read_exact(&mut b, &mut request).await?;
    /// b.write_all(b"pong\n").await?;
    /// let mut answer = String::new();
    /// stream.read_line(&mut answer).await?;
    /// assert_eq!(answer, "pong\n");
    /// # Ok::<_, std::io::Error>(()) }).unwrap();
    /// ```
    #[derive(Debug)]
    pub struct BufStream<S> {
        #[pin]
        inner: BufReader<BufWriter<S>>,
    }
}

impl<S> BufStream<S> {
    /// Wraps `stream` with an 8 KiB buffer in each direction.
    pub fn new(stream: S) -> BufStream<S> {
        BufStream::with_capacity(DEFAULT_BUF_SIZE, DEFAULT_BUF_SIZE, stream)
    }

    /// Wraps `stream` with buffers of the given sizes.
    ///
    /// # Panics
    /// If either capacity is zero.
    pub fn with_capacity(
        reader_capacity: usize,
        writer_capacity: usize,
        stream: S,
    ) -> BufStream<S> {
        BufStream {
            inner: BufReader::with_capacity(
                reader_capacity,
                BufWriter::with_capacity(writer_capacity, stream),
            ),
        }
    }

    /// The stream.
    pub fn get_ref(&self) -> &S {
        self.inner.get_ref().get_ref()
    }

    /// The stream, mutably. Reading or writing it directly bypasses (and
    /// may reorder around) the buffers.
    pub fn get_mut(&mut self) -> &mut S {
        self.inner.get_mut().get_mut()
    }

    /// The stream, pinned.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut S> {
        self.project().inner.get_pin_mut().get_pin_mut()
    }

    /// The stream. Data buffered in either direction is lost: flush first.
    pub fn into_inner(self) -> S {
        self.inner.into_inner().into_inner()
    }
}

/// Buffers already built, kept with whatever they hold.
impl<S> From<BufReader<BufWriter<S>>> for BufStream<S> {
    fn from(inner: BufReader<BufWriter<S>>) -> BufStream<S> {
        BufStream { inner }
    }
}

/// Buffers already built the other way round, kept with whatever they hold
/// (the read buffer moves outside the write buffer, as in a `BufStream`).
impl<S> From<BufWriter<BufReader<S>>> for BufStream<S> {
    fn from(nested: BufWriter<BufReader<S>>) -> BufStream<S> {
        let mut reader_shell = None;
        let writer = nested.map_inner(|reader| {
            let mut stream = None;
            reader_shell = Some(reader.map_inner(|s| stream = Some(s)));
            stream.expect("map_inner calls its closure")
        });
        let reader_shell = reader_shell.expect("map_inner calls its closure");
        BufStream {
            inner: reader_shell.map_inner(|()| writer),
        }
    }
}

impl<S: AsyncRead + AsyncWrite> AsyncRead for BufStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite> AsyncBufRead for BufStream<S> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        self.project().inner.poll_fill_buf(cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.project().inner.consume(amt)
    }
}

impl<S: AsyncWrite + AsyncSeek> AsyncSeek for BufStream<S> {
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        self.project().inner.poll_seek(cx, pos)
    }
}

impl<S: AsyncRead + AsyncWrite> AsyncWrite for BufStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_close(cx)
    }
}

#[cfg(feature = "tokio-io")]
impl<S> BufStream<S> {
    /// The buffers around the stream, pinned (for Tokio's `AsyncSeek`).
    pub(crate) fn inner_pin_mut(self: Pin<&mut Self>) -> Pin<&mut BufReader<BufWriter<S>>> {
        self.project().inner
    }
}
