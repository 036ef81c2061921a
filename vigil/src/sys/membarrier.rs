//! Asymmetric memory barriers: a free barrier for a hot path, paid for by a
//! rare path through `membarrier(2)`.
//!
//! Two threads that each store a flag and then load the other's (Dekker's
//! pattern) need a full fence between the store and the load on *both*
//! sides, or each may read the other's old value. When one side runs on
//! every poll and the other once in a long while, `membarrier` moves the
//! whole cost to the rare side: [`heavy`] makes the kernel run a full
//! barrier on every CPU currently running a thread of this process, so the
//! frequent side needs only [`light`], a compiler fence that keeps its store
//! and load in program order and costs no instruction. A thread that is not
//! running when `heavy` is called has been switched out, which is itself a
//! full barrier.
//!
//! `MEMBARRIER_CMD_PRIVATE_EXPEDITED` (Linux 4.14) interrupts only the CPUs
//! running this process, and needs the process to register once first.
//! Where registering fails, `MEMBARRIER_CMD_GLOBAL` (Linux 4.3; it waits
//! for every CPU to pass a scheduling point, milliseconds rather than
//! microseconds) gives the same guarantee. Where neither exists (a seccomp
//! filter, an emulator that does not pass the call through), [`heavy`]
//! reports `false` and the caller must give up on whatever needed the
//! barrier.
//!
//! Under loom both halves are `fence(SeqCst)`, which the model checker
//! understands and which gives the same guarantee.

#[cfg(not(loom))]
use std::sync::OnceLock;

#[cfg(not(loom))]
const MEMBARRIER_CMD_QUERY: libc::c_int = 0;
#[cfg(not(loom))]
const MEMBARRIER_CMD_GLOBAL: libc::c_int = 1;
#[cfg(not(loom))]
const MEMBARRIER_CMD_PRIVATE_EXPEDITED: libc::c_int = 1 << 3;
#[cfg(not(loom))]
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_int = 1 << 4;

/// The frequent side's barrier: orders this thread's earlier stores before
/// its later loads *as seen by a thread that calls [`heavy`]*.
#[inline(always)]
pub(crate) fn light() {
    #[cfg(not(loom))]
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
    #[cfg(loom)]
    loom::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
}

/// The rare side's barrier: acts as a full fence on this thread and on every
/// other thread of the process. Returns `false` (having done nothing) if
/// the kernel does not offer it; the first call registers the process.
pub(crate) fn heavy() -> bool {
    #[cfg(not(loom))]
    {
        match command() {
            Some(cmd) => membarrier(cmd) == 0,
            None => false,
        }
    }
    #[cfg(loom)]
    {
        loom::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
        true
    }
}

/// The command to use, chosen (and registered for) once: the expedited
/// private barrier if the process can register for it, else the global one
/// if the kernel offers it, else none.
#[cfg(not(loom))]
fn command() -> Option<libc::c_int> {
    static COMMAND: OnceLock<Option<libc::c_int>> = OnceLock::new();
    *COMMAND.get_or_init(|| {
        if membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0 {
            return Some(MEMBARRIER_CMD_PRIVATE_EXPEDITED);
        }
        let supported = membarrier(MEMBARRIER_CMD_QUERY);
        (supported > 0 && supported & MEMBARRIER_CMD_GLOBAL as libc::c_long != 0)
            .then_some(MEMBARRIER_CMD_GLOBAL)
    })
}

#[cfg(not(loom))]
fn membarrier(cmd: libc::c_int) -> libc::c_long {
    // SAFETY: `membarrier` takes two integers and touches no memory of ours.
    unsafe { libc::syscall(libc::SYS_membarrier, cmd, 0 as libc::c_int) }
}

#[cfg(all(test, not(loom)))]
mod tests {
    #[test]
    fn heavy_barrier_is_available_and_repeatable() {
        // The kernels vigil supports have it; under an emulator that lacks
        // it the call must still return (false), never fail otherwise.
        let first = super::heavy();
        assert_eq!(super::heavy(), first);
        super::light();
        // The fallback works where the kernel lists it.
        let supported = super::membarrier(super::MEMBARRIER_CMD_QUERY);
        if supported > 0 && supported & super::MEMBARRIER_CMD_GLOBAL as libc::c_long != 0 {
            assert_eq!(super::membarrier(super::MEMBARRIER_CMD_GLOBAL), 0);
        }
    }
}
