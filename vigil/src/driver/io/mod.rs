//! The reactor: epoll, the registrations of every I/O object, and the
//! dispatch of readiness to the tasks waiting on them.
//!
//! There is one shared epoll instance, which the thread asleep in the
//! driver waits in, and on a multi-thread runtime one more per worker,
//! nested in the shared one: a worker harvests its own registrations and
//! the tasks they wake run on it (`worker_epolls`). Registrations live in
//! the shared epoll, except the two ends of a loopback connection within
//! the process, which move into worker epolls so that they meet on one
//! worker (`placement`).
//!
//! Each I/O object registers its descriptor once, edge-triggered for both
//! directions, and owns a [`ScheduledIo`] (behind an `Arc`) for as long as it
//! lives. The epoll token *is* that `ScheduledIo`: its address in the low 48
//! bits and a generation number (16 bits on 64-bit targets) in the high
//! bits. Dispatching an
//! event is then a pointer dereference, with no lock and no reference-count
//! traffic, which matters because it happens for every readiness edge while
//! registering happens once per connection.
//!
//! Why that pointer is always valid when an event carries it: the reactor
//! itself holds a reference to every `ScheduledIo` whose descriptor may
//! still be in the epoll set, and gives it up only when that can no longer
//! be the case:
//!
//! * deregistering removes the descriptor from the epoll set that holds
//!   it (`EPOLL_CTL_DEL`); once the kernel has confirmed the removal, no
//!   later `epoll_wait` returns the token. Events already returned may
//!   still be in a buffer that another thread is dispatching right now, so
//!   the reference goes to a release list, which the driver takes at the
//!   start of its next turn (by then every event of its own earlier turns
//!   has been dispatched) and frees once every harvest of a worker epoll
//!   that was running at that moment has finished (the harvest counters in
//!   `harvest_gate`). A registration that moves between epolls stays
//!   registered, so its reference stays too.
//! * if the removal is not confirmed (the descriptor was closed behind the
//!   runtime's back, so the kernel may keep the old entry alive for as long
//!   as a duplicate of the descriptor exists, reporting events with the old
//!   token), the reference is kept until the reactor itself is dropped.
//!
//! The generation is a second, independent check: an event whose token
//! does not match the generation stored in the `ScheduledIo` it points to is
//! dropped.
//!
//! A descriptor number that is closed and reused gets a new registration,
//! so a new `ScheduledIo` at a different address: events for the new
//! descriptor never reach the old one. The reactor also keeps a map from
//! descriptor number to registration: registering a number that is still in
//! the map means the old descriptor was closed behind the runtime's back,
//! and the task still waiting on it is woken with an error instead of
//! waiting forever. A descriptor closed behind the runtime's back whose
//! number is *not* reused leaves its waiter waiting: epoll reports nothing
//! for a closed file, so nothing can tell the reactor (Tokio has the same
//! limit). Close an I/O object by dropping it, never through its raw fd.
//!
//! Wakers run with no reactor lock held, and nothing on the dispatch path
//! allocates once the run queues have grown to the workload
//! (`tests/driver_wake_alloc.rs` counts).

mod evented;
mod harvest_gate;
#[cfg(all(test, loom))]
mod loom_harvest_gate;
mod placement;
mod ready;
mod registration;
mod scheduled_io;
mod worker_epolls;

pub(crate) use evented::PollEvented;
pub use ready::{Interest, Ready};
pub(crate) use registration::Registration;
pub(crate) use scheduled_io::{Direction, ReadyEvent};

use crate::driver::park::Unparker;
use crate::sys::epoll::{self, Epoll, Events};
use scheduled_io::ScheduledIo;
use slab::Slab;
use std::collections::HashMap;
use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// The token of the wake-up eventfd. Never a registration's token: its
/// address part is odd, and a `ScheduledIo` is at least 2-byte aligned.
const WAKE_TOKEN: u64 = u64::MAX;
/// The token of the io_uring ring's descriptor (odd too).
const COMPLETIONS_TOKEN: u64 = u64::MAX - 2;
const _: () = assert!(std::mem::align_of::<ScheduledIo>() >= 2);
/// Events taken from the kernel per `epoll_wait`, unless the builder says
/// otherwise.
pub(crate) const DEFAULT_EVENTS_PER_TURN: usize = 1024;
/// Bits of a token that hold the address of the `ScheduledIo`.
const ADDRESS_BITS: u32 = 48;
const ADDRESS_MASK: u64 = (1 << ADDRESS_BITS) - 1;
/// Generations count modulo `GENERATION_LIMIT + 1`.
const GENERATION_LIMIT: u16 = ((1u32 << scheduled_io::GENERATION_BITS) - 1) as u16;
/// What every registration is watched for (edge-triggered).
const INTEREST: u32 = epoll::READABLE | epoll::WRITABLE | epoll::READ_CLOSED | epoll::PRIORITY;

/// The shared half: registration from any thread.
pub(crate) struct Handle {
    epoll: Epoll,
    unpark: Unparker,
    registrations: Mutex<Registrations>,
    /// Set when `Registrations::released` is not empty, so the driver does
    /// not take the lock on turns where there is nothing to release.
    release_pending: AtomicBool,
    /// I/O events dispatched so far (by every harvester).
    events: AtomicU64,
    /// One epoll per worker, on a multi-thread runtime (`worker_epolls`).
    workers: OnceLock<worker_epolls::WorkerEpolls>,
    /// Readiness ticks: every harvest of any epoll takes the next one.
    ticks: AtomicU16,
}

struct Registrations {
    /// Every live registration; keys are kept by the I/O objects.
    slab: Slab<Arc<ScheduledIo>>,
    by_fd: HashMap<RawFd, usize>,
    next_generation: u16,
    is_shutdown: bool,
    /// Removed from the epoll set; released by the driver before it next
    /// waits (see the module docs).
    released: Vec<Arc<ScheduledIo>>,
    /// Never confirmed removed from the epoll set: kept until the reactor is
    /// dropped, since the kernel may still report their tokens.
    orphans: Vec<Arc<ScheduledIo>>,
    /// Local ports of loopback registrations, counted (`placement`).
    loopback_ports: HashMap<u16, u32>,
}

/// The owned half: held by the thread that waits in epoll.
pub(crate) struct Driver {
    events: Events,
    /// Deregistered states waiting for the worker epolls' harvests that
    /// might still hold their tokens to finish, each batch with the
    /// harvest counters seen when it was taken (`release_deregistered`).
    releasing: Vec<(Vec<u64>, Vec<Arc<ScheduledIo>>)>,
    /// The io_uring ring's descriptor was reported readable this turn.
    completions_ready: bool,
}

/// The epoll token of `io`, or `None` if its address does not fit in
/// [`ADDRESS_BITS`] bits (no Linux user-space heap address does unless the
/// allocator deliberately maps memory above the 47-bit boundary).
fn checked_token(io: &ScheduledIo) -> Option<u64> {
    let address = io as *const ScheduledIo as usize as u64;
    if address & !ADDRESS_MASK != 0 {
        return None;
    }
    Some(token(io))
}

/// The epoll token of a registered `io` (its address fitted when it was
/// registered).
fn token(io: &ScheduledIo) -> u64 {
    ((io.generation() as u64) << ADDRESS_BITS) | (io as *const ScheduledIo as usize as u64)
}

impl Handle {
    /// A reactor taking at most `events_per_turn` ready events from the
    /// kernel per turn (at least one).
    pub(crate) fn new(unpark: Unparker, events_per_turn: usize) -> io::Result<(Driver, Handle)> {
        let epoll = Epoll::new()?;
        epoll.add_level(unpark.wake_fd(), epoll::READABLE, WAKE_TOKEN)?;
        Ok((
            Driver {
                events: Events::with_capacity(events_per_turn.max(1)),
                releasing: Vec::new(),
                completions_ready: false,
            },
            Handle {
                epoll,
                unpark,
                registrations: Mutex::new(Registrations {
                    slab: Slab::new(),
                    by_fd: HashMap::new(),
                    next_generation: 0,
                    is_shutdown: false,
                    released: Vec::new(),
                    orphans: Vec::new(),
                    loopback_ports: HashMap::new(),
                }),
                release_pending: AtomicBool::new(false),
                events: AtomicU64::new(0),
                workers: OnceLock::new(),
                ticks: AtomicU16::new(0),
            },
        ))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Registrations> {
        self.registrations.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers `fd` for both directions. Returns the slot key and the
    /// shared state.
    pub(crate) fn register(&self, fd: RawFd) -> io::Result<(usize, Arc<ScheduledIo>)> {
        let mut regs = self.lock();
        if regs.is_shutdown {
            return Err(io::Error::other(
                "the vigil runtime this I/O object belongs to has shut down",
            ));
        }
        let generation = regs.next_generation;
        regs.next_generation = generation.wrapping_add(1) & GENERATION_LIMIT;
        let io = Arc::new(ScheduledIo::new(generation));
        let Some(token) = checked_token(&io) else {
            return Err(io::Error::other(
                "vigil's reactor cannot register this descriptor: its per-registration state was \
                 allocated above the 48-bit address range that epoll tokens can name",
            ));
        };
        let stale = regs
            .by_fd
            .remove(&fd)
            .and_then(|key| regs.slab.get(key).cloned());
        let key = regs.slab.insert(io.clone());
        // Into the shared epoll; `placement` may move it to a worker's.
        if let Err(err) = self.epoll.add_edge(fd, INTEREST, token) {
            // Not in the epoll set: nothing can report this token.
            regs.slab.remove(key);
            return Err(err);
        }
        regs.by_fd.insert(fd, key);
        drop(regs);
        if let Some(stale) = stale {
            // The number was reused: the old descriptor is gone, and the
            // task waiting on it must hear about it rather than wait forever.
            stale.shutdown();
        }
        Ok((key, io))
    }

    /// Removes a registration. Call before the descriptor is closed.
    pub(crate) fn deregister(&self, fd: RawFd, key: usize, io: &Arc<ScheduledIo>) {
        let mut regs = self.lock();
        let owned = regs.slab.get(key).is_some_and(|e| Arc::ptr_eq(e, io));
        if !owned {
            return;
        }
        let entry = regs.slab.remove(key);
        let fd_is_ours = regs.by_fd.get(&fd) == Some(&key);
        if fd_is_ours {
            regs.by_fd.remove(&fd);
        }
        Handle::forget_loopback_port(&mut regs.loopback_ports, io);
        // Under the lock, so that a registration of the same number on
        // another thread cannot slip in between and have its entry deleted
        // (and so that no move is half done).
        let home = io.placement.home();
        let removed = fd_is_ours && self.epoll_of(home).delete(fd).is_ok();
        if let Some(w) = self.workers.get() {
            w.moved(home, placement::SHARED);
        }
        if removed {
            regs.released.push(entry);
            self.release_pending.store(true, Ordering::Release);
        } else {
            // Closed behind the runtime's back (or the number now belongs to
            // another registration): the kernel may still hold an entry with
            // this token, so the state must outlive it.
            regs.orphans.push(entry);
        }
        drop(regs);
        io.shutdown();
    }

    /// Puts an io_uring ring's descriptor in the epoll set, level-triggered:
    /// it is readable while completions wait, and the driver reports that
    /// through [`Driver::take_completions_ready`].
    pub(crate) fn watch_completions(&self, fd: RawFd) -> io::Result<()> {
        self.epoll.add_level(fd, epoll::READABLE, COMPLETIONS_TOKEN)
    }

    /// I/O events dispatched to registrations so far.
    pub(crate) fn events_dispatched(&self) -> u64 {
        self.events.load(Ordering::Relaxed)
    }

    /// Runtime shutdown: every registration fails from now on.
    pub(crate) fn shutdown(&self) {
        let ios: Vec<Arc<ScheduledIo>> = {
            let mut regs = self.lock();
            regs.is_shutdown = true;
            regs.slab.iter().map(|(_, io)| io.clone()).collect()
        };
        for io in ios {
            io.shutdown();
        }
    }

    /// The epoll that holds registrations whose home is `home`.
    fn epoll_of(&self, home: u32) -> &Epoll {
        match self.workers.get() {
            Some(w) if (home as usize) < w.len() => w.epoll(home as usize),
            _ => &self.epoll,
        }
    }

    /// Drops the reactor's references to registrations removed from the
    /// epoll sets, once nothing can be dispatching their events. Only the
    /// driver calls this, at the start of a turn (`pending` is its list).
    ///
    /// A state deregistered before this turn began can no longer be in the
    /// shared epoll's buffer (this thread owns the driver and finished the
    /// earlier turns). It may still be in a worker epoll's harvest that was
    /// running when it was deregistered: so each batch taken here waits
    /// until every harvest running now has finished (the counters in
    /// `worker_epolls`; with no worker epolls a batch is freed at once).
    fn release_deregistered(&self, pending: &mut Vec<(Vec<u64>, Vec<Arc<ScheduledIo>>)>) {
        if self.release_pending.load(Ordering::Acquire) {
            let mut batch = Vec::new();
            {
                let mut regs = self.lock();
                self.release_pending.store(false, Ordering::Relaxed);
                std::mem::swap(&mut regs.released, &mut batch);
            }
            let mut snapshot = Vec::new();
            if let Some(w) = self.workers.get() {
                // Taken after the batch's descriptors left their epolls (they
                // did before they were listed).
                w.snapshot(&mut snapshot);
            }
            pending.push((snapshot, batch));
        }
        if pending.is_empty() {
            return;
        }
        // Dropped outside the lock: the last reference may drop wakers.
        pending.retain(|(snapshot, _)| match self.workers.get() {
            Some(w) => !w.passed(snapshot),
            None => false,
        });
    }
}

impl Driver {
    /// Waits for I/O events (at most `timeout`) and wakes their tasks.
    /// Returns whether anything was received: an I/O event, an unpark, or
    /// io_uring completions.
    pub(crate) fn turn(&mut self, handle: &Handle, timeout: Option<Duration>) -> bool {
        // No event of an earlier turn is still being dispatched (this thread
        // owns the driver and finished them), and the next wait cannot return
        // the token of a descriptor already removed from the epoll set.
        handle.release_deregistered(&mut self.releasing);
        if let Err(err) = handle.epoll.wait(&mut self.events, timeout) {
            // EBADF/EINVAL would mean the epoll descriptor itself is broken;
            // there is no way to continue as a reactor.
            panic!("vigil: epoll_wait failed: {err}");
        }
        let tick = handle.next_tick();
        let received = !self.events.is_empty();
        let mut completions = false;
        let dispatched = handle.dispatch(&self.events, tick, &mut completions);
        self.completions_ready |= completions;
        for (token, _) in self.events.iter() {
            if let Some(k) = worker_epolls::worker_of_token(token) {
                // That worker's epoll has events: ours, or an idle worker's.
                handle.harvest_for(k);
            }
        }
        if dispatched > 0 {
            handle.events.fetch_add(dispatched, Ordering::Relaxed);
        }
        received
    }
}

impl Driver {
    /// Whether the last turns saw the io_uring ring readable; resets it.
    pub(crate) fn take_completions_ready(&mut self) -> bool {
        std::mem::take(&mut self.completions_ready)
    }
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IoHandle").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IoDriver")
            .field("releasing", &self.releasing.len())
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests;
