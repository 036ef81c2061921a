//! `sync`: each runtime's own async synchronisation primitives under load.
//!
//! vigil's `vigil::sync` against Tokio's `tokio::sync` and, for smol, the
//! crates smol re-exports (`smol::lock` = async-lock, `smol::channel` =
//! async-channel; smol has no oneshot, so a bounded channel of one stands
//! in). The task code is the same for all; [`SyncKit`] maps it onto each
//! runtime's types.
//!
//! Cases (sizes in `--quick` mode in brackets):
//! - `mutex`: 100 tasks x 1000 (100) increments of one shared counter
//!   behind the async mutex: contended lock hand-off.
//! - `semaphore`: 100 tasks x 200 (20) acquires of a 4-permit semaphore,
//!   each holding its permit across a `yield_now`: the FIFO queue works.
//! - `mpsc`: 4 producers x 50 000 (5 000) values through a channel of
//!   capacity 128 to one consumer: throughput with back-pressure.
//! - `oneshot`: 10 clients x 2 000 (200) requests to one server task over
//!   a channel, each answered through its own oneshot: request/response.

use crate::measure::Sample;
use crate::runtimes::{Runtime, SmolLocal, SmolMt, Spawner, TokioCt, TokioMt, VigilCt, VigilMt};
use crate::suites::Params;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

/// A runtime's own mutex, semaphore, bounded channel and oneshot.
pub trait SyncKit: Runtime {
    /// A mutex around a `u64`.
    type Mutex: Send + Sync + 'static;
    /// A semaphore.
    type Semaphore: Send + Sync + 'static;
    /// A bounded channel's sending side.
    type Tx<T: Send + 'static>: Clone + Send + Sync + 'static;
    /// A bounded channel's receiving side.
    type Rx<T: Send + 'static>: Send + 'static;
    /// A oneshot's sending side.
    type OnceTx: Send + 'static;
    /// A oneshot's receiving side.
    type OnceRx: Send + 'static;

    /// A mutex holding 0.
    fn mutex() -> Self::Mutex;
    /// Locks and adds one.
    fn increment(m: &Self::Mutex) -> impl Future<Output = ()> + Send + '_;
    /// Locks and reads.
    fn value(m: &Self::Mutex) -> impl Future<Output = u64> + Send + '_;
    /// A semaphore with `permits` permits.
    fn semaphore(permits: usize) -> Self::Semaphore;
    /// Acquires one permit, holds it across a `yield_now`, releases it.
    fn hold_permit(s: &Self::Semaphore) -> impl Future<Output = ()> + Send + '_;
    /// A bounded channel.
    fn bounded<T: Send + 'static>(cap: usize) -> (Self::Tx<T>, Self::Rx<T>);
    /// Sends, waiting for room.
    fn send<T: Send + 'static>(tx: &Self::Tx<T>, v: T) -> impl Future<Output = ()> + Send + '_;
    /// Receives; `None` once every sender is gone.
    fn recv<T: Send + 'static>(rx: &mut Self::Rx<T>)
        -> impl Future<Output = Option<T>> + Send + '_;
    /// A oneshot of `u64`.
    fn oneshot() -> (Self::OnceTx, Self::OnceRx);
    /// Answers.
    fn reply(tx: Self::OnceTx, v: u64);
    /// Waits for the answer.
    fn answer(rx: Self::OnceRx) -> impl Future<Output = u64> + Send;
}

/// vigil and Tokio name their primitives alike: one macro for both.
macro_rules! tokio_shaped_kit {
    ($krate:ident: $($rt:ty),+) => {$(
        impl SyncKit for $rt {
            type Mutex = $krate::sync::Mutex<u64>;
            type Semaphore = $krate::sync::Semaphore;
            type Tx<T: Send + 'static> = $krate::sync::mpsc::Sender<T>;
            type Rx<T: Send + 'static> = $krate::sync::mpsc::Receiver<T>;
            type OnceTx = $krate::sync::oneshot::Sender<u64>;
            type OnceRx = $krate::sync::oneshot::Receiver<u64>;

            fn mutex() -> Self::Mutex {
                $krate::sync::Mutex::new(0)
            }
            async fn increment(m: &Self::Mutex) {
                *m.lock().await += 1;
            }
            async fn value(m: &Self::Mutex) -> u64 {
                *m.lock().await
            }
            fn semaphore(permits: usize) -> Self::Semaphore {
                $krate::sync::Semaphore::new(permits)
            }
            async fn hold_permit(s: &Self::Semaphore) {
                let _permit = s.acquire().await.expect("open");
                $krate::task::yield_now().await;
            }
            fn bounded<T: Send + 'static>(cap: usize) -> (Self::Tx<T>, Self::Rx<T>) {
                $krate::sync::mpsc::channel(cap)
            }
            async fn send<T: Send + 'static>(tx: &Self::Tx<T>, v: T) {
                if tx.send(v).await.is_err() {
                    panic!("receiver gone");
                }
            }
            async fn recv<T: Send + 'static>(rx: &mut Self::Rx<T>) -> Option<T> {
                rx.recv().await
            }
            fn oneshot() -> (Self::OnceTx, Self::OnceRx) {
                $krate::sync::oneshot::channel()
            }
            fn reply(tx: Self::OnceTx, v: u64) {
                tx.send(v).expect("client waits");
            }
            async fn answer(rx: Self::OnceRx) -> u64 {
                rx.await.expect("server answers")
            }
        }
    )+};
}

tokio_shaped_kit!(vigil: VigilMt, VigilCt);
tokio_shaped_kit!(tokio: TokioMt, TokioCt);

macro_rules! smol_kit {
    ($($rt:ty),+) => {$(
        impl SyncKit for $rt {
            type Mutex = smol::lock::Mutex<u64>;
            type Semaphore = smol::lock::Semaphore;
            type Tx<T: Send + 'static> = smol::channel::Sender<T>;
            type Rx<T: Send + 'static> = smol::channel::Receiver<T>;
            type OnceTx = smol::channel::Sender<u64>;
            type OnceRx = smol::channel::Receiver<u64>;

            fn mutex() -> Self::Mutex {
                smol::lock::Mutex::new(0)
            }
            async fn increment(m: &Self::Mutex) {
                *m.lock().await += 1;
            }
            async fn value(m: &Self::Mutex) -> u64 {
                *m.lock().await
            }
            fn semaphore(permits: usize) -> Self::Semaphore {
                smol::lock::Semaphore::new(permits)
            }
            async fn hold_permit(s: &Self::Semaphore) {
                let _permit = s.acquire().await;
                smol::future::yield_now().await;
            }
            fn bounded<T: Send + 'static>(cap: usize) -> (Self::Tx<T>, Self::Rx<T>) {
                smol::channel::bounded(cap)
            }
            async fn send<T: Send + 'static>(tx: &Self::Tx<T>, v: T) {
                if tx.send(v).await.is_err() {
                    panic!("receiver gone");
                }
            }
            async fn recv<T: Send + 'static>(rx: &mut Self::Rx<T>) -> Option<T> {
                rx.recv().await.ok()
            }
            fn oneshot() -> (Self::OnceTx, Self::OnceRx) {
                smol::channel::bounded(1)
            }
            fn reply(tx: Self::OnceTx, v: u64) {
                tx.try_send(v).expect("client waits");
            }
            async fn answer(rx: Self::OnceRx) -> u64 {
                rx.recv().await.expect("server answers")
            }
        }
    )+};
}

smol_kit!(SmolMt, SmolLocal);

/// Producers of the `mpsc` case.
const PRODUCERS: u64 = 4;
/// Clients of the `oneshot` case.
const CLIENTS: u64 = 10;

/// One iteration: every case.
pub fn iteration<R: SyncKit>(rt: &R, p: &Params) -> Vec<Sample> {
    vec![
        Sample::time("mutex", mutex(rt, p)),
        Sample::time("semaphore", semaphore(rt, p)),
        Sample::time("mpsc", mpsc(rt, p)),
        Sample::time("oneshot", oneshot(rt, p)),
    ]
}

/// Spawns `n` copies of `task(i)` and waits for all of them.
fn run_tasks<R, F, Fut>(rt: &R, n: u64, task: F) -> std::time::Duration
where
    R: Runtime,
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let start = Instant::now();
    rt.run_in_task(move |spawner| async move {
        let joins: Vec<_> = (0..n).map(|i| spawner.spawn(task(i))).collect();
        for j in joins {
            j.await;
        }
    });
    start.elapsed()
}

fn mutex<R: SyncKit>(rt: &R, p: &Params) -> std::time::Duration {
    let per_task = p.size(1_000, 100) as u64;
    let m = Arc::new(R::mutex());
    let shared = m.clone();
    let time = run_tasks(rt, 100, move |_| {
        let m = shared.clone();
        async move {
            for _ in 0..per_task {
                R::increment(&m).await;
            }
        }
    });
    assert_eq!(rt.block_on(R::value(&m)), 100 * per_task);
    time
}

fn semaphore<R: SyncKit>(rt: &R, p: &Params) -> std::time::Duration {
    let per_task = p.size(200, 20);
    let s = Arc::new(R::semaphore(4));
    run_tasks(rt, 100, move |_| {
        let s = s.clone();
        async move {
            for _ in 0..per_task {
                R::hold_permit(&s).await;
            }
        }
    })
}

fn mpsc<R: SyncKit>(rt: &R, p: &Params) -> std::time::Duration {
    let per_producer = p.size(50_000, 5_000) as u64;
    let start = Instant::now();
    let sum = rt.run_in_task(move |spawner| async move {
        let (tx, mut rx) = R::bounded::<u64>(128);
        for _ in 0..PRODUCERS {
            let tx = tx.clone();
            spawner.spawn_detached(async move {
                for v in 0..per_producer {
                    R::send(&tx, v).await;
                }
            });
        }
        drop(tx);
        let mut sum = 0;
        while let Some(v) = R::recv(&mut rx).await {
            sum += v;
        }
        sum
    });
    let elapsed = start.elapsed();
    assert_eq!(sum, PRODUCERS * per_producer * (per_producer - 1) / 2);
    elapsed
}

fn oneshot<R: SyncKit>(rt: &R, p: &Params) -> std::time::Duration {
    let per_client = p.size(2_000, 200) as u64;
    let start = Instant::now();
    rt.run_in_task(move |spawner| async move {
        let (requests, mut incoming) = R::bounded::<(u64, R::OnceTx)>(64);
        spawner.spawn_detached(async move {
            while let Some((v, reply)) = R::recv(&mut incoming).await {
                R::reply(reply, v + 1);
            }
        });
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| {
                let requests = requests.clone();
                spawner.spawn(async move {
                    for v in 0..per_client {
                        let (tx, rx) = R::oneshot();
                        R::send(&requests, (v, tx)).await;
                        assert_eq!(R::answer(rx).await, v + 1);
                    }
                })
            })
            .collect();
        drop(requests);
        for c in clients {
            c.await;
        }
    });
    start.elapsed()
}
