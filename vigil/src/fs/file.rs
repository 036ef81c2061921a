//! [`File`]: an open file, read and written through the runtime.

use super::backend::{self, Backend};
use super::file_state::{Inner, MAX_BUF};
use super::file_times::FileTimes;
use super::read_path;
use super::OpenOptions;
use crate::driver::uring::ops;
use crate::sync::Mutex;
use std::fs::{Metadata, Permissions};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

/// An open file. Reading and writing go through
/// [`AsyncRead`](futures_io::AsyncRead), [`AsyncWrite`](futures_io::AsyncWrite)
/// and [`AsyncSeek`](futures_io::AsyncSeek), with the helpers of
/// [`vigil::io`](crate::io); [`read_at`](File::read_at) and
/// [`write_at`](File::write_at) are positional operations on owned buffers
/// that several tasks can run on one file at once.
///
/// With io_uring each read or write is one operation submitted to the
/// kernel from the task; without it (see
/// [`Builder::io_uring`](crate::runtime::Builder::io_uring)) it runs on the
/// blocking pool, as in Tokio.
///
/// **Writes are handed off.** A `write` copies the data into a buffer,
/// starts the operation and returns at once. Through io_uring up to four
/// writes to a regular file may be in flight (each at its own offset, so
/// the kernel's worker thread goes from one to the next without waiting
/// for the task; pipes, devices and files opened for appending take one at
/// a time); a fifth waits for the oldest, and any other operation on the
/// file waits for all of them. A failed write is reported by the next
/// operation. Call [`flush`](crate::io::AsyncWriteExt::flush) (or
/// [`sync_all`](File::sync_all)) to know that every write reached the
/// kernel. A file dropped with writes in flight lets them finish.
///
/// ```
/// # vigil::runtime::Runtime::new().unwrap().block_on(async {
/// use vigil::fs::File;
/// use vigil::io::{AsyncReadExt, AsyncWriteExt};
///
/// let path = std::env::temp_dir().join(format!("vigil-doc-file-{}", std::process::id()));
/// let mut file = File::create(&path).await?;
/// file.write_all(b"hello, file").await?;
/// file.flush().await?;
///
/// let mut text = String::new();
/// File::open(&path).await?.read_to_string(&mut text).await?;
/// assert_eq!(text, "hello, file");
/// # vigil::fs::remove_file(&path).await?;
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub struct File {
    pub(super) std: Arc<std::fs::File>,
    pub(super) inner: Mutex<Inner>,
    /// The largest buffer one read or write hands to the kernel.
    pub(super) max_buf: usize,
}

impl File {
    /// Opens an existing file for reading.
    ///
    /// # Errors
    /// As [`std::fs::File::open`].
    ///
    /// # Cancel safety
    /// Nothing leaks if the future is dropped (see [`OpenOptions::open`]).
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new().read(true).open(path).await
    }

    /// Opens a file for writing, creating it or truncating it.
    ///
    /// # Errors
    /// As [`std::fs::File::create`].
    ///
    /// # Cancel safety
    /// Nothing leaks if the future is dropped (see [`OpenOptions::open`]).
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .await
    }

    /// Creates a new file for reading and writing; fails with
    /// `AlreadyExists` if it exists.
    ///
    /// # Cancel safety
    /// Nothing leaks if the future is dropped (see [`OpenOptions::open`]).
    pub async fn create_new(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .await
    }

    /// A new [`OpenOptions`].
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// Wraps a standard file. Does not need a runtime; the operations do.
    pub fn from_std(std: std::fs::File) -> File {
        File {
            std: Arc::new(std),
            inner: Mutex::new(Inner::new()),
            max_buf: MAX_BUF,
        }
    }

    /// Waits for the operation in flight (a handed-off write) and gives
    /// back the position the file's reader has reached.
    async fn settle(&self) -> io::Result<()> {
        let mut inner = self.inner.lock().await;
        std::future::poll_fn(|cx| inner.poll_settle(cx, &self.std)).await
    }

    /// Flushes every handed-off write and then `fsync`s data and metadata.
    ///
    /// # Cancel safety
    /// Not cancel safe: dropped mid-way, the sync may or may not have
    /// happened (the data is not lost; call it again).
    pub async fn sync_all(&self) -> io::Result<()> {
        self.settle().await?;
        self.fsync(false).await
    }

    /// As [`sync_all`](File::sync_all), but `fdatasync`: metadata that is
    /// not needed to read the data back (such as times) may not be synced.
    ///
    /// # Cancel safety
    /// As [`sync_all`](File::sync_all).
    pub async fn sync_data(&self) -> io::Result<()> {
        self.settle().await?;
        self.fsync(true).await
    }

    async fn fsync(&self, data_only: bool) -> io::Result<()> {
        match backend::current()? {
            Backend::Uring(driver) => ops::fsync(driver, self.std.clone(), data_only).await,
            Backend::Blocking => {
                let std = self.std.clone();
                backend::blocking(move || {
                    if data_only {
                        std.sync_data()
                    } else {
                        std.sync_all()
                    }
                })
                .await
            }
        }
    }

    /// Truncates or extends the file to `size` bytes, after flushing
    /// handed-off writes. The position is unchanged.
    ///
    /// # Cancel safety
    /// Not cancel safe: dropped mid-way, the size may or may not have
    /// changed.
    pub async fn set_len(&self, size: u64) -> io::Result<()> {
        self.settle().await?;
        self.run_blocking(move |std| std.set_len(size)).await
    }

    /// The file's metadata (`fstat`), after flushing handed-off writes so
    /// that the length includes them. Runs on the blocking pool, since the
    /// result is a [`std::fs::Metadata`].
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn metadata(&self) -> io::Result<Metadata> {
        self.settle().await?;
        self.run_blocking(|std| std.metadata()).await
    }

    /// Changes the file's permissions (`fchmod`).
    ///
    /// # Cancel safety
    /// Not cancel safe: dropped mid-way, the change may or may not have
    /// happened.
    pub async fn set_permissions(&self, perm: Permissions) -> io::Result<()> {
        self.run_blocking(move |std| std.set_permissions(perm))
            .await
    }

    /// Sets the file's access and/or modification times (`futimens`),
    /// after flushing handed-off writes, so that a write still in flight
    /// cannot move the modification time again afterwards. Runs on the
    /// blocking pool. Times left unset in `times` are not changed.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// use vigil::fs::{File, FileTimes};
    ///
    /// # vigil::block_on(async {
    /// # let dir = std::env::temp_dir().join(format!("vigil-doc-times-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// # let path = dir.join("f");
    /// let file = File::create(&path).await?;
    /// let then = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    /// file.set_times(FileTimes::new().set_modified(then)).await?;
    /// assert_eq!(file.metadata().await?.modified()?, then);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Cancel safety
    /// Not cancel safe: dropped mid-way, the change may or may not have
    /// happened.
    pub async fn set_times(&self, times: FileTimes) -> io::Result<()> {
        self.settle().await?;
        let times = times.to_std();
        self.run_blocking(move |std| std.set_times(times)).await
    }

    /// Sets the file's modification time: [`set_times`](File::set_times)
    /// with only that time.
    ///
    /// # Cancel safety
    /// As [`set_times`](File::set_times).
    pub async fn set_modified(&self, time: std::time::SystemTime) -> io::Result<()> {
        self.set_times(FileTimes::new().set_modified(time)).await
    }

    /// A second `File` for the same open file (a duplicated descriptor,
    /// sharing the position), after flushing handed-off writes.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn try_clone(&self) -> io::Result<File> {
        self.settle().await?;
        let std = self.std.try_clone()?;
        Ok(File::from_std(std))
    }

    /// The standard file, after flushing handed-off writes. The position
    /// is where this `File`'s reader left it.
    ///
    /// # Cancel safety
    /// Cancel safe (the `File` is consumed either way).
    pub async fn into_std(self) -> std::fs::File {
        let _ = self.settle().await;
        Arc::try_unwrap(self.std).unwrap_or_else(|std| {
            std.try_clone()
                .expect("vigil: duplicating a file descriptor failed")
        })
    }

    /// The standard file if no operation is in flight; the `File` back
    /// otherwise.
    // Tokio's signature: the `File` itself comes back on failure.
    #[allow(clippy::result_large_err)]
    pub fn try_into_std(mut self) -> Result<std::fs::File, File> {
        if !self.inner.get_mut().is_idle() {
            return Err(self);
        }
        self.inner.get_mut().rewind_unread(&self.std).ok();
        match Arc::try_unwrap(self.std) {
            Ok(std) => Ok(std),
            Err(std) => Err(File {
                std,
                inner: Mutex::new(Inner::new()),
                max_buf: self.max_buf,
            }),
        }
    }

    /// Sets the largest buffer one read or write hands to the kernel
    /// (default 2 MiB). Larger reads and writes are split. Values are
    /// kept between 1 byte and 1 GiB.
    pub fn set_max_buf_size(&mut self, max: usize) {
        self.max_buf = max.clamp(1, MAX_BUF * 512);
    }

    /// The largest buffer one read or write hands to the kernel (see
    /// [`set_max_buf_size`](File::set_max_buf_size)).
    pub fn max_buf_size(&self) -> usize {
        self.max_buf
    }

    async fn run_blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&std::fs::File) -> io::Result<T> + Send + 'static,
    ) -> io::Result<T> {
        let std = self.std.clone();
        backend::blocking(move || f(&std)).await
    }

    /// Reads into the spare capacity of `buf` (from `buf.len()` up to
    /// `buf.capacity()`) from offset `pos`, appending to `buf`; the file's
    /// position is not used or changed. Returns the count (0 at the end of
    /// the file, or if `buf` has no spare capacity) and the buffer, which
    /// comes back whatever the result.
    ///
    /// Any number of `read_at`s may run on one file at once. Cached data is
    /// copied straight into `buf` (see
    /// [`Builder::read_page_cache_first`](crate::runtime::Builder::read_page_cache_first));
    /// otherwise the read is one io_uring operation into `buf`, with no
    /// copy in between.
    ///
    /// ```
    /// # vigil::runtime::Runtime::new().unwrap().block_on(async {
    /// let path = std::env::temp_dir().join(format!("vigil-doc-read-at-{}", std::process::id()));
    /// vigil::fs::write(&path, b"0123456789").await?;
    /// let file = vigil::fs::File::open(&path).await?;
    /// let (res, buf) = file.read_at(Vec::with_capacity(4), 3).await;
    /// assert_eq!(res?, 4);
    /// assert_eq!(buf, b"3456");
    /// # vigil::fs::remove_file(&path).await?;
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Cancel safety
    /// Dropping the future cancels the read; the buffer is freed once the
    /// kernel has let go of it. No data is lost, since the position is not
    /// used.
    pub async fn read_at(&self, buf: Vec<u8>, pos: u64) -> (io::Result<usize>, Vec<u8>) {
        match backend::current_engine() {
            Ok(engine) => read_path::read_owned(&engine, &self.std, buf, usize::MAX, pos).await,
            Err(err) => (Err(err), buf),
        }
    }

    /// Writes `buf` at offset `pos`; the file's position is not used or
    /// changed (but on Linux a file opened for appending appends anyway).
    /// Returns the count written, which may be short, and the buffer.
    ///
    /// # Cancel safety
    /// Dropping the future lets the write finish (it is not cancelled);
    /// the buffer is freed after it.
    pub async fn write_at(&self, buf: Vec<u8>, pos: u64) -> (io::Result<usize>, Vec<u8>) {
        match backend::current() {
            Ok(Backend::Uring(driver)) => {
                let (res, _std, buf) = ops::Write::new(driver, self.std.clone(), buf, 0, pos).await;
                (res, buf)
            }
            Ok(Backend::Blocking) => {
                let std = self.std.clone();
                let res = backend::blocking(move || Ok((std.write_at(&buf, pos), buf))).await;
                // Only a runtime shutting down loses the buffer here.
                res.unwrap_or_else(|err| (Err(err), Vec::new()))
            }
            Err(err) => (Err(err), buf),
        }
    }

    /// Writes all of `buf` at offset `pos` (looping over short writes) and
    /// returns the buffer.
    ///
    /// # Cancel safety
    /// Not cancel safe: dropped mid-way, part of `buf` may be written.
    pub async fn write_all_at(&self, buf: Vec<u8>, pos: u64) -> (io::Result<()>, Vec<u8>) {
        let driver = match backend::current() {
            Ok(Backend::Uring(driver)) => driver,
            Ok(Backend::Blocking) => {
                let std = self.std.clone();
                let len = buf.len();
                let res = backend::blocking(move || Ok((std.write_all_at(&buf, pos), buf))).await;
                return res.unwrap_or_else(|err| (Err(err), Vec::with_capacity(len)));
            }
            Err(err) => return (Err(err), buf),
        };
        let mut buf = buf;
        let mut done = 0;
        while done < buf.len() {
            let write = ops::Write::new(
                driver.clone(),
                self.std.clone(),
                buf,
                done,
                pos + done as u64,
            );
            let (res, _std, back) = write.await;
            buf = back;
            match res {
                Ok(0) => return (Err(io::ErrorKind::WriteZero.into()), buf),
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return (Err(e), buf),
            }
        }
        (Ok(()), buf)
    }
}

impl AsRawFd for File {
    fn as_raw_fd(&self) -> RawFd {
        self.std.as_raw_fd()
    }
}

impl AsFd for File {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.std.as_fd()
    }
}

impl FromRawFd for File {
    /// # Safety
    /// `fd` must be an open file descriptor that nothing else owns or will
    /// close, as for [`std::fs::File::from_raw_fd`].
    unsafe fn from_raw_fd(fd: RawFd) -> File {
        // SAFETY: the caller hands over sole ownership of an open `fd`,
        // which is this function's contract.
        File::from_std(unsafe { std::fs::File::from_raw_fd(fd) })
    }
}

impl From<OwnedFd> for File {
    fn from(fd: OwnedFd) -> File {
        File::from_std(std::fs::File::from(fd))
    }
}

impl From<std::fs::File> for File {
    fn from(std: std::fs::File) -> File {
        File::from_std(std)
    }
}

impl std::fmt::Debug for File {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("File")
            .field("std", &self.std)
            .finish_non_exhaustive()
    }
}
