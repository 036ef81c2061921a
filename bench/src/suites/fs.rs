//! `fs`: each runtime's own file API, against blocking `std::fs`.
//!
//! vigil's `vigil::fs` (io_uring, with reads tried from the page cache
//! first) against `tokio::fs` and smol's `smol::fs` (async-fs), which both
//! run every file operation on a pool of blocking threads, and against
//! `std::fs` called directly on one thread (`std-blocking`): for cached
//! files that is the limit, one system call per operation and no
//! hand-off. The task code is the same for all; [`FsKit`] maps it onto each
//! runtime's API. Every case works in a fresh directory under the system's
//! temporary directory, removed after it; files a case reads are written
//! before the clock starts and are cached (the machine has the memory):
//! this measures what each runtime adds to the kernel's work, not the
//! disk. Each (runtime, run) is a fresh process and there is no warm-up
//! iteration, so the first case also pays for whatever the runtime sets up
//! lazily (vigil's ring, Tokio's and smol's first blocking threads).
//!
//! Cases (sizes in `--quick` mode in brackets):
//! - `read_seq`: a 64 MiB (8 MiB) file read to the end through the file
//!   type's `AsyncRead`, 64 KiB at a time. Rate in bytes/s.
//! - `read_random`: 32 tasks x 512 (64) positional 4 KiB reads at seeded
//!   pseudo-random 4 KiB-aligned offsets of such a file. vigil:
//!   `File::read_at`; Tokio and smol: `FileExt::read_at` on the blocking
//!   pool, which is what their users do. Reads/s.
//! - `write_seq`: 64 MiB (8 MiB) written through `AsyncWrite` in 64 KiB
//!   `write_all`s, then flushed (no fsync). Bytes/s.
//! - `small_files`: 8 tasks x 125 (25) cycles of write 4 KiB / read it back
//!   / remove, through the whole-file functions. Cycles/s.
//! - `metadata`: 8 tasks x 1 250 (125) `metadata` calls on a 4 KiB file.
//!   Calls/s.

use crate::measure::{Sample, Unit};
use crate::runtimes::{Runtime, SmolLocal, SmolMt, Spawner, TokioCt, TokioMt, VigilCt, VigilMt};
use crate::suites::Params;
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

const CHUNK: usize = 64 * 1024;
const BLOCK: usize = 4096;
const READERS: u64 = 32;
const FILE_TASKS: u64 = 8;

/// A runtime's own file API.
pub trait FsKit: Runtime {
    /// An open file with a cursor.
    type File: Send + 'static;
    /// A file shared by tasks for positional reads.
    type Shared: Send + Sync + 'static;

    /// Opens for reading.
    fn open(p: PathBuf) -> impl Future<Output = Self::File> + Send;
    /// Creates (truncating) for writing.
    fn create(p: PathBuf) -> impl Future<Output = Self::File> + Send;
    /// One read through `AsyncRead`.
    fn read<'a>(
        f: &'a mut Self::File,
        buf: &'a mut [u8],
    ) -> impl Future<Output = usize> + Send + 'a;
    /// `write_all` through `AsyncWrite`.
    fn write_all<'a>(f: &'a mut Self::File, buf: &'a [u8]) -> impl Future<Output = ()> + Send + 'a;
    /// Flushes.
    fn flush(f: &mut Self::File) -> impl Future<Output = ()> + Send + '_;
    /// Opens for positional reads from many tasks.
    fn open_shared(p: PathBuf) -> impl Future<Output = Self::Shared> + Send;
    /// Reads `BLOCK` bytes at `pos` into `buf` (cleared), returning it.
    fn read_at(
        f: &Self::Shared,
        buf: Vec<u8>,
        pos: u64,
    ) -> impl Future<Output = Vec<u8>> + Send + '_;
    /// Writes a whole file.
    fn write_file(p: PathBuf, data: Vec<u8>) -> impl Future<Output = ()> + Send;
    /// Reads a whole file.
    fn read_file(p: PathBuf) -> impl Future<Output = Vec<u8>> + Send;
    /// Removes a file.
    fn remove(p: PathBuf) -> impl Future<Output = ()> + Send;
    /// A file's length through its metadata.
    fn len(p: PathBuf) -> impl Future<Output = u64> + Send;
}

/// Everything but positional reads is spelled alike in vigil, Tokio and
/// smol; `$read_at` is the one difference.
macro_rules! fs_kit {
    ($krate:ident, $shared:ty, $open_shared:path, $read_at:path: $($rt:ty),+) => {$(
        impl FsKit for $rt {
            type File = $krate::fs::File;
            type Shared = $shared;

            async fn open(p: PathBuf) -> Self::File {
                $krate::fs::File::open(p).await.expect("open")
            }
            async fn create(p: PathBuf) -> Self::File {
                $krate::fs::File::create(p).await.expect("create")
            }
            async fn read<'a>(f: &'a mut Self::File, buf: &'a mut [u8]) -> usize {
                $krate::io::AsyncReadExt::read(f, buf).await.expect("read")
            }
            async fn write_all<'a>(f: &'a mut Self::File, buf: &'a [u8]) {
                $krate::io::AsyncWriteExt::write_all(f, buf).await.expect("write")
            }
            async fn flush(f: &mut Self::File) {
                $krate::io::AsyncWriteExt::flush(f).await.expect("flush")
            }
            async fn open_shared(p: PathBuf) -> Self::Shared {
                $open_shared(p).await
            }
            async fn read_at(f: &Self::Shared, buf: Vec<u8>, pos: u64) -> Vec<u8> {
                $read_at(f, buf, pos).await
            }
            async fn write_file(p: PathBuf, data: Vec<u8>) {
                $krate::fs::write(p, data).await.expect("write file")
            }
            async fn read_file(p: PathBuf) -> Vec<u8> {
                $krate::fs::read(p).await.expect("read file")
            }
            async fn remove(p: PathBuf) {
                $krate::fs::remove_file(p).await.expect("remove")
            }
            async fn len(p: PathBuf) -> u64 {
                $krate::fs::metadata(p).await.expect("metadata").len()
            }
        }
    )+};
}

async fn vigil_open_shared(p: PathBuf) -> vigil::fs::File {
    vigil::fs::File::open(p).await.expect("open")
}

async fn vigil_read_at(f: &vigil::fs::File, mut buf: Vec<u8>, pos: u64) -> Vec<u8> {
    buf.clear();
    let (res, buf) = f.read_at(buf, pos).await;
    assert_eq!(res.expect("read_at"), BLOCK);
    buf
}

async fn std_open_shared(p: PathBuf) -> Arc<std::fs::File> {
    Arc::new(std::fs::File::open(p).expect("open"))
}

/// What a Tokio user writes for a positional read.
async fn tokio_read_at(f: &Arc<std::fs::File>, buf: Vec<u8>, pos: u64) -> Vec<u8> {
    let f = f.clone();
    tokio::task::spawn_blocking(move || pread(&f, buf, pos))
        .await
        .expect("blocking read")
}

/// What a smol user writes for a positional read.
async fn smol_read_at(f: &Arc<std::fs::File>, buf: Vec<u8>, pos: u64) -> Vec<u8> {
    let f = f.clone();
    smol::unblock(move || pread(&f, buf, pos)).await
}

fn pread(f: &std::fs::File, mut buf: Vec<u8>, pos: u64) -> Vec<u8> {
    buf.resize(BLOCK, 0);
    let n = std::os::unix::fs::FileExt::read_at(f, &mut buf, pos).expect("read_at");
    assert_eq!(n, BLOCK);
    buf
}

fs_kit!(vigil, vigil::fs::File, vigil_open_shared, vigil_read_at: VigilMt, VigilCt);
fs_kit!(tokio, Arc<std::fs::File>, std_open_shared, tokio_read_at: TokioMt, TokioCt);
fs_kit!(smol, Arc<std::fs::File>, std_open_shared, smol_read_at: SmolMt, SmolLocal);

/// A fresh directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("vigil-bench-fs-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch directory");
        Scratch(dir)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn file_len(p: &Params) -> usize {
    p.size(64 << 20, 8 << 20)
}

/// Reads per task in `read_random`.
fn random_reads(p: &Params) -> usize {
    p.size(512, 64)
}

/// Cycles per task in `small_files`.
fn small_cycles(p: &Params) -> usize {
    p.size(125, 25)
}

/// Calls per task in `metadata`.
fn metadata_calls(p: &Params) -> usize {
    p.size(1250, 125)
}

/// A `BLOCK`-byte file for `metadata` to look at.
fn small_file(dir: &Scratch) -> PathBuf {
    let path = dir.join("small");
    std::fs::write(&path, [1; BLOCK]).expect("write the test file");
    path
}

/// A cached file of `len` seeded bytes.
fn big_file(dir: &Scratch, len: usize) -> PathBuf {
    let path = dir.join("big");
    let mut x = 0x2545_f491_4f6c_dd1d_u64;
    let data: Vec<u8> = (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(&path, data).expect("write the test file");
    path
}

/// The block offsets task `task` reads.
fn offsets(task: u64, reads: usize, len: usize) -> impl Iterator<Item = u64> {
    let blocks = (len / BLOCK) as u64;
    let mut x = task.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..reads).map(move |_| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % blocks) * BLOCK as u64
    })
}

fn rate(case: &'static str, unit: Unit, amount: f64, start: Instant) -> Sample {
    Sample::new(case, unit, amount / start.elapsed().as_secs_f64())
}

/// One iteration: every case, each in its own scratch directory.
pub fn iteration<R: FsKit>(rt: &R, p: &Params) -> Vec<Sample> {
    vec![
        read_seq(rt, p),
        read_random(rt, p),
        write_seq(rt, p),
        small_files(rt, p),
        metadata(rt, p),
    ]
}

fn read_seq<R: FsKit>(rt: &R, p: &Params) -> Sample {
    let dir = Scratch::new();
    let len = file_len(p);
    let path = big_file(&dir, len);
    let start = Instant::now();
    let total = rt.run_in_task(move |_| async move {
        let mut file = R::open(path).await;
        let mut buf = vec![0; CHUNK];
        let mut total = 0;
        loop {
            match <R as FsKit>::read(&mut file, &mut buf).await {
                0 => break total,
                n => total += n,
            }
        }
    });
    assert_eq!(total, len);
    rate("read_seq", Unit::BytesPerSec, len as f64, start)
}

fn read_random<R: FsKit>(rt: &R, p: &Params) -> Sample {
    let dir = Scratch::new();
    let len = file_len(p);
    let path = big_file(&dir, len);
    let reads = random_reads(p);
    let start = Instant::now();
    rt.run_in_task(move |spawner| async move {
        let file = Arc::new(R::open_shared(path).await);
        let joins: Vec<_> = (0..READERS)
            .map(|task| {
                let file = file.clone();
                spawner.spawn(async move {
                    let mut buf = Vec::with_capacity(BLOCK);
                    for pos in offsets(task, reads, len) {
                        buf = R::read_at(&file, buf, pos).await;
                    }
                })
            })
            .collect();
        for j in joins {
            j.await;
        }
    });
    rate(
        "read_random",
        Unit::PerSec,
        (READERS as usize * reads) as f64,
        start,
    )
}

fn write_seq<R: FsKit>(rt: &R, p: &Params) -> Sample {
    let dir = Scratch::new();
    let len = file_len(p);
    let path = dir.join("written");
    let start = Instant::now();
    let target = path.clone();
    rt.run_in_task(move |_| async move {
        let chunk = vec![0x5a_u8; CHUNK];
        let mut file = R::create(target).await;
        for _ in 0..len / CHUNK {
            <R as FsKit>::write_all(&mut file, &chunk).await;
        }
        R::flush(&mut file).await;
    });
    let sample = rate("write_seq", Unit::BytesPerSec, len as f64, start);
    assert_eq!(std::fs::metadata(&path).expect("written").len(), len as u64);
    sample
}

fn small_files<R: FsKit>(rt: &R, p: &Params) -> Sample {
    let dir = Scratch::new();
    let cycles = small_cycles(p);
    let base = dir.0.clone();
    let start = Instant::now();
    rt.run_in_task(move |spawner| async move {
        let joins: Vec<_> = (0..FILE_TASKS)
            .map(|task| {
                let base = base.clone();
                spawner.spawn(async move {
                    let data = vec![task as u8; BLOCK];
                    for i in 0..cycles {
                        let path = base.join(format!("small-{task}-{i}"));
                        R::write_file(path.clone(), data.clone()).await;
                        assert_eq!(R::read_file(path.clone()).await.len(), BLOCK);
                        R::remove(path).await;
                    }
                })
            })
            .collect();
        for j in joins {
            j.await;
        }
    });
    rate(
        "small_files",
        Unit::PerSec,
        (FILE_TASKS as usize * cycles) as f64,
        start,
    )
}

fn metadata<R: FsKit>(rt: &R, p: &Params) -> Sample {
    let dir = Scratch::new();
    let calls = metadata_calls(p);
    let path = small_file(&dir);
    let start = Instant::now();
    rt.run_in_task(move |spawner| async move {
        let joins: Vec<_> = (0..FILE_TASKS)
            .map(|_| {
                let path = path.clone();
                spawner.spawn(async move {
                    for _ in 0..calls {
                        assert!(R::len(path.clone()).await > 0);
                    }
                })
            })
            .collect();
        for j in joins {
            j.await;
        }
    });
    rate(
        "metadata",
        Unit::PerSec,
        (FILE_TASKS as usize * calls) as f64,
        start,
    )
}

/// The `std-blocking` rows: the same work with `std::fs` on this thread,
/// the tasks' loops run one after another.
pub fn blocking(p: &Params) -> Vec<Sample> {
    let mut samples = Vec::new();
    for _ in 0..p.runs {
        samples.push(blocking_read_seq(p));
        samples.push(blocking_read_random(p));
        samples.push(blocking_write_seq(p));
        samples.push(blocking_small_files(p));
        samples.push(blocking_metadata(p));
    }
    samples
}

fn blocking_read_seq(p: &Params) -> Sample {
    use std::io::Read;
    let dir = Scratch::new();
    let len = file_len(p);
    let path = big_file(&dir, len);
    let start = Instant::now();
    let mut file = std::fs::File::open(path).expect("open");
    let mut buf = vec![0; CHUNK];
    let mut total = 0;
    loop {
        match file.read(&mut buf).expect("read") {
            0 => break,
            n => total += n,
        }
    }
    let sample = rate("read_seq", Unit::BytesPerSec, len as f64, start);
    assert_eq!(total, len);
    sample
}

fn blocking_read_random(p: &Params) -> Sample {
    let dir = Scratch::new();
    let len = file_len(p);
    let path = big_file(&dir, len);
    let reads = random_reads(p);
    let start = Instant::now();
    let file = std::fs::File::open(path).expect("open");
    let mut buf = Vec::with_capacity(BLOCK);
    for task in 0..READERS {
        for pos in offsets(task, reads, len) {
            buf = pread(&file, buf, pos);
        }
    }
    rate(
        "read_random",
        Unit::PerSec,
        (READERS as usize * reads) as f64,
        start,
    )
}

fn blocking_write_seq(p: &Params) -> Sample {
    use std::io::Write;
    let dir = Scratch::new();
    let len = file_len(p);
    let path = dir.join("written");
    let start = Instant::now();
    let chunk = vec![0x5a_u8; CHUNK];
    let mut file = std::fs::File::create(&path).expect("create");
    for _ in 0..len / CHUNK {
        file.write_all(&chunk).expect("write");
    }
    file.flush().expect("flush");
    drop(file);
    let sample = rate("write_seq", Unit::BytesPerSec, len as f64, start);
    assert_eq!(std::fs::metadata(&path).expect("written").len(), len as u64);
    sample
}

fn blocking_small_files(p: &Params) -> Sample {
    let dir = Scratch::new();
    let cycles = small_cycles(p);
    let start = Instant::now();
    for task in 0..FILE_TASKS {
        let data = vec![task as u8; BLOCK];
        for i in 0..cycles {
            let path = dir.join(&format!("small-{task}-{i}"));
            std::fs::write(&path, &data).expect("write file");
            assert_eq!(std::fs::read(&path).expect("read file").len(), BLOCK);
            std::fs::remove_file(&path).expect("remove");
        }
    }
    rate(
        "small_files",
        Unit::PerSec,
        (FILE_TASKS as usize * cycles) as f64,
        start,
    )
}

fn blocking_metadata(p: &Params) -> Sample {
    let dir = Scratch::new();
    let calls = metadata_calls(p);
    let path = small_file(&dir);
    let start = Instant::now();
    for _ in 0..FILE_TASKS as usize * calls {
        assert!(std::fs::metadata(&path).expect("metadata").len() > 0);
    }
    rate(
        "metadata",
        Unit::PerSec,
        (FILE_TASKS as usize * calls) as f64,
        start,
    )
}
