//! Which CPU: the one this thread runs on, and the one a socket's data last
//! arrived on. The reactor uses the pair to place a connection's
//! registration near its data (see `driver::io::placement`).

use super::cvt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{BorrowedFd, RawFd};

/// The CPU the calling thread runs on now (it may move at any time), or
/// `None` if the kernel cannot say.
pub(crate) fn current() -> Option<u32> {
    // SAFETY: no arguments; returns -1 on failure.
    let cpu = unsafe { libc::sched_getcpu() };
    u32::try_from(cpu).ok()
}

/// The CPU whose network stack last delivered data to socket `fd`
/// (`SO_INCOMING_CPU`). On loopback that is the CPU the peer sent from.
pub(crate) fn incoming(fd: RawFd) -> io::Result<u32> {
    let mut cpu: libc::c_int = -1;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `cpu` and `len` are valid out-pointers for the whole call and
    // `len` holds the size of `cpu`.
    cvt(unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_INCOMING_CPU,
            (&mut cpu as *mut libc::c_int).cast(),
            &mut len,
        )
    })?;
    u32::try_from(cpu).map_err(|_| io::Error::other("SO_INCOMING_CPU: no CPU recorded yet"))
}

/// The local and peer addresses of a connected IP socket `fd`.
pub(crate) fn endpoints(fd: RawFd) -> io::Result<(SocketAddr, SocketAddr)> {
    // SAFETY: the caller's descriptor is open for the duration of the call
    // (it is borrowed only for these two queries).
    let fd = unsafe { BorrowedFd::borrow_raw(fd) };
    let sock = socket2::SockRef::from(&fd);
    let not_ip = || io::Error::other("not an IP socket");
    let local = sock.local_addr()?.as_socket().ok_or_else(not_ip)?;
    let peer = sock.peer_addr()?.as_socket().ok_or_else(not_ip)?;
    Ok((local, peer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsRawFd;

    #[test]
    fn a_loopback_connection_reports_its_ends_and_the_sending_cpu() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        let (local, peer) = endpoints(client.as_raw_fd()).unwrap();
        assert_eq!(peer, listener.local_addr().unwrap());
        assert_eq!(local, server.peer_addr().unwrap());
        client.write_all(b"x").unwrap();
        let mut buf = [0u8; 1];
        server.read_exact(&mut buf).unwrap();
        let cpus = std::thread::available_parallelism().map_or(1024, |n| n.get() as u32 * 64);
        assert!(incoming(server.as_raw_fd()).unwrap() < cpus);
        assert!(current().is_some());
    }

    #[test]
    fn a_socket_that_is_not_ip_has_no_endpoints() {
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        assert!(endpoints(a.as_raw_fd()).is_err());
    }
}
