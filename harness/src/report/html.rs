//! Verdicts as one self-contained HTML file: readable from disk, without a server or the network (the
//! style sheet is inline, there are no scripts, fonts or images to fetch).
//!
//! Order: the overall verdict in the first heading, what was compared and the warnings; the summary
//! (`report::summary`); regressions (then failures, improvements and
//! accepted regressions) with their evidence; the per-suite geometric means; a forest plot of every
//! ratio with its 95% interval; for each changed benchmark whose base and head results carry wall
//! samples, their distributions side by side; where `run --compare` attributed regressions, the
//! functions, categories and allocation sites that grew, with the differential flamegraph inline; the
//! other comparisons folded in a `<details>` table.
//!
//! Charts are drawn by plotters (the team's choice: a maintained, pure-Rust plotting library whose SVG
//! backend writes into a `String`) as inline SVG. Its default features are off: only `svg_backend`,
//! `line_series` and `point_series`. Without `ttf` or `ab_glyph`, plotters lays text out with a fixed
//! estimate and the SVG backend writes `<text font-family="sans-serif">`, which the browser renders with
//! its own fonts: no font files are read, and the output is the same on every machine.
//!
//! Rendering only: every verdict, ratio and interval comes from `compare`, every median from `stats`
//! (via the results file). Every string from the data (ids, notes, warnings, metadata) is HTML-escaped.

use std::error::Error;
use std::fmt::Write as _;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::prelude::*;

use super::format_ns;
use super::verdicts::{ordered, pct, summary_line, threshold, value};
use crate::compare::{Comparison, Verdict, Verdicts};
use crate::model::{BenchResult, Results, WallEstimate};
use crate::profile::attribute::{Attribution, percent_change, signed};

/// The before/after tables (`report::factors`), a table per suite.
fn before_after(s: &mut String, verdicts: &Verdicts, base: &Results, head: &Results) {
    let by_suite = super::factors::rows(verdicts, base, head);
    if by_suite.is_empty() {
        return;
    }
    let _ = writeln!(s, "<h2>Before and after</h2>\n<p class=\"note\">{}</p>", escape(super::factors::LEGEND));
    for (suite, rows) in by_suite {
        let _ = writeln!(s, "<h3>{}</h3>\n<table>", escape(&suite));
        s.push_str("<thead><tr><th>benchmark</th><th>figure</th><th>base</th><th>head</th><th>factor</th>");
        s.push_str("<th>verdict</th></tr></thead>\n<tbody>\n");
        for r in rows {
            let _ = writeln!(
                s,
                "<tr><td><code>{}</code></td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
                 <td class=\"num\">{}</td><td>{}</td></tr>",
                escape(&r.id),
                escape(&r.figure),
                escape(&r.base),
                escape(&r.head),
                escape(&r.factor),
                escape(&r.verdict)
            );
        }
        s.push_str("</tbody>\n</table>\n");
    }
}

/// The report: a complete HTML document. `base` and `head` are the compared results files, when the
/// caller has them (they supply the metadata and the samples of the distribution charts); `summary`
/// follows the verdict, what was compared and the warnings (none when empty).
pub fn html(
    verdicts: &Verdicts,
    base: Option<&Results>,
    head: Option<&Results>,
    attributions: &[Attribution],
    summary: &[super::summary::Line],
) -> String {
    let mut s = String::new();
    let status = if verdicts.verdict == "pass" { "pass" } else { "fail" };
    s.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    s.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(s, "<title>benchgate: {}</title>", escape(&verdicts.verdict.to_uppercase()));
    s.push_str(STYLE);
    s.push_str("</head>\n<body>\n");
    let _ = writeln!(s, "<h1 class=\"{status}\">benchgate: {}</h1>", escape(&summary_line(verdicts)));
    sides(&mut s, base, head);
    for c in &verdicts.context {
        let _ = writeln!(s, "<p class=\"context\">{}</p>", escape(c));
    }
    if !verdicts.policy.is_empty() {
        let _ = writeln!(s, "<p class=\"context\">{}</p>", escape(&verdicts.policy));
    }
    if !verdicts.warnings.is_empty() || !verdicts.incomplete.is_empty() {
        s.push_str("<ul class=\"warnings\">\n");
        for i in &verdicts.incomplete {
            let _ = writeln!(s, "<li><strong>not judged:</strong> {}</li>", escape(i));
        }
        for w in &verdicts.warnings {
            let _ = writeln!(s, "<li>warning: {}</li>", escape(w));
        }
        s.push_str("</ul>\n");
    }
    if !summary.is_empty() {
        s.push_str(&super::summary::html(summary));
    }

    let all = ordered(verdicts);
    let groups = [
        (Verdict::Regressed, "Regressions"),
        (Verdict::Failed, "Failures"),
        (Verdict::Improved, "Improvements"),
        (Verdict::Accepted, "Accepted regressions"),
    ];
    for (verdict, title) in groups {
        let rows: Vec<&Comparison> = all.iter().copied().filter(|c| c.verdict == verdict).collect();
        if !rows.is_empty() {
            let _ = writeln!(s, "<h2>{title} ({})</h2>", rows.len());
            table(&mut s, &rows);
        }
    }
    if !verdicts.suites.is_empty() {
        s.push_str("<h2>Suites</h2>\n<table>\n<thead><tr><th>suite</th><th>geometric mean of ns/op ratios</th>");
        s.push_str("<th>benchmarks</th></tr></thead>\n<tbody>\n");
        for su in &verdicts.suites {
            let _ = writeln!(
                s,
                "<tr><td>{}</td><td class=\"num\">{:.3} ({})</td><td class=\"num\">{}</td></tr>",
                escape(&su.suite),
                su.geomean_ratio,
                pct(su.geomean_ratio),
                su.benchmarks
            );
        }
        s.push_str("</tbody>\n</table>\n");
    }

    let with_ratio: Vec<&Comparison> = all.iter().copied().filter(|c| c.ratio.is_some_and(f64::is_finite)).collect();
    if !with_ratio.is_empty() {
        s.push_str("<h2>Ratios (head / base) with 95% intervals</h2>\n");
        s.push_str(
            "<p class=\"note\">One row per comparison, in the order above; the whisker is the 95% interval \
             where the comparison has one (wall time). Left of the line at 1 is faster or smaller; red regressed \
             or failed, green improved, orange accepted, grey the rest.</p>\n",
        );
        s.push_str("<figure class=\"chart\">\n");
        s.push_str(&svg(ratio_size(&with_ratio), |area| ratio_chart(area, &with_ratio)));
        s.push_str("</figure>\n");
    }

    let distributions = changed_with_samples(&all, base, head);
    if !distributions.is_empty() {
        s.push_str("<h2>Sample distributions of changed benchmarks</h2>\n");
        s.push_str(
            "<p class=\"note\">Every wall-time sample (ns/op) of base and head, spread vertically only to be \
             seen; the bar is the median.</p>\n",
        );
        for (id, b, h) in distributions {
            let _ = writeln!(
                s,
                "<figure class=\"chart\">\n<figcaption><code>{}</code>: base median {} (n = {}), head median {} \
                 (n = {})</figcaption>",
                escape(id),
                format_ns(b.median),
                b.samples.len(),
                format_ns(h.median),
                h.samples.len()
            );
            s.push_str(&svg((800, 180), |area| distribution_chart(area, b, h)));
            s.push_str("</figure>\n");
        }
    }

    where_from(&mut s, attributions);

    let rest: Vec<&Comparison> = all.iter().copied().filter(|c| !groups.iter().any(|(v, _)| *v == c.verdict)).collect();
    if !rest.is_empty() {
        let _ = writeln!(s, "<details>\n<summary>{} other comparisons</summary>", rest.len());
        table(&mut s, &rest);
        s.push_str("</details>\n");
    }
    if let (Some(b), Some(h)) = (base, head) {
        before_after(&mut s, verdicts, b, h);
    }
    s.push_str("</body>\n</html>\n");
    s
}

/// "Where the regressions come from": per attributed benchmark, the functions whose instructions per op
/// grew, the categories that moved, the allocation sites that are new or allocate more, and the
/// differential flamegraph, inline (an image of the SVG, so its scripts do not run in the report).
fn where_from(s: &mut String, attributions: &[Attribution]) {
    if attributions.is_empty() {
        return;
    }
    let count = super::format_count;
    s.push_str(
        "<h2>Where the regressions come from</h2>\n<p class=\"note\">Instructions per op by function, base → \
         head: each side's benchmark under callgrind with 1 and 1 + K iterations, the difference divided by K. \
         Flamegraphs show head's stacks, red where they grew and blue where they shrank.</p>\n",
    );
    for a in attributions {
        let _ = writeln!(
            s,
            "<h3><code>{}</code></h3>\n<p>{} → {} instr/op ({}).</p>",
            escape(&a.id),
            count(a.base_per_op),
            count(a.head_per_op),
            percent_change(a.base_per_op, a.head_per_op)
        );
        if a.grew.is_empty() {
            s.push_str(
                "<p>No function's instructions per op grew: the regression is not in the instructions executed \
                 (look at allocations or wall time: memory, cache, layout).</p>\n",
            );
        } else {
            s.push_str(
                "<table>\n<tr><th>function</th><th>category</th><th>base</th><th>head</th><th>change</th></tr>\n",
            );
            for f in &a.grew {
                let _ = writeln!(
                    s,
                    "<tr><td><code>{}</code></td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
                     <td class=\"num\">{} ({})</td></tr>",
                    escape(&f.name),
                    escape(&f.category),
                    count(f.base),
                    count(f.head),
                    signed(f.change()),
                    percent_change(f.base, f.head)
                );
            }
            s.push_str("</table>\n");
        }
        let moved: Vec<String> = a
            .categories
            .iter()
            .filter(|c| (c.head - c.base).abs() >= 0.005 * a.base_per_op.max(1.0))
            .map(|c| format!("{} {}", escape(&c.category), signed(c.head - c.base)))
            .collect();
        if !moved.is_empty() {
            let _ = writeln!(s, "<p>By category (instr/op): {}.</p>", moved.join(", "));
        }
        match &a.sites {
            Some(sites) if !sites.is_empty() => {
                s.push_str(
                    "<p>Allocation sites (DHAT) that are new or allocate more, per op, base → head:</p>\n<table>\n\
                     <tr><th>allocation site</th><th>blocks/op</th><th>bytes/op</th></tr>\n",
                );
                for c in sites {
                    let _ = writeln!(
                        s,
                        "<tr><td><code>{}</code>{}</td><td class=\"num\">{} → {}</td><td class=\"num\">{} → {}</td></tr>",
                        escape(crate::profile::dhat::caller(&c.frames)),
                        if c.is_new() { " (new)" } else { "" },
                        count(c.base_blocks),
                        count(c.head_blocks),
                        count(c.base_bytes),
                        count(c.head_bytes)
                    );
                }
                s.push_str("</table>\n");
            }
            Some(_) => s.push_str("<p>No allocation site is new or allocates more per op.</p>\n"),
            None => {}
        }
        if let Some(svg) = &a.flamegraph_svg {
            let _ = writeln!(
                s,
                "<figure class=\"chart\"><figcaption>Differential flamegraph{}</figcaption>\n\
                 <img alt=\"differential flamegraph of {}\" style=\"max-width: 100%\" \
                 src=\"data:image/svg+xml;base64,{}\"></figure>",
                a.flamegraph.as_deref().map(|f| format!(" (<code>{}</code>)", escape(f))).unwrap_or_default(),
                escape(&a.id),
                base64(svg.as_bytes())
            );
        }
    }
}

/// Standard base64 with padding (RFC 4648), for a data URL.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

const STYLE: &str = "<style>
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 2em auto; max-width: 80em;
  padding: 0 1em; color: #1b1b1b; background: #fff; }
h1 { font-size: 1.4em; padding: .4em .6em; border-radius: 4px; }
h1.fail { background: #fde8e8; color: #8a1010; }
h1.pass { background: #e6f4ea; color: #135e2b; }
h2 { font-size: 1.15em; margin-top: 1.6em; }
table { border-collapse: collapse; font-size: .9em; margin: .5em 0; }
th, td { border: 1px solid #ddd; padding: .25em .5em; text-align: left; vertical-align: top; }
th { background: #f5f5f5; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.regressed td.verdict, tr.failed td.verdict { color: #b00020; font-weight: 600; }
tr.improved td.verdict { color: #137333; font-weight: 600; }
tr.accepted td.verdict { color: #a15c00; }
ul.warnings { color: #8a5a00; }
.note { color: #555; font-size: .9em; }
figure.chart { margin: 1em 0; overflow-x: auto; }
figcaption { font-size: .9em; margin-bottom: .3em; }
details { margin-top: 1.6em; }
summary { cursor: pointer; font-weight: 600; }
</style>
";

/// HTML-escapes text for element content and attribute values.
pub(super) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What was compared: revision, start time, mode, toolchain and machine of each side that is known.
fn sides(s: &mut String, base: Option<&Results>, head: Option<&Results>) {
    if base.is_none() && head.is_none() {
        return;
    }
    s.push_str("<table class=\"sides\">\n<thead><tr><th></th><th>revision</th><th>started</th><th>mode</th>");
    s.push_str("<th>rustc</th><th>machine</th></tr></thead>\n<tbody>\n");
    for (name, r) in [("base", base), ("head", head)] {
        let Some(r) = r else { continue };
        let m = &r.meta;
        let revision = match &m.git {
            Some(g) => {
                let short: String = g.commit.chars().take(12).collect();
                let branch = g.branch.as_deref().map(|b| format!(" ({b})")).unwrap_or_default();
                format!("{short}{branch}{}", if g.dirty { ", dirty" } else { "" })
            }
            None => "-".into(),
        };
        let partial = if m.partial { " (partial)" } else { "" };
        let _ = writeln!(
            s,
            "<tr><th>{name}</th><td><code>{}</code></td><td>{}{partial}</td><td>{}</td><td>{}</td><td>{}, {} cores \
             ({})</td></tr>",
            escape(&revision),
            escape(&m.started_at),
            m.mode,
            escape(&m.toolchain.rustc_release),
            escape(&m.machine.cpu_model),
            m.machine.cores,
            escape(&m.machine.fingerprint)
        );
    }
    s.push_str("</tbody>\n</table>\n");
}

/// The evidence of each comparison, one row each.
fn table(s: &mut String, rows: &[&Comparison]) {
    s.push_str("<table>\n<thead><tr><th>benchmark</th><th>metric</th><th>base</th><th>head</th><th>ratio</th>");
    s.push_str("<th>interval (coverage)</th><th>p</th><th>p (adj)</th><th>threshold</th><th>MDE</th><th>verdict</th>");
    s.push_str("<th>note</th></tr></thead>\n<tbody>\n");
    for c in rows {
        let verdict = format!("{:?}", c.verdict).to_lowercase();
        let ratio = c.ratio.map(|r| format!("{r:.3} ({})", pct(r))).unwrap_or_default();
        let ci = match (c.ci, c.ci_level) {
            (Some([l, h]), Some(level)) => format!("[{l:.3}, {h:.3}] {:.0}%", (level * 100.0).floor()),
            (Some([l, h]), None) => format!("[{l:.3}, {h:.3}]"),
            _ => String::new(),
        };
        let p = |p: Option<f64>| p.map(|p| format!("{p:.2e}")).unwrap_or_default();
        let _ = writeln!(
            s,
            "<tr class=\"{verdict}\"><td><code>{}</code></td><td>{}</td><td class=\"num\">{}</td><td \
             class=\"num\">{}</td><td class=\"num\">{ratio}</td><td class=\"num\">{ci}</td><td \
             class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td \
             class=\"verdict\">{verdict}</td><td>{}</td></tr>",
            escape(&c.id),
            escape(&c.metric),
            escape(&value(&c.metric, c.base)),
            escape(&value(&c.metric, c.head)),
            p(c.p_value),
            p(c.p_adjusted),
            escape(&threshold(c)),
            c.mde.map(pct).unwrap_or_default(),
            escape(c.note.as_deref().unwrap_or_default()),
        );
    }
    s.push_str("</tbody>\n</table>\n");
}

/// The unit of a results-format metric name, for chart labels.
pub(super) fn unit(metric: &str) -> &str {
    match metric {
        "ns_per_op" => "ns/op",
        "allocs_per_op" => "allocs/op",
        "bytes_per_op" => "B/op",
        "instructions_per_op" => "instr/op",
        other => other,
    }
}

/// Draws into an SVG string of `size` pixels; a drawing error becomes a note instead of a chart.
fn svg(
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), Box<dyn Error>>,
) -> String {
    super::chart::register_font();
    let mut buf = String::new();
    let result = (|| {
        let root = SVGBackend::with_string(&mut buf, size).into_drawing_area();
        root.fill(&WHITE)?;
        draw(&root)?;
        root.present()?;
        Ok::<_, Box<dyn Error>>(())
    })();
    match result {
        Ok(()) => {
            buf.push('\n');
            buf
        }
        Err(e) => format!("<p class=\"note\">chart not drawn: {}</p>\n", escape(&e.to_string())),
    }
}

const FONT: &str = "sans-serif";
const RED_: RGBColor = RGBColor(0xb0, 0x00, 0x20);
const GREEN_: RGBColor = RGBColor(0x13, 0x73, 0x33);
const ORANGE: RGBColor = RGBColor(0xa1, 0x5c, 0x00);
const GREY: RGBColor = RGBColor(0x60, 0x60, 0x60);
const BASE_COLOR: RGBColor = RGBColor(0x44, 0x6e, 0xb0);
const HEAD_COLOR: RGBColor = RGBColor(0xd0, 0x6a, 0x1c);

fn color(v: Verdict) -> RGBColor {
    match v {
        Verdict::Regressed | Verdict::Failed => RED_,
        Verdict::Improved => GREEN_,
        Verdict::Accepted => ORANGE,
        _ => GREY,
    }
}

const ROW_HEIGHT: u32 = 22;

/// A vertical axis of `n` rows: row `i` is centred on `i` (0 at the bottom), the axis runs from -0.5 to
/// `n - 0.5`, and the labels sit on the rows (plotters' own f64 axis would pick "nice" numbers instead).
#[derive(Debug, Clone, Copy)]
struct Rows(usize);

impl Ranged for Rows {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let (start, end) = (-0.5, self.0 as f64 - 0.5);
        let share = (value - start) / (end - start);
        limit.0 + (f64::from(limit.1 - limit.0) * share).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // Labelled (bold) points only: rows need no light grid lines.
        if hint.weight().allow_light_points() || hint.max_num_points() == 0 {
            return Vec::new();
        }
        let step = self.0.div_ceil(hint.max_num_points()).max(1);
        (0..self.0).step_by(step).map(|i| i as f64).collect()
    }

    fn range(&self) -> std::ops::Range<f64> {
        -0.5..self.0 as f64 - 0.5
    }
}

fn row_label(c: &Comparison) -> String {
    format!("{} ({})", c.id, unit(&c.metric))
}

/// Wide enough for the longest row label (about 7 px per character at the labels' size).
fn label_width(labels: impl Iterator<Item = usize>) -> u32 {
    let longest = labels.max().unwrap_or(0) as u32;
    (longest * 7 + 12).clamp(60, 420)
}

fn ratio_size(rows: &[&Comparison]) -> (u32, u32) {
    (900, rows.len() as u32 * ROW_HEIGHT + 70)
}

/// A forest plot: one row per comparison, the ratio as a dot, its 95% interval as a whisker, and a
/// vertical line at 1 (no change). Row 0 is at the top.
fn ratio_chart(area: &DrawingArea<SVGBackend<'_>, Shift>, rows: &[&Comparison]) -> Result<(), Box<dyn Error>> {
    let n = rows.len();
    let labels: Vec<String> = rows.iter().map(|c| row_label(c)).collect();
    let (mut lo, mut hi) = (1.0f64, 1.0f64);
    for c in rows {
        let r = c.ratio.unwrap_or(1.0);
        let [l, h] = c.ci.filter(|[l, h]| l.is_finite() && h.is_finite()).unwrap_or([r, r]);
        lo = lo.min(l).min(r);
        hi = hi.max(h).max(r);
    }
    let pad = ((hi - lo) * 0.06).max(0.01);
    let (lo, hi) = (lo - pad, hi + pad);
    // Row i sits at y = n - 1 - i, so that the first row is drawn at the top.
    let y = |i: usize| (n - 1 - i) as f64;
    let mut chart = ChartBuilder::on(area)
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(label_width(labels.iter().map(|l| l.chars().count())))
        .build_cartesian_2d(lo..hi, Rows(n))?;
    let label_for = |v: &f64| {
        let row = n as i64 - 1 - v.round() as i64;
        usize::try_from(row).ok().and_then(|r| labels.get(r)).cloned().unwrap_or_default()
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n)
        .x_labels(8)
        .x_desc("ratio (head / base)")
        .x_label_formatter(&|x| format!("{x:.2}"))
        .y_label_formatter(&label_for)
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 16))
        .max_light_lines(2)
        .light_line_style(RGBColor(0xee, 0xee, 0xee))
        .draw()?;
    chart.draw_series([PathElement::new([(1.0, -0.5), (1.0, n as f64 - 0.5)], BLACK.stroke_width(1))])?;
    for (i, c) in rows.iter().enumerate() {
        let (Some(r), col) = (c.ratio, color(c.verdict)) else { continue };
        if let Some([l, h]) = c.ci.filter(|[l, h]| l.is_finite() && h.is_finite()) {
            let yi = y(i);
            chart.draw_series([
                PathElement::new([(l, yi), (h, yi)], col.stroke_width(2)),
                PathElement::new([(l, yi - 0.2), (l, yi + 0.2)], col.stroke_width(2)),
                PathElement::new([(h, yi - 0.2), (h, yi + 0.2)], col.stroke_width(2)),
            ])?;
        }
        chart.draw_series([Circle::new((r, y(i)), 4, col.filled())])?;
    }
    Ok(())
}

/// The benchmarks with a regressed or improved comparison whose base and head both have wall samples, in
/// report order.
fn changed_with_samples<'a>(
    all: &[&'a Comparison],
    base: Option<&'a Results>,
    head: Option<&'a Results>,
) -> Vec<(&'a str, &'a WallEstimate, &'a WallEstimate)> {
    let (Some(base), Some(head)) = (base, head) else { return Vec::new() };
    let wall = |r: &'a Results, id: &str| {
        r.benchmarks
            .iter()
            .find(|b: &&BenchResult| b.id == id)
            .and_then(|b| b.metrics.ns_per_op.as_ref())
            .filter(|w| !w.samples.is_empty())
    };
    let mut out: Vec<(&str, &WallEstimate, &WallEstimate)> = Vec::new();
    for c in all.iter().filter(|c| matches!(c.verdict, Verdict::Regressed | Verdict::Improved)) {
        if out.iter().any(|(id, _, _)| *id == c.id) {
            continue;
        }
        if let (Some(b), Some(h)) = (wall(base, &c.id), wall(head, &c.id)) {
            out.push((c.id.as_str(), b, h));
        }
    }
    out
}

/// A strip plot: base samples on the upper row, head samples on the lower, each sample a translucent dot
/// spread vertically by a fixed low-discrepancy offset (golden-ratio steps, not random: the same file
/// draws the same chart), the median a black bar.
fn distribution_chart(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    base: &WallEstimate,
    head: &WallEstimate,
) -> Result<(), Box<dyn Error>> {
    let all = base.samples.iter().chain(&head.samples).copied().filter(|v| v.is_finite());
    let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if !lo.is_finite() || !hi.is_finite() {
        return Ok(());
    }
    let pad = ((hi - lo) * 0.05).max(hi.abs() * 0.01).max(1e-9);
    let labels = ["head", "base"];
    let mut chart = ChartBuilder::on(area)
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d((lo - pad)..(hi + pad), Rows(2))?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(2)
        .x_labels(8)
        .x_desc("ns/op per sample")
        .x_label_formatter(&|x| format_ns(*x))
        .y_label_formatter(&|v| labels.get(v.round() as usize).copied().unwrap_or_default().to_owned())
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 16))
        .max_light_lines(2)
        .light_line_style(RGBColor(0xee, 0xee, 0xee))
        .draw()?;
    for (row, w, col) in [(1.0, base, BASE_COLOR), (0.0, head, HEAD_COLOR)] {
        let dots = w.samples.iter().enumerate().filter(|(_, v)| v.is_finite()).map(|(i, v)| {
            let jitter = ((i as f64 * 0.618_033_988_749_895).fract() - 0.5) * 0.6;
            Circle::new((*v, row + jitter), 2, col.mix(0.55).filled())
        });
        chart.draw_series(dots)?;
        chart
            .draw_series([PathElement::new([(w.median, row - 0.42), (w.median, row + 0.42)], BLACK.stroke_width(2))])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::compare::SuiteSummary;
    use crate::model::Metrics;
    use crate::report::verdicts::tests::c;

    /// A regression (with a `<` in its id), an improvement, an accepted regression, and the rest, in
    /// scrambled order.
    fn sample() -> Verdicts {
        Verdicts {
            policy: String::new(),
            incomplete: Vec::new(),
            inconclusive_fails: false,
            short_of_time: 0,
            verdict: "fail".into(),
            comparisons: vec![
                c("codec/lz4/1kb", "instructions_per_op", 10_450.0, 10_452.0, Verdict::Unchanged, None),
                c("codec/lz4<simd>/1kb", "allocs_per_op", 2.0, 3.0, Verdict::Regressed, None),
                c("codec/lz4<simd>/1kb", "ns_per_op", 812.0, 1204.5, Verdict::Regressed, Some("paired over 5 rounds")),
                c("codec/snappy/1kb", "ns_per_op", 900.0, 720.0, Verdict::Improved, None),
                c(
                    "codec/zstd/1kb",
                    "bytes_per_op",
                    4096.0,
                    5120.0,
                    Verdict::Accepted,
                    Some("until 2027-01-31: bigger window & <faster>"),
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

    /// Fixed samples around `center`: a deterministic spread of ±4%.
    fn wall(center: f64, n: usize) -> WallEstimate {
        let samples: Vec<f64> = (0..n).map(|i| center * (0.96 + 0.08 * ((i * 7 % n) as f64 / n as f64))).collect();
        let mut sorted = samples.clone();
        sorted.sort_by(f64::total_cmp);
        let median = sorted[n / 2];
        WallEstimate {
            median,
            mean: median,
            slope: median,
            std_dev: center * 0.02,
            ci95: [median * 0.99, median * 1.01],
            sample_iters: (1..=n as u64).collect(),
            samples,
            warmup_iters: 10,
            rounds: Vec::new(),
            confirm_from: None,
        }
    }

    /// The example file's metadata with the sample's wall benchmarks.
    fn results(centers: &[(&str, f64)]) -> Results {
        let mut r = Results::parse(include_str!("../../../docs/example-results.json")).unwrap();
        r.benchmarks = centers
            .iter()
            .map(|(id, center)| BenchResult {
                id: (*id).into(),
                suite: id.split('/').next().unwrap().into(),
                name: id.split_once('/').unwrap().1.into(),
                param: None,
                throughput: None,
                metrics: Metrics { ns_per_op: Some(wall(*center, 20)), ..Metrics::default() },
                failures: BTreeMap::new(),
                skipped: BTreeMap::new(),
            })
            .collect();
        r
    }

    fn rendered() -> String {
        let base = results(&[("codec/lz4<simd>/1kb", 812.0), ("codec/snappy/1kb", 900.0), ("queue/spsc", 35.2)]);
        let head = results(&[("codec/lz4<simd>/1kb", 1204.5), ("codec/snappy/1kb", 720.0), ("queue/spsc", 36.0)]);
        let summary = crate::report::summary::of_compare(&sample(), Some(&base), Some(&head), Some("reports/x"));
        html(&sample(), Some(&base), Some(&head), &[], &summary)
    }

    #[test]
    fn html_snapshot() {
        insta::assert_snapshot!(rendered());
    }

    #[test]
    fn html_has_charts_escapes_data_and_orders_sections() {
        let s = rendered();
        let first_heading = s.lines().find(|l| l.starts_with("<h1")).unwrap();
        assert!(first_heading.contains("FAIL: 2 regressed"), "{first_heading}");
        // One ratio chart and one distribution chart per changed benchmark with samples (lz4, snappy).
        assert_eq!(s.matches("<svg").count(), 3, "{s}");
        let ratios = s.find("<h2>Ratios").unwrap();
        let distributions = s.find("<h2>Sample distributions").unwrap();
        assert!(s[ratios..distributions].contains("<svg"));
        assert!(s[distributions..].contains("<svg"));
        // Regressions come first, the rest is folded.
        let regressions = s.find("<h2>Regressions (2)</h2>").unwrap();
        assert!(regressions < s.find("<h2>Improvements").unwrap());
        assert!(s.find("<details>").unwrap() > distributions);
        // Ids and notes are escaped, in the tables and in the charts' labels.
        assert!(!s.contains("lz4<simd>"), "unescaped id");
        assert!(s.contains("codec/lz4&lt;simd&gt;/1kb"));
        assert!(s.contains("bigger window &amp; &lt;faster&gt;"));
        // Nothing to fetch.
        for external in ["https://", "<script", "<link", "@import", "url(", "<img"] {
            assert!(!s.contains(external), "{external}");
        }
        // The only address is the SVG namespace, which is a name, not a fetch.
        assert_eq!(s.matches("http://").count(), s.matches("xmlns=\"http://www.w3.org/2000/svg\"").count());
    }

    #[test]
    fn html_without_results_files_has_the_ratio_chart_only() {
        let s = html(&sample(), None, None, &[], &[]);
        assert_eq!(s.matches("<svg").count(), 1);
        assert!(!s.contains("Sample distributions"));
    }

    /// An attributed regression: its functions, categories, allocation sites and flamegraph (inline, as
    /// an image of the SVG, so nothing is fetched and its scripts do not run), after the charts and
    /// before the folded rest; ids and names escaped. The context line is not a warning.
    #[test]
    fn html_shows_where_the_regressions_come_from() {
        use crate::profile::attribute::{CategoryChange, FunctionChange};
        use crate::profile::dhat::SiteChange;
        let f = |name: &str, base: f64, head: f64| FunctionChange {
            name: name.into(),
            category: "compute".into(),
            base,
            head,
        };
        let a = Attribution {
            id: "codec/lz4<simd>/1kb".into(),
            base_per_op: 10_000.0,
            head_per_op: 20_400.0,
            grew: vec![f("demo::work<u8>", 9_000.0, 19_000.0), f("memcpy", 100.0, 500.0)],
            shrank: vec![],
            categories: vec![CategoryChange { category: "compute".into(), base: 9_000.0, head: 19_000.0 }],
            sites: Some(vec![SiteChange {
                frames: vec!["demo::alloc_one (demo.rs:12)".into()],
                base_blocks: 0.0,
                head_blocks: 1.0,
                base_bytes: 0.0,
                head_bytes: 64.0,
            }]),
            flamegraph: Some("attribution/codec_lz4.diff.svg".into()),
            flamegraph_svg: Some("<svg xmlns=\"http://www.w3.org/2000/svg\"><script>x</script></svg>".into()),
        };
        let s = html(&sample(), None, None, std::slice::from_ref(&a), &[]);
        let section = s.find("<h2>Where the regressions come from</h2>").expect("the section");
        assert!(section > s.find("<h2>Ratios").unwrap() && section < s.find("<details>").unwrap());
        let part = &s[section..];
        assert!(part.contains("<h3><code>codec/lz4&lt;simd&gt;/1kb</code></h3>"), "{part}");
        assert!(part.contains("10,000 → 20,400 instr/op (+104.0%)") || part.contains("instr/op (+104.0%)"), "{part}");
        assert!(part.contains("<code>demo::work&lt;u8&gt;</code>") && part.contains("+10,000 (+111.1%)"), "{part}");
        assert!(part.contains("By category (instr/op): compute +10,000."), "{part}");
        assert!(part.contains("demo::alloc_one") && part.contains("(new)"), "{part}");
        let b64 = base64(a.flamegraph_svg.as_ref().unwrap().as_bytes());
        assert!(part.contains(&format!("src=\"data:image/svg+xml;base64,{b64}\"")), "{part}");
        assert!(!s.contains("<script"), "the flamegraph's script is inside the data URL only");
        assert!(s.contains("<p class=\"context\">base 1a2b3c4d (merge-base of main), head 5e6f7a8b</p>"));
        assert!(!s.contains("warning: base 1a2b3c4d"));
    }

    #[test]
    fn base64_matches_rfc_4648() {
        // The test vectors of RFC 4648, section 10.
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn escape_covers_markup() {
        assert_eq!(escape(r#"<a href="x">&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
    }
}
