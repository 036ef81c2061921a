//! Listening for any Unix signal: [`signal`] returns a [`Signal`] whose
//! [`recv`](Signal::recv) completes once per delivery.

use super::registry::{self, Slot};
use crate::driver::io::{Direction, PollEvented};
use futures_core::Stream;
use std::fmt;
use std::io;
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Which signal to listen for. The named constructors cover the signals
/// programs usually handle; [`from_raw`](SignalKind::from_raw) takes any
/// number, such as a real-time signal.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignalKind(libc::c_int);

impl SignalKind {
    /// The signal numbered `signum` (checked by [`signal`], not here).
    pub const fn from_raw(signum: std::os::raw::c_int) -> SignalKind {
        SignalKind(signum)
    }

    /// The signal's number.
    pub const fn as_raw_value(&self) -> std::os::raw::c_int {
        self.0
    }

    /// `SIGALRM`: a timer set with `alarm(2)` or `setitimer(2)` expired.
    pub const fn alarm() -> SignalKind {
        SignalKind(libc::SIGALRM)
    }

    /// `SIGCHLD`: a child process stopped or exited.
    pub const fn child() -> SignalKind {
        SignalKind(libc::SIGCHLD)
    }

    /// `SIGHUP`: the controlling terminal closed; daemons take it as
    /// "reload your configuration".
    pub const fn hangup() -> SignalKind {
        SignalKind(libc::SIGHUP)
    }

    /// `SIGINT`: the user pressed Ctrl-C.
    pub const fn interrupt() -> SignalKind {
        SignalKind(libc::SIGINT)
    }

    /// `SIGIO`: I/O is possible on a descriptor set up with `O_ASYNC`.
    pub const fn io() -> SignalKind {
        SignalKind(libc::SIGIO)
    }

    /// `SIGPIPE`: a write to a pipe or socket whose reader is gone.
    pub const fn pipe() -> SignalKind {
        SignalKind(libc::SIGPIPE)
    }

    /// `SIGQUIT`: the user pressed Ctrl-\.
    pub const fn quit() -> SignalKind {
        SignalKind(libc::SIGQUIT)
    }

    /// `SIGTERM`: a polite request to exit (what `kill` and service
    /// managers send first).
    pub const fn terminate() -> SignalKind {
        SignalKind(libc::SIGTERM)
    }

    /// `SIGUSR1`: meaning is up to the program.
    pub const fn user_defined1() -> SignalKind {
        SignalKind(libc::SIGUSR1)
    }

    /// `SIGUSR2`: meaning is up to the program.
    pub const fn user_defined2() -> SignalKind {
        SignalKind(libc::SIGUSR2)
    }

    /// `SIGWINCH`: the terminal window changed size.
    pub const fn window_change() -> SignalKind {
        SignalKind(libc::SIGWINCH)
    }
}

impl From<std::os::raw::c_int> for SignalKind {
    fn from(signum: std::os::raw::c_int) -> SignalKind {
        SignalKind::from_raw(signum)
    }
}

impl From<SignalKind> for std::os::raw::c_int {
    /// The signal's number, as [`SignalKind::as_raw_value`].
    fn from(kind: SignalKind) -> std::os::raw::c_int {
        kind.as_raw_value()
    }
}

impl fmt::Debug for SignalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SignalKind").field(&self.0).finish()
    }
}

/// A listener for one signal, from [`signal`]. Each listener sees every
/// delivery counted after it was created; deliveries it has not yet
/// received merge into one. Also a [`Stream`] of `()`.
///
/// Each listener holds one file descriptor (its registration of the
/// process-wide wake-up pipe). Dropping it stops the listening but not the
/// handling: the signal's disposition stays vigil's for the life of the
/// process.
pub struct Signal {
    kind: SignalKind,
    slot: &'static Slot,
    pipe: PollEvented<OwnedFd>,
    /// The delivery count this listener has reported.
    seen: u64,
    /// This listener's key among the slot's wakers.
    waiter: Option<usize>,
}

/// Starts listening for `kind`, from inside a vigil runtime.
///
/// The first listener for a signal installs vigil's handler for it,
/// process-wide and for good: from then on the signal's default action
/// (for `SIGINT` and `SIGTERM`, ending the process) no longer happens,
/// and the program decides what the signal means, even after every
/// listener is dropped.
///
/// # Errors
/// `InvalidInput` for a number that is not a signal of this system, or for
/// `SIGKILL`, `SIGSTOP`, `SIGSEGV`, `SIGBUS`, `SIGILL` and `SIGFPE`; an
/// error when called outside a runtime (nothing is installed then), or when
/// the handler cannot be installed or no descriptor is left.
///
/// # Example
/// ```
/// use vigil::signal::unix::{signal, SignalKind};
///
/// # vigil::block_on(async {
/// let mut hangups = signal(SignalKind::hangup())?;
/// # // Raise one, so that the example finishes.
/// # // SAFETY: `raise` only sends a signal to this thread.
/// # unsafe { libc::raise(libc::SIGHUP) };
/// while let Some(()) = hangups.recv().await {
///     println!("SIGHUP: reloading the configuration");
///     # break;
/// }
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    let signum = kind.as_raw_value();
    registry::check(signum)?;
    // Register before installing: outside a runtime this fails and the
    // disposition stays as it was.
    let pipe = PollEvented::new(registry::pipe_reader()?)?;
    registry::install(signum)?;
    let slot = registry::slot(signum);
    Ok(Signal {
        kind,
        slot,
        pipe,
        seen: slot.delivered(),
        waiter: None,
    })
}

impl Signal {
    /// Waits for the next delivery of the signal. `None` once the runtime
    /// this listener was created in has shut down.
    ///
    /// Cancel-safe: a delivery is consumed only when `recv` returns it.
    pub async fn recv(&mut self) -> Option<()> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next delivery of the signal; see [`recv`](Signal::recv).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        // The waker goes in before the count is read, so a dispatch on
        // another thread between the two cannot go unnoticed.
        self.slot.set_waker(&mut self.waiter, cx.waker());
        if self.take_delivery() {
            return Poll::Ready(Some(()));
        }
        // Drive the pipe: whoever sees it readable dispatches for all.
        let poll = self.pipe.poll_io(cx, Direction::Read, |fd| {
            Err::<(), _>(registry::dispatch(fd))
        });
        if self.take_delivery() {
            return Poll::Ready(Some(()));
        }
        match poll {
            Poll::Pending => Poll::Pending,
            // The registration is gone (its runtime shut down), or the pipe
            // failed in a way it cannot recover from.
            Poll::Ready(_) => Poll::Ready(None),
        }
    }

    /// The signal this listener listens for.
    pub fn kind(&self) -> SignalKind {
        self.kind
    }

    fn take_delivery(&mut self) -> bool {
        let delivered = self.slot.delivered();
        let new = delivered != self.seen;
        self.seen = delivered;
        new
    }
}

impl Stream for Signal {
    type Item = ();

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<()>> {
        self.get_mut().poll_recv(cx)
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        self.slot.remove_waker(&mut self.waiter);
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal")
            .field("kind", &self.kind)
            .field("seen", &self.seen)
            .finish_non_exhaustive()
    }
}
