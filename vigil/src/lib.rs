//! # vigil
//!
//! An async runtime for Rust that keeps watch over its tasks.
//!
//! vigil runs futures on a current-thread or a work-stealing multi-thread
//! scheduler, waits for sockets in an epoll reactor and keeps time with a
//! hierarchical timer wheel, submits file operations to the kernel through
//! io_uring ([`fs`]), awaits child processes through process descriptors
//! ([`process`]), runs blocking work on a separate pool, turns Unix
//! signals into awaitable events ([`signal`]), and offers async locks and
//! channels in [`sync`]. Its public names follow
//! Tokio's, so code moves over with a change of crate name.
//!
//! ```
//! use std::time::Duration;
//!
//! #[vigil::main(flavor = "current_thread")]
//! async fn main() {
//!     let task = vigil::spawn(async {
//!         vigil::time::sleep(Duration::from_millis(10)).await;
//!         "done"
//!     });
//!     assert_eq!(task.await.unwrap(), "done");
//! }
//! ```
//!
//! ## Layout
//!
//! The modules depend on each other in one direction only:
//! `sys` (raw OS calls) <- `driver` (the reactor, the timer wheel, the
//! io_uring ring and the parking of idle threads) <- `runtime` (tasks,
//! schedulers, blocking pool, and the watchdog's detectors, which live
//! beside the scheduler they watch) <- `task`, `time`, `io`, `net`, `fs`,
//! `process`, `signal`, `sync`, `watchdog` (the user API).

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs, missing_debug_implementations, rust_2018_idioms)]

pub(crate) mod loom;

pub(crate) mod driver;
pub mod fs;
pub mod io;
pub mod net;
pub mod process;
pub mod runtime;
pub mod signal;
pub mod sync;
pub(crate) mod sys;
pub mod task;
pub mod time;
pub mod watchdog;

#[cfg(any(feature = "tokio-io", feature = "hyper"))]
mod compat;
#[cfg(feature = "hyper")]
pub use compat::hyper;

#[cfg(feature = "macros")]
pub use vigil_macros::{main, test};

pub use task::spawn;

use std::future::Future;

/// Runs `future` to completion on a fresh current-thread runtime, and
/// returns its output. Tasks spawned inside it run on this thread too; any
/// still unfinished when `future` completes are cancelled.
///
/// ```
/// let n = vigil::block_on(async {
///     let a = vigil::spawn(async { 20 });
///     let b = vigil::task::spawn_local(async { 22 });
///     a.await.unwrap() + b.await.unwrap()
/// });
/// assert_eq!(n, 42);
/// ```
///
/// # Panics
/// If called from a thread that already drives a vigil runtime, or if the
/// runtime cannot be built.
#[track_caller]
pub fn block_on<F: Future>(future: F) -> F::Output {
    let rt = runtime::Builder::new_current_thread()
        .build()
        .expect("vigil::block_on could not build a runtime");
    rt.block_on(future)
}

/// Compiles and runs the README's example as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
