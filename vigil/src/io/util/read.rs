//! `AsyncReadExt` and the futures its methods return.

use super::numbers::{self, ReadNumber};
use super::{Chain, Take};
use crate::io::guard::ProgressGuard;
use crate::io::spare;
use crate::runtime::coop::poll_proceed;
use bytes::BufMut;
use futures_io::AsyncRead;
use std::future::Future;
use std::io::{self, IoSliceMut};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// Convenience methods for every [`AsyncRead`], as `async` methods.
///
/// The loops among them (`read_exact`, `read_to_end`, `read_to_string`)
/// retry `Interrupted` a bounded number of times, refuse to spin on a reader
/// that returns `WouldBlock` as `Ready`, and spend the task's cooperative
/// budget once per read; see the [module docs](crate::io).
///
/// ```
/// use vigil::io::{AsyncReadExt, AsyncWriteExt};
///
/// # vigil::block_on(async {
/// let (mut a, mut b) = vigil::io::duplex(64);
/// a.write_all(b"hello").await?;
/// a.shutdown().await?;
/// let mut text = String::new();
/// b.read_to_string(&mut text).await?;
/// assert_eq!(text, "hello");
/// # Ok::<_, std::io::Error>(()) }).unwrap();
/// ```
pub trait AsyncReadExt: AsyncRead {
    /// Reads some bytes into `buf` and returns how many; `0` means end of
    /// file (or an empty `buf`). One call of `poll_read`, results passed on
    /// unchanged, including `Interrupted`.
    ///
    /// # Cancel safety
    /// Cancel safe: bytes are taken from the reader only in the poll that
    /// returns them, so dropping the future before it completes loses none.
    fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> Read<'a, Self>
    where
        Self: Unpin,
    {
        Read { reader: self, buf }
    }

    /// Like [`read`](AsyncReadExt::read), into several buffers in order.
    ///
    /// # Cancel safety
    /// Cancel safe, as `read`.
    fn read_vectored<'a, 'b>(
        &'a mut self,
        bufs: &'a mut [IoSliceMut<'b>],
    ) -> ReadVectored<'a, 'b, Self>
    where
        Self: Unpin,
    {
        ReadVectored { reader: self, bufs }
    }

    /// Reads some bytes into the spare capacity of `buf` (a
    /// [`bytes::BufMut`] such as `BytesMut` or `Vec<u8>`), advances it past
    /// them and returns how many; `0` means end of file, or that `buf` has
    /// no room left. One call of `poll_read`, results passed on unchanged,
    /// as [`read`](AsyncReadExt::read).
    ///
    /// `AsyncRead` takes initialised bytes, so at most 16 KiB of the spare
    /// capacity are zero-filled and offered to each read (a growable
    /// buffer such as `BytesMut` or `Vec` first makes room if it is full).
    /// A count larger than what was offered is an `InvalidData` error, and
    /// `buf` is not advanced.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use vigil::io::{AsyncReadExt, AsyncWriteExt};
    ///
    /// # vigil::block_on(async {
    /// let (mut a, mut b) = vigil::io::duplex(64);
    /// a.write_all(b"hello").await?;
    /// let mut buf = BytesMut::with_capacity(1024);
    /// let n = b.read_buf(&mut buf).await?;
    /// assert_eq!(&buf[..n], b"hello");
    /// # Ok::<_, std::io::Error>(()) }).unwrap();
    /// ```
    ///
    /// # Cancel safety
    /// Cancel safe: `buf` is advanced only in the poll that returns the
    /// count, so dropping the future before it completes loses nothing.
    fn read_buf<'a, B>(&'a mut self, buf: &'a mut B) -> ReadBuf<'a, Self, B>
    where
        Self: Unpin,
        B: BufMut + ?Sized,
    {
        ReadBuf { reader: self, buf }
    }

    /// Reads exactly `buf.len()` bytes and returns that count, as Tokio's
    /// `read_exact` does (so `Ok(n)` always has `n == buf.len()`); fails
    /// with `UnexpectedEof` if the reader ends first.
    ///
    /// # Cancel safety
    /// Not cancel safe: if the future is dropped after some reads, the bytes
    /// already read are in `buf` but how many is unknown, so they are in
    /// effect lost. To read fixed-size frames in a `select!` loop, keep the
    /// bytes outside the future instead: read through a
    /// [`BufReader`](crate::io::BufReader) and take a frame with
    /// [`fill_buf`](crate::io::AsyncBufReadExt::fill_buf) /
    /// [`consume`](crate::io::AsyncBufReadExt::consume) only once enough is
    /// buffered, or call [`read`](AsyncReadExt::read) into a buffer and a
    /// fill count that live across the retries.
    fn read_exact<'a>(&'a mut self, buf: &'a mut [u8]) -> ReadExact<'a, Self>
    where
        Self: Unpin,
    {
        ReadExact {
            reader: self,
            buf,
            filled: 0,
            guard: ProgressGuard::new(),
        }
    }

    /// Reads until end of file, appending to `buf`; returns how many bytes
    /// were appended.
    ///
    /// # Cancel safety
    /// Bytes are appended to `buf` as they are read, so if the future is
    /// dropped early they are in `buf` and nothing is lost, but the future's
    /// count is. Calling `read_to_end` again continues where it stopped.
    fn read_to_end<'a>(&'a mut self, buf: &'a mut Vec<u8>) -> ReadToEnd<'a, Self>
    where
        Self: Unpin,
    {
        let start = buf.len();
        ReadToEnd {
            reader: self,
            buf,
            start,
            guard: ProgressGuard::new(),
        }
    }

    /// Reads until end of file, appending to `buf` if all of it is valid
    /// UTF-8 (otherwise `buf` is left unchanged and the error is
    /// `InvalidData`); returns how many bytes were appended.
    ///
    /// # Cancel safety
    /// Not cancel safe: the bytes are collected inside the future and
    /// appended only at the end, so dropping it early loses them.
    fn read_to_string<'a>(&'a mut self, buf: &'a mut String) -> ReadToString<'a, Self>
    where
        Self: Unpin,
    {
        ReadToString {
            reader: self,
            buf,
            bytes: Vec::new(),
            guard: ProgressGuard::new(),
        }
    }

    /// Wraps the reader so that it ends after at most `limit` bytes.
    fn take(self, limit: u64) -> Take<Self>
    where
        Self: Sized,
    {
        Take::new(self, limit)
    }

    /// Reads this reader to its end, then `next`.
    fn chain<R: AsyncRead>(self, next: R) -> Chain<Self, R>
    where
        Self: Sized,
    {
        Chain::new(self, next)
    }

    numbers::read_number_methods! {
        read_u8: u8, u8::from_be_bytes, "big-endian";
        read_i8: i8, i8::from_be_bytes, "big-endian";
        read_u16: u16, u16::from_be_bytes, "big-endian";
        read_u16_le: u16, u16::from_le_bytes, "little-endian";
        read_i16: i16, i16::from_be_bytes, "big-endian";
        read_i16_le: i16, i16::from_le_bytes, "little-endian";
        read_u32: u32, u32::from_be_bytes, "big-endian";
        read_u32_le: u32, u32::from_le_bytes, "little-endian";
        read_i32: i32, i32::from_be_bytes, "big-endian";
        read_i32_le: i32, i32::from_le_bytes, "little-endian";
        read_u64: u64, u64::from_be_bytes, "big-endian";
        read_u64_le: u64, u64::from_le_bytes, "little-endian";
        read_i64: i64, i64::from_be_bytes, "big-endian";
        read_i64_le: i64, i64::from_le_bytes, "little-endian";
        read_u128: u128, u128::from_be_bytes, "big-endian";
        read_u128_le: u128, u128::from_le_bytes, "little-endian";
        read_i128: i128, i128::from_be_bytes, "big-endian";
        read_i128_le: i128, i128::from_le_bytes, "little-endian";
        read_f32: f32, f32::from_be_bytes, "big-endian";
        read_f32_le: f32, f32::from_le_bytes, "little-endian";
        read_f64: f64, f64::from_be_bytes, "big-endian";
        read_f64_le: f64, f64::from_le_bytes, "little-endian";
    }
}

impl<R: AsyncRead + ?Sized> AsyncReadExt for R {}

/// The future of [`AsyncReadExt::read`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Read<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut [u8],
}

impl<R: AsyncRead + Unpin + ?Sized> Future for Read<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        Pin::new(&mut *this.reader).poll_read(cx, this.buf)
    }
}

/// The future of [`AsyncReadExt::read_buf`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ReadBuf<'a, R: ?Sized, B: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut B,
}

impl<R: AsyncRead + Unpin + ?Sized, B: BufMut + ?Sized> Future for ReadBuf<'_, R, B> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if !this.buf.has_remaining_mut() {
            return Poll::Ready(Ok(0));
        }
        let mut reader = Pin::new(&mut *this.reader);
        let mut pending = false;
        let read = spare::fill_zeroed(this.buf, spare::MAX_ZEROED, |bytes| {
            match reader.as_mut().poll_read(cx, bytes) {
                Poll::Ready(res) => res.map(|n| (n, ())),
                Poll::Pending => {
                    pending = true;
                    Ok((0, ()))
                }
            }
        });
        if pending {
            return Poll::Pending;
        }
        Poll::Ready(read.map(|(n, ())| n))
    }
}

/// The future of [`AsyncReadExt::read_vectored`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ReadVectored<'a, 'b, R: ?Sized> {
    reader: &'a mut R,
    bufs: &'a mut [IoSliceMut<'b>],
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadVectored<'_, '_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        Pin::new(&mut *this.reader).poll_read_vectored(cx, this.bufs)
    }
}

/// The future of [`AsyncReadExt::read_exact`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ReadExact<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut [u8],
    filled: usize,
    guard: ProgressGuard,
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadExact<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let reader = Pin::new(&mut *this.reader);
        poll_read_exact(reader, cx, this.buf, &mut this.filled, &mut this.guard)
            .map_ok(|()| this.buf.len())
    }
}

/// Reads into `buf[*filled..]` until `buf` is full, counting in `filled`;
/// `UnexpectedEof` if the reader ends first.
pub(crate) fn poll_read_exact<R: AsyncRead + ?Sized>(
    mut reader: Pin<&mut R>,
    cx: &mut Context<'_>,
    buf: &mut [u8],
    filled: &mut usize,
    guard: &mut ProgressGuard,
) -> Poll<io::Result<()>> {
    while *filled < buf.len() {
        let rest = &mut buf[*filled..];
        let poll = reader.as_mut().poll_read(cx, rest);
        let Some(n) = ready!(guard.read(poll, rest.len()))? else {
            continue;
        };
        if n == 0 {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "read_exact: the reader ended after {} of {} bytes",
                    filled,
                    buf.len()
                ),
            )));
        }
        *filled += n;
        ready!(poll_proceed(cx));
    }
    Poll::Ready(Ok(()))
}

/// The future of [`AsyncReadExt::read_to_end`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ReadToEnd<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut Vec<u8>,
    start: usize,
    guard: ProgressGuard,
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadToEnd<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let reader = Pin::new(&mut *this.reader);
        poll_read_to_end(reader, cx, this.buf, &mut this.guard)
            .map_ok(|()| this.buf.len() - this.start)
    }
}

/// Reads `reader` to its end, appending to `buf`. Between polls `buf` holds
/// exactly the bytes read; within one, its tail is zero-filled scratch space
/// that is cut off again before returning.
pub(crate) fn poll_read_to_end<R: AsyncRead + ?Sized>(
    mut reader: Pin<&mut R>,
    cx: &mut Context<'_>,
    buf: &mut Vec<u8>,
    guard: &mut ProgressGuard,
) -> Poll<io::Result<()>> {
    const MIN_READ: usize = 32;
    const MAX_READ: usize = 64 * 1024;
    let mut filled = buf.len();
    let mut window = MIN_READ;
    let result = loop {
        if filled == buf.len() {
            // Grow the scratch tail: doubling windows, within the capacity
            // when there is room (no reallocation for presized buffers).
            let spare = buf.capacity() - filled;
            let want = if spare >= MIN_READ {
                spare.min(window)
            } else {
                window
            };
            zero_extend(buf, want);
            window = (window * 2).min(MAX_READ);
        }
        let rest = &mut buf[filled..];
        let len = rest.len();
        let res = match guard.read(reader.as_mut().poll_read(cx, rest), len) {
            Poll::Ready(res) => res,
            Poll::Pending => break Poll::Pending,
        };
        match res {
            Ok(Some(0)) => break Poll::Ready(Ok(())),
            Ok(Some(n)) => filled += n,
            Ok(None) => continue,
            Err(e) => break Poll::Ready(Err(e)),
        }
        if poll_proceed(cx).is_pending() {
            break Poll::Pending;
        }
    };
    buf.truncate(filled);
    result
}

/// Appends `n` zero bytes to `buf` by copying from a zeroed block, which
/// stays a `memcpy` even in unoptimised builds (`resize` is a byte loop
/// there, and read loops in debug-built tests would crawl).
fn zero_extend(buf: &mut Vec<u8>, mut n: usize) {
    static ZEROS: [u8; 4096] = [0; 4096];
    buf.reserve(n);
    while n > 0 {
        let k = n.min(ZEROS.len());
        buf.extend_from_slice(&ZEROS[..k]);
        n -= k;
    }
}

/// The future of [`AsyncReadExt::read_to_string`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ReadToString<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut String,
    bytes: Vec<u8>,
    guard: ProgressGuard,
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadToString<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let reader = Pin::new(&mut *this.reader);
        ready!(poll_read_to_end(
            reader,
            cx,
            &mut this.bytes,
            &mut this.guard
        ))?;
        let bytes = std::mem::take(&mut this.bytes);
        Poll::Ready(append_utf8(this.buf, bytes))
    }
}

/// Appends `bytes` to `buf` if they are UTF-8; otherwise an `InvalidData`
/// error and `buf` unchanged.
pub(crate) fn append_utf8(buf: &mut String, bytes: Vec<u8>) -> io::Result<usize> {
    match String::from_utf8(bytes) {
        Ok(s) => {
            buf.push_str(&s);
            Ok(s.len())
        }
        Err(e) => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("stream did not contain valid UTF-8: {}", e.utf8_error()),
        )),
    }
}
