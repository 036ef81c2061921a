//! [`read_dir`]: a directory's entries, read in batches on the blocking
//! pool (io_uring has no operation for reading directories).

use super::backend;
use crate::runtime::task::JoinHandle;
use futures_core::Stream;
use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs::{FileType, Metadata};
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

/// Entries fetched per trip to the blocking pool.
const BATCH: usize = 32;

type Batch = (std::fs::ReadDir, VecDeque<io::Result<DirEntry>>);

/// Opens a directory for iteration, as [`std::fs::read_dir`].
///
/// ```
/// # vigil::runtime::Runtime::new().unwrap().block_on(async {
/// let mut entries = vigil::fs::read_dir(".").await?;
/// let mut names = Vec::new();
/// while let Some(entry) = entries.next_entry().await? {
///     names.push(entry.file_name());
/// }
/// assert!(names.iter().any(|n| n == "Cargo.toml"));
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
///
/// # Cancel safety
/// Cancel safe.
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<ReadDir> {
    let path = path.as_ref().to_owned();
    let std = backend::blocking(move || std::fs::read_dir(path)).await?;
    Ok(ReadDir {
        state: State::Idle(Some(std)),
        ready: VecDeque::new(),
    })
}

/// The entries of a directory: [`next_entry`](ReadDir::next_entry), or a
/// [`Stream`] of `io::Result<DirEntry>`.
pub struct ReadDir {
    state: State,
    ready: VecDeque<io::Result<DirEntry>>,
}

enum State {
    /// The iterator, or `None` once it is exhausted.
    Idle(Option<std::fs::ReadDir>),
    Busy(JoinHandle<Batch>),
}

impl ReadDir {
    /// The next entry, or `None` at the end.
    ///
    /// # Cancel safety
    /// Cancel safe: an entry fetched for a dropped call is returned by the
    /// next one.
    pub async fn next_entry(&mut self) -> io::Result<Option<DirEntry>> {
        std::future::poll_fn(|cx| self.poll_next_entry(cx)).await
    }

    /// Polls for the next entry.
    pub fn poll_next_entry(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<DirEntry>>> {
        loop {
            if let Some(entry) = self.ready.pop_front() {
                return Poll::Ready(entry.map(Some));
            }
            match &mut self.state {
                State::Idle(None) => return Poll::Ready(Ok(None)),
                State::Idle(std) => {
                    let mut std = std.take().expect("matched Some");
                    let handle = crate::runtime::Handle::try_current().map_err(|_| {
                        io::Error::other("vigil::fs::ReadDir must be polled inside a vigil runtime")
                    })?;
                    self.state = State::Busy(handle.spawn_blocking(move || {
                        let batch = std
                            .by_ref()
                            .take(BATCH)
                            .map(|e| e.map(DirEntry::new))
                            .collect();
                        (std, batch)
                    }));
                }
                State::Busy(join) => {
                    let (std, batch) = ready!(Pin::new(join).poll(cx)).map_err(|e| {
                        io::Error::other(format!(
                            "reading a directory on the blocking pool failed: {e}"
                        ))
                    })?;
                    let done = batch.len() < BATCH;
                    self.ready = batch;
                    self.state = State::Idle((!done).then_some(std));
                }
            }
        }
    }
}

impl Stream for ReadDir {
    type Item = io::Result<DirEntry>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_next_entry(cx).map(Result::transpose)
    }
}

impl std::fmt::Debug for ReadDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadDir")
            .field("buffered", &self.ready.len())
            .finish_non_exhaustive()
    }
}

/// One entry of a directory.
#[derive(Clone)]
pub struct DirEntry {
    std: Arc<std::fs::DirEntry>,
    /// Read with the batch (from the directory itself on most file
    /// systems, so free).
    file_type: Option<FileType>,
}

impl DirEntry {
    fn new(std: std::fs::DirEntry) -> DirEntry {
        let file_type = std.file_type().ok();
        DirEntry {
            std: Arc::new(std),
            file_type,
        }
    }

    /// The full path: the directory's path joined with the file name.
    pub fn path(&self) -> PathBuf {
        self.std.path()
    }

    /// The file name, without the directory.
    pub fn file_name(&self) -> OsString {
        self.std.file_name()
    }

    /// The inode number.
    pub fn ino(&self) -> u64 {
        std::os::unix::fs::DirEntryExt::ino(&*self.std)
    }

    /// The entry's metadata, not following a symbolic link (on the blocking
    /// pool).
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let std = self.std.clone();
        backend::blocking(move || std.metadata()).await
    }

    /// The entry's file type, not following a symbolic link.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn file_type(&self) -> io::Result<FileType> {
        if let Some(file_type) = self.file_type {
            return Ok(file_type);
        }
        let std = self.std.clone();
        backend::blocking(move || std.file_type()).await
    }
}

impl std::fmt::Debug for DirEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("DirEntry").field(&self.path()).finish()
    }
}
