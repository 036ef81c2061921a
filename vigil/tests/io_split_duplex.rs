//! `split` halves on two threads, and `duplex` end-of-file, `BrokenPipe`
//! and back-pressure.

use std::io::ErrorKind;
use vigil::io::{AsyncReadExt, AsyncWriteExt};

#[test]
fn split_halves_on_two_worker_threads() {
    let rt = vigil::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let (client, server) = vigil::io::duplex(64);
        // Server: echo, through its own split halves.
        let echo = vigil::spawn(async move {
            let (mut rd, mut wr) = vigil::io::split(server);
            vigil::io::copy(&mut rd, &mut wr).await
        });
        let (mut rd, mut wr) = vigil::io::split(client);
        let total = 1 << 20;
        let writer = vigil::spawn(async move {
            let chunk: Vec<u8> = (0..=255).collect();
            for _ in 0..total / chunk.len() {
                wr.write_all(&chunk).await.unwrap();
            }
            wr.shutdown().await.unwrap();
            wr
        });
        let reader = vigil::spawn(async move {
            let mut got = Vec::new();
            rd.read_to_end(&mut got).await.unwrap();
            (rd, got)
        });
        let (rd, got) = reader.await.unwrap();
        let wr = writer.await.unwrap();
        assert_eq!(got.len(), total);
        assert!(got
            .chunks(256)
            .all(|c| c.iter().enumerate().all(|(i, &b)| b == i as u8)));
        assert_eq!(echo.await.unwrap().unwrap(), total as u64);
        assert!(rd.is_pair_of(&wr) && wr.is_pair_of(&rd));
        let mut stream = rd.unsplit(wr);
        assert_eq!(
            stream.write(b"x").await.unwrap_err().kind(),
            ErrorKind::BrokenPipe
        );
    });
}

#[test]
#[should_panic(expected = "different streams")]
fn unsplit_of_strangers_panics() {
    let (a, b) = vigil::io::duplex(1);
    let (rd, _) = vigil::io::split(a);
    let (_, wr) = vigil::io::split(b);
    rd.unsplit(wr);
}

#[test]
fn duplex_shutdown_is_a_half_close() {
    vigil::block_on(async {
        let (mut a, mut b) = vigil::io::duplex(16);
        a.write_all(b"bye").await.unwrap();
        a.shutdown().await.unwrap();
        let mut got = Vec::new();
        b.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"bye");
        assert_eq!(b.read(&mut [0; 4]).await.unwrap(), 0, "end of file stays");
        // The other direction still works.
        b.write_all(b"still here").await.unwrap();
        let mut back = [0; 10];
        a.read_exact(&mut back).await.unwrap();
        assert_eq!(&back, b"still here");
        assert_eq!(
            a.write(b"x").await.unwrap_err().kind(),
            ErrorKind::BrokenPipe
        );
    });
}

#[test]
fn duplex_drop_gives_eof_and_broken_pipe() {
    vigil::block_on(async {
        let (mut a, mut b) = vigil::io::duplex(16);
        b.write_all(b"last words").await.unwrap();
        drop(b);
        let mut got = String::new();
        a.read_to_string(&mut got).await.unwrap();
        assert_eq!(got, "last words", "buffered bytes survive the drop");
        let err = a.write_all(b"hello?").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BrokenPipe);
    });
}

#[test]
fn duplex_backpressure_and_wakeups() {
    vigil::block_on(async {
        let (mut a, mut b) = vigil::io::duplex(5);
        assert_eq!(
            a.write(b"0123456789").await.unwrap(),
            5,
            "only max_buf_size fits"
        );
        let blocked = vigil::spawn(async move {
            a.write_all(b"56789").await.unwrap(); // waits for room
            a
        });
        vigil::task::yield_now().await;
        assert!(!blocked.is_finished());
        let mut buf = [0; 10];
        b.read_exact(&mut buf).await.unwrap(); // wakes the writer as it reads
        assert_eq!(&buf, b"0123456789");
        let mut a = blocked.await.unwrap();
        // A reader waiting on an empty pipe is woken by the write.
        let reader = vigil::spawn(async move {
            let mut one = [0; 1];
            b.read_exact(&mut one).await.map(|n| {
                assert_eq!(n, 1);
                one[0]
            })
        });
        vigil::task::yield_now().await;
        a.write_all(b"!").await.unwrap();
        assert_eq!(reader.await.unwrap().unwrap(), b'!');
        assert!(format!("{a:?}").contains("DuplexStream"));
    });
}
