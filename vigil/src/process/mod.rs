//! Child processes, with Tokio's names (`tokio::process::X` becomes
//! `vigil::process::X`): a [`Command`] builder wrapping
//! [`std::process::Command`], a [`Child`] whose exit is awaited without
//! blocking a thread, and its standard streams as async pipes
//! ([`ChildStdin`], [`ChildStdout`], [`ChildStderr`]).
//!
//! ```
//! use vigil::process::Command;
//!
//! #[vigil::main(flavor = "current_thread")]
//! async fn main() -> std::io::Result<()> {
//!     let out = Command::new("sh")
//!         .args(["-c", "echo out; echo err >&2; exit 3"])
//!         .output()
//!         .await?;
//!     assert_eq!(out.status.code(), Some(3));
//!     assert_eq!(out.stdout, b"out\n");
//!     assert_eq!(out.stderr, b"err\n");
//!     Ok(())
//! }
//! ```
//!
//! # Waiting for an exit: a process descriptor in the reactor
//!
//! The classic way to learn that a child exited is `SIGCHLD`: install a
//! handler, and on every signal try `waitpid` on each child still running.
//! That is global state with sharp edges: the handler is process-wide and
//! may fight with one another library installed; a library that reaps with
//! `waitpid(-1)` steals other code's statuses; signals coalesce, so every
//! child must be polled on every signal; and a PID read from a signal may
//! already belong to another process.
//!
//! vigil uses none of that. [`Command::spawn`] opens a *process
//! descriptor* for the child (`pidfd_open(2)`, Linux 5.3), a file
//! descriptor that becomes readable when that one process exits, and
//! registers it with the reactor like a socket. [`Child::wait`] awaits its
//! readability, then reaps with `std`'s `Child::try_wait`. No signal
//! handler, no global state, no interference with other code's children,
//! and no PID-reuse race: the descriptor names the process, not its
//! number, and a child keeps its PID until `std` reaps it (so `kill` is
//! safe up to that point too). Waiting costs no thread, so a current-thread
//! runtime keeps running its timers and other tasks while a child runs.
//!
//! Where `pidfd_open` fails (kernels before 5.3, some seccomp sandboxes
//! that answer `ENOSYS` or `EPERM`), each wait is done by a helper thread
//! blocked in `waitid(P_PID, pid, WEXITED | WNOWAIT)`, which observes the
//! exit without reaping and then wakes the task, which reaps. A plain
//! thread rather than the blocking pool: a runtime's shutdown waits for
//! the pool's closures, and a child may outlive its runtime. The thread
//! starts on the first `wait` and serves later ones if that wait is
//! cancelled. The tests run both paths.
//!
//! # Reaping dropped children
//!
//! A [`Child`] dropped before its status was collected must still be
//! reaped, or it stays a zombie until the parent exits. Dropping one (after
//! sending `SIGKILL` if [`Command::kill_on_drop`] was set) spawns a small
//! task on the current runtime that awaits the process descriptor and
//! reaps: no thread sits blocked per orphan. In the fallback mode, or when
//! dropped outside any runtime, a thread blocks in `wait` instead. If the
//! runtime shuts down before the orphan exits, the task is cancelled and
//! the child goes to a global list watched by one thread, which sleeps in
//! `poll(2)` on the orphans' process descriptors, reaps each as it exits,
//! and ends when the list is empty.
//!
//! # Pipes
//!
//! `std` creates the pipes of [`Stdio::piped`](std::process::Stdio::piped)
//! in blocking mode. The parent's ends are switched to non-blocking mode
//! and registered with the reactor; they implement
//! [`AsyncRead`](crate::io::AsyncRead) / [`AsyncWrite`](crate::io::AsyncWrite)
//! (and, with the `tokio-io` feature, Tokio's traits). Writing to a child
//! that closed its standard input is a `BrokenPipe` error, never a
//! `SIGPIPE`: building a runtime switches that signal's default action to
//! "ignore".
//! [`Child::wait_with_output`] reads stdout and stderr concurrently, so a
//! child writing a lot to both cannot deadlock against its parent.

mod child;
mod command;
mod orphanage;
mod pipes;
mod reaper;

pub use child::Child;
pub use command::Command;
pub use pipes::{ChildStderr, ChildStdin, ChildStdout};

#[cfg(test)]
mod tests;
