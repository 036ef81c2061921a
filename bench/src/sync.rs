//! Runtime-neutral synchronisation used by the suites.
//!
//! Everything here is built on `std::sync::Mutex` and `Waker` only, so the
//! exact same code runs on every runtime: when a suite needs to say "all
//! tasks are done" or to move a message between tasks, the cost of doing so
//! is identical everywhere and the measurement isolates the executor.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// A one-shot, one-waiter notification: `set` once, `wait` completes after.
#[derive(Default)]
pub struct Signal {
    state: Mutex<SignalState>,
}

#[derive(Default)]
struct SignalState {
    set: bool,
    waker: Option<Waker>,
}

impl Signal {
    /// A new, unset signal.
    pub fn new() -> Arc<Signal> {
        Arc::new(Signal::default())
    }

    /// Sets the signal and wakes the waiter, if any.
    pub fn set(&self) {
        let waker = {
            let mut st = self.state.lock().unwrap();
            st.set = true;
            st.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Completes once [`Signal::set`] has been called.
    pub fn wait(&self) -> SignalWait<'_> {
        SignalWait { signal: self }
    }
}

/// Future returned by [`Signal::wait`].
pub struct SignalWait<'a> {
    signal: &'a Signal,
}

impl Future for SignalWait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut st = self.signal.state.lock().unwrap();
        if st.set {
            Poll::Ready(())
        } else {
            match &mut st.waker {
                Some(w) if w.will_wake(cx.waker()) => {}
                slot => *slot = Some(cx.waker().clone()),
            }
            Poll::Pending
        }
    }
}

/// Counts down from `n`; whoever brings it to zero sets a [`Signal`].
pub struct Countdown {
    left: AtomicUsize,
    done: Arc<Signal>,
}

impl Countdown {
    /// A countdown of `n` (which must be positive) and the signal it sets.
    pub fn new(n: usize) -> (Arc<Countdown>, Arc<Signal>) {
        assert!(n > 0, "countdown of zero would never fire");
        let done = Signal::new();
        let cd = Arc::new(Countdown {
            left: AtomicUsize::new(n),
            done: done.clone(),
        });
        (cd, done)
    }

    /// Counts one; the last call sets the signal.
    pub fn count(&self) {
        if self.left.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.done.set();
        }
    }
}

/// A minimal unbounded channel (one receiver): a `Mutex<VecDeque>` plus the
/// receiver's `Waker`.
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Mutex::new(Chan {
        queue: VecDeque::new(),
        rx_waker: None,
    }));
    (Sender(shared.clone()), Receiver(shared))
}

struct Chan<T> {
    queue: VecDeque<T>,
    rx_waker: Option<Waker>,
}

/// Sending half of [`channel`].
pub struct Sender<T>(Arc<Mutex<Chan<T>>>);

/// Receiving half of [`channel`].
pub struct Receiver<T>(Arc<Mutex<Chan<T>>>);

impl<T> Sender<T> {
    /// Queues `value` and wakes the receiver.
    pub fn send(&self, value: T) {
        let waker = {
            let mut ch = self.0.lock().unwrap();
            ch.queue.push_back(value);
            ch.rx_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Receiver<T> {
    /// The next value. (No close handling: the suites never need it.)
    pub fn recv(&mut self) -> Recv<'_, T> {
        Recv { rx: self }
    }
}

/// Future returned by [`Receiver::recv`].
pub struct Recv<'a, T> {
    rx: &'a mut Receiver<T>,
}

impl<T> Future for Recv<'_, T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut ch = self.rx.0.lock().unwrap();
        match ch.queue.pop_front() {
            Some(v) => Poll::Ready(v),
            None => {
                match &mut ch.rx_waker {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    slot => *slot = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
        }
    }
}
