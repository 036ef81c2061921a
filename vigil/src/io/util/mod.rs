//! The futures and adapters returned by the extension traits
//! ([`AsyncReadExt`], [`AsyncWriteExt`], [`AsyncBufReadExt`], [`AsyncSeekExt`]).
//!
//! You rarely name these types: `.await` the method call instead. They are
//! public so that they can be stored in structs and named in signatures.

mod buf_read;
mod chain;
mod lines;
mod numbers;
mod read;
mod seek;
mod take;
mod write;

pub use buf_read::{AsyncBufReadExt, FillBuf, ReadLine, ReadUntil};
pub use chain::Chain;
pub use lines::{Lines, Split};
pub use numbers::{ReadNumber, WriteNumber};
pub use read::{AsyncReadExt, Read, ReadBuf, ReadExact, ReadToEnd, ReadToString, ReadVectored};
pub use seek::{AsyncSeekExt, Seek};
pub use take::Take;
pub use write::{
    AsyncWriteExt, Flush, Shutdown, Write, WriteAll, WriteAllBuf, WriteBuf, WriteVectored,
};

pub(crate) use write::{poll_close_guarded, poll_flush_guarded};
