//! A barrier: tasks wait until a set number of them have arrived.
//!
//! Arrivals are counted per *generation*. The arrival that completes a
//! generation does not wait at all: it starts the next generation, wakes
//! everyone who arrived in the finished one, and is told it is the leader.
//! A waiter only has to remember which generation it arrived in; it is
//! released once that generation is over, however late it is polled, so a
//! barrier can be reused at once without a fast task slipping into the
//! previous round.

use super::wait_list::{Key, WaitList};
use super::wake_batch::{register, wake_list};
use crate::loom::sync::{Mutex, MutexGuard};
use crate::runtime::coop;
use std::fmt;
use std::future::poll_fn;
use std::task::{Poll, Waker};

/// Lets `n` tasks wait for each other.
///
/// ```
/// use std::sync::Arc;
/// use vigil::sync::Barrier;
///
/// #[vigil::main(flavor = "current_thread")]
/// async fn main() {
///     let barrier = Arc::new(Barrier::new(3));
///     let mut tasks = Vec::new();
///     for _ in 0..3 {
///         let barrier = barrier.clone();
///         tasks.push(vigil::spawn(async move { barrier.wait().await.is_leader() }));
///     }
///     let mut leaders = 0;
///     for t in tasks {
///         leaders += t.await.unwrap() as usize;
///     }
///     assert_eq!(leaders, 1);
/// }
/// ```
pub struct Barrier {
    n: usize,
    state: Mutex<State>,
}

struct State {
    arrived: usize,
    generation: u64,
    waiters: WaitList<Option<Waker>>,
}

impl Barrier {
    /// A barrier for `n` tasks. `Barrier::new(0)` behaves like
    /// `Barrier::new(1)`: every `wait` returns at once, as leader.
    pub fn new(n: usize) -> Barrier {
        Barrier {
            n: n.max(1),
            state: Mutex::new(State {
                arrived: 0,
                generation: 0,
                waiters: WaitList::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Arrives, and waits until `n` tasks have arrived in this generation.
    ///
    /// **Not cancel-safe**: the arrival counts from the first poll on (the
    /// first one the task's cooperative budget allows), so a `wait`
    /// dropped before it completes still helps release the others, and
    /// this task is not waiting any more. (Before that first poll a `wait`
    /// has not arrived, and dropping it changes nothing.)
    pub async fn wait(&self) -> BarrierWaitResult {
        // Every wait spends budget, even one that completes a generation at
        // once: a loop over a barrier of one must still yield.
        poll_fn(coop::poll_proceed).await;
        let generation = {
            let mut state = self.lock();
            state.arrived += 1;
            if state.arrived < self.n {
                state.generation
            } else {
                state.arrived = 0;
                state.generation += 1;
                drop(state);
                wake_list(|| self.lock(), |state| &mut state.waiters);
                return BarrierWaitResult(true);
            }
        };
        let mut waiter = Waiter {
            barrier: self,
            key: None,
        };
        poll_fn(|cx| {
            if coop::poll_proceed(cx).is_pending() {
                return Poll::Pending;
            }
            let mut state = self.lock();
            if state.generation != generation {
                return Poll::Ready(());
            }
            register(&mut state.waiters, &mut waiter.key, cx.waker());
            drop(state);
            coop::refund();
            Poll::Pending
        })
        .await;
        BarrierWaitResult(false)
    }
}

/// A waiting `wait`'s node, removed when the `wait` completes or is
/// dropped.
struct Waiter<'a> {
    barrier: &'a Barrier,
    key: Option<Key>,
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.barrier.lock().waiters.remove(key);
        }
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier")
            .field("n", &self.n)
            .field("arrived", &self.lock().arrived)
            .finish()
    }
}

/// What [`Barrier::wait`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarrierWaitResult(bool);

impl BarrierWaitResult {
    /// `true` for exactly one task per generation: the one whose arrival
    /// completed it.
    pub fn is_leader(&self) -> bool {
        self.0
    }
}

#[cfg(all(test, loom))]
mod loom_barrier {
    use super::Barrier;
    use crate::sync::loom_support::block_on;
    use loom::sync::Arc;

    /// Two threads meet twice at a barrier of two: both pass each time,
    /// with exactly one leader per generation.
    #[test]
    fn loom_barrier_two_generations() {
        loom::model(|| {
            let barrier = Arc::new(Barrier::new(2));
            let other = {
                let barrier = barrier.clone();
                loom::thread::spawn(move || {
                    block_on(async {
                        let a = barrier.wait().await.is_leader();
                        let b = barrier.wait().await.is_leader();
                        (a, b)
                    })
                })
            };
            let (a, b) = block_on(async {
                let a = barrier.wait().await.is_leader();
                let b = barrier.wait().await.is_leader();
                (a, b)
            });
            let (c, d) = other.join().unwrap();
            assert!(a ^ c, "one leader in the first generation");
            assert!(b ^ d, "one leader in the second generation");
        });
    }
}
