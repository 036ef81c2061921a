//! [`duplex`]: an in-memory, bidirectional byte pipe.

use super::pipe::{lock, Pipe};
use futures_io::{AsyncRead, AsyncWrite};
use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

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
        lock(&self.read).close_read();
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
