//! `vigil::fs::File`: reading, handed-off writing, seeking, positional
//! owned-buffer operations, and the failure cases, on every engine.

mod fs_support;

use fs_support::{engines, first_write_error, pattern, TempDir};
use std::future::Future;
use std::io::SeekFrom;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use vigil::fs::{self, File, OpenOptions};
use vigil::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

#[test]
fn write_then_read_back_through_the_cursor() {
    for (name, rt) in engines() {
        let dir = TempDir::new("cursor");
        rt.block_on(async {
            let path = dir.join("f");
            let mut file = File::create(&path).await.unwrap();
            file.write_all(b"hello ").await.unwrap();
            file.write_all(b"world").await.unwrap();
            file.flush().await.unwrap();
            drop(file);

            let mut file = File::open(&path).await.unwrap();
            let mut text = String::new();
            file.read_to_string(&mut text).await.unwrap();
            assert_eq!(text, "hello world", "{name}");
            // At the end: reads return 0.
            assert_eq!(file.read(&mut [0; 8]).await.unwrap(), 0, "{name}");
        });
    }
}

#[test]
fn large_file_survives_random_read_and_write_sizes() {
    let data = pattern(3 << 20, 7);
    for (name, rt) in engines() {
        let dir = TempDir::new("sizes");
        let data = data.clone();
        rt.block_on(async move {
            let path = dir.join("big");
            let mut file = File::create(&path).await.unwrap();
            let mut sizes = pattern(4096, 3).into_iter().cycle();
            let mut at = 0;
            while at < data.len() {
                let n = (sizes.next().unwrap() as usize * 97 + 1).min(data.len() - at);
                file.write_all(&data[at..at + n]).await.unwrap();
                at += n;
            }
            file.flush().await.unwrap();
            assert_eq!(
                file.metadata().await.unwrap().len(),
                data.len() as u64,
                "{name}"
            );

            let mut file = File::open(&path).await.unwrap();
            let mut back = Vec::with_capacity(data.len());
            let mut buf = vec![0; 70_000];
            loop {
                let want = sizes.next().unwrap() as usize * 251 + 1;
                let want = want.min(buf.len());
                let n = file.read(&mut buf[..want]).await.unwrap();
                if n == 0 {
                    break;
                }
                back.extend_from_slice(&buf[..n]);
            }
            assert!(back == data, "{name}: the data read back differs");
            assert!(
                fs::read(&path).await.unwrap() == data,
                "{name}: fs::read differs"
            );
        });
    }
}

#[test]
fn seek_moves_the_cursor_for_reads_and_writes() {
    for (name, rt) in engines() {
        let dir = TempDir::new("seek");
        rt.block_on(async {
            let path = dir.join("f");
            fs::write(&path, b"0123456789").await.unwrap();
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
                .await
                .unwrap();
            assert_eq!(file.seek(SeekFrom::Start(3)).await.unwrap(), 3);
            let mut two = [0; 2];
            file.read_exact(&mut two).await.unwrap();
            assert_eq!(&two, b"34", "{name}");
            assert_eq!(file.stream_position().await.unwrap(), 5, "{name}");
            file.write_all(b"ab").await.unwrap();
            assert_eq!(file.seek(SeekFrom::End(-1)).await.unwrap(), 9, "{name}");
            file.write_all(b"Z").await.unwrap();
            file.rewind().await.unwrap();
            let mut all = String::new();
            file.read_to_string(&mut all).await.unwrap();
            assert_eq!(all, "01234ab78Z", "{name}");
        });
    }
}

/// Polls `fut` once with a no-op waker.
fn poll_once<F: Future>(fut: F) -> Poll<F::Output> {
    let mut fut = pin!(fut);
    fut.as_mut().poll(&mut Context::from_waker(Waker::noop()))
}

/// A read whose future is dropped keeps its data for the next read, and
/// a write after it lands at the logical position, not where the kernel's
/// position got to.
#[test]
fn a_dropped_read_loses_nothing_and_writes_land_at_the_logical_position() {
    for (name, rt) in engines() {
        let dir = TempDir::new("dropped-read");
        rt.block_on(async {
            let path = dir.join("f");
            fs::write(&path, b"0123456789").await.unwrap();
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
                .await
                .unwrap();
            let mut buf = [0; 6];
            // One poll: the read may complete (io_uring, cached data) or
            // still be in flight (blocking pool) when it is dropped.
            let consumed = match poll_once(file.read(&mut buf)) {
                Poll::Ready(n) => n.unwrap(),
                Poll::Pending => 0,
            };
            let mut two = [0; 2];
            file.read_exact(&mut two).await.unwrap();
            assert_eq!(&two, &b"0123456789"[consumed..consumed + 2], "{name}");
            file.write_all(b"XY").await.unwrap();
            file.flush().await.unwrap();
            let mut expected = b"0123456789".to_vec();
            expected[consumed + 2..consumed + 4].copy_from_slice(b"XY");
            assert_eq!(fs::read(&path).await.unwrap(), expected, "{name}");
        });
    }
}

#[test]
fn a_failed_handed_off_write_is_reported_by_flush() {
    for (name, rt) in engines() {
        let dir = TempDir::new("write-fail");
        rt.block_on(async {
            let path = dir.join("f");
            fs::write(&path, b"x").await.unwrap();
            // Opened read-only: the write itself is accepted (handed off),
            // the kernel refuses it, and flush says so.
            let mut file = File::open(&path).await.unwrap();
            let taken = file.write(b"data").await;
            let err = match taken {
                Ok(n) => {
                    assert_eq!(n, 4, "{name}");
                    file.flush()
                        .await
                        .expect_err("flush must report the failed write")
                }
                Err(err) => err,
            };
            assert_eq!(err.raw_os_error(), Some(libc::EBADF), "{name}: {err}");
            // Reported once; the file is usable afterwards.
            file.flush().await.unwrap();
            assert_eq!(fs::read(&path).await.unwrap(), b"x", "{name}");
        });
    }
}

#[test]
fn append_mode_appends() {
    for (name, rt) in engines() {
        let dir = TempDir::new("append");
        rt.block_on(async {
            let path = dir.join("log");
            for line in ["one\n", "two\n"] {
                let mut log = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .await
                    .unwrap();
                log.write_all(line.as_bytes()).await.unwrap();
                log.flush().await.unwrap();
            }
            assert_eq!(
                fs::read_to_string(&path).await.unwrap(),
                "one\ntwo\n",
                "{name}"
            );
        });
    }
}

#[test]
fn positional_reads_and_writes_run_concurrently() {
    const BLOCK: usize = 4096;
    const BLOCKS: usize = 64;
    for (name, rt) in engines() {
        let dir = TempDir::new("positional");
        rt.block_on(async {
            let path = dir.join("f");
            let file = std::sync::Arc::new(
                OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create(true)
                    .open(&path)
                    .await
                    .unwrap(),
            );
            let mut tasks = vigil::task::JoinSet::new();
            for i in 0..BLOCKS {
                let file = file.clone();
                tasks.spawn(async move {
                    let block = pattern(BLOCK, i as u64 + 1);
                    let (res, back) = file.write_all_at(block, (i * BLOCK) as u64).await;
                    res.unwrap();
                    assert_eq!(back.len(), BLOCK);
                });
            }
            while let Some(res) = tasks.join_next().await {
                res.unwrap();
            }
            for i in 0..BLOCKS {
                let file = file.clone();
                tasks.spawn(async move {
                    let mut buf = Vec::with_capacity(BLOCK);
                    buf.extend_from_slice(b"keep");
                    let (res, buf) = file.read_at(buf, (i * BLOCK) as u64 + 4).await;
                    assert_eq!(res.unwrap(), BLOCK - 4);
                    assert_eq!(&buf[..4], b"keep", "read_at appends");
                    assert_eq!(&buf[4..], &pattern(BLOCK, i as u64 + 1)[4..]);
                });
            }
            while let Some(res) = tasks.join_next().await {
                res.unwrap();
            }
            // Past the end: 0. No spare capacity: 0.
            let (res, _) = file
                .read_at(Vec::with_capacity(16), (BLOCK * BLOCKS) as u64)
                .await;
            assert_eq!(res.unwrap(), 0, "{name}");
            let (res, _) = file.read_at(Vec::new(), 0).await;
            assert_eq!(res.unwrap(), 0, "{name}");
            // The cursor was not used.
            let mut first = [0; 4];
            let mut file = std::sync::Arc::try_unwrap(file).unwrap();
            file.read_exact(&mut first).await.unwrap();
            assert_eq!(&first, &pattern(BLOCK, 1)[..4], "{name}");
        });
    }
}

#[test]
fn sync_set_len_and_metadata_see_handed_off_writes() {
    for (name, rt) in engines() {
        let dir = TempDir::new("sync");
        rt.block_on(async {
            let path = dir.join("f");
            let mut file = File::create(&path).await.unwrap();
            file.write_all(&[1; 10_000]).await.unwrap();
            // No flush: metadata and sync wait for the write themselves.
            assert_eq!(file.metadata().await.unwrap().len(), 10_000, "{name}");
            file.sync_all().await.unwrap();
            file.set_len(100).await.unwrap();
            file.sync_data().await.unwrap();
            assert_eq!(fs::metadata(&path).await.unwrap().len(), 100, "{name}");
        });
    }
}

#[test]
fn into_std_and_try_into_std_keep_the_position() {
    for (name, rt) in engines() {
        let dir = TempDir::new("into-std");
        rt.block_on(async {
            let path = dir.join("f");
            let mut file = File::create(&path).await.unwrap();
            file.write_all(b"0123456789").await.unwrap();
            // A write is in flight until something waits for it.
            let mut file = file.try_into_std().expect_err("busy");
            file.flush().await.unwrap();
            let mut std = file.try_into_std().expect("idle after flush");
            use std::io::Seek;
            assert_eq!(std.stream_position().unwrap(), 10, "{name}");

            let mut file = File::from_std(std);
            file.write_all(b"ab").await.unwrap();
            let mut std = file.into_std().await;
            assert_eq!(std.stream_position().unwrap(), 12, "{name}");
        });
    }
}

#[test]
fn try_clone_shares_the_file() {
    for (name, rt) in engines() {
        let dir = TempDir::new("clone");
        rt.block_on(async {
            let path = dir.join("f");
            let mut file = File::create(&path).await.unwrap();
            file.write_all(b"abc").await.unwrap();
            let mut other = file.try_clone().await.unwrap();
            other.write_all(b"def").await.unwrap();
            other.flush().await.unwrap();
            assert_eq!(fs::read(&path).await.unwrap(), b"abcdef", "{name}");
        });
    }
}

#[test]
fn opening_reports_clear_errors() {
    for (name, rt) in engines() {
        let dir = TempDir::new("open-errors");
        rt.block_on(async {
            let missing = dir.join("missing");
            let err = File::open(&missing).await.unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::NotFound, "{name}");

            let path = dir.join("exists");
            fs::write(&path, b"").await.unwrap();
            let err = File::create_new(&path).await.unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists, "{name}");

            let err = OpenOptions::new().open(&path).await.unwrap_err();
            assert_eq!(
                err.kind(),
                std::io::ErrorKind::InvalidInput,
                "{name}: no access mode"
            );
            let err = OpenOptions::new()
                .read(true)
                .create(true)
                .open(&path)
                .await
                .unwrap_err();
            assert_eq!(
                err.kind(),
                std::io::ErrorKind::InvalidInput,
                "{name}: create without write"
            );

            let err = File::open("bad\0name").await.unwrap_err();
            assert_eq!(
                err.kind(),
                std::io::ErrorKind::InvalidInput,
                "{name}: NUL byte"
            );

            let err = File::open(dir.path()).await.map(drop);
            // Opening a directory read-only succeeds; reading it fails.
            if err.is_ok() {
                let mut d = File::open(dir.path()).await.unwrap();
                let err = d.read(&mut [0; 8]).await.unwrap_err();
                assert_eq!(err.raw_os_error(), Some(libc::EISDIR), "{name}");
            }
        });
    }
}

#[test]
fn whole_file_helpers() {
    for (name, rt) in engines() {
        let dir = TempDir::new("whole");
        rt.block_on(async {
            let path = dir.join("f");
            fs::write(&path, "text").await.unwrap();
            assert_eq!(fs::read_to_string(&path).await.unwrap(), "text", "{name}");
            fs::write(&path, [0xff, 0xfe]).await.unwrap();
            let err = fs::read_to_string(&path).await.unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidData, "{name}");
            fs::write(&path, b"").await.unwrap();
            assert_eq!(fs::read(&path).await.unwrap(), b"", "{name}");
            let err = fs::read(dir.join("missing")).await.unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::NotFound, "{name}");
            // Exactly a power of two, to cross the read loop's doubling.
            let data = pattern(1 << 16, 9);
            fs::write(&path, &data).await.unwrap();
            assert!(fs::read(&path).await.unwrap() == data, "{name}");
        });
    }
}

#[test]
fn outside_a_runtime_operations_fail_clearly() {
    let Poll::Ready(res) = poll_once(fs::read("Cargo.toml")) else {
        panic!("fails at once");
    };
    let err = res.unwrap_err();
    assert!(err.to_string().contains("inside a vigil runtime"), "{err}");
}

/// A read from a FIFO that never gets data: a `timeout` around it, then
/// data written later reaches the next read (the timed-out one did not
/// swallow it), and a file dropped with a read still in flight does not
/// hold up the runtime's shutdown.
#[test]
fn a_read_that_waits_forever_can_be_abandoned() {
    for (name, rt) in engines() {
        let dir = TempDir::new("fifo");
        let path = dir.join("fifo");
        let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        rt.block_on(async {
            // Read-write, so that opening does not wait for a writer.
            let mut fifo = OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
                .await
                .unwrap();
            let mut buf = [0; 5];
            let waited =
                vigil::time::timeout(std::time::Duration::from_millis(20), fifo.read(&mut buf))
                    .await;
            assert!(waited.is_err(), "{name}: nothing to read yet");

            let mut writer = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
            std::io::Write::write_all(&mut writer, b"hello").unwrap();
            fifo.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"hello", "{name}");

            if !name.starts_with("blocking") {
                // A thread of the blocking pool stuck in read(2) cannot be
                // interrupted; an io_uring read is cancelled.
                let pending = poll_once(fifo.read(&mut buf));
                assert!(pending.is_pending(), "{name}");
                // Another reader keeps the pipe open after `fifo` goes.
                use std::os::unix::fs::OpenOptionsExt;
                let mut reader = std::fs::OpenOptions::new()
                    .read(true)
                    .custom_flags(libc::O_NONBLOCK)
                    .open(&path)
                    .unwrap();
                drop(fifo);
                std::io::Write::write_all(&mut writer, b"later").unwrap();
                let mut got = [0; 5];
                std::io::Read::read_exact(&mut reader, &mut got).unwrap();
                assert_eq!(&got, b"later", "{name}: the cancelled read took nothing");
            }
        });
        drop(rt);
    }
}

/// Every file read spends cooperative budget: a task that reads a cached
/// file in a loop does not starve a timer on the same thread.
#[test]
fn a_loop_of_file_reads_yields_to_other_tasks() {
    let rt = vigil::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let dir = TempDir::new("coop");
    rt.block_on(async {
        let path = dir.join("f");
        fs::write(&path, pattern(4096, 1)).await.unwrap();
        let file = File::open(&path).await.unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let reader = vigil::spawn({
            let stop = stop.clone();
            async move {
                let mut reads = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let (res, _) = file.read_at(Vec::with_capacity(512), 0).await;
                    res.unwrap();
                    reads += 1;
                }
                reads
            }
        });
        vigil::time::sleep(std::time::Duration::from_millis(10)).await;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(reader.await.unwrap() > 0);
    });
}

/// Files whose file system cannot read without waiting (procfs refuses
/// `RWF_NOWAIT`) are read through the slow path, transparently.
#[test]
fn files_without_nonblocking_reads_still_read() {
    for (name, rt) in engines() {
        rt.block_on(async {
            let status = fs::read_to_string("/proc/self/status").await.unwrap();
            assert!(status.starts_with("Name:"), "{name}: {status}");
            let mut file = File::open("/proc/self/stat").await.unwrap();
            let mut stat = String::new();
            file.read_to_string(&mut stat).await.unwrap();
            assert!(
                stat.starts_with(&std::process::id().to_string()),
                "{name}: {stat}"
            );
        });
    }
}

#[test]
fn many_small_handed_off_writes_keep_their_order() {
    let data = pattern(5 << 20, 11);
    for (name, rt) in engines() {
        let dir = TempDir::new("staged");
        let data = data.clone();
        rt.block_on(async move {
            let path = dir.join("f");
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(&path)
                .await
                .unwrap();
            // Small writes, each waiting for the one handed off before it.
            for chunk in data.chunks(1000) {
                file.write_all(chunk).await.unwrap();
            }
            // Reading through the same cursor waits for every batch.
            file.seek(SeekFrom::Start(0)).await.unwrap();
            let mut back = Vec::new();
            file.read_to_end(&mut back).await.unwrap();
            assert!(
                back == data,
                "{name}: {} bytes read back differ",
                back.len()
            );
        });
    }
}

#[test]
fn a_file_dropped_with_a_write_in_flight_still_writes_it() {
    let data = pattern(8 << 20, 5);
    for (name, rt) in engines() {
        let dir = TempDir::new("drop-staged");
        let path = dir.join("f");
        let target = path.clone();
        let data = &data;
        rt.block_on(async move {
            let mut file = File::create(&target).await.unwrap();
            for chunk in data.chunks(64 * 1024) {
                file.write_all(chunk).await.unwrap();
            }
            // No flush: the writes in flight finish on their own. Wait
            // for the length, with a deadline.
            drop(file);
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
            while std::fs::metadata(&target).unwrap().len() < data.len() as u64 {
                assert!(
                    std::time::Instant::now() < deadline,
                    "{name}: handed-off bytes lost"
                );
                vigil::time::sleep(std::time::Duration::from_millis(1)).await;
            }
        });
        let back = std::fs::read(&path).unwrap();
        assert!(&back == data, "{name}: the file differs");
    }
}

#[test]
fn a_failed_handed_off_write_is_reported_once() {
    for (name, rt) in engines() {
        rt.block_on(async {
            // Every write to /dev/full fails with ENOSPC.
            let mut full = OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .await
                .unwrap();
            let chunk = [1u8; 4096];
            let err = first_write_error(&mut full, std::iter::repeat_n(&chunk[..], 64)).await;
            assert_eq!(err.raw_os_error(), Some(libc::ENOSPC), "{name}: {err}");
            // Reported once: the file is idle and usable, and fails again on
            // the next write.
            full.flush().await.unwrap();
            full.write_all(&chunk).await.unwrap();
            let again = full.flush().await.unwrap_err();
            assert_eq!(again.raw_os_error(), Some(libc::ENOSPC), "{name}: {again}");
        });
    }
}

#[test]
fn set_times_waits_for_handed_off_writes_and_sets_what_was_asked() {
    use std::time::{Duration, SystemTime};
    let then = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    let later = then + Duration::from_secs(86_400);
    for (name, rt) in engines() {
        let dir = TempDir::new("times");
        rt.block_on(async {
            let path = dir.join("f");
            let mut file = File::create(&path).await.unwrap();
            // A handed-off write still in flight must not move the
            // modification time after `set_modified` returns.
            file.write_all(&pattern(1 << 20, 3)).await.unwrap();
            file.set_modified(then).await.unwrap();
            let meta = std::fs::metadata(&path).unwrap();
            assert_eq!(meta.len(), 1 << 20, "{name}");
            assert_eq!(meta.modified().unwrap(), then, "{name}");

            // Only the access time: the modification time stays.
            file.set_times(fs::FileTimes::new().set_accessed(later))
                .await
                .unwrap();
            let meta = std::fs::metadata(&path).unwrap();
            assert_eq!(meta.accessed().unwrap(), later, "{name}");
            assert_eq!(meta.modified().unwrap(), then, "{name}");
        });
    }
}

#[test]
fn max_buf_size_reads_back_what_was_set_within_bounds() {
    let dir = TempDir::new("maxbuf");
    let file = std::fs::File::create(dir.join("f")).unwrap();
    let mut file = File::from_std(file);
    assert_eq!(file.max_buf_size(), 2 * 1024 * 1024);
    file.set_max_buf_size(4096);
    assert_eq!(file.max_buf_size(), 4096);
    file.set_max_buf_size(0);
    assert_eq!(file.max_buf_size(), 1);
}
