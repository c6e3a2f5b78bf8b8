//! Calibrated noise floors as a terminal table, with the distribution of the wall floors.

use tabled::settings::object::Columns;
use tabled::settings::{Alignment, Style};
use tabled::{Table, Tabled};

use super::{format_bytes, format_count};
use crate::model::NoiseFloors;

#[derive(Tabled)]
struct Row {
    #[tabled(rename = "benchmark")]
    id: String,
    metric: String,
    #[tabled(rename = "noise floor")]
    floor: String,
    #[tabled(rename = "largest run-to-run difference")]
    spread: String,
}

fn value(metric: &str, v: f64) -> String {
    match metric {
        "ns_per_op" | "instructions_per_op" => format!("±{:.2}%", v * 100.0),
        "bytes_per_op" => format_bytes(v),
        _ => format_count(v),
    }
}

pub fn table(n: &NoiseFloors) -> String {
    let rows = n.benchmarks.iter().flat_map(|(id, metrics)| {
        metrics.iter().map(move |(metric, f)| Row {
            id: id.clone(),
            metric: metric.clone(),
            floor: value(metric, f.floor),
            spread: value(metric, f.spread),
        })
    });
    let mut t = Table::new(rows);
    t.with(Style::sharp()).modify(Columns::new(2..4), Alignment::right());
    let mut wall: Vec<f64> = n.benchmarks.values().filter_map(|m| m.get("ns_per_op")).map(|f| f.floor).collect();
    wall.sort_by(f64::total_cmp);
    let mut s = t.to_string();
    if !wall.is_empty() {
        let q = |p: f64| crate::stats::quantile_sorted(&wall, p) * 100.0;
        s.push_str(&format!(
            "\nwall noise floors over {} benchmarks ({} runs, alpha {}): median ±{:.2}%, 90th percentile ±{:.2}%, max ±{:.2}%",
            wall.len(),
            n.runs,
            n.alpha,
            q(0.5),
            q(0.9),
            q(1.0)
        ));
    }
    s
}
