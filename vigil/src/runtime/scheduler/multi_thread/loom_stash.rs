//! Loom models of the stash hand-over (`stash.rs`): a worker's LIFO slot
//! and yielded tasks, taken over by the watchdog's monitor while the worker
//! is inside a blocked poll.
//!
//! Run with
//! `RUSTFLAGS="--cfg loom" cargo test -p vigil --release --lib loom`.
//! Under loom both halves of the asymmetric barrier are `fence(SeqCst)`.
//!
//! What a mistake would do: a task taken by both sides runs twice (a
//! use-after-free), one taken by neither never runs (its waiter hangs), and
//! the two sides touching the stash at once is a data race, which loom's
//! `UnsafeCell` reports by itself. So every model checks that each value
//! put in the stash comes out exactly once, on one side or the other.

use super::stash::Stash;
use crate::loom::sync::atomic::{AtomicU64, Ordering};
use crate::loom::sync::Arc;
use loom::thread;

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    builder.check(f);
}

/// One owner step inside a poll: `put` a value in the LIFO slot (or the
/// yielded list); what the stash refuses, or what the LIFO slot pushes out,
/// goes to `shared` (the run queue, in the scheduler).
fn put(stash: &Stash<u32>, value: u32, yielded: bool, shared: &mut Vec<u32>) {
    let mut value = Some(value);
    // SAFETY: this model thread is the stash's only owner and does not nest.
    let pushed_out = unsafe {
        stash.guarded(|s| {
            if yielded {
                s.deferred.extend(value.take());
                None
            } else {
                s.lifo.replace(value.take().unwrap())
            }
        })
    };
    shared.extend(pushed_out.flatten());
    shared.extend(value);
}

/// Ends the poll as the scheduler does (the slot's sequence number, then
/// `settle`), then empties the stash between polls.
fn end_poll_and_drain(stash: &Stash<u32>, seq: &AtomicU64, out: &mut Vec<u32>) {
    seq.store(2, Ordering::Release);
    stash.settle();
    // SAFETY: the only owner, outside the poll, after `settle`.
    unsafe {
        stash.between_polls(|s| {
            out.extend(s.lifo.take());
            out.append(&mut s.deferred);
        })
    };
}

fn check_each_once(mut got: Vec<u32>, expected: &[u32]) {
    got.sort_unstable();
    assert_eq!(got, expected, "a value was lost or taken twice");
}

/// The rescuer runs while the owner wakes a task, yields another, and ends
/// the blocked poll: every value comes out exactly once.
#[test]
fn loom_stash_rescue_races_wakes_and_the_end_of_the_poll() {
    model(|| {
        let stash = Arc::new(Stash::new());
        let seq = Arc::new(AtomicU64::new(1));
        let rescuer = {
            let stash = stash.clone();
            let seq = seq.clone();
            thread::spawn(move || stash.rescue(|| seq.load(Ordering::Acquire) == 1))
        };
        let mut out = Vec::new();
        put(&stash, 1, false, &mut out);
        put(&stash, 2, true, &mut out);
        end_poll_and_drain(&stash, &seq, &mut out);
        out.extend(rescuer.join().unwrap());
        check_each_once(out, &[1, 2]);
    });
}

/// Work queued before the poll began (between polls), then a wake inside
/// the blocked poll that pushes the LIFO task out, raced by the rescuer.
#[test]
fn loom_stash_rescue_takes_work_queued_before_the_poll() {
    model(|| {
        let stash = Arc::new(Stash::new());
        let seq = Arc::new(AtomicU64::new(0));
        // SAFETY: the only owner, and no poll has started yet.
        unsafe {
            stash.between_polls(|s| {
                s.lifo = Some(1);
                s.deferred.push(2);
            })
        };
        // The poll starts; the rescuer is told about it afterwards.
        seq.store(1, Ordering::Release);
        let rescuer = {
            let stash = stash.clone();
            let seq = seq.clone();
            thread::spawn(move || stash.rescue(|| seq.load(Ordering::Acquire) == 1))
        };
        let mut out = Vec::new();
        put(&stash, 3, false, &mut out);
        end_poll_and_drain(&stash, &seq, &mut out);
        out.extend(rescuer.join().unwrap());
        check_each_once(out, &[1, 2, 3]);
    });
}
