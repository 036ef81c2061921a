//! An HTTP/1.1 hello-world server: hyper 1.x on vigil.
//!
//! vigil's `TcpStream` implements hyper's I/O traits itself, and
//! `vigil::hyper::{Executor, Timer}` give hyper vigil's tasks and timers, so
//! hyper runs on vigil with no adapter types.
//!
//! ```text
//! cargo run -p vigil --example hyper_hello --features hyper -- 127.0.0.1:3000
//! curl http://127.0.0.1:3000/you
//! ```
//!
//! With an address it serves until killed. With no arguments it is a smoke
//! test: it serves on a free loopback port, sends itself a few requests with
//! hyper's client, checks the replies and exits (non-zero on any failure).

use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::rt::Executor as _;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use std::convert::Infallible;
use std::error::Error;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;
use vigil::net::{TcpListener, TcpStream};

type BoxError = Box<dyn Error + Send + Sync>;

/// The whole application: greets whoever the path names.
async fn hello(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let name = req.uri().path().trim_start_matches('/');
    let name = if name.is_empty() { "world" } else { name };
    let mut res = Response::new(Full::new(Bytes::from(format!("Hello, {name}!\n"))));
    res.headers_mut()
        .insert(CONTENT_TYPE, "text/plain; charset=utf-8".parse().unwrap());
    Ok(res)
}

/// Accepts connections forever, serving each on its own task.
async fn serve(listener: TcpListener) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(conn) => conn,
            Err(err) => {
                // E.g. out of file descriptors: back off rather than spin.
                eprintln!("accept failed: {err}");
                vigil::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        vigil::spawn(async move {
            let conn = http1::Builder::new()
                // hyper needs a timer for its header-read timeout.
                .timer(vigil::hyper::Timer)
                .header_read_timeout(Duration::from_secs(10))
                .serve_connection(stream, service_fn(hello));
            if let Err(err) = conn.await {
                eprintln!("connection from {peer}: {err}");
            }
        });
    }
}

/// Sends a few requests over one kept-alive connection and checks replies.
async fn self_test(addr: SocketAddr) -> Result<(), BoxError> {
    let stream = TcpStream::connect(addr).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(stream).await?;
    // The connection future does the client's I/O: it runs as its own task.
    vigil::hyper::Executor::new().execute(async move {
        if let Err(err) = conn.await {
            eprintln!("client connection: {err}");
        }
    });

    for (path, expected) in [
        ("/", "Hello, world!\n"),
        ("/vigil", "Hello, vigil!\n"),
        ("/hyper", "Hello, hyper!\n"),
    ] {
        let req = Request::get(path)
            .header(HOST, addr.to_string())
            .body(Empty::<Bytes>::new())?;
        // The connection takes new requests only once it has finished with
        // the previous one: wait for that, or `send_request` may fail.
        sender.ready().await?;
        let res = sender.send_request(req).await?;
        if res.status() != StatusCode::OK {
            return Err(format!("GET {path}: status {}", res.status()).into());
        }
        let body = res.into_body().collect().await?.to_bytes();
        if body != expected.as_bytes() {
            return Err(format!("GET {path}: body {body:?}, expected {expected:?}").into());
        }
        print!("GET {path} -> 200 {}", String::from_utf8_lossy(&body));
    }
    Ok(())
}

#[vigil::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let addr = std::env::args().nth(1);
    let listener = match TcpListener::bind(addr.as_deref().unwrap_or("127.0.0.1:0")).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("bind failed: {err}");
            return ExitCode::FAILURE;
        }
    };
    let local = listener
        .local_addr()
        .expect("a bound listener has an address");

    if addr.is_some() {
        println!("serving on http://{local}");
        serve(listener).await;
        return ExitCode::SUCCESS;
    }

    vigil::spawn(serve(listener));
    match vigil::time::timeout(Duration::from_secs(10), self_test(local)).await {
        Ok(Ok(())) => {
            println!("self-test passed against http://{local}");
            ExitCode::SUCCESS
        }
        Ok(Err(err)) => {
            eprintln!("self-test failed: {err}");
            ExitCode::FAILURE
        }
        Err(_) => {
            eprintln!("self-test timed out");
            ExitCode::FAILURE
        }
    }
}
