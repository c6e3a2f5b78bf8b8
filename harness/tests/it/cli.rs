//! Bad input to the CLI: each case gets a message naming the file and the problem, and its exit code.

use std::path::Path;

use crate::{benchgate, stderr};

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
    let cases = [
        ("truncated.json", good[..good.len() / 2].to_owned(), "truncated"),
        ("empty.json", String::new(), "empty"),
        ("version.json", good.replacen("\"schema_version\": 1", "\"schema_version\": 7", 1), "schema version 7"),
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
        committed == benchgate::model::json_schema(),
        "docs/results.schema.json is stale: regenerate it with `cargo xtask schema`"
    );
}
