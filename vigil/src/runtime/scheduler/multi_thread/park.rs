//! How a worker sleeps: in the driver if it is free and no other worker is
//! awake, on a condition variable otherwise.
//!
//! Exactly one worker at a time may sit in the driver (it owns the timer
//! wheel's sleep and `epoll_wait`); the others wait on their own condition
//! variable. Whoever wants to wake a worker does not need to know which:
//! `unpark` checks where the worker sleeps and pokes the driver or the
//! condition variable accordingly. Wake tokens are kept, so an unpark that
//! arrives before the park is not lost.
//!
//! The driver is often *vacant*: the worker that sat in it woke with work
//! and went to run it. A worker that parks while another is awake does not
//! take the driver then ([`Parker::park_beside_busy`]): in the driver it
//! would be woken by every event, run the tasks the events wake on its own
//! CPU, away from the data the busy worker touched last, and compete for a
//! CPU with the busy worker and whatever else the machine runs. The busy
//! worker turns the driver itself, every `event_interval` ticks and
//! whenever it runs out of work. One sleeper keeps watch meanwhile: every
//! [`WATCH_PERIOD`] it checks that the driver has turned (and turns it if
//! not), and its caller steals tasks that waited in a busy worker's queue
//! for the whole period, so a long poll holds up I/O, timers and queued
//! tasks for about a millisecond at most.
//!
//! When every worker sleeps, one sits in the driver. The watchdog's monitor
//! still checks that the driver turns, as a last resort: one that made no
//! turn between two samples with nobody waiting in it has a sleeping worker
//! woken to take it ([`SharedDriver::vacant_since_last_look`]).

use crate::driver::{self, Driver};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How long the worker asleep in the driver sleeps while another worker is
/// busy, before it looks for events left waiting in that worker's epoll.
/// Bounds how long a connection waits when its worker is held up (by a
/// long poll, or by the OS running another thread on its CPU) while this
/// one has nothing to do.
const STEAL_IO_AFTER: Duration = Duration::from_millis(1);

/// How often a worker asleep beside a busy one checks that the driver is
/// still being turned (see [`Parker::park_beside_busy`]).
const WATCH_PERIOD: Duration = Duration::from_millis(1);

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
    /// Set while a worker keeps watch over the driver from its condition
    /// variable (see [`Parker::park_beside_busy`]); one watcher is enough.
    watched: AtomicBool,
}

impl SharedDriver {
    pub(crate) fn new(driver: Driver, handle: Arc<driver::Handle>) -> SharedDriver {
        SharedDriver {
            driver: Mutex::new(driver),
            handle,
            turns: AtomicU64::new(0),
            waiting_in: AtomicBool::new(false),
            turns_seen: AtomicU64::new(0),
            watched: AtomicBool::new(false),
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
    /// Sleeps until unparked: in the driver if it is free, on the
    /// condition variable otherwise.
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
        inner.sleep_on_condvar(None);
    }

    /// Sleeps while another worker is awake, leaving the driver to it: that
    /// worker turns the driver every `event_interval` ticks and whenever it
    /// runs out of work, so events and timers reach it without waking this
    /// thread (and without this thread stealing the tasks they wake, whose
    /// sockets the busy worker's CPU touched last).
    ///
    /// One such sleeper keeps watch: it wakes every [`WATCH_PERIOD`] and, if
    /// the driver made no turn meanwhile and is free (the busy worker is in
    /// a long poll), turns it without waiting, so I/O and timers are never
    /// left unattended for longer than that. Others sleep until unparked.
    /// Returns after an unpark, or after a watch (with whatever that turn
    /// woke in the caller's queues): `true` after a whole watch period.
    pub(crate) fn park_beside_busy(&mut self) -> bool {
        let inner = &*self.inner;
        let shared = &*inner.shared;
        let watching = shared
            .watched
            .compare_exchange(false, true, SeqCst, SeqCst)
            .is_ok();
        let turns = shared.turns.load(Relaxed);
        let notified = inner.sleep_on_condvar(watching.then_some(WATCH_PERIOD));
        if !watching {
            return false;
        }
        shared.watched.store(false, SeqCst);
        if notified {
            return false;
        }
        if shared.turns.load(Relaxed) == turns {
            if let Ok(mut driver) = shared.driver.try_lock() {
                shared.turn(&mut driver, Some(Duration::ZERO));
            }
        }
        true
    }
}

impl Inner {
    /// Waits on the condition variable until unparked, or for at most
    /// `timeout`. Returns `true` if unparked (or already notified).
    fn sleep_on_condvar(&self, timeout: Option<Duration>) -> bool {
        let mut guard = self.lock.lock().unwrap();
        if self
            .state
            .compare_exchange(EMPTY, PARKED_CONDVAR, SeqCst, SeqCst)
            .is_err()
        {
            // Notified in the meantime.
            self.state.store(EMPTY, SeqCst);
            return true;
        }
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            guard = match deadline {
                None => self.cvar.wait(guard).unwrap(),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    self.cvar.wait_timeout(guard, left).unwrap().0
                }
            };
            if self
                .state
                .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
                .is_ok()
            {
                return true;
            }
            if deadline.is_some_and(|d| Instant::now() >= d)
                && self
                    .state
                    .compare_exchange(PARKED_CONDVAR, EMPTY, SeqCst, SeqCst)
                    .is_ok()
            {
                return false;
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    fn shared() -> Arc<SharedDriver> {
        let (driver, handle) = Driver::new(driver::Options {
            io_uring: false,
            page_cache_first: false,
            start_paused: false,
            events_per_tick: driver::io::DEFAULT_EVENTS_PER_TURN,
        })
        .unwrap();
        Arc::new(SharedDriver::new(driver, handle))
    }

    /// Runs `f` on a thread and fails the test if it does not return
    /// within ten seconds (a lost wake-up).
    fn within_ten_seconds(f: impl FnOnce() + Send + 'static) {
        let (done_tx, done_rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            f();
            done_tx.send(()).unwrap();
        });
        done_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("a park never returned");
        thread.join().unwrap();
    }

    #[test]
    fn an_unpark_before_sleeping_beside_a_busy_worker_is_kept() {
        let (mut parker, unparker) = pair(shared());
        unparker.unpark();
        within_ten_seconds(move || assert!(!parker.park_beside_busy()));
    }

    #[test]
    fn a_sleeper_that_does_not_watch_is_woken_by_every_unpark() {
        let shared = shared();
        // Someone else keeps watch.
        shared.watched.store(true, SeqCst);
        let (mut parker, unparker) = pair(shared);
        let (go_tx, go_rx) = mpsc::channel::<()>();
        std::thread::spawn(move || {
            for () in go_rx {
                unparker.unpark();
            }
        });
        within_ten_seconds(move || {
            // The unpark lands before, during or after the sleep.
            for _ in 0..500 {
                go_tx.send(()).unwrap();
                assert!(!parker.park_beside_busy());
            }
        });
    }

    #[test]
    fn a_watch_turns_the_driver_nobody_turned() {
        let shared = shared();
        let (mut parker, _unparker) = pair(shared.clone());
        let before = shared.turns.load(Relaxed);
        within_ten_seconds(move || assert!(parker.park_beside_busy()));
        assert_eq!(shared.turns.load(Relaxed), before.wrapping_add(1));
        // The watch is over: the next sleeper beside a busy worker may keep it.
        assert!(!shared.watched.load(SeqCst));
    }

    #[test]
    fn a_watch_leaves_a_held_driver_alone() {
        let shared = shared();
        let (mut parker, _unparker) = pair(shared.clone());
        // Another worker holds the driver (it sits in it, or turns it).
        let held = shared.driver.lock().unwrap();
        let before = shared.turns.load(Relaxed);
        assert!(parker.park_beside_busy());
        assert_eq!(shared.turns.load(Relaxed), before);
        drop(held);
    }
}
