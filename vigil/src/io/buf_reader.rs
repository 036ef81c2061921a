//! [`BufReader`]: fewer, larger reads.

use super::guard::check_read_len;
use futures_io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};
use std::io::{self, IoSlice, SeekFrom};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// The default buffer size of [`BufReader`] and [`BufWriter`](super::BufWriter).
pub(crate) const DEFAULT_BUF_SIZE: usize = 8 * 1024;

pin_project_lite::pin_project! {
    /// Adds a buffer to a reader, so that many small reads become few large
    /// ones, and gives it [`AsyncBufRead`] (`fill_buf`, `read_line`,
    /// `lines`, ...). Writes pass straight through to the inner stream.
    ///
    /// A read into a caller's buffer at least as large as this buffer, while
    /// this buffer is empty, goes straight to the inner reader.
    ///
    /// Over a seekable reader it is [`AsyncSeek`] too, with positions as the
    /// caller sees them (the buffered bytes accounted for). A relative seek
    /// that lands inside the buffer keeps the buffer (so `stream_position`
    /// costs no refill); any other seek empties it.
    ///
    /// ```
    /// use vigil::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    ///
    /// # vigil::block_on(async {
    /// let (mut a, b) = vigil::io::duplex(64);
    /// a.write_all(b"GET / HTTP/1.1\r\n").await?;
    /// let mut reader = BufReader::new(b);
    /// let mut line = String::new();
    /// reader.read_line(&mut line).await?;
    /// assert_eq!(line, "GET / HTTP/1.1\r\n");
    /// # Ok::<_, std::io::Error>(()) }).unwrap();
    /// ```
    #[derive(Debug)]
    pub struct BufReader<R> {
        #[pin]
        inner: R,
        buf: Box<[u8]>,
        pos: usize,
        cap: usize,
        // A seek started through Tokio's two-step `AsyncSeek`.
        tokio_seek: super::PendingSeek,
    }
}

impl<R> BufReader<R> {
    /// Wraps `inner` with a buffer of 8 KiB.
    pub fn new(inner: R) -> BufReader<R> {
        BufReader::with_capacity(DEFAULT_BUF_SIZE, inner)
    }

    /// Wraps `inner` with a buffer of `capacity` bytes.
    ///
    /// # Panics
    /// If `capacity` is zero.
    pub fn with_capacity(capacity: usize, inner: R) -> BufReader<R> {
        assert!(
            capacity > 0,
            "BufReader::with_capacity: capacity must be positive"
        );
        BufReader {
            inner,
            buf: vec![0; capacity].into_boxed_slice(),
            pos: 0,
            cap: 0,
            tokio_seek: super::PendingSeek::default(),
        }
    }

    /// The inner reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The inner reader, mutably. Reading from it directly skips the bytes
    /// already buffered here.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The inner reader, pinned.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut R> {
        self.project().inner
    }

    /// Unwraps the inner reader. Bytes still buffered are lost; read
    /// [`buffer`](BufReader::buffer) first if they matter.
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// The bytes read from the inner reader but not yet consumed.
    pub fn buffer(&self) -> &[u8] {
        &self.buf[self.pos..self.cap]
    }

    /// The size of the buffer.
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }
}

impl<R: AsyncRead> AsyncRead for BufReader<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if self.pos == self.cap && buf.len() >= self.buf.len() {
            let n = ready!(self.as_mut().project().inner.poll_read(cx, buf))?;
            return Poll::Ready(check_read_len(n, buf.len()));
        }
        let available = ready!(self.as_mut().poll_fill_buf(cx))?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Poll::Ready(Ok(n))
    }
}

impl<R: AsyncRead> AsyncBufRead for BufReader<R> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.project();
        if *this.pos >= *this.cap {
            let n = ready!(this.inner.poll_read(cx, this.buf))?;
            *this.cap = check_read_len(n, this.buf.len())?;
            *this.pos = 0;
        }
        Poll::Ready(Ok(&this.buf[*this.pos..*this.cap]))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let this = self.project();
        *this.pos = (*this.pos + amt).min(*this.cap);
    }
}

impl<R> BufReader<R> {
    /// The same buffer, with its bytes, around `f(inner)`.
    pub(super) fn map_inner<R2>(self, f: impl FnOnce(R) -> R2) -> BufReader<R2> {
        BufReader {
            inner: f(self.inner),
            buf: self.buf,
            pos: self.pos,
            cap: self.cap,
            tokio_seek: self.tokio_seek,
        }
    }

    /// Forgets the buffered bytes (after the inner reader moved).
    fn discard_buffer(self: Pin<&mut Self>) {
        let this = self.project();
        *this.pos = 0;
        *this.cap = 0;
    }
}

impl<R: AsyncSeek> AsyncSeek for BufReader<R> {
    fn poll_seek(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        // The inner reader is `unread` bytes ahead of the caller.
        let unread = (self.cap - self.pos) as i64;
        let SeekFrom::Current(offset) = pos else {
            let at = ready!(self.as_mut().project().inner.poll_seek(cx, pos))?;
            self.discard_buffer();
            return Poll::Ready(Ok(at));
        };
        let target = self.pos as i64 + offset;
        if (0..=self.cap as i64).contains(&target) {
            // Inside the buffer: only ask where the inner reader is.
            let inner_at = ready!(self
                .as_mut()
                .project()
                .inner
                .poll_seek(cx, SeekFrom::Current(0)))?;
            let this = self.project();
            *this.pos = target as usize;
            return Poll::Ready(Ok(inner_at - (*this.cap - *this.pos) as u64));
        }
        let at = match offset.checked_sub(unread) {
            Some(relative) => ready!(self
                .as_mut()
                .project()
                .inner
                .poll_seek(cx, SeekFrom::Current(relative)))?,
            None => {
                // `offset - unread` overflows: step back to the caller's
                // position first. Once the buffer is discarded, a repeated
                // poll (after `Pending`) goes straight to the second seek.
                ready!(self
                    .as_mut()
                    .project()
                    .inner
                    .poll_seek(cx, SeekFrom::Current(-unread)))?;
                self.as_mut().discard_buffer();
                ready!(self.as_mut().project().inner.poll_seek(cx, pos))?
            }
        };
        self.discard_buffer();
        Poll::Ready(Ok(at))
    }
}

impl<R: AsyncWrite> AsyncWrite for BufReader<R> {
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
impl<T> BufReader<T> {
    /// The seek started through Tokio's `AsyncSeek::start_seek`, if any.
    pub(crate) fn tokio_seek(self: Pin<&mut Self>) -> &mut Option<std::io::SeekFrom> {
        self.project().tokio_seek
    }
}
