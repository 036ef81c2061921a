//! `churn`: connection setup and teardown: accept, register with the
//! reactor, deregister, close.
//!
//! One listener; its accept loop spawns a task per connection that reads
//! one byte, writes it back and closes. 50 client tasks, on the same
//! runtime, each loop: connect, write 1 byte, read the echo, read end of
//! stream, close; for 1 s (0.2 s in `--quick` mode). The server closes
//! first so that TIME_WAIT stays on the listener's side and the clients do
//! not run out of ephemeral ports. Case `cycles`: completed cycles per
//! second over all clients.

use crate::measure::{Sample, Unit};
use crate::runtimes::{Runtime, Spawner};
use crate::suites::{read_exact, Params};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Concurrent clients.
const CLIENTS: usize = 50;

/// One iteration.
pub fn iteration<R: Runtime>(rt: &R, p: &Params) -> Vec<Sample> {
    let duration = Duration::from_millis(p.size(1_000, 200) as u64);
    let rate = rt.run_in_task(move |spawner| async move {
        let (listener, addr) = R::bind().expect("bind");
        let stop = Arc::new(AtomicBool::new(false));
        let server_spawner = spawner.clone();
        let server_stop = stop.clone();
        let server = spawner.spawn(async move {
            loop {
                let mut s = R::accept(&listener).await.expect("accept");
                if server_stop.load(Ordering::Acquire) {
                    break;
                }
                server_spawner.spawn_detached(async move {
                    let mut b = [0u8; 1];
                    if read_exact::<R>(&mut s, &mut b).await.is_ok() {
                        let _ = R::write_all(&mut s, &b).await;
                    }
                });
            }
        });
        let start = Instant::now();
        let end = start + duration;
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| {
                spawner.spawn(async move {
                    let mut cycles = 0u64;
                    let mut b = [0u8; 1];
                    while Instant::now() < end {
                        let mut s = R::connect(addr).await.expect("connect");
                        R::write_all(&mut s, b"x").await.expect("write");
                        read_exact::<R>(&mut s, &mut b).await.expect("read");
                        assert_eq!(R::read(&mut s, &mut b).await.expect("eof"), 0);
                        cycles += 1;
                    }
                    cycles
                })
            })
            .collect();
        let mut total = 0;
        for c in clients {
            total += c.await;
        }
        let rate = total as f64 / start.elapsed().as_secs_f64();
        // Wake the accept loop once more so that it sees `stop`.
        stop.store(true, Ordering::Release);
        let _last = R::connect(addr).await.expect("connect");
        server.await;
        rate
    });
    vec![Sample::new("cycles", Unit::PerSec, rate)]
}
