//! The two schedulers and the enum that lets the rest of the runtime treat
//! them alike.

pub(crate) mod current_thread;
pub(crate) mod inject;
pub(crate) mod multi_thread;

use crate::driver;
use crate::runtime::blocking;
use crate::runtime::metrics::WorkerMetrics;
use crate::runtime::task::{JoinHandle, OwnedTasks, TaskMeta};
use crate::runtime::watch::monitor::Supervised;
use crate::runtime::watch::Watchdog;
use std::future::Future;
use std::sync::Arc;
use std::sync::Weak;

/// A reference to either scheduler.
#[derive(Clone, Debug)]
pub(crate) enum Handle {
    CurrentThread(Arc<current_thread::Handle>),
    MultiThread(Arc<multi_thread::Handle>),
}

/// A handle that does not keep the runtime alive (held by its own threads).
#[derive(Clone)]
pub(crate) enum WeakHandle {
    CurrentThread(Weak<current_thread::Handle>),
    MultiThread(Weak<multi_thread::Handle>),
}

/// What the thread driving a scheduler keeps in its thread-local context.
pub(crate) enum Context {
    CurrentThread(current_thread::Context),
    MultiThread(multi_thread::Context),
}

impl Handle {
    #[track_caller]
    pub(crate) fn spawn<F>(&self, future: F, meta: TaskMeta) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self {
            Handle::CurrentThread(h) => h.spawn(future, meta),
            Handle::MultiThread(h) => h.spawn(future, meta),
        }
    }

    pub(crate) fn driver(&self) -> &Arc<driver::Handle> {
        match self {
            Handle::CurrentThread(h) => &h.driver,
            Handle::MultiThread(h) => &h.driver,
        }
    }

    pub(crate) fn blocking(&self) -> &blocking::Spawner {
        match self {
            Handle::CurrentThread(h) => &h.blocking,
            Handle::MultiThread(h) => &h.blocking,
        }
    }

    /// Whether both are handles of the same runtime.
    pub(crate) fn ptr_eq(&self, other: &Handle) -> bool {
        match (self, other) {
            (Handle::CurrentThread(a), Handle::CurrentThread(b)) => Arc::ptr_eq(a, b),
            (Handle::MultiThread(a), Handle::MultiThread(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    pub(crate) fn watchdog(&self) -> &Watchdog {
        match self {
            Handle::CurrentThread(h) => &h.watchdog,
            Handle::MultiThread(h) => &h.watchdog,
        }
    }

    pub(crate) fn for_each_owned(&self, f: &mut dyn FnMut(&OwnedTasks)) {
        match self {
            Handle::CurrentThread(h) => h.for_each_owned(f),
            Handle::MultiThread(h) => h.for_each_owned(f),
        }
    }

    pub(crate) fn worker_metrics(&self) -> Vec<WorkerMetrics> {
        match self {
            Handle::CurrentThread(h) => vec![h.worker_metrics()],
            Handle::MultiThread(h) => h.worker_metrics(),
        }
    }

    pub(crate) fn global_queue_depth(&self) -> usize {
        match self {
            Handle::CurrentThread(h) => h.global_queue_depth(),
            Handle::MultiThread(h) => h.global_queue_depth(),
        }
    }

    pub(crate) fn downgrade(&self) -> WeakHandle {
        match self {
            Handle::CurrentThread(h) => WeakHandle::CurrentThread(Arc::downgrade(h)),
            Handle::MultiThread(h) => WeakHandle::MultiThread(Arc::downgrade(h)),
        }
    }
}

impl WeakHandle {
    pub(crate) fn upgrade(&self) -> Option<Handle> {
        match self {
            WeakHandle::CurrentThread(h) => h.upgrade().map(Handle::CurrentThread),
            WeakHandle::MultiThread(h) => h.upgrade().map(Handle::MultiThread),
        }
    }
}
