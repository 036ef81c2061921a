//! One import point for the synchronisation primitives the lock-free and
//! task-state code uses.
//!
//! Under `RUSTFLAGS="--cfg loom"` every atomic, cell, mutex and thread used by
//! the task state machine and the run queues comes from [`loom`], which
//! explores all interleavings the C11 memory model allows. In a normal build
//! they are the `std` types, with a thin wrapper around `UnsafeCell` so both
//! builds share one closure-based access API.

#[cfg(loom)]
pub(crate) use loom::{cell, hint, sync, thread};

#[cfg(not(loom))]
pub(crate) mod sync {
    pub(crate) use std::sync::{atomic, Arc, Condvar, Mutex, MutexGuard};
}

#[cfg(not(loom))]
pub(crate) mod thread {
    pub(crate) use std::thread::{current, park, park_timeout, spawn, yield_now, Thread};
}

#[cfg(not(loom))]
pub(crate) mod hint {
    pub(crate) use std::hint::spin_loop;
}

#[cfg(not(loom))]
pub(crate) mod cell {
    /// `std::cell::UnsafeCell` with loom's closure-based API, so the same code
    /// compiles in both builds and loom can track every access.
    #[derive(Debug)]
    pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(value: T) -> Self {
            UnsafeCell(std::cell::UnsafeCell::new(value))
        }

        #[inline(always)]
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        #[inline(always)]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}
