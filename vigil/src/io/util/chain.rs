//! [`Chain`]: one reader after another.

use futures_io::{AsyncBufRead, AsyncRead};
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

pin_project_lite::pin_project! {
    /// A reader that reads its first reader to the end, then its second.
    /// Made by [`AsyncReadExt::chain`](crate::io::AsyncReadExt::chain).
    ///
    /// ```
    /// use vigil::io::AsyncReadExt;
    ///
    /// # vigil::block_on(async {
    /// let mut text = String::new();
    /// (&b"hello "[..]).chain(&b"world"[..]).read_to_string(&mut text).await?;
    /// assert_eq!(text, "hello world");
    /// # Ok::<_, std::io::Error>(()) }).unwrap();
    /// ```
    #[derive(Debug)]
    #[must_use = "readers do nothing unless read from"]
    pub struct Chain<A, B> {
        #[pin]
        first: A,
        #[pin]
        second: B,
        first_done: bool,
    }
}

impl<A, B> Chain<A, B> {
    pub(crate) fn new(first: A, second: B) -> Chain<A, B> {
        Chain {
            first,
            second,
            first_done: false,
        }
    }

    /// The two readers.
    pub fn get_ref(&self) -> (&A, &B) {
        (&self.first, &self.second)
    }

    /// The two readers, mutably. Reading from them directly may confuse the
    /// chain.
    pub fn get_mut(&mut self) -> (&mut A, &mut B) {
        (&mut self.first, &mut self.second)
    }

    /// The two readers, pinned.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> (Pin<&mut A>, Pin<&mut B>) {
        let this = self.project();
        (this.first, this.second)
    }

    /// Unwraps the two readers.
    pub fn into_inner(self) -> (A, B) {
        (self.first, self.second)
    }
}

impl<A: AsyncRead, B: AsyncRead> AsyncRead for Chain<A, B> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        if !*this.first_done {
            let n = ready!(this.first.poll_read(cx, buf))?;
            // An empty `buf` reads 0 without meaning end of file.
            if n > 0 || buf.is_empty() {
                return Poll::Ready(Ok(n));
            }
            *this.first_done = true;
        }
        this.second.poll_read(cx, buf)
    }
}

impl<A: AsyncBufRead, B: AsyncBufRead> AsyncBufRead for Chain<A, B> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.project();
        if !*this.first_done {
            match ready!(this.first.poll_fill_buf(cx))? {
                [] => *this.first_done = true,
                buf => return Poll::Ready(Ok(buf)),
            }
        }
        this.second.poll_fill_buf(cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let this = self.project();
        if *this.first_done {
            this.second.consume(amt);
        } else {
            this.first.consume(amt);
        }
    }
}
