//! One import point for the synchronisation primitives the lock-free and
//! task-state code uses.
//!
//! Under `RUSTFLAGS="--cfg loom"` every atomic, cell, mutex and thread used by
//! the task state machine and the run queues comes from [`loom`], which
//! explores all interleavings the C11 memory model allows. In a normal build
//! they are the `std` types, with a thin wrapper around `UnsafeCell` so both
//! builds share one closure-based access API.

#[cfg(loom)]
pub(crate) use loom::{cell, sync, thread};

// Under loom every model thread runs on one OS thread, so a `std`
// thread-local would be shared by all of them (a task "current" on one model
// thread would look current on the others); loom's gives each model thread
// its own value. `runtime/context.rs` declares its thread-local through this.
#[cfg(not(loom))]
pub(crate) use std::thread_local;

/// `loom::thread_local!` (a 2018-edition macro) does not accept the
/// `const { .. }` initialiser form, so strip it: loom initialises lazily
/// anyway.
#[cfg(loom)]
macro_rules! loom_thread_local {
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = const { $($init:tt)* };) => {
        loom::thread_local!($(#[$attr])* $vis static $name: $t = { $($init)* });
    };
}
#[cfg(loom)]
pub(crate) use loom_thread_local as thread_local;

#[cfg(not(loom))]
pub(crate) mod sync {
    pub(crate) use std::sync::{atomic, Mutex, MutexGuard, RwLock, RwLockReadGuard};
}

#[cfg(not(loom))]
pub(crate) mod thread {
    pub(crate) use std::thread::yield_now;
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
