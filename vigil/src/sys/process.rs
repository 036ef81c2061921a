//! Child processes: the process descriptor (`pidfd_open(2)`) that lets the
//! reactor wait for a child's exit, `O_NONBLOCK` for the stdio pipes `std`
//! creates, and a blocking wait that does not reap (for the fallback path
//! when process descriptors are unavailable).
//!
//! Reaping itself is left to `std::process::Child::try_wait`: as long as
//! `std`'s `Child` is the only thing that reaps, its `kill` can never hit a
//! reused PID (an unreaped child keeps its PID).

use super::cvt;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// A close-on-exec, non-blocking process descriptor for `pid`, which becomes
/// readable once the process has exited (Linux 5.3 and later).
///
/// # Errors
/// `ENOSYS` on older kernels, `EPERM` under some seccomp sandboxes, `ESRCH`
/// if no such process exists.
pub(crate) fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    let pid =
        libc::pid_t::try_from(pid).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: `pidfd_open` takes a pid and a flags word and touches no user
    // memory; it returns a new descriptor (always close-on-exec) or -1.
    let ret = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = ret as RawFd;
    // SAFETY: `fd` was just returned by the kernel and is owned by nobody else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    set_nonblocking(fd.as_raw_fd(), true)?;
    Ok(fd)
}

/// Sets or clears `O_NONBLOCK` on `fd` (which must be open for the call).
pub(crate) fn set_nonblocking(fd: RawFd, nonblocking: bool) -> io::Result<()> {
    // SAFETY: F_GETFL takes no argument and touches no memory.
    let flags = cvt(unsafe { libc::fcntl(fd, libc::F_GETFL) })?;
    let new = match nonblocking {
        true => flags | libc::O_NONBLOCK,
        false => flags & !libc::O_NONBLOCK,
    };
    if new != flags {
        // SAFETY: F_SETFL takes an integer argument and touches no memory.
        cvt(unsafe { libc::fcntl(fd, libc::F_SETFL, new) })?;
    }
    Ok(())
}

/// Blocks until the child `pid` has exited, *without* reaping it
/// (`waitid(P_PID, pid, WEXITED | WNOWAIT)`): the caller reaps afterwards
/// with `std`'s `try_wait`, so the PID stays reserved until then.
/// Interrupted calls are retried.
pub(crate) fn wait_exited_no_reap(pid: u32) -> io::Result<()> {
    let pid = libc::id_t::from(pid);
    loop {
        // SAFETY: `info` is a valid, zeroed `siginfo_t` that `waitid` may
        // write; no other memory is involved.
        let ret = unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            libc::waitid(libc::P_PID, pid, &mut info, libc::WEXITED | libc::WNOWAIT)
        };
        match cvt(ret) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            res => return res.map(|_| ()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pidfd_of_a_missing_process_is_an_error() {
        // PIDs are at most 2^22 on Linux; this one cannot exist.
        let err = pidfd_open(i32::MAX as u32).unwrap_err();
        assert!(
            matches!(
                err.raw_os_error(),
                Some(libc::ESRCH | libc::ENOSYS | libc::EPERM)
            ),
            "{err}"
        );
    }

    #[test]
    fn wait_without_reaping_leaves_the_status_to_std() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        wait_exited_no_reap(child.id()).unwrap();
        // Still unreaped: std collects the status.
        let status = child.try_wait().unwrap().expect("exited");
        assert!(status.success());
    }
}
