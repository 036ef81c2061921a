//! Unix signals as things a task can await: [`ctrl_c`] for the usual
//! "shut down cleanly on Ctrl-C", and [`unix::signal`] for any other
//! signal, as a listener that is also a `Stream`.
//!
//! # Design
//!
//! A signal handler interrupts a thread anywhere, even inside `malloc` or
//! while it holds the lock a waker would need, so almost nothing is allowed
//! in one. vigil's handler does two things that are: it sets the signal's
//! flag and writes a byte into a process-wide non-blocking pipe (the
//! classic self-pipe). The pipe is what the reactor understands: every
//! listener registers a duplicate of its read end with the reactor of its
//! own runtime, so a signal makes the pipe readable in every runtime that
//! listens, each sleeping in `epoll_wait` as usual. The first listener to
//! run empties the pipe and turns the raised flags into deliveries for all
//! listeners, in every runtime; see `registry` for how a delivery is never
//! lost or counted twice.
//!
//! `signalfd(2)` was the other candidate. It needs the signal blocked in
//! every thread of the process, including threads other libraries start
//! before or after the runtime, or the kernel delivers the signal to one
//! of those threads the old way and the descriptor never sees it; a
//! handler works whatever the other threads do.
//!
//! # What it changes in the process
//!
//! Listening for a signal installs vigil's handler for good: the default
//! action (for `SIGINT`, `SIGTERM` and `SIGHUP`, ending the process) is gone
//! even after the listener is dropped, as with Tokio. System calls the
//! signal interrupts elsewhere in the program are restarted (`SA_RESTART`).
//! A handler another library installed for the same signal is replaced, not
//! chained.

mod registry;
pub mod unix;

use std::io;

/// Completes when the process receives `SIGINT` (Ctrl-C in a terminal).
///
/// The handler is installed when the returned future is first polled, and
/// then `SIGINT` no longer ends the process, for the rest of its life:
/// call `ctrl_c` early (for example in a task spawned at start-up) so that
/// a Ctrl-C between start-up and the first poll does not kill the program
/// before it can shut down cleanly.
///
/// Cancel-safe in the sense that dropping it loses nothing but the wait;
/// a new `ctrl_c()` listens afresh and does not see an earlier Ctrl-C.
///
/// # Errors
/// As [`unix::signal`]: outside a runtime, or if the handler cannot be
/// installed; also when the runtime shuts down while waiting.
///
/// # Example
/// ```no_run
/// #[vigil::main]
/// async fn main() -> std::io::Result<()> {
///     let server = vigil::spawn(async { /* serve */ });
///     vigil::signal::ctrl_c().await?;
///     println!("Ctrl-C: shutting down");
///     server.abort();
///     Ok(())
/// }
/// ```
pub async fn ctrl_c() -> io::Result<()> {
    let mut interrupts = unix::signal(unix::SignalKind::interrupt())?;
    match interrupts.recv().await {
        Some(()) => Ok(()),
        None => Err(io::Error::other(
            "the runtime shut down while waiting for Ctrl-C",
        )),
    }
}
