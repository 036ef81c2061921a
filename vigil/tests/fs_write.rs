//! `vigil::fs::File` writes with several in flight through io_uring: they
//! land at the logical position whatever the file's starting offset, the
//! position ends after them, appending files and pipes keep their order,
//! and a write that fails part-way (the file size limit, provoked in a
//! child process) is reported with what came before it intact. Each case
//! runs on every engine.

mod common;
mod fs_support;

use fs_support::{engines, first_write_error, pattern, TempDir};
use std::io::{Read, Seek, SeekFrom};
use std::time::Duration;
use vigil::fs::{File, OpenOptions};
use vigil::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

/// Chunk sizes that vary, so writes of different lengths are in flight at
/// once: 1 byte to ~200 KiB.
fn chunks(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = data;
    let mut size = 1usize;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        size = (size * 7 + 4093) % (200 * 1024) + 1;
        let (head, tail) = rest.split_at(size.min(rest.len()));
        rest = tail;
        Some(head)
    })
}

#[test]
fn writes_start_at_the_files_offset_and_leave_the_position_after_them() {
    let data = pattern(6 << 20, 13);
    for (name, rt) in engines() {
        let dir = TempDir::new("offset");
        let path = dir.join("f");
        std::fs::write(&path, vec![b'-'; 1000]).unwrap();
        let mut std = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        std.seek(SeekFrom::Start(400)).unwrap();
        let data = &data;
        rt.block_on(async move {
            let mut file = File::from_std(std);
            for chunk in chunks(data) {
                file.write_all(chunk).await.unwrap();
            }
            file.flush().await.unwrap();
            let end = 400 + data.len() as u64;
            assert_eq!(file.stream_position().await.unwrap(), end, "{name}");
            // The kernel's position agrees, for code that takes the fd.
            let mut std = file.into_std().await;
            assert_eq!(std.stream_position().unwrap(), end, "{name}");
            std.seek(SeekFrom::Start(0)).unwrap();
            let mut back = Vec::new();
            std.read_to_end(&mut back).unwrap();
            assert_eq!(&back[..400], &[b'-'; 400][..], "{name}");
            assert!(&back[400..] == data, "{name}: the written bytes differ");
        });
    }
}

#[test]
fn a_read_after_queued_writes_sees_them_and_continues_after_them() {
    for (name, rt) in engines() {
        let dir = TempDir::new("read-after");
        rt.block_on(async {
            let path = dir.join("f");
            std::fs::write(&path, b"0123456789tail").unwrap();
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
                .await
                .unwrap();
            for digit in b"abcdefghij" {
                file.write_all(&[*digit]).await.unwrap();
            }
            // No flush: the read waits for the writes and starts after them.
            let mut rest = String::new();
            file.read_to_string(&mut rest).await.unwrap();
            assert_eq!(rest, "tail", "{name}");
            file.seek(SeekFrom::Start(0)).await.unwrap();
            let mut all = String::new();
            file.read_to_string(&mut all).await.unwrap();
            assert_eq!(all, "abcdefghijtail", "{name}");
        });
    }
}

#[test]
fn an_appending_file_keeps_the_order_of_many_writes() {
    let data = pattern(3 << 20, 17);
    for (name, rt) in engines() {
        let dir = TempDir::new("append-many");
        let path = dir.join("f");
        std::fs::write(&path, b"head").unwrap();
        let data = &data;
        rt.block_on(async {
            let mut file = OpenOptions::new().append(true).open(&path).await.unwrap();
            for chunk in chunks(data) {
                file.write_all(chunk).await.unwrap();
            }
            file.flush().await.unwrap();
        });
        let back = std::fs::read(&path).unwrap();
        assert_eq!(&back[..4], b"head", "{name}");
        assert!(&back[4..] == data, "{name}: the appended bytes differ");
    }
}

#[test]
fn writes_to_a_pipe_through_a_file_keep_their_order() {
    let data = pattern(2 << 20, 19);
    for (name, rt) in engines() {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors pipe2 writes.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        // SAFETY: both descriptors are fresh and owned by nobody else.
        let (read_end, write_end) = unsafe {
            use std::os::fd::FromRawFd;
            (
                std::fs::File::from_raw_fd(fds[0]),
                std::fs::File::from_raw_fd(fds[1]),
            )
        };
        let reader = std::thread::spawn(move || {
            let mut back = Vec::new();
            let mut read_end = read_end;
            read_end.read_to_end(&mut back).unwrap();
            back
        });
        let data_ref = &data;
        rt.block_on(async move {
            let mut file = File::from_std(write_end);
            for chunk in chunks(data_ref) {
                file.write_all(chunk).await.unwrap();
            }
            file.flush().await.unwrap();
        });
        let back = reader.join().unwrap();
        assert!(back == data, "{name}: {} bytes arrived", back.len());
    }
}

/// The file size limit (`RLIMIT_FSIZE`, with `SIGXFSZ` ignored so writes
/// past it fail with `EFBIG`), set in a child process.
const FSIZE_CHILD: &str = "VIGIL_FS_WRITE_FSIZE_CHILD";
const LIMIT: usize = 1 << 20;

#[test]
fn a_write_past_the_size_limit_fails_and_keeps_what_came_before() {
    let out = common::run_in_child("fsize_limit_child", FSIZE_CHILD, Duration::from_secs(60));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("fsize child ok"),
        "child failed: {}\n{stdout}\n{stderr}",
        out.status
    );
}

#[test]
#[ignore = "helper: run in a child process by a_write_past_the_size_limit_fails_and_keeps_what_came_before"]
fn fsize_limit_child() {
    if std::env::var_os(FSIZE_CHILD).is_none() {
        return;
    }
    // SAFETY: setting a signal's disposition to "ignore" and lowering this
    // process's own resource limit touch no memory of ours.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        let limit = libc::rlimit {
            rlim_cur: LIMIT as libc::rlim_t,
            rlim_max: libc::RLIM_INFINITY,
        };
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &limit), 0);
    }
    let data = pattern(4 << 20, 23);
    for (name, rt) in engines() {
        let dir = TempDir::new("fsize");
        let path = dir.join("f");
        let data = &data;
        rt.block_on(async {
            let mut file = File::create(&path).await.unwrap();
            // 100 000-byte writes: the one that reaches the limit is cut
            // short there, and its rest fails.
            let err = first_write_error(&mut file, data.chunks(100_000)).await;
            assert_eq!(err.raw_os_error(), Some(libc::EFBIG), "{name}: {err}");
            // Reported once; the file is usable again.
            let _ = file.flush().await;
        });
        let back = std::fs::read(&path).unwrap();
        assert_eq!(back.len(), LIMIT, "{name}");
        assert!(
            back == data[..LIMIT],
            "{name}: the bytes before the limit differ"
        );
    }
    println!("fsize child ok");
}
