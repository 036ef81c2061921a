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
//! Where it is missing (an older kernel, a seccomp filter, an emulator that
//! does not pass it through), [`heavy`] reports `false` and the caller must
//! give up on whatever needed the barrier.
//!
//! Under loom both halves are `fence(SeqCst)`, which the model checker
//! understands and which gives the same guarantee.

#[cfg(not(loom))]
use std::sync::OnceLock;

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
        if !registered() {
            return false;
        }
        // SAFETY: `membarrier` takes two integers and touches no memory of
        // ours.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_membarrier,
                MEMBARRIER_CMD_PRIVATE_EXPEDITED,
                0 as libc::c_int,
            )
        };
        ret == 0
    }
    #[cfg(loom)]
    {
        loom::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
        true
    }
}

/// Registers the process for expedited barriers, once.
#[cfg(not(loom))]
fn registered() -> bool {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    *REGISTERED.get_or_init(|| {
        // SAFETY: as in `heavy`: two integers, no memory.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_membarrier,
                MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
                0 as libc::c_int,
            )
        };
        ret == 0
    })
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
    }
}
