//! The buffer behind [`duplex`](super::duplex) and
//! [`simplex`](super::simplex): one direction of an in-memory pipe.
//!
//! A `Pipe` is a bounded byte queue with at most one waiting reader and one
//! waiting writer. A reader finding it empty waits for a write (or end of
//! file once the writer closed); a writer finding it full waits for a read.
//! The buffer is a `Vec` consumed from the front: the read prefix is moved
//! out only once it is at least as long as what remains, so each byte is
//! moved at most once on average and the allocation stays under twice the
//! bound. Every read and write that moves bytes (or reports end of file)
//! spends one unit of the task's cooperative budget, since a pipe can stay
//! ready for as long as both ends keep going.

use crate::runtime::coop::poll_proceed;
use std::io;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{ready, Context, Poll, Waker};

/// One direction of an in-memory pipe: a bounded byte buffer with a
/// waiting reader and a waiting writer.
pub(super) struct Pipe {
    // Unread bytes are `buf[start..]`.
    buf: Vec<u8>,
    start: usize,
    pub(super) max: usize,
    /// The writing end shut down or was dropped: end of file after `buf`.
    writer_closed: bool,
    /// The reading end was dropped: writes fail.
    reader_gone: bool,
    read_waker: Option<Waker>,
    write_waker: Option<Waker>,
}

pub(super) fn lock(pipe: &Mutex<Pipe>) -> MutexGuard<'_, Pipe> {
    // No code panics while holding the lock; ignore poison all the same.
    pipe.lock().unwrap_or_else(PoisonError::into_inner)
}

fn register(slot: &mut Option<Waker>, cx: &Context<'_>) {
    match slot {
        Some(waker) if waker.will_wake(cx.waker()) => {}
        _ => *slot = Some(cx.waker().clone()),
    }
}

fn wake(slot: &mut Option<Waker>) {
    if let Some(waker) = slot.take() {
        waker.wake();
    }
}

impl Pipe {
    pub(super) fn new(max: usize) -> Pipe {
        Pipe {
            buf: Vec::new(),
            start: 0,
            max,
            writer_closed: false,
            reader_gone: false,
            read_waker: None,
            write_waker: None,
        }
    }

    pub(super) fn unread(&self) -> usize {
        self.buf.len() - self.start
    }

    pub(super) fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if out.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if self.unread() == 0 {
            if self.writer_closed {
                ready!(poll_proceed(cx));
                return Poll::Ready(Ok(0));
            }
            register(&mut self.read_waker, cx);
            return Poll::Pending;
        }
        ready!(poll_proceed(cx));
        let n = self.unread().min(out.len());
        out[..n].copy_from_slice(&self.buf[self.start..self.start + n]);
        self.start += n;
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        wake(&mut self.write_waker);
        Poll::Ready(Ok(n))
    }

    pub(super) fn poll_write(
        &mut self,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.writer_closed {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "write to an in-memory pipe after its shutdown",
            )));
        }
        if self.reader_gone {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "write to an in-memory pipe whose reader was dropped",
            )));
        }
        if data.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let room = self.max - self.unread();
        if room == 0 {
            register(&mut self.write_waker, cx);
            return Poll::Pending;
        }
        ready!(poll_proceed(cx));
        // Move the unread bytes to the front once the read prefix is at
        // least as long as they are: each byte is moved at most once on
        // average, and `buf` stays under twice `max`.
        if self.start > 0 && self.start >= self.unread() {
            self.buf.copy_within(self.start.., 0);
            self.buf.truncate(self.unread());
            self.start = 0;
        }
        let n = room.min(data.len());
        self.buf.extend_from_slice(&data[..n]);
        wake(&mut self.read_waker);
        Poll::Ready(Ok(n))
    }

    pub(super) fn close_write(&mut self) {
        self.writer_closed = true;
        wake(&mut self.read_waker);
    }

    /// The reading end is gone: later writes fail, and the buffered bytes,
    /// which nobody can read any more, are freed.
    pub(super) fn close_read(&mut self) {
        self.reader_gone = true;
        self.buf = Vec::new();
        self.start = 0;
        wake(&mut self.write_waker);
    }
}
