//! `vigil-bench`: compares vigil's schedulers with Tokio's and smol's.
//!
//! ```text
//! cargo run --release -p vigil-bench -- [SUITE...] [--runs N] [--workers N]
//!                                       [--quick] [--runtimes a,b,..] [--timeout SECS]
//! ```
//!
//! With no suite named, every suite runs. Every measurement runs in a child
//! process (this binary re-executed with a hidden `__child` argument) that
//! builds one runtime, does one warm-up iteration and one recorded one, so
//! that runtimes do not share an allocator's state, a hung or crashing
//! runtime is reported (after `--timeout`) instead of taking the harness
//! down, and the memory suite gets a clean process per measurement. Runs
//! are interleaved: round 1 on every runtime, then round 2, and so on, so
//! noise from other processes spreads over all runtimes. The child prints
//! `SAMPLE case unit value` lines; this process collects them, takes the
//! median of each, and prints a table and `RESULT` lines.
//!
//! Layout: [`runtimes`] abstracts the runtimes, [`sync`] holds the
//! runtime-neutral signal and channel, [`measure`] the medians, ratios and
//! RSS reading, [`report`] the output, and [`suites`] one module per suite.

mod measure;
mod report;
mod runtimes;
mod suites;
mod sync;

use measure::Unit;
use report::{Failure, Series};
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};
use suites::Params;

const USAGE: &str = "\
usage: vigil-bench [SUITE...] [options]

suites: spawn_many ping_pong yield_many chained_spawn timers sync memory
        echo bulk churn idle http fs process (default: all)

options:
  --runs N          recorded runs per measurement, median reported (default 5, 3 with --quick)
  --workers N       worker threads of every multi-thread runtime (default 2)
  --quick           ~10x smaller workloads and no warm-up: a fast smoke test
  --runtimes LIST   comma-separated subset of: vigil-mt,vigil-ct,tokio-mt,tokio-ct,smol-mt,smol-local
                    (also vigil-mt-nowd,vigil-ct-nowd: vigil with its watchdog off)
  --timeout SECS    kill a (suite, runtime) child after this long (default 300, 60 with --quick)
  -h, --help        this text
";

/// Parsed command line.
struct Options {
    suites: Vec<String>,
    runtimes: Vec<String>,
    params: Params,
    timeout: Duration,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut suites = Vec::new();
    let mut runtimes: Vec<String> = runtimes::ALL.iter().map(|s| s.to_string()).collect();
    let mut runs = None;
    let mut workers = 2;
    let mut quick = false;
    let mut timeout = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        let positive = |name: &str, v: String| match v.parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!("{name} needs a positive integer, got {v:?}")),
        };
        match arg.as_str() {
            "--runs" => runs = Some(positive("--runs", value("--runs")?)?),
            "--workers" => workers = positive("--workers", value("--workers")?)?,
            "--timeout" => timeout = Some(positive("--timeout", value("--timeout")?)?),
            "--quick" => quick = true,
            "--runtimes" => {
                runtimes = value("--runtimes")?
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .collect();
                if let Some(bad) = runtimes.iter().find(|r| !runtimes::is_known(r)) {
                    return Err(format!("unknown runtime {bad:?}"));
                }
            }
            s if suites::ALL.contains(&s) => suites.push(s.to_string()),
            s => return Err(format!("unknown argument {s:?}")),
        }
    }
    if suites.is_empty() {
        suites = suites::ALL.iter().map(|s| s.to_string()).collect();
    }
    let runs = runs.unwrap_or(if quick { 3 } else { 5 });
    let timeout = timeout.unwrap_or(if quick { 60 } else { 300 });
    Ok(Options {
        suites,
        runtimes,
        params: Params {
            runs,
            workers,
            quick,
        },
        timeout: Duration::from_secs(timeout as u64),
    })
}

/// The arguments that make a child reproduce `params`.
fn child_args(suite: &str, runtime: &str, params: &Params) -> Vec<String> {
    let mut args = vec![
        "__child".to_string(),
        suite.to_string(),
        runtime.to_string(),
        "--runs".to_string(),
        params.runs.to_string(),
        "--workers".to_string(),
        params.workers.to_string(),
    ];
    if params.quick {
        args.push("--quick".to_string());
    }
    args
}

/// Child mode: run one suite on one runtime and print its samples.
fn child(args: &[String]) -> ExitCode {
    let (suite, runtime) = match args {
        [s, r, ..] => (s.as_str(), r.as_str()),
        _ => {
            eprintln!("__child needs a suite and a runtime");
            return ExitCode::FAILURE;
        }
    };
    let opts = match parse(&args[2..]) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("__child: {e}");
            return ExitCode::FAILURE;
        }
    };
    let Some(samples) = suites::run_named(suite, runtime, &opts.params) else {
        eprintln!("__child: unknown suite {suite:?} or runtime {runtime:?}");
        return ExitCode::FAILURE;
    };
    let mut out = String::new();
    for s in samples {
        out.push_str(&format!(
            "SAMPLE {} {} {}\n",
            s.case,
            s.unit.as_str(),
            s.value
        ));
    }
    print!("{out}");
    // The memory suite leaks a runtime full of tasks; do not wait for
    // anything to be torn down.
    use std::io::Write;
    let _ = std::io::stdout().flush();
    std::process::exit(0);
}

/// The runtimes `suite` runs on, out of the selected ones: those it
/// applies to, plus `std-blocking` (the physical limit) for `bulk` and `fs`.
fn suite_runtimes(suite: &str, selected: &[String]) -> Vec<String> {
    let mut list: Vec<String> = selected
        .iter()
        .filter(|r| suites::applies(suite, r))
        .cloned()
        .collect();
    if suites::applies(suite, runtimes::LIMIT) && matches!(suite, "bulk" | "fs") {
        list.push(runtimes::LIMIT.to_string());
    }
    list
}

/// Runs one child and parses its samples.
fn run_child(
    suite: &str,
    runtime: &str,
    params: &Params,
    timeout: Duration,
) -> Result<Vec<(String, Unit, f64)>, String> {
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let mut proc = Command::new(exe)
        .args(child_args(suite, runtime, params))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("spawn child: {e}"))?;
    let mut stdout = proc.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match proc.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = proc.kill();
                let _ = proc.wait();
                return Err(format!("timed out after {}s (killed)", timeout.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("wait: {e}")),
        }
    };
    let text = reader.join().unwrap_or_default();
    if !status.success() {
        return Err(format!("child exited with {status}"));
    }
    let mut samples = Vec::new();
    for line in BufReader::new(text.as_bytes())
        .lines()
        .map_while(Result::ok)
    {
        let f: Vec<&str> = line.split_whitespace().collect();
        if let ["SAMPLE", case, unit, value] = f[..] {
            let unit = Unit::parse(unit).ok_or_else(|| format!("bad unit in {line:?}"))?;
            let value = value
                .parse()
                .map_err(|_| format!("bad value in {line:?}"))?;
            samples.push((case.to_string(), unit, value));
        }
    }
    if samples.is_empty() {
        return Err("child reported no samples".to_string());
    }
    Ok(samples)
}

/// Adds `samples` of (suite, runtime) to `series`, keeping first-seen order.
fn collect(
    series: &mut Vec<Series>,
    suite: &str,
    runtime: &str,
    samples: Vec<(String, Unit, f64)>,
) {
    for (case, unit, value) in samples {
        match series
            .iter_mut()
            .find(|s| s.suite == suite && s.case == case && s.runtime == runtime)
        {
            Some(s) => s.values.push(value),
            None => series.push(Series {
                suite: suite.to_string(),
                case,
                runtime: runtime.to_string(),
                unit,
                values: vec![value],
            }),
        }
    }
}

/// Orders series by suite, then case (first seen), then runtime.
fn order(series: &mut [Series], runtimes: &[String]) {
    let mut cases: Vec<(String, String)> = Vec::new();
    for s in series.iter() {
        let key = (s.suite.clone(), s.case.clone());
        if !cases.contains(&key) {
            cases.push(key);
        }
    }
    series.sort_by_key(|s| {
        let c = cases
            .iter()
            .position(|k| k.0 == s.suite && k.1 == s.case)
            .unwrap_or(usize::MAX);
        let r = runtimes
            .iter()
            .position(|r| *r == s.runtime)
            .unwrap_or(usize::MAX);
        (c, r)
    });
}

/// The 1, 5 and 15 minute load averages, to judge how noisy the machine was.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join("/"))
        .unwrap_or_else(|_| "?".to_string())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("__child") {
        return child(&args[1..]);
    }
    if args.first().map(String::as_str) == Some("__idle_clients") {
        return suites::idle::clients(&args[1..]);
    }
    if args.iter().any(|a| a == "-h" || a == "--help") {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let opts = match parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let p = &opts.params;
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "# vigil-bench: suites={} runs={} workers={} quick={} cores={} loadavg={}",
        opts.suites.join(","),
        p.runs,
        p.workers,
        p.quick,
        cores,
        loadavg()
    );

    let started = Instant::now();
    let mut series = Vec::new();
    let mut failures: Vec<Failure> = Vec::new();
    // Every child records one run. Rounds are the outer loop, so a burst of
    // noise from other processes on the machine hits all runtimes alike
    // instead of whichever one happened to be measuring at the time.
    let child_params = Params {
        runs: 1,
        ..p.clone()
    };
    for suite in &opts.suites {
        for round in 1..=p.runs {
            eprint!(
                "[{:6.1}s] {suite} round {round}/{}:",
                started.elapsed().as_secs_f64(),
                p.runs
            );
            for runtime in suite_runtimes(suite, &opts.runtimes) {
                let runtime = &runtime;
                if failures
                    .iter()
                    .any(|f| &f.suite == suite && &f.runtime == runtime)
                {
                    continue;
                }
                eprint!(" {runtime}");
                match run_child(suite, runtime, &child_params, opts.timeout) {
                    Ok(samples) => collect(&mut series, suite, runtime, samples),
                    Err(reason) => {
                        eprint!(" (FAILED: {reason})");
                        failures.push(Failure {
                            suite: suite.clone(),
                            runtime: runtime.clone(),
                            reason,
                        });
                    }
                }
            }
            eprintln!();
        }
    }
    let mut all_runtimes = opts.runtimes.clone();
    all_runtimes.push(runtimes::LIMIT.to_string());
    order(&mut series, &all_runtimes);
    let rows = report::rows(&series);
    println!();
    print!("{}", report::table(&rows, &failures));
    println!();
    print!("{}", report::result_lines(&rows, &failures));
    println!(
        "# total wall time {:.1}s, loadavg at end {}",
        started.elapsed().as_secs_f64(),
        loadavg()
    );
    if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn defaults() {
        let o = parse(&[]).unwrap();
        assert_eq!(o.suites.len(), suites::ALL.len());
        assert_eq!(o.runtimes.len(), runtimes::ALL.len());
        assert_eq!(
            (o.params.runs, o.params.workers, o.params.quick),
            (5, 2, false)
        );
    }

    #[test]
    fn flags() {
        let o = parse(&args(
            "timers --quick --workers 4 --runtimes vigil-mt,tokio-mt",
        ))
        .unwrap();
        assert_eq!(o.suites, ["timers"]);
        assert_eq!(o.runtimes, ["vigil-mt", "tokio-mt"]);
        assert_eq!(
            (o.params.runs, o.params.workers, o.params.quick),
            (3, 4, true)
        );
        assert!(parse(&args("--runs 0")).is_err());
        assert!(parse(&args("nope")).is_err());
        assert!(parse(&args("--runtimes nope")).is_err());
    }

    #[test]
    fn child_args_round_trip() {
        let p = Params {
            runs: 7,
            workers: 3,
            quick: true,
        };
        let a = child_args("ping_pong", "smol-mt", &p);
        assert_eq!(suite_runtimes("http", &a[2..3]), Vec::<String>::new());
        assert_eq!(
            suite_runtimes("bulk", &a[2..3]),
            ["smol-mt", "std-blocking"]
        );
        let o = parse(&a[3..]).unwrap();
        assert_eq!(
            (o.params.runs, o.params.workers, o.params.quick),
            (7, 3, true)
        );
    }

    #[test]
    fn every_suite_runs_quickly_in_process() {
        // A tiny smoke test of the suite code itself on one runtime.
        let p = Params {
            runs: 1,
            workers: 2,
            quick: true,
        };
        for suite in ["spawn_many", "ping_pong", "yield_many", "chained_spawn"] {
            let samples = suites::run_named(suite, "tokio-ct", &p).unwrap();
            assert!(!samples.is_empty(), "{suite}");
        }
    }
}
