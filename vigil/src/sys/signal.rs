//! Signal dispositions: keeping `SIGPIPE` from killing the process, and
//! installing the handler behind `vigil::signal`.
//!
//! `SIGPIPE`: writing to a socket or pipe whose reader is gone raises it,
//! and its default action kills the process. A server must get `EPIPE` as an
//! error instead. Rust programs start with `SIGPIPE` ignored, but vigil may
//! run inside a program whose `main` is not Rust's; so when a runtime is
//! built, a default disposition is switched to "ignore". A handler the
//! program installed on purpose is left alone.
//!
//! Stream sends also pass `MSG_NOSIGNAL` (vigil's own `send`/`sendmsg` in
//! `sys/socket.rs`), so they are errors whatever the disposition.
//! `splice(2)` into a socket (the splice path of `io::copy`) takes no such
//! flag: there the ignore set here is the only defence. `tests/net_sigpipe.rs`
//! checks both in a child process that starts with the default disposition.

use std::io;
use std::sync::Once;

pub(crate) fn ignore_sigpipe() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: `sigaction` with a null new action only reads the current
        // disposition into `old`, a valid, zeroed struct; `signal` with
        // `SIG_IGN` installs no code of ours, so no handler-safety rules apply.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGPIPE, std::ptr::null(), &mut old) == 0
                && old.sa_sigaction == libc::SIG_DFL
            {
                libc::signal(libc::SIGPIPE, libc::SIG_IGN);
            }
        }
    });
}

/// Signals whose handler would be unsound or useless: `SIGKILL` and
/// `SIGSTOP` cannot be caught, and a handler that returns from `SIGSEGV`,
/// `SIGBUS`, `SIGILL` or `SIGFPE` re-runs the faulting instruction forever.
pub(crate) const FORBIDDEN: [libc::c_int; 6] = [
    libc::SIGKILL,
    libc::SIGSTOP,
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGILL,
    libc::SIGFPE,
];

/// The highest signal number this process can receive (`SIGRTMAX`).
pub(crate) fn max_signal() -> libc::c_int {
    libc::SIGRTMAX()
}

/// Installs `handler` for `signum`, process-wide, with `SA_RESTART` (so
/// that system calls the signal interrupts in other code are restarted
/// instead of failing with `EINTR`). The previous disposition is replaced.
///
/// `handler` runs on whatever thread the kernel picks, between any two
/// instructions: it may only touch atomics and call async-signal-safe
/// functions.
pub(crate) fn set_handler(
    signum: libc::c_int,
    handler: extern "C" fn(libc::c_int),
) -> io::Result<()> {
    // SAFETY: a zeroed `sigaction` is a valid value (empty mask, no flags).
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = handler as libc::sighandler_t;
    action.sa_flags = libc::SA_RESTART;
    // SAFETY: `action.sa_mask` is a valid `sigset_t` owned by this frame.
    unsafe { libc::sigemptyset(&mut action.sa_mask) };
    // SAFETY: `action` is fully initialised and outlives the call; a null
    // `oldact` asks for nothing back. The handler's own safety is its
    // caller's promise (see above).
    super::cvt(unsafe { libc::sigaction(signum, &action, std::ptr::null_mut()) })?;
    Ok(())
}

/// Sets `errno` back to `value`; a signal handler that makes a system call
/// must restore the `errno` of the code it interrupted.
pub(crate) fn restore_errno(value: libc::c_int) {
    // SAFETY: `__errno_location` returns the calling thread's errno slot,
    // valid for the thread's lifetime.
    unsafe { *libc::__errno_location() = value };
}

/// The calling thread's `errno`.
pub(crate) fn errno() -> libc::c_int {
    // SAFETY: as in `restore_errno`.
    unsafe { *libc::__errno_location() }
}
