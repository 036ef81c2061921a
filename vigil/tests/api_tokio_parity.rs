//! Small pieces of Tokio's API that code ported from Tokio expects to
//! find: `pin!` by name, the signal number of a `SignalKind`, runtime
//! handles that may cross `catch_unwind`, `OnceCell` equality, the pipes
//! of a child spawned by `std`, files and open options built from `std`
//! or raw descriptors, the standard streams' descriptors, why there is no
//! current runtime, owned mutex guards taken from synchronous code, a
//! `static` reader-writer lock with a reader limit, `empty()` as a writer
//! and seeker, and a `BufStream` made from buffers already built.

use std::panic::{catch_unwind, resume_unwind};
use std::time::Duration;
use vigil::runtime::Builder;

#[test]
fn pin_pins_named_futures_for_a_select_loop() {
    vigil::block_on(async {
        let (tx, mut rx) = vigil::sync::mpsc::channel::<u32>(4);
        let deadline = vigil::time::sleep(Duration::from_secs(30));
        let producer = async move {
            for i in 1..=3 {
                tx.send(i).await.unwrap();
            }
        };
        vigil::pin!(deadline, producer);
        let mut producer_done = false;
        let mut sum = 0;
        // The same pinned futures are polled by reference on every turn.
        loop {
            vigil::select! {
                () = &mut producer, if !producer_done => producer_done = true,
                got = rx.recv() => match got {
                    Some(i) => sum += i,
                    None => break,
                },
                () = &mut deadline => panic!("timed out"),
            }
        }
        assert_eq!(sum, 6);

        vigil::pin! {
            let a = async { 1 };
            let b = async { 2 };
        }
        assert_eq!(a.await + b.await, 3);
    });
}

#[test]
fn a_signal_kind_converts_to_its_number() {
    use vigil::signal::unix::SignalKind;
    let number: std::os::raw::c_int = SignalKind::hangup().into();
    assert_eq!(number, libc::SIGHUP);
    assert_eq!(SignalKind::from(number), SignalKind::hangup());
}

#[test]
fn runtimes_and_task_handles_cross_catch_unwind() {
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let handle = rt.handle().clone();
    let task = rt.spawn(async { 5 });
    let abort = task.abort_handle();
    let mut set = vigil::task::JoinSet::new();
    rt.block_on(async { set.spawn(async { 6 }) });
    // No `AssertUnwindSafe` needed around any of them.
    let caught = catch_unwind(|| {
        let _ = (&rt, &handle, &abort, &set);
        rt.block_on(async { resume_unwind(Box::new("boom")) })
    });
    assert!(caught.is_err());
    // The runtime is usable after the panic.
    let out = catch_unwind(|| rt.block_on(task)).unwrap().unwrap();
    assert_eq!(out, 5);
    let six = rt.block_on(set.join_next()).unwrap().unwrap();
    assert_eq!(six, 6);
}

#[test]
fn once_cells_compare_by_value() {
    use vigil::sync::OnceCell;
    assert_eq!(OnceCell::<u8>::new(), OnceCell::new());
    assert_eq!(OnceCell::from(3), OnceCell::new_with(Some(3)));
    assert_ne!(OnceCell::from(3), OnceCell::from(4));
    assert_ne!(OnceCell::from(3), OnceCell::new());
}

#[test]
fn child_pipes_of_a_std_child_are_adopted() {
    use vigil::io::{AsyncReadExt, AsyncWriteExt};
    use vigil::process::{ChildStdin, ChildStdout};
    let rt = Builder::new_current_thread().build().unwrap();
    let mut child = std::process::Command::new("cat")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let echoed = rt.block_on(async {
        let mut stdin = ChildStdin::from_std(child.stdin.take().unwrap())?;
        let mut stdout = ChildStdout::from_std(child.stdout.take().unwrap())?;
        stdin.write_all(b"through cat").await?;
        drop(stdin);
        let mut out = String::new();
        stdout.read_to_string(&mut out).await?;
        std::io::Result::Ok(out)
    });
    assert!(child.wait().unwrap().success());
    assert_eq!(echoed.unwrap(), "through cat");
}

/// A path in the temporary directory unique to this process and `tag`.
fn temp_path(tag: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("vigil-parity-{tag}-{}", std::process::id()))
}

#[test]
fn files_are_adopted_from_owned_and_raw_descriptors() {
    use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd};
    use vigil::io::{AsyncReadExt, AsyncWriteExt};
    let path = temp_path("fd");
    std::fs::write(&path, b"adopted").unwrap();
    vigil::block_on(async {
        let owned = OwnedFd::from(std::fs::File::open(&path).unwrap());
        let mut file = vigil::fs::File::from(owned);
        let mut text = String::new();
        file.read_to_string(&mut text).await.unwrap();
        assert_eq!(text, "adopted");

        let raw = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .into_raw_fd();
        // SAFETY: `raw` was just released by its `std::fs::File`; the
        // vigil file is its only owner from here on.
        let mut file = unsafe { vigil::fs::File::from_raw_fd(raw) };
        assert_eq!(file.as_raw_fd(), raw);
        file.write_all(b" twice").await.unwrap();
        file.flush().await.unwrap();
    });
    assert_eq!(std::fs::read(&path).unwrap(), b"adopted twice");
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn open_options_taken_over_from_std_keep_their_settings() {
    use vigil::io::AsyncWriteExt;
    let path = temp_path("options");
    let mut std_options = std::fs::OpenOptions::new();
    std_options.write(true).create_new(true);
    let options = vigil::fs::OpenOptions::from(std_options);
    vigil::block_on(async {
        let mut file = options.open(&path).await.unwrap();
        file.write_all(b"new").await.unwrap();
        file.flush().await.unwrap();
        // `create_new` came along: a second open finds the file there.
        let err = options.open(&path).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
        // A setter changes the kept std options too.
        let mut append = options.clone();
        append.create_new(false).append(true);
        let mut file = append.open(&path).await.unwrap();
        file.write_all(b"er").await.unwrap();
        file.flush().await.unwrap();
    });
    assert_eq!(std::fs::read(&path).unwrap(), b"newer");
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn standard_streams_expose_their_descriptors() {
    use std::os::fd::{AsFd, AsRawFd};
    assert_eq!(vigil::io::stdin().as_raw_fd(), 0);
    assert_eq!(vigil::io::stdout().as_raw_fd(), 1);
    assert_eq!(vigil::io::stderr().as_fd().as_raw_fd(), 2);
}

#[test]
fn no_current_runtime_says_why() {
    use vigil::runtime::Handle;
    let err = Handle::try_current().unwrap_err();
    assert!(err.is_missing_context() && !err.is_thread_local_destroyed());

    // A thread-local destroyed after the runtime context asks for it.
    struct AskOnDrop(std::sync::mpsc::Sender<(bool, bool)>);
    impl Drop for AskOnDrop {
        fn drop(&mut self) {
            let err = Handle::try_current().unwrap_err();
            let _ = self
                .0
                .send((err.is_missing_context(), err.is_thread_local_destroyed()));
        }
    }
    thread_local! {
        static ASK: std::cell::RefCell<Option<AskOnDrop>> = const { std::cell::RefCell::new(None) };
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // Registered first, so destroyed after the runtime context, which
        // the block_on below registers.
        ASK.with(|ask| *ask.borrow_mut() = Some(AskOnDrop(tx)));
        vigil::block_on(async {});
    })
    .join()
    .unwrap();
    assert_eq!(rx.recv().unwrap(), (false, true));
}

#[test]
fn an_owned_guard_is_taken_from_a_plain_thread() {
    use std::sync::Arc;
    let lock = Arc::new(vigil::sync::Mutex::new(1));
    let held = lock.clone().blocking_lock_owned();
    let (tx, rx) = std::sync::mpsc::channel();
    let waiter = {
        let lock = lock.clone();
        std::thread::spawn(move || {
            let mut guard = lock.blocking_lock_owned();
            *guard += 1;
            tx.send(()).unwrap();
            // The guard owns its mutex: it can outlive this closure's borrow.
            guard
        })
    };
    // While `held` lives the waiter cannot have the lock (an absence can
    // only be checked for a while; a bug would show as a message here).
    assert!(rx.recv_timeout(Duration::from_millis(50)).is_err());
    drop(held);
    rx.recv().unwrap();
    let guard = waiter.join().unwrap();
    assert_eq!(*guard, 2);
}

#[test]
fn a_static_rwlock_keeps_its_reader_limit() {
    use vigil::sync::RwLock;
    static LIMITED: RwLock<u32> = RwLock::const_with_max_readers(5, 2);
    vigil::block_on(async {
        let a = LIMITED.read().await;
        let b = LIMITED.try_read().unwrap();
        assert!(LIMITED.try_read().is_err(), "a third reader got in");
        assert_eq!(*a + *b, 10);
        drop((a, b));
        *LIMITED.write().await += 1;
        assert_eq!(*LIMITED.read().await, 6);
    });
}

#[test]
fn empty_discards_writes_and_seeks_to_zero() {
    use vigil::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt, SeekFrom};
    vigil::block_on(async {
        let mut nothing = vigil::io::empty();
        assert_eq!(nothing.write(b"gone").await.unwrap(), 4);
        nothing.write_all(b"all gone").await.unwrap();
        nothing.flush().await.unwrap();
        assert_eq!(nothing.seek(SeekFrom::End(10)).await.unwrap(), 0);
        let mut buf = Vec::new();
        assert_eq!(nothing.read_to_end(&mut buf).await.unwrap(), 0);
    });
}

#[test]
fn buf_streams_are_made_from_buffers_with_their_contents() {
    use vigil::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
    use vigil::io::{BufReader, BufStream, BufWriter};
    vigil::block_on(async {
        // Reader outside: a line already buffered survives the conversion.
        let (near, mut far) = vigil::io::duplex(256);
        far.write_all(b"first\nsecond\n").await.unwrap();
        let mut reader = BufReader::new(BufWriter::new(near));
        let mut line = String::new();
        reader.read_line(&mut line).await.unwrap();
        assert_eq!(line, "first\n");
        let mut stream = BufStream::from(reader);
        line.clear();
        stream.read_line(&mut line).await.unwrap();
        assert_eq!(line, "second\n");

        // Writer outside: pending writes and buffered reads both survive.
        far.write_all(b"third\n").await.unwrap();
        let mut reader = BufReader::new(stream.into_inner());
        assert_eq!(reader.fill_buf().await.unwrap(), b"third\n");
        let mut writer = BufWriter::new(reader);
        writer.write_all(b"pending").await.unwrap();
        let mut stream = BufStream::from(writer);
        stream.flush().await.unwrap();
        let mut sent = [0u8; 7];
        far.read_exact(&mut sent).await.unwrap();
        assert_eq!(&sent, b"pending");
        line.clear();
        stream.read_line(&mut line).await.unwrap();
        assert_eq!(line, "third\n");
    });
}
