//! The `main` of a bench binary (`benchgate::main!`): answers the driver's protocol requests, or, when
//! started by plain `cargo bench`, runs its benchmarks in the wall lane and prints a short table.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::define::Harness;
use crate::measure::wall::WallPlan;
use crate::protocol::{PROTOCOL_VERSION, Report, ReportBody, Task, flag};

/// Anything a group function can take: the native [`Harness`] or the criterion-compatible wrapper.
pub trait GroupTarget {
    fn from_harness(h: Harness) -> Self;
    fn into_harness(self) -> Harness;
}

impl GroupTarget for Harness {
    fn from_harness(h: Harness) -> Self {
        h
    }
    fn into_harness(self) -> Harness {
        self
    }
}

/// Runs every group function against a harness in the given state and returns it.
fn declare_all<T: GroupTarget>(groups: &[fn(&mut T)], harness: Harness) -> Harness {
    let mut target = T::from_harness(harness);
    for g in groups {
        g(&mut target);
    }
    target.into_harness()
}

/// Entry point called by `benchgate::main!`. `default_suite` is the bench target's name.
pub fn main<T: GroupTarget>(groups: &[fn(&mut T)], default_suite: &str) {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match run(groups, default_suite, &args) {
        Ok(()) => 0,
        Err(message) => {
            eprintln!("benchgate: {message}");
            2
        }
    };
    std::process::exit(code);
}

fn run<T: GroupTarget>(groups: &[fn(&mut T)], default_suite: &str, args: &[String]) -> Result<(), String> {
    let arg = |name: &str| -> Option<&str> {
        args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map(String::as_str)
    };
    let num = |name: &str| -> Result<u64, String> {
        let v = arg(name).ok_or_else(|| format!("{name} is required"))?;
        v.parse().map_err(|_| format!("{name} takes a whole number, not `{v}`"))
    };
    let report_path = arg(flag::REPORT).map(PathBuf::from);

    if args.iter().any(|a| a == flag::LIST) {
        let h = declare_all(groups, Harness::listing(default_suite));
        let benchmarks = h.declarations().to_vec();
        let mut seen = std::collections::BTreeSet::new();
        let duplicates = benchmarks.iter().filter(|d| !seen.insert(d.id.clone())).map(|d| d.id.clone()).collect();
        return emit(report_path.as_deref(), ReportBody::List { benchmarks, duplicates });
    }
    if let Some(id) = arg(flag::EXEC) {
        let task = Task::Exec { iters: num(flag::ITERS)?, routine: !args.iter().any(|a| a == flag::SETUP_ONLY) };
        return match run_task(groups, default_suite, id, task) {
            ReportBody::Error(e) => Err(e),
            _ => Ok(()),
        };
    }
    if let Some(id) = arg(flag::PROBE) {
        return emit(report_path.as_deref(), run_task(groups, default_suite, id, Task::Probe));
    }
    if let Some(id) = arg(flag::RUN) {
        let task = match arg(flag::LANE) {
            Some("wall") => Task::Wall(WallPlan {
                warm_up: Duration::from_millis(num(flag::WARM_UP_MS)?),
                measurement: Duration::from_millis(num(flag::MEASUREMENT_MS)?),
                samples: num(flag::SAMPLES)?.max(2),
            }),
            Some("alloc") if !crate::measure::alloc::counting_installed() => {
                let why = "benchgate's CountingAlloc is not the global allocator of this bench binary \
                           (use benchgate::main!, or wrap your allocator in benchgate::CountingAlloc)";
                return emit(report_path.as_deref(), ReportBody::Skipped(why.into()));
            }
            Some("alloc") => Task::Alloc { iters: num(flag::ITERS)?.max(1) },
            other => return Err(format!("--lane must be wall or alloc, not {other:?}")),
        };
        let body = run_task(groups, default_suite, id, task);
        return emit(report_path.as_deref(), body);
    }
    standalone(groups, default_suite, args)
}

/// Declares everything, running `task` on `id`.
fn run_task<T: GroupTarget>(groups: &[fn(&mut T)], default_suite: &str, id: &str, task: Task) -> ReportBody {
    let mut h = declare_all(groups, Harness::running(default_suite, id.to_owned(), task));
    match h.take_outcome() {
        Some(Ok(outcome)) => ReportBody::Outcome(outcome),
        Some(Err(e)) => ReportBody::Error(e),
        None => ReportBody::Error(format!("no benchmark `{id}` in this binary")),
    }
}

/// Writes a report file atomically (or to stdout when no path was given).
fn emit(path: Option<&Path>, body: ReportBody) -> Result<(), String> {
    let json = serde_json::to_string(&Report { protocol: PROTOCOL_VERSION, body }).expect("report serializes");
    match path {
        Some(p) => crate::fsutil::write_atomic(p, json.as_bytes()).map_err(|e| format!("{}: {e}", p.display())),
        None => {
            println!("{json}");
            Ok(())
        }
    }
}

/// `cargo bench` without benchgate: wall lane only, in-process, short settings. The `benchgate`
/// binary is the real driver (all lanes, one process per benchmark, failures isolated).
fn standalone<T: GroupTarget>(groups: &[fn(&mut T)], default_suite: &str, args: &[String]) -> Result<(), String> {
    let filter = args.iter().find(|a| !a.starts_with('-')).cloned().unwrap_or_default();
    let decls = declare_all(groups, Harness::listing(default_suite)).declarations().to_vec();
    let selected: Vec<_> = decls.iter().filter(|d| d.id.contains(&filter)).collect();
    eprintln!(
        "benchgate: {} benchmark(s), wall lane only; run `benchgate run` for every lane and a results file",
        selected.len()
    );
    let plan = WallPlan { warm_up: Duration::from_millis(200), measurement: Duration::from_millis(500), samples: 20 };
    for d in selected {
        match run_task(groups, default_suite, &d.id, Task::Wall(plan.clone())) {
            ReportBody::Outcome(crate::protocol::Outcome::Wall(s)) => {
                println!("{:<60} {:>14}/op", d.id, format_ns(median_ns_per_op(&s)));
            }
            ReportBody::Error(e) => println!("{:<60} error: {e}", d.id),
            other => println!("{:<60} unexpected: {other:?}", d.id),
        }
    }
    Ok(())
}

/// The median of the samples' ns/op: the one figure plain `cargo bench` prints (the tool computes the
/// full estimate, with its interval).
fn median_ns_per_op(s: &crate::measure::wall::WallSamples) -> f64 {
    let mut per_op: Vec<f64> = s.ns.iter().zip(&s.iters).map(|(&ns, &n)| ns as f64 / n.max(1) as f64).collect();
    per_op.sort_by(f64::total_cmp);
    match per_op.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => per_op[n / 2],
        n => (per_op[n / 2 - 1] + per_op[n / 2]) / 2.0,
    }
}

/// `12.3 ns`, `4.56 µs`, `7.89 ms`, `1.23 s`.
fn format_ns(ns: f64) -> String {
    let (v, unit) = match ns {
        n if n < 1e3 => (n, "ns"),
        n if n < 1e6 => (n / 1e3, "µs"),
        n if n < 1e9 => (n / 1e6, "ms"),
        n => (n / 1e9, "s"),
    };
    format!("{v:.3} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standalone_median_is_of_ns_per_op() {
        let s = crate::measure::wall::WallSamples {
            warmup_iters: 0,
            warmup_ns: 0,
            iters: vec![1, 2, 4, 10],
            ns: vec![10, 40, 400, 50],
            latencies: None,
            reported: Default::default(),
            calibration: None,
        };
        // 10, 20, 100, 5 ns/op: median (10 + 20) / 2.
        assert_eq!(median_ns_per_op(&s), 15.0);
        assert_eq!(format_ns(15.0), "15.000 ns");
        assert_eq!(format_ns(1500.0), "1.500 µs");
    }
}
