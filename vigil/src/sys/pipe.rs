//! Pipes and `splice(2)`: moving bytes between descriptors inside the
//! kernel, without copying them through user memory.

use super::{cvt, cvt_size};
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// A non-blocking, close-on-exec pipe: `(read end, write end)`.
pub(crate) fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) })?;
    // SAFETY: both descriptors are fresh and owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Asks for a pipe buffer of `size` bytes; returns the size granted (the
/// kernel may cap it, or refuse, in which case the default stays).
pub(crate) fn set_pipe_size(fd: &OwnedFd, size: usize) -> usize {
    let size = size.min(libc::c_int::MAX as usize) as libc::c_int;
    // SAFETY: F_SETPIPE_SZ takes an integer argument and touches no memory.
    match cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETPIPE_SZ, size) }) {
        Ok(granted) => granted as usize,
        // SAFETY: F_GETPIPE_SZ takes no argument.
        Err(_) => cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETPIPE_SZ) })
            .map_or(65536, |n| n as usize),
    }
}

/// Moves up to `len` bytes from `from` to `to` (one of them a pipe) without
/// blocking. `Ok(0)` means end of file on `from`.
pub(crate) fn splice(from: RawFd, to: RawFd, len: usize) -> io::Result<usize> {
    // SAFETY: null offsets mean "use and advance the file position"; no
    // user memory is involved.
    cvt_size(unsafe {
        libc::splice(
            from,
            std::ptr::null_mut(),
            to,
            std::ptr::null_mut(),
            len,
            libc::SPLICE_F_NONBLOCK | libc::SPLICE_F_MOVE,
        )
    })
}

/// `read(2)` into `buf` from a descriptor that is not a socket (a pipe end,
/// an eventfd): `Ok(0)` is end of file, `WouldBlock` means empty.
pub(crate) fn read(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes for the call.
    cvt_size(unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) })
}

/// As [`read`], into a buffer that need not be initialised. On `Ok(n)`,
/// the first `n` bytes of `buf` hold what was read and nothing else was
/// written.
pub(crate) fn read_uninit(fd: RawFd, buf: &mut [MaybeUninit<u8>]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes for the call;
    // `MaybeUninit<u8>` has the layout of `u8`, and `read(2)` only stores
    // the bytes it read, so the memory being uninitialised is fine.
    cvt_size(unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) })
}

/// `write(2)` of `buf` to a descriptor that is not a socket. Writing to a
/// pipe whose reader is gone fails with `EPIPE` (vigil ignores `SIGPIPE`
/// when a runtime is built, see `sys::signal`).
pub(crate) fn write(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for reads of `buf.len()` bytes for the call.
    cvt_size(unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) })
}
