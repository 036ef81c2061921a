//! [`OpenOptions`]: opening either end of a FIFO by path.

use super::{End, Receiver, Sender};
use std::fs::File;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// How to open a FIFO: the builder behind
/// [`open_receiver`](OpenOptions::open_receiver) and
/// [`open_sender`](OpenOptions::open_sender).
///
/// Both options start out `false`. Opening never waits for the other side
/// of the FIFO (see the [module docs](super#opening-a-fifo) for what that
/// means for each end), and the new descriptor is non-blocking and
/// close-on-exec.
///
/// ```
/// use vigil::io::{AsyncReadExt, AsyncWriteExt};
/// use vigil::net::unix::pipe;
///
/// # vigil::block_on(async {
/// let dir = std::env::temp_dir().join(format!("vigil-fifo-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("requests");
/// let _ = std::fs::remove_file(&path); // left over from an earlier run?
/// let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
/// // SAFETY: `c_path` is a valid, NUL-terminated path.
/// if unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) } != 0 {
///     return Err(std::io::Error::last_os_error());
/// }
///
/// // The reading end first: a sender cannot open a FIFO nobody reads.
/// let mut rx = pipe::OpenOptions::new().open_receiver(&path)?;
/// let mut tx = pipe::OpenOptions::new().open_sender(&path)?;
/// tx.write_all(b"hello, fifo").await?;
/// drop(tx); // the last writer is gone: end of file after the data
/// let mut text = String::new();
/// rx.read_to_string(&mut text).await?;
/// assert_eq!(text, "hello, fifo");
///
/// std::fs::remove_dir_all(&dir)?;
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[derive(Clone, Debug, Default)]
pub struct OpenOptions {
    read_write: bool,
    unchecked: bool,
}

impl OpenOptions {
    /// Options with everything off: open the FIFO for one direction only,
    /// and check that the path names a FIFO.
    pub fn new() -> OpenOptions {
        OpenOptions::default()
    }

    /// Opens the FIFO for reading *and* writing (`O_RDWR`) whichever end is
    /// asked for. Linux supports this; POSIX leaves it undefined.
    ///
    /// Since the end then also counts as the other side of its own FIFO:
    ///
    /// * [`open_sender`](OpenOptions::open_sender) succeeds while no
    ///   process reads the FIFO (instead of failing with `ENXIO`); writes
    ///   fill the FIFO's buffer and then wait for a reader, and never fail
    ///   with `BrokenPipe`.
    /// * a [`Receiver`] from [`open_receiver`](OpenOptions::open_receiver)
    ///   never reads end of file: when the last other writer closes, reads
    ///   wait for the next one, which suits a server that serves a FIFO for
    ///   its whole life.
    pub fn read_write(&mut self, value: bool) -> &mut OpenOptions {
        self.read_write = value;
        self
    }

    /// Skips the check that the opened path is a FIFO (one `fstat`), for
    /// callers that know it is. Opening something else with the check
    /// skipped is not memory-unsafe, but vigil's reactor cannot watch
    /// most other files: a regular file, for one, is refused when it is
    /// registered (`EPERM`).
    pub fn unchecked(&mut self, value: bool) -> &mut OpenOptions {
        self.unchecked = value;
        self
    }

    /// Opens the FIFO at `path` and returns its reading end.
    ///
    /// Succeeds whether or not a writer has the FIFO open; reads wait for
    /// one (see the [module docs](super#opening-a-fifo)).
    ///
    /// # Errors
    /// `InvalidInput` if `path` is not a FIFO (unless
    /// [`unchecked`](OpenOptions::unchecked)); the errors of `open(2)`
    /// (`NotFound`, `PermissionDenied`, ...); outside a runtime.
    pub fn open_receiver<P: AsRef<Path>>(&self, path: P) -> io::Result<Receiver> {
        let file = self.open(path.as_ref(), End::Receiver)?;
        Receiver::from_file_unchecked(file)
    }

    /// Opens the FIFO at `path` and returns its writing end.
    ///
    /// # Errors
    /// `ENXIO` (`raw_os_error() == Some(libc::ENXIO)`) if no process has
    /// the FIFO open for reading, unless
    /// [`read_write`](OpenOptions::read_write) is set; `InvalidInput` if
    /// `path` is not a FIFO (unless [`unchecked`](OpenOptions::unchecked));
    /// the other errors of `open(2)`; outside a runtime.
    pub fn open_sender<P: AsRef<Path>>(&self, path: P) -> io::Result<Sender> {
        let file = self.open(path.as_ref(), End::Sender)?;
        Sender::from_file_unchecked(file)
    }

    /// Opens `path` non-blocking (std adds `O_CLOEXEC`) with the access
    /// `end` needs, and checks the file type unless told not to.
    fn open(&self, path: &Path, end: End) -> io::Result<File> {
        let file = std::fs::OpenOptions::new()
            .read(self.read_write || end == End::Receiver)
            .write(self.read_write || end == End::Sender)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)?;
        if !self.unchecked && !super::is_fifo(&file)? {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is not a FIFO", path.display()),
            ));
        }
        Ok(file)
    }
}
