//! The progress guard: misbehaving streams give clear errors in bounded
//! time through every helper loop, instead of spinning.

mod io_support;

use io_support::{within, Broken, Misbehaviour};
use std::io::ErrorKind;
use std::time::Duration;
use vigil::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, BufWriter};

const LIMIT: Duration = Duration::from_secs(5);

fn run<T: Send + 'static>(f: impl std::future::Future<Output = T> + Send + 'static) -> T {
    within(LIMIT, move || vigil::block_on(f))
}

fn assert_stalled(err: &std::io::Error, what: &str) {
    assert_eq!(err.kind(), ErrorKind::Other, "{err}");
    assert!(
        err.to_string().contains(what),
        "expected {what:?} in: {err}"
    );
}

#[test]
fn interrupted_forever_reader() {
    let reader = Broken::new(Misbehaviour::Interrupted);
    let calls = reader.clone();
    let errors = run(async move {
        let mut r = reader;
        let exact = r.read_exact(&mut [0; 8]).await.unwrap_err();
        let to_end = r.read_to_end(&mut Vec::new()).await.unwrap_err();
        let copied = vigil::io::copy(&mut r, &mut vigil::io::sink())
            .await
            .unwrap_err();
        let line = BufReader::new(&mut r)
            .read_line(&mut String::new())
            .await
            .unwrap_err();
        [exact, to_end, copied, line]
    });
    for err in &errors {
        assert_stalled(err, "the reader keeps being interrupted");
    }
    // Bounded: 64 tries per helper.
    assert_eq!(calls.calls(), 4 * 64);
}

#[test]
fn interrupted_forever_writer() {
    let errors = run(async move {
        let mut w = Broken::new(Misbehaviour::Interrupted);
        let all = w.write_all(b"data").await.unwrap_err();
        let flush = w.flush().await.unwrap_err();
        let close = w.shutdown().await.unwrap_err();
        let mut src = vigil::io::repeat(1).take(100);
        let copied = vigil::io::copy(&mut src, &mut w).await.unwrap_err();
        [all, flush, close, copied]
    });
    for err in &errors {
        assert_stalled(err, "the writer keeps being interrupted");
    }
    assert!(errors[1].to_string().contains("poll_flush"));
}

#[test]
fn write_zero_is_an_error_at_once() {
    let writer = Broken::new(Misbehaviour::Zero);
    let calls = writer.clone();
    let errors = run(async move {
        let mut w = writer;
        let all = w.write_all(b"data").await.unwrap_err();
        let mut src = vigil::io::repeat(1).take(100);
        let copied = vigil::io::copy(&mut src, &mut w).await.unwrap_err();
        let mut buffered = BufWriter::with_capacity(16, &mut w);
        buffered.write_all(b"abc").await.unwrap();
        let flushed = buffered.flush().await.unwrap_err();
        [all, copied, flushed]
    });
    for err in &errors {
        assert_eq!(err.kind(), ErrorKind::WriteZero, "{err}");
        assert!(err.to_string().contains("accepted 0 bytes"), "{err}");
    }
    assert_eq!(calls.calls(), 3, "one write each, no retries");
}

#[test]
fn would_block_as_ready_reader_and_writer() {
    let reader = Broken::new(Misbehaviour::WouldBlockAsReady);
    let calls = reader.clone();
    let errors = run(async move {
        let mut r = reader;
        let exact = r.read_exact(&mut [0; 8]).await.unwrap_err();
        let copied = vigil::io::copy(&mut r, &mut vigil::io::sink())
            .await
            .unwrap_err();
        let mut w = Broken::new(Misbehaviour::WouldBlockAsReady);
        let all = w.write_all(b"x").await.unwrap_err();
        [exact, copied, all]
    });
    assert_stalled(&errors[0], "the reader returned WouldBlock as Ready");
    assert_stalled(&errors[1], "the reader returned WouldBlock as Ready");
    assert_stalled(&errors[2], "the writer returned WouldBlock as Ready");
    assert!(errors[0].to_string().contains("must return Poll::Pending"));
    assert_eq!(calls.calls(), 2 * 64);
}

#[test]
fn guard_errors_keep_the_original_as_source() {
    let err = run(async move {
        let mut r = Broken::new(Misbehaviour::Interrupted);
        r.read_exact(&mut [0; 1]).await.unwrap_err()
    });
    let inner = err.into_inner().expect("a custom error");
    let source = inner.source().expect("the last error as source");
    assert!(source.to_string().contains("interrupted"), "{source}");
}

#[test]
fn over_reporting_reader_is_invalid_data_not_a_panic() {
    let errors = run(async move {
        let mut r = Broken::new(Misbehaviour::OverReport);
        let exact = r.read_exact(&mut [0; 8]).await.unwrap_err();
        let to_end = r.read_to_end(&mut Vec::new()).await.unwrap_err();
        let buffered = BufReader::new(&mut r)
            .fill_buf()
            .await
            .map(|b| b.len())
            .unwrap_err();
        let taken = (&mut r).take(4).read(&mut [0; 8]).await.unwrap_err();
        [exact, to_end, buffered, taken]
    });
    for err in &errors {
        assert_eq!(err.kind(), ErrorKind::InvalidData, "{err}");
    }
}

/// A reader interrupted every other call still completes: interruptions
/// between progress do not add up.
#[test]
fn sporadic_interruptions_are_retried() {
    struct Flaky {
        flip: bool,
        left: usize,
    }
    impl vigil::io::AsyncRead for Flaky {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            _cx: &mut std::task::Context<'_>,
            buf: &mut [u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            self.flip = !self.flip;
            if self.flip {
                return std::task::Poll::Ready(Err(ErrorKind::Interrupted.into()));
            }
            let n = buf.len().min(self.left).min(3);
            buf[..n].fill(9);
            self.left -= n;
            std::task::Poll::Ready(Ok(n))
        }
    }
    let got = run(async move {
        let mut all = Vec::new();
        Flaky {
            flip: false,
            left: 1000,
        }
        .read_to_end(&mut all)
        .await
        .unwrap();
        let mut exact = [0; 500];
        let n = Flaky {
            flip: false,
            left: 1000,
        }
        .read_exact(&mut exact)
        .await
        .unwrap();
        (all.len(), n, exact.iter().all(|&b| b == 9))
    });
    assert_eq!(got, (1000, 500, true));
}
