//! `simplex` (a one-way in-memory pipe: order, back-pressure, end of file,
//! writes after shutdown, the cooperative budget) and `join` (a reader and
//! a writer as one stream).

use futures_io::{AsyncBufRead, AsyncRead, AsyncWrite};
use std::io::ErrorKind;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use vigil::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, SimplexStream};

#[test]
fn simplex_carries_bytes_in_order_across_threads() {
    let rt = vigil::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let total = 1 << 20;
    let got = rt.block_on(async move {
        let (mut rx, mut tx) = vigil::io::simplex(100);
        let writer = vigil::spawn(async move {
            let chunk: Vec<u8> = (0..=255).collect();
            for _ in 0..total / chunk.len() {
                tx.write_all(&chunk).await.unwrap();
            }
            tx.shutdown().await.unwrap();
        });
        let mut got = Vec::new();
        rx.read_to_end(&mut got).await.unwrap();
        writer.await.unwrap();
        got
    });
    assert_eq!(got.len(), total);
    assert!(got
        .chunks(256)
        .all(|c| c.iter().enumerate().all(|(i, &b)| b == i as u8)));
}

#[test]
fn simplex_writer_waits_when_full_and_resumes_after_a_read() {
    let mut pipe = SimplexStream::new_unsplit(4);
    let mut cx = Context::from_waker(Waker::noop());
    let mut pipe = Pin::new(&mut pipe);
    assert!(matches!(
        pipe.as_mut().poll_write(&mut cx, b"abcdef"),
        Poll::Ready(Ok(4))
    ));
    assert!(pipe.as_mut().poll_write(&mut cx, b"ef").is_pending());
    let mut buf = [0; 3];
    assert!(matches!(
        pipe.as_mut().poll_read(&mut cx, &mut buf),
        Poll::Ready(Ok(3))
    ));
    assert_eq!(&buf, b"abc");
    assert!(matches!(
        pipe.as_mut().poll_write(&mut cx, b"ef"),
        Poll::Ready(Ok(2))
    ));
    let mut rest = [0; 8];
    assert!(matches!(
        pipe.as_mut().poll_read(&mut cx, &mut rest),
        Poll::Ready(Ok(3))
    ));
    assert_eq!(&rest[..3], b"def");
    // Empty and still open: a reader waits.
    assert!(pipe.as_mut().poll_read(&mut cx, &mut rest).is_pending());
}

#[test]
fn simplex_shutdown_is_end_of_file_and_later_writes_fail() {
    vigil::block_on(async {
        let (mut rx, mut tx) = vigil::io::simplex(64);
        tx.write_all(b"last words").await.unwrap();
        tx.shutdown().await.unwrap();
        let err = tx.write_all(b"more").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BrokenPipe);
        let mut got = String::new();
        rx.read_to_string(&mut got).await.unwrap();
        assert_eq!(got, "last words");
        // End of file again, not a wait.
        let mut buf = [0; 1];
        assert_eq!(rx.read(&mut buf).await.unwrap(), 0);
    });
}

#[test]
fn simplex_reader_waiting_is_woken_by_a_write_from_another_task() {
    vigil::block_on(async {
        let (mut rx, mut tx) = vigil::io::simplex(8);
        let (started_tx, started_rx) = vigil::sync::oneshot::channel();
        let reader = vigil::spawn(async move {
            started_tx.send(()).unwrap();
            let mut buf = [0; 5];
            rx.read_exact(&mut buf).await.unwrap();
            buf
        });
        started_rx.await.unwrap();
        tx.write_all(b"wake!").await.unwrap();
        assert_eq!(&reader.await.unwrap(), b"wake!");
    });
}

#[test]
fn simplex_halves_unsplit_into_one_stream() {
    vigil::block_on(async {
        let (rx, tx) = vigil::io::simplex(16);
        let mut pipe = rx.unsplit(tx);
        pipe.write_all(b"loop").await.unwrap();
        let mut buf = [0; 4];
        pipe.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"loop");
    });
}

#[test]
fn an_always_ready_simplex_loop_yields_to_other_tasks() {
    // Writer and reader in one task never wait on each other (the reader
    // drains what was written); without the budget this loop would hold
    // the only thread until it finished, and the other task's flag would
    // be seen only at the end.
    vigil::block_on(async {
        let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let set = flag.clone();
        vigil::spawn(async move { set.store(true, std::sync::atomic::Ordering::SeqCst) });
        let mut pipe = SimplexStream::new_unsplit(64);
        let mut buf = [0; 64];
        let mut rounds = 0;
        while !flag.load(std::sync::atomic::Ordering::SeqCst) {
            pipe.write_all(&buf).await.unwrap();
            pipe.read_exact(&mut buf).await.unwrap();
            rounds += 1;
            assert!(rounds < 10_000, "the other task never ran");
        }
    });
}

#[test]
#[should_panic(expected = "max_buf_size must be positive")]
fn simplex_of_zero_bytes_panics() {
    let _ = vigil::io::simplex(0);
}

#[test]
fn join_reads_from_the_reader_and_writes_to_the_writer() {
    vigil::block_on(async {
        let (from_peer, mut peer_out) = vigil::io::simplex(64);
        let (mut peer_in, to_peer) = vigil::io::simplex(64);
        let mut stream = vigil::io::join(BufReader::new(from_peer), to_peer);
        stream.write_all(b"question\n").await.unwrap();
        let mut line = String::new();
        BufReader::new(&mut peer_in)
            .read_line(&mut line)
            .await
            .unwrap();
        assert_eq!(line, "question\n");
        peer_out.write_all(b"answer\nrest").await.unwrap();
        peer_out.shutdown().await.unwrap();
        // `Join` is buffered when its reader is.
        line.clear();
        stream.read_line(&mut line).await.unwrap();
        assert_eq!(line, "answer\n");
        let buffered = std::future::poll_fn(|cx| {
            Pin::new(&mut stream)
                .poll_fill_buf(cx)
                .map_ok(|b| b.to_vec())
        })
        .await
        .unwrap();
        assert_eq!(buffered, b"rest");
        // Shutting the joined stream down shuts the writer down only.
        stream.shutdown().await.unwrap();
        let mut rest = Vec::new();
        peer_in.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
        let (mut reader, _writer) = stream.into_inner();
        let mut tail = String::new();
        reader.read_to_string(&mut tail).await.unwrap();
        assert_eq!(tail, "rest");
    });
}

#[test]
fn join_accessors_reach_the_parts() {
    let (rx, tx) = vigil::io::simplex(8);
    let mut joined = vigil::io::join(rx, tx);
    assert!(joined.reader().is_pair_of(joined.writer()));
    assert!(!joined.reader_mut().is_pair_of(&vigil::io::simplex(1).1));
    let _ = joined.writer_mut();
    let mut joined = Box::pin(joined);
    let _: Pin<&mut vigil::io::ReadHalf<SimplexStream>> = joined.as_mut().reader_pin_mut();
    let _: Pin<&mut vigil::io::WriteHalf<SimplexStream>> = joined.as_mut().writer_pin_mut();
}
