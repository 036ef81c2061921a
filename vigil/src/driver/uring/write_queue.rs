//! Handed-off writes through io_uring, several in flight at once: the
//! engine of `fs::File`'s writes and of the standard output streams'.
//!
//! A buffered write to an ext4 file cannot be done without possibly
//! blocking (the file system refuses `RWF_NOWAIT` for it), so io_uring hands
//! every such write to one of its kernel worker threads. With one write in
//! flight at a time, each write costs two thread wake-ups: the worker's, to
//! start it, and the task's, to learn it finished and hand over the next
//! one; on two cores that hand-off, not the copy into the page cache, is
//! what limits a stream of writes. io_uring runs the buffered writes to one
//! file in submission order on one worker, so with a few of them queued
//! the worker goes from one to the next without sleeping, and the task only
//! waits when the queue is full. Measured on the development machine
//! (64 KiB writes to a cached ext4 file, the ring driven directly): one
//! write in flight 0.86-0.89 GB/s, two 1.8-2.6, four 2.6-3.3, eight no
//! better; blocking `write(2)` 1.3-1.8 GB/s.
//!
//! Each write names its own offset: the file's position when the first
//! write of the run was queued, plus the bytes queued before it. Writes
//! that finish in any order, and short writes (the rest goes again at its
//! own offset), therefore cannot misplace data. The kernel's position is
//! left alone meanwhile and moved to the end of the run when the queue
//! drains ([`WriteQueue::end_offset`]). Only regular files opened without
//! `O_APPEND` work that way; for the others (pipes, devices, appending
//! files, where the offset means nothing) the queue holds one write at a
//! time at the current position (the standard streams always do).

use super::ops::{self, CURRENT_POSITION};
use crate::driver::Handle as DriverHandle;
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

/// Most writes in flight at once (more gained nothing in the measurement
/// above).
const MAX_IN_FLIGHT: usize = 4;

/// Most bytes in flight at once when more than one write is; a single
/// write may be larger (up to the file's largest buffer).
const MAX_IN_FLIGHT_BYTES: usize = 1 << 20;

/// Writes to `F`'s descriptor, oldest first; see the module docs.
pub(crate) struct WriteQueue<F: AsRawFd + Clone + Send + 'static> {
    driver: Arc<DriverHandle>,
    /// Oldest first.
    in_flight: VecDeque<InFlight<F>>,
    /// Bytes in flight (whole buffers).
    bytes: usize,
    /// Where the next write goes; `None`: at the current position, one
    /// write at a time.
    next_offset: Option<u64>,
    /// The first failure, for the next caller to report.
    error: Option<io::Error>,
    /// Emptied buffers of finished writes, for the next ones.
    spare: Vec<Vec<u8>>,
}

struct InFlight<F: AsRawFd + Send + 'static> {
    op: ops::Write<F>,
    /// Offset of the buffer's first byte (`None`: the current position).
    offset: Option<u64>,
    /// Bytes of the buffer written so far (before a short write's rest).
    start: usize,
}

impl<F: AsRawFd + Clone + Send + 'static> WriteQueue<F> {
    /// An empty queue; `next_offset` is the file's position if writes may
    /// name their offsets, `buffer` a spare buffer to start with.
    pub(crate) fn new(
        driver: Arc<DriverHandle>,
        next_offset: Option<u64>,
        buffer: Vec<u8>,
    ) -> WriteQueue<F> {
        WriteQueue {
            driver,
            in_flight: VecDeque::with_capacity(MAX_IN_FLIGHT),
            bytes: 0,
            next_offset,
            error: None,
            spare: vec![buffer],
        }
    }

    fn has_room(&self, len: usize) -> bool {
        self.in_flight.is_empty()
            || (self.next_offset.is_some()
                && self.in_flight.len() < MAX_IN_FLIGHT
                && self.bytes + len <= MAX_IN_FLIGHT_BYTES)
    }

    /// The failure of an earlier write, if any (reported once).
    pub(crate) fn take_error(&mut self) -> Option<io::Error> {
        self.error.take()
    }

    /// Waits until a write of `len` bytes may be queued; a write that
    /// fails meanwhile is recorded for [`take_error`](Self::take_error).
    pub(crate) fn poll_room(&mut self, cx: &mut Context<'_>, len: usize) -> Poll<()> {
        while !self.has_room(len) {
            ready!(self.poll_oldest(cx));
        }
        Poll::Ready(())
    }

    /// An empty buffer for the next write.
    pub(crate) fn buffer(&mut self) -> Vec<u8> {
        self.spare.pop().unwrap_or_default()
    }

    /// Queues `data` (check [`poll_room`](Self::poll_room) first).
    pub(crate) fn submit(&mut self, file: &F, data: Vec<u8>) {
        let offset = self.next_offset;
        if let Some(next) = &mut self.next_offset {
            *next += data.len() as u64;
        }
        self.bytes += data.len();
        let at = offset.unwrap_or(CURRENT_POSITION);
        let op = ops::Write::new(self.driver.clone(), file.clone(), data, 0, at);
        self.in_flight.push_back(InFlight {
            op,
            offset,
            start: 0,
        });
    }

    /// The driver whose ring the writes go through.
    pub(crate) fn driver(&self) -> &Arc<DriverHandle> {
        &self.driver
    }

    /// Waits for every write in flight (failures are recorded).
    pub(crate) fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        while !self.in_flight.is_empty() {
            ready!(self.poll_oldest(cx));
        }
        Poll::Ready(())
    }

    /// Where the kernel's position belongs once the queue has drained:
    /// after the last byte queued (`None` if the writes used the position
    /// themselves).
    pub(crate) fn end_offset(&self) -> Option<u64> {
        self.next_offset
    }

    /// Waits for the oldest write to finish, sending the rest of a short
    /// write again. Nothing in flight is `Ready` at once.
    fn poll_oldest(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(oldest) = self.in_flight.front_mut() else {
            return Poll::Ready(());
        };
        let (res, data) = loop {
            let (res, file, data) = ready!(Pin::new(&mut oldest.op).poll(cx));
            let again = match res {
                Ok(n) if n > 0 && oldest.start + n < data.len() => {
                    oldest.start += n;
                    true
                }
                Err(ref e) if e.kind() == io::ErrorKind::Interrupted => true,
                _ => false,
            };
            if !again {
                break (res, data);
            }
            let at = oldest
                .offset
                .map_or(CURRENT_POSITION, |o| o + oldest.start as u64);
            oldest.op = ops::Write::new(self.driver.clone(), file, data, oldest.start, at);
        };
        self.in_flight.pop_front();
        self.bytes -= data.len();
        let failure = match res {
            Ok(0) => Some(io::ErrorKind::WriteZero.into()),
            Ok(_) => None,
            Err(e) => Some(e),
        };
        if let Some(err) = failure {
            self.error.get_or_insert(err);
        }
        if self.spare.len() < MAX_IN_FLIGHT {
            let mut data = data;
            data.clear();
            self.spare.push(data);
        }
        Poll::Ready(())
    }
}
