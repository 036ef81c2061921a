//! Receiving and sending on stream sockets, the calls made for every
//! request.
//!
//! These go through `syscall(2)` rather than glibc's `recv`, `send` and
//! `writev` wrappers. Those wrappers are POSIX cancellation points: in a
//! process with more than one thread (every vigil runtime: the workers, the
//! watchdog, the blocking pool) each call switches asynchronous
//! cancellation on before the system call and off after it, about 40
//! instructions per call that buy nothing here, since vigil never cancels a
//! thread. The kernel work is the same: `recv(fd, buf, len, flags)` is
//! `recvfrom` with no address, `send` is `sendto` with no address.
//!
//! The calls never block (the sockets are non-blocking); `-1` becomes the
//! `io::Error` of `errno` like any other call, so `WouldBlock` and
//! `Interrupted` reach the callers as before.

use super::cvt_size;
use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::os::fd::RawFd;

/// `recv(fd, buf, buf.len(), 0)`: receives at most `buf.len()` bytes.
pub(crate) fn recv(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `buf` is a live, exclusively borrowed buffer of `buf.len()`
    // bytes.
    unsafe { recv_raw(fd, buf.as_mut_ptr(), buf.len()) }
}

/// As [`recv`], into a buffer that need not be initialised. On `Ok(n)`,
/// the first `n` bytes of `buf` hold received data and nothing else was
/// written (in particular nothing was de-initialised).
pub(crate) fn recv_uninit(fd: RawFd, buf: &mut [MaybeUninit<u8>]) -> io::Result<usize> {
    // SAFETY: `buf` is a live, exclusively borrowed buffer of `buf.len()`
    // bytes; `MaybeUninit<u8>` has the layout of `u8`, and the kernel only
    // stores received bytes into it, so its being uninitialised is fine.
    unsafe { recv_raw(fd, buf.as_mut_ptr().cast(), buf.len()) }
}

/// # Safety
///
/// `ptr` must be valid for writes of `len` bytes for the whole call.
unsafe fn recv_raw(fd: RawFd, ptr: *mut u8, len: usize) -> io::Result<usize> {
    // The null address and length arguments mean "no source address
    // wanted". Any `fd` value is memory-safe: a bad one is `EBADF`.
    // SAFETY: recvfrom stores at most `len` bytes at `ptr`, which the
    // caller guarantees is writable for `len` bytes.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_recvfrom,
            fd as libc::c_long,
            ptr,
            len,
            0 as libc::c_long,
            std::ptr::null_mut::<libc::sockaddr>(),
            std::ptr::null_mut::<libc::socklen_t>(),
        )
    };
    let n = cvt_size(ret as libc::ssize_t)?;
    // The kernel never reports more than it was given; checked anyway so
    // callers may slice with `n` without trusting the OS.
    if n > len {
        return Err(over_reported(n, len));
    }
    Ok(n)
}

#[cold]
#[inline(never)]
fn over_reported(n: usize, len: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("recvfrom reported {n} bytes received into a {len}-byte buffer"),
    )
}

/// `send(fd, buf, buf.len(), MSG_NOSIGNAL)`: a peer that has gone away is
/// an `EPIPE` error, never a `SIGPIPE`.
pub(crate) fn send(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: sendto only reads `buf.len()` bytes from `buf`, a live
    // buffer; the null address means "the connected peer".
    let ret = unsafe {
        libc::syscall(
            libc::SYS_sendto,
            fd as libc::c_long,
            buf.as_ptr(),
            buf.len(),
            libc::MSG_NOSIGNAL as libc::c_long,
            std::ptr::null::<libc::sockaddr>(),
            0 as libc::c_long,
        )
    };
    cvt_size(ret as libc::ssize_t)
}

/// `sendmsg` of `bufs` in order, with `MSG_NOSIGNAL` (see [`send`]). At
/// most `IOV_MAX` slices are passed per call; the rest is a short write.
pub(crate) fn send_vectored(fd: RawFd, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    let count = bufs.len().min(libc::UIO_MAXIOV as usize);
    // SAFETY: an all-zero msghdr is valid (no address, no control data).
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    // `IoSlice` is guaranteed ABI-compatible with `struct iovec` on Unix.
    msg.msg_iov = bufs.as_ptr() as *mut libc::iovec;
    msg.msg_iovlen = count as _;
    // SAFETY: `msg` points at `count` live iovecs (from `bufs`), which
    // sendmsg only reads, as it only reads the memory they describe.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_sendmsg,
            fd as libc::c_long,
            &msg as *const libc::msghdr,
            libc::MSG_NOSIGNAL as libc::c_long,
        )
    };
    cvt_size(ret as libc::ssize_t)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::io::ErrorKind;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;

    fn pair() -> (UnixStream, UnixStream) {
        let (a, b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        b.set_nonblocking(true).unwrap();
        (a, b)
    }

    #[test]
    fn send_and_recv_move_bytes_and_report_would_block() {
        let (a, b) = pair();
        let mut buf = [MaybeUninit::<u8>::uninit(); 16];
        let err = recv_uninit(b.as_raw_fd(), &mut buf).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WouldBlock);
        assert_eq!(send(a.as_raw_fd(), b"hello").unwrap(), 5);
        let n = recv_uninit(b.as_raw_fd(), &mut buf).unwrap();
        assert_eq!(n, 5);
        let got: Vec<u8> = buf[..n]
            .iter()
            .map(|b| {
                // SAFETY: `recv` initialised the first `n` bytes.
                unsafe { b.assume_init() }
            })
            .collect();
        assert_eq!(got, b"hello");
        drop(a);
        assert_eq!(
            recv_uninit(b.as_raw_fd(), &mut buf).unwrap(),
            0,
            "end of file"
        );
    }

    #[test]
    fn send_vectored_sends_the_slices_in_order() {
        let (a, b) = pair();
        let bufs = [IoSlice::new(b"ab"), IoSlice::new(b""), IoSlice::new(b"cde")];
        assert_eq!(send_vectored(a.as_raw_fd(), &bufs).unwrap(), 5);
        let mut buf = [0u8; 8];
        let n = recv(b.as_raw_fd(), &mut buf).unwrap();
        assert_eq!(&buf[..n], b"abcde");
    }

    #[test]
    fn a_closed_peer_is_an_error_not_a_signal() {
        let (a, b) = pair();
        drop(b);
        // SIGPIPE would kill the test process; MSG_NOSIGNAL makes it EPIPE.
        let err = send(a.as_raw_fd(), b"x").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BrokenPipe);
        let err = send_vectored(a.as_raw_fd(), &[IoSlice::new(b"x")]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BrokenPipe);
    }

    #[test]
    fn a_bad_descriptor_is_an_error() {
        let mut buf = [0u8; 1];
        assert!(recv(-1, &mut buf).is_err());
        assert!(send(-1, b"x").is_err());
    }
}

/// The credentials of the process at the other end of a connected
/// Unix-domain socket (`SO_PEERCRED`), as the kernel recorded them at
/// `connect`/`socketpair` time: (pid, uid, gid).
pub(crate) fn peer_cred(fd: RawFd) -> io::Result<(libc::pid_t, libc::uid_t, libc::gid_t)> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: `cred` and `len` are valid for writes and `len` is `cred`'s
    // size, as SO_PEERCRED expects.
    super::cvt(unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    })?;
    Ok((cred.pid, cred.uid, cred.gid))
}
