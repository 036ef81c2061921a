//! Reading a file without waiting for the disk: `preadv2(RWF_NOWAIT)`;
//! and the one file status flag the writers need (`O_APPEND`).
//!
//! With `RWF_NOWAIT` the kernel copies what the page cache already holds
//! and returns `EAGAIN` instead of starting I/O and sleeping, so the call
//! costs what a memory copy costs and never blocks the thread. It is the
//! file equivalent of a non-blocking socket read.

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, BorrowedFd};

/// The offset that means "at the file's current position, and advance it".
pub(crate) const CURRENT_POSITION: i64 = -1;

/// Reads what the page cache holds into `buf` at `offset` (or at the
/// current position). `WouldBlock` if the data is not cached; an error of
/// another kind if the file or its file system does not support it (pipes
/// with an offset, some network file systems).
pub(crate) fn read_nowait(
    fd: BorrowedFd<'_>,
    buf: &mut [MaybeUninit<u8>],
    offset: i64,
) -> io::Result<usize> {
    let iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: one iovec naming `buf`, writable for its length; the kernel
    // only writes initialised bytes into it.
    let n = unsafe { libc::preadv2(fd.as_raw_fd(), &iov, 1, offset, libc::RWF_NOWAIT) };
    super::cvt_size(n)
}

/// Whether `fd` was opened with `O_APPEND` (every write goes to the end,
/// whatever offset it names).
pub(crate) fn is_append(fd: BorrowedFd<'_>) -> io::Result<bool> {
    // SAFETY: F_GETFL takes no argument and touches no memory.
    let flags = super::cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) })?;
    Ok(flags & libc::O_APPEND != 0)
}
