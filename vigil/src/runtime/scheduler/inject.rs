//! The injection queue: where tasks land when they are woken from outside a
//! worker (another runtime, a plain thread, the timer driver) or when a
//! worker's local queue overflows. A mutex-protected deque; the length is
//! mirrored in an atomic so workers can skip the lock when it is empty.

use crate::runtime::task::Notified;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

pub(crate) struct Inject<S: 'static> {
    inner: Mutex<Inner<S>>,
    len: AtomicUsize,
}

struct Inner<S: 'static> {
    queue: VecDeque<Notified<S>>,
    closed: bool,
}

impl<S: 'static> Inject<S> {
    pub(crate) fn new() -> Inject<S> {
        Inject {
            inner: Mutex::new(Inner {
                queue: VecDeque::new(),
                closed: false,
            }),
            len: AtomicUsize::new(0),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::SeqCst)
    }

    /// Queues a task; after `close` the task reference is simply dropped
    /// (shutdown has already cancelled every task).
    pub(crate) fn push(&self, task: Notified<S>) {
        let mut inner = self.inner.lock().unwrap();
        if inner.closed {
            drop(inner);
            drop(task);
            return;
        }
        inner.queue.push_back(task);
        self.len.store(inner.queue.len(), Ordering::SeqCst);
    }

    pub(crate) fn push_batch(&self, tasks: impl Iterator<Item = Notified<S>>) {
        let mut inner = self.inner.lock().unwrap();
        if inner.closed {
            drop(inner);
            tasks.for_each(drop);
            return;
        }
        inner.queue.extend(tasks);
        self.len.store(inner.queue.len(), Ordering::SeqCst);
    }

    pub(crate) fn pop(&self) -> Option<Notified<S>> {
        if self.is_empty() {
            return None;
        }
        let mut inner = self.inner.lock().unwrap();
        let task = inner.queue.pop_front();
        self.len.store(inner.queue.len(), Ordering::SeqCst);
        task
    }

    /// Pops up to `max` tasks at once, handing each to `f`.
    pub(crate) fn pop_n(&self, max: usize, mut f: impl FnMut(Notified<S>)) -> usize {
        if self.is_empty() {
            return 0;
        }
        let mut inner = self.inner.lock().unwrap();
        let n = max.min(inner.queue.len());
        for task in inner.queue.drain(..n) {
            f(task);
        }
        self.len.store(inner.queue.len(), Ordering::SeqCst);
        n
    }

    /// Refuses new tasks and drops the queued ones.
    pub(crate) fn close(&self) {
        let drained: Vec<_> = {
            let mut inner = self.inner.lock().unwrap();
            inner.closed = true;
            self.len.store(0, Ordering::SeqCst);
            inner.queue.drain(..).collect()
        };
        drop(drained);
    }
}
