//! Splitting a [`TcpStream`] into a reading and a writing half.
//!
//! A socket is full duplex, and vigil's stream tracks read and write
//! readiness separately, so the halves need no lock: the borrowed halves
//! share `&TcpStream`, the owned ones an `Arc<TcpStream>`.

use super::TcpStream;
use crate::net::stream_io;
use std::fmt;
use std::sync::Arc;

/// The reading half of [`TcpStream::split`].
#[derive(Debug)]
pub struct ReadHalf<'a>(&'a TcpStream);

/// The writing half of [`TcpStream::split`].
#[derive(Debug)]
pub struct WriteHalf<'a>(&'a TcpStream);

/// The reading half of [`TcpStream::into_split`].
#[derive(Debug)]
pub struct OwnedReadHalf {
    inner: Arc<TcpStream>,
}

/// The writing half of [`TcpStream::into_split`]. Dropping it shuts down
/// the writing side of the connection.
#[derive(Debug)]
pub struct OwnedWriteHalf {
    inner: Arc<TcpStream>,
    shutdown_on_drop: bool,
}

/// The two halves given to [`OwnedReadHalf::reunite`] came from different
/// streams; they are handed back.
pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

impl fmt::Debug for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReuniteError(..)")
    }
}

impl fmt::Display for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves of two different TCP streams")
    }
}

impl std::error::Error for ReuniteError {}

pub(crate) fn split(stream: &mut TcpStream) -> (ReadHalf<'_>, WriteHalf<'_>) {
    (ReadHalf(stream), WriteHalf(stream))
}

pub(crate) fn into_split(stream: TcpStream) -> (OwnedReadHalf, OwnedWriteHalf) {
    let inner = Arc::new(stream);
    (
        OwnedReadHalf {
            inner: inner.clone(),
        },
        OwnedWriteHalf {
            inner,
            shutdown_on_drop: true,
        },
    )
}

impl OwnedReadHalf {
    /// Puts the stream back together.
    pub fn reunite(self, other: OwnedWriteHalf) -> Result<TcpStream, ReuniteError> {
        if !Arc::ptr_eq(&self.inner, &other.inner) {
            return Err(ReuniteError(self, other));
        }
        let mut other = other;
        other.shutdown_on_drop = false;
        let inner = other.inner.clone();
        drop(other);
        drop(self);
        Ok(Arc::try_unwrap(inner).expect("both halves were given back"))
    }
}

impl OwnedWriteHalf {
    /// Puts the stream back together.
    pub fn reunite(self, other: OwnedReadHalf) -> Result<TcpStream, ReuniteError> {
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

stream_io::impl_async_read!(ReadHalf<'_>, |s| s.0);
stream_io::impl_async_write!(WriteHalf<'_>, |s| s.0);
stream_io::impl_async_read!(OwnedReadHalf, |s| s.inner);
stream_io::impl_async_write!(OwnedWriteHalf, |s| s.inner);

impl AsRef<TcpStream> for OwnedReadHalf {
    fn as_ref(&self) -> &TcpStream {
        &self.inner
    }
}

impl AsRef<TcpStream> for OwnedWriteHalf {
    fn as_ref(&self) -> &TcpStream {
        &self.inner
    }
}

impl AsRef<TcpStream> for ReadHalf<'_> {
    fn as_ref(&self) -> &TcpStream {
        self.0
    }
}

impl AsRef<TcpStream> for WriteHalf<'_> {
    fn as_ref(&self) -> &TcpStream {
        self.0
    }
}
