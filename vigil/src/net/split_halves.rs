//! The read and write halves of a stream socket, written once for
//! `TcpStream` and `UnixStream`.
//!
//! A stream socket is full duplex and vigil tracks its read and write
//! readiness separately, so the halves need no lock: borrowed halves share a
//! `&Stream`, owned halves an `Arc<Stream>`. An owned write half shuts down
//! the writing side when dropped, so the peer reads end of file even while
//! the read half lives on; `reunite` puts the halves back together without
//! shutting anything down.
//!
//! [`stream_halves!`] defines, in the module it is invoked in, `ReadHalf`,
//! `WriteHalf`, `OwnedReadHalf`, `OwnedWriteHalf`, `ReuniteError` and the
//! crate-private `split` and `into_split` that the stream's own methods
//! call. Each half also forwards the stream's methods for its direction
//! (readiness, `try_read`/`try_write`, their vectored forms and
//! `try_read_buf`, the addresses), written once by [`read_half_methods!`]
//! and [`write_half_methods!`].

/// Defines the halves of `$stream` (whose module is `super`); `$what` names
/// the kind of stream in error messages ("TCP", "Unix"), `$addr` is the type
/// of its addresses.
macro_rules! stream_halves {
    ($stream:ident, $what:literal, $addr:ty) => {
        use super::$stream;
        use std::sync::Arc;

        #[doc = concat!("The reading half of [`", stringify!($stream), "::split`].")]
        #[derive(Debug)]
        pub struct ReadHalf<'a>(&'a $stream);

        #[doc = concat!("The writing half of [`", stringify!($stream), "::split`].")]
        #[derive(Debug)]
        pub struct WriteHalf<'a>(&'a $stream);

        #[doc = concat!("The reading half of [`", stringify!($stream), "::into_split`].")]
        #[derive(Debug)]
        pub struct OwnedReadHalf {
            inner: Arc<$stream>,
        }

        #[doc = concat!("The writing half of [`", stringify!($stream), "::into_split`].")]
        /// Dropping it shuts down the writing side of the connection.
        #[derive(Debug)]
        pub struct OwnedWriteHalf {
            inner: Arc<$stream>,
            shutdown_on_drop: bool,
        }

        /// The halves given to `reunite` came from different streams; both
        /// are handed back.
        pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

        impl std::fmt::Debug for ReuniteError {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("ReuniteError(..)")
            }
        }

        impl std::fmt::Display for ReuniteError {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(
                    "tried to reunite halves of two different ",
                    $what,
                    " streams"
                ))
            }
        }

        impl std::error::Error for ReuniteError {}

        pub(crate) fn split(stream: &mut $stream) -> (ReadHalf<'_>, WriteHalf<'_>) {
            (ReadHalf(stream), WriteHalf(stream))
        }

        pub(crate) fn into_split(stream: $stream) -> (OwnedReadHalf, OwnedWriteHalf) {
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
            pub fn reunite(self, other: OwnedWriteHalf) -> Result<$stream, ReuniteError> {
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
            pub fn reunite(self, other: OwnedReadHalf) -> Result<$stream, ReuniteError> {
                other.reunite(self)
            }

            /// Drops this half without shutting down the writing side: the
            /// peer sees no end of file, and the socket stays fully open for
            /// as long as the read half lives (it closes when that is
            /// dropped too).
            pub fn forget(mut self) {
                self.shutdown_on_drop = false;
                drop(self);
            }
        }

        impl Drop for OwnedWriteHalf {
            fn drop(&mut self) {
                if self.shutdown_on_drop {
                    let _ = self.inner.shutdown_write();
                }
            }
        }

        impl AsRef<$stream> for ReadHalf<'_> {
            fn as_ref(&self) -> &$stream {
                self.0
            }
        }

        impl AsRef<$stream> for WriteHalf<'_> {
            fn as_ref(&self) -> &$stream {
                self.0
            }
        }

        impl AsRef<$stream> for OwnedReadHalf {
            fn as_ref(&self) -> &$stream {
                &self.inner
            }
        }

        impl AsRef<$stream> for OwnedWriteHalf {
            fn as_ref(&self) -> &$stream {
                &self.inner
            }
        }

        $crate::net::split_halves::read_half_methods!(ReadHalf<'_>, $stream, $addr);
        $crate::net::split_halves::read_half_methods!(OwnedReadHalf, $stream, $addr);
        $crate::net::split_halves::write_half_methods!(WriteHalf<'_>, $stream, $addr);
        $crate::net::split_halves::write_half_methods!(OwnedWriteHalf, $stream, $addr);

        $crate::net::stream_io::impl_async_read!(ReadHalf<'_>, |h| h.0);
        $crate::net::stream_io::impl_async_write!(WriteHalf<'_>, |h| h.0);
        $crate::net::stream_io::impl_async_read!(OwnedReadHalf, |h| h.inner);
        $crate::net::stream_io::impl_async_write!(OwnedWriteHalf, |h| h.inner);
    };
}

/// The methods a read half forwards to its `$stream` (reached through
/// `AsRef`).
macro_rules! read_half_methods {
    ($half:ty, $stream:ident, $addr:ty) => {
        impl $half {
            #[doc = concat!("Waits for any of `interest` on the whole stream; see [`", stringify!($stream), "::ready`].")]
            ///
            /// Cancel safe; many tasks may wait at once.
            pub async fn ready(
                &self,
                interest: $crate::driver::io::Interest,
            ) -> ::std::io::Result<$crate::driver::io::Ready> {
                AsRef::<$stream>::as_ref(self).ready(interest).await
            }

            /// Waits until the stream is readable. Cancel safe.
            pub async fn readable(&self) -> ::std::io::Result<()> {
                AsRef::<$stream>::as_ref(self).readable().await
            }

            #[doc = concat!("Reads without waiting; see [`", stringify!($stream), "::try_read`].")]
            ///
            /// # Errors
            /// `WouldBlock` if no data is ready.
            pub fn try_read(&self, buf: &mut [u8]) -> ::std::io::Result<usize> {
                AsRef::<$stream>::as_ref(self).try_read(buf)
            }

            #[doc = concat!("Reads into the spare capacity of a `BufMut` without waiting; see [`", stringify!($stream), "::try_read_buf`].")]
            ///
            /// # Errors
            /// `WouldBlock` if no data is ready.
            pub fn try_read_buf<B: ::bytes::BufMut + ?Sized>(
                &self,
                buf: &mut B,
            ) -> ::std::io::Result<usize> {
                AsRef::<$stream>::as_ref(self).try_read_buf(buf)
            }

            #[doc = concat!("Reads into several buffers without waiting; see [`", stringify!($stream), "::try_read_vectored`].")]
            ///
            /// # Errors
            /// `WouldBlock` if no data is ready.
            pub fn try_read_vectored(
                &self,
                bufs: &mut [::std::io::IoSliceMut<'_>],
            ) -> ::std::io::Result<usize> {
                AsRef::<$stream>::as_ref(self).try_read_vectored(bufs)
            }

            /// The stream's peer address.
            pub fn peer_addr(&self) -> ::std::io::Result<$addr> {
                AsRef::<$stream>::as_ref(self).peer_addr()
            }

            /// The stream's local address.
            pub fn local_addr(&self) -> ::std::io::Result<$addr> {
                AsRef::<$stream>::as_ref(self).local_addr()
            }
        }
    };
}

/// The methods a write half forwards to its `$stream` (reached through
/// `AsRef`).
macro_rules! write_half_methods {
    ($half:ty, $stream:ident, $addr:ty) => {
        impl $half {
            #[doc = concat!("Waits for any of `interest` on the whole stream; see [`", stringify!($stream), "::ready`].")]
            ///
            /// Cancel safe; many tasks may wait at once.
            pub async fn ready(
                &self,
                interest: $crate::driver::io::Interest,
            ) -> ::std::io::Result<$crate::driver::io::Ready> {
                AsRef::<$stream>::as_ref(self).ready(interest).await
            }

            /// Waits until the stream is writable. Cancel safe.
            pub async fn writable(&self) -> ::std::io::Result<()> {
                AsRef::<$stream>::as_ref(self).writable().await
            }

            #[doc = concat!("Writes without waiting; see [`", stringify!($stream), "::try_write`].")]
            ///
            /// # Errors
            /// `WouldBlock` if the send buffer is full.
            pub fn try_write(&self, buf: &[u8]) -> ::std::io::Result<usize> {
                AsRef::<$stream>::as_ref(self).try_write(buf)
            }

            #[doc = concat!("Writes several buffers without waiting; see [`", stringify!($stream), "::try_write_vectored`].")]
            ///
            /// # Errors
            /// `WouldBlock` if the send buffer is full.
            pub fn try_write_vectored(
                &self,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::io::Result<usize> {
                AsRef::<$stream>::as_ref(self).try_write_vectored(bufs)
            }

            /// The stream's peer address.
            pub fn peer_addr(&self) -> ::std::io::Result<$addr> {
                AsRef::<$stream>::as_ref(self).peer_addr()
            }

            /// The stream's local address.
            pub fn local_addr(&self) -> ::std::io::Result<$addr> {
                AsRef::<$stream>::as_ref(self).local_addr()
            }
        }
    };
}

pub(crate) use {read_half_methods, stream_halves, write_half_methods};
