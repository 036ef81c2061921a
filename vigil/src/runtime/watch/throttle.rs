//! [`Policy::Throttle`](super::Policy::Throttle): a spinning task waits for
//! the next timer tick instead of going straight back to a run queue.
//!
//! Throttled tasks are collected in one list per runtime, released together
//! by a single timer one tick (1 ms) ahead. A task therefore runs at most
//! once per tick and only after a driver turn, behind everything that was
//! ready, and a task that spins forever costs a thousand short polls a
//! second instead of a core. The list holds each task's queue reference (its
//! `NOTIFIED` bit stays set), so releasing it is a plain schedule.

use crate::driver;
use crate::driver::time::{Registration, TimerKey};
use crate::runtime::task::RawTask;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Wake, Waker};
use std::time::{Duration, Instant};

pub(crate) struct Throttle {
    /// `None` for the watchdog of tasks outside a runtime (never throttled).
    driver: Option<Arc<driver::Handle>>,
    inner: Arc<Mutex<Inner>>,
}

struct Inner {
    tasks: Vec<RawTask>,
    timer: Option<TimerKey>,
    closed: bool,
}

/// The timer's waker: releases the list.
struct Release {
    driver: Weak<driver::Handle>,
    inner: Weak<Mutex<Inner>>,
}

impl Throttle {
    pub(crate) fn new(driver: Option<Arc<driver::Handle>>) -> Throttle {
        Throttle {
            driver,
            inner: Arc::new(Mutex::new(Inner {
                tasks: Vec::new(),
                timer: None,
                closed: false,
            })),
        }
    }

    /// Takes over a task's queue reference until the next tick.
    pub(crate) fn defer(&self, task: RawTask) {
        let Some(driver) = &self.driver else {
            return task.schedule();
        };
        let mut inner = self.inner.lock().unwrap();
        if inner.closed {
            drop(inner);
            task.drop_reference();
            return;
        }
        inner.tasks.push(task);
        if inner.timer.is_some() {
            return;
        }
        let waker = Waker::from(Arc::new(Release {
            driver: Arc::downgrade(driver),
            inner: Arc::downgrade(&self.inner),
        }));
        let deadline = Instant::now() + Duration::from_millis(1);
        match driver.time.register(deadline, &waker) {
            Registration::Armed(key) => inner.timer = Some(key),
            Registration::Expired => {
                drop(inner);
                waker.wake();
            }
            Registration::Shutdown => {
                let tasks = std::mem::take(&mut inner.tasks);
                drop(inner);
                tasks.into_iter().for_each(RawTask::drop_reference);
            }
        }
    }

    /// Runtime shutdown: drops the queue references.
    pub(crate) fn shutdown(&self) {
        let tasks = {
            let mut inner = self.inner.lock().unwrap();
            inner.closed = true;
            std::mem::take(&mut inner.tasks)
        };
        tasks.into_iter().for_each(RawTask::drop_reference);
    }
}

impl Wake for Release {
    fn wake(self: Arc<Self>) {
        let (Some(driver), Some(inner)) = (self.driver.upgrade(), self.inner.upgrade()) else {
            return;
        };
        let (tasks, timer) = {
            let mut inner = inner.lock().unwrap();
            (std::mem::take(&mut inner.tasks), inner.timer.take())
        };
        if let Some(key) = timer {
            driver.time.deregister(key);
        }
        // Each entry is a queue reference: scheduling hands it over.
        tasks.into_iter().for_each(RawTask::schedule);
    }
}
