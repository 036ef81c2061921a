//! A tour of vigil's foundation: many tasks, timers, a timeout, an interval
//! and blocking work, all on one multi-thread runtime.
//!
//! Ten "requests" each sleep for one second concurrently, so the whole run
//! takes about one second of wall time while using almost no CPU: the
//! workers sleep in the timer driver instead of spinning. The example prints
//! both figures at the end.
//!
//! Run it with `cargo run --release --example tasks_and_timers`.

use std::time::Duration;
use vigil::task::JoinSet;
use vigil::time::{interval, sleep, timeout, Instant, MissedTickBehavior};

/// User + system CPU time of this process, from `/proc/self/stat`.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // Linux reports these in clock ticks of 1/100 s on every common config.
    Some(Duration::from_millis((utime + stime) * 10))
}

#[vigil::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let started = Instant::now();

    // Ten concurrent "requests", each waiting one second.
    let mut requests = JoinSet::new();
    for n in 1..=10u32 {
        let task = vigil::task::Builder::new()
            .name(&format!("request-{n}"))
            .spawn(async move {
                println!("start {n}");
                sleep(Duration::from_secs(1)).await;
                println!("end {n}");
                n
            })
            .expect("spawn");
        requests.spawn(async move { task.await.expect("request task failed") });
    }

    // A heartbeat every 250 ms while the requests run.
    let heartbeat = vigil::spawn(async move {
        let mut ticks = interval(Duration::from_millis(250));
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        for beat in 0..4 {
            ticks.tick().await;
            println!("heartbeat {beat} at {:?}", started.elapsed());
        }
    });

    // Blocking work goes to the blocking pool, not to the async workers.
    let checksum = vigil::task::spawn_blocking(|| (1..=1_000_000u64).sum::<u64>());

    // A timeout that fires, and one that does not.
    let slow = timeout(Duration::from_millis(100), sleep(Duration::from_secs(5))).await;
    println!("slow operation: {:?}", slow.map_err(|e| e.to_string()));
    let fast = timeout(Duration::from_secs(5), async { "quick answer" }).await;
    println!("fast operation: {fast:?}");

    let mut finished = 0;
    while let Some(res) = requests.join_next().await {
        res.expect("request panicked");
        finished += 1;
    }
    heartbeat.await.expect("heartbeat panicked");
    println!(
        "checksum from the blocking pool: {}",
        checksum.await.unwrap()
    );

    let wall = started.elapsed();
    println!("{finished} requests done in {wall:.2?} of wall time");
    match cpu_time() {
        Some(cpu) => {
            println!("process CPU time: {cpu:.2?} (no busy loop: far below the wall time)")
        }
        None => println!("process CPU time: unavailable on this platform"),
    }
}
