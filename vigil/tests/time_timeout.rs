//! `vigil::time::timeout`.

mod common;
use common::current_thread;

use std::future::{pending, ready};
use std::time::Duration;
use vigil::time::error::Elapsed;
use vigil::time::{sleep, timeout, timeout_at, Instant};

const MS: Duration = Duration::from_millis(1);

#[test]
fn ready_future_beats_zero_timeout() {
    current_thread().block_on(async {
        assert_eq!(timeout(Duration::ZERO, ready(1)).await, Ok(1));
        assert_eq!(timeout(Duration::ZERO, async { 2 }).await, Ok(2));
        let past = Instant::now() - 10 * MS;
        assert_eq!(timeout_at(past, ready(3)).await, Ok(3));
    });
}

#[test]
fn pending_future_times_out_not_early() {
    current_thread().block_on(async {
        let start = Instant::now();
        let res = timeout(20 * MS, pending::<()>()).await;
        assert!(matches!(res, Err(Elapsed { .. })));
        let took = start.elapsed();
        assert!(took >= 20 * MS, "{took:?}");
        assert!(took < Duration::from_secs(2), "{took:?}");

        let deadline = Instant::now() + 15 * MS;
        assert!(timeout_at(deadline, pending::<()>()).await.is_err());
        assert!(Instant::now() >= deadline);
    });
}

#[test]
fn slow_future_within_deadline_wins() {
    current_thread().block_on(async {
        let res = timeout(Duration::from_secs(10), async {
            sleep(10 * MS).await;
            "done"
        })
        .await;
        assert_eq!(res, Ok("done"));
    });
}

#[test]
fn nested_timeouts() {
    current_thread().block_on(async {
        let inner = timeout(Duration::from_secs(10), pending::<()>());
        let outer = timeout(10 * MS, inner).await;
        assert!(outer.is_err());
        let inner = timeout(5 * MS, pending::<()>());
        let outer = timeout(Duration::from_secs(10), inner).await;
        assert!(matches!(outer, Ok(Err(_))));
    });
}

#[test]
fn elapsed_error_traits() {
    current_thread().block_on(async {
        let err = timeout(MS, pending::<()>()).await.unwrap_err();
        assert_eq!(err.to_string(), "deadline has elapsed");
        let copy = err;
        assert_eq!(copy, err);
        let io: std::io::Error = err.into();
        assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
        let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(err);
        assert_eq!(boxed.to_string(), "deadline has elapsed");
    });
}

#[test]
fn accessors_and_into_inner() {
    current_thread().block_on(async {
        let mut t = timeout(Duration::from_secs(1), ready(5u8));
        let _r: &std::future::Ready<u8> = t.get_ref();
        let _m: &mut std::future::Ready<u8> = t.get_mut();
        assert_eq!(t.into_inner().await, 5);
    });
}

#[test]
fn timeout_accepts_into_future() {
    struct Later;
    impl std::future::IntoFuture for Later {
        type Output = u32;
        type IntoFuture = std::future::Ready<u32>;
        fn into_future(self) -> Self::IntoFuture {
            ready(9)
        }
    }
    current_thread().block_on(async {
        assert_eq!(timeout(MS, Later).await, Ok(9));
    });
}

#[test]
fn timeout_created_outside_runtime() {
    let t = timeout(10 * MS, pending::<()>());
    assert!(current_thread().block_on(t).is_err());
}
