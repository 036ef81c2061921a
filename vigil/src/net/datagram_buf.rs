//! Receiving datagrams into a [`bytes::BufMut`], written once for
//! `UdpSocket` and `UnixDatagram`.
//!
//! [`datagram_buf_methods!`] adds `recv_buf`, `try_recv_buf`,
//! `recv_buf_from` and `try_recv_buf_from` (Tokio's names) to a datagram
//! socket whose field `io` is a `PollEvented`. They differ from `recv` and
//! `recv_from` only in where the datagram goes: into the spare capacity of
//! the buffer, which is then advanced past it, so a `BytesMut` can collect
//! datagrams without a copy.
//!
//! The connected forms receive with `recv(2)` straight into the
//! uninitialised capacity (see [`spare`](crate::io::spare)). The `_from`
//! forms need the sender's address, which each socket type builds its own
//! way, so the macro takes the function that receives one datagram with
//! its sender.

/// `recv_buf` & co. for `$t`; `$recv_from` is a function
/// `(&Std, &mut B) -> io::Result<(usize, $addr)>` that receives one
/// datagram with its sender into the spare capacity of `B`.
macro_rules! datagram_buf_methods {
    ($t:ident, $addr:ty, $recv_from:path) => {
        impl $t {
            /// Receives one datagram from the connected peer into the spare
            /// capacity of `buf` (a [`bytes::BufMut`] such as `BytesMut`),
            /// advances `buf` past it and returns its length.
            ///
            /// The datagram is cut to the spare capacity offered (the
            /// kernel discards the rest): a growable buffer offers what it
            /// has reserved, or 64 bytes when full, so reserve room for the
            /// largest datagram first.
            ///
            /// Cancel safe: if the future is dropped, no datagram was taken.
            pub async fn recv_buf<B: ::bytes::BufMut + ?Sized>(
                &self,
                buf: &mut B,
            ) -> ::std::io::Result<usize> {
                self.io
                    .async_io($crate::driver::io::Interest::READABLE, |s| {
                        $crate::io::spare::recv(::std::os::fd::AsRawFd::as_raw_fd(s), buf)
                    })
                    .await
            }

            /// Receives one datagram from the connected peer into the spare
            /// capacity of `buf` without waiting, as
            /// [`recv_buf`](Self::recv_buf) does.
            ///
            /// # Errors
            /// `WouldBlock` if no datagram is queued.
            pub fn try_recv_buf<B: ::bytes::BufMut + ?Sized>(
                &self,
                buf: &mut B,
            ) -> ::std::io::Result<usize> {
                self.io.try_io($crate::driver::io::Interest::READABLE, |s| {
                    $crate::io::spare::recv(::std::os::fd::AsRawFd::as_raw_fd(s), buf)
                })
            }

            /// Receives one datagram into the spare capacity of `buf`,
            /// advances `buf` past it and returns its length and sender. The
            /// datagram is cut to the capacity offered, as for
            /// [`recv_buf`](Self::recv_buf).
            ///
            /// Cancel safe: if the future is dropped, no datagram was taken.
            pub async fn recv_buf_from<B: ::bytes::BufMut + ?Sized>(
                &self,
                buf: &mut B,
            ) -> ::std::io::Result<(usize, $addr)> {
                self.io
                    .async_io($crate::driver::io::Interest::READABLE, |s| {
                        $recv_from(s, buf)
                    })
                    .await
            }

            /// Receives one datagram and its sender into the spare capacity
            /// of `buf` without waiting, as
            /// [`recv_buf_from`](Self::recv_buf_from) does.
            ///
            /// # Errors
            /// `WouldBlock` if no datagram is queued.
            pub fn try_recv_buf_from<B: ::bytes::BufMut + ?Sized>(
                &self,
                buf: &mut B,
            ) -> ::std::io::Result<(usize, $addr)> {
                self.io.try_io($crate::driver::io::Interest::READABLE, |s| {
                    $recv_from(s, buf)
                })
            }
        }
    };
}
pub(crate) use datagram_buf_methods;
