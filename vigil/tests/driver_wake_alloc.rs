//! A wake from the driver makes no heap allocation.
//!
//! Once a workload has run once (so the run queues have grown to its size),
//! readiness that wakes tasks (an exclusive reader, and many tasks sharing
//! one descriptor through `readable()`) allocates nothing on the way from
//! `epoll_wait` to the woken tasks running: not in the dispatch, not in the
//! wake, not in the scheduling. Counted with a global allocator that counts
//! every allocation in the process while a round is in flight.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::os::unix::net::UnixStream as StdUnixStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use vigil::io::AsyncReadExt;
use vigil::net::UnixStream;
use vigil::runtime::{Builder, Runtime};

struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

/// Whether an allocation now counts: during a round, on any thread but the
/// test harness's main one (whose thread id is the process id), which may
/// be busy starting or reporting the other test.
fn counted() -> bool {
    // SAFETY: `gettid` and `getpid` have no preconditions.
    COUNTING.load(SeqCst) && unsafe { libc::gettid() != libc::getpid() }
}

// SAFETY: forwards every call to the system allocator unchanged; the
// counting touches only atomics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if counted() {
            ALLOCATIONS.fetch_add(1, SeqCst);
        }
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above; `ptr` came from `alloc`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if counted() {
            ALLOCATIONS.fetch_add(1, SeqCst);
        }
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Tasks sharing one descriptor through `readable()`: more than a wake
/// batch holds (so it is flushed with the lock released), and more than a
/// multi-thread worker's local queue holds (so it overflows into the
/// global queue).
const SHARED_WAITERS: usize = 300;

/// Rounds counted after the warm-up.
const COUNTED_ROUNDS: usize = 4;

/// Runs rounds in which `SHARED_WAITERS` tasks wait for one socket to
/// become readable and this task reads another socket, then the peers
/// write a byte each. The first rounds warm up: they run until every worker
/// has polled tasks of this workload (so each thread has been down every
/// path once), plus one more. Returns the allocations counted, from the
/// writes until every task of the round has run, in each later round.
fn allocations_per_round(rt: &Runtime) -> Vec<usize> {
    let handle = rt.handle().clone();
    rt.block_on(async move {
        let (shared, mut shared_peer) = StdUnixStream::pair().unwrap();
        let (exclusive, mut exclusive_peer) = StdUnixStream::pair().unwrap();
        let shared = Arc::new(UnixStream::from_std(shared).unwrap());
        let mut exclusive = UnixStream::from_std(exclusive).unwrap();
        let registered = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(AtomicUsize::new(0));
        let mut counts = Vec::with_capacity(COUNTED_ROUNDS);
        let mut warm_up_left = None;
        let mut buf = [0u8; 1];
        for round in 0.. {
            if warm_up_left.is_none()
                && (round >= 20 || handle.metrics().workers().iter().all(|w| w.polls() > 0))
            {
                warm_up_left = Some(1);
            }
            let counting = warm_up_left == Some(0);
            registered.store(0, SeqCst);
            done.store(0, SeqCst);
            for _ in 0..SHARED_WAITERS {
                let (shared, registered, done) = (shared.clone(), registered.clone(), done.clone());
                drop(vigil::spawn(async move {
                    registered.fetch_add(1, SeqCst);
                    shared.readable().await.unwrap();
                    done.fetch_add(1, SeqCst);
                }));
            }
            while registered.load(SeqCst) < SHARED_WAITERS {
                vigil::task::yield_now().await;
            }
            // Let the last ones reach `readable()` (and register) too.
            for _ in 0..4 {
                vigil::task::yield_now().await;
            }
            ALLOCATIONS.store(0, SeqCst);
            COUNTING.store(counting, SeqCst);
            shared_peer.write_all(b"s").unwrap();
            exclusive_peer.write_all(b"e").unwrap();
            // The exclusive reader is this task: woken through the
            // registration's reader slot.
            exclusive.read_exact(&mut buf).await.unwrap();
            while done.load(SeqCst) < SHARED_WAITERS {
                vigil::task::yield_now().await;
            }
            COUNTING.store(false, SeqCst);
            if counting {
                counts.push(ALLOCATIONS.load(SeqCst));
                if counts.len() == COUNTED_ROUNDS {
                    break;
                }
            } else if let Some(left) = &mut warm_up_left {
                *left -= 1;
            }
            // Drain the shared socket until `WouldBlock`, which clears the
            // cached readiness, so the next round's waiters really wait.
            let mut drain = [0u8; 8];
            assert_eq!(shared.try_read(&mut drain).unwrap(), 1);
            let err = shared.try_read(&mut drain).unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
        }
        counts
    })
}

fn check(mut builder: Builder) -> Vec<usize> {
    // The watchdog stays on, except for its monitor thread (blocked-poll
    // detection), whose start-up allocations could land in any round.
    let watchdog = vigil::watchdog::Config::new().detect_blocked_polls(false);
    let rt = builder.watchdog(watchdog).build().unwrap();
    allocations_per_round(&rt)
}

/// One test for both schedulers: the counter is process-wide, so no other
/// test thread of this binary may start or print while a round is counted.
#[test]
fn driver_wakes_do_not_allocate() {
    let current_thread = check(Builder::new_current_thread());
    let mut multi_thread = Builder::new_multi_thread();
    multi_thread.worker_threads(2);
    let multi_thread = check(multi_thread);
    assert!(
        current_thread.iter().all(|&n| n == 0) && multi_thread.iter().all(|&n| n == 0),
        "allocations per round after the warm-up: current-thread {current_thread:?}, \
         multi-thread {multi_thread:?}"
    );
}
