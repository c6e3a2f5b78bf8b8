//! The summary that opens every report: what was measured (benchmarks, lanes, mode, machine, commits,
//! time taken), the verdict or decision, the largest costs or changes with their figures, the
//! measurement overhead, and where the files are.
//!
//! A summary is a list of labelled lines of plain text, computed once by the caller from the same data
//! as the details below it, then marked up for a terminal, markdown or HTML. Selection and formatting
//! only: verdicts come from `compare`, decisions from `profile::decide`, the overhead's shares from
//! `stats` (via the results file); "largest" is an order by the figures the details show, never a
//! judgement. A comparison's verdict lines ([`super::verdicts::head_lines`]) stay first, above it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::html::unit;
use super::table::{Overheads, percent};
use super::verdicts::{pct, value};
use super::{format_count, format_ns};
use crate::compare::{Comparison, Verdict, Verdicts};
use crate::model::{Machine, Meta, Results};
use crate::profile::decide::{BenchInput, SuiteDecision};

/// How many of the largest changes or costs a summary names.
pub const LARGEST: usize = 3;

/// One line of a summary: what it is about, and the facts.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub label: &'static str,
    pub text: String,
}

fn line(label: &'static str, text: impl Into<String>) -> Line {
    Line { label, text: text.into() }
}

/// `run`: what was measured and where, what failed, the costliest benchmark of each suite, the
/// overhead, and the results file (`file`, as the caller names it).
pub fn of_run(results: &Results, file: Option<&str>) -> Vec<Line> {
    let m = &results.meta;
    let ids: Vec<&str> = results.benchmarks.iter().map(|b| b.id.as_str()).collect();
    let suites: BTreeSet<&str> = results.benchmarks.iter().map(|b| b.suite.as_str()).collect();
    let mut lines = vec![line("measured", measured(ids.len(), &suites, m))];
    lines.push(line("on", on(m, None)));
    lines.push(line("took", took(m).unwrap_or_else(|| "unknown (the run did not finish)".into())));
    let failed: Vec<&str> = results.benchmarks.iter().filter(|b| b.failed()).map(|b| b.id.as_str()).collect();
    if !failed.is_empty() {
        lines
            .push(line("failed", format!("{} benchmark{}: {}", failed.len(), plural(failed.len()), failed.join(", "))));
    }
    if let Some(costliest) = costliest(results) {
        lines.push(line("costliest per suite", costliest));
    }
    if let Some(o) = Overheads::of(results) {
        lines.push(line("measurement overhead", o.short()));
    }
    if let Some(f) = file {
        lines.push(line("results", f));
    }
    lines
}

/// A comparison: what was measured (from the results files, when the caller has them), the largest
/// regressions and improvements with their figures, failures, the suites' geometric means, head's
/// measurement overhead, and the files (`files`, as the caller names them).
pub fn of_compare(v: &Verdicts, base: Option<&Results>, head: Option<&Results>, files: Option<&str>) -> Vec<Line> {
    let mut lines = Vec::new();
    let ids: BTreeSet<&str> = v.comparisons.iter().map(|c| c.id.as_str()).collect();
    let suites: BTreeSet<&str> = v.comparisons.iter().map(|c| c.suite.as_str()).collect();
    match (base, head) {
        (Some(b), Some(h)) => {
            lines.push(line("measured", measured(ids.len(), &suites, &h.meta)));
            lines.push(line("on", on(&h.meta, Some(&b.meta))));
            let took = match (&b.meta.pairing, &h.meta.pairing, span(&b.meta, &h.meta)) {
                (Some(p), Some(q), Some(s)) if p == q => format!("{s}, base and head interleaved in one job"),
                _ => format!(
                    "base {}, head {} (separate runs)",
                    took(&b.meta).unwrap_or_else(|| "unknown".into()),
                    took(&h.meta).unwrap_or_else(|| "unknown".into())
                ),
            };
            lines.push(line("took", took));
        }
        _ => lines
            .push(line("measured", format!("{} benchmark{} in {}", ids.len(), plural(ids.len()), suite_list(&suites)))),
    }
    let regressed = largest(v, Verdict::Regressed, true);
    if !regressed.is_empty() {
        lines.push(line("largest regressions", regressed.clone()));
    }
    let improved = largest(v, Verdict::Improved, false);
    if !improved.is_empty() {
        lines.push(line("largest improvements", improved.clone()));
    }
    let failed: BTreeSet<&str> =
        v.comparisons.iter().filter(|c| c.verdict == Verdict::Failed).map(|c| c.id.as_str()).collect();
    if !failed.is_empty() {
        let names: Vec<&str> = failed.iter().copied().collect();
        lines.push(line("failed", format!("{} benchmark{}: {}", names.len(), plural(names.len()), names.join(", "))));
    }
    if regressed.is_empty() && improved.is_empty() && failed.is_empty() {
        lines.push(line("changes", "none beyond the thresholds"));
    }
    if !v.suites.is_empty() {
        let means: Vec<String> = v.suites.iter().map(|s| format!("{} {}", s.suite, pct(s.geomean_ratio))).collect();
        lines.push(line("suites (geometric mean of ns/op ratios)", means.join(", ")));
    }
    if let Some(o) = head.and_then(Overheads::of) {
        lines.push(line("measurement overhead (head)", o.short()));
    }
    if let Some(f) = files {
        lines.push(line("files", f));
    }
    lines
}

/// What `profile` found, as [`of_profile`] needs it: the gate's inputs and its per-suite decisions,
/// and where and how it ran (the caller's facts).
pub struct Profiled<'a> {
    pub inputs: &'a [BenchInput],
    pub suites: &'a [SuiteDecision],
    /// Instructions per op are the difference of a run with 1 and one with 1 + `ops` iterations.
    pub ops: u64,
    pub quick: bool,
    pub machine: &'a Machine,
    pub commit: Option<&'a crate::model::GitInfo>,
    pub took: std::time::Duration,
    pub files: &'a str,
}

/// `profile`: the decision of each suite first, then what was measured, the largest costs (the
/// categories that take the most instructions per op, with their share), what measuring adds, and the
/// files.
pub fn of_profile(p: &Profiled<'_>) -> Vec<Line> {
    let mut lines = Vec::new();
    for s in p.suites {
        let what = match &s.primary {
            Some(path) => format!(
                "{} (rule {}, mean impact {}, effort {}, recommended in {} of {})",
                path.path,
                path.rules.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", "),
                path.mean_impact.map_or_else(|| "n/a".into(), |m| format!("~{}", percent(m))),
                path.effort.as_str(),
                path.fired,
                s.benchmarks
            ),
            None => "no rule fired: nothing the rules recommend".into(),
        };
        lines.push(line(
            "decision",
            format!("{} ({} benchmark{}): {what}", s.suite, s.benchmarks, plural(s.benchmarks)),
        ));
    }
    let suites: BTreeSet<&str> = p.inputs.iter().map(|b| b.suite.as_str()).collect();
    lines.push(line(
        "measured",
        format!(
            "{} benchmark{} in {}; instructions per op under callgrind (1 and 1 + {} iterations), allocations \
             (alloc lane), CPU time natively; {} mode",
            p.inputs.len(),
            plural(p.inputs.len()),
            suite_list(&suites),
            format_count(p.ops as f64),
            if p.quick { "quick" } else { "full" }
        ),
    ));
    lines.push(line("on", format!("{}, {}", commit(p.commit), machine(p.machine))));
    lines.push(line("took", duration(p.took.as_secs())));
    let mut costs: Vec<(&str, &str, f64, f64)> = p
        .inputs
        .iter()
        .flat_map(|b| {
            b.categories.iter().map(move |c| (b.id.as_str(), c.category.as_str(), c.instructions_per_op, c.share))
        })
        .filter(|c| c.2 > 0.0)
        .collect();
    costs.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(b.0)).then(a.1.cmp(b.1)));
    if !costs.is_empty() {
        let named: Vec<String> = costs
            .iter()
            .take(LARGEST)
            .map(|(id, cat, instr, share)| {
                format!("{id}: {cat} {} instr/op ({} of its op)", format_count(*instr), percent(*share))
            })
            .collect();
        lines.push(line("largest costs", named.join("; ")));
    }
    lines.push(line(
        "measurement overhead",
        "none in the instruction counts: start-up, setup and callgrind's fixed costs cancel in the difference of \
         the two runs",
    ));
    lines.push(line("files", p.files));
    lines
}

/// `12 benchmarks in 3 suites (codec, queue, storage); lanes wall, alloc, instr; full mode`.
fn measured(n: usize, suites: &BTreeSet<&str>, m: &Meta) -> String {
    let lanes: Vec<&str> = m.lanes.iter().map(|l| l.name()).collect();
    let partial = if m.partial { "; partial (interrupted or still running)" } else { "" };
    format!(
        "{n} benchmark{} in {}; lane{} {}; {} mode{partial}",
        plural(n),
        suite_list(suites),
        plural(lanes.len()),
        lanes.join(", "),
        m.mode
    )
}

fn suite_list(suites: &BTreeSet<&str>) -> String {
    let names: Vec<&str> = suites.iter().copied().collect();
    format!("{} suite{} ({})", names.len(), plural(names.len()), names.join(", "))
}

/// The commit(s), the machine and the toolchain; `base`, when given, adds base's commit and says where
/// its machine or toolchain differ.
fn on(m: &Meta, base: Option<&Meta>) -> String {
    let rustc = format!("rustc {}", m.toolchain.rustc_release);
    let Some(b) = base else { return format!("{}, {}, {rustc}", commit(m.git.as_ref()), machine(&m.machine)) };
    let (bc, hc) = (commit(b.git.as_ref()), commit(m.git.as_ref()));
    let commits = if bc == hc { format!("base and head {hc}") } else { format!("base {bc}, head {hc}") };
    let mut s = format!("{commits}, {}, {rustc}", machine(&m.machine));
    if b.machine.fingerprint != m.machine.fingerprint {
        let _ = write!(s, " (base on another machine: {})", machine(&b.machine));
    }
    if b.toolchain.rustc_release != m.toolchain.rustc_release {
        let _ = write!(s, " (base built with rustc {})", b.toolchain.rustc_release);
    }
    s
}

fn commit(g: Option<&crate::model::GitInfo>) -> String {
    match g {
        Some(g) => {
            let short: String = g.commit.chars().take(12).collect();
            let branch = g.branch.as_deref().map(|b| format!(" ({b})")).unwrap_or_default();
            format!("commit {short}{branch}{}", if g.dirty { " with uncommitted changes" } else { "" })
        }
        None => "no git commit".into(),
    }
}

fn machine(m: &Machine) -> String {
    format!("{}, {} core{} (fingerprint {})", m.cpu_model, m.cores, plural(m.cores as usize), m.fingerprint)
}

/// From `started_at` to `finished_at`; `None` while unfinished or when a time does not parse.
fn took(m: &Meta) -> Option<String> {
    let start = crate::meta::parse_rfc3339(&m.started_at)?;
    let end = crate::meta::parse_rfc3339(m.finished_at.as_deref()?)?;
    Some(duration(end.saturating_sub(start)))
}

/// From the earlier start to the later finish of two files.
fn span(a: &Meta, b: &Meta) -> Option<String> {
    let parse = crate::meta::parse_rfc3339;
    let start = parse(&a.started_at)?.min(parse(&b.started_at)?);
    let end = parse(a.finished_at.as_deref()?)?.max(parse(b.finished_at.as_deref()?)?);
    Some(duration(end.saturating_sub(start)))
}

/// `45s`, `2m 13s`, `1h 02m`.
pub fn duration(secs: u64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m {:02}s", s / 60, s % 60),
        s => format!("{}h {:02}m", s / 3600, s % 3600 / 60),
    }
}

/// The costliest benchmark of each suite by median ns/op (by instr/op where the suite has no wall
/// times), with its figure: `codec/lz4/1mb 1.20 ms, queue/spsc 36.0 ns`.
fn costliest(results: &Results) -> Option<String> {
    let mut by_suite: BTreeMap<&str, Vec<&crate::model::BenchResult>> = BTreeMap::new();
    for b in &results.benchmarks {
        by_suite.entry(b.suite.as_str()).or_default().push(b);
    }
    let mut named = Vec::new();
    for benches in by_suite.values() {
        let top = |f: &dyn Fn(&crate::model::BenchResult) -> Option<f64>| {
            benches
                .iter()
                .filter_map(|b| Some((b.id.as_str(), f(b)?)))
                .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(a.0)))
        };
        if let Some((id, ns)) = top(&|b| b.metrics.ns_per_op.as_ref().map(|w| w.median)) {
            named.push(format!("{id} {}/op", format_ns(ns)));
        } else if let Some((id, instr)) = top(&|b| b.metrics.instructions_per_op) {
            named.push(format!("{id} {} instr/op", format_count(instr)));
        }
    }
    (!named.is_empty()).then(|| named.join(", "))
}

/// The [`LARGEST`] comparisons with `verdict`, the largest change first (`up`: the largest ratio;
/// otherwise the smallest), each with its figures: `codec/lz4/1kb ns/op +48.34% (812 ns → 1.20 µs)`.
/// A ratio without a value (an allocation in allocation-free code) counts as the largest.
fn largest(v: &Verdicts, verdict: Verdict, up: bool) -> String {
    let mut rows: Vec<&Comparison> = v.comparisons.iter().filter(|c| c.verdict == verdict).collect();
    let key = |c: &Comparison| c.ratio.unwrap_or(if up { f64::INFINITY } else { 0.0 });
    rows.sort_by(|a, b| {
        let by = if up { key(b).total_cmp(&key(a)) } else { key(a).total_cmp(&key(b)) };
        by.then_with(|| (&a.id, &a.metric).cmp(&(&b.id, &b.metric)))
    });
    let mut named: Vec<String> = rows
        .iter()
        .take(LARGEST)
        .map(|c| {
            let change = c.ratio.map_or_else(|| "from zero".to_owned(), pct);
            format!(
                "{} {} {change} ({} → {})",
                c.id,
                unit(&c.metric),
                value(&c.metric, c.base),
                value(&c.metric, c.head)
            )
        })
        .collect();
    if rows.len() > LARGEST {
        named.push(format!("and {} more", rows.len() - LARGEST));
    }
    named.join("; ")
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// For a terminal: an underlined `Summary` heading, then a line each.
pub fn terminal(lines: &[Line]) -> String {
    let mut s = String::from("Summary\n=======\n");
    for l in lines {
        let _ = writeln!(s, "{}: {}", l.label, l.text);
    }
    s
}

/// For markdown: a bold `Summary`, then a bullet each.
pub fn markdown(lines: &[Line]) -> String {
    let mut s = String::from("**Summary**\n\n");
    for l in lines {
        let _ = writeln!(s, "- **{}:** {}", l.label, l.text.replace('|', "\\|"));
    }
    s.push('\n');
    s
}

/// For HTML: a `Summary` heading and a list, every string escaped.
pub fn html(lines: &[Line]) -> String {
    let mut s = String::from("<h2>Summary</h2>\n<ul class=\"summary\">\n");
    for l in lines {
        let _ =
            writeln!(s, "<li><strong>{}:</strong> {}</li>", super::html::escape(l.label), super::html::escape(&l.text));
    }
    s.push_str("</ul>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::SuiteSummary;
    use crate::model::{Failure, FailureKind, Lane};
    use crate::profile::decide::{CategoryCost, Effort, SuitePath};
    use crate::report::verdicts::tests::c;

    /// The example file: six fixture benchmarks with every lane, 13 s of quick mode; one moved to a
    /// suite of its own, one failed in the alloc lane.
    fn results() -> Results {
        let mut r = Results::parse(include_str!("../../../docs/example-results.json")).unwrap();
        let b = &mut r.benchmarks[0];
        b.suite = "codec".into();
        b.id = "codec/alloc3x100".into();
        r.benchmarks.sort_by(|a, b| a.id.cmp(&b.id));
        let realloc = r.benchmarks.iter_mut().find(|b| b.id == "fixture/realloc").unwrap();
        realloc.failures.insert(Lane::Alloc, Failure { kind: FailureKind::Panic, message: "boom".into() });
        realloc.metrics.bytes_per_op = None;
        r
    }

    #[test]
    fn run_summary() {
        insta::assert_snapshot!(terminal(&of_run(&results(), Some("reports/run-20261129T234012Z/results.json"))));
    }

    #[test]
    fn compare_summary() {
        let (base, mut head) = (results(), results());
        head.meta.started_at = "2026-11-29T23:41:00Z".into();
        head.meta.finished_at = Some("2026-11-29T23:43:13Z".into());
        head.meta.git.as_mut().unwrap().commit = "5e6f7a8b9c0d1e2f".into();
        let v = Verdicts {
            policy: "policy: wall: paired sign test in two stages; instr beyond 0.5%".into(),
            incomplete: Vec::new(),
            inconclusive_fails: false,
            short_of_time: 0,
            verdict: "fail".into(),
            comparisons: vec![
                c("fixture/sum/1000", "ns_per_op", 812.0, 1204.5, Verdict::Regressed, None),
                c("fixture/sum/1000", "instructions_per_op", 10_450.0, 12_000.0, Verdict::Regressed, None),
                c("codec/alloc3x100", "allocs_per_op", 3.0, 4.0, Verdict::Regressed, None),
                Comparison {
                    ratio: None,
                    ..c("fixture/no-alloc", "allocs_per_op", 0.0, 1.0, Verdict::Regressed, None)
                },
                c("fixture/batched", "ns_per_op", 900.0, 720.0, Verdict::Improved, None),
                c("fixture/empty", "ns_per_op", 1.0, 1.0, Verdict::Unchanged, None),
                Comparison {
                    metric: "benchmark".into(),
                    ..c("fixture/realloc", "x", 1.0, 1.0, Verdict::Failed, Some("alloc lane panicked"))
                },
            ],
            suites: vec![
                SuiteSummary { suite: "codec".into(), geomean_ratio: 1.0, benchmarks: 1 },
                SuiteSummary { suite: "fixture".into(), geomean_ratio: 1.0712, benchmarks: 3 },
            ],
            context: vec!["base 08416aebf5c9 (merge-base of main), head 5e6f7a8b9c0d".into()],
            warnings: Vec::new(),
        };
        let lines = of_compare(&v, Some(&base), Some(&head), Some("reports/compare-x/: verdicts.md, report.html"));
        insta::assert_snapshot!(markdown(&lines));
        // Interleaved in one job: the span of both, said so.
        let mut base = base;
        (base.meta.pairing, head.meta.pairing) = (Some("job".into()), Some("job".into()));
        let took = of_compare(&v, Some(&base), Some(&head), None).into_iter().find(|l| l.label == "took").unwrap();
        assert_eq!(took.text, "3m 01s, base and head interleaved in one job");
        // Without results files: the counts only, and nothing changed is said.
        let quiet = Verdicts { comparisons: vec![v.comparisons[5].clone()], suites: Vec::new(), ..v };
        let lines = of_compare(&quiet, None, None, None);
        assert_eq!(
            lines,
            [line("measured", "1 benchmark in 1 suite (fixture)"), line("changes", "none beyond the thresholds")]
        );
    }

    #[test]
    fn profile_summary() {
        let cost = |category: &str, share: f64, total: f64| CategoryCost {
            category: category.into(),
            share,
            instructions_per_op: share * total,
        };
        let inputs = [
            BenchInput {
                id: "codec/lz4/1kb".into(),
                suite: "codec".into(),
                instructions_per_op: 20_000.0,
                categories: vec![cost("copying", 0.6, 20_000.0), cost("application", 0.4, 20_000.0)],
                allocs_per_op: Some(2.0),
                bytes_per_op: Some(1024.0),
                system_time_share: Some(0.01),
            },
            BenchInput {
                id: "queue/spsc".into(),
                suite: "queue".into(),
                instructions_per_op: 900.0,
                categories: vec![cost("synchronization", 0.7, 900.0), cost("application", 0.3, 900.0)],
                allocs_per_op: Some(0.0),
                bytes_per_op: Some(0.0),
                system_time_share: None,
            },
        ];
        let suites = [
            SuiteDecision {
                suite: "codec".into(),
                benchmarks: 1,
                mean_shares: vec![("copying".into(), 0.6), ("application".into(), 0.4)],
                rules: Vec::new(),
                primary: Some(SuitePath {
                    path: "reuse buffers instead of copying".into(),
                    rules: vec!["copy-heavy".into()],
                    rationale: "copying is most of the op".into(),
                    effort: Effort::Low,
                    fired: 1,
                    mean_impact: Some(0.3),
                }),
                secondary: Vec::new(),
                not_to_optimize: Vec::new(),
            },
            SuiteDecision {
                suite: "queue".into(),
                benchmarks: 1,
                mean_shares: vec![("synchronization".into(), 0.7)],
                rules: Vec::new(),
                primary: None,
                secondary: Vec::new(),
                not_to_optimize: Vec::new(),
            },
        ];
        let meta = results().meta;
        let p = Profiled {
            inputs: &inputs,
            suites: &suites,
            ops: 1000,
            quick: true,
            machine: &meta.machine,
            commit: meta.git.as_ref(),
            took: std::time::Duration::from_secs(75),
            files: "reports/profile-x: profile.md, profile.json",
        };
        let lines = of_profile(&p);
        assert_eq!(lines[0].label, "decision", "the decision comes first");
        insta::assert_snapshot!(markdown(&lines));
    }

    #[test]
    fn html_escapes_and_durations_read_as_time() {
        let s = html(&[line("files", "<dir> & more")]);
        assert!(s.contains("<li><strong>files:</strong> &lt;dir&gt; &amp; more</li>"), "{s}");
        assert_eq!([duration(45), duration(133), duration(3720)], ["45s", "2m 13s", "1h 02m"]);
    }
}
