//! [`FileTimes`]: the timestamps [`File::set_times`](super::File::set_times)
//! applies.

use std::time::SystemTime;

/// The access and modification times to set on a file; a time left unset
/// is not changed. Built by chaining, then handed to
/// [`File::set_times`](super::File::set_times).
///
/// vigil keeps its own type rather than taking [`std::fs::FileTimes`] so
/// that the values can be read back (the standard type is opaque), which
/// lets the runtime choose how to apply them.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use vigil::fs::FileTimes;
///
/// let an_hour_ago = SystemTime::now() - Duration::from_secs(3600);
/// let times = FileTimes::new().set_modified(an_hour_ago);
/// assert_eq!(times.modified(), Some(an_hour_ago));
/// assert_eq!(times.accessed(), None);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[must_use = "nothing changes until the times are given to `File::set_times`"]
pub struct FileTimes {
    accessed: Option<SystemTime>,
    modified: Option<SystemTime>,
}

impl FileTimes {
    /// No times: applying it changes nothing.
    pub fn new() -> FileTimes {
        FileTimes::default()
    }

    /// Sets the last access time.
    pub fn set_accessed(mut self, t: SystemTime) -> FileTimes {
        self.accessed = Some(t);
        self
    }

    /// Sets the last modification time.
    pub fn set_modified(mut self, t: SystemTime) -> FileTimes {
        self.modified = Some(t);
        self
    }

    /// The access time to set, if any.
    pub fn accessed(&self) -> Option<SystemTime> {
        self.accessed
    }

    /// The modification time to set, if any.
    pub fn modified(&self) -> Option<SystemTime> {
        self.modified
    }

    /// The standard library's form of the same times.
    pub fn to_std(&self) -> std::fs::FileTimes {
        let mut times = std::fs::FileTimes::new();
        if let Some(t) = self.accessed {
            times = times.set_accessed(t);
        }
        if let Some(t) = self.modified {
            times = times.set_modified(t);
        }
        times
    }
}

impl From<FileTimes> for std::fs::FileTimes {
    fn from(times: FileTimes) -> std::fs::FileTimes {
        times.to_std()
    }
}
