//! Verdicts as a terminal table (tabled) or markdown for a pull-request summary: regressions first, then
//! failures, improvements, and the rest. Rendering only; every verdict comes from `compare`.

use tabled::settings::object::Columns;
use tabled::settings::{Alignment, Style};
use tabled::{Table, Tabled};

use super::{format_bytes, format_count, format_ns};
use crate::compare::{Comparison, Verdict, Verdicts};

#[derive(Tabled)]
struct Row {
    #[tabled(rename = "benchmark")]
    id: String,
    metric: String,
    base: String,
    head: String,
    change: String,
    #[tabled(rename = "95% CI")]
    ci: String,
    #[tabled(rename = "p (adj)")]
    p: String,
    #[tabled(rename = "MDE")]
    mde: String,
    verdict: String,
}

fn value(metric: &str, v: Option<f64>) -> String {
    match (metric, v) {
        (_, None) => "-".into(),
        ("ns_per_op", Some(v)) => format_ns(v),
        ("bytes_per_op", Some(v)) => format_bytes(v),
        (_, Some(v)) => format_count(v),
    }
}

fn pct(r: f64) -> String {
    format!("{:+.2}%", (r - 1.0) * 100.0)
}

fn row(c: &Comparison) -> Row {
    let mut verdict = format!("{:?}", c.verdict).to_lowercase();
    if let Some(n) = c.note.as_deref().filter(|n| !n.is_empty()) {
        verdict = format!("{verdict} ({n})");
    }
    Row {
        id: c.id.clone(),
        metric: c.metric.clone(),
        base: value(&c.metric, c.base),
        head: value(&c.metric, c.head),
        change: c.ratio.map(pct).unwrap_or_default(),
        ci: c.ci95.map(|[l, h]| format!("[{}, {}]", pct(l), pct(h))).unwrap_or_default(),
        p: match (c.p_value, c.p_adjusted) {
            (Some(p), Some(a)) => format!("{p:.2e} ({a:.2e})"),
            _ => String::new(),
        },
        mde: c.mde.map(pct).unwrap_or_default(),
        verdict,
    }
}

/// Display order: regressed, failed, improved, then the rest, each by id.
fn ordered(v: &Verdicts) -> Vec<&Comparison> {
    let mut all: Vec<&Comparison> = v.comparisons.iter().collect();
    all.sort_by(|a, b| (a.verdict, &a.id, &a.metric).cmp(&(b.verdict, &b.id, &b.metric)));
    all
}

pub fn table(v: &Verdicts) -> String {
    let mut t = Table::new(ordered(v).into_iter().map(row));
    t.with(Style::sharp()).modify(Columns::new(2..8), Alignment::right());
    let mut s = t.to_string();
    s.push('\n');
    s.push_str(&summary_line(v));
    for w in &v.warnings {
        s.push_str(&format!("\nwarning: {w}"));
    }
    s
}

fn summary_line(v: &Verdicts) -> String {
    let count = |k: Verdict| v.comparisons.iter().filter(|c| c.verdict == k).count();
    format!(
        "{}: {} regressed, {} failed, {} improved, {} inconclusive, {} unchanged",
        v.verdict.to_uppercase(),
        count(Verdict::Regressed),
        count(Verdict::Failed),
        count(Verdict::Improved),
        count(Verdict::Inconclusive),
        count(Verdict::Unchanged)
    )
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|")
}

pub fn markdown(v: &Verdicts) -> String {
    let mut s = format!("**benchgate: {}**\n\n", summary_line(v));
    let header = "| benchmark | metric | base | head | change | 95% CI | p (adj) | MDE | verdict |\n|---|---|---:|---:|---:|---:|---:|---:|---|\n";
    let line = |c: &Comparison| {
        let r = row(c);
        format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            md_escape(&r.id),
            r.metric,
            r.base,
            r.head,
            r.change,
            r.ci,
            r.p,
            r.mde,
            md_escape(&r.verdict)
        )
    };
    let (notable, rest): (Vec<&Comparison>, Vec<&Comparison>) = ordered(v)
        .into_iter()
        .partition(|c| matches!(c.verdict, Verdict::Regressed | Verdict::Failed | Verdict::Improved));
    if !notable.is_empty() {
        s.push_str(header);
        notable.iter().for_each(|c| s.push_str(&line(c)));
        s.push('\n');
    }
    if !v.suites.is_empty() {
        s.push_str("| suite | geometric mean of ns/op ratios | benchmarks |\n|---|---:|---:|\n");
        for su in &v.suites {
            s.push_str(&format!("| {} | {} | {} |\n", su.suite, pct(su.geomean_ratio), su.benchmarks));
        }
        s.push('\n');
    }
    if !rest.is_empty() {
        s.push_str(&format!("<details><summary>{} other comparisons</summary>\n\n{header}", rest.len()));
        rest.iter().for_each(|c| s.push_str(&line(c)));
        s.push_str("\n</details>\n");
    }
    for w in &v.warnings {
        s.push_str(&format!("\n> warning: {}\n", md_escape(w)));
    }
    s
}
