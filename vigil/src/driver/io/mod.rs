//! The reactor: epoll, the registrations of every I/O object, and the
//! dispatch of readiness to the tasks waiting on them.
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
//! * deregistering removes the descriptor from the epoll set
//!   (`EPOLL_CTL_DEL`); once the kernel has confirmed the removal, no later
//!   `epoll_wait` returns the token. Events already returned are still in
//!   the driver's buffer if another thread is dispatching them right now,
//!   so the reference goes to a release list, emptied by the driver at the
//!   start of its next turn, before it waits again: by then every event of
//!   the earlier turns has been dispatched.
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
mod ready;
mod registration;
mod scheduled_io;

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
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
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

/// The shared half: registration from any thread.
pub(crate) struct Handle {
    epoll: Epoll,
    unpark: Unparker,
    registrations: Mutex<Registrations>,
    /// Set when `Registrations::released` is not empty, so the driver does
    /// not take the lock on turns where there is nothing to release.
    release_pending: AtomicBool,
    /// I/O events dispatched so far (written by the thread in the driver).
    events: AtomicU64,
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
}

/// The owned half: held by the thread that waits in epoll.
pub(crate) struct Driver {
    events: Events,
    tick: u16,
    /// Swapped with `Registrations::released` at the start of a turn, so
    /// neither list reallocates in steady state.
    releasing: Vec<Arc<ScheduledIo>>,
    /// The io_uring ring's descriptor was reported readable this turn.
    completions_ready: bool,
}

/// The epoll token of `io`, or `None` if its address does not fit in
/// [`ADDRESS_BITS`] bits (no Linux user-space heap address does unless the
/// allocator deliberately maps memory above the 47-bit boundary).
fn token(io: &Arc<ScheduledIo>) -> Option<u64> {
    let address = Arc::as_ptr(io) as usize as u64;
    if address & !ADDRESS_MASK != 0 {
        return None;
    }
    Some(((io.generation() as u64) << ADDRESS_BITS) | address)
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
                tick: 0,
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
                }),
                release_pending: AtomicBool::new(false),
                events: AtomicU64::new(0),
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
        let Some(token) = token(&io) else {
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
        let interest = epoll::READABLE | epoll::WRITABLE | epoll::READ_CLOSED | epoll::PRIORITY;
        if let Err(err) = self.epoll.add_edge(fd, interest, token) {
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
        // Under the lock, so that a registration of the same number on
        // another thread cannot slip in between and have its entry deleted.
        let removed = fd_is_ours && self.epoll.delete(fd).is_ok();
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

    /// Drops the reactor's references to registrations removed from the
    /// epoll set. Only the driver calls this, between two turns; `spare` is
    /// its empty list, swapped in.
    fn release_deregistered(&self, spare: &mut Vec<Arc<ScheduledIo>>) {
        if !self.release_pending.load(Ordering::Acquire) {
            return;
        }
        {
            let mut regs = self.lock();
            self.release_pending.store(false, Ordering::Relaxed);
            std::mem::swap(&mut regs.released, spare);
        }
        // Dropped outside the lock: the last reference may drop wakers.
        spare.clear();
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
        self.tick = self.tick.wrapping_add(1);
        let tick = self.tick;
        let received = !self.events.is_empty();
        let mut dispatched = 0u64;
        for (token, bits) in self.events.iter() {
            if token == WAKE_TOKEN {
                handle.unpark.drain();
                continue;
            }
            if token == COMPLETIONS_TOKEN {
                self.completions_ready = true;
                continue;
            }
            let ptr = (token & ADDRESS_MASK) as usize as *const ScheduledIo;
            // The token was made by `token()` from a `ScheduledIo` the
            // reactor still holds a reference to: it is dropped only after
            // the kernel confirmed the descriptor left the epoll set
            // (`deregister`) *and* a later turn began (`release_deregistered`
            // above, run before this turn's wait), or never while the
            // reactor lives (orphans).
            // SAFETY: so the pointee is alive (see above).
            let io = unsafe { &*ptr };
            let generation = (token >> ADDRESS_BITS) as u16;
            if io.set_readiness(tick, Ready::from_epoll(bits), generation) {
                dispatched += 1;
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
            .field("tick", &self.tick)
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::task::{Context, Poll, Waker};

    fn pipe() -> (OwnedFd, OwnedFd) {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors pipe2 writes.
        let ret = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) };
        assert_eq!(ret, 0);
        // SAFETY: both descriptors are fresh and owned by nobody else.
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
    }

    fn write_byte(fd: &OwnedFd) {
        // SAFETY: writes one byte from a valid static buffer.
        let n = unsafe { libc::write(fd.as_raw_fd(), b"x".as_ptr().cast(), 1) };
        assert_eq!(n, 1);
    }

    fn reactor() -> (Driver, Handle) {
        Handle::new(Unparker::new().unwrap(), DEFAULT_EVENTS_PER_TURN).unwrap()
    }

    #[test]
    fn readiness_is_delivered_to_the_registration() {
        let (mut driver, handle) = reactor();
        let (r, w) = pipe();
        let (key, io) = handle.register(r.as_raw_fd()).unwrap();
        let mut cx = Context::from_waker(Waker::noop());
        assert!(io.poll_ready(&mut cx, Direction::Read).is_pending());
        write_byte(&w);
        driver.turn(&handle, Some(Duration::from_secs(5)));
        assert!(io.poll_ready(&mut cx, Direction::Read).is_ready());
        handle.deregister(r.as_raw_fd(), key, &io);
    }

    #[test]
    fn a_reused_descriptor_number_wakes_the_old_waiter_with_an_error() {
        let (mut driver, handle) = reactor();
        let (r, _w) = pipe();
        let fd = r.as_raw_fd();
        // `r` keeps owning the number `fd` (it is closed when the test ends).
        let (_old_key, old) = handle.register(fd).unwrap();
        let mut cx = Context::from_waker(Waker::noop());
        assert!(old.poll_ready(&mut cx, Direction::Read).is_pending());
        // Closed behind the runtime's back and the number reused: `dup2`
        // does both atomically (a parallel test cannot take the number).
        let (r2, w2) = pipe();
        // SAFETY: both are open descriptors; `fd` now refers to r2's pipe.
        assert_eq!(unsafe { libc::dup2(r2.as_raw_fd(), fd) }, fd);
        let (key, new) = handle.register(fd).unwrap();
        let Poll::Ready(ev) = old.poll_ready(&mut cx, Direction::Read) else {
            panic!("the old waiter must be woken");
        };
        assert!(ev.is_shutdown);
        // Data on the new descriptor reaches the new registration only.
        write_byte(&w2);
        driver.turn(&handle, Some(Duration::from_secs(5)));
        assert!(new.poll_ready(&mut cx, Direction::Read).is_ready());
        handle.deregister(fd, key, &new);
    }

    /// The epoll gotcha: a descriptor closed behind the runtime's back
    /// stays in the epoll set as long as a duplicate keeps its file open, and
    /// goes on reporting events with the old token, even after its number
    /// was reused and registered again and after the old I/O object was
    /// dropped. Those events must reach neither the new registration nor
    /// the old waiter, and must find the old state still allocated.
    #[test]
    fn a_reused_number_with_the_old_file_still_open_never_wakes_the_old_waiter() {
        use crate::driver::test_support::Count;
        let (mut driver, handle) = reactor();
        let (r, w) = pipe();
        let fd = r.as_raw_fd();
        // A duplicate keeps the old pipe's read end open after `fd` is
        // reused, so the kernel keeps the old epoll entry.
        let _dup = r.try_clone().unwrap();
        let (old_key, old) = handle.register(fd).unwrap();
        let old_count = Arc::new(Count::default());
        let old_waker = Waker::from(old_count.clone());
        assert!(old
            .poll_ready(&mut Context::from_waker(&old_waker), Direction::Read)
            .is_pending());

        let (r2, w2) = pipe();
        // SAFETY: both are open descriptors; `fd` now refers to r2's pipe.
        assert_eq!(unsafe { libc::dup2(r2.as_raw_fd(), fd) }, fd);
        let (new_key, new) = handle.register(fd).unwrap();
        // Woken once, with an error (the number was reused).
        assert_eq!(old_count.0.load(Ordering::SeqCst), 1);

        // Data on the old pipe: reported with the old token only.
        let mut cx = Context::from_waker(Waker::noop());
        assert!(new.poll_ready(&mut cx, Direction::Read).is_pending());
        let before = handle.events_dispatched();
        write_byte(&w);
        driver.turn(&handle, Some(Duration::from_secs(5)));
        assert_eq!(
            handle.events_dispatched(),
            before + 1,
            "the old entry still reports"
        );
        assert!(new.poll_ready(&mut cx, Direction::Read).is_pending());
        let Poll::Ready(ev) = old.poll_ready(&mut cx, Direction::Read) else {
            panic!("shut down");
        };
        assert!(ev.is_shutdown && ev.ready.is_empty());

        // The old I/O object goes away; the kernel entry does not. The state
        // its token points to must stay allocated while the reactor lives.
        let old_state = Arc::downgrade(&old);
        handle.deregister(fd, old_key, &old);
        drop(old);
        write_byte(&w);
        driver.turn(&handle, Some(Duration::from_secs(5)));
        driver.turn(&handle, Some(Duration::ZERO));
        assert!(old_state.upgrade().is_some());
        assert_eq!(old_count.0.load(Ordering::SeqCst), 1);

        // The new registration works normally throughout.
        write_byte(&w2);
        driver.turn(&handle, Some(Duration::from_secs(5)));
        assert!(new.poll_ready(&mut cx, Direction::Read).is_ready());
        handle.deregister(fd, new_key, &new);
        drop(handle);
        assert!(old_state.upgrade().is_none(), "freed with the reactor");
    }

    #[test]
    fn a_deregistered_state_is_freed_only_when_the_driver_turns_again() {
        let (mut driver, handle) = reactor();
        let (r, w) = pipe();
        let (key, io) = handle.register(r.as_raw_fd()).unwrap();
        write_byte(&w);
        let state = Arc::downgrade(&io);
        handle.deregister(r.as_raw_fd(), key, &io);
        drop(io);
        // Another thread might be dispatching an event for it right now.
        assert!(state.upgrade().is_some());
        driver.turn(&handle, Some(Duration::ZERO));
        assert!(state.upgrade().is_none());
    }

    #[test]
    fn events_for_a_removed_registration_are_dropped() {
        let (mut driver, handle) = reactor();
        let (r, w) = pipe();
        let (key, io) = handle.register(r.as_raw_fd()).unwrap();
        write_byte(&w);
        handle.deregister(r.as_raw_fd(), key, &io);
        driver.turn(&handle, Some(Duration::ZERO));
        let mut cx = Context::from_waker(Waker::noop());
        let Poll::Ready(ev) = io.poll_ready(&mut cx, Direction::Read) else {
            panic!("deregistered means shut down");
        };
        assert!(ev.is_shutdown);
        assert!(ev.ready.is_empty());
    }
}
