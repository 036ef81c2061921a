//! The hierarchical timing wheel.
//!
//! Time is a `u64` count of ticks (milliseconds). The wheel has
//! [`LEVELS`] levels of 64 slots; a slot of level `L` spans `64^L` ticks and a
//! whole level spans `64^(L+1)`, so seven levels reach `2^42` ms, about 139
//! years, past `elapsed` (the last tick the wheel was advanced to).
//!
//! **Where an entry goes.** An entry due at tick `t` goes to the lowest level
//! whose slot width still tells `t` apart from `elapsed`: the level is given by
//! the highest bit in which `t` and `elapsed` differ (six bits per level), and
//! the slot by `t`'s six bits for that level. So every entry of level `L`
//! shares all higher bits with `elapsed`: a level-0 entry is due within the
//! current 64 ms block, a level-1 entry within the current 4096 ms block, and
//! so on. That gives O(1) insert and, with the slot lists being doubly linked,
//! O(1) cancel.
//!
//! **Finding the next deadline.** For each level, the next occupied slot at or
//! after `elapsed`'s own position is found from the occupancy bitmask; the
//! earliest slot start over the (at most seven) levels is when the wheel next
//! has work. That is a handful of bit operations, independent of how many
//! timers are pending.
//!
//! **Cascading.** When a slot of level `L > 0` comes due, `elapsed` moves to the
//! slot's start and its entries are re-filed relative to the new `elapsed`;
//! they land in lower levels (or fire, if due exactly then). Each entry
//! cascades at most once per level, so the amortised cost per timer is O(1).
//!
//! **Never early, never overflowing.** Each entry keeps its true deadline.
//! Deadlines beyond the horizon are filed at the horizon's last slot instead
//! and re-filed when that slot comes up, so even `u64::MAX` works and nothing
//! ever fires before its tick. All tick arithmetic is saturating or done in
//! `u128`.

use super::entry::{Entries, Place};
use super::level::{Level, SLOTS};
use crate::driver::wake_batch::WakeBatch;
use std::task::Waker;

/// Number of levels.
pub(super) const LEVELS: usize = 7;

/// Bits of tick consumed per level (`SLOTS == 1 << SLOT_BITS`).
const SLOT_BITS: u32 = 6;

/// Shift of the top level's slot index.
const TOP_SHIFT: u32 = SLOT_BITS * (LEVELS as u32 - 1);

const _: () = assert!(SLOTS == 1 << SLOT_BITS);

/// The timing wheel. Not synchronised: the time handle wraps it in a mutex.
#[derive(Debug)]
pub(super) struct Wheel {
    /// Every tick up to and including this one has been processed.
    elapsed: u64,
    entries: Entries,
    levels: [Level; LEVELS],
    /// Entries linked into some slot (as opposed to fired but not yet freed).
    pending: usize,
}

impl Wheel {
    pub(super) fn new() -> Wheel {
        Wheel {
            elapsed: 0,
            entries: Entries::new(),
            levels: [Level::new(); LEVELS],
            pending: 0,
        }
    }

    /// The last processed tick: deadlines at or before it count as passed.
    pub(super) fn elapsed(&self) -> u64 {
        self.elapsed
    }

    /// Entries still waiting for their deadline.
    pub(super) fn pending(&self) -> usize {
        self.pending
    }

    /// Live entries (pending or fired-but-unclaimed).
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Capacity of the entry arena.
    #[cfg(test)]
    pub(super) fn capacity(&self) -> usize {
        self.entries.capacity()
    }

    /// Adds a timer due at tick `when`. If that tick has already been
    /// processed, nothing is stored and the waker is handed back.
    pub(super) fn insert(&mut self, when: u64, waker: Option<Waker>) -> Result<u32, Option<Waker>> {
        if when <= self.elapsed {
            return Err(waker);
        }
        let key = self.entries.insert(when, waker);
        self.link(key);
        Ok(key)
    }

    /// Frees entry `key`, linked or fired. Returns its waker, to be dropped by
    /// the caller outside any lock.
    pub(super) fn remove(&mut self, key: u32) -> Option<Waker> {
        self.unlink(key);
        self.entries.remove(key)
    }

    /// Whether entry `key` has fired.
    pub(super) fn is_fired(&self, key: u32) -> bool {
        self.entries.get(key).place == Place::Fired
    }

    /// Makes `waker` the one entry `key` wakes, unless the stored one already
    /// wakes the same task. Returns the replaced waker, to be dropped outside
    /// the lock (dropping a waker can drop a task, which can drop timers).
    pub(super) fn set_waker(&mut self, key: u32, waker: &Waker) -> Option<Waker> {
        let entry = self.entries.get_mut(key);
        match &entry.waker {
            Some(old) if old.will_wake(waker) => None,
            _ => entry.waker.replace(waker.clone()),
        }
    }

    /// Moves entry `key` (pending or fired) to deadline `when`. If that tick
    /// has passed, the entry is marked fired and its waker returned in `Err`
    /// for the caller to wake.
    pub(super) fn reset(&mut self, key: u32, when: u64) -> Result<(), Option<Waker>> {
        self.unlink(key);
        let elapsed = self.elapsed;
        let entry = self.entries.get_mut(key);
        entry.when = when;
        if when <= elapsed {
            entry.place = Place::Fired;
            Err(entry.waker.take())
        } else {
            self.link(key);
            Ok(())
        }
    }

    /// The tick at which the wheel next has something to do (fire or cascade),
    /// or `None` with no timer pending. Always after `elapsed`, except while a
    /// slot is part-way drained (then it is `elapsed` itself).
    pub(super) fn next_expiration(&self) -> Option<u64> {
        self.next_slot().map(|(_, _, at)| at)
    }

    /// Advances the wheel to tick `now`, firing due entries into `batch`.
    ///
    /// Returns `false` if it stopped early because `batch` filled up: wake the
    /// batch and call again (with the same or a later `now`) to continue.
    pub(super) fn poll(&mut self, now: u64, batch: &mut WakeBatch) -> bool {
        loop {
            let (level, slot, at) = match self.next_slot() {
                Some(next) if next.2 <= now => next,
                _ => {
                    self.elapsed = self.elapsed.max(now);
                    return true;
                }
            };
            debug_assert!(at >= self.elapsed, "wheel slot behind elapsed");
            self.elapsed = self.elapsed.max(at);
            loop {
                if batch.is_full() {
                    return false;
                }
                let Some(key) = self.levels[level].pop_front(slot, &mut self.entries) else {
                    break;
                };
                self.pending -= 1;
                let entry = self.entries.get_mut(key);
                if entry.when <= self.elapsed {
                    // `pop_front` left it as `Place::Fired`.
                    if let Some(waker) = entry.waker.take() {
                        batch.push(waker);
                    }
                } else {
                    // Cascade to a lower level (or re-file a clamped entry).
                    self.link(key);
                }
            }
        }
    }

    /// Drops every entry and waker; returns the old contents so the caller
    /// can drop them outside its lock.
    pub(super) fn take_all(&mut self) -> Wheel {
        let elapsed = self.elapsed;
        let old = std::mem::replace(self, Wheel::new());
        self.elapsed = elapsed;
        old
    }

    /// The last tick an entry may be filed at: the end of the 63rd top-level
    /// slot after the current one. Filing further out would wrap the top level
    /// onto `elapsed`'s own slot and make the slot's time ambiguous.
    fn horizon(&self) -> u64 {
        let top_block = u128::from(self.elapsed >> TOP_SHIFT) + SLOTS as u128;
        let end = (top_block << TOP_SHIFT) - 1;
        u64::try_from(end).unwrap_or(u64::MAX)
    }

    /// Files entry `key` (currently unlinked) by its deadline.
    fn link(&mut self, key: u32) {
        let when = self.entries.get(key).when;
        debug_assert!(when > self.elapsed);
        let target = when.min(self.horizon());
        let differing = (self.elapsed ^ target) | (SLOTS as u64 - 1);
        let top_bit = 63 - differing.leading_zeros();
        let level = ((top_bit / SLOT_BITS) as usize).min(LEVELS - 1);
        let slot = ((target >> (level as u32 * SLOT_BITS)) as usize) & (SLOTS - 1);
        self.levels[level].push_back(level as u8, slot, key, &mut self.entries);
        self.pending += 1;
    }

    /// Takes entry `key` out of its slot list, if it is in one.
    fn unlink(&mut self, key: u32) {
        if let Place::Slot { level, slot } = self.entries.get(key).place {
            self.levels[level as usize].unlink(slot as usize, key, &mut self.entries);
            self.pending -= 1;
        }
    }

    /// The earliest occupied slot: `(level, slot, tick the slot starts)`.
    fn next_slot(&self) -> Option<(usize, usize, u64)> {
        if self.pending == 0 {
            return None;
        }
        let mut best: Option<(usize, usize, u64)> = None;
        for (level, lvl) in self.levels.iter().enumerate() {
            let shift = level as u32 * SLOT_BITS;
            let current = ((self.elapsed >> shift) as usize) & (SLOTS - 1);
            let Some(slot) = lvl.next_occupied(current) else {
                continue;
            };
            // Slots ahead of `elapsed`'s own; on the top level this may wrap.
            let ahead = (slot + SLOTS - current) % SLOTS;
            let start = (u128::from(self.elapsed >> shift) + ahead as u128) << shift;
            let start = u64::try_from(start).unwrap_or(u64::MAX);
            // On a tie the higher level wins, so cascading happens first.
            if best.is_none_or(|(_, _, at)| start <= at) {
                best = Some((level, slot, start));
            }
        }
        best
    }
}
