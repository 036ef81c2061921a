//! [`empty`], [`sink`] and [`repeat`]: readers and writers that need no peer.
//!
//! All three are always ready, so each of their operations spends one unit
//! of the task's cooperative budget, like any vigil resource: a loop over
//! them yields to the other tasks in time.

use crate::runtime::coop::poll_proceed;
use futures_io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};
use std::io::{self, SeekFrom};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// `AsyncWrite` that accepts every byte and keeps none (one unit of
/// budget per write, like any always-ready resource).
macro_rules! discarding_writer {
    ($t:ty) => {
        impl AsyncWrite for $t {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                ready!(poll_proceed(cx));
                Poll::Ready(Ok(buf.len()))
            }

            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }
        }
    };
}

/// A reader at end of file: every read returns `0`. Made by [`empty`].
///
/// It is also a writer that discards everything (as [`Sink`]) and seeks
/// to nowhere: every seek succeeds at position 0.
#[derive(Clone, Copy, Debug, Default)]
pub struct Empty {
    _private: (),
}

/// Creates a reader that is always at end of file.
///
/// ```
/// use vigil::io::AsyncReadExt;
///
/// # vigil::block_on(async {
/// let mut buf = Vec::new();
/// assert_eq!(vigil::io::empty().read_to_end(&mut buf).await?, 0);
/// # Ok::<_, std::io::Error>(()) }).unwrap();
/// ```
pub fn empty() -> Empty {
    Empty { _private: () }
}

impl AsyncRead for Empty {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        _buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        ready!(poll_proceed(cx));
        Poll::Ready(Ok(0))
    }
}

impl AsyncBufRead for Empty {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        ready!(poll_proceed(cx));
        Poll::Ready(Ok(&[]))
    }

    fn consume(self: Pin<&mut Self>, _amt: usize) {}
}

discarding_writer!(Empty);

impl AsyncSeek for Empty {
    fn poll_seek(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        _pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        Poll::Ready(Ok(0))
    }
}

/// A writer that accepts and discards everything. Made by [`sink`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Sink {
    _private: (),
}

/// Creates a writer that accepts every byte and throws it away.
///
/// ```
/// use vigil::io::AsyncWriteExt;
///
/// # vigil::block_on(async {
/// let mut out = vigil::io::sink();
/// assert_eq!(out.write(b"into the void").await?, 13);
/// # Ok::<_, std::io::Error>(()) }).unwrap();
/// ```
pub fn sink() -> Sink {
    Sink { _private: () }
}

discarding_writer!(Sink);

/// A reader that yields one byte over and over, without end. Made by
/// [`repeat`].
#[derive(Clone, Copy, Debug)]
pub struct Repeat {
    byte: u8,
}

/// Creates a reader that fills every buffer with `byte`, forever. Combine
/// it with [`take`](crate::io::AsyncReadExt::take) for a finite stream.
///
/// ```
/// use vigil::io::AsyncReadExt;
///
/// # vigil::block_on(async {
/// let mut buf = [0; 3];
/// vigil::io::repeat(7).read_exact(&mut buf).await?;
/// assert_eq!(buf, [7, 7, 7]);
/// # Ok::<_, std::io::Error>(()) }).unwrap();
/// ```
pub fn repeat(byte: u8) -> Repeat {
    Repeat { byte }
}

impl AsyncRead for Repeat {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        ready!(poll_proceed(cx));
        fill(buf, self.byte);
        Poll::Ready(Ok(buf.len()))
    }
}

/// `buf.fill(byte)` by doubling `copy_within`s: a few `memmove`s, fast even
/// in unoptimised builds, where `fill` is a byte-at-a-time loop.
fn fill(buf: &mut [u8], byte: u8) {
    let Some(first) = buf.first_mut() else {
        return;
    };
    *first = byte;
    let mut done = 1;
    while done < buf.len() {
        let k = done.min(buf.len() - done);
        buf.copy_within(..k, done);
        done += k;
    }
}
