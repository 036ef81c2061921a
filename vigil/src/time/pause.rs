//! Stopping and moving the runtime's clock, for tests (`test-util`).
//!
//! See the clock's design in the timer driver: while paused, [`Instant::now`]
//! inside the runtime stands still, [`advance`] moves it, and a runtime with
//! nothing to run moves it straight to its next timer. Only current-thread
//! runtimes can pause: with several workers "nothing to run" would need all
//! of them to agree, and a test wants one thread anyway.
//!
//! [`Instant::now`]: super::Instant::now

use crate::runtime::context;
use crate::runtime::scheduler;
use std::time::Duration;

/// Runs `f` on the clock of the current-thread runtime this thread is in.
#[track_caller]
fn with_clock(what: &str, f: impl FnOnce(&crate::driver::time::Clock) -> Result<(), &'static str>) {
    let handle = context::try_current()
        .unwrap_or_else(|| panic!("`vigil::time::{what}` was called outside a vigil runtime"));
    if !matches!(handle, scheduler::Handle::CurrentThread(_)) {
        panic!(
            "`vigil::time::{what}` needs a current-thread runtime \
             (`#[vigil::test]`, or `Builder::new_current_thread`)"
        );
    }
    if let Err(why) = f(&handle.driver().time.clock) {
        panic!("`vigil::time::{what}`: {why}");
    }
}

/// Stops the runtime's clock: [`Instant::now`](super::Instant::now) stands
/// still until [`advance`] or [`resume`], except that whenever the runtime
/// has nothing to run it moves the clock straight to the next timer's
/// deadline ("auto-advance"; held back while
/// [`spawn_blocking`](crate::task::spawn_blocking) work is in flight).
///
/// ```
/// use std::time::Duration;
/// use vigil::time::{self, Instant};
///
/// // In a test: `#[vigil::test] async fn an_hour_in_no_time() { ... }`.
/// let rt = vigil::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     time::pause();
///     let start = Instant::now();
///     time::sleep(Duration::from_secs(3600)).await;
///     // Timers have millisecond ticks: the clock stops at the first tick
///     // at or after the deadline.
///     let waited = start.elapsed();
///     assert!(waited >= Duration::from_secs(3600));
///     assert!(waited <= Duration::from_millis(3_600_001));
/// });
/// ```
///
/// # Panics
/// Outside a current-thread vigil runtime, or if the clock is already
/// paused.
#[track_caller]
pub fn pause() {
    with_clock("pause", |clock| clock.pause());
}

/// Starts the paused clock again, from where it stands.
///
/// # Panics
/// Outside a current-thread vigil runtime, or if the clock is not paused.
#[track_caller]
pub fn resume() {
    with_clock("resume", |clock| clock.resume());
}

/// Moves the paused clock forward by `duration` at once, then yields, so
/// every timer whose deadline the jump passed fires before this returns
/// (in no particular order among themselves).
///
/// Cancel-safe: the clock moves on the first poll; dropping the future
/// afterwards only skips the yield. Dropping it before then moves nothing.
///
/// ```
/// use std::time::Duration;
/// use vigil::time::{self, Instant};
///
/// // In a test: `#[vigil::test(start_paused = true)] async fn ...`.
/// let rt = vigil::runtime::Builder::new_current_thread()
///     .start_paused(true)
///     .build()
///     .unwrap();
/// rt.block_on(async {
///     let start = Instant::now();
///     time::advance(Duration::from_millis(1500)).await;
///     assert_eq!(start.elapsed(), Duration::from_millis(1500));
/// });
/// ```
///
/// # Panics
/// Outside a current-thread vigil runtime, or if the clock is not paused.
pub async fn advance(duration: Duration) {
    with_clock("advance", |clock| clock.advance(duration));
    crate::task::yield_now().await;
}
