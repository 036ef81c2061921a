//! Every live task of a runtime, so shutdown can find and drop them all.
//!
//! A task waiting on a channel whose sender sits in another pending task is
//! referenced by nothing the runtime can see, and reference counting alone
//! would leak the cycle. So each task is linked into an intrusive list when
//! spawned (the links live in its header; no allocation) and unlinked when it
//! completes. The list is sharded by task id to keep spawn and completion on
//! different workers from contending on one lock.

use super::core::Header;
use super::raw::RawTask;
use crate::loom::sync::atomic::{AtomicBool, Ordering};
use crate::loom::sync::Mutex;
use std::ptr::NonNull;

/// Intrusive links, stored in the task header and guarded by the shard lock.
pub(crate) struct Pointers {
    prev: Option<NonNull<Header>>,
    next: Option<NonNull<Header>>,
}

impl Pointers {
    pub(crate) fn new() -> Pointers {
        Pointers {
            prev: None,
            next: None,
        }
    }
}

struct Shard {
    head: Option<NonNull<Header>>,
    len: usize,
}

// SAFETY: the raw pointers are only dereferenced under the shard's lock, and
// the tasks they point at are `Sync`.
unsafe impl Send for Shard {}

pub(crate) struct OwnedTasks {
    shards: Box<[Mutex<Shard>]>,
    mask: usize,
    closed: AtomicBool,
}

fn links(task: NonNull<Header>) -> *mut Pointers {
    // SAFETY: the header is live while linked; callers hold the shard lock,
    // which is what guards the links.
    unsafe { task.as_ref() }.owned.with_mut(|p| p)
}

impl OwnedTasks {
    pub(crate) fn new(concurrency: usize) -> OwnedTasks {
        // Under loom, one shard: task ids come from a process-wide counter,
        // so the shard a task maps to would differ between model iterations
        // and loom requires every iteration to touch the same objects.
        let shards = if cfg!(loom) {
            1
        } else {
            (concurrency.max(1) * 4).next_power_of_two()
        };
        OwnedTasks {
            shards: (0..shards)
                .map(|_| Mutex::new(Shard { head: None, len: 0 }))
                .collect(),
            mask: shards - 1,
            closed: AtomicBool::new(false),
        }
    }

    fn shard(&self, task: RawTask) -> &Mutex<Shard> {
        let id = task.header().meta.id.as_u64() as usize;
        &self.shards[id & self.mask]
    }

    /// Links a new task, taking over one of its references. Returns `false`
    /// (and links nothing) once the list is closed: the caller must shut the
    /// task down itself.
    pub(crate) fn bind(&self, task: RawTask) -> bool {
        let mut shard = self.shard(task).lock().unwrap();
        if self.closed.load(Ordering::Acquire) {
            return false;
        }
        let ptr = task.header_ptr();
        // SAFETY: we hold the shard lock; `ptr` is not linked anywhere yet.
        unsafe {
            *links(ptr) = Pointers {
                prev: None,
                next: shard.head,
            };
            if let Some(head) = shard.head {
                (*links(head)).prev = Some(ptr);
            }
        }
        shard.head = Some(ptr);
        shard.len += 1;
        true
    }

    /// Unlinks a task that completed. Returns `true` if it was linked, in
    /// which case the caller now also owns the list's reference.
    pub(crate) fn remove(&self, task: RawTask) -> bool {
        let mut shard = self.shard(task).lock().unwrap();
        let ptr = task.header_ptr();
        // SAFETY: we hold the shard lock that guards every link in it.
        unsafe {
            let Pointers { prev, next } = std::ptr::replace(links(ptr), Pointers::new());
            match prev {
                Some(prev) => (*links(prev)).next = next,
                None if shard.head == Some(ptr) => shard.head = next,
                // Not linked: popped by shutdown, or never bound.
                None => return false,
            }
            if let Some(next) = next {
                (*links(next)).prev = prev;
            }
        }
        shard.len -= 1;
        true
    }

    fn pop(&self, shard: &Mutex<Shard>) -> Option<RawTask> {
        let mut shard = shard.lock().unwrap();
        let head = shard.head?;
        // SAFETY: we hold the shard lock.
        unsafe {
            let Pointers { next, .. } = std::ptr::replace(links(head), Pointers::new());
            if let Some(next) = next {
                (*links(next)).prev = None;
            }
            shard.head = next;
        }
        shard.len -= 1;
        // SAFETY: a linked task is alive: the list owns a reference.
        Some(unsafe { RawTask::from_raw(head) })
    }

    /// Closes the list to new tasks and shuts down every task in it. The lock
    /// is never held while a future is dropped, so a destructor may spawn
    /// (its task is cancelled at once).
    pub(crate) fn close_and_shutdown_all(&self, drop_futures: bool) {
        self.closed.store(true, Ordering::Release);
        for shard in self.shards.iter() {
            while let Some(task) = self.pop(shard) {
                task.shutdown(drop_futures);
            }
        }
    }

    /// Number of live tasks (a racy snapshot).
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().unwrap().len).sum()
    }
}
