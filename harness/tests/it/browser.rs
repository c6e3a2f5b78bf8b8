//! The reports in a real browser: `report.html` (from a compare of two results files) and a trend
//! chart (SVG and PNG) rendered by headless Chromium, failing on any console message or on a chart
//! that is missing or has no size. Skipped, with one message, where no Chromium is installed, unless
//! `BENCHGATE_REQUIRE_CHROMIUM=1` (as `.ci/run` sets it, after installing Debian's `chromium`).
//!
//! How: each page is a copy of the file under test with a checker script appended, which on `load`
//! measures every `<svg>` and `<img>` (layout box, and for images a decoded picture) and writes what
//! it found into an attribute of `<body>`; Chromium prints the DOM (`--dump-dom`) on stdout and every
//! console message on stderr (`--enable-logging=stderr --v=0`, lines with `:CONSOLE`). The reports
//! have no scripts of their own and the checker never logs, so any console message (a script error, a
//! resource that failed to load, a parse error) is a fault of the report.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cargo_benchgate::model::Results;
use cargo_benchgate::trend::{Metric, Point, Series};

/// A Chromium binary: `BENCHGATE_CHROMIUM`, else the first of the usual names on `PATH`.
fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("BENCHGATE_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|p| p.is_file())
}

/// Chromium, or `None` after saying why the test is skipped (a panic instead when CI requires it).
fn chromium_or_skip(test: &str) -> Option<PathBuf> {
    let found = chromium();
    if found.is_none() {
        let why = "no Chromium found (chromium, chromium-browser, google-chrome on PATH, or BENCHGATE_CHROMIUM); \
                   `apt-get install chromium` to run it";
        if std::env::var_os("BENCHGATE_REQUIRE_CHROMIUM").is_some_and(|v| v == "1") {
            panic!("{test}: {why} (BENCHGATE_REQUIRE_CHROMIUM=1)");
        }
        // Straight to the file descriptor, past the test harness's capture, so the skip is seen.
        let _ = std::io::Write::write_all(&mut std::io::stderr(), format!("{test}: skipped: {why}\n").as_bytes());
    }
    found
}

/// Appended before `</body>`: measures the charts once the page (images included) has loaded.
const CHECKER: &str = r#"<script>
addEventListener("load", () => {
  const charts = Array.from(document.querySelectorAll("svg, img"));
  const bad = charts.filter((e) => {
    const r = e.getBoundingClientRect();
    const decoded = e.tagName !== "IMG" || (e.complete && e.naturalWidth > 0 && e.naturalHeight > 0);
    return !(r.width >= 1 && r.height >= 1 && decoded);
  }).map((e) => e.tagName.toLowerCase() + (e.getAttribute("alt") ? " [" + e.getAttribute("alt") + "]" : ""));
  document.body.setAttribute("data-benchgate-check", "charts=" + charts.length + ";bad=" + bad.join(","));
});
</script>
"#;

/// What Chromium made of a page: the number of charts it measured and those without a size or picture,
/// with the console messages.
struct Rendered {
    charts: usize,
    bad: String,
    console: Vec<String>,
}

/// Renders `page` (a file in `dir`) with the checker appended; panics when Chromium fails, hangs past a
/// minute, or the checker did not run.
fn render(chromium: &Path, dir: &Path, page: &str, html: &str) -> Rendered {
    let at = html.rfind("</body>").expect("a </body>");
    let checked = dir.join(page);
    std::fs::write(&checked, format!("{}{CHECKER}{}", &html[..at], &html[at..])).unwrap();
    let mut cmd = Command::new(chromium);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-background-networking",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=5000",
        "--window-size=1280,2000",
    ])
    .arg(format!("--user-data-dir={}", dir.join("chromium-profile").display()))
    .arg("--dump-dom")
    .arg(format!("file://{}", checked.display()))
    .stdin(Stdio::null())
    .stdout(std::fs::File::create(dir.join("dom.html")).unwrap())
    .stderr(std::fs::File::create(dir.join("chromium.log")).unwrap());
    // A process group of its own, so the watchdog kills Chromium's helpers with it.
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd.spawn().expect("cannot start chromium");
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > Duration::from_secs(60) {
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            let _ = child.wait();
            panic!("chromium did not finish {page} within 60 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    // Helpers that outlive the browser process (none are expected) go with the group.
    unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
    let log = std::fs::read_to_string(dir.join("chromium.log")).unwrap_or_default();
    assert!(status.success(), "chromium failed on {page} ({status}):\n{log}");
    let dom = std::fs::read_to_string(dir.join("dom.html")).unwrap();
    let console: Vec<String> = log.lines().filter(|l| l.contains(":CONSOLE")).map(str::to_owned).collect();
    let check =
        dom.split("data-benchgate-check=\"").nth(1).and_then(|rest| rest.split('"').next()).unwrap_or_else(|| {
            panic!("the checker did not run on {page}; console: {console:?}\n{}", &dom[..dom.len().min(2000)])
        });
    let (charts, bad) = check.split_once(";bad=").unwrap();
    Rendered { charts: charts.trim_start_matches("charts=").parse().unwrap(), bad: bad.to_owned(), console }
}

/// The example results file and a copy where `fixture/sum/1000` got 30% slower (wall and instructions)
/// and `fixture/batched` 20% faster.
fn base_and_head(dir: &Path) -> (PathBuf, PathBuf) {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/example-results.json");
    let mut head = Results::load(&example).unwrap();
    for b in &mut head.benchmarks {
        let factor = match b.id.as_str() {
            "fixture/sum/1000" => 1.3,
            "fixture/batched" => 0.8,
            _ => continue,
        };
        if let Some(w) = &mut b.metrics.ns_per_op {
            w.samples.iter_mut().for_each(|s| *s *= factor);
            (w.median, w.mean, w.slope, w.std_dev) =
                (w.median * factor, w.mean * factor, w.slope * factor, w.std_dev * factor);
            w.ci95 = [w.ci95[0] * factor, w.ci95[1] * factor];
        }
        if let Some(i) = &mut b.metrics.instructions_per_op {
            *i *= factor;
        }
    }
    let head_path = dir.join("head.json");
    std::fs::write(&head_path, head.to_json()).unwrap();
    (example, head_path)
}

#[test]
fn report_html_renders_in_chromium_without_console_errors_and_with_every_chart() {
    let Some(chromium) = chromium_or_skip("report_html_renders_in_chromium") else { return };
    let dir = tempfile::tempdir().unwrap();
    let (base, head) = base_and_head(dir.path());
    let report = dir.path().join("report.html");
    // A real compare, outside any workspace (the built-in policy), as CI writes report.html.
    let out = Command::new(env!("CARGO_BIN_EXE_benchgate"))
        .current_dir(dir.path())
        .args(["compare".as_ref(), base.as_os_str(), head.as_os_str(), "--no-noise".as_ref()])
        .args(["--format", "html", "--out"])
        .arg(&report)
        .output()
        .unwrap();
    let html = std::fs::read_to_string(&report)
        .unwrap_or_else(|e| panic!("no report.html ({e}):\n{}", String::from_utf8_lossy(&out.stderr)));
    let in_source = html.matches("<svg").count() + html.matches("<img").count();
    assert!(html.matches("<svg").count() >= 2, "the ratio chart and a distribution chart:\n{html}");
    let r = render(&chromium, dir.path(), "report.checked.html", &html);
    assert_eq!(r.console, Vec::<String>::new(), "console messages on report.html");
    assert_eq!(r.charts, in_source, "charts in the source that the browser did not lay out");
    assert_eq!(r.bad, "", "charts without a size or a picture");
}

#[test]
fn trend_charts_render_in_chromium() {
    let Some(chromium) = chromium_or_skip("trend_charts_render_in_chromium") else { return };
    let dir = tempfile::tempdir().unwrap();
    // Ten commits with a 10% step after the fifth, as `trend` draws a series with a change point.
    let points = (0..10)
        .map(|i| Point {
            commit: format!("{i:040x}"),
            position: i,
            value: if i < 5 { 1000.0 + i as f64 } else { 1100.0 - i as f64 },
            runs: 1,
        })
        .collect();
    let series =
        Series { bench: "codec/lz4/1kb".into(), metric: Metric::NsPerOp, points, penalty: 1.0, change_points: vec![5] };
    let svg = cargo_benchgate::trend::svg(&series).unwrap();
    std::fs::write(dir.path().join("chart.svg"), &svg).unwrap();
    std::fs::write(dir.path().join("chart.png"), cargo_benchgate::trend::png(&series).unwrap()).unwrap();
    // The chart files as `trend.md` links them (images), and the SVG inline as a page would embed it.
    let page = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>trend</title></head><body>\n\
         <img alt=\"svg file\" src=\"chart.svg\">\n<img alt=\"png file\" src=\"chart.png\">\n{svg}\n</body></html>\n"
    );
    let r = render(&chromium, dir.path(), "trend.checked.html", &page);
    assert_eq!(r.console, Vec::<String>::new(), "console messages on the trend charts");
    assert_eq!(r.charts, 3, "two images and the inline SVG");
    assert_eq!(r.bad, "", "charts without a size or a picture");
}

#[test]
fn the_browser_check_catches_console_errors_and_charts_without_size() {
    let Some(chromium) = chromium_or_skip("the_browser_check_catches_console_errors") else { return };
    let dir = tempfile::tempdir().unwrap();
    let page = "<!DOCTYPE html>\n<html><body>\n<img alt=\"gone\" src=\"missing.png\">\n\
                <svg width=\"0\" height=\"0\"></svg>\n<svg width=\"10\" height=\"10\"></svg>\n\
                <script>notDefined();</script>\n</body></html>\n";
    let r = render(&chromium, dir.path(), "broken.checked.html", page);
    assert!(r.console.iter().any(|l| l.contains("notDefined")), "{:?}", r.console);
    assert_eq!((r.charts, r.bad.as_str()), (3, "img [gone],svg"));
}
