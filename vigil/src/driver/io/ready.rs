//! What a descriptor can do now ([`Ready`]) and what a caller waits for
//! ([`Interest`]).

use crate::sys::epoll;
use std::fmt;
use std::ops;

/// Readiness of an I/O resource, as last reported by the OS.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Ready(u8);

const READABLE: u8 = 0b00_0001;
const WRITABLE: u8 = 0b00_0010;
const READ_CLOSED: u8 = 0b00_0100;
const WRITE_CLOSED: u8 = 0b00_1000;
const ERROR: u8 = 0b01_0000;
const PRIORITY: u8 = 0b10_0000;

impl Ready {
    /// Nothing is ready.
    pub const EMPTY: Ready = Ready(0);
    /// Data (or a connection) can be read.
    pub const READABLE: Ready = Ready(READABLE);
    /// Data can be written.
    pub const WRITABLE: Ready = Ready(WRITABLE);
    /// The peer closed its writing side: reads will return end of file.
    pub const READ_CLOSED: Ready = Ready(READ_CLOSED);
    /// Writing is no longer possible.
    pub const WRITE_CLOSED: Ready = Ready(WRITE_CLOSED);
    /// An error is pending on the descriptor.
    pub const ERROR: Ready = Ready(ERROR);
    /// Urgent (priority) data can be read.
    pub const PRIORITY: Ready = Ready(PRIORITY);
    /// Everything.
    pub const ALL: Ready =
        Ready(READABLE | WRITABLE | READ_CLOSED | WRITE_CLOSED | ERROR | PRIORITY);

    pub(crate) fn from_epoll(events: u32) -> Ready {
        let mut ready = 0;
        if events & epoll::READABLE != 0 {
            ready |= READABLE;
        }
        if events & epoll::WRITABLE != 0 {
            ready |= WRITABLE;
        }
        if events & epoll::READ_CLOSED != 0 {
            ready |= READ_CLOSED;
        }
        if events & epoll::HUP != 0 {
            ready |= READ_CLOSED | WRITE_CLOSED;
        }
        if events & epoll::ERROR != 0 {
            ready |= ERROR;
        }
        if events & epoll::PRIORITY != 0 {
            ready |= PRIORITY;
        }
        Ready(ready)
    }

    pub(crate) fn from_bits(bits: u8) -> Ready {
        Ready(bits & Ready::ALL.0)
    }

    pub(crate) fn bits(self) -> u8 {
        self.0
    }

    /// `true` if nothing is ready.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// `true` if readable.
    pub fn is_readable(self) -> bool {
        self.0 & (READABLE | READ_CLOSED) != 0
    }
    /// `true` if writable.
    pub fn is_writable(self) -> bool {
        self.0 & (WRITABLE | WRITE_CLOSED) != 0
    }
    /// `true` if the read side is closed.
    pub fn is_read_closed(self) -> bool {
        self.0 & READ_CLOSED != 0
    }
    /// `true` if the write side is closed.
    pub fn is_write_closed(self) -> bool {
        self.0 & WRITE_CLOSED != 0
    }
    /// `true` if an error is pending.
    pub fn is_error(self) -> bool {
        self.0 & ERROR != 0
    }
    /// `true` if priority data is ready.
    pub fn is_priority(self) -> bool {
        self.0 & PRIORITY != 0
    }

    /// The part of `self` relevant to `interest`. An error concerns every
    /// interest.
    pub(crate) fn intersection(self, interest: Interest) -> Ready {
        Ready(self.0 & (interest.mask() | ERROR))
    }

    /// Readiness that stays until the descriptor is gone (closed sides).
    pub(crate) fn sticky(self) -> Ready {
        Ready(self.0 & (READ_CLOSED | WRITE_CLOSED))
    }
}

impl ops::BitOr for Ready {
    type Output = Ready;
    fn bitor(self, rhs: Ready) -> Ready {
        Ready(self.0 | rhs.0)
    }
}

impl ops::Sub for Ready {
    type Output = Ready;
    fn sub(self, rhs: Ready) -> Ready {
        Ready(self.0 & !rhs.0)
    }
}

impl fmt::Debug for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ready")
            .field("readable", &(self.0 & READABLE != 0))
            .field("writable", &(self.0 & WRITABLE != 0))
            .field("read_closed", &self.is_read_closed())
            .field("write_closed", &self.is_write_closed())
            .field("error", &self.is_error())
            .field("priority", &self.is_priority())
            .finish()
    }
}

/// What readiness a caller waits for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Interest(u8);

impl Interest {
    /// Wait until readable (or the read side closed).
    pub const READABLE: Interest = Interest(READABLE | READ_CLOSED);
    /// Wait until writable (or the write side closed).
    pub const WRITABLE: Interest = Interest(WRITABLE | WRITE_CLOSED);
    /// Wait for priority data.
    pub const PRIORITY: Interest = Interest(PRIORITY | READ_CLOSED);

    /// Both interests.
    pub const fn add(self, other: Interest) -> Interest {
        Interest(self.0 | other.0)
    }

    /// `true` if this includes readability.
    pub const fn is_readable(self) -> bool {
        self.0 & READABLE != 0
    }

    /// `true` if this includes writability.
    pub const fn is_writable(self) -> bool {
        self.0 & WRITABLE != 0
    }

    /// `true` if this includes priority data.
    pub const fn is_priority(self) -> bool {
        self.0 & PRIORITY != 0
    }

    fn mask(self) -> u8 {
        self.0
    }
}

impl ops::BitOr for Interest {
    type Output = Interest;
    fn bitor(self, rhs: Interest) -> Interest {
        self.add(rhs)
    }
}

impl fmt::Debug for Interest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if self.is_readable() {
            parts.push("READABLE");
        }
        if self.is_writable() {
            parts.push("WRITABLE");
        }
        if self.is_priority() {
            parts.push("PRIORITY");
        }
        f.write_str(&parts.join(" | "))
    }
}
