//! Unix pipes on the reactor: anonymous pipes ([`pipe`]) and FIFOs, also
//! called named pipes ([`OpenOptions`]), as async byte streams. A
//! [`Sender`] is the end bytes go in, a [`Receiver`] the end they come out
//! of; both can also be made from a descriptor obtained elsewhere, such as
//! a pipe inherited from a parent process.
//!
//! The names and methods follow Tokio's `tokio::net::unix::pipe`, so code
//! written for it ports by changing the path.
//!
//! # A pipe or a socket?
//!
//! Both move bytes between two parts of a program or two processes on one
//! machine. Pick a pipe when:
//!
//! * the bytes flow one way, and the other side expects a pipe: a child's
//!   standard streams, a shell pipeline, a tool that only knows how to
//!   `open(2)` a path and `read(2)`/`write(2)` it (a FIFO looks like a file
//!   to `cat` or `echo`);
//! * several writers may feed one reader through a well-known path: each
//!   write of at most `PIPE_BUF` (4096) bytes arrives in one piece, never
//!   interleaved with another writer's.
//!
//! Pick a [`UnixStream`](crate::net::UnixStream) instead when the two sides
//! talk both ways (one socket instead of two pipes), when each client needs
//! its own connection (a FIFO merges every writer into one stream, and the
//! reader cannot tell them apart), or when you need what only sockets have:
//! a half-close that leaves the other direction open, the peer's
//! credentials, or passing descriptors. A pipe reports end of file only
//! once *every* writing end is closed, including copies held by other
//! processes.
//!
//! # Opening a FIFO
//!
//! [`OpenOptions`] opens a FIFO without waiting for the other side, so an
//! open never blocks a worker thread:
//!
//! * [`open_receiver`](OpenOptions::open_receiver) succeeds at once; reads
//!   wait until some process opens the FIFO for writing and writes to it,
//!   and report end of file once every writer has closed it again.
//! * [`open_sender`](OpenOptions::open_sender) fails with `ENXIO` (an error
//!   whose `raw_os_error()` is `Some(libc::ENXIO)`) while no process has the
//!   FIFO open for reading: retry later, or open the receiver first.
//! * [`read_write(true)`](OpenOptions::read_write) opens the FIFO for both
//!   (Linux defines this; POSIX does not). The end then counts as a reader
//!   and a writer of its own FIFO: a sender opens with no reader present,
//!   and a receiver never sees end of file when writers come and go, which
//!   suits a long-lived server reading a well-known path.
//!
//! # `O_NONBLOCK` and other processes
//!
//! The reactor only works with descriptors in non-blocking mode, so every
//! end is switched to `O_NONBLOCK`. That flag belongs to the *open file
//! description*, not to the descriptor number: every descriptor duplicated
//! from the same `open`/`pipe` (with `dup`, or inherited across `fork` and
//! `exec`) shares it.
//!
//! * [`pipe`] and [`OpenOptions`] create new descriptions, close-on-exec,
//!   so no other process shares them. Other processes that open the same
//!   FIFO by path get descriptions of their own: their opens, reads and
//!   writes keep blocking as usual.
//! * `from_owned_fd` and `from_file` change the description they are
//!   given. If another process shares it (standard input inherited from a
//!   shell, a pipe end also given to a child), that process's reads and
//!   writes start failing with `EAGAIN` instead of waiting, which programs
//!   written for blocking I/O rarely handle. Hand such descriptors over only
//!   when this process is their sole user, and give an end back in blocking
//!   mode with [`Sender::into_blocking_fd`] /
//!   [`Receiver::into_blocking_fd`] before passing it to a child
//!   (`std::process::Stdio::from`).
//!
//! # Errors that differ from blocking I/O
//!
//! Writing to a pipe whose every reading end is closed fails with
//! [`BrokenPipe`](std::io::ErrorKind::BrokenPipe) (`EPIPE`). The kernel also
//! raises `SIGPIPE` then, whose default action kills the process; building a
//! vigil runtime switches a default `SIGPIPE` disposition to "ignore", so
//! the error is all the program sees. A program that reinstalls the default
//! disposition afterwards gets the signal back: pipes, unlike sockets, have
//! no per-call way to suppress it.
//!
//! Every constructor must run inside a vigil runtime (a task, or
//! `Runtime::block_on`); outside one it returns an error.

mod open;
mod receiver;
mod sender;

pub use open::OpenOptions;
pub use receiver::Receiver;
pub use sender::Sender;

use crate::driver::io::PollEvented;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::FileTypeExt;

/// Creates an anonymous pipe: bytes written to the [`Sender`] come out of
/// the [`Receiver`], in order. Both ends are non-blocking, close-on-exec
/// (`pipe2(O_NONBLOCK | O_CLOEXEC)`) and registered with the current
/// runtime's reactor.
///
/// The pipe buffer holds 64 KiB (Linux's default): a writer that gets
/// that far ahead of its reader waits until the reader catches up. Dropping the
/// `Sender` gives the `Receiver` end of file once it has read everything;
/// dropping the `Receiver` makes further writes fail with `BrokenPipe`.
///
/// ```
/// use vigil::io::{AsyncReadExt, AsyncWriteExt};
/// use vigil::net::unix::pipe;
///
/// # vigil::block_on(async {
/// let (mut tx, mut rx) = pipe::pipe()?;
/// let writer = vigil::spawn(async move {
///     tx.write_all(b"one way only").await?;
///     // `tx` is dropped here, so the reader sees end of file.
///     std::io::Result::Ok(())
/// });
/// let mut text = String::new();
/// rx.read_to_string(&mut text).await?;
/// writer.await.unwrap()?;
/// assert_eq!(text, "one way only");
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
///
/// # Errors
/// Outside a runtime; when the process or the system is out of
/// descriptors (`EMFILE`, `ENFILE`).
pub fn pipe() -> io::Result<(Sender, Receiver)> {
    let (read_end, write_end) = crate::sys::pipe::pipe()?;
    let receiver = Receiver::from_owned_fd_unchecked(read_end)?;
    let sender = Sender::from_owned_fd_unchecked(write_end)?;
    Ok((sender, receiver))
}

/// Which end of a pipe a descriptor is meant to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    Receiver,
    Sender,
}

impl End {
    fn name(self) -> &'static str {
        match self {
            End::Receiver => "reading",
            End::Sender => "writing",
        }
    }
}

/// The file status flags of `fd` (`fcntl(F_GETFL)`): access mode,
/// `O_NONBLOCK`, `O_APPEND`, ...
fn status_flags(fd: BorrowedFd<'_>) -> io::Result<libc::c_int> {
    // SAFETY: `fd` is a borrowed, hence open, descriptor; F_GETFL takes no
    // argument and touches no memory of ours.
    crate::sys::cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) })
}

/// Whether `fd` is a pipe or a FIFO (`fstat`: `S_IFIFO`).
fn is_fifo(file: &File) -> io::Result<bool> {
    Ok(file.metadata()?.file_type().is_fifo())
}

/// Sets `FD_CLOEXEC` on `fd` (a flag of this descriptor alone, unlike
/// `O_NONBLOCK`), so that it does not leak into child processes.
fn set_cloexec(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: `fd` is open (borrowed); F_GETFD takes no argument and
    // touches no memory of ours.
    let flags = crate::sys::cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFD) })?;
    if flags & libc::FD_CLOEXEC == 0 {
        // SAFETY: as above; F_SETFD takes an integer argument.
        crate::sys::cvt(unsafe {
            libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, flags | libc::FD_CLOEXEC)
        })?;
    }
    Ok(())
}

/// The checks of the checked constructors: `fd` must be a pipe or a FIFO,
/// opened with the access `end` needs. Then makes it non-blocking and
/// close-on-exec. Errors are `InvalidInput` for a descriptor of the wrong
/// kind.
fn check(fd: OwnedFd, end: End) -> io::Result<File> {
    let file = File::from(fd);
    if !is_fifo(&file)? {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "a pipe {} end needs a pipe or a FIFO, and this descriptor is neither",
                end.name()
            ),
        ));
    }
    let flags = status_flags(file.as_fd())?;
    let mode = flags & libc::O_ACCMODE;
    let allowed = match end {
        End::Receiver => mode == libc::O_RDONLY || mode == libc::O_RDWR,
        End::Sender => mode == libc::O_WRONLY || mode == libc::O_RDWR,
    };
    if !allowed {
        let needed = match end {
            End::Receiver => "reading (O_RDONLY or O_RDWR)",
            End::Sender => "writing (O_WRONLY or O_RDWR)",
        };
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "a pipe {} end needs a descriptor opened for {needed}",
                end.name()
            ),
        ));
    }
    if flags & libc::O_NONBLOCK == 0 {
        crate::sys::process::set_nonblocking(file.as_raw_fd(), true)?;
    }
    set_cloexec(file.as_fd())?;
    Ok(file)
}

/// Registers `file` (already non-blocking) with the current reactor.
fn register(file: File) -> io::Result<PollEvented<File>> {
    PollEvented::new(file)
}

/// Deregisters the end and returns its descriptor: as it is if
/// `nonblocking`, otherwise with `O_NONBLOCK` cleared.
fn into_fd(io: PollEvented<File>, nonblocking: bool) -> io::Result<OwnedFd> {
    let fd = OwnedFd::from(io.into_inner());
    if !nonblocking {
        crate::sys::process::set_nonblocking(fd.as_raw_fd(), false)?;
    }
    Ok(fd)
}
