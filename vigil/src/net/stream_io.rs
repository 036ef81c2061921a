//! `AsyncRead`/`AsyncWrite` for the stream sockets and their halves,
//! written once.
//!
//! TCP and Unix streams (and `&stream`, and the split halves) all forward to
//! the same five operations of their stream: `poll_read_priv`,
//! `poll_read_uninit_priv`, `poll_write_priv`, `poll_write_vectored_priv`
//! and `shutdown_write`. Each macro takes the type and how to reach its
//! stream from `&Self`. [`impl_stream_socket!`] writes those five, the
//! readiness hook of the splice path, the fd traits, `Debug` and the trait
//! impls once for both stream sockets (each wraps a
//! `PollEvented<std::…::…Stream>` in a field `io`).

use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Reading into a buffer that need not be initialised: what the
/// compatibility shims use for the stream sockets, so that hyper's and
/// Tokio's uninitialised read buffers are not zero-filled before every read.
/// Crate-private; implemented by `impl_async_read!` for every stream type,
/// through the same readiness loop as its `AsyncRead::poll_read`.
///
/// # Safety
///
/// Callers rely on this for soundness: an implementation returning
/// `Poll::Ready(Ok(n))` must guarantee `n <= buf.len()` and that the first
/// `n` elements of `buf` were initialised by the call, and it must never
/// write an uninitialised value into any element of `buf`.
// Only the compatibility shims (features `hyper`, `tokio-io`) read this way.
#[cfg_attr(not(any(feature = "hyper", feature = "tokio-io")), allow(dead_code))]
pub(crate) unsafe trait ReadUninit {
    fn poll_read_uninit(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>>;
}

/// `futures_io::AsyncRead` through `$stream`'s `poll_read_priv`, and
/// [`ReadUninit`] through its `poll_read_uninit_priv`.
macro_rules! impl_async_read {
    ($t:ty, |$s:ident| $stream:expr) => {
        // SAFETY: `poll_read_uninit_priv` is `PollEvented::poll_recv_uninit`,
        // which on `Ok(n)` has had `recv(2)` store exactly `n <= buf.len()`
        // received bytes at the start of `buf` and writes nothing else.
        unsafe impl $crate::net::ReadUninit for $t {
            #[inline]
            fn poll_read_uninit(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut [::std::mem::MaybeUninit<u8>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let $s = &*self;
                $stream.poll_read_uninit_priv(cx, buf)
            }
        }

        impl futures_io::AsyncRead for $t {
            fn poll_read(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut [u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let $s = &*self;
                $stream.poll_read_priv(cx, buf)
            }
        }
    };
}

/// `futures_io::AsyncWrite` through `$stream`: writes go straight to the
/// kernel (flush has nothing to do), and close half-closes the connection
/// (shuts down the writing side; the peer reads end of file).
macro_rules! impl_async_write {
    ($t:ty, |$s:ident| $stream:expr) => {
        impl futures_io::AsyncWrite for $t {
            fn poll_write(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &[u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let $s = &*self;
                $stream.poll_write_priv(cx, buf)
            }

            fn poll_write_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let $s = &*self;
                $stream.poll_write_vectored_priv(cx, bufs)
            }

            fn poll_flush(
                self: ::std::pin::Pin<&mut Self>,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                ::std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: ::std::pin::Pin<&mut Self>,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                let $s = &*self;
                ::std::task::Poll::Ready($stream.shutdown_write())
            }
        }
    };
}

/// The crate-private plumbing of a stream socket (`TcpStream`,
/// `UnixStream`), whose field `io` is a `PollEvented` of the matching std
/// stream: the five operations above, `poll_raw_io` for the splice path,
/// `AsRawFd`/`AsFd`/`Debug`, and `AsyncRead`/`AsyncWrite` for the stream and
/// for a reference to it.
macro_rules! impl_stream_socket {
    ($t:ident) => {
        impl $t {
            /// The readiness pattern around any raw operation on the socket
            /// (used by the splice path of `io::copy`).
            pub(crate) fn poll_raw_io<R>(
                &self,
                cx: &mut ::std::task::Context<'_>,
                direction: $crate::driver::io::Direction,
                op: &mut dyn FnMut() -> ::std::io::Result<R>,
            ) -> ::std::task::Poll<::std::io::Result<R>> {
                self.io.poll_io(cx, direction, |_| op())
            }

            pub(crate) fn poll_read_priv(
                &self,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut [u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                self.io.poll_read(cx, buf)
            }

            /// Reads into a buffer that need not be initialised, through the
            /// same readiness loop (and coop budget) as `poll_read_priv`.
            /// Backs [`ReadUninit`]($crate::net::ReadUninit).
            // Only the compatibility shims (features `hyper`, `tokio-io`) read this way.
            #[cfg_attr(not(any(feature = "hyper", feature = "tokio-io")), allow(dead_code))]
            pub(crate) fn poll_read_uninit_priv(
                &self,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut [::std::mem::MaybeUninit<u8>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                self.io.poll_recv_uninit(cx, buf)
            }

            pub(crate) fn poll_write_priv(
                &self,
                cx: &mut ::std::task::Context<'_>,
                buf: &[u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                self.io.poll_write(cx, buf)
            }

            pub(crate) fn poll_write_vectored_priv(
                &self,
                cx: &mut ::std::task::Context<'_>,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                self.io.poll_write_vectored(cx, bufs)
            }

            pub(crate) fn shutdown_write(&self) -> ::std::io::Result<()> {
                match self.io.get_ref().shutdown(::std::net::Shutdown::Write) {
                    // The peer already went away: the write side is closed either way.
                    Err(e) if e.kind() == ::std::io::ErrorKind::NotConnected => Ok(()),
                    res => res,
                }
            }
        }

        $crate::net::stream_io::impl_async_read!($t, |s| s);
        $crate::net::stream_io::impl_async_write!($t, |s| s);
        $crate::net::stream_io::impl_async_read!(&$t, |s| s);
        $crate::net::stream_io::impl_async_write!(&$t, |s| s);

        impl ::std::os::fd::AsRawFd for $t {
            fn as_raw_fd(&self) -> ::std::os::fd::RawFd {
                ::std::os::fd::AsRawFd::as_raw_fd(self.io.get_ref())
            }
        }

        impl ::std::os::fd::AsFd for $t {
            fn as_fd(&self) -> ::std::os::fd::BorrowedFd<'_> {
                ::std::os::fd::AsFd::as_fd(self.io.get_ref())
            }
        }

        impl ::std::fmt::Debug for $t {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Debug::fmt(self.io.get_ref(), f)
            }
        }
    };
}

pub(crate) use {impl_async_read, impl_async_write, impl_stream_socket};
