//! Turns the samples collected from the child processes into the results
//! table and the machine-readable `RESULT` lines.

use crate::measure::{format_ratio, median, ratio, Unit};
use crate::runtimes::{is_current_thread, BASELINE_CT, BASELINE_MT, LIMIT};

/// Every sample of one (suite, case, runtime).
#[derive(Clone, Debug)]
pub struct Series {
    /// Suite name.
    pub suite: String,
    /// Case name.
    pub case: String,
    /// Runtime name.
    pub runtime: String,
    /// Unit of `values`.
    pub unit: Unit,
    /// One value per recorded run.
    pub values: Vec<f64>,
}

/// A (suite, runtime) whose child process failed.
#[derive(Clone, Debug)]
pub struct Failure {
    /// Suite name.
    pub suite: String,
    /// Runtime name.
    pub runtime: String,
    /// What happened (exit status, timeout, ...).
    pub reason: String,
}

/// One reported row.
#[derive(Clone, Debug)]
pub struct Row {
    /// Suite name.
    pub suite: String,
    /// Case name.
    pub case: String,
    /// Runtime name.
    pub runtime: String,
    /// Unit of the values.
    pub unit: Unit,
    /// Median of the runs.
    pub median: f64,
    /// Fastest run.
    pub min: f64,
    /// Slowest run.
    pub max: f64,
    /// Number of runs.
    pub runs: usize,
    /// `median / median of tokio-mt` for the same case.
    pub vs_tokio_mt: Option<f64>,
    /// `median / median of tokio-ct`, for single-threaded runtimes only.
    pub vs_tokio_ct: Option<f64>,
    /// `median / median of std-blocking` (the physical limit), in suites
    /// that measure one (`bulk`).
    pub vs_limit: Option<f64>,
}

/// Computes medians and ratios; keeps the order of `series`.
pub fn rows(series: &[Series]) -> Vec<Row> {
    let med = |suite: &str, case: &str, runtime: &str| {
        series
            .iter()
            .find(|s| s.suite == suite && s.case == case && s.runtime == runtime)
            .and_then(|s| median(&s.values))
    };
    series
        .iter()
        .filter_map(|s| {
            let m = median(&s.values)?;
            let vs_ct = if is_current_thread(&s.runtime) {
                ratio(m, med(&s.suite, &s.case, BASELINE_CT))
            } else {
                None
            };
            Some(Row {
                suite: s.suite.clone(),
                case: s.case.clone(),
                runtime: s.runtime.clone(),
                unit: s.unit,
                median: m,
                min: s.values.iter().copied().fold(f64::INFINITY, f64::min),
                max: s.values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                runs: s.values.len(),
                vs_tokio_mt: ratio(m, med(&s.suite, &s.case, BASELINE_MT)),
                vs_tokio_ct: vs_ct,
                vs_limit: ratio(m, med(&s.suite, &s.case, LIMIT)),
            })
        })
        .collect()
}

/// The aligned results table. The `vs std-blocking` column appears only
/// when some row has that ratio.
pub fn table(rows: &[Row], failures: &[Failure]) -> String {
    let with_limit = rows.iter().any(|r| r.vs_limit.is_some());
    let mut header = vec![
        "suite",
        "case",
        "runtime",
        "median",
        "min",
        "max",
        "runs",
        "vs tokio-mt",
        "vs tokio-ct",
    ];
    if with_limit {
        header.push("vs std-blocking");
    }
    let mut cells: Vec<Vec<String>> = vec![header.iter().map(|s| s.to_string()).collect()];
    let mut last_suite_case = None;
    for r in rows {
        // Print the suite and case only where they change, for readability.
        let key = (r.suite.as_str(), r.case.as_str());
        let (suite, case) = if last_suite_case == Some(key) {
            (String::new(), String::new())
        } else {
            (r.suite.clone(), r.case.clone())
        };
        last_suite_case = Some(key);
        let mut row = vec![
            suite,
            case,
            r.runtime.clone(),
            r.unit.format(r.median),
            r.unit.format(r.min),
            r.unit.format(r.max),
            r.runs.to_string(),
            format_ratio(r.vs_tokio_mt),
            format_ratio(r.vs_tokio_ct),
        ];
        if with_limit {
            row.push(format_ratio(r.vs_limit));
        }
        cells.push(row);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            cells
                .iter()
                .map(|row| row[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for (i, row) in cells.iter().enumerate() {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, cell)| {
                let pad = widths[c] - cell.chars().count();
                // Text columns left-aligned, numbers right-aligned.
                if c < 3 {
                    format!("{cell}{}", " ".repeat(pad))
                } else {
                    format!("{}{cell}", " ".repeat(pad))
                }
            })
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
        if i == 0 {
            let total = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
            out.push_str(&"-".repeat(total));
            out.push('\n');
        }
    }
    for f in failures {
        out.push_str(&format!(
            "FAILED: {} on {}: {}\n",
            f.suite, f.runtime, f.reason
        ));
    }
    out
}

/// One `RESULT suite case runtime median unit vs_tokio_mt vs_tokio_ct` line
/// per row (`-` for a missing ratio), with an eighth field `vs_std_blocking`
/// on rows that have one (`bulk`), then one `FAILED suite runtime reason`
/// line per failure. For rate units (`per_s`, `bytes_per_s`) a ratio above 1
/// is faster; for `ns` and `bytes` below 1 is better.
pub fn result_lines(rows: &[Row], failures: &[Failure]) -> String {
    let r3 = |r: Option<f64>| r.map_or("-".to_string(), |r| format!("{r:.3}"));
    let mut out = String::new();
    for r in rows {
        out.push_str(&format!(
            "RESULT {} {} {} {:.0} {} {} {}",
            r.suite,
            r.case,
            r.runtime,
            r.median,
            r.unit.as_str(),
            r3(r.vs_tokio_mt),
            r3(r.vs_tokio_ct),
        ));
        if r.vs_limit.is_some() {
            out.push_str(&format!(" {}", r3(r.vs_limit)));
        }
        out.push('\n');
    }
    for f in failures {
        out.push_str(&format!("FAILED {} {} {}\n", f.suite, f.runtime, f.reason));
    }
    out
}
