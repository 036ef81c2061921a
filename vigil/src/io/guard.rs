//! The progress guard: the one place where vigil's I/O loops judge what a
//! stream returned.
//!
//! Every helper that loops over `poll_read`, `poll_write`, `poll_fill_buf`,
//! `poll_flush` or `poll_close` (`read_exact`, `read_to_end`, `read_until`,
//! `write_all`, `copy`, `copy_bidirectional`, `BufWriter`'s flush, ...)
//! hands each poll's result to a [`ProgressGuard`] and acts on its verdict:
//!
//! * `Pending`: the stream is waiting for a wake-up, as it should; the
//!   streak of fruitless results is reset (a stream that is interrupted now
//!   and then while idle for minutes is not spinning).
//! * `Ready(Ok(Some(value)))`: the stream made progress (or reported end of
//!   file); the streak is reset.
//! * `Ready(Ok(None))`: retry at once. The stream returned
//!   `Err(Interrupted)`, or `Err(WouldBlock)` where it should have returned
//!   `Pending`; both are retried, but only [`MAX_FRUITLESS`] times in a row.
//! * `Ready(Err(e))`: give up with `e`. Either the stream's own error, or one
//!   the guard made because the stream broke the contract: it kept being
//!   interrupted, it kept returning `WouldBlock` as `Ready`, it accepted zero
//!   bytes of a non-empty write (`WriteZero`), or it claimed to have read
//!   more bytes than the buffer holds.
//!
//! So no loop can spin on a stream that returns `Ready` without progress.
//! Call sites read `let Some(n) = ready!(guard.read(poll, len))? else {
//! continue }`.

use std::error::Error as StdError;
use std::fmt;
use std::io::{self, ErrorKind};
use std::task::Poll;

/// How many `Interrupted` (or, separately, `WouldBlock`-as-`Ready`) results
/// in a row a loop retries before it gives up.
pub(crate) const MAX_FRUITLESS: u8 = 64;

/// Which call produced a result, for error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Read,
    FillBuf,
    Write,
    Flush,
    Close,
}

impl Op {
    fn method(self) -> &'static str {
        match self {
            Op::Read => "poll_read",
            Op::FillBuf => "poll_fill_buf",
            Op::Write => "poll_write",
            Op::Flush => "poll_flush",
            Op::Close => "poll_close",
        }
    }

    fn role(self) -> &'static str {
        match self {
            Op::Read | Op::FillBuf => "reader",
            Op::Write | Op::Flush | Op::Close => "writer",
        }
    }
}

/// Counts fruitless `Ready` results in a row and turns a stream that keeps
/// returning them into an error. Lives inside the future (or the type) that
/// loops, so the streak survives across polls.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ProgressGuard {
    interrupted: u8,
    would_block: u8,
}

impl ProgressGuard {
    pub(crate) const fn new() -> ProgressGuard {
        ProgressGuard {
            interrupted: 0,
            would_block: 0,
        }
    }

    /// Judges `poll_read` into a buffer of `len` bytes. `Some(0)` is end of
    /// file (when `len > 0`).
    #[inline]
    pub(crate) fn read(
        &mut self,
        poll: Poll<io::Result<usize>>,
        len: usize,
    ) -> Poll<io::Result<Option<usize>>> {
        self.judge(Op::Read, poll)
            .map(|res| res.and_then(|n| n.map(|n| check_read_len(n, len)).transpose()))
    }

    /// Judges `poll_fill_buf`. An empty slice is end of file.
    pub(crate) fn fill_buf<'a>(
        &mut self,
        poll: Poll<io::Result<&'a [u8]>>,
    ) -> Poll<io::Result<Option<&'a [u8]>>> {
        self.judge(Op::FillBuf, poll)
    }

    /// Judges `poll_write` of a buffer of `len` bytes: `Ok(0)` for a
    /// non-empty buffer is `WriteZero` at once.
    #[inline]
    pub(crate) fn write(
        &mut self,
        poll: Poll<io::Result<usize>>,
        len: usize,
    ) -> Poll<io::Result<Option<usize>>> {
        self.judge(Op::Write, poll).map(|res| match res? {
            Some(0) if len > 0 => Err(write_zero()),
            Some(n) if n > len => Err(over_reported_write(n, len)),
            other => Ok(other),
        })
    }

    /// Judges `poll_flush`.
    pub(crate) fn flush(&mut self, poll: Poll<io::Result<()>>) -> Poll<io::Result<Option<()>>> {
        self.judge(Op::Flush, poll)
    }

    /// Judges `poll_close`.
    pub(crate) fn close(&mut self, poll: Poll<io::Result<()>>) -> Poll<io::Result<Option<()>>> {
        self.judge(Op::Close, poll)
    }

    /// Progress and `Pending` (every call on the hot path) are judged
    /// inline; errors go to [`judge_error`](Self::judge_error).
    #[inline]
    fn judge<T>(&mut self, op: Op, poll: Poll<io::Result<T>>) -> Poll<io::Result<Option<T>>> {
        match poll {
            Poll::Pending => {
                *self = ProgressGuard::new();
                Poll::Pending
            }
            Poll::Ready(Ok(value)) => {
                *self = ProgressGuard::new();
                Poll::Ready(Ok(Some(value)))
            }
            Poll::Ready(Err(e)) => Poll::Ready(self.judge_error(op, e).map(|()| None)),
        }
    }

    /// `Ok(())`: retry at once; `Err`: give up with it.
    #[cold]
    #[inline(never)]
    fn judge_error(&mut self, op: Op, e: io::Error) -> io::Result<()> {
        match e.kind() {
            ErrorKind::Interrupted => {
                self.interrupted += 1;
                if self.interrupted >= MAX_FRUITLESS {
                    *self = ProgressGuard::new();
                    Err(Stalled::error(op, Stall::Interrupted, e))
                } else {
                    Ok(())
                }
            }
            ErrorKind::WouldBlock => {
                self.would_block += 1;
                if self.would_block >= MAX_FRUITLESS {
                    *self = ProgressGuard::new();
                    Err(Stalled::error(op, Stall::WouldBlock, e))
                } else {
                    Ok(())
                }
            }
            _ => {
                *self = ProgressGuard::new();
                Err(e)
            }
        }
    }
}

/// Checks a single `poll_read`'s count against the buffer it was given.
/// Used by the types that read once per call (`BufReader`, `Take`, ...), so
/// a reader that over-reports cannot make them slice out of bounds.
#[inline]
pub(crate) fn check_read_len(n: usize, len: usize) -> io::Result<usize> {
    if n <= len {
        Ok(n)
    } else {
        Err(over_reported_read(n, len))
    }
}

/// Checks a single `poll_write`'s count against the buffer it was given,
/// for the futures that write once per call (`write_buf`).
#[inline]
pub(crate) fn check_write_len(n: usize, len: usize) -> io::Result<usize> {
    if n <= len {
        Ok(n)
    } else {
        Err(over_reported_write(n, len))
    }
}

#[cold]
#[inline(never)]
fn over_reported_read(n: usize, len: usize) -> io::Error {
    io::Error::new(
        ErrorKind::InvalidData,
        format!("the reader reported reading {n} bytes into a {len}-byte buffer"),
    )
}

/// The error for a writer that claims to have written more than it was
/// given.
#[cold]
#[inline(never)]
fn over_reported_write(n: usize, len: usize) -> io::Error {
    io::Error::new(
        ErrorKind::InvalidData,
        format!("the writer reported writing {n} bytes of a {len}-byte buffer"),
    )
}

/// The error for a writer that accepts zero bytes of a non-empty buffer.
#[cold]
#[inline(never)]
pub(crate) fn write_zero() -> io::Error {
    io::Error::new(
        ErrorKind::WriteZero,
        "the writer accepted 0 bytes of a non-empty buffer (poll_write returned Ok(0)); \
         it can take no more data",
    )
}

#[derive(Clone, Copy, Debug)]
enum Stall {
    Interrupted,
    WouldBlock,
}

/// The error a guard returns for a stream that keeps returning `Ready`
/// without progress. Its kind is `Other`, so that callers that retry
/// `Interrupted` or treat `WouldBlock` as "not ready" do not spin on it.
#[derive(Debug)]
struct Stalled {
    op: Op,
    stall: Stall,
    last: io::Error,
}

impl Stalled {
    fn error(op: Op, stall: Stall, last: io::Error) -> io::Error {
        io::Error::other(Stalled { op, stall, last })
    }
}

impl fmt::Display for Stalled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (role, method) = (self.op.role(), self.op.method());
        match self.stall {
            Stall::Interrupted => write!(
                f,
                "the {role} keeps being interrupted: {method} returned ErrorKind::Interrupted \
                 {MAX_FRUITLESS} times in a row without making progress; giving up instead of \
                 retrying forever (last error: {})",
                self.last
            ),
            Stall::WouldBlock => write!(
                f,
                "the {role} returned WouldBlock as Ready: {method} returned \
                 Poll::Ready(Err(WouldBlock)) {MAX_FRUITLESS} times in a row; a stream that is \
                 not ready must return Poll::Pending and arrange a wake-up (last error: {})",
                self.last
            ),
        }
    }
}

impl StdError for Stalled {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&self.last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err<T>(kind: ErrorKind) -> Poll<io::Result<T>> {
        Poll::Ready(Err(kind.into()))
    }

    #[test]
    fn interrupted_is_retried_then_refused() {
        let mut guard = ProgressGuard::new();
        for _ in 1..MAX_FRUITLESS {
            assert!(matches!(
                guard.read(err(ErrorKind::Interrupted), 8),
                Poll::Ready(Ok(None))
            ));
        }
        let Poll::Ready(Err(e)) = guard.read(err(ErrorKind::Interrupted), 8) else {
            panic!("expected an error");
        };
        assert_eq!(e.kind(), ErrorKind::Other);
        assert!(e.to_string().contains("keeps being interrupted"), "{e}");
    }

    #[test]
    fn progress_and_pending_reset_the_streak() {
        let mut guard = ProgressGuard::new();
        for round in 0..10 {
            for _ in 1..MAX_FRUITLESS {
                assert!(matches!(
                    guard.write(err(ErrorKind::WouldBlock), 8),
                    Poll::Ready(Ok(None))
                ));
            }
            if round % 2 == 0 {
                assert!(matches!(
                    guard.write(Poll::Ready(Ok(3)), 8),
                    Poll::Ready(Ok(Some(3)))
                ));
            } else {
                assert!(guard.write(Poll::Pending, 8).is_pending());
            }
        }
    }

    #[test]
    fn contract_breaches_are_errors() {
        let mut guard = ProgressGuard::new();
        let kind = |p: Poll<io::Result<Option<usize>>>| match p {
            Poll::Ready(Err(e)) => Some(e.kind()),
            _ => None,
        };
        assert_eq!(
            kind(guard.write(Poll::Ready(Ok(0)), 8)),
            Some(ErrorKind::WriteZero)
        );
        assert!(matches!(
            guard.write(Poll::Ready(Ok(0)), 0),
            Poll::Ready(Ok(Some(0)))
        ));
        assert_eq!(
            kind(guard.read(Poll::Ready(Ok(9)), 8)),
            Some(ErrorKind::InvalidData)
        );
        assert!(matches!(
            guard.read(Poll::Ready(Ok(0)), 8),
            Poll::Ready(Ok(Some(0)))
        ));
        assert_eq!(
            kind(guard.read(err(ErrorKind::ConnectionReset), 8)),
            Some(ErrorKind::ConnectionReset)
        );
    }
}
