//! Helpers shared by the `watchdog_*` integration tests: runtimes that
//! collect their watchdog reports, an async wait for a report, a tiny async
//! channel, misbehaving futures, and a bound on every test.
// Each test crate uses a different subset.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};
use vigil::runtime::{Builder, Runtime};
use vigil::watchdog::{Config, Report, ReportKind};

/// Which scheduler a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    CurrentThread,
    /// The multi-thread runtime with this many workers.
    MultiThread(usize),
}

/// Both flavours, the multi-thread one with two workers (the machine's
/// core count).
pub const BOTH: [Flavour; 2] = [Flavour::CurrentThread, Flavour::MultiThread(2)];

/// A report and when the callback received it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub at: Instant,
    pub report: Report,
}

#[derive(Default)]
struct State {
    seen: Vec<Seen>,
    wakers: Vec<Waker>,
}

/// Every report of one runtime, in the order the callback got them.
#[derive(Clone, Default)]
pub struct Reports {
    state: Arc<Mutex<State>>,
}

impl Reports {
    fn push(&self, report: &Report) {
        let wakers = {
            let mut state = self.state.lock().unwrap();
            state.seen.push(Seen {
                at: Instant::now(),
                report: report.clone(),
            });
            std::mem::take(&mut state.wakers)
        };
        wakers.into_iter().for_each(Waker::wake);
    }

    /// All reports so far.
    pub fn all(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    pub fn count(&self) -> usize {
        self.state.lock().unwrap().seen.len()
    }

    /// Reports of one kind so far.
    pub fn of_kind(&self, kind: ReportKind) -> Vec<Seen> {
        self.all()
            .into_iter()
            .filter(|s| s.report.kind() == kind)
            .collect()
    }

    /// Waits (asynchronously, inside a runtime) for the first report that
    /// matches `pred`, for at most `limit`.
    pub async fn wait_for(&self, limit: Duration, pred: impl Fn(&Report) -> bool) -> Option<Seen> {
        let find = poll_fn(|cx| {
            let mut state = self.state.lock().unwrap();
            if let Some(s) = state.seen.iter().find(|s| pred(&s.report)) {
                return Poll::Ready(s.clone());
            }
            state.wakers.push(cx.waker().clone());
            Poll::Pending
        });
        vigil::time::timeout(limit, find).await.ok()
    }

    /// Panics with every report if there is any.
    pub fn assert_none(&self, what: &str) {
        let all = self.all();
        assert!(
            all.is_empty(),
            "{what}: expected no watchdog report, got {}:\n{}",
            all.len(),
            all.iter()
                .map(|s| s.report.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

/// A runtime of `flavour` with the watchdog configured by `config`, and the
/// reports its callback receives.
pub fn runtime(flavour: Flavour, config: Config) -> (Runtime, Reports) {
    let reports = Reports::default();
    let sink = reports.clone();
    let rt = builder(flavour)
        .watchdog(config)
        .on_watchdog(move |report| sink.push(report))
        .build()
        .unwrap();
    (rt, reports)
}

/// A runtime builder of `flavour`.
pub fn builder(flavour: Flavour) -> Builder {
    match flavour {
        Flavour::CurrentThread => Builder::new_current_thread(),
        Flavour::MultiThread(n) => {
            let mut b = Builder::new_multi_thread();
            b.worker_threads(n);
            b
        }
    }
}

/// A watchdog made sensitive, so that a test expecting silence means
/// something: a spin is reported after 100 spurious polls over 100 ms
/// (instead of 1,000 over 250 ms).
pub fn sensitive() -> Config {
    Config::new()
        .spin_threshold(100)
        .spin_duration(Duration::from_millis(100))
}

/// `config` without blocked-poll detection, for the tests about other
/// diagnoses: these files run many tests in parallel on two cores, some of
/// them with spinning tasks, and a worker thread preempted for 100 ms by
/// its neighbours cannot be told from a blocked poll (`watchdog_blocked.rs`
/// tests that detection, one test at a time).
pub fn no_blocked(config: Config) -> Config {
    config.detect_blocked_polls(false)
}

/// Runs `f` on a thread of its own and fails if it takes longer than
/// `limit` (a hang fails the test instead of stalling the suite).
pub fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("test-body".into())
        .spawn(move || {
            let _ = tx.send(f());
        })
        .unwrap();
    match rx.recv_timeout(limit) {
        Ok(value) => {
            let _ = thread.join();
            value
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("did not finish within {limit:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => match thread.join() {
            Err(payload) => std::panic::resume_unwind(payload),
            Ok(()) => panic!("the test thread ended without a result"),
        },
    }
}

/// Tests in one file share the machine's two cores. The ones that assert a
/// latency bound take this exclusively; the others share it, so they never
/// load the cores while a latency is measured.
static CORES: RwLock<()> = RwLock::new(());

pub fn exclusive() -> RwLockWriteGuard<'static, ()> {
    CORES.write().unwrap_or_else(|e| e.into_inner())
}

pub fn shared() -> RwLockReadGuard<'static, ()> {
    CORES.read().unwrap_or_else(|e| e.into_inner())
}

/// An unbounded async channel (vigil has none of its own): the receiver
/// keeps its waker, as every well-behaved channel does.
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(Mutex::new(Chan {
        queue: VecDeque::new(),
        waker: None,
        senders: 1,
    }));
    (
        Sender {
            inner: inner.clone(),
        },
        Receiver { inner },
    )
}

struct Chan<T> {
    queue: VecDeque<T>,
    waker: Option<Waker>,
    senders: usize,
}

pub struct Sender<T> {
    inner: Arc<Mutex<Chan<T>>>,
}

pub struct Receiver<T> {
    inner: Arc<Mutex<Chan<T>>>,
}

impl<T> Sender<T> {
    pub fn send(&self, value: T) {
        let waker = {
            let mut chan = self.inner.lock().unwrap();
            chan.queue.push_back(value);
            chan.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.inner.lock().unwrap().senders += 1;
        Sender {
            inner: self.inner.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut chan = self.inner.lock().unwrap();
            chan.senders -= 1;
            if chan.senders == 0 {
                chan.waker.take()
            } else {
                None
            }
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Receiver<T> {
    /// `None` once every sender is gone and the queue is empty.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut chan = self.inner.lock().unwrap();
        if let Some(v) = chan.queue.pop_front() {
            return Poll::Ready(Some(v));
        }
        if chan.senders == 0 {
            return Poll::Ready(None);
        }
        chan.waker = Some(cx.waker().clone());
        Poll::Pending
    }

    pub async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }
}

/// The naive spinner: wakes itself and returns `Pending`, forever. Counts
/// its polls.
pub struct Spinner {
    pub polls: Arc<AtomicU64>,
}

impl Spinner {
    pub fn new() -> (Spinner, Arc<AtomicU64>) {
        let polls = Arc::new(AtomicU64::new(0));
        (
            Spinner {
                polls: polls.clone(),
            },
            polls,
        )
    }
}

impl Future for Spinner {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.polls.fetch_add(1, Ordering::Relaxed);
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// A future that returns `Pending` and keeps no waker: nothing can wake it.
pub struct Forgetful;

impl Future for Forgetful {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        Poll::Pending
    }
}

/// The `q`-quantile (0..=1) of `samples` (sorted in place).
pub fn quantile(samples: &mut [Duration], q: f64) -> Duration {
    assert!(!samples.is_empty(), "no samples");
    samples.sort_unstable();
    let rank = ((samples.len() as f64) * q).ceil() as usize;
    samples[rank.clamp(1, samples.len()) - 1]
}

/// A computation that yields the way other crates' `yield_now` do: each
/// poll works for `chunk` (arithmetic until the clock says so), then wakes
/// its own task and returns `Pending`, until `run` has passed. Nothing the
/// runtime can see explains the wakes; only the length of the polls does.
/// Returns its poll count.
pub fn work_then_wake(chunk: Duration, run: Duration) -> impl Future<Output = u64> {
    let start = Instant::now();
    let mut polls = 0u64;
    let mut x = 1u64;
    poll_fn(move |cx| {
        polls += 1;
        let poll_start = Instant::now();
        while poll_start.elapsed() < chunk {
            for i in 0..64u64 {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(i);
            }
            std::hint::black_box(x);
        }
        if start.elapsed() >= run {
            return Poll::Ready(polls);
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    })
}
