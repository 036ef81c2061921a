//! Measurement helpers: timing, medians, ratios, RSS, and number formatting.
//! Everything that turns raw samples into reported numbers lives here.

use std::time::Duration;

/// What a sample measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Nanoseconds (elapsed time, or lateness of a timer).
    Ns,
    /// Bytes (per task, in the memory suite).
    Bytes,
    /// Operations per second (round trips, requests, connections): a rate,
    /// so a ratio above 1 means faster than the baseline.
    PerSec,
    /// Bytes per second, shown as GiB/s: a rate, above 1 is faster.
    BytesPerSec,
    /// A plain count (e.g. how many connections a run used).
    Count,
}

impl Unit {
    /// The unit's name in `SAMPLE`/`RESULT` lines.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Ns => "ns",
            Unit::Bytes => "bytes",
            Unit::PerSec => "per_s",
            Unit::BytesPerSec => "bytes_per_s",
            Unit::Count => "count",
        }
    }

    /// Parses [`Unit::as_str`]'s output.
    pub fn parse(s: &str) -> Option<Unit> {
        match s {
            "ns" => Some(Unit::Ns),
            "bytes" => Some(Unit::Bytes),
            "per_s" => Some(Unit::PerSec),
            "bytes_per_s" => Some(Unit::BytesPerSec),
            "count" => Some(Unit::Count),
            _ => None,
        }
    }

    /// `value` in this unit, human-readable.
    pub fn format(self, value: f64) -> String {
        match self {
            Unit::Ns => format_ns(value),
            Unit::Bytes => format!("{value:.0} B"),
            Unit::PerSec => format_rate(value),
            Unit::BytesPerSec => format!("{:.2} GiB/s", value / (1u64 << 30) as f64),
            Unit::Count => format!("{value:.0}"),
        }
    }
}

/// One observation of one case in one run.
#[derive(Clone, Debug)]
pub struct Sample {
    /// The case within the suite, e.g. `inside` or `lateness_p99`.
    pub case: &'static str,
    /// What `value` is.
    pub unit: Unit,
    /// The value.
    pub value: f64,
}

impl Sample {
    /// A sample of any unit.
    pub fn new(case: &'static str, unit: Unit, value: f64) -> Sample {
        Sample { case, unit, value }
    }

    /// A duration sample.
    pub fn time(case: &'static str, d: Duration) -> Sample {
        Sample {
            case,
            unit: Unit::Ns,
            value: d.as_nanos() as f64,
        }
    }
}

/// The median of `values` (mean of the middle two for an even count).
/// `None` for an empty slice.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    })
}

/// `value / baseline`: above 1 means slower (or bigger) than the baseline.
/// `None` when the baseline is missing or zero.
pub fn ratio(value: f64, baseline: Option<f64>) -> Option<f64> {
    match baseline {
        Some(b) if b > 0.0 => Some(value / b),
        _ => None,
    }
}

/// A ratio for the table: `1.23x`, or `-` when there is none.
pub fn format_ratio(r: Option<f64>) -> String {
    match r {
        Some(r) => format!("{r:.2}x"),
        None => "-".to_string(),
    }
}

/// Nanoseconds, scaled to ns/µs/ms/s with three significant-ish digits.
pub fn format_ns(ns: f64) -> String {
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{:.1} µs", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.3} s", ns / 1e9)
    }
}

/// Operations per second, scaled to /s, k/s or M/s.
pub fn format_rate(per_s: f64) -> String {
    if per_s < 1e4 {
        format!("{per_s:.0}/s")
    } else if per_s < 1e7 {
        format!("{:.1}k/s", per_s / 1e3)
    } else {
        format!("{:.2}M/s", per_s / 1e6)
    }
}

/// CPU time (user + system) this process has used so far, from
/// `getrusage(RUSAGE_SELF)`.
pub fn cpu_time() -> Duration {
    // SAFETY: `getrusage` fills the zeroed struct it is given.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
        ru
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// The resident set size of this process in bytes, from `/proc/self/statm`.
pub fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("read /proc/self/statm");
    let resident_pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("parse /proc/self/statm");
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    resident_pages * page.max(1) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_odd_even_empty() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn ratios() {
        assert_eq!(ratio(3.0, Some(2.0)), Some(1.5));
        assert_eq!(ratio(3.0, Some(0.0)), None);
        assert_eq!(ratio(3.0, None), None);
        assert_eq!(format_ratio(Some(1.5)), "1.50x");
    }

    #[test]
    fn formats() {
        assert_eq!(format_ns(12.0), "12 ns");
        assert_eq!(format_ns(1_500.0), "1.5 µs");
        assert_eq!(format_ns(2_500_000.0), "2.50 ms");
        assert_eq!(format_ns(3_000_000_000.0), "3.000 s");
        assert_eq!(format_rate(123_456.0), "123.5k/s");
        assert_eq!(
            Unit::BytesPerSec.format(2.0 * (1u64 << 30) as f64),
            "2.00 GiB/s"
        );
        for u in [
            Unit::Ns,
            Unit::Bytes,
            Unit::PerSec,
            Unit::BytesPerSec,
            Unit::Count,
        ] {
            assert_eq!(Unit::parse(u.as_str()), Some(u));
        }
    }

    #[test]
    fn rss_is_positive() {
        assert!(rss_bytes() > 0);
    }
}
