//! The per-registration state shared by the reactor and the I/O object:
//! cached readiness, and who to wake when it changes.
//!
//! Readiness is cached, not queried: the reactor registers descriptors
//! edge-triggered, so the kernel reports a change once and the cache keeps
//! it until the I/O object has observed `WouldBlock`. Each time the reactor
//! sets readiness it stamps it with its turn number (the *tick*). An I/O
//! object that got `WouldBlock` clears readiness only if the tick is still
//! the one it saw: if the reactor delivered a new edge in between, that edge
//! is kept, so readiness arriving between an event and a `WouldBlock` is
//! never lost.
//!
//! One reader and one writer waker cover `AsyncRead`/`AsyncWrite`, where a
//! single task reads and a single task writes; `readable()`/`writable()` may
//! be awaited by many tasks at once and use a slab of waiters.

use super::ready::{Interest, Ready};
use crate::driver::wake_batch::WakeBatch;
use slab::Slab;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

const READY_MASK: usize = 0xFF;
const TICK_SHIFT: u32 = 8;
const TICK_MASK: usize = 0xFFFF << TICK_SHIFT;
/// The registration is gone (deregistered, driver shut down, or the
/// descriptor was closed behind the runtime's back).
const SHUTDOWN: usize = 1 << 24;
/// The registration's generation lives in the same word (set once, never
/// changed), so checking it costs nothing beyond the load `set_readiness`
/// does anyway, and the state stays as small as it was.
const GENERATION_SHIFT: u32 = 25;
/// Bits of generation: 16 where `usize` has room, 7 otherwise.
pub(crate) const GENERATION_BITS: u32 = if usize::BITS >= 64 { 16 } else { 7 };
const GENERATION_MASK: usize = ((1 << GENERATION_BITS) - 1) << GENERATION_SHIFT;

/// Which single-waiter slot an `AsyncRead`/`AsyncWrite` poll uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Read,
    Write,
}

impl Direction {
    pub(crate) fn interest(self) -> Interest {
        match self {
            Direction::Read => Interest::READABLE,
            Direction::Write => Interest::WRITABLE,
        }
    }
}

/// Readiness as observed by an I/O object, to clear it after `WouldBlock`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReadyEvent {
    pub(crate) ready: Ready,
    tick: u16,
    pub(crate) is_shutdown: bool,
}

impl ReadyEvent {
    /// The same observation narrowed to `ready`, for clearing part of it.
    pub(crate) fn restricted(self, ready: Ready) -> ReadyEvent {
        ReadyEvent {
            ready: self.ready - (self.ready - ready),
            ..self
        }
    }
}

pub(crate) struct ScheduledIo {
    readiness: AtomicUsize,
    waiters: Mutex<Waiters>,
    /// Which epoll holds the descriptor, and when it moves.
    pub(super) placement: super::placement::Placement,
}

#[derive(Default)]
struct Waiters {
    reader: Option<Waker>,
    writer: Option<Waker>,
    others: Slab<Waiter>,
}

struct Waiter {
    interest: Interest,
    waker: Option<Waker>,
}

fn ready_of(word: usize) -> Ready {
    Ready::from_bits((word & READY_MASK) as u8)
}

fn tick_of(word: usize) -> u16 {
    ((word & TICK_MASK) >> TICK_SHIFT) as u16
}

fn generation_of(word: usize) -> u16 {
    ((word & GENERATION_MASK) >> GENERATION_SHIFT) as u16
}

impl ScheduledIo {
    /// A registration's state; `generation` is truncated to
    /// [`GENERATION_BITS`] bits.
    pub(crate) fn new(generation: u16) -> ScheduledIo {
        let generation = ((generation as usize) << GENERATION_SHIFT) & GENERATION_MASK;
        ScheduledIo {
            readiness: AtomicUsize::new(generation),
            waiters: Mutex::new(Waiters::default()),
            placement: super::placement::Placement::new(),
        }
    }

    /// The generation this registration was created with (also carried by
    /// its epoll token).
    pub(crate) fn generation(&self) -> u16 {
        generation_of(self.readiness.load(Ordering::Relaxed))
    }

    fn lock(&self) -> MutexGuard<'_, Waiters> {
        self.waiters.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The reactor saw `ready` on turn `tick`, in an event carrying
    /// `generation`: cache it and wake waiters. Returns `false` (and does
    /// nothing) if `generation` is not this registration's.
    pub(crate) fn set_readiness(&self, tick: u16, ready: Ready, generation: u16) -> bool {
        let mut current = self.readiness.load(Ordering::Acquire);
        if generation_of(current) != generation {
            return false;
        }
        loop {
            if current & SHUTDOWN != 0 {
                return true;
            }
            let new_ready = ready_of(current) | ready;
            let next = (current & !(READY_MASK | TICK_MASK))
                | new_ready.bits() as usize
                | ((tick as usize) << TICK_SHIFT);
            match self.readiness.compare_exchange_weak(
                current,
                next,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(actual) => current = actual,
            }
        }
        self.wake(ready);
        true
    }

    /// Wakes every waiter interested in `ready`. Wakers run without the lock
    /// held.
    ///
    /// The common case, run for every readiness edge, is the reader and/or
    /// the writer slot and no `readable()`/`writable()` waiters: two
    /// `Option` takes under the lock, no batch. Only when shared waiters
    /// exist does it collect them into a [`WakeBatch`], flushed whenever it
    /// fills.
    pub(crate) fn wake(&self, ready: Ready) {
        let mut waiters = self.lock();
        let reader = if ready.is_readable() || ready.is_error() || ready.is_priority() {
            waiters.reader.take()
        } else {
            None
        };
        let writer = if ready.is_writable() || ready.is_error() {
            waiters.writer.take()
        } else {
            None
        };
        if waiters.others.is_empty() {
            drop(waiters);
            if let Some(w) = reader {
                w.wake();
            }
            if let Some(w) = writer {
                w.wake();
            }
            return;
        }
        let mut batch = WakeBatch::new();
        // The batch is empty: both fit.
        batch.extend(reader);
        batch.extend(writer);
        self.wake_others(waiters, ready, &mut batch);
    }

    /// The rest of [`wake`](Self::wake) when shared waiters exist (kept out
    /// of line so the common case stays small).
    #[inline(never)]
    fn wake_others<'a>(
        &'a self,
        mut waiters: MutexGuard<'a, Waiters>,
        ready: Ready,
        batch: &mut WakeBatch,
    ) {
        // Walk the slab by key rather than by iterator, so the lock can be
        // released whenever the batch fills (a key stays valid across that,
        // and nothing needs collecting on the heap). A waiter added meanwhile
        // found the readiness already set; at worst it is woken spuriously.
        let mut key = 0;
        while key < waiters.others.capacity() {
            if let Some(waiter) = waiters.others.get_mut(key) {
                if !ready.intersection(waiter.interest).is_empty() {
                    if let Some(w) = waiter.waker.take() {
                        waiters = self.push(waiters, batch, w);
                    }
                }
            }
            key += 1;
        }
        drop(waiters);
        batch.wake_all();
    }

    /// Adds `waker` to the batch, first flushing a full batch with the lock
    /// released.
    fn push<'a>(
        &'a self,
        waiters: MutexGuard<'a, Waiters>,
        batch: &mut WakeBatch,
        waker: Waker,
    ) -> MutexGuard<'a, Waiters> {
        if !batch.is_full() {
            batch.push(waker);
            return waiters;
        }
        drop(waiters);
        batch.wake_all();
        batch.push(waker);
        self.lock()
    }

    fn event(&self, word: usize, interest: Interest) -> ReadyEvent {
        ReadyEvent {
            ready: ready_of(word).intersection(interest),
            tick: tick_of(word),
            is_shutdown: word & SHUTDOWN != 0,
        }
    }

    /// Ready once the resource is ready for `direction` (or gone).
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<ReadyEvent> {
        let interest = direction.interest();
        let event = self.event(self.readiness.load(Ordering::Acquire), interest);
        if !event.ready.is_empty() || event.is_shutdown {
            return Poll::Ready(event);
        }
        let mut waiters = self.lock();
        let slot = match direction {
            Direction::Read => &mut waiters.reader,
            Direction::Write => &mut waiters.writer,
        };
        match slot {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => *slot = Some(cx.waker().clone()),
        }
        // Re-check under the lock: the reactor sets readiness before it takes
        // the lock to wake, so either we see it here or it sees our waker.
        let event = self.event(self.readiness.load(Ordering::Acquire), interest);
        if !event.ready.is_empty() || event.is_shutdown {
            return Poll::Ready(event);
        }
        Poll::Pending
    }

    /// The current readiness for `interest`, without waiting.
    pub(crate) fn ready_now(&self, interest: Interest) -> ReadyEvent {
        self.event(self.readiness.load(Ordering::Acquire), interest)
    }

    /// As [`poll_ready`](Self::poll_ready) for one of many concurrent
    /// waiters; `key` keeps the waiter's slot between polls.
    pub(crate) fn poll_ready_shared(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
        key: &mut Option<usize>,
    ) -> Poll<ReadyEvent> {
        let event = self.event(self.readiness.load(Ordering::Acquire), interest);
        if !event.ready.is_empty() || event.is_shutdown {
            self.remove_waiter(key);
            return Poll::Ready(event);
        }
        let mut waiters = self.lock();
        match key.and_then(|k| waiters.others.get_mut(k)) {
            Some(waiter) => match &waiter.waker {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => waiter.waker = Some(cx.waker().clone()),
            },
            None => {
                *key = Some(waiters.others.insert(Waiter {
                    interest,
                    waker: Some(cx.waker().clone()),
                }))
            }
        }
        let event = self.event(self.readiness.load(Ordering::Acquire), interest);
        if !event.ready.is_empty() || event.is_shutdown {
            if let Some(k) = key.take() {
                waiters.others.try_remove(k);
            }
            return Poll::Ready(event);
        }
        Poll::Pending
    }

    /// Forgets a waiter of [`poll_ready_shared`](Self::poll_ready_shared).
    pub(crate) fn remove_waiter(&self, key: &mut Option<usize>) {
        if let Some(k) = key.take() {
            self.lock().others.try_remove(k);
        }
    }

    /// After `WouldBlock`: forget the readiness in `event`, unless the
    /// reactor reported a new edge since (a different tick). Closed sides
    /// stay set: they never become false again.
    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        let clear = event.ready - event.ready.sticky();
        let mut current = self.readiness.load(Ordering::Acquire);
        loop {
            if tick_of(current) != event.tick {
                return;
            }
            let next = (current & !READY_MASK) | (ready_of(current) - clear).bits() as usize;
            match self.readiness.compare_exchange_weak(
                current,
                next,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return,
                Err(actual) => current = actual,
            }
        }
    }

    /// The registration is over: every waiter is woken and sees `is_shutdown`.
    pub(crate) fn shutdown(&self) {
        self.readiness.fetch_or(SHUTDOWN, Ordering::AcqRel);
        self.wake(Ready::ALL);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;

    use crate::driver::test_support::Count;

    fn set(io: &ScheduledIo, tick: u16, ready: Ready) {
        assert!(io.set_readiness(tick, ready, io.generation()));
    }

    #[test]
    fn readiness_arriving_before_would_block_is_kept() {
        let io = ScheduledIo::new(0);
        let count = Arc::new(Count::default());
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        set(&io, 1, Ready::READABLE);
        let Poll::Ready(seen) = io.poll_ready(&mut cx, Direction::Read) else {
            panic!("readable");
        };
        // A new edge arrives while the reader is busy, then its read returns
        // WouldBlock for the old data: the new edge must survive the clear.
        set(&io, 2, Ready::READABLE);
        io.clear_readiness(seen);
        assert!(io.poll_ready(&mut cx, Direction::Read).is_ready());
        // Without a new edge, the clear takes effect and the reader waits.
        let Poll::Ready(seen) = io.poll_ready(&mut cx, Direction::Read) else {
            panic!("readable");
        };
        io.clear_readiness(seen);
        assert!(io.poll_ready(&mut cx, Direction::Read).is_pending());
        set(&io, 3, Ready::READABLE);
        assert_eq!(
            count.0.load(Ordering::SeqCst),
            1,
            "the reader is woken once"
        );
    }

    #[test]
    fn closed_sides_are_sticky_and_directions_are_separate() {
        let io = ScheduledIo::new(0);
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        set(&io, 1, Ready::WRITABLE);
        assert!(io.poll_ready(&mut cx, Direction::Read).is_pending());
        assert!(io.poll_ready(&mut cx, Direction::Write).is_ready());
        set(&io, 2, Ready::READ_CLOSED);
        let Poll::Ready(seen) = io.poll_ready(&mut cx, Direction::Read) else {
            panic!("read closed counts as readable");
        };
        io.clear_readiness(seen);
        assert!(io.poll_ready(&mut cx, Direction::Read).is_ready());
    }

    #[test]
    fn shutdown_wakes_every_waiter() {
        let io = ScheduledIo::new(0);
        let count = Arc::new(Count::default());
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(io.poll_ready(&mut cx, Direction::Read).is_pending());
        assert!(io.poll_ready(&mut cx, Direction::Write).is_pending());
        let mut keys = [None, None, None];
        for key in &mut keys {
            assert!(io
                .poll_ready_shared(&mut cx, Interest::READABLE, key)
                .is_pending());
        }
        io.shutdown();
        assert_eq!(count.0.load(Ordering::SeqCst), 5);
        let Poll::Ready(ev) = io.poll_ready(&mut cx, Direction::Read) else {
            panic!("ready after shutdown");
        };
        assert!(ev.is_shutdown);
        // Readiness reported after shutdown is ignored.
        set(&io, 9, Ready::READABLE);
        assert_eq!(count.0.load(Ordering::SeqCst), 5);
    }

    #[test]
    fn the_generation_survives_every_update_and_gates_events() {
        let g = (1u16 << GENERATION_BITS.min(15)) - 3;
        let io = ScheduledIo::new(g);
        assert_eq!(io.generation(), g);
        let mut cx = Context::from_waker(Waker::noop());
        // An event for another generation is refused and changes nothing.
        assert!(!io.set_readiness(1, Ready::READABLE, g.wrapping_add(1)));
        assert!(io.poll_ready(&mut cx, Direction::Read).is_pending());
        set(&io, 2, Ready::READABLE | Ready::WRITABLE);
        let Poll::Ready(seen) = io.poll_ready(&mut cx, Direction::Read) else {
            panic!("readable");
        };
        io.clear_readiness(seen);
        io.shutdown();
        assert_eq!(io.generation(), g);
    }

    #[test]
    fn shared_waiters_are_removed_when_dropped() {
        let io = ScheduledIo::new(0);
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        let mut key = None;
        assert!(io
            .poll_ready_shared(&mut cx, Interest::WRITABLE, &mut key)
            .is_pending());
        assert!(key.is_some());
        io.remove_waiter(&mut key);
        assert!(io.lock().others.is_empty());
    }
}
