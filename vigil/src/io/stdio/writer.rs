//! [`Stdout`] and [`Stderr`]: handed-off writes of descriptors 1 and 2.

use super::{engine, lost, Engine, StdFd, CHUNK};
use crate::driver::uring::ops::{self, CURRENT_POSITION};
use crate::runtime::task::JoinHandle;
use crate::sys::pipe;
use std::fmt;
use std::future::Future;
use std::io;
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// Writes to one standard descriptor: at most one operation in flight,
/// which owns the buffer until the whole of it is written.
struct Writer {
    fd: StdFd,
    state: State,
}

enum State {
    Idle(Vec<u8>),
    /// `buf[..written]` is out; the operation writes from `written`.
    Uring(ops::Write<StdFd>, usize),
    Blocking(JoinHandle<(io::Result<()>, Vec<u8>)>),
}

impl Writer {
    fn new(fd: StdFd) -> Writer {
        Writer {
            fd,
            state: State::Idle(Vec::new()),
        }
    }

    /// Starts writing `buf[written..]`; on failure (outside a runtime) the
    /// bytes are dropped and the writer is idle.
    fn start(&mut self, buf: Vec<u8>, written: usize) -> io::Result<()> {
        let fd = self.fd;
        let engine = match engine() {
            Ok(engine) => engine,
            Err(e) => {
                // Not started: nothing of `buf[written..]` goes out.
                let mut buf = buf;
                buf.clear();
                self.state = State::Idle(buf);
                return Err(e);
            }
        };
        self.state = match engine {
            Engine::Uring(driver) => State::Uring(
                ops::Write::new(driver, fd, buf, written, CURRENT_POSITION),
                written,
            ),
            Engine::Blocking(handle) => State::Blocking(handle.spawn_blocking(move || {
                let mut rest = &buf[written..];
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
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            let (res, mut buf) = match &mut self.state {
                State::Idle(_) => return Poll::Ready(Ok(())),
                State::Uring(op, written) => {
                    let (res, _fd, buf) = ready!(Pin::new(op).poll(cx));
                    match res {
                        Ok(0) => (Err(io::ErrorKind::WriteZero.into()), buf),
                        Ok(n) if *written + n < buf.len() => {
                            let written = *written + n;
                            self.start(buf, written)?;
                            continue;
                        }
                        Ok(_) => (Ok(()), buf),
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                            let written = *written;
                            self.start(buf, written)?;
                            continue;
                        }
                        Err(e) => (Err(e), buf),
                    }
                }
                State::Blocking(task) => ready!(Pin::new(task).poll(cx)).map_err(lost)?,
            };
            // What failed to go out is dropped: the stream's position is
            // unknown after a failed write, and resending could duplicate.
            buf.clear();
            self.state = State::Idle(buf);
            return Poll::Ready(res);
        }
    }

    fn poll_write(&mut self, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        ready!(self.poll_idle(cx))?;
        if data.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let State::Idle(buf) = &mut self.state else {
            unreachable!("poll_idle returned with an operation in flight")
        };
        let mut buf = std::mem::take(buf);
        let n = data.len().min(CHUNK);
        buf.extend_from_slice(&data[..n]);
        self.start(buf, 0)?;
        Poll::Ready(Ok(n))
    }
}

/// Writes through a [`Writer`] field named `w`.
macro_rules! std_writer {
    ($(#[$attr:meta])* $name:ident) => {
        $(#[$attr])*
        pub struct $name {
            w: Writer,
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
