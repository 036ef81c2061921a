//! Helpers for the `fs_*` tests: every test runs on each engine (io_uring
//! on both runtime flavours, and the blocking pool), in a temporary
//! directory that is removed afterwards.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use vigil::runtime::{Builder, Runtime};

/// The runtimes every fs test runs on, named for assertion messages: each
/// engine (io_uring, the blocking pool), with and without the page-cache
/// fast path for reads, on both flavours between them.
pub fn engines() -> Vec<(&'static str, Runtime)> {
    let ct = Builder::new_current_thread;
    let mt = || {
        let mut b = Builder::new_multi_thread();
        b.worker_threads(2);
        b
    };
    vec![
        ("io_uring, current_thread", ct().build().unwrap()),
        ("io_uring, multi_thread", mt().build().unwrap()),
        (
            "io_uring only (no page-cache reads), current_thread",
            ct().read_page_cache_first(false).build().unwrap(),
        ),
        (
            "blocking pool only (no page-cache reads), current_thread",
            ct().io_uring(false)
                .read_page_cache_first(false)
                .build()
                .unwrap(),
        ),
        (
            "blocking pool, multi_thread",
            mt().io_uring(false).build().unwrap(),
        ),
    ]
}

/// A fresh directory under the system's temporary directory, removed with
/// everything in it when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("vigil-test-{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Seeded pseudo-random bytes.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Writes `chunks` to `file` until a write fails, then flushes if none did
/// (handed-off writes report a failure on a later call); the error, which
/// one of them must report.
pub async fn first_write_error<'a>(
    file: &mut vigil::fs::File,
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> std::io::Error {
    use vigil::io::AsyncWriteExt;
    for chunk in chunks {
        if let Err(e) = file.write_all(chunk).await {
            return e;
        }
    }
    file.flush()
        .await
        .expect_err("no write failed, nor the flush after them")
}
