//! Before and after, as a performance engineer writes it by hand: per suite, for each figure a benchmark
//! has on both sides (ns/op, throughput, latency P50/P95/P99, allocs/op, B/op, peak heap, instr/op), the
//! base and head values, the factor between them in words ("9.30× faster", "1.24× more"), and the gate's
//! verdict beside it where the gate judges that figure. Rendering only: the factor is head against base,
//! and the verdict is `compare`'s.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use tabled::settings::object::Columns;
use tabled::settings::{Alignment, Style};
use tabled::{Table, Tabled};

use super::{format_bytes, format_count, format_ns, format_rate};
use crate::compare::Verdicts;
use crate::model::{BenchResult, Results, ThroughputRate};

/// One figure of one benchmark, before and after.
#[derive(Debug, Clone, PartialEq, Tabled)]
pub struct FactorRow {
    #[tabled(rename = "benchmark")]
    pub id: String,
    pub figure: String,
    pub base: String,
    pub head: String,
    /// Head against base in words: `9.30× faster`, `same`, `from 0`.
    pub factor: String,
    /// The gate's verdict on this figure, or `not gated` for figures the gate does not judge.
    pub verdict: String,
    #[tabled(skip)]
    pub suite: String,
}

/// How a figure is read: its name, whether less is better, the words for less and more, how a value
/// prints, and the gate's metric name when the gate judges it.
struct Kind {
    name: &'static str,
    less_is_better: bool,
    less: &'static str,
    more: &'static str,
    format: fn(f64) -> String,
    metric: Option<&'static str>,
}

const NS: Kind = Kind {
    name: "ns/op",
    less_is_better: true,
    less: "faster",
    more: "slower",
    format: format_ns,
    metric: Some("ns_per_op"),
};
const LATENCY: [&str; 3] = ["latency P50", "latency P95", "latency P99"];
const ALLOCS: Kind = Kind {
    name: "allocs/op",
    less_is_better: true,
    less: "fewer",
    more: "more",
    format: format_count,
    metric: Some("allocs_per_op"),
};
const BYTES: Kind = Kind {
    name: "B/op",
    less_is_better: true,
    less: "fewer",
    more: "more",
    format: format_bytes,
    metric: Some("bytes_per_op"),
};
const PEAK: Kind = Kind {
    name: "peak heap",
    less_is_better: true,
    less: "smaller",
    more: "larger",
    format: format_bytes,
    metric: None,
};
const INSTR: Kind = Kind {
    name: "instr/op",
    less_is_better: true,
    less: "fewer",
    more: "more",
    format: format_count,
    metric: Some("instructions_per_op"),
};

/// `f` with two decimals below 10 and one from 10 up, then `×`.
fn times(f: f64) -> String {
    if f >= 10.0 { format!("{f:.1}×") } else { format!("{f:.2}×") }
}

/// Head against base in words. `less`/`more` name a head below/above base; `same` when the two round
/// to one factor (within 0.5%).
pub fn factor(base: f64, head: f64, less: &str, more: &str) -> String {
    if base == head {
        return "same".into();
    }
    if base == 0.0 {
        return "from 0".into();
    }
    if head == 0.0 {
        return "to 0".into();
    }
    let r = head / base;
    if (r - 1.0).abs() < 0.005 {
        "same".into()
    } else if r < 1.0 {
        format!("{} {less}", times(1.0 / r))
    } else {
        format!("{} {more}", times(r))
    }
}

/// The rows of every benchmark both sides have, by suite (suites and benchmarks in id order).
pub fn rows(verdicts: &Verdicts, base: &Results, head: &Results) -> BTreeMap<String, Vec<FactorRow>> {
    let judged: BTreeMap<(&str, &str), &crate::compare::Comparison> =
        verdicts.comparisons.iter().map(|c| ((c.id.as_str(), c.metric.as_str()), c)).collect();
    let base_by_id: BTreeMap<&str, &BenchResult> = base.benchmarks.iter().map(|b| (b.id.as_str(), b)).collect();
    let mut out: BTreeMap<String, Vec<FactorRow>> = BTreeMap::new();
    for h in &head.benchmarks {
        let Some(b) = base_by_id.get(h.id.as_str()) else { continue };
        let verdict = |metric: Option<&str>| match metric.and_then(|m| judged.get(&(h.id.as_str(), m))) {
            Some(c) => format!("{:?}", c.verdict).to_lowercase(),
            None if metric.is_some() => "not compared".into(),
            None => "not gated".into(),
        };
        let mut push = |kind: &Kind, name: &str, bv: f64, hv: f64, shown: Option<(String, String)>| {
            let (less, more) = if kind.less_is_better { (kind.less, kind.more) } else { (kind.more, kind.less) };
            let (bs, hs) = shown.unwrap_or_else(|| ((kind.format)(bv), (kind.format)(hv)));
            out.entry(h.suite.clone()).or_default().push(FactorRow {
                id: h.id.clone(),
                figure: name.to_owned(),
                base: bs,
                head: hs,
                factor: factor(bv, hv, less, more),
                verdict: verdict(kind.metric),
                suite: h.suite.clone(),
            });
        };
        let (bm, hm) = (&b.metrics, &h.metrics);
        // ns/op as the gate compared it (a paired comparison's base and head come from its rounds).
        let ns = judged.get(&(h.id.as_str(), "ns_per_op")).and_then(|c| c.base.zip(c.head));
        let file_ns = bm.ns_per_op.as_ref().zip(hm.ns_per_op.as_ref()).map(|(b, h)| (b.median, h.median));
        if let Some((bv, hv)) = ns.or(file_ns) {
            push(&NS, NS.name, bv, hv, None);
        }
        if let (Some(bt), Some(ht)) = (bm.throughput, hm.throughput) {
            let value = |t: ThroughputRate| match t {
                ThroughputRate::BytesPerSec(v) | ThroughputRate::ElementsPerSec(v) => v,
            };
            let kind = Kind {
                name: "throughput",
                less_is_better: false,
                less: "lower",
                more: "higher",
                format: format_ns,
                metric: Some("ns_per_op"),
            };
            push(&kind, kind.name, value(bt), value(ht), Some((format_rate(bt), format_rate(ht))));
        }
        if let (Some(bl), Some(hl)) = (bm.latency, hm.latency) {
            let kind =
                Kind { name: "", less_is_better: true, less: "lower", more: "higher", format: format_ns, metric: None };
            for (name, bv, hv) in
                [(LATENCY[0], bl.p50, hl.p50), (LATENCY[1], bl.p95, hl.p95), (LATENCY[2], bl.p99, hl.p99)]
            {
                push(&kind, name, bv, hv, None);
            }
        }
        if let (Some(bv), Some(hv)) = (bm.allocs_per_op, hm.allocs_per_op) {
            push(&ALLOCS, ALLOCS.name, bv, hv, None);
        }
        if let (Some(bv), Some(hv)) = (bm.bytes_per_op, hm.bytes_per_op) {
            push(&BYTES, BYTES.name, bv, hv, None);
        }
        if let (Some(ba), Some(ha)) = (bm.alloc, hm.alloc) {
            push(&PEAK, PEAK.name, ba.peak_live_bytes as f64, ha.peak_live_bytes as f64, None);
        }
        if let (Some(bv), Some(hv)) = (bm.instructions_per_op, hm.instructions_per_op) {
            push(&INSTR, INSTR.name, bv, hv, None);
        }
    }
    out
}

/// What the factor means, said once above the tables.
pub const LEGEND: &str = "Head against base: the factor says how much faster, slower, fewer or more head is; \"same\" \
                          within 0.5%. The verdict is the gate's on that figure (throughput follows ns/op); \"not \
                          gated\" figures are shown, not judged.";

/// The before/after tables as markdown, a `###` heading per suite; empty when no benchmark is on both sides.
pub fn markdown(verdicts: &Verdicts, base: &Results, head: &Results) -> String {
    render(verdicts, base, head, true)
}

/// The before/after tables for a terminal, an underlined heading per suite.
pub fn terminal(verdicts: &Verdicts, base: &Results, head: &Results) -> String {
    render(verdicts, base, head, false)
}

fn render(verdicts: &Verdicts, base: &Results, head: &Results, markdown: bool) -> String {
    let by_suite = rows(verdicts, base, head);
    if by_suite.is_empty() {
        return String::new();
    }
    let mut s =
        if markdown { format!("## Before and after\n\n{LEGEND}\n") } else { format!("Before and after. {LEGEND}\n") };
    for (suite, rows) in by_suite {
        let n = rows.iter().map(|r| &r.id).collect::<std::collections::BTreeSet<_>>().len();
        let title = format!("{suite} ({n} benchmark{})", if n == 1 { "" } else { "s" });
        if markdown {
            let _ = write!(s, "\n### {title}\n\n");
        } else {
            let _ = write!(s, "\n{title}\n{}\n", "=".repeat(title.chars().count()));
        }
        let mut t = Table::new(rows);
        if markdown {
            t.with(Style::markdown());
        } else {
            t.with(Style::sharp());
        }
        t.modify(Columns::new(2..5), Alignment::right());
        let _ = writeln!(s, "{t}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LatencySummary;

    #[test]
    fn factors_are_said_in_words_both_ways() {
        assert_eq!(factor(930.0, 100.0, "faster", "slower"), "9.30× faster");
        assert_eq!(factor(100.0, 124.0, "faster", "slower"), "1.24× slower");
        assert_eq!(factor(100.0, 1610.0, "lower", "higher"), "16.1× higher");
        assert_eq!(factor(100.0, 100.4, "fewer", "more"), "same");
        assert_eq!(factor(0.0, 3.0, "fewer", "more"), "from 0");
        assert_eq!(factor(3.0, 0.0, "fewer", "more"), "to 0");
        assert_eq!(factor(0.0, 0.0, "fewer", "more"), "same");
    }

    /// The example's benchmarks, head with the first 9.3 times faster, one more allocation of 64 bytes,
    /// and its latency P99 16.1 times lower; the rest unchanged.
    fn sides() -> (Results, Results) {
        let base = Results::parse(include_str!("../../../docs/example-results.json")).unwrap();
        let mut base = base;
        base.benchmarks.truncate(2);
        base.benchmarks[0].metrics.latency = Some(LatencySummary {
            count: 1000,
            kept: 1000,
            mean: 900.0,
            p50: 500.0,
            p95: 2000.0,
            p99: 16_100.0,
            max: 40_000.0,
        });
        let mut head = base.clone();
        let m = &mut head.benchmarks[0].metrics;
        let w = m.ns_per_op.as_mut().unwrap();
        for v in w.samples.iter_mut().chain([&mut w.median, &mut w.mean, &mut w.slope]) {
            *v /= 9.3;
        }
        w.ci95 = [w.ci95[0] / 9.3, w.ci95[1] / 9.3];
        m.allocs_per_op = m.allocs_per_op.map(|a| a + 1.0);
        m.bytes_per_op = m.bytes_per_op.map(|b| b + 64.0);
        m.latency.as_mut().unwrap().p99 = 1000.0;
        (base, head)
    }

    #[test]
    fn before_and_after_per_suite_with_the_verdict_beside_each_figure() {
        let (base, head) = sides();
        let config = crate::config::Config::builtin();
        let verdicts = crate::compare::compare(&base, &head, &Policy::new(&config.gate));
        let rows = rows(&verdicts, &base, &head);
        let first = &rows["fixture"];
        let find = |fig: &str| first.iter().find(|r| r.figure == fig && r.id == base.benchmarks[0].id).unwrap();
        assert_eq!(find("ns/op").factor, "9.30× faster");
        assert_eq!(find("latency P99").factor, "16.1× lower");
        assert_eq!(find("latency P99").verdict, "not gated");
        assert_eq!(find("allocs/op").verdict, "regressed");
        insta::assert_snapshot!("factors_markdown", markdown(&verdicts, &base, &head));
    }

    use crate::gate::Policy;
}
