//! [`Stdout`] and [`Stderr`]: handed-off writes of descriptors 1 and 2.

use super::{engine, lost, Engine, StdFd, CHUNK};
use crate::driver::uring::write_queue::WriteQueue;
use crate::runtime::task::JoinHandle;
use crate::sys::pipe;
use std::fmt;
use std::future::Future;
use std::io;
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

/// Writes to one standard descriptor: at most one operation in flight,
/// which owns the buffer until the whole of it is written (through
/// io_uring, a [`WriteQueue`] at the current position, which sends the
/// rest of a short write itself).
pub(super) struct Writer {
    pub(super) fd: StdFd,
    state: State,
}

enum State {
    Idle(Vec<u8>),
    Uring(WriteQueue<StdFd>),
    Blocking(JoinHandle<(io::Result<()>, Vec<u8>)>),
}

impl Writer {
    fn new(fd: StdFd) -> Writer {
        Writer {
            fd,
            state: State::Idle(Vec::new()),
        }
    }

    /// Starts writing `buf` on the current runtime; on failure (outside a
    /// runtime) the bytes are dropped and the writer is idle.
    fn start(&mut self, mut buf: Vec<u8>) -> io::Result<()> {
        let fd = self.fd;
        self.state = match engine() {
            Err(e) => {
                // Not started: nothing of `buf` goes out.
                buf.clear();
                self.state = State::Idle(buf);
                return Err(e);
            }
            Ok(Engine::Uring(driver)) => {
                // Writes use the position (a pipe or terminal has none).
                let mut queue = WriteQueue::new(driver, None, Vec::new());
                queue.submit(&fd, buf);
                State::Uring(queue)
            }
            Ok(Engine::Blocking(handle)) => State::Blocking(handle.spawn_blocking(move || {
                let mut rest = &buf[..];
                let res = loop {
                    if rest.is_empty() {
                        break Ok(());
                    }
                    match pipe::write(fd.as_raw_fd(), rest) {
                        Ok(0) => break Err(io::ErrorKind::WriteZero.into()),
                        Ok(n) => rest = &rest[n..],
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => break Err(e),
                    }
                };
                (res, buf)
            })),
        };
        Ok(())
    }

    /// Waits until nothing is in flight; the error of a failed write, once.
    /// What failed to go out is dropped: the stream's position is unknown
    /// after a failed write, and resending could duplicate.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.state {
            State::Idle(_) => Poll::Ready(Ok(())),
            State::Uring(queue) => {
                ready!(queue.poll_drain(cx));
                Poll::Ready(queue.take_error().map_or(Ok(()), Err))
            }
            State::Blocking(task) => {
                let (res, mut buf) =
                    ready!(Pin::new(task).poll(cx)).unwrap_or_else(|e| (Err(lost(e)), Vec::new()));
                buf.clear();
                self.state = State::Idle(buf);
                Poll::Ready(res)
            }
        }
    }

    fn poll_write(&mut self, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        ready!(self.poll_idle(cx))?;
        if data.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let n = data.len().min(CHUNK);
        let mut buf = match &mut self.state {
            State::Idle(buf) => std::mem::take(buf),
            State::Uring(queue) => {
                let same_ring = matches!(
                    crate::runtime::context::try_driver_handle(),
                    Some(driver) if Arc::ptr_eq(&driver, queue.driver())
                );
                if same_ring {
                    let mut buf = queue.buffer();
                    buf.extend_from_slice(&data[..n]);
                    queue.submit(&self.fd, buf);
                    return Poll::Ready(Ok(n));
                }
                // Used from another runtime now: start over on its engine.
                queue.buffer()
            }
            State::Blocking(_) => unreachable!("poll_idle returned with an operation in flight"),
        };
        buf.extend_from_slice(&data[..n]);
        self.start(buf)?;
        Poll::Ready(Ok(n))
    }
}

/// Writes through a [`Writer`] field named `w`.
macro_rules! std_writer {
    ($(#[$attr:meta])* $name:ident) => {
        $(#[$attr])*
        pub struct $name {
            pub(super) w: Writer,
        }

        impl $name {
            pub(super) fn new(fd: StdFd) -> $name {
                $name { w: Writer::new(fd) }
            }
        }

        impl futures_io::AsyncWrite for $name {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                self.get_mut().w.poll_write(cx, buf)
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.get_mut().w.poll_idle(cx)
            }

            /// Flushes; the descriptor itself stays open.
            fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.get_mut().w.poll_idle(cx)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name)).finish_non_exhaustive()
            }
        }
    };
}

std_writer!(
    /// The process's standard output, from [`stdout`](super::stdout).
    ///
    /// `AsyncWrite` with handed-off writes: a write returns once its bytes
    /// are in this handle's buffer; `flush` waits until they are written
    /// and reports a failure. `write_all` is not cancel-safe (bytes handed
    /// off before the cancellation are written, the rest are not); `flush`
    /// is. A write in flight when the handle is dropped still completes.
    Stdout
);

std_writer!(
    /// The process's standard error, from [`stderr`](super::stderr); the
    /// same contract as [`Stdout`].
    Stderr
);
