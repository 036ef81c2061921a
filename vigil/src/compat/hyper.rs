//! Running [hyper] 1.x on vigil (feature `hyper`).
//!
//! hyper is runtime-agnostic: it asks for I/O through its own
//! [`hyper::rt::Read`] and [`Write`](hyper::rt::Write)
//! traits, for background tasks through an
//! [`Executor`](hyper::rt::Executor) and for timeouts through a
//! [`Timer`](hyper::rt::Timer). This module provides all three:
//!
//! * vigil's streams implement `hyper::rt::{Read, Write}` directly:
//!   [`TcpStream`](crate::net::TcpStream) and
//!   [`UnixStream`](crate::net::UnixStream), `&stream`, their split halves,
//!   [`DuplexStream`](crate::io::DuplexStream),
//!   [`SimplexStream`](crate::io::SimplexStream), the
//!   [pipes](crate::net::unix::pipe) and a child process's
//!   [standard streams](crate::process::ChildStdin). Pass one to
//!   `serve_connection` or `handshake` as it is; no wrapper.
//! * [`Executor`] spawns hyper's tasks on vigil (the current runtime, or
//!   the one a stored [`Handle`] names).
//! * [`Timer`] gives hyper vigil's timers: [`Sleep`] wraps
//!   [`vigil::time::Sleep`](crate::time::Sleep), and
//!   [`Timer::reset`](hyper::rt::Timer::reset) moves its deadline in place
//!   instead of allocating a new one.
//!
//! The streams' native traits are `futures-io`'s; the hyper impls forward to
//! them. hyper hands every read an uninitialised buffer: the TCP and Unix
//! streams (and their halves) receive straight into it; the other types
//! zero-fill it first.
//!
//! ```
//! use http_body_util::{BodyExt, Empty, Full};
//! use hyper::body::{Bytes, Incoming};
//! use hyper::{Request, Response};
//! use hyper::rt::Executor as _;
//!
//! # vigil::block_on(async {
//! let (client_io, server_io) = vigil::io::duplex(64 * 1024);
//!
//! // The server side: one connection, with hyper's timeouts on vigil's timer.
//! let service = hyper::service::service_fn(|req: Request<Incoming>| async move {
//!     let reply = format!("hello, {}", req.uri().path());
//!     Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from(reply))))
//! });
//! vigil::spawn(
//!     hyper::server::conn::http1::Builder::new()
//!         .timer(vigil::hyper::Timer)
//!         .serve_connection(server_io, service),
//! );
//!
//! // The client side: hyper's connection task runs on the `Executor`.
//! let (mut sender, conn) = hyper::client::conn::http1::handshake(client_io).await?;
//! vigil::hyper::Executor::new().execute(async move {
//!     let _ = conn.await;
//! });
//! let req = Request::get("/world").header("host", "example").body(Empty::<Bytes>::new())?;
//! let res = sender.send_request(req).await?;
//! let body = res.into_body().collect().await?.to_bytes();
//! assert_eq!(body, "hello, /world");
//! # Ok::<_, Box<dyn std::error::Error + Send + Sync>>(()) }).unwrap();
//! ```

use crate::net::ReadUninit;
use crate::runtime::Handle;
use crate::time::Instant;
use ::hyper::rt::ReadBufCursor;
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

// ---------------------------------------------------------------------------
// Executor

/// Spawns hyper's background tasks (HTTP/2 streams, client connections, ...)
/// as vigil tasks.
///
/// [`Executor::new`] spawns on whichever vigil runtime the calling thread is
/// in when hyper calls [`execute`](hyper::rt::Executor::execute), and
/// panics if there is none, like [`vigil::spawn`](crate::spawn).
/// [`Executor::with_handle`] spawns on the runtime of the given [`Handle`]
/// from any thread.
///
/// The tasks are detached: hyper gets no handle to them, and they run to
/// completion or until the runtime shuts down.
#[derive(Clone, Debug, Default)]
pub struct Executor {
    handle: Option<Handle>,
}

impl Executor {
    /// Spawns on the current runtime at each `execute`.
    pub fn new() -> Executor {
        Executor { handle: None }
    }

    /// Spawns on `handle`'s runtime, from any thread.
    pub fn with_handle(handle: Handle) -> Executor {
        Executor {
            handle: Some(handle),
        }
    }

    /// The handle this executor spawns on, if it keeps one.
    pub fn handle(&self) -> Option<&Handle> {
        self.handle.as_ref()
    }
}

impl From<Handle> for Executor {
    fn from(handle: Handle) -> Executor {
        Executor::with_handle(handle)
    }
}

impl<F> ::hyper::rt::Executor<F> for Executor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    #[track_caller]
    fn execute(&self, future: F) {
        // Dropping the `JoinHandle` detaches the task.
        match &self.handle {
            Some(handle) => drop(handle.spawn(future)),
            None => drop(crate::spawn(future)),
        }
    }
}

// ---------------------------------------------------------------------------
// Timer

/// Gives hyper vigil's timers, e.g. for
/// `http1::Builder::timer(vigil::hyper::Timer)`, which hyper needs before it
/// can enforce HTTP/1 `header_read_timeout` or HTTP/2 keep-alive pings.
///
/// The sleeps are [`Sleep`]s, registered with the timer wheel of the runtime
/// they are first polled in. Deadlines are `std::time::Instant`s, as hyper
/// uses, converted with [`Instant::from_std`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Timer;

impl ::hyper::rt::Timer for Timer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn ::hyper::rt::Sleep>> {
        Box::pin(Sleep::from(crate::time::sleep(duration)))
    }

    fn sleep_until(&self, deadline: std::time::Instant) -> Pin<Box<dyn ::hyper::rt::Sleep>> {
        Box::pin(Sleep::from(crate::time::sleep_until(Instant::from_std(
            deadline,
        ))))
    }

    /// Moves the deadline of a [`Sleep`] made by this timer in place (it
    /// keeps its timer entry and waker); any other sleep is replaced.
    fn reset(
        &self,
        sleep: &mut Pin<Box<dyn ::hyper::rt::Sleep>>,
        new_deadline: std::time::Instant,
    ) {
        match sleep.as_mut().downcast_mut_pin::<Sleep>() {
            Some(ours) => ours.reset(Instant::from_std(new_deadline)),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// The future [`Timer`] gives hyper: a [`vigil::time::Sleep`](crate::time::Sleep)
/// implementing `hyper::rt::Sleep`.
///
/// Cancel safe: dropping it before the deadline removes its timer entry
/// and nothing else happens.
pub struct Sleep {
    inner: crate::time::Sleep,
}

impl Sleep {
    /// The instant this sleep completes at.
    pub fn deadline(&self) -> Instant {
        self.inner.deadline()
    }

    /// Whether the deadline has been reached.
    pub fn is_elapsed(&self) -> bool {
        self.inner.is_elapsed()
    }

    /// Moves the deadline, as [`vigil::time::Sleep::reset`](crate::time::Sleep::reset).
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        // `crate::time::Sleep` is `Unpin`, so `Sleep` is too.
        Pin::new(&mut self.get_mut().inner).reset(deadline);
    }

    /// Unwraps the vigil sleep.
    pub fn into_inner(self) -> crate::time::Sleep {
        self.inner
    }
}

impl From<crate::time::Sleep> for Sleep {
    fn from(inner: crate::time::Sleep) -> Sleep {
        Sleep { inner }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.inner).poll(cx)
    }
}

// hyper requires `Send + Sync`; this impl fails to compile should
// `vigil::time::Sleep` ever lose either.
impl ::hyper::rt::Sleep for Sleep {}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Sleep").field(&self.inner).finish()
    }
}

// ---------------------------------------------------------------------------
// Read and Write

/// Reads into the unfilled part of `cursor` through the `futures-io` impl,
/// zero-filling it first.
fn poll_read_cursor<R: futures_io::AsyncRead + ?Sized>(
    reader: Pin<&mut R>,
    cx: &mut Context<'_>,
    mut cursor: ReadBufCursor<'_>,
) -> Poll<io::Result<()>> {
    // Safe: zero-fills whatever of the unfilled part is not initialised yet
    // (all of it, as hyper hands out fresh uninitialised cursors).
    let unfilled = cursor.initialize_unfilled();
    let n = ready!(reader.poll_read(cx, unfilled))?;
    let n = crate::io::guard::check_read_len(n, unfilled.len())?;
    // `initialize_unfilled` initialised all `unfilled.len()` bytes, and
    // writing through a `&mut [u8]` cannot de-initialise any of them.
    // SAFETY: `advance(n)` needs the first `n` unfilled bytes initialised:
    // they are (above), and `check_read_len` ensured `n <= unfilled.len()`.
    unsafe { cursor.advance(n) };
    Poll::Ready(Ok(()))
}

/// Receives straight into the unfilled, possibly uninitialised, part of
/// `cursor` (no zero-filling), for the stream sockets.
fn poll_read_cursor_uninit<R: ReadUninit + ?Sized>(
    reader: Pin<&mut R>,
    cx: &mut Context<'_>,
    mut cursor: ReadBufCursor<'_>,
) -> Poll<io::Result<()>> {
    // SAFETY: `as_mut` forbids de-initialising bytes through the slice; it
    // goes only to `ReadUninit::poll_read_uninit`, whose contract forbids
    // writing uninitialised values.
    let unfilled = unsafe { cursor.as_mut() };
    let len = unfilled.len();
    let n = ready!(reader.poll_read_uninit(cx, unfilled))?;
    // Guaranteed by the `ReadUninit` contract; checked as the other path is.
    let n = crate::io::guard::check_read_len(n, len)?;
    // SAFETY: `advance(n)` requires the first `n` bytes of the unfilled part
    // to be initialised: `ReadUninit`'s contract says a `Ready(Ok(n))` read
    // initialised exactly those, and `n <= len` was just checked.
    unsafe { cursor.advance(n) };
    Poll::Ready(Ok(()))
}

/// Implements one capability (see `for_each_io_type!`) of one type.
macro_rules! hyper_io {
    ($t:ty => $($cap:ident),+) => {
        $( hyper_io!(@$cap $t); )+
    };
    (@read $t:ty) => {
        impl ::hyper::rt::Read for $t {
            #[inline]
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: ReadBufCursor<'_>,
            ) -> Poll<io::Result<()>> {
                poll_read_cursor(self, cx, buf)
            }
        }
    };
    (@read_uninit $t:ty) => {
        impl ::hyper::rt::Read for $t {
            #[inline]
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: ReadBufCursor<'_>,
            ) -> Poll<io::Result<()>> {
                poll_read_cursor_uninit(self, cx, buf)
            }
        }
    };
    (@write $t:ty) => {
        hyper_io!(@write_impl $t, false);
    };
    (@write_vectored $t:ty) => {
        hyper_io!(@write_impl $t, true);
    };
    (@write_impl $t:ty, $vectored:literal) => {
        forward_write!(::hyper::rt::Write, [] $t, $vectored);
    };
}

for_each_io_type!(hyper_io);
