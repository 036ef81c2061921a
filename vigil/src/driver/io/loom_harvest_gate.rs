//! Loom models of the harvest gate (`harvest_gate.rs`).
//!
//! Run with
//! `RUSTFLAGS="--cfg loom" cargo test -p vigil --release --lib loom`.
//!
//! The epoll is modelled as a counter of events that arrived and one of
//! events taken. Each thread makes an event arrive and then asks for a
//! harvest, as a thread that heard of the event does. What a mistake would
//! do: two looks at once (the real harvest buffer is per thread, but the
//! release counter would lie), or an event left in the epoll after every
//! request was served (its task would never wake).

use super::harvest_gate::HarvestGate;
use crate::loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use crate::loom::sync::Arc;
use loom::thread;

struct World {
    gate: HarvestGate,
    arrived: AtomicUsize,
    taken: AtomicUsize,
    looking: AtomicBool,
}

impl World {
    fn event_then_harvest(&self) -> usize {
        self.arrived.fetch_add(1, SeqCst);
        self.gate.harvest(|| {
            assert!(!self.looking.swap(true, SeqCst), "two looks at once");
            let now = self.arrived.load(SeqCst);
            let before = self.taken.swap(now, SeqCst);
            self.looking.store(false, SeqCst);
            now - before
        })
    }
}

fn model(threads: usize) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    builder.check(move || {
        let world = Arc::new(World {
            gate: HarvestGate::new(),
            arrived: AtomicUsize::new(0),
            taken: AtomicUsize::new(0),
            looking: AtomicBool::new(false),
        });
        let handles: Vec<_> = (1..threads)
            .map(|_| {
                let world = world.clone();
                thread::spawn(move || world.event_then_harvest())
            })
            .collect();
        let mut woken = world.event_then_harvest();
        for h in handles {
            woken += h.join().unwrap();
        }
        assert_eq!(
            world.taken.load(SeqCst),
            threads,
            "an event was left behind"
        );
        assert_eq!(woken, threads);
        let seq = world.gate.snapshot();
        assert!(seq % 2 == 0 && world.gate.passed(seq));
    });
}

#[test]
fn loom_harvest_gate_two_threads_leave_no_event_behind() {
    model(2);
}

#[test]
fn loom_harvest_gate_three_threads_leave_no_event_behind() {
    model(3);
}
