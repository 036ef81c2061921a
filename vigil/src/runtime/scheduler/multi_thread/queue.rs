//! A worker's local run queue: a fixed ring that its owner pushes to and
//! pops from without locks, and that idle workers steal half of.
//!
//! `head` and `tail` are monotonically increasing positions (64-bit, so they
//! never wrap in practice); a slot is `position % CAPACITY`. Only the owner
//! writes `tail` and the slots. Anyone may advance `head`, by compare-and-swap,
//! after copying out the slots they are claiming. A claim can only fail to
//! see the right values if the owner overwrote a slot, which it only does
//! after observing `head` move past that slot, and then the claim's CAS on
//! the old `head` fails. So reading before the CAS is safe, and the slots are
//! atomics so even a stale read is not a data race.
//!
//! When the ring is full, the owner moves half of it to the global injection
//! queue in one batch, so a burst of spawns from one task spreads out.

use crate::loom::sync::atomic::{AtomicPtr, AtomicU64, Ordering::*};
use crate::runtime::scheduler::inject::Inject;
use crate::runtime::task::{Header, Notified, RawTask};
use std::marker::PhantomData;
use std::ptr::{self, NonNull};

#[cfg(not(loom))]
pub(crate) const CAPACITY: usize = 256;
#[cfg(loom)]
pub(crate) const CAPACITY: usize = 4;

const MASK: u64 = CAPACITY as u64 - 1;

struct Ring {
    head: AtomicU64,
    tail: AtomicU64,
    slots: Box<[AtomicPtr<Header>]>,
    /// Times half the ring moved to the injection queue (a metric, not part
    /// of the protocol above, hence a plain `std` atomic even under loom).
    overflows: std::sync::atomic::AtomicU64,
}

/// The owner's side.
pub(crate) struct Local<S: 'static> {
    ring: std::sync::Arc<Ring>,
    _p: PhantomData<S>,
}

/// Everyone else's side: steal only.
pub(crate) struct Steal<S: 'static> {
    ring: std::sync::Arc<Ring>,
    _p: PhantomData<S>,
}

pub(crate) fn local<S: 'static>() -> (Steal<S>, Local<S>) {
    let ring = std::sync::Arc::new(Ring {
        head: AtomicU64::new(0),
        tail: AtomicU64::new(0),
        slots: (0..CAPACITY)
            .map(|_| AtomicPtr::new(ptr::null_mut()))
            .collect(),
        overflows: std::sync::atomic::AtomicU64::new(0),
    });
    (
        Steal {
            ring: ring.clone(),
            _p: PhantomData,
        },
        Local {
            ring,
            _p: PhantomData,
        },
    )
}

impl Ring {
    fn slot(&self, pos: u64) -> &AtomicPtr<Header> {
        &self.slots[(pos & MASK) as usize]
    }

    fn len(&self) -> u64 {
        let head = self.head.load(Acquire);
        let tail = self.tail.load(Acquire);
        tail.wrapping_sub(head)
    }
}

fn to_ptr<S>(task: Notified<S>) -> *mut Header {
    task.into_raw().header_ptr().as_ptr()
}

/// # Safety
/// `ptr` must come from `to_ptr` and be claimed exactly once.
unsafe fn from_ptr<S>(ptr: *mut Header) -> Notified<S> {
    // SAFETY: forwarded contract; the pointer is non-null.
    unsafe { Notified::from_raw(RawTask::from_raw(NonNull::new_unchecked(ptr))) }
}

impl<S: 'static> Local<S> {
    pub(crate) fn len(&self) -> usize {
        self.ring.len() as usize
    }

    /// Pushes to the back; on overflow moves half the ring plus `task` to
    /// `inject`.
    pub(crate) fn push_back(&mut self, task: Notified<S>, inject: &Inject<S>) {
        let mut task = task;
        loop {
            // Only the owner writes `tail`.
            let tail = self.ring.tail.load(Relaxed);
            let head = self.ring.head.load(Acquire);
            if tail.wrapping_sub(head) < CAPACITY as u64 {
                self.ring.slot(tail).store(to_ptr(task), Relaxed);
                self.ring.tail.store(tail.wrapping_add(1), Release);
                return;
            }
            match self.push_overflow(task, head, inject) {
                Ok(()) => return,
                // A stealer made room meanwhile; try again.
                Err(t) => task = t,
            }
        }
    }

    fn push_overflow(
        &mut self,
        task: Notified<S>,
        head: u64,
        inject: &Inject<S>,
    ) -> Result<(), Notified<S>> {
        let n = (CAPACITY / 2) as u64;
        if self
            .ring
            .head
            .compare_exchange(head, head.wrapping_add(n), AcqRel, Acquire)
            .is_err()
        {
            return Err(task);
        }
        self.ring.overflows.fetch_add(1, Relaxed);
        // The claimed slots are read after the claim, straight into the
        // injection queue (no buffer: a wake that overflows the ring must
        // not allocate). Nobody writes them meanwhile: stealers only read
        // slots, and only we, the owner, write them, after this returns.
        let ring = &self.ring;
        let batch = (0..n).map(|i| {
            let ptr = ring.slot(head.wrapping_add(i)).load(Relaxed);
            // SAFETY: the CAS gave us these slots' task references.
            unsafe { from_ptr::<S>(ptr) }
        });
        inject.push_batch(batch.chain(std::iter::once(task)));
        Ok(())
    }

    /// Pops from the front (FIFO, for fairness).
    pub(crate) fn pop(&mut self) -> Option<Notified<S>> {
        loop {
            let head = self.ring.head.load(Acquire);
            let tail = self.ring.tail.load(Relaxed);
            if head == tail {
                return None;
            }
            let ptr = self.ring.slot(head).load(Relaxed);
            if self
                .ring
                .head
                .compare_exchange(head, head.wrapping_add(1), AcqRel, Acquire)
                .is_ok()
            {
                // SAFETY: the CAS claimed this slot for us alone.
                return Some(unsafe { from_ptr(ptr) });
            }
        }
    }
}

impl<S: 'static> Drop for Local<S> {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            while let Some(task) = self.pop() {
                drop(task);
            }
        }
    }
}

impl<S: 'static> Steal<S> {
    pub(crate) fn is_empty(&self) -> bool {
        self.ring.len() == 0
    }

    /// Tasks in the queue (a racy snapshot).
    /// Times the owner moved half the ring to the injection queue.
    pub(crate) fn overflows(&self) -> u64 {
        self.ring.overflows.load(Relaxed)
    }

    pub(crate) fn len(&self) -> usize {
        self.ring.len() as usize
    }

    /// The position after the last task queued so far, to pass to
    /// [`holds_since`](Self::holds_since) later.
    pub(crate) fn mark(&self) -> u64 {
        self.ring.tail.load(Acquire)
    }

    /// Whether a task queued before `mark` was taken is still in the queue
    /// (neither run nor stolen since).
    pub(crate) fn holds_since(&self, mark: u64) -> bool {
        let head = self.ring.head.load(Acquire);
        (mark.wrapping_sub(head) as i64) > 0
    }

    /// Moves about half of this queue into `dst` (the caller's own queue) and
    /// returns one of the stolen tasks to run right away.
    pub(crate) fn steal_into(&self, dst: &mut Local<S>) -> Option<Notified<S>> {
        let dst_tail = dst.ring.tail.load(Relaxed);
        let dst_head = dst.ring.head.load(Acquire);
        if dst_tail.wrapping_sub(dst_head) > (CAPACITY / 2) as u64 {
            // Our own queue is busy enough; don't take more.
            return None;
        }
        let n = loop {
            let head = self.ring.head.load(Acquire);
            let tail = self.ring.tail.load(Acquire);
            let available = tail.wrapping_sub(head);
            if available == 0 || available > CAPACITY as u64 {
                // Empty, or an inconsistent pair of loads: nothing to take.
                if available == 0 {
                    return None;
                }
                continue;
            }
            let n = (available - available / 2).min((CAPACITY / 2) as u64);
            for i in 0..n {
                let ptr = self.ring.slot(head.wrapping_add(i)).load(Relaxed);
                dst.ring.slot(dst_tail.wrapping_add(i)).store(ptr, Relaxed);
            }
            if self
                .ring
                .head
                .compare_exchange(head, head.wrapping_add(n), AcqRel, Acquire)
                .is_ok()
            {
                break n;
            }
        };
        // Keep the last one to return; publish the rest.
        let last = dst.ring.slot(dst_tail.wrapping_add(n - 1)).load(Relaxed);
        if n > 1 {
            dst.ring.tail.store(dst_tail.wrapping_add(n - 1), Release);
        }
        // SAFETY: the CAS transferred these slots to us.
        Some(unsafe { from_ptr(last) })
    }
}

// SAFETY: the queue moves task references, which are `Send`.
unsafe impl<S> Send for Local<S> {}
// SAFETY: stealing is designed for concurrent use.
unsafe impl<S> Send for Steal<S> {}
// SAFETY: as above.
unsafe impl<S> Sync for Steal<S> {}
