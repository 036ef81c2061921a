//! [`Op`]: the future of one submitted io_uring operation.

use super::ring::Lifecycle;
use super::Uring;
use crate::driver::wake_batch::WakeBatch;
use crate::runtime::coop;
use io_uring::squeue;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// An operation in flight and the resources the kernel uses for it (`T`:
/// buffers, paths, descriptors), handed back with the result.
///
/// The output is the completion's result (`Ok(n)` for a non-negative
/// value, the errno as an `io::Error` otherwise) and the resources.
/// Dropping the future before it completes cancels the operation (best
/// effort) and keeps the resources alive until the kernel is done with
/// them.
pub(crate) struct Op<T: Send + 'static> {
    driver: Arc<crate::driver::Handle>,
    key: usize,
    resources: Option<T>,
    /// Ask the kernel to cancel when dropped early (reads: a read from a
    /// pipe may otherwise wait forever). Writes are left to finish, as a
    /// write handed to the OS is expected to land.
    cancel_on_drop: bool,
    /// The result is a new descriptor, closed if the future is dropped
    /// before it hands the result out.
    result_is_fd: bool,
}

impl<T: Send + 'static> Op<T> {
    /// Submits `entry` on the ring of `driver`, which must exist. On
    /// failure (the runtime shut down) the resources come back with the
    /// error.
    ///
    /// # Safety
    /// Every pointer in `entry` must point into memory owned by
    /// `resources` (heap memory, which moving `T` does not move) or into
    /// memory that outlives the operation, and nothing else may use that
    /// memory until the operation completes.
    pub(crate) unsafe fn submit(
        driver: Arc<crate::driver::Handle>,
        entry: squeue::Entry,
        resources: T,
    ) -> Result<Op<T>, (io::Error, T)> {
        let ring = ring_of(&driver);
        // SAFETY: forwarded from this function's contract; `resources` is
        // kept by the `Op` (or its slot) until the completion.
        let key = match unsafe { ring.submit(entry) } {
            Ok(key) => key,
            Err(err) => return Err((err, resources)),
        };
        Ok(Op {
            driver,
            key,
            resources: Some(resources),
            result_is_fd: false,
            cancel_on_drop: true,
        })
    }

    /// Marks the result as a new descriptor (an `openat`), so that it is
    /// closed if nobody takes it.
    pub(crate) fn result_is_fd(mut self) -> Self {
        self.result_is_fd = true;
        self
    }

    /// Lets the operation run to its end if the future is dropped early.
    pub(crate) fn finish_when_dropped(mut self) -> Self {
        self.cancel_on_drop = false;
        self
    }
}

// The resources are never pinned: the Op only moves them in and out.
impl<T: Send + 'static> Unpin for Op<T> {}

fn ring_of(driver: &crate::driver::Handle) -> &Uring {
    driver
        .uring
        .existing()
        .expect("an io_uring operation exists only on a runtime whose ring does")
}

impl<T: Send + 'static> Future for Op<T> {
    type Output = (io::Result<u32>, T);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        let mut batch = WakeBatch::new();
        let mut replaced = None;
        let result = {
            let mut ring = ring_of(&this.driver).lock();
            // The completion may be in the queue with no driver turn yet.
            ring.reap(&mut batch);
            let slot = &mut ring.ops[this.key];
            match slot {
                Lifecycle::Completed(res) => {
                    let res = *res;
                    ring.ops.remove(this.key);
                    Some(res)
                }
                Lifecycle::Waiting(waker) if waker.will_wake(cx.waker()) => None,
                _ => {
                    // The old waker is dropped after the lock is released.
                    replaced = Some(std::mem::replace(
                        slot,
                        Lifecycle::Waiting(cx.waker().clone()),
                    ));
                    None
                }
            }
        };
        drop(replaced);
        batch.wake_all();
        match result {
            Some(res) => {
                let resources = this
                    .resources
                    .take()
                    .expect("an Op is not polled after Ready");
                let res = if res < 0 {
                    Err(io::Error::from_raw_os_error(-res))
                } else {
                    Ok(res as u32)
                };
                Poll::Ready((res, resources))
            }
            None => {
                coop::refund();
                Poll::Pending
            }
        }
    }
}

impl<T: Send + 'static> Drop for Op<T> {
    fn drop(&mut self) {
        let Some(resources) = self.resources.take() else {
            return; // completed and handed back
        };
        let uring = ring_of(&self.driver);
        let mut ring = uring.lock();
        if let Lifecycle::Completed(res) = ring.ops[self.key] {
            ring.ops.remove(self.key);
            drop(ring);
            drop(resources);
            if self.result_is_fd {
                super::ring::close_result(res);
            }
            return;
        }
        let waiting = std::mem::replace(
            &mut ring.ops[self.key],
            Lifecycle::Ignored {
                resources: Box::new(resources),
                closes_fd: self.result_is_fd,
            },
        );
        if self.cancel_on_drop {
            uring.cancel(&mut ring, self.key);
        }
        drop(ring);
        drop(waiting);
    }
}

impl<T: Send + 'static> std::fmt::Debug for Op<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Op").field("key", &self.key).finish()
    }
}
