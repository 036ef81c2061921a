//! Tokio's I/O traits for vigil's I/O types (feature `tokio-io`).
//!
//! With the feature on, `vigil::net::TcpStream` and `vigil::net::UnixStream`
//! (and `&stream`, their halves), `vigil::io::{DuplexStream, SimplexStream}`,
//! `vigil::fs::File`, the pipes of `vigil::process` (`ChildStdin`, `ChildStdout`, `ChildStderr`)
//! and of `vigil::net::unix::pipe` (`Sender`, `Receiver`),
//! and `vigil::io::{BufReader, BufWriter, BufStream}` implement
//! `tokio::io::AsyncRead`/`AsyncWrite` (and `AsyncBufRead` for the three
//! buffered types, `AsyncSeek` for `File` and for the buffered types over
//! a seekable stream)
//! as well as their native `futures-io` traits, so crates written against
//! Tokio's traits (`tokio-rustls`, `hyper-util`'s `TokioIo`, ...) take them
//! as they are. The traits come from `tokio` with no features enabled: the
//! feature pulls in no Tokio runtime.
//!
//! Method-resolution note: a type that implements both families has two
//! `poll_read`s, so calling it by method syntax in a scope that imports both
//! traits is ambiguous; the extension methods (`read`, `write_all`, ...) of
//! `vigil::io::AsyncReadExt` and `tokio::io::AsyncReadExt` likewise. Import
//! one family per scope, or call with a path (`tokio::io::AsyncReadExt::read`).

use crate::io::guard::check_read_len;
use crate::io::{BufReader, BufStream, BufWriter};
use crate::net::ReadUninit;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::ReadBuf;

/// Reads into the unfilled part of `buf` through the `futures-io` impl.
fn poll_read_buf<R: futures_io::AsyncRead + ?Sized>(
    reader: Pin<&mut R>,
    cx: &mut Context<'_>,
    buf: &mut ReadBuf<'_>,
) -> Poll<io::Result<()>> {
    // Zero-fills only the bytes never initialised before; `ReadBuf` keeps
    // count, so a reused or already initialised buffer costs nothing.
    let unfilled = buf.initialize_unfilled();
    let n = ready!(reader.poll_read(cx, unfilled))?;
    // A reader claiming more than it was given is an error, not a panic in
    // `advance`, as everywhere in vigil's io.
    let n = check_read_len(n, unfilled.len())?;
    buf.advance(n);
    Poll::Ready(Ok(()))
}

/// Receives straight into the unfilled, possibly uninitialised, part of
/// `buf` (no zero-filling), for the stream sockets.
fn poll_read_buf_uninit<R: ReadUninit + ?Sized>(
    reader: Pin<&mut R>,
    cx: &mut Context<'_>,
    buf: &mut ReadBuf<'_>,
) -> Poll<io::Result<()>> {
    // SAFETY: `unfilled_mut` forbids de-initialising bytes through the
    // slice; it goes only to `ReadUninit::poll_read_uninit`, whose contract
    // forbids writing uninitialised values.
    let unfilled = unsafe { buf.unfilled_mut() };
    let len = unfilled.len();
    let n = ready!(reader.poll_read_uninit(cx, unfilled))?;
    // Guaranteed by the `ReadUninit` contract; checked as the other path is,
    // so `advance` cannot panic.
    let n = check_read_len(n, len)?;
    // SAFETY: `assume_init(n)` requires the first `n` unfilled bytes to be
    // initialised: `ReadUninit`'s contract says a `Ready(Ok(n))` read
    // initialised exactly those, and `n <= len` was just checked.
    unsafe { buf.assume_init(n) };
    buf.advance(n);
    Poll::Ready(Ok(()))
}

/// Implements one capability (see `for_each_io_type!`) of one type.
macro_rules! tokio_io {
    ($t:ty => $($cap:ident),+) => {
        $( tokio_io!(@$cap $t); )+
    };
    (@read $t:ty) => {
        impl tokio::io::AsyncRead for $t {
            #[inline]
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                poll_read_buf(self, cx, buf)
            }
        }
    };
    (@read_uninit $t:ty) => {
        impl tokio::io::AsyncRead for $t {
            #[inline]
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                poll_read_buf_uninit(self, cx, buf)
            }
        }
    };
    (@write $t:ty) => {
        tokio_io!(@write_impl $t, false);
    };
    (@write_vectored $t:ty) => {
        tokio_io!(@write_impl $t, true);
    };
    (@write_impl $t:ty, $vectored:literal) => {
        forward_write!(tokio::io::AsyncWrite, [] $t, $vectored);
    };
}

for_each_io_type!(tokio_io);
tokio_io!(crate::fs::File => read, write);
tokio_io!(crate::io::Stdin => read);
tokio_io!(crate::io::Stdout => write);
tokio_io!(crate::io::Stderr => write);

impl tokio::io::AsyncSeek for crate::fs::File {
    fn start_seek(self: Pin<&mut Self>, position: std::io::SeekFrom) -> io::Result<()> {
        self.get_mut().start_seek(position)
    }

    fn poll_complete(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        self.get_mut().poll_complete_seek(cx)
    }
}

/// Tokio's `AsyncRead`, `AsyncBufRead` and `AsyncWrite` for a generic
/// buffered type (`BufReader`, `BufWriter`, `BufStream`), which
/// `for_each_io_type!` cannot list: `[read bounds] [buf-read bounds]
/// [write bounds] Type`.
macro_rules! buffered_tokio_io {
    ([$($read:tt)*] [$($buf_read:tt)*] [$($write:tt)*] $t:ty) => {
        impl<$($read)*> tokio::io::AsyncRead for $t {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                poll_read_buf(self, cx, buf)
            }
        }

        impl<$($buf_read)*> tokio::io::AsyncBufRead for $t {
            fn poll_fill_buf(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
            ) -> Poll<io::Result<&[u8]>> {
                futures_io::AsyncBufRead::poll_fill_buf(self, cx)
            }

            fn consume(self: Pin<&mut Self>, amt: usize) {
                futures_io::AsyncBufRead::consume(self, amt);
            }
        }

        forward_write!(tokio::io::AsyncWrite, [$($write)*] $t, false);
    };
}

buffered_tokio_io!(
    [R: futures_io::AsyncRead]
    [R: futures_io::AsyncRead]
    [R: futures_io::AsyncWrite]
    BufReader<R>
);
buffered_tokio_io!(
    [W: futures_io::AsyncRead]
    [W: futures_io::AsyncBufRead]
    [W: futures_io::AsyncWrite]
    BufWriter<W>
);
buffered_tokio_io!(
    [S: futures_io::AsyncRead + futures_io::AsyncWrite]
    [S: futures_io::AsyncRead + futures_io::AsyncWrite]
    [S: futures_io::AsyncRead + futures_io::AsyncWrite]
    BufStream<S>
);

/// Tokio's two-step `AsyncSeek` on a buffered type, through its
/// `futures-io` `poll_seek` (which accounts for the buffers) and the seek
/// recorded by `start_seek`: `[bounds] Type`.
macro_rules! buffered_tokio_seek {
    ([$($bounds:tt)*] $t:ty) => {
        impl<$($bounds)*> tokio::io::AsyncSeek for $t {
            fn start_seek(self: Pin<&mut Self>, position: std::io::SeekFrom) -> io::Result<()> {
                let pending = self.tokio_seek();
                if pending.is_some() {
                    return Err(io::Error::other(
                        "start_seek called while another seek is in progress",
                    ));
                }
                *pending = Some(position);
                Ok(())
            }

            fn poll_complete(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
            ) -> Poll<io::Result<u64>> {
                // Without a started seek: the current position.
                let position = self
                    .as_mut()
                    .tokio_seek()
                    .unwrap_or(std::io::SeekFrom::Current(0));
                let res = ready!(futures_io::AsyncSeek::poll_seek(self.as_mut(), cx, position));
                *self.tokio_seek() = None;
                Poll::Ready(res)
            }
        }
    };
}

buffered_tokio_seek!([R: futures_io::AsyncSeek] BufReader<R>);
buffered_tokio_seek!([W: futures_io::AsyncWrite + futures_io::AsyncSeek] BufWriter<W>);

impl<S: futures_io::AsyncWrite + futures_io::AsyncSeek> tokio::io::AsyncSeek for BufStream<S> {
    fn start_seek(self: Pin<&mut Self>, position: std::io::SeekFrom) -> io::Result<()> {
        tokio::io::AsyncSeek::start_seek(self.inner_pin_mut(), position)
    }

    fn poll_complete(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        tokio::io::AsyncSeek::poll_complete(self.inner_pin_mut(), cx)
    }
}
