//! The cooperative budget: a copy from an always-ready reader yields, so
//! timers and other tasks on the same thread still run on time.
//!
//! Each test runs a hog (an always-ready reader or writer) next to a 10 ms
//! sleep on a current-thread runtime and asserts the sleep fires at most
//! [`BOUND`] late. Without the budget the hog never yields and the sleep
//! never fires (the attempt's 10 s watchdog fails the test).

mod io_support;

use io_support::within;
use std::future::Future;
use std::io::Write;
use std::time::{Duration, Instant};
use vigil::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

/// How late the 10 ms sleep may fire: "a few ms". Measured lateness is about
/// 1 ms (the timer wheel ticks every millisecond) in debug builds.
const BOUND: Duration = Duration::from_millis(5);

/// Attempts per test. Noise on a shared machine (preemption, a busy sibling
/// test) only ever makes a timer later, never earlier, so one attempt within
/// [`BOUND`] shows the budget works; a runtime without the budget fails every
/// attempt (it never fires the timer at all).
const ATTEMPTS: usize = 3;

/// Runs `attempt` (which returns a measured lateness) up to [`ATTEMPTS`]
/// times; passes as soon as one is within [`BOUND`].
///
/// One test measures at a time: five hogs at full speed on a two-core
/// machine would otherwise be each other's noise.
fn assert_on_time(what: &str, mut attempt: impl FnMut() -> Duration) {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut measured = Vec::new();
    for _ in 0..ATTEMPTS {
        let late = attempt();
        if late <= BOUND {
            return;
        }
        measured.push(late);
    }
    panic!("{what}: sleep(10 ms) fired more than {BOUND:?} late in every attempt: {measured:?}");
}

fn current_thread() -> vigil::runtime::Runtime {
    vigil::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

/// Measures how late a 10 ms sleep fires while `hog` runs in another task on
/// the same current-thread runtime.
fn sleep_lateness_next_to<F>(hog: F) -> Duration
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    within(Duration::from_secs(10), move || {
        current_thread().block_on(async move {
            let hog = vigil::spawn(hog);
            // Let the hog start first.
            vigil::task::yield_now().await;
            let start = Instant::now();
            vigil::time::sleep(Duration::from_millis(10)).await;
            let late = start.elapsed().saturating_sub(Duration::from_millis(10));
            eprintln!("sleep(10 ms) next to a hog: {late:?} late");
            hog.abort();
            match hog.await {
                Err(e) => assert!(e.is_cancelled(), "{e}"),
                Ok(_) => panic!("the hog finished"),
            }
            late
        })
    })
}

#[test]
fn copy_from_repeat_into_sink_does_not_starve_a_timer() {
    assert_on_time("copy(repeat, sink)", || {
        sleep_lateness_next_to(async move {
            let mut reader = vigil::io::repeat(0);
            let mut writer = vigil::io::sink();
            vigil::io::copy(&mut reader, &mut writer).await
        })
    });
}

#[test]
fn a_task_that_only_yields_does_not_starve_a_timer() {
    // The run queue drains after every yield: the driver skips the turns
    // that come right after another (driver module docs), and must still
    // turn often enough for the timer.
    assert_on_time("loop { yield_now }", || {
        sleep_lateness_next_to(async move {
            loop {
                vigil::task::yield_now().await;
            }
        })
    });
}

#[test]
fn write_all_loop_into_duplex_pump_does_not_starve_a_timer() {
    // Writer and reader in one task: always ready, never waiting.
    assert_on_time("write_all/read_exact over duplex", || {
        sleep_lateness_next_to(async move {
            let (mut a, mut b) = vigil::io::duplex(1 << 16);
            let mut buf = vec![0; 4096];
            loop {
                a.write_all(&buf).await?;
                b.read_exact(&mut buf).await?;
            }
            #[allow(unreachable_code)]
            Ok::<_, std::io::Error>(())
        })
    });
}

#[test]
fn read_to_end_and_copy_bidirectional_yield_too() {
    assert_on_time("read_to_end", || {
        sleep_lateness_next_to(async move {
            // Bounded memory: read 1 MiB at a time, over and over.
            let mut buf = Vec::with_capacity(1 << 20);
            loop {
                buf.clear();
                vigil::io::repeat(1)
                    .take(1 << 20)
                    .read_to_end(&mut buf)
                    .await?;
            }
            #[allow(unreachable_code)]
            Ok::<_, std::io::Error>(())
        })
    });

    // A proxy between two endless, always-ready peers in the same task.
    assert_on_time("copy_bidirectional", || {
        sleep_lateness_next_to(async move {
            let (mut left, mut proxy_a) = vigil::io::duplex(1 << 16);
            let (mut proxy_b, mut right) = vigil::io::duplex(1 << 16);
            let proxy = vigil::io::copy_bidirectional(&mut proxy_a, &mut proxy_b);
            let feed = async {
                let mut src = vigil::io::repeat(7);
                vigil::io::copy(&mut src, &mut left).await
            };
            let drain = async { vigil::io::copy(&mut right, &mut vigil::io::sink()).await };
            // Poll all three in one task.
            let mut futs: Vec<std::pin::Pin<Box<dyn Future<Output = ()> + Send + '_>>> = vec![
                Box::pin(async move {
                    let _ = proxy.await;
                }),
                Box::pin(async move {
                    let _ = feed.await;
                }),
                Box::pin(async move {
                    let _ = drain.await;
                }),
            ];
            std::future::poll_fn(move |cx| {
                for f in futs.iter_mut() {
                    let _ = f.as_mut().poll(cx);
                }
                std::task::Poll::<()>::Pending
            })
            .await
        })
    });
}

/// Keeps `peer`'s socket full from a std thread, so that reads at the other
/// end are always ready. The first 64 KiB are written before this returns
/// (the hog's first read finds data); the thread stops at the first error,
/// which comes once the reading end is closed (`EPIPE` or `ECONNRESET`), and
/// returns what it wrote.
fn keep_full<W: Write + Send + 'static>(mut peer: W) -> std::thread::JoinHandle<u64> {
    let chunk = [0x5a_u8; 64 << 10];
    peer.write_all(&chunk).expect("pre-filling the socket");
    std::thread::spawn(move || {
        let mut written = chunk.len() as u64;
        while let Ok(n) = peer.write(&chunk) {
            written += n as u64;
        }
        written
    })
}

/// The hog: one byte per `read`, so a socket holding a few hundred KB stays
/// ready for hundreds of thousands of reads (and the writer refills it).
async fn read_one_byte_at_a_time<R: AsyncRead + Unpin>(mut r: R) -> std::io::Result<u64> {
    let mut byte = [0u8; 1];
    let mut total = 0;
    while r.read(&mut byte).await? == 1 {
        total += 1;
    }
    Ok(total)
}

#[test]
fn one_byte_reads_from_a_full_unix_socket_do_not_starve_a_timer() {
    assert_on_time("1-byte reads from a UnixStream", || {
        let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
        let writer = keep_full(theirs);
        let late = sleep_lateness_next_to(async move {
            read_one_byte_at_a_time(vigil::net::UnixStream::from_std(ours)?).await
        });
        // The hog's socket closed with its runtime: the writer stops.
        within(Duration::from_secs(10), move || writer.join().unwrap());
        late
    });
}

#[test]
fn one_byte_reads_from_a_full_tcp_socket_do_not_starve_a_timer() {
    assert_on_time("1-byte reads from a TcpStream", || {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let theirs = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (ours, _) = listener.accept().unwrap();
        drop(listener);
        let writer = keep_full(theirs);
        let late = sleep_lateness_next_to(async move {
            read_one_byte_at_a_time(vigil::net::TcpStream::from_std(ours)?).await
        });
        within(Duration::from_secs(10), move || writer.join().unwrap());
        late
    });
}
