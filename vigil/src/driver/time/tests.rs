//! Unit tests of the wheel and the time handle; no runtime needed.

use super::entry::Entry;
use super::wheel::Wheel;
use super::{Handle, Registration, TimerPoll};
use crate::driver::wake_batch::WakeBatch;
use crate::driver::Unparker;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::task::{Wake, Waker};
use std::time::{Duration, Instant};

/// A waker that logs its id when woken.
struct LogWaker {
    id: u32,
    log: Arc<Mutex<Vec<u32>>>,
}

impl Wake for LogWaker {
    fn wake(self: Arc<Self>) {
        self.log.lock().unwrap().push(self.id);
    }
}

fn log_waker(id: u32, log: &Arc<Mutex<Vec<u32>>>) -> Waker {
    Waker::from(Arc::new(LogWaker {
        id,
        log: log.clone(),
    }))
}

use crate::driver::test_support::Count as CountWaker;

/// Advances `wheel` to `now`, waking everything due (however many batches).
fn advance(wheel: &mut Wheel, now: u64) {
    let mut batch = WakeBatch::new();
    loop {
        let done = wheel.poll(now, &mut batch);
        batch.wake_all();
        if done {
            break;
        }
    }
}

/// Deterministic xorshift64* generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

#[test]
fn fires_in_deadline_order_across_levels() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut wheel = Wheel::new();
    let deadlines: [u64; 12] = [
        1,
        2,
        63,
        64,
        65,
        4095,
        4096,
        4097,
        262_143,
        262_145,
        1 << 30,
        (1 << 36) + 7,
    ];
    // Insert in scrambled order.
    for (i, &when) in deadlines.iter().enumerate().rev() {
        wheel.insert(when, Some(log_waker(i as u32, &log))).unwrap();
    }
    for (i, &when) in deadlines.iter().enumerate() {
        advance(&mut wheel, when - 1);
        assert_eq!(log.lock().unwrap().len(), i, "fired early before {when}");
        advance(&mut wheel, when);
        assert_eq!(*log.lock().unwrap(), (0..=i as u32).collect::<Vec<_>>());
    }
    assert_eq!(wheel.pending(), 0);
}

#[test]
fn same_tick_fires_in_registration_order() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut wheel = Wheel::new();
    for id in 0..10 {
        wheel.insert(5000, Some(log_waker(id, &log))).unwrap();
    }
    advance(&mut wheel, 10_000);
    assert_eq!(*log.lock().unwrap(), (0..10).collect::<Vec<_>>());
}

#[test]
fn big_jump_fires_everything_due_only() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut wheel = Wheel::new();
    for id in 0..100u32 {
        wheel
            .insert(u64::from(id) * 1000 + 1, Some(log_waker(id, &log)))
            .unwrap();
    }
    advance(&mut wheel, 50_000);
    assert_eq!(*log.lock().unwrap(), (0..50).collect::<Vec<_>>());
    assert_eq!(wheel.elapsed(), 50_000);
    assert_eq!(wheel.next_expiration(), Some(50_001));
}

#[test]
fn more_due_than_one_batch() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut wheel = Wheel::new();
    for id in 0..1000 {
        wheel
            .insert(100 + u64::from(id % 3), Some(log_waker(id, &log)))
            .unwrap();
    }
    let mut batch = WakeBatch::new();
    assert!(
        !wheel.poll(200, &mut batch),
        "a full batch must stop the poll"
    );
    assert_eq!(batch.drain().len(), 32);
    advance(&mut wheel, 200);
    assert_eq!(log.lock().unwrap().len(), 1000 - 32);
    assert_eq!(wheel.pending(), 0);
}

#[test]
fn insert_at_or_before_elapsed_is_refused() {
    let mut wheel = Wheel::new();
    assert!(wheel.insert(0, None).is_err());
    advance(&mut wheel, 10);
    assert!(wheel.insert(10, None).is_err());
    assert!(wheel.insert(11, None).is_ok());
}

#[test]
fn cancel_is_exact() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut wheel = Wheel::new();
    let a = wheel.insert(10, Some(log_waker(0, &log))).unwrap();
    let b = wheel.insert(10, Some(log_waker(1, &log))).unwrap();
    let c = wheel.insert(5000, Some(log_waker(2, &log))).unwrap();
    assert!(wheel.remove(b).is_some());
    assert!(wheel.remove(c).is_some());
    assert_eq!(wheel.next_expiration(), Some(10));
    advance(&mut wheel, 100_000);
    assert_eq!(*log.lock().unwrap(), vec![0]);
    assert!(wheel.is_fired(a));
    assert!(wheel.remove(a).is_none(), "waker was taken when fired");
    assert_eq!(wheel.len(), 0);
    assert_eq!(wheel.next_expiration(), None);
}

#[test]
fn reset_moves_and_fires() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut wheel = Wheel::new();
    let a = wheel.insert(100, Some(log_waker(0, &log))).unwrap();
    wheel.reset(a, 5000).unwrap();
    advance(&mut wheel, 4999);
    assert!(log.lock().unwrap().is_empty());
    // Moving into the past fires immediately and hands back the waker.
    let waker = wheel.reset(a, 10).unwrap_err();
    assert!(waker.is_some());
    assert!(wheel.is_fired(a));
    // A fired entry can be re-armed.
    wheel.reset(a, 6000).unwrap();
    assert!(!wheel.is_fired(a));
    assert_eq!(wheel.pending(), 1);
}

#[test]
fn far_deadlines_never_overflow_or_fire_early() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut wheel = Wheel::new();
    let horizon = (1u64 << 42) - 1;
    let deadlines = [
        horizon - 1,
        horizon,
        horizon + 1,
        1 << 50,
        u64::MAX - 1,
        u64::MAX,
    ];
    for (i, &when) in deadlines.iter().enumerate() {
        wheel.insert(when, Some(log_waker(i as u32, &log))).unwrap();
    }
    // The wheel asks to be woken no later than the earliest deadline.
    assert!(wheel.next_expiration().unwrap() < horizon);
    for (i, &when) in deadlines.iter().enumerate() {
        advance(&mut wheel, when - 1);
        assert_eq!(log.lock().unwrap().len(), i, "early before {when}");
        advance(&mut wheel, when);
        assert_eq!(log.lock().unwrap().len(), i + 1);
    }
    assert_eq!(wheel.elapsed(), u64::MAX);
    assert_eq!(wheel.next_expiration(), None);
    assert!(wheel.insert(u64::MAX, None).is_err());
}

#[test]
fn horizon_rolls_with_elapsed() {
    // Start in the middle of a top-level slot so clamped entries land in a
    // wrapped slot, and check they still fire exactly on time.
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut wheel = Wheel::new();
    let start = (5u64 << 36) + 12_345;
    advance(&mut wheel, start);
    let whens = [start + (63 << 36), start + (64 << 36), start + (1 << 43)];
    for (i, &when) in whens.iter().enumerate() {
        wheel.insert(when, Some(log_waker(i as u32, &log))).unwrap();
    }
    for (i, &when) in whens.iter().enumerate() {
        advance(&mut wheel, when - 1);
        assert_eq!(log.lock().unwrap().len(), i);
        advance(&mut wheel, when);
        assert_eq!(log.lock().unwrap().len(), i + 1);
    }
}

/// Randomised comparison against a `BTreeMap` model: after every advance,
/// exactly the timers whose deadline is at or before `now` have fired, and
/// `next_expiration` never lies past the earliest pending deadline.
#[test]
fn randomized_against_model() {
    for seed in [1u64, 0x9e37_79b9_7f4a_7c15, 42, 7_777_777] {
        let mut rng = Rng(seed);
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut wheel = Wheel::new();
        // Model: key -> deadline of timers not yet fired.
        let mut model: BTreeMap<u32, u64> = BTreeMap::new();
        let mut fired_unclaimed: BTreeSet<u32> = BTreeSet::new();
        let mut now = 0u64;
        for _step in 0..20_000 {
            match rng.below(10) {
                0..=4 => {
                    let distance = match rng.below(10) {
                        0..=4 => 1 + rng.below(64),
                        5..=6 => 1 + rng.below(5000),
                        7 => 1 + rng.below(1 << 24),
                        8 => 1 + rng.below(1 << 44),
                        _ => u64::MAX,
                    };
                    let when = now.saturating_add(distance);
                    // The waker logs the entry's own key.
                    let key = wheel.insert(when, None).unwrap();
                    let waker = log_waker(key, &log);
                    assert!(wheel.set_waker(key, &waker).is_none());
                    model.insert(key, when);
                }
                5..=6 => {
                    // Cancel a random pending timer, or claim a fired one.
                    if let Some((&key, _)) =
                        model.iter().nth(rng.below(model.len() as u64) as usize)
                    {
                        model.remove(&key);
                        assert!(wheel.remove(key).is_some());
                    } else if let Some(&key) = fired_unclaimed.iter().next() {
                        fired_unclaimed.remove(&key);
                        assert!(wheel.remove(key).is_none());
                    }
                }
                7 => {
                    // Reset a random pending timer to a new future deadline.
                    if let Some((&key, _)) =
                        model.iter().nth(rng.below(model.len() as u64) as usize)
                    {
                        let when = now.saturating_add(1 + rng.below(100_000));
                        wheel.reset(key, when).unwrap();
                        model.insert(key, when);
                    }
                }
                _ => {
                    let step = match rng.below(10) {
                        0..=6 => rng.below(8),
                        7..=8 => rng.below(3000),
                        _ => rng.below(1 << 26),
                    };
                    now = now.saturating_add(step);
                    advance(&mut wheel, now);
                    let mut fired = std::mem::take(&mut *log.lock().unwrap());
                    fired.sort_unstable();
                    let expected: Vec<u32> = model
                        .iter()
                        .filter(|&(_, &when)| when <= now)
                        .map(|(&k, _)| k)
                        .collect();
                    assert_eq!(fired, expected, "seed {seed} now {now}");
                    for key in fired {
                        model.remove(&key);
                        assert!(wheel.is_fired(key));
                        fired_unclaimed.insert(key);
                    }
                }
            }
            assert_eq!(wheel.pending(), model.len());
            match model.values().min() {
                None => assert_eq!(wheel.next_expiration(), None),
                Some(&earliest) => {
                    let next = wheel.next_expiration().unwrap();
                    assert!(next <= earliest, "next {next} > earliest {earliest}");
                    assert!(next > wheel.elapsed());
                }
            }
        }
    }
}

#[test]
fn million_timers_fit_and_cancel() {
    assert!(std::mem::size_of::<Entry>() <= 40);
    let mut wheel = Wheel::new();
    let mut rng = Rng(3);
    let keys: Vec<u32> = (0..1_000_000)
        .map(|_| wheel.insert(1 + rng.below(1 << 40), None).unwrap())
        .collect();
    assert_eq!(wheel.pending(), 1_000_000);
    // Amortised doubling: at most 2x slack, i.e. under 80 MB for a million.
    let bytes = wheel.capacity() * std::mem::size_of::<Entry>();
    assert!(bytes <= 2 * 1_000_000 * 40, "{bytes} bytes");
    for key in keys {
        wheel.remove(key);
    }
    assert_eq!(wheel.pending(), 0);
    assert_eq!(wheel.len(), 0);
    assert_eq!(
        wheel.capacity(),
        0,
        "an emptied arena gives its memory back"
    );
    assert_eq!(wheel.next_expiration(), None);
}

fn handle() -> (Handle, Unparker) {
    let unparker = Unparker::new().unwrap();
    (Handle::new(unparker.clone(), false), unparker)
}

#[test]
fn next_timeout_values() {
    let (h, _parker) = handle();
    assert_eq!(h.next_timeout(), None);
    let waker = Waker::from(Arc::new(CountWaker::default()));
    let Registration::Armed(key) = h.register(Instant::now() + Duration::from_secs(10), &waker)
    else {
        panic!("not armed");
    };
    let t = h.next_timeout().unwrap();
    // The first due slot may be a cascade point before the deadline itself,
    // but never after it.
    assert!(t > Duration::ZERO && t <= Duration::from_secs(10), "{t:?}");
    h.deregister(key);
    assert_eq!(h.next_timeout(), None);

    let Registration::Armed(key) = h.register(Instant::now() + Duration::from_millis(2), &waker)
    else {
        panic!("not armed");
    };
    std::thread::sleep(Duration::from_millis(10));
    assert_eq!(h.next_timeout(), Some(Duration::ZERO));
    h.process();
    assert_eq!(h.poll_timer(&key, &waker), TimerPoll::Fired);
}

#[test]
fn past_deadline_is_expired() {
    let (h, _parker) = handle();
    let waker = Waker::from(Arc::new(CountWaker::default()));
    assert!(matches!(h.register(h.start, &waker), Registration::Expired));
    std::thread::sleep(Duration::from_millis(3));
    h.process();
    assert!(matches!(
        h.register(Instant::now() - Duration::from_millis(2), &waker),
        Registration::Expired
    ));
}

#[test]
fn process_wakes_and_never_early() {
    let (h, _parker) = handle();
    let count = Arc::new(CountWaker::default());
    let waker = Waker::from(count.clone());
    let deadline = Instant::now() + Duration::from_millis(20);
    let Registration::Armed(key) = h.register(deadline, &waker) else {
        panic!("not armed");
    };
    loop {
        h.process();
        if count.0.load(Ordering::SeqCst) > 0 {
            break;
        }
        assert_eq!(h.poll_timer(&key, &waker), TimerPoll::Pending);
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(Instant::now() >= deadline, "fired early");
    assert!(h.is_fired(&key));
    assert_eq!(h.poll_timer(&key, &waker), TimerPoll::Fired);
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
}

#[test]
fn will_wake_keeps_waker() {
    let (h, _parker) = handle();
    let a = Arc::new(CountWaker::default());
    let b = Arc::new(CountWaker::default());
    let wa = Waker::from(a.clone());
    let wb = Waker::from(b.clone());
    let Registration::Armed(key) = h.register(Instant::now() + Duration::from_secs(60), &wa) else {
        panic!("not armed");
    };
    assert_eq!(Arc::strong_count(&a), 3); // a, wa, the stored clone
    assert_eq!(h.poll_timer(&key, &wa), TimerPoll::Pending);
    assert_eq!(Arc::strong_count(&a), 3, "same waker must not be re-cloned");
    assert_eq!(h.poll_timer(&key, &wb), TimerPoll::Pending);
    assert_eq!(Arc::strong_count(&a), 2, "old waker released");
    assert_eq!(Arc::strong_count(&b), 3);
    // Reset into the past fires and wakes the stored waker.
    assert_eq!(h.reset_timer(&key, Instant::now()), TimerPoll::Fired);
    assert_eq!(b.0.load(Ordering::SeqCst), 1);
    h.deregister(key);
}

#[test]
fn earlier_registration_unparks_driver() {
    let (h, unparker) = handle();
    let waker = Waker::from(Arc::new(CountWaker::default()));
    let Registration::Armed(_far) = h.register(Instant::now() + Duration::from_secs(3600), &waker)
    else {
        panic!("not armed");
    };
    // The driver decides to sleep until the far timer...
    assert!(h.next_timeout().unwrap() > Duration::from_secs(60));
    // ...then, before it actually parks, an earlier timer arrives.
    let Registration::Armed(_near) = h.register(Instant::now() + Duration::from_secs(1800), &waker)
    else {
        panic!("not armed");
    };
    // The unpark left a token: the driver would not go to sleep.
    assert!(!unparker.enter_park(), "wake token was lost");
    unparker.leave_park();
    // A later one does not unpark.
    assert!(h.next_timeout().unwrap() <= Duration::from_secs(1800));
    let Registration::Armed(_late) = h.register(Instant::now() + Duration::from_secs(7200), &waker)
    else {
        panic!("not armed");
    };
    assert!(unparker.enter_park(), "a later timer must not unpark");
    unparker.leave_park();
}

#[test]
fn shutdown_drops_wakers_and_disarms() {
    let (h, _parker) = handle();
    let count = Arc::new(CountWaker::default());
    let waker = Waker::from(count.clone());
    let Registration::Armed(key) = h.register(Instant::now() + Duration::from_secs(60), &waker)
    else {
        panic!("not armed");
    };
    assert_eq!(Arc::strong_count(&count), 3);
    h.shutdown();
    assert!(h.is_shutdown());
    assert_eq!(Arc::strong_count(&count), 2, "stored waker dropped");
    assert_eq!(h.poll_timer(&key, &waker), TimerPoll::Shutdown);
    assert_eq!(h.reset_timer(&key, Instant::now()), TimerPoll::Shutdown);
    assert!(!h.is_fired(&key));
    assert!(matches!(
        h.register(Instant::now() + Duration::from_secs(1), &waker),
        Registration::Shutdown
    ));
    assert_eq!(h.next_timeout(), None);
    h.process();
    h.deregister(key);
    assert_eq!(count.0.load(Ordering::SeqCst), 0);
}

#[test]
fn registration_from_many_threads() {
    let h = Arc::new(Handle::new(Unparker::new().unwrap(), false));
    let count = Arc::new(CountWaker::default());
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let h = h.clone();
            let waker = Waker::from(count.clone());
            std::thread::spawn(move || {
                let mut keys = Vec::new();
                for i in 0..250u64 {
                    let at = Instant::now() + Duration::from_millis(1 + (i * 7 + t) % 20);
                    if let Registration::Armed(k) = h.register(at, &waker) {
                        keys.push(k);
                    }
                    if i % 3 == 0 {
                        h.process();
                    }
                }
                keys
            })
        })
        .collect();
    let keys: Vec<_> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(30));
    h.process();
    let waker = Waker::from(count.clone());
    for key in keys {
        assert_eq!(h.poll_timer(&key, &waker), TimerPoll::Fired);
    }
    assert_eq!(h.next_timeout(), None);
}
