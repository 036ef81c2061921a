//! [`Lines`] and [`Split`]: streams of records from a buffered reader.

use super::buf_read::poll_read_until;
use super::read::append_utf8;
use crate::io::guard::ProgressGuard;
use futures_core::Stream;
use futures_io::AsyncBufRead;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

pin_project_lite::pin_project! {
    /// The lines of a buffered reader, without their `\n` or `\r\n`. Made by
    /// [`AsyncBufReadExt::lines`](crate::io::AsyncBufReadExt::lines); read
    /// with [`next_line`](Lines::next_line) or as a
    /// [`Stream`](futures_core::Stream) of `io::Result<String>`.
    ///
    /// A partial line is kept inside `Lines` until its end arrives, so
    /// `next_line` can be cancelled and called again without losing bytes.
    #[derive(Debug)]
    #[must_use = "streams do nothing unless polled"]
    pub struct Lines<R> {
        #[pin]
        reader: R,
        bytes: Vec<u8>,
        read: usize,
        guard: ProgressGuard,
    }
}

impl<R: AsyncBufRead> Lines<R> {
    pub(crate) fn new(reader: R) -> Lines<R> {
        Lines {
            reader,
            bytes: Vec::new(),
            read: 0,
            guard: ProgressGuard::new(),
        }
    }

    /// The next line, or `None` at end of file. A line that is not valid
    /// UTF-8 is an `InvalidData` error (and is skipped).
    ///
    /// # Cancel safety
    /// Cancel safe: a partial line stays in `self` and the next call
    /// continues it.
    pub async fn next_line(&mut self) -> io::Result<Option<String>>
    where
        R: Unpin,
    {
        let mut this = Pin::new(self);
        poll_fn(|cx| this.as_mut().poll_next_line(cx)).await
    }

    /// Polls for the next line; see [`next_line`](Lines::next_line).
    pub fn poll_next_line(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<Option<String>>> {
        let this = self.project();
        let n = ready!(poll_read_until(
            this.reader,
            cx,
            b'\n',
            this.bytes,
            this.read,
            this.guard
        ))?;
        if n == 0 && this.bytes.is_empty() {
            return Poll::Ready(Ok(None));
        }
        let mut bytes = std::mem::take(this.bytes);
        if bytes.last() == Some(&b'\n') {
            bytes.pop();
            if bytes.last() == Some(&b'\r') {
                bytes.pop();
            }
        }
        let mut line = String::new();
        append_utf8(&mut line, bytes)?;
        Poll::Ready(Ok(Some(line)))
    }

    /// The reader.
    pub fn get_ref(&self) -> &R {
        &self.reader
    }

    /// The reader, mutably.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.reader
    }

    /// The reader, pinned.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut R> {
        self.project().reader
    }

    /// Unwraps the reader; a partial line read so far is lost.
    pub fn into_inner(self) -> R {
        self.reader
    }
}

impl<R: AsyncBufRead> Stream for Lines<R> {
    type Item = io::Result<String>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.poll_next_line(cx).map(Result::transpose)
    }
}

pin_project_lite::pin_project! {
    /// The segments of a buffered reader separated by a byte (which is not
    /// included). Made by
    /// [`AsyncBufReadExt::split`](crate::io::AsyncBufReadExt::split); read
    /// with [`next_segment`](Split::next_segment) or as a
    /// [`Stream`](futures_core::Stream) of `io::Result<Vec<u8>>`.
    ///
    /// ```
    /// use vigil::io::AsyncBufReadExt;
    ///
    /// # vigil::block_on(async {
    /// let mut parts = AsyncBufReadExt::split(&b"a,b,,c"[..], b',');
    /// let mut all = Vec::new();
    /// while let Some(part) = parts.next_segment().await? {
    ///     all.push(part);
    /// }
    /// assert_eq!(all, [&b"a"[..], b"b", b"", b"c"]);
    /// # Ok::<_, std::io::Error>(()) }).unwrap();
    /// ```
    #[derive(Debug)]
    #[must_use = "streams do nothing unless polled"]
    pub struct Split<R> {
        #[pin]
        reader: R,
        delim: u8,
        bytes: Vec<u8>,
        read: usize,
        guard: ProgressGuard,
    }
}

impl<R: AsyncBufRead> Split<R> {
    pub(crate) fn new(reader: R, delim: u8) -> Split<R> {
        Split {
            reader,
            delim,
            bytes: Vec::new(),
            read: 0,
            guard: ProgressGuard::new(),
        }
    }

    /// The next segment, or `None` at end of file.
    ///
    /// # Cancel safety
    /// Cancel safe: a partial segment stays in `self`.
    pub async fn next_segment(&mut self) -> io::Result<Option<Vec<u8>>>
    where
        R: Unpin,
    {
        let mut this = Pin::new(self);
        poll_fn(|cx| this.as_mut().poll_next_segment(cx)).await
    }

    /// Polls for the next segment; see [`next_segment`](Split::next_segment).
    pub fn poll_next_segment(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<Option<Vec<u8>>>> {
        let this = self.project();
        let n = ready!(poll_read_until(
            this.reader,
            cx,
            *this.delim,
            this.bytes,
            this.read,
            this.guard
        ))?;
        if n == 0 && this.bytes.is_empty() {
            return Poll::Ready(Ok(None));
        }
        let mut bytes = std::mem::take(this.bytes);
        if bytes.last() == Some(this.delim) {
            bytes.pop();
        }
        Poll::Ready(Ok(Some(bytes)))
    }

    /// Unwraps the reader; a partial segment read so far is lost.
    pub fn into_inner(self) -> R {
        self.reader
    }
}

impl<R: AsyncBufRead> Stream for Split<R> {
    type Item = io::Result<Vec<u8>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.poll_next_segment(cx).map(Result::transpose)
    }
}
