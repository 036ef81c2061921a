//! Unix-domain sockets on the reactor: listener and stream over a temporary
//! path, socket pairs, split halves, half-close, and datagrams. Every socket
//! file is created in a fresh directory that is removed afterwards.

mod common;

use common::{current_thread, run, TempDir};
use std::io;
use std::path::Path;
use std::time::Duration;
use vigil::io::{AsyncReadExt, AsyncWriteExt};
use vigil::net::{UnixDatagram, UnixListener, UnixStream};
use vigil::runtime::Builder;

#[test]
fn listener_accepts_and_streams_talk() {
    let dir = TempDir::new("net-unix");
    let path = dir.path("server.sock");
    run(&current_thread(), async {
        let listener = UnixListener::bind(&path)?;
        assert_eq!(listener.local_addr()?.as_pathname(), Some(path.as_path()));
        let server = vigil::spawn(async move {
            let (mut s, _) = listener.accept().await?;
            let mut req = Vec::new();
            s.read_to_end(&mut req).await?;
            s.write_all(&req).await?;
            s.write_all(b" (echoed)").await?;
            io::Result::Ok(())
        });
        let mut client = UnixStream::connect(&path).await?;
        assert_eq!(client.peer_addr()?.as_pathname(), Some(path.as_path()));
        assert!(client.local_addr()?.is_unnamed());
        client.write_all(b"hello").await?;
        // Half-close: the server reads EOF and still answers.
        client.shutdown().await?;
        let mut reply = String::new();
        client.read_to_string(&mut reply).await?;
        assert_eq!(reply, "hello (echoed)");
        server.await.unwrap()
    });
    // Binding over an existing socket file fails until it is removed.
    let rt = current_thread();
    rt.block_on(async {
        let err = UnixListener::bind(&path).expect_err("file exists");
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
    });
}

#[test]
fn connect_to_nothing_fails() {
    let dir = TempDir::new("net-unix");
    run(&current_thread(), async {
        let err = UnixStream::connect(dir.path("missing.sock"))
            .await
            .expect_err("nothing there");
        assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
        // A socket file whose listener is gone refuses.
        let path = dir.path("stale.sock");
        drop(UnixListener::bind(&path)?);
        let err = UnixStream::connect(&path).await.expect_err("stale");
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
        Ok(())
    });
}

#[test]
fn pair_split_halves_and_try_io() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    run(&rt, async {
        let (a, mut b) = UnixStream::pair()?;
        let (mut ar, mut aw) = a.into_split();
        let writer = vigil::spawn(async move {
            for i in 0..1000u32 {
                aw.write_all(&i.to_le_bytes()).await?;
            }
            io::Result::Ok(aw) // dropped later: shuts down writing
        });
        let mut buf = [0; 4];
        for i in 0..1000u32 {
            b.read_exact(&mut buf).await?;
            assert_eq!(u32::from_le_bytes(buf), i);
        }
        let aw = writer.await.unwrap()?;
        drop(aw);
        assert_eq!(b.read(&mut buf).await?, 0, "dropping the write half is EOF");

        // The read half still works after its writer is gone.
        b.writable().await?;
        assert_eq!(b.try_write(b"late")?, 4);
        let mut late = [0; 4];
        ar.read_exact(&mut late).await?;
        assert_eq!(&late, b"late");

        // Borrowed halves in one task.
        let (mut c, mut d) = UnixStream::pair()?;
        let (mut cr, mut cw) = c.split();
        cw.write_all(b"x").await?;
        let mut one = [0; 1];
        d.read_exact(&mut one).await?;
        d.write_all(b"y").await?;
        cr.read_exact(&mut one).await?;
        assert_eq!(&one, b"y");
        let err = d.try_read(&mut one).expect_err("drained");
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        Ok(())
    });
}

#[test]
fn datagrams_over_a_pair_and_paths() {
    let dir = TempDir::new("net-unix");
    run(&current_thread(), async {
        let (a, b) = UnixDatagram::pair()?;
        a.send(b"one").await?;
        a.send(b"two").await?;
        let mut buf = [0; 16];
        assert_eq!(b.recv(&mut buf).await?, 3);
        assert_eq!(&buf[..3], b"one");
        b.readable().await?;
        let n = b.try_recv(&mut buf)?;
        assert_eq!(&buf[..n], b"two");

        let server_path = dir.path("dgram-server.sock");
        let client_path = dir.path("dgram-client.sock");
        let server = UnixDatagram::bind(&server_path)?;
        let client = UnixDatagram::bind(&client_path)?;
        client.send_to(b"request", &server_path).await?;
        let (n, from) = server.recv_from(&mut buf).await?;
        assert_eq!(&buf[..n], b"request");
        assert_eq!(from.as_pathname(), Some(client_path.as_path()));
        server
            .send_to(b"reply", from.as_pathname().unwrap())
            .await?;
        let n = client.recv(&mut buf).await?;
        assert_eq!(&buf[..n], b"reply");

        // An unbound socket can send to a path, and connect to it.
        let anon = UnixDatagram::unbound()?;
        anon.connect(&server_path)?;
        assert_eq!(
            anon.peer_addr()?.as_pathname(),
            Some(Path::new(&server_path))
        );
        anon.send(b"anonymous").await?;
        let (n, from) = server.recv_from(&mut buf).await?;
        assert_eq!(&buf[..n], b"anonymous");
        assert!(from.is_unnamed());
        Ok(())
    });
}

#[test]
fn std_conversions() {
    let dir = TempDir::new("net-unix");
    let path = dir.path("std.sock");
    run(&current_thread(), async {
        let listener = UnixListener::from_std(std::os::unix::net::UnixListener::bind(&path)?)?;
        let std_client = std::os::unix::net::UnixStream::connect(&path)?;
        let mut client = UnixStream::from_std(std_client)?;
        let (server, _) = listener.accept().await?;
        let mut std_server = server.into_std()?;
        std_server.set_nonblocking(false)?;
        std::io::Write::write_all(&mut std_server, b"std")?;
        let mut buf = [0; 3];
        client.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"std");
        let std_listener = listener.into_std()?;
        assert!(std_listener.local_addr()?.as_pathname().is_some());
        Ok(())
    });
}

#[test]
fn connect_waits_out_a_full_backlog() {
    let dir = TempDir::new("net-unix");
    let path = dir.path("busy.sock");
    run(&current_thread(), async {
        // Backlog 0: one pending connection fits, the next connect gets
        // EAGAIN from the kernel and must retry rather than fail.
        let socket = socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None)?;
        socket.bind(&socket2::SockAddr::unix(&path)?)?;
        socket.listen(0)?;
        let listener = UnixListener::from_std(socket.into())?;
        let first = UnixStream::connect(&path).await?;
        let second = vigil::spawn({
            let path = path.clone();
            async move { UnixStream::connect(&path).await }
        });
        vigil::time::sleep(Duration::from_millis(30)).await;
        assert!(!second.is_finished(), "the backlog should be full");
        // Accepting makes room; the retrying connect then succeeds.
        let (_a, _) = listener.accept().await?;
        let second = second.await.unwrap()?;
        let (_b, _) = listener.accept().await?;
        drop((first, second));
        Ok(())
    });
}

#[test]
fn peer_credentials_name_the_connecting_process() {
    run(&current_thread(), async {
        let dir = TempDir::new("net-unix");
        let path = dir.path("cred.sock");
        let listener = UnixListener::bind(&path)?;
        let client = UnixStream::connect(&path).await?;
        let (server, _) = listener.accept().await?;
        // SAFETY: getuid/getgid only read this process's ids.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        for cred in [server.peer_cred()?, client.peer_cred()?] {
            assert_eq!(cred.pid(), Some(std::process::id() as libc::pid_t));
            assert_eq!((cred.uid(), cred.gid()), (uid, gid));
        }
        Ok(())
    });
}
