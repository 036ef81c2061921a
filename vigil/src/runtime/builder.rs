use super::blocking::BlockingPool;
use super::config::Config;
use super::hooks::{Hook, ThreadHooks};
use super::scheduler::{current_thread, multi_thread};
use super::watch::{self, Watchdog};
use super::{Handle, Runtime, RuntimeKind};
use crate::driver::Driver;
use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

type ThreadNameFn = Arc<dyn Fn() -> String + Send + Sync>;

/// Configures and builds a [`Runtime`].
///
/// ```
/// let rt = vigil::runtime::Builder::new_multi_thread()
///     .worker_threads(2)
///     .thread_name("my-worker")
///     .enable_all()
///     .build()
///     .unwrap();
/// assert_eq!(rt.block_on(async { 40 + 2 }), 42);
/// ```
pub struct Builder {
    kind: Kind,
    worker_threads: Option<usize>,
    thread_name: ThreadNameFn,
    thread_stack_size: Option<usize>,
    max_blocking_threads: usize,
    keep_alive: Duration,
    event_interval: u32,
    global_queue_interval: Option<u32>,
    watchdog: watch::Config,
    on_watchdog: Option<watch::Callback>,
    io_uring: bool,
    page_cache_first: bool,
    start_paused: bool,
    events_per_tick: usize,
    hooks: ThreadHooks,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    CurrentThread,
    MultiThread,
}

impl Builder {
    /// A runtime whose tasks all run on the thread that calls
    /// [`Runtime::block_on`]. It can run `!Send` futures with
    /// [`spawn_local`](crate::task::spawn_local).
    pub fn new_current_thread() -> Builder {
        Builder::new(Kind::CurrentThread)
    }

    /// A work-stealing runtime with one worker thread per CPU core by
    /// default.
    pub fn new_multi_thread() -> Builder {
        Builder::new(Kind::MultiThread)
    }

    fn new(kind: Kind) -> Builder {
        Builder {
            kind,
            worker_threads: None,
            thread_name: Arc::new(|| "vigil-worker".to_string()),
            thread_stack_size: None,
            max_blocking_threads: 512,
            keep_alive: Duration::from_secs(10),
            event_interval: 61,
            global_queue_interval: None,
            watchdog: watch::Config::new(),
            on_watchdog: None,
            io_uring: true,
            page_cache_first: true,
            start_paused: false,
            events_per_tick: crate::driver::io::DEFAULT_EVENTS_PER_TURN,
            hooks: ThreadHooks::default(),
        }
    }

    /// Enables every driver. vigil's drivers are always on, so this is a
    /// no-op kept for code coming from Tokio.
    pub fn enable_all(&mut self) -> &mut Self {
        self
    }

    /// Enables the timer driver (always on; a no-op for Tokio compatibility).
    pub fn enable_time(&mut self) -> &mut Self {
        self
    }

    /// Enables the I/O driver (always on; a no-op for Tokio compatibility).
    pub fn enable_io(&mut self) -> &mut Self {
        self
    }

    /// Number of worker threads of a multi-thread runtime (default: the
    /// number of CPU cores). Ignored by the current-thread runtime.
    ///
    /// # Panics
    /// If `n` is zero.
    #[track_caller]
    pub fn worker_threads(&mut self, n: usize) -> &mut Self {
        assert!(n > 0, "a runtime needs at least one worker thread");
        self.worker_threads = Some(n);
        self
    }

    /// Name of the runtime's worker and blocking threads.
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Self {
        let name = name.into();
        self.thread_name = Arc::new(move || name.clone());
        self
    }

    /// A function producing the name of each new runtime thread.
    pub fn thread_name_fn<F>(&mut self, f: F) -> &mut Self
    where
        F: Fn() -> String + Send + Sync + 'static,
    {
        self.thread_name = Arc::new(f);
        self
    }

    /// Stack size of the runtime's threads.
    pub fn thread_stack_size(&mut self, size: usize) -> &mut Self {
        self.thread_stack_size = Some(size);
        self
    }

    /// Upper bound on threads started for
    /// [`spawn_blocking`](crate::task::spawn_blocking) (default 512). Beyond
    /// it, blocking work waits in a queue.
    ///
    /// # Panics
    /// If `n` is zero.
    #[track_caller]
    pub fn max_blocking_threads(&mut self, n: usize) -> &mut Self {
        assert!(n > 0, "the blocking pool needs at least one thread");
        self.max_blocking_threads = n;
        self
    }

    /// How long an idle blocking thread waits for work before it exits
    /// (default 10 s).
    pub fn thread_keep_alive(&mut self, duration: Duration) -> &mut Self {
        self.keep_alive = duration;
        self
    }

    /// Tasks run between two non-blocking checks of timers (default 61).
    ///
    /// # Panics
    /// If `n` is zero.
    #[track_caller]
    pub fn event_interval(&mut self, n: u32) -> &mut Self {
        assert!(n > 0, "event_interval must be positive");
        self.event_interval = n;
        self
    }

    /// Every `n` scheduler ticks the global queue is checked before the
    /// local one, so tasks woken from outside are never starved. Each check
    /// takes up to eight tasks (on the multi-thread runtime, no more than
    /// the worker's share of the global queue and the room in its local
    /// queue), so a long global queue drains in a few checks; the ones not
    /// run at once queue behind the local tasks.
    ///
    /// # Panics
    /// If `n` is zero.
    #[track_caller]
    pub fn global_queue_interval(&mut self, n: u32) -> &mut Self {
        assert!(n > 0, "global_queue_interval must be positive");
        self.global_queue_interval = Some(n);
        self
    }

    /// At most `n` ready I/O events are taken from the kernel per driver
    /// turn (default 1024, as in Tokio). Events beyond it stay queued in
    /// the kernel, in the order they became ready, for the next turn. A
    /// smaller number spreads a burst of ready connections more fairly
    /// over time (a shorter latency tail under heavy fan-in) at some cost
    /// in throughput; see BENCHMARKS.md, "Fair I/O harvest".
    ///
    /// # Panics
    /// If `n` is zero.
    #[track_caller]
    pub fn max_io_events_per_tick(&mut self, n: usize) -> &mut Self {
        assert!(n > 0, "max_io_events_per_tick must be positive");
        self.events_per_tick = n;
        self
    }

    /// Calls `f` on every thread the runtime starts (worker threads,
    /// blocking-pool threads, and threads that take a worker's place),
    /// before it runs anything else. Not called on a thread that only
    /// enters the runtime through `block_on`.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    ///
    /// let started = Arc::new(AtomicUsize::new(0));
    /// let count = started.clone();
    /// let rt = vigil::runtime::Builder::new_multi_thread()
    ///     .worker_threads(2)
    ///     .on_thread_start(move || {
    ///         count.fetch_add(1, Ordering::SeqCst);
    ///     })
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {
    ///     vigil::task::spawn_blocking(|| ()).await.unwrap();
    /// });
    /// drop(rt); // joins the workers
    /// // Two workers and (at least) one blocking thread.
    /// assert!(started.load(Ordering::SeqCst) >= 3);
    /// ```
    pub fn on_thread_start<F>(&mut self, f: F) -> &mut Self
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.hooks.start = Some(Arc::new(f) as Hook);
        self
    }

    /// Calls `f` on every thread the runtime started, when it is about to
    /// exit (also if it unwinds).
    pub fn on_thread_stop<F>(&mut self, f: F) -> &mut Self
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.hooks.stop = Some(Arc::new(f) as Hook);
        self
    }

    /// Calls `f` each time a thread driving the scheduler runs out of work
    /// and is about to sleep (a multi-thread worker, or the thread inside a
    /// current-thread runtime's `block_on`). Keep it cheap: it runs on every
    /// idle period.
    pub fn on_thread_park<F>(&mut self, f: F) -> &mut Self
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.hooks.park = Some(Arc::new(f) as Hook);
        self
    }

    /// Calls `f` each time such a thread wakes up from sleeping, before it
    /// runs tasks again; pairs with
    /// [`on_thread_park`](Self::on_thread_park).
    pub fn on_thread_unpark<F>(&mut self, f: F) -> &mut Self
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.hooks.unpark = Some(Arc::new(f) as Hook);
        self
    }

    /// Configures the [watchdog](crate::watchdog) (on by default, with
    /// [`Policy::Warn`](crate::watchdog::Policy::Warn));
    /// [`Config::disabled`](crate::watchdog::Config::disabled) turns it off.
    pub fn watchdog(&mut self, config: watch::Config) -> &mut Self {
        self.watchdog = config;
        self
    }

    /// Calls `f` with every [watchdog report](crate::watchdog::Report), on
    /// the thread that made it (a worker, or the watchdog's monitor thread),
    /// in addition to the `tracing` warning. Keep it short; a panic in it is
    /// caught and ignored.
    ///
    /// ```
    /// let rt = vigil::runtime::Builder::new_current_thread()
    ///     .on_watchdog(|report| eprintln!("{report}"))
    ///     .build()
    ///     .unwrap();
    /// # drop(rt);
    /// ```
    pub fn on_watchdog<F>(&mut self, f: F) -> &mut Self
    where
        F: Fn(&watch::Report) + Send + Sync + 'static,
    {
        self.on_watchdog = Some(Arc::new(f));
        self
    }

    /// Whether [`vigil::fs`](crate::fs) may use io_uring (default `true`).
    ///
    /// With io_uring, file operations are submitted to the kernel from the
    /// task itself and complete through the reactor; the ring is created on
    /// the first file operation. With `false`, or where the kernel refuses
    /// io_uring (an old kernel, a seccomp filter, or the
    /// `kernel.io_uring_disabled` sysctl), every file operation runs on the
    /// blocking pool instead, as in Tokio. The API and its behaviour are the
    /// same either way.
    ///
    /// ```
    /// let rt = vigil::runtime::Builder::new_current_thread()
    ///     .io_uring(false)
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {
    ///     let len = vigil::fs::metadata("Cargo.toml").await.unwrap().len();
    ///     assert!(len > 0);
    /// });
    /// ```
    pub fn io_uring(&mut self, enabled: bool) -> &mut Self {
        self.io_uring = enabled;
        self
    }

    /// Whether [`vigil::fs`](crate::fs) reads first try to copy the data
    /// straight from the page cache (default `true`).
    ///
    /// Such a read is a `preadv2` with `RWF_NOWAIT`: the kernel copies what
    /// it has cached and returns at once, or reports that it would have to
    /// wait for the disk, and only then does the read go to io_uring (or
    /// the blocking pool). It never blocks the thread, and for cached data
    /// it costs one system call and one copy, as a blocking read does,
    /// instead of a round trip through the ring and a copy out of the
    /// file's own buffer. Turn it off to send every read through the ring.
    pub fn read_page_cache_first(&mut self, enabled: bool) -> &mut Self {
        self.page_cache_first = enabled;
        self
    }

    /// Starts the runtime with its clock paused, as if
    /// [`time::pause`](crate::time::pause) were its first call (default
    /// `false`; only with the `test-util` feature). Current-thread runtimes
    /// only: [`build`](Self::build) refuses a multi-thread one.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = vigil::runtime::Builder::new_current_thread()
    ///     .start_paused(true)
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {
    ///     let start = std::time::Instant::now();
    ///     vigil::time::sleep(Duration::from_secs(3600)).await;
    ///     // An hour passed on the runtime's clock, not on the wall's.
    ///     assert!(start.elapsed() < Duration::from_secs(60));
    /// });
    /// ```
    #[cfg(feature = "test-util")]
    pub fn start_paused(&mut self, start_paused: bool) -> &mut Self {
        self.start_paused = start_paused;
        self
    }

    /// Builds the runtime. Fails if the OS refuses a resource (a thread),
    /// or if a multi-thread runtime was asked to start paused.
    pub fn build(&mut self) -> io::Result<Runtime> {
        if self.start_paused && self.kind == Kind::MultiThread {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a paused clock needs a current-thread runtime: \
                 `start_paused` was set on a multi-thread builder",
            ));
        }
        let blocking_name = self.thread_name.clone();
        let blocking_pool = BlockingPool::new(
            blocking_name,
            self.thread_stack_size,
            self.max_blocking_threads,
            self.keep_alive,
            self.hooks.clone(),
        );
        let (driver, driver_handle) = Driver::new(crate::driver::Options {
            io_uring: self.io_uring,
            page_cache_first: self.page_cache_first,
            start_paused: self.start_paused,
            events_per_tick: self.events_per_tick,
        })?;
        let config = Config {
            event_interval: self.event_interval,
            global_queue_interval: self.global_queue_interval.unwrap_or(match self.kind {
                Kind::CurrentThread => 31,
                Kind::MultiThread => 61,
            }),
            hooks: self.hooks.clone(),
        };
        let watchdog = Watchdog::new(
            self.watchdog.clone(),
            self.on_watchdog.clone(),
            driver_handle.clone(),
        );
        let monitor_name = format!("{}-watchdog", (self.thread_name)());
        let spawner = blocking_pool.spawner().clone();
        let (handle, kind) = match self.kind {
            Kind::CurrentThread => {
                let handle =
                    current_thread::Handle::new(driver, driver_handle, spawner, config, watchdog);
                handle.start_monitor(monitor_name);
                (
                    super::scheduler::Handle::CurrentThread(handle),
                    RuntimeKind::CurrentThread,
                )
            }
            Kind::MultiThread => {
                let workers = self.worker_threads.unwrap_or_else(default_worker_threads);
                let (handle, cores) = multi_thread::Handle::new(
                    workers,
                    driver,
                    driver_handle,
                    spawner,
                    config,
                    watchdog,
                );
                handle.start_monitor(monitor_name);
                let threads = multi_thread::launch(&handle, cores)?;
                (
                    super::scheduler::Handle::MultiThread(handle),
                    RuntimeKind::MultiThread(threads),
                )
            }
        };
        blocking_pool
            .spawner()
            .set_runtime_handle(handle.downgrade());
        Ok(Runtime::from_parts(
            Handle { inner: handle },
            kind,
            blocking_pool,
        ))
    }
}

fn default_worker_threads() -> usize {
    if let Some(n) = std::env::var("VIGIL_WORKER_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n > 0)
    {
        return n;
    }
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("kind", &self.kind)
            .field("worker_threads", &self.worker_threads)
            .field("max_blocking_threads", &self.max_blocking_threads)
            .field("watchdog", &self.watchdog)
            .field("io_uring", &self.io_uring)
            .field("page_cache_first", &self.page_cache_first)
            .field("start_paused", &self.start_paused)
            .field("max_io_events_per_tick", &self.events_per_tick)
            .field("hooks", &self.hooks)
            .finish_non_exhaustive()
    }
}
