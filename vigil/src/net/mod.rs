//! TCP, UDP and Unix-domain sockets on the reactor.
//!
//! Every socket is created non-blocking and close-on-exec, registered with
//! the current runtime's reactor once, and driven by the readiness pattern:
//! try the system call; on `WouldBlock`, wait for the reactor to report the
//! socket ready and try again. Addresses that need DNS are resolved on the
//! blocking pool ([`lookup_host`]).

mod addr;
mod datagram_buf;
mod split_halves;
mod stream_io;
pub mod tcp;
mod udp;
pub mod unix;

pub use addr::{lookup_host, ToSocketAddrs};
pub(crate) use stream_io::ReadUninit;
pub use tcp::{TcpListener, TcpSocket, TcpStream};
pub use udp::UdpSocket;
pub use unix::{UnixDatagram, UnixListener, UnixSocket, UnixStream};
