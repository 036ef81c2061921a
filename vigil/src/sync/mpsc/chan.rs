//! The state both channel flavours share, and the operations on it.
//!
//! One lock guards everything: the buffer, the receiver's waker, the
//! sender count, the slot accounting and the queue of senders waiting for a
//! slot. Every operation takes the lock once on its fast path, touches a few
//! fields, collects the wakers it must wake in a [`Wakeups`] and wakes them
//! only after the lock is released (a woken task may run at once on another
//! thread and want the lock itself).
//!
//! The futures that wait on this state are in `fut.rs`.
//!
//! Values are never dropped under the lock either: a value's destructor may
//! drop a sender of this very channel, which takes the lock again.
//!
//! ## Slot accounting (bounded channels)
//!
//! A slot is in one of three states: free, *reserved* (held by a permit, by
//! a waiting sender it was assigned to, or by a `Sink` that is ready), or
//! holding a buffered value. So `free = bound - buffer.len() - reserved`.
//! A slot becomes free again when the receiver takes the value out or when
//! a reservation is given up. Whenever a slot frees, it goes straight to the
//! first waiting sender (recorded in its queue node, and counted as
//! reserved), so a free slot and a queued sender never coexist: late
//! arrivals cannot barge ahead of the queue.
//!
//! A waiter may want several slots at once (`reserve_many`). It collects
//! them one by one as they free, staying at the front of the queue (and
//! holding what it has so far) until it has them all; only then is it
//! unlinked and woken. Those behind it wait their turn, so a large request
//! is never starved by small ones. A waiting future dropped before or after
//! its grant gives back every slot it holds, which passes them on to the
//! next waiters; closing the channel takes back the slots of the senders
//! still queued at once, so a closed receiver does not wait for them.
//!
//! Unbounded channels use the same core with no bound: the slot counts
//! stay zero and the waiter queue stays empty.

use super::error::{TryRecvError, TrySendError};
use crate::loom::sync::{Mutex, MutexGuard};
use crate::runtime::coop;
use crate::sync::wait_list::{Key, WaitList};
use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::task::{ready, Context, Poll, Waker};

pub(crate) struct Chan<T> {
    state: Mutex<State<T>>,
    /// Buffer slots; `None` for an unbounded channel.
    bound: Option<usize>,
}

struct State<T> {
    buffer: VecDeque<T>,
    rx_waker: Option<Waker>,
    /// Live (not dropped, not `Sink`-closed) sender handles.
    senders: usize,
    /// Weak sender handles (they never keep the channel open).
    weak_senders: usize,
    /// Slots reserved but not yet filled.
    reserved: usize,
    /// The receiver called `close` or was dropped: no new sends.
    rx_closed: bool,
    /// The receiver was dropped: even reserved slots drop their value.
    rx_dropped: bool,
    send_waiters: WaitList<SendWaiter>,
    closed_waiters: WaitList<Option<Waker>>,
}

struct SendWaiter {
    waker: Option<Waker>,
    /// Slots this waiter still lacks. It is unlinked from the queue when
    /// this reaches 0 (and never queued asking for 0).
    wanted: usize,
    /// Slots assigned to this waiter so far, counted in `reserved`.
    held: usize,
}

impl SendWaiter {
    fn granted(&self) -> bool {
        self.wanted == 0
    }
}

/// Wakers to wake once the lock is released. Allocates only when more than
/// one waker is collected (closing the channel, `recv_many`).
#[derive(Default)]
pub(crate) struct Wakeups {
    first: Option<Waker>,
    rest: Vec<Waker>,
}

impl Wakeups {
    fn push(&mut self, waker: Waker) {
        if self.first.is_none() {
            self.first = Some(waker);
        } else {
            self.rest.push(waker);
        }
    }

    fn wake_all(self) {
        if let Some(w) = self.first {
            w.wake();
        }
        for w in self.rest {
            w.wake();
        }
    }
}

/// Stores `cx`'s waker in `slot` unless it already holds an equivalent one;
/// returns the replaced waker, for the caller to drop after unlocking.
fn store_waker(slot: &mut Option<Waker>, cx: &Context<'_>) -> Option<Waker> {
    match slot {
        Some(w) if w.will_wake(cx.waker()) => None,
        _ => slot.replace(cx.waker().clone()),
    }
}

impl<T> Chan<T> {
    /// A channel with one sender and `bound` slots (`None`: unbounded).
    pub(crate) fn new(bound: Option<usize>) -> Chan<T> {
        Chan {
            state: Mutex::new(State {
                buffer: VecDeque::new(),
                rx_waker: None,
                senders: 1,
                weak_senders: 0,
                reserved: 0,
                rx_closed: false,
                rx_dropped: false,
                send_waiters: WaitList::new(),
                closed_waiters: WaitList::new(),
            }),
            bound,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // Nothing user-supplied runs under the lock but waker clones; a
        // panic there leaves the state consistent, so poison is ignored.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn free(&self, st: &State<T>) -> usize {
        match self.bound {
            Some(bound) => bound.saturating_sub(st.buffer.len() + st.reserved),
            None => usize::MAX,
        }
    }

    /// Hands free slots to waiting senders, front first. The front waiter
    /// takes as many as it still lacks; it is unlinked and woken once it
    /// has them all, and the next one is served only then.
    fn assign(&self, st: &mut State<T>, wake: &mut Wakeups) {
        loop {
            let free = self.free(st);
            if free == 0 {
                break;
            }
            let Some(key) = st.send_waiters.front() else {
                break;
            };
            let waiter = st.send_waiters.get_mut(key);
            let take = free.min(waiter.wanted);
            waiter.wanted -= take;
            waiter.held += take;
            let granted = waiter.granted();
            let waker = if granted { waiter.waker.take() } else { None };
            st.reserved += take;
            if !granted {
                // Every free slot went to this waiter.
                break;
            }
            st.send_waiters.pop_front();
            if let Some(w) = waker {
                wake.push(w);
            }
        }
    }

    /// Gives back `n` reserved slots.
    fn release_locked(&self, st: &mut State<T>, n: usize, wake: &mut Wakeups) {
        st.reserved -= n;
        self.assign(st, wake);
        if st.rx_closed && st.reserved == 0 {
            // A closed receiver waits for the last permit before ending.
            if let Some(w) = st.rx_waker.take() {
                wake.push(w);
            }
        }
    }

    /// `Some(bound)`, or `None` if unbounded.
    pub(crate) fn bound(&self) -> Option<usize> {
        self.bound
    }

    // ---- senders ----

    pub(crate) fn add_sender(&self) {
        self.lock().senders += 1;
    }

    /// Adds a sender unless every sender is already gone (the channel has
    /// ended for the receiver, and must stay ended).
    pub(crate) fn try_add_sender(&self) -> bool {
        let mut st = self.lock();
        if st.senders == 0 {
            return false;
        }
        st.senders += 1;
        true
    }

    /// Senders that keep the channel open, and weak senders.
    pub(crate) fn sender_counts(&self) -> (usize, usize) {
        let st = self.lock();
        (st.senders, st.weak_senders)
    }

    pub(crate) fn drop_sender(&self) {
        let waker = {
            let mut st = self.lock();
            st.senders -= 1;
            if st.senders == 0 {
                st.rx_waker.take()
            } else {
                None
            }
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    pub(crate) fn is_rx_closed(&self) -> bool {
        self.lock().rx_closed
    }

    pub(crate) fn capacity(&self) -> usize {
        let st = self.lock();
        self.free(&st)
    }

    /// Sends without waiting, if a slot is free and nobody queues for one.
    pub(crate) fn try_push(&self, value: T) -> Result<(), TrySendError<T>> {
        let waker = {
            let mut st = self.lock();
            if st.rx_closed {
                return Err(TrySendError::Closed(value));
            }
            if !st.send_waiters.is_empty() || self.free(&st) == 0 {
                return Err(TrySendError::Full(value));
            }
            st.buffer.push_back(value);
            st.rx_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// Reserves `n` slots without waiting: all of them or none. Asking
    /// for 0 succeeds while the receiver is open, waiting senders or not.
    pub(crate) fn try_reserve(&self, n: usize) -> Result<(), TrySendError<()>> {
        let mut st = self.lock();
        if st.rx_closed {
            Err(TrySendError::Closed(()))
        } else if n == 0 {
            Ok(())
        } else if !st.send_waiters.is_empty() || self.free(&st) < n {
            Err(TrySendError::Full(()))
        } else {
            st.reserved += n;
            Ok(())
        }
    }

    /// Fills a reserved slot. If the receiver is gone the value comes back
    /// (for the caller to drop, outside the lock).
    pub(crate) fn push_reserved(&self, value: T) -> Result<(), T> {
        let mut wake = Wakeups::default();
        let result = {
            let mut st = self.lock();
            st.reserved -= 1;
            if st.rx_dropped {
                Err(value)
            } else {
                st.buffer.push_back(value);
                if let Some(w) = st.rx_waker.take() {
                    wake.push(w);
                }
                Ok(())
            }
        };
        wake.wake_all();
        result
    }

    /// Gives `n` reserved slots back unused (`n` may be 0).
    pub(crate) fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        let mut wake = Wakeups::default();
        {
            let mut st = self.lock();
            self.release_locked(&mut st, n, &mut wake);
        }
        wake.wake_all();
    }

    /// Reserves `n` slots (`n` at most the bound), queueing (`key`) until
    /// they are all granted. On `Ready(Ok)` the caller holds `n` reserved
    /// slots and `key` is `None`; on `Ready(Err)` the receiver is closed and
    /// the caller holds none. `n` must be the same on every poll.
    pub(crate) fn poll_acquire(
        &self,
        key: &mut Option<Key>,
        n: usize,
        cx: &Context<'_>,
    ) -> Poll<Result<(), ()>> {
        let mut wake = Wakeups::default();
        let old_waker;
        let poll = {
            let mut st = self.lock();
            match *key {
                None => {
                    if st.rx_closed {
                        return Poll::Ready(Err(()));
                    }
                    if n == 0 {
                        return Poll::Ready(Ok(()));
                    }
                    if st.send_waiters.is_empty() && self.free(&st) >= n {
                        st.reserved += n;
                        return Poll::Ready(Ok(()));
                    }
                    *key = Some(st.send_waiters.push_back(SendWaiter {
                        waker: Some(cx.waker().clone()),
                        wanted: n,
                        held: 0,
                    }));
                    // A waiter that found some (but not enough) slots free
                    // takes them now: no slot stays free while it queues.
                    self.assign(&mut st, &mut wake);
                    old_waker = None;
                    Poll::Pending
                }
                Some(k) => {
                    let rx_closed = st.rx_closed;
                    let waiter = st.send_waiters.get_mut(k);
                    if waiter.granted() {
                        *key = None;
                        let waiter = st.send_waiters.remove(k);
                        old_waker = waiter.waker;
                        if rx_closed {
                            self.release_locked(&mut st, waiter.held, &mut wake);
                            Poll::Ready(Err(()))
                        } else {
                            Poll::Ready(Ok(()))
                        }
                    } else if rx_closed {
                        *key = None;
                        let waiter = st.send_waiters.remove(k);
                        old_waker = waiter.waker;
                        if waiter.held > 0 {
                            self.release_locked(&mut st, waiter.held, &mut wake);
                        }
                        Poll::Ready(Err(()))
                    } else {
                        old_waker = store_waker(&mut waiter.waker, cx);
                        Poll::Pending
                    }
                }
            }
        };
        drop(old_waker);
        wake.wake_all();
        poll
    }

    /// Leaves the queue for good (the waiting future was dropped), giving
    /// back every slot assigned to the waiter so far.
    pub(crate) fn cancel_acquire(&self, key: Key) {
        let mut wake = Wakeups::default();
        let waiter = {
            let mut st = self.lock();
            let waiter = st.send_waiters.remove(key);
            if waiter.held > 0 {
                self.release_locked(&mut st, waiter.held, &mut wake);
            }
            waiter
        };
        drop(waiter);
        wake.wake_all();
    }

    pub(crate) fn poll_closed(&self, key: &mut Option<Key>, cx: &Context<'_>) -> Poll<()> {
        let mut st = self.lock();
        if st.rx_closed {
            let old = key.take().and_then(|k| st.closed_waiters.remove(k));
            drop(st);
            drop(old);
            return Poll::Ready(());
        }
        let old = match *key {
            None => {
                *key = Some(st.closed_waiters.push_back(Some(cx.waker().clone())));
                None
            }
            Some(k) => store_waker(st.closed_waiters.get_mut(k), cx),
        };
        drop(st);
        drop(old);
        Poll::Pending
    }

    pub(crate) fn cancel_closed(&self, key: Key) {
        let old = self.lock().closed_waiters.remove(key);
        drop(old);
    }

    // ---- the receiver ----

    /// Nothing more can arrive: every sender is gone, or the receiver is
    /// closed and no permit is outstanding.
    fn is_done(st: &State<T>) -> bool {
        st.senders == 0 || (st.rx_closed && st.reserved == 0)
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().buffer.len()
    }

    pub(crate) fn is_closed_for_rx(&self) -> bool {
        let st = self.lock();
        st.senders == 0 || st.rx_closed
    }

    pub(crate) fn size_hint(&self) -> (usize, Option<usize>) {
        let st = self.lock();
        let len = st.buffer.len();
        if Self::is_done(&st) {
            (len, Some(len))
        } else {
            (len, None)
        }
    }

    /// Receives one value, spending a unit of coop budget when it completes.
    pub(crate) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        ready!(coop::poll_proceed(cx));
        coop::refund_if_pending(self.poll_recv_inner(cx))
    }

    fn poll_recv_inner(&self, cx: &Context<'_>) -> Poll<Option<T>> {
        let mut wake = Wakeups::default();
        let old_waker;
        {
            let mut st = self.lock();
            if let Some(value) = st.buffer.pop_front() {
                self.assign(&mut st, &mut wake);
                drop(st);
                wake.wake_all();
                return Poll::Ready(Some(value));
            }
            if Self::is_done(&st) {
                return Poll::Ready(None);
            }
            old_waker = store_waker(&mut st.rx_waker, cx);
        }
        drop(old_waker);
        Poll::Pending
    }

    /// Moves up to `limit` values into `out`, waiting for at least one; 0
    /// at once if `limit` is 0, and 0 once nothing more can arrive.
    pub(crate) fn poll_recv_many(
        &self,
        cx: &mut Context<'_>,
        out: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        if limit == 0 {
            return Poll::Ready(0);
        }
        ready!(coop::poll_proceed(cx));
        let mut wake = Wakeups::default();
        let old_waker;
        {
            let mut st = self.lock();
            if !st.buffer.is_empty() {
                let n = limit.min(st.buffer.len());
                out.extend(st.buffer.drain(..n));
                self.assign(&mut st, &mut wake);
                drop(st);
                wake.wake_all();
                return Poll::Ready(n);
            }
            if Self::is_done(&st) {
                return Poll::Ready(0);
            }
            old_waker = store_waker(&mut st.rx_waker, cx);
        }
        drop(old_waker);
        coop::refund();
        Poll::Pending
    }

    pub(crate) fn try_recv(&self) -> Result<T, TryRecvError> {
        let mut wake = Wakeups::default();
        let result = {
            let mut st = self.lock();
            match st.buffer.pop_front() {
                Some(value) => {
                    self.assign(&mut st, &mut wake);
                    Ok(value)
                }
                None if Self::is_done(&st) => Err(TryRecvError::Disconnected),
                None => Err(TryRecvError::Empty),
            }
        };
        wake.wake_all();
        result
    }

    /// Stops new sends; waiting senders fail. Buffered values stay.
    pub(crate) fn close_rx(&self) {
        let mut wake = Wakeups::default();
        {
            let mut st = self.lock();
            Self::close_locked(&mut st, &mut wake);
        }
        wake.wake_all();
    }

    fn close_locked(st: &mut State<T>, wake: &mut Wakeups) {
        st.rx_closed = true;
        // The queued senders will fail: take back the slots some of them
        // had collected, so that `reserved` only counts slots that can
        // still be filled.
        let mut taken_back = 0;
        st.send_waiters.drain_filter(|w| {
            taken_back += std::mem::take(&mut w.held);
            if let Some(w) = w.waker.take() {
                wake.push(w);
            }
            true
        });
        st.reserved -= taken_back;
        st.closed_waiters.drain_filter(|w| {
            if let Some(w) = w.take() {
                wake.push(w);
            }
            true
        });
    }

    /// The receiver is dropped: close, and drop what is buffered.
    pub(crate) fn drop_rx(&self) {
        let mut wake = Wakeups::default();
        let (buffer, rx_waker) = {
            let mut st = self.lock();
            Self::close_locked(&mut st, &mut wake);
            st.rx_dropped = true;
            (std::mem::take(&mut st.buffer), st.rx_waker.take())
        };
        wake.wake_all();
        drop(rx_waker);
        drop(buffer);
    }
}

impl<T> fmt::Debug for Chan<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.lock();
        f.debug_struct("Chan")
            .field("bound", &self.bound)
            .field("len", &st.buffer.len())
            .field("reserved", &st.reserved)
            .field("senders", &st.senders)
            .field("rx_closed", &st.rx_closed)
            .finish()
    }
}

/// The channel as a weak sender holds it: counted in `weak_senders` for as
/// long as it lives, so `weak_count` is exact whatever else holds the
/// channel's `Arc` (the receiver, permits, pending futures).
pub(crate) struct WeakChan<T> {
    chan: Arc<Chan<T>>,
}

impl<T> WeakChan<T> {
    pub(crate) fn new(chan: &Arc<Chan<T>>) -> WeakChan<T> {
        chan.lock().weak_senders += 1;
        WeakChan { chan: chan.clone() }
    }
}

impl<T> std::ops::Deref for WeakChan<T> {
    type Target = Arc<Chan<T>>;

    fn deref(&self) -> &Arc<Chan<T>> {
        &self.chan
    }
}

impl<T> Clone for WeakChan<T> {
    fn clone(&self) -> WeakChan<T> {
        WeakChan::new(&self.chan)
    }
}

impl<T> Drop for WeakChan<T> {
    fn drop(&mut self) {
        self.chan.lock().weak_senders -= 1;
    }
}

impl<T> fmt::Debug for WeakChan<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.chan.fmt(f)
    }
}
