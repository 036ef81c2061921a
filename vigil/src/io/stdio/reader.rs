//! [`Stdin`]: reads of descriptor 0 through the ring or the blocking pool.

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

/// The process's standard input, from [`stdin`](super::stdin).
///
/// Descriptor 0 is shared with the parent process, so vigil leaves it in
/// blocking mode (the non-blocking flag would change the parent's terminal
/// or pipe too) and hands each read to someone who may wait: the kernel,
/// as an io_uring operation, on a runtime with a ring (the default), where
/// a read waiting for input costs no thread and is cancelled when the
/// handle is dropped; otherwise a thread of the blocking pool, where it
/// cannot be cancelled and runtime shutdown waits for it (as in Tokio).
/// Reads use the descriptor directly, with no `std::io` buffer between:
/// mixing them with `std::io::stdin()` loses what std's buffer took.
///
/// `AsyncRead`: wrap it in a [`BufReader`](crate::io::BufReader) to read
/// lines. Reading is cancel-safe as long as the `Stdin` is kept: a read
/// in flight belongs to the handle, not to the future that started it,
/// and its bytes come out of the next read. Dropping the handle cancels
/// an io_uring read (bytes it had already taken are lost).
pub struct Stdin {
    pub(super) fd: StdFd,
    state: State,
}

enum State {
    /// `buf[pos..]` was read and not yet handed out.
    Idle {
        buf: Vec<u8>,
        pos: usize,
    },
    Uring(ops::Read<StdFd>),
    Blocking(JoinHandle<(io::Result<usize>, Vec<u8>)>),
}

impl Stdin {
    pub(super) fn new(fd: StdFd) -> Stdin {
        Stdin {
            fd,
            state: State::Idle {
                buf: Vec::new(),
                pos: 0,
            },
        }
    }

    /// Starts a read into `buf` (emptied first).
    fn start(&mut self, mut buf: Vec<u8>) -> io::Result<()> {
        buf.clear();
        buf.reserve(CHUNK);
        let fd = self.fd;
        let engine = match engine() {
            Ok(engine) => engine,
            Err(e) => {
                let pos = buf.len();
                self.state = State::Idle { buf, pos };
                return Err(e);
            }
        };
        self.state = match engine {
            Engine::Uring(driver) => {
                State::Uring(ops::Read::new(driver, fd, buf, CHUNK, CURRENT_POSITION))
            }
            Engine::Blocking(handle) => State::Blocking(handle.spawn_blocking(move || {
                buf.resize(CHUNK, 0);
                let res = loop {
                    match pipe::read(fd.as_raw_fd(), &mut buf) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        res => break res,
                    }
                };
                buf.truncate(*res.as_ref().unwrap_or(&0));
                (res, buf)
            })),
        };
        Ok(())
    }
}

impl futures_io::AsyncRead for Stdin {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if out.is_empty() {
            return Poll::Ready(Ok(0));
        }
        loop {
            let (res, buf) = match &mut this.state {
                State::Idle { buf, pos } if *pos < buf.len() => {
                    let n = out.len().min(buf.len() - *pos);
                    out[..n].copy_from_slice(&buf[*pos..*pos + n]);
                    *pos += n;
                    return Poll::Ready(Ok(n));
                }
                State::Idle { buf, .. } => {
                    let buf = std::mem::take(buf);
                    this.start(buf)?;
                    continue;
                }
                State::Uring(op) => {
                    let (res, _fd, buf) = ready!(Pin::new(op).poll(cx));
                    (res, buf)
                }
                State::Blocking(task) => ready!(Pin::new(task).poll(cx)).map_err(lost)?,
            };
            this.state = State::Idle { buf, pos: 0 };
            match res {
                Ok(0) => return Poll::Ready(Ok(0)),
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl fmt::Debug for Stdin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stdin").finish_non_exhaustive()
    }
}
