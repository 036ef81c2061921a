//! The blocking pool: threads for work that would stall an async worker.
//!
//! `spawn_blocking` wraps a closure in an ordinary task (so it has a
//! `JoinHandle`, an id and a spawn location like any other) and queues it
//! here. Threads start on demand, up to a limit, and retire after sitting
//! idle for a while, so a burst of blocking calls does not leave hundreds of
//! threads behind. Async workers never wait on this pool.

mod pool;
mod task;

pub(crate) use pool::{BlockingPool, Spawner};
