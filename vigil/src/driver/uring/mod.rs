//! io_uring: the completion half of the driver, used for files.
//!
//! epoll cannot help with regular files. A file is always "ready", and a
//! read that misses the page cache simply blocks the calling thread inside
//! the kernel. That is why Tokio and smol send every file operation to a
//! pool of blocking threads: each read is a hand-off to another thread and
//! a wake-up back. io_uring turns the operation itself into a message: vigil
//! writes a submission entry, the kernel performs the operation (for data
//! already in the page cache, usually during the very system call that
//! submitted it) and posts a completion entry with the result.
//!
//! **One ring per runtime, created on first use.** A runtime that never
//! opens a file never pays for a ring. The ring's descriptor joins the
//! reactor's epoll set, level-triggered: it is readable while completions
//! are waiting, so the thread parked in the driver wakes up, drains them
//! and wakes their tasks like any other readiness. Submitting also drains
//! the completion queue right away: an operation the kernel finished inline
//! is complete before its future is first polled, with no park, no wake-up
//! and no second system call.
//!
//! **Operations own their buffers.** The kernel may write into a buffer at
//! any time until it posts the completion, whatever happens to the future
//! that asked. So an [`Op`] owns everything the kernel reads or writes (the
//! buffer, the path, the descriptor) from submission until completion, and
//! hands it back with the result. A future dropped earlier moves those
//! resources into the ring's table, where they stay until the completion
//! arrives, and asks the kernel to cancel. A ring that goes away with
//! operations still in flight cancels them and waits a bounded time; what
//! the kernel still holds after that is leaked on purpose rather than freed
//! under its feet.
//!
//! **Where io_uring is not available** (an old kernel, a seccomp filter,
//! `kernel.io_uring_disabled`, or `Builder::io_uring(false)`),
//! [`Handle::get`] returns `None` and callers run the operation on the
//! blocking pool instead.
//!
//! One limit of io_uring itself: the kernel cancels a thread's operations
//! when that thread exits. Runtime threads live as long as the runtime, and
//! an operation is submitted by the thread that first polls it, so this only
//! shows if a thread exits while an operation it submitted is still in
//! flight; that operation then fails with `ECANCELED`.

mod op;
pub(crate) mod ops;
mod ring;
pub(crate) mod write_queue;

pub(crate) use op::Op;
pub(crate) use ring::Uring;

use std::sync::OnceLock;

/// The runtime's lazily created ring (or the knowledge that there is
/// none), and its file-read setting.
pub(crate) struct Handle {
    enabled: bool,
    page_cache_first: bool,
    ring: OnceLock<Option<Uring>>,
}

impl Handle {
    pub(crate) fn new(enabled: bool, page_cache_first: bool) -> Handle {
        Handle {
            enabled,
            page_cache_first,
            ring: OnceLock::new(),
        }
    }

    /// Whether file reads try a non-blocking read from the page cache
    /// before going to the ring or the blocking pool.
    pub(crate) fn page_cache_first(&self) -> bool {
        self.page_cache_first
    }

    /// The ring, created on the first call; `None` if io_uring is disabled
    /// or the kernel refused it. `watch_fd` puts the new ring's descriptor
    /// in the reactor's epoll set.
    pub(crate) fn get(
        &self,
        watch_fd: impl FnOnce(std::os::fd::RawFd) -> std::io::Result<()>,
    ) -> Option<&Uring> {
        self.ring
            .get_or_init(|| {
                if !self.enabled {
                    return None;
                }
                match Uring::new() {
                    Ok(ring) => match watch_fd(ring.raw_fd()) {
                        Ok(()) => Some(ring),
                        Err(err) => {
                            tracing::debug!("vigil: io_uring ring not watchable ({err}); files use the blocking pool");
                            None
                        }
                    },
                    Err(err) => {
                        tracing::debug!("vigil: io_uring unavailable ({err}); files use the blocking pool");
                        None
                    }
                }
            })
            .as_ref()
    }

    /// The ring if it exists already; never creates one.
    pub(crate) fn existing(&self) -> Option<&Uring> {
        self.ring.get().and_then(Option::as_ref)
    }

    /// Runtime shutdown: new operations fail from now on.
    pub(crate) fn shutdown(&self) {
        if let Some(ring) = self.existing() {
            ring.shutdown();
        }
    }
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UringHandle")
            .field("enabled", &self.enabled)
            .field("page_cache_first", &self.page_cache_first)
            .field("created", &self.ring.get().is_some())
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::ops::{Read, CURRENT_POSITION};
    use crate::driver::Driver;
    use std::future::Future;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::pin::Pin;
    use std::sync::atomic::Ordering;
    use std::sync::Arc;
    use std::task::{Context, Poll, Waker};
    use std::time::Duration;

    fn pipe() -> (Arc<OwnedFd>, OwnedFd) {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors pipe2 writes.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        // SAFETY: both descriptors are fresh and owned by nobody else.
        unsafe {
            (
                Arc::new(OwnedFd::from_raw_fd(fds[0])),
                OwnedFd::from_raw_fd(fds[1]),
            )
        }
    }

    fn write_byte(fd: &OwnedFd) {
        // SAFETY: writes one byte from a valid static buffer.
        let written = unsafe { libc::write(fd.as_raw_fd(), b"x".as_ptr().cast(), 1) };
        assert_eq!(written, 1);
    }

    use crate::driver::test_support::Count;

    #[test]
    fn a_completion_wakes_the_task_through_the_reactor() {
        let (mut driver, handle) = Driver::new(crate::driver::Options {
            io_uring: true,
            page_cache_first: true,
            start_paused: false,
            events_per_tick: crate::driver::io::DEFAULT_EVENTS_PER_TURN,
        })
        .unwrap();
        assert!(
            handle.ring().is_some(),
            "io_uring is available on the test machines"
        );
        let (r, w) = pipe();
        let mut read = Read::new(
            handle.clone(),
            r,
            Vec::with_capacity(8),
            8,
            CURRENT_POSITION,
        );
        let count = Arc::new(Count::default());
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut read).poll(&mut cx).is_pending());
        write_byte(&w);
        driver.park(&handle, Some(Duration::from_secs(5)));
        assert_eq!(
            count.0.load(Ordering::SeqCst),
            1,
            "woken by the driver turn"
        );
        let Poll::Ready((res, _r, buf)) = Pin::new(&mut read).poll(&mut cx) else {
            panic!("complete after the wake");
        };
        assert_eq!(res.unwrap(), 1);
        assert_eq!(buf, b"x");
    }

    #[test]
    fn a_dropped_operation_keeps_its_resources_until_the_completion() {
        let (mut driver, handle) = Driver::new(crate::driver::Options {
            io_uring: true,
            page_cache_first: true,
            start_paused: false,
            events_per_tick: crate::driver::io::DEFAULT_EVENTS_PER_TURN,
        })
        .unwrap();
        let ring = handle.ring().unwrap();
        let (r, _w) = pipe();
        let mut read = Read::new(
            handle.clone(),
            r.clone(),
            Vec::with_capacity(8),
            8,
            CURRENT_POSITION,
        );
        let mut cx = Context::from_waker(Waker::noop());
        assert!(Pin::new(&mut read).poll(&mut cx).is_pending());
        assert_eq!(Arc::strong_count(&r), 2, "the operation owns a reference");
        drop(read);
        // The slot holds the resources until the (cancelled) completion is
        // reaped; the driver turn does that.
        assert_eq!(Arc::strong_count(&r), 2, "kept after the future is gone");
        assert_eq!(ring.lock().ops.len(), 1);
        driver.park(&handle, Some(Duration::from_secs(5)));
        assert_eq!(Arc::strong_count(&r), 1, "released once the kernel let go");
        assert!(ring.lock().ops.is_empty());
    }
}
