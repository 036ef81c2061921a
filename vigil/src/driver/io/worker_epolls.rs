//! One epoll instance per worker of a multi-thread runtime, each nested in
//! the shared one.
//!
//! Why: on loopback the kernel's cost of a round trip depends on where its
//! two ends run. With one shared epoll every worker harvests every
//! connection's events, so the task an event wakes runs wherever the
//! harvest happened, and a connection's ends land on CPUs by chance. That
//! cost vigil, Tokio and smol alike about half of what two cores can do
//! (`bench/src/bin/echo_limit.rs`: the same round trip with no runtime at
//! all runs about 1.5x faster with each connection's two ends on one
//! thread than with them placed by chance, 1.7x faster than with every
//! connection split across the two CPUs, and 1.2x faster on per-thread
//! epolls than on one shared instance). With an epoll per worker, a
//! worker harvests its own registrations and the tasks they wake run on
//! it, so where a registration lives decides where its task runs.
//! `placement` decides which registrations leave the shared epoll (the two
//! ends of a loopback connection within the process) and where they go.
//!
//! How the pieces fit:
//!
//! * A worker harvests its own epoll without waiting: whenever its run
//!   queue is empty and every `event_interval` ticks, next to its turn of
//!   the shared driver. Events wake tasks into its own queues.
//! * A worker with nothing to run and nothing to steal harvests the other
//!   workers' epolls (it steals I/O as it steals tasks), and the thread
//!   asleep in the shared driver wakes every millisecond to do the same
//!   while another worker is busy with registrations of its own: a worker
//!   held up by a long poll, or by the OS running another thread on its
//!   CPU, does not hold up its connections for longer.
//! * Each worker epoll is itself registered in the shared epoll, so the
//!   thread asleep in the shared driver hears at once of events that no
//!   worker is about to harvest: those of an idle worker (one that is
//!   about to sleep, or that the watchdog found blocked). The report is
//!   one-shot, armed when the worker goes idle and again after each
//!   harvest done for it, so a busy worker's events stay with it and wake
//!   nobody else.
//! * The idle handshake loses nothing: a worker sets its flag, then
//!   harvests once more before it sleeps. An event that arrives after that
//!   last harvest reaches the shared epoll after the flag was set, so
//!   whoever takes that report sees the flag. A registration that moves
//!   into an idle worker's epoll arms its report itself.
//! * An epoll with no registrations is never harvested nor reported, so a
//!   runtime whose connections all stay in the shared epoll pays nothing.
//! * At most one thread harvests a given epoll at a time; a thread that
//!   asks meanwhile has the harvester look again (`harvest_gate`). The
//!   gate's count of finished harvests is what lets the reactor free a
//!   deregistered registration's state: see `Handle::release_deregistered`.

use super::harvest_gate::HarvestGate;
use super::{
    Handle, Ready, ScheduledIo, ADDRESS_BITS, ADDRESS_MASK, COMPLETIONS_TOKEN, WAKE_TOKEN,
};
use crate::sys::epoll::{self, Epoll, Events};
use std::cell::{Cell, RefCell};
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::time::Duration;

/// The shared epoll's token for worker `k`'s epoll is `WORKER_TOKEN_TOP -
/// 2k`: odd (never a registration's address) and below the other special
/// tokens.
const WORKER_TOKEN_TOP: u64 = u64::MAX - 4;
/// Workers that get an epoll of their own; others use the shared one.
pub(crate) const MAX_WORKERS: usize = 1024;
/// Events taken per harvest of a worker epoll.
const EVENTS_PER_HARVEST: usize = 256;

/// The per-worker epolls of one reactor.
pub(crate) struct WorkerEpolls {
    slots: Box<[Slot]>,
}

/// One worker's epoll and what others need to know about its worker.
/// Aligned to keep each worker's counters on its own cache lines.
#[repr(align(128))]
struct Slot {
    epoll: Epoll,
    /// One harvester at a time; counts harvests (`harvest_gate`).
    gate: HarvestGate,
    /// The worker will not harvest its epoll soon: other threads may.
    idle: AtomicBool,
    /// The CPU the worker last ran on (`u32::MAX`: not known yet).
    cpu: AtomicU32,
    /// Registrations in this epoll. An empty epoll is never harvested or
    /// reported, so a runtime without in-process pairs pays nothing.
    homed: AtomicUsize,
}

thread_local! {
    /// The worker this thread runs as: (its `WorkerEpolls`' address, index).
    static CURRENT: Cell<(usize, usize)> = const { Cell::new((0, usize::MAX)) };
    /// The buffer this thread harvests into.
    static EVENTS: RefCell<Events> = RefCell::new(Events::with_capacity(EVENTS_PER_HARVEST));
}

/// The shared epoll's token for worker `k`'s epoll.
fn token_of_worker(k: usize) -> u64 {
    WORKER_TOKEN_TOP - 2 * k as u64
}

/// The worker whose epoll `token` names in the shared epoll.
pub(super) fn worker_of_token(token: u64) -> Option<usize> {
    let below = WORKER_TOKEN_TOP.checked_sub(token)?;
    (below % 2 == 0 && below < 2 * MAX_WORKERS as u64).then_some((below / 2) as usize)
}

impl WorkerEpolls {
    /// `n` worker epolls (at most [`MAX_WORKERS`]), each nested in `shared`.
    pub(super) fn new(shared: &Epoll, n: usize) -> io::Result<WorkerEpolls> {
        let mut slots = Vec::with_capacity(n.min(MAX_WORKERS));
        for k in 0..n.min(MAX_WORKERS) {
            let epoll = Epoll::new()?;
            shared.add_oneshot(epoll.raw(), epoll::READABLE, token_of_worker(k))?;
            slots.push(Slot {
                epoll,
                gate: HarvestGate::new(),
                idle: AtomicBool::new(false),
                cpu: AtomicU32::new(u32::MAX),
                homed: AtomicUsize::new(0),
            });
        }
        Ok(WorkerEpolls {
            slots: slots.into_boxed_slice(),
        })
    }

    /// How many workers have an epoll.
    pub(super) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Worker `k`'s epoll.
    pub(super) fn epoll(&self, k: usize) -> &Epoll {
        &self.slots[k].epoll
    }

    /// The worker the calling thread runs as, if it is one of ours.
    pub(super) fn current(&self) -> Option<usize> {
        let (owner, index) = CURRENT.with(Cell::get);
        (owner == self as *const WorkerEpolls as usize && index < self.slots.len()).then_some(index)
    }

    /// The worker that last ran on `cpu`.
    pub(super) fn worker_on_cpu(&self, cpu: u32) -> Option<usize> {
        self.slots
            .iter()
            .position(|s| s.cpu.load(Ordering::Relaxed) == cpu)
    }

    /// A registration moved from home `from` to home `to` (either may be
    /// the shared epoll; registrations lock held).
    pub(super) fn moved(&self, from: u32, to: u32) {
        if let Some(s) = self.slots.get(from as usize) {
            s.homed.fetch_sub(1, Ordering::SeqCst);
        }
        if let Some(s) = self.slots.get(to as usize) {
            s.homed.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Worker `k`'s harvest gate.
    #[cfg(test)]
    pub(super) fn gate(&self, k: usize) -> &HarvestGate {
        &self.slots[k].gate
    }

    /// The harvest counters of every epoll, for `release_deregistered`.
    pub(super) fn snapshot(&self, into: &mut Vec<u64>) {
        into.clear();
        into.extend(self.slots.iter().map(|s| s.gate.snapshot()));
    }

    /// Whether every harvest that was running when `snapshot` was taken
    /// has finished.
    pub(super) fn passed(&self, snapshot: &[u64]) -> bool {
        snapshot
            .iter()
            .zip(self.slots.iter())
            .all(|(&then, s)| s.gate.passed(then))
    }
}

impl Handle {
    /// Gives each of `workers` threads an epoll of its own (see the module
    /// docs). Called once, when a multi-thread runtime is built.
    pub(crate) fn enable_worker_epolls(&self, workers: usize) -> io::Result<()> {
        let epolls = WorkerEpolls::new(&self.epoll, workers)?;
        // A second call keeps the first set: nothing is registered in it yet
        // that would be lost, and nothing refers to the new one.
        let _ = self.workers.set(epolls);
        Ok(())
    }

    /// The calling thread runs worker `index` from now on.
    pub(crate) fn set_current_worker(&self, index: usize) {
        if let Some(w) = self.workers.get() {
            if index < w.len() {
                CURRENT.with(|c| c.set((w as *const WorkerEpolls as usize, index)));
            }
        }
    }

    /// Notes the CPU worker `index` runs on (it may move; call now and then).
    pub(crate) fn record_worker_cpu(&self, index: usize) {
        if let Some(slot) = self.workers.get().and_then(|w| w.slots.get(index)) {
            if let Some(cpu) = crate::sys::cpu::current() {
                slot.cpu.store(cpu, Ordering::Relaxed);
            }
        }
    }

    /// Worker `index` will not harvest its epoll soon (`true`: it has
    /// nothing to run, or it is blocked), or will again (`false`). After
    /// setting `true` the worker must harvest once more before it waits
    /// (module docs).
    pub(crate) fn set_worker_idle(&self, index: usize, idle: bool) {
        let Some(slot) = self.workers.get().and_then(|w| w.slots.get(index)) else {
            return;
        };
        if slot.idle.load(Ordering::Relaxed) == idle {
            return;
        }
        slot.idle.store(idle, Ordering::SeqCst);
        // (A registration that moves in after this load arms the report
        // itself: `arm_if_idle`.)
        if idle && slot.homed.load(Ordering::SeqCst) > 0 {
            // The shared epoll reports this worker's epoll only while the
            // worker is idle: a busy worker harvests its own, and a report
            // would only wake the thread asleep in the shared driver for
            // nothing. Armed after the flag is set (module docs).
            self.arm_report(index, slot);
        }
    }

    /// Harvests the calling worker's own epoll without waiting. Returns the
    /// registrations it woke.
    pub(crate) fn harvest_own(&self) -> usize {
        match self.workers.get().and_then(WorkerEpolls::current) {
            Some(k) => self.harvest_worker(k),
            None => 0,
        }
    }

    /// Whether a worker other than the caller is busy (not idle) with
    /// registrations in its epoll.
    pub(crate) fn another_worker_busy(&self) -> bool {
        let Some(w) = self.workers.get() else {
            return false;
        };
        let me = w.current();
        w.slots.iter().enumerate().any(|(k, s)| {
            Some(k) != me && s.homed.load(Ordering::Relaxed) > 0 && !s.idle.load(Ordering::SeqCst)
        })
    }

    /// Harvests every other worker's epoll without waiting: the caller has
    /// nothing to run and nothing to steal, so it takes their I/O instead
    /// (the tasks it wakes run here, and their registrations follow them
    /// here if they keep waiting from here). Returns the tasks woken.
    pub(crate) fn harvest_others(&self) -> usize {
        let Some(w) = self.workers.get() else {
            return 0;
        };
        let me = w.current();
        (0..w.len())
            .filter(|&k| Some(k) != me)
            .map(|k| self.harvest_worker(k))
            .sum()
    }

    /// The shared epoll reported that worker `k`'s epoll has events (which
    /// disarmed that report): harvests it if it is the caller's or `k` is
    /// idle, and arms the report again while `k` stays idle. A busy `k`
    /// harvests its own, and arms the report when it next goes idle.
    pub(super) fn harvest_for(&self, k: usize) {
        let Some(w) = self.workers.get() else { return };
        let Some(slot) = w.slots.get(k) else { return };
        let idle = slot.idle.load(Ordering::SeqCst);
        if idle || w.current() == Some(k) {
            self.harvest_worker(k);
        }
        if slot.idle.load(Ordering::SeqCst) {
            self.arm_report(k, slot);
        }
    }

    /// A registration just moved into worker `k`'s epoll: if `k` is idle
    /// (and so may have left its report unarmed while its epoll was
    /// empty), arms the report.
    pub(super) fn arm_if_idle(&self, k: usize) {
        if let Some(slot) = self.workers.get().and_then(|w| w.slots.get(k)) {
            if slot.idle.load(Ordering::SeqCst) {
                self.arm_report(k, slot);
            }
        }
    }

    /// Arms the shared epoll's one report of worker `k`'s epoll.
    fn arm_report(&self, k: usize, slot: &Slot) {
        if let Err(err) =
            self.epoll
                .rearm_oneshot(slot.epoll.raw(), epoll::READABLE, token_of_worker(k))
        {
            panic!("vigil: cannot re-arm a worker's epoll: {err}");
        }
    }

    /// Harvests worker `k`'s epoll without waiting. If another thread is
    /// harvesting it right now, leaves it a note to look again when it is
    /// done instead (so an event that thread's look came too early for is
    /// not left behind). Returns the registrations this call woke.
    pub(crate) fn harvest_worker(&self, k: usize) -> usize {
        let Some(slot) = self.workers.get().and_then(|w| w.slots.get(k)) else {
            return 0;
        };
        if slot.homed.load(Ordering::Relaxed) == 0 {
            // Nothing in it (a registration that just moved out left its
            // readiness to the epoll it moved to).
            return 0;
        }
        let woken = slot.gate.harvest(|| {
            EVENTS.with(|events| {
                let mut events = events.borrow_mut();
                if let Err(err) = slot.epoll.wait(&mut events, Some(Duration::ZERO)) {
                    panic!("vigil: epoll_wait on a worker's epoll failed: {err}");
                }
                let tick = self.next_tick();
                self.dispatch(&events, tick, &mut false) as usize
            })
        });
        if woken > 0 {
            self.events.fetch_add(woken as u64, Ordering::Relaxed);
        }
        woken
    }

    /// The next readiness tick (every harvest, of any epoll, gets its own).
    pub(super) fn next_tick(&self) -> u16 {
        self.ticks.fetch_add(1, Ordering::Relaxed).wrapping_add(1)
    }

    /// Wakes the registrations named by `events`; notes the wake-up and
    /// completion tokens, and skips worker tokens (the caller harvests
    /// those). Returns the registrations woken.
    pub(super) fn dispatch(&self, events: &Events, tick: u16, completions: &mut bool) -> u64 {
        let mut woken = 0;
        for (token, bits) in events.iter() {
            if token == WAKE_TOKEN {
                self.unpark.drain();
                continue;
            }
            if token == COMPLETIONS_TOKEN {
                *completions = true;
                continue;
            }
            if worker_of_token(token).is_some() {
                continue;
            }
            let ptr = (token & ADDRESS_MASK) as usize as *const ScheduledIo;
            // The token was made by `token()` from a `ScheduledIo` the
            // reactor still holds a reference to: it is dropped only after
            // the kernel confirmed the descriptor left every epoll set
            // (`deregister`), the shared driver began a later turn, and
            // every harvest of a worker epoll running at that point finished
            // (`release_deregistered`), or never while the reactor lives
            // (orphans). This harvest holds the events it was given, so it
            // is one of those.
            // SAFETY: so the pointee is alive (see above).
            let io = unsafe { &*ptr };
            let generation = (token >> ADDRESS_BITS) as u16;
            if io.set_readiness(tick, Ready::from_epoll(bits), generation) {
                woken += 1;
            }
        }
        woken
    }
}
