//! The read path shared by every file read: the page cache first, then
//! the engine.
//!
//! A socket read tries the system call first and registers with the
//! reactor only on `WouldBlock`. A file read does the same with
//! `preadv2(RWF_NOWAIT)`: when the data is cached (the common case for a
//! file read twice, or read just after being written) the kernel copies it
//! at once and the read is over in one system call, with no ring round
//! trip and no thread hand-off. Only when the kernel would have to wait
//! for the disk does the read go to io_uring (or the blocking pool), which
//! waits without blocking the thread.
//!
//! The fast path's errors are never reported: on any failure (not cached,
//! or not supported by this file or file system) the read takes the slow
//! path, whose result is the one that counts.

use super::backend::{self, Backend, Engine};
use crate::driver::uring::ops;
use crate::runtime::coop;
use crate::sys::file::read_nowait;
use std::fs::File as StdFile;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::AsFd;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

/// The offset that means "at the file's current position".
pub(crate) const CURRENT_POSITION: u64 = ops::CURRENT_POSITION;

/// What a page-cache read found.
pub(crate) enum CacheRead {
    /// Read `n` bytes (0: the end of the file).
    Read(usize),
    /// Not cached: take the slow path.
    Miss,
    /// This file cannot be read this way: stop trying it.
    Unsupported,
}

/// Tries to read `buf` from the page cache at `offset` without waiting.
pub(crate) fn try_cached(file: &StdFile, buf: &mut [MaybeUninit<u8>], offset: u64) -> CacheRead {
    let offset = if offset == CURRENT_POSITION {
        crate::sys::file::CURRENT_POSITION
    } else {
        offset as i64
    };
    match read_nowait(file.as_fd(), buf, offset) {
        Ok(n) => CacheRead::Read(n),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => CacheRead::Miss,
        Err(e) if e.kind() == io::ErrorKind::Interrupted => CacheRead::Miss,
        Err(_) => CacheRead::Unsupported,
    }
}

/// Spends one unit of the task's cooperative budget, yielding if none is
/// left: a read that completes at once is still progress the scheduler
/// must see, or a loop over a cached file would never yield.
pub(crate) async fn spend_budget() {
    std::future::poll_fn(coop::poll_proceed).await;
}

/// Reads at most `max` bytes at `offset` into the spare capacity of `buf`,
/// appending them. The buffer comes back whatever the result.
pub(crate) async fn read_owned(
    engine: &Engine,
    file: &Arc<StdFile>,
    mut buf: Vec<u8>,
    max: usize,
    offset: u64,
) -> (io::Result<usize>, Vec<u8>) {
    if engine.page_cache_first && buf.capacity() > buf.len() {
        spend_budget().await;
        let spare = buf.spare_capacity_mut();
        let len = spare.len().min(max);
        if let CacheRead::Read(n) = try_cached(file, &mut spare[..len], offset) {
            // SAFETY: the kernel initialised the first `n` bytes of the
            // spare capacity.
            unsafe { buf.set_len(buf.len() + n) };
            return (Ok(n), buf);
        }
        coop::refund();
    }
    match &engine.backend {
        Backend::Uring(driver) => {
            let read = ops::Read::new(driver.clone(), file.clone(), buf, max, offset);
            let (res, _file, buf) = read.await;
            (res, buf)
        }
        Backend::Blocking => {
            let file = file.clone();
            let res = backend::blocking(move || {
                let start = buf.len();
                let len = (buf.capacity() - start).min(max);
                buf.resize(start + len, 0);
                let res = if offset == CURRENT_POSITION {
                    io::Read::read(&mut &*file, &mut buf[start..])
                } else {
                    file.read_at(&mut buf[start..], offset)
                };
                buf.truncate(start + *res.as_ref().unwrap_or(&0));
                Ok((res, buf))
            })
            .await;
            // Only a runtime shutting down loses the buffer here.
            res.unwrap_or_else(|err| (Err(err), Vec::new()))
        }
    }
}
