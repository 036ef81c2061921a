use super::split::{self, OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use crate::driver::io::{Direction, Interest, PollEvented, Ready};
use crate::net::addr::{each_addr, ToSocketAddrs};
use crate::net::stream_io;
use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};
use std::time::Duration;

/// A TCP connection.
///
/// Reading and writing go through the `futures-io` traits
/// ([`AsyncRead`](crate::io::AsyncRead), [`AsyncWrite`](crate::io::AsyncWrite))
/// and their extension methods in [`crate::io`]. Half-close the writing
/// side with `AsyncWriteExt::shutdown().await`. Both traits are also
/// implemented for `&TcpStream`, so one task can read while another writes
/// (or use [`split`](Self::split) / [`into_split`](Self::into_split)).
pub struct TcpStream {
    io: PollEvented<std::net::TcpStream>,
}

impl TcpStream {
    /// Opens a connection to `addr`, trying each resolved address in turn.
    ///
    /// The connect is non-blocking: the socket is registered, the task waits
    /// until it is writable, and `SO_ERROR` tells whether the connection
    /// succeeded. Cancel safe (dropping the future closes the half-open
    /// socket). Use [`crate::time::timeout`] to bound the wait.
    pub async fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        each_addr(addr, TcpStream::connect_addr).await
    }

    async fn connect_addr(addr: SocketAddr) -> io::Result<TcpStream> {
        TcpStream::connect_socket(super::new_socket(addr)?, addr).await
    }

    /// Connects a prepared non-blocking socket (used by `TcpSocket`, whose
    /// options are set before the connect).
    pub(crate) async fn connect_socket(
        socket: socket2::Socket,
        addr: SocketAddr,
    ) -> io::Result<TcpStream> {
        match socket.connect(&addr.into()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(e) => return Err(e),
        }
        let stream = TcpStream {
            io: PollEvented::new(socket.into())?,
        };
        stream.io.ready(Interest::WRITABLE).await?;
        if let Some(err) = stream.io.get_ref().take_error()? {
            return Err(err);
        }
        // A refused connection can also show up only as a missing peer.
        stream.io.get_ref().peer_addr()?;
        Ok(stream)
    }

    pub(crate) fn from_accepted(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        Ok(TcpStream {
            io: PollEvented::new(stream)?,
        })
    }

    /// Wraps a connected standard stream (switched to non-blocking mode).
    ///
    /// # Errors
    /// Outside a runtime, or if the reactor refuses the descriptor.
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        TcpStream::from_accepted(stream)
    }

    /// Deregisters and returns the standard stream (still non-blocking).
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        Ok(self.io.into_inner())
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Sets `TCP_NODELAY` (disables Nagle's algorithm).
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// Reads `TCP_NODELAY`.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    /// Sets `IP_TTL`.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// Reads `IP_TTL`.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Sets `SO_LINGER`.
    ///
    /// Beware of a non-zero duration: with it, closing the socket (dropping
    /// the stream) blocks the closing thread, a runtime worker, until the
    /// unsent data is acknowledged or the time is up. For the one useful
    /// case, `Some(Duration::ZERO)`, prefer
    /// [`set_zero_linger`](Self::set_zero_linger).
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        socket2::SockRef::from(self.io.get_ref()).set_linger(linger)
    }

    /// Sets `SO_LINGER` to zero: closing the socket then aborts the
    /// connection. Unsent data is discarded, the peer gets an RST (its reads
    /// and writes fail with `ConnectionReset`) instead of end of file, and
    /// the port skips `TIME_WAIT`. Closing never blocks.
    pub fn set_zero_linger(&self) -> io::Result<()> {
        self.set_linger(Some(Duration::ZERO))
    }

    /// Reads `SO_LINGER`.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        socket2::SockRef::from(self.io.get_ref()).linger()
    }

    /// Reads `TCP_QUICKACK`.
    pub fn quickack(&self) -> io::Result<bool> {
        socket2::SockRef::from(self.io.get_ref()).tcp_quickack()
    }

    /// Sets `TCP_QUICKACK`: when on, Linux acknowledges received segments at
    /// once instead of delaying the ACK. The kernel switches it off again
    /// by itself as the connection goes on, so protocols that want it set
    /// it again after reads.
    pub fn set_quickack(&self, quickack: bool) -> io::Result<()> {
        socket2::SockRef::from(self.io.get_ref()).set_tcp_quickack(quickack)
    }

    /// Reads and clears the pending socket error (`SO_ERROR`).
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Waits for any of `interest`; returns what is ready. Cancel safe; many
    /// tasks may wait at once.
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        self.io.ready(interest).await
    }

    /// Waits until the socket is readable. Cancel safe.
    pub async fn readable(&self) -> io::Result<()> {
        self.ready(Interest::READABLE).await.map(|_| ())
    }

    /// Waits until the socket is writable. Cancel safe.
    pub async fn writable(&self) -> io::Result<()> {
        self.ready(Interest::WRITABLE).await.map(|_| ())
    }

    /// Reads without waiting: `WouldBlock` if no data is ready.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        use std::io::Read;
        self.io.try_io(Interest::READABLE, |mut s| s.read(buf))
    }

    /// Writes without waiting: `WouldBlock` if the send buffer is full.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        use std::io::Write;
        self.io.try_io(Interest::WRITABLE, |mut s| s.write(buf))
    }

    /// Reads data without removing it from the receive queue.
    ///
    /// Cancel safe. Waits through the shared waiter list, so it may run
    /// concurrently with a read of the same stream in another task.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.async_io(Interest::READABLE, |s| s.peek(buf)).await
    }

    /// Polls [`peek`](Self::peek) (through the single reader slot: do not
    /// mix with concurrent reads from another task).
    pub fn poll_peek(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Direction::Read, |s| s.peek(buf))
    }

    /// Borrowed read and write halves, for use in one task (e.g. with
    /// `copy` in both directions). Zero cost.
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        split::split(self)
    }

    /// Owned halves that can move to two different tasks. Dropping the
    /// write half shuts down the writing side.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split::into_split(self)
    }
}

stream_io::impl_stream_socket!(TcpStream, std::net::TcpStream);
