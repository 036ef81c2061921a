//! The zero-copy path of [`copy`](super::copy): when both ends are vigil
//! sockets, bytes move socket -> pipe -> socket with `splice(2)` and never
//! enter user memory.
//!
//! `copy` is generic over any reader and writer, so it finds out whether it
//! was handed sockets by comparing type ids (`typeid` works for types with
//! lifetimes, which `std::any::TypeId` does not). Only the owned types and
//! their owned halves qualify; everything else takes the buffered path.
//! The readiness pattern is the same as for reads and writes: splice until
//! `WouldBlock`, then wait for the reactor, spending one unit of budget per
//! completed splice.

use crate::driver::io::Direction;
use crate::net::{tcp, unix, TcpStream, UnixStream};
use crate::sys::pipe;
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::task::{Context, Poll};

/// The pipe buffer asked for: large enough to move big chunks per call.
const PIPE_SIZE: usize = 1 << 20;

/// A socket end that splice can read from or write to.
pub(crate) trait SpliceEnd: Sync {
    fn splice_fd(&self) -> RawFd;
    fn poll_splice(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        op: &mut dyn FnMut() -> io::Result<usize>,
    ) -> Poll<io::Result<usize>>;
}

macro_rules! splice_end {
    ($($t:ty),*) => {$(
        impl SpliceEnd for $t {
            fn splice_fd(&self) -> RawFd {
                self.as_raw_fd()
            }

            fn poll_splice(
                &self,
                cx: &mut Context<'_>,
                direction: Direction,
                op: &mut dyn FnMut() -> io::Result<usize>,
            ) -> Poll<io::Result<usize>> {
                self.poll_raw_io(cx, direction, op)
            }
        }
    )*};
}

splice_end!(TcpStream, UnixStream);

/// `io` as a splice end, if its type is one of vigil's sockets.
pub(crate) fn splice_end<T: ?Sized>(io: &T) -> Option<&dyn SpliceEnd> {
    let id = typeid::of::<T>();
    macro_rules! direct {
        ($t:ty) => {
            if id == typeid::of::<$t>() {
                // SAFETY: `T` is `$t` (equal type ids), a type without
                // lifetime parameters, so the cast only restores the type
                // that was erased by genericity.
                return Some(unsafe { &*(io as *const T as *const $t) });
            }
        };
    }
    macro_rules! half {
        ($t:ty, $s:ty) => {
            if id == typeid::of::<$t>() {
                // SAFETY: as above.
                let half = unsafe { &*(io as *const T as *const $t) };
                return Some(<$t as AsRef<$s>>::as_ref(half));
            }
        };
    }
    direct!(TcpStream);
    direct!(UnixStream);
    half!(tcp::OwnedReadHalf, TcpStream);
    half!(tcp::OwnedWriteHalf, TcpStream);
    half!(unix::OwnedReadHalf, UnixStream);
    half!(unix::OwnedWriteHalf, UnixStream);
    None
}

/// Copies from `src` to `dst` until end of file. Returns `Ok(None)` when the
/// kernel cannot splice these descriptors and nothing was moved yet (the
/// caller then uses the buffered path).
pub(crate) async fn copy(src: &dyn SpliceEnd, dst: &dyn SpliceEnd) -> io::Result<Option<u64>> {
    let (pipe_r, pipe_w) = pipe::pipe()?;
    let capacity = pipe::set_pipe_size(&pipe_w, PIPE_SIZE);
    let (src_fd, dst_fd) = (src.splice_fd(), dst.splice_fd());
    let (pipe_r, pipe_w) = (pipe_r.as_raw_fd(), pipe_w.as_raw_fd());
    let mut in_pipe = 0usize;
    let mut total = 0u64;
    let mut eof = false;
    let result = poll_fn(|cx| loop {
        let mut progressed = false;
        if !eof && in_pipe < capacity {
            let want = capacity - in_pipe;
            match src.poll_splice(cx, Direction::Read, &mut || {
                pipe::splice(src_fd, pipe_w, want)
            }) {
                Poll::Ready(Ok(0)) => eof = true,
                Poll::Ready(Ok(n)) => {
                    in_pipe += n;
                    progressed = true;
                }
                Poll::Ready(Err(e)) if unsupported(&e) && total == 0 && in_pipe == 0 => {
                    return Poll::Ready(Ok(None));
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {}
            }
        }
        if in_pipe > 0 {
            match dst.poll_splice(cx, Direction::Write, &mut || {
                pipe::splice(pipe_r, dst_fd, in_pipe)
            }) {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "the destination socket accepted no bytes",
                    )))
                }
                Poll::Ready(Ok(n)) => {
                    in_pipe -= n;
                    total += n as u64;
                    progressed = true;
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {}
            }
        }
        if eof && in_pipe == 0 {
            return Poll::Ready(Ok(Some(total)));
        }
        if !progressed {
            // Both sides wait on the reactor (their wakers are registered),
            // or the budget ran out (the task was woken to yield).
            return Poll::Pending;
        }
    })
    .await;
    result
}

/// Errors meaning "splice does not work for these descriptors".
fn unsupported(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EINVAL) | Some(libc::ENOSYS))
}
