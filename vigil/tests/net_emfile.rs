//! Accepting when the process is out of file descriptors (`EMFILE`).
//!
//! The error must reach the caller of `accept` (not be swallowed or turned
//! into a panic), the listener must stay usable, and an accept loop that
//! backs off for a few milliseconds on errors must neither spin nor stop:
//! once descriptors are freed it serves the connection that waited in the
//! kernel's queue.
//!
//! Exhausting descriptors would break every other test running in the same
//! process, so the scenario runs in a child: the test re-executes its own
//! binary, selecting only the ignored helper test `emfile_child`, which acts
//! only when the environment variable below is set.

mod common;

use std::fs::File;
use std::io::{self, Read};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use vigil::io::AsyncWriteExt;
use vigil::net::TcpListener;

const CHILD_ENV: &str = "VIGIL_NET_EMFILE_CHILD";
const MARKER: &str = "emfile child: served after recovering";
/// How long the accept loop runs out of descriptors before they are freed.
const STARVED_FOR: Duration = Duration::from_millis(100);
/// The loop's pause after an accept error.
const BACKOFF: Duration = Duration::from_millis(10);

#[test]
fn accept_out_of_descriptors_backs_off_and_recovers() {
    let output = common::run_in_child("emfile_child", CHILD_ENV, Duration::from_secs(60));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains(MARKER),
        "child failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
}

/// Lowers the soft limit on open descriptors to `limit`.
fn lower_nofile_limit(limit: libc::rlim_t) {
    let mut current = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `current` is a valid, writable rlimit.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut current) };
    assert_eq!(rc, 0, "{}", io::Error::last_os_error());
    let lowered = libc::rlimit {
        rlim_cur: limit.min(current.rlim_cur),
        rlim_max: current.rlim_max,
    };
    // SAFETY: `lowered` is a valid rlimit; lowering the soft limit is always
    // permitted.
    let rc = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lowered) };
    assert_eq!(rc, 0, "{}", io::Error::last_os_error());
}

#[test]
#[ignore = "helper: run in a child process by accept_out_of_descriptors_backs_off_and_recovers"]
fn emfile_child() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let rt = vigil::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        vigil::time::timeout(Duration::from_secs(30), child_main())
            .await
            .expect("child timed out")
            .expect("child failed");
    });
    println!("{MARKER}");
}

async fn child_main() -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    // The client connects while descriptors remain: the kernel completes
    // the handshake and queues the connection for `accept`.
    let mut client = std::net::TcpStream::connect(listener.local_addr()?)?;
    client.set_read_timeout(Some(Duration::from_secs(10)))?;

    let open = std::fs::read_dir("/proc/self/fd")?.count() as libc::rlim_t;
    lower_nofile_limit(open + 16);
    let mut fillers = Vec::new();
    loop {
        match File::open("/dev/null") {
            Ok(f) => fillers.push(f),
            Err(e) if e.raw_os_error() == Some(libc::EMFILE) => break,
            Err(e) => return Err(e),
        }
    }

    // The error reaches the caller.
    let err = listener.accept().await.expect_err("no descriptor is left");
    assert_eq!(err.raw_os_error(), Some(libc::EMFILE), "{err}");

    // The accept-loop pattern of the examples: back off, then carry on.
    let errors = Arc::new(AtomicUsize::new(0));
    let server = vigil::spawn({
        let errors = errors.clone();
        async move {
            loop {
                match listener.accept().await {
                    Ok((mut socket, _)) => {
                        socket.write_all(b"served\n").await?;
                        return io::Result::Ok(());
                    }
                    Err(_) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        vigil::time::sleep(BACKOFF).await;
                    }
                }
            }
        }
    });
    // A measuring window, not synchronisation: how often does the loop fail
    // while starved? Backing off, about STARVED_FOR / BACKOFF times.
    vigil::time::sleep(STARVED_FOR).await;
    let failed = errors.load(Ordering::Relaxed);
    let most = (STARVED_FOR.as_millis() / BACKOFF.as_millis()) as usize * 2 + 2;
    assert!(
        (1..=most).contains(&failed),
        "{failed} accept errors in {STARVED_FOR:?}: expected 1..={most} (no spinning)"
    );

    drop(fillers);
    server.await.expect("server task panicked")?;
    let mut reply = String::new();
    client.read_to_string(&mut reply)?;
    assert_eq!(reply, "served\n");
    Ok(())
}
