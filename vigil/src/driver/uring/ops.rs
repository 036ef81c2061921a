//! The operations vigil submits, each behind a safe function.
//!
//! Every function here builds one submission entry whose pointers point
//! into memory that it then moves into the [`Op`]: the heap buffer of a
//! `Vec` or `CString` (moving the owner does not move it), and the
//! descriptor's owner, so the descriptor cannot be closed and its number
//! reused while the kernel works on it. That is the whole safety argument
//! of [`Op::submit`], made once per operation.

use super::Op;
use crate::driver::Handle as DriverHandle;
use io_uring::{opcode, squeue, types};
use std::ffi::CString;
use std::future::Future;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

/// The offset that means "at the file's current position, and advance it"
/// (`-1` to the kernel), as `read(2)`/`write(2)` do.
pub(crate) const CURRENT_POSITION: u64 = u64::MAX;

/// Largest length of one read or write: the kernel's own limit for one
/// call (`MAX_RW_COUNT`, a page short of 2 GiB), which fits in the `u32`
/// of the entry.
const MAX_LEN: usize = 0x7fff_f000;

fn fd_of<F: AsRawFd>(file: &F) -> types::Fd {
    types::Fd(file.as_raw_fd())
}

/// `openat(AT_FDCWD, path, flags | O_CLOEXEC, mode)`.
pub(crate) async fn open(
    driver: Arc<DriverHandle>,
    path: CString,
    flags: i32,
    mode: u32,
) -> io::Result<OwnedFd> {
    let entry = opcode::OpenAt::new(types::Fd(libc::AT_FDCWD), path.as_ptr())
        .flags(flags | libc::O_CLOEXEC)
        .mode(mode)
        .build();
    // SAFETY: the only pointer is the path's heap buffer, owned by the Op.
    let op = unsafe { Op::submit(driver, entry, path) }
        .map_err(|(e, _)| e)?
        .result_is_fd();
    let (res, _path) = op.await;
    let fd = res? as i32;
    // SAFETY: a successful openat returns a new descriptor owned by nobody
    // else; the Op did not close it, since it handed the result out.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A read or write: the operation on a descriptor's owner `F` and a
/// buffer, or the reason it never started (both handed back either way).
enum BufOp<F: AsRawFd + Send + 'static> {
    Running(Op<(F, Vec<u8>)>),
    Failed(Option<(io::Error, F, Vec<u8>)>),
}

impl<F: AsRawFd + Send + 'static> BufOp<F> {
    /// # Safety
    /// `entry` points only into the heap buffer of `buf` (within its
    /// capacity) and names the descriptor owned by `file`.
    unsafe fn start(
        driver: Arc<DriverHandle>,
        entry: squeue::Entry,
        file: F,
        buf: Vec<u8>,
    ) -> Self {
        // SAFETY: the entry's memory is `buf`'s heap buffer and `file`'s
        // descriptor (this function's contract), both owned by the Op.
        match unsafe { Op::submit(driver, entry, (file, buf)) } {
            Ok(op) => BufOp::Running(op),
            Err((err, (file, buf))) => BufOp::Failed(Some((err, file, buf))),
        }
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<(io::Result<usize>, F, Vec<u8>)> {
        match self {
            BufOp::Running(op) => {
                let (res, (file, buf)) = ready!(Pin::new(op).poll(cx));
                Poll::Ready((res.map(|n| n as usize), file, buf))
            }
            BufOp::Failed(failed) => {
                let (err, file, buf) = failed.take().expect("polled after Ready");
                Poll::Ready((Err(err), file, buf))
            }
        }
    }
}

/// Reads at most `max` bytes into the spare capacity of a `Vec` at
/// `offset` (or at the current position, [`CURRENT_POSITION`]), appending
/// what was read. The output is the count, the descriptor's owner and the
/// buffer, whatever the result.
pub(crate) struct Read<F: AsRawFd + Send + 'static> {
    op: BufOp<F>,
}

impl<F: AsRawFd + Send + 'static> Read<F> {
    pub(crate) fn new(
        driver: Arc<DriverHandle>,
        file: F,
        mut buf: Vec<u8>,
        max: usize,
        offset: u64,
    ) -> Self {
        let len = (buf.capacity() - buf.len()).min(max).min(MAX_LEN);
        // Memcheck cannot see the kernel write into the buffer from the
        // ring, and would flag every byte read as uninitialised; under
        // Valgrind the bytes are zeroed first (the kernel overwrites them).
        #[cfg(vigil_valgrind)]
        buf.spare_capacity_mut()[..len].fill(std::mem::MaybeUninit::new(0));
        let spare = buf.spare_capacity_mut().as_mut_ptr().cast::<u8>();
        let entry = opcode::Read::new(fd_of(&file), spare, len as u32)
            .offset(offset)
            .build();
        // SAFETY: the entry points to `len` bytes of the Vec's spare
        // capacity and names `file`'s descriptor.
        let op = unsafe { BufOp::start(driver, entry, file, buf) };
        Read { op }
    }
}

/// Writes `buf[start..]` at `offset` (or at the current position). The
/// output is the count written, the descriptor's owner and the buffer.
/// Dropped early, the write is not cancelled: it finishes on its own.
pub(crate) struct Write<F: AsRawFd + Send + 'static> {
    op: BufOp<F>,
}

impl<F: AsRawFd + Send + 'static> Write<F> {
    pub(crate) fn new(
        driver: Arc<DriverHandle>,
        file: F,
        buf: Vec<u8>,
        start: usize,
        offset: u64,
    ) -> Self {
        let data = &buf[start..];
        let len = data.len().min(MAX_LEN);
        let entry = opcode::Write::new(fd_of(&file), data.as_ptr(), len as u32)
            .offset(offset)
            .build();
        // SAFETY: the entry points to `len` initialised bytes of the Vec's
        // heap buffer and names `file`'s descriptor.
        let mut op = unsafe { BufOp::start(driver, entry, file, buf) };
        if let BufOp::Running(running) = op {
            op = BufOp::Running(running.finish_when_dropped());
        }
        Write { op }
    }
}

// Nothing in these futures is pinned: the file and buffer are moved out
// whole when the operation completes.
impl<F: AsRawFd + Send + 'static> Unpin for Read<F> {}
impl<F: AsRawFd + Send + 'static> Unpin for Write<F> {}

impl<F: AsRawFd + Send + 'static> Future for Read<F> {
    type Output = (io::Result<usize>, F, Vec<u8>);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let (res, file, mut buf) = ready!(self.get_mut().op.poll(cx));
        if let Ok(n) = res {
            // SAFETY: the kernel initialised the first `n` bytes of the
            // spare capacity (`n` is at most the length asked for); a
            // failed start reads nothing and reports an error.
            unsafe { buf.set_len(buf.len() + n) };
        }
        Poll::Ready((res, file, buf))
    }
}

impl<F: AsRawFd + Send + 'static> Future for Write<F> {
    type Output = (io::Result<usize>, F, Vec<u8>);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.get_mut().op.poll(cx)
    }
}

/// Submits `entry` and waits for it, for operations whose only result is
/// success or an error; the resources are dropped afterwards.
///
/// # Safety
/// As [`Op::submit`]: `entry` points only into memory owned by `resources`.
async unsafe fn complete<T: Send + 'static>(
    driver: Arc<DriverHandle>,
    entry: squeue::Entry,
    resources: T,
) -> io::Result<()> {
    // SAFETY: forwarded from this function's contract.
    let op = unsafe { Op::submit(driver, entry, resources) }.map_err(|(e, _)| e)?;
    op.await.0.map(drop)
}

/// `fsync(2)` or, with `data_only`, `fdatasync(2)`.
pub(crate) async fn fsync<F: AsRawFd + Send + 'static>(
    driver: Arc<DriverHandle>,
    file: F,
    data_only: bool,
) -> io::Result<()> {
    let mut entry = opcode::Fsync::new(fd_of(&file));
    if data_only {
        entry = entry.flags(types::FsyncFlags::DATASYNC);
    }
    // SAFETY: no pointer; the descriptor's owner is kept by the Op.
    unsafe { complete(driver, entry.build(), file) }.await
}

/// `unlinkat(AT_FDCWD, path, 0 or AT_REMOVEDIR)`.
pub(crate) async fn unlink(driver: Arc<DriverHandle>, path: CString, dir: bool) -> io::Result<()> {
    let flags = if dir { libc::AT_REMOVEDIR } else { 0 };
    let entry = opcode::UnlinkAt::new(types::Fd(libc::AT_FDCWD), path.as_ptr())
        .flags(flags)
        .build();
    // SAFETY: the only pointer is the path's heap buffer, owned by the Op.
    unsafe { complete(driver, entry, path) }.await
}

/// `mkdirat(AT_FDCWD, path, mode)`.
pub(crate) async fn mkdir(driver: Arc<DriverHandle>, path: CString, mode: u32) -> io::Result<()> {
    let entry = opcode::MkDirAt::new(types::Fd(libc::AT_FDCWD), path.as_ptr())
        .mode(mode)
        .build();
    // SAFETY: the only pointer is the path's heap buffer, owned by the Op.
    unsafe { complete(driver, entry, path) }.await
}

/// `renameat(AT_FDCWD, from, AT_FDCWD, to)`.
pub(crate) async fn rename(
    driver: Arc<DriverHandle>,
    from: CString,
    to: CString,
) -> io::Result<()> {
    let cwd = types::Fd(libc::AT_FDCWD);
    let entry = opcode::RenameAt::new(cwd, from.as_ptr(), cwd, to.as_ptr()).build();
    // SAFETY: the two pointers are the paths' heap buffers, owned by the Op.
    unsafe { complete(driver, entry, (from, to)) }.await
}

/// `linkat(AT_FDCWD, original, AT_FDCWD, link, 0)`.
pub(crate) async fn hard_link(
    driver: Arc<DriverHandle>,
    original: CString,
    link: CString,
) -> io::Result<()> {
    let cwd = types::Fd(libc::AT_FDCWD);
    let entry = opcode::LinkAt::new(cwd, original.as_ptr(), cwd, link.as_ptr()).build();
    // SAFETY: the two pointers are the paths' heap buffers, owned by the Op.
    unsafe { complete(driver, entry, (original, link)) }.await
}

/// `symlinkat(target, AT_FDCWD, link)`.
pub(crate) async fn symlink(
    driver: Arc<DriverHandle>,
    target: CString,
    link: CString,
) -> io::Result<()> {
    let entry =
        opcode::SymlinkAt::new(types::Fd(libc::AT_FDCWD), target.as_ptr(), link.as_ptr()).build();
    // SAFETY: the two pointers are the paths' heap buffers, owned by the Op.
    unsafe { complete(driver, entry, (target, link)) }.await
}
