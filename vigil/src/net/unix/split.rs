//! Splitting a [`UnixStream`] into a reading and a writing half.
//!
//! As for TCP, the stream tracks read and write readiness separately, so the
//! halves need no lock: borrowed halves share a `&UnixStream`, owned halves
//! an `Arc<UnixStream>`. An owned write half shuts down the writing side
//! when dropped, so the peer sees end of file even while the read half
//! lives on.

use super::UnixStream;
use crate::net::stream_io;
use std::fmt;
use std::sync::Arc;

/// The reading half of [`UnixStream::split`].
#[derive(Debug)]
pub struct ReadHalf<'a>(&'a UnixStream);

/// The writing half of [`UnixStream::split`].
#[derive(Debug)]
pub struct WriteHalf<'a>(&'a UnixStream);

/// The reading half of [`UnixStream::into_split`].
#[derive(Debug)]
pub struct OwnedReadHalf {
    inner: Arc<UnixStream>,
}

/// The writing half of [`UnixStream::into_split`]. Dropping it shuts down
/// the writing side of the connection.
#[derive(Debug)]
pub struct OwnedWriteHalf {
    inner: Arc<UnixStream>,
    shutdown_on_drop: bool,
}

/// The halves given to `reunite` came from different streams; both are
/// handed back.
pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

impl fmt::Debug for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReuniteError(..)")
    }
}

impl fmt::Display for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves of two different Unix streams")
    }
}

impl std::error::Error for ReuniteError {}

pub(crate) fn split(stream: &mut UnixStream) -> (ReadHalf<'_>, WriteHalf<'_>) {
    (ReadHalf(stream), WriteHalf(stream))
}

pub(crate) fn into_split(stream: UnixStream) -> (OwnedReadHalf, OwnedWriteHalf) {
    let inner = Arc::new(stream);
    let read = OwnedReadHalf {
        inner: inner.clone(),
    };
    let write = OwnedWriteHalf {
        inner,
        shutdown_on_drop: true,
    };
    (read, write)
}

impl OwnedReadHalf {
    /// Puts the stream back together (without shutting anything down).
    pub fn reunite(self, other: OwnedWriteHalf) -> Result<UnixStream, ReuniteError> {
        if !Arc::ptr_eq(&self.inner, &other.inner) {
            return Err(ReuniteError(self, other));
        }
        let mut write = other;
        write.shutdown_on_drop = false;
        drop(write);
        Ok(Arc::try_unwrap(self.inner).expect("both halves were given back"))
    }
}

impl OwnedWriteHalf {
    /// Puts the stream back together (without shutting anything down).
    pub fn reunite(self, other: OwnedReadHalf) -> Result<UnixStream, ReuniteError> {
        other.reunite(self)
    }
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            let _ = self.inner.shutdown_write();
        }
    }
}

/// Each half's way to its stream, for the trait impls below.
macro_rules! stream_of {
    ($t:ty, $s:ident => $stream:expr) => {
        impl $t {
            fn stream(&self) -> &UnixStream {
                let $s = self;
                $stream
            }
        }

        impl AsRef<UnixStream> for $t {
            fn as_ref(&self) -> &UnixStream {
                self.stream()
            }
        }
    };
}

stream_of!(ReadHalf<'_>, h => h.0);
stream_of!(WriteHalf<'_>, h => h.0);
stream_of!(OwnedReadHalf, h => &h.inner);
stream_of!(OwnedWriteHalf, h => &h.inner);
stream_io::impl_async_read!(ReadHalf<'_>, |h| h.stream());
stream_io::impl_async_read!(OwnedReadHalf, |h| h.stream());
stream_io::impl_async_write!(WriteHalf<'_>, |h| h.stream());
stream_io::impl_async_write!(OwnedWriteHalf, |h| h.stream());
