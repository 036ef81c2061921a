//! [`split`]: one stream as a read half and a write half.

use futures_io::{AsyncRead, AsyncWrite};
use std::fmt;
use std::io::{self, IoSlice, IoSliceMut};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

/// Splits a stream into a read half and a write half, which can be moved to
/// different tasks (even on different threads, if `T: Send`).
///
/// The halves share the stream behind a mutex that is held only for the
/// duration of one `poll_*` call, which by the `AsyncRead`/`AsyncWrite`
/// contract never blocks, so the two halves never wait on each other for
/// long. A stream that can be split without a lock (a socket, say) may offer
/// its own cheaper split.
///
/// ```
/// use vigil::io::{AsyncReadExt, AsyncWriteExt};
///
/// # vigil::block_on(async {
/// let (client, mut server) = vigil::io::duplex(64);
/// let (mut rd, mut wr) = vigil::io::split(client);
/// let writer = vigil::spawn(async move { wr.write_all(b"hi").await });
/// let mut buf = [0; 2];
/// server.read_exact(&mut buf).await?;
/// server.write_all(&buf).await?;
/// rd.read_exact(&mut buf).await?;
/// assert_eq!(&buf, b"hi");
/// writer.await.unwrap()?;
/// # Ok::<_, std::io::Error>(()) }).unwrap();
/// ```
pub fn split<T>(stream: T) -> (ReadHalf<T>, WriteHalf<T>)
where
    T: AsyncRead + AsyncWrite,
{
    let shared = Arc::new(Shared {
        stream: Mutex::new(Box::pin(stream)),
    });
    (
        ReadHalf {
            shared: shared.clone(),
        },
        WriteHalf { shared },
    )
}

struct Shared<T> {
    // Boxed so that `T` need not be `Unpin`: it stays pinned in the box.
    stream: Mutex<Pin<Box<T>>>,
}

impl<T> Shared<T> {
    /// Locks the stream. A panic inside the other half's poll leaves the
    /// lock poisoned; the stream is still memory-safe to use, and its own
    /// state tells the next call what it can do, so the poison is ignored.
    fn lock(&self) -> MutexGuard<'_, Pin<Box<T>>> {
        self.stream.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The read half of a stream, made by [`split`].
pub struct ReadHalf<T> {
    shared: Arc<Shared<T>>,
}

/// The write half of a stream, made by [`split`].
pub struct WriteHalf<T> {
    shared: Arc<Shared<T>>,
}

impl<T> ReadHalf<T> {
    /// `true` if `other` is the write half split from the same stream.
    pub fn is_pair_of(&self, other: &WriteHalf<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Joins the two halves back into the stream.
    ///
    /// # Panics
    /// If `write` is not the other half of the same stream.
    #[track_caller]
    pub fn unsplit(self, write: WriteHalf<T>) -> T
    where
        T: Unpin,
    {
        assert!(
            self.is_pair_of(&write),
            "ReadHalf::unsplit: the halves come from different streams"
        );
        drop(write);
        let shared = Arc::into_inner(self.shared).expect("both halves were given back");
        let stream = shared
            .stream
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        *Pin::into_inner(stream)
    }
}

impl<T> WriteHalf<T> {
    /// `true` if `other` is the read half split from the same stream.
    pub fn is_pair_of(&self, other: &ReadHalf<T>) -> bool {
        other.is_pair_of(self)
    }
}

impl<T: AsyncRead> AsyncRead for ReadHalf<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.shared.lock().as_mut().poll_read(cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.shared.lock().as_mut().poll_read_vectored(cx, bufs)
    }
}

impl<T: AsyncWrite> AsyncWrite for WriteHalf<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.shared.lock().as_mut().poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.shared.lock().as_mut().poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.shared.lock().as_mut().poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.shared.lock().as_mut().poll_close(cx)
    }
}

impl<T> fmt::Debug for ReadHalf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadHalf").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for WriteHalf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteHalf").finish_non_exhaustive()
    }
}
