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

/// The plumbing of a stream socket (`TcpStream`, `UnixStream`), whose field
/// `io` is a `PollEvented` of the matching std stream `$std`: the five
/// operations above, `poll_raw_io` for the splice path, the public methods
/// that drive the socket by hand (readiness polling, vectored `try_*`,
/// `try_io`/`async_io`), `AsRawFd`/`AsFd`/`Debug`/`AsRef<Self>`/
/// `TryFrom<$std>`, and `AsyncRead`/`AsyncWrite` for the stream and for a
/// reference to it.
macro_rules! impl_stream_socket {
    ($t:ident, $std:ty) => {
        impl $t {
            /// Polls for read readiness, for code that drives the socket by
            /// hand (a `poll_*` method of its own, a hand-written future).
            ///
            /// `Ready(Ok(()))` means the reactor has seen the socket readable
            /// (or its reading side closed) since readiness was last cleared.
            /// Polling does not consume it: follow with
            /// [`try_read`](Self::try_read) or any other read, and only a
            /// read that fails with `WouldBlock` clears it. `Pending` means
            /// not ready yet; the task is woken when that changes. Like every
            /// reactor wait it spends one unit of the task's cooperative
            /// budget, so an exhausted budget also gives `Pending` (with an
            /// immediate wake-up).
            ///
            /// The read direction keeps a single waker: the one of the most
            /// recent `poll_*` call in that direction (this method,
            /// `AsyncRead::poll_read`, `poll_peek`...); an earlier task that
            /// polled is no longer woken. The write direction keeps its own
            /// waker, so [`poll_write_ready`](Self::poll_write_ready) does not
            /// displace this one. For several tasks waiting at once, await
            /// [`readable`](Self::readable) instead.
            ///
            /// # Errors
            /// When the socket is no longer registered with a running reactor
            /// (its runtime shut down).
            pub fn poll_read_ready(
                &self,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                self.io
                    .poll_ready(cx, $crate::driver::io::Direction::Read)
                    .map_ok(|_| ())
            }

            /// Polls for write readiness; the counterpart of
            /// [`poll_read_ready`](Self::poll_read_ready) for writing.
            ///
            /// `Ready(Ok(()))` means the socket can take data (or its writing
            /// side is closed, which the next write reports); it stays so
            /// until a write fails with `WouldBlock`. Follow with
            /// [`try_write`](Self::try_write) or any other write.
            ///
            /// The write direction keeps a single waker: the one of the most
            /// recent `poll_*` call in that direction (this method or
            /// `AsyncWrite::poll_write`); the read direction keeps a separate
            /// one. For several tasks waiting at once, await
            /// [`writable`](Self::writable) instead.
            ///
            /// # Errors
            /// When the socket is no longer registered with a running reactor
            /// (its runtime shut down).
            pub fn poll_write_ready(
                &self,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                self.io
                    .poll_ready(cx, $crate::driver::io::Direction::Write)
                    .map_ok(|_| ())
            }

            /// Reads into several buffers in turn (`readv(2)`) without
            /// waiting: filled in order, each before the next; returns the
            /// total. `Ok(0)` is end of file (or no room in `bufs`).
            ///
            /// # Errors
            /// `WouldBlock` if no read readiness is cached (await
            /// [`readable`](Self::readable) first) or the kernel has nothing
            /// queued after all; the latter also clears the readiness.
            pub fn try_read_vectored(
                &self,
                bufs: &mut [::std::io::IoSliceMut<'_>],
            ) -> ::std::io::Result<usize> {
                self.io.try_io($crate::driver::io::Interest::READABLE, |s| {
                    ::std::io::Read::read_vectored(&mut &*s, bufs)
                })
            }

            /// Reads into the spare capacity of `buf` (a [`bytes::BufMut`]
            /// such as `BytesMut`) without waiting, and advances `buf` past
            /// what arrived; returns how many bytes that was. `Ok(0)` is end
            /// of file (or no room in `buf`). The kernel writes straight into
            /// the spare capacity: nothing is zeroed or copied first.
            ///
            /// # Errors
            /// `WouldBlock` if no read readiness is cached (await
            /// [`readable`](Self::readable) first) or the kernel has nothing
            /// queued after all; the latter also clears the readiness.
            pub fn try_read_buf<B: ::bytes::BufMut + ?Sized>(
                &self,
                buf: &mut B,
            ) -> ::std::io::Result<usize> {
                self.io.try_io($crate::driver::io::Interest::READABLE, |s| {
                    $crate::io::spare::recv(::std::os::fd::AsRawFd::as_raw_fd(s), buf)
                })
            }

            /// Writes several buffers in order as one system call
            /// (`sendmsg(2)` with `MSG_NOSIGNAL`, so a gone peer is an
            /// `EPIPE` error and never a signal) without waiting; returns how
            /// many bytes were taken, which may be fewer than the total.
            ///
            /// # Errors
            /// `WouldBlock` if no write readiness is cached (await
            /// [`writable`](Self::writable) first) or the send buffer is full
            /// after all; the latter also clears the readiness.
            pub fn try_write_vectored(
                &self,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::io::Result<usize> {
                self.io.try_io($crate::driver::io::Interest::WRITABLE, |s| {
                    $crate::sys::socket::send_vectored(::std::os::fd::AsRawFd::as_raw_fd(s), bufs)
                })
            }

            /// Runs `f`, a non-blocking operation of the caller's own on this
            /// socket (a system call vigil does not wrap, made through the
            /// raw descriptor), if readiness for `interest` is cached.
            ///
            /// If none is, `f` is not called and the result is `WouldBlock`.
            /// If `f` returns `WouldBlock`, the readiness it relied on is
            /// cleared, so the next [`ready`](Self::ready) waits for the
            /// reactor again; any other result is returned as it is. So `f`
            /// must return `WouldBlock` only when its system call did, and it
            /// should not call this stream's own I/O methods, which keep the
            /// readiness themselves. Give one interest (readable or
            /// writable) per call.
            pub fn try_io<R>(
                &self,
                interest: $crate::driver::io::Interest,
                f: impl FnOnce() -> ::std::io::Result<R>,
            ) -> ::std::io::Result<R> {
                self.io.try_io(interest, |_| f())
            }

            /// Waits for readiness for `interest`, then runs `f` as
            /// [`try_io`](Self::try_io) does, until `f` gives something other
            /// than `WouldBlock` (each `WouldBlock` clears the readiness and
            /// waits again). The same rules for `f` apply.
            ///
            /// Cancel safe as far as `f` is: `f` runs only inside a poll, so
            /// dropping the future never interrupts it, and nothing is lost
            /// unless an `f` that already did its work returned
            /// `WouldBlock`. Waits through the shared waiter list, so any
            /// number of tasks may call it at once.
            pub async fn async_io<R>(
                &self,
                interest: $crate::driver::io::Interest,
                mut f: impl FnMut() -> ::std::io::Result<R>,
            ) -> ::std::io::Result<R> {
                self.io.async_io(interest, |_| f()).await
            }

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

        impl AsRef<$t> for $t {
            fn as_ref(&self) -> &$t {
                self
            }
        }

        impl ::std::convert::TryFrom<$std> for $t {
            type Error = ::std::io::Error;

            /// The same as `from_std`: switches the stream to non-blocking
            /// mode and registers it with the current runtime's reactor.
            fn try_from(stream: $std) -> ::std::io::Result<$t> {
                $t::from_std(stream)
            }
        }
    };
}

pub(crate) use {impl_async_read, impl_async_write, impl_stream_socket};
