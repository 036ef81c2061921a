//! Which epoll a registration lives in, and when it moves.
//!
//! Every registration starts in the shared epoll, where whichever worker is
//! free takes its events: the right place for a connection to another
//! process, whose data arrives wherever the kernel decides and whose task
//! should run on whichever worker can run it first. The exception is a
//! loopback connection whose *other end is registered with the same
//! reactor* (a client and a server in one process, a proxy to a local
//! service): there the kernel's cost of a round trip depends on whether
//! the two ends run on one CPU (`worker_epolls`), so both ends move into
//! worker epolls, where the worker that harvests an end also runs its task:
//!
//! * the end with the lower local port **follows its data**: every few
//!   waits it asks the kernel which CPU its data last arrived on
//!   (`SO_INCOMING_CPU`, on loopback the CPU its peer sent from) and moves
//!   to the worker running there;
//! * the other end **follows its task**: it moves to the worker its reader
//!   waits from, at once the first time, then when its task waits from
//!   another worker twice in a row (work stealing moved it).
//!
//! Nothing of this happens during a registration's first few read waits
//! ([`FIRST_LOOKUP_AT`]): finding out whether a socket is one end of a
//! loopback pair costs two system calls and a move two more, which a
//! connection that lives for one request and its reply (the `churn`
//! benchmark: a third more system calls per connection) would pay for
//! nothing.
//!
//! So the pair meets on the worker of the end that follows its task, and
//! work stealing spreads the pairs over the workers. If both ends followed
//! their data, each would move to where the other just was, and they would
//! swap workers forever.
//!
//! Moving every registration into worker epolls was measured too (the
//! `http` suite: a hyper server on vigil, its load client on another
//! runtime): a connection whose worker is busy, or whose worker's thread
//! the OS has paused, waits for it while other workers idle, and requests
//! per second fell by 10 % with the 99th percentile four times Tokio's.
//!
//! A move is `EPOLL_CTL_DEL` from the old epoll and `EPOLL_CTL_ADD` to the
//! new one, under the registrations lock. Nothing is lost in between: the
//! add reports the descriptor's current readiness, and readiness already
//! cached in the `ScheduledIo` stays there.

use super::{Handle, ScheduledIo, INTEREST};
use std::collections::hash_map::Entry;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicU16, AtomicU32, AtomicU8, Ordering::Relaxed};

/// Home of a registration in the shared epoll.
pub(super) const SHARED: u32 = u32::MAX;
/// Consecutive waits from another worker that move a follow-the-task
/// registration.
const AWAY_WAITS: u8 = 2;
/// A follow-the-data end checks where its data arrives every this many waits.
const DATA_CHECK_EVERY: u32 = 16;
/// Read waits before a registration asks whether it is a loopback
/// connection at all (two system calls): a short-lived connection (connect,
/// a request or two, close) never pays for placement.
pub(super) const FIRST_LOOKUP_AT: u32 = 4;
/// Waits during which a loopback end looks for its peer among the
/// reactor's registrations before it settles for the shared epoll.
const PEER_LOOKUPS: u32 = 8;

const UNDECIDED: u8 = 0;
/// Not one end of a pair in this process: stays in the shared epoll.
const SHARED_ONLY: u8 = 1;
const FOLLOW_TASK: u8 = 2;
const FOLLOW_DATA: u8 = 3;

/// A registration's placement state.
#[derive(Debug)]
pub(crate) struct Placement {
    /// The worker whose epoll holds the descriptor, or [`SHARED`].
    home: AtomicU32,
    /// [`UNDECIDED`], [`FOLLOW_TASK`] or [`FOLLOW_DATA`].
    rule: AtomicU8,
    /// Consecutive read waits from a worker other than `home`.
    away: AtomicU8,
    /// Read waits seen (paces the lookups and data checks).
    waits: AtomicU32,
    /// Local and peer ports if both ends are on loopback (0: not known).
    local_port: AtomicU16,
    peer_port: AtomicU16,
}

impl Placement {
    pub(super) fn new() -> Placement {
        Placement {
            home: AtomicU32::new(SHARED),
            rule: AtomicU8::new(UNDECIDED),
            away: AtomicU8::new(0),
            waits: AtomicU32::new(0),
            local_port: AtomicU16::new(0),
            peer_port: AtomicU16::new(0),
        }
    }

    pub(super) fn home(&self) -> u32 {
        self.home.load(Relaxed)
    }

    pub(super) fn set_home(&self, home: u32) {
        self.home.store(home, Relaxed)
    }

    /// `Some(true)` once it follows its data, `Some(false)` its task.
    #[cfg(test)]
    pub(super) fn follows_data(&self) -> Option<bool> {
        match self.rule.load(Relaxed) {
            FOLLOW_DATA => Some(true),
            FOLLOW_TASK => Some(false),
            _ => None,
        }
    }

    /// Whether it stays in the shared epoll for good.
    #[cfg(test)]
    pub(super) fn shared_only(&self) -> bool {
        self.rule.load(Relaxed) == SHARED_ONLY
    }

    /// The loopback port this registration counts under, if any.
    pub(super) fn loopback_port(&self) -> Option<u16> {
        match self.local_port.load(Relaxed) {
            0 => None,
            port => Some(port),
        }
    }
}

impl Handle {
    /// A task is about to wait for `io` (descriptor `fd`, slot `key`) to
    /// become readable: apply the placement rules (module docs).
    pub(crate) fn on_read_wait(&self, key: usize, io: &ScheduledIo, fd: RawFd) {
        let Some(workers) = self.workers.get() else {
            return;
        };
        let Some(here) = workers.current() else {
            return;
        };
        let p = &io.placement;
        let target = match self.rule_of(key, p, fd) {
            UNDECIDED | SHARED_ONLY => return,
            FOLLOW_DATA => {
                if p.waits.fetch_add(1, Relaxed) % DATA_CHECK_EVERY != 0 {
                    return;
                }
                let Ok(cpu) = crate::sys::cpu::incoming(fd) else {
                    return;
                };
                match workers.worker_on_cpu(cpu) {
                    Some(k) => k as u32,
                    None => return,
                }
            }
            _ => {
                if p.home() == here as u32 {
                    if p.away.load(Relaxed) != 0 {
                        p.away.store(0, Relaxed);
                    }
                    return;
                }
                if p.home() != SHARED && p.away.fetch_add(1, Relaxed) + 1 < AWAY_WAITS {
                    return;
                }
                p.away.store(0, Relaxed);
                here as u32
            }
        };
        if target != p.home() {
            self.move_registration(key, io, fd, target);
        }
    }

    /// The rule for `p`, deciding it from its [`FIRST_LOOKUP_AT`]th wait.
    fn rule_of(&self, key: usize, p: &Placement, fd: RawFd) -> u8 {
        let rule = p.rule.load(Relaxed);
        if rule != UNDECIDED {
            return rule;
        }
        let waits = p.waits.fetch_add(1, Relaxed) + 1;
        if waits < FIRST_LOOKUP_AT {
            return UNDECIDED;
        }
        if p.local_port.load(Relaxed) == 0 {
            // First look: is this a loopback TCP connection?
            match crate::sys::cpu::endpoints(fd) {
                Ok((local, peer))
                    if local.ip().is_loopback()
                        && peer.ip().is_loopback()
                        && local.port() != 0
                        && peer.port() != 0 =>
                {
                    let mut regs = self.lock();
                    if !regs.slab.contains(key) {
                        return SHARED_ONLY;
                    }
                    // Counted once, under the lock, however many waiters race.
                    if p.local_port.load(Relaxed) == 0 {
                        *regs.loopback_ports.entry(local.port()).or_insert(0) += 1;
                        p.peer_port.store(peer.port(), Relaxed);
                        p.local_port.store(local.port(), Relaxed);
                    }
                }
                _ => {
                    p.rule.store(SHARED_ONLY, Relaxed);
                    return SHARED_ONLY;
                }
            }
        }
        // Is the other end registered here too?
        let (local, peer) = (p.local_port.load(Relaxed), p.peer_port.load(Relaxed));
        let peer_is_ours = matches!(self.lock().loopback_ports.get(&peer), Some(&n) if n > 0);
        let rule = if peer_is_ours && local < peer {
            FOLLOW_DATA
        } else if peer_is_ours {
            FOLLOW_TASK
        } else if waits >= FIRST_LOOKUP_AT + PEER_LOOKUPS {
            SHARED_ONLY
        } else {
            return UNDECIDED;
        };
        p.rule.store(rule, Relaxed);
        rule
    }

    /// Moves registration `key` (for `io`, descriptor `fd`) to worker
    /// `target`'s epoll, if it is still registered.
    fn move_registration(&self, key: usize, io: &ScheduledIo, fd: RawFd, target: u32) {
        let regs = self.lock();
        let live = regs.slab.get(key).is_some_and(|e| std::ptr::eq(&**e, io))
            && regs.by_fd.get(&fd) == Some(&key);
        let home = io.placement.home();
        if regs.is_shutdown || !live || home == target {
            return;
        }
        let token = super::token(io);
        if self.epoll_of(home).delete(fd).is_err() {
            // Closed behind our back: leave it where it is.
            return;
        }
        if self.epoll_of(target).add_edge(fd, INTEREST, token).is_ok() {
            io.placement.set_home(target);
            if let Some(w) = self.workers.get() {
                w.moved(home, target);
            }
            drop(regs);
            // Arrived at an idle worker: make sure its epoll is reported.
            self.arm_if_idle(target as usize);
        } else if self.epoll_of(home).add_edge(fd, INTEREST, token).is_err() {
            // Neither epoll takes it back (out of kernel memory): it can no
            // longer be watched, so its waiters must hear about it.
            drop(regs);
            io.shutdown();
        }
    }

    /// Forgets `io`'s loopback port (at deregistration, lock held).
    pub(super) fn forget_loopback_port(
        ports: &mut std::collections::HashMap<u16, u32>,
        io: &ScheduledIo,
    ) {
        if let Some(port) = io.placement.loopback_port() {
            if let Entry::Occupied(mut e) = ports.entry(port) {
                *e.get_mut() -= 1;
                if *e.get() == 0 {
                    e.remove();
                }
            }
        }
    }
}
