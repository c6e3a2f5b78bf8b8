//! The one place where a verdict is decided: two results files in, one [`Verdicts`] out.
//!
//! Each lane is judged its own way (README.md, "The gate"; ARCHITECTURE.md, "Two stages"):
//! - alloc: exact. Allocations or bytes per op above base by more than the tolerance (default zero)
//!   regress; a benchmark that was allocation-free and now allocates is called out.
//! - instr: a small relative threshold, since counts are deterministic for a given binary.
//! - wall, interleaved in one job (`run --compare`): the sign test on the per-round ratios. In two
//!   stages when the file says so (`meta.screen_p`): every benchmark's screening rounds, then fresh
//!   confirmation rounds for the candidates the screen flagged, with Benjamini-Hochberg over the
//!   candidates' confirmation p-values only. Separate runs: Welch's t-test on the round medians,
//!   Benjamini-Hochberg over all of them (reported, not judged, by default). Files without rounds
//!   (results format 1) fall back to Mann-Whitney U on the samples.
//!
//! A wall change regresses (improves) when it is significant after the correction and its estimate lies
//! beyond the threshold; it is unchanged only when its interval (labelled with its coverage) lies within
//! the threshold both ways, an equivalence statement; anything else is inconclusive, and
//! `gate.inconclusive` says what that does. The MDE each row states is the true ratio the gate detects
//! with 80% power at the alpha it applied ([`stats::power`]).
//!
//! Nothing is judged on missing evidence: a lane or benchmark that base has and head lacks is "missing",
//! a partial file, a failure in base, are listed as incomplete, and each has its exit code.
//!
//! Which thresholds apply where, which regressions are accepted and what noise floors were calibrated is
//! the [`Policy`]'s business (`gate`); a calibrated floor raises a benchmark's threshold, never lowers it.
//! Reporters render [`Verdicts`]; they never decide.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::gate::{OnInconclusive, Policy, Thresholds};
use crate::model::{BenchResult, Lane, Results, WallEstimate};
use crate::stats;
use crate::stats::power::{Noise, Stage};
use crate::stats::rounds::RoundTest;

/// The verdict of one metric of one benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
/// Declared in display order: what needs attention first.
pub enum Verdict {
    Regressed,
    Failed,
    Improved,
    Accepted,
    New,
    Missing,
    Inconclusive,
    Unchanged,
}

/// One compared metric with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub id: String,
    pub suite: String,
    /// The results-format name: `ns_per_op`, `allocs_per_op`, `bytes_per_op`, `instructions_per_op`;
    /// `benchmark` for a verdict on the whole benchmark (new, missing, failed).
    pub metric: String,
    /// The base's figure. For wall times measured in rounds: the median of the base's round medians.
    pub base: Option<f64>,
    /// The head's figure. For wall times measured in rounds: `base × ratio`, so that the two figures
    /// and the change always agree.
    pub head: Option<f64>,
    /// head / base; for wall times in rounds, the test's estimate (the median of per-round ratios when
    /// paired).
    pub ratio: Option<f64>,
    /// An interval of the ratio, of coverage `ci_level`.
    #[serde(alias = "ci95")]
    pub ci: Option<[f64; 2]>,
    /// The interval's coverage (0.95 for Welch's and Mann-Whitney's; the sign test's exact coverage,
    /// e.g. 0.969 over 6 rounds, 0.979 over 10).
    #[serde(default)]
    pub ci_level: Option<f64>,
    pub p_value: Option<f64>,
    pub p_adjusted: Option<f64>,
    /// The threshold that applied: a ratio - 1 for wall and instr, an absolute excess for alloc. It is
    /// the configured threshold, or the calibrated noise floor where that is larger.
    pub threshold: f64,
    /// The calibrated noise floor of this benchmark and metric, if any (same unit as `threshold`).
    pub noise_floor: Option<f64>,
    /// Wall only: the true ratio this comparison detects with 80% power at the alpha it applied (after
    /// the correction across benchmarks, with the test's discreteness and both stages); `None` when no
    /// ratio can be detected with these rounds.
    pub mde: Option<f64>,
    pub verdict: Verdict,
    /// Why, in a few words, when the numbers alone do not say it.
    pub note: Option<String>,
}

/// Everything a comparison decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdicts {
    /// `pass`, `fail` (a regression, a failure in head, or an inconclusive comparison under
    /// `gate.inconclusive = "fail"`) or `incomplete` (no failure, but evidence is missing: see
    /// `incomplete`).
    pub verdict: String,
    /// How it was judged, in one line: the thresholds, the tests and the correction.
    #[serde(default)]
    pub policy: String,
    /// What could not be judged and why: a lane or benchmark head lacks, a partial file, a failure in
    /// base. Non-empty makes the verdict at least `incomplete`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incomplete: Vec<String>,
    /// Inconclusive comparisons fail the gate (`gate.inconclusive = "fail"` and at least one).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inconclusive_fails: bool,
    /// Of the inconclusive comparisons, those the time budget left unresolved: wall lanes not timed
    /// for lack of time, and screen candidates without confirmation rounds. The first line says so.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub short_of_time: usize,
    pub comparisons: Vec<Comparison>,
    /// Geometric mean of ns/op ratios per suite, over benchmarks compared in the wall lane.
    pub suites: Vec<SuiteSummary>,
    /// What was compared (for a revision comparison: which commits), shown before the warnings; not
    /// something that needs attention.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<String>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuiteSummary {
    pub suite: String,
    pub geomean_ratio: f64,
    pub benchmarks: usize,
}

impl Verdicts {
    /// Adds evidence that is missing beyond what `compare` saw (a shard without results, for one),
    /// first in the list; a pass becomes incomplete, as `compare` decides it for its own gaps.
    pub fn add_incomplete(&mut self, why: String) {
        self.incomplete.insert(0, why);
        if self.verdict == "pass" {
            self.verdict = "incomplete".into();
        }
    }

    pub fn regressed(&self) -> bool {
        self.comparisons.iter().any(|c| c.verdict == Verdict::Regressed)
    }

    pub fn failed(&self) -> bool {
        self.comparisons.iter().any(|c| c.verdict == Verdict::Failed)
    }

    pub fn count(&self, v: Verdict) -> usize {
        self.comparisons.iter().filter(|c| c.verdict == v).count()
    }
}

/// The metrics a lane produces.
fn lane_metrics(lane: Lane) -> &'static [&'static str] {
    match lane {
        Lane::Wall => &["ns_per_op"],
        Lane::Alloc => &["allocs_per_op", "bytes_per_op"],
        Lane::Instr => &["instructions_per_op"],
    }
}

fn has_metric(b: &BenchResult, metric: &str) -> bool {
    match metric {
        "ns_per_op" => b.metrics.ns_per_op.is_some(),
        "allocs_per_op" => b.metrics.allocs_per_op.is_some(),
        "bytes_per_op" => b.metrics.bytes_per_op.is_some(),
        "instructions_per_op" => b.metrics.instructions_per_op.is_some(),
        _ => false,
    }
}

/// Compares `head` against `base` under `policy`.
pub fn compare(base: &Results, head: &Results, policy: &Policy<'_>) -> Verdicts {
    let mut warnings = Vec::new();
    let mut incomplete = Vec::new();
    let same_machine = base.meta.machine.fingerprint == head.meta.machine.fingerprint;
    if !same_machine {
        warnings.push(format!(
            "base and head ran on different machines ({} vs {}): wall times are reported, never judged",
            base.meta.machine.fingerprint, head.meta.machine.fingerprint
        ));
    }
    let same_toolchain = same_toolchain(&base.meta, &head.meta);
    if !same_toolchain {
        warnings.push(format!(
            "base and head were built by different toolchains (rustc {} vs {}): instruction counts are reported, \
             never judged",
            base.meta.toolchain.rustc_release, head.meta.toolchain.rustc_release
        ));
    }
    // Rounds pair up only when both sides carry the identifier of the one job that interleaved them.
    let paired = base.meta.pairing.is_some() && base.meta.pairing == head.meta.pairing;
    let two_stage = paired && base.meta.screen_p.is_some() && base.meta.screen_p == head.meta.screen_p;
    if !paired && !policy.gate.judge_separate_wall && base.benchmarks.iter().any(|b| b.metrics.ns_per_op.is_some()) {
        warnings.push(
            "base and head are separate runs: wall times are reported, not judged (only a same-job comparison, \
             `run --compare`, judges them; `gate.judge_separate_wall = true` judges them anyway)"
                .into(),
        );
    }
    if base.meta.mode != head.meta.mode {
        warnings.push(format!(
            "base ran in {} mode and head in {} mode: their settings differ",
            base.meta.mode, head.meta.mode
        ));
    }
    for (label, r) in [("base", base), ("head", head)] {
        if r.meta.partial {
            incomplete.push(format!(
                "{label} is partial (interrupted or still running): it holds {} benchmark{}, those that finished",
                r.benchmarks.len(),
                if r.benchmarks.len() == 1 { "" } else { "s" }
            ));
        }
    }
    for lane in base.meta.lanes.iter().filter(|l| !head.meta.lanes.contains(l)) {
        incomplete.push(format!("head did not run the {lane} lane, which base ran: its metrics are missing"));
    }
    if let Some(n) = policy.noise {
        if n.machine.fingerprint != head.meta.machine.fingerprint {
            warnings.push(format!(
                "the noise floors (runner class {}) were calibrated on another machine ({} vs {})",
                n.runner_class, n.machine.fingerprint, head.meta.machine.fingerprint
            ));
        }
        if n.mode != head.meta.mode {
            warnings.push(format!(
                "the noise floors were calibrated in {} mode, head ran in {} mode",
                n.mode, head.meta.mode
            ));
        }
    }
    for a in policy.accept.iter().filter(|a| a.expired(&policy.today)) {
        warnings.push(format!(
            "accept entry for {} {} expired on {} and no longer applies ({})",
            a.bench, a.metric, a.expires, a.reason
        ));
    }
    // A lane a side skipped has no verdict; say which, for how many benchmarks, and why.
    let mut skipped: BTreeMap<(Lane, &str), BTreeSet<&str>> = BTreeMap::new();
    for b in base.benchmarks.iter().chain(&head.benchmarks) {
        for (lane, why) in &b.skipped {
            skipped.entry((*lane, why.as_str())).or_default().insert(b.id.as_str());
        }
    }
    for ((lane, why), ids) in skipped {
        let n = ids.len();
        warnings.push(format!(
            "{lane} not measured for {n} benchmark{}, so not judged: {why}",
            if n == 1 { "" } else { "s" }
        ));
    }
    let ids: BTreeSet<&str> = base.benchmarks.iter().chain(&head.benchmarks).map(|b| b.id.as_str()).collect();
    // Indexed by id: linear in the number of benchmarks (a search per id made 8,000 take 30 s).
    fn index(r: &Results) -> BTreeMap<&str, &BenchResult> {
        r.benchmarks.iter().map(|b| (b.id.as_str(), b)).collect()
    }
    let (base_by_id, head_by_id) = (index(base), index(head));
    let mut out = Vec::new();
    let mut wall: Vec<(usize, WallEvidence)> = Vec::new();
    let (mut missing_metrics, mut base_failed, mut only_base, mut not_timed) = (0usize, 0usize, 0usize, 0usize);
    for id in ids {
        let (b, h) = (base_by_id.get(id).copied(), head_by_id.get(id).copied());
        match (b, h) {
            (None, Some(h)) => out.push(whole(h, Verdict::New, "only in head")),
            (Some(b), None) => {
                only_base += 1;
                out.push(whole(b, Verdict::Missing, "only in base"));
            }
            (Some(b), Some(h)) if h.failed() => {
                let lanes: Vec<String> = h.failures.keys().map(|l| l.to_string()).collect();
                out.push(whole(b, Verdict::Failed, &format!("failed in head ({})", lanes.join(", "))));
            }
            (Some(b), Some(h)) => {
                if b.failed() {
                    base_failed += 1;
                    let lanes: Vec<String> = b.failures.keys().map(|l| l.to_string()).collect();
                    let note = format!("failed in base ({}): those lanes are not judged", lanes.join(", "));
                    out.push(whole(b, Verdict::Inconclusive, &note));
                }
                // What base measured and head did not: missing evidence, not silence.
                for lane in Lane::ALL {
                    for metric in lane_metrics(lane) {
                        if has_metric(b, metric) && !has_metric(h, metric) {
                            missing_metrics += 1;
                            let why = h.skipped.get(&lane).map_or_else(
                                || format!("head has no {metric}, base has"),
                                |w| format!("head did not measure it: {w}"),
                            );
                            let mut c = whole(h, Verdict::Missing, &why);
                            c.metric = (*metric).into();
                            out.push(c);
                        }
                    }
                }
                // Wall rounds the budget had no time for (neither side has a figure): inconclusive, not
                // silence. A base figure without head's is "missing", above.
                let starved = h.skipped.get(&Lane::Wall).is_some_and(|w| w.starts_with(crate::interleave::NO_TIME));
                if starved && h.metrics.ns_per_op.is_none() && b.metrics.ns_per_op.is_none() {
                    not_timed += 1;
                    let mut c = whole(h, Verdict::Inconclusive, "not timed: the time budget ran out");
                    c.metric = "ns_per_op".into();
                    out.push(c);
                }
                let t = policy.gate.thresholds(&h.id, &h.suite);
                let floor = |metric: &str| policy.noise.and_then(|n| n.floor(&h.id, metric));
                out.extend(alloc(b, h, &t, &floor));
                out.extend(instr(b, h, &t, floor("instructions_per_op"), same_toolchain));
                if let Some(e) = wall_evidence(b, h, &t, floor("ns_per_op"), paired, two_stage) {
                    wall.push((out.len(), e));
                    out.push(placeholder(h));
                }
            }
            (None, None) => unreachable!("ids come from base or head"),
        }
    }
    if only_base > 0 {
        incomplete.push(format!("{only_base} benchmark{} of base not in head (\"missing\")", plural(only_base)));
    }
    if missing_metrics > 0 {
        incomplete.push(format!(
            "{missing_metrics} metric{} base measured and head did not (\"missing\")",
            plural(missing_metrics)
        ));
    }
    if base_failed > 0 {
        incomplete.push(format!(
            "{base_failed} benchmark{} failed in base: the failed lanes have nothing to compare with",
            plural(base_failed)
        ));
    }
    let stages = judge_walls(&mut out, wall, policy, same_machine, paired, same_toolchain);
    for c in out.iter_mut().filter(|c| c.verdict == Verdict::Regressed) {
        accept(c, policy);
    }
    let suites = geomeans(&out);
    let inconclusive = out.iter().filter(|c| c.verdict == Verdict::Inconclusive).count();
    let inconclusive_fails = inconclusive > 0 && policy.gate.inconclusive == OnInconclusive::Fail;
    let fail = out.iter().any(|c| matches!(c.verdict, Verdict::Regressed | Verdict::Failed)) || inconclusive_fails;
    if inconclusive > 0 && policy.gate.inconclusive != OnInconclusive::Pass {
        warnings.insert(
            0,
            format!(
                "{inconclusive} comparison{} inconclusive: the evidence shows neither a change beyond the threshold \
                 nor that the change lies within it (gate.inconclusive = \"{}\")",
                if inconclusive == 1 { " is" } else { "s are" },
                policy.gate.inconclusive
            ),
        );
    }
    Verdicts {
        verdict: if fail {
            "fail"
        } else if !incomplete.is_empty() {
            "incomplete"
        } else {
            "pass"
        }
        .into(),
        policy: policy_line(policy, &stages, paired),
        incomplete,
        inconclusive_fails,
        short_of_time: not_timed + stages.unconfirmed,
        comparisons: out,
        suites,
        context: Vec::new(),
        warnings,
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// How the wall lane was tested, for the policy line.
#[derive(Debug, Default)]
struct StageCounts {
    /// Benchmarks screened in two-stage files, and of them the candidates confirmed.
    screened: usize,
    confirmed: usize,
    /// Candidates without confirmation rounds.
    unconfirmed: usize,
    /// One-stage tests (paired, Welch or Mann-Whitney).
    single: usize,
}

fn policy_line(policy: &Policy<'_>, s: &StageCounts, paired: bool) -> String {
    let g = policy.gate;
    let wall = if s.screened > 0 {
        format!(
            "wall: paired sign test in two stages, {} benchmarks screened (candidate at p <= {}), {} confirmed on \
             fresh rounds with Benjamini-Hochberg at FDR {} over the candidates{}",
            s.screened,
            stats::rounds::SCREEN_P,
            s.confirmed,
            g.fdr,
            if s.unconfirmed > 0 { format!(", {} left unconfirmed", s.unconfirmed) } else { String::new() }
        )
    } else if paired {
        format!("wall: paired sign test, Benjamini-Hochberg at FDR {} over {} benchmarks", g.fdr, s.single)
    } else if g.judge_separate_wall {
        format!(
            "wall: Welch's t-test on round medians, Benjamini-Hochberg at FDR {} over {} benchmarks",
            g.fdr, s.single
        )
    } else {
        "wall: separate runs, reported and not judged".to_owned()
    };
    format!(
        "policy: {wall}; a change counts when significant and beyond {} ({} between separate runs), unchanged \
         when its interval lies within that; instr beyond {}; alloc beyond {} allocations, {} bytes; \
         inconclusive: {}{}{}",
        pct_text(g.wall_ratio_interleaved),
        pct_text(g.wall_ratio),
        pct_text(g.instr_ratio),
        g.alloc_allocs,
        g.alloc_bytes,
        g.inconclusive,
        if g.suite.is_empty() && g.bench.is_empty() { "" } else { "; per-suite or per-benchmark thresholds apply" },
        match (policy.accept.len(), policy.noise) {
            (0, None) => String::new(),
            (a, n) => format!(
                "; {a} accept entr{}{}",
                if a == 1 { "y" } else { "ies" },
                if n.is_some() { ", calibrated noise floors" } else { "" }
            ),
        }
    )
}

fn pct_text(r: f64) -> String {
    format!("{}%", (r * 1000.0).round() / 10.0)
}

/// Turns a regression into "accepted" when a current `[[accept]]` entry covers it; says why not when an
/// entry names it but has expired or does not reach this far.
fn accept(c: &mut Comparison, policy: &Policy<'_>) {
    let (Some(head), named) = (c.head, policy.accept.iter().filter(|a| a.names(&c.id, &c.metric))) else { return };
    let mut why_not = None;
    for a in named {
        if a.expired(&policy.today) {
            why_not = Some(format!("accept entry expired on {}", a.expires));
        } else if a.covers(head, c.ratio) {
            c.verdict = Verdict::Accepted;
            c.note = Some(format!("until {}: {}", a.expires, a.reason));
            return;
        } else {
            why_not = Some("beyond what the accept entry allows".into());
        }
    }
    if let Some(w) = why_not {
        add_note(c, w);
    }
}

/// Adds `text` to the comparison's note, after what it says already.
fn add_note(c: &mut Comparison, text: String) {
    c.note = Some(match c.note.take() {
        Some(n) if !n.is_empty() => format!("{n}; {text}"),
        _ => text,
    });
}

fn whole(b: &BenchResult, verdict: Verdict, note: &str) -> Comparison {
    Comparison {
        id: b.id.clone(),
        suite: b.suite.clone(),
        metric: "benchmark".into(),
        base: None,
        head: None,
        ratio: None,
        ci: None,
        ci_level: None,
        p_value: None,
        p_adjusted: None,
        threshold: 0.0,
        noise_floor: None,
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
        ci: None,
        ci_level: None,
        p_value: None,
        p_adjusted: None,
        threshold,
        noise_floor: None,
        mde: None,
        verdict,
        note: None,
    }
}

/// Exact lane: any excess beyond the tolerance (or the calibrated floor, if larger) regresses. A side
/// counted in several processes (`alloc_runs`: threads took part, so the counts can move with the
/// scheduling) counts as the range of its runs, and a change counts only when the two sides' ranges lie
/// apart by more than the tolerance; a side counted once is the range of one value, which is the exact
/// rule. Seven runs a side apart under no change: 1/C(14,7) = 1/3432 each way ([`driver::ALLOC_RUNS`]).
fn alloc(b: &BenchResult, h: &BenchResult, t: &Thresholds, floor: &dyn Fn(&str) -> Option<f64>) -> Vec<Comparison> {
    let mut out = Vec::new();
    let pairs = [
        ("allocs_per_op", b.metrics.allocs_per_op, h.metrics.allocs_per_op, t.alloc_allocs),
        ("bytes_per_op", b.metrics.bytes_per_op, h.metrics.bytes_per_op, t.alloc_bytes),
    ];
    for (metric, base, head, configured) in pairs {
        let (Some(base), Some(head)) = (base, head) else { continue };
        let per_op = |c: &crate::model::AllocCounts| {
            (if metric == "allocs_per_op" { c.allocs } else { c.bytes }) as f64 / c.iters as f64
        };
        let range = |r: &BenchResult, value: f64| -> [f64; 2] {
            r.metrics.alloc_runs.iter().map(per_op).fold([value, value], |[lo, hi], v| [lo.min(v), hi.max(v)])
        };
        let ([blo, bhi], [hlo, hhi]) = (range(b, base), range(h, head));
        let noise = floor(metric);
        let tolerance = configured.max(noise.unwrap_or(0.0));
        let verdict = ranges_verdict([blo, bhi], [hlo, hhi], |v| v + tolerance);
        let mut c = scalar(h, metric, base, head, tolerance, verdict);
        c.noise_floor = noise;
        if metric == "allocs_per_op" && bhi == 0.0 && hlo > 0.0 {
            c.note = Some("was allocation-free, now allocates".into());
        }
        let runs = (b.metrics.alloc_runs.len(), h.metrics.alloc_runs.len());
        if runs != (0, 0) {
            let side = |lo: f64, hi: f64, n: usize| {
                let n = n.max(1);
                if lo == hi {
                    format!("{} in {n} run{}", per_op_text(lo), plural(n))
                } else {
                    format!("{}-{} over {n} runs", per_op_text(lo), per_op_text(hi))
                }
            };
            add_note(
                &mut c,
                format!(
                    "threads took part, so the counts can move with the scheduling: base {}, head {}; judged on \
                     the ranges",
                    side(blo, bhi, runs.0),
                    side(hlo, hhi, runs.1)
                ),
            );
        }
        out.push(c);
    }
    out
}

/// A per-op count as a note shows it: whole numbers whole, others to three significant digits.
fn per_op_text(v: f64) -> String {
    if v.fract() == 0.0 { format!("{v:.0}") } else { crate::report::sig3(v) }
}

/// Whether both sides were built by one toolchain for one target: instruction counts of different
/// toolchains are not comparable.
pub(crate) fn same_toolchain(base: &crate::model::Meta, head: &crate::model::Meta) -> bool {
    base.toolchain.rustc_verbose == head.toolchain.rustc_verbose && base.toolchain.target == head.toolchain.target
}

/// The rule of the exact lanes on the two sides' ranges `[lo, hi]` of a count (a side counted once is a
/// range of one value): a change only when the ranges lie apart by more than the tolerance, that is
/// when head's lowest lies above `beyond(base's highest)` or `beyond(head's highest)` below base's
/// lowest (`beyond` adds the tolerance; increasing). Seven exchangeable counts a side lie apart 1 in
/// C(14,7) = 3432 times each way.
fn ranges_verdict(base: [f64; 2], head: [f64; 2], beyond: impl Fn(f64) -> f64) -> Verdict {
    let ([blo, bhi], [hlo, hhi]) = (base, head);
    if hlo > beyond(bhi) {
        Verdict::Regressed
    } else if beyond(hhi) < blo {
        Verdict::Improved
    } else {
        Verdict::Unchanged
    }
}

/// The instr lane's rule ([`ranges_verdict`] with the relative threshold) on ranges of instructions per
/// op. `interleave` asks it of the first counts to decide which benchmarks to count again.
pub(crate) fn instr_verdict(base: [f64; 2], head: [f64; 2], threshold: f64) -> Verdict {
    if base[0] <= 0.0 { Verdict::Unchanged } else { ranges_verdict(base, head, |v| v * (1.0 + threshold)) }
}

/// Near-exact lane: a relative threshold (or the calibrated floor, if larger). A side counted in several
/// processes (`instr_runs`: its first count differed from the other side's beyond the threshold, so both
/// were counted again) counts as the range of its runs ([`instr_verdict`]). Counts from different
/// toolchains are not comparable: reported, not judged.
fn instr(
    b: &BenchResult,
    h: &BenchResult,
    t: &Thresholds,
    noise: Option<f64>,
    same_toolchain: bool,
) -> Option<Comparison> {
    let (base, head) = (b.metrics.instructions_per_op?, h.metrics.instructions_per_op?);
    let threshold = t.instr_ratio.max(noise.unwrap_or(0.0));
    let range = |r: &BenchResult, value: f64| -> [f64; 2] {
        r.metrics
            .instr_runs
            .iter()
            .map(crate::model::InstrCounts::instructions_per_op)
            .fold([value, value], |[lo, hi], v| [lo.min(v), hi.max(v)])
    };
    let (br, hr) = (range(b, base), range(h, head));
    let verdict = if same_toolchain { instr_verdict(br, hr, threshold) } else { Verdict::Inconclusive };
    let mut c = scalar(h, "instructions_per_op", base, head, threshold, verdict);
    c.noise_floor = noise;
    if !same_toolchain {
        c.note = Some("different toolchains: not judged".into());
    }
    let runs = (b.metrics.instr_runs.len(), h.metrics.instr_runs.len());
    if runs != (0, 0) {
        let side = |[lo, hi]: [f64; 2], n: usize| {
            let n = n.max(1);
            if lo == hi {
                format!("{} in {n} count{}", crate::report::sig3(lo), plural(n))
            } else {
                format!("{}-{} over {n} counts", crate::report::sig3(lo), crate::report::sig3(hi))
            }
        };
        let text = if br[0] == br[1] && hr[0] == hr[1] {
            format!(
                "counted again, the same counts (base {}, head {}): the change is in the code, not in the counting",
                side(br, runs.0),
                side(hr, runs.1)
            )
        } else {
            format!(
                "the counts vary between processes of one binary (threads under valgrind's scheduling, a random \
                 seed): base {}, head {}; judged on the ranges",
                side(br, runs.0),
                side(hr, runs.1)
            )
        };
        add_note(&mut c, text);
    }
    Some(c)
}

/// What the wall lane of one benchmark has to go on, before the correction across benchmarks.
struct WallEvidence {
    /// The row, with its figures, interval and raw p-value; verdict and MDE still to come.
    c: Comparison,
    kind: Kind,
}

enum Kind {
    /// Two stages, a candidate with confirmation rounds: judged on those alone (their base and head
    /// figures, in round order, in `pairs`; `screen_sigma` is the screen's noise scale).
    Confirmed { screen_rounds: usize, screen_sigma: f64, confirm: RoundTest, pairs: (Vec<f64>, Vec<f64>) },
    /// Two stages, not a candidate: unchanged if the screen's interval shows it, never a change.
    Cleared { screen: RoundTest },
    /// Two stages, a candidate without (enough) confirmation rounds: not judged.
    Unconfirmed,
    /// One stage of paired rounds (files written before the two stages).
    Paired(RoundTest),
    /// Separate runs: Welch's t-test on round medians.
    Welch(RoundTest),
    /// No rounds (results format 1): Mann-Whitney U on the samples; base's samples and head's count
    /// give its MDE.
    MannWhitney { base: Vec<f64>, head_n: usize },
    /// Rounds that cannot be tested as they are, and why.
    Untested(String),
}

/// A round test's figures as a row: base is the median of base's round medians, head that times the
/// ratio, so that a row never contradicts itself (pooled sample medians can lie on the other side of
/// each other from the ratio when rounds differ).
fn round_row(h: &BenchResult, base_rounds: &[f64], test: &RoundTest, threshold: f64, note: String) -> Comparison {
    let mut c = scalar(h, "ns_per_op", 0.0, 0.0, threshold, Verdict::Inconclusive);
    round_figures(&mut c, base_rounds, test);
    c.note = Some(note);
    c
}

/// A row's figures from a round test ([`round_row`]).
fn round_figures(c: &mut Comparison, base_rounds: &[f64], test: &RoundTest) {
    let base_figure = stats::median(base_rounds);
    c.base = Some(base_figure);
    c.head = Some(base_figure * test.ratio);
    c.ratio = Some(test.ratio);
    c.ci = Some(test.ci);
    c.ci_level = Some(test.level);
    c.p_value = Some(test.p_value);
}

/// The wall lane's evidence. The unit of evidence is the round (one process) where both sides have
/// rounds:
/// - interleaved in one job (`paired`): the sign test on the per-round medians' ratios, with
///   `wall_ratio_interleaved`; calibrated floors do not apply, since the rounds measure this job's noise.
///   In two stages (`two_stage`), the screening rounds decide whether the benchmark is a candidate
///   ([`stats::rounds::screen_flags`]) and a candidate is judged on its confirmation rounds alone;
/// - separate runs: Welch's t-test on the round medians, with the larger of `wall_ratio` and the
///   calibrated noise floor.
///
/// Files without rounds fall back to Mann-Whitney U on the samples. Rounds that do not pair (a file
/// claims the same job but the two share fewer than 3 rounds) are not tested at all.
fn wall_evidence(
    b: &BenchResult,
    h: &BenchResult,
    t: &Thresholds,
    noise: Option<f64>,
    paired: bool,
    two_stage: bool,
) -> Option<WallEvidence> {
    let (bw, hw) = (b.metrics.ns_per_op.as_ref()?, h.metrics.ns_per_op.as_ref()?);
    let separate_threshold = t.wall_ratio.max(noise.unwrap_or(0.0));
    let untested = |why: String, threshold: f64| {
        let mut c = scalar(h, "ns_per_op", bw.median, hw.median, threshold, Verdict::Inconclusive);
        c.noise_floor = if paired { None } else { noise };
        Some(WallEvidence { c, kind: Kind::Untested(why) })
    };
    if bw.rounds.is_empty() && hw.rounds.is_empty() {
        let test = stats::rank::mann_whitney_u(&hw.samples, &bw.samples);
        let mut c = scalar(h, "ns_per_op", bw.median, hw.median, separate_threshold, Verdict::Inconclusive);
        c.noise_floor = noise;
        c.ratio = Some(hw.median / bw.median);
        c.ci = Some(stats::rank::ratio_of_medians_ci(&bw.samples, &hw.samples, 0.95));
        c.ci_level = Some(0.95);
        c.p_value = Some(test.p_value);
        return Some(WallEvidence {
            c,
            kind: Kind::MannWhitney { base: bw.samples.clone(), head_n: hw.samples.len() },
        });
    }
    let (mb, mh) = (round_medians(bw), round_medians(hw));
    if !paired {
        if mb.len() < 3 || mh.len() < 3 {
            return untested(format!("{} and {} rounds: too few to test", mb.len(), mh.len()), separate_threshold);
        }
        let (vb, vh): (Vec<f64>, Vec<f64>) = (mb.into_values().collect(), mh.into_values().collect());
        let Some(test) = stats::rounds::welch_log_ratio(&vb, &vh) else {
            return untested("round medians that are not positive".into(), separate_threshold);
        };
        let mut c = round_row(h, &vb, &test, separate_threshold, format!("Welch over {} rounds", test.rounds));
        c.noise_floor = noise;
        return Some(WallEvidence { c, kind: Kind::Welch(test) });
    }
    let threshold = t.wall_ratio_interleaved;
    let common = |from: u32, to: u32| -> (Vec<f64>, Vec<f64>) {
        mb.iter().filter(|(r, _)| (from..to).contains(*r) && mh.contains_key(r)).map(|(r, v)| (*v, mh[r])).unzip()
    };
    if !two_stage {
        let (vb, vh) = common(0, u32::MAX);
        let Some(test) = stats::rounds::paired_sign_test(&vb, &vh) else {
            return untested(format!("{} rounds in common: too few to pair", vb.len()), threshold);
        };
        let c = round_row(h, &vb, &test, threshold, format!("paired over {} rounds", test.rounds));
        return Some(WallEvidence { c, kind: Kind::Paired(test) });
    }
    if bw.confirm_from != hw.confirm_from {
        return untested("base and head disagree on where the confirmation rounds start".into(), threshold);
    }
    let from = hw.confirm_from.unwrap_or(u32::MAX);
    let (sb, sh) = common(0, from);
    let Some(screen) = stats::rounds::paired_sign_test(&sb, &sh) else {
        return untested(format!("{} screening rounds in common: too few to pair", sb.len()), threshold);
    };
    let (cb, ch) = common(from, u32::MAX);
    if hw.confirm_from.is_some()
        && let Some(confirm) = stats::rounds::paired_sign_test(&cb, &ch)
    {
        let note = format!(
            "screen p {:.2} over {} rounds; confirmed over {} fresh rounds",
            screen.p_value, screen.rounds, confirm.rounds
        );
        let c = round_row(h, &cb, &confirm, threshold, note);
        let kind =
            Kind::Confirmed { screen_rounds: screen.rounds, screen_sigma: screen.sigma, confirm, pairs: (cb, ch) };
        return Some(WallEvidence { c, kind });
    }
    if stats::rounds::screen_flags(&screen) {
        let note = format!(
            "screen p {:.2} over {} rounds made it a candidate, but it has {} confirmation rounds (no time left \
             for them): not judged",
            screen.p_value,
            screen.rounds,
            cb.len()
        );
        let c = round_row(h, &sb, &screen, threshold, note);
        return Some(WallEvidence { c, kind: Kind::Unconfirmed });
    }
    let note = format!("screen p {:.2} over {} rounds: not a candidate", screen.p_value, screen.rounds);
    let c = round_row(h, &sb, &screen, threshold, note);
    Some(WallEvidence { c, kind: Kind::Cleared { screen } })
}

/// The median of each round's samples, by round.
fn round_medians(w: &WallEstimate) -> BTreeMap<u32, f64> {
    let mut by_round: BTreeMap<u32, Vec<f64>> = BTreeMap::new();
    for (r, s) in w.rounds.iter().zip(&w.samples) {
        by_round.entry(*r).or_default().push(*s);
    }
    by_round.into_iter().map(|(r, v)| (r, stats::median(&v))).collect()
}

/// The power every MDE is stated at.
pub const POWER: f64 = 0.8;

/// Confirmations of at least this many rounds give the noise's shape: over fewer, a residual over its
/// benchmark's own small-sample scale lies beyond 3 far more often than the noise does (normal rounds:
/// 1.8% at 7 rounds, 1.1% at 11, 0.4% at 30, against 0.13%).
const SHAPE_ROUNDS: usize = 12;

/// Fewer pooled residuals than this give no shape (the normal is assumed).
const SHAPE_LEAST: usize = 100;

/// The shape of this job's noise ([`stats::power::Noise`]): the standardized residuals of every
/// confirmation of at least [`SHAPE_ROUNDS`] rounds, pooled and sorted; empty (normal) with fewer than
/// [`SHAPE_LEAST`]. Confirmation rounds only: the screens are short, and candidates are where an MDE
/// decides anything.
fn noise_shape(wall: &[(usize, WallEvidence)]) -> Vec<f64> {
    let mut z: Vec<f64> = Vec::new();
    for (_, e) in wall {
        if let Kind::Confirmed { pairs: (b, h), .. } = &e.kind
            && b.len() >= SHAPE_ROUNDS
        {
            z.extend(stats::power::residuals(&stats::rounds::log_ratios(b, h)));
        }
    }
    if z.len() < SHAPE_LEAST {
        return Vec::new();
    }
    z.sort_by(f64::total_cmp);
    z
}

/// Benjamini-Hochberg within each family of tests (the candidates' confirmations; the one-stage tests),
/// the MDE at the alpha each family applies to a lone change (FDR / its size: BH's first step), and the
/// verdicts, into `out`.
fn judge_walls(
    out: &mut [Comparison],
    mut wall: Vec<(usize, WallEvidence)>,
    policy: &Policy<'_>,
    same_machine: bool,
    paired: bool,
    same_toolchain: bool,
) -> StageCounts {
    let fdr = policy.gate.fdr;
    let confirmed = |k: &Kind| matches!(k, Kind::Confirmed { .. });
    let single = |k: &Kind| matches!(k, Kind::Paired(_) | Kind::Welch(_) | Kind::MannWhitney { .. });
    let mut counts = StageCounts::default();
    for (_, e) in &wall {
        match &e.kind {
            Kind::Confirmed { .. } => {
                counts.screened += 1;
                counts.confirmed += 1;
            }
            Kind::Cleared { .. } => counts.screened += 1,
            Kind::Unconfirmed => {
                counts.screened += 1;
                counts.unconfirmed += 1;
            }
            k if single(k) => counts.single += 1,
            _ => {}
        }
    }
    let (k, m) = (counts.confirmed.max(1) as f64, counts.single.max(1) as f64);
    let screen_stage = |n: usize| Stage { rounds: n, alpha: stats::rounds::SCREEN_P };
    let shape = noise_shape(&wall);
    let noise = |sigma: f64| Noise { sigma, shape: &shape };
    // A candidate is judged on the count of its confirmation rounds that detects the most at the alpha
    // of a lone change: a function of the count, the alpha and the screen's noise scale (normal, as the
    // planner takes it), none of them the confirmation's own figures, so the test keeps its level.
    let mut confirm_rounds = Vec::new();
    for (_, WallEvidence { c, kind }) in &mut wall {
        let Kind::Confirmed { screen_rounds, screen_sigma, confirm, pairs } = kind else { continue };
        let alpha = fdr / k;
        let judged = stats::power::judged_rounds(
            screen_stage(*screen_rounds),
            confirm.rounds,
            Noise::normal(*screen_sigma),
            alpha,
            c.threshold,
            POWER,
        );
        if judged < confirm.rounds
            && let Some(test) = stats::rounds::paired_sign_test(&pairs.0[..judged], &pairs.1[..judged])
        {
            round_figures(c, &pairs.0[..judged], &test);
            add_note(
                c,
                format!(
                    "judged on the first {judged} of the {}: the sign test at alpha {alpha:.2e} detects more over \
                     {judged}",
                    confirm.rounds
                ),
            );
            *confirm = test;
        }
        confirm_rounds.push(confirm.rounds as f64);
    }
    let adjust = |pick: &dyn Fn(&Kind) -> bool| -> Vec<f64> {
        let p: Vec<f64> = wall.iter().filter(|(_, e)| pick(&e.kind)).map(|(_, e)| e.c.p_value.unwrap_or(1.0)).collect();
        stats::fdr::benjamini_hochberg(&p)
    };
    let (mut adj_confirmed, mut adj_single) = (adjust(&confirmed).into_iter(), adjust(&single).into_iter());
    // What a benchmark that was not a candidate would have got: the candidates' typical confirmation.
    let typical_confirm =
        if confirm_rounds.is_empty() { None } else { Some(stats::median(&confirm_rounds).round() as usize) };
    for (slot, WallEvidence { mut c, kind }) in wall {
        let t = c.threshold;
        c.mde = match &kind {
            Kind::Confirmed { screen_rounds, confirm, .. } => {
                c.p_adjusted = adj_confirmed.next();
                let stages = [screen_stage(*screen_rounds), Stage { rounds: confirm.rounds, alpha: fdr / k }];
                stats::power::paired_mde(&stages, noise(confirm.sigma), t, POWER)
            }
            // A candidate without confirmation rounds could not be flagged in this run: no MDE.
            Kind::Unconfirmed => None,
            Kind::Cleared { screen } => {
                let alpha = fdr / (counts.confirmed + 1) as f64;
                let n2 = typical_confirm.unwrap_or(screen.rounds);
                let n2 =
                    stats::power::judged_rounds(screen_stage(screen.rounds), n2, noise(screen.sigma), alpha, t, POWER);
                let stages = [screen_stage(screen.rounds), Stage { rounds: n2, alpha }];
                stats::power::paired_mde(&stages, noise(screen.sigma), t, POWER)
            }
            Kind::Paired(test) => {
                c.p_adjusted = adj_single.next();
                let stage = Stage { rounds: test.rounds, alpha: fdr / m };
                stats::power::paired_mde(&[stage], noise(test.sigma), t, POWER)
            }
            Kind::Welch(test) => {
                c.p_adjusted = adj_single.next();
                stats::rounds::welch_mde(test, fdr / m, t, POWER)
            }
            Kind::MannWhitney { base, head_n } => {
                c.p_adjusted = adj_single.next();
                Some(stats::rank::min_detectable_ratio(base, *head_n, fdr / m, POWER).max(1.0 + t))
            }
            Kind::Untested(_) => None,
        };
        c.verdict = match &kind {
            _ if !same_machine => {
                c.note = Some("different machines: not judged".into());
                Verdict::Inconclusive
            }
            _ if !paired && !policy.gate.judge_separate_wall => {
                // Reported with its evidence; a separate run is no base for a wall verdict (see the config).
                c.note = Some("separate runs: reported, not judged".into());
                Verdict::Inconclusive
            }
            Kind::Untested(why) => {
                c.note = Some(why.clone());
                Verdict::Inconclusive
            }
            Kind::Unconfirmed => Verdict::Inconclusive,
            Kind::Cleared { .. } => {
                if within(&c) {
                    Verdict::Unchanged
                } else {
                    Verdict::Inconclusive
                }
            }
            _ => judge_wall(&c, fdr),
        };
        if c.mde.is_none() && !matches!(kind, Kind::Untested(_) | Kind::Unconfirmed) {
            add_note(&mut c, "too few rounds to detect any change at the alpha applied".into());
        }
        if matches!(c.verdict, Verdict::Regressed | Verdict::Improved) {
            let work = out.iter().find(|o| o.id == c.id && o.metric == "instructions_per_op");
            if let Some(r) = work.filter(|o| same_toolchain && o.base.is_some_and(|b| b > 0.0)).and_then(|o| o.ratio)
                && (r - 1.0).abs() <= SAME_WORK
            {
                let same = format!(
                    "instructions per op {:+.2}%: the time changed, not the work (code layout, caches or waiting)",
                    (r - 1.0) * 100.0
                );
                add_note(&mut c, same);
            }
        }
        out[slot] = c;
    }
    counts
}

/// Instruction counts within this ratio of base (either way) are "the same work": a wall change beside
/// them is noted as a change in how the code runs (measured: benchmarks in a rebuilt binary whose source
/// did not change moved +2% to +4% and -3.7% in wall time, consistently over five comparisons, with
/// instructions within 0.03%).
const SAME_WORK: f64 = 0.001;

/// The interval lies within the threshold both ways: the equivalence statement "unchanged" makes, at
/// the interval's coverage.
fn within(c: &Comparison) -> bool {
    c.ci.is_some_and(|[lo, hi]| lo >= 1.0 / (1.0 + c.threshold) && hi <= 1.0 + c.threshold)
}

/// A tested wall change counts when it is significant after the FDR correction, its interval excludes 1
/// and its estimate lies beyond the threshold (configured or calibrated). It is unchanged when its
/// interval lies within the threshold both ways; otherwise inconclusive.
fn judge_wall(c: &Comparison, fdr: f64) -> Verdict {
    let (Some(ratio), Some(p_adj), Some([lo, hi])) = (c.ratio, c.p_adjusted, c.ci) else {
        return Verdict::Inconclusive;
    };
    let significant = p_adj < fdr;
    if significant && lo > 1.0 && ratio > 1.0 + c.threshold {
        Verdict::Regressed
    } else if significant && hi < 1.0 && ratio < 1.0 / (1.0 + c.threshold) {
        Verdict::Improved
    } else if within(c) {
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
#[path = "compare_sim.rs"]
mod sim;

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::model::{Lane, Machine, Meta, Metrics, RunMode, SCHEMA_VERSION, Toolchain, WallEstimate};
    use crate::stats::SplitMix64;

    /// The built-in gate, judging wall times of separate runs too (what these tests exercise).
    fn judged() -> crate::gate::GateConfig {
        let mut g = crate::config::Config::builtin().gate;
        g.judge_separate_wall = true;
        g.inconclusive = OnInconclusive::Pass;
        g
    }

    #[test]
    fn by_default_separate_runs_report_wall_times_without_judging_them() {
        let mut rng = SplitMix64::new(13);
        let (a, b) = (suite(&mut rng, 1.0, None), suite(&mut rng, 1.5, Some(3)));
        let v = compare(&a, &b, &Policy::new(&crate::config::Config::builtin().gate));
        let wall: Vec<_> = v.comparisons.iter().filter(|c| c.metric == "ns_per_op").collect();
        assert!(wall.iter().all(|c| c.verdict == Verdict::Inconclusive && c.ratio.unwrap() > 1.3), "{wall:#?}");
        assert_eq!(wall[0].note.as_deref(), Some("separate runs: reported, not judged"));
        assert!(v.warnings.iter().any(|w| w.contains("separate runs")), "{:?}", v.warnings);
        // The deterministic lanes are judged as ever: the extra allocation fails the gate.
        let alloc: Vec<_> = v.comparisons.iter().filter(|c| c.verdict == Verdict::Regressed).collect();
        assert_eq!(alloc.len(), 3, "allocs, bytes and instructions of s/b03: {alloc:#?}");
        assert_eq!(v.verdict, "fail");
    }

    pub(super) fn results(benches: Vec<BenchResult>) -> Results {
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
                pairing: None,
                screen_p: None,
                libraries: BTreeMap::new(),
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
                    rounds: Vec::new(),
                    confirm_from: None,
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

    /// What `run`, `compare` and `check` exit with for these verdicts.
    fn exit(v: &Verdicts) -> i32 {
        crate::cli::gate_exit_code(v)
    }

    #[test]
    fn a_head_without_a_lane_base_ran_is_incomplete_with_exit_4() {
        let mut rng = SplitMix64::new(21);
        let (a, mut b) = (suite(&mut rng, 1.0, None), suite(&mut rng, 1.0, None));
        b.meta.lanes.retain(|l| *l != Lane::Instr);
        for x in &mut b.benchmarks {
            x.metrics.instructions_per_op = None;
        }
        let v = compare(&a, &b, &Policy::new(&judged()));
        let missing: Vec<_> = v.comparisons.iter().filter(|c| c.verdict == Verdict::Missing).collect();
        assert_eq!(missing.len(), 50, "one per benchmark's instructions");
        assert!(missing.iter().all(|c| c.metric == "instructions_per_op"));
        assert!(v.incomplete.iter().any(|i| i.contains("instr lane")), "{:?}", v.incomplete);
        assert_eq!((v.verdict.as_str(), exit(&v)), ("incomplete", crate::cli::exit_code::INCOMPLETE));
        // The other lanes are still judged: an extra allocation fails the gate over it.
        let mut b2 = b.clone();
        b2.benchmarks[3].metrics.allocs_per_op = Some(3.0);
        let v = compare(&a, &b2, &Policy::new(&judged()));
        assert_eq!((v.verdict.as_str(), exit(&v)), ("fail", crate::cli::exit_code::REGRESSION));
        assert!(!v.incomplete.is_empty(), "still says what was not judged");
    }

    #[test]
    fn a_partial_head_is_incomplete_and_its_absent_benchmarks_are_missing() {
        let mut rng = SplitMix64::new(22);
        let (a, mut b) = (suite(&mut rng, 1.0, None), suite(&mut rng, 1.0, None));
        b.meta.partial = true;
        b.benchmarks.truncate(20);
        let v = compare(&a, &b, &Policy::new(&judged()));
        assert_eq!(v.count(Verdict::Missing), 30);
        assert!(v.incomplete.iter().any(|i| i.starts_with("head is partial")), "{:?}", v.incomplete);
        assert!(v.incomplete.iter().any(|i| i.contains("30 benchmarks of base not in head")), "{:?}", v.incomplete);
        assert_eq!((v.verdict.as_str(), exit(&v)), ("incomplete", crate::cli::exit_code::INCOMPLETE));
    }

    #[test]
    fn a_failure_in_base_is_inconclusive_and_incomplete_one_in_head_fails() {
        let mut rng = SplitMix64::new(23);
        let (mut a, b) = (suite(&mut rng, 1.0, None), suite(&mut rng, 1.0, None));
        let failure = crate::model::Failure { kind: crate::model::FailureKind::Panic, message: "boom".into() };
        a.benchmarks[4].failures.insert(Lane::Wall, failure.clone());
        a.benchmarks[4].metrics.ns_per_op = None;
        let v = compare(&a, &b, &Policy::new(&judged()));
        let row = v.comparisons.iter().find(|c| c.id == "s/b04" && c.metric == "benchmark").unwrap();
        assert_eq!(row.verdict, Verdict::Inconclusive);
        assert!(row.note.as_deref().unwrap().contains("failed in base (wall)"), "{row:?}");
        assert!(v.incomplete.iter().any(|i| i.contains("1 benchmark failed in base")), "{:?}", v.incomplete);
        assert_eq!((v.verdict.as_str(), exit(&v)), ("incomplete", crate::cli::exit_code::INCOMPLETE));
        // gate.inconclusive = "fail" makes the same evidence fail the gate.
        let mut strict = judged();
        strict.inconclusive = OnInconclusive::Fail;
        let v = compare(&a, &b, &Policy::new(&strict));
        assert_eq!((v.verdict.as_str(), exit(&v)), ("fail", crate::cli::exit_code::REGRESSION));
        // A failure in head is the head's failure: exit 3.
        let mut h = b.clone();
        h.benchmarks[4].failures.insert(Lane::Wall, failure);
        let v = compare(&b, &h, &Policy::new(&judged()));
        assert_eq!((v.verdict.as_str(), exit(&v)), ("fail", crate::cli::exit_code::BENCH_FAILED));
    }

    #[test]
    fn a_file_compared_with_itself_never_regresses() {
        let mut rng = SplitMix64::new(1);
        for _ in 0..2 {
            let r = suite(&mut rng, 1.0, None);
            let v = compare(&r, &r, &Policy::new(&judged()));
            assert!(!v.regressed() && v.verdict == "pass");
        }
    }

    #[test]
    fn a_skipped_lane_has_no_verdict_and_a_warning_that_says_why() {
        let mut rng = SplitMix64::new(9);
        let (mut a, mut b) = (suite(&mut rng, 1.0, None), suite(&mut rng, 1.0, None));
        for r in [&mut a, &mut b] {
            for x in r.benchmarks.iter_mut().take(2) {
                x.metrics.ns_per_op = None;
                x.skipped.insert(Lane::Wall, "no time left".into());
            }
        }
        let v = compare(&a, &b, &Policy::new(&judged()));
        assert_eq!(v.comparisons.iter().filter(|c| c.metric == "ns_per_op").count(), 48);
        assert!(v.warnings.contains(&"wall not measured for 2 benchmarks, so not judged: no time left".to_owned()));
        assert_eq!(v.short_of_time, 0);
    }

    #[test]
    fn wall_rounds_the_budget_had_no_time_for_are_inconclusive_and_the_first_line_says_so() {
        let mut rng = SplitMix64::new(9);
        let (mut a, mut b) = (suite(&mut rng, 1.0, None), suite(&mut rng, 1.0, None));
        let why = format!("{}: 3s were left", crate::interleave::NO_TIME);
        for r in [&mut a, &mut b] {
            for x in r.benchmarks.iter_mut().take(3) {
                x.metrics.ns_per_op = None;
                x.skipped.insert(Lane::Wall, why.clone());
            }
        }
        let v = compare(&a, &b, &Policy::new(&judged()));
        let starved: Vec<&Comparison> =
            v.comparisons.iter().filter(|c| c.metric == "ns_per_op" && c.base.is_none()).collect();
        assert_eq!(starved.len(), 3);
        assert!(starved.iter().all(|c| c.verdict == Verdict::Inconclusive), "{starved:#?}");
        assert_eq!(v.short_of_time, 3);
        let first = crate::report::verdicts::summary_line(&v);
        assert!(first.contains("(3 for lack of time: the wall rounds did not fit the time budget"), "{first}");
        // Under gate.inconclusive = "fail" they fail the gate like any inconclusive comparison.
        let mut strict = judged();
        strict.inconclusive = OnInconclusive::Fail;
        assert_eq!(compare(&a, &b, &Policy::new(&strict)).verdict, "fail");
    }

    #[test]
    fn unchanged_code_measured_twice_gives_no_regression_across_fifty_benchmarks() {
        let mut rng = SplitMix64::new(2);
        for _ in 0..3 {
            let (a, b) = (suite(&mut rng, 1.0, None), suite(&mut rng, 1.0, None));
            let v = compare(&a, &b, &Policy::new(&judged()));
            let bad: Vec<_> = v.comparisons.iter().filter(|c| c.verdict == Verdict::Regressed).collect();
            assert!(bad.is_empty(), "{bad:#?}");
        }
    }

    #[test]
    fn a_uniformly_much_slower_head_always_regresses() {
        let mut rng = SplitMix64::new(3);
        for _ in 0..2 {
            let (a, b) = (suite(&mut rng, 1.0, None), suite(&mut rng, 1.5, None));
            let v = compare(&a, &b, &Policy::new(&judged()));
            let wall: Vec<_> = v.comparisons.iter().filter(|c| c.metric == "ns_per_op").collect();
            assert_eq!(wall.len(), 50);
            assert!(wall.iter().all(|c| c.verdict == Verdict::Regressed), "{wall:#?}");
            assert!((v.suites[0].geomean_ratio - 1.5).abs() < 0.05);
        }
    }

    #[test]
    fn a_wall_change_without_a_change_in_instructions_says_so() {
        let mut rng = SplitMix64::new(5);
        let (a, mut b) = (suite(&mut rng, 1.0, None), suite(&mut rng, 1.5, None));
        // Half of head's benchmarks do 2% more work (0.1%, the limit, in one): only the others are noted.
        for (i, x) in b.benchmarks.iter_mut().enumerate() {
            let grow = if i == 0 {
                1.001
            } else if i % 2 == 1 {
                1.02
            } else {
                1.0
            };
            x.metrics.instructions_per_op = x.metrics.instructions_per_op.map(|n| n * grow);
        }
        let v = compare(&a, &b, &Policy::new(&judged()));
        let wall: Vec<&Comparison> = v.comparisons.iter().filter(|c| c.metric == "ns_per_op").collect();
        let noted = |c: &&&Comparison| c.note.as_deref().unwrap_or("").contains("the time changed, not the work");
        assert!(wall.iter().all(|c| c.verdict == Verdict::Regressed));
        assert_eq!(wall.iter().filter(noted).count(), 25, "{wall:#?}");
        assert!(wall.iter().filter(noted).all(|c| c.id.trim_start_matches("s/b").parse::<u32>().unwrap() % 2 == 0));
        let first = wall.iter().find(|c| c.id == "s/b00").unwrap().note.clone().unwrap();
        assert!(first.starts_with("instructions per op +0.10%: the time changed"), "{first}");
    }

    #[test]
    fn a_single_extra_allocation_per_op_is_always_caught() {
        let mut rng = SplitMix64::new(4);
        for i in [0, 17, 49] {
            let (a, b) = (suite(&mut rng, 1.0, None), suite(&mut rng, 1.0, Some(i)));
            let v = compare(&a, &b, &Policy::new(&judged()));
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
        let v = compare(&a, &b, &Policy::new(&judged()));
        let c = v.comparisons.iter().find(|c| c.metric == "allocs_per_op").unwrap();
        assert_eq!(c.verdict, Verdict::Regressed);
        assert_eq!(c.note.as_deref(), Some("was allocation-free, now allocates"));
    }

    /// A benchmark whose alloc lane ran once per given count (allocations per op over 100 iters).
    fn threaded(rng: &mut SplitMix64, allocs: &[u64]) -> BenchResult {
        let runs: Vec<crate::model::AllocCounts> = allocs
            .iter()
            .map(|&a| crate::model::AllocCounts {
                iters: 100,
                allocs: a * 100,
                frees: a * 100,
                bytes: a * 6400,
                peak_live_bytes: 0,
                other_threads: a * 50,
                threads: 2,
            })
            .collect();
        let median = crate::driver::median_run(&runs).unwrap();
        let mut b = bench("q/t", 100.0, 0.1, 20, rng, median.allocs as f64 / 100.0);
        b.metrics.alloc = Some(median);
        b.metrics.alloc_runs = runs;
        b
    }

    #[test]
    fn threaded_counts_are_judged_on_their_ranges() {
        let mut rng = SplitMix64::new(11);
        let verdict = |base: &[u64], head: &[u64], rng: &mut SplitMix64| {
            let (a, b) = (results(vec![threaded(rng, base)]), results(vec![threaded(rng, head)]));
            let v = compare(&a, &b, &Policy::new(&judged()));
            v.comparisons.into_iter().find(|c| c.metric == "allocs_per_op").unwrap()
        };
        // Overlapping ranges: the medians differ (2 against 4), but no count of head lies beyond base's.
        let c = verdict(&[0, 1, 2, 2, 3, 4, 5], &[1, 3, 4, 4, 4, 5, 5], &mut rng);
        assert_eq!(c.verdict, Verdict::Unchanged, "{c:?}");
        let note = c.note.unwrap();
        assert!(note.contains("base 0-5 over 7 runs, head 1-5 over 7 runs; judged on the ranges"), "{note}");
        // Apart: every head run allocates more than every base run.
        assert_eq!(verdict(&[0, 0, 1, 1, 1, 2, 2], &[3, 3, 4, 4, 4, 4, 6], &mut rng).verdict, Verdict::Regressed);
        assert_eq!(verdict(&[3, 3, 4, 4, 4, 4, 6], &[0, 0, 1, 1, 1, 2, 2], &mut rng).verdict, Verdict::Improved);
        // From nothing in every base run to something in every head run: called out as before.
        let c = verdict(&[0; 7], &[1, 1, 2, 1, 1, 1, 3], &mut rng);
        assert_eq!(c.verdict, Verdict::Regressed);
        assert!(c.note.unwrap().starts_with("was allocation-free, now allocates"));
        // Threads took part, but every run counted the same: as exact as one count.
        let c = verdict(&[2; 7], &[3; 7], &mut rng);
        assert_eq!(c.verdict, Verdict::Regressed);
        assert!(c.note.unwrap().contains("base 2 in 7 runs, head 3 in 7 runs"));
        // One side counted once (a baseline from before threads were told apart): its one value.
        let (a, b) = (
            results(vec![bench("q/t", 100.0, 0.1, 20, &mut rng, 2.0)]),
            results(vec![threaded(&mut rng, &[1, 2, 2, 3, 3, 3, 4])]),
        );
        let c = compare(&a, &b, &Policy::new(&judged())).comparisons.into_iter().find(|c| c.metric == "allocs_per_op");
        assert_eq!(c.unwrap().verdict, Verdict::Unchanged);
    }

    /// A benchmark whose instr lane was counted once per given count of instructions per op (over 10
    /// extra iterations, so tenths are exact).
    fn counted(rng: &mut SplitMix64, per_op: &[f64]) -> BenchResult {
        let runs: Vec<crate::model::InstrCounts> = per_op
            .iter()
            .map(|&p| crate::model::InstrCounts {
                iters: [1, 11],
                instructions: [50_000, 50_000 + (p * 10.0).round() as u64],
                estimated_cycles: None,
                setup_instructions: None,
                setup_estimated_cycles: None,
            })
            .collect();
        let median = crate::driver::median_instr_run(&runs).unwrap();
        let mut b = bench("q/t", 100.0, 0.1, 20, rng, 0.0);
        b.metrics.instructions_per_op = Some(median.instructions_per_op());
        b.metrics.instr = Some(median);
        if runs.len() > 1 {
            b.metrics.instr_runs = runs;
        }
        b
    }

    #[test]
    fn instruction_counts_counted_again_are_judged_on_their_ranges() {
        let mut rng = SplitMix64::new(12);
        let mut verdict = |base: &[f64], head: &[f64]| {
            let (a, b) = (results(vec![counted(&mut rng, base)]), results(vec![counted(&mut rng, head)]));
            let v = compare(&a, &b, &Policy::new(&judged()));
            v.comparisons.into_iter().find(|c| c.metric == "instructions_per_op").unwrap()
        };
        // The threshold is 0.5%. Counts that repeat: the exact rule, and a note that they repeated.
        let c = verdict(&[100_000.0, 100_000.0], &[101_000.0, 101_000.0]);
        assert_eq!(c.verdict, Verdict::Regressed, "{c:?}");
        let note = c.note.unwrap();
        assert!(note.starts_with("counted again, the same counts (base 100000 in 2 counts"), "{note}");
        // Counts that vary: the medians are 1% apart, the ranges overlap.
        let base = [99_700.0, 99_800.0, 100_000.0, 100_000.0, 100_100.0, 100_300.0, 100_900.0];
        let head = [100_400.0, 100_700.0, 100_900.0, 101_000.0, 101_100.0, 101_200.0, 101_600.0];
        let c = verdict(&base, &head);
        assert_eq!((c.base, c.head), (Some(100_000.0), Some(101_000.0)));
        assert_eq!(c.verdict, Verdict::Unchanged, "{c:?}");
        let note = c.note.unwrap();
        assert!(note.contains("base 99700-100900 over 7 counts, head 100400-101600 over 7"), "{note}");
        // Apart by more than the threshold, both ways; apart by less is no change.
        let head: Vec<f64> = base.iter().map(|b| b + 2_000.0).collect();
        assert_eq!(verdict(&base, &head).verdict, Verdict::Regressed);
        assert_eq!(verdict(&head, &base).verdict, Verdict::Improved);
        let head: Vec<f64> = base.iter().map(|b| b * 1.009 + 1.0).collect();
        assert_eq!(verdict(&base, &head).verdict, Verdict::Unchanged, "the ranges overlap");
        // One count a side is a range of one value: the rule as it was.
        assert_eq!(verdict(&[1000.0], &[1005.1]).verdict, Verdict::Regressed);
        assert_eq!(verdict(&[1000.0], &[1004.9]).verdict, Verdict::Unchanged);
    }

    /// Seven counts a side drawn from one distribution (exchangeable runs, no change): the rule calls
    /// them changed only when the two ranges lie apart, which happens 1 in C(14,7) = 3432 times each way,
    /// the figure `driver::ALLOC_RUNS` and README state. 1,000,000 simulated pairs, no tolerance: 291.4
    /// expected each way (sd 17.1); with the instr lane's 0.5% on counts spread by 0.2% (std's HashMap
    /// seeds, measured), fewer still.
    #[test]
    fn seven_counts_a_side_drawn_alike_are_called_changed_one_in_3432_times_each_way() {
        let mut rng = SplitMix64::new(3432);
        let range = |rng: &mut SplitMix64, spread: f64| {
            (0..7)
                .map(|_| 1e6 * (1.0 + spread * ((rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 - 0.5)))
                .fold([f64::INFINITY, f64::NEG_INFINITY], |[lo, hi], v| [lo.min(v), hi.max(v)])
        };
        let (mut up, mut down, mut instr) = (0, 0, 0);
        for _ in 0..1_000_000 {
            let (b, h) = (range(&mut rng, 0.01), range(&mut rng, 0.01));
            match ranges_verdict(b, h, |v| v) {
                Verdict::Regressed => up += 1,
                Verdict::Improved => down += 1,
                Verdict::Unchanged => {}
                other => panic!("{other:?}"),
            }
            let (b, h) = (range(&mut rng, 0.004), range(&mut rng, 0.004));
            if instr_verdict(b, h, 0.005) != Verdict::Unchanged {
                instr += 1;
            }
        }
        assert!((240..=343).contains(&up) && (240..=343).contains(&down), "{up} regressed, {down} improved");
        assert_eq!(instr, 0, "counts within 0.4% are never 0.5% apart");
    }

    #[test]
    fn median_run_is_the_middle_one_by_allocations_then_bytes() {
        let run = |allocs: u64, bytes: u64| crate::model::AllocCounts {
            iters: 10,
            allocs,
            frees: allocs,
            bytes,
            peak_live_bytes: 0,
            other_threads: 0,
            threads: 2,
        };
        let runs = [run(30, 10), run(10, 99), run(20, 5), run(20, 1), run(50, 0)];
        assert_eq!(crate::driver::median_run(&runs), Some(run(20, 5)));
        assert_eq!(crate::driver::median_run(&[]), None);
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
        let v = compare(&base, &head, &Policy::new(&judged()));
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
        let v = compare(&a, &b, &Policy::new(&judged()));
        assert!(v.comparisons.iter().filter(|c| c.metric == "ns_per_op").all(|c| c.verdict == Verdict::Inconclusive));
        assert_eq!(v.warnings.len(), 1);
    }

    fn accept_entry(expires: &str, max_ratio: f64) -> crate::gate::Accept {
        crate::gate::Accept {
            bench: "s/b1*".into(),
            metric: "allocs_per_op".into(),
            max_ratio: Some(max_ratio),
            max_value: None,
            reason: "cache warms lazily now".into(),
            expires: expires.into(),
        }
    }

    #[test]
    fn accept_entries_apply_until_they_expire_and_only_as_far_as_they_reach() {
        let mut rng = SplitMix64::new(8);
        let (a, b) = (suite(&mut rng, 1.0, None), suite(&mut rng, 1.0, Some(12)));
        let gate = judged();
        let verdict_of = |accept: &[crate::gate::Accept]| {
            let policy = Policy { gate: &gate, accept, noise: None, today: "2026-11-22".into() };
            let v = compare(&a, &b, &policy);
            let get = |m: &str| v.comparisons.iter().find(|c| c.id == "s/b12" && c.metric == m).unwrap().clone();
            (get("bytes_per_op").verdict, get("allocs_per_op"), v.warnings)
        };
        // The entry names allocs/op only: the bytes/op regression of the same benchmark still fails.
        let (bytes, c, warnings) = verdict_of(&[accept_entry("2026-11-22", 1.5)]);
        assert_eq!((bytes, c.verdict), (Verdict::Regressed, Verdict::Accepted));
        assert!(c.note.unwrap().contains("cache warms lazily now") && warnings.is_empty());
        let (_, c, warnings) = verdict_of(&[accept_entry("2026-11-21", 1.5)]);
        assert_eq!(c.verdict, Verdict::Regressed);
        assert!(c.note.unwrap().contains("expired on 2026-11-21"));
        assert!(warnings.iter().any(|w| w.contains("expired on 2026-11-21")), "{warnings:?}");
        let (_, c, _) = verdict_of(&[accept_entry("2027-01-01", 1.2)]);
        assert_eq!(c.verdict, Verdict::Regressed, "3/2 allocations is beyond 1.2");
    }

    #[test]
    fn a_calibrated_noise_floor_raises_the_threshold_of_its_benchmark_only() {
        let mut rng = SplitMix64::new(9);
        let (a, b) = (suite(&mut rng, 1.0, None), suite(&mut rng, 1.08, None));
        let gate = judged();
        let mut floors = crate::model::NoiseFloors {
            noise_schema_version: crate::model::NOISE_SCHEMA_VERSION,
            runner_class: "test".into(),
            created_at: "2026-11-22T00:00:00Z".into(),
            mode: RunMode::Quick,
            runs: 5,
            alpha: 0.001,
            machine: a.meta.machine.clone(),
            toolchain: a.meta.toolchain.clone(),
            benchmarks: BTreeMap::new(),
        };
        let floor = crate::model::Floor { floor: 0.12, spread: 0.05 };
        floors.benchmarks.entry("s/b07".into()).or_default().insert("ns_per_op".into(), floor);
        let policy = Policy { gate: &gate, accept: &[], noise: Some(&floors), today: "2026-11-22".into() };
        let v = compare(&a, &b, &policy);
        let wall = |id: &str| v.comparisons.iter().find(|c| c.id == id && c.metric == "ns_per_op").unwrap();
        assert_eq!(wall("s/b06").verdict, Verdict::Regressed);
        let c = wall("s/b07");
        assert_ne!(c.verdict, Verdict::Regressed);
        assert_eq!((c.threshold, c.noise_floor), (0.12, Some(0.12)));
    }

    #[test]
    fn instruction_counts_of_different_toolchains_are_not_judged() {
        let mut rng = SplitMix64::new(10);
        let a = suite(&mut rng, 1.0, None);
        let mut b = a.clone();
        b.meta.toolchain.rustc_verbose = "rustc 1.96.0".into();
        for x in &mut b.benchmarks {
            x.metrics.instructions_per_op = x.metrics.instructions_per_op.map(|i| i * 1.5);
        }
        let v = compare(&a, &b, &Policy::new(&judged()));
        let instr: Vec<_> = v.comparisons.iter().filter(|c| c.metric == "instructions_per_op").collect();
        assert!(instr.iter().all(|c| c.verdict == Verdict::Inconclusive));
        assert!(v.warnings.iter().any(|w| w.contains("different toolchains")));
        assert_eq!(v.verdict, "pass");
    }

    /// Interleaved sides: every round shares a drift factor (up to ±15%) on both sides, as a noisy
    /// machine would impose; within a round the samples vary by 1%.
    fn interleaved(rng: &mut SplitMix64, factor: f64, rounds: u32) -> (Results, Results) {
        let mut sides = [Vec::new(), Vec::new()];
        for i in 0..40 {
            let mut per_side: [(Vec<f64>, Vec<u32>); 2] = Default::default();
            for r in 0..rounds {
                let drift = 1.0 + 0.3 * ((rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 - 0.5);
                for (k, f) in [1.0, factor].into_iter().enumerate() {
                    for _ in 0..5 {
                        let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                        per_side[k].0.push(1000.0 * (1.0 + i as f64) * drift * f * (1.0 + 0.01 * (u - 0.5)));
                        per_side[k].1.push(r);
                    }
                }
            }
            for k in 0..2 {
                let mut b = bench(&format!("s/b{i:02}"), 1.0, 0.0, 1, rng, 2.0);
                let (samples, round) = std::mem::take(&mut per_side[k]);
                let w = b.metrics.ns_per_op.as_mut().unwrap();
                w.median = stats::median(&samples);
                w.sample_iters = vec![1; samples.len()];
                w.samples = samples;
                w.rounds = round;
                sides[k].push(b);
            }
        }
        let [a, b] = sides;
        let (mut a, mut b) = (results(a), results(b));
        a.meta.pairing = Some("job-1".into());
        b.meta.pairing = Some("job-1".into());
        (a, b)
    }

    /// The base and head figures of a wall row are those its change is computed from: head / base is
    /// the ratio, so the change column never has the opposite sign to the two figures (with pooled
    /// sample medians it did, on drifting rounds).
    #[test]
    fn a_paired_rows_base_and_head_agree_with_its_change() {
        let mut rng = SplitMix64::new(5);
        let gate = judged();
        let (mut disagreed_before, mut rows) = (0, 0);
        for factor in [1.0, 1.002, 0.998] {
            let (a, b) = interleaved(&mut rng, factor, 7);
            let v = compare(&a, &b, &Policy::new(&gate));
            for c in v.comparisons.iter().filter(|c| c.metric == "ns_per_op") {
                let (base, head, ratio) = (c.base.unwrap(), c.head.unwrap(), c.ratio.unwrap());
                assert!((head / base - ratio).abs() < 1e-12, "{c:?}");
                let pooled = |r: &Results| {
                    r.benchmarks.iter().find(|x| x.id == c.id).unwrap().metrics.ns_per_op.as_ref().unwrap().median
                };
                if (pooled(&b) / pooled(&a) - 1.0).signum() != (ratio - 1.0).signum() {
                    disagreed_before += 1;
                }
                rows += 1;
            }
        }
        // The data has rows where the pooled medians would have contradicted the change.
        assert!(disagreed_before > 0, "{disagreed_before} of {rows}");
    }

    #[test]
    fn interleaved_rounds_are_paired_so_shared_drift_cancels() {
        let mut rng = SplitMix64::new(12);
        let gate = judged();
        for _ in 0..3 {
            let (a, b) = interleaved(&mut rng, 1.0, 14);
            let v = compare(&a, &b, &Policy::new(&gate));
            let flagged: Vec<_> =
                v.comparisons.iter().filter(|c| matches!(c.verdict, Verdict::Regressed | Verdict::Improved)).collect();
            assert!(flagged.is_empty(), "{flagged:#?}");
            let c = v.comparisons.iter().find(|c| c.metric == "ns_per_op").unwrap();
            assert_eq!(c.note.as_deref(), Some("paired over 14 rounds"));
            assert!(c.mde.unwrap() < 1.02, "drift cancels: {c:?}");
        }
        // +3% is far below the ±15% drift, yet every benchmark is caught.
        let (a, b) = interleaved(&mut rng, 1.03, 14);
        let v = compare(&a, &b, &Policy::new(&gate));
        let wall: Vec<_> = v.comparisons.iter().filter(|c| c.metric == "ns_per_op").collect();
        assert!(wall.iter().all(|c| c.verdict == Verdict::Regressed), "{wall:#?}");
        // The same rounds from separate runs (no common job) are not paired: Welch's test over the
        // rounds sees the ±15% drift as noise and cannot resolve 3%, so it says so, without a regression.
        let (mut a, mut b) = interleaved(&mut rng, 1.03, 14);
        a.meta.pairing = None;
        b.meta.pairing = None;
        let v = compare(&a, &b, &Policy::new(&gate));
        let wall: Vec<_> = v.comparisons.iter().filter(|c| c.metric == "ns_per_op").collect();
        assert!(wall.iter().all(|c| c.note.as_deref() == Some("Welch over 14 rounds")), "{wall:#?}");
        assert!(wall.iter().all(|c| c.verdict == Verdict::Inconclusive), "{wall:#?}");
    }

    #[test]
    fn a_change_beyond_the_threshold_that_is_not_significant_is_inconclusive_not_unchanged() {
        // Measured (gzip-6 decompress, +2% injected): +1.75%, interval [+1.27%, +2.62%], MDE 0.95%, but
        // not significant after the correction across the suite.
        let c = Comparison {
            id: "s/b".into(),
            suite: "s".into(),
            metric: "ns_per_op".into(),
            base: Some(47.7),
            head: Some(48.5),
            ratio: Some(1.0175),
            ci: Some([1.0127, 1.0262]),
            ci_level: Some(0.979),
            p_value: Some(0.01),
            p_adjusted: Some(0.15),
            threshold: 0.01,
            noise_floor: None,
            mde: Some(1.0095),
            verdict: Verdict::Inconclusive,
            note: None,
        };
        assert_eq!(judge_wall(&c, 0.05), Verdict::Inconclusive);
        let within = Comparison { ratio: Some(1.004), ci: Some([0.998, 1.009]), ..c.clone() };
        assert_eq!(judge_wall(&within, 0.05), Verdict::Unchanged);
        let significant = Comparison { p_adjusted: Some(0.001), ..c };
        assert_eq!(judge_wall(&significant, 0.05), Verdict::Regressed);
    }
}
