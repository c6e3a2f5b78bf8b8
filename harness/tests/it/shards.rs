//! Build once, measure in shards, one verdict: a generated suite of 1,000 cheap benchmarks (three of
//! them allocate once more per op in head) is archived by `build --compare --archive`, measured as 4
//! shards one after another with cargo and rustc off PATH, and judged by `verdicts`; the same archive
//! measured as one shard gives the same comparisons. A missing shard, an interrupted shard and results
//! of two jobs in one folder each fail the verdict with their own exit code. A small wall-lane archive
//! shows the shards' rounds judged in one correction over all of them.

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::stderr;

const MANY: &str = r#"
use benchgate::{Bencher, Harness, black_box};

#[inline(never)]
fn work(n: u64) -> u64 {
    (0..n).fold(0u64, |a, i| a.wrapping_add(black_box(i).wrapping_mul(3)))
}

const INJECTED: &[u64] = &[@INJECT@];
const SLOWER: &[u64] = &[@SLOW@];
const THREADED: u64 = 9;

fn many(h: &mut Harness) {
    let mut s = h.suite("many");
    for i in 0..1000u64 {
        let extra = INJECTED.contains(&i);
        let n = if SLOWER.contains(&i) { 4 * (20 + i % 5) } else { 20 + i % 5 };
        s.bench(&format!("b{i:04}"), |b: &mut Bencher| {
            b.iter(|| {
                if extra {
                    black_box(Vec::<u8>::with_capacity(64));
                }
                if i == THREADED {
                    std::thread::spawn(|| drop(black_box(Box::new(1u8)))).join().unwrap();
                }
                work(black_box(n))
            })
        });
    }
}

benchgate::main!(many);
"#;

const INJECTED: [&str; 3] = ["many/b0017", "many/b0503", "many/b0998"];
/// Four times the work per op in head, no allocation: wall and instr lanes only.
const SLOWER: [&str; 2] = ["many/b0002", "many/b0007"];

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git").args(args).current_dir(dir).output().unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A repository whose `main` holds the suite and whose branch `change` injects the extra allocations
/// ([`INJECTED`]) and the slower routines ([`SLOWER`]).
fn repo() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let harness = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::create_dir_all(p.join("benches")).unwrap();
    std::fs::create_dir_all(p.join("src")).unwrap();
    std::fs::write(p.join("src/lib.rs"), "").unwrap();
    std::fs::write(
        p.join("Cargo.toml"),
        format!(
            "[workspace]\n\n[package]\nname = \"sharded\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dev-dependencies]\nbenchgate = {{ path = {:?} }}\n\n[[bench]]\nname = \"many\"\nharness = false\n\n\
             [profile.bench]\ndebug = \"line-tables-only\"\n",
            harness.join("../benchgate").display().to_string()
        ),
    )
    .unwrap();
    std::fs::copy(harness.join("tests/fixture/Cargo.lock"), p.join("Cargo.lock")).unwrap();
    std::fs::write(p.join(".gitignore"), "target/\n").unwrap();
    git(p, &["init", "-q", "-b", "main"]);
    git(p, &["config", "user.email", "t@example.com"]);
    git(p, &["config", "user.name", "t"]);
    std::fs::write(p.join("benches/many.rs"), MANY.replace("@INJECT@", "").replace("@SLOW@", "")).unwrap();
    git(p, &["add", "."]);
    git(p, &["commit", "-qm", "base"]);
    git(p, &["checkout", "-qb", "change"]);
    std::fs::write(p.join("benches/many.rs"), MANY.replace("@INJECT@", "17, 503, 998").replace("@SLOW@", "2, 7"))
        .unwrap();
    git(p, &["commit", "-qam", "three benchmarks allocate once more, two work four times as long"]);
    d
}

fn benchgate(repo: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_benchgate"));
    cmd.env("CARGO_TARGET_DIR", Path::new(env!("CARGO_TARGET_TMPDIR")).join("shards-target"));
    cmd.arg("--manifest-path").arg(repo.join("Cargo.toml"));
    cmd
}

/// `benchgate run --archive` as a measuring job runs it: cargo and rustc are not on PATH (only the system
/// directories, where valgrind is), and no cargo variable points at them.
fn shard(archive: &Path, shard: &str, out: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_benchgate"));
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("CARGO") || k.starts_with("RUSTC") || k.starts_with("RUSTUP") {
            cmd.env_remove(&k);
        }
    }
    cmd.env("PATH", "/usr/bin:/bin");
    cmd.args(["run", "--archive"]).arg(archive).args(["--shard", shard, "--out"]).arg(out).args(extra);
    cmd
}

fn comparisons(dir: &Path) -> BTreeMap<(String, String), String> {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("verdicts.json")).unwrap()).unwrap();
    v["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let key = (c["id"].as_str().unwrap().to_owned(), c["metric"].as_str().unwrap().to_owned());
            (key, format!("{} {}", c["verdict"].as_str().unwrap(), c["ratio"]))
        })
        .collect()
}

fn shard_ids(dir: &Path) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("shard.json")).unwrap()).unwrap();
    v["ids"].as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_owned()).collect()
}

#[test]
fn an_archive_measured_in_four_shards_judges_like_one_machine_and_a_missing_or_unfinished_shard_fails() {
    let repo = repo();
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("bench.tar.gz");
    let out = benchgate(repo.path()).args(["build", "--compare", "main", "--archive"]).arg(&archive).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("1000 benchmarks; bench binaries: 1 of base, 1 of head"), "{}", stderr(&out));

    // Four shards, one after another, and the whole archive as one shard.
    let dirs: Vec<PathBuf> = (1..=4).map(|i| tmp.path().join(format!("s{i}"))).collect();
    for (i, dir) in dirs.iter().enumerate() {
        let out = shard(&archive, &format!("{}/4", i + 1), dir, &["--lanes", "alloc"]).output().unwrap();
        assert!(out.status.success(), "shard {}: {}", i + 1, stderr(&out));
    }
    let whole = tmp.path().join("whole");
    let out = shard(&archive, "1/1", &whole, &["--lanes", "alloc"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));

    // Every benchmark in exactly one shard, 250 each (by count: no costs yet).
    let mut seen = BTreeSet::new();
    for dir in &dirs {
        let ids = shard_ids(dir);
        assert_eq!(ids.len(), 250);
        for id in ids {
            assert!(seen.insert(id.clone()), "{id} in two shards");
        }
    }
    assert_eq!(seen.len(), 1000);

    let verdicts = |dirs: &[PathBuf], out: &Path| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_benchgate"));
        cmd.arg("verdicts").args(dirs).arg("--out").arg(out);
        cmd.output().unwrap()
    };
    let (four, one) = (tmp.path().join("v4"), tmp.path().join("v1"));
    let o4 = verdicts(&dirs, &four);
    assert_eq!(o4.status.code(), Some(1), "{}", stderr(&o4));
    let o1 = verdicts(std::slice::from_ref(&whole), &one);
    assert_eq!(o1.status.code(), Some(1), "{}", stderr(&o1));
    let (c4, c1) = (comparisons(&four), comparisons(&one));
    assert_eq!(c4, c1, "four shards and one machine judge alike");
    let regressed: BTreeSet<&str> =
        c4.iter().filter(|(_, v)| v.starts_with("regressed")).map(|((id, _), _)| id.as_str()).collect();
    assert_eq!(regressed, INJECTED.into_iter().collect::<BTreeSet<_>>());
    // b0009 allocates on a thread of its own each op: both sides counted in 7 processes, in turns, and
    // judged on their ranges (equal here: the same code).
    for ((id, metric), v) in &c4 {
        if id == "many/b0009" && metric.ends_with("_per_op") {
            assert!(v.starts_with("unchanged"), "{id} {metric}: {v}");
        }
    }
    let holder = dirs.iter().find(|d| shard_ids(d).iter().any(|id| id == "many/b0009")).unwrap();
    for side in ["base.json", "head.json"] {
        let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(holder.join(side)).unwrap()).unwrap();
        let b = r["benchmarks"].as_array().unwrap().iter().find(|b| b["id"] == "many/b0009").unwrap();
        let runs = b["metrics"]["alloc_runs"].as_array().unwrap();
        assert_eq!(runs.len(), 7, "{side}: {b}");
        assert!(runs.iter().all(|r| r["other_threads"].as_u64() >= Some(1)), "{side}: {b}");
    }
    let md = std::fs::read_to_string(four.join("verdicts.md")).unwrap();
    for i in 1..=4 {
        assert!(md.contains(&format!("shard {i}/4: 250 benchmarks, complete, on ")), "{md}");
    }
    // Without the archive the verdict says how to attribute; with it, each regression is attributed to
    // its new allocation site (DHAT on both sides' archived binaries), as `run --compare` does.
    assert!(md.contains("`benchgate verdicts --archive FILE`"), "{md}");
    let attributed = tmp.path().join("v4-attributed");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_benchgate"));
    let o =
        cmd.arg("verdicts").args(&dirs).arg("--out").arg(&attributed).arg("--archive").arg(&archive).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(comparisons(&attributed), c4, "attributing changes no verdict");
    let attribution: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(attributed.join("attribution.json")).unwrap()).unwrap();
    for id in INJECTED {
        let a = attribution
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == id)
            .unwrap_or_else(|| panic!("{id}: {attribution}"));
        let site = &a["sites"][0];
        assert_eq!((site["base_blocks"].as_f64(), site["head_blocks"].as_f64()), (Some(0.0), Some(1.0)), "{id}: {a}");
        assert_eq!(site["head_bytes"].as_f64(), Some(64.0), "{id}: {a}");
    }
    let md = std::fs::read_to_string(attributed.join("verdicts.md")).unwrap();
    assert!(md.contains("## Where the regressions come from"), "{md}");

    // The costs of this run, for the next build: every benchmark.
    let costs: BTreeMap<String, f64> =
        serde_json::from_str(&std::fs::read_to_string(four.join("costs.json")).unwrap()).unwrap();
    assert_eq!(costs.len(), 1000);

    // A shard missing: exit 5, and the first lines say which.
    let o = verdicts(&dirs[..3], &tmp.path().join("v-missing"));
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("shard 4/4 left no results"), "{text}");

    // A job that failed before its shard wrote anything uploads a folder without results: exit 5 too.
    let empty = tmp.path().join("s4-empty");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join("exit-code"), "2\n").unwrap();
    let o = verdicts(&[dirs[0].clone(), dirs[1].clone(), dirs[2].clone(), empty], &tmp.path().join("v-empty"));
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("no shard's results in"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );

    // A shard interrupted half-way: exit 6 (its status says so), judged on what it measured.
    let cut = tmp.path().join("s2-cut");
    let mut child = shard(&archive, "2/4", &cut, &["--lanes", "alloc"]).stderr(Stdio::piped()).spawn().unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    for line in lines.by_ref() {
        if line.unwrap().contains("benchgate: measuring") {
            break;
        }
    }
    assert!(Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    lines.for_each(drop);
    assert_eq!(child.wait().unwrap().code(), Some(130));
    let mixed = [dirs[0].clone(), cut.clone(), dirs[2].clone(), dirs[3].clone()];
    let o = verdicts(&mixed, &tmp.path().join("v-cut"));
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("shard 2/4 did not finish (interrupted)"));

    // Base of one job, head of another, in one folder: refused, nothing is paired across jobs.
    let own_head = tmp.path().join("s2-head.json");
    std::fs::copy(dirs[1].join("head.json"), &own_head).unwrap();
    std::fs::copy(whole.join("head.json"), dirs[1].join("head.json")).unwrap();
    let o = verdicts(&dirs, &tmp.path().join("v-mixed"));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("were not measured in one job"), "{}", stderr(&o));
    std::fs::copy(&own_head, dirs[1].join("head.json")).unwrap();

    // Shards of another archive do not mix with these.
    let other = tmp.path().join("other.tar.gz");
    let out = benchgate(repo.path()).args(["build", "--compare", "main", "--archive"]).arg(&other).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let o = shard(&other, "1/4", &tmp.path().join("o1"), &["--lanes", "alloc"]).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let o = verdicts(&[dirs[0].clone(), tmp.path().join("o1")], &tmp.path().join("v-other"));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("shards of different archives"), "{}", stderr(&o));
    // ... nor does another archive's binaries attribute their regressions.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_benchgate"));
    let o = cmd.arg("verdicts").args(&dirs).arg("--out").arg(tmp.path().join("v-wrong")).arg("--archive").arg(&other);
    let o = o.output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("attribution needs the binaries they ran"), "{}", stderr(&o));

    // With the costs of the first run, the next archive assigns by cost: still every benchmark once.
    let costed = tmp.path().join("costed.tar.gz");
    let out = benchgate(repo.path())
        .args(["build", "--compare", "main", "--archive"])
        .arg(&costed)
        .arg("--costs")
        .arg(four.join("costs.json"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let o = shard(&costed, "3/4", &tmp.path().join("c3"), &["--lanes", "alloc"]).output().unwrap();
    assert!(stderr(&o).contains("assigned by the expected costs of"), "{}", stderr(&o));
}

/// The fields of a comparison that its verdict rests on.
fn judged(c: &serde_json::Value) -> String {
    let f = |k: &str| c[k].to_string();
    [f("id"), f("metric"), f("verdict"), f("ratio"), f("ci"), f("p_value"), f("p_adjusted"), f("mde")].join(" ")
}

/// `benchgate compare --format json` of a folder's base.json and head.json, in `repo` (its configuration,
/// no noise floors): the exit code and the verdicts.
fn compare_json(repo: &Path, dir: &Path) -> (Option<i32>, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_benchgate"))
        .current_dir(repo)
        .args(["compare", "--no-noise", "--format", "json"])
        .arg(dir.join("base.json"))
        .arg(dir.join("head.json"))
        .output()
        .unwrap();
    let verdicts = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    (out.status.code(), verdicts)
}

/// The number just before the first `marker` in `text`.
fn number_before(text: &str, marker: &str) -> Option<usize> {
    let head = &text[..text.find(marker)?];
    let digits = head.len() - head.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    head[head.len() - digits..].parse().ok()
}

/// Benjamini-Hochberg adjusted p-values, as scipy.stats.false_discovery_control computes them.
fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut adjusted = vec![0.0; m];
    let mut running = 1.0f64;
    for (rank, &i) in order.iter().enumerate().rev() {
        running = running.min(p[i] * m as f64 / (rank + 1) as f64);
        adjusted[i] = running;
    }
    adjusted
}

#[test]
fn wall_rounds_of_several_shards_are_judged_in_one_correction() {
    let repo = repo();
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("wall.tar.gz");
    // Ten benchmarks, b0000-b0009, two of them (SLOWER) doing four times the work in head.
    let out = benchgate(repo.path())
        .args(["build", "--compare", "main", "--filter", "many/b000", "--archive"])
        .arg(&archive)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let dirs: Vec<PathBuf> = (1..=2).map(|i| tmp.path().join(format!("w{i}"))).collect();
    let mut own_families = Vec::new();
    for (i, dir) in dirs.iter().enumerate() {
        let out =
            shard(&archive, &format!("{}/2", i + 1), dir, &["--lanes", "wall", "--quick", "--time-budget", "30s"])
                .output()
                .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        // Each shard's rounds carry its own pairing.
        let head: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("head.json")).unwrap()).unwrap();
        assert!(head["meta"]["pairing"].as_str().unwrap().ends_with(&format!("/shard-{}-of-2", i + 1)));
        // What the shard alone would have judged: its own family of candidates.
        let (code, own) = compare_json(repo.path(), dir);
        assert!(matches!(code, Some(0 | 1)), "{own}");
        let confirmed: Vec<usize> = own["comparisons"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["note"].as_str().and_then(|n| number_before(n, " fresh rounds")))
            .collect();
        own_families.push(confirmed.len());
        // The confirmation plans for the family of both shards (twice this one's candidates), and gives
        // every candidate at least the rounds over which the sign test can reach that alpha.
        let log = stderr(&out);
        if let Some(k) = number_before(&log, " of 5 benchmarks are candidates") {
            let alpha = 0.05 / (2 * k) as f64;
            let floor = (3..).find(|&n| 2.0 / 2f64.powi(n) <= alpha).unwrap() as usize;
            assert_eq!(number_before(&log, " each at least (the fewest"), Some(floor), "{log}");
            assert!(log.contains(&format!("FDR 0.05 over {} candidates, as many in each of the 2 shards", 2 * k)));
            assert!(confirmed.iter().all(|&n| n >= floor), "{confirmed:?} rounds, floor {floor}: {log}");
        }
    }
    let v = tmp.path().join("v");
    let o = Command::new(env!("CARGO_BIN_EXE_benchgate"))
        .arg("verdicts")
        .args(&dirs)
        .arg("--out")
        .arg(&v)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let verdicts: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(v.join("verdicts.json")).unwrap()).unwrap();
    let wall: Vec<&serde_json::Value> =
        verdicts["comparisons"].as_array().unwrap().iter().filter(|c| c["metric"] == "ns_per_op").collect();
    assert_eq!(wall.len(), 10, "{verdicts}");
    let regressed: BTreeSet<&str> =
        wall.iter().filter(|c| c["verdict"] == "regressed").map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(regressed, SLOWER.into_iter().collect::<BTreeSet<_>>(), "{verdicts:#}");

    // One correction over the candidates of both shards: Benjamini-Hochberg over every confirmed
    // candidate's p-value, whichever shard measured it, and the policy line counts them all.
    let confirmed: Vec<&&serde_json::Value> =
        wall.iter().filter(|c| c["note"].as_str().is_some_and(|n| n.contains(" fresh rounds"))).collect();
    assert!(confirmed.len() >= SLOWER.len());
    assert_eq!(confirmed.len(), own_families.iter().sum::<usize>(), "the shards' families, joined");
    let p: Vec<f64> = confirmed.iter().map(|c| c["p_value"].as_f64().unwrap()).collect();
    for (c, want) in confirmed.iter().zip(benjamini_hochberg(&p)) {
        let got = c["p_adjusted"].as_f64().unwrap();
        assert!((got - want).abs() <= 1e-12 * want.max(1.0), "{}: adjusted {got}, BH over all {want}", c["id"]);
    }
    let policy = verdicts["policy"].as_str().unwrap();
    assert!(
        policy.contains(&format!("{} confirmed on fresh rounds with Benjamini-Hochberg", confirmed.len())),
        "{policy}"
    );

    // Exactly as if one machine had measured them all: `compare` over the merged files, which hold every
    // benchmark as one job would have written it, judges every comparison alike, figure for figure.
    let (code, one) = compare_json(repo.path(), &v);
    assert_eq!(code, Some(1), "{one}");
    let rows =
        |v: &serde_json::Value| -> Vec<String> { v["comparisons"].as_array().unwrap().iter().map(judged).collect() };
    assert_eq!(rows(&one), rows(&verdicts));
    assert_eq!(one["policy"], verdicts["policy"]);
    let merged: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(v.join("head.json")).unwrap()).unwrap();
    let ids: BTreeSet<&str> =
        merged["benchmarks"].as_array().unwrap().iter().map(|b| b["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 10);
}
