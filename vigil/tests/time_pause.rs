//! The paused clock (`test-util`): `time::pause`, `advance`, `resume`,
//! auto-advance to the next timer, and `start_paused`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use vigil::time::{self, Instant};

/// Real time must stay far below the clock's time in these tests.
const REAL_LIMIT: Duration = Duration::from_secs(20);

#[vigil::test(start_paused = true)]
async fn a_started_paused_clock_stands_still() {
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_millis(5));
    assert_eq!(Instant::now(), t0);
}

#[vigil::test(start_paused = true)]
async fn an_hour_long_sleep_ends_at_once_and_exactly_on_time() {
    let real = std::time::Instant::now();
    let t0 = Instant::now();
    time::sleep(Duration::from_secs(3600)).await;
    assert_eq!(t0.elapsed(), Duration::from_secs(3600));
    assert!(real.elapsed() < REAL_LIMIT);
}

#[vigil::test(start_paused = true)]
async fn timers_fire_in_deadline_order_at_their_own_time() {
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for secs in [30u64, 10, 20] {
        let order = order.clone();
        tasks.push(vigil::spawn(async move {
            time::sleep(Duration::from_secs(secs)).await;
            order.lock().unwrap().push((secs, t0.elapsed()));
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let order = order.lock().unwrap().clone();
    assert_eq!(
        order,
        [10u64, 20, 30]
            .map(|s| (s, Duration::from_secs(s)))
            .to_vec()
    );
}

#[vigil::test(start_paused = true)]
async fn a_timeout_fires_in_clock_time() {
    let t0 = Instant::now();
    let result = time::timeout(Duration::from_secs(5), std::future::pending::<()>()).await;
    assert!(result.is_err());
    assert_eq!(t0.elapsed(), Duration::from_secs(5));
}

#[vigil::test(start_paused = true)]
async fn an_interval_ticks_on_the_paused_clock() {
    let t0 = Instant::now();
    let mut interval = time::interval(Duration::from_millis(250));
    for _ in 0..5 {
        interval.tick().await;
    }
    // The first tick is immediate.
    assert_eq!(t0.elapsed(), Duration::from_millis(1000));
}

#[vigil::test(start_paused = true)]
async fn advance_moves_the_clock_and_fires_what_it_passes() {
    let fired = Arc::new(AtomicUsize::new(0));
    let f = fired.clone();
    let sleeper = vigil::spawn(async move {
        time::sleep(Duration::from_secs(2)).await;
        f.fetch_add(1, Ordering::SeqCst);
    });
    // Let the sleeper file its timer.
    vigil::task::yield_now().await;
    let t0 = Instant::now();
    time::advance(Duration::from_secs(1)).await;
    assert_eq!(t0.elapsed(), Duration::from_secs(1));
    assert_eq!(fired.load(Ordering::SeqCst), 0);
    time::advance(Duration::from_secs(1)).await;
    sleeper.await.unwrap();
    assert_eq!(fired.load(Ordering::SeqCst), 1);
    assert_eq!(t0.elapsed(), Duration::from_secs(2));
}

#[vigil::test]
async fn pause_and_resume_in_the_middle_of_a_test() {
    time::pause();
    let t0 = Instant::now();
    time::advance(Duration::from_secs(60)).await;
    assert_eq!(Instant::now() - t0, Duration::from_secs(60));
    time::resume();
    // The clock runs again from where it stood.
    let t1 = Instant::now();
    assert!(t1 >= t0 + Duration::from_secs(60));
    time::sleep(Duration::from_millis(2)).await;
    assert!(Instant::now() >= t1 + Duration::from_millis(2));
}

#[vigil::test(start_paused = true)]
async fn io_that_arrives_is_served_before_the_clock_jumps() {
    // The receiver waits in the reactor with a long timeout; the datagram
    // is sent after it started waiting. The runtime then looks idle, but
    // the reactor has an event: the clock must not jump to the timeout.
    let receiver = vigil::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let to = receiver.local_addr().unwrap();
    let sender = vigil::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let t0 = Instant::now();
    let receiving = vigil::spawn(async move {
        let mut buf = [0u8; 8];
        let got = time::timeout(Duration::from_secs(30), receiver.recv_from(&mut buf)).await;
        let (n, _) = got.expect("the datagram beats the timeout").unwrap();
        buf[..n].to_vec()
    });
    // Let the receiver register its interest first.
    vigil::task::yield_now().await;
    sender.send_to(b"ping", to).await.unwrap();
    assert_eq!(receiving.await.unwrap(), b"ping");
    // No time passed: the event was there, so the clock had no reason to move.
    assert_eq!(t0.elapsed(), Duration::ZERO);
}

#[vigil::test(start_paused = true)]
async fn blocking_work_holds_the_clock_back() {
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let t0 = Instant::now();
    let work = vigil::task::spawn_blocking(move || {
        // Real time passes here while the runtime has nothing to run.
        rx.recv_timeout(Duration::from_millis(50)).ok();
        7
    });
    let result = time::timeout(Duration::from_secs(10), work).await;
    drop(tx);
    assert_eq!(
        result.expect("the blocking job beats the timeout").unwrap(),
        7
    );
    assert!(t0.elapsed() < Duration::from_secs(10));
}

#[test]
fn pause_needs_a_current_thread_runtime() {
    let rt = vigil::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let err = rt.block_on(async { vigil::spawn(async { time::pause() }).await.unwrap_err() });
    assert!(err.is_panic());
    let message = err.into_panic();
    let message = message.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("needs a current-thread runtime"),
        "{message}"
    );
}

#[test]
fn pausing_twice_or_resuming_a_running_clock_panics() {
    let rt = vigil::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let twice = vigil::spawn(async {
            time::pause();
            time::pause();
        });
        assert!(twice.await.unwrap_err().is_panic());
        // The clock stayed paused: resume it once, then a second time fails.
        time::resume();
        let again = vigil::spawn(async { time::resume() });
        assert!(again.await.unwrap_err().is_panic());
    });
}

#[test]
fn outside_a_runtime_the_clock_is_the_system_clock() {
    let before = std::time::Instant::now();
    let now = Instant::now().into_std();
    assert!(now >= before && now <= std::time::Instant::now());
}

#[test]
fn a_multi_thread_runtime_cannot_start_paused() {
    let err = vigil::runtime::Builder::new_multi_thread()
        .start_paused(true)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}
