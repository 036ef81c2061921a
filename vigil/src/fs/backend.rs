//! Which engine runs a file operation: the runtime's io_uring ring, or the
//! blocking pool where there is no ring.

use crate::driver::Handle as DriverHandle;
use crate::runtime::context;
use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::Arc;

/// How the current runtime runs file operations.
pub(crate) enum Backend {
    /// Submitted to this driver's ring.
    Uring(Arc<DriverHandle>),
    /// Run on the blocking pool.
    Blocking,
}

fn no_runtime() -> io::Error {
    io::Error::other(
        "vigil::fs operations must run inside a vigil runtime: call them from a task or inside \
         `Runtime::block_on` (or enter a runtime with `Runtime::enter`)",
    )
}

/// The engine of the runtime this thread is in.
pub(crate) fn current() -> io::Result<Backend> {
    Ok(current_engine()?.backend)
}

/// How the current runtime reads files.
pub(crate) struct Engine {
    pub(crate) backend: Backend,
    /// Try a non-blocking read from the page cache first
    /// (`Builder::read_page_cache_first`).
    pub(crate) page_cache_first: bool,
}

/// The engine of the runtime this thread is in, with its read setting.
pub(crate) fn current_engine() -> io::Result<Engine> {
    let driver = context::try_driver_handle().ok_or_else(no_runtime)?;
    let page_cache_first = driver.uring.page_cache_first();
    let backend = if driver.ring().is_some() {
        Backend::Uring(driver)
    } else {
        Backend::Blocking
    };
    Ok(Engine {
        backend,
        page_cache_first,
    })
}

/// Runs `f` on the blocking pool and waits for it.
pub(crate) async fn blocking<F, T>(f: F) -> io::Result<T>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let handle = crate::runtime::Handle::try_current().map_err(|_| no_runtime())?;
    match handle.spawn_blocking(f).await {
        Ok(res) => res,
        Err(err) => Err(io::Error::other(format!(
            "a vigil::fs operation on the blocking pool did not finish: {err}"
        ))),
    }
}

/// The path as the kernel takes it: NUL-terminated, with no NUL inside.
pub(crate) fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "file name contained an unexpected NUL byte: {}",
                path.display()
            ),
        )
    })
}
