//! The instr lane: instructions per op under callgrind, driven by gungraun 0.20.0 (the successor of
//! iai-callgrind) and its runner, pinned to the same version.
//!
//! A bench binary's exec mode (`--benchgate-exec ID --iters N`) runs setup once and the routine exactly
//! N times. [`measure`] runs it twice under callgrind through `gungraun-runner`, with N1 and N2 = N1 + K
//! iterations; instructions per op are `(Ir(N2) - Ir(N1)) / K`, so process start-up, setup and one-time
//! lazy initialisation cancel. N is passed zero-padded to 20 digits: the argument strings are part of
//! the process, and `--iters 1` versus `--iters 11` otherwise differ by a few instructions (measured).
//! gungraun disables ASLR and clears the environment of the measured process, which is what makes two
//! runs of the same binary give identical counts (the environment changes the count; ASLR did not).
//!
//! gungraun's runner has no public API for benchmarks known only at run time, so this module builds
//! them with gungraun's low-level binary-benchmark types and hands them to `gungraun::__internal::Runner`
//! exactly as `gungraun::main!` does; the exact version pin keeps that contract stable.
//! `Runner::exec` calls `process::exit` when the runner fails, so [`measure`] runs only in a dedicated
//! child (the bench binary invoked with `--benchgate-instr`), never in the driver.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use gungraun::__internal::bin_bench::GroupsBuilder;
use gungraun::__internal::{BenchmarkKind, Runner};
use gungraun::{Bench, BinaryBenchmark, BinaryBenchmarkConfig, BinaryBenchmarkGroup, Callgrind};

/// The gungraun library version compiled in; the runner must match it exactly.
pub const GUNGRAUN_VERSION: &str = "0.20.0";
/// Name of the runner executable that `gungraun::__internal::Runner` looks up on `PATH`.
pub const RUNNER_EXE: &str = "gungraun-runner";
/// Schema version of gungraun's `summary.json` that [`measure`] understands.
const SUMMARY_SCHEMA_VERSION: &str = "7";
/// gungraun ids of the two runs (fixed, since benchgate ids may contain `/`, `-`, ...).
const SHORT_ID: &str = "short";
const LONG_ID: &str = "long";
/// The same runs with `--setup-only`, for batched benchmarks.
const SHORT_SETUP_ID: &str = "short_setup";
const LONG_SETUP_ID: &str = "long_setup";
/// Names gungraun uses to build its output directory layout `<home>/<module>/<group>/<fn>.<id>/`.
const MODULE: &str = "benchgate";
const GROUP: &str = "instr";
const FUNCTION: &str = "exec";

/// Errors of the instruction-count lane, each naming what failed.
#[derive(Debug, thiserror::Error)]
pub enum InstrError {
    /// `iters` must satisfy `1 <= a < b`.
    #[error("invalid iteration counts ({a}, {b}): need 1 <= a < b")]
    InvalidIters {
        /// Iterations of the short run.
        a: u64,
        /// Iterations of the long run.
        b: u64,
    },
    /// A path is not valid UTF-8 (gungraun's runner API takes `&str`).
    #[error("path is not valid UTF-8: {0}")]
    NonUtf8Path(PathBuf),
    /// Creating or clearing gungraun's output directory failed.
    #[error("cannot prepare gungraun output directory {path}: {source}")]
    Home {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The fixed-length link to the bench binary could not be made.
    #[error("cannot link the bench binary into {path}: {source}")]
    Link {
        /// The temporary directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// gungraun rejected the benchmark definition (`GroupsBuilder::build`).
    #[error("gungraun rejected the benchmark definition: {0}")]
    Definition(String),
    /// bincode encoding of the benchmark groups failed.
    #[error("cannot encode benchmark groups for gungraun-runner: {0}")]
    Encode(String),
    /// `gungraun-runner` could not be started (not on `PATH`?).
    #[error("cannot start gungraun-runner (is it first on PATH?): {0}")]
    RunnerStart(String),
    /// The runner finished but the summary of one run was not found.
    #[error("gungraun summary.json for the {run} run ({iters} iterations) not found under {dir}")]
    SummaryMissing {
        /// `short` or `long`.
        run: &'static str,
        /// Iterations of that run.
        iters: u64,
        /// Where it was searched.
        dir: PathBuf,
    },
    /// Reading a summary file failed.
    #[error("cannot read gungraun summary {path}: {source}")]
    SummaryRead {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A summary file did not have the expected structure.
    #[error("unexpected content in gungraun summary {path}: {reason}")]
    SummaryParse {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// More iterations produced fewer instructions: the exec mode does not do what it claims.
    #[error("Ir did not grow with iterations: Ir({a_iters} iters) = {a_ir}, Ir({b_iters} iters) = {b_ir}")]
    NotIncreasing {
        /// Short run iterations.
        a_iters: u64,
        /// Short run Ir.
        a_ir: u64,
        /// Long run iterations.
        b_iters: u64,
        /// Long run Ir.
        b_ir: u64,
    },
    /// Running an external program (cargo, gungraun-runner --version) failed to start.
    #[error("cannot run `{program}`: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// `cargo install gungraun-runner` failed.
    #[error("`cargo install gungraun-runner --version ={GUNGRAUN_VERSION}` failed: {status}")]
    InstallFailed {
        /// Exit status of cargo.
        status: std::process::ExitStatus,
    },
    /// An installed runner reports the wrong version.
    #[error("{path} reports version {found:?}, expected {GUNGRAUN_VERSION}")]
    RunnerVersion {
        /// The runner executable.
        path: PathBuf,
        /// What `--version` printed.
        found: String,
    },
}

/// Counts of one Callgrind run of the exec mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunCounts {
    /// Iterations of the routine in this run.
    pub iters: u64,
    /// Total instructions executed by the whole process (`Ir`).
    pub ir: u64,
    /// Callgrind's `EstimatedCycles` (only with cache simulation, see [`MeasureOptions`]).
    pub estimated_cycles: Option<u64>,
    /// Directory holding this run's `callgrind.*.out`, `callgrind.*.log` and `summary.json`.
    pub output_dir: PathBuf,
}

/// Both runs of [`measure_with`], plus the derived per-op values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runs {
    /// The run with `iters.0` iterations.
    pub short: RunCounts,
    /// The run with `iters.1` iterations.
    pub long: RunCounts,
    /// For batched benchmarks, the same two runs with only the per-iteration setup.
    pub setup: Option<(RunCounts, RunCounts)>,
}

impl Runs {
    /// `K = N2 - N1`.
    pub fn delta_iters(&self) -> u64 {
        self.long.iters - self.short.iters
    }

    /// `(Ir(N2) - Ir(N1)) / K`.
    pub fn ir_per_op(&self) -> f64 {
        (self.long.ir - self.short.ir) as f64 / self.delta_iters() as f64
    }

    /// `(Cycles(N2) - Cycles(N1)) / K`, if both runs reported estimated cycles.
    pub fn estimated_cycles_per_op(&self) -> Option<f64> {
        let (a, b) = (self.short.estimated_cycles?, self.long.estimated_cycles?);
        Some((b as f64 - a as f64) / self.delta_iters() as f64)
    }
}

/// Knobs of [`measure_with`]. [`Default`] is what [`measure`] uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasureOptions {
    /// Callgrind `--cache-sim` (gungraun 0.20's default is `yes`). Needed for
    /// `EstimatedCycles`; costs extra run time.
    pub cache_sim: bool,
    /// Run the two Callgrind runs in parallel (`--parallel=2`). Counts are unaffected; saves the
    /// short run's ~0.4 s only when a second core is actually idle. Default: serial.
    pub parallel: bool,
    /// Extra raw Callgrind/Valgrind arguments (e.g. `--dump-instr=yes`).
    pub extra_callgrind_args: Vec<String>,
    /// Also run both iteration counts with `--setup-only` (batched benchmarks).
    pub setup_only_runs: bool,
    /// Environment variables passed through to the measured process; the rest is cleared.
    pub pass_env: Vec<String>,
    /// Absolute path of `gungraun-runner` (from [`ensure_runner`]). `None`: look it up as
    /// `gungraun-runner` on `PATH`, like `gungraun::main!` does.
    pub runner: Option<PathBuf>,
}

impl Default for MeasureOptions {
    fn default() -> Self {
        Self {
            cache_sim: true,
            parallel: false,
            extra_callgrind_args: Vec::new(),
            setup_only_runs: false,
            pass_env: Vec::new(),
            runner: None,
        }
    }
}

/// Environment variable through which the driver tells the `--benchgate-instr` child which runner to
/// use (the one [`ensure_runner`] found or installed).
pub const RUNNER_ENV: &str = "BENCHGATE_GUNGRAUN_RUNNER";

/// Measures `id` of `bench_exe` with `iters = [N1, N2]` and default options, as the results format
/// records it. Runs in the `--benchgate-instr` child (see the module docs).
/// `batched`: the benchmark has per-iteration setup, measured in two more runs and subtracted.
/// `cache_sim`: callgrind's cache simulation, for estimated cycles.
pub fn measure(
    bench_exe: &Path,
    id: &str,
    iters: [u64; 2],
    batched: bool,
    cache_sim: bool,
    pass_env: &[String],
    home: &Path,
) -> Result<crate::model::InstrCounts, InstrError> {
    let options = MeasureOptions {
        runner: std::env::var_os(RUNNER_ENV).map(PathBuf::from),
        setup_only_runs: batched,
        cache_sim,
        pass_env: pass_env.to_vec(),
        ..MeasureOptions::default()
    };
    let runs = measure_with(bench_exe, id, (iters[0], iters[1]), home, &options)?;
    let cycles = |a: &RunCounts, b: &RunCounts| a.estimated_cycles.zip(b.estimated_cycles).map(|(a, b)| [a, b]);
    Ok(crate::model::InstrCounts {
        iters,
        instructions: [runs.short.ir, runs.long.ir],
        estimated_cycles: cycles(&runs.short, &runs.long),
        setup_instructions: runs.setup.as_ref().map(|(a, b)| [a.ir, b.ir]),
        setup_estimated_cycles: runs.setup.as_ref().and_then(|(a, b)| cycles(a, b)),
    })
}

/// Where an automatically installed runner goes: `$BENCHGATE_TOOLS_DIR`, else `~/.cache/benchgate/tools`
/// (shared by every workspace and target directory, so the few-minute install happens once per machine),
/// else `fallback`.
pub fn tools_dir(fallback: &Path) -> PathBuf {
    if let Some(dir) = std::env::var_os("BENCHGATE_TOOLS_DIR") {
        return PathBuf::from(dir);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")));
    cache.map_or_else(|| fallback.to_owned(), |c| c.join("benchgate").join("tools"))
}

/// What the driver must set and remove in the environment of `--benchgate-instr` children.
#[derive(Debug, Clone, Default)]
pub struct ChildEnv {
    pub set: Vec<(String, String)>,
    pub remove: Vec<String>,
}

/// Checks valgrind and the pinned runner (installing it if missing) and returns the children's
/// environment, or the one-line reason the lane cannot run here.
pub fn prepare(tools_dir: &Path) -> Result<ChildEnv, String> {
    if !valgrind_available() {
        return Err("valgrind is not installed (apt-get install valgrind); instructions/op not measured".into());
    }
    let runner =
        ensure_runner(tools_dir).map_err(|e| format!("gungraun-runner {GUNGRAUN_VERSION} unavailable: {e}"))?;
    let mut cmd = Command::new("true");
    prepare_child_command(&mut cmd, &runner);
    let mut env = ChildEnv::default();
    for (k, v) in cmd.get_envs() {
        let k = k.to_string_lossy().into_owned();
        match v {
            Some(v) => env.set.push((k, v.to_string_lossy().into_owned())),
            None => env.remove.push(k),
        }
    }
    env.set.push((RUNNER_ENV.to_owned(), runner.display().to_string()));
    Ok(env)
}

/// Run `bench_exe --benchgate-exec <id> --iters N` under Callgrind via `gungraun-runner` for
/// `N = iters.0` and `N = iters.1` and return the counts of both runs.
///
/// Output goes to `home/<dir derived from id>/`, which is wiped first (so gungraun never compares
/// against a previous run and no `*.old` files pile up) and left in place afterwards (the
/// `callgrind.*.out` files can be opened with `callgrind_annotate` / kcachegrind).
///
/// **Must run in a dedicated child process**: if `gungraun-runner` fails (bad arguments, valgrind
/// error, benchmark exits non-zero, version mismatch), gungraun calls `std::process::exit` with
/// the runner's exit code (1 = error, 2 = argument error, 3 = regression; 3 cannot happen here
/// since no limits are configured, provided `GUNGRAUN_*_LIMITS` variables are stripped, see
/// [`prepare_child_command`]) instead of returning. The runner writes a metrics table per run to
/// stdout and errors (plus the benchmark's captured output, on failure) to stderr.
pub fn measure_with(
    bench_exe: &Path,
    id: &str,
    iters: (u64, u64),
    home: &Path,
    options: &MeasureOptions,
) -> Result<Runs, InstrError> {
    let (a, b) = iters;
    if a == 0 || a >= b {
        return Err(InstrError::InvalidIters { a, b });
    }
    let bench_exe_str = bench_exe.to_str().ok_or_else(|| InstrError::NonUtf8Path(bench_exe.to_owned()))?;
    // The measured process starts through a link of fixed length: its path is argv[0], which std
    // copies to the heap, and the heap's layout moves malloc's instruction counts. Measured: one
    // binary run from paths 6 and 67 characters long gave brotli-5 decompress (10 KB) 240,238 and
    // 241,806 instructions per op (+0.65%), so base and head of a comparison, built in different
    // directories, differed with no change to the code.
    let link = fixed_length_link(bench_exe)?;
    let measured: &Path = link.as_ref().map_or(bench_exe, |(_, path)| path.as_path());
    let out_home = std::path::absolute(home.join(output_dir_name(id)))
        .map_err(|source| InstrError::Home { path: home.to_owned(), source })?;
    let out_home_str = out_home.to_str().ok_or_else(|| InstrError::NonUtf8Path(out_home.clone()))?;
    reset_dir(&out_home)?;

    // --- Benchmark definition (what `binary_benchmark_group!` + `main!` would build) ----------
    // The iteration count is zero-padded to a fixed width so both runs get equally long argv.
    // Measured: with `--iters 1` vs `--iters 11` the fixed part of the two runs differs by a few
    // instructions (K=10 gave 530.8 Ir/op instead of the exact 531; K=100 gave 17526.28 instead
    // of 17526); padded, every K gives the exact integer.
    let command = |n: u64, setup_only: bool| {
        let mut cmd = gungraun::Command::new(measured);
        cmd.args([crate::protocol::flag::EXEC, id, crate::protocol::flag::ITERS, &format!("{n:020}")]);
        if setup_only {
            cmd.arg(crate::protocol::flag::SETUP_ONLY);
        }
        cmd.build()
    };
    let mut group = BinaryBenchmarkGroup::default();
    let mut bench = BinaryBenchmark::new(FUNCTION);
    bench.bench(Bench::new(SHORT_ID).command(command(a, false)));
    bench.bench(Bench::new(LONG_ID).command(command(b, false)));
    if options.setup_only_runs {
        bench.bench(Bench::new(SHORT_SETUP_ID).command(command(a, true)));
        bench.bench(Bench::new(LONG_SETUP_ID).command(command(b, true)));
    }
    group.binary_benchmark(bench);

    let mut callgrind_args = vec![format!("--cache-sim={}", if options.cache_sim { "yes" } else { "no" })];
    callgrind_args.extend(options.extra_callgrind_args.iter().cloned());
    let mut config = BinaryBenchmarkConfig::default();
    config.env_clear(true).pass_through_envs(options.pass_env.iter()).tool(Callgrind::with_args(callgrind_args));

    // Runner "command line" (what `cargo bench -- ARGS` would pass). Explicit values win over
    // any GUNGRAUN_* environment variables the runner inherits.
    let runner_args: Vec<String> = vec![
        // Without `--bench` the runner runs in *test mode* (no valgrind at all).
        "--bench".into(),
        format!("--home={out_home_str}"),
        // With both --home and --workspace-root the runner does not call `cargo metadata`.
        format!("--workspace-root={out_home_str}"),
        "--save-summary=json".into(),
        "--nosummary=true".into(),
        "--output-format=default".into(),
        "--allow-aslr=no".into(),
        "--env-clear=yes".into(),
        "--separate-targets=no".into(),
        format!("--parallel={}", if options.parallel { 2 } else { 1 }),
    ];

    let mut builder = GroupsBuilder::new(Some(config.into()), runner_args, false, false);
    builder.add_group(
        group,
        GROUP.to_owned(),
        MODULE,
        false, // low-level API, not the #[binary_benchmark] attribute
        None,
        false,
        false,
        None,
        None,
        &[],
    );
    let groups = builder.build().map_err(|e| InstrError::Definition(e.to_string()))?;
    let encoded = gungraun::bincode::serde::encode_to_vec(&groups, gungraun::bincode::config::legacy())
        .map_err(|e| InstrError::Encode(e.to_string()))?;

    // --- Run (same as `main!`) ------------------------------------------------------------------
    // `main!` passes `option_env!("GUNGRAUN_RUNNER")` (compile time!) here; we can pass the path
    // at run time. `None` = `gungraun-runner` from PATH.
    let runner_exe = match &options.runner {
        Some(path) => Some(path.to_str().ok_or_else(|| InstrError::NonUtf8Path(path.clone()))?),
        None => None,
    };
    Runner::new(
        runner_exe,
        &BenchmarkKind::BinaryBenchmark,
        out_home_str, // package_dir: only echoed into summary.json
        MODULE,       // package_name: unused by the runner (it reads $CARGO_PKG_NAME instead)
        MODULE,       // bench file: only echoed into summary.json
        MODULE,       // module path: first component of the output directory layout
        bench_exe_str.to_owned(),
    )
    .exec(encoded)
    .map_err(|e| InstrError::RunnerStart(e.to_string()))?;

    // --- Read back the two summary.json files -------------------------------------------------
    let summaries = find_summaries(&out_home)?;
    let pick = |run: &'static str, iters: u64| -> Result<RunCounts, InstrError> {
        summaries
            .iter()
            .find(|s| s.id == run)
            .map(|s| RunCounts {
                iters,
                ir: s.ir,
                estimated_cycles: s.estimated_cycles,
                output_dir: s.output_dir.clone(),
            })
            .ok_or_else(|| InstrError::SummaryMissing { run, iters, dir: out_home.clone() })
    };
    let setup = if options.setup_only_runs { Some((pick(SHORT_SETUP_ID, a)?, pick(LONG_SETUP_ID, b)?)) } else { None };
    let counts = Runs { short: pick(SHORT_ID, a)?, long: pick(LONG_ID, b)?, setup };
    if counts.long.ir <= counts.short.ir {
        return Err(InstrError::NotIncreasing { a_iters: a, a_ir: counts.short.ir, b_iters: b, b_ir: counts.long.ir });
    }
    Ok(counts)
}

/// One parsed `summary.json`.
struct Summary {
    id: String,
    ir: u64,
    estimated_cycles: Option<u64>,
    output_dir: PathBuf,
}

/// Parse gungraun's `summary.json` (schema "7").
///
/// Relevant shape (one file per benchmark run, in its output directory):
/// `{"version":"7","id":"short","output_dir":"...","profiles":[{"tool":"Callgrind",
///   "data":{"total":{"metrics":{"Ir":{"values":{"new":123}},"EstimatedCycles":{...}}}}}]}`
/// `values` holds `new`, and also `old` when a previous run was compared.
fn parse_summary(path: &Path, root: &Path) -> Result<Summary, InstrError> {
    let bad = |reason: String| InstrError::SummaryParse { path: path.to_owned(), reason };
    let text =
        std::fs::read_to_string(path).map_err(|source| InstrError::SummaryRead { path: path.to_owned(), source })?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;

    let version = v["version"].as_str().unwrap_or("<missing>");
    if version != SUMMARY_SCHEMA_VERSION {
        return Err(bad(format!("schema version {version}, expected {SUMMARY_SCHEMA_VERSION}")));
    }
    let id = v["id"].as_str().ok_or_else(|| bad("missing `id`".into()))?.to_owned();
    let output_dir = v["output_dir"]
        .as_str()
        .map(|d| root.join(d)) // relative to project_root (= root) when below it
        .ok_or_else(|| bad("missing `output_dir`".into()))?;
    let metrics = v["profiles"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["tool"] == "Callgrind"))
        .map(|p| &p["data"]["total"]["metrics"])
        .ok_or_else(|| bad("no Callgrind profile".into()))?;
    let new_value = |metric: &str| metrics[metric]["values"]["new"].as_u64();
    let ir = new_value("Ir").ok_or_else(|| bad("no integer `Ir` metric".into()))?;
    Ok(Summary { id, ir, estimated_cycles: new_value("EstimatedCycles"), output_dir })
}

fn find_summaries(root: &Path) -> Result<Vec<Summary>, InstrError> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        let entries =
            std::fs::read_dir(&dir).map_err(|source| InstrError::SummaryRead { path: dir.clone(), source })?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name() == Some(OsStr::new("summary.json")) {
                found.push(parse_summary(&path, root)?);
            }
        }
    }
    Ok(found)
}

/// A file-system-safe, collision-free directory name for a benchmark id.
fn output_dir_name(id: &str) -> String {
    let safe: String =
        id.chars().take(80).map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect();
    // FNV-1a, so `a/b` and `a_b` do not share a directory.
    let hash = id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!("{safe}-{:08x}", hash >> 32)
}

fn reset_dir(dir: &Path) -> Result<(), InstrError> {
    let err = |source| InstrError::Home { path: dir.to_owned(), source };
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(err)?;
    }
    std::fs::create_dir_all(dir).map_err(err)
}

// ---------------------------------------------------------------------------------------------
// Environment: valgrind detection, runner management, child process preparation
// ---------------------------------------------------------------------------------------------

/// `true` if `valgrind` is on `PATH` and `valgrind --version` succeeds.
pub fn valgrind_available() -> bool {
    Command::new("valgrind")
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success() && o.stdout.starts_with(b"valgrind"))
}

/// Return a `gungraun-runner` of exactly [`GUNGRAUN_VERSION`]: `tools_dir/bin/gungraun-runner`,
/// else the one on `PATH`, else install it into `tools_dir` with
/// `cargo install gungraun-runner --version =0.20.0 --locked --root <tools_dir>` (cargo's
/// progress goes to stderr). Put the returned executable's directory first on the `PATH` of the
/// process that calls [`measure`] (see [`prepare_child_command`]).
pub fn ensure_runner(tools_dir: &Path) -> Result<PathBuf, InstrError> {
    // Concurrent benchgate processes (parallel CI jobs, tests) must not install at the same time:
    // the first installs while the others wait, then find its runner.
    let lock_err = |source| InstrError::Home { path: tools_dir.to_owned(), source };
    std::fs::create_dir_all(tools_dir).map_err(lock_err)?;
    let lock = std::fs::File::create(tools_dir.join(".install.lock")).map_err(lock_err)?;
    lock.lock().map_err(lock_err)?;
    let local = tools_dir.join("bin").join(RUNNER_EXE);
    let candidates = std::iter::once(local.clone()).chain(find_on_path(RUNNER_EXE));
    for candidate in candidates {
        if candidate.is_file() && runner_version(&candidate).as_deref() == Some(GUNGRAUN_VERSION) {
            return std::path::absolute(&candidate)
                .map_err(|source| InstrError::Spawn { program: candidate.display().to_string(), source });
        }
    }

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    eprintln!(
        "benchgate: installing {RUNNER_EXE} {GUNGRAUN_VERSION} into {} (one-time, a few minutes)",
        tools_dir.display()
    );
    let status = Command::new(&cargo)
        .args(["install", RUNNER_EXE, "--version"])
        .arg(format!("={GUNGRAUN_VERSION}"))
        .args(["--locked", "--root"])
        .arg(tools_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::from(std::io::stderr())) // keep our stdout clean
        .status()
        .map_err(|source| InstrError::Spawn { program: cargo.to_string_lossy().into_owned(), source })?;
    if !status.success() {
        return Err(InstrError::InstallFailed { status });
    }
    match runner_version(&local) {
        Some(v) if v == GUNGRAUN_VERSION => std::path::absolute(&local)
            .map_err(|source| InstrError::Spawn { program: local.display().to_string(), source }),
        found => Err(InstrError::RunnerVersion { path: local, found: found.unwrap_or_else(|| "<no output>".into()) }),
    }
}

/// Version reported by `<runner> --version` (prints e.g. `gungraun-runner 0.20.0`).
fn runner_version(runner: &Path) -> Option<String> {
    let out = Command::new(runner).arg("--version").stdin(Stdio::null()).stderr(Stdio::null()).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace().last().map(str::to_owned)
}

/// A symbolic link to `exe` at `<temp dir>/benchgate-exe-XXXXXX/bench`, whose length depends only
/// on the temporary directory (the same for both sides of a comparison), with the directory that
/// removes it when dropped; `None` where links cannot be made (not Unix), and the real path is used.
pub(crate) fn fixed_length_link(exe: &Path) -> Result<Option<(tempfile::TempDir, PathBuf)>, InstrError> {
    if !cfg!(unix) {
        return Ok(None);
    }
    let fail = |source| InstrError::Link { path: std::env::temp_dir(), source };
    let dir = tempfile::Builder::new().prefix("benchgate-exe-").rand_bytes(6).tempdir().map_err(fail)?;
    let link = dir.path().join("bench");
    let target = std::path::absolute(exe).map_err(fail)?;
    #[cfg(unix)]
    std::os::unix::fs::symlink(&target, &link).map_err(fail)?;
    Ok(Some((dir, link)))
}

fn find_on_path(exe: &str) -> Vec<PathBuf> {
    std::env::var_os("PATH").map(|p| std::env::split_paths(&p).map(|d| d.join(exe)).collect()).unwrap_or_default()
}

/// Prepare the command that runs [`measure`] in a child process: put `runner`'s directory first
/// on `PATH` and remove every `GUNGRAUN_*` / `IAI_CALLGRIND_*` variable (they are read by
/// `gungraun-runner` as configuration: limits, baselines, filters, extra tools, ...). Also
/// removes `CARGO_PKG_NAME`, which the runner would otherwise insert into its output path.
pub fn prepare_child_command(cmd: &mut Command, runner: &Path) {
    let runner_dir = runner.parent().unwrap_or_else(|| Path::new("."));
    let mut dirs = vec![runner_dir.to_owned()];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    if let Ok(path) = std::env::join_paths(dirs) {
        cmd.env("PATH", path);
    }
    for (key, _) in std::env::vars_os() {
        let k = key.to_string_lossy();
        if k.starts_with("GUNGRAUN_") || k.starts_with("IAI_CALLGRIND_") || k == "CARGO_PKG_NAME" {
            cmd.env_remove(&key);
        }
    }
}

impl fmt::Display for Runs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2} Ir/op", self.ir_per_op())?;
        if let Some(c) = self.estimated_cycles_per_op() {
            write!(f, ", {c:.2} est. cycles/op")?;
        }
        write!(f, " (Ir {} @ {} iters, {} @ {} iters)", self.short.ir, self.short.iters, self.long.ir, self.long.iters)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_summary_with_new_and_old_values() {
        let dir = std::env::temp_dir().join(format!("instr-proto-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("summary.json");
        std::fs::write(
            &path,
            r#"{"version":"7","id":"long","output_dir":"benchgate/instr/exec.long",
               "profiles":[{"tool":"Callgrind","data":{"parts":[],"total":{"regressions":[],
               "metrics":{"Ir":{"change":{"diff_pct":"0","factor":"1"},
                                "values":{"new":538964,"old":538960}},
                          "EstimatedCycles":{"values":{"new":960114}}}}}}]}"#,
        )
        .unwrap();
        let s = parse_summary(&path, &dir).unwrap();
        assert_eq!(s.id, "long");
        assert_eq!(s.ir, 538_964);
        assert_eq!(s.estimated_cycles, Some(960_114));
        assert_eq!(s.output_dir, dir.join("benchgate/instr/exec.long"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn output_dir_names_are_safe_and_distinct() {
        assert_ne!(output_dir_name("a/b"), output_dir_name("a_b"));
        assert!(output_dir_name("grp/x y::z").starts_with("grp_x_y__z-"));
    }

    #[test]
    fn per_op_arithmetic() {
        let run = |iters, ir, c| RunCounts { iters, ir, estimated_cycles: c, output_dir: PathBuf::new() };
        let counts = Runs { short: run(1, 1000, Some(2000)), long: run(11, 6310, None), setup: None };
        assert_eq!(counts.delta_iters(), 10);
        assert!((counts.ir_per_op() - 531.0).abs() < f64::EPSILON);
        assert_eq!(counts.estimated_cycles_per_op(), None);
    }
}
