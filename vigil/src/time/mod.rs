//! Time: sleeping, deadlines and periodic ticks.
//!
//! * [`sleep`] / [`sleep_until`] make a [`Sleep`] future that completes at a
//!   deadline;
//! * [`timeout`] / [`timeout_at`] race any future against a deadline, giving
//!   [`Timeout`], whose output is `Result<T, `[`error::Elapsed`]`>`;
//! * [`interval`] / [`interval_at`] make an [`Interval`] that ticks on a
//!   fixed schedule, with [`MissedTickBehavior`] choosing how it catches up;
//! * [`Instant`] is the clock reading all of these use;
//! * with the `test-util` feature, `pause`, `advance` and `resume` stop and
//!   move that clock in tests, and a paused runtime with nothing to run
//!   jumps straight to its next timer, so a test of an hour-long timeout
//!   takes microseconds.
//!
//! # Design
//!
//! Every runtime has one hierarchical timing wheel with millisecond ticks,
//! driven by the thread that sleeps in the runtime's driver. Registering,
//! cancelling and firing a timer are all O(1), so a program can keep a
//! million sleeps pending, or start and abandon a timeout on every request,
//! without the timer becoming the bottleneck.
//!
//! Timers are **lazy**: creating a `Sleep` (or `Timeout`, or `Interval`) only
//! records a deadline. The timer is filed with the runtime the first time the
//! future is polled, so these types can be built anywhere — before the
//! runtime exists, on a plain thread — and a deadline that has already passed
//! completes without involving the runtime at all. It also means they are
//! [`Unpin`] (the wheel never points into them), unlike some runtimes' timers.
//!
//! Deadlines round **up** to the next millisecond and "now" rounds down, so a
//! timer never completes before its deadline; it may complete up to about a
//! millisecond (plus scheduling delay) after it. Durations too large for the
//! clock, such as [`Duration::MAX`], mean "about thirty years from now"
//! rather than a panic.
//!
//! The names and behaviour follow the `tokio::time` API, so code written for
//! it ports by changing the import.

pub mod error;
mod instant;
mod interval;
#[cfg(feature = "test-util")]
mod pause;
mod sleep;
mod timeout;

pub use instant::Instant;
pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
#[cfg(feature = "test-util")]
pub use pause::{advance, pause, resume};
pub use sleep::{sleep, sleep_until, Sleep};
pub use timeout::{timeout, timeout_at, Timeout};

#[doc(no_inline)]
pub use std::time::Duration;
