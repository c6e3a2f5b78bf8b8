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

/// Every file under `dir` (path and content): what "nothing changed" compares.
fn snapshot(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// Input that cannot be read is refused before anything is written: a corrupt noise.json under
/// `baseline save --update` (it is read for the change list), a corrupt baseline that would be replaced,
/// and a corrupt noise.json under `calibrate --update` (never replaced without being read). Each exits 2
/// naming the file, and no file anywhere in the project changes.
#[test]
fn unreadable_files_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    let base = write(dir.path(), "base.json", &example());
    let head = write(dir.path(), "head.json", &scaled(&example(), 2.0));
    let runs: Vec<PathBuf> = (0..5)
        .map(|i| write(dir.path(), &format!("run-{i}.json"), &scaled(&example(), 1.0 + 0.01 * i as f64)))
        .collect();
    let runs: Vec<&Path> = runs.iter().map(PathBuf::as_path).collect();
    let out = bg(&cfg, &["baseline", "save"], &[&base]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let class = dir.path().join("bl/test-class");

    std::fs::write(class.join("noise.json"), "{\"noise_schema_version\": 1, \"runs\": ").unwrap();
    let before = snapshot(dir.path());
    let out = bg(&cfg, &["baseline", "save", "--update"], &[&head]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("noise.json") && stderr(&out).contains("truncated"), "{}", stderr(&out));
    assert!(!stdout(&out).contains("updated"), "{}", stdout(&out));
    assert_eq!(snapshot(dir.path()), before, "the baseline byte-identical, nothing added");

    let out = bg(&cfg, &["calibrate", "--update", "--from"], &runs);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("noise.json") && err.contains("is not replaced") && err.contains("rm "), "{err}");
    assert_eq!(snapshot(dir.path()), before, "noise.json not replaced");

    std::fs::remove_file(class.join("noise.json")).unwrap();
    std::fs::write(class.join("fixture.json"), "{\"schema_version\": ").unwrap();
    let before = snapshot(dir.path());
    let out = bg(&cfg, &["baseline", "save", "--update"], &[&head]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("fixture.json"), "{}", stderr(&out));
    assert_eq!(snapshot(dir.path()), before);

    // Removed explicitly, a corrupt file is replaced by the next save.
    std::fs::remove_file(class.join("fixture.json")).unwrap();
    let out = bg(&cfg, &["baseline", "save"], &[&head]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = bg(&cfg, &["calibrate", "--from"], &runs);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// `n` suites of the example's benchmarks (ids and suite names `s000`, `s001`, ...), wall times scaled.
fn many_suites(n: usize, factor: f64) -> Results {
    let one = scaled(&example(), factor);
    let mut r = one.clone();
    r.benchmarks.clear();
    for i in 0..n {
        let suite = format!("s{i:03}");
        for b in &one.benchmarks {
            let mut b = b.clone();
            b.id = b.id.replacen(&b.suite, &suite, 1);
            b.suite = suite.clone();
            r.benchmarks.push(b);
        }
    }
    r.benchmarks.sort_by(|a, b| a.id.cmp(&b.id));
    r
}

/// Hidden files (temporary files, journals) in `dir`.
fn hidden(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect()
}

/// A `baseline save --update` of 200 suites killed (SIGKILL) or interrupted (SIGINT) at some point —
/// the timing is racy, the assertions hold for any: every baseline parses and is wholly the old or
/// wholly the new one; an interrupt that the command saw (exit 130) leaves no mix and no temporary
/// file; a mix is only left by a kill within the renames, and `check` then refuses naming it; the next
/// save finishes the set and leaves no temporary file.
#[test]
fn a_killed_or_interrupted_save_leaves_each_baseline_old_or_new_and_the_next_save_cleans_up() {
    const SUITES: usize = 200;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    let (old, new) = (many_suites(SUITES, 1.0), many_suites(SUITES, 2.0));
    let old_path = write(dir.path(), "old.json", &old);
    let new_path = write(dir.path(), "new.json", &new);
    let class = dir.path().join("bl/test-class");
    let of_suite = |r: &Results, s: &str| r.benchmarks.iter().filter(|b| b.suite == s).cloned().collect::<Vec<_>>();

    let start = std::time::Instant::now();
    let out = bg(&cfg, &["baseline", "save"], &[&old_path]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Kill times spread over about as long as a save takes.
    let took = start.elapsed();
    let mut seen = std::collections::BTreeSet::new();
    for attempt in 0..10u32 {
        if attempt > 0 {
            std::fs::remove_dir_all(&class).unwrap();
            let out = bg(&cfg, &["baseline", "save"], &[&old_path]);
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        }
        let signal = if attempt % 2 == 0 { libc::SIGKILL } else { libc::SIGINT };
        let mut child = benchgate()
            .arg("--config")
            .arg(&cfg)
            .args(["baseline", "save", "--update"])
            .arg(&new_path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(took.mul_f64(0.15 * f64::from(attempt)));
        // SAFETY: signals the child spawned above, which has not been waited for.
        unsafe { libc::kill(child.id() as libc::pid_t, signal) };
        let status = child.wait().unwrap();

        let (mut olds, mut news) = (0, 0);
        for i in 0..SUITES {
            let s = format!("s{i:03}");
            let r =
                Results::load(&class.join(format!("{s}.json"))).unwrap_or_else(|e| panic!("attempt {attempt}: {e}"));
            if r.benchmarks == of_suite(&old, &s) {
                olds += 1;
            } else if r.benchmarks == of_suite(&new, &s) {
                news += 1;
            } else {
                panic!("attempt {attempt}: {s}.json is neither the old nor the new baseline");
            }
        }
        seen.insert(format!("{status:?}: {}", if olds == 0 || news == 0 { "whole" } else { "mixed" }));
        match status.code() {
            Some(130) => {
                assert!(olds == 0 || news == 0, "attempt {attempt}: an interrupt seen leaves no mix");
                assert_eq!(hidden(&class), Vec::<String>::new(), "attempt {attempt}");
            }
            Some(0) => {
                assert_eq!(news, SUITES, "attempt {attempt}");
                assert_eq!(hidden(&class), Vec::<String>::new(), "attempt {attempt}");
            }
            code => assert_eq!(code, None, "attempt {attempt}: killed by the signal"),
        }
        if olds > 0 && news > 0 {
            let out = bg(&cfg, &["check"], &[&new_path]);
            assert_eq!(out.status.code(), Some(2), "attempt {attempt}");
            assert!(
                stderr(&out).contains(&format!("interrupted after replacing {news} of {SUITES} files")),
                "{}",
                stderr(&out)
            );
        }
        let out = bg(&cfg, &["baseline", "save", "--update"], &[&new_path]);
        assert_eq!(out.status.code(), Some(0), "attempt {attempt}: {}", stderr(&out));
        assert_eq!(hidden(&class), Vec::<String>::new(), "attempt {attempt}: the next save cleans up");
        for i in [0, SUITES / 2, SUITES - 1] {
            let s = format!("s{i:03}");
            assert_eq!(Results::load(&class.join(format!("{s}.json"))).unwrap().benchmarks, of_suite(&new, &s));
        }
    }
    eprintln!("a save took {took:?}; outcomes: {seen:?}");
}

/// A calibration is a reference like a baseline: `calibrate --from` refuses a partial run and a run with
/// a failed benchmark, as `baseline save` does, with exit 2 naming the file, and writes no floors.
#[test]
fn calibrating_from_incomplete_runs_is_refused() {
    use cargo_benchgate::model::{Failure, FailureKind, Lane};
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    let good: Vec<PathBuf> = (0..4)
        .map(|i| write(dir.path(), &format!("run-{i}.json"), &scaled(&example(), 1.0 + 0.01 * i as f64)))
        .collect();
    let mut partial = example();
    partial.meta.partial = true;
    let mut failed = example();
    let failure = Failure { kind: FailureKind::Panic, message: "boom".into() };
    failed.benchmarks[0].failures.insert(Lane::Wall, failure);
    let first = failed.benchmarks[0].id.clone();
    for (name, r, said) in [
        ("partial.json", partial, "the run did not finish (partial); a calibration needs a complete run".to_owned()),
        ("failed.json", failed, format!("1 benchmark(s) failed ({first}); a calibration needs every benchmark")),
    ] {
        let bad = write(dir.path(), name, &r);
        let mut files: Vec<&Path> = good.iter().map(PathBuf::as_path).collect();
        files.push(&bad);
        let out = bg(&cfg, &["calibrate", "--from"], &files);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(&bad.display().to_string()) && err.contains(&said), "{err}");
        assert!(!dir.path().join("bl/test-class/noise.json").exists(), "no floors written");
    }
}
