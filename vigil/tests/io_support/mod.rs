//! Helpers shared by the `io_*` integration tests: a seeded generator, a
//! chaos wrapper, misbehaving streams and a watchdog for tests that must not
//! spin.
// Each test crate uses a different subset.
#![allow(dead_code)]

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll};
use std::time::Duration;
use vigil::io::{AsyncRead, AsyncWrite};

/// xorshift64: tiny, seeded, good enough to scramble test data.
#[derive(Clone, Debug)]
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> XorShift {
        XorShift(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Uniform-ish in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Fills `buf` with the next bytes of the stream, a word at a time
    /// (`buf.len()` a multiple of 8 keeps streams aligned across calls).
    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let word = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }
}

/// FNV-style checksum over 8-byte words (a short tail is zero-padded).
pub fn checksum(mut h: u64, bytes: &[u8]) -> u64 {
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        h = (h ^ u64::from_le_bytes(w.try_into().unwrap())).wrapping_mul(0x0000_0100_0000_01b3);
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut last = [0; 8];
        last[..rest.len()].copy_from_slice(rest);
        h = (h ^ u64::from_le_bytes(last)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Wraps a stream and misbehaves within the contract: random short reads
/// and writes, random `Pending`s (after waking itself), and the occasional
/// `Interrupted`.
#[derive(Debug)]
pub struct Chaos<T> {
    inner: T,
    rng: XorShift,
}

impl<T> Chaos<T> {
    pub fn new(inner: T, seed: u64) -> Chaos<T> {
        Chaos {
            inner,
            rng: XorShift::new(seed),
        }
    }

    /// `None`: go ahead with a buffer this long; `Some(poll)`: return it.
    fn mischief<U>(
        &mut self,
        cx: &mut Context<'_>,
        len: usize,
    ) -> Result<usize, Poll<io::Result<U>>> {
        match self.rng.below(16) {
            0..=2 => {
                cx.waker().wake_by_ref();
                Err(Poll::Pending)
            }
            3 => Err(Poll::Ready(Err(io::ErrorKind::Interrupted.into()))),
            4..=9 if len > 1 => Ok(1 + self.rng.below(len)),
            _ => Ok(len),
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Chaos<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match self.mischief(cx, buf.len()) {
            Ok(len) => Pin::new(&mut self.inner).poll_read(cx, &mut buf[..len]),
            Err(poll) => poll,
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Chaos<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.mischief(cx, buf.len()) {
            Ok(len) => Pin::new(&mut self.inner).poll_write(cx, &buf[..len]),
            Err(poll) => poll,
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.mischief(cx, 0) {
            Ok(_) => Pin::new(&mut self.inner).poll_flush(cx),
            Err(poll) => poll,
        }
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.mischief(cx, 0) {
            Ok(_) => Pin::new(&mut self.inner).poll_close(cx),
            Err(poll) => poll,
        }
    }
}

/// What a [`Broken`] stream answers to every read, write, flush and close.
#[derive(Clone, Copy, Debug)]
pub enum Misbehaviour {
    /// `Ready(Err(Interrupted))`.
    Interrupted,
    /// `Ready(Err(WouldBlock))`: a contract violation.
    WouldBlockAsReady,
    /// `Ready(Ok(0))`: end of file for reads, `WriteZero` for writes.
    Zero,
    /// Reports one byte more than the buffer holds.
    OverReport,
}

/// A stream that always misbehaves the same way, counting its calls.
#[derive(Debug, Clone)]
pub struct Broken {
    how: Misbehaviour,
    pub calls: Arc<AtomicUsize>,
}

impl Broken {
    pub fn new(how: Misbehaviour) -> Broken {
        Broken {
            how,
            calls: Arc::new(AtomicUsize::new(0)),
        }
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn answer(&self, len: usize) -> Poll<io::Result<usize>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Poll::Ready(match self.how {
            Misbehaviour::Interrupted => Err(io::ErrorKind::Interrupted.into()),
            Misbehaviour::WouldBlockAsReady => Err(io::ErrorKind::WouldBlock.into()),
            Misbehaviour::Zero => Ok(0),
            Misbehaviour::OverReport => Ok(len + 1),
        })
    }
}

impl AsyncRead for Broken {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.answer(buf.len())
    }
}

impl AsyncWrite for Broken {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.answer(buf.len())
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.answer(0).map_ok(drop)
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.answer(0).map_ok(drop)
    }
}

/// Runs `f` on its own thread and fails the test if it takes longer than
/// `limit` (a helper that spins would otherwise hang the test run).
pub fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(value) => value,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("did not finish within {limit:?}: spinning?")
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("the test thread panicked"),
    }
}
