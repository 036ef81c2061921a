//! The multi-thread, work-stealing scheduler.
//!
//! Each worker thread owns a [`worker::Core`]: a bounded local run queue, a
//! LIFO slot, and its parker. A task woken by the task running on the same
//! worker goes into the LIFO slot and runs next (a message passed to a task
//! is handled while it is hot in cache); the slot is used at most a few times
//! in a row so two tasks ping-ponging cannot starve the queue. Wakes from
//! outside the runtime go to the global injection queue, which every worker
//! checks every `global_queue_interval` ticks so it is never starved by busy
//! local queues; each check moves a few tasks of it (up to
//! `inject::CHECK_BATCH`, within the worker's share and the room in its
//! local queue) to the local queue, so a long injection queue drains in a
//! few checks, not one task per check. A worker with nothing to do steals
//! half of another worker's queue, and only then sleeps; see [`idle`] for
//! how sleepers are woken one at a time.
//!
//! A sleeping worker is woken for a spawned or yielded task at once, but for
//! a *woken* task only when the queue it lands in would take its worker a
//! while ([`backlog`]): a short queue is drained faster by its own worker
//! than a sibling can wake, and a sibling on a busy machine only takes a CPU
//! from someone. For the same reason a worker that goes to sleep while
//! another is awake leaves the driver to it, and one of them keeps watch
//! for a long poll that holds up I/O, timers or queued tasks ([`park`]).
//!
//! Each worker has an epoll instance of its own (`driver::io::worker_epolls`),
//! which holds the ends of loopback connections within the process that
//! placement put there. It harvests it whenever its queues run dry and
//! every `event_interval` ticks, so the tasks woken by those registrations
//! run on it; with nothing to run or steal it harvests the others' too.
//! Before it sleeps it marks itself idle and harvests once more; from then
//! until it finds work, the thread asleep in the driver takes its events
//! for it. The watchdog's rescue of a blocked worker marks that worker idle
//! too, so its connections keep being served.
//!
//! The LIFO slot and the list of yielded tasks are the worker's alone, with
//! plain access, except when the worker blocks inside a poll: the
//! watchdog's monitor then takes them over through the protocol in
//! [`stash`], which puts the cost of the hand-over on the monitor.

mod backlog;
mod idle;
#[cfg(all(test, loom))]
mod loom_queue;
#[cfg(all(test, loom))]
mod loom_stash;
mod park;
pub(crate) mod queue;
mod stash;
mod worker;

pub(crate) use worker::block_in_place::HandedOff;
pub(crate) use worker::{launch, Context, Handle};
