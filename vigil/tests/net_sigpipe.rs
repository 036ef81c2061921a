//! `SIGPIPE` never kills a process that runs vigil: writing to a socket
//! whose peer is gone is an `EPIPE` (or `ECONNRESET`) error.
//!
//! Two defences make it so: stream sends pass `MSG_NOSIGNAL`, and building a
//! runtime switches a default `SIGPIPE` disposition to "ignore" (the only
//! defence of the splice path of `io::copy`: `splice(2)` has no
//! `MSG_NOSIGNAL`). The Rust test harness already ignores `SIGPIPE`, which
//! would hide a regression of either, so the scenario runs in a child: the
//! test re-executes its own binary, selecting only the ignored helper test
//! `sigpipe_child`, which acts only when the environment variable below is
//! set. The child first restores the default disposition (terminate), then:
//!
//! 1. builds a runtime and writes (through `AsyncWrite` and the `try_*`
//!    methods, plain and vectored) to a closed TCP peer, a closed Unix peer,
//!    and splices (`io::copy`) into a reset TCP peer; then checks that the
//!    runtime left `SIGPIPE` ignored;
//! 2. restores the default disposition once more and repeats the TCP and
//!    Unix writes, which `MSG_NOSIGNAL` alone must now protect.

mod common;

use std::io::{self, IoSlice};
use std::os::unix::process::ExitStatusExt;
use std::time::Duration;
use vigil::io::{AsyncReadExt, AsyncWriteExt};
use vigil::net::{TcpListener, TcpStream, UnixStream};

const CHILD_ENV: &str = "VIGIL_NET_SIGPIPE_CHILD";
const MARKER: &str = "sigpipe child: every write failed with an error";

#[test]
fn writes_to_a_gone_peer_are_errors_even_with_the_default_sigpipe() {
    let output = common::run_in_child("sigpipe_child", CHILD_ENV, Duration::from_secs(60));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_ne!(
        output.status.signal(),
        Some(libc::SIGPIPE),
        "the child was killed by SIGPIPE:\n{stdout}\n{stderr}"
    );
    assert!(
        output.status.success() && stdout.contains(MARKER),
        "child failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
}

/// Sets `SIGPIPE` to its default action: terminate the process.
fn default_sigpipe() {
    // SAFETY: installs no handler of ours, only the default disposition.
    let old = unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    assert_ne!(old, libc::SIG_ERR, "{}", io::Error::last_os_error());
}

/// The current `SIGPIPE` disposition.
fn sigpipe_disposition() -> libc::sighandler_t {
    // SAFETY: a null new action only reads the disposition into `old`, a
    // valid, zeroed struct.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        let rc = libc::sigaction(libc::SIGPIPE, std::ptr::null(), &mut old);
        assert_eq!(rc, 0, "{}", io::Error::last_os_error());
        old.sa_sigaction
    }
}

#[test]
#[ignore = "helper: run in a child process by writes_to_a_gone_peer_are_errors_even_with_the_default_sigpipe"]
fn sigpipe_child() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    default_sigpipe();
    let rt = vigil::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        vigil::time::timeout(Duration::from_secs(30), async {
            tcp_write_to_closed_peer().await?;
            unix_write_to_closed_peer().await?;
            splice_to_reset_peer().await
        })
        .await
        .expect("child timed out")
        .expect("child failed");
    });
    assert_eq!(
        sigpipe_disposition(),
        libc::SIG_IGN,
        "building the runtime must have ignored SIGPIPE"
    );

    // The runtime's switch happens once per process; from here on only
    // MSG_NOSIGNAL stands between a write and the signal.
    default_sigpipe();
    rt.block_on(async {
        vigil::time::timeout(Duration::from_secs(30), async {
            tcp_write_to_closed_peer().await?;
            unix_write_to_closed_peer().await
        })
        .await
        .expect("child timed out")
        .expect("child failed");
    });
    println!("{MARKER}");
}

fn assert_peer_gone(what: &str, e: &io::Error) {
    assert!(
        matches!(
            e.kind(),
            io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
        ),
        "{what}: {e:?}"
    );
}

async fn tcp_pair() -> io::Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let client = TcpStream::connect(listener.local_addr()?).await?;
    let (server, _) = listener.accept().await?;
    Ok((client, server))
}

/// (a) The peer closed: the first write is accepted and answered by an RST,
/// a later one fails. After that, every write is `EPIPE`, the error that
/// comes with `SIGPIPE` unless it is suppressed.
async fn tcp_write_to_closed_peer() -> io::Result<()> {
    let (mut client, server) = tcp_pair().await?;
    drop(server);
    assert_eq!(client.read(&mut [0; 8]).await?, 0, "the FIN: end of file");
    let mut failed = None;
    for _ in 0..1000 {
        match client.write_all(b"anyone there?").await {
            Ok(()) => vigil::time::sleep(Duration::from_millis(1)).await,
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    let err = failed.expect("writing to a closed TCP peer must fail");
    assert_peer_gone("tcp write", &err);
    let err = client.write(b"x").await.expect_err("tcp write again");
    assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "tcp write again");
    let err = client
        .write_vectored(&[IoSlice::new(b"x"), IoSlice::new(b"y")])
        .await
        .expect_err("tcp write_vectored");
    assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "tcp write_vectored");
    client.writable().await?;
    let err = client.try_write(b"x").expect_err("tcp try_write");
    assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "tcp try_write");
    let err = client
        .try_write_vectored(&[IoSlice::new(b"x"), IoSlice::new(b"y")])
        .expect_err("tcp try_write_vectored");
    assert_eq!(
        err.kind(),
        io::ErrorKind::BrokenPipe,
        "tcp try_write_vectored"
    );
    Ok(())
}

/// (b) A Unix stream whose peer is closed: every write is `EPIPE`.
async fn unix_write_to_closed_peer() -> io::Result<()> {
    let (mut a, b) = UnixStream::pair()?;
    drop(b);
    let err = a.write_all(b"anyone there?").await.expect_err("unix write");
    assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "unix write");
    let err = a
        .write_vectored(&[IoSlice::new(b"x"), IoSlice::new(b"y")])
        .await
        .expect_err("unix write_vectored");
    assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "unix write_vectored");
    a.writable().await?;
    let err = a.try_write(b"x").expect_err("unix try_write");
    assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "unix try_write");
    let err = a
        .try_write_vectored(&[IoSlice::new(b"x"), IoSlice::new(b"y")])
        .expect_err("unix try_write_vectored");
    assert_eq!(
        err.kind(),
        io::ErrorKind::BrokenPipe,
        "unix try_write_vectored"
    );
    Ok(())
}

/// (c) `io::copy` between two TCP streams (the splice path) into one whose
/// peer has reset. The reset itself is reported once (`ECONNRESET`, taken
/// here by a read); the copy's splice into the socket then gets `EPIPE`.
async fn splice_to_reset_peer() -> io::Result<()> {
    let (mut src_w, mut src_r) = tcp_pair().await?;
    let (mut dst, dst_peer) = tcp_pair().await?;
    dst_peer.set_linger(Some(Duration::ZERO))?;
    drop(dst_peer); // closing with a zero linger sends an RST
    let err = dst.read(&mut [0; 8]).await.expect_err("read after the RST");
    assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err:?}");
    src_w.write_all(&[7; 4096]).await?;
    src_w.shutdown().await?;
    let err = vigil::io::copy(&mut src_r, &mut dst)
        .await
        .expect_err("copy into a reset peer");
    assert_peer_gone("spliced copy", &err);
    Ok(())
}
