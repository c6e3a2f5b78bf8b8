//! `cargo xtask scale-compare [N] [--without-rounds]`: how `benchgate compare` scales. Writes two
//! results files of N synthetic benchmarks (default 100,000; a few hundred of them changed in head;
//! `--without-rounds` for files without process rounds) and runs `benchgate compare` on them in a child
//! process, the command a user runs, reporting its wall time and peak memory (the child's VmHWM).
//! Figures are printed, not asserted (these machines are shared). Run it optimized, as users run
//! benchgate: `cargo run --release -p xtask -- scale-compare`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use cargo_benchgate::model::{Results, WallEstimate};
use cargo_benchgate::stats::SplitMix64;

const TEMPLATE: &str = include_str!("../../docs/example-results.json");

/// One side's results, shaped as `benchgate run` writes them: benchmark `i` has a base time of 50 ns to
/// 50 µs, 21 samples with 1% noise from 3 processes (rounds) of 7; in head every 500th benchmark is 10%
/// slower and every 700th allocates once more.
fn side(n: usize, head: bool, rounds: bool) -> Results {
    let mut r = Results::parse(TEMPLATE).expect("the example results are valid");
    let mut template = r.benchmarks.remove(0);
    template.metrics.latency = None;
    template.metrics.overhead = None;
    template.metrics.reported.clear();
    template.suite = "scale".into();
    let mut rng = SplitMix64::new(if head { 2 } else { 1 });
    let mut unit = move || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    r.benchmarks = (0..n)
        .map(|i| {
            let mut b = template.clone();
            b.name = format!("b{i:06}");
            b.id = format!("scale/{}", b.name);
            let slower = head && i % 500 == 499;
            let base_ns = 50.0 * 1000f64.powf(i as f64 / n as f64);
            let ns = base_ns * if slower { 1.10 } else { 1.0 };
            let samples: Vec<f64> = (0..21).map(|_| ns * (1.0 + 0.01 * (unit() - 0.5))).collect();
            let mut sorted = samples.clone();
            sorted.sort_by(f64::total_cmp);
            let mean = samples.iter().sum::<f64>() / 21.0;
            b.metrics.ns_per_op = Some(WallEstimate {
                median: sorted[10],
                mean,
                slope: mean,
                std_dev: 0.003 * ns,
                ci95: [sorted[5], sorted[14]],
                sample_iters: (0..21).map(|k| (k % 7 + 1) * 1000).collect(),
                samples,
                warmup_iters: 1000,
                rounds: if rounds { (0..21).map(|k| k / 7).collect() } else { Vec::new() },
                confirm_from: None,
            });
            let allocs = 3.0 + if head && i % 700 == 699 { 1.0 } else { 0.0 };
            b.metrics.allocs_per_op = Some(allocs);
            b.metrics.bytes_per_op = Some(100.0 * allocs);
            b
        })
        .collect();
    r.benchmarks.sort_by(|a, b| a.id.cmp(&b.id));
    r
}

/// `args`: `[N] [--without-rounds]`; without rounds, the files are judged as files from elsewhere are
/// (Mann-Whitney on the samples, a bootstrap interval of the ratio of medians).
pub fn run(args: &[String]) -> i32 {
    let rounds = !args.iter().any(|a| a == "--without-rounds");
    let n = args.iter().find(|a| !a.starts_with("--")).map(String::as_str);
    let n: usize = match n.map(str::parse).transpose() {
        Ok(n) => n.unwrap_or(100_000),
        Err(e) => {
            eprintln!("xtask: the number of benchmarks: {e}");
            return 2;
        }
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/benchgate/scale");
    let files: Vec<PathBuf> = ["base", "head"].iter().map(|s| dir.join(format!("{s}-{n}.json"))).collect();
    for (path, head) in files.iter().zip([false, true]) {
        let text = side(n, head, rounds).to_json();
        if let Err(e) = cargo_benchgate::fsutil::write_atomic(path, text.as_bytes()) {
            eprintln!("xtask: {}: {e}", path.display());
            return 2;
        }
        eprintln!("wrote {} ({:.1} MB)", path.display(), text.len() as f64 / 1e6);
    }
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("xtask: {e}");
            return 2;
        }
    };
    let md = dir.join(format!("verdicts-{n}.md"));
    let start = Instant::now();
    let out = Command::new(exe)
        .arg("scale-compare-child")
        .args(&files)
        .args(["--no-noise", "--format", "markdown", "--out"])
        .arg(&md)
        .stdout(std::process::Stdio::null())
        .output();
    let seconds = start.elapsed().as_secs_f64();
    match out {
        Ok(o) => {
            let stderr = String::from_utf8_lossy(&o.stderr);
            let peak = stderr.lines().find_map(|l| l.strip_prefix("peak: ")).unwrap_or("unknown").to_owned();
            eprint!(
                "{}",
                stderr.lines().filter(|l| !l.starts_with("peak: ")).map(|l| format!("{l}\n")).collect::<String>()
            );
            println!("benchgate compare of {n} benchmarks: {seconds:.1} s, peak memory {peak} (exit {})", o.status);
            0
        }
        Err(e) => {
            eprintln!("xtask: cannot run the compare: {e}");
            2
        }
    }
}

/// The child: `benchgate compare BASE HEAD ARGS...`, then its peak resident memory on stderr.
pub fn child(args: impl Iterator<Item = std::ffi::OsString>) -> i32 {
    let argv = ["benchgate", "compare"].map(std::ffi::OsString::from).into_iter().chain(args);
    let code = cargo_benchgate::cli::main(argv);
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak = status.lines().find_map(|l| l.strip_prefix("VmHWM:")).map_or("unknown".into(), |v| v.trim().to_owned());
    eprintln!("peak: {peak}");
    code
}
