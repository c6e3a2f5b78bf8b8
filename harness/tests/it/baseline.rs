//! Committed baselines, calibration and accepted regressions through the CLI: files are written only
//! when asked, replaced only with --update, and every refusal exits 2 naming the file.

use std::path::{Path, PathBuf};
use std::process::Output;

use cargo_benchgate::model::Results;

use crate::{benchgate, stderr};

fn example() -> Results {
    serde_json::from_str(include_str!("../../../docs/example-results.json")).unwrap()
}

fn write(dir: &Path, name: &str, r: &Results) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, r.to_json()).unwrap();
    p
}

/// A configuration that keeps baselines in the temporary directory, with extra TOML appended.
fn config(dir: &Path, extra: &str) -> PathBuf {
    let p = dir.join("benchgate.toml");
    let text =
        format!("[baseline]\ndir = {:?}\nrunner_class = \"test-class\"\n{extra}", dir.join("bl").display().to_string());
    std::fs::write(&p, text).unwrap();
    p
}

fn bg(cfg: &Path, args: &[&str], files: &[&Path]) -> Output {
    let mut cmd = benchgate();
    cmd.arg("--config").arg(cfg).args(args);
    for f in files {
        cmd.arg(f);
    }
    cmd.output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Every wall sample (and estimate) scaled by `factor`.
fn scaled(r: &Results, factor: f64) -> Results {
    let mut r = r.clone();
    for b in &mut r.benchmarks {
        if let Some(w) = b.metrics.ns_per_op.as_mut() {
            w.samples.iter_mut().for_each(|s| *s *= factor);
            w.median *= factor;
            w.mean *= factor;
            w.slope *= factor;
        }
    }
    r
}

#[test]
fn baselines_are_saved_once_replaced_only_with_update_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    let base = write(dir.path(), "base.json", &example());
    let saved = dir.path().join("bl/test-class/fixture.json");

    let out = bg(&cfg, &["baseline", "save"], &[&base]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("created") && saved.exists());
    let text = std::fs::read_to_string(&saved).unwrap();
    assert_eq!(Results::parse(&text).unwrap(), example(), "a baseline holds the same results");
    assert!(text.lines().any(|l| l.trim_start().starts_with("\"samples\": [") && l.ends_with("],")), "{text}");

    // No implicit overwrite: refused, exit 2, file untouched.
    let mut head = example();
    head.benchmarks[0].metrics.allocs_per_op = Some(4.0);
    let head_path = write(dir.path(), "head.json", &head);
    let out = bg(&cfg, &["baseline", "save"], &[&head_path]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("fixture.json") && stderr(&out).contains("--update"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&saved).unwrap(), text);

    // check: the baseline against itself passes, one extra allocation fails.
    let out = bg(&cfg, &["check"], &[&base]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    assert!(stderr(&out).contains("runner class test-class"), "{}", stderr(&out));
    let out = bg(&cfg, &["check", "--format", "json"], &[&head_path]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let regressed: Vec<&serde_json::Value> =
        v["comparisons"].as_array().unwrap().iter().filter(|c| c["verdict"] == "regressed").collect();
    assert_eq!(regressed.len(), 1, "{regressed:#?}");
    assert_eq!(
        (regressed[0]["id"].as_str(), regressed[0]["metric"].as_str()),
        (Some("fixture/alloc3x100"), Some("allocs_per_op"))
    );

    // Another machine: wall times twice as slow are reported with a warning, never failed.
    let mut other = scaled(&example(), 2.0);
    other.meta.machine.fingerprint = "another-machine".into();
    let other_path = write(dir.path(), "other.json", &other);
    let out = bg(&cfg, &["check"], &[&other_path]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("different machines"), "{}", stdout(&out));

    // --update replaces it and says what changed.
    let out = bg(&cfg, &["baseline", "save", "--update"], &[&head_path]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("updated") && stdout(&out).contains("fixture/alloc3x100"), "{}", stdout(&out));
    assert_eq!(Results::load(&saved).unwrap(), head);
}

#[test]
fn bad_baselines_and_bad_runs_are_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    let base = write(dir.path(), "base.json", &example());

    let out = bg(&cfg, &["check"], &[&base]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("test-class") && stderr(&out).contains("baseline save"), "{}", stderr(&out));

    let mut partial = example();
    partial.meta.partial = true;
    let partial_path = write(dir.path(), "partial.json", &partial);
    let out = bg(&cfg, &["baseline", "save"], &[&partial_path]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("partial.json") && stderr(&out).contains("did not finish"), "{}", stderr(&out));
    assert!(!dir.path().join("bl").exists(), "nothing written");

    let out = bg(&cfg, &["baseline", "save"], &[&base]);
    assert_eq!(out.status.code(), Some(0));
    let saved = dir.path().join("bl/test-class/fixture.json");
    let text = std::fs::read_to_string(&saved).unwrap();
    let truncated = &text[..text.len() / 3];
    std::fs::write(&saved, truncated).unwrap();
    let out = bg(&cfg, &["check"], &[&base]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("fixture.json") && stderr(&out).contains("truncated"), "{}", stderr(&out));
    let out = bg(&cfg, &["baseline", "save", "--update"], &[&base]);
    assert_eq!(out.status.code(), Some(2), "a corrupt baseline is not silently replaced");
    assert_eq!(std::fs::read_to_string(&saved).unwrap(), truncated);

    let out = bg(&cfg, &["check", "--runner-class", "../escape"], &[&base]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not a runner class name"), "{}", stderr(&out));
}

#[test]
fn calibration_floors_are_stored_with_the_class_and_used_by_compare() {
    let dir = tempfile::tempdir().unwrap();
    // Wall times of separate runs are judged only on request.
    let cfg = config(dir.path(), "[gate]\njudge_separate_wall = true\n");
    let runs: Vec<PathBuf> = [1.0, 1.09, 0.96, 1.04, 1.02]
        .iter()
        .enumerate()
        .map(|(i, f)| write(dir.path(), &format!("run-{i}.json"), &scaled(&example(), *f)))
        .collect();
    let mut args: Vec<&Path> = runs.iter().map(PathBuf::as_path).collect();
    let out = bg(&cfg, &["calibrate", "--from"], &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let noise = dir.path().join("bl/test-class/noise.json");
    let floors = cargo_benchgate::model::NoiseFloors::load(&noise).unwrap();
    assert_eq!((floors.runs, floors.runner_class.as_str()), (5, "test-class"));
    let wall = floors.floor("fixture/sum/1000", "ns_per_op").unwrap();
    assert!(wall >= 1.09 / 0.96 - 1.0 - 1e-9, "never below the largest difference seen: {wall}");
    assert!(floors.floor("fixture/sum/1000", "allocs_per_op").is_none(), "identical counts have no floor");
    assert!(stdout(&out).contains("wall noise floors over 6 benchmarks"), "{}", stdout(&out));

    let before = std::fs::read_to_string(&noise).unwrap();
    let out = bg(&cfg, &["calibrate", "--from"], &args);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("noise.json") && stderr(&out).contains("--update"));
    assert_eq!(std::fs::read_to_string(&noise).unwrap(), before);
    // Fewer runs than give a usable bound are refused, naming the minimum; nothing is written.
    args.truncate(2);
    let out = bg(&cfg, &["calibrate", "--update", "--from"], &args);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("at least 5"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&noise).unwrap(), before);

    // A 12% slowdown of every benchmark: a regression at the 3% threshold, noise under the floors.
    let base = write(dir.path(), "base.json", &example());
    let slow = write(dir.path(), "slow.json", &scaled(&example(), 1.12));
    let out = bg(&cfg, &["compare", "--no-noise", "--format", "json"], &[&base, &slow]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let out = bg(&cfg, &["compare", "--format", "json"], &[&base, &slow]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("using noise floors of runner class test-class"), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = v["comparisons"].as_array().unwrap().iter().find(|c| c["metric"] == "ns_per_op").unwrap();
    assert!(c["noise_floor"].as_f64().unwrap() > 0.12 && c["threshold"] == c["noise_floor"], "{c}");
    // By default the same slowdown is reported, not judged.
    let plain = config(dir.path(), "");
    let out = bg(&plain, &["compare", "--no-noise"], &[&base, &slow]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("separate runs: reported, not judged"), "{}", stdout(&out));
}

#[test]
fn accepted_regressions_pass_until_they_expire() {
    let dir = tempfile::tempdir().unwrap();
    let base = write(dir.path(), "base.json", &example());
    let mut head = example();
    head.benchmarks[0].metrics.allocs_per_op = Some(4.0);
    let head = write(dir.path(), "head.json", &head);
    let entry = |expires: &str| {
        format!(
            "[[accept]]\nbench = \"fixture/alloc3x*\"\nmetric = \"allocs_per_op\"\nmax_ratio = 1.5\n\
             reason = \"one more buffer, see #42\"\nexpires = \"{expires}\"\n"
        )
    };
    let cfg = config(dir.path(), &entry("2999-12-31"));
    let out = bg(&cfg, &["compare"], &[&base, &head]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("accepted (until 2999-12-31: one more buffer, see #42)"), "{}", stdout(&out));

    let cfg = config(dir.path(), &entry("2001-01-01"));
    let out = bg(&cfg, &["compare"], &[&base, &head]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("expired on 2001-01-01"), "{}", stdout(&out));

    let cfg = config(dir.path(), &entry("2001-02-30"));
    let out = bg(&cfg, &["compare"], &[&base, &head]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("`accept[0].expires`"), "{}", stderr(&out));
}

/// A suite name from a results file is data: one that would leave the class's directory, or replace its
/// noise file, is refused (exit 2, naming the file and the suite) and nothing is written anywhere.
#[test]
fn suite_names_never_become_paths_outside_the_baseline_directory() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    for bad in ["../../escaped", "/tmp/benchgate-escaped", "noise", ""] {
        let mut r = example();
        for b in &mut r.benchmarks {
            b.suite = bad.to_owned();
        }
        let source = write(dir.path(), "r.json", &r);
        let out = bg(&cfg, &["baseline", "save"], &[&source]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{bad}: {err}");
        assert!(err.contains("r.json") && err.contains("cannot be a baseline file name"), "{bad}: {err}");
        assert!(!dir.path().join("bl").exists(), "{bad}: nothing written");
        assert!(!dir.path().join("escaped.json").exists() && !Path::new("/tmp/benchgate-escaped.json").exists());
    }
}
