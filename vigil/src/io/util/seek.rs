//! [`AsyncSeekExt`]: `seek`, `rewind` and `stream_position` as futures.

use futures_io::AsyncSeek;
use std::future::Future;
use std::io::{self, SeekFrom};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Async seeking for every [`AsyncSeek`], such as [`vigil::fs::File`](crate::fs::File).
///
/// ```
/// # vigil::runtime::Runtime::new().unwrap().block_on(async {
/// use vigil::io::{AsyncReadExt, AsyncSeekExt, SeekFrom};
///
/// let mut file = vigil::fs::File::open("Cargo.toml").await?;
/// file.seek(SeekFrom::Start(1)).await?;
/// let mut word = [0; 7];
/// file.read_exact(&mut word).await?;
/// assert_eq!(&word, b"package");
/// assert_eq!(file.stream_position().await?, 8);
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub trait AsyncSeekExt: AsyncSeek {
    /// Moves the position; returns the new position from the start.
    ///
    /// # Cancel safety
    /// Not cancel safe: dropped before it completes, the position may or
    /// may not have moved.
    fn seek(&mut self, pos: SeekFrom) -> Seek<'_, Self>
    where
        Self: Unpin,
    {
        Seek { seeker: self, pos }
    }

    /// Moves the position back to the start.
    ///
    /// # Cancel safety
    /// As [`seek`](AsyncSeekExt::seek).
    fn rewind(&mut self) -> Seek<'_, Self>
    where
        Self: Unpin,
    {
        self.seek(SeekFrom::Start(0))
    }

    /// The current position from the start.
    ///
    /// # Cancel safety
    /// Cancel safe for seekers whose relative seek of 0 only reads the
    /// position (files).
    fn stream_position(&mut self) -> Seek<'_, Self>
    where
        Self: Unpin,
    {
        self.seek(SeekFrom::Current(0))
    }
}

impl<S: AsyncSeek + ?Sized> AsyncSeekExt for S {}

/// Future of [`AsyncSeekExt::seek`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Seek<'a, S: ?Sized> {
    seeker: &'a mut S,
    pos: SeekFrom,
}

impl<S: AsyncSeek + Unpin + ?Sized> Future for Seek<'_, S> {
    type Output = io::Result<u64>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        let me = self.get_mut();
        Pin::new(&mut *me.seeker).poll_seek(cx, me.pos)
    }
}
