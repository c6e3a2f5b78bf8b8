//! Nothing of a run is left running: the fixture's `children/spawns` starts a child process of its own
//! in every process that runs it and writes both pids down; after a timeout (wall and instr lanes), a
//! failure, a success and an interrupt none of them runs, and after a SIGKILL of benchgate the bench
//! process is gone and the next run removes the killed run's scratch directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use cargo_benchgate::model::{FailureKind, Lane, Results};

use crate::{benchgate, built, stderr};

/// `benchgate` with `children/spawns` told to write its pids into `pids` and to end as `mode`.
fn spawning(pids: &Path, mode: &str) -> Command {
    let mut cmd = benchgate();
    cmd.env("FIXTURE_CHILDREN_DIR", pids).env("FIXTURE_CHILDREN", mode);
    cmd
}

/// The pids written into `pids`: `(what, pid)` with `what` `bench` or `child`.
fn written(pids: &Path) -> Vec<(String, u32)> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(pids).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let (what, pid) = name.split_once('-').unwrap_or_else(|| panic!("{name}"));
        all.push((what.to_owned(), pid.parse().unwrap_or_else(|e| panic!("{name}: {e}"))));
    }
    all.sort();
    all
}

/// Whether `pid` no longer runs: no such process, or a zombie (killed processes re-parented to init,
/// which may be slow to reap them).
fn gone(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return true };
    let state = stat.rsplit_once(") ").and_then(|(_, rest)| rest.chars().next());
    matches!(state, Some('Z' | 'X'))
}

/// Every process in `pids` is gone within 30 s (the kernel takes a moment to tear a process down),
/// and there were `bench` processes and as many `child` processes: the benchmark did run.
fn none_survive(pids: &Path, context: &Output) {
    let all = written(pids);
    let count = |what: &str| all.iter().filter(|(w, _)| w == what).count();
    assert!(count("bench") > 0 && count("bench") == count("child"), "{all:?}\n{}", stderr(context));
    let deadline = Instant::now() + Duration::from_secs(30);
    for (what, pid) in &all {
        while !gone(*pid) {
            assert!(Instant::now() < deadline, "{what} process {pid} survived the run\n{}", stderr(context));
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn config(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("benchgate.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn valgrind_installed() -> bool {
    Command::new("valgrind").arg("--version").output().is_ok_and(|o| o.status.success())
}

/// A run of `children/spawns` in `lanes` with `mode` and the configuration `toml`: its output and
/// results.
fn run(dir: &Path, mode: &str, lanes: &str, toml: &str) -> (Output, Results) {
    built();
    let pids = dir.join("pids");
    std::fs::create_dir_all(&pids).unwrap();
    let out_path = dir.join("results.json");
    let out = spawning(&pids, mode)
        .arg("--config")
        .arg(config(dir, toml))
        .args(["run", "--quick", "--lanes", lanes, "--filter", "children/spawns", "--out"])
        .arg(&out_path)
        .output()
        .unwrap();
    none_survive(&pids, &out);
    let results = Results::load(&out_path).unwrap_or_else(|e| panic!("{e}\n{}", stderr(&out)));
    (out, results)
}

#[test]
fn a_timed_out_benchmark_leaves_no_process() {
    let dir = tempfile::tempdir().unwrap();
    let (out, r) = run(dir.path(), "hang", "wall", "[run]\ntimeout_s = 2\n");
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("wall FAILED: killed after the 2s timeout"), "{}", stderr(&out));
    assert!(stderr(&out).contains("1 benchmark(s) failed: children/spawns"), "{}", stderr(&out));
    assert_eq!(r.benchmarks[0].failures[&Lane::Wall].kind, FailureKind::Timeout);
}

/// The instr lane's valgrind (the bench process runs inside it: its pid is valgrind's) and the
/// benchmark's child.
#[test]
fn a_timed_out_benchmark_under_callgrind_leaves_no_process() {
    if !valgrind_installed() {
        eprintln!("valgrind not installed; not checked");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // The instr lane clears the environment but for these.
    let toml = "[run]\ntimeout_s = 2\n[instr]\npass_env = [\"FIXTURE_CHILDREN_DIR\", \"FIXTURE_CHILDREN\", \"PATH\"]\n";
    let (out, r) = run(dir.path(), "hang", "instr", toml);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("instr FAILED: killed after the 2s timeout"), "{}", stderr(&out));
    assert_eq!(r.benchmarks[0].failures[&Lane::Instr].kind, FailureKind::Timeout);
}

#[test]
fn a_failed_benchmark_leaves_no_process() {
    let dir = tempfile::tempdir().unwrap();
    let (out, r) = run(dir.path(), "panic", "wall", "");
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("1 benchmark(s) failed: children/spawns"), "{}", stderr(&out));
    let failure = &r.benchmarks[0].failures[&Lane::Wall];
    assert_eq!(failure.kind, FailureKind::Panic);
    assert!(failure.message.contains("deliberate panic after starting a child"), "{}", failure.message);
}

/// A benchmark that succeeds, in every process of the wall and alloc lanes, leaving its child behind.
#[test]
fn a_finished_benchmark_leaves_no_process() {
    let dir = tempfile::tempdir().unwrap();
    let (out, r) = run(dir.path(), "return", "wall,alloc", "");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(r.benchmarks[0].metrics.ns_per_op.is_some() && r.benchmarks[0].metrics.allocs_per_op.is_some());
    // The wall lane's processes and the alloc lane's one.
    assert!(written(&dir.path().join("pids")).len() >= 2 * 2, "{:?}", written(&dir.path().join("pids")));
}

/// Starts a run of `children/spawns` that hangs, and waits until its bench process has started its
/// child: the run, the directory the pids go to, and the results file.
fn hanging_run(dir: &Path) -> (std::process::Child, PathBuf, PathBuf) {
    built();
    let pids = dir.join("pids");
    std::fs::create_dir_all(&pids).unwrap();
    let out_path = dir.join("results.json");
    let mut child = spawning(&pids, "hang")
        .args(["run", "--quick", "--lanes", "wall", "--filter", "children/spawns", "--out"])
        .arg(&out_path)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !written(&pids).iter().any(|(what, _)| what == "bench") {
        assert!(child.try_wait().unwrap().is_none(), "the run ended before the benchmark started");
        assert!(started.elapsed() < Duration::from_secs(120), "the benchmark never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    (child, pids, out_path)
}

#[test]
fn an_interrupted_run_leaves_no_process() {
    let dir = tempfile::tempdir().unwrap();
    let (child, pids, out_path) = hanging_run(dir.path());
    let kill = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let said = format!("interrupted; {} holds every benchmark that finished", out_path.display());
    assert!(stderr(&out).contains(&said), "{}", stderr(&out));
    none_survive(&pids, &out);
}

/// SIGKILL leaves benchgate no chance to clean up: the kernel kills the bench process
/// (`PR_SET_PDEATHSIG`), and the next run removes the scratch directory, named by the killed run's pid.
/// The bench process's own child is an orphan nobody kills (README, "Exit codes"); the test ends it.
#[test]
fn after_a_sigkill_the_bench_process_is_gone_and_the_next_run_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, pids, _) = hanging_run(dir.path());
    let killed = child.id();
    let state = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fixture-target/benchgate");
    let prefix = format!(".tmp-{killed}-");
    let scratch = || -> Vec<String> {
        let names = std::fs::read_dir(&state).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned());
        names.filter(|n| n.starts_with(&prefix)).collect()
    };
    assert_eq!(scratch().len(), 1, "the run's scratch directory");
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    for (what, pid) in written(&pids) {
        if what == "bench" {
            while !gone(pid) {
                assert!(Instant::now() < deadline, "bench process {pid} survived a SIGKILL of benchgate");
                std::thread::sleep(Duration::from_millis(20));
            }
        } else if std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c.starts_with(b"sleep\x00300")) {
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
        }
    }
    assert_eq!(scratch().len(), 1, "a SIGKILL leaves the scratch directory\n{}", stderr(&out));
    let again = dir.path().join("again.json");
    let next = benchgate()
        .args(["run", "--quick", "--lanes", "alloc", "--filter", "fixture/empty", "--out"])
        .arg(&again)
        .output()
        .unwrap();
    assert!(next.status.success(), "{}", stderr(&next));
    assert_eq!(scratch(), Vec::<String>::new(), "the next run removes the killed run's scratch directory");
}
