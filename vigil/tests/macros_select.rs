//! `vigil::select!`: order and fairness, disabled branches, `else`, control
//! flow in handlers, what is dropped and when, pinning and borrowing.
//!
//! Nothing here sleeps: futures are either ready, pending forever, or wait
//! on channels that the test fills.
#![cfg(feature = "macros")]

use std::future::{pending, ready, Future, IntoFuture};
use std::marker::PhantomPinned;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use vigil::sync::{mpsc, oneshot};

/// A future that counts its polls and records its drop. It completes with
/// `value` on poll number `ready_on` (waking itself before that), or never.
struct Probe<T> {
    polls: Arc<AtomicUsize>,
    dropped: Arc<AtomicBool>,
    ready_on: Option<usize>,
    value: Option<T>,
}

/// What the test keeps of a [`Probe`] it gave away.
#[derive(Clone)]
struct Tracker {
    polls: Arc<AtomicUsize>,
    dropped: Arc<AtomicBool>,
}

impl Tracker {
    fn polls(&self) -> usize {
        self.polls.load(Ordering::SeqCst)
    }

    fn dropped(&self) -> bool {
        self.dropped.load(Ordering::SeqCst)
    }
}

fn probe<T>(ready_on: Option<usize>, value: T) -> (Probe<T>, Tracker) {
    let tracker = Tracker {
        polls: Arc::new(AtomicUsize::new(0)),
        dropped: Arc::new(AtomicBool::new(false)),
    };
    let probe = Probe {
        polls: tracker.polls.clone(),
        dropped: tracker.dropped.clone(),
        ready_on,
        value: Some(value),
    };
    (probe, tracker)
}

/// Never completes.
fn never<T>(value: T) -> (Probe<T>, Tracker) {
    probe(None, value)
}

impl<T: Unpin> Future for Probe<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let n = self.polls.fetch_add(1, Ordering::SeqCst) + 1;
        match self.ready_on {
            Some(ready_on) if n >= ready_on => {
                Poll::Ready(self.value.take().expect("polled after completion"))
            }
            Some(_) => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            None => Poll::Pending,
        }
    }
}

impl<T> Drop for Probe<T> {
    fn drop(&mut self) {
        self.dropped.store(true, Ordering::SeqCst);
    }
}

/// Fails the test instead of hanging if `f` does not finish in time (only
/// helps if `f` yields, which everything here does when it waits).
async fn bounded<F: Future>(f: F) -> F::Output {
    vigil::time::timeout(Duration::from_secs(10), f)
        .await
        .expect("test timed out")
}

#[vigil::test]
async fn biased_takes_the_first_ready_branch_in_written_order() {
    for _ in 0..100 {
        let winner = vigil::select! {
            biased;
            v = ready(1) => v,
            v = ready(2) => v,
            v = ready(3) => v,
        };
        assert_eq!(winner, 1);
    }
    // A pending first branch is skipped; the next ready one wins, and the
    // branches after it are not polled at all.
    let (first, first_tracker) = never(0);
    let (last, last_tracker) = never(0);
    let winner = vigil::select! {
        biased;
        v = first => v,
        v = ready(2) => v,
        v = last => v,
    };
    assert_eq!(winner, 2);
    assert_eq!(first_tracker.polls(), 1);
    assert_eq!(last_tracker.polls(), 0);
    assert!(first_tracker.dropped() && last_tracker.dropped());
}

#[vigil::test]
async fn unbiased_spreads_the_wins_over_ready_branches() {
    let mut wins = [0u32; 3];
    for _ in 0..600 {
        let winner = vigil::select! {
            v = ready(0) => v,
            v = ready(1) => v,
            v = ready(2) => v,
        };
        wins[winner] += 1;
    }
    // About 200 each; 50 leaves a margin no working generator misses.
    assert!(wins.iter().all(|&n| n >= 50), "{wins:?}");
}

#[vigil::test]
async fn unbiased_in_a_loop_does_not_starve_a_busy_channel_partner() {
    // Two channels that are always full: both must be served.
    let (tx_a, mut rx_a) = mpsc::unbounded_channel();
    let (tx_b, mut rx_b) = mpsc::unbounded_channel();
    for i in 0..200 {
        tx_a.send(i).unwrap();
        tx_b.send(i).unwrap();
    }
    let (mut a, mut b) = (0, 0);
    for _ in 0..200 {
        vigil::select! {
            Some(_) = rx_a.recv() => a += 1,
            Some(_) = rx_b.recv() => b += 1,
        }
    }
    assert!(a >= 30 && b >= 30, "a {a}, b {b}");
}

#[vigil::test]
async fn a_mismatched_output_disables_its_branch() {
    let (tx, rx) = oneshot::channel();
    // Ready at once, with an output that does not match `Some(_)`.
    let (none, none_tracker) = probe(Some(1), None::<u32>);
    let got = bounded(async {
        vigil::select! {
            biased;
            Some(v) = none => v,
            v = rx => v.unwrap() + 100,
            _ = async {
                vigil::task::yield_now().await;
                tx.send(1).unwrap();
                pending::<()>().await;
            } => unreachable!("never completes"),
        }
    })
    .await;
    assert_eq!(got, 101);
    // Completed once, never polled again while the others went on.
    assert_eq!(none_tracker.polls(), 1);
    assert!(none_tracker.dropped());
}

#[vigil::test]
async fn patterns_with_ref_mut_and_references_are_tested_without_moving() {
    let text = String::from("kept");
    let got = vigil::select! {
        biased;
        Some(&0) = ready(Some(&1)) => "zero",
        (ref mut s, Some(&n)) = ready((String::from("x"), Some(&2))) => {
            s.push('!');
            assert_eq!(n, 2);
            if *s == "x!" { "tuple" } else { "bad" }
        }
        _ = ready(&text) => "borrowed",
    };
    assert_eq!(got, "tuple");
}

#[vigil::test]
async fn a_false_precondition_disables_the_branch_but_still_creates_its_future() {
    let created = AtomicUsize::new(0);
    let (off, off_tracker) = probe(Some(1), 1);
    let got = vigil::select! {
        v = {
            created.fetch_add(1, Ordering::SeqCst);
            off
        }, if false => v,
        v = ready(2) => v,
    };
    assert_eq!(got, 2);
    assert_eq!(created.load(Ordering::SeqCst), 1, "the expression runs");
    assert_eq!(off_tracker.polls(), 0, "its future is not polled");
    assert!(off_tracker.dropped(), "and is dropped with the rest");
}

#[vigil::test]
async fn preconditions_are_evaluated_before_any_future_expression() {
    let order = std::cell::RefCell::new(Vec::new());
    let note = |what: &'static str| order.borrow_mut().push(what);
    vigil::select! {
        _ = { note("future 1"); ready(()) }, if { note("condition 1"); true } => {}
        _ = { note("future 2"); ready(()) }, if { note("condition 2"); true } => {}
    }
    assert_eq!(
        *order.borrow(),
        ["condition 1", "condition 2", "future 1", "future 2"]
    );
}

#[vigil::test]
async fn else_runs_when_every_branch_is_disabled() {
    // By preconditions, before anything is polled.
    let (probe_a, tracker) = never(1);
    let got = vigil::select! {
        v = probe_a, if false => v,
        v = ready(2), if 1 > 2 => v,
        else => 0,
    };
    assert_eq!(got, 0);
    assert_eq!(tracker.polls(), 0);

    // By outputs that do not match.
    let got = vigil::select! {
        Some(v) = ready(None::<i32>) => v,
        Ok(v) = ready(Err::<i32, ()>(())) => v,
        else => -1,
    };
    assert_eq!(got, -1);

    // Both, with a closed channel's `None` in a loop.
    let (tx, mut rx) = mpsc::unbounded_channel();
    tx.send(5).unwrap();
    drop(tx);
    let mut open = true;
    let mut sum = 0;
    loop {
        vigil::select! {
            message = rx.recv(), if open => match message {
                Some(n) => sum += n,
                None => open = false,
            },
            else => break,
        }
    }
    assert_eq!(sum, 5);

    // `else` alone.
    let got: u8 = vigil::select! { else => 9 };
    assert_eq!(got, 9);
}

#[vigil::test]
#[should_panic(expected = "every branch is disabled")]
async fn every_branch_disabled_without_else_panics() {
    let _: i32 = vigil::select! {
        Some(v) = ready(None::<i32>) => v,
        v = ready(3), if false => v,
    };
}

#[vigil::test]
#[should_panic(expected = "every branch is disabled")]
async fn all_preconditions_false_without_else_panics() {
    vigil::select! {
        _ = ready(()), if false => {}
    }
}

#[vigil::test]
async fn handlers_can_return_from_the_enclosing_function() {
    async fn first_even(mut rx: mpsc::UnboundedReceiver<u32>) -> Option<u32> {
        loop {
            vigil::select! {
                message = rx.recv() => match message {
                    Some(n) if n % 2 == 0 => return Some(n),
                    Some(_) => continue,
                    None => return None,
                },
            }
        }
    }
    let (tx, rx) = mpsc::unbounded_channel();
    for n in [1, 3, 4, 5] {
        tx.send(n).unwrap();
    }
    assert_eq!(bounded(first_even(rx)).await, Some(4));
    let (tx, rx) = mpsc::unbounded_channel();
    tx.send(1).unwrap();
    drop(tx);
    assert_eq!(bounded(first_even(rx)).await, None);
}

#[vigil::test]
async fn handlers_can_use_the_question_mark_operator() {
    async fn parse_first(texts: &[&str]) -> Result<u32, std::num::ParseIntError> {
        let mut total = 0;
        for text in texts {
            vigil::select! {
                t = ready(*text) => total += t.parse::<u32>()?,
            }
        }
        Ok(total)
    }
    assert_eq!(parse_first(&["1", "2"]).await, Ok(3));
    assert!(parse_first(&["1", "x", "2"]).await.is_err());
}

#[vigil::test]
async fn handlers_can_break_and_continue_enclosing_loops() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    for n in 0..10 {
        tx.send(n).unwrap();
    }
    let mut seen = Vec::new();
    let last = 'outer: loop {
        loop {
            vigil::select! {
                Some(n) = rx.recv() => {
                    if n % 3 == 0 {
                        continue;
                    }
                    if n == 8 {
                        break 'outer n;
                    }
                    if n == 5 {
                        break;
                    }
                    seen.push(n);
                }
            }
        }
        seen.push(100);
    };
    assert_eq!(last, 8);
    assert_eq!(seen, [1, 2, 4, 100, 7]);
}

#[vigil::test]
async fn the_losers_are_dropped_before_the_handler_runs() {
    let (a, a_tracker) = never(1);
    let (b, b_tracker) = never(2);
    let (tx, rx) = oneshot::channel();
    vigil::spawn(async move { tx.send(3).unwrap() });
    let got = bounded(async {
        vigil::select! {
            v = a => v,
            v = b => v,
            v = rx => {
                assert!(a_tracker.dropped(), "loser a still alive in the handler");
                assert!(b_tracker.dropped(), "loser b still alive in the handler");
                v.unwrap()
            }
        }
    })
    .await;
    assert_eq!(got, 3);
    assert!(a_tracker.polls() >= 1 && b_tracker.polls() >= 1);
}

#[vigil::test]
async fn futures_that_are_not_unpin() {
    async fn pinned(n: u32) -> u32 {
        let _marker = PhantomPinned; // async fn futures are !Unpin anyway
        vigil::task::yield_now().await;
        n
    }
    let (tx, rx) = oneshot::channel::<u32>();
    let got = bounded(async {
        vigil::select! {
            v = pinned(7) => v,
            _ = rx => 0,
        }
    })
    .await;
    assert_eq!(got, 7);
    drop(tx);
}

#[vigil::test]
async fn futures_borrow_locals_and_handlers_reuse_them() {
    let mut log = Vec::new();
    let (tx, mut rx) = mpsc::unbounded_channel::<u32>();
    tx.send(1).unwrap();
    let got = vigil::select! {
        biased;
        // Both futures borrow locals mutably ...
        Some(n) = rx.recv() => {
            // ... and the handler can use them again: the futures are gone.
            log.push(n);
            rx.close();
            n
        }
        _ = async { log.push(0) } => 0,
    };
    assert_eq!(got, 1);
    assert_eq!(log, [1]);
}

#[vigil::test]
async fn temporaries_in_future_expressions_live_long_enough() {
    // `&mut ...` borrows a temporary future (which must then be `Unpin`).
    let got = vigil::select! {
        v = &mut ready(4) => v,
        _ = &mut vigil::time::sleep(Duration::from_secs(60)) => 0,
    };
    assert_eq!(got, 4);
}

#[vigil::test]
async fn a_pinned_future_carried_across_loop_iterations() {
    let (done_tx, done_rx) = oneshot::channel::<&str>();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut done = pin!(done_rx);
    let mut received = Vec::new();
    let mut done_tx = Some(done_tx);
    let end = bounded(async {
        loop {
            vigil::select! {
                biased;
                result = &mut done => break result.unwrap(),
                Some(n) = rx.recv() => {
                    received.push(n);
                    if n == 2 {
                        done_tx.take().unwrap().send("finished").unwrap();
                    }
                }
                _ = ready(()) => tx.send(received.len()).unwrap(),
            }
        }
    })
    .await;
    assert_eq!(end, "finished");
    assert_eq!(received, [0, 1, 2]);
}

#[vigil::test]
async fn a_std_pinned_future_completed_once_is_turned_off_by_a_precondition() {
    // The idiom for a future that must not be polled after completing.
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (first, first_tracker) = probe(Some(1), "first");
    let mut first = pin!(first);
    let mut first_done = false;
    let mut events = Vec::new();
    tx.send("message").unwrap();
    drop(tx);
    loop {
        vigil::select! {
            biased;
            v = &mut first, if !first_done => {
                first_done = true;
                events.push(v);
            }
            Some(m) = rx.recv() => events.push(m),
            else => break,
        }
    }
    assert_eq!(events, ["first", "message"]);
    assert_eq!(first_tracker.polls(), 1);
}

struct IntoReady(u32);

impl IntoFuture for IntoReady {
    type Output = u32;
    type IntoFuture = std::future::Ready<u32>;

    fn into_future(self) -> Self::IntoFuture {
        ready(self.0)
    }
}

#[vigil::test]
async fn into_future_expressions_are_accepted() {
    let got = vigil::select! {
        biased;
        v = IntoReady(5) => v,
        v = ready(6) => v,
    };
    assert_eq!(got, 5);
}

#[vigil::test]
async fn handlers_without_commas_after_blocks_and_a_trailing_comma() {
    let a = vigil::select! {
        biased;
        v = ready(1) => { v }
        v = ready(2) => v * 10
    };
    let b = vigil::select! {
        v = ready(1) => v,
        else => 0,
    };
    let c = vigil::select! { | 1 | 2 = ready(2) => 3 };
    assert_eq!((a, b, c), (1, 1, 3));
}

#[test]
fn the_future_is_send_when_its_parts_are() {
    // `select!` in a task spawned on the multi-thread runtime, which needs
    // the generated future to be `Send`, fed from another task.
    let rt = vigil::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let (tx_a, mut rx_a) = mpsc::channel(1);
        let (tx_b, mut rx_b) = mpsc::channel(1);
        let consumer = vigil::spawn(async move {
            let (mut sum, mut a_open, mut b_open) = (0, true, true);
            loop {
                vigil::select! {
                    n = rx_a.recv(), if a_open => match n {
                        Some(n) => sum += n,
                        None => a_open = false,
                    },
                    n = rx_b.recv(), if b_open => match n {
                        Some(n) => sum += n,
                        None => b_open = false,
                    },
                    else => break sum,
                }
            }
        });
        let producer = vigil::spawn(async move {
            for n in 1..=10 {
                tx_a.send(n).await.unwrap();
                tx_b.send(n * 100).await.unwrap();
            }
        });
        producer.await.unwrap();
        assert_eq!(bounded(consumer).await.unwrap(), 55 * 101);
    });
}

#[vigil::test]
async fn the_largest_select_uses_every_bit_of_the_mask() {
    // 64 branches, all ready; only the last is enabled.
    macro_rules! select_64 {
        ($($n:literal)*) => {
            vigil::select! {
                $( v = ready($n), if $n == 63 => v, )*
            }
        };
    }
    let got: u32 = select_64!(
        0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31
        32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60
        61 62 63
    );
    assert_eq!(got, 63);
}

#[vigil::test]
async fn select_yields_when_the_budget_is_spent() {
    // A task that loops over a select! whose second branch is always ready
    // and ignores the budget. Its first branch (a full channel) spends the
    // budget; after that only select!'s own check makes the task yield and
    // lets the other task run. Without it the loop would never yield.
    let (tx, mut rx) = mpsc::unbounded_channel();
    for i in 0..1000 {
        tx.send(i).unwrap();
    }
    let flag = Arc::new(AtomicBool::new(false));
    // Spawned first, so it runs first on this current-thread runtime.
    let looper = {
        let flag = flag.clone();
        vigil::spawn(async move {
            for iteration in 0..100_000u32 {
                if flag.load(Ordering::SeqCst) {
                    return Some(iteration);
                }
                vigil::select! {
                    biased;
                    Some(_) = rx.recv() => {}
                    _ = ready(()) => {}
                }
            }
            None
        })
    };
    let setter = {
        let flag = flag.clone();
        vigil::spawn(async move { flag.store(true, Ordering::SeqCst) })
    };
    setter.await.unwrap();
    let seen_after = looper.await.unwrap();
    assert!(seen_after.is_some(), "the select! loop never yielded");
    drop(tx);
}

#[vigil::test]
async fn selects_nest_in_futures_and_handlers() {
    let got = vigil::select! {
        v = async { vigil::select! { v = ready(1) => v + 1 } } => vigil::select! {
            w = ready(v) => {
                let (x,) = vigil::join!(ready(w * 10));
                x
            }
        },
        else => 0,
    };
    assert_eq!(got, 20);
}
