//! The adopter example (examples/adopter): a separate workspace whose criterion bench file changed
//! one import line gets every lane from the benchgate binary.

use std::path::Path;

use cargo_benchgate::model::Results;

use crate::stderr;

#[test]
fn criterion_bench_file_gets_every_lane() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/adopter/Cargo.toml");
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("results.json");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_benchgate"))
        // Shares the fixture's target directory: same dependencies, same profile.
        .env("CARGO_TARGET_DIR", Path::new(env!("CARGO_TARGET_TMPDIR")).join("fixture-target"))
        .arg("--manifest-path")
        .arg(&manifest)
        .args(["run", "--quick", "--out"])
        .arg(&out_path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let r = Results::load(&out_path).unwrap();
    let ids: Vec<&str> = r.benchmarks.iter().map(|b| b.id.as_str()).collect();
    assert_eq!(ids, ["owned/fields_owned/1", "owned/fields_owned/8", "tokenize/fields"]);
    for b in &r.benchmarks {
        assert!(b.metrics.ns_per_op.is_some(), "{}", b.id);
        assert!(b.metrics.allocs_per_op.is_some(), "{}", b.id);
        assert!(
            b.metrics.instructions_per_op.is_some() || b.skipped.contains_key(&cargo_benchgate::model::Lane::Instr)
        );
    }
    // `fields` collects six (key, value) pairs into a Vec that grows 0 -> 4 -> 8: two allocations.
    let fields = &r.benchmarks[2];
    assert_eq!(fields.metrics.allocs_per_op, Some(2.0));
    assert!(matches!(r.benchmarks[0].throughput, Some(cargo_benchgate::model::Throughput::Bytes(_))));
}
