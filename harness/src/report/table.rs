//! The tables of a results file (tabled), for the terminal and as markdown: a table per suite, under
//! its heading, with a row per benchmark of its per-op figures and peak heap; then, where benchmarks
//! have them, their latency percentiles and reported figures.

use tabled::settings::object::Columns;
use tabled::settings::{Alignment, Style};
use tabled::{Table, Tabled};

use super::{format_bytes, format_count, format_ns, format_rate};
use crate::measure::overhead::TARGET_SHARE;
use crate::model::{BenchResult, Lane, Reported, Results, Unit};

#[derive(Tabled)]
struct Row {
    #[tabled(rename = "benchmark")]
    id: String,
    #[tabled(rename = "ns/op (median)")]
    ns: String,
    #[tabled(rename = "±95%")]
    ci: String,
    #[tabled(rename = "B/op")]
    bytes: String,
    #[tabled(rename = "allocs/op")]
    allocs: String,
    #[tabled(rename = "peak heap")]
    peak: String,
    #[tabled(rename = "instr/op")]
    instr: String,
    #[tabled(rename = "throughput")]
    throughput: String,
}

#[derive(Tabled)]
struct LatencyRow {
    #[tabled(rename = "benchmark")]
    id: String,
    #[tabled(rename = "events")]
    count: String,
    #[tabled(rename = "p50")]
    p50: String,
    #[tabled(rename = "p95")]
    p95: String,
    #[tabled(rename = "p99")]
    p99: String,
    #[tabled(rename = "max")]
    max: String,
}

#[derive(Tabled)]
struct ReportedRow {
    #[tabled(rename = "benchmark")]
    id: String,
    #[tabled(rename = "figure")]
    name: String,
    #[tabled(rename = "value")]
    value: String,
}

/// What a cell shows for a lane that did not produce a figure.
fn missing(b: &BenchResult, lane: Lane) -> String {
    if let Some(f) = b.failures.get(&lane) { format!("FAILED ({:?})", f.kind).to_lowercase() } else { "-".into() }
}

fn row(b: &BenchResult) -> Row {
    let m = &b.metrics;
    let (ns, ci) = match &m.ns_per_op {
        Some(w) => {
            let half = (w.ci95[1] - w.ci95[0]) / 2.0;
            (format_ns(w.median), format!("{:.1}%", 100.0 * half / w.median.max(f64::MIN_POSITIVE)))
        }
        None => (missing(b, Lane::Wall), String::new()),
    };
    Row {
        id: b.id.clone(),
        ns,
        ci,
        bytes: m.bytes_per_op.map_or_else(|| missing(b, Lane::Alloc), format_bytes),
        allocs: m.allocs_per_op.map_or_else(|| missing(b, Lane::Alloc), format_count),
        peak: m.alloc.map_or_else(|| missing(b, Lane::Alloc), |a| format_bytes(a.peak_live_bytes as f64)),
        instr: m.instructions_per_op.map_or_else(|| missing(b, Lane::Instr), format_count),
        throughput: m.throughput.map(format_rate).unwrap_or_default(),
    }
}

fn latency_rows(results: &Results) -> Vec<LatencyRow> {
    let with = results.benchmarks.iter().filter_map(|b| Some((b, b.metrics.latency?)));
    with.map(|(b, l)| LatencyRow {
        id: b.id.clone(),
        count: format_count(l.count as f64),
        p50: format_ns(l.p50),
        p95: format_ns(l.p95),
        p99: format_ns(l.p99),
        max: format_ns(l.max),
    })
    .collect()
}

fn reported_rows(results: &Results) -> Vec<ReportedRow> {
    let mut rows = Vec::new();
    for b in &results.benchmarks {
        for (name, r) in &b.metrics.reported {
            rows.push(ReportedRow { id: b.id.clone(), name: name.clone(), value: format_reported(r) });
        }
    }
    rows
}

/// A reported figure with its unit.
pub fn format_reported(r: &Reported) -> String {
    match r.unit {
        Unit::Bytes => format_bytes(r.value),
        Unit::Count => format_count(r.value),
    }
}

/// Renders the tables for a terminal.
pub fn render(results: &Results) -> String {
    render_with(results, false)
}

/// Renders the tables as GitHub-flavoured markdown.
pub fn render_markdown(results: &Results) -> String {
    render_with(results, true)
}

/// The benchmarks of each suite, suites in name order, benchmarks in file (id) order.
fn by_suite(results: &Results) -> std::collections::BTreeMap<&str, Vec<&BenchResult>> {
    let mut suites: std::collections::BTreeMap<&str, Vec<&BenchResult>> = Default::default();
    for b in &results.benchmarks {
        suites.entry(b.suite.as_str()).or_default().push(b);
    }
    suites
}

/// A suite's heading: a markdown heading, or an underlined line for a terminal.
fn heading(suite: &str, count: usize, markdown: bool) -> String {
    let title = format!("{suite} ({count} benchmark{})", if count == 1 { "" } else { "s" });
    if markdown { format!("### {title}") } else { format!("{title}\n{}", "=".repeat(title.chars().count())) }
}

fn render_with(results: &Results, markdown: bool) -> String {
    // A table per suite, under its heading; the notes on the figures once, after them all.
    let mut out = String::new();
    for (i, (suite, benchmarks)) in by_suite(results).into_iter().enumerate() {
        if i > 0 {
            out.push_str("\n\n");
        }
        out.push_str(&heading(suite, benchmarks.len(), markdown));
        out.push_str("\n\n");
        out.push_str(&styled(benchmarks.into_iter().map(row), markdown, 1));
    }
    if results.benchmarks.iter().any(|b| b.metrics.alloc.is_some()) {
        out.push_str(
            "\n\npeak heap: the most heap bytes live at once during the alloc lane's ops, above the level when \
             counting began (`alloc.peak_live_bytes`).",
        );
    }
    if let Some(note) = overhead_note(results) {
        out.push_str("\n\n");
        out.push_str(&note);
    }
    let latency = latency_rows(results);
    if !latency.is_empty() {
        let t = styled(latency, markdown, 1);
        out.push_str(&format!("\n\nLatency per event (recorded in the wall lane):\n\n{t}"));
    }
    let reported = reported_rows(results);
    if !reported.is_empty() {
        let t = styled(reported, markdown, 2);
        out.push_str(&format!("\n\nReported figures (per benchmark, not per op):\n\n{t}"));
    }
    out
}

/// A share as a percentage with two significant digits below 1%.
pub(super) fn percent(share: f64) -> String {
    if share * 100.0 >= 1.0 { format!("{:.1}%", share * 100.0) } else { format!("{:.2}%", share * 100.0) }
}

/// What measuring cost (`metrics.overhead`), over the benchmarks that have the figures: gathered once
/// for the note after the tables and the summary's line ([`super::summary`]).
pub(super) struct Overheads<'a> {
    with: Vec<(&'a str, crate::model::Overhead)>,
    /// The benchmark whose ns/op the clock and the counter take the largest share of, and that share.
    worst: (&'a str, f64),
}

impl<'a> Overheads<'a> {
    /// `None` when no benchmark has the figures.
    pub(super) fn of(results: &'a Results) -> Option<Self> {
        let with: Vec<(&str, crate::model::Overhead)> =
            results.benchmarks.iter().filter_map(|b| Some((b.id.as_str(), b.metrics.overhead?))).collect();
        let (id, o) = with.iter().max_by(|a, b| a.1.total_share().total_cmp(&b.1.total_share()))?;
        let worst = (*id, o.total_share());
        Some(Overheads { with, worst })
    }

    /// The benchmarks over [`TARGET_SHARE`], with their parts.
    fn over(&self) -> Vec<String> {
        self.with
            .iter()
            .filter(|(_, o)| o.total_share() > TARGET_SHARE)
            .map(|(id, o)| match o.alloc_share {
                Some(a) if a > 0.0 => format!("{id} (clock {}, counter {})", percent(o.timer_share), percent(a)),
                _ => format!("{id} (clock {})", percent(o.timer_share)),
            })
            .collect()
    }

    /// One line: the largest share and how many benchmarks are over the target.
    pub(super) fn short(&self) -> String {
        let over = self.over();
        let verdict = if over.is_empty() {
            format!("{} under the {} target", self.all(), percent(TARGET_SHARE))
        } else {
            format!("{} of {} over the {} target", over.len(), self.with.len(), percent(TARGET_SHARE))
        };
        format!("at most {} of a benchmark's measured ns/op ({}); {verdict}", percent(self.worst.1), self.worst.0)
    }

    fn all(&self) -> String {
        if self.with.len() == 1 { "it is".to_owned() } else { format!("all {} benchmarks are", self.with.len()) }
    }

    /// The note after the tables: the clock's and the allocation counter's cost, the largest share of a
    /// benchmark's ns/op they take, and the benchmarks over [`TARGET_SHARE`].
    fn note(&self) -> String {
        let median = crate::stats::median;
        let timer = median(&self.with.iter().map(|(_, o)| o.timer_ns).collect::<Vec<_>>());
        let pairs: Vec<f64> = self.with.iter().filter_map(|(_, o)| o.alloc_pair_ns).collect();
        let counter = if pairs.is_empty() {
            String::new()
        } else {
            format!(" and the allocation counter ({} per allocation, counting off)", format_ns(median(&pairs)))
        };
        let mut note = format!(
            "measurement overhead: the clock ({} per timed interval){counter} take at most {} of a benchmark's \
             measured ns/op ({}); ",
            format_ns(timer),
            percent(self.worst.1),
            self.worst.0,
        );
        let over = self.over();
        if over.is_empty() {
            note.push_str(&format!("{} under the {} target.", self.all(), percent(TARGET_SHARE)));
        } else {
            let shown = over.iter().take(8).cloned().collect::<Vec<_>>().join(", ");
            let more = if over.len() > 8 { format!(" and {} more", over.len() - 8) } else { String::new() };
            note.push_str(&format!(
                "{} of {} are over the {} target: {shown}{more}. Their ns/op includes that cost; time more \
                 iterations per interval (larger batches) or compare them by instr/op.",
                over.len(),
                self.with.len(),
                percent(TARGET_SHARE)
            ));
        }
        note
    }
}

/// The note on what measuring cost; `None` when no benchmark has the figures.
fn overhead_note(results: &Results) -> Option<String> {
    Overheads::of(results).map(|o| o.note())
}

/// One table, columns from `right_from` on right-aligned.
fn styled<T: Tabled>(rows: impl IntoIterator<Item = T>, markdown: bool, right_from: usize) -> String {
    let mut t = Table::new(rows);
    if markdown {
        t.with(Style::markdown());
    } else {
        t.with(Style::sharp());
    }
    t.modify(Columns::new(right_from..), Alignment::right());
    t.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AllocCounts, LatencySummary, Metrics};

    /// Two benchmarks of the example file with their figures replaced by fixed ones.
    fn results() -> Results {
        let mut r = Results::parse(include_str!("../../../docs/example-results.json")).unwrap();
        r.benchmarks.truncate(2);
        for b in &mut r.benchmarks {
            b.metrics = Metrics {
                bytes_per_op: Some(300.0),
                allocs_per_op: Some(3.0),
                instructions_per_op: Some(1234.0),
                ..Metrics::default()
            };
        }
        let m = &mut r.benchmarks[0].metrics;
        m.alloc = Some(AllocCounts {
            iters: 100,
            allocs: 300,
            frees: 300,
            bytes: 30_000,
            peak_live_bytes: 2048,
            other_threads: 0,
            threads: 1,
        });
        m.latency =
            Some(LatencySummary { count: 1000, kept: 1000, mean: 60.0, p50: 50.0, p95: 95.0, p99: 99.0, max: 1500.0 });
        m.reported.insert("disk_bytes".into(), Reported { value: 7.7e6, unit: Unit::Bytes });
        m.reported.insert("records".into(), Reported { value: 1000.0, unit: Unit::Count });
        r
    }

    #[test]
    fn each_suite_has_its_table_under_its_heading() {
        let mut r = results();
        let mut other = r.benchmarks[1].clone();
        other.suite = "codec".into();
        other.id = "codec/zstd".into();
        r.benchmarks.insert(0, other);
        let text = render(&r);
        let (codec, fixture) =
            (text.find("codec (1 benchmark)\n===").unwrap(), text.find("fixture (2 benchmarks)").unwrap());
        assert!(codec < text.find("codec/zstd").unwrap() && text.find("codec/zstd").unwrap() < fixture, "{text}");
        let md = render_markdown(&r);
        assert!(
            md.contains("### codec (1 benchmark)\n\n| benchmark") && md.contains("### fixture (2 benchmarks)"),
            "{md}"
        );
    }

    #[test]
    fn the_overhead_note_states_the_largest_share_and_those_over_the_target() {
        let mut r = results();
        assert_eq!(overhead_note(&r), None);
        let o = |timer_share, alloc_share| crate::model::Overhead {
            intervals_per_op: 0.001,
            timer_ns: 25.0,
            timer_share,
            alloc_pair_ns: Some(1.5),
            alloc_share,
        };
        r.benchmarks[0].metrics.overhead = Some(o(0.0004, Some(0.002)));
        r.benchmarks[1].metrics.overhead = Some(o(0.01, None));
        let note = overhead_note(&r).unwrap();
        let second = r.benchmarks[1].id.clone();
        assert_eq!(
            note,
            format!(
                "measurement overhead: the clock (25.0 ns per timed interval) and the allocation counter (1.50 ns \
                 per allocation, counting off) take at most 1.0% of a benchmark's measured ns/op ({second}); all 2 \
                 benchmarks are under the 5.0% target."
            )
        );
        // Over the target: named, with the parts.
        r.benchmarks[0].metrics.overhead = Some(o(0.045, Some(0.01)));
        let first = r.benchmarks[0].id.clone();
        let note = overhead_note(&r).unwrap();
        assert!(note.contains(&format!("at most 5.5% of a benchmark's measured ns/op ({first})")), "{note}");
        assert!(
            note.contains(&format!("1 of 2 are over the 5.0% target: {first} (clock 4.5%, counter 1.0%).")),
            "{note}"
        );
        assert!(render_markdown(&r).contains(&note));
    }

    #[test]
    fn tables_show_latency_and_reported_figures() {
        insta::assert_snapshot!("table_markdown", render_markdown(&results()));
        insta::assert_snapshot!("table_terminal", render(&results()));
    }
}
