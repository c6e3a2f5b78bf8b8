//! The curated suites (bench-suites) run end to end through the `benchgate` binary, in quick mode at
//! their smallest sizes (`BENCH_SUITES_SMALL`), in every lane: each yields every metric it declares,
//! and deterministic figures are asserted exactly.

mod compression;
mod interning;
mod pipeline;
mod protobuf;
mod queues;
mod storage;

use std::path::{Path, PathBuf};
use std::process::Command;

use cargo_benchgate::model::{BenchResult, Results};

/// This repository's workspace manifest.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml")
}

/// Runs one curated suite in quick mode, small sizes, the given lanes; returns its results.
pub fn run_suite(suite: &str, lanes: &str) -> Results {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results.json");
    let output = Command::new(env!("CARGO_BIN_EXE_benchgate"))
        .env("CARGO_TARGET_DIR", suites_target())
        .env("BENCH_SUITES_SMALL", "1")
        .arg("--manifest-path")
        .arg(workspace())
        .args(["run", "--quick", "--suite", suite, "--lanes", lanes, "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    let results = Results::load(&out).unwrap_or_else(|e| panic!("suite {suite}: {e}\n{log}"));
    assert!(output.status.success(), "suite {suite}: benchgate exited with {}\n{log}", output.status);
    assert!(!results.benchmarks.is_empty(), "suite {suite}: no benchmarks ran");
    for b in &results.benchmarks {
        assert!(b.failures.is_empty(), "{}: {:?}", b.id, b.failures);
    }
    results
}

/// The target directory of the suites' builds: the workspace's own, so that the suites are built once
/// for these tests and for `cargo xtask bench`.
fn suites_target() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target")
}

/// The benchmark `id` of `results`, which must exist.
pub fn bench<'r>(results: &'r Results, id: &str) -> &'r BenchResult {
    results
        .benchmarks
        .iter()
        .find(|b| b.id == id)
        .unwrap_or_else(|| panic!("no benchmark {id}; have {:?}", ids(results)))
}

/// Every benchmark id of `results`.
pub fn ids(results: &Results) -> Vec<&str> {
    results.benchmarks.iter().map(|b| b.id.as_str()).collect()
}

/// Asserts that every benchmark of `results` has ns/op, B/op, allocs/op and, when `instr` ran,
/// instructions/op: the figures every suite declares.
pub fn assert_core_metrics(results: &Results) {
    for b in &results.benchmarks {
        let m = &b.metrics;
        assert!(m.ns_per_op.is_some(), "{}: no ns/op", b.id);
        assert!(m.bytes_per_op.is_some() && m.allocs_per_op.is_some(), "{}: no alloc figures", b.id);
        if results.meta.lanes.contains(&cargo_benchgate::model::Lane::Instr) {
            assert!(m.instructions_per_op.is_some() || b.skipped.contains_key(&cargo_benchgate::model::Lane::Instr));
        }
    }
}
