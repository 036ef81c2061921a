//! The ring and its table of operations in flight.
//!
//! Every submitted operation has a slot in a slab; the slot's key is the
//! entry's `user_data`, so a completion finds its slot by index. A slot goes
//! `Submitted` -> `Waiting` (a task polled it) -> `Completed` (the result
//! is in, the waker was woken) and is removed by the future that takes the
//! result, or `Ignored` (the future was dropped first; the slot keeps the
//! resources until the completion arrives and then frees them).
//!
//! One mutex guards the ring and the table. File operations are coarse
//! (each one is a system call's worth of work), and the lock is held only
//! to copy an entry into the submission queue or results out of the
//! completion queue; wakers run after it is released.

use crate::driver::wake_batch::WakeBatch;
use io_uring::{opcode, squeue, types, IoUring};
use slab::Slab;
use std::any::Any;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::task::Waker;
use std::time::{Duration, Instant};

/// Submission queue entries. The queue is flushed on every submission, so
/// it only has to absorb a burst from one lock hold.
const SQ_ENTRIES: u32 = 256;
/// Completion queue entries: room for this many operations in flight
/// before the kernel has to keep completions on its overflow list (it does,
/// `IORING_FEAT_NODROP`, and they are flushed on the next submission).
const CQ_ENTRIES: u32 = 4096;
/// The `user_data` of entries that have no slot (cancellation requests).
const NO_SLOT: u64 = u64::MAX;
/// How long dropping a ring waits for operations the kernel still holds.
const DRAIN_LIMIT: Duration = Duration::from_secs(1);

pub(crate) enum Lifecycle {
    Submitted,
    Waiting(Waker),
    Completed(i32),
    /// The future is gone; the resources wait for the completion. With
    /// `closes_fd`, a successful result is a new descriptor that nobody
    /// will take, and is closed.
    Ignored {
        resources: Box<dyn Any + Send>,
        closes_fd: bool,
    },
}

pub(crate) struct Ring {
    uring: IoUring,
    pub(crate) ops: Slab<Lifecycle>,
    is_shutdown: bool,
}

/// A runtime's ring, shared by all its threads.
pub(crate) struct Uring {
    ring: Mutex<Ring>,
    fd: RawFd,
    /// Entries are in the submission queue but the last `io_uring_enter`
    /// did not take them (`EBUSY`/`EAGAIN`); the driver retries.
    unsubmitted: AtomicBool,
}

fn shut_down() -> io::Error {
    io::Error::other("the vigil runtime this file operation belongs to has shut down")
}

impl Uring {
    pub(crate) fn new() -> io::Result<Uring> {
        let uring = IoUring::builder()
            .setup_cqsize(CQ_ENTRIES)
            .setup_clamp()
            .build(SQ_ENTRIES)?;
        let fd = uring.as_raw_fd();
        Ok(Uring {
            ring: Mutex::new(Ring {
                uring,
                ops: Slab::new(),
                is_shutdown: false,
            }),
            fd,
            unsubmitted: AtomicBool::new(false),
        })
    }

    pub(crate) fn raw_fd(&self) -> RawFd {
        self.fd
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Puts `entry` in the submission queue with a fresh slot, submits it,
    /// and drains whatever completions are ready (often including this
    /// one). Returns the slot's key.
    ///
    /// # Safety
    /// Every pointer in `entry` must stay valid, and every buffer it names
    /// unused by anyone else, until the slot completes: the caller moves the
    /// memory it points into to an [`Op`](super::Op) made with this key.
    pub(crate) unsafe fn submit(&self, entry: squeue::Entry) -> io::Result<usize> {
        let mut batch = WakeBatch::new();
        let key = {
            let mut ring = self.lock();
            if ring.is_shutdown {
                return Err(shut_down());
            }
            let key = ring.ops.vacant_key();
            let entry = entry.user_data(key as u64);
            // SAFETY: forwarded from this function's contract.
            unsafe { ring.push(&entry)? };
            ring.ops.insert(Lifecycle::Submitted);
            self.enter(&mut ring);
            ring.reap(&mut batch);
            key
        };
        batch.wake_all();
        Ok(key)
    }

    /// `io_uring_enter` for what is queued; on failure the driver retries.
    fn enter(&self, ring: &mut Ring) {
        let ok = ring.uring.submit().is_ok();
        self.unsubmitted.store(!ok, Ordering::Relaxed);
    }

    /// Asks the kernel to cancel the operation in slot `key` (best effort:
    /// it may complete normally instead).
    pub(crate) fn cancel(&self, ring: &mut Ring, key: usize) {
        let entry = opcode::AsyncCancel::new(key as u64)
            .build()
            .user_data(NO_SLOT);
        // SAFETY: a cancellation request points to no memory.
        if unsafe { ring.push(&entry) }.is_ok() {
            self.enter(ring);
        }
    }

    /// Drains every completion and wakes the tasks, releasing the lock
    /// between batches. Called by the thread in the driver when the ring's
    /// descriptor is readable.
    pub(crate) fn complete(&self) {
        if self.unsubmitted.load(Ordering::Relaxed) {
            let mut ring = self.lock();
            self.enter(&mut ring);
        }
        loop {
            let mut batch = WakeBatch::new();
            let more = self.lock().reap(&mut batch);
            batch.wake_all();
            if !more {
                break;
            }
        }
    }

    /// Whether entries wait for a retried submission (the driver then
    /// keeps its sleep short).
    pub(crate) fn has_unsubmitted(&self) -> bool {
        self.unsubmitted.load(Ordering::Relaxed)
    }

    pub(crate) fn shutdown(&self) {
        self.lock().is_shutdown = true;
    }
}

impl Ring {
    /// Copies `entry` into the submission queue, flushing it if full.
    ///
    /// # Safety
    /// As [`Uring::submit`].
    unsafe fn push(&mut self, entry: &squeue::Entry) -> io::Result<()> {
        loop {
            // SAFETY: forwarded from this function's contract.
            if unsafe { self.uring.submission().push(entry) }.is_ok() {
                return Ok(());
            }
            // Full: hand the queued entries to the kernel to make room. If
            // it takes none, report that rather than loop.
            if self.uring.submit()? == 0 {
                return Err(io::Error::from_raw_os_error(libc::EBUSY));
            }
        }
    }

    /// Moves results from the completion queue into their slots; returns
    /// `true` if it stopped because `batch` filled up (more may be left).
    pub(crate) fn reap(&mut self, batch: &mut WakeBatch) -> bool {
        loop {
            let mut cq = self.uring.completion();
            loop {
                if batch.is_full() {
                    return true;
                }
                let Some(cqe) = cq.next() else { break };
                let key = cqe.user_data();
                if key == NO_SLOT {
                    continue;
                }
                let Some(slot) = self.ops.get_mut(key as usize) else {
                    continue;
                };
                match std::mem::replace(slot, Lifecycle::Completed(cqe.result())) {
                    Lifecycle::Waiting(waker) => batch.push(waker),
                    Lifecycle::Submitted | Lifecycle::Completed(_) => {}
                    Lifecycle::Ignored {
                        resources,
                        closes_fd,
                    } => {
                        self.ops.remove(key as usize);
                        drop(resources);
                        if closes_fd {
                            close_result(cqe.result());
                        }
                    }
                }
            }
            drop(cq);
            // Completions the kernel could not fit are flushed by entering
            // (with `IORING_ENTER_GETEVENTS`, which `submit` adds then).
            if !self.uring.submission().cq_overflow() || self.uring.submit().is_err() {
                return false;
            }
        }
    }

    /// Waits (a bounded time) until every operation in flight completed.
    /// Returns whether none is left.
    fn drain(&mut self) -> bool {
        let pending: Vec<usize> = self
            .ops
            .iter()
            .filter(|(_, op)| !matches!(op, Lifecycle::Completed(_)))
            .map(|(key, _)| key)
            .collect();
        for key in pending {
            let entry = opcode::AsyncCancel::new(key as u64)
                .build()
                .user_data(NO_SLOT);
            // SAFETY: a cancellation request points to no memory.
            let _ = unsafe { self.push(&entry) };
        }
        let deadline = Instant::now() + DRAIN_LIMIT;
        let mut batch = WakeBatch::new();
        loop {
            // Wakers here belong to futures already gone; just drop them.
            while self.reap(&mut batch) {
                batch.clear();
            }
            batch.clear();
            let in_flight = self
                .ops
                .iter()
                .any(|(_, op)| !matches!(op, Lifecycle::Completed(_)));
            if !in_flight {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            let wait = types::Timespec::from(Duration::from_millis(50).min(deadline - now));
            let args = types::SubmitArgs::new().timespec(&wait);
            let _ = self.uring.submitter().submit_with_args(1, &args);
        }
    }
}

/// Closes the descriptor an operation returned (if it succeeded) to a
/// future that is no longer there to own it.
pub(crate) fn close_result(res: i32) {
    if res >= 0 {
        // SAFETY: a non-negative result of an operation that creates a
        // descriptor is a new descriptor, owned by nobody else.
        drop(unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(res) });
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        if self.ops.is_empty() || self.drain() {
            return;
        }
        // The kernel still holds some operations' memory and may write into
        // it: leak the resources rather than free them under it.
        tracing::warn!(
            "vigil: io_uring operations still in flight when their runtime went away; their \
             buffers are leaked"
        );
        std::mem::forget(std::mem::take(&mut self.ops));
    }
}
