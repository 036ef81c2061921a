//! [`copy`] and [`copy_buf`]: pump a reader into a writer.

use super::guard::ProgressGuard;
use super::util::poll_flush_guarded;
use crate::runtime::coop::poll_proceed;
use futures_io::{AsyncBufRead, AsyncRead, AsyncWrite};
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// The buffer of [`copy`]: one copy usually moves a lot of data, and 64 KiB
/// per system call reaches blocking `std::io::copy` speeds (8 KiB left ~15 %
/// of loopback throughput on the table in `vigil-bench bulk`).
pub(crate) const COPY_BUF_SIZE: usize = 64 * 1024;

/// The buffer of each direction of
/// [`copy_bidirectional`](super::copy_bidirectional): a proxy holds one pair
/// per connection, so it stays small (sockets splice and use none).
pub(crate) const BIDIRECTIONAL_BUF_SIZE: usize = 8 * 1024;

/// The state of one copy: a buffer, what of it is still to be written, and
/// the progress guard shared by the reads, writes and flushes.
#[derive(Debug)]
pub(crate) struct CopyBuffer {
    buf: Box<[u8]>,
    pos: usize,
    cap: usize,
    read_done: bool,
    /// Bytes were written since the last flush.
    need_flush: bool,
    amt: u64,
    guard: ProgressGuard,
}

impl CopyBuffer {
    pub(crate) fn new(size: usize) -> CopyBuffer {
        CopyBuffer {
            buf: vec![0; size.max(1)].into_boxed_slice(),
            pos: 0,
            cap: 0,
            read_done: false,
            need_flush: false,
            amt: 0,
            guard: ProgressGuard::new(),
        }
    }

    /// Copies until the reader's end of file, then flushes the writer;
    /// returns the number of bytes copied. Every completed read and write
    /// spends one unit of the task's budget.
    pub(crate) fn poll_copy<R, W>(
        &mut self,
        cx: &mut Context<'_>,
        mut reader: Pin<&mut R>,
        mut writer: Pin<&mut W>,
    ) -> Poll<io::Result<u64>>
    where
        R: AsyncRead + ?Sized,
        W: AsyncWrite + ?Sized,
    {
        loop {
            if self.pos == self.cap && !self.read_done {
                let len = self.buf.len();
                let poll = reader.as_mut().poll_read(cx, &mut self.buf);
                let res = match self.guard.read(poll, len) {
                    Poll::Ready(res) => res,
                    Poll::Pending => {
                        // Nothing to read for now. Push out what the writer
                        // buffers, so that it does not sit there while we
                        // wait (the peer may be waiting for it to reply).
                        if self.need_flush {
                            ready!(poll_flush_guarded(writer.as_mut(), cx, &mut self.guard))?;
                            self.need_flush = false;
                        }
                        return Poll::Pending;
                    }
                };
                match res? {
                    None => continue,
                    Some(0) => self.read_done = true,
                    Some(n) => {
                        self.pos = 0;
                        self.cap = n;
                        ready!(poll_proceed(cx));
                    }
                }
            }
            while self.pos < self.cap {
                let rest = &self.buf[self.pos..self.cap];
                let poll = writer.as_mut().poll_write(cx, rest);
                let Some(n) = ready!(self.guard.write(poll, rest.len()))? else {
                    continue;
                };
                self.pos += n;
                self.amt += n as u64;
                self.need_flush = true;
                ready!(poll_proceed(cx));
            }
            if self.read_done {
                ready!(poll_flush_guarded(writer.as_mut(), cx, &mut self.guard))?;
                self.need_flush = false;
                return Poll::Ready(Ok(self.amt));
            }
        }
    }
}

/// Copies everything `reader` produces into `writer`, until the reader's end
/// of file, then flushes the writer (it does not close it). Returns the
/// number of bytes copied.
///
/// Between two vigil sockets (`TcpStream`, `UnixStream` or their owned
/// halves) the bytes move with `splice(2)` through a pipe and never enter
/// user memory. Otherwise the copy goes through a 64 KiB buffer; if
/// `reader` is a [`BufReader`](super::BufReader) or another
/// [`AsyncBufRead`], [`copy_buf`] uses its buffer instead. When the reader has nothing for the
/// moment, `copy` flushes the writer before waiting, so buffered bytes do not
/// linger.
///
/// vigil's progress guard applies: `Interrupted` is retried (a bounded
/// number of times), a writer that accepts zero bytes is `WriteZero`, a
/// stream that returns `WouldBlock` as `Ready` is an error instead of a busy
/// loop. Each read and write spends the task's cooperative budget, so copying
/// from an always-ready reader does not starve other tasks.
///
/// ```
/// use vigil::io::AsyncReadExt;
///
/// # vigil::block_on(async {
/// let mut reader = vigil::io::repeat(b'x').take(100_000);
/// let mut writer = vigil::io::sink();
/// let n = vigil::io::copy(&mut reader, &mut writer).await?;
/// assert_eq!(n, 100_000);
/// # Ok::<_, std::io::Error>(()) }).unwrap();
/// ```
///
/// # Cancel safety
/// Not cancel safe: bytes read into the internal buffer but not yet written
/// are lost if the future is dropped.
pub async fn copy<'a, R, W>(reader: &'a mut R, writer: &'a mut W) -> io::Result<u64>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    if let (Some(src), Some(dst)) = (
        super::splice::splice_end(&*reader),
        super::splice::splice_end(&*writer),
    ) {
        if let Some(n) = super::splice::copy(src, dst).await? {
            return Ok(n);
        }
    }
    copy_buffered(reader, writer).await
}

/// The portable body of [`copy`]: a read/write loop through a buffer. A
/// zero-copy path (splice(2) between sockets, say) can call this as its
/// fallback.
pub(crate) async fn copy_buffered<R, W>(reader: &mut R, writer: &mut W) -> io::Result<u64>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut buf = CopyBuffer::new(COPY_BUF_SIZE);
    poll_fn(|cx| buf.poll_copy(cx, Pin::new(&mut *reader), Pin::new(&mut *writer))).await
}

/// Like [`copy`], but writes straight from the reader's own buffer
/// ([`AsyncBufRead::poll_fill_buf`]) instead of copying into a second one.
///
/// ```
/// use vigil::io::{AsyncWriteExt, BufReader};
///
/// # vigil::block_on(async {
/// let (mut a, b) = vigil::io::duplex(64);
/// a.write_all(b"through the buffer").await?;
/// a.shutdown().await?;
/// let mut out = Vec::new();
/// let n = vigil::io::copy_buf(&mut BufReader::new(b), &mut out).await?;
/// assert_eq!((n, &out[..]), (18, &b"through the buffer"[..]));
/// # Ok::<_, std::io::Error>(()) }).unwrap();
/// ```
///
/// # Cancel safety
/// Bytes are consumed from the reader only once written, so a dropped
/// `copy_buf` loses nothing, but its count is lost.
pub async fn copy_buf<'a, R, W>(reader: &'a mut R, writer: &'a mut W) -> io::Result<u64>
where
    R: AsyncBufRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut amt = 0u64;
    let mut need_flush = false;
    let mut guard = ProgressGuard::new();
    poll_fn(|cx| loop {
        let mut reader = Pin::new(&mut *reader);
        let writer = Pin::new(&mut *writer);
        let res = match guard.fill_buf(reader.as_mut().poll_fill_buf(cx)) {
            Poll::Ready(res) => res,
            Poll::Pending => {
                if need_flush {
                    ready!(poll_flush_guarded(writer, cx, &mut guard))?;
                    need_flush = false;
                }
                return Poll::Pending;
            }
        };
        let Some(buf) = res? else {
            continue;
        };
        if buf.is_empty() {
            ready!(poll_flush_guarded(writer, cx, &mut guard))?;
            return Poll::Ready(Ok(amt));
        }
        let len = buf.len();
        let poll = writer.poll_write(cx, buf);
        let Some(n) = ready!(guard.write(poll, len))? else {
            continue;
        };
        reader.consume(n);
        amt += n as u64;
        need_flush = true;
        ready!(poll_proceed(cx));
    })
    .await
}
