//! Reading and writing fixed-size numbers (`read_u32`, `write_f64_le`, ...):
//! one future type per direction, whatever the number, on the same loops
//! as `read_exact` and `write_all`.

use super::read::poll_read_exact;
use super::write::poll_write_all;
use crate::io::guard::ProgressGuard;
use futures_io::{AsyncRead, AsyncWrite};
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// The future of [`AsyncReadExt`](crate::io::AsyncReadExt)'s `read_u8`,
/// `read_u32`, `read_f64_le`, ...: `N` bytes, decoded into a `T`.
///
/// A length-prefixed frame, written and read back:
///
/// ```
/// use vigil::io::{AsyncReadExt, AsyncWriteExt};
///
/// # vigil::block_on(async {
/// let (mut a, mut b) = vigil::io::duplex(64);
/// a.write_u32(5).await?;
/// a.write_all(b"hello").await?;
/// let len = b.read_u32().await? as usize;
/// let mut frame = vec![0; len];
/// b.read_exact(&mut frame).await?;
/// assert_eq!(frame, b"hello");
/// # Ok::<_, std::io::Error>(()) }).unwrap();
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ReadNumber<'a, R: ?Sized, T, const N: usize> {
    reader: &'a mut R,
    bytes: [u8; N],
    filled: usize,
    decode: fn([u8; N]) -> T,
    guard: ProgressGuard,
}

impl<'a, R: ?Sized, T, const N: usize> ReadNumber<'a, R, T, N> {
    pub(super) fn new(reader: &'a mut R, decode: fn([u8; N]) -> T) -> Self {
        ReadNumber {
            reader,
            bytes: [0; N],
            filled: 0,
            decode,
            guard: ProgressGuard::new(),
        }
    }
}

impl<R: AsyncRead + Unpin + ?Sized, T, const N: usize> Future for ReadNumber<'_, R, T, N> {
    type Output = io::Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        let this = self.get_mut();
        let reader = Pin::new(&mut *this.reader);
        ready!(poll_read_exact(
            reader,
            cx,
            &mut this.bytes,
            &mut this.filled,
            &mut this.guard
        ))?;
        Poll::Ready(Ok((this.decode)(this.bytes)))
    }
}

impl<R: ?Sized, T, const N: usize> fmt::Debug for ReadNumber<'_, R, T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadNumber")
            .field("size", &N)
            .field("filled", &self.filled)
            .finish_non_exhaustive()
    }
}

/// The future of [`AsyncWriteExt`](crate::io::AsyncWriteExt)'s
/// `write_u8`, `write_u32`, `write_f64_le`, ...: `N` encoded bytes.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct WriteNumber<'a, W: ?Sized, const N: usize> {
    writer: &'a mut W,
    bytes: [u8; N],
    written: usize,
    guard: ProgressGuard,
}

impl<'a, W: ?Sized, const N: usize> WriteNumber<'a, W, N> {
    pub(super) fn new(writer: &'a mut W, bytes: [u8; N]) -> Self {
        WriteNumber {
            writer,
            bytes,
            written: 0,
            guard: ProgressGuard::new(),
        }
    }
}

impl<W: AsyncWrite + Unpin + ?Sized, const N: usize> Future for WriteNumber<'_, W, N> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let writer = Pin::new(&mut *this.writer);
        let mut rest = &this.bytes[this.written..];
        let before = rest.len();
        let poll = poll_write_all(writer, cx, &mut rest, &mut this.guard);
        this.written += before - rest.len();
        poll
    }
}

impl<W: ?Sized, const N: usize> fmt::Debug for WriteNumber<'_, W, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteNumber")
            .field("bytes", &self.bytes)
            .field("written", &self.written)
            .finish_non_exhaustive()
    }
}

/// The `read_<number>` methods of `AsyncReadExt`: `name: type, decoder,
/// "byte order"`.
macro_rules! read_number_methods {
    ($($name:ident: $t:ty, $decode:path, $order:literal;)*) => {$(
        #[doc = concat!(
            "Reads a `", stringify!($t), "` in ", $order, " byte order (",
            stringify!($decode), " of the next ",
            "`size_of::<", stringify!($t), ">()` bytes); `UnexpectedEof` if ",
            "the reader ends first.\n\n",
            "# Cancel safety\n",
            "Not cancel safe, like [`read_exact`](AsyncReadExt::read_exact): ",
            "bytes read before the future is dropped are lost."
        )]
        fn $name(&mut self) -> ReadNumber<'_, Self, $t, { std::mem::size_of::<$t>() }>
        where
            Self: Unpin,
        {
            ReadNumber::new(self, $decode)
        }
    )*};
}

/// The `write_<number>` methods of `AsyncWriteExt`: `name: type,
/// encoder, "byte order"`.
macro_rules! write_number_methods {
    ($($name:ident: $t:ty, $encode:ident, $order:literal;)*) => {$(
        #[doc = concat!(
            "Writes `n` as a `", stringify!($t), "` in ", $order,
            " byte order (`", stringify!($t), "::", stringify!($encode), "`).\n\n",
            "# Cancel safety\n",
            "Not cancel safe, like [`write_all`](AsyncWriteExt::write_all): ",
            "dropped part-way, some of the bytes may have been written."
        )]
        fn $name(&mut self, n: $t) -> WriteNumber<'_, Self, { std::mem::size_of::<$t>() }>
        where
            Self: Unpin,
        {
            WriteNumber::new(self, n.$encode())
        }
    )*};
}

pub(super) use {read_number_methods, write_number_methods};
