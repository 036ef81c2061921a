//! Waiting on a primitive from synchronous code: the `blocking_*` methods.
//!
//! A thread that is not running async tasks (a `std::thread`, a
//! `spawn_blocking` closure, a callback from a C library) sometimes has to
//! hand a value to, or take one from, the async side. These methods poll
//! the same futures the async methods return, parking the thread between
//! wake-ups, so they follow the same queueing and fairness rules.
//!
//! Calling one on a thread that is running vigil tasks would stop every
//! task queued behind the caller, possibly the very task that was to send
//! the value: a deadlock. So they panic there instead, with the same
//! message as a nested `block_on`.

use crate::runtime::{context, park_thread};
use std::future::Future;
use std::pin::pin;

/// Blocks the current thread until `future` completes.
///
/// # Panics
///
/// On a thread that drives a vigil runtime (a worker, or inside
/// `block_on`).
#[track_caller]
pub(crate) fn wait<F: Future>(future: F) -> F::Output {
    let _driving = context::enter_driving();
    park_thread::block_on(pin!(future))
}
