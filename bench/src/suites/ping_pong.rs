//! `ping_pong`: wake-up latency between tasks, i.e. how quickly a task
//! woken by another one gets to run.
//!
//! Pairs of tasks bounce a counter back and forth over two channels. The
//! channel is [`crate::sync::channel`] (a `Mutex<VecDeque>` plus a `Waker`),
//! the same code on every runtime, so what differs is only what `wake()`
//! costs and how soon the woken task is polled: the path of
//! message-passing and request/response code. Many pairs run at once, so
//! on a multi-thread runtime workers also contend and steal. One case,
//! `pairs`: 1000 pairs x 100 round trips (100 pairs in `--quick` mode).

use crate::measure::Sample;
use crate::runtimes::{Runtime, Spawner};
use crate::suites::Params;
use crate::sync::{channel, Countdown};
use std::time::Instant;

/// Round trips per pair.
const ROUND_TRIPS: u64 = 100;

/// One iteration.
pub fn iteration<R: Runtime>(rt: &R, p: &Params) -> Vec<Sample> {
    let pairs = p.size(1_000, 100);
    let start = Instant::now();
    rt.run_in_task(move |spawner| async move {
        let (countdown, done) = Countdown::new(pairs);
        for _ in 0..pairs {
            let (to_pong, mut pong_rx) = channel::<u64>();
            let (to_ping, mut ping_rx) = channel::<u64>();
            spawner.spawn_detached(async move {
                for _ in 0..ROUND_TRIPS {
                    let v = pong_rx.recv().await;
                    to_ping.send(v + 1);
                }
            });
            let countdown = countdown.clone();
            spawner.spawn_detached(async move {
                let mut v = 0;
                for _ in 0..ROUND_TRIPS {
                    to_pong.send(v);
                    v = ping_rx.recv().await;
                }
                assert_eq!(v, ROUND_TRIPS);
                countdown.count();
            });
        }
        done.wait().await;
    });
    vec![Sample::time("pairs", start.elapsed())]
}
