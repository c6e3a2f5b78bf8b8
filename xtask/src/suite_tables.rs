//! `cargo xtask suite-tables RESULTS`: replaces the figures section of each curated suite's README
//! (`bench-suites/benches/<suite>/README.md`, between the `benchgate:table` markers) with the tables
//! `benchgate show --format markdown` renders from RESULTS, the machine they were measured on, and the
//! locked versions of the suite's libraries. Figures are never typed by hand.

use std::path::Path;

use cargo_benchgate::model::Results;

const BEGIN: &str = "<!-- benchgate:table:begin -->";
const END: &str = "<!-- benchgate:table:end -->";

/// The libraries each curated suite compares (their versions come from the results' `meta.libraries`).
const SUITE_LIBRARIES: &[(&str, &[&str])] = &[
    ("compression", &["brotli", "flate2", "lz4_flex", "snap", "zstd"]),
    ("protobuf", &["prost", "quick-protobuf"]),
    ("queues", &["crossbeam-channel", "crossbeam-queue", "flume", "rtrb", "redb"]),
    ("interning", &["lasso", "string-interner", "ustr"]),
    ("storage", &["redb", "fjall", "heed", "rusqlite"]),
    ("pipeline", &["lasso", "prost", "snap"]),
];

pub fn run(results_path: &Path) -> i32 {
    match update_all(results_path) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("xtask: {e}");
            2
        }
    }
}

fn update_all(results_path: &Path) -> Result<(), String> {
    let results = Results::load(results_path).map_err(|e| e.to_string())?;
    if results.meta.partial {
        return Err(format!("{}: the run did not finish; its tables would be incomplete", results_path.display()));
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench-suites/benches");
    let mut suites: Vec<&str> = results.benchmarks.iter().map(|b| b.suite.as_str()).collect();
    suites.dedup();
    for suite in suites {
        let readme = dir.join(suite).join("README.md");
        if !readme.exists() {
            eprintln!("xtask: no {} for suite `{suite}`; skipped", readme.display());
            continue;
        }
        let text = std::fs::read_to_string(&readme).map_err(|e| format!("{}: {e}", readme.display()))?;
        let section = section(&results, suite);
        let updated =
            splice(&text, &section).ok_or_else(|| format!("{}: no {BEGIN} ... {END} markers", readme.display()))?;
        cargo_benchgate::fsutil::write_atomic(&readme, updated.as_bytes())
            .map_err(|e| format!("{}: {e}", readme.display()))?;
        eprintln!("wrote {}", readme.display());
    }
    Ok(())
}

/// The text between the markers: provenance, libraries, tables.
fn section(results: &Results, suite: &str) -> String {
    let mut only = results.clone();
    only.benchmarks.retain(|b| b.suite == suite);
    let m = &results.meta;
    let commit = m.git.as_ref().map_or_else(
        || "unknown commit".to_owned(),
        |g| {
            format!(
                "commit {}{}",
                &g.commit[..g.commit.len().min(10)],
                if g.dirty { " (with uncommitted changes)" } else { "" }
            )
        },
    );
    let gib = m.machine.memory_bytes as f64 / f64::from(1u32 << 30);
    let mut out = format!(
        "Measured with `cargo xtask bench --suite {suite}{}` ({} mode, lanes {}) on {}: {}, {} cores, {gib:.0} GiB, {}, \
         rustc {}; {}.\n",
        if m.mode == cargo_benchgate::model::RunMode::Quick { " --quick" } else { "" },
        m.mode,
        m.lanes.iter().map(|l| l.name()).collect::<Vec<_>>().join(", "),
        m.started_at.get(..10).unwrap_or(&m.started_at),
        m.machine.cpu_model,
        m.machine.cores,
        m.machine.os,
        m.toolchain.rustc_release,
        commit,
    );
    let libs = SUITE_LIBRARIES.iter().find(|(s, _)| *s == suite).map_or(&[][..], |(_, l)| *l);
    let versions: Vec<String> = libs.iter().filter_map(|l| m.libraries.get(*l).map(|v| format!("{l} {v}"))).collect();
    if !versions.is_empty() {
        out.push_str(&format!("Libraries (from Cargo.lock): {}.\n", versions.join(", ")));
    }
    out.push('\n');
    out.push_str(&cargo_benchgate::report::table::render_markdown(&only));
    out.push('\n');
    out
}

/// `text` with everything between the markers replaced by `section`; `None` without both markers.
fn splice(text: &str, section: &str) -> Option<String> {
    let start = text.find(BEGIN)? + BEGIN.len();
    let end = start + text[start..].find(END)?;
    Some(format!("{}\n{}{}", &text[..start], section, &text[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splice_replaces_only_between_the_markers() {
        let text = format!("# S\n\nintro\n\n{BEGIN}\nold\n{END}\n\nafter\n");
        let out = splice(&text, "new\n").unwrap();
        assert_eq!(out, format!("# S\n\nintro\n\n{BEGIN}\nnew\n{END}\n\nafter\n"));
        assert_eq!(splice(&out, "new\n").unwrap(), out, "idempotent");
        assert!(splice("no markers", "x").is_none());
    }
}
