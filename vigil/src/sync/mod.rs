//! Synchronisation for tasks: waiting without blocking the thread.
//!
//! A `std::sync::Mutex` held across an `.await`, or a blocking channel
//! `recv`, stops the worker thread and every task queued on it. The
//! primitives here wait the async way instead: a future that cannot proceed
//! registers its waker and returns `Pending`, and whoever changes the state
//! (unlocks, releases a permit, sends a value) wakes it.
//!
//! They share one design (see `wait_list.rs`): the state sits behind
//! a short lock, waiters queue in arrival order (so no waiter starves), a
//! dropped future leaves the queue in O(1) and hands back whatever it was
//! given, and wakers are woken after the lock is released. Completed
//! operations spend the task's cooperative budget like I/O does, so a task
//! that always finds a message waiting still yields to its neighbours.
//!
//! None of them need a vigil runtime: they work under any executor.

pub mod broadcast;
pub mod mpsc;
pub mod oneshot;
pub mod watch;

mod barrier;
mod blocking;
mod mutex;
mod notify;
mod once_cell;
mod rwlock;
mod semaphore;
mod set_once;
pub(crate) mod wait_list;
pub(crate) mod wake_batch;

pub use barrier::{Barrier, BarrierWaitResult};
pub use mutex::{
    MappedMutexGuard, Mutex, MutexGuard, OwnedMappedMutexGuard, OwnedMutexGuard, TryLockError,
};
pub use notify::{Notified, Notify, OwnedNotified};
pub use once_cell::{OnceCell, SetError};
pub use rwlock::{
    OwnedRwLockMappedWriteGuard, OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock,
    RwLockMappedWriteGuard, RwLockReadGuard, RwLockWriteGuard,
};
pub use semaphore::{
    Acquire, AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};
pub use set_once::{SetOnce, SetOnceError};

/// What the loom models of this module share.
#[cfg(all(test, loom))]
pub(crate) mod loom_support {
    use std::future::Future;
    use std::pin::pin;
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};

    /// Wakes the model thread sleeping in [`block_on`].
    struct Unpark(loom::sync::Notify);

    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.notify();
        }
    }

    /// Drives a future to completion inside a loom model, sleeping (on a
    /// loom `Notify`, which keeps a notification sent before the wait)
    /// until it is woken. Unlike a spinning `block_on`, a lost wake-up
    /// leaves the thread asleep for good, which loom reports as a deadlock.
    pub(crate) fn block_on<F: Future>(f: F) -> F::Output {
        let unpark = Arc::new(Unpark(loom::sync::Notify::new()));
        let waker = Waker::from(unpark.clone());
        let mut cx = Context::from_waker(&waker);
        let mut f = pin!(f);
        loop {
            if let Poll::Ready(out) = f.as_mut().poll(&mut cx) {
                return out;
            }
            unpark.0.wait();
        }
    }
}
