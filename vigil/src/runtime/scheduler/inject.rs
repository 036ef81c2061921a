//! The injection queue: where tasks land when they are woken from outside a
//! worker (another runtime, a plain thread, the timer driver) or when a
//! worker's local queue overflows.
//!
//! It is an intrusive list: each task header has a `queue_next` link, and
//! the queue holds the first and last task under a mutex. So pushing never
//! allocates (a wake from any thread, and an overflow of half a local
//! queue, cost a few pointer writes), a batch is linked up before the lock
//! is taken and spliced in in one step, and the lock is never held across
//! a reallocation. A notified task is in at most one queue, so one link per
//! task is enough; only the holder of this queue's lock touches the links
//! of the tasks in it. The length is mirrored in an atomic so workers can
//! skip the lock when the queue is empty.

use crate::loom::sync::Mutex;
use crate::runtime::task::{Header, Notified, RawTask};
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The most tasks a worker moves from the injection queue at its periodic
/// check (every `global_queue_interval` ticks) while it still has local
/// work. One task per check starves a long injection queue: with 1000 busy
/// connections the overflowed ones waited tens of milliseconds. A whole
/// share moves the injected tasks into the local queue so fast that every
/// task waits about the mean (echo at 1000 connections: p99 0.55x Tokio's
/// but p50 2.6x). Eight keeps the median at Tokio's and the p99 at ~0.85x
/// of it (measured with 4, 8, 16 and 128; BENCHMARKS.md). A worker with an
/// empty local queue still takes a full share.
pub(crate) const CHECK_BATCH: usize = 8;

pub(crate) struct Inject<S: 'static> {
    inner: Mutex<Inner>,
    len: AtomicUsize,
    _tasks: PhantomData<Notified<S>>,
}

/// A chain of tasks linked through their `queue_next`; each link is a task
/// reference (a `Notified`) that the chain owns.
struct Chain {
    head: Option<NonNull<Header>>,
    tail: Option<NonNull<Header>>,
    len: usize,
}

struct Inner {
    queue: Chain,
    closed: bool,
}

// SAFETY: the chain's pointers are task references, which may move between
// threads (`Notified` is `Send`); they are only followed under the lock.
unsafe impl Send for Inner {}

/// Sets the link of `task`, which the caller owns or reaches under the
/// queue's lock.
fn set_next(task: NonNull<Header>, next: Option<NonNull<Header>>) {
    // SAFETY: the task is alive: the caller or the chain holds a reference.
    let header = unsafe { task.as_ref() };
    // SAFETY: a task's link is touched only by whoever owns the task outside
    // a queue, or holds the lock of the queue it is in: the caller.
    header.queue_next.with_mut(|p| unsafe { *p = next });
}

/// The link of `task` (same conditions as [`set_next`]).
fn next_of(task: NonNull<Header>) -> Option<NonNull<Header>> {
    // SAFETY: as in `set_next`.
    let header = unsafe { task.as_ref() };
    // SAFETY: as in `set_next`: nobody else touches the link now.
    header.queue_next.with(|p| unsafe { *p })
}

impl Chain {
    const fn new() -> Chain {
        Chain {
            head: None,
            tail: None,
            len: 0,
        }
    }

    fn push<S: 'static>(&mut self, task: Notified<S>) {
        let ptr = task.into_raw().header_ptr();
        set_next(ptr, None);
        match self.tail {
            Some(tail) => set_next(tail, Some(ptr)),
            None => self.head = Some(ptr),
        }
        self.tail = Some(ptr);
        self.len += 1;
    }

    fn append(&mut self, other: Chain) {
        let (Some(head), Some(tail)) = (other.head, other.tail) else {
            return;
        };
        match self.tail {
            Some(last) => set_next(last, Some(head)),
            None => self.head = Some(head),
        }
        self.tail = Some(tail);
        self.len += other.len;
    }

    fn pop<S: 'static>(&mut self) -> Option<Notified<S>> {
        let head = self.head?;
        self.head = next_of(head);
        if self.head.is_none() {
            self.tail = None;
        }
        self.len -= 1;
        // SAFETY: every link of the chain is a `Notified` reference it owns
        // (made by `push`), handed out exactly once here.
        Some(unsafe { Notified::from_raw(RawTask::from_raw(head)) })
    }

    fn take(&mut self) -> Chain {
        std::mem::replace(self, Chain::new())
    }

    /// Drops every task reference in the chain.
    fn drop_all<S: 'static>(mut self) {
        while self.pop::<S>().is_some() {}
    }
}

impl<S: 'static> Inject<S> {
    pub(crate) fn new() -> Inject<S> {
        Inject {
            inner: Mutex::new(Inner {
                queue: Chain::new(),
                closed: false,
            }),
            len: AtomicUsize::new(0),
            _tasks: PhantomData,
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
        inner.queue.push(task);
        self.len.store(inner.queue.len, Ordering::SeqCst);
    }

    /// Queues `tasks` in order, linked up before the lock is taken.
    pub(crate) fn push_batch(&self, tasks: impl Iterator<Item = Notified<S>>) {
        let mut batch = Chain::new();
        tasks.for_each(|task| batch.push(task));
        let mut inner = self.inner.lock().unwrap();
        if inner.closed {
            drop(inner);
            batch.drop_all::<S>();
            return;
        }
        inner.queue.append(batch);
        self.len.store(inner.queue.len, Ordering::SeqCst);
    }

    pub(crate) fn pop(&self) -> Option<Notified<S>> {
        if self.is_empty() {
            return None;
        }
        let mut inner = self.inner.lock().unwrap();
        let task = inner.queue.pop();
        self.len.store(inner.queue.len, Ordering::SeqCst);
        task
    }

    /// Pops up to `max` tasks at once, handing each to `f`.
    pub(crate) fn pop_n(&self, max: usize, mut f: impl FnMut(Notified<S>)) -> usize {
        if self.is_empty() {
            return 0;
        }
        let mut inner = self.inner.lock().unwrap();
        let n = max.min(inner.queue.len);
        for _ in 0..n {
            f(inner.queue.pop().expect("the chain holds `len` tasks"));
        }
        self.len.store(inner.queue.len, Ordering::SeqCst);
        n
    }

    /// Refuses new tasks and drops the queued ones.
    pub(crate) fn close(&self) {
        let queued = {
            let mut inner = self.inner.lock().unwrap();
            inner.closed = true;
            self.len.store(0, Ordering::SeqCst);
            inner.queue.take()
        };
        queued.drop_all::<S>();
    }
}

impl<S: 'static> Drop for Inject<S> {
    fn drop(&mut self) {
        let queued = self.inner.lock().map(|mut i| i.queue.take());
        if let Ok(queued) = queued {
            queued.drop_all::<S>();
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::Inject;
    use crate::runtime::task::{new_task, Notified, RawTask, Schedule, TaskMeta};
    use crate::runtime::watch::Watchdog;
    use std::panic::Location;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::sync::{Arc, Mutex};

    /// A scheduler for tasks that only ever sit in the queue under test.
    struct Unscheduled {
        freed: Arc<AtomicUsize>,
    }

    impl Drop for Unscheduled {
        fn drop(&mut self) {
            self.freed.fetch_add(1, SeqCst);
        }
    }

    impl Schedule for Unscheduled {
        fn schedule(&self, _task: Notified<Self>) {
            panic!("a queue-test task was woken");
        }

        fn release(&self, _task: RawTask) -> bool {
            false
        }

        fn watchdog(&self) -> &Watchdog {
            Watchdog::off()
        }
    }

    struct Tasks {
        ran: Arc<Mutex<Vec<usize>>>,
        freed: Arc<AtomicUsize>,
    }

    impl Tasks {
        fn new() -> Tasks {
            Tasks {
                ran: Arc::default(),
                freed: Arc::default(),
            }
        }

        /// Task `i`, which logs `i` when it runs; detached, so it is freed
        /// when its queue reference goes.
        fn task(&self, i: usize) -> Notified<Unscheduled> {
            let ran = self.ran.clone();
            let sched = Unscheduled {
                freed: self.freed.clone(),
            };
            let meta = TaskMeta::new(Default::default(), Location::caller());
            let (owned, notified, join) =
                new_task(async move { ran.lock().unwrap().push(i) }, sched, meta);
            drop(owned);
            drop(join);
            notified
        }

        fn run(task: Notified<Unscheduled>) {
            task.into_raw().poll();
        }

        fn ran(&self) -> Vec<usize> {
            self.ran.lock().unwrap().clone()
        }
    }

    #[test]
    fn tasks_come_out_in_the_order_they_went_in() {
        let tasks = Tasks::new();
        let inject = Inject::new();
        inject.push(tasks.task(0));
        inject.push_batch((1..5).map(|i| tasks.task(i)));
        inject.push_batch(std::iter::empty());
        inject.push(tasks.task(5));
        assert_eq!(inject.len(), 6);
        assert_eq!(inject.pop_n(3, Tasks::run), 3);
        assert_eq!(inject.len(), 3);
        while let Some(task) = inject.pop() {
            Tasks::run(task);
        }
        assert!(inject.is_empty());
        assert_eq!(tasks.ran(), [0, 1, 2, 3, 4, 5]);
        // The queue is reusable once empty.
        inject.push_batch((6..8).map(|i| tasks.task(i)));
        assert_eq!(inject.pop_n(10, Tasks::run), 2);
        assert_eq!(tasks.ran(), [0, 1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(tasks.freed.load(SeqCst), 8);
    }

    #[test]
    fn close_frees_the_queued_tasks_and_refuses_new_ones() {
        let tasks = Tasks::new();
        let inject = Inject::new();
        inject.push_batch((0..3).map(|i| tasks.task(i)));
        inject.close();
        assert_eq!(tasks.freed.load(SeqCst), 3);
        assert!(inject.is_empty());
        inject.push(tasks.task(3));
        inject.push_batch((4..6).map(|i| tasks.task(i)));
        assert_eq!(tasks.freed.load(SeqCst), 6);
        assert!(inject.pop().is_none());
        assert!(tasks.ran().is_empty());
    }

    #[test]
    fn dropping_the_queue_frees_its_tasks() {
        let tasks = Tasks::new();
        let inject = Inject::new();
        inject.push_batch((0..4).map(|i| tasks.task(i)));
        drop(inject);
        assert_eq!(tasks.freed.load(SeqCst), 4);
    }
}
