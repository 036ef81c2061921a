//! [`simplex`]: an in-memory, one-way byte pipe.

use super::pipe::Pipe;
use super::split::{split, ReadHalf, WriteHalf};
use futures_io::{AsyncRead, AsyncWrite};
use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Creates a one-way in-memory pipe of at most `max_buf_size` buffered
/// bytes, as a read half and a write half: what the write half writes, the
/// read half reads. The halves can go to different tasks;
/// [`ReadHalf::unsplit`] puts them back together.
///
/// * A writer that finds `max_buf_size` bytes unread waits (`Pending`)
///   until the reader takes some.
/// * Shutting the write half down (`shutdown`, i.e. `poll_close`) is the
///   end of the stream: the reader gets the buffered bytes, then end of
///   file; later writes fail with `BrokenPipe`.
/// * Both halves share one [`SimplexStream`], which lives until both are
///   dropped, so dropping the write half alone does **not** end the
///   stream: shut it down first if a reader is waiting.
///
/// Each read and write spends one unit of the task's cooperative budget,
/// as [`duplex`](super::duplex) does.
///
/// ```
/// use vigil::io::{AsyncReadExt, AsyncWriteExt};
///
/// # vigil::block_on(async {
/// let (mut rx, mut tx) = vigil::io::simplex(16);
/// let writer = vigil::spawn(async move {
///     tx.write_all(b"more than sixteen bytes, in pieces").await?;
///     tx.shutdown().await
/// });
/// let mut all = String::new();
/// rx.read_to_string(&mut all).await?;
/// assert_eq!(all, "more than sixteen bytes, in pieces");
/// writer.await.unwrap()?;
/// # Ok::<_, std::io::Error>(()) }).unwrap();
/// ```
///
/// # Panics
/// If `max_buf_size` is zero.
#[track_caller]
pub fn simplex(max_buf_size: usize) -> (ReadHalf<SimplexStream>, WriteHalf<SimplexStream>) {
    split(SimplexStream::new_unsplit(max_buf_size))
}

/// A one-way in-memory pipe: reads return what writes put in, in order.
/// Made whole by [`SimplexStream::new_unsplit`], or as two halves by
/// [`simplex`]. Implements [`AsyncRead`] and [`AsyncWrite`].
pub struct SimplexStream {
    pipe: Pipe,
}

impl SimplexStream {
    /// A pipe buffering at most `max_buf_size` bytes, not split: the same
    /// value writes and reads (useful as an in-memory loopback, or to hand
    /// out through [`split`](super::split)). Use [`simplex`] for the two
    /// halves directly.
    ///
    /// ```
    /// use vigil::io::{AsyncReadExt, AsyncWriteExt, SimplexStream};
    ///
    /// # vigil::block_on(async {
    /// let mut pipe = SimplexStream::new_unsplit(8);
    /// pipe.write_all(b"echo").await?;
    /// let mut buf = [0; 4];
    /// pipe.read_exact(&mut buf).await?;
    /// assert_eq!(&buf, b"echo");
    /// # Ok::<_, std::io::Error>(()) }).unwrap();
    /// ```
    ///
    /// # Panics
    /// If `max_buf_size` is zero.
    #[track_caller]
    pub fn new_unsplit(max_buf_size: usize) -> SimplexStream {
        assert!(
            max_buf_size > 0,
            "vigil::io::simplex: max_buf_size must be positive"
        );
        SimplexStream {
            pipe: Pipe::new(max_buf_size),
        }
    }
}

impl AsyncRead for SimplexStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().pipe.poll_read(cx, buf)
    }
}

impl AsyncWrite for SimplexStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().pipe.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().pipe.close_write();
        Poll::Ready(Ok(()))
    }
}

impl fmt::Debug for SimplexStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimplexStream")
            .field("readable", &self.pipe.unread())
            .field("max_buf_size", &self.pipe.max)
            .finish_non_exhaustive()
    }
}
