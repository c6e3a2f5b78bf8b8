//! The decision gate of `benchgate profile`: rules from `benchgate.toml` (`[[profile.rule]]`) compared
//! with where a benchmark's instructions go, giving the matrix of rule, threshold, actual and
//! outcome, a primary recommendation, secondary opportunities ranked by estimated impact and effort,
//! and what not to optimize. Pure logic: the profile command gathers the inputs and writes the output.
//!
//! A rule looks at one thing (`when`): a cost category's share of the op's instructions
//! (`category = "compression"`), or a per-op figure (`metric = "allocs_per_op" | "bytes_per_op" |
//! "instructions_per_op" | "system_time_share"`; the last is the share of the op's CPU time spent in
//! the kernel, 0 to 1, measured natively by [`super::cputime`] because the instruction shares cannot
//! see it). It fires when the actual value is strictly greater than its threshold; an unknown value (a
//! category the profile does not have, allocations the profile did not count, CPU time not measured)
//! is "n/a" and never fires.
//!
//! The estimated impact of a rule's path is the share of the op's instructions it can reach: the
//! share of the category the rule targets (its `category`, or `targets` for a metric rule) times its
//! `reach`, the part of that category's cost the path can remove. A metric rule without `targets` has
//! no estimate and ranks after every rule that has one. The primary recommendation is the fired rule
//! with the largest impact (ties: lower effort, then rule order); the other fired rules are the
//! secondary opportunities, in the same order, each path listed once.
//!
//! What not to optimize, per benchmark:
//! - allocation-free: `allocs_per_op` is known and 0;
//! - negligible: a category some rule targets has a share below `negligible_share`;
//! - at the floor: among the benchmarks of one operation, the cheapest in instructions per op sets
//!   the floor, and a benchmark within `floor_ratio` of it is at the floor. Benchmarks are of one
//!   operation when their ids differ only in the second segment, the implementation: ids of the
//!   form `suite/impl/op[/param]` grouped as `suite/*/op[/param]` (`interning/*/intern-hit`,
//!   `compression/*/compress/metrics-10KB`). Ids with fewer than three segments, and groups of one
//!   benchmark, have no floor; `floor_ratio = 0` turns the check off.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::report::{format_bytes, format_count};

/// How much work a rule's path takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Effort {
    Low,
    Medium,
    High,
}

impl Effort {
    pub fn as_str(self) -> &'static str {
        match self {
            Effort::Low => "low",
            Effort::Medium => "medium",
            Effort::High => "high",
        }
    }
}

/// A per-op figure a rule can look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    AllocsPerOp,
    BytesPerOp,
    InstructionsPerOp,
    /// The kernel's part of the op's CPU time (system / (user + system)), 0 to 1.
    SystemTimeShare,
}

impl Metric {
    /// The name in `benchgate.toml` and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::AllocsPerOp => "allocs_per_op",
            Metric::BytesPerOp => "bytes_per_op",
            Metric::InstructionsPerOp => "instructions_per_op",
            Metric::SystemTimeShare => "system_time_share",
        }
    }

    /// Whether the figure is a share, 0 to 1 (its thresholds too).
    pub fn is_share(self) -> bool {
        matches!(self, Metric::SystemTimeShare)
    }

    /// The figure with its unit, for reports.
    fn format(self, v: f64) -> String {
        match self {
            Metric::AllocsPerOp => format!("{} allocs/op", format_count(v)),
            Metric::BytesPerOp => format!("{}/op", format_bytes(v)),
            Metric::InstructionsPerOp => format!("{} instr/op", format_count(v)),
            Metric::SystemTimeShare => percent(v),
        }
    }
}

fn one() -> f64 {
    1.0
}

/// A decision rule (`[[profile.rule]]`): when what it looks at exceeds `threshold`, recommend `path`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Rule {
    /// Short unique name, e.g. `compression`.
    pub name: String,
    /// Looks at this cost category's share of the op's instructions (0 to 1)...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// ...or at this per-op figure (exactly one of the two).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<Metric>,
    /// Fires when the actual value is greater: a share (0 to 1) for a category and a share metric
    /// (`system_time_share`), an absolute per-op figure for the other metrics.
    pub threshold: f64,
    /// The category whose cost the path reduces, for the impact estimate; a category rule targets its
    /// own category unless this says otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<String>,
    /// The part of the targeted category's cost the path can remove, 0 to 1.
    #[serde(default = "one")]
    pub reach: f64,
    /// The recommendation, e.g. "a faster codec or level (lz4, zstd -1), or compress less".
    pub path: String,
    /// Why the path helps.
    pub rationale: String,
    pub effort: Effort,
}

/// What a rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When<'a> {
    Category(&'a str),
    Metric(Metric),
}

impl Rule {
    /// What the rule looks at; `None` unless exactly one of `category` and `metric` is set.
    pub fn when(&self) -> Option<When<'_>> {
        match (&self.category, self.metric) {
            (Some(c), None) => Some(When::Category(c)),
            (None, Some(m)) => Some(When::Metric(m)),
            _ => None,
        }
    }

    /// The category whose cost the path reduces: `targets`, else the rule's own category.
    pub fn target(&self) -> Option<&str> {
        self.targets.as_deref().or(self.category.as_deref())
    }

    /// Checks the rule against the known category names (including `application`); on error returns
    /// `(key, problem)`, the key relative to the rule.
    pub fn validate(&self, categories: &[&str]) -> Result<(), (String, String)> {
        let err = |key: &str, problem: String| Err((key.to_owned(), problem));
        if self.name.trim().is_empty() {
            return err("name", "must not be empty".into());
        }
        let known = |name: &str| categories.contains(&name);
        let list = || categories.join(", ");
        match (&self.category, self.metric) {
            (None, None) => return err("category", "or `metric` is required: what the rule looks at".into()),
            (Some(_), Some(_)) => return err("metric", "and `category` are both set: a rule looks at one".into()),
            (Some(c), None) if !known(c) => {
                return err("category", format!("names an unknown cost category `{c}` (known: {})", list()));
            }
            _ => {}
        }
        if let Some(t) = &self.targets
            && !known(t)
        {
            return err("targets", format!("names an unknown cost category `{t}` (known: {})", list()));
        }
        check_threshold(self, self.threshold).map_err(|p| ("threshold".to_owned(), p))?;
        if !(self.reach.is_finite() && (0.0..=1.0).contains(&self.reach)) {
            return err("reach", "must be a share, 0 to 1".into());
        }
        if self.path.trim().is_empty() {
            return err("path", "must say what to do".into());
        }
        Ok(())
    }
}

/// Checks `threshold` for `rule`: a share for a category rule and a share metric, a figure 0 or more for
/// the other metric rules.
pub fn check_threshold(rule: &Rule, threshold: f64) -> Result<(), String> {
    if rule.metric.is_some_and(|m| !m.is_share()) {
        if !(threshold.is_finite() && threshold >= 0.0) {
            return Err("must be a finite number, 0 or more".into());
        }
    } else if !(threshold.is_finite() && (0.0..=1.0).contains(&threshold)) {
        return Err("must be a share, 0 to 1".into());
    }
    Ok(())
}

/// One category's part of a benchmark's op.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryCost {
    pub category: String,
    /// Part of the op's instructions, 0 to 1.
    pub share: f64,
    pub instructions_per_op: f64,
}

/// What the gate knows about one benchmark.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchInput {
    pub id: String,
    pub suite: String,
    pub instructions_per_op: f64,
    /// Every category's share (the profile's categories and `application`).
    pub categories: Vec<CategoryCost>,
    /// From the alloc lane, when it was measured.
    pub allocs_per_op: Option<f64>,
    pub bytes_per_op: Option<f64>,
    /// The kernel's part of the op's CPU time, 0 to 1, when it was measured ([`super::cputime`]).
    pub system_time_share: Option<f64>,
}

impl BenchInput {
    /// The share of `category`, if the profile has it.
    pub fn share(&self, category: &str) -> Option<f64> {
        self.categories.iter().find(|c| c.category == category).map(|c| c.share)
    }

    /// The per-op figure, if known.
    pub fn metric(&self, metric: Metric) -> Option<f64> {
        match metric {
            Metric::AllocsPerOp => self.allocs_per_op,
            Metric::BytesPerOp => self.bytes_per_op,
            Metric::InstructionsPerOp => Some(self.instructions_per_op),
            Metric::SystemTimeShare => self.system_time_share,
        }
    }
}

/// A rule's outcome for one benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Outcome {
    /// The actual value exceeds the threshold.
    #[serde(rename = "fired")]
    Fired,
    /// The actual value is at or below the threshold.
    #[serde(rename = "below")]
    Below,
    /// The value is unknown.
    #[serde(rename = "n/a")]
    NotApplicable,
}

/// One row of the decision matrix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatrixRow {
    pub rule: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric: Option<Metric>,
    pub threshold: f64,
    /// `null` when unknown (outcome `n/a`).
    pub actual: Option<f64>,
    pub outcome: Outcome,
}

impl MatrixRow {
    fn format(&self, v: f64) -> String {
        match self.metric {
            Some(m) => m.format(v),
            None => percent(v),
        }
    }

    fn subject(&self) -> String {
        match (&self.category, self.metric) {
            (_, Some(m)) => m.as_str().to_owned(),
            (Some(c), None) => format!("`{c}` share"),
            (None, None) => "nothing".to_owned(),
        }
    }
}

/// A fired rule's recommendation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    pub rule: String,
    pub path: String,
    pub rationale: String,
    pub effort: Effort,
    /// The category whose cost the path reduces.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Estimated share of the op's instructions the path can remove (target share × reach); `null`
    /// without a target.
    pub impact: Option<f64>,
    /// The same in instructions per op.
    pub impact_instructions_per_op: Option<f64>,
}

/// Why something is not worth optimizing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NotWorthKind {
    AllocationFree,
    Negligible,
    AtTheFloor,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotWorth {
    pub kind: NotWorthKind,
    /// What it is about: a category, `allocations`, or the benchmark's group.
    pub subject: String,
    /// The category's share, for `negligible`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share: Option<f64>,
    pub reason: String,
}

/// The gate's decision for one benchmark.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub id: String,
    pub suite: String,
    pub instructions_per_op: f64,
    /// The negligible share the decision used.
    pub negligible_share: f64,
    /// Every rule, in configuration order.
    pub matrix: Vec<MatrixRow>,
    pub primary: Option<Recommendation>,
    pub secondary: Vec<Recommendation>,
    pub not_to_optimize: Vec<NotWorth>,
}

/// A rule over a suite.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuiteRule {
    pub rule: String,
    /// Benchmarks where it fired.
    pub fired: usize,
    /// Benchmarks where its value was known.
    pub known: usize,
    /// Mean actual value over the benchmarks where it was known.
    pub mean_actual: Option<f64>,
    pub threshold: f64,
}

/// A path over a suite: the rules recommending it and its mean impact.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuitePath {
    pub path: String,
    pub rules: Vec<String>,
    pub rationale: String,
    pub effort: Effort,
    /// Benchmarks where it was recommended (primary or secondary).
    pub fired: usize,
    /// Mean over all the suite's benchmarks of the path's impact (0 where not recommended); `null`
    /// when no recommendation of it had an estimate.
    pub mean_impact: Option<f64>,
}

/// The gate over one suite.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuiteDecision {
    pub suite: String,
    pub benchmarks: usize,
    /// Each category's mean share (each benchmark weighs the same), highest first.
    pub mean_shares: Vec<(String, f64)>,
    /// Every rule, most often fired first (ties: configuration order).
    pub rules: Vec<SuiteRule>,
    /// The path with the largest mean impact (ties: fired in more benchmarks, lower effort, rule order).
    pub primary: Option<SuitePath>,
    /// The other recommended paths, in the same order.
    pub secondary: Vec<SuitePath>,
    /// What holds in every benchmark of the suite: allocation-free, categories negligible everywhere.
    pub not_to_optimize: Vec<String>,
}

/// The rules and settings of the gate (`[profile]` in `benchgate.toml`).
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub rules: Vec<Rule>,
    /// Shares below this are negligible.
    pub negligible_share: f64,
    /// Within this factor of the cheapest benchmark of one operation is at the floor; 0: off.
    pub floor_ratio: f64,
}

/// Ranking of recommendations: larger impact first (unknown last), then lower effort, then rule order.
fn rank(a: (&Recommendation, usize), b: (&Recommendation, usize)) -> std::cmp::Ordering {
    let impact = |r: &Recommendation| r.impact.unwrap_or(f64::NEG_INFINITY);
    impact(b.0).total_cmp(&impact(a.0)).then(a.0.effort.cmp(&b.0.effort)).then(a.1.cmp(&b.1))
}

/// `suite/impl/op[/param]` -> `suite/*/op[/param]`; `None` for ids of fewer than three segments.
pub fn floor_group(id: &str) -> Option<String> {
    let mut parts: Vec<&str> = id.split('/').collect();
    if parts.len() < 3 {
        return None;
    }
    parts[1] = "*";
    Some(parts.join("/"))
}

impl Policy {
    /// The threshold of the first rule that looks at `metric`, if a rule does.
    pub fn metric_threshold(&self, metric: Metric) -> Option<f64> {
        self.rules.iter().find(|r| r.metric == Some(metric)).map(|r| r.threshold)
    }

    /// The decision for each benchmark, in input order. The floor compares benchmarks of `benches`
    /// with one another.
    pub fn decide(&self, benches: &[BenchInput]) -> Vec<Decision> {
        let mut groups: BTreeMap<String, Vec<&BenchInput>> = BTreeMap::new();
        for b in benches {
            if let Some(g) = floor_group(&b.id) {
                groups.entry(g).or_default().push(b);
            }
        }
        benches
            .iter()
            .map(|b| {
                let group = floor_group(&b.id).and_then(|g| groups.get_key_value(&g));
                self.decide_one(b, group.map(|(g, members)| (g.as_str(), members.as_slice())))
            })
            .collect()
    }

    fn decide_one(&self, b: &BenchInput, group: Option<(&str, &[&BenchInput])>) -> Decision {
        let mut matrix = Vec::with_capacity(self.rules.len());
        let mut fired: Vec<(Recommendation, usize)> = Vec::new();
        for (i, rule) in self.rules.iter().enumerate() {
            let actual = match rule.when() {
                Some(When::Category(c)) => b.share(c),
                Some(When::Metric(m)) => b.metric(m),
                None => None,
            };
            let outcome = match actual {
                None => Outcome::NotApplicable,
                Some(a) if a > rule.threshold => Outcome::Fired,
                Some(_) => Outcome::Below,
            };
            matrix.push(MatrixRow {
                rule: rule.name.clone(),
                category: rule.category.clone(),
                metric: rule.metric,
                threshold: rule.threshold,
                actual,
                outcome,
            });
            if outcome == Outcome::Fired {
                let impact = rule.target().and_then(|t| b.share(t)).map(|s| s * rule.reach);
                fired.push((
                    Recommendation {
                        rule: rule.name.clone(),
                        path: rule.path.clone(),
                        rationale: rule.rationale.clone(),
                        effort: rule.effort,
                        target: rule.target().map(str::to_owned),
                        impact,
                        impact_instructions_per_op: impact.map(|s| s * b.instructions_per_op),
                    },
                    i,
                ));
            }
        }
        fired.sort_by(|a, b| rank((&a.0, a.1), (&b.0, b.1)));
        let mut ranked: Vec<Recommendation> = Vec::with_capacity(fired.len());
        for (r, _) in fired {
            // Rules sharing a path (a category share and a per-op count of the same cost): list it once,
            // with the largest impact.
            if !ranked.iter().any(|k| k.path == r.path) {
                ranked.push(r);
            }
        }
        let mut ranked = ranked.into_iter();
        let primary = ranked.next();
        let secondary = ranked.collect();
        Decision {
            id: b.id.clone(),
            suite: b.suite.clone(),
            instructions_per_op: b.instructions_per_op,
            negligible_share: self.negligible_share,
            matrix,
            primary,
            secondary,
            not_to_optimize: self.not_worth(b, group),
        }
    }

    fn not_worth(&self, b: &BenchInput, group: Option<(&str, &[&BenchInput])>) -> Vec<NotWorth> {
        let mut out = Vec::new();
        let allocation_free = b.allocs_per_op == Some(0.0);
        // Categories that allocation rules target are covered by "allocation-free".
        let mut covered: Vec<&str> = Vec::new();
        if allocation_free {
            out.push(NotWorth {
                kind: NotWorthKind::AllocationFree,
                subject: "allocations".into(),
                share: None,
                reason: "allocation-free (0 allocs/op): nothing to gain from allocation work".into(),
            });
            for rule in &self.rules {
                if matches!(rule.metric, Some(Metric::AllocsPerOp | Metric::BytesPerOp))
                    && let Some(t) = rule.target()
                {
                    covered.push(t);
                }
            }
        }
        let mut seen: Vec<&str> = Vec::new();
        for rule in &self.rules {
            let Some(target) = rule.target() else { continue };
            if seen.contains(&target) {
                continue;
            }
            seen.push(target);
            let Some(share) = b.share(target) else { continue };
            if share < self.negligible_share && !covered.contains(&target) {
                let rules: Vec<String> =
                    self.rules.iter().filter(|r| r.target() == Some(target)).map(|r| format!("`{}`", r.name)).collect();
                out.push(NotWorth {
                    kind: NotWorthKind::Negligible,
                    subject: target.to_owned(),
                    share: Some(share),
                    reason: format!(
                        "`{target}` is {} of the op's instructions, below the negligible share ({}): \
                         rule{} {} could gain at most that",
                        percent(share),
                        percent(self.negligible_share),
                        plural(rules.len()),
                        rules.join(", ")
                    ),
                });
            }
        }
        if self.floor_ratio > 0.0
            && let Some((name, members)) = group
            && members.len() >= 2
            && let Some(cheapest) =
                members.iter().min_by(|x, y| x.instructions_per_op.total_cmp(&y.instructions_per_op))
            && b.instructions_per_op <= cheapest.instructions_per_op * self.floor_ratio
        {
            let reason = if cheapest.id == b.id {
                format!(
                    "at the floor: the cheapest of the {} benchmarks of `{name}` ({} instr/op)",
                    members.len(),
                    format_count(b.instructions_per_op)
                )
            } else {
                format!(
                    "at the floor: {} instr/op, within {}x of the cheapest of the {} benchmarks of `{name}` \
                     (`{}`, {} instr/op)",
                    format_count(b.instructions_per_op),
                    format_count(self.floor_ratio),
                    members.len(),
                    cheapest.id,
                    format_count(cheapest.instructions_per_op)
                )
            };
            out.push(NotWorth { kind: NotWorthKind::AtTheFloor, subject: name.to_owned(), share: None, reason });
        }
        out
    }

    /// The gate over each suite of `decisions` (by suite name); `benches` gives the shares and
    /// allocation counts (matched by id).
    pub fn suites(&self, benches: &[BenchInput], decisions: &[Decision]) -> Vec<SuiteDecision> {
        let mut by_suite: BTreeMap<&str, Vec<&Decision>> = BTreeMap::new();
        for d in decisions {
            by_suite.entry(&d.suite).or_default().push(d);
        }
        by_suite
            .into_iter()
            .map(|(suite, ds)| {
                let inputs: Vec<&BenchInput> =
                    ds.iter().filter_map(|d| benches.iter().find(|b| b.id == d.id)).collect();
                self.suite_decision(suite, &ds, &inputs)
            })
            .collect()
    }

    fn suite_decision(&self, suite: &str, ds: &[&Decision], inputs: &[&BenchInput]) -> SuiteDecision {
        let n = ds.len();
        let mut share_sums: BTreeMap<&str, f64> = BTreeMap::new();
        for b in inputs {
            for c in &b.categories {
                *share_sums.entry(&c.category).or_default() += c.share;
            }
        }
        let mut mean_shares: Vec<(String, f64)> =
            share_sums.into_iter().map(|(c, s)| (c.to_owned(), s / inputs.len().max(1) as f64)).collect();
        mean_shares.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));

        let mut rules: Vec<(SuiteRule, usize)> = self
            .rules
            .iter()
            .enumerate()
            .map(|(i, rule)| {
                let rows: Vec<&MatrixRow> =
                    ds.iter().filter_map(|d| d.matrix.iter().find(|r| r.rule == rule.name)).collect();
                let known: Vec<f64> = rows.iter().filter_map(|r| r.actual).collect();
                let suite_rule = SuiteRule {
                    rule: rule.name.clone(),
                    fired: rows.iter().filter(|r| r.outcome == Outcome::Fired).count(),
                    known: known.len(),
                    mean_actual: (!known.is_empty()).then(|| known.iter().sum::<f64>() / known.len() as f64),
                    threshold: rule.threshold,
                };
                (suite_rule, i)
            })
            .collect();
        rules.sort_by(|a, b| b.0.fired.cmp(&a.0.fired).then(a.1.cmp(&b.1)));

        // Paths: each decision lists a path once (primary or secondary).
        let order = |rule: &str| self.rules.iter().position(|r| r.name == rule).unwrap_or(usize::MAX);
        let mut paths: Vec<(SuitePath, f64, bool, usize)> = Vec::new();
        for d in ds {
            for r in d.primary.iter().chain(&d.secondary) {
                let i = match paths.iter().position(|p| p.0.path == r.path) {
                    Some(i) => i,
                    None => {
                        paths.push((
                            SuitePath {
                                path: r.path.clone(),
                                rules: Vec::new(),
                                rationale: r.rationale.clone(),
                                effort: r.effort,
                                fired: 0,
                                mean_impact: None,
                            },
                            0.0,
                            false,
                            order(&r.rule),
                        ));
                        paths.len() - 1
                    }
                };
                let p = &mut paths[i];
                p.0.fired += 1;
                if !p.0.rules.contains(&r.rule) {
                    p.0.rules.push(r.rule.clone());
                }
                p.0.effort = p.0.effort.min(r.effort);
                p.3 = p.3.min(order(&r.rule));
                if let Some(impact) = r.impact {
                    p.1 += impact;
                    p.2 = true;
                }
            }
        }
        let mut paths: Vec<(SuitePath, usize)> = paths
            .into_iter()
            .map(|(mut p, sum, any, i)| {
                p.mean_impact = any.then(|| sum / n.max(1) as f64);
                (p, i)
            })
            .collect();
        paths.sort_by(|a, b| {
            let impact = |p: &SuitePath| p.mean_impact.unwrap_or(f64::NEG_INFINITY);
            impact(&b.0)
                .total_cmp(&impact(&a.0))
                .then(b.0.fired.cmp(&a.0.fired))
                .then(a.0.effort.cmp(&b.0.effort))
                .then(a.1.cmp(&b.1))
        });
        let mut paths = paths.into_iter().map(|(p, _)| p);
        let primary = paths.next();
        let secondary = paths.collect();

        let mut not_to_optimize = Vec::new();
        if !inputs.is_empty() && inputs.iter().all(|b| b.allocs_per_op == Some(0.0)) {
            not_to_optimize.push("allocation-free: 0 allocs/op in every benchmark".to_owned());
        }
        let mut negligible: Vec<String> = Vec::new();
        let mut seen: Vec<&str> = Vec::new();
        for rule in &self.rules {
            let Some(target) = rule.target() else { continue };
            if seen.contains(&target) {
                continue;
            }
            seen.push(target);
            let shares: Option<Vec<f64>> = inputs.iter().map(|b| b.share(target)).collect();
            if let Some(shares) = shares
                && !shares.is_empty()
                && shares.iter().all(|&s| s < self.negligible_share)
            {
                let max = shares.iter().copied().fold(0.0, f64::max);
                negligible.push(format!("`{target}` (at most {})", percent(max)));
            }
        }
        if !negligible.is_empty() {
            not_to_optimize.push(format!(
                "negligible in every benchmark (below {} of the op's instructions): {}",
                percent(self.negligible_share),
                negligible.join(", ")
            ));
        }
        SuiteDecision {
            suite: suite.to_owned(),
            benchmarks: n,
            mean_shares,
            rules: rules.into_iter().map(|(r, _)| r).collect(),
            primary,
            secondary,
            not_to_optimize,
        }
    }
}

fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

/// Table cell text: `|` escaped, newlines as spaces.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn impact_text(impact: Option<f64>, per_op: Option<f64>) -> String {
    match (impact, per_op) {
        (Some(s), Some(i)) => format!("~{} ({} instr/op)", percent(s), format_count(i)),
        (Some(s), None) => format!("~{}", percent(s)),
        _ => "n/a".into(),
    }
}

/// One benchmark's gate in markdown, without a heading: the decision matrix (rule | threshold |
/// actual | outcome), the primary recommendation with its rationale, the secondary opportunities
/// (path | impact | effort) and what not to optimize.
pub fn bench_markdown(d: &Decision) -> String {
    let mut out = String::from("| rule | threshold | actual | outcome |\n| --- | --- | ---: | --- |\n");
    for row in &d.matrix {
        let (actual, outcome) = match (row.actual, row.outcome) {
            (Some(a), Outcome::Fired) => (format!("**{}**", row.format(a)), "**fired**".to_owned()),
            (Some(a), _) => (row.format(a), "below".to_owned()),
            (None, _) => ("n/a".to_owned(), format!("n/a ({} unknown)", row.subject())),
        };
        out.push_str(&format!(
            "| {} | {} > {} | {} | {} |\n",
            row.rule,
            row.subject(),
            row.format(row.threshold),
            actual,
            outcome
        ));
    }
    match &d.primary {
        Some(p) => out.push_str(&format!(
            "\n**Primary recommendation** (rule `{}`, impact {}, effort {}): {}\n\n{}\n",
            p.rule,
            impact_text(p.impact, p.impact_instructions_per_op),
            p.effort.as_str(),
            p.path,
            p.rationale
        )),
        None => out.push_str("\n**Primary recommendation**: none, no rule fired.\n"),
    }
    if !d.secondary.is_empty() {
        out.push_str(
            "\n**Secondary opportunities**\n\n| path | rule | impact | effort |\n| --- | --- | ---: | --- |\n",
        );
        for s in &d.secondary {
            out.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                cell(&s.path),
                s.rule,
                impact_text(s.impact, s.impact_instructions_per_op),
                s.effort.as_str()
            ));
        }
    }
    if !d.not_to_optimize.is_empty() {
        out.push_str("\n**What not to optimize**\n\n");
        // Negligible categories on one line, where the first of them would be.
        let negligible: Vec<String> = d
            .not_to_optimize
            .iter()
            .filter(|n| n.kind == NotWorthKind::Negligible)
            .map(|n| format!("`{}` {}", n.subject, percent(n.share.unwrap_or(0.0))))
            .collect();
        let mut said = false;
        for n in &d.not_to_optimize {
            if n.kind != NotWorthKind::Negligible {
                out.push_str(&format!("- {}\n", n.reason));
            } else if !said {
                said = true;
                out.push_str(&format!(
                    "- negligible, below {} of the op's instructions (the paths of their rules could gain at most \
                     that): {}\n",
                    percent(d.negligible_share),
                    negligible.join(", ")
                ));
            }
        }
    }
    out
}

/// The gate of every benchmark: a `## Decision gate` section with a `### <id>` part per benchmark.
pub fn markdown(decisions: &[Decision]) -> String {
    let mut out = String::from("## Decision gate\n");
    for d in decisions {
        out.push_str(&format!("\n### {}\n\n", d.id));
        out.push_str(&bench_markdown(d));
    }
    out
}

/// The gate per suite: a `### <suite>` part each with the rules that fired, the primary path and the
/// others, and what not to optimize anywhere in the suite.
pub fn suites_markdown(suites: &[SuiteDecision]) -> String {
    let mut out = String::from("## Decision gate by suite\n");
    for s in suites {
        out.push_str(&format!("\n### {} ({} benchmark{})\n\n", s.suite, s.benchmarks, plural(s.benchmarks)));
        let fired: Vec<String> =
            s.rules.iter().filter(|r| r.fired > 0).map(|r| format!("`{}` in {}", r.rule, r.fired)).collect();
        if fired.is_empty() {
            out.push_str("No rule fired.\n");
        } else {
            out.push_str(&format!("Rules fired: {}.\n", fired.join(", ")));
        }
        if let Some(p) = &s.primary {
            out.push_str(&format!(
                "\n**Primary recommendation** (rule {}, mean impact {}, effort {}, recommended in {} of {}): {}\n\n{}\n",
                p.rules.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", "),
                p.mean_impact.map_or_else(|| "n/a".into(), |m| format!("~{}", percent(m))),
                p.effort.as_str(),
                p.fired,
                s.benchmarks,
                p.path,
                p.rationale
            ));
        }
        if !s.secondary.is_empty() {
            out.push_str(
                "\n**Secondary opportunities**\n\n| path | mean impact | effort | benchmarks |\n| --- | ---: | --- | ---: |\n",
            );
            for p in &s.secondary {
                out.push_str(&format!(
                    "| {} | {} | {} | {} |\n",
                    cell(&p.path),
                    p.mean_impact.map_or_else(|| "n/a".into(), |m| format!("~{}", percent(m))),
                    p.effort.as_str(),
                    p.fired
                ));
            }
        }
        if !s.not_to_optimize.is_empty() {
            out.push_str("\n**What not to optimize**\n\n");
            for n in &s.not_to_optimize {
                out.push_str(&format!("- {n}\n"));
            }
        }
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::profile::callgrind::{Function, Profile};
    use crate::profile::category::Categories;

    fn policy() -> Policy {
        Config::builtin().profile.policy()
    }

    /// A benchmark whose profile (over `ops` ops) is `functions` (name, self cost), classified by the
    /// built-in categories, as the profile command does.
    fn workload(id: &str, functions: &[(&str, u64)], ops: u64, allocs_per_op: Option<f64>) -> BenchInput {
        let functions: Vec<Function> = functions
            .iter()
            .map(|&(name, cost)| Function {
                name: name.into(),
                file: "???".into(),
                object: "/t/release/deps/bench-0123abcd".into(),
                self_cost: vec![cost],
                inclusive: vec![cost],
                calls: Vec::new(),
            })
            .collect();
        let total: u64 = functions.iter().map(|f| f.self_cost[0]).sum();
        let p = Profile { events: vec!["Ir".into()], totals: vec![total], functions, cmd: None };
        let categories = Categories::builtin()
            .shares(&p, 0)
            .into_iter()
            .map(|s| CategoryCost {
                category: s.category,
                share: s.share,
                instructions_per_op: s.cost as f64 / ops as f64,
            })
            .collect();
        BenchInput {
            id: id.into(),
            suite: id.split('/').next().unwrap().into(),
            instructions_per_op: total as f64 / ops as f64,
            categories,
            allocs_per_op,
            bytes_per_op: allocs_per_op.map(|a| a * 64.0),
            system_time_share: None,
        }
    }

    /// Mostly zstd's block compressor, some copying and framing, one output allocation per op.
    fn compressing() -> BenchInput {
        workload(
            "codec/zstd/compress",
            &[
                ("ZSTD_compressBlock_doubleFast", 6_200_000),
                ("HUF_compress1X_usingCTable_internal_bmi2", 1_100_000),
                ("FSE_buildCTable_wksp", 400_000),
                ("__memcpy_avx_unaligned_erms", 900_000),
                ("malloc", 40_000),
                ("free", 30_000),
                ("bench::frame", 1_330_000),
            ],
            10,
            Some(1.0),
        )
    }

    /// A loop that builds a fresh Vec<String> each op: allocator work, growth, copying of the strings.
    fn allocating() -> BenchInput {
        workload(
            "workload/alloc-loop",
            &[
                ("_int_malloc", 2_600_000),
                ("_int_free", 1_900_000),
                ("malloc", 700_000),
                ("free", 500_000),
                ("alloc::raw_vec::RawVec<T,A>::grow_one", 400_000),
                ("__memcpy_avx_unaligned_erms", 1_400_000),
                ("bench::build_rows", 2_500_000),
            ],
            10,
            Some(2_000.0),
        )
    }

    fn row<'a>(d: &'a Decision, rule: &str) -> &'a MatrixRow {
        d.matrix.iter().find(|r| r.rule == rule).unwrap()
    }

    #[test]
    fn compressing_workload_is_mostly_compression_and_draws_the_codec_path() {
        let b = compressing();
        assert_eq!(b.categories[0].category, "compression");
        assert!(b.share("compression").unwrap() > 0.7, "{:?}", b.categories);
        let d = &policy().decide(std::slice::from_ref(&b))[0];
        let primary = d.primary.as_ref().unwrap();
        assert_eq!(primary.rule, "compression");
        assert!(primary.path.contains("faster codec"), "{}", primary.path);
        let compression = row(d, "compression");
        assert_eq!(compression.outcome, Outcome::Fired);
        assert_eq!(compression.actual, b.share("compression"));
        assert_eq!(compression.threshold, 0.40);
        // Impact: the compression share times the rule's reach, in share and in instructions.
        let expected = b.share("compression").unwrap() * 0.6;
        assert!((primary.impact.unwrap() - expected).abs() < 1e-12);
        assert!((primary.impact_instructions_per_op.unwrap() - expected * b.instructions_per_op).abs() < 1e-6);
        // One allocation per op: below the allocs-per-op threshold, and the allocation share is tiny.
        assert_eq!(row(d, "allocs-per-op").outcome, Outcome::Below);
        assert_eq!(row(d, "allocation").outcome, Outcome::Below);
        let alloc = d.not_to_optimize.iter().find(|n| n.subject == "allocation").unwrap();
        assert_eq!(alloc.kind, NotWorthKind::Negligible);
        assert!(alloc.reason.contains("is 0.7% of the op's instructions"), "{}", alloc.reason);
        assert!(
            alloc.reason.contains("rules `allocation`, `allocs-per-op` could gain at most that"),
            "{}",
            alloc.reason
        );
        assert!(d.not_to_optimize.iter().any(|n| n.kind == NotWorthKind::Negligible && n.subject == "hashing"));
        // Copying is 9%: neither fired nor negligible.
        assert!(!d.not_to_optimize.iter().any(|n| n.subject == "copying"));
        assert!(d.secondary.is_empty(), "{:?}", d.secondary);
    }

    #[test]
    fn allocating_loop_draws_the_allocation_path_once() {
        let b = allocating();
        let d = &policy().decide(std::slice::from_ref(&b))[0];
        assert_eq!(row(d, "allocation").outcome, Outcome::Fired);
        assert_eq!(row(d, "allocs-per-op").outcome, Outcome::Fired);
        assert_eq!(row(d, "allocs-per-op").actual, Some(2_000.0));
        assert_eq!(row(d, "compression").outcome, Outcome::Below);
        let primary = d.primary.as_ref().unwrap();
        assert_eq!(primary.rule, "allocation", "{d:?}");
        assert!(primary.path.contains("reuse buffers"), "{}", primary.path);
        assert_eq!(primary.target.as_deref(), Some("allocation"));
        // The per-op count recommends the same path: not listed again. Copying (14%) is below 20%.
        assert!(d.secondary.iter().all(|s| s.path != primary.path), "{:?}", d.secondary);
        assert!(d.secondary.is_empty(), "{:?}", d.secondary);
        assert!(!d.not_to_optimize.iter().any(|n| n.kind == NotWorthKind::AllocationFree));
    }

    #[test]
    fn secondary_opportunities_rank_by_impact_then_effort_then_rule_order() {
        let rule = |name: &str, category: &str, reach: f64, effort: Effort| Rule {
            name: name.into(),
            category: Some(category.into()),
            metric: None,
            threshold: 0.1,
            targets: None,
            reach,
            path: format!("{name} path"),
            rationale: String::new(),
            effort,
        };
        let count = |name: &str| Rule {
            name: name.into(),
            category: None,
            metric: Some(Metric::InstructionsPerOp),
            threshold: 100.0,
            targets: None,
            reach: 1.0,
            path: format!("{name} path"),
            rationale: String::new(),
            effort: Effort::Low,
        };
        let p = Policy {
            rules: vec![
                count("expensive"),
                rule("copy-high", "copying", 1.0, Effort::High),
                rule("hash", "hashing", 1.0, Effort::Medium),
                rule("copy-low", "copying", 1.0, Effort::Low),
                rule("alloc", "allocation", 0.5, Effort::Low),
                rule("app", "application", 1.0, Effort::Low),
            ],
            negligible_share: 0.02,
            floor_ratio: 1.1,
        };
        let share = |category: &str, share: f64| CategoryCost {
            category: category.into(),
            share,
            instructions_per_op: share * 1000.0,
        };
        let b = BenchInput {
            id: "s/x".into(),
            suite: "s".into(),
            instructions_per_op: 1000.0,
            categories: vec![
                share("copying", 0.3),
                share("hashing", 0.3),
                share("allocation", 0.3),
                share("application", 0.1),
            ],
            allocs_per_op: None,
            bytes_per_op: None,
            system_time_share: None,
        };
        let d = &p.decide(&[b])[0];
        let order: Vec<&str> = d.primary.iter().chain(&d.secondary).map(|r| r.rule.as_str()).collect();
        // copying and hashing tie at 30%: low effort first, then medium, then high; allocation reaches
        // 15%; application (10%) did not fire; the rule without an estimate comes last.
        assert_eq!(order, ["copy-low", "hash", "copy-high", "alloc", "expensive"]);
        assert_eq!(d.secondary.last().unwrap().impact, None);
        assert_eq!(row(d, "app").outcome, Outcome::Below);
    }

    #[test]
    fn unknown_metrics_are_not_applicable_and_never_fire() {
        let mut b = allocating();
        b.allocs_per_op = None;
        b.bytes_per_op = None;
        let d = &policy().decide(std::slice::from_ref(&b))[0];
        let r = row(d, "allocs-per-op");
        assert_eq!((r.actual, r.outcome), (None, Outcome::NotApplicable));
        assert_eq!(d.primary.as_ref().unwrap().rule, "allocation");
        let md = bench_markdown(d);
        assert!(
            md.contains("| allocs-per-op | allocs_per_op > 50 allocs/op | n/a | n/a (allocs_per_op unknown) |"),
            "{md}"
        );
        let json = serde_json::to_value(d).unwrap();
        let r = json["matrix"].as_array().unwrap().iter().find(|r| r["rule"] == "allocs-per-op").unwrap();
        assert_eq!(r["outcome"], "n/a");
        assert!(r["actual"].is_null());
        // A category the profile does not have is n/a too.
        b.categories.retain(|c| c.category != "regex");
        let d = &policy().decide(&[b])[0];
        assert_eq!(row(d, "regex").outcome, Outcome::NotApplicable);
    }

    #[test]
    fn kernel_time_rule_fires_above_a_fifth_of_the_cpu_time_and_is_na_unmeasured() {
        let p = policy();
        let rule = p.rules.iter().find(|r| r.name == "kernel-time").unwrap();
        assert_eq!((rule.metric, rule.threshold, rule.target()), (Some(Metric::SystemTimeShare), 0.2, None));
        let mut b = compressing();
        b.system_time_share = Some(0.35);
        let d = &p.decide(std::slice::from_ref(&b))[0];
        let r = row(d, "kernel-time");
        assert_eq!((r.actual, r.outcome), (Some(0.35), Outcome::Fired));
        // No impact estimate: it ranks after the compression rule, as a secondary opportunity.
        assert_eq!(d.primary.as_ref().unwrap().rule, "compression");
        let k = d.secondary.iter().find(|s| s.rule == "kernel-time").unwrap();
        assert_eq!((k.impact, k.impact_instructions_per_op, k.effort), (None, None, Effort::Medium));
        assert!(k.path.contains("fewer, larger system calls"), "{}", k.path);
        let md = bench_markdown(d);
        assert!(md.contains("| kernel-time | system_time_share > 20.0% | **35.0%** | **fired** |"), "{md}");
        b.system_time_share = Some(0.2);
        let d = &p.decide(std::slice::from_ref(&b))[0];
        assert_eq!(row(d, "kernel-time").outcome, Outcome::Below);
        assert!(d.secondary.iter().all(|s| s.rule != "kernel-time"), "{:?}", d.secondary);
        b.system_time_share = None;
        let d = &p.decide(std::slice::from_ref(&b))[0];
        let r = row(d, "kernel-time");
        assert_eq!((r.actual, r.outcome), (None, Outcome::NotApplicable));
        assert!(bench_markdown(d).contains("| n/a | n/a (system_time_share unknown) |"));
        // Over a suite: known only where measured.
        let mut measured = compressing();
        measured.id = "codec/lz4/compress".into();
        measured.system_time_share = Some(0.5);
        let benches = [b, measured];
        let suites = p.suites(&benches, &p.decide(&benches));
        let k = suites[0].rules.iter().find(|r| r.rule == "kernel-time").unwrap();
        assert_eq!((k.fired, k.known, k.mean_actual), (1, 1, Some(0.5)));
    }

    #[test]
    fn allocation_free_benchmark_is_not_worth_allocation_work() {
        let b = workload(
            "queues/ring/push-pop",
            &[("bench::push", 900), ("core::sync::atomic::atomic_add", 50)],
            10,
            Some(0.0),
        );
        let d = &policy().decide(std::slice::from_ref(&b))[0];
        let free: Vec<&NotWorth> =
            d.not_to_optimize.iter().filter(|n| n.kind == NotWorthKind::AllocationFree).collect();
        assert_eq!(free.len(), 1);
        assert!(free[0].reason.starts_with("allocation-free"), "{}", free[0].reason);
        // Said once: not again as a negligible allocation share.
        assert!(!d.not_to_optimize.iter().any(|n| n.subject == "allocation"), "{:?}", d.not_to_optimize);
        assert!(d.not_to_optimize.iter().any(|n| n.kind == NotWorthKind::Negligible && n.subject == "compression"));
        assert_eq!(row(d, "allocs-per-op").outcome, Outcome::Below);
        // Own code is 95% of it: the application rule is the recommendation.
        assert_eq!(d.primary.as_ref().unwrap().rule, "application");
        assert!(bench_markdown(d).contains("\n- allocation-free (0 allocs/op)"));
    }

    #[test]
    fn floor_is_the_cheapest_implementation_of_one_operation() {
        let b = |id: &str, ir: u64| workload(id, &[("bench::op", ir)], 1, None);
        let benches = [
            b("interning/fast/intern-hit", 100),
            b("interning/ok/intern-hit", 108),
            b("interning/slow/intern-hit", 300),
            b("interning/slow/resolve", 50),
            b("interning/single", 10),
        ];
        assert_eq!(
            floor_group("compression/zstd/compress/metrics-1MB").as_deref(),
            Some("compression/*/compress/metrics-1MB")
        );
        assert_eq!(floor_group("interning/single"), None);
        let floors = |p: &Policy| -> Vec<bool> {
            p.decide(&benches)
                .iter()
                .map(|d| d.not_to_optimize.iter().any(|n| n.kind == NotWorthKind::AtTheFloor))
                .collect()
        };
        let mut p = policy();
        assert_eq!(floors(&p), [true, true, false, false, false]);
        let d = &p.decide(&benches)[1];
        let n = d.not_to_optimize.iter().find(|n| n.kind == NotWorthKind::AtTheFloor).unwrap();
        assert_eq!(n.subject, "interning/*/intern-hit");
        assert!(n.reason.contains("`interning/fast/intern-hit`, 100 instr/op"), "{}", n.reason);
        p.floor_ratio = 3.0;
        assert_eq!(floors(&p), [true, true, true, false, false]);
        p.floor_ratio = 0.0;
        assert_eq!(floors(&p), [false; 5]);
    }

    #[test]
    fn suite_primary_is_the_path_with_the_largest_mean_impact() {
        let mut zstd = compressing();
        zstd.id = "codec/zstd/compress".into();
        let mut lz4 = compressing();
        lz4.id = "codec/lz4/compress".into();
        let mut alloc = allocating();
        alloc.id = "codec/zstd/decompress".into();
        alloc.suite = "codec".into();
        let other = workload("other/x", &[("bench::op", 10)], 1, Some(0.0));
        let benches = vec![zstd, lz4, alloc, other];
        let p = policy();
        let decisions = p.decide(&benches);
        let suites = p.suites(&benches, &decisions);
        assert_eq!(suites.len(), 2);
        let codec = &suites[0];
        assert_eq!((codec.suite.as_str(), codec.benchmarks), ("codec", 3));
        let primary = codec.primary.as_ref().unwrap();
        assert_eq!(primary.rules, ["compression"]);
        assert_eq!(primary.fired, 2);
        let expected = 2.0 * benches[0].share("compression").unwrap() * 0.6 / 3.0;
        assert!((primary.mean_impact.unwrap() - expected).abs() < 1e-12);
        assert_eq!(codec.secondary.len(), 1);
        // allocs-per-op shares the allocation path, listed once per benchmark.
        assert_eq!(codec.secondary[0].rules, ["allocation"]);
        assert_eq!(codec.rules[0].rule, "compression");
        assert_eq!(codec.rules[0].fired, 2);
        assert_eq!(codec.rules[0].known, 3);
        assert_eq!(codec.mean_shares[0].0, "compression");
        assert_eq!(
            codec.not_to_optimize,
            ["negligible in every benchmark (below 2.0% of the op's instructions): `serialization` (at most 0.0%), \
              `hashing` (at most 0.0%), `locking` (at most 0.0%), `syscalls` (at most 0.0%), `formatting` (at most \
              0.0%), `regex` (at most 0.0%)"]
        );
        let other = &suites[1];
        assert_eq!(other.primary.as_ref().unwrap().rules, ["application"]);
        assert_eq!(other.not_to_optimize[0], "allocation-free: 0 allocs/op in every benchmark");
        let md = suites_markdown(&suites);
        assert!(md.contains("### codec (3 benchmarks)"), "{md}");
        assert!(md.contains("Rules fired: `compression` in 2, `allocation` in 1, `allocs-per-op` in 1."), "{md}");
    }

    #[test]
    fn markdown_has_the_matrix_the_recommendations_and_what_not_to_optimize() {
        let p = policy();
        let decisions = p.decide(&[compressing(), allocating()]);
        let md = markdown(&decisions);
        assert!(
            md.starts_with("## Decision gate\n\n### codec/zstd/compress\n\n| rule | threshold | actual | outcome |"),
            "{md}"
        );
        let share = compressing().share("compression").unwrap();
        assert!(
            md.contains(&format!("| compression | `compression` share > 40.0% | **{}** | **fired** |", percent(share))),
            "{md}"
        );
        assert!(md.contains("| hashing | `hashing` share > 15.0% | 0.0% | below |"), "{md}");
        assert!(md.contains("**Primary recommendation** (rule `compression`, impact ~"), "{md}");
        assert!(
            md.contains(
                "**What not to optimize**\n\n- negligible, below 2.0% of the op's instructions (the paths of their \
                 rules could gain at most that): `allocation` 0.7%, `serialization` 0.0%, `hashing` 0.0%"
            ),
            "{md}"
        );
        assert!(md.contains("### workload/alloc-loop"), "{md}");
        let no_rule = Policy { rules: Vec::new(), ..p };
        let md = bench_markdown(&no_rule.decide(&[compressing()])[0]);
        assert!(md.contains("**Primary recommendation**: none, no rule fired."), "{md}");
    }

    #[test]
    fn rules_are_validated() {
        let rules = Config::builtin().profile.rule;
        let known = ["compression", "allocation", "application"];
        let mut r = rules[0].clone();
        assert_eq!(r.validate(&known), Ok(()));
        r.category = Some("compresion".into());
        let (key, p) = r.validate(&known).unwrap_err();
        assert_eq!(key, "category");
        assert!(p.contains("`compresion`"), "{p}");
        r.category = Some("compression".into());
        r.threshold = 1.5;
        assert_eq!(r.validate(&known).unwrap_err().0, "threshold");
        r.threshold = f64::NAN;
        assert_eq!(r.validate(&known).unwrap_err().0, "threshold");
        r.threshold = 0.4;
        r.reach = -0.1;
        assert_eq!(r.validate(&known).unwrap_err().0, "reach");
        r.reach = 1.0;
        r.metric = Some(Metric::AllocsPerOp);
        assert_eq!(r.validate(&known).unwrap_err().0, "metric");
        r.category = None;
        r.threshold = 1.5;
        assert_eq!(r.validate(&known), Ok(()));
        r.targets = Some("nope".into());
        assert_eq!(r.validate(&known).unwrap_err().0, "targets");
        r.targets = None;
        // A share metric takes a share as its threshold, like a category.
        r.metric = Some(Metric::SystemTimeShare);
        assert_eq!(r.validate(&known).unwrap_err().0, "threshold");
        r.threshold = 0.2;
        assert_eq!(r.validate(&known), Ok(()));
        r.metric = None;
        assert_eq!(r.validate(&known).unwrap_err().0, "category");
    }
}
