//! `benchgate profile` end to end: the fixture's benchmark that allocates in a loop is attributed
//! mostly to allocation, its pure arithmetic loop entirely to application code, the curated lz4
//! compression mostly to compression (82.7% measured; snappy's and brotli's per-call table resets make
//! memset their largest cost at 10 KB); shares sum to 1 and the raw profiles are kept and parse; the
//! decision gate recommends the allocation and the compression path, and follows a raised threshold;
//! a named profile baseline saved and compared with after the fixture's sum routine was made slower
//! names that routine first, and bad names, existing and corrupt baselines are refused.

use std::path::Path;

use crate::{benchgate, built, stderr};

fn load(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("profile.json")).unwrap()).unwrap()
}

/// `(category, share)` of benchmark `id`, highest first.
fn shares(summary: &serde_json::Value, id: &str) -> Vec<(String, f64)> {
    let b = summary["benchmarks"].as_array().unwrap().iter().find(|b| b["id"] == id).unwrap_or_else(|| panic!("{id}"));
    b["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["category"].as_str().unwrap().to_owned(), c["share"].as_f64().unwrap()))
        .collect()
}

fn check_sums_and_files(dir: &Path, summary: &serde_json::Value) {
    for b in summary["benchmarks"].as_array().unwrap() {
        let id = b["id"].as_str().unwrap();
        let total: f64 = shares(summary, id).iter().map(|(_, s)| s).sum();
        assert!((total - 1.0).abs() < 1e-9, "{id}: shares sum to {total}");
        let files: Vec<&str> = b["profiles"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
        for f in &files {
            let path = dir.join(f);
            if f.ends_with(".dhat.json") {
                cargo_benchgate::profile::dhat::load(&path).unwrap_or_else(|e| panic!("{id}: {e}"));
            } else {
                cargo_benchgate::profile::callgrind::load(&path).unwrap_or_else(|e| panic!("{id}: {e}"));
            }
        }
        // Callgrind's and DHAT's, each for the short and the long run; a batched benchmark's also for its
        // setup alone.
        let expected = if id == "fixture/batched" { 8 } else { 4 };
        assert_eq!(files.len(), expected, "{id}: {files:?}");
    }
}

#[test]
fn the_fixture_s_costs_land_in_their_categories() {
    built();
    let dir = tempfile::tempdir().unwrap();
    let out = benchgate().args(["profile", "--quick", "--suite", "fixture", "--out"]).arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let summary = load(dir.path());
    check_sums_and_files(dir.path(), &summary);
    let alloc = shares(&summary, "fixture/alloc3x100");
    assert_eq!(alloc[0].0, "allocation", "{alloc:?}");
    assert!(alloc[0].1 > 0.5, "{alloc:?}");
    let sum = shares(&summary, "fixture/sum/1000");
    assert_eq!((sum[0].0.as_str(), sum[0].1), ("application", 1.0), "{sum:?}");
    let md = std::fs::read_to_string(dir.path().join("profile.md")).unwrap();
    assert!(md.contains("## fixture/alloc3x100") && md.contains("| allocation |"), "{md}");
    // The summary opens the file, the decision first.
    assert!(md.starts_with("# Where the instructions go\n\n**Summary**\n\n- **decision:** fixture ("), "{md}");
    assert!(md.contains("- **largest costs:** ") && md.contains("- **files:** "), "{md}");
    let svg = format!("{}.svg", cargo_benchgate::meta::file_stem("fixture/alloc3x100"));
    assert!(svg.starts_with("fixture_alloc3x100-"), "{svg}");
    assert!(dir.path().join(&svg).exists() && md.contains("**Primary recommendation**"), "{md}");

    // The decision gate: the allocating loop draws the allocation path; the arithmetic loop allocates
    // nothing (the alloc lane counted it), which is a reason not to work on allocation there.
    let d = decision(&summary, "fixture/alloc3x100");
    assert_eq!(d["primary"]["rule"], "allocation", "{d:#}");
    let b = summary["benchmarks"].as_array().unwrap().iter().find(|b| b["id"] == "fixture/alloc3x100").unwrap();
    assert_eq!((b["allocs_per_op"].as_f64(), b["bytes_per_op"].as_f64()), (Some(3.0), Some(300.0)));
    // DHAT finds the same three 100-byte blocks per op, at their site in the bench file.
    let sites = b["allocation_sites"].as_array().unwrap();
    let total = |key: &str| sites.iter().map(|s| s[key].as_f64().unwrap()).sum::<f64>();
    assert_eq!((total("blocks_per_op"), total("bytes_per_op")), (3.0, 300.0), "{sites:#?}");
    assert!(sites[0]["site"].as_str().unwrap().contains(".rs:"), "{sites:#?}");
    // The batched benchmark's setup allocates 1 KiB per input; only the routine's 64 bytes remain.
    let b = summary["benchmarks"].as_array().unwrap().iter().find(|b| b["id"] == "fixture/batched").unwrap();
    let sites = b["allocation_sites"].as_array().unwrap();
    let total = |key: &str| sites.iter().map(|s| s[key].as_f64().unwrap()).sum::<f64>();
    assert_eq!((total("blocks_per_op"), total("bytes_per_op")), (1.0, 64.0), "{sites:#?}");
    // Kernel time is measured natively for every benchmark and stated in the report.
    for b in summary["benchmarks"].as_array().unwrap() {
        let t = &b["cpu_time"];
        assert!(t["ops"].as_u64().unwrap() >= 1 && t["repeats"] == 3, "{b:#}");
        assert!(t["sys_ns_per_op"].as_f64().unwrap() >= 0.0, "{b:#}");
    }
    assert!(md.contains("CPU time per op, measured natively"), "{md}");
    let kinds: Vec<&str> = decision(&summary, "fixture/sum/1000")["not_to_optimize"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"allocation-free"), "{kinds:?}");

    // A threshold raised in the configuration changes the outcome.
    let config = dir.path().join("raised.toml");
    std::fs::write(&config, "[profile.thresholds]\nallocation = 0.99\n").unwrap();
    let raised = dir.path().join("raised");
    let out = benchgate()
        .args(["profile", "--quick", "--suite", "fixture", "--filter", "alloc3x100", "--config"])
        .arg(&config)
        .arg("--out")
        .arg(&raised)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let raised = load(&raised);
    let d = decision(&raised, "fixture/alloc3x100");
    let row = d["matrix"].as_array().unwrap().iter().find(|r| r["rule"] == "allocation").unwrap();
    assert_eq!((row["threshold"].as_f64(), row["outcome"].as_str()), (Some(0.99), Some("below")), "{d:#}");
    assert_ne!(d["primary"]["rule"], "allocation", "{d:#}");
}

fn decision<'a>(summary: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    summary["decisions"].as_array().unwrap().iter().find(|d| d["id"] == id).unwrap_or_else(|| panic!("{id}"))
}

#[test]
fn lz4_compression_is_attributed_to_compression() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_benchgate"))
        .env("CARGO_TARGET_DIR", Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
        .env("BENCH_SUITES_SMALL", "1")
        .arg("--manifest-path")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml"))
        .args(["profile", "--quick", "--suite", "compression", "--filter", "lz4/compress/metrics", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let summary = load(dir.path());
    check_sums_and_files(dir.path(), &summary);
    let benches = summary["benchmarks"].as_array().unwrap();
    assert!(!benches.is_empty());
    for b in benches {
        let id = b["id"].as_str().unwrap();
        let s = shares(&summary, id);
        assert_eq!(s[0].0, "compression", "{id}: {s:?}");
        assert!(s[0].1 > 0.5, "{id}: {s:?}");
        assert_eq!(decision(&summary, id)["primary"]["rule"], "compression", "{id}");
    }
}

#[test]
fn a_profile_baseline_names_the_routine_that_grew_first() {
    built();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("benchgate.toml");
    std::fs::write(&config, format!("[baseline]\ndir = {:?}\n", dir.path().join("baselines").display().to_string()))
        .unwrap();
    let profile = |extra: &[&str], out: &str| {
        let mut cmd = benchgate();
        cmd.args(["profile", "--quick", "--suite", "fixture", "--runner-class", "it", "--config"]).arg(&config);
        cmd.args(extra).arg("--out").arg(dir.path().join(out));
        cmd
    };
    // `--filter m`: fixture/empty and fixture/sum/1000.
    let out = profile(&["--filter", "m", "--save-baseline", "before_optimization_X"], "then").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let file = dir.path().join("baselines/it/profiles/before_optimization_X.json");
    let text = std::fs::read_to_string(&file).unwrap();
    let saved: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(saved["profile_baseline_version"], 1, "{text}");
    let sum = &saved["benchmarks"]["fixture/sum/1000"];
    assert!(sum["functions"].as_object().unwrap().keys().any(|f| f.ends_with("sum_of_squares")), "{text}");
    assert!(!sum["stacks"].as_object().unwrap().is_empty() && sum["sites"].is_array(), "{text}");
    assert!(saved["benchmarks"]["fixture/empty"].is_object(), "{text}");

    // Refused before anything is measured: an existing name without --update, a name that is not a plain
    // file name, a baseline that does not exist, one that is corrupt (named in the error).
    let out = profile(&["--filter", "m", "--save-baseline", "before_optimization_X"], "again").output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--update"), "{}", stderr(&out));
    for bad in ["../x", ".hidden", "a/b"] {
        let out = profile(&["--baseline", bad], "bad").output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", stderr(&out));
        assert!(stderr(&out).contains("cannot be a profile baseline name"), "{}", stderr(&out));
    }
    let out = profile(&["--baseline", "missing"], "bad").output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let broken = dir.path().join("baselines/it/profiles/broken.json");
    std::fs::write(&broken, &text[..text.len() / 2]).unwrap();
    let out = profile(&["--baseline", "broken"], "bad").output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains(&broken.display().to_string()), "{}", stderr(&out));

    // The routine made three times as costly: its function grew most, and comes first.
    let out = profile(&["--bench", "fixture/sum/1000", "--baseline", "before_optimization_X"], "now")
        .env("FIXTURE_SLOW_SUM", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let summary = load(&dir.path().join("now"));
    let c = &summary["baseline_comparison"];
    assert_eq!(c["name"], "before_optimization_X", "{c:#}");
    assert_eq!(c["only_in_baseline"], serde_json::json!(["fixture/empty"]), "{c:#}");
    let b = &c["benchmarks"][0];
    let a = &b["attribution"];
    assert_eq!(a["id"], "fixture/sum/1000", "{c:#}");
    let (base, head) = (a["base_per_op"].as_f64().unwrap(), a["head_per_op"].as_f64().unwrap());
    assert!(head > 2.0 * base, "{base} -> {head}");
    let first = a["grew"][0]["name"].as_str().unwrap();
    assert!(first.ends_with("sum_of_squares"), "{a:#}");
    assert_eq!(a["categories"][0]["category"], "application", "{a:#}");
    assert_eq!(b["decision_then"]["fired"], b["decision_now"]["fired"], "{b:#}");
    let svg = a["flamegraph"].as_str().unwrap();
    assert!(std::fs::read_to_string(dir.path().join("now").join(svg)).unwrap().contains("sum_of_squares"), "{svg}");
    let md = std::fs::read_to_string(dir.path().join("now/profile.md")).unwrap();
    assert!(md.contains("## Compared with profile baseline `before_optimization_X`"), "{md}");
    assert!(md.contains("### fixture/sum/1000 against `before_optimization_X`"), "{md}");
    assert!(md.contains("Only in the baseline (not profiled today): fixture/empty."), "{md}");

    // --update replaces it with today's.
    let out = profile(&["--bench", "fixture/sum/1000", "--save-baseline", "before_optimization_X", "--update"], "up")
        .env("FIXTURE_SLOW_SUM", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let replaced: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert!(replaced["benchmarks"]["fixture/empty"].is_null(), "{replaced:#}");
}
