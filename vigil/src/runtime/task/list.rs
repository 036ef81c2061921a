//! Every live task of a runtime, so shutdown can find and drop them all.
//!
//! A task waiting on a channel whose sender sits in another pending task is
//! referenced by nothing the runtime can see, and reference counting alone
//! would leak the cycle. So each task is registered here when spawned and
//! unregistered when it completes.
//!
//! Each shard is a slab of task pointers; the task remembers its slot index
//! in its header. Registering or unregistering a task therefore writes only
//! the slab and the task's own header. (An intrusive doubly linked list would
//! avoid the slab, but every insert and removal would write the *neighbours'*
//! headers, which on a multi-thread runtime usually sit in another core's
//! cache: profiling showed that as the largest cost of spawning.) Shards are
//! picked by task id so spawning and completing on different workers rarely
//! meet on one lock.

use super::core::Header;
use super::raw::RawTask;
use crate::loom::sync::atomic::{AtomicBool, Ordering};
use crate::loom::sync::Mutex;
use slab::Slab;
use std::ptr::NonNull;

/// Where a task sits in its shard, stored in the task header and guarded by
/// the shard lock.
pub(crate) struct Slot(u32);

const NOT_LINKED: u32 = u32::MAX;

impl Slot {
    pub(crate) fn new() -> Slot {
        Slot(NOT_LINKED)
    }
}

struct TaskPtr(NonNull<Header>);

// SAFETY: the pointers are only dereferenced under the shard's lock, and the
// tasks they point at are `Sync`.
unsafe impl Send for TaskPtr {}

type Shard = Slab<TaskPtr>;

pub(crate) struct OwnedTasks {
    shards: Box<[Mutex<Shard>]>,
    mask: usize,
    closed: AtomicBool,
}

fn slot(task: NonNull<Header>) -> *mut Slot {
    // SAFETY: the header is live while registered; callers hold the shard
    // lock, which is what guards the slot index.
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
            (concurrency.max(1) * 16).next_power_of_two().max(32)
        };
        OwnedTasks {
            shards: (0..shards).map(|_| Mutex::new(Slab::new())).collect(),
            mask: shards - 1,
            closed: AtomicBool::new(false),
        }
    }

    fn shard(&self, task: RawTask) -> &Mutex<Shard> {
        let id = task.header().meta.id.as_u64() as usize;
        &self.shards[id & self.mask]
    }

    /// Registers a new task, taking over one of its references. Returns
    /// `false` (and registers nothing) once the list is closed: the caller
    /// must shut the task down itself.
    pub(crate) fn bind(&self, task: RawTask) -> bool {
        let mut shard = self.shard(task).lock().unwrap();
        if self.closed.load(Ordering::Acquire) {
            return false;
        }
        let ptr = task.header_ptr();
        let index = shard.insert(TaskPtr(ptr));
        let index = u32::try_from(index)
            .ok()
            .filter(|&i| i != NOT_LINKED)
            .expect("more than 4 billion live tasks in one shard");
        // SAFETY: we hold the shard lock that guards the slot index.
        unsafe { *slot(ptr) = Slot(index) };
        true
    }

    /// Unregisters a task that completed. Returns `true` if it was
    /// registered, in which case the caller now also owns the list's
    /// reference.
    pub(crate) fn remove(&self, task: RawTask) -> bool {
        let mut shard = self.shard(task).lock().unwrap();
        let ptr = task.header_ptr();
        // SAFETY: we hold the shard lock that guards the slot index.
        let Slot(index) = unsafe { std::ptr::replace(slot(ptr), Slot::new()) };
        if index == NOT_LINKED {
            // Popped by shutdown, or never bound.
            return false;
        }
        let removed = shard.remove(index as usize);
        debug_assert_eq!(removed.0, ptr);
        true
    }

    /// Takes every task out of a shard, clearing their slot indices.
    fn drain(&self, shard: &Mutex<Shard>) -> Vec<RawTask> {
        let mut shard = shard.lock().unwrap();
        shard
            .drain()
            .map(|TaskPtr(ptr)| {
                // SAFETY: we hold the shard lock that guards the slot index.
                unsafe { *slot(ptr) = Slot::new() };
                // SAFETY: a registered task is alive: the list owns a reference.
                unsafe { RawTask::from_raw(ptr) }
            })
            .collect()
    }

    /// Closes the list to new tasks and shuts down every task in it. The lock
    /// is never held while a future is dropped, so a destructor may spawn
    /// (its task is refused by the closed list and cancelled at once).
    pub(crate) fn close_and_shutdown_all(&self, drop_futures: bool) {
        self.closed.store(true, Ordering::Release);
        for shard in self.shards.iter() {
            // Once closed, no task is added, so one drain per shard suffices;
            // loop anyway in case a bind raced with the store above.
            loop {
                let tasks = self.drain(shard);
                if tasks.is_empty() {
                    break;
                }
                for task in tasks {
                    task.shutdown(drop_futures);
                }
            }
        }
    }

    /// Runs `f` on the registered task at `ptr` whose id is `id`, under its
    /// shard's lock (so the task cannot be freed meanwhile). `None` if no
    /// such task is registered (it completed, or the pointer was reused).
    pub(crate) fn with_task<R>(
        &self,
        ptr: NonNull<Header>,
        id: u64,
        f: impl FnOnce(&Header, RawTask) -> R,
    ) -> Option<R> {
        let shard = self.shards[id as usize & self.mask].lock().unwrap();
        let found = shard.iter().find(|(_, p)| p.0 == ptr)?;
        // SAFETY: a registered task is alive while its shard is locked: the
        // list owns a reference, dropped only after `remove` takes the lock.
        let header = unsafe { found.1 .0.as_ref() };
        if header.meta.id.as_u64() != id {
            return None;
        }
        // SAFETY: as above.
        let raw = unsafe { RawTask::from_raw(ptr) };
        Some(f(header, raw))
    }

    /// Calls `f` on every registered task, one shard at a time under that
    /// shard's lock (`f` must not spawn, complete or free tasks).
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Header)) {
        for shard in self.shards.iter() {
            let shard = shard.lock().unwrap();
            for (_, ptr) in shard.iter() {
                // SAFETY: registered tasks are alive while the shard is locked.
                f(unsafe { ptr.0.as_ref() });
            }
        }
    }

    /// Number of live tasks (a racy snapshot).
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().unwrap().len()).sum()
    }
}
