//! UDP: [`UdpSocket`] sends and receives datagrams.
//!
//! A datagram socket is not a byte stream, so it does not implement
//! `AsyncRead`/`AsyncWrite`: each `send` is one datagram and each `recv`
//! takes one whole datagram (or its first `buf.len()` bytes; the rest is
//! discarded by the kernel).
//!
//! A UDP socket is often shared: one socket serves many peers, and several
//! tasks receive or send on it through an `Arc<UdpSocket>`. The `async`
//! methods therefore wait through the reactor's list of waiters (any number
//! of tasks may wait at once, and each is woken), not through the single
//! reader/writer slot that `poll_*` methods and byte streams use. The
//! `poll_*` methods remain for hand-written futures; like `poll_read`, each
//! direction remembers only the task that polled it last.

use crate::driver::io::{Direction, Interest, PollEvented, Ready};
use crate::io::spare;
use crate::net::addr::{each_addr, resolve, ToSocketAddrs};
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{Context, Poll};

/// A UDP socket.
///
/// Unconnected, it talks to anyone with [`send_to`](Self::send_to) and
/// [`recv_from`](Self::recv_from). After [`connect`](Self::connect) it has a
/// default peer for [`send`](Self::send) and [`recv`](Self::recv), and the
/// kernel drops datagrams from anyone else.
///
/// ```
/// use vigil::net::UdpSocket;
///
/// # vigil::block_on(async {
/// let a = UdpSocket::bind("127.0.0.1:0").await?;
/// let b = UdpSocket::bind("127.0.0.1:0").await?;
/// a.send_to(b"ping", b.local_addr()?).await?;
/// let mut buf = [0; 16];
/// let (n, from) = b.recv_from(&mut buf).await?;
/// assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr()?));
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct UdpSocket {
    io: PollEvented<std::net::UdpSocket>,
}

impl UdpSocket {
    /// Binds to `addr`, trying each resolved address in turn. Port 0 lets
    /// the kernel choose.
    ///
    /// Cancel safe (nothing is bound until the future completes).
    ///
    /// # Errors
    /// Outside a runtime, or if no address could be bound.
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<UdpSocket> {
        each_addr(addr, |addr| async move {
            let socket = socket2::Socket::new(
                socket2::Domain::for_address(addr),
                socket2::Type::DGRAM.nonblocking().cloexec(),
                Some(socket2::Protocol::UDP),
            )?;
            socket.bind(&addr.into())?;
            UdpSocket::new(socket.into())
        })
        .await
    }

    fn new(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        Ok(UdpSocket {
            io: PollEvented::new(socket)?,
        })
    }

    /// Wraps a standard socket (switched to non-blocking mode).
    ///
    /// # Errors
    /// Outside a runtime, or if the reactor refuses the descriptor.
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        UdpSocket::new(socket)
    }

    /// Deregisters and returns the standard socket (still non-blocking).
    pub fn into_std(self) -> io::Result<std::net::UdpSocket> {
        Ok(self.io.into_inner())
    }

    /// Sets the default peer, trying each resolved address in turn: `send`
    /// goes there, and only its datagrams are received. No packet is sent.
    ///
    /// Cancel safe.
    pub async fn connect<A: ToSocketAddrs>(&self, addr: A) -> io::Result<()> {
        let socket = self.io.get_ref();
        each_addr(addr, |addr| async move { socket.connect(addr) }).await
    }

    /// The local address, e.g. to learn the port chosen for port 0.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The peer set by [`connect`](Self::connect).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Waits for any of `interest`; returns what is ready. Cancel safe; many
    /// tasks may wait at once.
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        self.io.ready(interest).await
    }

    /// Waits until a datagram can be received. Cancel safe.
    pub async fn readable(&self) -> io::Result<()> {
        self.ready(Interest::READABLE).await.map(|_| ())
    }

    /// Waits until a datagram can be sent. Cancel safe.
    pub async fn writable(&self) -> io::Result<()> {
        self.ready(Interest::WRITABLE).await.map(|_| ())
    }

    /// Polls until a datagram can be received, for code that drives the
    /// socket by hand. `Ready(Ok(()))` once the reactor has seen the socket
    /// readable; polling does not consume that: a receive that fails with
    /// `WouldBlock` (such as [`try_recv`](Self::try_recv)) clears it.
    ///
    /// The receive direction keeps a single waker, the one of the most
    /// recent `poll_*` call in that direction (this method, `poll_recv`,
    /// `poll_recv_from`, `poll_peek`...); the send direction keeps its own.
    /// For several tasks waiting at once, await [`readable`](Self::readable).
    ///
    /// # Errors
    /// When the socket is no longer registered with a running reactor.
    pub fn poll_recv_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(cx, Direction::Read).map_ok(|_| ())
    }

    /// Polls until a datagram can be sent; the counterpart of
    /// [`poll_recv_ready`](Self::poll_recv_ready), cleared by a send that
    /// fails with `WouldBlock`.
    ///
    /// The send direction keeps a single waker, the one of the most recent
    /// `poll_*` call in that direction (this method, `poll_send`,
    /// `poll_send_to`); the receive direction keeps its own. For several
    /// tasks waiting at once, await [`writable`](Self::writable).
    ///
    /// # Errors
    /// When the socket is no longer registered with a running reactor.
    pub fn poll_send_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(cx, Direction::Write).map_ok(|_| ())
    }

    /// Sends `buf` as one datagram to the connected peer; returns the bytes
    /// sent.
    ///
    /// Cancel safe: if the future is dropped, the datagram was not sent.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.async_io(Interest::WRITABLE, |s| s.send(buf)).await
    }

    /// Polls [`send`](Self::send).
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Direction::Write, |s| s.send(buf))
    }

    /// Sends to the connected peer without waiting: `WouldBlock` if the
    /// socket is not writable.
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(Interest::WRITABLE, |s| s.send(buf))
    }

    /// Receives one datagram from the connected peer into `buf`; returns its
    /// length (truncated to `buf.len()`).
    ///
    /// Cancel safe: if the future is dropped, no datagram was taken.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.async_io(Interest::READABLE, |s| s.recv(buf)).await
    }

    /// Polls [`recv`](Self::recv).
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Direction::Read, |s| s.recv(buf))
    }

    /// Receives from the connected peer without waiting: `WouldBlock` if no
    /// datagram is queued.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Interest::READABLE, |s| s.recv(buf))
    }

    /// Sends `buf` as one datagram to `target`. A host name is resolved on
    /// the blocking pool; the first address of this socket's family (IPv4
    /// or IPv6) is used, so `"localhost:port"` works whichever of `::1` and
    /// `127.0.0.1` the resolver lists first.
    ///
    /// Cancel safe: if the future is dropped, the datagram was not sent.
    pub async fn send_to<A: ToSocketAddrs>(&self, buf: &[u8], target: A) -> io::Result<usize> {
        let addrs: Vec<SocketAddr> = resolve(target).await?.collect();
        let v4 = self.local_addr()?.is_ipv4();
        let target = addrs
            .iter()
            .find(|a| a.is_ipv4() == v4)
            .or(addrs.first())
            .copied()
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "no address to send the datagram to",
                )
            })?;
        self.io
            .async_io(Interest::WRITABLE, |s| s.send_to(buf, target))
            .await
    }

    /// Polls sending one datagram to `target`.
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(cx, Direction::Write, |s| s.send_to(buf, target))
    }

    /// Sends to `target` without waiting: `WouldBlock` if not writable.
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.io
            .try_io(Interest::WRITABLE, |s| s.send_to(buf, target))
    }

    /// Receives one datagram into `buf`; returns its length (truncated to
    /// `buf.len()`) and sender.
    ///
    /// Cancel safe: if the future is dropped, no datagram was taken.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .async_io(Interest::READABLE, |s| s.recv_from(buf))
            .await
    }

    /// Polls [`recv_from`](Self::recv_from).
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.io.poll_io(cx, Direction::Read, |s| s.recv_from(buf))
    }

    /// Receives one datagram without waiting: `WouldBlock` if none is queued.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.try_io(Interest::READABLE, |s| s.recv_from(buf))
    }

    /// Like [`recv_from`](Self::recv_from), but the datagram stays queued:
    /// the next receive returns it again.
    ///
    /// Cancel safe.
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .async_io(Interest::READABLE, |s| s.peek_from(buf))
            .await
    }

    /// Polls [`peek_from`](Self::peek_from).
    pub fn poll_peek_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.io.poll_io(cx, Direction::Read, |s| s.peek_from(buf))
    }

    /// Peeks without waiting: `WouldBlock` if no datagram is queued.
    pub fn try_peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.try_io(Interest::READABLE, |s| s.peek_from(buf))
    }

    /// Like [`recv`](Self::recv) (connected peer), but the datagram stays
    /// queued.
    ///
    /// Cancel safe.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.async_io(Interest::READABLE, |s| s.peek(buf)).await
    }

    /// Polls [`peek`](Self::peek): copies the first datagram into `buf`
    /// (truncated to `buf.len()`) and leaves it queued. One waker for the
    /// receive direction, as for [`poll_recv`](Self::poll_recv).
    pub fn poll_peek(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Direction::Read, |s| s.peek(buf))
    }

    /// Peeks at the first datagram without waiting: `WouldBlock` if none is
    /// queued.
    pub fn try_peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Interest::READABLE, |s| s.peek(buf))
    }

    /// The sender of the first queued datagram, waiting for one to arrive;
    /// the datagram stays queued. Cheaper than
    /// [`peek_from`](Self::peek_from) when only the address matters (to
    /// pick a buffer or a handler before receiving). The address is what the
    /// packet says, which anyone can forge: do not treat it as proof of who
    /// sent it.
    ///
    /// Cancel safe: nothing is taken from the queue either way.
    pub async fn peek_sender(&self) -> io::Result<SocketAddr> {
        self.io.async_io(Interest::READABLE, peek_sender_of).await
    }

    /// Polls [`peek_sender`](Self::peek_sender). One waker for the receive
    /// direction, as for [`poll_recv`](Self::poll_recv).
    pub fn poll_peek_sender(&self, cx: &mut Context<'_>) -> Poll<io::Result<SocketAddr>> {
        self.io.poll_io(cx, Direction::Read, peek_sender_of)
    }

    /// [`peek_sender`](Self::peek_sender) without waiting: `WouldBlock` if
    /// no datagram is queued.
    pub fn try_peek_sender(&self) -> io::Result<SocketAddr> {
        self.io.try_io(Interest::READABLE, peek_sender_of)
    }

    /// Runs `f`, a non-blocking operation of the caller's own on this
    /// socket (a system call vigil does not wrap, such as `sendmsg` with
    /// control data, made through the raw descriptor), if readiness for
    /// `interest` is cached.
    ///
    /// If none is, `f` is not called and the result is `WouldBlock`. If `f`
    /// returns `WouldBlock`, the readiness is cleared, so the next wait goes
    /// to the reactor again; any other result is returned as it is. So `f`
    /// must return `WouldBlock` only when its system call did, and should
    /// not use this socket's own methods. Give one interest per call.
    pub fn try_io<R>(
        &self,
        interest: Interest,
        f: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        self.io.try_io(interest, |_| f())
    }

    /// Waits until the socket is ready as `interest` says, then calls `op`
    /// once per readiness event, and returns its result unless it is
    /// `WouldBlock` (readiness is then cleared and the wait repeated). For
    /// system calls vigil does not wrap (`sendmsg`, `recvmmsg`...); `op`
    /// must not block.
    ///
    /// Cancel safe as far as `op` is: it runs only inside a poll.
    pub async fn async_io<R>(
        &self,
        interest: Interest,
        mut op: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        self.io.async_io(interest, |_| op()).await
    }

    /// Sets `SO_BROADCAST`: allows sending to a broadcast address.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_broadcast(on)
    }

    /// Reads `SO_BROADCAST`.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io.get_ref().broadcast()
    }

    /// Sets `IP_TTL`.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// Reads `IP_TTL`.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Sets `IP_MULTICAST_LOOP`: whether multicast sent from this socket is
    /// looped back to local listeners.
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_multicast_loop_v4(on)
    }

    /// Reads `IP_MULTICAST_LOOP`.
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.io.get_ref().multicast_loop_v4()
    }

    /// Sets `IP_MULTICAST_TTL`: how many hops IPv4 multicast sent from this
    /// socket may travel (1, the default, keeps it on the local network).
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_multicast_ttl_v4(ttl)
    }

    /// Reads `IP_MULTICAST_TTL`.
    pub fn multicast_ttl_v4(&self) -> io::Result<u32> {
        self.io.get_ref().multicast_ttl_v4()
    }

    /// Sets `IPV6_MULTICAST_LOOP`: whether IPv6 multicast sent from this
    /// socket is looped back to local listeners. Fails on an IPv4 socket.
    pub fn set_multicast_loop_v6(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_multicast_loop_v6(on)
    }

    /// Reads `IPV6_MULTICAST_LOOP`.
    pub fn multicast_loop_v6(&self) -> io::Result<bool> {
        self.io.get_ref().multicast_loop_v6()
    }

    /// Reads `IP_TOS`, the type-of-service byte of outgoing IPv4 packets.
    pub fn tos_v4(&self) -> io::Result<u32> {
        socket2::SockRef::from(self.io.get_ref()).tos_v4()
    }

    /// Sets `IP_TOS`: the type-of-service byte (DSCP and ECN bits) of the
    /// IPv4 datagrams this socket sends. Meaningless on an IPv6 socket (see
    /// [`set_tclass_v6`](Self::set_tclass_v6)).
    pub fn set_tos_v4(&self, tos: u32) -> io::Result<()> {
        socket2::SockRef::from(self.io.get_ref()).set_tos_v4(tos)
    }

    /// The former name of [`tos_v4`](Self::tos_v4).
    #[deprecated(note = "IPv4-only: use `tos_v4`")]
    #[doc(hidden)]
    pub fn tos(&self) -> io::Result<u32> {
        self.tos_v4()
    }

    /// The former name of [`set_tos_v4`](Self::set_tos_v4).
    #[deprecated(note = "IPv4-only: use `set_tos_v4`")]
    #[doc(hidden)]
    pub fn set_tos(&self, tos: u32) -> io::Result<()> {
        self.set_tos_v4(tos)
    }

    /// Reads `IPV6_TCLASS`, the traffic class of outgoing IPv6 packets.
    pub fn tclass_v6(&self) -> io::Result<u32> {
        socket2::SockRef::from(self.io.get_ref()).tclass_v6()
    }

    /// Sets `IPV6_TCLASS`: the traffic class (DSCP and ECN bits) of the IPv6
    /// datagrams this socket sends; the IPv6 counterpart of
    /// [`set_tos_v4`](Self::set_tos_v4). Fails on an IPv4 socket.
    pub fn set_tclass_v6(&self, tclass: u32) -> io::Result<()> {
        socket2::SockRef::from(self.io.get_ref()).set_tclass_v6(tclass)
    }

    /// The interface the socket is bound to with
    /// [`bind_device`](Self::bind_device) (`SO_BINDTODEVICE`), by name
    /// (without a trailing NUL); `None` if it is bound to none.
    pub fn device(&self) -> io::Result<Option<Vec<u8>>> {
        socket2::SockRef::from(self.io.get_ref()).device()
    }

    /// Sets `SO_BINDTODEVICE`: the socket then sends and receives only
    /// through the network interface named `interface` (such as `b"eth0"`);
    /// `None` or an empty name removes the binding. Changing or removing a
    /// binding needs `CAP_NET_RAW` (and before Linux 5.7, so did setting
    /// the first one).
    pub fn bind_device(&self, interface: Option<&[u8]>) -> io::Result<()> {
        socket2::SockRef::from(self.io.get_ref()).bind_device(interface)
    }

    /// Joins the IPv4 multicast group `group` on the interface with address
    /// `interface` (`Ipv4Addr::UNSPECIFIED` lets the kernel choose).
    pub fn join_multicast_v4(&self, group: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().join_multicast_v4(&group, &interface)
    }

    /// Leaves a group joined with [`join_multicast_v4`](Self::join_multicast_v4).
    pub fn leave_multicast_v4(&self, group: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().leave_multicast_v4(&group, &interface)
    }

    /// Joins the IPv6 multicast group `group` on interface index `interface`
    /// (0 lets the kernel choose).
    pub fn join_multicast_v6(&self, group: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().join_multicast_v6(group, interface)
    }

    /// Leaves a group joined with [`join_multicast_v6`](Self::join_multicast_v6).
    pub fn leave_multicast_v6(&self, group: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().leave_multicast_v6(group, interface)
    }

    /// Reads and clears the pending socket error (`SO_ERROR`), e.g. an ICMP
    /// "port unreachable" reported for a connected socket.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

/// The sender of the first datagram queued on `socket`, left queued.
fn peek_sender_of(socket: &std::net::UdpSocket) -> io::Result<SocketAddr> {
    ip_sender(socket2::SockRef::from(socket).peek_sender()?)
}

/// One datagram and its sender into the spare capacity of `buf`, straight
/// from the kernel (`socket2`'s `recv_from` gives the address as a
/// `SockAddr`, which converts without a copy of the data).
fn recv_buf_from_of<B: bytes::BufMut + ?Sized>(
    socket: &std::net::UdpSocket,
    buf: &mut B,
) -> io::Result<(usize, SocketAddr)> {
    let socket = socket2::SockRef::from(socket);
    // SAFETY: `socket2`'s `recv_from` is `recvfrom(2)` on the slice: on
    // `Ok((n, _))` the kernel stored exactly `n` received bytes at its
    // start, and nothing else is written.
    let (n, from) = unsafe { spare::fill_uninit(buf, |spare| socket.recv_from(spare)) }?;
    Ok((n, ip_sender(from)?))
}

/// A sender's address as an IP socket address (which a UDP socket's
/// always is).
fn ip_sender(from: socket2::SockAddr) -> io::Result<SocketAddr> {
    from.as_socket()
        .ok_or_else(|| io::Error::other("the kernel gave no IP address for the sender"))
}

crate::net::datagram_buf::datagram_buf_methods!(UdpSocket, SocketAddr, recv_buf_from_of);

impl TryFrom<std::net::UdpSocket> for UdpSocket {
    type Error = io::Error;

    /// The same as [`UdpSocket::from_std`].
    fn try_from(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        UdpSocket::from_std(socket)
    }
}

impl AsRawFd for UdpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl AsFd for UdpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.get_ref().fmt(f)
    }
}
