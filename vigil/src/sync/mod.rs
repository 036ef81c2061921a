//! Synchronisation for tasks: waiting without blocking the thread.
//!
//! A `std::sync::Mutex` held across an `.await`, or a blocking channel
//! `recv`, stops the worker thread and every task queued on it. The
//! primitives here wait the async way instead: a future that cannot proceed
//! registers its waker and returns `Pending`, and whoever changes the state
//! (unlocks, releases a permit, sends a value) wakes it.
//!
//! They share one design, described in [`wait_list`]: the state sits behind
//! a short lock, waiters queue in arrival order (so no waiter starves), a
//! dropped future leaves the queue in O(1) and hands back whatever it was
//! given, and wakers are woken after the lock is released. Completed
//! operations spend the task's cooperative budget like I/O does, so a task
//! that always finds a message waiting still yields to its neighbours.
//!
//! None of them need a vigil runtime: they work under any executor.

mod barrier;
pub mod mpsc;
mod mutex;
mod rwlock;
mod semaphore;
pub(crate) mod wait_list;
pub(crate) mod wake_batch;

pub mod broadcast;
pub mod watch;

pub use barrier::{Barrier, BarrierWaitResult};
pub use mutex::{Mutex, MutexGuard, OwnedMutexGuard, TryLockError};
pub use rwlock::{
    OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock, RwLockReadGuard, RwLockWriteGuard,
};
pub use semaphore::{
    Acquire, AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};

/// What the loom models of this module share.
#[cfg(all(test, loom))]
pub(crate) mod loom_support {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    /// Polls `f` until it completes, yielding to the model's other threads
    /// between polls (loom explores every place the yield can fall).
    pub(crate) fn block_on<F: Future>(f: F) -> F::Output {
        let mut f = pin!(f);
        let mut cx = Context::from_waker(Waker::noop());
        loop {
            if let Poll::Ready(out) = f.as_mut().poll(&mut cx) {
                return out;
            }
            loom::thread::yield_now();
        }
    }
}
