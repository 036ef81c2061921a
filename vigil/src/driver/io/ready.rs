//! What a descriptor can do now ([`Ready`]) and what a caller waits for
//! ([`Interest`]).

use crate::sys::epoll;
use std::fmt;
use std::ops;

/// Readiness of an I/O resource, as last reported by the OS.
///
/// A set of flags: combine with `|`, intersect with `&`, remove with `-`.
/// The order (`Ord`) is that of the underlying bits, useful only for
/// keeping readiness in sorted collections.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
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

impl ops::BitOrAssign for Ready {
    fn bitor_assign(&mut self, rhs: Ready) {
        self.0 |= rhs.0;
    }
}

impl ops::BitAnd for Ready {
    type Output = Ready;
    fn bitand(self, rhs: Ready) -> Ready {
        Ready(self.0 & rhs.0)
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
///
/// Each interest also covers the closing of its side (`READABLE` wakes on
/// the peer's end of stream too), and every interest is woken by an error.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Interest(u8);

/// The bits a caller names; the closed-side bits follow from them.
const NAMED: u8 = READABLE | WRITABLE | PRIORITY | ERROR;

impl Interest {
    /// Wait until readable (or the read side closed).
    pub const READABLE: Interest = Interest(READABLE | READ_CLOSED);
    /// Wait until writable (or the write side closed).
    pub const WRITABLE: Interest = Interest(WRITABLE | WRITE_CLOSED);
    /// Wait for priority data.
    pub const PRIORITY: Interest = Interest(PRIORITY | READ_CLOSED);
    /// Wait for an error condition only. Errors are reported with every
    /// other interest anyway; this is for waiting on nothing else (for
    /// example the error queue of a socket).
    pub const ERROR: Interest = Interest(ERROR);

    /// The interest in exactly the `named` bits, with their closed sides.
    const fn from_named(named: u8) -> Interest {
        let mut bits = named;
        if named & (READABLE | PRIORITY) != 0 {
            bits |= READ_CLOSED;
        }
        if named & WRITABLE != 0 {
            bits |= WRITE_CLOSED;
        }
        Interest(bits)
    }

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

    /// `true` if this includes [`Interest::ERROR`].
    pub const fn is_error(self) -> bool {
        self.0 & ERROR != 0
    }

    /// `self` without the interests in `other`, or `None` if nothing is
    /// left (`READABLE | WRITABLE` minus `WRITABLE` is `READABLE`).
    pub const fn remove(self, other: Interest) -> Option<Interest> {
        let named = self.0 & !other.0 & NAMED;
        if named == 0 {
            None
        } else {
            Some(Interest::from_named(named))
        }
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

impl ops::BitOrAssign for Interest {
    fn bitor_assign(&mut self, rhs: Interest) {
        *self = self.add(rhs);
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
        if self.is_error() {
            parts.push("ERROR");
        }
        f.write_str(&parts.join(" | "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removing_an_interest_keeps_the_closed_side_of_what_is_left() {
        let both = Interest::READABLE | Interest::PRIORITY;
        assert_eq!(both.remove(Interest::PRIORITY), Some(Interest::READABLE));
        assert_eq!(both.remove(Interest::READABLE), Some(Interest::PRIORITY));
        let rw = Interest::READABLE | Interest::WRITABLE;
        assert_eq!(rw.remove(Interest::WRITABLE), Some(Interest::READABLE));
        assert_eq!(Interest::WRITABLE.remove(Interest::WRITABLE), None);
        assert_eq!(
            Interest::ERROR.remove(Interest::READABLE),
            Some(Interest::ERROR)
        );
        let mut grown = Interest::READABLE;
        grown |= Interest::ERROR;
        assert!(grown.is_readable() && grown.is_error() && !grown.is_writable());
        assert_eq!(format!("{grown:?}"), "READABLE | ERROR");
    }

    #[test]
    fn an_error_interest_sees_only_errors() {
        let ready = Ready::READABLE | Ready::WRITABLE;
        assert!(ready.intersection(Interest::ERROR).is_empty());
        assert!((ready | Ready::ERROR)
            .intersection(Interest::ERROR)
            .is_error());
    }

    #[test]
    fn ready_sets_combine() {
        let mut ready = Ready::READABLE;
        ready |= Ready::WRITABLE;
        assert_eq!(ready & Ready::WRITABLE, Ready::WRITABLE);
        assert!((ready & Ready::ERROR).is_empty());
        assert!(Ready::EMPTY < Ready::READABLE);
    }
}
