//! Unix-domain sockets: [`UnixListener`] and [`UnixStream`] for local byte
//! streams, [`UnixDatagram`] for local datagrams.
//!
//! They are driven exactly like their TCP and UDP counterparts (non-blocking,
//! close-on-exec, registered with the reactor once), with two differences
//! worth knowing:
//!
//! * Addresses are file-system paths, not resolved names, so nothing here
//!   needs the blocking pool. Binding creates the socket file, and nothing
//!   removes it when the socket closes: a server removes a stale file before
//!   binding, and its own file when it is done.
//! * A Linux Unix-domain `connect` completes at once or fails with
//!   `EAGAIN` when the listener's backlog is full; it never reports "in
//!   progress" the way TCP does. [`UnixStream::connect`] waits out a full
//!   backlog by retrying with a short, growing pause, which is what a
//!   blocking connect would do without tying up a worker.

mod datagram;
mod listener;
pub mod pipe;
mod socket;
mod split;
mod stream;
mod ucred;

pub use datagram::UnixDatagram;
pub use listener::UnixListener;
pub use socket::UnixSocket;
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
pub use std::os::unix::net::SocketAddr;
pub use stream::UnixStream;
pub use ucred::UCred;

use std::io;

/// A non-blocking, close-on-exec Unix-domain socket of type `ty`.
fn new_socket(ty: socket2::Type) -> io::Result<socket2::Socket> {
    socket2::Socket::new(socket2::Domain::UNIX, ty.nonblocking().cloexec(), None)
}

/// A connected pair of non-blocking, close-on-exec sockets of type `ty`.
fn new_pair(ty: socket2::Type) -> io::Result<(socket2::Socket, socket2::Socket)> {
    socket2::Socket::pair(socket2::Domain::UNIX, ty.nonblocking().cloexec(), None)
}

/// A user id, as in [`UCred::uid`].
#[allow(non_camel_case_types)]
pub type uid_t = libc::uid_t;

/// A group id, as in [`UCred::gid`].
#[allow(non_camel_case_types)]
pub type gid_t = libc::gid_t;

/// A process id, as in [`UCred::pid`].
#[allow(non_camel_case_types)]
pub type pid_t = libc::pid_t;
