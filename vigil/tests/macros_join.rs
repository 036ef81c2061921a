//! `vigil::join!` and `vigil::try_join!`: outputs, concurrency, polling
//! order, early return on `Err`, drops, pinning and borrowing.
//!
//! Nothing here sleeps: futures are ready, yield, pending forever, or wait
//! on channels that other futures of the same join fill.
#![cfg(feature = "macros")]

use std::cell::RefCell;
use std::future::{pending, ready, Future, IntoFuture};
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use vigil::sync::{mpsc, oneshot};

/// Sets its flag when dropped.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn drop_flag() -> (DropFlag, Arc<AtomicBool>) {
    let flag = Arc::new(AtomicBool::new(false));
    (DropFlag(flag.clone()), flag)
}

/// A future that never completes, and sets `flag` when dropped.
async fn pending_until_dropped(guard: DropFlag) -> Result<u32, String> {
    let _guard = guard;
    pending().await
}

/// Fails the test instead of hanging if `f` does not finish in time (only
/// helps if `f` yields, which everything here does when it waits).
async fn bounded<F: Future>(f: F) -> F::Output {
    vigil::time::timeout(Duration::from_secs(10), f)
        .await
        .expect("test timed out")
}

#[vigil::test]
async fn join_of_zero_one_and_many() {
    let () = vigil::join!();
    let () = vigil::join!(biased;);
    let (one,) = vigil::join!(ready(1));
    assert_eq!(one, 1);
    let (a, b, c, d, e) = vigil::join!(
        ready(1u8),
        async { "two" },
        ready(3.0f64),
        async { vec![4] },
        ready(Some('5')),
    );
    assert_eq!((a, b, c, d, e), (1, "two", 3.0, vec![4], Some('5')));
}

#[vigil::test]
async fn the_futures_run_concurrently() {
    // A ping-pong that deadlocks if the futures ran one after the other.
    let (to_b, mut from_a) = mpsc::unbounded_channel();
    let (to_a, mut from_b) = mpsc::unbounded_channel();
    let (a, b) = bounded(async {
        vigil::join!(
            async {
                let mut got = Vec::new();
                for i in 0..3 {
                    to_b.send(i).unwrap();
                    got.push(from_b.recv().await.unwrap());
                }
                got
            },
            async {
                let mut got = Vec::new();
                for _ in 0..3 {
                    let n = from_a.recv().await.unwrap();
                    got.push(n);
                    to_a.send(n * 10).unwrap();
                }
                got
            },
        )
    })
    .await;
    assert_eq!(a, [0, 10, 20]);
    assert_eq!(b, [0, 1, 2]);
}

/// Records `name` on each poll; completes on its third poll.
async fn step(order: &RefCell<Vec<&'static str>>, name: &'static str) {
    for _ in 0..2 {
        order.borrow_mut().push(name);
        vigil::task::yield_now().await;
    }
    order.borrow_mut().push(name);
}

#[vigil::test]
async fn biased_polls_in_written_order_every_time() {
    let order = RefCell::new(Vec::new());
    vigil::join!(biased; step(&order, "a"), step(&order, "b"), step(&order, "c"));
    assert_eq!(
        *order.borrow(),
        ["a", "b", "c", "a", "b", "c", "a", "b", "c"]
    );
}

#[vigil::test]
async fn unbiased_rotates_the_first_future_polled() {
    let order = RefCell::new(Vec::new());
    vigil::join!(step(&order, "a"), step(&order, "b"), step(&order, "c"));
    assert_eq!(
        *order.borrow(),
        ["a", "b", "c", "b", "c", "a", "c", "a", "b"]
    );
}

#[vigil::test]
async fn a_finished_future_is_dropped_before_the_others_finish() {
    let (guard, dropped) = drop_flag();
    let (tx, rx) = oneshot::channel::<()>();
    let dropped_when_b_ran = bounded(async {
        vigil::join!(
            async move {
                let _guard = guard;
                tx.send(()).unwrap();
            },
            async {
                rx.await.unwrap();
                // Give `join!` a poll to drop the first future, if it is
                // ever going to.
                vigil::task::yield_now().await;
                dropped.load(Ordering::SeqCst)
            },
        )
    })
    .await
    .1;
    assert!(dropped_when_b_ran);
}

#[vigil::test]
async fn futures_that_are_not_unpin_and_borrow_locals() {
    async fn pinned(n: u32) -> u32 {
        let _marker = PhantomPinned; // async fn futures are !Unpin anyway
        vigil::task::yield_now().await;
        n
    }
    let mut first = Vec::new();
    let mut second = String::new();
    let shared = [1, 2, 3];
    let (x, (), ()) = vigil::join!(
        pinned(7),
        async {
            first.push(shared[0]);
            vigil::task::yield_now().await;
            first.push(shared[1]);
        },
        async {
            second.push_str("done");
            let _ = shared.len();
        },
    );
    assert_eq!(x, 7);
    assert_eq!(first, [1, 2]);
    assert_eq!(second, "done");
}

#[vigil::test]
async fn temporaries_in_the_expressions_live_long_enough() {
    let (a, b) = vigil::join!(&mut ready(1), &mut ready("b"));
    assert_eq!((a, b), (1, "b"));
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
    assert_eq!(vigil::join!(IntoReady(1), ready(2)), (1, 2));
    assert_eq!(
        vigil::try_join!(async { Ok::<_, ()>(IntoReady(3).await) }),
        Ok((3,))
    );
}

#[vigil::test]
async fn join_waits_for_all_even_after_errors() {
    let (tx, rx) = oneshot::channel();
    let (a, b, c) = bounded(async {
        vigil::join!(ready(Err::<u8, &str>("early")), rx, async move {
            vigil::task::yield_now().await;
            tx.send(3).unwrap();
        })
    })
    .await;
    assert_eq!(a, Err("early"));
    assert_eq!(b, Ok(3));
    assert_eq!(c, ());
}

#[vigil::test]
async fn try_join_of_oks() {
    let empty: Result<(), String> = vigil::try_join!();
    assert_eq!(empty, Ok(()));
    let one: Result<(u8,), String> = vigil::try_join!(ready(Ok(1)));
    assert_eq!(one, Ok((1,)));
    let (tx, rx) = oneshot::channel();
    let many = bounded(async {
        vigil::try_join!(
            async { rx.await.map_err(|e| e.to_string()) },
            async move {
                tx.send("sent").unwrap();
                Ok(1u32)
            },
            ready(Ok::<_, String>(vec![2])),
        )
    })
    .await;
    assert_eq!(many, Ok(("sent", 1, vec![2])));
}

#[vigil::test]
async fn try_join_returns_the_first_error_and_drops_the_others() {
    let (guard, dropped) = drop_flag();
    let (err_tx, err_rx) = oneshot::channel::<String>();
    let (ok_tx, ok_rx) = oneshot::channel::<u32>();
    let result = bounded(async {
        vigil::try_join!(
            pending_until_dropped(guard),
            async { Ok(ok_rx.await.unwrap()) },
            async { Err::<u32, _>(err_rx.await.unwrap()) },
            async {
                // The Ok comes first; the join goes on waiting.
                ok_tx.send(1).unwrap();
                vigil::task::yield_now().await;
                err_tx.send("failed".to_string()).unwrap();
                Ok(0)
            },
        )
    })
    .await;
    assert_eq!(result, Err("failed".to_string()));
    assert!(
        dropped.load(Ordering::SeqCst),
        "the pending future was not dropped"
    );
}

#[vigil::test]
async fn try_join_stops_polling_at_the_first_error() {
    // Biased: the error is found first, and the future after it is never
    // polled (it would panic).
    let result: Result<(u8, u8), &str> = vigil::try_join!(
        biased;
        ready(Err("first")),
        async {
            if true {
                panic!("polled after the error");
            }
            Ok(2)
        },
    );
    assert_eq!(result, Err("first"));
}

#[vigil::test]
async fn try_join_works_with_question_mark() {
    async fn both(a: &str, b: &str) -> Result<u32, std::num::ParseIntError> {
        let (x, y) = vigil::try_join!(async { a.parse::<u32>() }, async { b.parse::<u32>() })?;
        Ok(x + y)
    }
    assert_eq!(both("20", "22").await, Ok(42));
    assert!(both("20", "x").await.is_err());
}

#[vigil::test]
async fn try_join_rotates_like_join() {
    let order = RefCell::new(Vec::new());
    let ok = |name| {
        let order = &order;
        async move {
            step(order, name).await;
            Ok::<_, ()>(name)
        }
    };
    let got = vigil::try_join!(ok("a"), ok("b"));
    assert_eq!(got, Ok(("a", "b")));
    assert_eq!(*order.borrow(), ["a", "b", "b", "a", "a", "b"]);
}

/// Polls `inner` and counts how often `join!`'s future is polled.
struct CountPolls<F> {
    inner: Pin<Box<F>>,
    polls: usize,
}

impl<F: Future> Future for CountPolls<F> {
    type Output = (F::Output, usize);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.polls += 1;
        match self.inner.as_mut().poll(cx) {
            Poll::Ready(v) => Poll::Ready((v, self.polls)),
            Poll::Pending => Poll::Pending,
        }
    }
}

#[vigil::test]
async fn join_completes_in_one_poll_when_everything_is_ready() {
    let (out, polls) = CountPolls {
        inner: Box::pin(async { vigil::join!(ready(1), ready(2), async { 3 }) }),
        polls: 0,
    }
    .await;
    assert_eq!((out, polls), ((1, 2, 3), 1));
}

#[test]
fn the_future_is_send_when_its_parts_are() {
    // `join!` and `try_join!` in a task spawned on the multi-thread runtime,
    // which needs the generated futures to be `Send`.
    let rt = vigil::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let (tx, mut rx) = mpsc::channel(1);
        let task = vigil::spawn(async move {
            let (sent, received) = vigil::join!(
                async move {
                    for i in 0..10 {
                        tx.send(i).await.unwrap();
                    }
                },
                async {
                    let mut sum = 0;
                    while let Some(i) = rx.recv().await {
                        sum += i;
                    }
                    sum
                },
            );
            let tried: Result<_, ()> = vigil::try_join!(async { Ok(sent) }, async { Ok(received) });
            tried
        });
        assert_eq!(bounded(task).await.unwrap(), Ok(((), 45)));
    });
}
