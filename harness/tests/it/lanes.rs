//! The lanes on routines with known costs: exact allocation counts, exact iteration counts in exec
//! mode, and memcheck as an independent reference.

use std::process::Command;

use cargo_benchgate::model::Results;

use crate::{benchgate, built, stderr};

fn run(args: &[&str]) -> (Results, std::process::Output) {
    built();
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("results.json");
    let out = benchgate().args(["run", "--quick"]).args(args).arg("--out").arg(&out_path).output().unwrap();
    let results = Results::load(&out_path).unwrap_or_else(|e| panic!("{e}\n{}", stderr(&out)));
    (results, out)
}

#[test]
fn alloc_lane_counts_exactly() {
    let (r, out) = run(&["--lanes", "alloc", "--suite", "fixture"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let get = |id: &str| {
        let b = r.benchmarks.iter().find(|b| b.id == id).unwrap_or_else(|| panic!("{id} missing"));
        (b.metrics.allocs_per_op.unwrap(), b.metrics.bytes_per_op.unwrap())
    };
    assert_eq!(get("fixture/alloc3x100"), (3.0, 300.0));
    assert_eq!(get("fixture/realloc"), (2.0, 110.0));
    assert_eq!(get("fixture/batched"), (1.0, 64.0));
    assert_eq!(get("fixture/no-alloc"), (0.0, 0.0));
    assert_eq!(get("fixture/empty"), (0.0, 0.0));
    let a3 = r.benchmarks.iter().find(|b| b.id == "fixture/alloc3x100").unwrap().metrics.alloc.unwrap();
    assert_eq!(a3.allocs, 3 * a3.iters);
    assert_eq!(a3.frees, 3 * a3.iters);
    assert_eq!(a3.peak_live_bytes, 300);
}

#[test]
fn wall_lane_keeps_every_sample_and_derives_throughput() {
    let (r, out) = run(&["--lanes", "wall", "--filter", "fixture/sum"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let b = &r.benchmarks[0];
    let w = b.metrics.ns_per_op.as_ref().unwrap();
    // Quick mode: 20 samples spread over 3 processes, 7 each, every sample tagged with its process.
    assert_eq!(w.samples.len(), 21);
    assert_eq!(w.sample_iters.len(), 21);
    let expected: Vec<u32> = (0..3).flat_map(|p| [p; 7]).collect();
    assert_eq!(w.rounds, expected);
    assert!(w.ci95[0] <= w.median && w.median <= w.ci95[1]);
    assert!(b.metrics.throughput.is_some());
    assert!(!r.meta.partial && r.meta.finished_at.is_some());
    // `iter` times each sample as one interval; the clock's cost was calibrated in every process.
    let o = b.metrics.overhead.expect("overhead");
    assert!(close(o.intervals_per_op, 21.0 / w.sample_iters.iter().sum::<u64>() as f64), "{o:?}");
    assert!(o.timer_ns > 0.0 && close(o.timer_share, o.intervals_per_op * o.timer_ns / w.median), "{o:?}");
    // Without the alloc lane there is no allocation count to weigh the counter's cost by.
    assert!(o.alloc_pair_ns.is_some() && o.alloc_share.is_none(), "{o:?}");
}

/// Equal up to the last bits: the figures went through JSON, which serde_json parses to within an ulp.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
}

#[test]
fn measuring_costs_are_stated_and_a_benchmark_timed_per_iteration_is_named() {
    let (r, out) = run(&["--lanes", "wall,alloc", "--filter", "alloc3x100"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let m = &r.benchmarks[0].metrics;
    let o = m.overhead.expect("overhead");
    let pair = o.alloc_pair_ns.expect("CountingAlloc is the global allocator");
    assert!(close(o.alloc_share.unwrap(), 3.0 * pair / m.ns_per_op.as_ref().unwrap().median), "{o:?}");
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("measurement overhead: the clock ("), "{table}");
    // The summary comes first, with the overhead's line and the results file.
    assert!(
        table.starts_with("Summary\n=======\nmeasured: 1 benchmark in 1 suite (fixture); lanes wall, alloc"),
        "{table}"
    );
    assert!(table.contains("\nmeasurement overhead: at most ") && table.contains("\nresults: "), "{table}");

    let (r, out) = run(&["--lanes", "wall,alloc", "--filter", "per-iteration"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let o = r.benchmarks[0].metrics.overhead.expect("overhead");
    // One interval per op, exactly; a clock read pair against a multiply is far over 5%.
    assert_eq!(o.intervals_per_op, 1.0);
    assert!(o.timer_share > 0.05, "{o:?}");
    assert_eq!(o.alloc_share, Some(0.0));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("1 of 1 are over the 5.0% target: special/per-iteration (clock "), "{table}");
}

#[test]
fn latencies_and_reported_figures_reach_the_results() {
    let (r, out) = run(&["--lanes", "wall,alloc", "--filter", "special/latency"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let m = &r.benchmarks[0].metrics;
    let l = m.latency.expect("latency summary");
    // Every op records one of 1..=100 ns in turn, so the nearest-rank percentiles are those values
    // (up to one step where the reservoir sampled, beyond 100,000 events per process).
    assert!(l.count > 0 && l.kept > 0 && l.kept <= l.count);
    assert!((49.0..=51.0).contains(&l.p50), "{l:?}");
    assert!((94.0..=96.0).contains(&l.p95) && (98.0..=100.0).contains(&l.p99), "{l:?}");
    assert_eq!(l.max, 100.0);
    assert!((l.mean - 50.5).abs() < 0.5, "{l:?}");
    // Recording allocates nothing outside the wall lane.
    assert_eq!(m.allocs_per_op, Some(0.0));
    let reported: Vec<(&str, f64)> = m.reported.iter().map(|(k, v)| (k.as_str(), v.value)).collect();
    assert_eq!(reported, [("answer", 42.0), ("size", 2048.0)]);
    assert_eq!(m.reported["size"].unit, cargo_benchgate::model::Unit::Bytes);
}

#[test]
fn exec_runs_exactly_n_iterations() {
    built();
    let dir = tempfile::tempdir().unwrap();
    let count_file = dir.path().join("count");
    let out = benchgate()
        .args(["exec", "special/count", "--iters", "7"])
        .env("FIXTURE_COUNT_FILE", &count_file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&count_file).unwrap(), "7");
}

#[test]
fn panics_and_timeouts_are_recorded_and_the_run_goes_on() {
    built();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("benchgate.toml");
    std::fs::write(&config, "[run]\ntimeout_s = 2\n").unwrap();
    let out_path = dir.path().join("results.json");
    let out = benchgate()
        .args(["--config"])
        .arg(&config)
        .args(["run", "--quick", "--lanes", "wall", "--suite", "special", "--out"])
        .arg(&out_path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let r = Results::load(&out_path).unwrap();
    let find = |id: &str| r.benchmarks.iter().find(|b| b.id == id).unwrap();
    use cargo_benchgate::model::{FailureKind, Lane};
    assert_eq!(find("special/panics").failures[&Lane::Wall].kind, FailureKind::Panic);
    assert!(find("special/panics").failures[&Lane::Wall].message.contains("deliberate panic"));
    assert_eq!(find("special/hangs").failures[&Lane::Wall].kind, FailureKind::Timeout);
    assert!(find("special/count").metrics.ns_per_op.is_some());
    assert!(stderr(&out).contains("2 benchmark(s) failed"));
}

/// valgrind memcheck's "total heap usage" is the reference for the alloc lane: the difference between
/// runs of N and M iterations, per iteration, equals what benchgate counts. N and M have the same
/// number of digits: the process's own argument strings are heap allocations too.
#[test]
fn memcheck_agrees_with_the_alloc_lane() {
    if Command::new("valgrind").arg("--version").output().is_err() {
        eprintln!("valgrind not installed; memcheck cross-check skipped");
        return;
    }
    built();
    let (r, _) = run(&["--lanes", "alloc", "--suite", "fixture"]);
    for id in ["fixture/alloc3x100", "fixture/realloc", "fixture/no-alloc"] {
        let print = benchgate().args(["exec", id, "--iters", "1", "--print"]).output().unwrap();
        let line = String::from_utf8(print.stdout).unwrap();
        let exe = line.split_whitespace().next().unwrap().to_owned();
        let heap = |iters: u64| -> (u64, u64) {
            let out = Command::new("valgrind")
                .args(["--tool=memcheck", &exe, "--benchgate-exec", id, "--iters", &iters.to_string()])
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stderr);
            let line = text.lines().find(|l| l.contains("total heap usage")).expect("memcheck summary");
            // "total heap usage: 12 allocs, 12 frees, 1,234 bytes allocated"
            let nums: Vec<u64> = line
                .split(|c: char| !c.is_ascii_digit() && c != ',')
                .filter_map(|t| t.replace(',', "").parse().ok())
                .collect();
            (nums[nums.len() - 3], nums[nums.len() - 1])
        };
        let (a10, b10) = heap(10);
        let (a20, b20) = heap(20);
        let b = r.benchmarks.iter().find(|b| b.id == id).unwrap();
        assert_eq!((a20 - a10) as f64 / 10.0, b.metrics.allocs_per_op.unwrap(), "{id} allocs");
        assert_eq!((b20 - b10) as f64 / 10.0, b.metrics.bytes_per_op.unwrap(), "{id} bytes");
    }
}

fn valgrind_installed() -> bool {
    Command::new("valgrind").arg("--version").output().is_ok_and(|o| o.status.success())
}

/// Two runs of the same build give identical instruction counts, and a batched benchmark's
/// per-iteration setup is subtracted.
#[test]
fn instr_lane_is_deterministic() {
    if !valgrind_installed() {
        eprintln!("valgrind not installed; instr determinism not checked");
        return;
    }
    let (first, out) = run(&["--lanes", "instr", "--suite", "fixture"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (second, _) = run(&["--lanes", "instr", "--suite", "fixture"]);
    for (a, b) in first.benchmarks.iter().zip(&second.benchmarks) {
        assert_eq!(a.metrics.instr, b.metrics.instr, "{}", a.id);
        assert!(a.metrics.instructions_per_op.unwrap() > 0.0, "{}", a.id);
    }
    let batched = first.benchmarks.iter().find(|b| b.id == "fixture/batched").unwrap();
    let counts = batched.metrics.instr.unwrap();
    assert!(counts.setup_instructions.is_some(), "batched benchmarks get setup-only runs");
    // Setup zeroes 1 KiB per iteration, far more than the routine's one small allocation.
    let with_setup =
        (counts.instructions[1] - counts.instructions[0]) as f64 / (counts.iters[1] - counts.iters[0]) as f64;
    assert!(batched.metrics.instructions_per_op.unwrap() < with_setup);
}

/// Without valgrind the instr lane is skipped with one line; the other lanes still run.
#[test]
fn instr_lane_without_valgrind_is_skipped_not_failed() {
    built();
    let bin = tempfile::tempdir().unwrap();
    for tool in ["cargo", "rustc"] {
        let out = Command::new("which").arg(tool).output().unwrap();
        let path = String::from_utf8(out.stdout).unwrap();
        std::os::unix::fs::symlink(path.trim(), bin.path().join(tool)).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("r.json");
    let out = benchgate()
        .env("PATH", bin.path())
        .args(["run", "--quick", "--lanes", "alloc,instr", "--filter", "fixture/empty", "--out"])
        .arg(&out_path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<_> = stderr(&out).lines().filter(|l| l.contains("instr lane skipped")).map(str::to_owned).collect();
    assert_eq!(lines.len(), 1, "{}", stderr(&out));
    assert!(lines[0].contains("valgrind"));
    let r = Results::load(&out_path).unwrap();
    assert!(r.benchmarks[0].skipped.contains_key(&cargo_benchgate::model::Lane::Instr));
    assert_eq!(r.benchmarks[0].metrics.allocs_per_op, Some(0.0));
}

/// SIGINT stops the run promptly (killing the benchmark in progress, here one that never ends) and
/// leaves a valid, partial results file with what finished; the exit code is 130.
#[test]
fn interrupt_keeps_finished_benchmarks() {
    built();
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("results.json");
    // special/count finishes, then special/hangs runs until it is interrupted.
    let mut child = benchgate()
        .args(["run", "--quick", "--lanes", "wall", "--suite", "special", "--out"])
        .arg(&out_path)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    loop {
        let done = Results::load(&out_path).is_ok_and(|r| r.benchmarks.iter().any(|b| b.id == "special/count"));
        if done {
            break;
        }
        assert!(started.elapsed().as_secs() < 120, "special/count never finished");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let kill = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let interrupted_at = std::time::Instant::now();
    let status = child.wait().unwrap();
    assert!(interrupted_at.elapsed().as_secs() < 10, "the run did not stop promptly");
    assert_eq!(status.code(), Some(130));
    let r = Results::load(&out_path).unwrap();
    assert!(r.meta.partial);
    assert_eq!(r.benchmarks.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(), ["special/count"]);
}

/// The same binary counted from two directories whose paths differ in length, as base and head of a
/// comparison are, gives the same instructions per op; so does a second count (ASLR off, environment
/// cleared).
#[test]
fn instruction_counts_do_not_depend_on_where_the_binary_lies() {
    use cargo_benchgate::measure::instr::{Request, Valgrind, count};
    if !valgrind_installed() {
        eprintln!("valgrind not installed; not checked");
        return;
    }
    built();
    // The fixture's bench binary, as `exec --print` shows it.
    let out = benchgate().args(["exec", "special/path-length", "--iters", "1", "--print"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = String::from_utf8_lossy(&out.stdout);
    let exe = printed.split_whitespace().next().expect("a command line");
    let valgrind = Valgrind::find(&[]).unwrap_or_else(|why| panic!("{why}"));
    // argv[0] lands on the heap, where it moved malloc's counts (brotli-5 decompress: +0.65%, measured
    // by hand); `special/path-length` reads it every op, so its count would differ without the link.
    let dir = tempfile::tempdir().unwrap();
    let per_op: Vec<f64> = ["a", "a-much-longer-directory-name-like-a-worktree-under-target-benchgate", "a"]
        .iter()
        .map(|name| {
            let copy = dir.path().join(name).join("fixture");
            std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
            std::fs::copy(exe, &copy).unwrap();
            let req =
                Request { exe: &copy, id: "special/path-length", batched: false, extra_iters: 10, cache_sim: false };
            let c = count(&valgrind, &req, dir.path(), std::time::Duration::from_secs(120)).unwrap();
            c.instructions_per_op()
        })
        .collect();
    assert_eq!(per_op[0], per_op[1], "{per_op:?}");
    assert_eq!(per_op[0], per_op[2], "{per_op:?}");
}
