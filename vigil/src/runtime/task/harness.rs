//! The typed half of a task: polling, completing, cancelling, and handing the
//! output to the `JoinHandle`. Each function here runs with a specific
//! ownership established by a state transition, noted on the function.

use super::core::{Cell, Header, Stage};
use super::raw::RawTask;
use super::state::{TransitionToIdle, TransitionToRunning};
use super::waker::waker_ref;
use super::{JoinError, Notified, Schedule};
use crate::runtime::watch::task_watch::{self, Verdict};
use crate::runtime::{context, coop};
use std::any::Any;
use std::future::Future;
use std::marker::PhantomData;
use std::mem;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};

/// How a poll ended, as far as the task's lifecycle is concerned.
enum PollOutcome<T> {
    Ready(Result<T, JoinError>),
    /// `lost_check`: the watchdog may want the lost-waker test, which
    /// rides on the transition to idle.
    Pending {
        throttle: bool,
        lost_check: bool,
    },
}

pub(crate) struct Harness<F: Future, S> {
    cell: NonNull<Cell<F, S>>,
    _p: PhantomData<S>,
}

impl<F: Future, S: Schedule> Harness<F, S> {
    /// # Safety
    /// `ptr` must be the header of a live `Cell<F, S>`.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> Self {
        Harness {
            cell: ptr.cast(),
            _p: PhantomData,
        }
    }

    fn cell(&self) -> &Cell<F, S> {
        // SAFETY: the caller of `from_raw` holds a reference.
        unsafe { self.cell.as_ref() }
    }

    fn header(&self) -> &Header {
        &self.cell().header
    }

    fn raw(&self) -> RawTask {
        // SAFETY: the header is live.
        unsafe { RawTask::from_raw(self.cell.cast()) }
    }

    pub(crate) fn scheduler(&self) -> &S {
        &self.cell().scheduler
    }

    /// Consumes one `Notified` reference.
    pub(crate) fn poll(self) {
        match self.header().state.transition_to_running() {
            TransitionToRunning::Success => {}
            TransitionToRunning::Cancelled => {
                let output = self.cancel_future(true);
                return self.complete(output);
            }
            TransitionToRunning::Failed => return,
            TransitionToRunning::Dealloc => return self.raw().dealloc(),
        }
        // We hold RUNNING: the stage is ours.
        let (throttle, lost_check) = match self.poll_future() {
            PollOutcome::Ready(output) => return self.complete(output),
            PollOutcome::Pending {
                throttle,
                lost_check,
            } => (throttle, lost_check),
        };
        let watchdog = self.scheduler().watchdog();
        let mut transition = self
            .header()
            .state
            .transition_to_idle(|| lost_check && watchdog.checks_lost_wakers());
        if transition == TransitionToIdle::MaybeLost {
            if let Some(output) = self.check_lost_waker() {
                return self.complete(output);
            }
            transition = self.header().state.transition_to_idle(|| false);
        }
        match transition {
            TransitionToIdle::Ok => {}
            TransitionToIdle::OkNotified if throttle => {
                // The queue reference we keep goes to the throttle.
                self.scheduler().watchdog().throttle.defer(self.raw());
            }
            TransitionToIdle::OkNotified => {
                // SAFETY: we keep the reference we were polled with.
                let task = unsafe { Notified::from_raw(self.raw()) };
                self.scheduler().yield_now(task);
            }
            TransitionToIdle::OkDealloc => self.raw().dealloc(),
            TransitionToIdle::Cancelled => {
                let output = self.cancel_future(true);
                self.complete(output);
            }
            TransitionToIdle::MaybeLost => unreachable!("transition without the lost check"),
        }
    }

    /// Requires `RUNNING`, after a `Pending` poll whose state word showed no
    /// waker clone: the watchdog's close check and report. Returns the
    /// output if the task is to be cancelled (`Policy::Abort`).
    #[cold]
    #[inline(never)]
    fn check_lost_waker(&self) -> Option<Result<F::Output, JoinError>> {
        let header = self.header();
        match self.scheduler().watchdog().check_lost_waker(header)? {
            Verdict::Abort => Some(match self.drop_future() {
                Ok(()) => Err(self.cancellation()),
                Err(payload) => Err(JoinError::panic(header.meta.id, payload)),
            }),
            Verdict::Continue | Verdict::Throttle => None,
        }
    }

    /// Requires `RUNNING`. Polls the future, catching a panic, and lets the
    /// watchdog judge the poll.
    fn poll_future(&self) -> PollOutcome<F::Output> {
        let header = self.header();
        let watchdog = self.scheduler().watchdog();
        let waker = waker_ref(self.cell.cast());
        let mut cx = Context::from_waker(&waker);
        let poll = context::begin_poll(self.cell.cast(), header.meta.id);
        let probe = watchdog.begin_poll(header, poll.count);
        let budget = coop::start_poll();
        let res = panic::catch_unwind(AssertUnwindSafe(|| {
            self.cell().stage.with_mut(|stage| {
                // SAFETY: RUNNING gives exclusive access to the stage, and a
                // task's future never moves once the cell is allocated.
                match unsafe { &mut *stage } {
                    // SAFETY: as above: the future is pinned in the cell.
                    Stage::Running(fut) => unsafe { Pin::new_unchecked(fut) }.poll(&mut cx),
                    _ => unreachable!("a task was polled after it completed"),
                }
            })
        }));
        let budget = budget.finish();
        let flags = poll.finish();
        let pending = matches!(res, Ok(Poll::Pending));
        let verdict = watchdog.end_poll(header, probe, flags, budget, pending);
        match res {
            Ok(Poll::Pending) => match verdict {
                Verdict::Continue => PollOutcome::Pending {
                    throttle: false,
                    lost_check: true,
                },
                Verdict::Throttle => PollOutcome::Pending {
                    throttle: true,
                    lost_check: false,
                },
                Verdict::Abort => PollOutcome::Ready(match self.drop_future() {
                    Ok(()) => Err(self.cancellation()),
                    Err(payload) => Err(JoinError::panic(header.meta.id, payload)),
                }),
            },
            Ok(Poll::Ready(value)) => {
                // Drop the future now so its resources go before the output
                // is handed over; a panic in its destructor is reported.
                PollOutcome::Ready(match self.drop_future() {
                    Ok(()) => Ok(value),
                    Err(payload) => Err(JoinError::panic(header.meta.id, payload)),
                })
            }
            Err(payload) => {
                let _ = self.drop_future();
                PollOutcome::Ready(Err(JoinError::panic(header.meta.id, payload)))
            }
        }
    }

    /// Requires `RUNNING`.
    fn drop_future(&self) -> Result<(), Box<dyn Any + Send>> {
        panic::catch_unwind(AssertUnwindSafe(|| {
            self.cell().stage.with_mut(|stage| {
                // SAFETY: RUNNING gives exclusive access to the stage.
                unsafe { *stage = Stage::Consumed }
            });
        }))
    }

    /// Requires `RUNNING`. Drops (or, for a `!Send` future on a foreign
    /// thread, leaks) the future and returns the cancellation output.
    fn cancel_future(&self, drop_future: bool) -> Result<F::Output, JoinError> {
        let id = self.header().meta.id;
        if !drop_future {
            // SAFETY: RUNNING gives exclusive access to the stage.
            self.cell().stage.with_mut(|stage| unsafe {
                if let Stage::Running(fut) = mem::replace(&mut *stage, Stage::Consumed) {
                    mem::forget(fut);
                }
            });
            return Err(self.cancellation());
        }
        let _current = context::set_current_task(self.cell.cast());
        match self.drop_future() {
            Ok(()) => Err(self.cancellation()),
            Err(payload) => Err(JoinError::panic(id, payload)),
        }
    }

    /// Why the task was cancelled: by the watchdog (which left a report),
    /// or by an abort or shutdown.
    fn cancellation(&self) -> JoinError {
        let header = self.header();
        if header.watch.has_flag(task_watch::ABORTED) {
            if let Some(report) = self.scheduler().watchdog().take_abort(header.meta.id) {
                return JoinError::watchdog(header.meta.id, report);
            }
        }
        JoinError::cancelled(header.meta.id)
    }

    /// Requires `RUNNING`; consumes the caller's reference (and the owned
    /// list's, if the task is still in it).
    fn complete(self, output: Result<F::Output, JoinError>) {
        self.cell().stage.with_mut(|stage| {
            // SAFETY: RUNNING gives exclusive access to the stage.
            unsafe { *stage = Stage::Finished(output) }
        });
        let prev = self.header().state.transition_to_complete();
        if !prev.is_join_interested() {
            // Nobody will read the output: drop it here, on a runtime thread.
            let _ = panic::catch_unwind(AssertUnwindSafe(|| {
                self.cell().stage.with_mut(|stage| {
                    // SAFETY: COMPLETE without join interest: nobody else
                    // reads the output.
                    unsafe { *stage = Stage::Consumed }
                });
            }));
        } else if prev.has_join_waker() {
            // SAFETY: JOIN_WAKER was set when we completed, so the join
            // handle no longer writes the slot.
            self.header().join_waker.with(|waker| unsafe {
                if let Some(waker) = &*waker {
                    waker.wake_by_ref();
                }
            });
        }
        let released = self.scheduler().release(self.raw());
        let refs = 1 + usize::from(released);
        if self.header().state.ref_dec_n(refs) {
            self.raw().dealloc();
        }
    }

    /// `JoinHandle::poll`.
    pub(crate) fn try_read_output(
        &self,
        dst: &mut Poll<Result<F::Output, JoinError>>,
        waker: &Waker,
    ) {
        if self.can_read_output(waker) {
            let stage = self.cell().stage.with_mut(|stage| {
                // SAFETY: COMPLETE and we are the join handle: the stage is ours.
                unsafe { mem::replace(&mut *stage, Stage::Consumed) }
            });
            match stage {
                Stage::Finished(output) => *dst = Poll::Ready(output),
                _ => panic!("JoinHandle polled after it returned its output"),
            }
        }
    }

    fn can_read_output(&self, waker: &Waker) -> bool {
        let state = &self.header().state;
        let snapshot = state.load();
        if snapshot.is_complete() {
            return true;
        }
        let res = if snapshot.has_join_waker() {
            let same = self.header().join_waker.with(|w| {
                // SAFETY: with JOIN_WAKER set the slot is only read, by anyone.
                unsafe { (*w).as_ref().is_some_and(|w| w.will_wake(waker)) }
            });
            if same {
                return false;
            }
            state
                .unset_join_waker()
                .and_then(|()| self.set_join_waker(waker.clone()))
        } else {
            self.set_join_waker(waker.clone())
        };
        match res {
            Ok(()) => false,
            Err(snapshot) => {
                debug_assert!(snapshot.is_complete());
                true
            }
        }
    }

    fn set_join_waker(&self, waker: Waker) -> Result<(), super::state::Snapshot> {
        self.header().join_waker.with_mut(|slot| {
            // SAFETY: JOIN_WAKER is unset, so the task does not read the slot.
            unsafe { *slot = Some(waker) }
        });
        self.header().state.set_join_waker()
    }

    pub(crate) fn drop_join_handle(self) {
        let prev = self.header().state.drop_join_interest();
        if prev.is_complete() {
            let _ = panic::catch_unwind(AssertUnwindSafe(|| {
                self.cell().stage.with_mut(|stage| {
                    // SAFETY: COMPLETE and we were the join handle: the
                    // output is ours.
                    unsafe { *stage = Stage::Consumed }
                });
            }));
        } else if prev.has_join_waker() {
            self.header().join_waker.with_mut(|slot| {
                // SAFETY: we cleared JOIN_WAKER before completion: the slot
                // is ours.
                unsafe { *slot = None }
            });
        }
        self.raw().drop_reference();
    }

    /// Consumes the caller's reference.
    pub(crate) fn shutdown(self, drop_future: bool) {
        if self.header().state.transition_to_shutdown() {
            let output = self.cancel_future(drop_future);
            self.complete(output);
        } else {
            self.raw().drop_reference();
        }
    }
}
