//! TCP: [`TcpListener`] accepts connections, [`TcpStream`] carries one,
//! [`TcpSocket`] configures a socket before it becomes either.

mod listener;
mod socket;
mod split;
mod stream;

pub use listener::TcpListener;
pub use socket::TcpSocket;
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
pub use stream::TcpStream;

use std::io;
use std::net::SocketAddr;

/// A non-blocking, close-on-exec TCP socket of the right family for `addr`.
fn new_socket(addr: SocketAddr) -> io::Result<socket2::Socket> {
    let domain = socket2::Domain::for_address(addr);
    socket2::Socket::new(
        domain,
        socket2::Type::STREAM.nonblocking().cloexec(),
        Some(socket2::Protocol::TCP),
    )
}
