//! Every method of `AsyncReadExt`, `AsyncWriteExt` and `AsyncBufReadExt`.

use std::io::{ErrorKind, IoSlice, IoSliceMut};
use vigil::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

#[test]
fn read_methods() {
    vigil::block_on(async {
        let mut r: &[u8] = b"hello world, hello vigil";
        let mut buf = [0; 5];
        assert_eq!(r.read(&mut buf).await.unwrap(), 5);
        assert_eq!(&buf, b"hello");
        let (mut a, mut b) = ([0; 3], [0; 4]);
        let mut slices = [IoSliceMut::new(&mut a), IoSliceMut::new(&mut b)];
        let n = r.read_vectored(&mut slices).await.unwrap();
        assert!(n >= 3);
        assert_eq!(&a, b" wo");
        assert_eq!(
            r.read_exact(&mut buf).await.unwrap(),
            5,
            "the count, as Tokio"
        );
        let mut rest = Vec::from(&b"<"[..]);
        assert_eq!(r.read_to_end(&mut rest).await.unwrap(), 24 - 5 - n - 5);
        assert!(rest.starts_with(b"<") && rest.ends_with(b"vigil"));
        assert_eq!(r.read(&mut buf).await.unwrap(), 0, "end of file");

        let mut short: &[u8] = b"abc";
        let err = short.read_exact(&mut [0; 4]).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnexpectedEof);

        let mut text = String::from("> ");
        (&b"caf\xc3\xa9"[..])
            .read_to_string(&mut text)
            .await
            .unwrap();
        assert_eq!(text, "> café");
        let err = (&b"\xff\xfe"[..])
            .read_to_string(&mut text)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidData);
        assert_eq!(text, "> café", "unchanged on invalid UTF-8");
    });
}

#[test]
fn take_and_chain() {
    vigil::block_on(async {
        let mut taken = (&b"0123456789"[..]).take(4);
        let mut out = Vec::new();
        taken.read_to_end(&mut out).await.unwrap();
        assert_eq!((&out[..], taken.limit()), (&b"0123"[..], 0));
        taken.set_limit(2);
        out.clear();
        taken.read_to_end(&mut out).await.unwrap();
        assert_eq!(out, b"45");
        assert_eq!(taken.into_inner(), b"6789");

        // Take over a buffered reader limits fill_buf too.
        let mut buffered = BufReader::new(&b"abcdef"[..]).take(3);
        assert_eq!(buffered.fill_buf().await.unwrap(), b"abc");
        buffered.consume(2);
        assert_eq!(buffered.fill_buf().await.unwrap(), b"c");

        let mut chained = (&b"ab"[..]).chain(&b""[..]).chain(&b"cd"[..]);
        let mut s = String::new();
        chained.read_to_string(&mut s).await.unwrap();
        assert_eq!(s, "abcd");
        let mut lines = (&b"one\ntw"[..]).chain(&b"o\nthree"[..]).lines();
        let mut all = Vec::new();
        while let Some(line) = lines.next_line().await.unwrap() {
            all.push(line);
        }
        assert_eq!(all, ["one", "two", "three"]);
    });
}

#[test]
fn write_methods() {
    vigil::block_on(async {
        let mut out = Vec::new();
        assert_eq!(out.write(b"abc").await.unwrap(), 3);
        let n = out
            .write_vectored(&[IoSlice::new(b"de"), IoSlice::new(b"f")])
            .await
            .unwrap();
        assert!(n >= 2);
        out.write_all(b"-all").await.unwrap();
        out.flush().await.unwrap();
        out.shutdown().await.unwrap();
        assert!(out.ends_with(b"-all"));

        let (mut a, mut b) = vigil::io::duplex(4);
        let writer = vigil::spawn(async move {
            a.write_all(b"longer than four bytes").await.unwrap();
            a.shutdown().await.unwrap();
            a.write(b"late").await.unwrap_err().kind()
        });
        let mut got = String::new();
        b.read_to_string(&mut got).await.unwrap();
        assert_eq!(got, "longer than four bytes");
        assert_eq!(writer.await.unwrap(), ErrorKind::BrokenPipe);
    });
}

#[test]
fn buf_read_methods() {
    vigil::block_on(async {
        let mut r = BufReader::with_capacity(4, &b"ab,cd,efgh\r\nlast"[..]);
        assert_eq!(r.fill_buf().await.unwrap(), b"ab,c");
        r.consume(1);
        let mut seg = Vec::new();
        assert_eq!(r.read_until(b',', &mut seg).await.unwrap(), 2);
        assert_eq!(seg, b"b,");
        seg.clear();
        assert_eq!(r.read_until(b',', &mut seg).await.unwrap(), 3);
        let mut line = String::new();
        assert_eq!(r.read_line(&mut line).await.unwrap(), 6);
        assert_eq!(line, "efgh\r\n");
        line.clear();
        assert_eq!(r.read_line(&mut line).await.unwrap(), 4);
        assert_eq!(line, "last", "no newline at end of file");
        assert_eq!(r.read_line(&mut line).await.unwrap(), 0);
        assert_eq!(r.fill_buf().await.unwrap(), b"");

        let mut bad = String::from("keep");
        let err = (&b"\xc3(\n"[..]).read_line(&mut bad).await.unwrap_err();
        assert_eq!((err.kind(), &bad[..]), (ErrorKind::InvalidData, "keep"));

        let mut parts = AsyncBufReadExt::split(&b"x;;y;"[..], b';');
        let mut all = Vec::new();
        while let Some(part) = parts.next_segment().await.unwrap() {
            all.push(part);
        }
        assert_eq!(all, [&b"x"[..], b"", b"y"]);
    });
}

#[test]
fn lines_as_a_stream() {
    use futures_core::Stream;
    use std::pin::Pin;
    vigil::block_on(async {
        let mut lines = (&b"a\r\nb\n\nc"[..]).lines();
        let mut all = Vec::new();
        while let Some(line) = std::future::poll_fn(|cx| Pin::new(&mut lines).poll_next(cx)).await {
            all.push(line.unwrap());
        }
        assert_eq!(all, ["a", "b", "", "c"]);
    });
}

/// `next_line` can be cancelled mid-line and called again without losing
/// bytes; `read_until` keeps its partial record in the caller's buffer.
#[test]
fn next_line_and_read_until_are_cancel_safe() {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};
    vigil::block_on(async {
        let (mut a, b) = vigil::io::duplex(64);
        let mut lines = BufReader::new(b).lines();
        a.write_all(b"hal").await.unwrap();
        {
            let fut = std::pin::pin!(lines.next_line());
            let mut cx = Context::from_waker(Waker::noop());
            assert!(fut.poll(&mut cx).is_pending());
        } // cancelled with "hal" read
        a.write_all(b"f a line\nrest").await.unwrap();
        assert_eq!(
            lines.next_line().await.unwrap().as_deref(),
            Some("half a line")
        );

        let (mut a, b) = vigil::io::duplex(64);
        let mut r = BufReader::new(b);
        let mut record = Vec::new();
        a.write_all(b"par").await.unwrap();
        {
            let fut = std::pin::pin!(r.read_until(b'.', &mut record));
            let mut cx = Context::from_waker(Waker::noop());
            assert!(matches!(fut.poll(&mut cx), Poll::Pending));
        }
        assert_eq!(record, b"par");
        a.write_all(b"tial.").await.unwrap();
        r.read_until(b'.', &mut record).await.unwrap();
        assert_eq!(record, b"partial.");
    });
}
