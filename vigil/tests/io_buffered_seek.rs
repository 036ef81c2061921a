//! Seeking through `BufReader`, `BufWriter` and `BufStream`: positions as
//! the caller sees them, the read buffer kept for seeks that land inside it,
//! pending writes written out first, and an inner seek that returns
//! `Pending` before it completes.

use std::io::{self, SeekFrom};
use std::pin::Pin;
use std::task::{Context, Poll};
use vigil::io::{AsyncRead, AsyncReadExt, AsyncSeek, AsyncSeekExt, AsyncWrite, AsyncWriteExt};
use vigil::io::{BufReader, BufStream, BufWriter};

/// An in-memory file that records the calls reaching it. With `hesitant`,
/// every seek returns `Pending` once before it is performed.
#[derive(Default)]
struct MemFile {
    data: Vec<u8>,
    pos: usize,
    reads: usize,
    seeks: Vec<SeekFrom>,
    hesitant: bool,
    hesitated: bool,
}

impl MemFile {
    fn with(data: &[u8]) -> MemFile {
        MemFile {
            data: data.to_vec(),
            ..MemFile::default()
        }
    }
}

impl AsyncRead for MemFile {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let me = &mut *self;
        let rest = me.data.get(me.pos..).unwrap_or_default();
        let n = buf.len().min(rest.len());
        buf[..n].copy_from_slice(&rest[..n]);
        me.pos += n;
        me.reads += 1;
        Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for MemFile {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let me = &mut *self;
        let end = me.pos + buf.len();
        if me.data.len() < end {
            me.data.resize(end, 0);
        }
        me.data[me.pos..end].copy_from_slice(buf);
        me.pos = end;
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl AsyncSeek for MemFile {
    fn poll_seek(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        let me = &mut *self;
        if me.hesitant && !me.hesitated {
            me.hesitated = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        me.hesitated = false;
        me.seeks.push(pos);
        let (base, offset) = match pos {
            SeekFrom::Start(n) => (0, n as i128),
            SeekFrom::End(n) => (me.data.len() as i128, n as i128),
            SeekFrom::Current(n) => (me.pos as i128, n as i128),
        };
        let target = base + offset;
        if target < 0 {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start",
            )));
        }
        me.pos = target as usize;
        Poll::Ready(Ok(me.pos as u64))
    }
}

async fn read_n<R: AsyncRead + Unpin>(reader: &mut R, n: usize) -> Vec<u8> {
    let mut out = vec![0; n];
    reader.read_exact(&mut out).await.unwrap();
    out
}

fn reader_seeks(hesitant: bool) {
    vigil::block_on(async {
        let mut file = MemFile::with(b"0123456789");
        file.hesitant = hesitant;
        let mut reader = BufReader::with_capacity(4, file);
        assert_eq!(read_n(&mut reader, 3).await, b"012");
        assert_eq!(reader.get_ref().reads, 1);

        // Inside the buffer: positions come from the inner file's, less
        // what is still buffered, and the buffer stays.
        assert_eq!(reader.stream_position().await.unwrap(), 3);
        assert_eq!(reader.seek(SeekFrom::Current(-2)).await.unwrap(), 1);
        assert_eq!(read_n(&mut reader, 3).await, b"123");
        assert_eq!(reader.get_ref().reads, 1, "no refill for in-buffer seeks");

        // Beyond the buffer: one inner seek, corrected by the unread bytes.
        assert_eq!(reader.seek(SeekFrom::Current(3)).await.unwrap(), 7);
        assert_eq!(read_n(&mut reader, 2).await, b"78");
        assert_eq!(reader.seek(SeekFrom::Start(2)).await.unwrap(), 2);
        assert_eq!(read_n(&mut reader, 1).await, b"2");
        assert_eq!(reader.seek(SeekFrom::End(-1)).await.unwrap(), 9);
        assert_eq!(read_n(&mut reader, 1).await, b"9");
    });
}

#[test]
fn buf_reader_seeks_from_the_callers_position() {
    reader_seeks(false);
}

#[test]
fn buf_reader_seeks_survive_an_inner_pending() {
    reader_seeks(true);
}

#[test]
fn buf_reader_seek_whose_offset_would_overflow_steps_back_first() {
    vigil::block_on(async {
        let mut file = MemFile::with(b"0123456789");
        file.hesitant = true;
        let mut reader = BufReader::with_capacity(4, file);
        assert_eq!(read_n(&mut reader, 1).await, b"0");
        // `i64::MIN - 3` (three bytes unread) overflows: the reader first
        // steps the inner file back to the caller's position, then seeks.
        let err = reader.seek(SeekFrom::Current(i64::MIN)).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(
            reader.get_ref().seeks[..],
            [SeekFrom::Current(-3), SeekFrom::Current(i64::MIN)]
        );
        // The failed seek moved nothing: reading goes on where it was.
        assert_eq!(reader.stream_position().await.unwrap(), 1);
        assert_eq!(read_n(&mut reader, 2).await, b"12");
    });
}

#[test]
fn buf_writer_writes_out_before_it_seeks() {
    vigil::block_on(async {
        let mut writer = BufWriter::new(MemFile::default());
        writer.write_all(b"abcdef").await.unwrap();
        assert!(writer.get_ref().data.is_empty(), "still buffered");
        assert_eq!(writer.seek(SeekFrom::Start(1)).await.unwrap(), 1);
        assert_eq!(writer.get_ref().data, b"abcdef");
        writer.write_all(b"XY").await.unwrap();
        assert_eq!(writer.stream_position().await.unwrap(), 3);
        writer.flush().await.unwrap();
        assert_eq!(writer.get_ref().data, b"aXYdef");
    });
}

#[test]
fn buf_stream_over_a_file_writes_seeks_and_reads_back() {
    let path = std::env::temp_dir().join(format!("vigil-buf-seek-{}", std::process::id()));
    vigil::block_on(async {
        let file = vigil::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .await
            .unwrap();
        let mut stream = BufStream::new(file);
        stream.write_all(b"hello, file").await.unwrap();
        assert_eq!(stream.seek(SeekFrom::Start(7)).await.unwrap(), 7);
        let mut rest = String::new();
        stream.read_to_string(&mut rest).await.unwrap();
        assert_eq!(rest, "file");
        assert_eq!(stream.rewind().await.unwrap(), 0);
        assert_eq!(read_n(&mut stream, 5).await, b"hello");
        assert_eq!(stream.stream_position().await.unwrap(), 5);
    });
    assert_eq!(std::fs::read(&path).unwrap(), b"hello, file");
    std::fs::remove_file(&path).unwrap();
}
