//! Waiting for a child's exit, and reaping children nobody waits for.
//!
//! [`Reapable`] owns `std`'s `Child` and the way to learn that it exited:
//! its process descriptor registered with the reactor, or, where process
//! descriptors are unavailable, a helper thread that blocks in
//! `waitid(WNOWAIT)`. Either way only `std::process::Child::try_wait` reaps,
//! so the PID stays reserved (and `kill` safe) until the status is in hand.
//!
//! A `Child` dropped before its exit was collected hands its `Reapable` to
//! [`reap_in_background`]: a small task awaits the process descriptor and
//! reaps (no thread, no blocking-pool slot); in the fallback mode, or with no
//! runtime to run that task, a thread blocks in `wait`. Children whose reaper
//! task was cancelled because the runtime shut down go to the
//! [`orphanage`], with their process descriptor; so do children whose wait
//! failed in the task (their process descriptor is registered with the
//! reactor of the runtime that spawned them, which may be gone if they were
//! dropped on another runtime).

use super::orphanage;
use crate::driver::io::{Interest, PollEvented};
use crate::sync::oneshot;
use crate::sys::process as sys;
use std::io;
use std::os::fd::OwnedFd;
use std::process::ExitStatus;
use std::sync::{Arc, Mutex};

/// A spawned child and the means to await its exit.
pub(crate) struct Reapable {
    std: std::process::Child,
    exit: ExitSignal,
}

enum ExitSignal {
    /// The child's process descriptor: readable once it has exited.
    Pidfd(PollEvented<OwnedFd>),
    /// No process descriptor: a helper thread blocks until the child
    /// exits, then sends. Started by the first `wait`, kept across
    /// cancelled waits.
    Thread(Option<oneshot::Receiver<()>>),
}

impl Reapable {
    /// Prepares to wait for `std`: through a process descriptor unless
    /// `force_thread` is set or `pidfd_open` fails (old kernel, sandbox).
    ///
    /// # Errors
    /// If the descriptor cannot be registered (outside a runtime); the
    /// child is handed back with the error.
    #[allow(clippy::result_large_err)]
    pub(crate) fn new(
        std: std::process::Child,
        force_thread: bool,
    ) -> Result<Reapable, (io::Error, std::process::Child)> {
        let exit = match force_thread {
            true => ExitSignal::Thread(None),
            false => match sys::pidfd_open(std.id()) {
                Ok(fd) => match PollEvented::new(fd) {
                    Ok(pidfd) => ExitSignal::Pidfd(pidfd),
                    Err(e) => return Err((e, std)),
                },
                Err(e) => {
                    tracing::debug!("pidfd_open failed ({e}): waiting for children on threads");
                    ExitSignal::Thread(None)
                }
            },
        };
        Ok(Reapable { std, exit })
    }

    pub(crate) fn id(&self) -> u32 {
        self.std.id()
    }

    /// Whether exits are learnt from a process descriptor (for tests).
    #[cfg(test)]
    pub(crate) fn uses_pidfd(&self) -> bool {
        matches!(self.exit, ExitSignal::Pidfd(_))
    }

    pub(crate) fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.std.try_wait()
    }

    /// Sends `SIGKILL` (safe from PID reuse: the child is not reaped yet).
    pub(crate) fn start_kill(&mut self) -> io::Result<()> {
        self.std.kill()
    }

    /// Waits for the exit and reaps. Cancel safe: nothing is lost, a later
    /// call picks up where this one stopped.
    pub(crate) async fn wait(&mut self) -> io::Result<ExitStatus> {
        let Reapable { std, exit } = self;
        if let Some(status) = std.try_wait()? {
            return Ok(status);
        }
        match exit {
            ExitSignal::Pidfd(pidfd) => {
                // Readable once the child exited; `try_wait` then reaps.
                // `WouldBlock` clears the readiness and waits again.
                pidfd
                    .async_io(Interest::READABLE, |_| {
                        std.try_wait()?
                            .ok_or_else(|| io::ErrorKind::WouldBlock.into())
                    })
                    .await
            }
            ExitSignal::Thread(rx) => {
                let rx = match rx {
                    Some(rx) => rx,
                    None => rx.insert(spawn_exit_watcher(std.id())?),
                };
                // An error means the watcher is gone without sending, which
                // cannot happen short of a panic; `try_wait` below reports
                // the truth either way.
                let _ = rx.await;
                *exit = ExitSignal::Thread(None);
                // `waitid` returned without an exit only if it failed (e.g.
                // `ECHILD`: reaped behind `std`'s back), and then `try_wait`
                // fails too; do not spin on it.
                std.try_wait()?.ok_or_else(|| {
                    io::Error::other("the child's exit could not be observed (reaped elsewhere?)")
                })
            }
        }
    }
}

/// A thread that blocks until `pid` exits (without reaping it), then sends.
///
/// Not the blocking pool: a runtime's shutdown waits for the pool's running
/// closures, and a child may well outlive the runtime.
fn spawn_exit_watcher(pid: u32) -> io::Result<oneshot::Receiver<()>> {
    let (tx, rx) = oneshot::channel();
    std::thread::Builder::new()
        .name("vigil-process-wait".into())
        .spawn(move || {
            let _ = sys::wait_exited_no_reap(pid);
            let _ = tx.send(());
        })?;
    Ok(rx)
}

/// Owns a `Reapable` inside the reaper task; if the task is dropped before
/// reaping (runtime shutdown), the child becomes an orphan.
struct Guard(Option<Reapable>);

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(Reapable { std, exit }) = self.0.take() {
            let pidfd = match exit {
                ExitSignal::Pidfd(pidfd) => Some(pidfd.into_inner()),
                ExitSignal::Thread(_) => None,
            };
            orphanage::adopt(std, pidfd);
        }
    }
}

/// Reaps `child` once it exits, without anyone awaiting it.
pub(crate) fn reap_in_background(mut child: Reapable) {
    if !matches!(child.try_wait(), Ok(None)) {
        // Reaped now, or an error that waiting again would repeat.
        return;
    }
    if let ExitSignal::Pidfd(_) = child.exit {
        if let Ok(handle) = crate::runtime::Handle::try_current() {
            let mut guard = Guard(Some(child));
            drop(handle.spawn(async move {
                if let Some(child) = guard.0.as_mut() {
                    if child.wait().await.is_ok() {
                        // Reaped: nothing left for the guard to adopt.
                        drop(guard.0.take());
                    }
                    // On an error (e.g. the reactor the process descriptor
                    // is registered with shut down: a `Child` dropped on
                    // another runtime than its own), the guard adopts it.
                }
            }));
            return;
        }
    }
    // The child goes through a slot so that a failed thread spawn (which
    // drops the closure) does not lose it.
    let slot = Arc::new(Mutex::new(Some(child.std)));
    let theirs = Arc::clone(&slot);
    let spawned = std::thread::Builder::new()
        .name("vigil-process-reap".into())
        .spawn(move || {
            let child = theirs.lock().unwrap_or_else(|e| e.into_inner()).take();
            if let Some(mut child) = child {
                let _ = child.wait();
            }
        });
    if spawned.is_err() {
        if let Some(child) = slot.lock().unwrap_or_else(|e| e.into_inner()).take() {
            orphanage::adopt(child, None);
        }
    }
}
