//! Asynchronous I/O: the traits, extension methods, buffers, pipes and copy
//! loops.
//!
//! vigil's I/O types implement the [`futures_io`] traits, re-exported here:
//! [`AsyncRead`], [`AsyncWrite`], [`AsyncBufRead`] and [`AsyncSeek`], so
//! they work with the wider ecosystem, and ecosystem streams work with the
//! helpers here. The extension traits [`AsyncReadExt`], [`AsyncWriteExt`],
//! [`AsyncBufReadExt`] and [`AsyncSeekExt`] add `async` methods
//! (`read_exact`, `write_all`, `read_line`, `lines`, `seek`, ...); [`BufReader`] and [`BufWriter`] add buffers;
//! [`split`] gives a stream's halves to two tasks and [`join`] makes one
//! stream of a reader and a writer; [`duplex`] is an in-memory socket pair
//! and [`simplex`] an in-memory one-way pipe; [`copy`] and [`copy_bidirectional`] pump bytes, the latter
//! being the heart of a proxy. [`stdin`], [`stdout`] and [`stderr`] are the
//! process's standard streams; [`unix::AsyncFd`] brings any other
//! non-blocking descriptor into the reactor.
//!
//! ```
//! use vigil::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
//!
//! # vigil::block_on(async {
//! let (mut client, server) = vigil::io::duplex(1024);
//! vigil::spawn(async move {
//!     let (read, mut write) = vigil::io::split(server);
//!     let mut lines = BufReader::new(read).lines();
//!     while let Some(line) = lines.next_line().await? {
//!         write.write_all(line.to_uppercase().as_bytes()).await?;
//!         write.write_all(b"\n").await?;
//!     }
//!     Ok::<_, std::io::Error>(())
//! });
//! client.write_all(b"hello\n").await?;
//! let mut reply = String::new();
//! BufReader::new(&mut client).read_line(&mut reply).await?;
//! assert_eq!(reply, "HELLO\n");
//! # Ok::<_, std::io::Error>(()) }).unwrap();
//! ```
//!
//! # The contract, and how the helpers defend it
//!
//! A `poll_read`/`poll_write` returns `Pending` only after arranging for the
//! task to be woken, and every `Ready` it returns makes progress: bytes
//! moved, end of file, or a real error. A caller keeps polling while it gets
//! `Ready` and stops at `Pending`. Streams that break this turn a loop such
//! as `write_all` into a busy loop that never yields, the worst kind of hang
//! to diagnose. So every loop in this module (`read_exact`, `read_to_end`,
//! `read_to_string`, `read_until`, `read_line`, `lines`, `write_all`,
//! `write_all_buf`, `flush`, `shutdown`, `copy`, `copy_buf`,
//! `copy_bidirectional`, and `BufWriter`'s flush) judges each result
//! through one small guard:
//!
//! * `Err(Interrupted)` is retried, as in `std`, but at most 64 times in a
//!   row; then the error says the stream keeps being interrupted.
//! * `Ok(0)` from `poll_write` of a non-empty buffer is a `WriteZero` error
//!   at once: the writer can take nothing more, and asking again would spin.
//! * `Ready(Err(WouldBlock))` is a contract violation (not ready must be
//!   `Pending`); it is retried at most 64 times in a row, then the error
//!   names it.
//! * A read that claims more bytes than the buffer holds is `InvalidData`
//!   rather than a panic.
//!
//! The guard's own errors have kind `Other`, so a caller that retries
//! `Interrupted` does not start the spin again. Single-operation futures
//! (`read`, `read_buf`, `write`, `write_buf`, `fill_buf`) pass results
//! through unchanged.
//!
//! # Cooperative budget
//!
//! A stream can also be correct and still always ready: an in-memory pipe,
//! [`repeat`], a socket with a full buffer. A loop over it completes inside
//! one poll for as long as the data lasts, and the other tasks on its thread
//! (and its timers) wait. So every loop here spends one unit of the task's
//! budget per read or write it completes, and yields (wakes itself and
//! returns `Pending`) when the budget is spent; [`DuplexStream`],
//! [`SimplexStream`], [`empty`],
//! [`sink`] and [`repeat`] spend it on each operation too. The state of the
//! loop is kept, so the next poll carries on where it stopped.
//!
//! # Cancel safety
//!
//! Each `async` method documents what happens if its future is dropped
//! before it completes (in a `select!`, or on a timeout). In short: `read`,
//! `read_buf`, `write`, `write_buf`, `fill_buf`, `read_until` and
//! [`Lines::next_line`] lose nothing, and `write_all_buf` leaves its buffer
//! advanced by exactly what was written;
//! `read_exact`, `read_to_string`, `read_line`, `write_all`, `copy` and
//! `copy_bidirectional` may lose or partly perform work.

mod buf_reader;
mod buf_stream;
mod buf_writer;
mod copy;
mod copy_bidirectional;
mod duplex;
pub(crate) mod guard;
mod join;
mod pipe;
mod simplex;
pub(crate) mod spare;
mod splice;
mod split;
mod stdio;
mod trivial;
pub mod unix;
pub mod util;

pub use futures_io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};
pub use std::io::{Error, ErrorKind, Result, SeekFrom};

pub use crate::driver::io::{Interest, Ready};
pub use buf_reader::BufReader;
pub use buf_stream::BufStream;
pub use buf_writer::BufWriter;
pub use copy::{copy, copy_buf};
pub use copy_bidirectional::{copy_bidirectional, copy_bidirectional_with_sizes};
pub use duplex::{duplex, DuplexStream};
pub use join::{join, Join};
pub use simplex::{simplex, SimplexStream};
pub use split::{split, ReadHalf, WriteHalf};
pub use stdio::{stderr, stdin, stdout, Stderr, Stdin, Stdout};
pub use trivial::{empty, repeat, sink, Empty, Repeat, Sink};
pub use util::{AsyncBufReadExt, AsyncReadExt, AsyncSeekExt, AsyncWriteExt, Lines, Split, Take};

/// A seek started through Tokio's two-step `AsyncSeek` on a buffered type
/// (feature `tokio-io`); without the feature, a field of no size.
#[cfg(feature = "tokio-io")]
type PendingSeek = Option<SeekFrom>;
#[cfg(not(feature = "tokio-io"))]
type PendingSeek = ();
