//! `run --compare REV` end to end: a temporary git repository holding a crate with benchgate
//! benchmarks, a base commit, a branch that doubles one routine's work and adds one allocation per op
//! to another, and a main branch that moved on (so that only the merge-base is the right base); each
//! regression is attributed to the function that grew.

use std::path::Path;
use std::process::Command;

use crate::stderr;

const BENCH: &str = r#"
use benchgate::{Bencher, Harness, black_box};

// Not inlined: the loop is one function, aligned alike in every build, so that a change in a closure
// (an extra allocation) does not move the loop's code and its time.
#[inline(never)]
fn work(n: u64) -> u64 {
    (0..n).fold(0u64, |a, i| a.wrapping_add(black_box(i).wrapping_mul(3)))
}

fn demo(h: &mut Harness) {
    let mut s = h.suite("demo");
    s.bench("double", |b: &mut Bencher| b.iter(|| work(black_box(DOUBLE))));
    s.bench("alloc", |b: &mut Bencher| {
        b.iter(|| {
            EXTRA
            work(black_box(50_000))
        })
    });
    s.bench("steady", |b: &mut Bencher| b.iter(|| work(black_box(STEADY))));
}

benchgate::main!(demo);
"#;

// A second bench binary that no commit touches: base and head build it byte-identical.
const OTHER: &str = r#"
use benchgate::{Bencher, Harness, black_box};

fn other(h: &mut Harness) {
    let mut s = h.suite("other");
    s.bench("steady", |b: &mut Bencher| b.iter(|| (0..2_000u64).fold(0u64, |a, i| a.wrapping_add(black_box(i)))));
}

benchgate::main!(other);
"#;

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git").args(args).current_dir(dir).output().unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn write_bench(dir: &Path, double: u64, extra_alloc: bool, steady: u64) {
    let extra = if extra_alloc { "black_box(Vec::<u8>::with_capacity(64));" } else { "" };
    let text =
        BENCH.replace("DOUBLE", &double.to_string()).replace("EXTRA", extra).replace("STEADY", &steady.to_string());
    std::fs::write(dir.join("benches/demo.rs"), text).unwrap();
}

/// A temporary git repository (branch main, nothing committed) holding the package `package`: an empty
/// library, benchgate as its dev-dependency, and a bench target per name in `benches` (their files are
/// the caller's to write).
fn git_package(package: &str, benches: &[&str]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let harness = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::create_dir_all(p.join("benches")).unwrap();
    std::fs::create_dir_all(p.join("src")).unwrap();
    std::fs::write(p.join("src/lib.rs"), "").unwrap();
    let targets: String = benches.iter().map(|b| format!("[[bench]]\nname = \"{b}\"\nharness = false\n\n")).collect();
    std::fs::write(
        p.join("Cargo.toml"),
        format!(
            "[workspace]\n\n[package]\nname = \"{package}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dev-dependencies]\nbenchgate = {{ path = {:?} }}\n\n{targets}[profile.bench]\ndebug = \"line-tables-only\"\n",
            harness.join("../benchgate").display().to_string()
        ),
    )
    .unwrap();
    // The fixture's lock file pins the same dependency versions (cargo fixes up the root package).
    std::fs::copy(harness.join("tests/fixture/Cargo.lock"), p.join("Cargo.lock")).unwrap();
    std::fs::write(p.join(".gitignore"), "target/\n").unwrap();
    git(p, &["init", "-q", "-b", "main"]);
    git(p, &["config", "user.email", "t@example.com"]);
    git(p, &["config", "user.name", "t"]);
    d
}

/// The repository of a test, holding a package named `package`. Each test names its own: the tests share
/// one target directory, and cargo names a workspace's artifacts by package and path within the
/// workspace, so two repositories with one package name would share builds, and cargo, which compares
/// modification times, would hand one repository's build to the other whose files are older (seen when
/// one test's working tree had edits the other's did not).
fn repo(package: &str) -> tempfile::TempDir {
    let d = git_package(package, &["demo", "other"]);
    let p = d.path();
    std::fs::write(p.join("benches/other.rs"), OTHER).unwrap();
    write_bench(p, 2_000, false, 3_000);
    git(p, &["add", "."]);
    git(p, &["commit", "-qm", "base"]);
    // The change under review, on a branch.
    git(p, &["checkout", "-qb", "change"]);
    write_bench(p, 4_000, true, 3_000);
    git(p, &["commit", "-qam", "double one routine, allocate in another"]);
    // main moves on: `steady` gets three times slower there. Against main's tip it would look improved.
    git(p, &["checkout", "-q", "main"]);
    write_bench(p, 2_000, false, 9_000);
    git(p, &["commit", "-qam", "main moves on"]);
    git(p, &["checkout", "-q", "change"]);
    d
}

fn benchgate(repo: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_benchgate"));
    cmd.env("CARGO_TARGET_DIR", Path::new(env!("CARGO_TARGET_TMPDIR")).join("revision-target"));
    cmd.arg("--manifest-path").arg(repo.join("Cargo.toml"));
    cmd
}

fn verdicts(dir: &Path) -> Vec<(String, String, String)> {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("verdicts.json")).unwrap()).unwrap();
    v["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_owned(),
                c["metric"].as_str().unwrap().to_owned(),
                c["verdict"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn compare_flags_exactly_the_changed_routines_against_the_merge_base_and_nothing_in_an_a_a_run() {
    let d = repo("revdemo");
    let p = d.path();
    // The time budget covers building, and a clean target directory builds every dependency twice (head,
    // and base in its worktree): a first comparison in the alloc lane alone builds both, so that the
    // budgets below go to measuring.
    let out = benchgate(p)
        .args(["run", "--quick", "--compare", "main", "--lanes", "alloc", "--out"])
        .arg(p.join("target/warm"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "the extra allocation: {}", stderr(&out));
    let out_dir = p.join("target/report");
    // At most 12 rounds per stage (a screen of 6, confirmations of up to 12), so that the wall pass ends
    // well inside a generous budget and leaves time to attribute both regressions even on a loaded
    // machine, where rebuilding the base after the bisect test and counting under valgrind take long
    // (attribution starts only while the budget has time; at 180 s the confirmation stage left too
    // little for it once, on this 2-core machine under the other tests' load).
    let config = p.join("target/rounds.toml");
    std::fs::write(&config, "[compare]\nrounds = 12\n").unwrap();
    let out = benchgate(p)
        .args(["run", "--quick", "--compare", "main", "--time-budget", "300s", "--seed", "7", "--config"])
        .arg(&config)
        .arg("--out")
        .arg(&out_dir)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}\n{}", String::from_utf8_lossy(&out.stdout));
    assert!(err.contains("the merge-base of main"), "{err}");
    let all = verdicts(&out_dir);
    // Regressions and improvements exactly as injected; everything else unchanged or inconclusive (too
    // noisy to tell at the threshold, which is not a finding).
    let mut flagged: Vec<(String, String)> = all
        .iter()
        .filter(|(_, _, v)| v != "unchanged" && v != "inconclusive")
        .map(|(id, m, v)| (format!("{id} {m}"), v.clone()))
        .collect();
    flagged.sort();
    let expected = [
        ("demo/alloc allocs_per_op", "regressed"),
        ("demo/alloc bytes_per_op", "regressed"),
        ("demo/double instructions_per_op", "regressed"),
        ("demo/double ns_per_op", "regressed"),
    ];
    let expected: Vec<(String, String)> = expected.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    let md = std::fs::read_to_string(out_dir.join("verdicts.md")).unwrap_or_default();
    assert_eq!(flagged, expected, "{md}");
    // The untouched binary's benchmark is counted, not timed: the same program on both sides.
    assert!(all.iter().any(|(id, m, _)| id == "other/steady" && m == "instructions_per_op"), "{md}");
    assert!(!all.iter().any(|(id, m, _)| id == "other/steady" && m == "ns_per_op"), "{md}");
    assert!(err.contains("not timed, as base and head run the same binary: 1 benchmark ("), "{err}");
    assert!(md.contains("wall not measured for 1 benchmark, so not judged: base and head run the same binary"), "{md}");
    // Each regression is attributed to what grew: the doubled loop to `work`, the new allocation to
    // the allocator.
    let attribution: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("attribution.json")).unwrap()).unwrap();
    let first_growth = |id: &str| {
        let a = attribution.as_array().unwrap().iter().find(|a| a["id"] == id).unwrap_or_else(|| panic!("{id}: {md}"));
        let f = &a["grew"][0];
        (f["name"].as_str().unwrap().to_owned(), f["category"].as_str().unwrap().to_owned())
    };
    assert_eq!(first_growth("demo/double").0, "demo::work", "{md}");
    assert_eq!(first_growth("demo/alloc").1, "allocation", "{md}");
    // ... and the new allocation's site, one 64-byte block per op that base did not allocate.
    let alloc = attribution.as_array().unwrap().iter().find(|a| a["id"] == "demo/alloc").unwrap();
    let site = &alloc["sites"][0];
    assert_eq!((site["base_blocks"].as_f64(), site["head_blocks"].as_f64()), (Some(0.0), Some(1.0)), "{md}");
    assert_eq!(site["head_bytes"].as_f64(), Some(64.0), "{md}");
    assert!(site["frames"].as_array().unwrap().iter().any(|f| f.as_str().unwrap().contains("demo.rs")), "{md}");
    assert!(md.contains("## Where the regressions come from") && md.contains("`demo::work`"), "{md}");
    // report.html shows the same, with the differential flamegraph inline; which commits were compared
    // is a plain line near the top, not a warning.
    let html = std::fs::read_to_string(out_dir.join("report.html")).unwrap();
    assert!(html.contains("<h2>Where the regressions come from</h2>") && html.contains("<code>demo::work</code>"));
    assert!(html.contains("src=\"data:image/svg+xml;base64,"), "the flamegraph inline");
    assert!(html.contains("<p class=\"context\">base ") && !html.contains("warning: base "));
    assert!(md.contains("(merge-base of main), head ") && !md.contains("warning: base "), "{md}");
    for f in ["base.json", "head.json", "verdicts.md"] {
        assert!(out_dir.join(f).exists(), "{f}");
    }
    // The verdict first, the summary after the verdict lines, with the largest regressions and where
    // the files are; the same summary in report.html and at the end of the terminal output.
    assert!(md.lines().next().unwrap().contains("FAIL"), "{md}");
    let summary = &md[md.find("**Summary**").expect("a summary")..];
    assert!(md.find("policy:").unwrap() < md.find("**Summary**").unwrap(), "{md}");
    assert!(summary.contains("- **largest regressions:** demo/"), "{md}");
    assert!(summary.contains(&format!("- **files:** {}", out_dir.display())), "{md}");
    assert!(html.contains("<h2>Summary</h2>") && html.contains("<strong>largest regressions:</strong> demo/"));
    let terminal = String::from_utf8_lossy(&out.stdout);
    assert!(terminal.starts_with("FAIL") && terminal.contains("\nSummary\n=======\nmeasured: "), "{terminal}");
    let head: cargo_benchgate::model::Results =
        cargo_benchgate::model::Results::load(&out_dir.join("head.json")).unwrap();
    let w = head.benchmarks[0].metrics.ns_per_op.as_ref().unwrap();
    assert!(w.rounds.iter().max().copied().unwrap_or(0) >= 3, "wall samples carry their rounds");

    // Nothing left behind: no branch, the user's checkout untouched.
    let branches = Command::new("git").args(["branch", "--list"]).current_dir(p).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&branches.stdout).lines().count(), 2, "only main and change");

    // The same commit on both sides: identical binaries are not measured without --force ...
    let out = benchgate(p).args(["run", "--quick", "--compare", "HEAD"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("identical"), "{}", stderr(&out));
    // ... and measured with it, nothing is flagged.
    let aa_dir = p.join("target/aa");
    let out = benchgate(p)
        .args(["run", "--quick", "--compare", "HEAD", "--force", "--time-budget", "60s", "--seed", "11", "--out"])
        .arg(&aa_dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let flagged: Vec<_> =
        verdicts(&aa_dir).into_iter().filter(|(_, _, v)| v == "regressed" || v == "improved").collect();
    assert!(flagged.is_empty(), "{flagged:#?}");
    assert!(verdicts(&aa_dir).iter().any(|(id, m, _)| id == "other/steady" && m == "ns_per_op"), "--force times it");

    // A budget that building and counting use up: the wall pass is skipped, not overrun, and says so.
    let spent_dir = p.join("target/spent");
    let out = benchgate(p)
        .args(["run", "--quick", "--compare", "HEAD", "--force", "--time-budget", "1s", "--out"])
        .arg(&spent_dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("wall lane skipped for every benchmark"), "{}", stderr(&out));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(spent_dir.join("verdicts.json")).unwrap()).unwrap();
    assert!(
        v["warnings"].as_array().unwrap().iter().any(|w| w.as_str().unwrap().starts_with("wall not measured")),
        "{v}"
    );
    // Each benchmark's wall comparison is inconclusive for lack of time, and the first line says so.
    let rows = verdicts(&spent_dir);
    let wall: Vec<&(String, String, String)> = rows.iter().filter(|(_, m, _)| m == "ns_per_op").collect();
    assert!(!wall.is_empty() && wall.iter().all(|(_, _, v)| v == "inconclusive"), "{rows:?}");
    assert!(rows.iter().any(|(_, m, _)| m != "ns_per_op"), "the counts are still judged: {rows:?}");
    assert_eq!(v["short_of_time"].as_u64(), Some(wall.len() as u64), "{v}");
    let md = std::fs::read_to_string(spent_dir.join("verdicts.md")).unwrap();
    assert!(md.lines().next().unwrap().contains("for lack of time"), "{md}");

    // Bad revisions: a clear message and exit 2, nothing created.
    let out = benchgate(p).args(["run", "--quick", "--compare", "no-such-rev"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown revision `no-such-rev`"), "{}", stderr(&out));
}

/// A history for bisect: `base`, then commits that touch nothing measured, one that does not build
/// (and its fix), one that doubles `demo/double`'s work and one that makes `demo/alloc` allocate.
fn bisect_repo() -> tempfile::TempDir {
    let d = repo("revbisect");
    let p = d.path();
    git(p, &["checkout", "-q", "main"]);
    git(p, &["reset", "-q", "--hard", "HEAD~1"]);
    let commit = |message: &str| git(p, &["commit", "-qam", message]);
    let readme = |text: &str| {
        std::fs::write(p.join("README"), text).unwrap();
        git(p, &["add", "README"]);
    };
    readme("one\n");
    commit("1 readme");
    readme("two\n");
    commit("2 readme");
    std::fs::write(p.join("benches/demo.rs"), "this is not rust\n").unwrap();
    commit("3 does not build");
    write_bench(p, 2_000, false, 3_000);
    commit("4 builds again");
    write_bench(p, 4_000, false, 3_000);
    commit("5 double the work");
    write_bench(p, 4_000, true, 3_000);
    commit("6 allocate per op");
    readme("three\n");
    commit("7 readme");
    d
}

/// `bisect.json`'s first bad commit's summary and the summaries of the commits skipped.
fn bisected(dir: &Path) -> (String, Vec<String>) {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("bisect.json")).unwrap()).unwrap();
    let skipped = v["measured"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["class"] == "skipped")
        .map(|m| m["commit"]["summary"].as_str().unwrap().to_owned())
        .collect();
    (v["first_bad"]["summary"].as_str().unwrap_or("-").to_owned(), skipped)
}

#[test]
fn bisect_finds_the_commit_that_changed_a_figure_stepping_around_one_that_does_not_build() {
    let d = bisect_repo();
    let p = d.path();
    let bisect = |bench: &str, metric: &str, out: &str| {
        let out_dir = p.join("target").join(out);
        let o = benchgate(p)
            .args(["bisect", "--quick", "--bench", bench, "--good", "main~7", "--bad", "main", "--metric", metric])
            .arg("--out")
            .arg(&out_dir)
            .output()
            .unwrap();
        (o, out_dir)
    };

    // Instructions (exact): the doubled loop, found although the middle commit does not build.
    let (o, dir) = bisect("demo/double", "instructions", "bisect-double");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{}\n{stdout}", stderr(&o));
    assert_eq!(bisected(&dir), ("5 double the work".to_owned(), vec!["3 does not build".to_owned()]), "{stdout}");
    assert!(stdout.contains("first higher commit:") && stdout.contains("5 double the work"), "{stdout}");
    assert!(dir.join(format!("{}.json", &git_out(p, &["rev-parse", "main~2"])[..10])).exists(), "results kept");

    // Allocations: from none to one per op.
    let (o, dir) = bisect("demo/alloc", "allocs", "bisect-alloc");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(bisected(&dir).0, "6 allocate per op");

    // A figure that did not change: nothing to bisect, exit 1.
    let (o, _) = bisect("demo/steady", "allocs", "bisect-steady");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("nothing to bisect"), "{}", stderr(&o));

    // Bad input: exit 2 and the reason.
    let o =
        benchgate(p).args(["bisect", "--bench", "demo/double", "--good", "main", "--bad", "main~3"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is not an ancestor"), "{}", stderr(&o));

    // A comparison against a base that does not build: exit 2, naming the commit.
    let broken = git_out(p, &["rev-parse", "--short=10", "main~4"]);
    let o = benchgate(p)
        .args(["run", "--quick", "--lanes", "alloc", "--compare", "main~4", "--no-merge-base"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains(&format!("the base commit {broken} does not build")), "{}", stderr(&o));

    // In the working tree, a benchmark on one side only (new), and one that panics in head: the first
    // named and judged `new`, the second `failed`, exit 3 (no regression was measured).
    let text = std::fs::read_to_string(p.join("benches/demo.rs")).unwrap();
    let added = text
        .replacen(
            "    s.bench(\"steady\"",
            "    s.bench(\"fresh\", |b: &mut Bencher| b.iter(|| work(black_box(10))));\n    s.bench(\"steady\"",
            1,
        )
        .replacen(
            "            work(black_box(50_000))",
            "            if black_box(true) { panic!(\"broken in head\") }\n            work(black_box(50_000))",
            1,
        );
    assert_eq!(added.matches("fresh").count() + added.matches("broken in head").count(), 2);
    std::fs::write(p.join("benches/demo.rs"), &added).unwrap();
    let out_dir = p.join("target/one-side");
    let o = benchgate(p)
        .args(["run", "--quick", "--lanes", "alloc", "--suite", "demo", "--compare", "HEAD", "--out"])
        .arg(&out_dir)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("uncommitted changes"), "{}", stderr(&o));
    assert!(stderr(&o).contains("demo/fresh exists only in head (new)"), "{}", stderr(&o));
    let of = |id: &str| -> Vec<String> {
        verdicts(&out_dir).into_iter().filter(|(i, _, _)| i == id).map(|(_, _, v)| v).collect()
    };
    assert!(!of("demo/fresh").is_empty() && of("demo/fresh").iter().all(|v| v == "new"), "{:?}", of("demo/fresh"));
    assert!(!of("demo/alloc").is_empty() && of("demo/alloc").iter().all(|v| v == "failed"), "{:?}", of("demo/alloc"));
    let head = cargo_benchgate::model::Results::load(&out_dir.join("head.json")).unwrap();
    let failure = head.benchmarks.iter().find(|b| b.id == "demo/alloc").map(|b| format!("{:?}", b.failures));
    assert!(failure.as_deref().is_some_and(|f| f.contains("broken in head")), "{failure:?}");
    std::fs::write(p.join("benches/demo.rs"), text).unwrap();

    // The user's checkout is untouched and no branch is left.
    // (Cargo.lock aside: the copied lock file gets the test crate's own entry from cargo's first build.)
    assert_eq!(git_out(p, &["status", "--porcelain", "--", ".", ":!Cargo.lock"]), "", "the working tree as it was");
    assert_eq!(git_out(p, &["rev-parse", "--abbrev-ref", "HEAD"]), "main");
    assert_eq!(git_out(p, &["branch", "--list"]).lines().count(), 2, "main and change");
}

fn git_out(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git").args(args).current_dir(dir).output().unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// How many times cargo's output says it compiled `krate` (`Compiling <krate> v...`).
fn compiled(output: &str, krate: &str) -> usize {
    output.lines().filter(|l| l.trim_start().starts_with(&format!("Compiling {krate} v"))).count()
}

/// From a clean target directory: `cargo bench` builds everything once; a plain `benchgate run` after it
/// builds nothing; the first `run --compare` builds each dependency once more (the comparison's flags,
/// shared by both sides) and the package once per side; a second comparison builds nothing; another
/// `run.codegen_units` builds the package again per side, nothing else.
#[test]
fn a_first_comparison_builds_each_dependency_once_and_plain_runs_reuse_cargo_bench_s_build() {
    let d = repo("revbuilds");
    let p = d.path();
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("revbuilds-target");
    let _ = std::fs::remove_dir_all(&target);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["bench", "--no-run", "--manifest-path"])
        .arg(p.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert_eq!((compiled(&err, "serde"), compiled(&err, "revbuilds")), (1, 1), "{err}");
    let run = |args: &[&str], out_dir: &str| {
        let out = benchgate(p).env("CARGO_TARGET_DIR", &target).args(args).arg("--out").arg(p.join(out_dir)).output();
        let out = out.unwrap();
        let err = stderr(&out);
        assert!(matches!(out.status.code(), Some(0 | 1)), "{err}");
        (compiled(&err, "serde"), compiled(&err, "revbuilds"), err)
    };
    let (serde, package, err) = run(&["run", "--quick", "--lanes", "alloc"], "target/plain.json");
    assert_eq!((serde, package), (0, 0), "a plain run builds as cargo bench does: {err}");
    let first = ["run", "--quick", "--lanes", "alloc", "--compare", "main"];
    let (serde, package, err) = run(&first, "target/first");
    assert_eq!((serde, package), (1, 2), "dependencies once, the package once per side: {err}");
    let (serde, package, err) = run(&first, "target/second");
    assert_eq!((serde, package), (0, 0), "nothing to build the second time: {err}");
    // The profile's codegen units instead of one for the package's own crates: the package again per
    // side (the setting is in the wrapper's path, which cargo fingerprints), the dependencies not.
    let config = p.join("target/units.toml");
    std::fs::write(&config, "[run]\ncodegen_units = 0\n").unwrap();
    let config = config.display().to_string();
    let profile_units = ["run", "--quick", "--lanes", "alloc", "--compare", "main", "--config", config.as_str()];
    let (serde, package, err) = run(&profile_units, "target/third");
    assert_eq!((serde, package), (0, 2), "the package once per side: {err}");
}

/// Three benchmarks in one binary: `fixed/more` does a fixed amount of work, `vary/seq` an amount that each
/// process draws anew (its sequence number among the processes that ran it, from files it creates in
/// SEQ_DIR), like a routine whose count moves with the scheduling of its threads or a random seed, and
/// `vary/more` a fixed amount (VARY) plus up to 1% that each process draws from std's random hash keys.
const RECOUNT_BENCH: &str = r#"
use benchgate::{Bencher, Harness, black_box};

#[inline(never)]
fn work(n: u64) -> u64 {
    (0..n).fold(0u64, |a, i| a.wrapping_add(black_box(i).wrapping_mul(3)))
}

/// This process's number among the processes that asked before it.
fn sequence() -> u64 {
    static N: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *N.get_or_init(|| {
        let dir = std::path::Path::new(SEQ_DIR);
        (0u64..).find(|n| std::fs::File::create_new(dir.join(n.to_string())).is_ok()).unwrap()
    })
}

/// A number each process draws afresh: std's hash keys are random per process.
fn drawn() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new().build_hasher().finish()
}

fn demo(h: &mut Harness) {
    let mut s = h.suite("fixed");
    s.bench("more", |b: &mut Bencher| b.iter(|| work(black_box(MORE))));
    let mut s = h.suite("vary");
    s.bench("seq", |b: &mut Bencher| {
        let n = 10_000 + 1_000 * (sequence() % 5);
        b.iter(|| work(black_box(n)))
    });
    s.bench("more", |b: &mut Bencher| {
        let n = VARY + drawn() % (VARY / 100);
        b.iter(|| work(black_box(n)))
    });
}

benchgate::main!(demo);
"#;

/// The instr lane's second look: a deterministic change of 2% is counted again, repeats exactly and
/// regresses; a benchmark whose counts differ between processes of one binary (and so between base and
/// head, though its code did not change) is counted again, in turns, and judged on the ranges: unchanged,
/// after 2 counts a side if their ranges meet, else after 7; one whose counts vary by 1% and whose work
/// grew by 10% is counted 7 times a side, its ranges apart: regressed. The cache keeps every run: a
/// second comparison counts nothing again.
#[test]
fn instruction_counts_that_differ_are_counted_again_and_judged_on_their_ranges() {
    if Command::new("valgrind").arg("--version").output().is_err() {
        eprintln!("valgrind not installed; not checked");
        return;
    }
    let d = git_package("revrecount", &["demo"]);
    let p = d.path();
    let seq = tempfile::tempdir().unwrap();
    let write = |more: u64, vary: u64| {
        let text = RECOUNT_BENCH
            .replace("SEQ_DIR", &format!("{:?}", seq.path().display().to_string()))
            .replace("MORE", &more.to_string())
            .replace("VARY", &vary.to_string());
        std::fs::write(p.join("benches/demo.rs"), text).unwrap();
    };
    write(20_000, 100_000);
    git(p, &["add", "."]);
    git(p, &["commit", "-qm", "base"]);
    // Head: the working tree, 2% more work in `fixed/more`, 10% more in `vary/more`.
    write(20_400, 110_000);
    let run = |out: &Path| {
        let o = benchgate(p)
            .args(["run", "--quick", "--compare", "HEAD", "--lanes", "instr", "--out"])
            .arg(out)
            .output()
            .unwrap();
        (o.status.code(), stderr(&o))
    };
    let first = p.join("target/first");
    let (code, err) = run(&first);
    let md = std::fs::read_to_string(first.join("verdicts.md")).unwrap_or_default();
    assert_eq!(code, Some(1), "{err}\n{md}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(first.join("verdicts.json")).unwrap()).unwrap();
    let row = |id: &str| {
        v["comparisons"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap_or_else(|| panic!("{id}: {md}"))
    };
    let (more, vary, grew) = (row("fixed/more"), row("vary/seq"), row("vary/more"));
    assert_eq!(more["verdict"], "regressed", "{md}");
    let note = more["note"].as_str().unwrap();
    assert!(note.starts_with("counted again, the same counts (base ") && note.contains(" in 2 counts"), "{note}");
    assert_eq!(vary["verdict"], "unchanged", "{md}");
    let note = vary["note"].as_str().unwrap();
    assert!(note.contains("vary between processes") && note.contains("; judged on the ranges"), "{note}");
    assert_eq!(grew["verdict"], "regressed", "{md}");
    let note = grew["note"].as_str().unwrap();
    assert!(note.contains("vary between processes") && note.contains("over 7 counts; judged on the ranges"), "{note}");
    assert!(err.contains("instr: 3 benchmarks counted beyond the threshold; counting them again"), "{err}");
    assert!(err.contains("1 repeated exactly (the change is in the code): fixed/more"), "{err}");
    let runs = |side: &str, id: &str| {
        let r = cargo_benchgate::model::Results::load(&first.join(format!("{side}.json"))).unwrap();
        let b = r.benchmarks.iter().find(|b| b.id == id).unwrap();
        let per_op: Vec<f64> = b.metrics.instr_runs.iter().map(|c| c.instructions_per_op()).collect();
        (per_op, b.metrics.instructions_per_op.unwrap())
    };
    for side in ["base", "head"] {
        let (per_op, figure) = runs(side, "fixed/more");
        assert_eq!(per_op.len(), 2, "{side}: {per_op:?}");
        assert_eq!((per_op[0], per_op[1]), (figure, figure), "{side}: deterministic counts repeat");
        let (per_op, figure) = runs(side, "vary/more");
        assert_eq!(per_op.len(), 7, "{side}: {per_op:?}");
        let mut sorted = per_op.clone();
        sorted.sort_by(f64::total_cmp);
        assert_eq!(sorted[3], figure, "{side}: the figure is the median run");
        assert!(sorted[0] < sorted[6], "{side}: the counts varied: {per_op:?}");
    }
    // `vary/seq`: counted again until its ranges meet within the 0.5% threshold (more counts only widen
    // them), or 7 a side, and the phase line names it in its group.
    let range = |v: &[f64]| [v.iter().copied().fold(f64::INFINITY, f64::min), v.iter().copied().fold(0.0, f64::max)];
    let meet = |b: &[f64], h: &[f64]| {
        let (rb, rh) = (range(b), range(h));
        rh[0] <= rb[1] * 1.005 && rb[0] <= rh[1] * 1.005
    };
    let (b, h) = (runs("base", "vary/seq").0, runs("head", "vary/seq").0);
    let n = b.len();
    assert!(h.len() == n && (2..=7).contains(&n), "{b:?} {h:?}");
    assert!(b.iter().chain(&h).any(|&v| v != b[0]), "vary/seq's counts varied: {b:?} {h:?}");
    let met = meet(&b, &h);
    assert!(n == 7 || met, "stopped apart: {b:?} {h:?}");
    assert!(n == 2 || !meet(&b[..n - 1], &h[..n - 1]), "counted on after the ranges met: {b:?} {h:?}");
    if n < 7 {
        assert!(err.contains("1 varied between processes and their ranges met within the threshold before 7 counts a side (more counts only widen them: unchanged): vary/seq"), "{err}");
        assert!(
            err.contains("1 varied between processes, judged on the ranges of 7 counts a side: vary/more"),
            "{err}"
        );
    } else {
        assert!(
            err.contains("2 varied between processes, judged on the ranges of 7 counts a side: vary/more, vary/seq"),
            "{err}"
        );
    }
    // The same comparison again: every count from the cache, nothing counted again, the same verdicts.
    let second = p.join("target/second");
    let (code, err) = run(&second);
    assert_eq!(code, Some(1), "{err}");
    assert!(!err.contains("counting them again"), "{err}");
    for (side, id) in [("base", "vary/seq"), ("head", "vary/seq"), ("head", "fixed/more"), ("base", "vary/more")] {
        let again = cargo_benchgate::model::Results::load(&second.join(format!("{side}.json"))).unwrap();
        let b = again.benchmarks.iter().find(|b| b.id == id).unwrap();
        let per_op: Vec<f64> = b.metrics.instr_runs.iter().map(|c| c.instructions_per_op()).collect();
        assert_eq!(per_op, runs(side, id).0, "{side} {id}: from the cache");
    }
}

/// Two benchmarks in one binary: `t/spawn` allocates on a thread of its own each op (a threaded
/// benchmark: its alloc lane runs 7 times a side), `d/work` does WORK iterations.
const THREADED_BENCH: &str = r#"
use benchgate::{Bencher, Harness, black_box};

fn demo(h: &mut Harness) {
    let mut s = h.suite("t");
    s.bench("spawn", |b: &mut Bencher| {
        b.iter(|| std::thread::spawn(|| drop(black_box(Box::new(1u8)))).join().unwrap())
    });
    let mut s = h.suite("d");
    s.bench("work", |b: &mut Bencher| b.iter(|| (0..black_box(WORK)).fold(0u64, |a, i| a.wrapping_add(i))));
}

benchgate::main!(demo);
"#;

/// A threaded benchmark's allocation counts move with the machine's scheduling, so one side's runs from
/// the cache (another job's) are not judged against the other side's fresh ones: when head's binary
/// changes, base's threaded benchmark is counted again beside it, in turns; its deterministic one comes
/// from the cache; and when neither side is counted, both come from the cache.
#[test]
fn threaded_allocation_counts_from_the_cache_are_counted_again_beside_a_fresh_side() {
    let d = git_package("revthreaded", &["demo"]);
    let p = d.path();
    let write = |work: u64| {
        std::fs::write(p.join("benches/demo.rs"), THREADED_BENCH.replace("WORK", &work.to_string())).unwrap();
    };
    write(1_000);
    git(p, &["add", "."]);
    git(p, &["commit", "-qm", "base"]);
    let run = |name: &str| {
        let out = p.join("target").join(name);
        let o = benchgate(p)
            .args(["run", "--quick", "--compare", "HEAD", "--lanes", "alloc", "--out"])
            .arg(&out)
            .output()
            .unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(0), "{err}");
        let r = cargo_benchgate::model::Results::load(&out.join("base.json")).unwrap();
        let runs = r.benchmarks.iter().find(|b| b.id == "t/spawn").unwrap().metrics.alloc_runs.len();
        (err, runs)
    };
    // Head differs from base: both sides of both benchmarks counted, the threaded one 7 times a side.
    write(2_000);
    let (err, runs) = run("first");
    assert!(err.contains("(4 processes, one at a time)"), "{err}");
    assert_eq!(runs, 7, "{err}");
    // Head changes again: base's `d/work` from the cache, base's `t/spawn` counted again beside head's.
    write(3_000);
    let (err, runs) = run("second");
    assert!(err.contains("(3 processes, one at a time)"), "{err}");
    assert_eq!(runs, 7, "{err}");
    // The same code again: nothing counted, every run from the cache.
    let (err, runs) = run("third");
    assert!(
        err.contains("alloc, once per side, 7 times a side, in turns, where threads take part (all from the cache)"),
        "{err}"
    );
    assert_eq!(runs, 7, "{err}");
}
