//! `AsyncWriteExt` and the futures its methods return.

use super::numbers::{self, WriteNumber};
use crate::io::guard::{self, ProgressGuard};
use crate::runtime::coop::poll_proceed;
use bytes::Buf;
use futures_io::AsyncWrite;
use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// Convenience methods for every [`AsyncWrite`], as `async` methods.
///
/// `write_all` and `write_all_buf` retry `Interrupted` a bounded number of
/// times, fail with `WriteZero` when the writer accepts nothing, refuse to
/// spin on a writer that returns `WouldBlock` as `Ready`, and spend the
/// task's cooperative budget once per write; see the
/// [module docs](crate::io).
///
/// ```
/// use vigil::io::{AsyncReadExt, AsyncWriteExt};
///
/// # vigil::block_on(async {
/// let (mut a, mut b) = vigil::io::duplex(64);
/// a.write_all(b"ping").await?;
/// a.flush().await?;
/// let mut buf = [0; 4];
/// b.read_exact(&mut buf).await?;
/// assert_eq!(&buf, b"ping");
/// # Ok::<_, std::io::Error>(()) }).unwrap();
/// ```
pub trait AsyncWriteExt: AsyncWrite {
    /// Writes some of `buf` and returns how many bytes were taken. One call
    /// of `poll_write`, results passed on unchanged.
    ///
    /// # Cancel safety
    /// Cancel safe: if the future is dropped before it completes, no bytes
    /// were written.
    fn write<'a>(&'a mut self, buf: &'a [u8]) -> Write<'a, Self>
    where
        Self: Unpin,
    {
        Write { writer: self, buf }
    }

    /// Like [`write`](AsyncWriteExt::write), from several buffers in order.
    ///
    /// # Cancel safety
    /// Cancel safe, as `write`.
    fn write_vectored<'a, 'b>(&'a mut self, bufs: &'a [IoSlice<'b>]) -> WriteVectored<'a, 'b, Self>
    where
        Self: Unpin,
    {
        WriteVectored { writer: self, bufs }
    }

    /// Writes all of `buf`, failing with `WriteZero` if the writer stops
    /// accepting bytes.
    ///
    /// # Cancel safety
    /// Not cancel safe: if the future is dropped after some writes, a prefix
    /// of `buf` of unknown length has been written. To keep a partial write
    /// across a `select!`, call [`write`](AsyncWriteExt::write) and advance
    /// your own slice.
    fn write_all<'a>(&'a mut self, buf: &'a [u8]) -> WriteAll<'a, Self>
    where
        Self: Unpin,
    {
        WriteAll {
            writer: self,
            buf,
            guard: ProgressGuard::new(),
        }
    }

    /// Writes some of `buf` (a [`bytes::Buf`] such as `Bytes`, `BytesMut`
    /// or a `Chain` of them), advances it past what was taken and returns
    /// how many bytes that was. One call of `poll_write` with
    /// [`buf.chunk()`](bytes::Buf::chunk), results passed on unchanged;
    /// `Ok(0)` without a call if `buf` is empty.
    ///
    /// # Cancel safety
    /// Cancel safe: `buf` is advanced only in the poll that wrote the
    /// bytes, so if the future is dropped before it completes nothing was
    /// written and `buf` is as it was.
    fn write_buf<'a, B>(&'a mut self, buf: &'a mut B) -> WriteBuf<'a, Self, B>
    where
        Self: Unpin,
        B: Buf + ?Sized,
    {
        WriteBuf { writer: self, buf }
    }

    /// Writes all of `buf`, advancing it as bytes are taken; each write
    /// offers up to 64 of its chunks at once (`poll_write_vectored`), so a
    /// chain of buffers goes out in few system calls. Fails with
    /// `WriteZero` if the writer stops accepting bytes.
    ///
    /// ```
    /// use bytes::{Buf, Bytes};
    /// use vigil::io::{AsyncReadExt, AsyncWriteExt};
    ///
    /// # vigil::block_on(async {
    /// let (mut a, mut b) = vigil::io::duplex(64);
    /// let mut message = Bytes::from_static(b"head,").chain(Bytes::from_static(b"body"));
    /// a.write_all_buf(&mut message).await?;
    /// assert!(!message.has_remaining());
    /// let mut got = [0; 9];
    /// b.read_exact(&mut got).await?;
    /// assert_eq!(&got, b"head,body");
    /// # Ok::<_, std::io::Error>(()) }).unwrap();
    /// ```
    ///
    /// # Cancel safety
    /// Unlike [`write_all`](AsyncWriteExt::write_all), nothing is lost:
    /// if the future is dropped early, `buf` has been advanced by exactly
    /// the bytes written, so calling `write_all_buf` again with the same
    /// `buf` continues where it stopped.
    fn write_all_buf<'a, B>(&'a mut self, buf: &'a mut B) -> WriteAllBuf<'a, Self, B>
    where
        Self: Unpin,
        B: Buf + ?Sized,
    {
        WriteAllBuf {
            writer: self,
            buf,
            guard: ProgressGuard::new(),
        }
    }

    /// Flushes buffered data to its destination.
    ///
    /// # Cancel safety
    /// Cancel safe in the sense that calling `flush` again continues the
    /// flush; what was already flushed stays flushed.
    fn flush(&mut self) -> Flush<'_, Self>
    where
        Self: Unpin,
    {
        Flush {
            writer: self,
            guard: ProgressGuard::new(),
        }
    }

    /// Flushes and closes the writer (`poll_close`): for a socket, the write
    /// half is shut down, and the peer reads end of file.
    ///
    /// # Cancel safety
    /// Calling `shutdown` again continues where it stopped.
    fn shutdown(&mut self) -> Shutdown<'_, Self>
    where
        Self: Unpin,
    {
        Shutdown {
            writer: self,
            guard: ProgressGuard::new(),
        }
    }

    numbers::write_number_methods! {
        write_u8: u8, to_be_bytes, "big-endian";
        write_i8: i8, to_be_bytes, "big-endian";
        write_u16: u16, to_be_bytes, "big-endian";
        write_u16_le: u16, to_le_bytes, "little-endian";
        write_i16: i16, to_be_bytes, "big-endian";
        write_i16_le: i16, to_le_bytes, "little-endian";
        write_u32: u32, to_be_bytes, "big-endian";
        write_u32_le: u32, to_le_bytes, "little-endian";
        write_i32: i32, to_be_bytes, "big-endian";
        write_i32_le: i32, to_le_bytes, "little-endian";
        write_u64: u64, to_be_bytes, "big-endian";
        write_u64_le: u64, to_le_bytes, "little-endian";
        write_i64: i64, to_be_bytes, "big-endian";
        write_i64_le: i64, to_le_bytes, "little-endian";
        write_u128: u128, to_be_bytes, "big-endian";
        write_u128_le: u128, to_le_bytes, "little-endian";
        write_i128: i128, to_be_bytes, "big-endian";
        write_i128_le: i128, to_le_bytes, "little-endian";
        write_f32: f32, to_be_bytes, "big-endian";
        write_f32_le: f32, to_le_bytes, "little-endian";
        write_f64: f64, to_be_bytes, "big-endian";
        write_f64_le: f64, to_le_bytes, "little-endian";
    }
}

impl<W: AsyncWrite + ?Sized> AsyncWriteExt for W {}

/// The future of [`AsyncWriteExt::write`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Write<'a, W: ?Sized> {
    writer: &'a mut W,
    buf: &'a [u8],
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for Write<'_, W> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        Pin::new(&mut *this.writer).poll_write(cx, this.buf)
    }
}

/// The future of [`AsyncWriteExt::write_buf`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct WriteBuf<'a, W: ?Sized, B: ?Sized> {
    writer: &'a mut W,
    buf: &'a mut B,
}

impl<W: AsyncWrite + Unpin + ?Sized, B: Buf + ?Sized> Future for WriteBuf<'_, W, B> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if !this.buf.has_remaining() {
            return Poll::Ready(Ok(0));
        }
        let chunk = this.buf.chunk();
        let n = ready!(Pin::new(&mut *this.writer).poll_write(cx, chunk))?;
        let n = guard::check_write_len(n, chunk.len())?;
        this.buf.advance(n);
        Poll::Ready(Ok(n))
    }
}

/// The future of [`AsyncWriteExt::write_all_buf`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct WriteAllBuf<'a, W: ?Sized, B: ?Sized> {
    writer: &'a mut W,
    buf: &'a mut B,
    guard: ProgressGuard,
}

impl<W: AsyncWrite + Unpin + ?Sized, B: Buf + ?Sized> Future for WriteAllBuf<'_, W, B> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        /// The most chunks offered to one vectored write.
        const MAX_CHUNKS: usize = 64;
        let this = self.get_mut();
        let mut writer = Pin::new(&mut *this.writer);
        while this.buf.has_remaining() {
            let mut slices = [IoSlice::new(&[]); MAX_CHUNKS];
            let count = this.buf.chunks_vectored(&mut slices);
            let slices = &slices[..count];
            let offered = slices.iter().map(|s| s.len()).sum();
            let poll = writer.as_mut().poll_write_vectored(cx, slices);
            let Some(n) = ready!(this.guard.write(poll, offered))? else {
                continue;
            };
            // The guard refused any count beyond `offered`.
            this.buf.advance(n);
            ready!(poll_proceed(cx));
        }
        Poll::Ready(Ok(()))
    }
}

/// The future of [`AsyncWriteExt::write_vectored`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct WriteVectored<'a, 'b, W: ?Sized> {
    writer: &'a mut W,
    bufs: &'a [IoSlice<'b>],
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for WriteVectored<'_, '_, W> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        Pin::new(&mut *this.writer).poll_write_vectored(cx, this.bufs)
    }
}

/// The future of [`AsyncWriteExt::write_all`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct WriteAll<'a, W: ?Sized> {
    writer: &'a mut W,
    buf: &'a [u8],
    guard: ProgressGuard,
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for WriteAll<'_, W> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let writer = Pin::new(&mut *this.writer);
        poll_write_all(writer, cx, &mut this.buf, &mut this.guard)
    }
}

/// Writes all of `*buf`, advancing it past what was written.
pub(crate) fn poll_write_all<W: AsyncWrite + ?Sized>(
    mut writer: Pin<&mut W>,
    cx: &mut Context<'_>,
    buf: &mut &[u8],
    guard: &mut ProgressGuard,
) -> Poll<io::Result<()>> {
    while !buf.is_empty() {
        let poll = writer.as_mut().poll_write(cx, buf);
        let Some(n) = ready!(guard.write(poll, buf.len()))? else {
            continue;
        };
        *buf = &buf[n..];
        ready!(poll_proceed(cx));
    }
    Poll::Ready(Ok(()))
}

/// Polls `poll_flush` through a guard, retrying `Interrupted` (bounded).
pub(crate) fn poll_flush_guarded<W: AsyncWrite + ?Sized>(
    mut writer: Pin<&mut W>,
    cx: &mut Context<'_>,
    guard: &mut ProgressGuard,
) -> Poll<io::Result<()>> {
    loop {
        if let Some(()) = ready!(guard.flush(writer.as_mut().poll_flush(cx)))? {
            return Poll::Ready(Ok(()));
        }
    }
}

/// Polls `poll_close` through a guard, retrying `Interrupted` (bounded).
pub(crate) fn poll_close_guarded<W: AsyncWrite + ?Sized>(
    mut writer: Pin<&mut W>,
    cx: &mut Context<'_>,
    guard: &mut ProgressGuard,
) -> Poll<io::Result<()>> {
    loop {
        if let Some(()) = ready!(guard.close(writer.as_mut().poll_close(cx)))? {
            return Poll::Ready(Ok(()));
        }
    }
}

/// The future of [`AsyncWriteExt::flush`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Flush<'a, W: ?Sized> {
    writer: &'a mut W,
    guard: ProgressGuard,
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for Flush<'_, W> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        poll_flush_guarded(Pin::new(&mut *this.writer), cx, &mut this.guard)
    }
}

/// The future of [`AsyncWriteExt::shutdown`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Shutdown<'a, W: ?Sized> {
    writer: &'a mut W,
    guard: ProgressGuard,
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for Shutdown<'_, W> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        poll_close_guarded(Pin::new(&mut *this.writer), cx, &mut this.guard)
    }
}
