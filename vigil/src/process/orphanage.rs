//! Children nobody will wait for any more, and the one thread that reaps
//! them as they exit.
//!
//! A dropped [`Child`](super::Child) is normally reaped by a small task on
//! its runtime. When that runtime shuts down first, the task is cancelled
//! and the child lands here, an *orphan*. Left alone it would stay a zombie
//! (a process-table slot and its PID) until vigil happened to look again, so
//! a single watcher thread waits in `poll(2)` on the orphans' process
//! descriptors, reaps each one as it becomes readable, and exits when no
//! orphan is left: no thread per orphan, no periodic wake-up, and no thread
//! at all in a program whose runtimes outlive their children.
//!
//! An eventfd tells the watcher that the list changed. The list is only
//! touched under its lock, the eventfd is drained under it too, and every
//! change after that is followed by a wake, so the watcher never sleeps on a
//! stale list. Orphans without a process descriptor (the fallback mode,
//! when a reaping thread could not be started) and every orphan when the
//! watcher cannot run (no eventfd, no thread) are still reaped: every spawn
//! and every drop of a child calls [`reap_exited`].

use crate::sys::eventfd::EventFd;
use crate::sys::poll;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::{Mutex, MutexGuard, OnceLock};

struct Orphan {
    child: std::process::Child,
    /// Readable once the child has exited.
    pidfd: Option<OwnedFd>,
}

impl Orphan {
    /// Reaps the child if it exited; `false` once it is reaped (or waiting
    /// for it fails, which waiting again would repeat).
    fn still_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

struct Orphans {
    list: Vec<Orphan>,
    watcher_running: bool,
}

static ORPHANS: Mutex<Orphans> = Mutex::new(Orphans {
    list: Vec::new(),
    watcher_running: false,
});

/// The watcher's wake-up; `None` if no eventfd could be created.
static CHANGED: OnceLock<Option<EventFd>> = OnceLock::new();

fn lock() -> MutexGuard<'static, Orphans> {
    // A panic while the lock was held left a consistent list (only pushes
    // and `retain_mut` touch it): carry on.
    ORPHANS.lock().unwrap_or_else(|e| e.into_inner())
}

fn changed() -> Option<&'static EventFd> {
    CHANGED.get_or_init(|| EventFd::new().ok()).as_ref()
}

/// Takes `child` in, to be reaped once it exits: by the watcher if `pidfd`
/// is its process descriptor, else at the next [`reap_exited`].
pub(crate) fn adopt(child: std::process::Child, pidfd: Option<OwnedFd>) {
    let mut orphans = lock();
    orphans.list.push(Orphan { child, pidfd });
    let Some(changed) = changed() else { return };
    if orphans.watcher_running {
        changed.wake();
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("vigil-orphans".into())
        .spawn(move || watch(changed));
    orphans.watcher_running = spawned.is_ok();
}

/// Reaps every orphan that has exited (one `waitpid(WNOHANG)` each), unless
/// someone else is at it. Called on every spawn and every drop of a child.
pub(crate) fn reap_exited() {
    let Ok(mut orphans) = ORPHANS.try_lock() else {
        return;
    };
    let before = orphans.list.len();
    orphans.list.retain_mut(Orphan::still_running);
    if orphans.list.len() != before && orphans.watcher_running {
        // The watcher may be polling a descriptor that was just closed.
        if let Some(changed) = changed() {
            changed.wake();
        }
    }
}

/// The watcher thread: reap what exited, then sleep until an orphan's
/// process descriptor or the list changes; return when nothing is left to
/// watch.
fn watch(changed: &'static EventFd) {
    let mut fds: Vec<RawFd> = Vec::new();
    loop {
        {
            let mut orphans = lock();
            changed.drain();
            orphans.list.retain_mut(Orphan::still_running);
            fds.clear();
            fds.push(changed.as_raw_fd());
            fds.extend(
                orphans
                    .list
                    .iter()
                    .filter_map(|o| o.pidfd.as_ref().map(AsRawFd::as_raw_fd)),
            );
            if fds.len() == 1 {
                orphans.watcher_running = false;
                return;
            }
        }
        if let Err(e) = poll::wait_readable(&fds) {
            tracing::debug!("the orphan watcher stops ({e}); orphans are reaped on spawns");
            lock().watcher_running = false;
            return;
        }
    }
}
