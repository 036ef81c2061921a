//! The process's standard streams as async I/O: [`stdin`], [`stdout`] and
//! [`stderr`].
//!
//! Descriptors 0, 1 and 2 are shared with the parent process (a shell, a
//! service manager), so vigil does not make them non-blocking: that flag
//! belongs to the open file, and flipping it would change the parent's
//! view of its terminal or pipe too. The reactor's readiness model is
//! therefore out, and each read or write is an operation handed to
//! someone who may wait:
//!
//! - on a runtime with io_uring (the default), the kernel. A read of a
//!   pipe or terminal stays in the ring until data comes, costs no thread,
//!   and is cancelled when the `Stdin` that started it is dropped, so a
//!   program that stops reading can still shut down promptly;
//! - otherwise a thread of the blocking pool, as Tokio does. A read blocked
//!   there cannot be cancelled: the runtime's shutdown waits for it (use
//!   `Runtime::shutdown_timeout`).
//!
//! Both read and write the descriptors directly, with no buffer of
//! `std::io`'s in between, so mixing them with `std::io::stdin()` loses
//! whatever std's buffer took. Writes are handed off: `poll_write`
//! returns as soon as the bytes are copied into the stream's buffer, and a
//! failure shows up on the next write or flush; call `flush` before
//! relying on the bytes having been written, and before exiting.

mod reader;
mod writer;

pub use reader::Stdin;
pub use writer::{Stderr, Stdout};

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::sync::Arc;

/// At most this many bytes per operation.
const CHUNK: usize = 64 * 1024;

/// One of the standard descriptors, borrowed for the life of the process
/// (never closed by vigil).
#[derive(Clone, Copy, Debug)]
struct StdFd(RawFd);

impl AsRawFd for StdFd {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

impl AsFd for StdFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: a `StdFd` is one of descriptors 0, 1 and 2, which vigil
        // never closes, so the descriptor outlives any borrow of it (std's
        // own `Stdin::as_fd` rests on the same fact).
        unsafe { BorrowedFd::borrow_raw(self.0) }
    }
}

/// `AsRawFd` and `AsFd` for a standard-stream handle, through its `StdFd`.
macro_rules! std_fd_traits {
    ($name:ident, |$this:ident| $fd:expr) => {
        impl std::os::fd::AsRawFd for $name {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                let $this = self;
                $fd.as_raw_fd()
            }
        }

        impl std::os::fd::AsFd for $name {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                let $this = self;
                std::os::fd::AsFd::as_fd(&$fd)
            }
        }
    };
}

std_fd_traits!(Stdin, |stdin| stdin.fd);
std_fd_traits!(Stdout, |stdout| stdout.w.fd);
std_fd_traits!(Stderr, |stderr| stderr.w.fd);

/// Who performs the next operation.
enum Engine {
    Uring(Arc<crate::driver::Handle>),
    Blocking(crate::runtime::Handle),
}

fn engine() -> io::Result<Engine> {
    let driver = crate::runtime::context::try_driver_handle().ok_or_else(|| {
        io::Error::other(
            "vigil's stdin, stdout and stderr must be used inside a vigil runtime: from a task \
             or inside `Runtime::block_on`",
        )
    })?;
    if driver.ring().is_some() {
        return Ok(Engine::Uring(driver));
    }
    let handle =
        crate::runtime::Handle::try_current().map_err(|e| io::Error::other(e.to_string()))?;
    Ok(Engine::Blocking(handle))
}

/// An operation on the blocking pool that did not finish (the runtime shut
/// down, or it panicked).
fn lost(err: crate::task::JoinError) -> io::Error {
    io::Error::other(format!(
        "a standard-stream operation on the blocking pool was lost: {err}"
    ))
}

/// A handle to the process's standard input: `AsyncRead`. Reads come
/// straight from descriptor 0; see [`Stdin`] for how.
pub fn stdin() -> Stdin {
    Stdin::new(StdFd(0))
}

/// A handle to the process's standard output: `AsyncWrite`, with writes
/// handed off (call `flush`). Each handle has its own buffer: bytes of two
/// handles may interleave at any write boundary.
pub fn stdout() -> Stdout {
    Stdout::new(StdFd(1))
}

/// A handle to the process's standard error, as [`stdout`].
pub fn stderr() -> Stderr {
    Stderr::new(StdFd(2))
}
