//! [`copy_bidirectional`]: the core of a proxy.

use super::copy::{CopyBuffer, BIDIRECTIONAL_BUF_SIZE};
use super::guard::ProgressGuard;
use super::util::poll_close_guarded;
use futures_io::{AsyncRead, AsyncWrite};
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// One direction of a bidirectional copy.
#[derive(Debug)]
enum Transfer {
    /// Copying until the reader's end of file.
    Running(CopyBuffer),
    /// The reader ended and the writer is flushed; closing the writer.
    Closing {
        amt: u64,
        guard: ProgressGuard,
    },
    Done(u64),
}

impl Transfer {
    fn poll<R, W>(
        &mut self,
        cx: &mut Context<'_>,
        mut reader: Pin<&mut R>,
        mut writer: Pin<&mut W>,
    ) -> Poll<io::Result<u64>>
    where
        R: AsyncRead + ?Sized,
        W: AsyncWrite + ?Sized,
    {
        loop {
            match self {
                Transfer::Running(buf) => {
                    let amt = ready!(buf.poll_copy(cx, reader.as_mut(), writer.as_mut()))?;
                    *self = Transfer::Closing {
                        amt,
                        guard: ProgressGuard::new(),
                    };
                }
                Transfer::Closing { amt, guard } => {
                    ready!(poll_close_guarded(writer.as_mut(), cx, guard))?;
                    *self = Transfer::Done(*amt);
                }
                Transfer::Done(amt) => return Poll::Ready(Ok(*amt)),
            }
        }
    }
}

/// Copies `a` into `b` and `b` into `a` at the same time, until both
/// directions are done; returns the bytes copied `(a to b, b to a)`.
///
/// When one side's reader reaches end of file, that direction flushes the
/// other side's writer and closes it (`poll_close`: for a socket, a shutdown
/// of its write half), so the peer behind it sees end of file too, while the
/// opposite direction carries on. This is the half-close a TCP proxy needs:
/// a client that shuts down its sending side still gets the whole response.
///
/// An error in either direction ends the copy with that error. Both
/// directions go through vigil's progress guard and spend the task's
/// cooperative budget, like [`copy`](super::copy). Between two vigil
/// sockets both directions use `splice(2)` through a pipe (zero copy);
/// otherwise each direction has an 8 KiB buffer.
///
/// ```
/// use vigil::io::{AsyncReadExt, AsyncWriteExt};
///
/// # vigil::block_on(async {
/// // client <-> (proxy_a | proxy_b) <-> server
/// let (mut client, mut proxy_a) = vigil::io::duplex(64);
/// let (mut proxy_b, mut server) = vigil::io::duplex(64);
/// let proxy = vigil::spawn(async move {
///     vigil::io::copy_bidirectional(&mut proxy_a, &mut proxy_b).await
/// });
/// client.write_all(b"request").await?;
/// client.shutdown().await?; // half-close: done sending
/// let mut request = Vec::new();
/// server.read_to_end(&mut request).await?; // sees end of file
/// server.write_all(b"response!").await?;
/// drop(server);
/// let mut response = Vec::new();
/// client.read_to_end(&mut response).await?;
/// assert_eq!((&request[..], &response[..]), (&b"request"[..], &b"response!"[..]));
/// assert_eq!(proxy.await.unwrap()?, (7, 9));
/// # Ok::<_, std::io::Error>(()) }).unwrap();
/// ```
///
/// # Cancel safety
/// Not cancel safe: bytes read into the internal buffers but not yet written
/// are lost if the future is dropped.
pub async fn copy_bidirectional<A, B>(a: &mut A, b: &mut B) -> io::Result<(u64, u64)>
where
    A: AsyncRead + AsyncWrite + Unpin + ?Sized,
    B: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    if let (Some(sa), Some(sb)) = (
        super::splice::splice_end(&*a),
        super::splice::splice_end(&*b),
    ) {
        // Two sockets: zero-copy through a pipe in each direction.
        if let Some(counts) = super::splice::copy_bidirectional(sa, sb).await? {
            return Ok(counts);
        }
    }
    copy_bidirectional_with_sizes(a, b, BIDIRECTIONAL_BUF_SIZE, BIDIRECTIONAL_BUF_SIZE).await
}

/// [`copy_bidirectional`] with a chosen buffer size for each direction.
///
/// # Cancel safety
///
/// Not cancel safe, like [`copy_bidirectional`]: bytes read into a buffer
/// but not yet written are lost if the future is dropped.
pub async fn copy_bidirectional_with_sizes<A, B>(
    a: &mut A,
    b: &mut B,
    a_to_b_buf_size: usize,
    b_to_a_buf_size: usize,
) -> io::Result<(u64, u64)>
where
    A: AsyncRead + AsyncWrite + Unpin + ?Sized,
    B: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    let mut a_to_b = Transfer::Running(CopyBuffer::new(a_to_b_buf_size));
    let mut b_to_a = Transfer::Running(CopyBuffer::new(b_to_a_buf_size));
    poll_fn(|cx| {
        let forward = a_to_b.poll(cx, Pin::new(&mut *a), Pin::new(&mut *b))?;
        let backward = b_to_a.poll(cx, Pin::new(&mut *b), Pin::new(&mut *a))?;
        Poll::Ready(Ok((ready!(forward), ready!(backward))))
    })
    .await
}
