//! The gate in front of one worker epoll: one harvester at a time, no
//! request to harvest lost, and a count of harvests that tells the reactor
//! when a deregistered registration can no longer be in anyone's hands.
//!
//! A thread that wants to harvest while another is harvesting does not
//! wait: it leaves a note and goes. The harvester clears the note before
//! it looks into the epoll and checks it after it has finished; a note
//! left in between makes it look again. So every request is served by a
//! look that starts after the request was made, which is what an event
//! needs: the request comes from a report of that event, so a look that
//! starts later sees it. (`loom_harvest_gate.rs` checks this.)
//!
//! Each hand-over is a store by one side followed by a load of what the
//! other side stores (a Dekker pattern): note, then check the counter;
//! finish, then check the note; event, then check the counter; start, then
//! look for events. A `SeqCst` fence sits between each store and its load,
//! which is what makes the pattern sound (and what loom can check: it
//! models `SeqCst` fences exactly but `SeqCst` accesses only as
//! acquire/release).

use crate::loom::sync::atomic::{fence, AtomicBool, AtomicU64, Ordering::SeqCst};

/// See the module docs.
#[derive(Debug, Default)]
pub(crate) struct HarvestGate {
    /// Twice the harvests finished, plus one while one runs.
    seq: AtomicU64,
    /// A harvest was asked for while one ran.
    look_again: AtomicBool,
}

impl HarvestGate {
    pub(crate) fn new() -> HarvestGate {
        HarvestGate::default()
    }

    /// Runs `look` (one look into the epoll, returning what it woke) now,
    /// or has the thread that is running it run it again when done.
    /// Returns what this call's looks woke.
    pub(crate) fn harvest(&self, mut look: impl FnMut() -> usize) -> usize {
        let mut woken = 0;
        // The caller learnt of an event: order that before the counter.
        fence(SeqCst);
        loop {
            let seq = self.seq.load(SeqCst);
            if seq % 2 == 1 {
                self.look_again.store(true, SeqCst);
                fence(SeqCst);
                if self.seq.load(SeqCst) == seq {
                    // Still running: it checks the note after it finishes.
                    return woken;
                }
                // It finished meanwhile and may have missed the note.
                continue;
            }
            if self
                .seq
                .compare_exchange(seq, seq + 1, SeqCst, SeqCst)
                .is_err()
            {
                continue;
            }
            // Notes left before this point are served by the look below.
            self.look_again.store(false, SeqCst);
            fence(SeqCst);
            woken += look();
            self.seq.fetch_add(1, SeqCst);
            fence(SeqCst);
            if !self.look_again.load(SeqCst) {
                return woken;
            }
        }
    }

    /// The harvest counter now (for [`passed`](Self::passed)).
    pub(crate) fn snapshot(&self) -> u64 {
        self.seq.load(SeqCst)
    }

    /// Whether the harvest running at `snapshot` (if any) has finished.
    pub(crate) fn passed(&self, snapshot: u64) -> bool {
        snapshot % 2 == 0 || self.seq.load(SeqCst) > snapshot
    }
}
