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
