//! The part of a worker's work that others cannot steal (its LIFO slot and
//! the tasks that yielded on it), made reachable for the one moment it
//! matters: when the worker is stuck in a blocking poll.
//!
//! # Why not an ordinary queue
//!
//! The LIFO slot is written on every local wake and read after every poll;
//! the yielded list on every `yield_now`. Making them stealable the usual
//! way (an atomic swap or a lock per access) costs an atomic
//! read-modify-write on the hottest path of the scheduler, for the benefit
//! of a rare rescue. So the owner keeps plain access, and the rare rescuer
//! (the watchdog's monitor, when it sees a poll blocked) pays instead.
//!
//! # The protocol
//!
//! Two flags and an asymmetric barrier ([`crate::sys::membarrier`]):
//!
//! * The rescuer *claims* the stash (`claimed = true`), runs the heavy
//!   barrier, and checks that the worker is still inside the blocked poll
//!   it saw (the poll slot's sequence number is unchanged). If not, it lets
//!   go without touching anything. If so, it waits for `busy` to be clear,
//!   takes the stash's contents, and lets go (`claimed = false`, Release).
//! * Between polls the owner uses the stash freely. When a poll ends it
//!   [`settle`](Stash::settle)s: a light barrier, then it waits while the
//!   stash is claimed. The poll's end (the sequence store) comes before
//!   that load, and the rescuer's claim before its load of the sequence, so
//!   by the barrier pair either the owner sees the claim and waits, or the
//!   rescuer sees the poll over and backs off. The rescuer can thus only
//!   act while the owner is inside a poll.
//! * Inside a poll (the polled task waking or spawning a task, yielding, or
//!   being rescheduled once its poll returns), each access is
//!   [`guarded`](Stash::guarded): it sets `busy`,
//!   runs the light barrier and checks `claimed`: if claimed, the access
//!   is refused and the caller puts the task in the stealable run queue
//!   instead. By the same barrier pair, a rescuer that finds `busy` clear
//!   after its barrier knows that every later access will see its claim.
//!
//! The scheduler guards every access that comes from a wake, in a poll or
//! not (a wake from a driver turn pays the same few instructions, and one
//! path is simpler than telling the two apart). The owner's cost is two
//! plain stores and a load per wake and a load per poll; the rescuer's is
//! one `membarrier` system call.

use crate::loom::cell::UnsafeCell;
use crate::loom::sync::atomic::{AtomicBool, Ordering};
use crate::sys::membarrier;

/// Room for this many yielded tasks per driver turn before the list first
/// grows: a task that yields, or is woken while it runs, is queued without
/// an allocation below it (the list keeps its capacity afterwards).
pub(crate) const YIELDED_CAPACITY: usize = 64;

/// What the stash holds.
pub(crate) struct Contents<T> {
    /// The task to run next (the last one woken by a task on this worker).
    pub(crate) lifo: Option<T>,
    /// Tasks that yielded: requeued only after the next driver turn, so I/O
    /// and timers get in first.
    pub(crate) deferred: Vec<T>,
}

/// A worker's LIFO slot and yielded tasks; see the module docs.
pub(crate) struct Stash<T> {
    claimed: AtomicBool,
    busy: AtomicBool,
    contents: UnsafeCell<Contents<T>>,
}

// SAFETY: the contents are only reached under the protocol in the module
// docs, which gives one thread at a time access, ordered by Release/Acquire
// on `busy` or `claimed`; the tasks themselves are `Send`.
unsafe impl<T: Send> Sync for Stash<T> {}

impl<T> Stash<T> {
    pub(crate) fn new() -> Stash<T> {
        Stash {
            claimed: AtomicBool::new(false),
            busy: AtomicBool::new(false),
            contents: UnsafeCell::new(Contents {
                lifo: None,
                deferred: Vec::with_capacity(YIELDED_CAPACITY),
            }),
        }
    }

    /// The owner's access between polls.
    ///
    /// # Safety
    ///
    /// Only the owning worker thread may call this, outside any poll, and
    /// only after [`settle`](Self::settle) returned for its last poll.
    #[inline]
    pub(crate) unsafe fn between_polls<R>(&self, f: impl FnOnce(&mut Contents<T>) -> R) -> R {
        // SAFETY: by the caller's promise and the protocol, no rescuer is
        // inside the stash (one that claims it now will see the poll over
        // and back off), and no other thread owns it.
        self.contents.with_mut(|c| f(unsafe { &mut *c }))
    }

    /// The owner's access at any time, in particular while a poll runs on
    /// its thread. Returns `None`, without calling `f`, if a rescuer holds
    /// the stash.
    ///
    /// # Safety
    ///
    /// Only the owning worker thread may call this, and not re-entrantly
    /// from inside `f`.
    #[inline]
    pub(crate) unsafe fn guarded<R>(&self, f: impl FnOnce(&mut Contents<T>) -> R) -> Option<R> {
        self.busy.store(true, Ordering::Relaxed);
        membarrier::light();
        if self.claimed.load(Ordering::Acquire) {
            self.busy.store(false, Ordering::Release);
            return None;
        }
        // SAFETY: `busy` is visible to any rescuer that claims the stash
        // after our check (it waits for it to clear), and one that claimed
        // it before was seen above; only this thread owns the stash.
        let out = self.contents.with_mut(|c| f(unsafe { &mut *c }));
        self.busy.store(false, Ordering::Release);
        Some(out)
    }

    /// Called by the owner after each poll (once the poll slot shows it
    /// ended), before any [`between_polls`](Self::between_polls) access:
    /// waits out a rescuer that may be inside.
    #[inline]
    pub(crate) fn settle(&self) {
        membarrier::light();
        if self.claimed.load(Ordering::Acquire) {
            self.wait_unclaimed();
        }
    }

    #[cold]
    #[inline(never)]
    fn wait_unclaimed(&self) {
        while self.claimed.load(Ordering::Acquire) {
            crate::loom::thread::yield_now();
        }
    }

    /// The rescuer's side: takes everything in the stash, if the owner is
    /// still inside the poll that `still_in_poll` checks for. Returns the
    /// tasks taken (none if the owner moved on, or if the system offers no
    /// asymmetric barrier).
    ///
    /// Only one thread may rescue a given stash at a time.
    pub(crate) fn rescue(&self, still_in_poll: impl FnOnce() -> bool) -> Vec<T> {
        let mut taken = Vec::new();
        self.claimed.store(true, Ordering::Relaxed);
        if membarrier::heavy() && still_in_poll() {
            while self.busy.load(Ordering::Acquire) {
                crate::loom::thread::yield_now();
            }
            self.contents.with_mut(|c| {
                // The owner is inside a poll, so it touches the stash only
                // through `guarded`, and after the barrier every such access
                // either finished (`busy` clear, Acquire above) or will see
                // our claim and stay out; `settle` keeps it out after the
                // poll until we let go.
                // SAFETY: so this access is exclusive (see above).
                let c = unsafe { &mut *c };
                taken.extend(c.lifo.take());
                taken.append(&mut c.deferred);
            });
        }
        self.claimed.store(false, Ordering::Release);
        taken
    }
}
