//! The reactor: epoll, the registrations of every I/O object, and the
//! dispatch of readiness to the tasks waiting on them.
//!
//! Each I/O object registers its descriptor once, edge-triggered for both
//! directions, and gets a slot in a slab. The epoll token is the slot index
//! plus a generation number: when a descriptor is closed and its number
//! reused, the new registration gets a new generation, so a late event for
//! the old one is recognised and dropped instead of waking the wrong task.
//! The reactor also keeps a map from descriptor number to slot: registering a
//! number that is still in the map means the old descriptor was closed
//! behind the runtime's back, and the task still waiting on it is woken with
//! an error instead of waiting forever.
//!
//! Events are resolved to registrations in chunks, under one lock per chunk,
//! and their wakers run with no lock held. Nothing on this path allocates.

mod evented;
mod ready;
mod registration;
mod scheduled_io;

pub(crate) use evented::PollEvented;
pub use ready::{Interest, Ready};
pub(crate) use registration::Registration;
pub(crate) use scheduled_io::Direction;

use crate::driver::park::Unparker;
use crate::driver::wake_batch::WakeBatch;
use crate::sys::epoll::{self, Epoll, Events};
use scheduled_io::ScheduledIo;
use slab::Slab;
use std::collections::HashMap;
use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The token of the wake-up eventfd.
const WAKE_TOKEN: u64 = u64::MAX;
/// Events taken from the kernel per `epoll_wait`.
const EVENTS_PER_TURN: usize = 1024;
/// Events resolved to registrations per lock of the slab.
const CHUNK: usize = 32;

/// The shared half: registration from any thread.
pub(crate) struct Handle {
    epoll: Epoll,
    unpark: Unparker,
    registrations: Mutex<Registrations>,
    /// I/O events dispatched so far (written by the thread in the driver).
    events: AtomicU64,
}

struct Registrations {
    slab: Slab<Entry>,
    by_fd: HashMap<RawFd, usize>,
    next_generation: u32,
    is_shutdown: bool,
}

struct Entry {
    generation: u32,
    io: Arc<ScheduledIo>,
}

/// The owned half: held by the thread that waits in epoll.
pub(crate) struct Driver {
    events: Events,
    tick: u16,
}

fn token(key: usize, generation: u32) -> u64 {
    ((generation as u64) << 32) | key as u64
}

impl Handle {
    pub(crate) fn new(unpark: Unparker) -> io::Result<(Driver, Handle)> {
        let epoll = Epoll::new()?;
        epoll.add_level(unpark.wake_fd(), epoll::READABLE, WAKE_TOKEN)?;
        Ok((
            Driver {
                events: Events::with_capacity(EVENTS_PER_TURN),
                tick: 0,
            },
            Handle {
                epoll,
                unpark,
                registrations: Mutex::new(Registrations {
                    slab: Slab::new(),
                    by_fd: HashMap::new(),
                    next_generation: 0,
                    is_shutdown: false,
                }),
                events: AtomicU64::new(0),
            },
        ))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Registrations> {
        self.registrations.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers `fd` for both directions. Returns the slot key, its
    /// generation and the shared state.
    pub(crate) fn register(&self, fd: RawFd) -> io::Result<(usize, u32, Arc<ScheduledIo>)> {
        let io = Arc::new(ScheduledIo::new());
        let mut regs = self.lock();
        if regs.is_shutdown {
            return Err(io::Error::other(
                "the vigil runtime this I/O object belongs to has shut down",
            ));
        }
        let stale = regs
            .by_fd
            .remove(&fd)
            .and_then(|key| regs.slab.get(key).map(|e| e.io.clone()));
        let generation = regs.next_generation;
        regs.next_generation = regs.next_generation.wrapping_add(1);
        let key = regs.slab.insert(Entry {
            generation,
            io: io.clone(),
        });
        let interest = epoll::READABLE | epoll::WRITABLE | epoll::READ_CLOSED | epoll::PRIORITY;
        if let Err(err) = self.epoll.add_edge(fd, interest, token(key, generation)) {
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
        Ok((key, generation, io))
    }

    /// Removes a registration. Call before the descriptor is closed.
    pub(crate) fn deregister(&self, fd: RawFd, key: usize, generation: u32) {
        let mut regs = self.lock();
        let owned = regs
            .slab
            .get(key)
            .is_some_and(|e| e.generation == generation);
        if !owned {
            return;
        }
        let entry = regs.slab.remove(key);
        let fd_is_ours = regs.by_fd.get(&fd) == Some(&key);
        if fd_is_ours {
            regs.by_fd.remove(&fd);
        }
        drop(regs);
        if fd_is_ours {
            // Errors mean the descriptor is already closed (and so already
            // out of the epoll set); nothing to undo.
            let _ = self.epoll.delete(fd);
        }
        entry.io.shutdown();
    }

    /// Runtime shutdown: every registration fails from now on.
    /// I/O events dispatched to registrations so far.
    pub(crate) fn events_dispatched(&self) -> u64 {
        self.events.load(Relaxed)
    }

    pub(crate) fn shutdown(&self) {
        let ios: Vec<Arc<ScheduledIo>> = {
            let mut regs = self.lock();
            regs.is_shutdown = true;
            regs.slab.iter().map(|(_, e)| e.io.clone()).collect()
        };
        for io in ios {
            io.shutdown();
        }
    }
}

impl Driver {
    /// Waits for I/O events (at most `timeout`) and wakes their tasks.
    pub(crate) fn turn(&mut self, handle: &Handle, timeout: Option<Duration>) {
        if let Err(err) = handle.epoll.wait(&mut self.events, timeout) {
            // EBADF/EINVAL would mean the epoll descriptor itself is broken;
            // there is no way to continue as a reactor.
            panic!("vigil: epoll_wait failed: {err}");
        }
        self.tick = self.tick.wrapping_add(1);
        let tick = self.tick;
        let mut batch = WakeBatch::new();
        let mut resolved: [Option<(Arc<ScheduledIo>, Ready)>; CHUNK] = Default::default();
        let mut events = self.events.iter().peekable();
        let mut dispatched = 0u64;
        while events.peek().is_some() {
            let mut n = 0;
            {
                let regs = handle.lock();
                for (token, bits) in events.by_ref() {
                    if token == WAKE_TOKEN {
                        handle.unpark.drain();
                    } else {
                        let key = (token & 0xFFFF_FFFF) as usize;
                        let generation = (token >> 32) as u32;
                        if let Some(entry) = regs.slab.get(key) {
                            if entry.generation == generation {
                                resolved[n] = Some((entry.io.clone(), Ready::from_epoll(bits)));
                                n += 1;
                            }
                        }
                    }
                    if n == CHUNK {
                        break;
                    }
                }
            }
            for slot in resolved[..n].iter_mut() {
                if let Some((io, ready)) = slot.take() {
                    io.set_readiness(tick, ready, &mut batch);
                }
            }
            dispatched += n as u64;
        }
        if dispatched > 0 {
            handle.events.fetch_add(dispatched, Relaxed);
        }
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
        Handle::new(Unparker::new().unwrap()).unwrap()
    }

    #[test]
    fn readiness_is_delivered_to_the_registration() {
        let (mut driver, handle) = reactor();
        let (r, w) = pipe();
        let (key, generation, io) = handle.register(r.as_raw_fd()).unwrap();
        let mut cx = Context::from_waker(Waker::noop());
        assert!(io.poll_ready(&mut cx, Direction::Read).is_pending());
        write_byte(&w);
        driver.turn(&handle, Some(Duration::from_secs(5)));
        assert!(io.poll_ready(&mut cx, Direction::Read).is_ready());
        handle.deregister(r.as_raw_fd(), key, generation);
    }

    #[test]
    fn a_reused_descriptor_number_wakes_the_old_waiter_with_an_error() {
        let (mut driver, handle) = reactor();
        let (r, _w) = pipe();
        let fd = r.as_raw_fd();
        // `r` keeps owning the number `fd` (it is closed when the test ends).
        let (_old_key, _old_gen, old) = handle.register(fd).unwrap();
        let mut cx = Context::from_waker(Waker::noop());
        assert!(old.poll_ready(&mut cx, Direction::Read).is_pending());
        // Closed behind the runtime's back and the number reused: `dup2`
        // does both atomically (a parallel test cannot take the number).
        let (r2, w2) = pipe();
        // SAFETY: both are open descriptors; `fd` now refers to r2's pipe.
        assert_eq!(unsafe { libc::dup2(r2.as_raw_fd(), fd) }, fd);
        let (key, generation, new) = handle.register(fd).unwrap();
        let Poll::Ready(ev) = old.poll_ready(&mut cx, Direction::Read) else {
            panic!("the old waiter must be woken");
        };
        assert!(ev.is_shutdown);
        // Data on the new descriptor reaches the new registration only.
        write_byte(&w2);
        driver.turn(&handle, Some(Duration::from_secs(5)));
        assert!(new.poll_ready(&mut cx, Direction::Read).is_ready());
        handle.deregister(fd, key, generation);
    }

    #[test]
    fn events_for_a_removed_registration_are_dropped() {
        let (mut driver, handle) = reactor();
        let (r, w) = pipe();
        let (key, generation, io) = handle.register(r.as_raw_fd()).unwrap();
        write_byte(&w);
        handle.deregister(r.as_raw_fd(), key, generation);
        driver.turn(&handle, Some(Duration::ZERO));
        let mut cx = Context::from_waker(Waker::noop());
        let Poll::Ready(ev) = io.poll_ready(&mut cx, Direction::Read) else {
            panic!("deregistered means shut down");
        };
        assert!(ev.is_shutdown);
        assert!(ev.ready.is_empty());
    }
}
