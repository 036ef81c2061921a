//! One level of the wheel: 64 slot lists and an occupancy bitmask.
//!
//! Each slot is a doubly linked list of entries threaded through the entries'
//! own `prev` / `next` indices, so linking and unlinking an entry is O(1) and
//! allocates nothing. Lists are FIFO, which keeps timers that fire in the same
//! tick in the order they were registered (or cascaded).
//!
//! Bit `i` of `occupied` is set exactly when slot `i` is non-empty. Finding the
//! next slot with work is then one rotate and one `trailing_zeros`, instead of
//! a scan over 64 list heads.

use super::entry::{Entries, Place, NIL};

/// Slots per level (a power of two).
pub(super) const SLOTS: usize = 64;

#[derive(Debug, Clone, Copy)]
pub(super) struct Level {
    occupied: u64,
    head: [u32; SLOTS],
    tail: [u32; SLOTS],
}

impl Level {
    pub(super) const fn new() -> Level {
        Level {
            occupied: 0,
            head: [NIL; SLOTS],
            tail: [NIL; SLOTS],
        }
    }

    /// Whether no slot of this level holds an entry.
    #[cfg(test)]
    pub(super) fn is_empty(&self) -> bool {
        self.occupied == 0
    }

    /// The first non-empty slot at or after `from`, wrapping around.
    pub(super) fn next_occupied(&self, from: usize) -> Option<usize> {
        debug_assert!(from < SLOTS);
        if self.occupied == 0 {
            return None;
        }
        let distance = self.occupied.rotate_right(from as u32).trailing_zeros() as usize;
        Some((from + distance) % SLOTS)
    }

    /// Appends `key` to slot `slot` and records the entry's new place.
    pub(super) fn push_back(&mut self, level: u8, slot: usize, key: u32, entries: &mut Entries) {
        let tail = self.tail[slot];
        {
            let entry = entries.get_mut(key);
            entry.prev = tail;
            entry.next = NIL;
            entry.place = Place::Slot {
                level,
                slot: slot as u8,
            };
        }
        if tail == NIL {
            self.head[slot] = key;
            self.occupied |= 1 << slot;
        } else {
            entries.get_mut(tail).next = key;
        }
        self.tail[slot] = key;
    }

    /// Removes `key` from slot `slot`; the entry's place becomes `Fired`
    /// (unlinked) until the caller says otherwise.
    pub(super) fn unlink(&mut self, slot: usize, key: u32, entries: &mut Entries) {
        let (prev, next) = {
            let entry = entries.get_mut(key);
            let links = (entry.prev, entry.next);
            entry.prev = NIL;
            entry.next = NIL;
            entry.place = Place::Fired;
            links
        };
        if prev == NIL {
            debug_assert_eq!(self.head[slot], key);
            self.head[slot] = next;
        } else {
            entries.get_mut(prev).next = next;
        }
        if next == NIL {
            debug_assert_eq!(self.tail[slot], key);
            self.tail[slot] = prev;
        } else {
            entries.get_mut(next).prev = prev;
        }
        if self.head[slot] == NIL {
            self.occupied &= !(1 << slot);
        }
    }

    /// Unlinks and returns the oldest entry of slot `slot`.
    pub(super) fn pop_front(&mut self, slot: usize, entries: &mut Entries) -> Option<u32> {
        let key = self.head[slot];
        if key == NIL {
            return None;
        }
        self.unlink(slot, key, entries);
        Some(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_occupied_wraps() {
        let mut entries = Entries::new();
        let mut level = Level::new();
        assert_eq!(level.next_occupied(0), None);
        let a = entries.insert(0, None);
        level.push_back(0, 5, a, &mut entries);
        let b = entries.insert(0, None);
        level.push_back(0, 60, b, &mut entries);
        assert_eq!(level.next_occupied(0), Some(5));
        assert_eq!(level.next_occupied(5), Some(5));
        assert_eq!(level.next_occupied(6), Some(60));
        assert_eq!(level.next_occupied(61), Some(5));
        assert_eq!(level.next_occupied(63), Some(5));
    }

    #[test]
    fn fifo_and_unlink_middle() {
        let mut entries = Entries::new();
        let mut level = Level::new();
        let keys: Vec<u32> = (0..4).map(|i| entries.insert(i, None)).collect();
        for &k in &keys {
            level.push_back(2, 9, k, &mut entries);
        }
        assert_eq!(
            entries.get(keys[1]).place,
            Place::Slot { level: 2, slot: 9 }
        );
        level.unlink(9, keys[1], &mut entries);
        assert_eq!(entries.get(keys[1]).place, Place::Fired);
        level.unlink(9, keys[3], &mut entries);
        assert_eq!(level.pop_front(9, &mut entries), Some(keys[0]));
        assert!(!level.is_empty());
        assert_eq!(level.pop_front(9, &mut entries), Some(keys[2]));
        assert_eq!(level.pop_front(9, &mut entries), None);
        assert!(level.is_empty());
    }
}
