//! Files and directories, with `std::fs`'s names and Tokio's API
//! (`tokio::fs::X` becomes `vigil::fs::X`).
//!
//! # Why io_uring
//!
//! A reactor cannot wait for a regular file: epoll calls it always ready,
//! and a read that misses the page cache blocks the thread in the kernel
//! regardless. The usual answer, Tokio's and smol's, is to run every file
//! operation on a pool of blocking threads, which costs two thread
//! hand-offs per operation and caps the operations in flight at the
//! number of threads.
//!
//! vigil does two things instead. A read first asks the kernel for what
//! the page cache already holds, straight into the caller's buffer
//! (`preadv2` with `RWF_NOWAIT`, which returns at once rather than wait for
//! the disk): the same try-then-wait pattern a socket read follows, and
//! for cached data it costs what a blocking read costs. Everything else,
//! and a read that would have to wait, is submitted to the kernel through
//! io_uring: the task writes a submission entry and goes on; the kernel
//! performs the operation, asynchronously if it has to wait, and posts a
//! completion that wakes the task through the reactor (or, often, is
//! already there when the submitting system call returns). Opening, reading,
//! writing, `fsync`, creating directories, linking, renaming and removing
//! are io_uring operations. What io_uring has no operation for (reading a
//! directory) or what has to return a `std` type only `std` can build
//! ([`Metadata`](std::fs::Metadata), [`canonicalize`], [`read_link`]) runs
//! on the blocking pool, as does everything when io_uring is unavailable or
//! switched off with [`Builder::io_uring`](crate::runtime::Builder::io_uring).
//! Both engines behave the same; the tests run each of them, with and
//! without the page-cache reads
//! ([`Builder::read_page_cache_first`](crate::runtime::Builder::read_page_cache_first)).
//!
//! # Buffers are owned
//!
//! The kernel writes into a read's buffer until the completion arrives,
//! even if the future that asked is dropped. So every operation owns its
//! buffer while it is in flight: [`File`]'s `AsyncRead`/`AsyncWrite` keep
//! internal buffers for the ring (one for reads, a few for the writes in
//! flight, and copy between them and the caller's slices, as Tokio's
//! `File` does), and [`File::read_at`] /
//! [`File::write_at`] take and return a `Vec<u8>`, which costs no copy. A
//! future dropped early leaves its buffer with the driver until the kernel
//! has let go of it.
//!
//! # Example
//!
//! ```
//! # vigil::runtime::Runtime::new().unwrap().block_on(async {
//! use vigil::fs;
//!
//! let dir = std::env::temp_dir().join(format!("vigil-doc-fs-{}", std::process::id()));
//! fs::create_dir_all(&dir).await?;
//! fs::write(dir.join("a.txt"), "first").await?;
//! fs::rename(dir.join("a.txt"), dir.join("b.txt")).await?;
//! assert_eq!(fs::read_to_string(dir.join("b.txt")).await?, "first");
//! fs::remove_dir_all(&dir).await?;
//! # Ok::<(), std::io::Error>(())
//! # }).unwrap();
//! ```

mod backend;
mod dir_builder;
mod file;
mod file_state;
mod file_times;
mod functions;
mod open_options;
mod read_dir;
mod read_path;

pub use dir_builder::DirBuilder;
pub use file::File;
pub use file_times::FileTimes;
pub use functions::{
    canonicalize, copy, create_dir, create_dir_all, hard_link, metadata, read, read_link,
    read_to_string, remove_dir, remove_dir_all, remove_file, rename, set_permissions, symlink,
    symlink_metadata, try_exists, write,
};
pub use open_options::OpenOptions;
pub use read_dir::{read_dir, DirEntry, ReadDir};
