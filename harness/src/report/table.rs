//! The terminal table of a results file (tabled): one row per benchmark, one column per figure.

use tabled::settings::object::Columns;
use tabled::settings::{Alignment, Style};
use tabled::{Table, Tabled};

use super::{format_bytes, format_count, format_ns, format_rate};
use crate::model::{BenchResult, Lane, Results};

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
    #[tabled(rename = "instr/op")]
    instr: String,
    #[tabled(rename = "throughput")]
    throughput: String,
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
        instr: m.instructions_per_op.map_or_else(|| missing(b, Lane::Instr), format_count),
        throughput: m.throughput.map(format_rate).unwrap_or_default(),
    }
}

/// Renders the table.
pub fn render(results: &Results) -> String {
    let mut t = Table::new(results.benchmarks.iter().map(row));
    t.with(Style::sharp()).modify(Columns::new(1..), Alignment::right());
    t.to_string()
}
