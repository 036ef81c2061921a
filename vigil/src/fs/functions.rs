//! The free functions: whole-file reads and writes, and directory and
//! link operations, each the async form of its `std::fs` namesake.
//!
//! With io_uring, opening, reading, writing, creating directories, linking,
//! renaming and removing are operations submitted to the kernel. What has
//! no io_uring operation, or returns a `std` type that only `std` can
//! build (`Metadata`, paths from `canonicalize`/`read_link`), runs on the
//! blocking pool, as it does everywhere without io_uring.

use super::backend::{self, Backend};
use super::read_path::read_owned;
use super::File;
use crate::driver::uring::ops;
use std::fs::{Metadata, Permissions};
use std::io;
use std::path::{Path, PathBuf};

/// Runs a `std::fs` call on `path` on the blocking pool.
async fn on_pool<T: Send + 'static>(
    path: &Path,
    f: impl FnOnce(PathBuf) -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    let path = path.to_owned();
    backend::blocking(move || f(path)).await
}

/// Reads a whole file into a `Vec`.
///
/// ```
/// # vigil::runtime::Runtime::new().unwrap().block_on(async {
/// let manifest = vigil::fs::read("Cargo.toml").await?;
/// assert!(manifest.starts_with(b"[package]"));
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
///
/// # Cancel safety
/// Cancel safe: the file is only read.
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    let file = File::open(path).await?;
    let engine = backend::current_engine()?;
    // Most files are small: start with a few pages and double.
    let mut data = Vec::with_capacity(16 * 1024);
    let mut offset = 0u64;
    loop {
        if data.len() == data.capacity() {
            data.reserve(data.capacity());
        }
        let (res, back) = read_owned(&engine, &file.std, data, usize::MAX, offset).await;
        data = back;
        match res {
            Ok(0) => return Ok(data),
            Ok(n) => offset += n as u64,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Reads a whole file into a `String`; `InvalidData` if it is not UTF-8.
///
/// # Cancel safety
/// Cancel safe: the file is only read.
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    let data = read(path).await?;
    String::from_utf8(data).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// Creates (or truncates) a file and writes `contents` to it.
///
/// # Cancel safety
/// Not cancel safe: dropped mid-way, the file may hold part of the data.
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let file = File::create(path).await?;
    let (res, _) = file.write_all_at(contents.as_ref().to_vec(), 0).await;
    res
}

/// Removes a file (or a symbolic link).
///
/// # Cancel safety
/// Not cancel safe: dropped mid-way, the file may or may not be gone.
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref();
    match backend::current()? {
        Backend::Uring(driver) => ops::unlink(driver, backend::c_path(path)?, false).await,
        Backend::Blocking => on_pool(path, std::fs::remove_file).await,
    }
}

/// Removes an empty directory.
///
/// # Cancel safety
/// Not cancel safe: dropped mid-way, the directory may or may not be gone.
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref();
    match backend::current()? {
        Backend::Uring(driver) => ops::unlink(driver, backend::c_path(path)?, true).await,
        Backend::Blocking => on_pool(path, std::fs::remove_dir).await,
    }
}

/// Removes a directory and everything in it (on the blocking pool).
///
/// # Cancel safety
/// Not cancel safe: dropped mid-way, part of the tree may be gone.
pub async fn remove_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    on_pool(path.as_ref(), std::fs::remove_dir_all).await
}

/// Creates a directory (mode `0o777` before the umask).
///
/// # Cancel safety
/// Not cancel safe: dropped mid-way, the directory may or may not exist.
pub async fn create_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref();
    match backend::current()? {
        Backend::Uring(driver) => ops::mkdir(driver, backend::c_path(path)?, 0o777).await,
        Backend::Blocking => on_pool(path, std::fs::create_dir).await,
    }
}

/// Creates a directory and all its missing parents (on the blocking pool).
///
/// # Cancel safety
/// Not cancel safe: dropped mid-way, some of the directories may exist.
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    on_pool(path.as_ref(), std::fs::create_dir_all).await
}

/// Renames a file or directory, replacing `to` if it is a file.
///
/// # Cancel safety
/// Not cancel safe: dropped mid-way, the rename may or may not have
/// happened (it is atomic, so never half).
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    let (from, to) = (from.as_ref(), to.as_ref());
    match backend::current()? {
        Backend::Uring(driver) => {
            ops::rename(driver, backend::c_path(from)?, backend::c_path(to)?).await
        }
        Backend::Blocking => {
            let to = to.to_owned();
            on_pool(from, move |from| std::fs::rename(from, to)).await
        }
    }
}

/// Creates a hard link `link` to `original`.
///
/// # Cancel safety
/// Not cancel safe: dropped mid-way, the link may or may not exist.
pub async fn hard_link(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    let (original, link) = (original.as_ref(), link.as_ref());
    match backend::current()? {
        Backend::Uring(driver) => {
            ops::hard_link(driver, backend::c_path(original)?, backend::c_path(link)?).await
        }
        Backend::Blocking => {
            let link = link.to_owned();
            on_pool(original, move |original| std::fs::hard_link(original, link)).await
        }
    }
}

/// Creates a symbolic link `link` pointing to `original`.
///
/// # Cancel safety
/// Not cancel safe: dropped mid-way, the link may or may not exist.
pub async fn symlink(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    let (original, link) = (original.as_ref(), link.as_ref());
    match backend::current()? {
        Backend::Uring(driver) => {
            ops::symlink(driver, backend::c_path(original)?, backend::c_path(link)?).await
        }
        Backend::Blocking => {
            let link = link.to_owned();
            on_pool(original, move |original| {
                std::os::unix::fs::symlink(original, link)
            })
            .await
        }
    }
}

/// Copies a file's contents and permissions to `to` (on the blocking pool,
/// where `std::fs::copy` uses `copy_file_range`, so the data need not
/// pass through user space). Returns the number of bytes copied.
///
/// # Cancel safety
/// Not cancel safe: dropped mid-way, `to` may hold part of the data.
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    let to = to.as_ref().to_owned();
    on_pool(from.as_ref(), move |from| std::fs::copy(from, to)).await
}

/// The metadata of `path`, following symbolic links (on the blocking
/// pool: the result is a [`std::fs::Metadata`]).
///
/// # Cancel safety
/// Cancel safe.
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    on_pool(path.as_ref(), std::fs::metadata).await
}

/// The metadata of `path` itself, not following a symbolic link.
///
/// # Cancel safety
/// Cancel safe.
pub async fn symlink_metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    on_pool(path.as_ref(), std::fs::symlink_metadata).await
}

/// The absolute path with every symbolic link resolved.
///
/// # Cancel safety
/// Cancel safe.
pub async fn canonicalize(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    on_pool(path.as_ref(), std::fs::canonicalize).await
}

/// Where a symbolic link points.
///
/// # Cancel safety
/// Cancel safe.
pub async fn read_link(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    on_pool(path.as_ref(), std::fs::read_link).await
}

/// Changes the permissions of `path`.
///
/// # Cancel safety
/// Not cancel safe: dropped mid-way, the change may or may not have
/// happened.
pub async fn set_permissions(path: impl AsRef<Path>, perm: Permissions) -> io::Result<()> {
    on_pool(path.as_ref(), move |path| {
        std::fs::set_permissions(path, perm)
    })
    .await
}

/// Whether `path` exists: `Ok(false)` if it does not, an error if that
/// cannot be known (such as a permission denied on a parent).
///
/// # Cancel safety
/// Cancel safe.
pub async fn try_exists(path: impl AsRef<Path>) -> io::Result<bool> {
    on_pool(path.as_ref(), |path| path.try_exists()).await
}
