//! [`Instant`]: a point on the monotonic clock.
//!
//! It is a thin newtype over [`std::time::Instant`] rather than a re-export so
//! that the runtime keeps room to change what "now" means (for example a
//! paused, manually advanced clock in tests) without breaking users, while
//! converting to and from the standard type stays free.

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::time::Duration;

/// A measurement of the monotonic clock, used for timer deadlines.
///
/// Behaves like [`std::time::Instant`] and converts to and from it at no cost
/// with [`from_std`](Instant::from_std) / [`into_std`](Instant::into_std) or
/// [`From`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    std: std::time::Instant,
}

/// How far in the future a deadline that does not fit is put: about thirty
/// years, which no program waits out, yet far inside the clock's range.
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

impl Instant {
    /// The current time.
    ///
    /// With the `test-util` feature, inside a runtime this is the runtime's
    /// clock, which a test may pause and move (`vigil::time::pause`);
    /// elsewhere, and always without the feature, the system's monotonic
    /// clock.
    pub fn now() -> Instant {
        #[cfg(feature = "test-util")]
        {
            let now = crate::runtime::context::with_driver_handle(|d| d.time.clock.now());
            Instant::from_std(now.unwrap_or_else(std::time::Instant::now))
        }
        #[cfg(not(feature = "test-util"))]
        Instant::from_std(std::time::Instant::now())
    }

    /// Wraps a standard-library instant.
    pub fn from_std(std: std::time::Instant) -> Instant {
        Instant { std }
    }

    /// The standard-library instant this wraps.
    pub fn into_std(self) -> std::time::Instant {
        self.std
    }

    /// Time from `earlier` to `self`; zero if `earlier` is later than `self`.
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }

    /// Time from `earlier` to `self`, or `None` if `earlier` is later.
    pub fn checked_duration_since(&self, earlier: Instant) -> Option<Duration> {
        self.std.checked_duration_since(earlier.std)
    }

    /// Time from `earlier` to `self`; zero if `earlier` is later.
    pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        self.std.saturating_duration_since(earlier.std)
    }

    /// Time passed since `self` (zero if `self` is in the future).
    pub fn elapsed(&self) -> Duration {
        Instant::now().saturating_duration_since(*self)
    }

    /// `self + duration`, or `None` if that is not representable.
    pub fn checked_add(&self, duration: Duration) -> Option<Instant> {
        self.std.checked_add(duration).map(Instant::from_std)
    }

    /// `self - duration`, or `None` if that is not representable.
    pub fn checked_sub(&self, duration: Duration) -> Option<Instant> {
        self.std.checked_sub(duration).map(Instant::from_std)
    }

    /// An instant about thirty years from now: the stand-in for "never".
    pub(crate) fn far_future() -> Instant {
        let now = Instant::now();
        // The fallbacks only matter on a platform whose clock cannot
        // represent thirty years ahead; every step is checked.
        now.checked_add(FAR_FUTURE)
            .or_else(|| now.checked_add(FAR_FUTURE / 30))
            .or_else(|| now.checked_add(Duration::from_secs(86_400)))
            .unwrap_or(now)
    }

    /// `self + duration`, or [`far_future`](Self::far_future) if that
    /// overflows the clock.
    pub(crate) fn saturating_add(self, duration: Duration) -> Instant {
        self.checked_add(duration)
            .unwrap_or_else(|| Instant::far_future().max(self))
    }
}

impl From<std::time::Instant> for Instant {
    fn from(std: std::time::Instant) -> Instant {
        Instant::from_std(std)
    }
}

impl From<Instant> for std::time::Instant {
    fn from(instant: Instant) -> std::time::Instant {
        instant.into_std()
    }
}

/// Panics if the result is not representable, like the standard type; use
/// [`Instant::checked_add`] to avoid that.
impl Add<Duration> for Instant {
    type Output = Instant;

    fn add(self, rhs: Duration) -> Instant {
        Instant::from_std(self.std + rhs)
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, rhs: Duration) {
        *self = *self + rhs;
    }
}

/// Panics if the result is not representable, like the standard type; use
/// [`Instant::checked_sub`] to avoid that.
impl Sub<Duration> for Instant {
    type Output = Instant;

    fn sub(self, rhs: Duration) -> Instant {
        Instant::from_std(self.std - rhs)
    }
}

impl SubAssign<Duration> for Instant {
    fn sub_assign(&mut self, rhs: Duration) {
        *self = *self - rhs;
    }
}

/// Saturates at zero, like [`Instant::duration_since`].
impl Sub<Instant> for Instant {
    type Output = Duration;

    fn sub(self, rhs: Instant) -> Duration {
        self.saturating_duration_since(rhs)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.std.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_and_conversions() {
        let a = Instant::now();
        let b = a + Duration::from_millis(5);
        assert_eq!(b - a, Duration::from_millis(5));
        assert_eq!(a - b, Duration::ZERO);
        assert_eq!(a.checked_duration_since(b), None);
        assert_eq!(b - Duration::from_millis(5), a);
        let mut c = a;
        c += Duration::from_secs(1);
        c -= Duration::from_millis(500);
        assert_eq!(c.duration_since(a), Duration::from_millis(500));
        let s: std::time::Instant = c.into();
        assert_eq!(Instant::from(s), c);
        assert!(a.checked_add(Duration::MAX).is_none());
    }

    #[test]
    fn saturating_add_never_panics() {
        let now = Instant::now();
        let far = now.saturating_add(Duration::MAX);
        assert!(far > now + Duration::from_secs(86_400 * 365 * 20));
        assert_eq!(now.saturating_add(Duration::ZERO), now);
    }
}
