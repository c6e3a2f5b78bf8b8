//! Bad input to the CLI: each case gets a message naming the file and the problem, and its exit code.

use std::path::Path;

use cargo_benchgate::model::Results;

use crate::{benchgate, built, stderr};

fn show(path: &Path) -> (Option<i32>, String) {
    let out = benchgate().arg("show").arg(path).output().unwrap();
    (out.status.code(), stderr(&out))
}

fn valid_results() -> String {
    let text = include_str!("../../../docs/example-results.json");
    text.to_owned()
}

#[test]
fn bad_results_files_exit_2_naming_file_and_problem() {
    let dir = tempfile::tempdir().unwrap();
    let good = valid_results();
    let mut no_samples: serde_json::Value = serde_json::from_str(&good).unwrap();
    let wall = &mut no_samples["benchmarks"][0]["metrics"]["ns_per_op"];
    wall["samples"] = serde_json::json!([]);
    wall["sample_iters"] = serde_json::json!([]);
    wall["rounds"] = serde_json::json!([]);
    let cases = [
        ("truncated.json", good[..good.len() / 2].to_owned(), "truncated"),
        ("bom.json", format!("\u{feff}{good}"), "byte-order mark"),
        ("accent.json", "{\"é\": é}".into(), "not valid JSON"),
        ("no-samples.json", no_samples.to_string(), "ns_per_op has no samples"),
        ("empty.json", String::new(), "empty"),
        ("version.json", good.replacen("\"schema_version\": 4", "\"schema_version\": 99", 1), "schema version 99"),
        ("nan.json", good.replacen("\"median\": ", "\"median\": NaN, \"x\": ", 1), "non-finite number (NaN)"),
        ("garbage.json", "not json at all".into(), "not valid JSON"),
    ];
    for (name, content, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, &content).unwrap();
        let (code, err) = show(&path);
        assert_eq!(code, Some(2), "{name}: {err}");
        assert!(err.contains(name) && err.contains(expected), "{name}: {err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), content, "{name} was modified");
    }
    let (code, err) = show(&dir.path().join("missing.json"));
    assert_eq!(code, Some(2));
    assert!(err.contains("missing.json") && err.contains("cannot read"), "{err}");
}

#[test]
fn a_valid_file_shows_as_a_table() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ok.json");
    std::fs::write(&path, valid_results()).unwrap();
    let out = benchgate().arg("show").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("ns/op"));
}

#[test]
fn usage_errors_exit_2() {
    let out = benchgate().args(["run", "--lanes", "wall,bogus"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown lane `bogus`"), "{}", stderr(&out));
    let out = benchgate().args(["frobnicate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn schema_in_docs_is_current() {
    let committed = include_str!("../../../docs/results.schema.json");
    assert!(
        committed == cargo_benchgate::model::json_schema(),
        "docs/results.schema.json is stale: regenerate it with `cargo xtask schema`"
    );
}

/// `compare` exits 0 when nothing regressed, 1 on a regression (here one extra allocation per op in
/// one benchmark), 2 on bad input; the JSON carries the documented fields.
#[test]
fn compare_exit_codes_and_json_fields() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.json");
    std::fs::write(&base, valid_results()).unwrap();
    let out = benchgate().args(["compare", "--format", "json"]).arg(&base).arg(&base).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["verdict"], "pass");
    let first = &json["comparisons"][0];
    for field in [
        "id",
        "metric",
        "base",
        "head",
        "ratio",
        "ci",
        "ci_level",
        "p_value",
        "p_adjusted",
        "threshold",
        "mde",
        "verdict",
    ] {
        assert!(first.get(field).is_some(), "missing {field}");
    }

    // A head made from the fixture by `change`, compared with base as markdown: exit code and output.
    let compare_with = |name: &str, change: &dyn Fn(&mut cargo_benchgate::model::Results)| {
        let mut head: cargo_benchgate::model::Results = serde_json::from_str(&valid_results()).unwrap();
        change(&mut head);
        let head_path = dir.path().join(name);
        std::fs::write(&head_path, head.to_json()).unwrap();
        let out = benchgate().args(["compare", "--format", "markdown"]).arg(&base).arg(&head_path).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned(), stderr(&out))
    };
    let (code, md, err) = compare_with("head.json", &|head| {
        let b = head.benchmarks.iter_mut().find(|b| b.id == "fixture/alloc3x100").unwrap();
        b.metrics.allocs_per_op = Some(4.0);
    });
    assert_eq!(code, Some(1), "{err}");
    assert!(md.starts_with("**benchgate: FAIL: 1 regressed"), "{md}");
    assert!(md.contains("fixture/alloc3x100 | allocs_per_op"), "{md}");

    // A partial head that lacks a benchmark: exit 4, and the first line says so before the table.
    let (code, md, err) = compare_with("partial.json", &|partial| {
        partial.meta.partial = true;
        partial.benchmarks.pop();
    });
    assert_eq!(code, Some(4), "{err}");
    assert!(md.starts_with("**benchgate: INCOMPLETE"), "{md}");
    assert!(md.contains("head is partial"), "{md}");

    let out = benchgate().arg("compare").arg(&base).arg(dir.path().join("nope.json")).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nope.json"));
}

/// `run --shard I/N` splits the selection and `merge` recombines it: the merged file has exactly the
/// benchmarks (and, in the exact alloc lane, the figures) of one unsharded run; merging a shard with
/// itself is a conflict (exit 2, naming the benchmark and both files).
#[test]
fn shards_merge_into_one_run() {
    built();
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    let run = |out: &str, shard: Option<&str>| {
        let mut cmd = benchgate();
        cmd.args(["run", "--quick", "--lanes", "alloc", "--suite", "fixture", "--out"]).arg(path(out));
        if let Some(s) = shard {
            cmd.args(["--shard", s]);
        }
        let o = cmd.output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        Results::load(&path(out)).unwrap()
    };
    let whole = run("whole.json", None);
    let shards: Vec<Results> = (1..=3).map(|i| run(&format!("s{i}.json"), Some(&format!("{i}/3")))).collect();
    assert!(shards.iter().all(|s| !s.benchmarks.is_empty() && s.benchmarks.len() < whole.benchmarks.len()));
    let o = benchgate()
        .arg("merge")
        .args((1..=3).map(|i| path(&format!("s{i}.json"))))
        .arg("--out")
        .arg(path("merged.json"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let merged = Results::load(&path("merged.json")).unwrap();
    let figures = |r: &Results| -> Vec<(String, Option<f64>, Option<f64>)> {
        r.benchmarks.iter().map(|b| (b.id.clone(), b.metrics.allocs_per_op, b.metrics.bytes_per_op)).collect()
    };
    assert_eq!(figures(&merged), figures(&whole));
    assert!(!merged.meta.partial);

    let o = benchgate()
        .arg("merge")
        .arg(path("s1.json"))
        .arg(path("s1.json"))
        .arg("--out")
        .arg(path("bad.json"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("is in both") && stderr(&o).contains("s1.json"), "{}", stderr(&o));
    assert!(!path("bad.json").exists());
    let o = benchgate().args(["run", "--shard", "4/3"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// A `bench = false` target (the fixture's `off`, which does not compile) is neither built nor probed,
/// and said so in one line.
#[test]
fn bench_false_targets_are_neither_built_nor_probed() {
    crate::built();
    let out = crate::benchgate().arg("list").output().unwrap();
    let err = crate::stderr(&out);
    assert!(out.status.success(), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.contains("`off`")).collect();
    assert_eq!(lines, ["benchgate: bench target `off` has `bench = false`: not built"], "{err}");
    assert!(!err.contains("compile_error") && !err.contains("skipping"), "{err}");
}
