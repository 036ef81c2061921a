//! Small pieces of Tokio's API that code ported from Tokio expects to
//! find: `pin!` by name, the signal number of a `SignalKind`, runtime
//! handles that may cross `catch_unwind`, `OnceCell` equality, and the
//! pipes of a child spawned by `std`.

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
