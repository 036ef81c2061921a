//! Splitting a [`TcpStream`] into a reading and a writing half (see
//! `net::split_halves` for how the halves work).

crate::net::split_halves::stream_halves!(TcpStream, "TCP", std::net::SocketAddr);

use std::io;
use std::task::{Context, Poll};

/// Peeking, which only TCP read halves have (a Unix stream has no peek).
macro_rules! peek_methods {
    ($half:ty) => {
        impl $half {
            /// Polls [`TcpStream::poll_peek`]: data is copied into `buf` and
            /// left queued. The read direction keeps a single waker (the
            /// most recent `poll_*` call in that direction, from either half
            /// or the stream).
            pub fn poll_peek(
                &mut self,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                AsRef::<TcpStream>::as_ref(self).poll_peek(cx, buf)
            }

            /// Reads data without removing it from the receive queue; see
            /// [`TcpStream::peek`].
            ///
            /// Cancel safe: if the future is dropped, nothing was peeked
            /// and `buf` is untouched.
            pub async fn peek(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                AsRef::<TcpStream>::as_ref(self).peek(buf).await
            }
        }
    };
}

peek_methods!(ReadHalf<'_>);
peek_methods!(OwnedReadHalf);
