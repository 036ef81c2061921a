//! How a worker sleeps: in the driver if it is free, on a condition variable
//! otherwise.
//!
//! Exactly one worker at a time may sit in the driver (it owns the timer
//! wheel's sleep, and later `epoll_wait`); the others wait on their own
//! condition variable. Whoever wants to wake a worker does not need to know
//! which: `unpark` checks where the worker sleeps and pokes the driver or the
//! condition variable accordingly. Wake tokens are kept, so an unpark that
//! arrives before the park is not lost.
//!
//! The driver can also be left *vacant*: the worker that sat in it woke with
//! work and went to run it while the others stay asleep on their condition
//! variables. Nobody then waits for I/O or timers until a worker parks
//! again, which a long poll can put off indefinitely. Handing the driver
//! over at every exit would cost a wake-up per event, so the watchdog's
//! monitor, which samples anyway while polls run, checks instead: the driver
//! counts its turns, and one that made no turn between two samples with
//! nobody waiting in it has a sleeping worker woken to take it
//! ([`SharedDriver::vacant_since_last_look`]).

use crate::driver::{self, Driver};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// How long the worker asleep in the driver sleeps while another worker is
/// busy, before it looks for events left waiting in that worker's epoll.
/// Bounds how long a connection waits when its worker is held up (by a
/// long poll, or by the OS running another thread on its CPU) while this
/// one has nothing to do.
const STEAL_IO_AFTER: Duration = Duration::from_millis(1);

const EMPTY: usize = 0;
const PARKED_CONDVAR: usize = 1;
const PARKED_DRIVER: usize = 2;
const NOTIFIED: usize = 3;

/// Shared by all workers of a runtime.
pub(crate) struct SharedDriver {
    driver: Mutex<Driver>,
    pub(crate) handle: Arc<driver::Handle>,
    /// Turns made so far; written only under `driver`'s lock.
    turns: AtomicU64,
    /// Set while a worker blocks in the driver (waits for I/O or a timer).
    waiting_in: AtomicBool,
    /// `turns` as the watchdog's monitor saw it last.
    turns_seen: AtomicU64,
}

impl SharedDriver {
    pub(crate) fn new(driver: Driver, handle: Arc<driver::Handle>) -> SharedDriver {
        SharedDriver {
            driver: Mutex::new(driver),
            handle,
            turns: AtomicU64::new(0),
            waiting_in: AtomicBool::new(false),
            turns_seen: AtomicU64::new(0),
        }
    }

    /// One turn of the driver, held through `driver`'s lock: waits at most
    /// `timeout` (`None`: until woken) for I/O and timers, and counts.
    fn turn(&self, driver: &mut Driver, timeout: Option<Duration>) {
        let blocking = timeout != Some(Duration::ZERO);
        if blocking {
            self.waiting_in.store(true, Relaxed);
        }
        driver.park(&self.handle, timeout);
        if blocking {
            self.waiting_in.store(false, Relaxed);
        }
        self.turns
            .store(self.turns.load(Relaxed).wrapping_add(1), Relaxed);
    }

    /// Waits in the driver for at most `timeout` if it is free, or simply
    /// sleeps that long (a replacement worker with nothing to do).
    pub(crate) fn park_for(&self, timeout: Duration) {
        match self.driver.try_lock() {
            Ok(mut driver) => self.turn(&mut driver, Some(timeout)),
            Err(_) => std::thread::sleep(timeout),
        }
    }

    /// A non-blocking driver turn (fire due timers) if no one else holds the
    /// driver.
    pub(crate) fn maintenance(&self) {
        if let Ok(mut driver) = self.driver.try_lock() {
            self.turn(&mut driver, Some(Duration::ZERO));
        }
    }

    /// For the watchdog's monitor, once per sample: `true` if the driver
    /// made no turn since the last call and nobody waits in it now, so I/O
    /// and timers have gone unattended for (about) a sampling period.
    /// Relaxed loads suffice: a stale answer costs one needless or one
    /// late wake-up, a sample later.
    pub(crate) fn vacant_since_last_look(&self) -> bool {
        let turns = self.turns.load(Relaxed);
        let seen = self.turns_seen.swap(turns, Relaxed);
        turns == seen && !self.waiting_in.load(Relaxed)
    }
}

/// One per worker.
pub(crate) struct Unparker {
    inner: Arc<Inner>,
}

pub(crate) struct Parker {
    inner: Arc<Inner>,
}

struct Inner {
    state: AtomicUsize,
    lock: Mutex<()>,
    cvar: Condvar,
    shared: Arc<SharedDriver>,
}

pub(crate) fn pair(shared: Arc<SharedDriver>) -> (Parker, Unparker) {
    let inner = Arc::new(Inner {
        state: AtomicUsize::new(EMPTY),
        lock: Mutex::new(()),
        cvar: Condvar::new(),
        shared,
    });
    (
        Parker {
            inner: inner.clone(),
        },
        Unparker { inner },
    )
}

impl Parker {
    pub(crate) fn park(&mut self) {
        let inner = &*self.inner;
        if inner
            .state
            .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
            .is_ok()
        {
            return;
        }
        if let Ok(mut driver) = inner.shared.driver.try_lock() {
            match inner
                .state
                .compare_exchange(EMPTY, PARKED_DRIVER, SeqCst, SeqCst)
            {
                Ok(_) => {}
                Err(_) => {
                    inner.state.store(EMPTY, SeqCst);
                    return;
                }
            }
            // While another worker is busy, its epoll's events are its own
            // to harvest and nobody reports them to this sleep: come back
            // now and then to take any it has left waiting too long.
            let timeout = inner
                .shared
                .handle
                .io
                .another_worker_busy()
                .then_some(STEAL_IO_AFTER);
            inner.shared.turn(&mut driver, timeout);
            inner.state.store(EMPTY, SeqCst);
            return;
        }
        let mut guard = inner.lock.lock().unwrap();
        match inner
            .state
            .compare_exchange(EMPTY, PARKED_CONDVAR, SeqCst, SeqCst)
        {
            Ok(_) => {}
            Err(_) => {
                inner.state.store(EMPTY, SeqCst);
                return;
            }
        }
        loop {
            guard = inner.cvar.wait(guard).unwrap();
            if inner
                .state
                .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
                .is_ok()
            {
                return;
            }
        }
    }
}

impl Unparker {
    pub(crate) fn unpark(&self) {
        let inner = &*self.inner;
        match inner.state.swap(NOTIFIED, SeqCst) {
            EMPTY | NOTIFIED => {}
            PARKED_CONDVAR => {
                drop(inner.lock.lock().unwrap());
                inner.cvar.notify_one();
            }
            PARKED_DRIVER => inner.shared.handle.unpark(),
            actual => unreachable!("inconsistent park state {actual}"),
        }
    }
}
