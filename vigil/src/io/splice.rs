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
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
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
    /// Half-closes the writing side.
    fn shutdown_write(&self) -> io::Result<()>;
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

            fn shutdown_write(&self) -> io::Result<()> {
                <$t>::shutdown_write(self)
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

/// One direction of a spliced copy: the pipe and what is in it.
struct Transfer {
    pipe_r: OwnedFd,
    pipe_w: OwnedFd,
    capacity: usize,
    in_pipe: usize,
    total: u64,
    eof: bool,
    done: bool,
}

impl Transfer {
    fn new() -> io::Result<Transfer> {
        let (pipe_r, pipe_w) = pipe::pipe()?;
        let capacity = pipe::set_pipe_size(&pipe_w, PIPE_SIZE);
        Ok(Transfer {
            pipe_r,
            pipe_w,
            capacity,
            in_pipe: 0,
            total: 0,
            eof: false,
            done: false,
        })
    }

    /// Moves bytes until `src` reaches end of file and the pipe is empty.
    /// `Ready(Ok(None))`: splice is unsupported here and nothing moved yet.
    fn poll(
        &mut self,
        cx: &mut Context<'_>,
        src: &dyn SpliceEnd,
        dst: &dyn SpliceEnd,
    ) -> Poll<io::Result<Option<u64>>> {
        let (src_fd, dst_fd) = (src.splice_fd(), dst.splice_fd());
        let (pipe_r, pipe_w) = (self.pipe_r.as_raw_fd(), self.pipe_w.as_raw_fd());
        loop {
            let mut progressed = false;
            if !self.eof && self.in_pipe < self.capacity {
                let want = self.capacity - self.in_pipe;
                match src.poll_splice(cx, Direction::Read, &mut || {
                    pipe::splice(src_fd, pipe_w, want)
                }) {
                    Poll::Ready(Ok(0)) => self.eof = true,
                    Poll::Ready(Ok(n)) => {
                        self.in_pipe += n;
                        progressed = true;
                    }
                    Poll::Ready(Err(e))
                        if unsupported(&e) && self.total == 0 && self.in_pipe == 0 =>
                    {
                        return Poll::Ready(Ok(None));
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => {}
                }
            }
            if self.in_pipe > 0 {
                let len = self.in_pipe;
                match dst.poll_splice(cx, Direction::Write, &mut || {
                    pipe::splice(pipe_r, dst_fd, len)
                }) {
                    Poll::Ready(Ok(0)) => {
                        return Poll::Ready(Err(io::Error::new(
                            io::ErrorKind::WriteZero,
                            "the destination socket accepted no bytes",
                        )))
                    }
                    Poll::Ready(Ok(n)) => {
                        self.in_pipe -= n;
                        self.total += n as u64;
                        progressed = true;
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => {}
                }
            }
            if self.eof && self.in_pipe == 0 {
                return Poll::Ready(Ok(Some(self.total)));
            }
            if !progressed {
                // Both sides wait on the reactor (their wakers are
                // registered), or the budget ran out (the task was woken to
                // yield).
                return Poll::Pending;
            }
        }
    }
}

/// Copies from `src` to `dst` until end of file. Returns `Ok(None)` when the
/// kernel cannot splice these descriptors and nothing was moved yet (the
/// caller then uses the buffered path).
pub(crate) async fn copy(src: &dyn SpliceEnd, dst: &dyn SpliceEnd) -> io::Result<Option<u64>> {
    let mut transfer = Transfer::new()?;
    poll_fn(|cx| transfer.poll(cx, src, dst)).await
}

/// Both directions at once; each half-closes its destination when its
/// source reaches end of file. `Ok(None)` as for [`copy`].
pub(crate) async fn copy_bidirectional(
    a: &dyn SpliceEnd,
    b: &dyn SpliceEnd,
) -> io::Result<Option<(u64, u64)>> {
    let mut a_to_b = Transfer::new()?;
    let mut b_to_a = Transfer::new()?;
    poll_fn(|cx| {
        let mut finish = |t: &mut Transfer,
                          src: &dyn SpliceEnd,
                          dst: &dyn SpliceEnd|
         -> Poll<io::Result<Option<()>>> {
            if t.done {
                return Poll::Ready(Ok(Some(())));
            }
            match t.poll(cx, src, dst) {
                Poll::Ready(Ok(Some(_))) => {
                    t.done = true;
                    Poll::Ready(dst.shutdown_write().map(Some))
                }
                Poll::Ready(Ok(None)) => Poll::Ready(Ok(None)),
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                Poll::Pending => Poll::Pending,
            }
        };
        let first = finish(&mut a_to_b, a, b);
        let second = finish(&mut b_to_a, b, a);
        match (first, second) {
            (Poll::Ready(Err(e)), _) | (_, Poll::Ready(Err(e))) => Poll::Ready(Err(e)),
            (Poll::Ready(Ok(None)), _) | (_, Poll::Ready(Ok(None)))
                if a_to_b.total == 0 && b_to_a.total == 0 =>
            {
                Poll::Ready(Ok(None))
            }
            (Poll::Ready(Ok(Some(()))), Poll::Ready(Ok(Some(())))) => {
                Poll::Ready(Ok(Some((a_to_b.total, b_to_a.total))))
            }
            (Poll::Ready(Ok(None)), _) | (_, Poll::Ready(Ok(None))) => Poll::Ready(Err(
                io::Error::other("splice stopped working in the middle of a copy"),
            )),
            _ => Poll::Pending,
        }
    })
    .await
}

/// Errors meaning "splice does not work for these descriptors".
fn unsupported(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EINVAL) | Some(libc::ENOSYS))
}
