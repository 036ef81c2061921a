//! `AsyncRead`/`AsyncWrite` for the stream sockets and their halves,
//! written once.
//!
//! TCP and Unix streams (and `&stream`, and the split halves) all forward to
//! the same four operations of their stream: `poll_read_priv`,
//! `poll_write_priv`, `poll_write_vectored_priv` and `shutdown_write`. Each
//! macro takes the type and how to reach its stream from `&Self`.

/// `futures_io::AsyncRead` through `$stream`'s `poll_read_priv`.
macro_rules! impl_async_read {
    ($t:ty, |$s:ident| $stream:expr) => {
        impl futures_io::AsyncRead for $t {
            fn poll_read(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut [u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let $s = &*self;
                $stream.poll_read_priv(cx, buf)
            }
        }
    };
}

/// `futures_io::AsyncWrite` through `$stream`: writes go straight to the
/// kernel (flush has nothing to do), and close half-closes the connection
/// (shuts down the writing side; the peer reads end of file).
macro_rules! impl_async_write {
    ($t:ty, |$s:ident| $stream:expr) => {
        impl futures_io::AsyncWrite for $t {
            fn poll_write(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &[u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let $s = &*self;
                $stream.poll_write_priv(cx, buf)
            }

            fn poll_write_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let $s = &*self;
                $stream.poll_write_vectored_priv(cx, bufs)
            }

            fn poll_flush(
                self: ::std::pin::Pin<&mut Self>,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                ::std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: ::std::pin::Pin<&mut Self>,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                let $s = &*self;
                ::std::task::Poll::Ready($stream.shutdown_write())
            }
        }
    };
}

pub(crate) use {impl_async_read, impl_async_write};
