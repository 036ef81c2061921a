//! `poll(2)`: blocking until one of a handful of descriptors is readable,
//! for the one helper thread that has no reactor to wait in (the orphan
//! watcher of `process`).

use super::cvt;
use std::io;
use std::os::fd::RawFd;

/// Blocks until at least one of `fds` is readable or hung up (no timeout);
/// a call interrupted by a signal is retried. Says nothing about which:
/// the caller checks whatever it was waiting for.
///
/// # Errors
/// What `poll` reports: `EINVAL` past `RLIMIT_NOFILE` descriptors, `ENOMEM`.
pub(crate) fn wait_readable(fds: &[RawFd]) -> io::Result<()> {
    let mut pollfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    loop {
        // SAFETY: `pollfds` is a valid array of `pollfds.len()` entries that
        // `poll` may write (`revents`) for the duration of the call.
        let ret = unsafe { libc::poll(pollfds.as_mut_ptr(), pollfds.len() as libc::nfds_t, -1) };
        match cvt(ret) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            res => return res.map(drop),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::eventfd::EventFd;
    use std::os::fd::AsRawFd;

    #[test]
    fn returns_once_one_descriptor_is_readable() {
        let quiet = EventFd::new().unwrap();
        let woken = EventFd::new().unwrap();
        woken.wake();
        wait_readable(&[quiet.as_raw_fd(), woken.as_raw_fd()]).unwrap();
    }
}
