//! [`Sleep`]: a future that completes at a deadline.
//!
//! A `Sleep` is plain data (a deadline and a small state) until it is first
//! polled; only then does it look up the runtime it is polled in and file an
//! entry in that runtime's timer wheel. That is why it can be created
//! anywhere — in `main`, in a constructor, on a thread with no runtime — and
//! why it needs no pinning: the wheel refers to the entry by index, never to
//! the `Sleep`'s address, so `Sleep` is [`Unpin`] and can be moved freely,
//! polled through `&mut`, or stored inline in other futures.
//!
//! Dropping a registered `Sleep` removes its wheel entry in O(1), so
//! abandoning a sleep (for example the losing side of a `select`, or a
//! [`Timeout`](super::Timeout) whose future finished first) costs nothing
//! later.

use crate::driver;
use crate::driver::time::{Registration, TimerKey, TimerPoll};
use crate::runtime::context;
use crate::time::Instant;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// Waits until `duration` has passed.
///
/// Equivalent to `sleep_until(Instant::now() + duration)`, except that a
/// duration too large for the clock (such as [`Duration::MAX`]) gives a
/// deadline about thirty years out instead of panicking. The returned future
/// may be created outside a runtime; it must be polled inside one. Timers have
/// millisecond resolution and never complete before their deadline.
///
/// **Cancel safety:** dropping the future before it completes simply cancels
/// the timer; nothing is lost.
///
/// # Panics
///
/// Polling the returned [`Sleep`] outside a vigil runtime panics, unless its
/// deadline has already passed.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let rt = vigil::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     let start = vigil::time::Instant::now();
///     vigil::time::sleep(Duration::from_millis(10)).await;
///     assert!(start.elapsed() >= Duration::from_millis(10));
/// });
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    Sleep::new(Instant::now().saturating_add(duration))
}

/// Waits until `deadline` is reached.
///
/// A deadline that has already passed completes on the first poll, without
/// touching the timer driver. The returned future may be created outside a
/// runtime; it must be polled inside one.
///
/// **Cancel safety:** dropping the future before it completes simply cancels
/// the timer; nothing is lost.
///
/// # Panics
///
/// Polling the returned [`Sleep`] outside a vigil runtime panics, unless its
/// deadline has already passed.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use vigil::time::{sleep_until, Instant};
///
/// let rt = vigil::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     let deadline = Instant::now() + Duration::from_millis(10);
///     sleep_until(deadline).await;
///     assert!(Instant::now() >= deadline);
/// });
/// ```
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(deadline)
}

/// A future that completes once its deadline has passed.
///
/// Made by [`sleep`] and [`sleep_until`]. It is [`Unpin`], so it can be
/// polled as `&mut sleep` and moved between polls; [`reset`](Sleep::reset)
/// moves its deadline without creating a new timer.
///
/// # Behaviour at runtime shutdown
///
/// If the runtime a `Sleep` is registered with shuts down before the deadline,
/// the `Sleep` does not panic and does not complete early: polling it returns
/// `Pending` (or `Ready` once the clock passes the deadline), and if it is
/// polled inside another, live runtime it registers there instead.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Sleep {
    deadline: Instant,
    state: State,
}

enum State {
    /// Not registered; registers with the current runtime on the next poll.
    Idle,
    /// Registered with `driver`'s timer wheel.
    Armed {
        driver: Arc<driver::Handle>,
        key: TimerKey,
    },
    /// Completed.
    Done,
    /// The runtime it was registered with shut down before it fired. Like
    /// `Idle`, but polling outside a runtime returns `Pending` instead of
    /// panicking.
    Orphaned,
}

impl Sleep {
    fn new(deadline: Instant) -> Sleep {
        Sleep {
            deadline,
            state: State::Idle,
        }
    }

    /// The instant this sleep completes at.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the deadline has been reached: the sleep completed, its timer
    /// fired, or (if it is not registered with a timer yet) the clock has
    /// passed the deadline.
    pub fn is_elapsed(&self) -> bool {
        match &self.state {
            State::Done => true,
            State::Armed { driver, key } => driver.time.is_fired(key),
            State::Idle | State::Orphaned => self.deadline <= Instant::now(),
        }
    }

    /// Moves the deadline to `deadline`, whether or not the sleep has already
    /// completed; a completed sleep becomes pending again (if the new deadline
    /// is in the future).
    ///
    /// A registered sleep keeps its timer entry and the waker of its last
    /// poll, so a task waiting on it is woken at the new deadline. This is
    /// cheaper than dropping it and creating a new one.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use vigil::time::{sleep, Instant};
    ///
    /// let rt = vigil::runtime::Builder::new_current_thread().build().unwrap();
    /// rt.block_on(async {
    ///     let mut delay = Box::pin(sleep(Duration::from_secs(3600)));
    ///     delay.as_mut().reset(Instant::now() + Duration::from_millis(5));
    ///     delay.await;
    /// });
    /// ```
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        self.get_mut().reset_inner(deadline);
    }

    pub(crate) fn reset_inner(&mut self, deadline: Instant) {
        self.deadline = deadline;
        self.state = match std::mem::replace(&mut self.state, State::Idle) {
            State::Armed { driver, key } => {
                match driver.time.reset_timer(&key, deadline.into_std()) {
                    // When `Fired`, the entry stays until the next poll
                    // claims it.
                    TimerPoll::Pending | TimerPoll::Fired => State::Armed { driver, key },
                    TimerPoll::Shutdown => State::Orphaned,
                }
            }
            State::Done | State::Idle => State::Idle,
            State::Orphaned => State::Orphaned,
        };
    }

    fn poll_deadline(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            match &self.state {
                State::Done => return Poll::Ready(()),
                State::Armed { driver, key } => match driver.time.poll_timer(key, cx.waker()) {
                    TimerPoll::Pending => return Poll::Pending,
                    TimerPoll::Fired => {
                        // The entry is already freed: just forget the key.
                        self.state = State::Done;
                        return Poll::Ready(());
                    }
                    // Maybe the current runtime is a different, live one.
                    TimerPoll::Shutdown => self.state = State::Orphaned,
                },
                State::Idle | State::Orphaned => return self.register(cx),
            }
        }
    }

    /// First poll (or first poll after a reset / an orphaning).
    fn register(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.deadline <= Instant::now() {
            self.state = State::Done;
            return Poll::Ready(());
        }
        let driver = match self.state {
            State::Orphaned => match context::try_driver_handle() {
                Some(driver) => driver,
                None => return Poll::Pending,
            },
            _ => context::driver_handle(),
        };
        match driver.time.register(self.deadline.into_std(), cx.waker()) {
            Registration::Armed(key) => {
                self.state = State::Armed { driver, key };
                Poll::Pending
            }
            Registration::Expired => {
                self.state = State::Done;
                Poll::Ready(())
            }
            Registration::Shutdown => {
                self.state = State::Orphaned;
                Poll::Pending
            }
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.get_mut().poll_deadline(cx)
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let State::Armed { driver, key } = std::mem::replace(&mut self.state, State::Done) {
            driver.time.deregister(key);
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Idle => "idle",
            State::Armed { .. } => "registered",
            State::Done => "elapsed",
            State::Orphaned => "orphaned",
        };
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("state", &state)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    fn assert_unpin_send_sync<T: Unpin + Send + Sync>() {}

    #[test]
    fn traits() {
        assert_unpin_send_sync::<Sleep>();
    }

    #[test]
    fn past_deadline_completes_without_runtime() {
        let waker = futures_noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut s = sleep(Duration::ZERO);
        assert!(s.is_elapsed());
        assert_eq!(Pin::new(&mut s).poll(&mut cx), Poll::Ready(()));
        assert!(s.is_elapsed());
        let mut s = sleep_until(Instant::now() - Duration::from_millis(1));
        assert_eq!(Pin::new(&mut s).poll(&mut cx), Poll::Ready(()));
    }

    #[test]
    fn huge_duration_saturates() {
        let s = sleep(Duration::MAX);
        assert!(s.deadline() > Instant::now() + Duration::from_secs(86_400 * 365 * 10));
        assert!(!s.is_elapsed());
        // Resetting an idle sleep just moves the deadline.
        let mut s = s;
        let at = Instant::now();
        Pin::new(&mut s).reset(at);
        assert_eq!(s.deadline(), at);
    }

    /// A waker that does nothing (`Waker::noop` needs a newer toolchain).
    fn futures_noop_waker() -> Waker {
        struct Noop;
        impl std::task::Wake for Noop {
            fn wake(self: std::sync::Arc<Self>) {}
        }
        Waker::from(std::sync::Arc::new(Noop))
    }
}
