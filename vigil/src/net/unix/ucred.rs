//! [`UCred`]: who is at the other end of a Unix-domain stream.

use std::io;
use std::os::fd::RawFd;

/// The credentials of the peer process of a [`UnixStream`](super::UnixStream),
/// from [`UnixStream::peer_cred`](super::UnixStream::peer_cred): its user,
/// group and process ids as they were when the connection was made (the
/// kernel records them at `connect`; they do not follow later `setuid`s).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UCred {
    pid: libc::pid_t,
    uid: libc::uid_t,
    gid: libc::gid_t,
}

impl UCred {
    pub(super) fn of(fd: RawFd) -> io::Result<UCred> {
        let (pid, uid, gid) = crate::sys::socket::peer_cred(fd)?;
        Ok(UCred { pid, uid, gid })
    }

    /// The peer's user id.
    pub fn uid(&self) -> libc::uid_t {
        self.uid
    }

    /// The peer's group id.
    pub fn gid(&self) -> libc::gid_t {
        self.gid
    }

    /// The peer's process id; `None` if the kernel did not record one (a
    /// peer in another pid namespace that cannot be named from here).
    pub fn pid(&self) -> Option<libc::pid_t> {
        (self.pid != 0).then_some(self.pid)
    }
}
