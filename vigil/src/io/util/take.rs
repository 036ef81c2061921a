//! [`Take`]: a reader that ends after a limit.

use crate::io::guard::check_read_len;
use futures_io::{AsyncBufRead, AsyncRead};
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

pin_project_lite::pin_project! {
    /// A reader that reads at most a given number of bytes from another one,
    /// then reports end of file. Made by
    /// [`AsyncReadExt::take`](crate::io::AsyncReadExt::take).
    ///
    /// ```
    /// use vigil::io::AsyncReadExt;
    ///
    /// # vigil::block_on(async {
    /// let mut head = Vec::new();
    /// (&b"hello world"[..]).take(5).read_to_end(&mut head).await?;
    /// assert_eq!(head, b"hello");
    /// # Ok::<_, std::io::Error>(()) }).unwrap();
    /// ```
    #[derive(Debug)]
    #[must_use = "readers do nothing unless read from"]
    pub struct Take<R> {
        #[pin]
        inner: R,
        limit: u64,
    }
}

impl<R> Take<R> {
    pub(crate) fn new(inner: R, limit: u64) -> Take<R> {
        Take { inner, limit }
    }

    /// How many more bytes this reader will read before reporting end of
    /// file.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Sets how many more bytes may be read.
    pub fn set_limit(&mut self, limit: u64) {
        self.limit = limit;
    }

    /// The wrapped reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The wrapped reader, mutably. Reading from it directly bypasses the
    /// limit.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The wrapped reader, pinned.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut R> {
        self.project().inner
    }

    /// Unwraps the reader.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

fn clamp(len: usize, limit: u64) -> usize {
    usize::try_from(limit).map_or(len, |limit| len.min(limit))
}

impl<R: AsyncRead> AsyncRead for Take<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        if *this.limit == 0 {
            return Poll::Ready(Ok(0));
        }
        let max = clamp(buf.len(), *this.limit);
        let n = check_read_len(ready!(this.inner.poll_read(cx, &mut buf[..max]))?, max)?;
        *this.limit -= n as u64;
        Poll::Ready(Ok(n))
    }
}

impl<R: AsyncBufRead> AsyncBufRead for Take<R> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.project();
        if *this.limit == 0 {
            return Poll::Ready(Ok(&[]));
        }
        let limit = *this.limit;
        let buf = ready!(this.inner.poll_fill_buf(cx))?;
        Poll::Ready(Ok(&buf[..clamp(buf.len(), limit)]))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let this = self.project();
        let amt = clamp(amt, *this.limit);
        *this.limit -= amt as u64;
        this.inner.consume(amt);
    }
}
