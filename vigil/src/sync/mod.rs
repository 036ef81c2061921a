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

// Used by the primitives as they land.
#[allow(dead_code)]
pub(crate) mod wait_list;

mod notify;
pub mod oneshot;
pub use notify::{Notified, Notify};
