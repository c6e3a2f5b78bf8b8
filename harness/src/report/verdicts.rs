//! Verdicts as a terminal table (tabled) or markdown for a pull-request summary: regressions first, then
//! failures, improvements, and the rest. Rendering only; every verdict comes from `compare`.

use tabled::settings::object::Columns;
use tabled::settings::{Alignment, Style};
use tabled::{Table, Tabled};

use super::summary::Line;
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
    #[tabled(rename = "interval (coverage)")]
    ci: String,
    #[tabled(rename = "p (adj)")]
    p: String,
    #[tabled(rename = "MDE")]
    mde: String,
    threshold: String,
    verdict: String,
}

pub(super) fn value(metric: &str, v: Option<f64>) -> String {
    match (metric, v) {
        (_, None) => "-".into(),
        ("ns_per_op", Some(v)) => format_ns(v),
        ("bytes_per_op", Some(v)) => format_bytes(v),
        (_, Some(v)) => format_count(v),
    }
}

pub(super) fn pct(r: f64) -> String {
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
        ci: interval(c),
        p: match (c.p_value, c.p_adjusted) {
            (Some(p), Some(a)) => format!("{p:.2e} ({a:.2e})"),
            _ => String::new(),
        },
        mde: c.mde.map(pct).unwrap_or_default(),
        threshold: threshold(c),
        verdict,
    }
}

/// The ratio's interval as changes, with its coverage: `[+1.20%, +2.05%] 97%`.
pub(super) fn interval(c: &Comparison) -> String {
    let Some([l, h]) = c.ci else { return String::new() };
    match c.ci_level {
        Some(level) => format!("[{}, {}] {:.0}%", pct(l), pct(h), (level * 100.0).floor()),
        None => format!("[{}, {}]", pct(l), pct(h)),
    }
}

/// The threshold that applied, marked when it is the calibrated noise floor rather than the configured one.
pub(super) fn threshold(c: &Comparison) -> String {
    let calibrated = c.noise_floor.is_some_and(|f| f >= c.threshold);
    let t = match c.metric.as_str() {
        "ns_per_op" | "instructions_per_op" => format!("{:.2}%", c.threshold * 100.0),
        "bytes_per_op" => format_bytes(c.threshold),
        "allocs_per_op" => format_count(c.threshold),
        _ => return String::new(),
    };
    if calibrated { format!("{t} (noise)") } else { t }
}

/// Display order: regressed, failed, improved, then the rest, each by id.
pub(super) fn ordered(v: &Verdicts) -> Vec<&Comparison> {
    let mut all: Vec<&Comparison> = v.comparisons.iter().collect();
    all.sort_by(|a, b| (a.verdict, &a.id, &a.metric).cmp(&(b.verdict, &b.id, &b.metric)));
    all
}

/// The verdict lines first ([`head_lines`]), then the summary (none when `summary` is empty), then the
/// table and the counts again.
pub fn table(v: &Verdicts, summary: &[Line]) -> String {
    let mut s = head_lines(v).join("\n");
    if !summary.is_empty() {
        s.push_str("\n\n");
        s.push_str(super::summary::terminal(summary).trim_end());
        s.push('\n');
    }
    let mut t = Table::new(ordered(v).into_iter().map(row));
    t.with(Style::sharp()).modify(Columns::new(2..9), Alignment::right());
    s.push_str(&format!("\n{t}\n{}", summary_line(v)));
    s
}

/// What a reviewer reads first, in this order: the verdict with its counts, what was compared, how it
/// was judged, what could not be judged, and the warnings.
pub fn head_lines(v: &Verdicts) -> Vec<String> {
    let mut lines = vec![summary_line(v)];
    lines.extend(v.context.iter().cloned());
    if !v.policy.is_empty() {
        lines.push(v.policy.clone());
    }
    lines.extend(v.incomplete.iter().map(|i| format!("not judged: {i}")));
    lines.extend(v.warnings.iter().map(|w| format!("warning: {w}")));
    lines
}

/// One line: the verdict and how many comparisons got each verdict (verdicts that occur only).
pub fn summary_line(v: &Verdicts) -> String {
    let count = |k: Verdict| v.comparisons.iter().filter(|c| c.verdict == k).count();
    let mut parts = vec![
        format!("{} regressed", count(Verdict::Regressed)),
        format!("{} failed", count(Verdict::Failed)),
        format!("{} improved", count(Verdict::Improved)),
    ];
    for (k, name) in [(Verdict::Accepted, "accepted"), (Verdict::New, "new"), (Verdict::Missing, "missing")] {
        if count(k) > 0 {
            parts.push(format!("{} {name}", count(k)));
        }
    }
    parts.push(match v.short_of_time {
        0 => format!("{} inconclusive", count(Verdict::Inconclusive)),
        n => format!(
            "{} inconclusive ({n} for lack of time: the wall rounds did not fit the time budget, raise --time-budget)",
            count(Verdict::Inconclusive)
        ),
    });
    parts.push(format!("{} unchanged", count(Verdict::Unchanged)));
    format!("{}: {}", v.verdict.to_uppercase(), parts.join(", "))
}

/// What changed, for `baseline save --update`: every comparison that is not "unchanged", as a table,
/// then the summary line.
pub fn changes(v: &Verdicts) -> String {
    let changed: Vec<&Comparison> = ordered(v).into_iter().filter(|c| c.verdict != Verdict::Unchanged).collect();
    if changed.is_empty() {
        return format!("no change beyond the thresholds\n{}", summary_line(v));
    }
    let mut t = Table::new(changed.into_iter().map(row));
    t.with(Style::sharp()).modify(Columns::new(2..9), Alignment::right());
    format!("{t}\n{}", summary_line(v))
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|")
}

/// The verdict lines first, then the summary (none when `summary` is empty), then the tables.
pub fn markdown(v: &Verdicts, summary: &[Line]) -> String {
    let mut s = format!("**benchgate: {}**\n\n", summary_line(v));
    for c in &v.context {
        s.push_str(&format!("{}\n\n", md_escape(c)));
    }
    if !v.policy.is_empty() {
        s.push_str(&format!("{}\n\n", md_escape(&v.policy)));
    }
    for i in &v.incomplete {
        s.push_str(&format!("> **not judged:** {}\n\n", md_escape(i)));
    }
    for w in &v.warnings {
        s.push_str(&format!("> warning: {}\n\n", md_escape(w)));
    }
    if !summary.is_empty() {
        s.push_str(&super::summary::markdown(summary));
    }
    let header = "| benchmark | metric | base | head | change | interval (coverage) | p (adj) | MDE | threshold | verdict |\n\
                  |---|---|---:|---:|---:|---:|---:|---:|---:|---|\n";
    let line = |c: &Comparison| {
        let r = row(c);
        format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            md_escape(&r.id),
            r.metric,
            r.base,
            r.head,
            r.change,
            r.ci,
            r.p,
            r.mde,
            r.threshold,
            md_escape(&r.verdict)
        )
    };
    let (notable, rest): (Vec<&Comparison>, Vec<&Comparison>) = ordered(v).into_iter().partition(|c| {
        matches!(c.verdict, Verdict::Regressed | Verdict::Failed | Verdict::Improved | Verdict::Accepted)
    });
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
    s
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::compare::SuiteSummary;

    /// A comparison with plausible evidence for its lane (shared with the HTML renderer's tests).
    pub(in crate::report) fn c(
        id: &str,
        metric: &str,
        base: f64,
        head: f64,
        verdict: Verdict,
        note: Option<&str>,
    ) -> Comparison {
        let wall = metric == "ns_per_op";
        Comparison {
            id: id.into(),
            suite: id.split('/').next().unwrap().into(),
            metric: metric.into(),
            base: Some(base),
            head: Some(head),
            ratio: Some(head / base),
            ci: wall.then_some([head / base - 0.01, head / base + 0.012]),
            ci_level: wall.then_some(0.979),
            p_value: wall.then_some(1.25e-5),
            p_adjusted: wall.then_some(3.5e-4),
            threshold: match metric {
                "ns_per_op" => 0.03,
                "instructions_per_op" => 0.005,
                _ => 0.0,
            },
            noise_floor: None,
            mde: wall.then_some(1.021),
            verdict,
            note: note.map(Into::into),
        }
    }

    /// One comparison of every kind, in scrambled order: the renderers must sort them.
    fn sample() -> Verdicts {
        let mut noisy = c("codec/zstd/1mb", "ns_per_op", 2.1e6, 2.2e6, Verdict::Unchanged, None);
        noisy.noise_floor = Some(0.08);
        noisy.threshold = 0.08;
        Verdicts {
            policy: "policy: wall: paired sign test in two stages; instr beyond 0.5%".into(),
            incomplete: vec!["head did not run the instr lane, which base ran: its metrics are missing".into()],
            inconclusive_fails: false,
            short_of_time: 0,
            verdict: "fail".into(),
            comparisons: vec![
                c("codec/lz4/1kb", "instructions_per_op", 10_450.0, 10_452.0, Verdict::Unchanged, None),
                noisy,
                c("codec/lz4/1kb", "allocs_per_op", 2.0, 3.0, Verdict::Regressed, None),
                c("codec/lz4/1kb", "ns_per_op", 812.0, 1204.5, Verdict::Regressed, None),
                c("codec/snappy/1kb", "ns_per_op", 900.0, 720.0, Verdict::Improved, None),
                c(
                    "codec/zstd/1kb",
                    "bytes_per_op",
                    4096.0,
                    5120.0,
                    Verdict::Accepted,
                    Some("until 2027-01-31: bigger window | faster"),
                ),
                c("queue/spsc", "ns_per_op", 35.2, 36.0, Verdict::Inconclusive, None),
                Comparison {
                    base: None,
                    head: None,
                    ratio: None,
                    metric: "benchmark".into(),
                    ..c("queue/new", "x", 1.0, 1.0, Verdict::New, Some("only in head"))
                },
            ],
            suites: vec![
                SuiteSummary { suite: "codec".into(), geomean_ratio: 1.0712, benchmarks: 3 },
                SuiteSummary { suite: "queue".into(), geomean_ratio: 1.0227, benchmarks: 1 },
            ],
            context: vec!["base 1a2b3c4d (merge-base of main), head 5e6f7a8b".into()],
            warnings: vec!["base ran in quick mode and head in full mode: their settings differ".into()],
        }
    }

    /// The sample's summary, without results files.
    fn summary() -> Vec<Line> {
        crate::report::summary::of_compare(&sample(), None, None, Some("reports/compare-x/: verdicts.md"))
    }

    #[test]
    fn table_snapshot() {
        insta::assert_snapshot!(table(&sample(), &summary()));
    }

    #[test]
    fn markdown_snapshot() {
        insta::assert_snapshot!(markdown(&sample(), &summary()));
    }

    #[test]
    fn the_verdict_stays_first_and_the_summary_follows_the_verdict_lines() {
        let (v, summary) = (sample(), summary());
        for text in [table(&v, &summary), markdown(&v, &summary)] {
            assert!(text.lines().next().unwrap().contains("FAIL: 2 regressed"), "{text}");
            let (warning, summary_at) = (text.find("warning: base ran").unwrap(), text.find("Summary").unwrap());
            let table_at = text.find('┌').or_else(|| text.find("| benchmark")).unwrap();
            assert!(warning < summary_at && summary_at < table_at, "{text}");
        }
    }

    #[test]
    fn changes_snapshot() {
        insta::assert_snapshot!(changes(&sample()));
    }
}
