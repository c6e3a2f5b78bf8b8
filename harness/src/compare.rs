//! The one place where a verdict is decided: two results files in, one [`Verdicts`] out.
//!
//! Each lane is judged its own way (ARCHITECTURE.md, "lanes"):
//! - alloc: exact. Allocations or bytes per op above base by more than the tolerance (default zero)
//!   regress; a benchmark that was allocation-free and now allocates is called out.
//! - instr: a small relative threshold, since counts are deterministic for a given binary.
//! - wall: a two-sided Mann-Whitney U test per benchmark, Benjamini-Hochberg across all wall
//!   comparisons of the run, and a minimum effect: the ratio of medians must exceed both the configured
//!   threshold and what this benchmark can resolve (its minimum detectable effect). A change the test
//!   could not have seen at the threshold is "inconclusive", never "unchanged".
//!
//! Reporters render [`Verdicts`]; they never decide.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::model::{BenchResult, Results};
use crate::stats;

/// Thresholds of the gate: the `[gate]` section of the configuration.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Thresholds {
    /// Extra allocations per op tolerated before a regression.
    pub alloc_allocs: f64,
    /// Extra bytes per op tolerated before a regression.
    pub alloc_bytes: f64,
    /// Relative change of instructions per op tolerated (0.005 = 0.5%).
    pub instr_ratio: f64,
    /// Relative change of the median ns/op that counts (0.03 = 3%), if significant.
    pub wall_ratio: f64,
    /// False discovery rate across the wall comparisons.
    pub fdr: f64,
}

/// The verdict of one metric of one benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Regressed,
    Failed,
    Improved,
    Inconclusive,
    Unchanged,
    New,
    Missing,
    Accepted,
}

/// One compared metric with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub id: String,
    pub suite: String,
    /// The results-format name: `ns_per_op`, `allocs_per_op`, `bytes_per_op`, `instructions_per_op`.
    pub metric: String,
    pub base: Option<f64>,
    pub head: Option<f64>,
    pub ratio: Option<f64>,
    pub ci95: Option<[f64; 2]>,
    pub p_value: Option<f64>,
    pub p_adjusted: Option<f64>,
    /// The threshold that applied: a ratio for wall and instr, an absolute excess for alloc.
    pub threshold: f64,
    /// The smallest ratio this benchmark could detect here (wall only).
    pub mde: Option<f64>,
    pub verdict: Verdict,
    /// Why, in a few words, when the numbers alone do not say it.
    pub note: Option<String>,
}

/// Everything a comparison decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdicts {
    /// `pass` or `fail`.
    pub verdict: String,
    pub comparisons: Vec<Comparison>,
    /// Geometric mean of ns/op ratios per suite, over benchmarks compared in the wall lane.
    pub suites: Vec<SuiteSummary>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuiteSummary {
    pub suite: String,
    pub geomean_ratio: f64,
    pub benchmarks: usize,
}

impl Verdicts {
    pub fn regressed(&self) -> bool {
        self.comparisons.iter().any(|c| c.verdict == Verdict::Regressed)
    }

    pub fn failed(&self) -> bool {
        self.comparisons.iter().any(|c| c.verdict == Verdict::Failed)
    }
}

/// Compares `head` against `base`.
pub fn compare(base: &Results, head: &Results, t: &Thresholds) -> Verdicts {
    let mut warnings = Vec::new();
    let same_machine = base.meta.machine.fingerprint == head.meta.machine.fingerprint;
    if !same_machine {
        warnings.push(format!(
            "base and head ran on different machines ({} vs {}): wall times are reported, never judged",
            base.meta.machine.fingerprint, head.meta.machine.fingerprint
        ));
    }
    let ids: BTreeSet<&str> = base.benchmarks.iter().chain(&head.benchmarks).map(|b| b.id.as_str()).collect();
    let find = |r: &'_ Results, id: &str| r.benchmarks.iter().find(|b| b.id == id).cloned();
    let mut out = Vec::new();
    let mut wall = Vec::new();
    for id in ids {
        let (b, h) = (find(base, id), find(head, id));
        match (b, h) {
            (None, Some(h)) => out.push(whole(&h, Verdict::New, "only in head")),
            (Some(b), None) => out.push(whole(&b, Verdict::Missing, "only in base")),
            (Some(b), Some(h)) if h.failed() => {
                let lanes: Vec<String> = h.failures.keys().map(|l| l.to_string()).collect();
                out.push(whole(&b, Verdict::Failed, &format!("failed in head ({})", lanes.join(", "))));
            }
            (Some(b), Some(h)) => {
                out.extend(alloc(&b, &h, t));
                out.extend(instr(&b, &h, t));
                if let Some(c) = wall_raw(&b, &h, t) {
                    wall.push((out.len(), c));
                    out.push(placeholder(&h));
                }
            }
            (None, None) => unreachable!("ids come from base or head"),
        }
    }
    // Benjamini-Hochberg over every wall comparison of the run, then the verdicts.
    let p: Vec<f64> = wall.iter().map(|(_, c)| c.p_value.unwrap_or(1.0)).collect();
    let adjusted = stats::fdr::benjamini_hochberg(&p);
    for ((slot, mut c), p_adj) in wall.into_iter().zip(adjusted) {
        c.p_adjusted = Some(p_adj);
        c.verdict = judge_wall(&c, t, same_machine);
        if !same_machine {
            c.note = Some("different machines: not judged".into());
        }
        out[slot] = c;
    }
    let suites = geomeans(&out);
    let fail = out.iter().any(|c| matches!(c.verdict, Verdict::Regressed | Verdict::Failed));
    Verdicts { verdict: if fail { "fail" } else { "pass" }.into(), comparisons: out, suites, warnings }
}

fn whole(b: &BenchResult, verdict: Verdict, note: &str) -> Comparison {
    Comparison {
        id: b.id.clone(),
        suite: b.suite.clone(),
        metric: "benchmark".into(),
        base: None,
        head: None,
        ratio: None,
        ci95: None,
        p_value: None,
        p_adjusted: None,
        threshold: 0.0,
        mde: None,
        verdict,
        note: Some(note.into()),
    }
}

fn placeholder(h: &BenchResult) -> Comparison {
    whole(h, Verdict::Inconclusive, "")
}

fn scalar(b: &BenchResult, metric: &str, base: f64, head: f64, threshold: f64, verdict: Verdict) -> Comparison {
    Comparison {
        id: b.id.clone(),
        suite: b.suite.clone(),
        metric: metric.into(),
        base: Some(base),
        head: Some(head),
        ratio: (base != 0.0).then(|| head / base),
        ci95: None,
        p_value: None,
        p_adjusted: None,
        threshold,
        mde: None,
        verdict,
        note: None,
    }
}

/// Exact lane: any excess beyond the tolerance regresses.
fn alloc(b: &BenchResult, h: &BenchResult, t: &Thresholds) -> Vec<Comparison> {
    let mut out = Vec::new();
    let pairs = [
        ("allocs_per_op", b.metrics.allocs_per_op, h.metrics.allocs_per_op, t.alloc_allocs),
        ("bytes_per_op", b.metrics.bytes_per_op, h.metrics.bytes_per_op, t.alloc_bytes),
    ];
    for (metric, base, head, tolerance) in pairs {
        let (Some(base), Some(head)) = (base, head) else { continue };
        let verdict = if head > base + tolerance {
            Verdict::Regressed
        } else if head < base - tolerance {
            Verdict::Improved
        } else {
            Verdict::Unchanged
        };
        let mut c = scalar(h, metric, base, head, tolerance, verdict);
        if metric == "allocs_per_op" && base == 0.0 && head > 0.0 {
            c.note = Some("was allocation-free, now allocates".into());
        }
        out.push(c);
    }
    out
}

/// Near-exact lane: a relative threshold.
fn instr(b: &BenchResult, h: &BenchResult, t: &Thresholds) -> Option<Comparison> {
    let (base, head) = (b.metrics.instructions_per_op?, h.metrics.instructions_per_op?);
    let ratio = if base > 0.0 { head / base } else { 1.0 };
    let verdict = if ratio > 1.0 + t.instr_ratio {
        Verdict::Regressed
    } else if ratio < 1.0 - t.instr_ratio {
        Verdict::Improved
    } else {
        Verdict::Unchanged
    };
    Some(scalar(h, "instructions_per_op", base, head, t.instr_ratio, verdict))
}

/// The wall lane's evidence, before the false-discovery correction.
fn wall_raw(b: &BenchResult, h: &BenchResult, t: &Thresholds) -> Option<Comparison> {
    let (bw, hw) = (b.metrics.ns_per_op.as_ref()?, h.metrics.ns_per_op.as_ref()?);
    let test = stats::rank::mann_whitney_u(&hw.samples, &bw.samples);
    let mut c = scalar(h, "ns_per_op", bw.median, hw.median, t.wall_ratio, Verdict::Inconclusive);
    c.ratio = Some(hw.median / bw.median);
    c.ci95 = Some(stats::rank::ratio_of_medians_ci(&bw.samples, &hw.samples, 0.95));
    c.p_value = Some(test.p_value);
    c.mde = Some(stats::rank::min_detectable_ratio(&bw.samples, hw.samples.len(), t.fdr, 0.8));
    Some(c)
}

/// A wall change counts when it is significant after the FDR correction, its interval excludes 1, and
/// it exceeds both the threshold and the benchmark's own resolution.
fn judge_wall(c: &Comparison, t: &Thresholds, same_machine: bool) -> Verdict {
    let (Some(ratio), Some(p_adj), Some([lo, hi]), Some(mde)) = (c.ratio, c.p_adjusted, c.ci95, c.mde) else {
        return Verdict::Inconclusive;
    };
    if !same_machine {
        return Verdict::Inconclusive;
    }
    let floor = t.wall_ratio.max(mde - 1.0);
    let significant = p_adj < t.fdr;
    if significant && lo > 1.0 && ratio > 1.0 + floor {
        Verdict::Regressed
    } else if significant && hi < 1.0 && ratio < 1.0 / (1.0 + floor) {
        Verdict::Improved
    } else if mde - 1.0 <= t.wall_ratio {
        Verdict::Unchanged
    } else {
        Verdict::Inconclusive
    }
}

/// Geometric mean of the wall ratios per suite.
fn geomeans(comparisons: &[Comparison]) -> Vec<SuiteSummary> {
    let mut suites: Vec<SuiteSummary> = Vec::new();
    let mut sums: Vec<f64> = Vec::new();
    for c in comparisons.iter().filter(|c| c.metric == "ns_per_op") {
        let Some(r) = c.ratio.filter(|r| *r > 0.0) else { continue };
        match suites.iter().position(|s| s.suite == c.suite) {
            Some(i) => {
                suites[i].benchmarks += 1;
                sums[i] += r.ln();
            }
            None => {
                suites.push(SuiteSummary { suite: c.suite.clone(), geomean_ratio: 0.0, benchmarks: 1 });
                sums.push(r.ln());
            }
        }
    }
    for (s, sum) in suites.iter_mut().zip(sums) {
        s.geomean_ratio = (sum / s.benchmarks as f64).exp();
    }
    suites
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::model::{Lane, Machine, Meta, Metrics, RunMode, SCHEMA_VERSION, Toolchain, WallEstimate};
    use crate::stats::SplitMix64;

    fn results(benches: Vec<BenchResult>) -> Results {
        Results {
            schema_version: SCHEMA_VERSION,
            meta: Meta {
                benchgate_version: "test".into(),
                started_at: "2026-11-21T00:00:00Z".into(),
                finished_at: None,
                partial: false,
                mode: RunMode::Quick,
                lanes: Lane::ALL.to_vec(),
                git: None,
                toolchain: Toolchain {
                    rustc_verbose: String::new(),
                    rustc_release: "1.95.0".into(),
                    target: "t".into(),
                },
                machine: Machine {
                    cpu_model: "cpu".into(),
                    cores: 2,
                    memory_bytes: 0,
                    os: "os".into(),
                    kernel: "k".into(),
                    arch: "x".into(),
                    fingerprint: "same".into(),
                },
            },
            benchmarks: benches,
        }
    }

    /// A benchmark whose samples are `center` times lognormal-ish noise of relative size `noise`.
    fn bench(id: &str, center: f64, noise: f64, n: usize, rng: &mut SplitMix64, allocs: f64) -> BenchResult {
        let samples: Vec<f64> = (0..n)
            .map(|_| {
                let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                center * (1.0 + noise * (u - 0.5))
            })
            .collect();
        BenchResult {
            id: id.into(),
            suite: id.split('/').next().unwrap().into(),
            name: "n".into(),
            param: None,
            throughput: None,
            metrics: Metrics {
                ns_per_op: Some(WallEstimate {
                    median: stats::median(&samples),
                    mean: stats::mean(&samples),
                    slope: stats::mean(&samples),
                    std_dev: stats::std_dev(&samples),
                    ci95: [0.0, 0.0],
                    sample_iters: vec![1; samples.len()],
                    samples,
                    warmup_iters: 1,
                }),
                allocs_per_op: Some(allocs),
                bytes_per_op: Some(allocs * 64.0),
                instructions_per_op: Some(1000.0 + allocs * 100.0),
                ..Metrics::default()
            },
            failures: BTreeMap::new(),
            skipped: BTreeMap::new(),
        }
    }

    fn suite(rng: &mut SplitMix64, factor: f64, extra_alloc_in: Option<usize>) -> Results {
        results(
            (0..50)
                .map(|i| {
                    let allocs = if extra_alloc_in == Some(i) { 3.0 } else { 2.0 };
                    bench(&format!("s/b{i:02}"), 1000.0 * (1.0 + i as f64) * factor, 0.1, 20, rng, allocs)
                })
                .collect(),
        )
    }

    #[test]
    fn a_file_compared_with_itself_never_regresses() {
        let mut rng = SplitMix64::new(1);
        for _ in 0..2 {
            let r = suite(&mut rng, 1.0, None);
            let v = compare(&r, &r, &crate::config::Config::builtin().gate);
            assert!(!v.regressed() && v.verdict == "pass");
        }
    }

    #[test]
    fn unchanged_code_measured_twice_gives_no_regression_across_fifty_benchmarks() {
        let mut rng = SplitMix64::new(2);
        for _ in 0..3 {
            let (a, b) = (suite(&mut rng, 1.0, None), suite(&mut rng, 1.0, None));
            let v = compare(&a, &b, &crate::config::Config::builtin().gate);
            let bad: Vec<_> = v.comparisons.iter().filter(|c| c.verdict == Verdict::Regressed).collect();
            assert!(bad.is_empty(), "{bad:#?}");
        }
    }

    #[test]
    fn a_uniformly_much_slower_head_always_regresses() {
        let mut rng = SplitMix64::new(3);
        for _ in 0..2 {
            let (a, b) = (suite(&mut rng, 1.0, None), suite(&mut rng, 1.5, None));
            let v = compare(&a, &b, &crate::config::Config::builtin().gate);
            let wall: Vec<_> = v.comparisons.iter().filter(|c| c.metric == "ns_per_op").collect();
            assert_eq!(wall.len(), 50);
            assert!(wall.iter().all(|c| c.verdict == Verdict::Regressed), "{wall:#?}");
            assert!((v.suites[0].geomean_ratio - 1.5).abs() < 0.05);
        }
    }

    #[test]
    fn a_single_extra_allocation_per_op_is_always_caught() {
        let mut rng = SplitMix64::new(4);
        for i in [0, 17, 49] {
            let (a, b) = (suite(&mut rng, 1.0, None), suite(&mut rng, 1.0, Some(i)));
            let v = compare(&a, &b, &crate::config::Config::builtin().gate);
            let hits: Vec<_> = v
                .comparisons
                .iter()
                .filter(|c| c.verdict == Verdict::Regressed && c.metric == "allocs_per_op")
                .collect();
            assert_eq!(hits.len(), 1);
            assert_eq!(hits[0].id, format!("s/b{i:02}"));
            assert_eq!(v.verdict, "fail");
        }
    }

    #[test]
    fn allocation_free_benchmarks_that_start_allocating_are_called_out() {
        let mut rng = SplitMix64::new(5);
        let a = results(vec![bench("s/x", 100.0, 0.1, 20, &mut rng, 0.0)]);
        let b = results(vec![bench("s/x", 100.0, 0.1, 20, &mut rng, 1.0)]);
        let v = compare(&a, &b, &crate::config::Config::builtin().gate);
        let c = v.comparisons.iter().find(|c| c.metric == "allocs_per_op").unwrap();
        assert_eq!(c.verdict, Verdict::Regressed);
        assert_eq!(c.note.as_deref(), Some("was allocation-free, now allocates"));
    }

    #[test]
    fn new_missing_and_failed_benchmarks_get_their_own_verdicts() {
        let mut rng = SplitMix64::new(6);
        let mut failed = bench("s/f", 100.0, 0.1, 20, &mut rng, 1.0);
        let base = results(vec![bench("s/gone", 1.0, 0.1, 20, &mut rng, 1.0), failed.clone()]);
        failed.failures.insert(
            Lane::Wall,
            crate::model::Failure { kind: crate::model::FailureKind::Panic, message: "boom".into() },
        );
        let head = results(vec![failed, bench("s/new", 1.0, 0.1, 20, &mut rng, 1.0)]);
        let v = compare(&base, &head, &crate::config::Config::builtin().gate);
        let verdict = |id: &str| v.comparisons.iter().find(|c| c.id == id).unwrap().verdict;
        assert_eq!(verdict("s/gone"), Verdict::Missing);
        assert_eq!(verdict("s/new"), Verdict::New);
        assert_eq!(verdict("s/f"), Verdict::Failed);
        assert!(v.failed() && v.verdict == "fail");
    }

    #[test]
    fn different_machines_report_wall_but_never_judge_it() {
        let mut rng = SplitMix64::new(7);
        let a = suite(&mut rng, 1.0, None);
        let mut b = suite(&mut rng, 2.0, None);
        b.meta.machine.fingerprint = "other".into();
        let v = compare(&a, &b, &crate::config::Config::builtin().gate);
        assert!(v.comparisons.iter().filter(|c| c.metric == "ns_per_op").all(|c| c.verdict == Verdict::Inconclusive));
        assert_eq!(v.warnings.len(), 1);
    }
}
