//! [`duplex`]: an in-memory, bidirectional byte pipe.

use crate::runtime::coop::poll_proceed;
use futures_io::{AsyncRead, AsyncWrite};
use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{ready, Context, Poll, Waker};

/// Creates a connected pair of in-memory streams, like the two ends of a
/// socket: bytes written to one are read from the other. Each direction
/// buffers at most `max_buf_size` bytes; a writer that finds its direction
/// full waits (`Pending`) until the peer reads.
///
/// * Shutting down one end (`shutdown`, i.e. `poll_close`) ends its writing
///   direction only: the peer reads the buffered bytes, then end of file,
///   and can still write back. Writing after your own shutdown is a
///   `BrokenPipe` error.
/// * Dropping one end closes both directions: the peer reads what was
///   buffered, then end of file, and its writes fail with `BrokenPipe`.
///
/// An in-memory pipe is often ready, so each read and write spends one unit
/// of the task's cooperative budget: a task pumping a duplex stream in a loop
/// yields to the others in time.
///
/// ```
/// use vigil::io::{AsyncReadExt, AsyncWriteExt};
///
/// # vigil::block_on(async {
/// let (mut client, mut server) = vigil::io::duplex(1024);
/// client.write_all(b"ping").await?;
/// let mut buf = [0; 4];
/// server.read_exact(&mut buf).await?;
/// server.write_all(b"pong").await?;
/// drop(server);
/// let mut reply = Vec::new();
/// client.read_to_end(&mut reply).await?;
/// assert_eq!(reply, b"pong");
/// let err = client.write_all(b"anyone?").await.unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
/// # Ok::<_, std::io::Error>(()) }).unwrap();
/// ```
///
/// # Panics
/// If `max_buf_size` is zero.
pub fn duplex(max_buf_size: usize) -> (DuplexStream, DuplexStream) {
    assert!(
        max_buf_size > 0,
        "vigil::io::duplex: max_buf_size must be positive"
    );
    let one = Arc::new(Mutex::new(Pipe::new(max_buf_size)));
    let two = Arc::new(Mutex::new(Pipe::new(max_buf_size)));
    (
        DuplexStream {
            read: one.clone(),
            write: two.clone(),
        },
        DuplexStream {
            read: two,
            write: one,
        },
    )
}

/// One end of an in-memory pipe made by [`duplex`]. Implements
/// [`AsyncRead`] and [`AsyncWrite`].
pub struct DuplexStream {
    read: Arc<Mutex<Pipe>>,
    write: Arc<Mutex<Pipe>>,
}

/// One direction of a duplex pair.
struct Pipe {
    // Unread bytes are `buf[start..]`.
    buf: Vec<u8>,
    start: usize,
    max: usize,
    /// The writing end shut down or was dropped: end of file after `buf`.
    writer_closed: bool,
    /// The reading end was dropped: writes fail.
    reader_gone: bool,
    read_waker: Option<Waker>,
    write_waker: Option<Waker>,
}

fn lock(pipe: &Mutex<Pipe>) -> MutexGuard<'_, Pipe> {
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
    fn new(max: usize) -> Pipe {
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

    fn unread(&self) -> usize {
        self.buf.len() - self.start
    }

    fn poll_read(&mut self, cx: &mut Context<'_>, out: &mut [u8]) -> Poll<io::Result<usize>> {
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

    fn poll_write(&mut self, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        if self.writer_closed {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "write to a duplex stream after its shutdown",
            )));
        }
        if self.reader_gone {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "write to a duplex stream whose peer was dropped",
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

    fn close_write(&mut self) {
        self.writer_closed = true;
        wake(&mut self.read_waker);
    }
}

impl AsyncRead for DuplexStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        lock(&self.read).poll_read(cx, buf)
    }
}

impl AsyncWrite for DuplexStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        lock(&self.write).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        lock(&self.write).close_write();
        Poll::Ready(Ok(()))
    }
}

impl Drop for DuplexStream {
    fn drop(&mut self) {
        lock(&self.write).close_write();
        let mut read = lock(&self.read);
        read.reader_gone = true;
        // The peer can never write again usefully; free the memory.
        read.buf = Vec::new();
        read.start = 0;
        wake(&mut read.write_waker);
    }
}

impl fmt::Debug for DuplexStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let read = lock(&self.read);
        f.debug_struct("DuplexStream")
            .field("readable", &read.unread())
            .field("max_buf_size", &read.max)
            .finish_non_exhaustive()
    }
}
