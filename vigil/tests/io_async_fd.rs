//! `vigil::io::unix::AsyncFd`: any non-blocking descriptor waits in the
//! reactor. Readiness is kept until cleared after `WouldBlock`, cleared
//! readiness comes back with the next edge, many tasks can wait at once,
//! and bad descriptors give a clear error (and, with `try_new`, the value
//! back).

mod common;

use std::fs::File;
use std::future::Future;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::pin::{pin, Pin};
use std::task::{Context, Poll, Waker};
use vigil::io::unix::AsyncFd;
use vigil::io::{Interest, Ready};

fn poll_once<F: Future + ?Sized>(fut: Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

/// A non-blocking pipe as std files: (read end, write end).
fn pipe() -> (File, File) {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors `pipe2` writes.
    let ret = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) };
    assert_eq!(ret, 0);
    // SAFETY: both descriptors are fresh and owned by nobody else.
    unsafe {
        use std::os::fd::FromRawFd;
        (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1]))
    }
}

/// Reads everything until end of file through `readable` + `try_io`.
async fn read_to_end(fd: &AsyncFd<File>) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let mut guard = fd.readable().await?;
        match guard.try_io(|fd| fd.get_ref().read(&mut buf)) {
            Ok(Ok(0)) => return Ok(out),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Ok(Err(e)) => return Err(e),
            Err(_would_block) => {}
        }
    }
}

#[test]
fn a_pipe_is_read_to_the_end_on_both_flavours() {
    for (flavour, rt) in common::both_flavours() {
        rt.block_on(async {
            let (read, mut write) = pipe();
            let reader = AsyncFd::new(read).unwrap();
            let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
            let expected = data.clone();
            // A blocking writer on a plain thread: the pipe fills, the
            // reader drains it, the writer goes on.
            write.set_nonblocking_for_test(false);
            let writer = std::thread::spawn(move || write.write_all(&data));
            assert_eq!(read_to_end(&reader).await.unwrap(), expected, "{flavour}");
            writer.join().unwrap().unwrap();
        });
    }
}

trait SetBlocking {
    fn set_nonblocking_for_test(&mut self, nonblocking: bool);
}

impl SetBlocking for File {
    fn set_nonblocking_for_test(&mut self, nonblocking: bool) {
        let fd = self.as_raw_fd();
        // SAFETY: F_GETFL/F_SETFL on a descriptor this file owns.
        unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFL);
            let flags = if nonblocking {
                flags | libc::O_NONBLOCK
            } else {
                flags & !libc::O_NONBLOCK
            };
            assert_eq!(libc::fcntl(fd, libc::F_SETFL, flags), 0);
        }
    }
}

#[test]
fn readiness_stays_until_cleared_and_returns_with_new_data() {
    common::current_thread().block_on(async {
        let (read, mut write) = pipe();
        let reader = AsyncFd::new(read).unwrap();
        assert!(poll_once(pin!(reader.readable())).is_pending());
        write.write_all(b"abc").unwrap();
        // Dropping a guard keeps the readiness: the next wait is immediate.
        {
            let guard = reader.readable().await.unwrap();
            assert!(guard.ready().is_readable());
        }
        let mut guard = reader.readable().await.unwrap();
        let mut buf = [0u8; 8];
        let n = guard
            .try_io(|fd| fd.get_ref().read(&mut buf))
            .unwrap()
            .unwrap();
        assert_eq!(&buf[..n], b"abc");
        // Empty now: `try_io` sees WouldBlock and clears the readiness.
        assert!(guard.try_io(|fd| fd.get_ref().read(&mut buf)).is_err());
        assert!(guard.ready().is_empty());
        assert!(poll_once(pin!(reader.readable())).is_pending());
        // A new write is a new edge.
        write.write_all(b"d").unwrap();
        let mut guard = reader.readable().await.unwrap();
        let n = guard
            .try_io(|fd| fd.get_ref().read(&mut buf))
            .unwrap()
            .unwrap();
        assert_eq!(&buf[..n], b"d");
    });
}

#[test]
fn clearing_one_direction_keeps_the_other() {
    common::current_thread().block_on(async {
        let (a, b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let a = AsyncFd::new(a).unwrap();
        (&b).write_all(b"x").unwrap();
        // Both may arrive in one edge or two; wait until both are seen.
        let mut guard = loop {
            let guard = a
                .ready(Interest::READABLE | Interest::WRITABLE)
                .await
                .unwrap();
            if guard.ready().is_readable() && guard.ready().is_writable() {
                break guard;
            }
            vigil::task::yield_now().await;
        };
        guard.clear_ready_matching(Ready::READABLE);
        assert!(!guard.ready().is_readable() && guard.ready().is_writable());
        assert!(poll_once(pin!(a.readable())).is_pending());
        assert!(poll_once(pin!(a.writable())).is_ready());
    });
}

#[test]
fn async_io_fills_and_drains_a_pipe_from_two_tasks() {
    for (flavour, rt) in common::both_flavours() {
        rt.block_on(async {
            let (read, write) = pipe();
            let reader = AsyncFd::with_interest(read, Interest::READABLE).unwrap();
            let writer = AsyncFd::new(write).unwrap();
            assert_eq!(reader.interest(), Interest::READABLE);
            const TOTAL: usize = 1 << 20;
            let sender = vigil::spawn(async move {
                let chunk = [7u8; 8192];
                let mut sent = 0;
                while sent < TOTAL {
                    let len = chunk.len().min(TOTAL - sent);
                    let n = writer
                        .async_io(Interest::WRITABLE, |w| (&*w).write(&chunk[..len]))
                        .await
                        .unwrap();
                    sent += n;
                }
                // Dropping the writer closes the pipe: end of file.
            });
            let got = read_to_end(&reader).await.unwrap();
            sender.await.unwrap();
            assert_eq!(got.len(), TOTAL, "{flavour}");
            assert!(got.iter().all(|&b| b == 7));
        });
    }
}

#[test]
fn several_tasks_wait_on_one_descriptor() {
    common::multi_thread(2).block_on(async {
        let (a, b) = UnixDatagram::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let a = std::sync::Arc::new(AsyncFd::new(a).unwrap());
        let waiters: Vec<_> = (0..4)
            .map(|_| {
                let a = a.clone();
                vigil::spawn(async move { a.readable().await.map(|g| g.ready().is_readable()) })
            })
            .collect();
        vigil::task::yield_now().await;
        b.send(b"wake").unwrap();
        for w in waiters {
            assert!(w.await.unwrap().unwrap());
        }
    });
}

#[test]
fn mutable_access_through_the_mut_guard() {
    common::current_thread().block_on(async {
        let (read, mut write) = pipe();
        let mut reader = AsyncFd::new(read).unwrap();
        write.write_all(b"mut").unwrap();
        let mut guard = reader.readable_mut().await.unwrap();
        let mut buf = [0u8; 8];
        let n = guard
            .try_io(|fd| fd.get_mut().read(&mut buf))
            .unwrap()
            .unwrap();
        assert_eq!(&buf[..n], b"mut");
        assert!(guard.try_io(|fd| fd.get_mut().read(&mut buf)).is_err());
        drop(write);
        let n = reader
            .async_io_mut(Interest::READABLE, |f| f.read(&mut buf))
            .await
            .unwrap();
        assert_eq!(n, 0, "end of file once the writer is gone");
    });
}

#[test]
fn bad_descriptors_are_refused_with_the_value_back() {
    common::current_thread().block_on(async {
        // epoll cannot watch a regular file.
        let file = File::open("/proc/self/exe").unwrap();
        let raw = file.as_raw_fd();
        let err = AsyncFd::try_new(file).unwrap_err();
        let (file, cause) = err.into_parts();
        assert_eq!(cause.raw_os_error(), Some(libc::EPERM), "{cause}");
        assert_eq!(
            file.as_raw_fd(),
            raw,
            "the same file comes back, still open"
        );
        assert!(AsyncFd::new(file).is_err());
    });
    // Outside a runtime.
    let (read, _write) = pipe();
    let err = AsyncFd::new(read).unwrap_err();
    assert!(err.to_string().contains("inside a vigil runtime"), "{err}");
}

#[test]
fn into_inner_gives_back_a_working_descriptor() {
    common::current_thread().block_on(async {
        let (read, mut write) = pipe();
        let reader: AsyncFd<OwnedFd> = AsyncFd::new(OwnedFd::from(read)).unwrap();
        let fd = reader.into_inner();
        write.write_all(b"still open").unwrap();
        let mut file = File::from(fd);
        let mut buf = [0u8; 16];
        assert_eq!(file.read(&mut buf).unwrap(), 10);
        // Registering it again works: the old registration is gone.
        let again = AsyncFd::new(file).unwrap();
        write.write_all(b"!").unwrap();
        let mut guard = again.readable().await.unwrap();
        let n = guard
            .try_io(|fd| fd.get_ref().read(&mut buf))
            .unwrap()
            .unwrap();
        assert_eq!(&buf[..n], b"!");
    });
}
