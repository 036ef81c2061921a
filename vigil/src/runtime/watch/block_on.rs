//! Watching the future passed to `block_on`.
//!
//! That future is not a task: `block_on` polls it on the calling thread,
//! outside any run queue, so the per-task checks never see it. Yet it is
//! where blocking code most often ends up (the body of `#[vigil::main]` or
//! of a `#[vigil::test]`), and two of the watchdog's failures hurt there
//! as much as in a task:
//!
//! * **A blocked poll** on the current-thread runtime: the thread that
//!   polls the future is the one that runs every task and the driver, so a
//!   future that blocks stops them all. Each poll of the future is marked
//!   on the runtime's poll slot as a poll of its own ([`BlockOnWatch::poll`]),
//!   and the monitor reports it like a task's, naming the `block_on` call
//!   site. (A `LocalSet` driven by the future puts its tasks on the slot as
//!   nested polls, so a block there is still blamed on the local task.) On
//!   the multi-thread runtime the future's thread is not a worker: blocking
//!   it holds up only the caller, and it is not watched.
//! * **A lost waker**, on both runtimes: if the future returns `Pending`
//!   and no clone of `block_on`'s waker survives, nothing can wake it and
//!   the call never returns ([`BlockOnWatch::check_lost_waker`]).
//!
//! Spinning is not watched: `block_on` polls a self-woken future straight
//! away, without the queue round trip that makes a spinning task visible.
//! None of this can throttle or cancel the future; the report is all.

use super::{monitor::PollSlot, ReportKind, Watchdog};
use crate::runtime::task::Id;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::atomic::{self, AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

/// The watchdog's view of one `block_on` call.
pub(crate) struct BlockOnWatch<'a> {
    watchdog: &'a Watchdog,
    /// Stands for the future in reports (an id no task has).
    id: Id,
    site: &'static Location<'static>,
    reported_lost: bool,
}

impl<'a> BlockOnWatch<'a> {
    /// Watches the future of the `block_on` called at `site`.
    pub(crate) fn new(watchdog: &'a Watchdog, site: &'static Location<'static>) -> Self {
        BlockOnWatch {
            watchdog,
            id: Id::next(),
            site,
            reported_lost: false,
        }
    }

    /// Polls `future`; with a `slot`, as the poll in progress on it, which
    /// the blocked-poll monitor times (the poll ends on the slot even if
    /// the future panics).
    #[inline]
    pub(crate) fn poll<F: Future + ?Sized>(
        &self,
        slot: Option<&PollSlot>,
        future: Pin<&mut F>,
        cx: &mut Context<'_>,
    ) -> Poll<F::Output> {
        struct End<'s>(&'s PollSlot);
        impl Drop for End<'_> {
            fn drop(&mut self) {
                self.0.end();
            }
        }
        let _end = slot.map(|slot| {
            slot.begin_block_on(self.id, self.site);
            End(slot)
        });
        future.poll(cx)
    }

    /// After a poll that returned `Pending`: reports a lost waker (once per
    /// call) if no clone of the waker survives. `waker` is what the waker
    /// wraps, of which `block_on` itself holds `own` references (its own
    /// and the `Waker`'s), and `woken` the flag a wake sets.
    pub(crate) fn check_lost_waker<W>(&mut self, waker: &Arc<W>, own: usize, woken: &AtomicBool) {
        if self.reported_lost || !self.watchdog.checks_lost_wakers() {
            return;
        }
        if Arc::strong_count(waker) > own {
            return;
        }
        // A clone dropped since the poll was woken first: the fence pairs
        // with the release of its reference count, so its wake is seen.
        atomic::fence(Ordering::Acquire);
        if woken.load(Ordering::Acquire) {
            return;
        }
        self.reported_lost = true;
        let report = self
            .watchdog
            .block_on_report(self.id, self.site, ReportKind::LostWaker);
        if let Some(report) = report {
            self.watchdog.emit(&report);
        }
    }
}
