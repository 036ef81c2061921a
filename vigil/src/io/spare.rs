//! Reading into the spare capacity of a [`bytes::BufMut`]: the one place
//! where a read is told where `buf.chunk_mut()` is and `buf` is advanced
//! past what arrived.
//!
//! A `BufMut`'s spare capacity is uninitialised memory, and advancing over
//! bytes that were never written is undefined behaviour, so every
//! `read_buf`-style method (`AsyncReadExt::read_buf`,
//! `TcpStream::try_read_buf`, `UdpSocket::recv_buf`, ...) goes through one
//! of the two functions here, which keep the rule in one spot:
//!
//! * [`fill_uninit`]: a system call writes straight into the uninitialised
//!   memory (`recv(2)` stores received bytes and nothing else). No copy,
//!   no zeroing; this is what vigil's own sockets and pipes use, through
//!   [`recv`] and [`read`].
//! * [`fill_zeroed`]: for a reader that takes `&mut [u8]` (any
//!   `futures_io::AsyncRead`, std's `recv_from` for Unix addresses), the
//!   memory must be initialised first, so it is zero-filled and offered.
//!   A byte stream gets at most [`MAX_ZEROED`] bytes per read, which bounds
//!   the cost of zeroing when a large, mostly empty buffer meets a small
//!   read; a datagram gets the whole spare capacity, since what does not
//!   fit would be lost.
//!
//! Both refuse a count larger than what was offered (`InvalidData`) rather
//! than advance past it, so a lying reader cannot expose uninitialised
//! memory.

use crate::io::guard::check_read_len;
use crate::sys::{pipe, socket};
use bytes::BufMut;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::RawFd;

/// The most bytes of spare capacity [`fill_zeroed`] zero-fills and offers
/// to one read. 16 KiB: twice what `std::io::copy` reads at a time, and
/// zeroing it takes ~150 ns on the 2-core machine of BENCHMARKS.md, under
/// half of a loopback `recv(2)` that finds nothing.
pub(crate) const MAX_ZEROED: usize = 16 * 1024;

/// Offers the start of `buf`'s spare capacity, uninitialised, to `recv`;
/// on `Ok((n, extra))` advances `buf` by `n`. A `buf` with no room left
/// offers an empty slice (`chunk_mut` is empty exactly then).
///
/// # Safety
///
/// On `Ok((n, _))`, `recv` must have initialised the first `n` elements
/// of the slice it was given, and it must never write an uninitialised
/// value into any element. (`n` larger than the slice is caught here.)
pub(crate) unsafe fn fill_uninit<B: BufMut + ?Sized, R>(
    buf: &mut B,
    recv: impl FnOnce(&mut [MaybeUninit<u8>]) -> io::Result<(usize, R)>,
) -> io::Result<(usize, R)> {
    let chunk = buf.chunk_mut();
    // SAFETY: the slice is only handed to `recv`, which the caller
    // guarantees never writes an uninitialised value into it, and nothing
    // here reads from it.
    let spare = unsafe { chunk.as_uninit_slice_mut() };
    let len = spare.len();
    let (n, extra) = recv(spare)?;
    check_read_len(n, len)?;
    // SAFETY: `n <= len`, and `recv` initialised the first `n` bytes of
    // the chunk (the caller's guarantee); `buf` was not touched since
    // `chunk_mut`, so they are the next `n` bytes of its chunk.
    unsafe { buf.advance_mut(n) };
    Ok((n, extra))
}

/// Zero-fills the start of `buf`'s spare capacity (at most `limit` bytes:
/// [`MAX_ZEROED`] for a byte stream, which may return the rest on the next
/// read; all of it for a datagram, which would be cut short), offers it to
/// `read`, and on `Ok((n, extra))` advances `buf` by `n`. A `buf` with no
/// room left offers an empty slice.
pub(crate) fn fill_zeroed<B: BufMut + ?Sized, R>(
    buf: &mut B,
    limit: usize,
    read: impl FnOnce(&mut [u8]) -> io::Result<(usize, R)>,
) -> io::Result<(usize, R)> {
    let chunk = buf.chunk_mut();
    let len = chunk.len().min(limit);
    let start = chunk.as_mut_ptr();
    // SAFETY: `chunk_mut` is valid for writes of `chunk.len() >= len`
    // bytes; writing zeros initialises them.
    unsafe { start.write_bytes(0, len) };
    // SAFETY: the `len` bytes at `start` were just initialised, belong to
    // `buf`'s spare capacity (borrowed exclusively through `buf`), and the
    // slice dies before `buf` is used again.
    let zeroed = unsafe { std::slice::from_raw_parts_mut(start, len) };
    let (n, extra) = read(zeroed)?;
    check_read_len(n, len)?;
    // SAFETY: `n <= len`, and all `len` bytes were initialised above (a
    // `&mut [u8]` cannot be de-initialised); `buf` was not touched since
    // `chunk_mut`.
    unsafe { buf.advance_mut(n) };
    Ok((n, extra))
}

/// `recv(2)` from the socket `fd` into the spare capacity of `buf`;
/// advances `buf` past what arrived and returns how much that was.
pub(crate) fn recv(fd: RawFd, buf: &mut (impl BufMut + ?Sized)) -> io::Result<usize> {
    // SAFETY: on `Ok(n)`, `recv_uninit` has had the kernel store exactly `n`
    // received bytes at the start of the slice, and writes nothing else.
    let read = unsafe { fill_uninit(buf, |spare| socket::recv_uninit(fd, spare).map(|n| (n, ()))) };
    read.map(|(n, ())| n)
}

/// `read(2)` from `fd`, a descriptor that is not a socket (a pipe end),
/// into the spare capacity of `buf`; advances `buf` past what was read and
/// returns how much that was.
pub(crate) fn read(fd: RawFd, buf: &mut (impl BufMut + ?Sized)) -> io::Result<usize> {
    // SAFETY: on `Ok(n)`, `read_uninit` has had the kernel store exactly `n`
    // bytes at the start of the slice, and writes nothing else.
    let read = unsafe { fill_uninit(buf, |spare| pipe::read_uninit(fd, spare).map(|n| (n, ()))) };
    read.map(|(n, ())| n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;

    #[test]
    fn zeroed_offers_at_most_the_cap_and_advances_by_the_count() {
        let mut buf = BytesMut::with_capacity(4 * MAX_ZEROED);
        let (n, ()) = fill_zeroed(&mut buf, MAX_ZEROED, |b| {
            assert_eq!(b.len(), MAX_ZEROED);
            assert!(b.iter().all(|&x| x == 0));
            b[..3].copy_from_slice(b"abc");
            Ok((3, ()))
        })
        .unwrap();
        assert_eq!((n, &buf[..]), (3, &b"abc"[..]));
    }

    #[test]
    fn a_count_beyond_the_offer_is_refused_and_nothing_advances() {
        let mut buf = BytesMut::with_capacity(8);
        let err = fill_zeroed(&mut buf, MAX_ZEROED, |b| Ok((b.len() + 1, ()))).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        // SAFETY: the closure writes nothing, so it writes no uninitialised
        // value; the count it claims is refused before any advance.
        let err = unsafe { fill_uninit(&mut buf, |b| Ok((b.len() + 1, ()))) }.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(buf.is_empty());
    }

    #[test]
    fn a_full_buffer_offers_an_empty_slice() {
        let mut storage = [0u8; 0];
        let mut full: &mut [u8] = &mut storage;
        let (n, ()) = fill_zeroed(&mut full, MAX_ZEROED, |b| Ok((b.len(), ()))).unwrap();
        assert_eq!(n, 0);
    }
}
