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
//! must not, so the part of the buffer not yet initialised is zero-filled
//! before the read. Both buffer types remember how much is initialised, so
//! this is nothing for a `ReadBuf` made over a `&mut [u8]` (what Tokio's
//! `read`/`read_exact` use) or one being reused; hyper hands a fresh
//! uninitialised cursor to every read, so there it is a `memset` of the
//! space offered, cheap next to the system call. No copies, allocations or
//! locks are added.
//!
//! # Covering a new I/O type
//!
//! `for_each_io_type!` lists every type once, with what it can do; each
//! shim module expands it with its own impl macro. Adding a type to every
//! bridge is one line there.

/// Expands `$shim!(Type => capabilities)` for every vigil I/O type.
///
/// Capabilities: `read` (a `futures_io::AsyncRead` impl), `write` (a
/// `futures_io::AsyncWrite` impl whose vectored write is the default, one
/// buffer at a time) or `write_vectored` (a real vectored write, reported
/// through `is_write_vectored`).
macro_rules! for_each_io_type {
    ($shim:ident) => {
        $shim!(crate::net::TcpStream => read, write_vectored);
        $shim!(&crate::net::TcpStream => read, write_vectored);
        $shim!(crate::net::tcp::ReadHalf<'_> => read);
        $shim!(crate::net::tcp::WriteHalf<'_> => write_vectored);
        $shim!(crate::net::tcp::OwnedReadHalf => read);
        $shim!(crate::net::tcp::OwnedWriteHalf => write_vectored);
        $shim!(crate::io::DuplexStream => read, write);
        // When `vigil::net::UnixStream` lands (check whether it has a real
        // vectored write):
        // $shim!(crate::net::UnixStream => read, write_vectored);
        // $shim!(&crate::net::UnixStream => read, write_vectored);
        // $shim!(crate::net::unix::ReadHalf<'_> => read);
        // $shim!(crate::net::unix::WriteHalf<'_> => write_vectored);
        // $shim!(crate::net::unix::OwnedReadHalf => read);
        // $shim!(crate::net::unix::OwnedWriteHalf => write_vectored);
    };
}

#[cfg(feature = "hyper")]
pub mod hyper;
#[cfg(feature = "tokio-io")]
mod tokio_io;
