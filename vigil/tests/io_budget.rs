//! The cooperative budget: a copy from an always-ready reader yields, so
//! timers and other tasks on the same thread still run on time.

mod io_support;

use io_support::within;
use std::future::Future;
use std::time::{Duration, Instant};
use vigil::io::{AsyncReadExt, AsyncWriteExt};

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
    let late = sleep_lateness_next_to(async move {
        let mut reader = vigil::io::repeat(0);
        let mut writer = vigil::io::sink();
        vigil::io::copy(&mut reader, &mut writer).await
    });
    assert!(
        late < Duration::from_millis(50),
        "sleep fired {late:?} late"
    );
}

#[test]
fn write_all_loop_into_duplex_pump_does_not_starve_a_timer() {
    // Writer and reader in one task: always ready, never waiting.
    let late = sleep_lateness_next_to(async move {
        let (mut a, mut b) = vigil::io::duplex(1 << 16);
        let mut buf = vec![0; 4096];
        loop {
            a.write_all(&buf).await?;
            b.read_exact(&mut buf).await?;
        }
        #[allow(unreachable_code)]
        Ok::<_, std::io::Error>(())
    });
    assert!(
        late < Duration::from_millis(50),
        "sleep fired {late:?} late"
    );
}

#[test]
fn read_to_end_and_copy_bidirectional_yield_too() {
    let late = sleep_lateness_next_to(async move {
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
    });
    assert!(
        late < Duration::from_millis(50),
        "read_to_end: sleep fired {late:?} late"
    );

    // A proxy between two endless, always-ready peers in the same task.
    let late = sleep_lateness_next_to(async move {
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
    });
    assert!(
        late < Duration::from_millis(50),
        "copy_bidirectional: sleep fired {late:?} late"
    );
}
