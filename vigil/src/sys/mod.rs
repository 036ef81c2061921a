//! The operating-system layer: thin, safe wrappers over the Linux calls the
//! drivers need (epoll, eventfd, file-descriptor flags, non-blocking file
//! reads, pipes, `poll`, signal dispositions), and nothing else.
//!
//! Each wrapper owns its file descriptor (`OwnedFd`), creates it with
//! `O_CLOEXEC` so it never leaks into a child process, and turns `-1` into
//! an `io::Error`. No policy lives here: when to wait, whom to wake and what
//! readiness means are the driver's business.

pub(crate) mod cpu;
pub(crate) mod epoll;
pub(crate) mod eventfd;
pub(crate) mod file;
pub(crate) mod membarrier;
pub(crate) mod pipe;
pub(crate) mod poll;
pub(crate) mod process;
pub(crate) mod signal;
pub(crate) mod socket;

use std::io;

/// Turns a libc return value into an `io::Result`.
pub(crate) fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// As [`cvt`], for calls returning `ssize_t`.
pub(crate) fn cvt_size(ret: libc::ssize_t) -> io::Result<usize> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret as usize)
    }
}
