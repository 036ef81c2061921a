//! The cursor of a [`File`](super::File): its reads, handed-off writes and
//! seeks, one operation at a time.
//!
//! A file has one position, kept by the kernel, so operations that use it
//! cannot overlap: the state is either idle, holding a buffer, busy with
//! one operation that owns that buffer, or writing. A read asks the kernel
//! for at most what the caller's slice can take, into the buffer, and
//! copies it out; if the caller went away meanwhile, the data waits in the
//! buffer for the next read, so nothing read from the file is lost. A write
//! copies the caller's bytes into a buffer, starts the operation and
//! reports success at once; its result is collected by whatever comes next
//! (a read, a write, a flush, a seek), which reports a failure. Through
//! io_uring, a few writes may be in flight at once ([`WriteQueue`]); any
//! other operation first waits for all of them. Data read but not yet
//! handed out sits ahead of the logical position, so writing, seeking and
//! handing the descriptor out first move the kernel's position back over
//! it.

use super::backend::{self, Backend};
use super::read_path::{try_cached, CacheRead};
use crate::driver::uring::ops::{self, CURRENT_POSITION};
use crate::driver::uring::write_queue::WriteQueue;
use crate::driver::Handle as DriverHandle;
use crate::runtime::coop;
use crate::runtime::task::JoinHandle;
use std::fs::File as StdFile;
use std::future::Future;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::mem::MaybeUninit;
use std::os::fd::AsFd;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

/// Default largest read or write handed to the kernel at once.
pub(super) const MAX_BUF: usize = 2 * 1024 * 1024;

pub(crate) struct Inner {
    state: State,
    /// Where operations run; found on the first one.
    backend: Option<Backend>,
    /// Reads try the page cache first (until this file turns out not to
    /// support it).
    page_cache_first: Option<bool>,
    /// Writes through io_uring may name their offsets (a regular file not
    /// opened for appending); found on the first write.
    positioned_writes: Option<bool>,
    /// A seek started through Tokio's two-step `AsyncSeek`.
    #[cfg(feature = "tokio-io")]
    pending_seek: Option<SeekFrom>,
}

enum State {
    Idle(Buf),
    Busy(Pending),
    /// Handed-off writes through io_uring.
    Writing(WriteQueue<Arc<StdFile>>),
}

/// Bytes read from the file and not yet handed out: `data[pos..]`.
#[derive(Default)]
struct Buf {
    data: Vec<u8>,
    pos: usize,
}

impl Buf {
    fn unread(&self) -> usize {
        self.data.len() - self.pos
    }

    fn copy_to(&mut self, dst: &mut [u8]) -> usize {
        let n = self.unread().min(dst.len());
        dst[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        n
    }

    /// The empty vector, for the next operation.
    fn take(&mut self) -> Vec<u8> {
        let mut data = std::mem::take(&mut self.data);
        data.clear();
        self.pos = 0;
        data
    }

    fn from_vec(data: Vec<u8>) -> Buf {
        Buf { data, pos: 0 }
    }
}

/// The operation in flight, whichever engine runs it.
enum Pending {
    Read(ops::Read<Arc<StdFile>>),
    BlockingRead(JoinHandle<(io::Result<usize>, Vec<u8>)>),
    BlockingWrite(JoinHandle<(io::Result<()>, Vec<u8>)>),
}

enum Outcome {
    Read(io::Result<usize>),
    Write(io::Result<()>),
}

fn lost(err: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!(
        "a vigil::fs operation on the blocking pool did not finish: {err}"
    ))
}

impl Pending {
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<(Outcome, Vec<u8>)> {
        Poll::Ready(match self {
            Pending::Read(op) => {
                let (res, _std, data) = ready!(Pin::new(op).poll(cx));
                (Outcome::Read(res), data)
            }
            Pending::BlockingRead(join) => {
                let (res, data) =
                    ready!(Pin::new(join).poll(cx)).unwrap_or_else(|e| (Err(lost(e)), Vec::new()));
                (Outcome::Read(res), data)
            }
            Pending::BlockingWrite(join) => {
                let (res, data) =
                    ready!(Pin::new(join).poll(cx)).unwrap_or_else(|e| (Err(lost(e)), Vec::new()));
                (Outcome::Write(res), data)
            }
        })
    }
}

impl Inner {
    pub(super) fn new() -> Inner {
        Inner {
            state: State::Idle(Buf::default()),
            backend: None,
            page_cache_first: None,
            positioned_writes: None,
            #[cfg(feature = "tokio-io")]
            pending_seek: None,
        }
    }

    pub(super) fn is_idle(&self) -> bool {
        matches!(self.state, State::Idle(_))
    }

    fn backend(&mut self) -> io::Result<&Backend> {
        if self.backend.is_none() {
            let engine = backend::current_engine()?;
            self.page_cache_first = Some(engine.page_cache_first);
            self.backend = Some(engine.backend);
        }
        Ok(self.backend.as_ref().expect("just set"))
    }

    /// The page-cache fast path of `poll_read`: reads straight into `dst`
    /// if the data is cached. `None` means take the slow path.
    fn poll_read_cached(
        &mut self,
        cx: &mut Context<'_>,
        std: &StdFile,
        dst: &mut [u8],
    ) -> Option<Poll<io::Result<usize>>> {
        if self.page_cache_first.is_none() {
            if let Err(err) = self.backend() {
                return Some(Poll::Ready(Err(err)));
            }
        }
        if self.page_cache_first != Some(true) {
            return None;
        }
        if coop::poll_proceed(cx).is_pending() {
            return Some(Poll::Pending);
        }
        // SAFETY: the slice is only written through, with initialised
        // bytes (by the kernel), so viewing it as possibly uninitialised
        // cannot make any byte of it uninitialised.
        let dst = unsafe { &mut *(dst as *mut [u8] as *mut [MaybeUninit<u8>]) };
        match try_cached(std, dst, CURRENT_POSITION) {
            CacheRead::Read(n) => return Some(Poll::Ready(Ok(n))),
            CacheRead::Miss => {}
            CacheRead::Unsupported => self.page_cache_first = Some(false),
        }
        coop::refund();
        None
    }

    fn start_read(&mut self, std: &Arc<StdFile>, mut data: Vec<u8>, len: usize) -> io::Result<()> {
        data.reserve(len);
        let pending = match self.backend()? {
            Backend::Uring(driver) => Pending::Read(ops::Read::new(
                driver.clone(),
                std.clone(),
                data,
                len,
                CURRENT_POSITION,
            )),
            Backend::Blocking => {
                let std = std.clone();
                Pending::BlockingRead(spawn_blocking(move || {
                    data.resize(len, 0);
                    let res = (&*std).read(&mut data);
                    data.truncate(*res.as_ref().unwrap_or(&0));
                    (res, data)
                })?)
            }
        };
        self.state = State::Busy(pending);
        Ok(())
    }

    /// Starts a write of `data` on the blocking pool.
    fn start_blocking_write(&mut self, std: &Arc<StdFile>, data: Vec<u8>) -> io::Result<()> {
        let std = std.clone();
        self.state = State::Busy(Pending::BlockingWrite(spawn_blocking(move || {
            let res = (&*std).write_all(&data);
            (res, data)
        })?));
        Ok(())
    }

    /// An empty write queue on `driver`'s ring, its writes at their own
    /// offsets from the current position if the file allows it.
    fn write_queue(
        &mut self,
        driver: Arc<DriverHandle>,
        std: &StdFile,
        buffer: Vec<u8>,
    ) -> io::Result<WriteQueue<Arc<StdFile>>> {
        let positioned = match self.positioned_writes {
            Some(positioned) => positioned,
            None => {
                let regular = std.metadata()?.file_type().is_file();
                let positioned = regular && !crate::sys::file::is_append(std.as_fd())?;
                *self.positioned_writes.insert(positioned)
            }
        };
        let offset = match positioned {
            true => Some((&*std).stream_position()?),
            false => None,
        };
        Ok(WriteQueue::new(driver, offset, buffer))
    }

    /// Waits for the operations in flight; a read's data stays buffered,
    /// a write's failure is returned.
    fn poll_pending(
        &mut self,
        cx: &mut Context<'_>,
        std: &StdFile,
    ) -> Poll<io::Result<Option<usize>>> {
        let pending = match &mut self.state {
            State::Idle(_) => return Poll::Ready(Ok(None)),
            State::Busy(pending) => pending,
            State::Writing(queue) => {
                ready!(queue.poll_drain(cx));
                let error = queue.take_error();
                let end = queue.end_offset();
                self.state = State::Idle(Buf::from_vec(queue.buffer()));
                // The writes named their offsets: the position moves past
                // them now (after a failure too, as if all had gone in).
                if let Some(end) = end {
                    (&*std).seek(SeekFrom::Start(end))?;
                }
                return Poll::Ready(error.map_or(Ok(None), Err));
            }
        };
        let (outcome, mut data) = ready!(pending.poll(cx));
        if matches!(outcome, Outcome::Write(_)) {
            // Written data is not read data: nothing to hand out.
            data.clear();
        }
        self.state = State::Idle(Buf::from_vec(data));
        Poll::Ready(match outcome {
            Outcome::Read(res) => res.map(Some),
            Outcome::Write(res) => res.map(|()| None),
        })
    }

    /// Moves the kernel's position back over data read but not handed out,
    /// and forgets that data.
    pub(super) fn rewind_unread(&mut self, std: &StdFile) -> io::Result<()> {
        if let State::Idle(buf) = &mut self.state {
            let unread = buf.unread();
            if unread > 0 {
                buf.take();
                (&*std).seek(SeekFrom::Current(-(unread as i64)))?;
            }
        }
        Ok(())
    }

    /// Reads at most `max_buf` bytes per operation handed to the kernel.
    pub(super) fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        std: &Arc<StdFile>,
        dst: &mut [u8],
        max_buf: usize,
    ) -> Poll<io::Result<usize>> {
        if dst.is_empty() {
            return Poll::Ready(Ok(0));
        }
        loop {
            match &mut self.state {
                State::Idle(buf) => {
                    if buf.unread() > 0 {
                        return Poll::Ready(Ok(buf.copy_to(dst)));
                    }
                    if let Some(poll) = self.poll_read_cached(cx, std, dst) {
                        return poll;
                    }
                    let State::Idle(buf) = &mut self.state else {
                        unreachable!("still idle")
                    };
                    let data = buf.take();
                    let len = dst.len().min(max_buf);
                    self.start_read(std, data, len)?;
                }
                State::Busy(_) | State::Writing(_) => match ready!(self.poll_pending(cx, std)) {
                    Ok(Some(0)) => return Poll::Ready(Ok(0)),
                    Ok(_) => {}
                    Err(err) => return Poll::Ready(Err(err)),
                },
            }
        }
    }

    /// Hands at most `max_buf` bytes of `src` to the kernel.
    pub(super) fn poll_write(
        &mut self,
        cx: &mut Context<'_>,
        std: &Arc<StdFile>,
        src: &[u8],
        max_buf: usize,
    ) -> Poll<io::Result<usize>> {
        if src.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let n = src.len().min(max_buf);
        loop {
            match &mut self.state {
                State::Idle(_) => {
                    self.rewind_unread(std)?;
                    let State::Idle(buf) = &mut self.state else {
                        unreachable!("still idle")
                    };
                    let mut data = buf.take();
                    match self.backend()? {
                        Backend::Uring(driver) => {
                            let driver = driver.clone();
                            let queue = self.write_queue(driver, std, data)?;
                            self.state = State::Writing(queue);
                        }
                        Backend::Blocking => {
                            data.extend_from_slice(&src[..n]);
                            self.start_blocking_write(std, data)?;
                            return Poll::Ready(Ok(n));
                        }
                    }
                }
                State::Writing(queue) => {
                    if let Some(err) = queue.take_error() {
                        return Poll::Ready(Err(err));
                    }
                    ready!(queue.poll_room(cx, n));
                    if let Some(err) = queue.take_error() {
                        return Poll::Ready(Err(err));
                    }
                    let mut data = queue.buffer();
                    data.extend_from_slice(&src[..n]);
                    queue.submit(std, data);
                    return Poll::Ready(Ok(n));
                }
                State::Busy(_) => ready!(self.poll_pending(cx, std)).map(drop)?,
            }
        }
    }

    /// Waits until nothing is in flight and reports a failed write.
    pub(super) fn poll_flush(
        &mut self,
        cx: &mut Context<'_>,
        std: &StdFile,
    ) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx, std))?;
        Poll::Ready(Ok(()))
    }

    /// As `poll_flush`, and also lines the kernel's position up with the
    /// logical one (for operations that use the descriptor directly).
    pub(super) fn poll_settle(
        &mut self,
        cx: &mut Context<'_>,
        std: &StdFile,
    ) -> Poll<io::Result<()>> {
        ready!(self.poll_flush(cx, std))?;
        Poll::Ready(self.rewind_unread(std))
    }

    pub(super) fn poll_seek(
        &mut self,
        cx: &mut Context<'_>,
        std: &StdFile,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        ready!(self.poll_flush(cx, std))?;
        let State::Idle(buf) = &mut self.state else {
            unreachable!("idle after a flush")
        };
        let unread = buf.unread() as i64;
        buf.take();
        let pos = match pos {
            SeekFrom::Current(offset) => SeekFrom::Current(offset - unread),
            other => other,
        };
        // `lseek` only moves a number in the open file: no I/O, no waiting.
        Poll::Ready((&*std).seek(pos))
    }
}

#[cfg(feature = "tokio-io")]
impl super::File {
    /// Tokio's `AsyncSeek::start_seek`: records the seek, which
    /// [`poll_complete_seek`](Self::poll_complete_seek) performs.
    pub(crate) fn start_seek(&mut self, pos: SeekFrom) -> io::Result<()> {
        let inner = self.inner.get_mut();
        if inner.pending_seek.is_some() {
            return Err(io::Error::other(
                "start_seek called while another seek is in progress",
            ));
        }
        inner.pending_seek = Some(pos);
        Ok(())
    }

    /// Tokio's `AsyncSeek::poll_complete`: the position after the started
    /// seek, or the current position if none was started.
    pub(crate) fn poll_complete_seek(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        let inner = self.inner.get_mut();
        let pos = inner.pending_seek.unwrap_or(SeekFrom::Current(0));
        let res = ready!(inner.poll_seek(cx, &self.std, pos));
        inner.pending_seek = None;
        Poll::Ready(res)
    }
}

fn spawn_blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> io::Result<JoinHandle<T>> {
    let handle = crate::runtime::Handle::try_current().map_err(lost)?;
    Ok(handle.spawn_blocking(f))
}

impl futures_io::AsyncRead for super::File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let me = self.get_mut();
        me.inner.get_mut().poll_read(cx, &me.std, buf, me.max_buf)
    }
}

impl futures_io::AsyncWrite for super::File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let me = self.get_mut();
        me.inner.get_mut().poll_write(cx, &me.std, buf, me.max_buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let me = self.get_mut();
        me.inner.get_mut().poll_flush(cx, &me.std)
    }

    /// Flushes; the file is closed when it is dropped.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let me = self.get_mut();
        me.inner.get_mut().poll_flush(cx, &me.std)
    }
}

impl futures_io::AsyncSeek for super::File {
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        let me = self.get_mut();
        me.inner.get_mut().poll_seek(cx, &me.std, pos)
    }
}
