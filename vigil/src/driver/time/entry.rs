//! Timer entries and the arena that owns them.
//!
//! Every pending timer is one [`Entry`] in a single growable vector, and every
//! reference to an entry — from a `Sleep`, or from the intrusive slot lists of
//! the wheel — is a `u32` index into that vector. This is why:
//!
//! * **No `unsafe`.** Intrusive lists over raw pointers would need pinning and
//!   careful aliasing arguments; indices are checked by the borrow checker and
//!   bounds-checked at run time.
//! * **Small entries.** Two `u32` links instead of two pointers, and no
//!   per-entry heap allocation: an entry is 40 bytes on 64-bit targets, so a
//!   million pending sleeps cost about 40 MB, in one allocation.
//! * **O(1) everything.** Freed entries form a free list threaded through the
//!   same `next` field, so insert and remove never search.
//!
//! The arena does not need generation counters: an index is only ever held by
//! the one `Sleep` that created it, and that `Sleep` is also the only party
//! that frees it (on drop, or when it observes its timer fired). The wheel
//! never frees an entry behind its owner's back, so an index can not be reused
//! while somebody still holds it. (Runtime shutdown throws the whole arena
//! away; the time handle then refuses every request before touching an index,
//! see `Handle::shutdown`.)

use std::task::Waker;

/// The "null" index, ending a list.
pub(super) const NIL: u32 = u32::MAX;

/// Once the arena is empty again and has grown past this many entries, its
/// memory is handed back. A burst of a million timers then does not pin
/// 40 MB for the rest of the runtime's life.
const SHRINK_THRESHOLD: usize = 4096;

/// Where an entry currently is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    /// Linked into slot `slot` of level `level` of the wheel.
    Slot { level: u8, slot: u8 },
    /// Not in any list: its deadline passed and it was fired (its waker taken),
    /// and its owner has not looked yet.
    Fired,
    /// Free: on the arena's free list.
    Vacant,
}

/// One timer.
#[derive(Debug)]
pub(super) struct Entry {
    /// The true deadline, in ticks. The slot an entry sits in can be earlier
    /// than this when the deadline lies beyond the wheel's horizon; the entry
    /// is then simply re-filed when that slot comes up.
    pub(super) when: u64,
    /// Whom to wake when the deadline passes.
    pub(super) waker: Option<Waker>,
    /// Previous entry in the same slot list, or [`NIL`].
    pub(super) prev: u32,
    /// Next entry in the same slot list, the next free entry when vacant, or
    /// [`NIL`].
    pub(super) next: u32,
    /// Which list (if any) holds this entry.
    pub(super) place: Place,
}

/// A slab of entries addressed by `u32`.
#[derive(Debug)]
pub(super) struct Entries {
    slab: Vec<Entry>,
    /// Head of the free list.
    free: u32,
    /// Entries not vacant.
    len: usize,
}

impl Entries {
    pub(super) const fn new() -> Entries {
        Entries {
            slab: Vec::new(),
            free: NIL,
            len: 0,
        }
    }

    /// Number of live (non-vacant) entries.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Number of entries the arena can hold without reallocating.
    #[cfg(test)]
    pub(super) fn capacity(&self) -> usize {
        self.slab.capacity()
    }

    /// Stores a new entry, not linked anywhere yet (`Place::Fired`: the caller
    /// links it at once), and returns its index.
    pub(super) fn insert(&mut self, when: u64, waker: Option<Waker>) -> u32 {
        let entry = Entry {
            when,
            waker,
            prev: NIL,
            next: NIL,
            place: Place::Fired,
        };
        self.len += 1;
        if self.free != NIL {
            let key = self.free;
            let slot = &mut self.slab[key as usize];
            debug_assert_eq!(slot.place, Place::Vacant);
            self.free = slot.next;
            *slot = entry;
            key
        } else {
            let key = u32::try_from(self.slab.len())
                .ok()
                .filter(|&k| k != NIL)
                .expect("vigil timer wheel: more than 4 billion timers pending at once");
            self.slab.push(entry);
            key
        }
    }

    /// Frees an entry that is not linked into any list; returns its waker so
    /// the caller can drop it after releasing its lock.
    pub(super) fn remove(&mut self, key: u32) -> Option<Waker> {
        let free = self.free;
        let entry = self.get_mut(key);
        debug_assert!(
            !matches!(entry.place, Place::Slot { .. }),
            "removing a linked entry"
        );
        let waker = entry.waker.take();
        entry.place = Place::Vacant;
        entry.prev = NIL;
        entry.next = free;
        self.free = key;
        self.len -= 1;
        if self.len == 0 && self.slab.len() > SHRINK_THRESHOLD {
            // Nothing refers into the arena any more: start afresh.
            *self = Entries::new();
        }
        waker
    }

    /// The live entry at `key`. Panics on a vacant or out-of-range index:
    /// that would be a bug in the wheel, never a user error.
    pub(super) fn get(&self, key: u32) -> &Entry {
        let entry = &self.slab[key as usize];
        assert!(
            entry.place != Place::Vacant,
            "vigil timer wheel: use of a freed timer entry"
        );
        entry
    }

    /// Mutable form of [`get`](Self::get).
    pub(super) fn get_mut(&mut self, key: u32) -> &mut Entry {
        let entry = &mut self.slab[key as usize];
        assert!(
            entry.place != Place::Vacant,
            "vigil timer wheel: use of a freed timer entry"
        );
        entry
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_is_small() {
        // Guard the memory budget: a million pending timers must stay cheap.
        assert!(
            std::mem::size_of::<Entry>() <= 40,
            "{}",
            std::mem::size_of::<Entry>()
        );
        assert!(std::mem::size_of::<Place>() <= 4);
    }

    #[test]
    fn free_list_reuses_indices() {
        let mut e = Entries::new();
        let a = e.insert(1, None);
        let b = e.insert(2, None);
        let c = e.insert(3, None);
        assert_eq!((a, b, c), (0, 1, 2));
        e.remove(b);
        e.remove(a);
        assert_eq!(e.len(), 1);
        // LIFO reuse.
        assert_eq!(e.insert(4, None), a);
        assert_eq!(e.insert(5, None), b);
        assert_eq!(e.insert(6, None), 3);
        assert_eq!(e.get(a).when, 4);
        assert_eq!(e.get(c).when, 3);
    }

    #[test]
    #[should_panic(expected = "freed timer entry")]
    fn vacant_access_panics() {
        let mut e = Entries::new();
        let a = e.insert(1, None);
        e.insert(2, None);
        e.remove(a);
        e.get(a);
    }

    #[test]
    fn shrinks_when_emptied() {
        let mut e = Entries::new();
        let keys: Vec<u32> = (0..10_000).map(|i| e.insert(i, None)).collect();
        assert!(e.capacity() >= 10_000);
        for k in keys {
            e.remove(k);
        }
        assert_eq!(e.len(), 0);
        assert_eq!(e.capacity(), 0);
        assert_eq!(e.insert(7, None), 0);
    }
}
