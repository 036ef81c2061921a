//! epoll: one kernel object that reports readiness of many descriptors.

use super::cvt;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

/// Readiness kinds, as epoll reports them.
pub(crate) const READABLE: u32 = libc::EPOLLIN as u32;
pub(crate) const WRITABLE: u32 = libc::EPOLLOUT as u32;
pub(crate) const READ_CLOSED: u32 = libc::EPOLLRDHUP as u32;
pub(crate) const HUP: u32 = libc::EPOLLHUP as u32;
pub(crate) const ERROR: u32 = libc::EPOLLERR as u32;
pub(crate) const PRIORITY: u32 = libc::EPOLLPRI as u32;
const EDGE: u32 = libc::EPOLLET as u32;
const ONESHOT: u32 = libc::EPOLLONESHOT as u32;

#[derive(Debug)]
pub(crate) struct Epoll {
    fd: OwnedFd,
}

/// A buffer of events filled by [`Epoll::wait`].
pub(crate) struct Events {
    buf: Vec<libc::epoll_event>,
    len: usize,
}

impl Events {
    pub(crate) fn with_capacity(capacity: usize) -> Events {
        Events {
            buf: vec![libc::epoll_event { events: 0, u64: 0 }; capacity.max(1)],
            len: 0,
        }
    }

    /// Whether the last wait returned no event.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// `(token, readiness bits)` of each event of the last wait.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, u32)> + '_ {
        self.buf[..self.len].iter().map(|e| {
            // Copy out of the packed struct before use.
            let token = e.u64;
            let events = e.events;
            (token, events)
        })
    }
}

impl Epoll {
    pub(crate) fn new() -> io::Result<Epoll> {
        // SAFETY: plain syscall; the returned descriptor is owned below.
        let fd = cvt(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
        // SAFETY: `fd` is a fresh descriptor nobody else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Epoll { fd })
    }

    /// The epoll descriptor itself (to nest this instance in another).
    pub(crate) fn raw(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    fn ctl(&self, op: libc::c_int, fd: RawFd, events: u32, token: u64) -> io::Result<()> {
        let mut event = libc::epoll_event { events, u64: token };
        // SAFETY: `event` is a valid epoll_event for the duration of the call.
        cvt(unsafe { libc::epoll_ctl(self.fd.as_raw_fd(), op, fd, &mut event) })?;
        Ok(())
    }

    /// Watches `fd` edge-triggered for `interest` (bits above), reporting
    /// `token`.
    pub(crate) fn add_edge(&self, fd: RawFd, interest: u32, token: u64) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, interest | EDGE, token)
    }

    /// Watches `fd` level-triggered (used for the wake-up eventfd).
    pub(crate) fn add_level(&self, fd: RawFd, interest: u32, token: u64) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, interest, token)
    }

    /// Watches `fd` for `interest` edge-triggered and for one event only;
    /// after it, `fd` reports nothing until armed again.
    pub(crate) fn add_oneshot(&self, fd: RawFd, interest: u32, token: u64) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, interest | EDGE | ONESHOT, token)
    }

    /// Arms a descriptor added with [`add_oneshot`](Self::add_oneshot) for
    /// one more event (reported at once if `fd` is ready now).
    pub(crate) fn rearm_oneshot(&self, fd: RawFd, interest: u32, token: u64) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_MOD, fd, interest | EDGE | ONESHOT, token)
    }

    pub(crate) fn delete(&self, fd: RawFd) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_DEL, fd, 0, 0)
    }

    /// Waits for events, at most `timeout` (`None`: forever). An interrupted
    /// wait returns with no events.
    pub(crate) fn wait(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        let timeout_ms = match timeout {
            None => -1,
            // Round up so a sub-millisecond timeout does not become a busy
            // zero-timeout poll, and cap at what the call accepts.
            Some(t) => {
                let ms = t.as_nanos().div_ceil(1_000_000);
                ms.min(libc::c_int::MAX as u128) as libc::c_int
            }
        };
        let capacity = events.buf.len().min(libc::c_int::MAX as usize) as libc::c_int;
        // SAFETY: the buffer holds `capacity` writable events.
        let n = unsafe {
            libc::epoll_wait(
                self.fd.as_raw_fd(),
                events.buf.as_mut_ptr(),
                capacity,
                timeout_ms,
            )
        };
        match cvt(n) {
            Ok(n) => events.len = n as usize,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => events.len = 0,
            Err(e) => {
                events.len = 0;
                return Err(e);
            }
        }
        Ok(())
    }
}
