//! Callbacks the user gives the [`Builder`](super::Builder) for the life of
//! the runtime's threads: started, stopping, going idle, waking up.
//!
//! They exist so an application can set up per-thread state (a
//! thread-local allocator arena, a tracing span, CPU affinity) on every
//! thread that runs its code, and count idle time, without owning the
//! threads. Start and stop hooks run on every thread the runtime starts:
//! workers, blocking-pool threads, and the threads that take a worker's
//! place during `block_in_place` or after the watchdog found a worker
//! blocked. They do not run on a thread that merely calls `block_on`, which
//! the application started itself. Park and unpark hooks run on whichever
//! thread drives the scheduler and goes idle: a multi-thread worker, or the
//! thread inside a current-thread runtime's `block_on`.
//!
//! The stop hook runs from a guard, so it also runs when the thread
//! unwinds. Hooks must be cheap (park and unpark run on every idle
//! period) and must not panic.

use std::fmt;
use std::sync::Arc;

/// One user callback.
pub(crate) type Hook = Arc<dyn Fn() + Send + Sync>;

/// The four optional callbacks, shared by all of a runtime's threads.
#[derive(Clone, Default)]
pub(crate) struct ThreadHooks {
    pub(crate) start: Option<Hook>,
    pub(crate) stop: Option<Hook>,
    pub(crate) park: Option<Hook>,
    pub(crate) unpark: Option<Hook>,
}

/// Runs the stop hook when the thread's work ends, normally or not.
struct StopGuard(Option<Hook>);

impl Drop for StopGuard {
    fn drop(&mut self) {
        if let Some(stop) = &self.0 {
            stop();
        }
    }
}

impl ThreadHooks {
    /// Starts a runtime thread from `builder` running `f`, bracketed by the
    /// start and stop hooks.
    pub(crate) fn spawn<F>(
        &self,
        builder: std::thread::Builder,
        f: F,
    ) -> std::io::Result<std::thread::JoinHandle<()>>
    where
        F: FnOnce() + Send + 'static,
    {
        let hooks = self.clone();
        builder.spawn(move || {
            hooks.started();
            let _stop = StopGuard(hooks.stop.clone());
            f();
        })
    }

    /// A runtime thread has started (for threads started without
    /// [`spawn`](Self::spawn)).
    pub(crate) fn started(&self) {
        if let Some(start) = &self.start {
            start();
        }
    }

    /// A runtime thread is about to end (for threads started without
    /// [`spawn`](Self::spawn)).
    pub(crate) fn stopping(&self) {
        if let Some(stop) = &self.stop {
            stop();
        }
    }

    /// The thread is about to go idle.
    #[inline]
    pub(crate) fn before_park(&self) {
        if let Some(park) = &self.park {
            park();
        }
    }

    /// The thread woke up from idling.
    #[inline]
    pub(crate) fn after_unpark(&self) {
        if let Some(unpark) = &self.unpark {
            unpark();
        }
    }
}

impl fmt::Debug for ThreadHooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadHooks")
            .field("start", &self.start.is_some())
            .field("stop", &self.stop.is_some())
            .field("park", &self.park.is_some())
            .field("unpark", &self.unpark.is_some())
            .finish()
    }
}
