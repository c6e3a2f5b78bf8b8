//! A results file in the formats of other benchmark trackers, so that benchgate's measurements can be
//! charted and alerted on by tools that already exist:
//!
//! - **Bencher Metric Format** (BMF JSON, <https://bencher.dev/docs/reference/bencher-metric-format>,
//!   read by `bencher run --adapter json`): an object keyed by benchmark name, each an object keyed by
//!   measure slug, each `{ "value", "lower_value"?, "upper_value"? }`. Measures written here:
//!   `latency` (Bencher's built-in measure, in nanoseconds: the median ns/op with its 95% bootstrap
//!   interval), `throughput` (the built-in measure, operations per second: elements per second of a
//!   benchmark declared in elements) or `bytes-per-second` (bytes declared), both with the interval
//!   the ns/op interval implies, and the custom measures `allocs-per-op`, `bytes-per-op` and
//!   `instructions-per-op` (exact counts: a value only). Bencher creates a measure named by an unknown
//!   slug on first use.
//! - **github-action-benchmark**'s custom format (the `customSmallerIsBetter` tool,
//!   <https://github.com/benchmark-action/github-action-benchmark#examples>, "Examples": a JSON array of
//!   `{ "name", "unit", "value", "range"?, "extra"? }`): one entry per benchmark and metric, named
//!   `<id> (<unit>)` so that each metric is its own series, with units `ns/op`, `allocs/op`, `B/op`
//!   and `instr/op` (all smaller-is-better; throughput, a bigger-is-better figure, is in `extra`).
//!   `range` is `± ` the half width of the 95% interval of the median.
//!
//! Formatting only: every figure is the results file's own. A lane that did not produce a figure
//! (failed, skipped, not requested) is left out.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{format_count, format_rate};
use crate::model::{BenchResult, Results, ThroughputRate};

/// One BMF metric.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
struct Metric {
    value: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    lower_value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    upper_value: Option<f64>,
}

impl Metric {
    fn exact(value: f64) -> Metric {
        Metric { value, lower_value: None, upper_value: None }
    }
}

/// The results as Bencher Metric Format JSON (pretty, with a trailing newline).
pub fn bmf(results: &Results) -> String {
    let mut out: BTreeMap<&str, BTreeMap<&str, Metric>> = BTreeMap::new();
    for b in &results.benchmarks {
        let measures = bmf_measures(b);
        if !measures.is_empty() {
            out.insert(&b.id, measures);
        }
    }
    let mut s = serde_json::to_string_pretty(&out).expect("BMF serializes");
    s.push('\n');
    s
}

fn bmf_measures(b: &BenchResult) -> BTreeMap<&'static str, Metric> {
    let m = &b.metrics;
    let mut out = BTreeMap::new();
    if let Some(w) = &m.ns_per_op {
        out.insert("latency", Metric { value: w.median, lower_value: Some(w.ci95[0]), upper_value: Some(w.ci95[1]) });
        if let (Some(rate), Some(declared)) = (m.throughput, b.throughput) {
            // The rate at the interval's slow end is the lower bound.
            let at = |ns: f64| ThroughputRate::at(declared, ns).map(rate_value);
            let metric = Metric { value: rate_value(rate), lower_value: at(w.ci95[1]), upper_value: at(w.ci95[0]) };
            let slug = match rate {
                ThroughputRate::ElementsPerSec(_) => "throughput",
                ThroughputRate::BytesPerSec(_) => "bytes-per-second",
            };
            out.insert(slug, metric);
        }
    }
    let exact = [
        ("allocs-per-op", m.allocs_per_op),
        ("bytes-per-op", m.bytes_per_op),
        ("instructions-per-op", m.instructions_per_op),
    ];
    for (slug, v) in exact {
        if let Some(v) = v {
            out.insert(slug, Metric::exact(v));
        }
    }
    out
}

fn rate_value(r: ThroughputRate) -> f64 {
    let (ThroughputRate::BytesPerSec(v) | ThroughputRate::ElementsPerSec(v)) = r;
    v
}

/// One entry of github-action-benchmark's custom JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
struct Entry {
    name: String,
    unit: &'static str,
    value: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    range: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extra: Option<String>,
}

/// The results as github-action-benchmark `customSmallerIsBetter` JSON (pretty, with a trailing newline).
pub fn github_action_benchmark(results: &Results) -> String {
    let mut out = Vec::new();
    for b in &results.benchmarks {
        let m = &b.metrics;
        let entry = |unit: &'static str, value: f64, range: Option<String>, extra: String| Entry {
            name: format!("{} ({unit})", b.id),
            unit,
            value,
            range,
            extra: Some(extra),
        };
        if let Some(w) = &m.ns_per_op {
            let half = (w.ci95[1] - w.ci95[0]) / 2.0;
            let mut extra = format!(
                "median of {} samples; 95% CI [{}, {}] ns/op",
                w.samples.len(),
                number(w.ci95[0]),
                number(w.ci95[1])
            );
            if let Some(rate) = m.throughput {
                extra.push_str(&format!("; throughput {}", format_rate(rate)));
            }
            out.push(entry("ns/op", w.median, Some(format!("± {}", number(half))), extra));
        }
        let alloc_extra = || match m.alloc {
            Some(a) => format!(
                "{} allocations, {} bytes over {} iterations",
                format_count(a.allocs as f64),
                format_count(a.bytes as f64),
                format_count(a.iters as f64)
            ),
            None => "counted exactly".into(),
        };
        if let Some(v) = m.allocs_per_op {
            out.push(entry("allocs/op", v, None, alloc_extra()));
        }
        if let Some(v) = m.bytes_per_op {
            out.push(entry("B/op", v, None, alloc_extra()));
        }
        if let Some(v) = m.instructions_per_op {
            let extra = match m.instr {
                Some(i) => {
                    let setup = i.setup_instructions.map(|s| format!(" - ({} - {}) setup only", s[1], s[0]));
                    format!(
                        "callgrind Ir: ({} - {}{}) / ({} - {}) iterations",
                        i.instructions[1],
                        i.instructions[0],
                        setup.unwrap_or_default(),
                        i.iters[1],
                        i.iters[0]
                    )
                }
                None => "callgrind Ir".into(),
            };
            out.push(entry("instr/op", v, None, extra));
        }
    }
    let mut s = serde_json::to_string_pretty(&out).expect("entries serialize");
    s.push('\n');
    s
}

/// A figure for text fields: up to three decimals, trailing zeros trimmed.
fn number(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.') } else { &s };
    s.to_owned()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::model::{AllocCounts, Failure, FailureKind, InstrCounts, Lane, Metrics, Throughput, WallEstimate};

    fn wall(median: f64, ci: [f64; 2]) -> WallEstimate {
        WallEstimate {
            median,
            mean: median,
            slope: median,
            std_dev: 1.0,
            ci95: ci,
            samples: vec![ci[0], median, ci[1]],
            sample_iters: vec![1, 2, 3],
            warmup_iters: 4,
            rounds: Vec::new(),
            confirm_from: None,
        }
    }

    fn bench(id: &str, throughput: Option<Throughput>, metrics: Metrics) -> BenchResult {
        BenchResult {
            id: id.into(),
            suite: id.split('/').next().unwrap().into(),
            name: id.split_once('/').unwrap().1.into(),
            param: None,
            throughput,
            metrics,
            failures: BTreeMap::new(),
            skipped: BTreeMap::new(),
        }
    }

    /// Every lane on one benchmark (bytes throughput), wall only on another (elements throughput), and a
    /// benchmark whose only lane failed.
    fn results() -> Results {
        let mut r = Results::parse(include_str!("../../../docs/example-results.json")).unwrap();
        let lz4 = wall(1000.0, [980.0, 1025.0]);
        let spsc = wall(40.0, [39.5, 41.0]);
        let mut failed = bench("queue/stuck", None, Metrics::default());
        failed.failures.insert(Lane::Wall, Failure { kind: FailureKind::Timeout, message: "timed out".into() });
        r.benchmarks = vec![
            bench(
                "codec/lz4/1kb",
                Some(Throughput::Bytes(1024)),
                Metrics {
                    throughput: ThroughputRate::at(Throughput::Bytes(1024), lz4.median),
                    ns_per_op: Some(lz4),
                    allocs_per_op: Some(2.0),
                    bytes_per_op: Some(1536.0),
                    alloc: Some(AllocCounts {
                        iters: 100,
                        allocs: 200,
                        frees: 200,
                        bytes: 153_600,
                        peak_live_bytes: 2048,
                        other_threads: 0,
                        threads: 1,
                    }),
                    instructions_per_op: Some(10_450.5),
                    instr: Some(InstrCounts {
                        iters: [1, 3],
                        instructions: [120_000, 140_901],
                        estimated_cycles: None,
                        setup_instructions: None,
                        setup_estimated_cycles: None,
                    }),
                    ..Metrics::default()
                },
            ),
            bench(
                "queue/spsc",
                Some(Throughput::Elements(1)),
                Metrics {
                    throughput: ThroughputRate::at(Throughput::Elements(1), spsc.median),
                    ns_per_op: Some(spsc),
                    ..Metrics::default()
                },
            ),
            failed,
        ];
        r.validate().unwrap();
        r
    }

    #[test]
    fn bmf_snapshot() {
        insta::assert_snapshot!(bmf(&results()));
    }

    #[test]
    fn bmf_structure() {
        let v: serde_json::Value = serde_json::from_str(&bmf(&results())).unwrap();
        let o = v.as_object().unwrap();
        assert_eq!(o.keys().collect::<Vec<_>>(), ["codec/lz4/1kb", "queue/spsc"], "failed benchmark left out");
        let lz4 = &o["codec/lz4/1kb"];
        let mut slugs: Vec<&str> = lz4.as_object().unwrap().keys().map(String::as_str).collect();
        slugs.sort();
        assert_eq!(slugs, ["allocs-per-op", "bytes-per-op", "bytes-per-second", "instructions-per-op", "latency"]);
        assert_eq!(lz4["latency"]["value"], 1000.0);
        assert_eq!(lz4["latency"]["lower_value"], 980.0);
        assert_eq!(lz4["latency"]["upper_value"], 1025.0);
        assert_eq!(lz4["allocs-per-op"]["value"], 2.0);
        assert!(lz4["allocs-per-op"].get("lower_value").is_none());
        // 1024 bytes per op at 1000 ns/op; the slower end of the interval is the lower rate.
        let bps = &lz4["bytes-per-second"];
        assert_eq!(bps["value"], 1.024e9);
        assert!(bps["lower_value"].as_f64().unwrap() < 1.024e9 && bps["upper_value"].as_f64().unwrap() > 1.024e9);
        let spsc = o["queue/spsc"].as_object().unwrap();
        assert_eq!(spsc.keys().collect::<Vec<_>>(), ["latency", "throughput"]);
        assert_eq!(spsc["throughput"]["value"], 2.5e7);
        // Every metric has a number `value` (BMF's only required field).
        for measures in o.values() {
            for m in measures.as_object().unwrap().values() {
                assert!(m["value"].is_number());
            }
        }
    }

    #[test]
    fn github_action_benchmark_snapshot() {
        insta::assert_snapshot!(github_action_benchmark(&results()));
    }

    #[test]
    fn github_action_benchmark_structure() {
        let v: serde_json::Value = serde_json::from_str(&github_action_benchmark(&results())).unwrap();
        let entries = v.as_array().unwrap();
        let names: Vec<&str> = entries.iter().map(|e| e["name"].as_str().unwrap()).collect();
        assert_eq!(
            names,
            [
                "codec/lz4/1kb (ns/op)",
                "codec/lz4/1kb (allocs/op)",
                "codec/lz4/1kb (B/op)",
                "codec/lz4/1kb (instr/op)",
                "queue/spsc (ns/op)"
            ]
        );
        for e in entries {
            assert!(e["value"].is_number() && e["unit"].is_string() && e["extra"].is_string(), "{e}");
        }
        assert_eq!(entries[0]["unit"], "ns/op");
        assert_eq!(entries[0]["value"], 1000.0);
        assert_eq!(entries[0]["range"], "± 22.5");
        assert!(entries[1].get("range").is_none());
        assert_eq!(entries[3]["value"], 10_450.5);
    }

    #[test]
    fn numbers_are_trimmed() {
        assert_eq!(number(22.5), "22.5");
        assert_eq!(number(3.0), "3");
        assert_eq!(number(0.12345), "0.123");
    }
}
