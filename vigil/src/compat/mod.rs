//! Bridges from vigil's I/O traits to other ecosystems' (behind features).
//!
//! # Why `futures-io` is the native trait
//!
//! vigil's streams implement [`futures_io::AsyncRead`] and
//! [`futures_io::AsyncWrite`]: the small, runtime-neutral traits that smol,
//! async-std and the `futures` crate's combinators share. Their `poll_read`
//! takes an initialised `&mut [u8]`, so a stream implementation needs no
//! `unsafe` and no buffer type of any runtime's. Two widely used families of
//! crates speak other traits, though:
//!
//! * Tokio's `tokio::io::{AsyncRead, AsyncWrite, AsyncBufRead}`
//!   (`tokio-rustls`, `hyper-util`'s `TokioIo`, `tokio-util`'s codecs, ...):
//!   feature **`tokio-io`**, in `tokio_io.rs`;
//! * hyper 1.x's own `hyper::rt::{Read, Write}`, plus its `Executor` and
//!   `Timer` hooks: feature **`hyper`**, the public `vigil::hyper` module.
//!
//! Each shim is a trait impl directly on vigil's type (no wrapper to
//! construct), forwarding every call to the `futures-io` impl.
//!
//! # What the shims cost
//!
//! Writes, flushes and shutdowns forward one to one (Tokio's and hyper's
//! `poll_shutdown` are `futures-io`'s `poll_close`), vectored writes
//! included for the streams that have them. Reads hand the `futures-io` impl
//! the caller's buffer in place. The one extra cost: Tokio's `ReadBuf` and
//! hyper's `ReadBufCursor` may hold uninitialised bytes, and a `&mut [u8]`
//! must not, so for a generic `AsyncRead` the part of the buffer not yet initialised
//! is zero-filled before the read. The stream sockets (TCP and Unix
//! streams, `&stream` and their halves) skip that: they `recv` straight into
//! the uninitialised buffer, through the same readiness loop and coop budget
//! as their `poll_read` (crate-private `net::ReadUninit`). That matters for
//! hyper, which hands a fresh uninitialised cursor to every read (as does
//! `hyper-util`'s `TokioIo`), so the zero-filling would be a `memset` of the
//! whole space offered on every read. The other types (`DuplexStream`,
//! `BufReader`) keep the zero-filling path; both buffer types remember how
//! much is initialised, so it costs nothing for a reused buffer. No copies,
//! allocations or locks are added.
//!
//! # Covering a new I/O type
//!
//! `for_each_io_type!` lists every type once, with what it can do; each
//! shim module expands it with its own impl macro. Adding a type to every
//! bridge is one line there.

/// Expands `$shim!(Type => capabilities)` for every vigil I/O type.
///
/// Capabilities: `read` (a `futures_io::AsyncRead` impl; the shim
/// zero-fills the uninitialised part of the caller's buffer and reads into
/// it), `read_uninit` (a stream socket: also `crate::net::ReadUninit`, so
/// the shim receives straight into the uninitialised buffer), `write` (a
/// `futures_io::AsyncWrite` impl whose vectored write is the default, one
/// buffer at a time) or `write_vectored` (a real vectored write, reported
/// through `is_write_vectored`).
macro_rules! for_each_io_type {
    ($shim:ident) => {
        $shim!(crate::net::TcpStream => read_uninit, write_vectored);
        $shim!(&crate::net::TcpStream => read_uninit, write_vectored);
        $shim!(crate::net::tcp::ReadHalf<'_> => read_uninit);
        $shim!(crate::net::tcp::WriteHalf<'_> => write_vectored);
        $shim!(crate::net::tcp::OwnedReadHalf => read_uninit);
        $shim!(crate::net::tcp::OwnedWriteHalf => write_vectored);
        $shim!(crate::net::UnixStream => read_uninit, write_vectored);
        $shim!(&crate::net::UnixStream => read_uninit, write_vectored);
        $shim!(crate::net::unix::ReadHalf<'_> => read_uninit);
        $shim!(crate::net::unix::WriteHalf<'_> => write_vectored);
        $shim!(crate::net::unix::OwnedReadHalf => read_uninit);
        $shim!(crate::net::unix::OwnedWriteHalf => write_vectored);
        $shim!(crate::net::unix::pipe::Receiver => read);
        $shim!(crate::net::unix::pipe::Sender => write_vectored);
        $shim!(crate::process::ChildStdin => write_vectored);
        $shim!(crate::process::ChildStdout => read);
        $shim!(crate::process::ChildStderr => read);
        $shim!(crate::io::DuplexStream => read, write);
        $shim!(crate::io::SimplexStream => read, write);
    };
}

/// `impl<generics> $trait for $t` forwarding each write method to `$t`'s
/// `futures_io::AsyncWrite` impl (`poll_shutdown` is `poll_close`), with
/// `is_write_vectored` returning `$vectored`. Tokio's `AsyncWrite` and
/// hyper's `rt::Write` have the same five methods, so one body serves both.
#[cfg(any(feature = "hyper", feature = "tokio-io"))]
macro_rules! forward_write {
    ($trait:path, [$($generics:tt)*] $t:ty, $vectored:literal) => {
        impl<$($generics)*> $trait for $t {
            #[inline]
            fn poll_write(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &[u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                futures_io::AsyncWrite::poll_write(self, cx, buf)
            }

            #[inline]
            fn poll_write_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                futures_io::AsyncWrite::poll_write_vectored(self, cx, bufs)
            }

            #[inline]
            fn is_write_vectored(&self) -> bool {
                $vectored
            }

            #[inline]
            fn poll_flush(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                futures_io::AsyncWrite::poll_flush(self, cx)
            }

            #[inline]
            fn poll_shutdown(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                futures_io::AsyncWrite::poll_close(self, cx)
            }
        }
    };
}

#[cfg(feature = "hyper")]
pub mod hyper;
#[cfg(feature = "tokio-io")]
mod tokio_io;
