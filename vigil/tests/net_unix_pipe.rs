//! `vigil::net::unix::pipe`: anonymous pipes and FIFOs on the reactor.
//!
//! Round trips (anonymous and FIFO), back-pressure, end of file,
//! `BrokenPipe` (in this process, and in a child that starts with the
//! default `SIGPIPE` disposition), the checks of the constructors and of
//! `OpenOptions`, the `try_*` methods, readiness polling, and giving the
//! descriptor back. Every FIFO lives in a fresh directory under the system
//! temporary directory, removed afterwards; no test sleeps.

mod common;

use common::{current_thread, multi_thread, run, TempDir};
use std::future::{poll_fn, Future};
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;
use vigil::io::{AsyncReadExt, AsyncWriteExt, Interest};
use vigil::net::unix::pipe::{self, OpenOptions, Receiver, Sender};

/// Creates a FIFO called `name` in `dir`.
fn fifo(dir: &TempDir, name: &str) -> PathBuf {
    let path = dir.path(name);
    mkfifo(&path);
    path
}

fn mkfifo(path: &Path) {
    let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: `c_path` is a valid NUL-terminated string for the call.
    let rc = unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) };
    assert_eq!(rc, 0, "mkfifo: {}", io::Error::last_os_error());
}

/// The file status flags (`F_GETFL`) of `fd`.
fn status_flags(fd: BorrowedFd<'_>) -> libc::c_int {
    // SAFETY: `fd` is open; F_GETFL reads no memory of ours.
    let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
    assert_ne!(flags, -1, "{}", io::Error::last_os_error());
    flags
}

fn is_nonblocking(fd: BorrowedFd<'_>) -> bool {
    status_flags(fd) & libc::O_NONBLOCK != 0
}

fn is_cloexec(fd: BorrowedFd<'_>) -> bool {
    // SAFETY: `fd` is open; F_GETFD reads no memory of ours.
    let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFD) };
    assert_ne!(flags, -1, "{}", io::Error::last_os_error());
    flags & libc::FD_CLOEXEC != 0
}

/// A plain `pipe(2)`: blocking, not close-on-exec. `(read end, write end)`.
fn blocking_pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors `pipe` stores.
    let rc = unsafe { libc::pipe(fds.as_mut_ptr()) };
    assert_eq!(rc, 0, "pipe: {}", io::Error::last_os_error());
    // SAFETY: both descriptors were just created and belong to nobody else.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

/// Polls `fut` exactly once, with the current task's context.
async fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    poll_fn(|cx| Poll::Ready(std::pin::Pin::new(&mut *fut).poll(cx))).await
}

/// Deterministic bytes that are not a short repeating pattern.
fn pattern(len: usize, seed: u64) -> Vec<u8> {
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

/// FNV-1a over `bytes`, continuing from `hash`.
fn fnv(mut hash: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        hash ^= b as u64;
        hash = hash.wrapping_mul(0x100_0000_01b3);
    }
    hash
}

const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

#[test]
fn anonymous_round_trip_of_megabytes_across_threads() {
    const LEN: usize = 4 << 20;
    run(&multi_thread(2), async {
        let (mut tx, mut rx) = pipe::pipe()?;
        let data = pattern(LEN, 7);
        let expected = fnv(FNV_START, &data);
        let writer = vigil::spawn(async move {
            // Odd chunk sizes, so writes straddle the pipe's pages.
            for chunk in data.chunks(7919) {
                tx.write_all(chunk).await?;
            }
            io::Result::Ok(())
        });
        let reader = vigil::spawn(async move {
            let mut buf = vec![0; 32 * 1024];
            let (mut hash, mut total) = (FNV_START, 0);
            loop {
                let n = rx.read(&mut buf).await?;
                if n == 0 {
                    return io::Result::Ok((hash, total));
                }
                hash = fnv(hash, &buf[..n]);
                total += n;
            }
        });
        writer.await.unwrap()?;
        let (hash, total) = reader.await.unwrap()?;
        assert_eq!(total, LEN);
        assert_eq!(hash, expected, "bytes arrived corrupted or out of order");
        Ok(())
    });
}

#[test]
fn a_full_pipe_makes_the_writer_wait_until_the_reader_reads() {
    run(&current_thread(), async {
        let (mut tx, mut rx) = pipe::pipe()?;
        // Fill the pipe buffer completely.
        tx.writable().await?;
        let mut written = 0usize;
        loop {
            match tx.try_write(&[0xAB; 4096]) {
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        assert!(written >= 4096, "the pipe took only {written} bytes");

        // A write now has to wait: its first poll is `Pending`.
        let more = pattern(3 * 4096 + 5, 3);
        let mut write = pin!(tx.write_all(&more));
        assert!(
            poll_once(&mut write).await.is_pending(),
            "write_all into a full pipe did not wait"
        );

        // A reader draining the pipe lets the waiting write finish (however
        // small the pipe buffer is: both run concurrently).
        let total = written + more.len();
        let (wrote, read) = vigil::join!(write, async {
            let mut all = vec![0; total];
            rx.read_exact(&mut all).await?;
            io::Result::Ok(all)
        });
        wrote?;
        let all = read?;
        let (old, new) = all.split_at(written);
        assert!(old.iter().all(|&b| b == 0xAB));
        assert_eq!(new, &more[..], "the waiting write lost or reordered bytes");

        // Nothing more was written.
        drop(tx);
        let mut rest = Vec::new();
        rx.read_to_end(&mut rest).await?;
        assert!(rest.is_empty(), "{} unexpected bytes", rest.len());
        Ok(())
    });
}

#[test]
fn dropping_the_sender_is_end_of_file() {
    run(&current_thread(), async {
        let (mut tx, mut rx) = pipe::pipe()?;
        tx.write_all(b"last words").await?;
        drop(tx);
        let mut got = Vec::new();
        rx.read_to_end(&mut got).await?;
        assert_eq!(got, b"last words");
        // End of file stays end of file.
        let mut buf = [0; 8];
        assert_eq!(rx.read(&mut buf).await?, 0);
        rx.readable().await?;
        assert_eq!(rx.try_read(&mut buf)?, 0);
        Ok(())
    });
}

#[test]
fn writing_after_the_receiver_dropped_is_broken_pipe() {
    run(&current_thread(), async {
        let (mut tx, rx) = pipe::pipe()?;
        tx.write_all(b"unread").await?;
        drop(rx);
        let err = tx.write_all(b"nobody listens").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "{err}");
        // Readiness reports the closed side, and the non-waiting forms agree.
        let ready = tx.ready(Interest::WRITABLE).await?;
        assert!(ready.is_writable() || ready.is_error(), "{ready:?}");
        let err = tx.try_write(b"x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "{err}");
        let err = tx.try_write_vectored(&[IoSlice::new(b"x")]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "{err}");
        Ok(())
    });
}

const SIGPIPE_CHILD_ENV: &str = "VIGIL_NET_UNIX_PIPE_SIGPIPE_CHILD";
const SIGPIPE_MARKER: &str = "pipe sigpipe child: the write failed with BrokenPipe";

/// The test harness ignores `SIGPIPE`, which would hide a pipe write that
/// raised it; so a child process restores the default action (terminate)
/// before building its runtime, and writes to a pipe with no reader.
#[test]
fn broken_pipe_is_an_error_even_with_the_default_sigpipe() {
    let output = common::run_in_child("sigpipe_child", SIGPIPE_CHILD_ENV, Duration::from_secs(60));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_ne!(
        output.status.signal(),
        Some(libc::SIGPIPE),
        "the child was killed by SIGPIPE:\n{stdout}\n{stderr}"
    );
    assert!(
        output.status.success() && stdout.contains(SIGPIPE_MARKER),
        "child failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
}

#[test]
#[ignore = "helper: run in a child process by broken_pipe_is_an_error_even_with_the_default_sigpipe"]
fn sigpipe_child() {
    if std::env::var_os(SIGPIPE_CHILD_ENV).is_none() {
        return;
    }
    // SAFETY: installs no handler of ours, only the default disposition.
    let old = unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    assert_ne!(old, libc::SIG_ERR, "{}", io::Error::last_os_error());
    run(&current_thread(), async {
        let (mut tx, rx) = pipe::pipe()?;
        drop(rx);
        let err = tx.write_all(b"into the void").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "{err}");
        println!("{SIGPIPE_MARKER}");
        Ok(())
    });
}

#[test]
fn fifo_round_trip_through_open_receiver_and_open_sender() {
    let dir = TempDir::new("net-unix-pipe");
    let path = fifo(&dir, "fifo");
    run(&multi_thread(2), async {
        // No reader yet: a write-only open is refused rather than waiting.
        let err = OpenOptions::new().open_sender(&path).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENXIO), "{err}");

        let mut rx = OpenOptions::new().open_receiver(&path)?;
        let mut tx = OpenOptions::new().open_sender(&path)?;
        assert_eq!(status_flags(rx.as_fd()) & libc::O_ACCMODE, libc::O_RDONLY);
        assert_eq!(status_flags(tx.as_fd()) & libc::O_ACCMODE, libc::O_WRONLY);
        for end in [rx.as_fd(), tx.as_fd()] {
            assert!(is_nonblocking(end) && is_cloexec(end));
        }

        let data = pattern(1 << 20, 11);
        let expected = data.clone();
        let writer = vigil::spawn(async move {
            tx.write_all(&data).await?;
            io::Result::Ok(()) // dropping `tx` ends the stream
        });
        let mut got = Vec::new();
        rx.read_to_end(&mut got).await?;
        writer.await.unwrap()?;
        assert_eq!(got.len(), expected.len());
        assert!(got == expected, "the FIFO corrupted the data");
        Ok(())
    });
}

#[test]
fn only_fifos_open_unless_unchecked() {
    let dir = TempDir::new("net-unix-pipe");
    let file = dir.path("regular");
    std::fs::write(&file, b"not a pipe").unwrap();
    run(&current_thread(), async {
        let err = OpenOptions::new().open_receiver(&file).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
        let err = OpenOptions::new().open_sender(&file).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
        // `unchecked` skips the file-type check: what fails now is the
        // reactor, which cannot watch a regular file (epoll's EPERM).
        let err = OpenOptions::new()
            .unchecked(true)
            .open_receiver(&file)
            .unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EPERM), "{err}");
        // A FIFO opens either way.
        let fifo = fifo(&dir, "fifo");
        let rx = OpenOptions::new().unchecked(true).open_receiver(&fifo)?;
        let _tx = OpenOptions::new().unchecked(true).open_sender(&fifo)?;
        drop(rx);
        // Missing paths report the open's own error.
        let err = OpenOptions::new()
            .open_receiver(dir.path("missing"))
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
        Ok(())
    });
    assert_eq!(std::fs::read(&file).unwrap(), b"not a pipe");
}

#[test]
fn read_write_fifo_ends_need_no_partner() {
    let dir = TempDir::new("net-unix-pipe");
    let path = fifo(&dir, "fifo");
    run(&current_thread(), async {
        // A read-write receiver opens with no writer, and outlives writers.
        let mut rx = OpenOptions::new().read_write(true).open_receiver(&path)?;
        assert_eq!(status_flags(rx.as_fd()) & libc::O_ACCMODE, libc::O_RDWR);
        for word in [&b"first"[..], b"second"] {
            let mut tx = OpenOptions::new().open_sender(&path)?;
            tx.write_all(word).await?;
            drop(tx);
            let mut buf = vec![0; word.len()];
            rx.read_exact(&mut buf).await?;
            assert_eq!(buf, word);
            // The writer left, yet this is not end of file: the pipe is
            // just empty.
            let err = rx.try_read(&mut buf).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::WouldBlock, "{err}");
        }
        drop(rx);

        // A read-write sender opens with no reader at all.
        let err = OpenOptions::new().open_sender(&path).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENXIO), "{err}");
        let mut tx = OpenOptions::new().read_write(true).open_sender(&path)?;
        tx.write_all(b"kept").await?;
        let mut rx = OpenOptions::new().open_receiver(&path)?;
        let mut buf = [0; 4];
        rx.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"kept");
        Ok(())
    });
}

#[test]
fn from_fd_checks_the_kind_and_the_access_mode() {
    let dir = TempDir::new("net-unix-pipe");
    let path = fifo(&dir, "fifo");
    run(&current_thread(), async {
        // Ends of a plain, blocking pipe become non-blocking and close-on-exec.
        let (r, w) = blocking_pipe();
        assert!(!is_nonblocking(r.as_fd()) && !is_cloexec(w.as_fd()));
        let mut rx = Receiver::from_owned_fd(r)?;
        let mut tx = Sender::from_owned_fd(w)?;
        for end in [rx.as_fd(), tx.as_fd()] {
            assert!(is_nonblocking(end), "O_NONBLOCK not set");
            assert!(is_cloexec(end), "FD_CLOEXEC not set");
        }
        tx.write_all(b"adopted").await?;
        let mut buf = [0; 7];
        rx.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"adopted");

        // The wrong end of a pipe.
        let (r, w) = blocking_pipe();
        let err = Receiver::from_owned_fd(w).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
        let err = Sender::from_owned_fd(r).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");

        // A FIFO opened write-only is no receiver (an O_RDWR descriptor
        // holds the FIFO open so that the write-only open succeeds).
        let keeper = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)?;
        let write_only = std::fs::OpenOptions::new().write(true).open(&path)?;
        let err = Receiver::from_file(write_only).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
        // ... while the O_RDWR one can be either end.
        let both = Receiver::from_file(keeper.try_clone()?)?;
        let other = Sender::from_file(keeper)?;
        drop((both, other));

        // Not a pipe at all.
        let file = dir.path("regular");
        std::fs::write(&file, b"x")?;
        let err = Receiver::from_file(std::fs::File::open(&file)?).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
        Ok(())
    });
}

#[test]
fn try_read_and_try_write_vectored() {
    run(&current_thread(), async {
        let (tx, rx) = pipe::pipe()?;
        let mut buf = [0; 64];
        let err = rx.try_read(&mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock, "{err}");

        tx.writable().await?;
        let bufs = [
            IoSlice::new(b"one "),
            IoSlice::new(b""),
            IoSlice::new(b"two "),
            IoSlice::new(b"three"),
        ];
        assert_eq!(tx.try_write_vectored(&bufs)?, 13);

        rx.readable().await?;
        let (mut a, mut b) = ([0; 4], [0; 16]);
        let mut slices = [IoSliceMut::new(&mut a), IoSliceMut::new(&mut b)];
        assert_eq!(rx.try_read_vectored(&mut slices)?, 13);
        assert_eq!(&a, b"one ");
        assert_eq!(&b[..9], b"two three");

        // Drained: a real `read(2)` now finds nothing.
        let err = rx.try_read(&mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock, "{err}");

        // `try_io` runs a custom operation under the same readiness rules.
        let n = tx.try_io(|| {
            // SAFETY: `tx` keeps the descriptor open for the call, and the
            // buffer is valid for reads of its 3 bytes.
            let n = unsafe { libc::write(tx.as_raw_fd(), b"raw".as_ptr().cast(), 3) };
            if n < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(n as usize)
            }
        })?;
        assert_eq!(n, 3);
        rx.readable().await?;
        assert_eq!(rx.try_read(&mut buf)?, 3);
        assert_eq!(&buf[..3], b"raw");
        Ok(())
    });
}

#[test]
fn vectored_async_write_is_one_writev() {
    run(&current_thread(), async {
        let (mut tx, mut rx) = pipe::pipe()?;
        let bufs = [
            IoSlice::new(b"ab"),
            IoSlice::new(b"cd"),
            IoSlice::new(b"ef"),
        ];
        // One call takes every slice: the default (first slice only) would
        // return 2.
        let n = tx.write_vectored(&bufs).await?;
        assert_eq!(n, 6);
        drop(tx);
        let mut got = String::new();
        rx.read_to_string(&mut got).await?;
        assert_eq!(got, "abcdef");
        Ok(())
    });
}

#[test]
fn descriptors_come_back_blocking_or_not() {
    run(&current_thread(), async {
        let (tx, rx) = pipe::pipe()?;
        let w = tx.into_blocking_fd()?;
        assert!(!is_nonblocking(w.as_fd()), "O_NONBLOCK still set");
        let r = rx.into_nonblocking_fd()?;
        assert!(is_nonblocking(r.as_fd()), "O_NONBLOCK was cleared");

        // The non-blocking end says so instead of waiting...
        let mut reader = std::fs::File::from(r);
        let mut buf = [0; 8];
        let err = reader.read(&mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock, "{err}");
        // ... and both work with blocking std I/O.
        let mut writer = std::fs::File::from(w);
        writer.write_all(b"plain")?;
        assert_eq!(reader.read(&mut buf)?, 5);
        assert_eq!(&buf[..5], b"plain");

        // And back again: from_owned_fd takes either.
        let mut tx = Sender::from_owned_fd(writer.into())?;
        let mut rx = Receiver::from_owned_fd(reader.into())?;
        tx.write_all(b"again").await?;
        rx.read_exact(&mut buf[..5]).await?;
        assert_eq!(&buf[..5], b"again");
        Ok(())
    });
}

#[test]
fn poll_read_ready_waits_for_a_write() {
    run(&current_thread(), async {
        let (tx, rx) = pipe::pipe()?;
        let mut ready = poll_fn(|cx| rx.poll_read_ready(cx));
        assert!(
            poll_once(&mut ready).await.is_pending(),
            "an empty pipe was reported readable"
        );
        tx.writable().await?;
        assert_eq!(tx.try_write(b"!")?, 1);
        ready.await?;
        let mut buf = [0; 4];
        assert_eq!(rx.try_read(&mut buf)?, 1);

        // The write side: a fresh pipe has room.
        poll_fn(|cx| tx.poll_write_ready(cx)).await?;
        Ok(())
    });
}

#[test]
fn constructors_fail_outside_a_runtime() {
    let err = pipe::pipe().unwrap_err();
    assert!(err.to_string().contains("runtime"), "{err}");
}

#[cfg(feature = "tokio-io")]
#[test]
fn tokio_io_traits_read_and_write_a_pipe() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    run(&current_thread(), async {
        let (mut tx, mut rx) = pipe::pipe()?;
        let data = pattern(200_000, 5);
        let expected = data.clone();
        let writer = vigil::spawn(async move {
            AsyncWriteExt::write_all(&mut tx, &data).await?;
            AsyncWriteExt::shutdown(&mut tx).await?;
            io::Result::Ok(())
        });
        let mut got = Vec::new();
        AsyncReadExt::read_to_end(&mut rx, &mut got).await?;
        writer.await.unwrap()?;
        assert!(
            got == expected,
            "{} bytes, not the {} written",
            got.len(),
            expected.len()
        );
        Ok(())
    });
}
