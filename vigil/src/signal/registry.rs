//! The process-wide half of `vigil::signal`: one slot per signal number,
//! the handler the kernel runs, and the pipe that turns a signal into
//! readiness a reactor can wait for.
//!
//! A signal handler may run on any thread, between any two instructions,
//! while that thread holds any lock; so [`on_signal`] only stores a flag
//! and writes one byte into a non-blocking pipe, then restores `errno`.
//! Everything else happens in [`dispatch`], which a listener runs from an
//! ordinary task after the pipe turned readable: it empties the pipe,
//! turns each raised flag into one more *delivery* of that signal, and
//! wakes the signal's listeners.
//!
//! Deliveries are a counter per signal, and a listener remembers the
//! count it has seen: several signals raised before a listener looks are
//! one event for it (the kernel merges pending standard signals the same
//! way), and a listener never misses a delivery counted after it was
//! created, whoever ran the dispatch.

use crate::loom::sync::atomic::{AtomicBool, AtomicU64};
use crate::loom::sync::{Mutex, MutexGuard};
use crate::sys::{pipe, signal as sys};
use slab::Slab;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::OnceLock;
use std::task::Waker;

/// Linux numbers signals 1..=64 (`_NSIG` is 65).
const SLOT_COUNT: usize = 65;

/// What the registry knows of one signal number.
pub(crate) struct Slot {
    /// Set by the handler, taken by [`dispatch`].
    pending: AtomicBool,
    /// How many times [`dispatch`] found `pending` set.
    delivered: AtomicU64,
    /// Whether installing the handler worked (`Err` holds the `errno`);
    /// decided once, by the first listener.
    installed: OnceLock<Result<(), i32>>,
    /// The wakers of this signal's listeners, keyed by listener.
    waiters: Mutex<Slab<Waker>>,
}

/// A fresh slot; `const` where the atomics are `std`'s (loom's are not).
macro_rules! new_slot {
    () => {
        Slot {
            pending: AtomicBool::new(false),
            delivered: AtomicU64::new(0),
            installed: OnceLock::new(),
            waiters: Mutex::new(Slab::new()),
        }
    };
}

impl Slot {
    #[cfg(not(loom))]
    const fn new() -> Slot {
        new_slot!()
    }

    #[cfg(loom)]
    pub(crate) fn new() -> Slot {
        new_slot!()
    }

    /// The handler's half: the signal was raised. Only an atomic store,
    /// so it may run inside a signal handler.
    fn raise(&self) {
        self.pending.store(true, Ordering::Release);
    }

    /// The dispatcher's half: if the signal was raised since the last
    /// look, counts one delivery and wakes every listener. A listener
    /// stores its waker *before* reading the count, so it either reads the
    /// new count or is woken (both locks of `waiters` are ordered).
    pub(crate) fn deliver(&self) -> bool {
        // A compare-exchange rather than `swap`: the same effect, and loom
        // models it faithfully (its `swap` lets a racing store slip between
        // the read and the write: tokio-rs/loom#254).
        if self
            .pending
            .compare_exchange(true, false, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return false;
        }
        self.delivered.fetch_add(1, Ordering::AcqRel);
        for (_, waker) in lock(&self.waiters).iter() {
            waker.wake_by_ref();
        }
        true
    }

    /// The number of deliveries counted so far.
    pub(crate) fn delivered(&self) -> u64 {
        self.delivered.load(Ordering::Acquire)
    }

    /// Stores `waker` as the listener `key`'s (inserting it on the first
    /// call), so that the next delivery wakes it.
    pub(crate) fn set_waker(&self, key: &mut Option<usize>, waker: &Waker) {
        let mut waiters = lock(&self.waiters);
        match key.and_then(|k| waiters.get_mut(k)) {
            Some(slot) if slot.will_wake(waker) => {}
            Some(slot) => slot.clone_from(waker),
            None => *key = Some(waiters.insert(waker.clone())),
        }
    }

    /// Forgets the listener `key`'s waker.
    pub(crate) fn remove_waker(&self, key: &mut Option<usize>) {
        if let Some(k) = key.take() {
            lock(&self.waiters).try_remove(k);
        }
    }

    #[cfg(all(test, not(loom)))]
    pub(crate) fn waiter_count(&self) -> usize {
        lock(&self.waiters).len()
    }
}

/// Every slot, indexed by signal number (slot 0 is never used).
#[cfg(not(loom))]
static SLOTS: [Slot; SLOT_COUNT] = [const { Slot::new() }; SLOT_COUNT];

/// Loom's atomics cannot be built in a `const`; the models build their own
/// slots and never touch these.
#[cfg(loom)]
static SLOTS: std::sync::LazyLock<Vec<Slot>> =
    std::sync::LazyLock::new(|| (0..SLOT_COUNT).map(|_| Slot::new()).collect());

/// The write end of the wake-up pipe, for the handler; -1 until created.
static PIPE_WRITE: AtomicI32 = AtomicI32::new(-1);

/// Both ends of the wake-up pipe; created once, kept for the process's life.
static PIPE: std::sync::Mutex<Option<(OwnedFd, OwnedFd)>> = std::sync::Mutex::new(None);

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing here panics while holding a lock, but a waker's `clone` or
    // `wake` is foreign code: keep going with the data as it is.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The slot of `signum`, which the caller has checked is in range.
pub(crate) fn slot(signum: i32) -> &'static Slot {
    &SLOTS[signum as usize]
}

/// Whether `signum` is a signal this process can listen for.
pub(crate) fn check(signum: i32) -> io::Result<()> {
    if signum < 1 || signum > sys::max_signal() || signum as usize >= SLOT_COUNT {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{signum} is not a signal number of this system"),
        ));
    }
    if sys::FORBIDDEN.contains(&signum) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "signal {signum} cannot be listened for: SIGKILL and SIGSTOP cannot be caught, \
                 and a handler that returns from SIGSEGV, SIGBUS, SIGILL or SIGFPE would re-run \
                 the faulting instruction"
            ),
        ));
    }
    Ok(())
}

/// A new descriptor for the read end of the wake-up pipe (non-blocking,
/// close-on-exec), creating the pipe on first use. Each listener registers
/// its own, so that any number of runtimes can wait on the pipe at once.
pub(crate) fn pipe_reader() -> io::Result<OwnedFd> {
    let mut pipe = PIPE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if pipe.is_none() {
        let (read, write) = pipe::pipe()?;
        PIPE_WRITE.store(std::os::fd::AsRawFd::as_raw_fd(&write), Ordering::Release);
        *pipe = Some((read, write));
    }
    let (read, _) = pipe.as_ref().expect("created above");
    read.as_fd().try_clone_to_owned()
}

/// Installs the handler for `signum` if no listener has yet.
pub(crate) fn install(signum: i32) -> io::Result<()> {
    let result = slot(signum).installed.get_or_init(|| {
        sys::set_handler(signum, on_signal).map_err(|e| e.raw_os_error().unwrap_or(libc::EINVAL))
    });
    result.map_err(io::Error::from_raw_os_error)
}

/// The handler: record the signal and make the pipe readable. Only atomics
/// and `write(2)`, which are async-signal-safe.
extern "C" fn on_signal(signum: libc::c_int) {
    let saved = sys::errno();
    if let Some(slot) = SLOTS.get(signum as usize) {
        slot.raise();
    }
    let fd = PIPE_WRITE.load(Ordering::Acquire);
    if fd >= 0 {
        // A full pipe already wakes every reader: dropping the byte is fine.
        let _ = pipe::write(fd, &[1]);
    }
    sys::restore_errno(saved);
}

/// Empties the wake-up pipe through `reader` (one listener's descriptor)
/// and delivers every signal raised since the last dispatch. Returns the
/// error that stopped the draining, `WouldBlock` when the pipe is empty.
pub(crate) fn dispatch(reader: &OwnedFd) -> io::Error {
    let mut buf = [0u8; 128];
    let err = loop {
        match pipe::read(std::os::fd::AsRawFd::as_raw_fd(reader), &mut buf) {
            Ok(0) => break io::Error::from(io::ErrorKind::UnexpectedEof),
            Ok(_) => continue,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => break e,
        }
    };
    // Flags are read after the pipe is empty: a signal raised after this
    // point writes a new byte, so the pipe turns readable again and the
    // next dispatch sees its flag.
    for slot in &SLOTS[1..] {
        slot.deliver();
    }
    err
}

#[cfg(all(test, loom))]
mod loom_registry;

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_and_forbidden_numbers_are_refused() {
        for signum in [0, -1, 65, 1000, libc::SIGKILL, libc::SIGSTOP, libc::SIGSEGV] {
            let err = check(signum).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{signum}");
        }
        assert!(check(libc::SIGUSR1).is_ok());
        assert!(check(libc::SIGRTMAX()).is_ok());
    }

    #[test]
    fn a_listener_key_holds_one_waker_and_is_forgotten() {
        let slot = Slot::new();
        let mut key = None;
        slot.set_waker(&mut key, Waker::noop());
        slot.set_waker(&mut key, Waker::noop());
        assert_eq!(slot.waiter_count(), 1);
        slot.remove_waker(&mut key);
        assert_eq!((slot.waiter_count(), key), (0, None));
    }
}
