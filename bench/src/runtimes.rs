//! One abstraction over every runtime the harness compares.
//!
//! A suite is written once, generically over [`Runtime`], and monomorphised
//! for each runtime, so the code a task runs is byte-for-byte the same
//! everywhere and only the executor underneath differs. Spawning goes
//! through a [`Spawner`]: a cheap, cloneable, `Send` handle that tasks carry
//! with them to spawn more tasks (the equivalent of `tokio::spawn`, which
//! smol has no ambient version of).
//!
//! | name         | what it is                                                   |
//! |--------------|--------------------------------------------------------------|
//! | `vigil-mt`   | `vigil::runtime::Builder::new_multi_thread()`, `W` workers    |
//! | `vigil-ct`   | `vigil::runtime::Builder::new_current_thread()`              |
//! | `tokio-mt`   | `tokio::runtime::Builder::new_multi_thread()`, `W` workers    |
//! | `tokio-ct`   | `tokio::runtime::Builder::new_current_thread()`              |
//! | `smol-mt`    | an `async_executor::Executor` run by `W` threads              |
//! | `smol-local` | an `async_executor::LocalExecutor` run by `block_on`         |
//!
//! In every multi-thread runtime `block_on` runs on the calling thread, which
//! is not one of the `W` workers; in every current-thread runtime `block_on`
//! is what drives the tasks.
//!
//! For the I/O suites every runtime also names its TCP types and a minimal
//! API over them (bind/accept/connect/read/write_all/shutdown, plus the
//! runtime's own `copy` into a sink and `copy_bidirectional`): `tokio::net`,
//! `vigil::net`, and `async_io::Async<std::net::TcpStream>` for smol. Every
//! stream has `TCP_NODELAY` set, and every listener is bound to
//! `127.0.0.1:0` with a backlog of [`BACKLOG`].

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

/// The runtimes, in the order they are run and printed.
pub const ALL: [&str; 6] = [
    "vigil-mt",
    "vigil-ct",
    "tokio-mt",
    "tokio-ct",
    "smol-mt",
    "smol-local",
];

/// vigil with its watchdog turned off, selectable with `--runtimes` (not
/// run by default): `bench/watchdog_cost.sh` runs them next to `vigil-mt`
/// and `vigil-ct` in the same invocation, so their rounds interleave.
pub const WATCHDOG_OFF: [&str; 2] = ["vigil-mt-nowd", "vigil-ct-nowd"];

/// Set in a child process measuring a `-nowd` variant.
static NO_WATCHDOG: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether `name` is a runtime this harness knows.
pub fn is_known(name: &str) -> bool {
    ALL.contains(&name) || WATCHDOG_OFF.contains(&name)
}

/// The runtime a variant runs on: `vigil-mt-nowd` is `vigil-mt` with the
/// watchdog off (which this call switches off for the process).
pub fn select_variant(name: &str) -> &str {
    match name.strip_suffix("-nowd") {
        Some(base) => {
            NO_WATCHDOG.store(true, std::sync::atomic::Ordering::Relaxed);
            base
        }
        None => name,
    }
}

/// The baseline every result is compared with.
pub const BASELINE_MT: &str = "tokio-mt";
/// The second baseline, for single-threaded runtimes.
pub const BASELINE_CT: &str = "tokio-ct";

/// Not a runtime: plain threads and blocking `std::io` (`std::fs` in `fs`),
/// the physical limit the `bulk` and `fs` suites compare with.
pub const LIMIT: &str = "std-blocking";

/// Whether `name` is a single-threaded runtime (gets a ratio vs `tokio-ct`).
pub fn is_current_thread(name: &str) -> bool {
    matches!(
        name,
        "vigil-ct" | "vigil-ct-nowd" | "tokio-ct" | "smol-local"
    )
}

/// Spawns tasks onto one runtime; carried inside tasks.
pub trait Spawner: Clone + Send + Sync + 'static {
    /// Awaits a spawned task's output.
    type Join<T: Send + 'static>: Future<Output = T> + Send + 'static;

    /// Spawns `fut`; the returned handle yields its output.
    fn spawn<F>(&self, fut: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Spawns `fut` and lets it run to completion unobserved.
    fn spawn_detached<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static;
}

/// A runtime under test.
pub trait Runtime: Sized + 'static {
    /// Its spawner.
    type Spawner: Spawner;
    /// The name used on the command line and in the results.
    const NAME: &'static str;
    /// Whether tasks can be spawned from a thread outside the runtime.
    const REMOTE_SPAWN: bool;

    /// Builds the runtime; `workers` is ignored by single-threaded ones.
    fn build(workers: usize) -> Self;
    /// A spawner usable inside tasks (and, if [`Self::REMOTE_SPAWN`], from
    /// any thread).
    fn spawner(&self) -> Self::Spawner;
    /// Runs `fut` to completion on the calling thread.
    fn block_on<F: Future>(&self, fut: F) -> F::Output;
    /// The runtime's own `yield_now`.
    fn yield_now() -> impl Future<Output = ()> + Send;
    /// The runtime's own timer, completing at `deadline`.
    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> + Send;

    /// A listening TCP socket of this runtime.
    type Listener: Send + Sync + 'static;
    /// A connected TCP stream of this runtime.
    type Stream: Send + 'static;

    /// Binds a listener to `127.0.0.1:0`. Call it from inside the runtime
    /// (in a task): vigil and Tokio register it with the current reactor.
    fn bind() -> io::Result<(Self::Listener, SocketAddr)>;
    /// Accepts one connection (with `TCP_NODELAY` set).
    fn accept(l: &Self::Listener) -> impl Future<Output = io::Result<Self::Stream>> + Send + '_;
    /// Connects to `addr` (with `TCP_NODELAY` set).
    fn connect(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Stream>> + Send;
    /// Reads into `buf`; `Ok(0)` at end of stream.
    fn read<'a>(
        s: &'a mut Self::Stream,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + Send + 'a;
    /// Writes all of `buf`.
    fn write_all<'a>(
        s: &'a mut Self::Stream,
        buf: &'a [u8],
    ) -> impl Future<Output = io::Result<()>> + Send + 'a;
    /// Shuts the write half down (the peer reads end of stream).
    fn shutdown(s: &mut Self::Stream) -> impl Future<Output = io::Result<()>> + Send + '_;
    /// The runtime's own `copy` from `s` into its own sink; bytes copied.
    fn copy_to_sink(s: &mut Self::Stream) -> impl Future<Output = io::Result<u64>> + Send + '_;
    /// The runtime's own `copy_bidirectional` (smol has none: two
    /// `futures_lite::io::copy`s over shared references, each followed by a
    /// write shutdown, joined with `try_zip`).
    fn copy_bidirectional<'a>(
        a: &'a mut Self::Stream,
        b: &'a mut Self::Stream,
    ) -> impl Future<Output = io::Result<(u64, u64)>> + Send + 'a;

    /// Runs `make(spawner)` as a spawned task (not as the `block_on` future
    /// itself), so that everything it spawns is spawned from inside a task.
    fn run_in_task<F, Fut>(&self, make: F) -> Fut::Output
    where
        F: FnOnce(Self::Spawner) -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        let spawner = self.spawner();
        let join = spawner.spawn(make(spawner.clone()));
        self.block_on(join)
    }
}

/// The listen backlog of every benchmark listener (`std` uses 128, too few
/// for 1000 clients connecting at once).
pub const BACKLOG: i32 = 1024;

/// A nonblocking `std` listener on `127.0.0.1:0` with a [`BACKLOG`] backlog.
pub fn std_listener() -> io::Result<(std::net::TcpListener, SocketAddr)> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    // Calling listen() again on a listening socket only changes its backlog.
    use std::os::fd::AsRawFd;
    // SAFETY: a valid socket descriptor owned by `listener`.
    if unsafe { libc::listen(listener.as_raw_fd(), BACKLOG) } != 0 {
        return Err(io::Error::last_os_error());
    }
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}

/// Turns a `JoinHandle` whose output is `Result<T, E>` into one yielding `T`,
/// panicking if the task panicked (a benchmark task never should).
pub struct Unwrap<J>(J);

impl<J, T, E> Future for Unwrap<J>
where
    J: Future<Output = Result<T, E>> + Unpin,
    E: std::fmt::Debug,
{
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|r| r.expect("benchmark task failed"))
    }
}

// ------------------------------------------------------ vigil and tokio

/// Per-crate builder settings the harness applies.
trait BenchTweak {
    fn tweak(&mut self);
}

impl BenchTweak for vigil::runtime::Builder {
    /// The `-nowd` variants (or `VIGIL_BENCH_WATCHDOG=off`) build vigil
    /// without its watchdog, to measure what the watchdog costs.
    fn tweak(&mut self) {
        let off = NO_WATCHDOG.load(std::sync::atomic::Ordering::Relaxed)
            || std::env::var_os("VIGIL_BENCH_WATCHDOG").is_some_and(|v| v == "off");
        if off {
            self.watchdog(vigil::watchdog::Config::disabled());
        }
    }
}

impl BenchTweak for tokio::runtime::Builder {
    fn tweak(&mut self) {}
}

/// vigil and Tokio share one API shape (vigil keeps Tokio's names on
/// purpose), so one macro defines the spawner and both runtime flavours of
/// each: the adapters are the same code with only the crate name changed.
macro_rules! tokio_shaped {
    ($krate:ident, $spawner:ident, $mt:ident = $mt_name:literal, $ct:ident = $ct_name:literal) => {
        /// A runtime handle, carried by tasks to spawn more tasks.
        #[derive(Clone)]
        pub struct $spawner($krate::runtime::Handle);

        impl Spawner for $spawner {
            type Join<T: Send + 'static> = Unwrap<$krate::task::JoinHandle<T>>;

            fn spawn<F>(&self, fut: F) -> Self::Join<F::Output>
            where
                F: Future + Send + 'static,
                F::Output: Send + 'static,
            {
                Unwrap(self.0.spawn(fut))
            }

            fn spawn_detached<F>(&self, fut: F)
            where
                F: Future<Output = ()> + Send + 'static,
            {
                drop(self.0.spawn(fut));
            }
        }

        tokio_shaped!(@runtime $krate, $spawner, $mt = $mt_name, new_multi_thread, true);
        tokio_shaped!(@runtime $krate, $spawner, $ct = $ct_name, new_current_thread, false);
    };
    (@runtime $krate:ident, $spawner:ident, $rt:ident = $name:literal, $ctor:ident, $multi:literal) => {
        #[doc = concat!("The `", $name, "` runtime.")]
        pub struct $rt($krate::runtime::Runtime);

        impl Runtime for $rt {
            type Spawner = $spawner;
            const NAME: &'static str = $name;
            const REMOTE_SPAWN: bool = true;

            fn build(workers: usize) -> Self {
                let mut builder = $krate::runtime::Builder::$ctor();
                if $multi {
                    builder.worker_threads(workers);
                }
                BenchTweak::tweak(&mut builder);
                $rt(builder.enable_all().build().expect(concat!("build ", $name)))
            }

            fn spawner(&self) -> $spawner {
                $spawner(self.0.handle().clone())
            }

            fn block_on<F: Future>(&self, fut: F) -> F::Output {
                self.0.block_on(fut)
            }

            fn yield_now() -> impl Future<Output = ()> + Send {
                $krate::task::yield_now()
            }

            fn sleep_until(deadline: Instant) -> impl Future<Output = ()> + Send {
                $krate::time::sleep_until($krate::time::Instant::from_std(deadline))
            }

            type Listener = $krate::net::TcpListener;
            type Stream = $krate::net::TcpStream;

            fn bind() -> io::Result<(Self::Listener, SocketAddr)> {
                let (listener, addr) = std_listener()?;
                Ok(($krate::net::TcpListener::from_std(listener)?, addr))
            }

            fn accept(
                l: &Self::Listener,
            ) -> impl Future<Output = io::Result<Self::Stream>> + Send + '_ {
                async move {
                    let (s, _) = l.accept().await?;
                    s.set_nodelay(true)?;
                    Ok(s)
                }
            }

            fn connect(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Stream>> + Send {
                async move {
                    let s = $krate::net::TcpStream::connect(addr).await?;
                    s.set_nodelay(true)?;
                    Ok(s)
                }
            }

            fn read<'a>(
                s: &'a mut Self::Stream,
                buf: &'a mut [u8],
            ) -> impl Future<Output = io::Result<usize>> + Send + 'a {
                $krate::io::AsyncReadExt::read(s, buf)
            }

            fn write_all<'a>(
                s: &'a mut Self::Stream,
                buf: &'a [u8],
            ) -> impl Future<Output = io::Result<()>> + Send + 'a {
                $krate::io::AsyncWriteExt::write_all(s, buf)
            }

            fn shutdown(s: &mut Self::Stream) -> impl Future<Output = io::Result<()>> + Send + '_ {
                $krate::io::AsyncWriteExt::shutdown(s)
            }

            fn copy_to_sink(
                s: &mut Self::Stream,
            ) -> impl Future<Output = io::Result<u64>> + Send + '_ {
                async move { $krate::io::copy(s, &mut $krate::io::sink()).await }
            }

            fn copy_bidirectional<'a>(
                a: &'a mut Self::Stream,
                b: &'a mut Self::Stream,
            ) -> impl Future<Output = io::Result<(u64, u64)>> + Send + 'a {
                $krate::io::copy_bidirectional(a, b)
            }
        }
    };
}

tokio_shaped!(
    vigil,
    VigilSpawner,
    VigilMt = "vigil-mt",
    VigilCt = "vigil-ct"
);
tokio_shaped!(
    tokio,
    TokioSpawner,
    TokioMt = "tokio-mt",
    TokioCt = "tokio-ct"
);

// ---------------------------------------------------------------- smol

async fn smol_sleep_until(deadline: Instant) {
    async_io::Timer::at(deadline).await;
}

type SmolStream = async_io::Async<std::net::TcpStream>;

fn smol_bind() -> io::Result<(async_io::Async<std::net::TcpListener>, SocketAddr)> {
    let (listener, addr) = std_listener()?;
    Ok((async_io::Async::new(listener)?, addr))
}

async fn smol_accept(l: &async_io::Async<std::net::TcpListener>) -> io::Result<SmolStream> {
    let (s, _) = l.accept().await?;
    s.get_ref().set_nodelay(true)?;
    Ok(s)
}

async fn smol_connect(addr: SocketAddr) -> io::Result<SmolStream> {
    let s = async_io::Async::<std::net::TcpStream>::connect(addr).await?;
    s.get_ref().set_nodelay(true)?;
    Ok(s)
}

async fn smol_copy_one_way(r: &SmolStream, w: &SmolStream) -> io::Result<u64> {
    let n = futures_lite::io::copy(r, &mut &*w).await?;
    w.get_ref().shutdown(std::net::Shutdown::Write)?;
    Ok(n)
}

async fn smol_copy_bidirectional(a: &mut SmolStream, b: &mut SmolStream) -> io::Result<(u64, u64)> {
    let (a, b) = (&*a, &*b);
    futures_lite::future::try_zip(smol_copy_one_way(a, b), smol_copy_one_way(b, a)).await
}

/// A shared `async_executor::Executor`.
#[derive(Clone)]
pub struct SmolSpawner(Arc<async_executor::Executor<'static>>);

impl Spawner for SmolSpawner {
    type Join<T: Send + 'static> = async_executor::Task<T>;

    fn spawn<F>(&self, fut: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.0.spawn(fut)
    }

    fn spawn_detached<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.0.spawn(fut).detach();
    }
}

/// `async_executor::Executor` run by `W` threads, each in
/// `async_io::block_on(executor.run(..))` (smol's recommended setup).
pub struct SmolMt {
    executor: Arc<async_executor::Executor<'static>>,
    stop: Option<smol::channel::Sender<()>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Runtime for SmolMt {
    type Spawner = SmolSpawner;
    const NAME: &'static str = "smol-mt";
    const REMOTE_SPAWN: bool = true;

    fn build(workers: usize) -> Self {
        let executor = Arc::new(async_executor::Executor::new());
        let (stop, stopped) = smol::channel::bounded::<()>(1);
        let threads = (0..workers)
            .map(|i| {
                let executor = executor.clone();
                let stopped = stopped.clone();
                std::thread::Builder::new()
                    .name(format!("smol-worker-{i}"))
                    .spawn(move || {
                        let _ = async_io::block_on(executor.run(stopped.recv()));
                    })
                    .expect("spawn smol worker")
            })
            .collect();
        SmolMt {
            executor,
            stop: Some(stop),
            threads,
        }
    }

    fn spawner(&self) -> SmolSpawner {
        SmolSpawner(self.executor.clone())
    }

    fn block_on<F: Future>(&self, fut: F) -> F::Output {
        async_io::block_on(fut)
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        futures_lite::future::yield_now()
    }

    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> + Send {
        smol_sleep_until(deadline)
    }

    type Listener = async_io::Async<std::net::TcpListener>;
    type Stream = async_io::Async<std::net::TcpStream>;

    fn bind() -> io::Result<(Self::Listener, SocketAddr)> {
        smol_bind()
    }

    fn accept(l: &Self::Listener) -> impl Future<Output = io::Result<Self::Stream>> + Send + '_ {
        smol_accept(l)
    }

    fn connect(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Stream>> + Send {
        smol_connect(addr)
    }

    fn read<'a>(
        s: &'a mut Self::Stream,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + Send + 'a {
        futures_lite::AsyncReadExt::read(s, buf)
    }

    fn write_all<'a>(
        s: &'a mut Self::Stream,
        buf: &'a [u8],
    ) -> impl Future<Output = io::Result<()>> + Send + 'a {
        futures_lite::AsyncWriteExt::write_all(s, buf)
    }

    fn shutdown(s: &mut Self::Stream) -> impl Future<Output = io::Result<()>> + Send + '_ {
        // async-io's `close` only flushes: shut down explicitly.
        std::future::ready(s.get_ref().shutdown(std::net::Shutdown::Write))
    }

    fn copy_to_sink(s: &mut Self::Stream) -> impl Future<Output = io::Result<u64>> + Send + '_ {
        futures_lite::io::copy(s, futures_lite::io::sink())
    }

    fn copy_bidirectional<'a>(
        a: &'a mut Self::Stream,
        b: &'a mut Self::Stream,
    ) -> impl Future<Output = io::Result<(u64, u64)>> + Send + 'a {
        smol_copy_bidirectional(a, b)
    }
}

impl Drop for SmolMt {
    fn drop(&mut self) {
        // Closing the channel ends every worker's `run`.
        drop(self.stop.take());
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

thread_local! {
    static LOCAL: async_executor::LocalExecutor<'static> =
        const { async_executor::LocalExecutor::new() };
}

/// Spawns onto the calling thread's `LocalExecutor`. Only meaningful on the
/// thread that runs [`SmolLocal::block_on`], which is the only thread a
/// `smol-local` task ever runs on.
#[derive(Clone)]
pub struct SmolLocalSpawner;

impl Spawner for SmolLocalSpawner {
    type Join<T: Send + 'static> = async_executor::Task<T>;

    fn spawn<F>(&self, fut: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        LOCAL.with(|ex| ex.spawn(fut))
    }

    fn spawn_detached<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        LOCAL.with(|ex| ex.spawn(fut).detach());
    }
}

/// A thread-local `async_executor::LocalExecutor`, driven by
/// `async_io::block_on(executor.run(..))` on the calling thread.
pub struct SmolLocal;

impl Runtime for SmolLocal {
    type Spawner = SmolLocalSpawner;
    const NAME: &'static str = "smol-local";
    const REMOTE_SPAWN: bool = false;

    fn build(_workers: usize) -> Self {
        SmolLocal
    }

    fn spawner(&self) -> SmolLocalSpawner {
        SmolLocalSpawner
    }

    fn block_on<F: Future>(&self, fut: F) -> F::Output {
        LOCAL.with(|ex| async_io::block_on(ex.run(fut)))
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        futures_lite::future::yield_now()
    }

    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> + Send {
        smol_sleep_until(deadline)
    }

    type Listener = async_io::Async<std::net::TcpListener>;
    type Stream = async_io::Async<std::net::TcpStream>;

    fn bind() -> io::Result<(Self::Listener, SocketAddr)> {
        smol_bind()
    }

    fn accept(l: &Self::Listener) -> impl Future<Output = io::Result<Self::Stream>> + Send + '_ {
        smol_accept(l)
    }

    fn connect(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Stream>> + Send {
        smol_connect(addr)
    }

    fn read<'a>(
        s: &'a mut Self::Stream,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + Send + 'a {
        futures_lite::AsyncReadExt::read(s, buf)
    }

    fn write_all<'a>(
        s: &'a mut Self::Stream,
        buf: &'a [u8],
    ) -> impl Future<Output = io::Result<()>> + Send + 'a {
        futures_lite::AsyncWriteExt::write_all(s, buf)
    }

    fn shutdown(s: &mut Self::Stream) -> impl Future<Output = io::Result<()>> + Send + '_ {
        // async-io's `close` only flushes: shut down explicitly.
        std::future::ready(s.get_ref().shutdown(std::net::Shutdown::Write))
    }

    fn copy_to_sink(s: &mut Self::Stream) -> impl Future<Output = io::Result<u64>> + Send + '_ {
        futures_lite::io::copy(s, futures_lite::io::sink())
    }

    fn copy_bidirectional<'a>(
        a: &'a mut Self::Stream,
        b: &'a mut Self::Stream,
    ) -> impl Future<Output = io::Result<(u64, u64)>> + Send + 'a {
        smol_copy_bidirectional(a, b)
    }
}
