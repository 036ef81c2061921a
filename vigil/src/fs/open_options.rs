//! [`OpenOptions`]: how to open a file, as `std::fs::OpenOptions`.

use super::backend::{self, Backend};
use super::File;
use crate::driver::uring::ops;
use std::io;
use std::path::Path;

/// Options for opening a file, with the methods of
/// [`std::fs::OpenOptions`]; [`open`](OpenOptions::open) is async.
///
/// With io_uring the open itself (path lookup included) is an `openat`
/// submitted to the kernel; otherwise it runs on the blocking pool.
///
/// ```
/// # vigil::runtime::Runtime::new().unwrap().block_on(async {
/// use vigil::fs::OpenOptions;
/// use vigil::io::AsyncWriteExt;
///
/// let path = std::env::temp_dir().join(format!("vigil-doc-open-{}", std::process::id()));
/// let mut log = OpenOptions::new().create(true).append(true).open(&path).await?;
/// log.write_all(b"one line\n").await?;
/// log.flush().await?;
/// # vigil::fs::remove_file(&path).await?;
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct OpenOptions {
    read: bool,
    write: bool,
    append: bool,
    truncate: bool,
    create: bool,
    create_new: bool,
    mode: u32,
    custom_flags: i32,
    /// Set when built from a `std::fs::OpenOptions`, whose settings cannot
    /// be read back: it is kept, updated by every setter, and opens the
    /// file on the blocking pool.
    std: Option<std::fs::OpenOptions>,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions::new()
    }
}

fn invalid() -> io::Error {
    io::Error::from_raw_os_error(libc::EINVAL)
}

impl OpenOptions {
    /// No access at all yet; set at least one of read, write or append.
    pub fn new() -> OpenOptions {
        OpenOptions {
            read: false,
            write: false,
            append: false,
            truncate: false,
            create: false,
            create_new: false,
            mode: 0o666,
            custom_flags: 0,
            std: None,
        }
    }

    /// Applies a setting to the kept `std::fs::OpenOptions`, if any.
    fn mirror(&mut self, set: impl FnOnce(&mut std::fs::OpenOptions)) -> &mut Self {
        if let Some(std) = &mut self.std {
            set(std);
        }
        self
    }

    /// Open for reading.
    pub fn read(&mut self, read: bool) -> &mut Self {
        self.read = read;
        self.mirror(|std| {
            std.read(read);
        })
    }

    /// Open for writing.
    pub fn write(&mut self, write: bool) -> &mut Self {
        self.write = write;
        self.mirror(|std| {
            std.write(write);
        })
    }

    /// Every write goes to the end of the file (implies writing).
    pub fn append(&mut self, append: bool) -> &mut Self {
        self.append = append;
        self.mirror(|std| {
            std.append(append);
        })
    }

    /// Truncate an existing file to length 0 (needs write access).
    pub fn truncate(&mut self, truncate: bool) -> &mut Self {
        self.truncate = truncate;
        self.mirror(|std| {
            std.truncate(truncate);
        })
    }

    /// Create the file if it does not exist (needs write or append).
    pub fn create(&mut self, create: bool) -> &mut Self {
        self.create = create;
        self.mirror(|std| {
            std.create(create);
        })
    }

    /// Create the file, failing with `AlreadyExists` if it exists
    /// (atomically; `create` and `truncate` are then ignored).
    pub fn create_new(&mut self, create_new: bool) -> &mut Self {
        self.create_new = create_new;
        self.mirror(|std| {
            std.create_new(create_new);
        })
    }

    /// Permission bits for a newly created file (default `0o666`, before
    /// the umask), as `std::os::unix::fs::OpenOptionsExt::mode`.
    pub fn mode(&mut self, mode: u32) -> &mut Self {
        self.mode = mode;
        self.mirror(|std| {
            std::os::unix::fs::OpenOptionsExt::mode(std, mode);
        })
    }

    /// Extra `open(2)` flags (the access-mode bits are ignored), as
    /// `std::os::unix::fs::OpenOptionsExt::custom_flags`.
    pub fn custom_flags(&mut self, flags: i32) -> &mut Self {
        self.custom_flags = flags;
        self.mirror(|std| {
            std::os::unix::fs::OpenOptionsExt::custom_flags(std, flags);
        })
    }

    /// Opens `path` with these options.
    ///
    /// # Errors
    /// As [`std::fs::OpenOptions::open`]: `NotFound`, `PermissionDenied`,
    /// `AlreadyExists` (with `create_new`), `InvalidInput` for a
    /// contradictory set of options or a path containing a NUL byte.
    ///
    /// # Cancel safety
    /// Cancel safe in the sense that nothing leaks: a file opened after
    /// the future was dropped is closed. A file it created stays created.
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref();
        match backend::current()? {
            Backend::Uring(driver) if self.std.is_none() => {
                let flags = self.flags()?;
                let fd = ops::open(driver, backend::c_path(path)?, flags, self.mode).await?;
                Ok(File::from_std(std::fs::File::from(fd)))
            }
            Backend::Uring(_) | Backend::Blocking => {
                let std_options = self.to_std();
                let path = path.to_owned();
                let std = backend::blocking(move || std_options.open(path)).await?;
                Ok(File::from_std(std))
            }
        }
    }

    /// The `open(2)` flags, with std's checks of the combination.
    fn flags(&self) -> io::Result<i32> {
        let access = match (self.read, self.write, self.append) {
            (true, false, false) => libc::O_RDONLY,
            (false, true, false) => libc::O_WRONLY,
            (true, true, false) => libc::O_RDWR,
            (false, _, true) => libc::O_WRONLY | libc::O_APPEND,
            (true, _, true) => libc::O_RDWR | libc::O_APPEND,
            (false, false, false) => return Err(invalid()),
        };
        match (self.write, self.append) {
            (true, false) => {}
            (false, false) => {
                if self.truncate || self.create || self.create_new {
                    return Err(invalid());
                }
            }
            (_, true) => {
                if self.truncate && !self.create_new {
                    return Err(invalid());
                }
            }
        }
        let creation = match (self.create, self.truncate, self.create_new) {
            (false, false, false) => 0,
            (true, false, false) => libc::O_CREAT,
            (false, true, false) => libc::O_TRUNC,
            (true, true, false) => libc::O_CREAT | libc::O_TRUNC,
            (_, _, true) => libc::O_CREAT | libc::O_EXCL,
        };
        Ok(access | creation | (self.custom_flags & !libc::O_ACCMODE))
    }

    fn to_std(&self) -> std::fs::OpenOptions {
        use std::os::unix::fs::OpenOptionsExt;
        if let Some(std) = &self.std {
            return std.clone();
        }
        let mut std = std::fs::OpenOptions::new();
        std.read(self.read)
            .write(self.write)
            .append(self.append)
            .truncate(self.truncate)
            .create(self.create)
            .create_new(self.create_new)
            .mode(self.mode)
            .custom_flags(self.custom_flags);
        std
    }
}

/// Takes over a `std::fs::OpenOptions` as it is. Its settings cannot be read
/// back, so a file opened with it (and with any setting changed afterwards)
/// is opened on the blocking pool rather than through io_uring.
impl From<std::fs::OpenOptions> for OpenOptions {
    fn from(std: std::fs::OpenOptions) -> OpenOptions {
        OpenOptions {
            std: Some(std),
            ..OpenOptions::new()
        }
    }
}
