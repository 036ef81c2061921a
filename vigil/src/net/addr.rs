//! Turning what the caller gave (an address, a host name and port...) into
//! socket addresses, without blocking a worker.
//!
//! Resolving a host name calls the system resolver (`getaddrinfo`), which can
//! block for seconds on a slow DNS server. Done on an async worker, that
//! would stall every task on it; so anything that is not already a literal
//! address is resolved on the blocking pool. Literal addresses (the common
//! case in servers and tests) are parsed in place, with no thread hop.

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::vec;

/// Something that can be turned into socket addresses: a `SocketAddr`, an
/// `(ip, port)` pair, a `"host:port"` string, or a `(host, port)` pair.
/// Host names are resolved on the blocking pool.
///
/// This trait is sealed: it cannot be implemented outside vigil.
pub trait ToSocketAddrs: sealed::Sealed {}

pub(crate) mod sealed {
    use super::*;

    /// The resolution itself, hidden from the public API.
    pub trait Sealed {
        #[doc(hidden)]
        fn to_socket_addrs(&self) -> Resolve;
    }
}

/// The addresses of a [`ToSocketAddrs`] value: ready at once for literals,
/// resolved on the blocking pool for host names.
#[doc(hidden)]
#[derive(Debug)]
pub enum Resolve {
    Ready(io::Result<vec::IntoIter<SocketAddr>>),
    Blocking(String),
}

impl Resolve {
    pub(crate) async fn resolve(self) -> io::Result<vec::IntoIter<SocketAddr>> {
        match self {
            Resolve::Ready(r) => r,
            Resolve::Blocking(host) => {
                let handle = crate::runtime::Handle::try_current().map_err(|_| {
                    io::Error::other(
                        "resolving a host name needs a vigil runtime (its blocking pool): \
                         call this from inside a runtime",
                    )
                })?;
                handle
                    .spawn_blocking(move || {
                        std::net::ToSocketAddrs::to_socket_addrs(&host)
                            .map(|it| it.collect::<Vec<_>>().into_iter())
                    })
                    .await
                    .map_err(io::Error::from)?
            }
        }
    }
}

fn ready(addrs: Vec<SocketAddr>) -> Resolve {
    Resolve::Ready(Ok(addrs.into_iter()))
}

macro_rules! literal {
    ($($t:ty),*) => {$(
        impl ToSocketAddrs for $t {}
        impl sealed::Sealed for $t {
            fn to_socket_addrs(&self) -> Resolve {
                Resolve::Ready(std::net::ToSocketAddrs::to_socket_addrs(self).map(|it| {
                    it.collect::<Vec<_>>().into_iter()
                }))
            }
        }
    )*};
}

literal!(
    SocketAddr,
    SocketAddrV4,
    SocketAddrV6,
    (IpAddr, u16),
    (Ipv4Addr, u16),
    (Ipv6Addr, u16)
);

impl ToSocketAddrs for [SocketAddr] {}
impl sealed::Sealed for [SocketAddr] {
    fn to_socket_addrs(&self) -> Resolve {
        ready(self.to_vec())
    }
}

impl ToSocketAddrs for Vec<SocketAddr> {}
impl sealed::Sealed for Vec<SocketAddr> {
    fn to_socket_addrs(&self) -> Resolve {
        ready(self.clone())
    }
}

impl ToSocketAddrs for str {}
impl sealed::Sealed for str {
    fn to_socket_addrs(&self) -> Resolve {
        match self.parse::<SocketAddr>() {
            Ok(addr) => ready(vec![addr]),
            Err(_) => Resolve::Blocking(self.to_owned()),
        }
    }
}

impl ToSocketAddrs for (&str, u16) {}
impl sealed::Sealed for (&str, u16) {
    fn to_socket_addrs(&self) -> Resolve {
        let (host, port) = *self;
        match host.parse::<IpAddr>() {
            Ok(ip) => ready(vec![SocketAddr::new(ip, port)]),
            Err(_) => Resolve::Blocking(format!("{host}:{port}")),
        }
    }
}

impl ToSocketAddrs for (String, u16) {}
impl sealed::Sealed for (String, u16) {
    fn to_socket_addrs(&self) -> Resolve {
        (self.0.as_str(), self.1).to_socket_addrs()
    }
}

impl ToSocketAddrs for String {}
impl sealed::Sealed for String {
    fn to_socket_addrs(&self) -> Resolve {
        self.as_str().to_socket_addrs()
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: sealed::Sealed + ?Sized> sealed::Sealed for &T {
    fn to_socket_addrs(&self) -> Resolve {
        (**self).to_socket_addrs()
    }
}

pub(crate) async fn resolve<A: ToSocketAddrs>(addr: A) -> io::Result<vec::IntoIter<SocketAddr>> {
    sealed::Sealed::to_socket_addrs(&addr).resolve().await
}

/// Resolves `host` (for example `"localhost:8080"`) to socket addresses, on
/// the blocking pool so no worker waits on DNS.
///
/// Cancel safe (a resolution already started finishes on its pool thread
/// and its result is dropped).
///
/// ```
/// # vigil::block_on(async {
/// let addrs: Vec<_> = vigil::net::lookup_host("127.0.0.1:80").await.unwrap().collect();
/// assert_eq!(addrs, ["127.0.0.1:80".parse().unwrap()]);
/// # });
/// ```
pub async fn lookup_host<A: ToSocketAddrs>(
    host: A,
) -> io::Result<impl Iterator<Item = SocketAddr>> {
    resolve(host).await
}

/// Tries `f` on each address in turn; returns the first success or the last
/// error.
pub(crate) async fn each_addr<A, T, F, Fut>(addr: A, mut f: F) -> io::Result<T>
where
    A: ToSocketAddrs,
    F: FnMut(SocketAddr) -> Fut,
    Fut: Future<Output = io::Result<T>>,
{
    let mut last_err = None;
    for addr in resolve(addr).await? {
        match f(addr).await {
            Ok(v) => return Ok(v),
            Err(e) => last_err = Some(e),
        }
    }
    Err(last_err.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any address",
        )
    }))
}
