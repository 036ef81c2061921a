//! Readiness of arbitrary Unix descriptors: [`AsyncFd`] lets any
//! non-blocking descriptor wait in vigil's reactor beside its sockets, so
//! libraries with descriptors of their own (inotify, TUN devices, database
//! client sockets, `timerfd`) run on vigil without a thread of their own.
//!
//! The names and methods follow Tokio's `tokio::io::unix`. One difference:
//! vigil always registers a descriptor for both directions (see
//! [`AsyncFd::with_interest`]).

mod async_fd;
mod guard;

pub use async_fd::{AsyncFd, AsyncFdTryNewError};
pub use guard::{AsyncFdReadyGuard, AsyncFdReadyMutGuard, TryIoError};
