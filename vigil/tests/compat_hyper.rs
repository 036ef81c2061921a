//! Feature `hyper`: hyper 1.x servers and clients on vigil, and
//! `vigil::hyper::{Executor, Timer}`.
#![cfg(feature = "hyper")]

use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Bytes, Incoming};
use hyper::rt::{Executor as _, Timer as _};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use std::convert::Infallible;
use std::time::Duration;
use vigil::io::{AsyncReadExt, AsyncWriteExt};
use vigil::net::{TcpListener, TcpStream};
use vigil::time::Instant;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// `GET /x` answers "x"; `POST` echoes the body, upper-cased.
async fn service(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let reply = if req.method() == Method::POST {
        let body = req.into_body().collect().await?.to_bytes();
        Bytes::from(body.to_ascii_uppercase())
    } else {
        Bytes::from(req.uri().path().trim_start_matches('/').to_owned())
    };
    Ok(Response::new(Full::new(reply)))
}

/// A client connection over `io`, its connection task on `Executor`.
async fn client<T>(io: T) -> Result<hyper::client::conn::http1::SendRequest<Full<Bytes>>, BoxError>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake(io).await?;
    vigil::hyper::Executor::new().execute(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

async fn round_trips(
    sender: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>,
) -> Result<(), BoxError> {
    for path in ["alpha", "beta"] {
        let req = Request::get(format!("/{path}"))
            .header("host", "test")
            .body(Full::default())?;
        sender.ready().await?;
        let res = sender.send_request(req).await?;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.into_body().collect().await?.to_bytes(), path);
    }
    // A body large enough to take many reads and writes.
    let big = "abcdefghij".repeat(50_000);
    let req = Request::post("/")
        .header("host", "test")
        .body(Full::new(Bytes::from(big.clone())))?;
    sender.ready().await?;
    let res = sender.send_request(req).await?;
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.into_body().collect().await?.to_bytes();
    assert_eq!(body, big.to_ascii_uppercase());
    Ok(())
}

#[vigil::test(flavor = "multi_thread", worker_threads = 2)]
async fn http1_round_trip_over_tcp() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = vigil::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        http1::Builder::new()
            .timer(vigil::hyper::Timer)
            .serve_connection(stream, service_fn(service))
            .await
    });

    let mut sender = client(TcpStream::connect(addr).await.unwrap())
        .await
        .unwrap();
    round_trips(&mut sender).await.unwrap();

    // Closing the client ends the server's connection cleanly.
    drop(sender);
    server.await.unwrap().unwrap();
}

#[vigil::test]
async fn http1_round_trip_over_duplex() {
    let (client_io, server_io) = vigil::io::duplex(4096);
    let server = vigil::spawn(
        http1::Builder::new()
            .timer(vigil::hyper::Timer)
            .serve_connection(server_io, service_fn(service)),
    );
    let mut sender = client(client_io).await.unwrap();
    round_trips(&mut sender).await.unwrap();
    drop(sender);
    server.await.unwrap().unwrap();
}

#[vigil::test]
async fn header_read_timeout_fires_through_timer() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let timeout = Duration::from_millis(200);
    let server = vigil::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let started = Instant::now();
        let res = http1::Builder::new()
            .timer(vigil::hyper::Timer)
            .header_read_timeout(timeout)
            .serve_connection(
                stream,
                service_fn(|_req: Request<Incoming>| async {
                    Ok::<_, Infallible>(Response::new(Empty::<Bytes>::new()))
                }),
            )
            .await;
        (res, started.elapsed())
    });

    // Half a request line, then nothing: the server must give up.
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: te")
        .await
        .unwrap();
    let (res, elapsed) = server.await.unwrap();
    let err = res.expect_err("the header-read timeout should end the connection");
    assert!(err.is_timeout(), "unexpected error: {err}");
    assert!(elapsed >= timeout, "timed out early, after {elapsed:?}");
    assert!(
        elapsed < Duration::from_secs(5),
        "timed out late, after {elapsed:?}"
    );

    // hyper closes the connection without a response.
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).await.unwrap();
    assert!(
        reply.is_empty(),
        "reply: {:?}",
        String::from_utf8_lossy(&reply)
    );
}

#[vigil::test]
async fn timer_sleeps_and_resets() {
    let timer = vigil::hyper::Timer;

    let started = Instant::now();
    timer.sleep(Duration::from_millis(20)).await;
    assert!(started.elapsed() >= Duration::from_millis(20));

    let deadline = std::time::Instant::now() + Duration::from_millis(20);
    timer.sleep_until(deadline).await;
    assert!(std::time::Instant::now() >= deadline);

    // `reset` moves one of our sleeps in place...
    let mut sleep = timer.sleep(Duration::from_secs(3600));
    assert!(sleep.is::<vigil::hyper::Sleep>());
    let soon = std::time::Instant::now() + Duration::from_millis(10);
    timer.reset(&mut sleep, soon);
    let ours = sleep
        .as_mut()
        .downcast_mut_pin::<vigil::hyper::Sleep>()
        .unwrap();
    assert_eq!(ours.deadline(), Instant::from_std(soon));
    let started = Instant::now();
    sleep.as_mut().await;
    assert!(started.elapsed() < Duration::from_secs(5));

    // ... and can be reset again after it completed.
    timer.reset(
        &mut sleep,
        std::time::Instant::now() + Duration::from_millis(10),
    );
    sleep.await;

    // A sleep from another timer is replaced by one of ours.
    struct Foreign;
    impl std::future::Future for Foreign {
        type Output = ();
        fn poll(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<()> {
            std::task::Poll::Pending
        }
    }
    impl hyper::rt::Sleep for Foreign {}
    let mut sleep: std::pin::Pin<Box<dyn hyper::rt::Sleep>> = Box::pin(Foreign);
    timer.reset(
        &mut sleep,
        std::time::Instant::now() + Duration::from_millis(5),
    );
    assert!(sleep.is::<vigil::hyper::Sleep>());
    sleep.await;
}

#[test]
fn executor_with_handle_spawns_from_any_thread() {
    let rt = vigil::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let executor = vigil::hyper::Executor::with_handle(rt.handle().clone());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        executor.execute(async move {
            vigil::time::sleep(Duration::from_millis(1)).await;
            tx.send(vigil::runtime::Handle::try_current().is_ok())
                .unwrap();
        });
    })
    .join()
    .unwrap();
    let ran_on_runtime = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(ran_on_runtime);
}

#[test]
#[should_panic(expected = "outside a vigil runtime")]
fn executor_new_outside_a_runtime_panics() {
    vigil::hyper::Executor::new().execute(async {});
}

#[test]
fn pipes_implement_hyper_io() {
    fn read<T: hyper::rt::Read>() {}
    fn write<T: hyper::rt::Write>() {}
    read::<vigil::process::ChildStdout>();
    read::<vigil::process::ChildStderr>();
    write::<vigil::process::ChildStdin>();
    read::<vigil::net::unix::pipe::Receiver>();
    write::<vigil::net::unix::pipe::Sender>();
    read::<vigil::io::SimplexStream>();
    write::<vigil::io::SimplexStream>();
}
