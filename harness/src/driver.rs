//! The driver: finds a workspace's benchgate bench targets, builds them with cargo, lists their
//! benchmarks, and runs each benchmark in each lane in its own process (timeouts and panics isolated),
//! writing the results file after every benchmark so that an interruption loses nothing measured.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::measure::instr;
use crate::model::{
    AllocCounts, BenchResult, Failure, FailureKind, InstrCounts, Lane, Meta, Metrics, Results, RunMode, SCHEMA_VERSION,
    ThroughputRate,
};
use crate::protocol::{DeclInfo, Outcome, PROTOCOL_VERSION, Report, ReportBody, flag};

/// Where the workspace is and where cargo puts its output.
#[derive(Debug, Clone)]
pub struct Workspace {
    pub root: PathBuf,
    pub target_dir: PathBuf,
    pub manifest_path: Option<PathBuf>,
    /// Bench targets of members that depend on benchgate: `(package, target)`.
    pub bench_targets: Vec<(String, String)>,
    /// benchgate's own files (index, scratch, tool homes); `<target_dir>/benchgate` unless set.
    pub state_dir: PathBuf,
    /// A target directory imposed on cargo (`CARGO_TARGET_DIR`), for the base of a revision comparison
    /// which shares the head's target directory so that dependencies are built once.
    pub cargo_target_dir: Option<PathBuf>,
    /// Direct (normal and dev) dependencies of the packages with bench targets: the libraries whose
    /// versions go into the results' `meta.libraries`.
    pub bench_dependencies: std::collections::BTreeSet<String>,
}

/// A built bench binary and the benchmarks it declares.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BenchBinary {
    pub package: String,
    pub target: String,
    pub exe: PathBuf,
    /// Digest of the binary's code and data, without debug information and build id
    /// ([`crate::meta::code_digest`]): equal digests mean the same program.
    #[serde(default)]
    pub digest: String,
    pub benchmarks: Vec<DeclInfo>,
}

impl BenchBinary {
    /// The same program as `other`: equal, known code digests.
    pub fn same_code(&self, other: &BenchBinary) -> bool {
        !self.digest.is_empty() && self.digest == other.digest
    }
}

/// What the last build produced: read by `benchgate exec`, which must not start cargo.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Index {
    pub binaries: Vec<BenchBinary>,
}

#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    #[error("cannot run cargo: {0}")]
    CargoSpawn(std::io::Error),
    #[error("`cargo metadata` failed: {0}")]
    Metadata(String),
    #[error("no bench target in this workspace depends on benchgate (looked in {0})")]
    NoBenchTargets(String),
    #[error("the benchmarks do not build (`cargo bench --no-run` exited with {0}); see cargo's output above")]
    Build(String),
    #[error("{}: {message}", exe.display())]
    Protocol { exe: PathBuf, message: String },
    #[error("duplicate benchmark id `{id}` (declared in {first} and {second})")]
    DuplicateId { id: String, first: String, second: String },
    #[error("no benchmarks have been built yet ({} is missing); build them with `benchgate build`", path.display())]
    NoIndex { path: PathBuf },
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("no benchmark matches `{0}`; `benchgate list` shows the ids")]
    UnknownBenchmark(String),
    #[error("interrupted; {} holds every benchmark that finished", .0.display())]
    Interrupted(PathBuf),
}

/// Ctrl-C and SIGTERM: the handler kills the running benchmarks' process groups and the run stops,
/// its results file left valid (and `partial`). See [`crate::proc`].
pub use crate::proc::{handle_interrupts, interrupted};

#[derive(Deserialize)]
struct Metadata {
    workspace_root: PathBuf,
    target_directory: PathBuf,
    packages: Vec<MetaPackage>,
    workspace_members: Vec<String>,
}

#[derive(Deserialize)]
struct MetaPackage {
    id: String,
    name: String,
    manifest_path: PathBuf,
    targets: Vec<MetaTarget>,
    dependencies: Vec<MetaDep>,
}

#[derive(Deserialize)]
struct MetaTarget {
    name: String,
    kind: Vec<String>,
}

#[derive(Deserialize)]
struct MetaDep {
    name: String,
    /// `None` for a normal dependency, else `dev` or `build`.
    kind: Option<String>,
}

/// The `[[bench]]` targets of a manifest that set `bench = false`, which `cargo bench` leaves out (cargo
/// metadata does not say; the manifest does). A manifest that cannot be read has none.
fn not_benched(manifest: &Path) -> std::collections::BTreeSet<String> {
    let Ok(text) = std::fs::read_to_string(manifest) else { return Default::default() };
    let Ok(table) = text.parse::<toml::Table>() else { return Default::default() };
    let benches = table.get("bench").and_then(toml::Value::as_array).map(Vec::as_slice).unwrap_or_default();
    benches
        .iter()
        .filter(|b| b.get("bench").and_then(toml::Value::as_bool) == Some(false))
        .filter_map(|b| b.get("name").and_then(toml::Value::as_str).map(str::to_owned))
        .collect()
}

/// How a build is configured.
///
/// Plain runs build exactly as `cargo bench` does, so that a first `benchgate run` after `cargo bench`
/// builds nothing. The sides of a comparison (`run --compare`, `bisect`) align every function to
/// `align_functions` bytes, so that a change elsewhere in the binary does not move an unchanged
/// function's layout relative to cache lines and branch-predictor boundaries (measured: a routine whose
/// code did not change ran 41% slower in the head binary without this, between -1.8% and +2.0% with
/// it). All sides share the target directory and, having the same flags, every dependency's build;
/// the workspace's own crates are built through a rustc wrapper of the side's own ([`Role`]), which
/// compiles them in `codegen_units` units (0: the profile's). One unit, because with rustc's default of
/// 16 a change to one module re-partitions the crate's code across units, and functions it did not touch
/// get other inlining: measured on the curated suites, a change to the compression module alone moved
/// 15 benchmarks' instruction counts elsewhere by 0.5-3.5% (brotli compress, prost encode and decode,
/// pipeline, string-interner: real changes of the binary, false alarms to a reviewer), and with one
/// unit none by more than 0.001%, while the 9 injected changes stayed as they were
/// (`scripts/real-runs/codegen-units.sh`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Build {
    /// As `cargo bench` builds.
    Plain,
    /// One side of a comparison.
    Side { role: Role, align_functions: u32, codegen_units: u32 },
}

/// The side a build is for. Cargo names a workspace member's artifacts by a hash of its package (by
/// path relative to the workspace root: the same for the working tree and a worktree of the base), its
/// flags, and the path of `RUSTC_WORKSPACE_WRAPPER`; each role's wrapper lies in a directory of its own,
/// so base and head get artifacts and fingerprints of their own in one target directory, while the
/// dependencies, built without the wrapper, are shared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Head,
    Base,
    Bisect,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Head => "head",
            Role::Base => "base",
            Role::Bisect => "bisect",
        }
    }
}

/// The workspace wrapper of every role. It replaces the crate's `-C metadata` (cargo's hash, which
/// includes the wrapper's path) with one that is the same on every side: the metadata seeds symbol
/// hashes and the crate's identity, so without this the same source would give different code on the
/// two sides, and the comparison could not skip benchmarks whose binary did not change. Crates of one
/// build stay distinct by name and crate type, which rustc hashes with the metadata. A wrapper the user
/// had (`RUSTC_WORKSPACE_WRAPPER`) is run from this one. `EXTRA` is replaced by the arguments the
/// wrapper adds ([`workspace_wrapper`]).
const WORKSPACE_WRAPPER: &str = r#"#!/bin/sh
# Written by benchgate (driver::Build): builds of this workspace's own crates for one side of a
# comparison. See ARCHITECTURE.md, "One target directory, a wrapper per side".
n=$#
for a in "$@"; do
  case $a in
    metadata=*) a=metadata=benchgate ;;
    -Cmetadata=*) a=-Cmetadata=benchgate ;;
  esac
  set -- "$@" "$a"
done
shift "$n"
set -- "$@"EXTRA
if [ -n "$BENCHGATE_USER_WORKSPACE_WRAPPER" ]; then
  exec "$BENCHGATE_USER_WORKSPACE_WRAPPER" "$@"
fi
exec "$@"
"#;

/// Writes `role`'s wrapper under `dir` (unchanged when it is already there) and returns its path. With
/// `codegen_units` above 0 it adds `-C codegen-units=N` after cargo's flags (rustc takes the last), and
/// lies in a directory named for it: cargo's fingerprint holds the wrapper's path, not its content, so a
/// changed setting must change the path to rebuild.
fn workspace_wrapper(dir: &Path, role: Role, codegen_units: u32) -> std::io::Result<PathBuf> {
    let (name, extra) = match codegen_units {
        0 => (role.name().to_owned(), String::new()),
        n => (format!("{}-cgu{n}", role.name()), format!(" -C codegen-units={n}")),
    };
    let path = dir.join(name).join("rustc");
    let text = WORKSPACE_WRAPPER.replace("EXTRA", &extra);
    if std::fs::read(&path).ok().as_deref() != Some(text.as_bytes()) {
        crate::fsutil::write_atomic(&path, text.as_bytes())?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
        }
    }
    Ok(path)
}

/// Adds `-C llvm-args=-align-all-functions=log2(bytes)` to the rustflags the user already has: appended
/// to RUSTFLAGS / CARGO_ENCODED_RUSTFLAGS when set, else given as `--config build.rustflags`, which
/// cargo merges with its config files. 0 leaves rustc's default.
fn add_alignment(cmd: &mut Command, bytes: u32) {
    if bytes == 0 {
        return;
    }
    let flag = format!("llvm-args=-align-all-functions={}", bytes.trailing_zeros());
    if let Some(encoded) = std::env::var_os("CARGO_ENCODED_RUSTFLAGS") {
        let mut v = encoded.to_string_lossy().into_owned();
        for part in ["-C", flag.as_str()] {
            if !v.is_empty() {
                v.push('\x1f');
            }
            v.push_str(part);
        }
        cmd.env("CARGO_ENCODED_RUSTFLAGS", v);
    } else if let Some(flags) = std::env::var_os("RUSTFLAGS") {
        cmd.env("RUSTFLAGS", format!("{} -C {flag}", flags.to_string_lossy()));
    } else {
        cmd.arg("--config").arg(format!("build.rustflags=[\"-C\", \"{flag}\"]"));
    }
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

impl Workspace {
    /// Reads the workspace at `manifest_path` (or the current directory) with `cargo metadata`.
    pub fn discover(manifest_path: Option<&Path>) -> Result<Workspace, DriverError> {
        Workspace::discover_with(manifest_path, None, None)
    }

    /// As [`Workspace::discover`], building into `target_dir` and keeping benchgate's files in `state_dir`.
    pub fn discover_with(
        manifest_path: Option<&Path>,
        target_dir: Option<&Path>,
        state_dir: Option<&Path>,
    ) -> Result<Workspace, DriverError> {
        // Absolute, because cargo later runs from the workspace root.
        let manifest_path = match manifest_path {
            Some(m) => Some(std::path::absolute(m).map_err(|source| DriverError::Io { path: m.to_owned(), source })?),
            None => None,
        };
        let mut cmd = cargo();
        if let Some(t) = target_dir {
            cmd.env("CARGO_TARGET_DIR", t);
        }
        cmd.args(["metadata", "--format-version", "1", "--no-deps"]);
        if let Some(m) = &manifest_path {
            cmd.arg("--manifest-path").arg(m);
        }
        let out = cmd.output().map_err(DriverError::CargoSpawn)?;
        if !out.status.success() {
            return Err(DriverError::Metadata(String::from_utf8_lossy(&out.stderr).trim().to_owned()));
        }
        let meta: Metadata = serde_json::from_slice(&out.stdout).map_err(|e| DriverError::Metadata(e.to_string()))?;
        let mut bench_targets = Vec::new();
        let mut bench_dependencies = std::collections::BTreeSet::new();
        for p in meta.packages.iter().filter(|p| meta.workspace_members.contains(&p.id)) {
            if !p.dependencies.iter().any(|d| d.name == "benchgate") {
                continue;
            }
            let before = bench_targets.len();
            let off = not_benched(&p.manifest_path);
            for t in p.targets.iter().filter(|t| t.kind.iter().any(|k| k == "bench")) {
                if off.contains(&t.name) {
                    eprintln!("benchgate: bench target `{}` has `bench = false`: not built", t.name);
                    continue;
                }
                bench_targets.push((p.name.clone(), t.name.clone()));
            }
            if bench_targets.len() > before {
                let used = p.dependencies.iter().filter(|d| d.kind.as_deref() != Some("build"));
                bench_dependencies.extend(used.map(|d| d.name.clone()));
            }
        }
        if bench_targets.is_empty() {
            return Err(DriverError::NoBenchTargets(meta.workspace_root.display().to_string()));
        }
        let state_dir = state_dir.map(Path::to_owned).unwrap_or_else(|| meta.target_directory.join("benchgate"));
        Ok(Workspace {
            root: meta.workspace_root,
            target_dir: meta.target_directory,
            manifest_path,
            bench_targets,
            state_dir,
            cargo_target_dir: target_dir.map(Path::to_owned),
            bench_dependencies,
        })
    }

    /// The locked versions of [`Workspace::bench_dependencies`], from the workspace's Cargo.lock
    /// (empty if there is none yet).
    pub fn libraries(&self) -> BTreeMap<String, String> {
        crate::meta::library_versions(&self.root.join("Cargo.lock"), &self.bench_dependencies)
    }

    /// benchgate's own files: `<target>/benchgate` unless the workspace was discovered with another.
    pub fn state_dir(&self) -> PathBuf {
        self.state_dir.clone()
    }

    fn index_path(&self) -> PathBuf {
        self.state_dir().join("index.json")
    }

    /// Builds every bench target with `cargo bench --no-run` (cargo's progress goes to stderr), lists
    /// the benchmarks of each binary, and records them in the index for `benchgate exec`.
    pub fn build(&self, how: Build) -> Result<Index, DriverError> {
        let mut cmd = cargo();
        if let Some(t) = &self.cargo_target_dir {
            cmd.env("CARGO_TARGET_DIR", t);
        }
        cmd.args(["bench", "--no-run", "--message-format=json-render-diagnostics"]);
        if let Build::Side { role, align_functions, codegen_units } = how {
            add_alignment(&mut cmd, align_functions);
            let dir = self.target_dir.join("benchgate").join("rustc-wrappers");
            let wrapper =
                workspace_wrapper(&dir, role, codegen_units).map_err(|source| DriverError::Io { path: dir, source })?;
            if let Some(user) = std::env::var_os("RUSTC_WORKSPACE_WRAPPER").filter(|w| !w.is_empty()) {
                cmd.env("BENCHGATE_USER_WORKSPACE_WRAPPER", user);
            }
            cmd.env("RUSTC_WORKSPACE_WRAPPER", wrapper);
        }
        if let Some(m) = &self.manifest_path {
            cmd.arg("--manifest-path").arg(m);
        }
        let mut packages: Vec<&str> = self.bench_targets.iter().map(|(p, _)| p.as_str()).collect();
        packages.dedup();
        for p in packages {
            cmd.args(["--package", p]);
        }
        for (_, t) in &self.bench_targets {
            cmd.args(["--bench", t]);
        }
        // Same working directory as `cargo metadata`, so a relative CARGO_TARGET_DIR means the same
        // place to both (the manifest path, if any, is absolute).
        cmd.stdout(Stdio::piped()).stderr(Stdio::inherit());
        let out = cmd.output().map_err(DriverError::CargoSpawn)?;
        if !out.status.success() {
            return Err(DriverError::Build(out.status.to_string()));
        }
        let mut exes = BTreeMap::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else { continue };
            if msg["reason"] != "compiler-artifact" || msg["target"]["kind"][0] != "bench" {
                continue;
            }
            let (Some(exe), Some(target)) = (msg["executable"].as_str(), msg["target"]["name"].as_str()) else {
                continue;
            };
            exes.insert(target.to_owned(), PathBuf::from(exe));
        }
        let mut binaries = Vec::new();
        for (package, target) in &self.bench_targets {
            let Some(exe) = exes.get(target) else { continue };
            match list_binary(exe) {
                Ok(benchmarks) => binaries.push(BenchBinary {
                    package: package.clone(),
                    target: target.clone(),
                    exe: exe.clone(),
                    digest: crate::meta::code_digest(exe)
                        .map_err(|source| DriverError::Io { path: exe.clone(), source })?,
                    benchmarks,
                }),
                // A bench target of a benchgate-using package may still be a criterion or libtest
                // bench; it is not ours to run.
                Err(e) => {
                    let why = e.to_string();
                    let first = why.lines().next().unwrap_or_default().trim_end_matches(':');
                    eprintln!("benchgate: skipping bench target `{target}`: {first}");
                }
            }
        }
        let index = Index { binaries };
        index.check_unique()?;
        let json = serde_json::to_vec_pretty(&index).expect("index serializes");
        crate::fsutil::write_atomic(&self.index_path(), &json)
            .map_err(|source| DriverError::Io { path: self.index_path(), source })?;
        Ok(index)
    }

    /// The index of the last build, without building.
    pub fn load_index(&self) -> Result<Index, DriverError> {
        let path = self.index_path();
        let bytes = std::fs::read(&path).map_err(|_| DriverError::NoIndex { path: path.clone() })?;
        serde_json::from_slice(&bytes).map_err(|e| DriverError::Io { path, source: std::io::Error::other(e) })
    }
}

impl Index {
    fn check_unique(&self) -> Result<(), DriverError> {
        let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
        for b in &self.binaries {
            for d in &b.benchmarks {
                if let Some(first) = seen.insert(&d.id, &b.target) {
                    return Err(DriverError::DuplicateId {
                        id: d.id.clone(),
                        first: first.to_owned(),
                        second: b.target.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Every benchmark with its binary, sorted by id.
    pub fn benchmarks(&self) -> Vec<(&BenchBinary, &DeclInfo)> {
        let mut all: Vec<_> = self.binaries.iter().flat_map(|b| b.benchmarks.iter().map(move |d| (b, d))).collect();
        all.sort_by(|a, b| a.1.id.cmp(&b.1.id));
        all
    }

    /// The binary declaring `id`.
    pub fn find(&self, id: &str) -> Result<(&BenchBinary, &DeclInfo), DriverError> {
        self.benchmarks()
            .into_iter()
            .find(|(_, d)| d.id == id)
            .ok_or_else(|| DriverError::UnknownBenchmark(id.to_owned()))
    }
}

/// Why a process that exited successfully left no report: without one, the process ended before the
/// bench runtime could write it (the routine or its setup called `std::process::exit`, or a library did).
fn no_report(e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::NotFound {
        "exited with status 0 but wrote no report: the process ended before benchgate's runtime could \
         write it (does the routine, its setup or a library call `std::process::exit`?)"
            .to_owned()
    } else {
        format!("cannot read its report: {e}")
    }
}

/// Asks a bench binary for its declarations.
fn list_binary(exe: &Path) -> Result<Vec<DeclInfo>, DriverError> {
    let dir = tempfile::tempdir().map_err(|source| DriverError::Io { path: std::env::temp_dir(), source })?;
    let report = dir.path().join("list.json");
    let args = vec![flag::LIST.to_owned(), flag::REPORT.to_owned(), report.display().to_string()];
    let err = |message: String| DriverError::Protocol { exe: exe.to_owned(), message };
    match run_worker(exe, &args, &report, Duration::from_secs(60)) {
        Ok(ReportBody::List { benchmarks, duplicates }) if duplicates.is_empty() => Ok(benchmarks),
        Ok(ReportBody::List { duplicates, .. }) => {
            Err(err(format!("duplicate benchmark ids: {}", duplicates.join(", "))))
        }
        Ok(other) => Err(err(format!("unexpected answer to {}: {other:?}", flag::LIST))),
        Err(f) => Err(err(format!("not a benchgate bench binary ({})", f.message))),
    }
}

/// Runs one protocol request and reads its report, or describes how it failed.
fn run_worker(exe: &Path, args: &[String], report: &Path, timeout: Duration) -> Result<ReportBody, Failure> {
    let dir = report.parent().unwrap_or(Path::new("."));
    let log_path = dir.join(format!("{}.log", report.file_name().unwrap_or_default().to_string_lossy()));
    let fail = |kind, message: String| Failure { kind, message };
    let log =
        std::fs::File::create(&log_path).map_err(|e| fail(FailureKind::Error, format!("cannot create log: {e}")))?;
    let log2 = log.try_clone().map_err(|e| fail(FailureKind::Error, e.to_string()))?;
    let mut cmd = Command::new(exe);
    cmd.args(args).stdin(Stdio::null()).stdout(log).stderr(log2);
    let status = run_child(&mut cmd, timeout)?;
    let tail = log_tail(&log_path);
    if !status.success() {
        // Rust's default panic handler exits with 101.
        let kind = if status.code() == Some(101) { FailureKind::Panic } else { FailureKind::Error };
        return Err(fail(kind, format!("{}{tail}", crate::proc::describe(status))));
    }
    let text =
        std::fs::read_to_string(report).map_err(|e| fail(FailureKind::Error, format!("{}{tail}", no_report(&e))))?;
    let parsed: Report =
        serde_json::from_str(&text).map_err(|e| fail(FailureKind::Error, format!("bad report: {e}")))?;
    if parsed.protocol != PROTOCOL_VERSION {
        return Err(fail(
            FailureKind::Error,
            format!("speaks benchgate protocol {} but this driver speaks {PROTOCOL_VERSION}", parsed.protocol),
        ));
    }
    Ok(parsed.body)
}

/// Runs `cmd` as a measured process ([`crate::proc::run`]: its own process group, killed as a whole)
/// within `timeout`; the failure says it could not start, timed out or was interrupted.
pub(crate) fn run_child(cmd: &mut Command, timeout: Duration) -> Result<ExitStatus, Failure> {
    let fail = |kind, message: String| Failure { kind, message };
    let ended = crate::proc::run(cmd, timeout)
        .map_err(|e| fail(FailureKind::Error, format!("cannot start {}: {e}", cmd.get_program().to_string_lossy())))?;
    match ended.stopped {
        None => Ok(ended.status),
        Some(crate::proc::Stop::Interrupted) => Err(fail(FailureKind::Error, "interrupted".into())),
        Some(crate::proc::Stop::Timeout) => {
            Err(fail(FailureKind::Timeout, format!("killed after the {}s timeout", timeout.as_secs())))
        }
    }
}

/// What a worker's output says about its failure: the panic message if it panicked (a backtrace may
/// follow it), otherwise its last lines.
pub(crate) fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let shown = match lines.iter().position(|l| l.contains("panicked at")) {
        Some(i) => &lines[i..(i + 2).min(lines.len())],
        None => &lines[lines.len().saturating_sub(8)..],
    };
    if shown.is_empty() {
        return String::new();
    }
    format!(":\n    {}", shown.join("\n    "))
}

/// What to run and how.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub lanes: Vec<Lane>,
    pub mode: RunMode,
    pub out: PathBuf,
}

/// What one lane of one benchmark came to.
#[derive(Clone)]
pub(crate) enum LaneOutcome {
    Done(Outcome),
    /// The alloc lane of a threaded benchmark, counted in [`ALLOC_RUNS`] processes ([`alloc_outcomes`]):
    /// every run's counts, and the first run's reported figures.
    Allocs {
        runs: Vec<AllocCounts>,
        reported: BTreeMap<String, crate::model::Reported>,
    },
    /// The instr lane's counts, which the driver takes itself under callgrind.
    Counted(InstrCounts),
    /// The instr lane counted in several processes ([`INSTR_RUNS`]): every run's counts.
    Instrs(Vec<InstrCounts>),
    Skipped(String),
    Failed(Failure),
}

/// Runs one lane of one benchmark in its own process. An interrupt ends the whole run: `Err`, naming
/// the results file that keeps what finished.
pub(crate) fn lane_outcome(
    exe: &Path,
    args: &[String],
    report: &Path,
    timeout: Duration,
    results_file: &Path,
) -> Result<LaneOutcome, DriverError> {
    let outcome = run_worker(exe, args, report, timeout);
    if interrupted() {
        // The benchmark in progress is dropped, not recorded as failed.
        return Err(DriverError::Interrupted(results_file.to_owned()));
    }
    Ok(match outcome {
        Ok(ReportBody::Outcome(outcome)) => LaneOutcome::Done(outcome),
        Ok(ReportBody::Skipped(why)) => LaneOutcome::Skipped(why),
        Ok(ReportBody::Error(message)) => LaneOutcome::Failed(Failure { kind: FailureKind::Error, message }),
        Ok(other) => {
            LaneOutcome::Failed(Failure { kind: FailureKind::Error, message: format!("unexpected report: {other:?}") })
        }
        Err(failure) => LaneOutcome::Failed(failure),
    })
}

/// Alloc-lane processes of a benchmark whose counts can move with the scheduling of threads
/// ([`AllocCounts::threaded`]). Seven, so that under no change the head's seven counts all lie above
/// the base's seven (the only way `compare` calls such counts changed, ranges apart) with probability
/// 1/C(14,7) = 1/3432 each way, were the counts exchangeable; one process counts everything else.
pub const ALLOC_RUNS: usize = 7;

/// Instr-lane processes a side gets when its counts vary between processes of one binary (valgrind
/// schedules a program's threads by its own clock; a hash map's random seed moves a hashing routine's
/// count): as many as [`ALLOC_RUNS`], for the same reason (ranges apart under no change: 1/3432 each way).
/// Counts that repeat exactly are counted twice, which shows they do.
pub const INSTR_RUNS: usize = ALLOC_RUNS;

/// One side's alloc-lane request: the binary, its protocol arguments, its report file, and the results
/// file an interrupt names.
pub(crate) struct AllocRequest<'a> {
    pub exe: &'a Path,
    pub args: &'a [String],
    pub report: &'a Path,
    pub results_file: &'a Path,
}

/// Runs the alloc lane of one benchmark on each of `sides` (one side in a plain run; base and head in a
/// comparison): once each, and when any side's counts say threads took part, [`ALLOC_RUNS`] each in
/// all, the sides in turns, so that the result holds the counts' spread ([`Metrics::alloc_runs`]) and
/// not one draw of it, and a drift or a streak of the scheduling over the runs falls on every side alike
/// (measured: base's seven consecutive runs of a flume channel benchmark counted 5.7-12.6 allocations
/// per op, head's seven after them 43-814, from the same code). A side whose later run fails has that
/// failure as its outcome. One outcome per side, in order.
pub(crate) fn alloc_outcomes(sides: &[AllocRequest<'_>], timeout: Duration) -> Result<Vec<LaneOutcome>, DriverError> {
    let run = |q: &AllocRequest<'_>| lane_outcome(q.exe, q.args, q.report, timeout, q.results_file);
    let first = sides.iter().map(run).collect::<Result<Vec<_>, _>>()?;
    let threaded = |o: &LaneOutcome| matches!(o, LaneOutcome::Done(Outcome::Alloc { counts, .. }) if counts.threaded());
    if !first.iter().any(threaded) {
        return Ok(first);
    }
    let mut outcomes: Vec<LaneOutcome> = first
        .into_iter()
        .map(|o| match o {
            LaneOutcome::Done(Outcome::Alloc { counts, reported }) => {
                LaneOutcome::Allocs { runs: vec![counts], reported }
            }
            other => other,
        })
        .collect();
    for _ in 1..ALLOC_RUNS {
        for (q, outcome) in sides.iter().zip(outcomes.iter_mut()) {
            let LaneOutcome::Allocs { runs, .. } = outcome else { continue };
            match run(q)? {
                LaneOutcome::Done(Outcome::Alloc { counts, .. }) => runs.push(counts),
                other => *outcome = other,
            }
        }
    }
    Ok(outcomes)
}

/// The run whose counts a result's `allocs_per_op` and `bytes_per_op` give when the lane ran several
/// times: the median by allocations, then bytes.
pub(crate) fn median_run(runs: &[AllocCounts]) -> Option<AllocCounts> {
    let mut sorted = runs.to_vec();
    sorted.sort_by(|a, b| {
        let per_op = |c: &AllocCounts| (c.allocs as f64 / c.iters as f64, c.bytes as f64 / c.iters as f64);
        per_op(a).partial_cmp(&per_op(b)).unwrap_or(std::cmp::Ordering::Equal)
    });
    sorted.get(sorted.len() / 2).copied()
}

/// The run whose count a result's `instructions_per_op` gives when the lane ran several times: the
/// median by instructions per op.
pub(crate) fn median_instr_run(runs: &[InstrCounts]) -> Option<InstrCounts> {
    let mut sorted = runs.to_vec();
    sorted.sort_by(|a, b| a.instructions_per_op().total_cmp(&b.instructions_per_op()));
    sorted.get(sorted.len() / 2).copied()
}

/// Runs one wall-lane process, a fresh draw of what moves a routine's time from process to process:
/// the kernel randomizes the address-space layout, and the binary's cached pages are dropped first
/// (on Linux) so that its code and data are read into new physical pages. Without that, every process
/// of one binary file runs from the same physical pages. Measured: two byte-identical copies of the
/// protobuf bench binary read 55.5 and 56.9 µs/op in every one of 12 processes each; with the pages
/// dropped before each process, one file ranged over 52.9-56.8. In an A/A comparison of all suites
/// (identical code, one binary in the base's target directory), three benchmarks read 2-3% apart.
pub(crate) fn wall_process(
    exe: &Path,
    args: &[String],
    report: &Path,
    timeout: Duration,
    results_file: &Path,
) -> Result<LaneOutcome, DriverError> {
    drop_cached_pages(exe);
    lane_outcome(exe, args, report, timeout, results_file)
}

/// Asks the kernel to drop a file's clean cached pages (best effort: pages still mapped stay).
fn drop_cached_pages(path: &Path) {
    #[cfg(target_os = "linux")]
    if let Ok(file) = std::fs::File::open(path) {
        use std::os::fd::AsRawFd;
        // SAFETY: advice on an open descriptor of our own; no memory of this process is involved.
        unsafe {
            libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = path;
}

/// Folds a lane's outcome into a benchmark's result.
pub(crate) fn record(result: &mut BenchResult, lane: Lane, outcome: LaneOutcome) {
    match outcome {
        LaneOutcome::Done(o) => apply(&mut result.metrics, o),
        LaneOutcome::Allocs { runs, reported } => {
            if let Some(counts) = median_run(&runs) {
                apply(&mut result.metrics, Outcome::Alloc { counts, reported });
            }
            result.metrics.alloc_runs = runs;
        }
        LaneOutcome::Instrs(runs) => {
            let Some(median) = median_instr_run(&runs) else { return };
            let valid = median.instructions_per_op() >= 0.0;
            record(result, lane, LaneOutcome::Counted(median));
            if valid {
                result.metrics.instr_runs = runs;
            }
        }
        LaneOutcome::Counted(counts) if counts.instructions_per_op() < 0.0 => {
            // Only possible when the setup-only runs cost more than the measured runs: not a count a
            // results file may hold (`Results::validate`), so the lane fails and says why.
            result.failures.insert(
                lane,
                Failure {
                    kind: FailureKind::Error,
                    message: format!(
                        "instructions per op came out negative ({:.1}): the setup-only runs executed more \
                         instructions than the measured runs ({:?} against {:?})",
                        counts.instructions_per_op(),
                        counts.setup_instructions,
                        counts.instructions
                    ),
                },
            );
        }
        LaneOutcome::Counted(counts) => {
            let m = &mut result.metrics;
            m.instructions_per_op = Some(counts.instructions_per_op());
            m.estimated_cycles_per_op = counts.estimated_cycles_per_op();
            m.instr = Some(counts);
        }
        LaneOutcome::Skipped(why) => {
            result.skipped.insert(lane, why);
        }
        LaneOutcome::Failed(f) => {
            result.failures.insert(lane, f);
        }
    }
}

/// Wall samples from several processes (rounds) of one benchmark on one side, merged; each sample keeps
/// the round it came from. Latencies are pooled; reported figures come from the first process.
#[derive(Default, Clone)]
pub(crate) struct WallAccumulator {
    samples: Option<crate::measure::wall::WallSamples>,
    rounds: Vec<u32>,
    /// Each process's calibration, merged at the end.
    calibrations: Vec<crate::measure::overhead::Calibration>,
    /// A process failed: no estimate.
    pub failed: bool,
}

impl WallAccumulator {
    pub(crate) fn push(&mut self, round: u32, mut s: crate::measure::wall::WallSamples) {
        self.rounds.extend(std::iter::repeat_n(round, s.ns.len()));
        self.calibrations.extend(s.calibration.take());
        match self.samples.as_mut() {
            None => self.samples = Some(s),
            Some(all) => {
                all.iters.extend(s.iters);
                all.ns.extend(s.ns);
                match (&mut all.latencies, s.latencies) {
                    (Some(mine), Some(theirs)) => mine.merge(theirs),
                    (mine @ None, theirs) => *mine = theirs,
                    (Some(_), None) => {}
                }
            }
        }
    }

    /// The median ns/op of each round's samples, by round.
    pub(crate) fn round_medians(&self) -> std::collections::BTreeMap<u32, f64> {
        let mut by_round: std::collections::BTreeMap<u32, Vec<f64>> = std::collections::BTreeMap::new();
        if let Some(s) = &self.samples {
            for ((r, ns), n) in self.rounds.iter().zip(&s.ns).zip(&s.iters) {
                by_round.entry(*r).or_default().push(*ns as f64 / (*n).max(1) as f64);
            }
        }
        by_round.into_iter().map(|(r, v)| (r, crate::stats::median(&v))).collect()
    }

    /// Puts the estimate over every sample (`keep_rounds`: with each sample's round), the pooled
    /// latencies and the reported figures into `metrics`.
    pub(crate) fn finish_into(self, keep_rounds: bool, metrics: &mut Metrics) {
        if self.failed {
            return;
        }
        let Some(mut samples) = self.samples else { return };
        samples.calibration = crate::stats::merge_calibrations(&self.calibrations);
        apply(metrics, Outcome::Wall(samples));
        if keep_rounds && let Some(estimate) = metrics.ns_per_op.as_mut() {
            estimate.rounds = self.rounds;
        }
    }
}

/// An empty result for a declared benchmark.
pub(crate) fn empty_result(decl: &DeclInfo) -> BenchResult {
    BenchResult {
        id: decl.id.clone(),
        suite: decl.suite.clone(),
        name: decl.name.clone(),
        param: decl.param.clone(),
        throughput: decl.throughput,
        metrics: Metrics::default(),
        failures: BTreeMap::new(),
        skipped: BTreeMap::new(),
    }
}

/// Progress events for whoever shows them.
pub enum Event<'a> {
    Start {
        total: usize,
    },
    BenchStart {
        index: usize,
        total: usize,
        id: &'a str,
    },
    BenchDone {
        result: &'a BenchResult,
        elapsed: Duration,
    },
    /// A benchmark of a revision comparison, measured on the sides that have it.
    PairDone {
        base: Option<&'a BenchResult>,
        head: Option<&'a BenchResult>,
        elapsed: Duration,
    },
    LaneSkipped {
        lane: Lane,
        reason: &'a str,
    },
    /// A pass of a revision comparison begins (what it measures).
    Phase {
        text: &'a str,
    },
}

/// Runs the selected benchmarks in the requested lanes, writing `opts.out` after every benchmark.
pub fn run(
    ws: &Workspace,
    selected: &[(&BenchBinary, &DeclInfo)],
    config: &Config,
    opts: &RunOptions,
    meta: Meta,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<Results, DriverError> {
    let mut results = Results { schema_version: SCHEMA_VERSION, meta, benchmarks: Vec::new() };
    let write = |r: &Results| {
        crate::fsutil::write_atomic(&opts.out, r.to_json().as_bytes())
            .map_err(|source| DriverError::Io { path: opts.out.clone(), source })
    };
    write(&results)?;
    let scratch = scratch_dir(&ws.state_dir())?;

    // The instr lane needs valgrind; without it the lane is skipped with one line, never a crash.
    let mut valgrind: Option<instr::Valgrind> = None;
    let mut instr_skip: Option<String> = None;
    if opts.lanes.contains(&Lane::Instr) {
        match instr::Valgrind::find(&config.instr.pass_env) {
            Ok(v) => valgrind = Some(v),
            Err(why) => {
                on_event(Event::LaneSkipped { lane: Lane::Instr, reason: &why });
                instr_skip = Some(why);
            }
        }
    }

    on_event(Event::Start { total: selected.len() });
    for (i, (bin, decl)) in selected.iter().enumerate() {
        on_event(Event::BenchStart { index: i + 1, total: selected.len(), id: &decl.id });
        let started = Instant::now();
        let mut result = empty_result(decl);
        for &lane in &opts.lanes {
            if lane == Lane::Instr
                && let Some(why) = &instr_skip
            {
                result.skipped.insert(lane, why.clone());
                continue;
            }
            if lane == Lane::Wall {
                // Several processes, each a fresh draw of layout and physical placement; the process is
                // the unit `compare` tests on.
                let (processes, plan) = config.wall_processes(opts.mode);
                let mut acc = WallAccumulator::default();
                for p in 0..processes {
                    let report = scratch.path().join(format!("{i}-wall-{p}.json"));
                    let args = lane_args(lane, decl, config, opts.mode, Some(&plan), &report);
                    match wall_process(&bin.exe, &args, &report, config.timeout(), &opts.out)? {
                        LaneOutcome::Done(Outcome::Wall(s)) => acc.push(p, s),
                        other => {
                            acc.failed = true;
                            record(&mut result, lane, other);
                            break;
                        }
                    }
                }
                acc.finish_into(processes > 1, &mut result.metrics);
                continue;
            }
            if let (Lane::Instr, Some(valgrind)) = (lane, &valgrind) {
                let settings = config.instr(opts.mode);
                let outcome =
                    instr_outcome(valgrind, &bin.exe, &decl.id, settings, scratch.path(), config.timeout(), &opts.out)?;
                record(&mut result, lane, outcome);
                continue;
            }
            let report = scratch.path().join(format!("{i}-{lane}.json"));
            let args = lane_args(lane, decl, config, opts.mode, None, &report);
            let outcome = if lane == Lane::Alloc {
                let side = AllocRequest { exe: &bin.exe, args: &args, report: &report, results_file: &opts.out };
                alloc_outcomes(&[side], config.timeout())?.remove(0)
            } else {
                lane_outcome(&bin.exe, &args, &report, config.timeout(), &opts.out)?
            };
            record(&mut result, lane, outcome);
        }
        finish_metrics(&mut result);
        on_event(Event::BenchDone { result: &result, elapsed: started.elapsed() });
        results.upsert(result);
        write(&results)?;
    }
    results.meta.partial = false;
    results.meta.finished_at = Some(crate::meta::now_rfc3339());
    write(&results)?;
    Ok(results)
}

pub(crate) fn ensure_dir(dir: &Path) -> Result<&Path, DriverError> {
    std::fs::create_dir_all(dir).map_err(|source| DriverError::Io { path: dir.to_owned(), source })?;
    Ok(dir)
}

/// What a run's scratch directories (reports, logs, callgrind files) are named by: `.tmp-<pid>-`.
const SCRATCH_PREFIX: &str = ".tmp-";

/// A scratch directory for one run under `state_dir`, removed when dropped, named by the process that
/// owns it: `.tmp-<pid>-XXXXXX`. A run killed with SIGKILL drops nothing, so first the scratch
/// directories of processes that no longer exist are removed ([`crate::proc::alive`]; a live process
/// that reused the id only keeps them longer). Names without a pid (`.tmpXXXXXX`, from versions
/// before this) are left alone: nothing says whether their run still goes on.
pub(crate) fn scratch_dir(state_dir: &Path) -> Result<tempfile::TempDir, DriverError> {
    let io = |source| DriverError::Io { path: state_dir.to_owned(), source };
    let me = std::process::id();
    for entry in std::fs::read_dir(ensure_dir(state_dir)?).map_err(io)?.flatten() {
        let name = entry.file_name();
        let Some(owner) = name.to_str().and_then(|n| n.strip_prefix(SCRATCH_PREFIX)?.split_once('-')) else {
            continue;
        };
        let Ok(pid) = owner.0.parse::<u32>() else { continue };
        if pid != me && !crate::proc::alive(pid) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    tempfile::Builder::new().prefix(&format!("{SCRATCH_PREFIX}{me}-")).tempdir_in(state_dir).map_err(io)
}

/// The protocol arguments for the wall or alloc lane of one benchmark; `wall` overrides the configured
/// wall settings.
pub(crate) fn lane_args(
    lane: Lane,
    decl: &DeclInfo,
    config: &Config,
    mode: RunMode,
    wall: Option<&crate::config::WallSettings>,
    report: &Path,
) -> Vec<String> {
    let mut args: Vec<String> = Vec::new();
    match lane {
        Lane::Wall => {
            let w = wall.cloned().unwrap_or_else(|| config.wall(mode));
            args.extend([flag::RUN.into(), decl.id.clone(), flag::LANE.into(), "wall".into()]);
            args.extend([flag::WARM_UP_MS.into(), w.warm_up_ms.to_string()]);
            args.extend([flag::MEASUREMENT_MS.into(), w.measurement_ms.to_string()]);
            args.extend([flag::SAMPLES.into(), w.samples.to_string()]);
        }
        Lane::Alloc => {
            args.extend([flag::RUN.into(), decl.id.clone(), flag::LANE.into(), "alloc".into()]);
            args.extend([flag::ITERS.into(), config.alloc_iters(mode).to_string()]);
        }
        // Counted by the driver under callgrind ([`instr_outcome`]), not by a protocol request.
        Lane::Instr => unreachable!("the instr lane has no protocol request"),
    }
    args.extend([flag::REPORT.into(), report.display().to_string()]);
    args
}

/// Counts benchmark `id` of the bench binary `exe` in the instr lane under callgrind ([`instr::count`]): asks the binary
/// first whether the benchmark has per-iteration setup, which is then counted alone and subtracted. An
/// interrupt ends the whole run, as in [`lane_outcome`].
pub(crate) fn instr_outcome(
    valgrind: &instr::Valgrind,
    exe: &Path,
    id: &str,
    settings: crate::config::InstrSettings,
    scratch: &Path,
    timeout: Duration,
    results_file: &Path,
) -> Result<LaneOutcome, DriverError> {
    let batched = match probe(exe, id, timeout) {
        Ok(b) => b,
        Err(message) => return Ok(LaneOutcome::Failed(Failure { kind: FailureKind::Error, message })),
    };
    let req = instr::Request { exe, id, batched, extra_iters: settings.extra_iters, cache_sim: settings.cache_sim };
    let counted = instr::count(valgrind, &req, scratch, timeout);
    if interrupted() {
        return Err(DriverError::Interrupted(results_file.to_owned()));
    }
    Ok(match counted {
        Ok(counts) => LaneOutcome::Counted(counts),
        Err(failure) => LaneOutcome::Failed(failure),
    })
}

/// Derives what needs several lanes' figures once a benchmark's lanes have run: the throughput at the
/// median ns/op, and the allocation counter's share of the wall time.
pub(crate) fn finish_metrics(result: &mut BenchResult) {
    let m = &mut result.metrics;
    let Some(median) = m.ns_per_op.as_ref().map(|w| w.median) else { return };
    if let Some(t) = result.throughput {
        m.throughput = ThroughputRate::at(t, median);
    }
    if let Some(o) = m.overhead.as_mut() {
        crate::stats::overhead_alloc_share(o, m.allocs_per_op, median);
    }
}

/// Folds a lane's raw outcome into the metrics, computing estimates with `stats`.
fn apply(metrics: &mut Metrics, outcome: Outcome) {
    match outcome {
        Outcome::Wall(samples) => {
            let estimate = crate::stats::wall_estimate(&samples);
            metrics.overhead = crate::stats::overhead(&samples, estimate.median);
            metrics.ns_per_op = Some(estimate);
            metrics.latency = samples.latencies.map(|l| crate::stats::latency_summary(&l));
            add_reported(metrics, samples.reported);
        }
        Outcome::Alloc { counts, reported } => {
            metrics.allocs_per_op = Some(counts.allocs as f64 / counts.iters as f64);
            metrics.bytes_per_op = Some(counts.bytes as f64 / counts.iters as f64);
            metrics.alloc = Some(counts);
            add_reported(metrics, reported);
        }
        Outcome::Exec { .. } | Outcome::Probe { .. } => {}
    }
}

/// Adds reported figures to `metrics`; the lane that ran first (wall, in the default order) keeps its
/// value where two lanes reported the same name.
fn add_reported(metrics: &mut Metrics, reported: BTreeMap<String, crate::model::Reported>) {
    for (name, value) in reported {
        metrics.reported.entry(name).or_insert(value);
    }
}

/// Whether benchmark `id` of `bin` has per-iteration setup (`iter_batched`), which its exec mode runs
/// along with the routine: a profile of the ops must then subtract runs of the setup alone
/// ([`exec_setup_command`]).
pub fn probe_batched(bin: &BenchBinary, id: &str, timeout: Duration) -> Result<bool, String> {
    probe(&bin.exe, id, timeout)
}

fn probe(exe: &Path, id: &str, timeout: Duration) -> Result<bool, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let report = dir.path().join("probe.json");
    let args = [flag::PROBE.to_owned(), id.to_owned(), flag::REPORT.to_owned(), report.display().to_string()];
    match run_worker(exe, &args, &report, timeout) {
        Ok(ReportBody::Outcome(Outcome::Probe { batched })) => Ok(batched),
        Ok(ReportBody::Error(e)) => Err(e),
        Ok(other) => Err(format!("unexpected report: {other:?}")),
        Err(failure) => Err(failure.message),
    }
}

/// [`exec_command`] running only the per-iteration setup of a batched benchmark, `iters` times.
pub fn exec_setup_command(bin: &BenchBinary, id: &str, iters: u64) -> Command {
    let mut cmd = exec_command(bin, id, iters);
    cmd.arg(flag::SETUP_ONLY);
    cmd
}

/// Runs one benchmark's routine exactly `iters` times through the already-built binary: the command
/// line `benchgate exec` runs (and prints, for wrapping in a profiler).
pub fn exec_command(bin: &BenchBinary, id: &str, iters: u64) -> Command {
    let mut cmd = Command::new(&bin.exe);
    cmd.args([flag::EXEC, id, flag::ITERS, &iters.to_string()]);
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wrapper as cargo runs it (`wrapper rustc ARGS...`), with `echo` for rustc: the metadata made
    /// the same for every side, the codegen units appended after cargo's own flags, and a directory of
    /// its own per setting (cargo fingerprints the wrapper's path).
    #[cfg(unix)]
    #[test]
    fn the_workspace_wrapper_fixes_the_metadata_and_appends_the_codegen_units() {
        let dir = tempfile::tempdir().unwrap();
        let run = |wrapper: &Path| {
            let out = Command::new(wrapper)
                .env_remove("BENCHGATE_USER_WORKSPACE_WRAPPER")
                .args(["echo", "--crate-name", "demo", "-C", "metadata=0123abcd", "-C", "codegen-units=16"])
                .output()
                .unwrap();
            assert!(out.status.success());
            String::from_utf8(out.stdout).unwrap()
        };
        let one = workspace_wrapper(dir.path(), Role::Head, 1).unwrap();
        assert!(one.ends_with("head-cgu1/rustc"), "{}", one.display());
        assert_eq!(run(&one), "--crate-name demo -C metadata=benchgate -C codegen-units=16 -C codegen-units=1\n");
        let profile = workspace_wrapper(dir.path(), Role::Base, 0).unwrap();
        assert!(profile.ends_with("base/rustc"), "{}", profile.display());
        assert_eq!(run(&profile), "--crate-name demo -C metadata=benchgate -C codegen-units=16\n");
    }

    #[test]
    fn scratch_dirs_of_dead_runs_are_removed_and_the_rest_kept() {
        let state = tempfile::tempdir().unwrap();
        let dir = |name: &str| {
            let p = state.path().join(name);
            std::fs::create_dir_all(p.join("sub")).unwrap();
            std::fs::write(p.join("sub/1-wall-0.json"), "{}").unwrap();
            p
        };
        // No process has this id (above any pid_max).
        let dead = dir(&format!(".tmp-{}-aBc123", i32::MAX));
        // The test runner's parent (cargo, or a shell): alive.
        let parent = std::os::unix::process::parent_id();
        let live = dir(&format!(".tmp-{parent}-xYz789"));
        let legacy = dir(".tmpQwErTy");
        let other = dir("worktrees");
        std::fs::write(state.path().join("index.json"), "{}").unwrap();
        let scratch = scratch_dir(state.path()).unwrap();
        assert!(!dead.exists(), "the scratch directory of a dead run is left");
        for kept in [&live, &legacy, &other, &state.path().join("index.json")] {
            assert!(kept.exists(), "{} was removed", kept.display());
        }
        let name = scratch.path().file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with(&format!(".tmp-{}-", std::process::id())), "{name}");
        // A second run of this process keeps the first one's directory.
        let second = scratch_dir(state.path()).unwrap();
        assert!(scratch.path().exists() && second.path().exists());
    }
}
