//! [`BufWriter`]: fewer, larger writes.

use super::buf_reader::DEFAULT_BUF_SIZE;
use super::guard::ProgressGuard;
use super::util::{poll_close_guarded, poll_flush_guarded};
use crate::runtime::coop::poll_proceed;
use futures_io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};
use std::io::{self, IoSliceMut, SeekFrom};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

pin_project_lite::pin_project! {
    /// Adds a buffer to a writer, so that many small writes become few large
    /// ones. The buffer is written out when it would overflow, and on
    /// `flush` and `shutdown` (`poll_flush`, `poll_close`). A write at least
    /// as large as the buffer bypasses it. Reads pass straight through.
    ///
    /// Over a seekable writer it is [`AsyncSeek`] too: a seek first writes
    /// the buffer out (at the position it was meant for), then moves.
    ///
    /// Buffered bytes are lost if the `BufWriter` is dropped before a flush:
    /// call [`flush`](crate::io::AsyncWriteExt::flush) or
    /// [`shutdown`](crate::io::AsyncWriteExt::shutdown) when done.
    ///
    /// Writing the buffer out goes through vigil's progress guard, so an
    /// inner writer that accepts zero bytes is a `WriteZero` error and one
    /// that keeps being interrupted is an error after a bounded number of
    /// retries (see the [module docs](crate::io)).
    ///
    /// ```
    /// use vigil::io::{AsyncReadExt, AsyncWriteExt, BufWriter};
    ///
    /// # vigil::block_on(async {
    /// let (a, mut b) = vigil::io::duplex(64);
    /// let mut writer = BufWriter::new(a);
    /// writer.write_all(b"many ").await?;
    /// writer.write_all(b"small writes").await?;
    /// assert_eq!(writer.buffer(), b"many small writes");
    /// writer.shutdown().await?; // flushes, then closes
    /// let mut text = String::new();
    /// b.read_to_string(&mut text).await?;
    /// assert_eq!(text, "many small writes");
    /// # Ok::<_, std::io::Error>(()) }).unwrap();
    /// ```
    #[derive(Debug)]
    pub struct BufWriter<W> {
        #[pin]
        inner: W,
        buf: Vec<u8>,
        // `buf[..written]` has been written out already.
        written: usize,
        guard: ProgressGuard,
        // A seek started through Tokio's two-step `AsyncSeek`.
        tokio_seek: super::PendingSeek,
    }
}

impl<W> BufWriter<W> {
    /// Wraps `inner` with a buffer of 8 KiB.
    pub fn new(inner: W) -> BufWriter<W> {
        BufWriter::with_capacity(DEFAULT_BUF_SIZE, inner)
    }

    /// Wraps `inner` with a buffer of `capacity` bytes.
    ///
    /// # Panics
    /// If `capacity` is zero.
    pub fn with_capacity(capacity: usize, inner: W) -> BufWriter<W> {
        assert!(
            capacity > 0,
            "BufWriter::with_capacity: capacity must be positive"
        );
        BufWriter {
            inner,
            buf: Vec::with_capacity(capacity),
            written: 0,
            guard: ProgressGuard::new(),
            tokio_seek: super::PendingSeek::default(),
        }
    }

    /// The inner writer.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The inner writer, mutably. Writing to it directly puts bytes ahead
    /// of the buffered ones.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// The inner writer, pinned.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut W> {
        self.project().inner
    }

    /// Unwraps the inner writer. Bytes still buffered are lost: flush
    /// first.
    pub fn into_inner(self) -> W {
        self.inner
    }

    /// The bytes buffered but not yet written out.
    pub fn buffer(&self) -> &[u8] {
        &self.buf[self.written..]
    }

    /// The size of the buffer.
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }
}

impl<W> BufWriter<W> {
    /// The same buffer, with its pending bytes, around `f(inner)`.
    pub(super) fn map_inner<W2>(self, f: impl FnOnce(W) -> W2) -> BufWriter<W2> {
        BufWriter {
            inner: f(self.inner),
            buf: self.buf,
            written: self.written,
            guard: self.guard,
            tokio_seek: self.tokio_seek,
        }
    }
}

impl<W: AsyncWrite> BufWriter<W> {
    /// Writes the whole buffer out to the inner writer (without flushing
    /// the inner writer).
    fn poll_write_out(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut this = self.project();
        while *this.written < this.buf.len() {
            let rest = &this.buf[*this.written..];
            let poll = this.inner.as_mut().poll_write(cx, rest);
            let Some(n) = ready!(this.guard.write(poll, rest.len()))? else {
                continue;
            };
            *this.written += n;
            ready!(poll_proceed(cx));
        }
        this.buf.clear();
        *this.written = 0;
        Poll::Ready(Ok(()))
    }
}

impl<W: AsyncWrite> AsyncWrite for BufWriter<W> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.buf.len() + buf.len() > self.buf.capacity() {
            ready!(self.as_mut().poll_write_out(cx))?;
        }
        let this = self.project();
        if buf.len() >= this.buf.capacity() {
            this.inner.poll_write(cx, buf)
        } else {
            this.buf.extend_from_slice(buf);
            Poll::Ready(Ok(buf.len()))
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.as_mut().poll_write_out(cx))?;
        let this = self.project();
        poll_flush_guarded(this.inner, cx, this.guard)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.as_mut().poll_write_out(cx))?;
        let this = self.project();
        poll_close_guarded(this.inner, cx, this.guard)
    }
}

impl<W: AsyncWrite + AsyncSeek> AsyncSeek for BufWriter<W> {
    fn poll_seek(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        ready!(self.as_mut().poll_write_out(cx))?;
        self.project().inner.poll_seek(cx, pos)
    }
}

impl<W: AsyncRead> AsyncRead for BufWriter<W> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_read(cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_read_vectored(cx, bufs)
    }
}

impl<W: AsyncBufRead> AsyncBufRead for BufWriter<W> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        self.project().inner.poll_fill_buf(cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.project().inner.consume(amt);
    }
}

#[cfg(feature = "tokio-io")]
impl<T> BufWriter<T> {
    /// The seek started through Tokio's `AsyncSeek::start_seek`, if any.
    pub(crate) fn tokio_seek(self: Pin<&mut Self>) -> &mut Option<std::io::SeekFrom> {
        self.project().tokio_seek
    }
}
