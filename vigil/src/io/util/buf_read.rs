//! `AsyncBufReadExt` and the futures its methods return.

use super::read::append_utf8;
use super::{Lines, Split};
use crate::io::guard::ProgressGuard;
use crate::runtime::coop::poll_proceed;
use futures_io::AsyncBufRead;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// Convenience methods for every [`AsyncBufRead`], as `async` methods.
///
/// ```
/// use vigil::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
///
/// # vigil::block_on(async {
/// let (mut a, b) = vigil::io::duplex(64);
/// a.write_all(b"first\nsecond\n").await?;
/// drop(a);
/// let mut lines = BufReader::new(b).lines();
/// assert_eq!(lines.next_line().await?.as_deref(), Some("first"));
/// assert_eq!(lines.next_line().await?.as_deref(), Some("second"));
/// assert_eq!(lines.next_line().await?, None);
/// # Ok::<_, std::io::Error>(()) }).unwrap();
/// ```
pub trait AsyncBufReadExt: AsyncBufRead {
    /// Returns the buffered bytes, reading more first if the buffer is
    /// empty. An empty slice means end of file. Pair with
    /// [`consume`](AsyncBufReadExt::consume) to mark bytes as used.
    ///
    /// # Cancel safety
    /// Cancel safe: bytes stay in the reader's buffer until consumed.
    fn fill_buf(&mut self) -> FillBuf<'_, Self>
    where
        Self: Unpin,
    {
        FillBuf { reader: Some(self) }
    }

    /// Marks `amt` bytes of the buffer as used, so the next
    /// [`fill_buf`](AsyncBufReadExt::fill_buf) does not return them.
    fn consume(&mut self, amt: usize)
    where
        Self: Unpin,
    {
        Pin::new(self).consume(amt);
    }

    /// Reads until `byte` (included) or end of file, appending to `buf`;
    /// returns how many bytes were appended (`0` at end of file).
    ///
    /// # Cancel safety
    /// Cancel safe: bytes are appended to `buf` as they are consumed from
    /// the reader, so if the future is dropped early they are in `buf`;
    /// calling `read_until` again continues the same record.
    fn read_until<'a>(&'a mut self, byte: u8, buf: &'a mut Vec<u8>) -> ReadUntil<'a, Self>
    where
        Self: Unpin,
    {
        ReadUntil {
            reader: self,
            byte,
            buf,
            read: 0,
            guard: ProgressGuard::new(),
        }
    }

    /// Reads a line, including its `\n` (if the reader did not end first),
    /// appending it to `buf`; returns how many bytes were appended (`0` at
    /// end of file). If the line is not valid UTF-8 the error is
    /// `InvalidData` and `buf` is unchanged.
    ///
    /// # Cancel safety
    /// Not cancel safe: the line is collected inside the future and appended
    /// at the end, so dropping it early loses the bytes read so far. In a
    /// `select!` loop use [`lines`](AsyncBufReadExt::lines) and
    /// [`Lines::next_line`], which keep a partial line across cancellations.
    fn read_line<'a>(&'a mut self, buf: &'a mut String) -> ReadLine<'a, Self>
    where
        Self: Unpin,
    {
        ReadLine {
            reader: self,
            buf,
            bytes: Vec::new(),
            read: 0,
            guard: ProgressGuard::new(),
        }
    }

    /// A stream of the reader's lines, without their `\n` or `\r\n`.
    fn lines(self) -> Lines<Self>
    where
        Self: Sized,
    {
        Lines::new(self)
    }

    /// A stream of the reader's segments separated by `byte` (not
    /// included).
    fn split(self, byte: u8) -> Split<Self>
    where
        Self: Sized,
    {
        Split::new(self, byte)
    }
}

impl<R: AsyncBufRead + ?Sized> AsyncBufReadExt for R {}

/// The future of [`AsyncBufReadExt::fill_buf`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct FillBuf<'a, R: ?Sized> {
    reader: Option<&'a mut R>,
}

impl<'a, R: AsyncBufRead + Unpin + ?Sized> Future for FillBuf<'a, R> {
    type Output = io::Result<&'a [u8]>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let reader = self.reader.take().expect("FillBuf polled after completion");
        match Pin::new(&mut *reader).poll_fill_buf(cx) {
            Poll::Pending => {
                self.reader = Some(reader);
                Poll::Pending
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Ready(Ok([])) => Poll::Ready(Ok(&[])),
            // The borrow checker cannot yet return the first call's slice
            // with the lifetime `'a`, so ask again with `reader` itself: a
            // reader with buffered bytes returns them without doing I/O.
            Poll::Ready(Ok(_)) => match Pin::new(reader).poll_fill_buf(cx) {
                Poll::Ready(Ok(buf)) => Poll::Ready(Ok(buf)),
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                Poll::Pending => Poll::Ready(Err(io::Error::other(
                    "poll_fill_buf returned buffered bytes, then Pending when asked again \
                     without a consume in between",
                ))),
            },
        }
    }
}

/// Reads until `byte` or end of file, appending to `buf` and counting in
/// `read`; the count is returned (and reset) when done.
pub(crate) fn poll_read_until<R: AsyncBufRead + ?Sized>(
    mut reader: Pin<&mut R>,
    cx: &mut Context<'_>,
    byte: u8,
    buf: &mut Vec<u8>,
    read: &mut usize,
    guard: &mut ProgressGuard,
) -> Poll<io::Result<usize>> {
    loop {
        let poll = reader.as_mut().poll_fill_buf(cx);
        let Some(available) = ready!(guard.fill_buf(poll))? else {
            continue;
        };
        let (used, done) = match available.iter().position(|&b| b == byte) {
            Some(i) => (i + 1, true),
            None => (available.len(), available.is_empty()),
        };
        buf.extend_from_slice(&available[..used]);
        reader.as_mut().consume(used);
        *read += used;
        if done {
            return Poll::Ready(Ok(std::mem::take(read)));
        }
        ready!(poll_proceed(cx));
    }
}

/// The future of [`AsyncBufReadExt::read_until`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ReadUntil<'a, R: ?Sized> {
    reader: &'a mut R,
    byte: u8,
    buf: &'a mut Vec<u8>,
    read: usize,
    guard: ProgressGuard,
}

impl<R: AsyncBufRead + Unpin + ?Sized> Future for ReadUntil<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let reader = Pin::new(&mut *this.reader);
        poll_read_until(
            reader,
            cx,
            this.byte,
            this.buf,
            &mut this.read,
            &mut this.guard,
        )
    }
}

/// The future of [`AsyncBufReadExt::read_line`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ReadLine<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut String,
    bytes: Vec<u8>,
    read: usize,
    guard: ProgressGuard,
}

impl<R: AsyncBufRead + Unpin + ?Sized> Future for ReadLine<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let reader = Pin::new(&mut *this.reader);
        ready!(poll_read_until(
            reader,
            cx,
            b'\n',
            &mut this.bytes,
            &mut this.read,
            &mut this.guard
        ))?;
        Poll::Ready(append_utf8(this.buf, std::mem::take(&mut this.bytes)))
    }
}
