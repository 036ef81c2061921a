//! [`DirBuilder`]: creating a directory with options, the async form of
//! `std::fs::DirBuilder`.

use super::backend::{self, Backend};
use crate::driver::uring::ops;
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

/// Creates directories with options: whether missing parents are created
/// too, and the permission bits of what is created.
///
/// A single directory is an io_uring `mkdirat` where io_uring is
/// available; a recursive creation walks the path on the blocking pool, as
/// [`create_dir_all`](super::create_dir_all) does.
///
/// ```
/// use vigil::fs::DirBuilder;
///
/// # vigil::block_on(async {
/// let dir = std::env::temp_dir().join(format!("vigil-doc-dirbuilder-{}", std::process::id()));
/// DirBuilder::new().recursive(true).mode(0o750).create(dir.join("a/b")).await?;
/// assert!(vigil::fs::metadata(dir.join("a/b")).await?.is_dir());
/// vigil::fs::remove_dir_all(&dir).await?;
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct DirBuilder {
    recursive: bool,
    mode: u32,
}

impl DirBuilder {
    /// Options to create one directory whose parent exists, with mode
    /// `0o777` (less the process's umask).
    pub fn new() -> DirBuilder {
        DirBuilder {
            recursive: false,
            mode: 0o777,
        }
    }

    /// Whether to create missing parents too (and accept a directory that
    /// already exists). Default `false`.
    pub fn recursive(&mut self, recursive: bool) -> &mut DirBuilder {
        self.recursive = recursive;
        self
    }

    /// The permission bits of the directories created (less the process's
    /// umask). Default `0o777`.
    pub fn mode(&mut self, mode: u32) -> &mut DirBuilder {
        self.mode = mode;
        self
    }

    /// Creates the directory at `path` with these options.
    ///
    /// # Errors
    /// Outside a runtime; as `std::fs::DirBuilder::create` otherwise
    /// (`AlreadyExists` when not recursive, `NotFound` for a missing
    /// parent when not recursive, permissions, ...).
    ///
    /// # Cancel safety
    /// Not cancel safe: dropped mid-way, the directory (or some of the
    /// parents) may have been created.
    pub async fn create(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let path = path.as_ref();
        let (recursive, mode) = (self.recursive, self.mode);
        if !recursive {
            if let Backend::Uring(driver) = backend::current()? {
                return ops::mkdir(driver, backend::c_path(path)?, mode).await;
            }
        }
        let path = path.to_owned();
        backend::blocking(move || {
            std::fs::DirBuilder::new()
                .recursive(recursive)
                .mode(mode)
                .create(path)
        })
        .await
    }
}

impl Default for DirBuilder {
    fn default() -> DirBuilder {
        DirBuilder::new()
    }
}
