//! The results format: versioned, serialized types that every lane writes and every later step reads.
//!
//! This module is a boundary. Its types are what `results.json` holds, so they change only together with
//! [`SCHEMA_VERSION`] and `docs/results-format.md`; the JSON Schema in `docs/results.schema.json` is
//! generated from them and a test keeps it current. Collections are `BTreeMap`s or sorted `Vec`s so that
//! files diff cleanly, and nothing here is `flatten`ed or `untagged`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;

#[cfg(test)]
mod fuzz;
mod noise;
pub use benchgate::protocol::{AllocCounts, Reported, Throughput, Unit};
pub use noise::{Floor, NOISE_SCHEMA_VERSION, NoiseFloors};
use serde::{Deserialize, Serialize};

/// The version of the results format this build writes. Bump it when the shape changes.
pub const SCHEMA_VERSION: u32 = 7;

/// Older versions this build still reads: their files are valid files of the current shape (version 2
/// only added the optional `ns_per_op.rounds` and `meta.pairing`; version 3 the optional
/// `metrics.latency`, `metrics.reported` and `meta.libraries`; version 4 the optional `metrics.overhead`;
/// version 5 the optional `ns_per_op.confirm_from` and `meta.screen_p`; version 6 the optional
/// `metrics.alloc_runs`, `alloc.other_threads` and `alloc.threads`; version 7 the optional
/// `metrics.instr_runs`).
pub const READS_SCHEMA_VERSIONS: [u32; 7] = [1, 2, 3, 4, 5, 6, 7];

/// One run of one or more benchmarks: where and how it ran, and what each benchmark measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Results {
    /// Always [`SCHEMA_VERSION`] for files this build writes.
    pub schema_version: u32,
    pub meta: Meta,
    /// Sorted by `id`.
    pub benchmarks: Vec<BenchResult>,
}

/// Where, when and how the results were produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    /// Version of the benchgate binary that wrote the file.
    pub benchgate_version: String,
    /// RFC 3339 UTC time the run started.
    pub started_at: String,
    /// RFC 3339 UTC time the run finished; `None` while it is still running or if it was interrupted.
    pub finished_at: Option<String>,
    /// True while the run is in progress or if it was interrupted: the file then holds every benchmark
    /// that finished.
    pub partial: bool,
    /// Quick mode (short warm-up and measurement) or full.
    pub mode: RunMode,
    /// The lanes that were requested.
    pub lanes: Vec<Lane>,
    pub git: Option<GitInfo>,
    pub toolchain: Toolchain,
    pub machine: Machine,
    /// Set on both sides of an interleaved comparison (`run --compare`) to an identifier of that job
    /// (a random nonce with both commits, never the seed): the same value on base and head means their
    /// wall rounds ran alternately in one job, round `r` of one beside round `r` of the other, so
    /// `compare` pairs them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pairing: Option<String>,
    /// Set on both sides of an interleaved comparison whose wall rounds ran in two stages: a
    /// benchmark whose screening rounds gave a sign-test p-value at or below this was a candidate and
    /// got confirmation rounds (`ns_per_op.confirm_from`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screen_p: Option<f64>,
    /// The libraries the benchmarks were built against: each direct dependency of a package with
    /// bench targets, with its version(s) from Cargo.lock (comma-separated when several are locked).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub libraries: BTreeMap<String, String>,
}

/// The revision that was measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GitInfo {
    /// Full commit id of HEAD.
    pub commit: String,
    /// True if tracked files had uncommitted changes.
    pub dirty: bool,
    /// Branch name, or `None` on a detached HEAD.
    pub branch: Option<String>,
}

/// The Rust toolchain that built the benchmarks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Toolchain {
    /// Output of `rustc -vV`, verbatim.
    pub rustc_verbose: String,
    /// The `release:` line of `rustc -vV`, e.g. `1.95.0`.
    pub rustc_release: String,
    /// The target triple the benchmarks were built for.
    pub target: String,
}

/// The machine the benchmarks ran on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Machine {
    pub cpu_model: String,
    /// Logical cores available to the process.
    pub cores: u32,
    /// Total memory in bytes.
    pub memory_bytes: u64,
    /// OS name and version, e.g. `Debian GNU/Linux 12 (bookworm)`.
    pub os: String,
    pub kernel: String,
    pub arch: String,
    /// A stable hash of the properties that make wall times comparable (CPU model, cores, memory, OS,
    /// architecture). Two runs with different fingerprints must not be compared on wall time.
    pub fingerprint: String,
}

/// Quick or full measurement settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunMode {
    Quick,
    Full,
}

impl fmt::Display for RunMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RunMode::Quick => "quick",
            RunMode::Full => "full",
        })
    }
}

/// A measurement lane: one way of measuring the same benchmark declaration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Lane {
    /// Wall-clock time per op, sampled.
    Wall,
    /// Allocations and bytes per op, counted exactly.
    Alloc,
    /// Instructions per op, counted under callgrind.
    Instr,
}

impl Lane {
    pub const ALL: [Lane; 3] = [Lane::Wall, Lane::Alloc, Lane::Instr];

    pub fn name(self) -> &'static str {
        match self {
            Lane::Wall => "wall",
            Lane::Alloc => "alloc",
            Lane::Instr => "instr",
        }
    }

    pub fn parse(s: &str) -> Option<Lane> {
        Lane::ALL.into_iter().find(|l| l.name() == s)
    }
}

impl fmt::Display for Lane {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What one benchmark measured in each lane that ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BenchResult {
    /// `suite/name[/param]`.
    pub id: String,
    pub suite: String,
    pub name: String,
    pub param: Option<String>,
    /// The throughput annotation of the declaration: how much work one op does.
    pub throughput: Option<Throughput>,
    pub metrics: Metrics,
    /// Lanes that failed for this benchmark (panic, timeout, non-zero exit), keyed by lane name.
    pub failures: BTreeMap<Lane, Failure>,
    /// Lanes that were requested but not run, with the reason (e.g. valgrind missing).
    pub skipped: BTreeMap<Lane, String>,
}

impl BenchResult {
    pub fn failed(&self) -> bool {
        !self.failures.is_empty()
    }
}

/// Why a lane failed for a benchmark.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Failure {
    pub kind: FailureKind,
    /// A human-readable explanation, with the tail of the benchmark's stderr where there is one.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The routine panicked.
    Panic,
    /// The lane exceeded its timeout and was killed.
    Timeout,
    /// The process exited unsuccessfully or its report could not be read.
    Error,
}

/// The figures per op. Each is present only if its lane ran and succeeded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Metrics {
    pub ns_per_op: Option<WallEstimate>,
    /// Bytes allocated per op (a realloc counts its new size), as valgrind memcheck counts them.
    pub bytes_per_op: Option<f64>,
    /// Allocations per op (a realloc counts as one), as valgrind memcheck counts them.
    pub allocs_per_op: Option<f64>,
    /// The raw counts behind `bytes_per_op` and `allocs_per_op`.
    pub alloc: Option<AllocCounts>,
    /// Instructions executed per op (callgrind `Ir`).
    pub instructions_per_op: Option<f64>,
    /// Estimated cycles per op (callgrind's cache-simulated estimate), when available.
    pub estimated_cycles_per_op: Option<f64>,
    /// The raw counts behind `instructions_per_op`.
    pub instr: Option<InstrCounts>,
    /// Throughput derived from the median ns/op and the declared throughput.
    pub throughput: Option<ThroughputRate>,
    /// Per-event latencies the routine recorded (`Bencher::iter_latency`), over every wall process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<LatencySummary>,
    /// Figures the benchmark reported that are not per op (`Bencher::report`), e.g. an encoded size or
    /// a database's size on disk, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reported: BTreeMap<String, Reported>,
    /// What measuring the wall time cost, as a share of the median ns/op (schema version 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overhead: Option<Overhead>,
    /// Every alloc-lane run of a benchmark whose counts threads took part in (`alloc.other_threads`,
    /// `alloc.threads`), counted in several processes; `alloc` is the median run (schema version 6).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alloc_runs: Vec<AllocCounts>,
    /// Every instr-lane count of a benchmark counted again because its first counts on the two sides of
    /// a comparison differed beyond the threshold: two a side when they repeat exactly; when they vary
    /// between processes, until the sides' ranges meet within the threshold, up to seven; `instr` is the
    /// median run (schema version 7).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instr_runs: Vec<InstrCounts>,
}

/// What the wall lane's measurement adds to the time it measures, calibrated in each wall process
/// (`measure::overhead`) and set against the median ns/op (`stats::overhead`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Overhead {
    /// Timed intervals per op: 1 / iterations per sample for routines timed as a whole, one per batch
    /// over the batch's iterations for `iter_batched`.
    pub intervals_per_op: f64,
    /// What one timed interval adds (two clock reads), in nanoseconds: the median of the processes'
    /// calibrations.
    pub timer_ns: f64,
    /// `intervals_per_op * timer_ns / median ns/op`.
    pub timer_share: f64,
    /// What the counting allocator adds to an allocation and its free with counting off, in
    /// nanoseconds; absent when it is not the bench binary's global allocator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alloc_pair_ns: Option<f64>,
    /// `allocs_per_op * alloc_pair_ns / median ns/op`; absent unless both are known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alloc_share: Option<f64>,
}

impl Overhead {
    /// The timer's and the allocation counter's shares together.
    pub fn total_share(&self) -> f64 {
        self.timer_share + self.alloc_share.unwrap_or(0.0)
    }
}

/// The distribution of per-event latencies (e.g. enqueue to dequeue) a routine recorded while its wall
/// time was sampled, in nanoseconds. Percentiles are nearest-rank over the events kept (every event up
/// to 100,000 per process, a uniform reservoir sample beyond); `count`, `mean` and `max` are exact.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LatencySummary {
    /// Events recorded (warm-up excluded).
    pub count: u64,
    /// Events the percentiles were computed from.
    pub kept: u64,
    pub mean: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

/// Wall-time estimate of one benchmark, with every raw sample kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WallEstimate {
    /// Median of the per-sample ns/op values.
    pub median: f64,
    /// Mean of the per-sample ns/op values.
    pub mean: f64,
    /// Least-squares slope of sample time against iterations (criterion's linear-sampling estimate).
    pub slope: f64,
    /// Sample standard deviation of the per-sample ns/op values.
    pub std_dev: f64,
    /// 95% bootstrap confidence interval of the median, `[low, high]`.
    pub ci95: [f64; 2],
    /// Per-sample ns/op, in the order taken.
    pub samples: Vec<f64>,
    /// Iterations in each sample, parallel to `samples`.
    pub sample_iters: Vec<u64>,
    /// Iterations run during warm-up (not part of the samples).
    pub warmup_iters: u64,
    /// For interleaved comparisons (`run --compare`): the round each sample was taken in, parallel to
    /// `samples`. Absent (empty) for an ordinary run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rounds: Vec<u32>,
    /// For interleaved comparisons measured in two stages: the first round of the confirmation stage.
    /// Rounds before it screened every benchmark; this benchmark was a candidate, and the rounds from
    /// it on were measured afresh to confirm or clear it (ARCHITECTURE.md, "Two stages"). Absent: one
    /// stage, or not a candidate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm_from: Option<u32>,
}

/// Instruction counts of two exec runs whose difference gives the per-op figure.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InstrCounts {
    /// Iterations of the short and the long run.
    pub iters: [u64; 2],
    /// Total instructions (Ir) of the short and the long run.
    pub instructions: [u64; 2],
    /// Total estimated cycles of the short and the long run, when callgrind provided them.
    pub estimated_cycles: Option<[u64; 2]>,
    /// For batched benchmarks: total instructions of the same two runs with the routine skipped (setup
    /// only), subtracted so that per-iteration setup is not counted.
    pub setup_instructions: Option<[u64; 2]>,
    /// Estimated cycles of the setup-only runs, when both are known.
    pub setup_estimated_cycles: Option<[u64; 2]>,
}

impl InstrCounts {
    /// Instructions per op: the difference between the long and the short run per extra iteration,
    /// less the same difference of the setup-only runs.
    pub fn instructions_per_op(&self) -> f64 {
        per_op(self.iters, self.instructions, self.setup_instructions)
    }

    /// Estimated cycles per op, computed like [`InstrCounts::instructions_per_op`].
    pub fn estimated_cycles_per_op(&self) -> Option<f64> {
        let cycles = self.estimated_cycles?;
        match self.setup_instructions {
            Some(_) => Some(per_op(self.iters, cycles, Some(self.setup_estimated_cycles?))),
            None => Some(per_op(self.iters, cycles, None)),
        }
    }
}

fn per_op(iters: [u64; 2], totals: [u64; 2], setup: Option<[u64; 2]>) -> f64 {
    let extra = iters[1].saturating_sub(iters[0]).max(1) as f64;
    let delta = |t: [u64; 2]| t[1] as f64 - t[0] as f64;
    (delta(totals) - setup.map_or(0.0, delta)) / extra
}

/// Throughput per second at the median wall time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ThroughputRate {
    BytesPerSec(f64),
    ElementsPerSec(f64),
}

impl ThroughputRate {
    /// Derives the rate at `ns_per_op` for a declared throughput.
    pub fn at(throughput: Throughput, ns_per_op: f64) -> Option<ThroughputRate> {
        if ns_per_op <= 0.0 || !ns_per_op.is_finite() {
            return None;
        }
        let per_sec = 1e9 / ns_per_op;
        Some(match throughput {
            Throughput::Bytes(n) => ThroughputRate::BytesPerSec(n as f64 * per_sec),
            Throughput::Elements(n) => ThroughputRate::ElementsPerSec(n as f64 * per_sec),
        })
    }
}

/// A results file that could not be read, naming the file and what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("{}: {kind}", path.display())]
pub struct LoadError {
    pub path: PathBuf,
    pub kind: LoadErrorKind,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadErrorKind {
    #[error("cannot read file: {0}")]
    Io(#[from] std::io::Error),
    #[error("file is empty")]
    Empty,
    /// JSON has no byte-order mark (RFC 8259); an editor added one.
    #[error("file starts with a UTF-8 byte-order mark, which JSON does not allow: save it without one")]
    ByteOrderMark,
    #[error("file is truncated (unexpected end of JSON at line {line}, column {column})")]
    Truncated { line: usize, column: usize },
    #[error("non-finite number ({token}) at line {line}, column {column}: results must hold finite numbers")]
    NonFiniteLiteral { token: String, line: usize, column: usize },
    #[error("not valid JSON: {0}")]
    Syntax(serde_json::Error),
    /// The version field (named) is missing: not a benchgate file of that kind (named).
    #[error("missing `{0}`: not a benchgate {1} file")]
    NoSchemaVersion(&'static str, &'static str),
    /// The version field (named) is present but not a whole number (what it is instead).
    #[error("`{0}` is {1}, not a version number")]
    SchemaVersionType(&'static str, String),
    #[error(
        "schema version {found} is not supported (this benchgate writes version {expected} and reads versions {})",
        versions_read()
    )]
    SchemaVersion { found: u64, expected: u32 },
    #[error("does not match the results format: {0}")]
    Shape(serde_json::Error),
    #[error("benchmark `{id}`: {field} is not a finite number")]
    NonFinite { id: String, field: String },
    #[error("benchmark `{id}`: {problem}")]
    Invalid { id: String, problem: String },
}

impl Results {
    /// Reads and validates a results file.
    pub fn load(path: &Path) -> Result<Results, LoadError> {
        let err = |kind| LoadError { path: path.to_owned(), kind };
        let text = std::fs::read_to_string(path).map_err(|e| err(LoadErrorKind::Io(e)))?;
        Results::parse(&text).map_err(err)
    }

    /// Parses and validates results from JSON text.
    pub fn parse(text: &str) -> Result<Results, LoadErrorKind> {
        let value = parse_json(text)?;
        let version = schema_version(&value, "schema_version", "results")?;
        if !READS_SCHEMA_VERSIONS.iter().any(|v| u64::from(*v) == version) {
            return Err(LoadErrorKind::SchemaVersion { found: version, expected: SCHEMA_VERSION });
        }
        let results: Results = serde_json::from_value(value).map_err(LoadErrorKind::Shape)?;
        results.validate()?;
        Ok(results)
    }

    /// Checks what serde cannot: finite numbers, consistent samples, unique sorted ids.
    pub fn validate(&self) -> Result<(), LoadErrorKind> {
        let mut previous: Option<&str> = None;
        for b in &self.benchmarks {
            let invalid = |problem: String| LoadErrorKind::Invalid { id: b.id.clone(), problem };
            if let Some(p) = previous
                && p >= b.id.as_str()
            {
                return Err(invalid(format!("benchmarks are not sorted by id or `{p}` repeats")));
            }
            previous = Some(&b.id);
            for (field, value) in b.metrics.finite_fields() {
                if !value.is_finite() {
                    return Err(LoadErrorKind::NonFinite { id: b.id.clone(), field });
                }
            }
            if let Some(w) = &b.metrics.ns_per_op
                && !w.rounds.is_empty()
                && w.rounds.len() != w.samples.len()
            {
                return Err(invalid(format!(
                    "ns_per_op has {} samples but {} rounds",
                    w.samples.len(),
                    w.rounds.len()
                )));
            }
            if let Some(w) = &b.metrics.ns_per_op
                && w.samples.is_empty()
            {
                return Err(invalid("ns_per_op has no samples".into()));
            }
            if let Some(w) = &b.metrics.ns_per_op
                && w.samples.len() != w.sample_iters.len()
            {
                return Err(invalid(format!(
                    "ns_per_op has {} samples but {} sample_iters",
                    w.samples.len(),
                    w.sample_iters.len()
                )));
            }
            if let Some(problem) = b.metrics.out_of_range() {
                return Err(invalid(problem));
            }
        }
        Ok(())
    }

    /// Serializes to pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("results serialize");
        s.push('\n');
        s
    }

    /// Inserts or replaces a benchmark's result, keeping the list sorted by id.
    pub fn upsert(&mut self, result: BenchResult) {
        match self.benchmarks.binary_search_by(|b| b.id.cmp(&result.id)) {
            Ok(i) => self.benchmarks[i] = result,
            Err(i) => self.benchmarks.insert(i, result),
        }
    }
}

impl Metrics {
    /// The first figure outside the range its meaning allows, said with its field and value: times,
    /// rates and iteration counts are positive, counts and shares are not negative, an interval's low
    /// end is not above its high end. (Finiteness is checked by [`Metrics::finite_fields`].)
    fn out_of_range(&self) -> Option<String> {
        let positive = |name: &str, v: f64| (v <= 0.0).then(|| format!("{name} is {v}: it must be positive"));
        let not_negative = |name: &str, v: f64| (v < 0.0).then(|| format!("{name} is {v}: it cannot be negative"));
        if let Some(w) = &self.ns_per_op {
            for (name, v) in [("median", w.median), ("mean", w.mean), ("slope", w.slope)] {
                if let Some(p) = positive(&format!("ns_per_op.{name}"), v) {
                    return Some(p);
                }
            }
            if let Some(p) = not_negative("ns_per_op.std_dev", w.std_dev) {
                return Some(p);
            }
            if let Some(p) = positive("ns_per_op.ci95[0]", w.ci95[0]) {
                return Some(p);
            }
            if w.ci95[0] > w.ci95[1] {
                return Some(format!(
                    "ns_per_op.ci95 is [{}, {}]: its low end is above its high end",
                    w.ci95[0], w.ci95[1]
                ));
            }
            if let Some((i, s)) = w.samples.iter().enumerate().find(|(_, s)| **s <= 0.0) {
                return Some(format!("ns_per_op.samples[{i}] is {s}: it must be positive"));
            }
            if let Some(i) = w.sample_iters.iter().position(|n| *n == 0) {
                return Some(format!("ns_per_op.sample_iters[{i}] is 0: every sample runs at least one iteration"));
            }
        }
        let counts = [
            ("bytes_per_op", self.bytes_per_op),
            ("allocs_per_op", self.allocs_per_op),
            ("instructions_per_op", self.instructions_per_op),
            ("estimated_cycles_per_op", self.estimated_cycles_per_op),
        ];
        for (name, v) in counts {
            if let Some(p) = v.and_then(|v| not_negative(name, v)) {
                return Some(p);
            }
        }
        if let Some(a) = &self.alloc
            && a.iters == 0
        {
            return Some("alloc.iters is 0: allocations are counted over at least one iteration".into());
        }
        if self.alloc_runs.iter().any(|a| a.iters == 0) {
            return Some(
                "alloc_runs holds a run of 0 iters: allocations are counted over at least one iteration".into(),
            );
        }
        if !self.alloc_runs.is_empty() && self.alloc.is_none() {
            return Some("alloc_runs without alloc: the runs' median is the alloc lane's figure".into());
        }
        if !self.instr_runs.is_empty() && self.instr.is_none() {
            return Some("instr_runs without instr: the runs' median is the instr lane's figure".into());
        }
        if let Some(i) = self.instr.iter().chain(&self.instr_runs).find(|i| i.iters[1] <= i.iters[0]) {
            return Some(format!(
                "instr.iters is [{}, {}]: the long run must have more iterations than the short one",
                i.iters[0], i.iters[1]
            ));
        }
        if let Some(rate) = self.throughput {
            let (ThroughputRate::BytesPerSec(v) | ThroughputRate::ElementsPerSec(v)) = rate;
            if let Some(p) = positive("throughput", v) {
                return Some(p);
            }
        }
        if let Some(l) = &self.latency {
            for (name, v) in [("mean", l.mean), ("p50", l.p50), ("p95", l.p95), ("p99", l.p99), ("max", l.max)] {
                if let Some(p) = not_negative(&format!("latency.{name}"), v) {
                    return Some(p);
                }
            }
            if l.kept > l.count {
                return Some(format!("latency.kept is {} but latency.count only {}", l.kept, l.count));
            }
        }
        if let Some(o) = &self.overhead {
            let shares = [
                ("intervals_per_op", Some(o.intervals_per_op)),
                ("timer_ns", Some(o.timer_ns)),
                ("timer_share", Some(o.timer_share)),
                ("alloc_pair_ns", o.alloc_pair_ns),
                ("alloc_share", o.alloc_share),
            ];
            for (name, v) in shares {
                if let Some(p) = v.and_then(|v| not_negative(&format!("overhead.{name}"), v)) {
                    return Some(p);
                }
            }
        }
        None
    }

    /// Every floating-point figure with its field name, for validation.
    fn finite_fields(&self) -> Vec<(String, f64)> {
        let mut out = Vec::new();
        if let Some(w) = &self.ns_per_op {
            for (name, v) in [("median", w.median), ("mean", w.mean), ("slope", w.slope), ("std_dev", w.std_dev)] {
                out.push((format!("ns_per_op.{name}"), v));
            }
            out.push(("ns_per_op.ci95[0]".into(), w.ci95[0]));
            out.push(("ns_per_op.ci95[1]".into(), w.ci95[1]));
            for (i, s) in w.samples.iter().enumerate() {
                out.push((format!("ns_per_op.samples[{i}]"), *s));
            }
        }
        let scalars = [
            ("bytes_per_op", self.bytes_per_op),
            ("allocs_per_op", self.allocs_per_op),
            ("instructions_per_op", self.instructions_per_op),
            ("estimated_cycles_per_op", self.estimated_cycles_per_op),
        ];
        for (name, v) in scalars {
            if let Some(v) = v {
                out.push((name.to_owned(), v));
            }
        }
        if let Some(rate) = self.throughput {
            let (ThroughputRate::BytesPerSec(v) | ThroughputRate::ElementsPerSec(v)) = rate;
            out.push(("throughput".into(), v));
        }
        if let Some(l) = &self.latency {
            for (name, v) in [("mean", l.mean), ("p50", l.p50), ("p95", l.p95), ("p99", l.p99), ("max", l.max)] {
                out.push((format!("latency.{name}"), v));
            }
        }
        for (name, r) in &self.reported {
            out.push((format!("reported.{name}"), r.value));
        }
        out
    }
}

fn versions_read() -> String {
    let v = READS_SCHEMA_VERSIONS.map(|v| v.to_string());
    match v.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => v.join(""),
    }
}

/// The version field `field` of a file of `kind`: missing, or of the wrong type, each said as such.
pub(crate) fn schema_version(
    value: &serde_json::Value,
    field: &'static str,
    kind: &'static str,
) -> Result<u64, LoadErrorKind> {
    use serde_json::Value;
    let v = value.get(field).ok_or(LoadErrorKind::NoSchemaVersion(field, kind))?;
    v.as_u64().ok_or_else(|| {
        let what = match v {
            Value::Null => "null".to_owned(),
            Value::Bool(b) => format!("a boolean ({b})"),
            Value::Number(n) => format!("the number {n}"),
            Value::String(t) => format!("a string ({t:?})"),
            Value::Array(_) => "an array".to_owned(),
            Value::Object(_) => "an object".to_owned(),
        };
        LoadErrorKind::SchemaVersionType(field, what)
    })
}

/// Parses JSON text loosely, so that a wrong version can be reported as such rather than as a shape
/// error, with empty, truncated and NaN-holding files explained.
pub(crate) fn parse_json(text: &str) -> Result<serde_json::Value, LoadErrorKind> {
    if text.trim().is_empty() {
        return Err(LoadErrorKind::Empty);
    }
    if text.starts_with('\u{feff}') {
        return Err(LoadErrorKind::ByteOrderMark);
    }
    serde_json::from_str(text).map_err(|e| classify_syntax(text, e))
}

/// Turns a serde_json syntax error into the most useful explanation: truncation and NaN are common
/// enough to deserve their own messages.
fn classify_syntax(text: &str, e: serde_json::Error) -> LoadErrorKind {
    let (line, column) = (e.line(), e.column());
    if e.is_eof() {
        return LoadErrorKind::Truncated { line, column };
    }
    if let Some(token) = token_at(text, line, column) {
        let bare = token.trim_start_matches('-');
        if bare.starts_with("NaN") || bare.starts_with("Infinity") || bare.starts_with("inf") {
            return LoadErrorKind::NonFiniteLiteral { token, line, column };
        }
    }
    LoadErrorKind::Syntax(e)
}

/// The word at (or just before) a 1-based line and column, as serde_json reports positions.
fn token_at(text: &str, line: usize, column: usize) -> Option<String> {
    let l = text.lines().nth(line.checked_sub(1)?)?;
    let bytes = l.as_bytes();
    let mut end = column.min(bytes.len());
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'.';
    while end < bytes.len() && is_word(bytes[end]) {
        end += 1;
    }
    let mut start = column.saturating_sub(1).min(end);
    while start > 0 && is_word(bytes[start - 1]) {
        start -= 1;
    }
    // Byte offsets, not characters: the column may point into a multi-byte character, so the word is
    // cut from the bytes (lossily) rather than by slicing the string.
    (start < end).then(|| String::from_utf8_lossy(&bytes[start..end]).into_owned())
}

/// The JSON Schema of the results format, as written to `docs/results.schema.json`.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Results);
    let mut s = serde_json::to_string_pretty(&schema).expect("schema serializes");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Non-ASCII text next to a syntax error, and a byte-order mark, are errors, never panics (the
    /// error's column is a byte offset that may fall inside a character).
    #[test]
    fn non_ascii_input_gives_errors_not_panics() {
        assert!(matches!(Results::parse("\u{feff}{\"schema_version\": 2}"), Err(LoadErrorKind::ByteOrderMark)));
        for text in ["{\"é\": é}", "é", "{\"a\": 1,, \"ü\"}", "[\"日本\" 語]", "{\"x\":\u{2028}NaN}"] {
            let e = Results::parse(text).unwrap_err();
            assert!(!e.to_string().is_empty(), "{text}");
        }
        // Every cut of a multi-byte text: no panic anywhere.
        let text = "{\"schema_version\": 2, \"métier\": \"日本語\", \"x\": [1, 2, é]}";
        for (i, _) in text.char_indices() {
            let _ = Results::parse(&text[..i]);
            let _ = Results::parse(&format!("{}é{}", &text[..i], &text[i..]));
        }
    }

    fn minimal() -> Results {
        Results {
            schema_version: SCHEMA_VERSION,
            meta: Meta {
                benchgate_version: "0.1.0".into(),
                started_at: "2026-11-21T00:00:00Z".into(),
                finished_at: None,
                partial: false,
                mode: RunMode::Quick,
                lanes: vec![Lane::Wall, Lane::Alloc],
                git: None,
                toolchain: Toolchain {
                    rustc_verbose: String::new(),
                    rustc_release: "1.95.0".into(),
                    target: "x".into(),
                },
                machine: Machine {
                    cpu_model: "cpu".into(),
                    cores: 2,
                    memory_bytes: 1 << 30,
                    os: "linux".into(),
                    kernel: "6".into(),
                    arch: "x86_64".into(),
                    fingerprint: "0".into(),
                },
                pairing: None,
                screen_p: None,
                libraries: BTreeMap::new(),
            },
            benchmarks: vec![BenchResult {
                id: "s/a".into(),
                suite: "s".into(),
                name: "a".into(),
                param: None,
                throughput: Some(Throughput::Bytes(10)),
                metrics: Metrics {
                    ns_per_op: Some(WallEstimate {
                        median: 1.5,
                        mean: 1.5,
                        slope: 1.5,
                        std_dev: 0.0,
                        ci95: [1.5, 1.5],
                        samples: vec![1.5, 1.5],
                        sample_iters: vec![1, 2],
                        warmup_iters: 3,
                        rounds: Vec::new(),
                        confirm_from: None,
                    }),
                    allocs_per_op: Some(3.0),
                    bytes_per_op: Some(300.0),
                    ..Metrics::default()
                },
                failures: BTreeMap::new(),
                skipped: BTreeMap::new(),
            }],
        }
    }

    #[test]
    fn round_trips() {
        let r = minimal();
        assert_eq!(Results::parse(&r.to_json()).unwrap(), r);
    }

    #[test]
    fn truncated_file_is_named_truncated() {
        let text = minimal().to_json();
        let e = Results::parse(&text[..text.len() / 2]).unwrap_err();
        assert!(matches!(e, LoadErrorKind::Truncated { .. }), "{e}");
        assert!(matches!(Results::parse("  \n"), Err(LoadErrorKind::Empty)));
    }

    #[test]
    fn nan_literal_is_reported_as_non_finite() {
        let text = minimal().to_json().replacen("\"median\": 1.5", "\"median\": NaN", 1);
        let e = Results::parse(&text).unwrap_err();
        assert!(matches!(&e, LoadErrorKind::NonFiniteLiteral { token, .. } if token == "NaN"), "{e}");
    }

    #[test]
    fn other_schema_versions_are_rejected_by_number() {
        let text = minimal().to_json().replacen("\"schema_version\": 7", "\"schema_version\": 99", 1);
        let e = Results::parse(&text).unwrap_err();
        assert!(matches!(e, LoadErrorKind::SchemaVersion { found: 99, expected: SCHEMA_VERSION }), "{e}");
        assert!(e.to_string().contains("writes version 7 and reads versions 1, 2, 3, 4, 5, 6 and 7"), "{e}");
        // Versions 1 to 6 are version 7 without the optional fields added since: still read.
        for old in [1, 2, 3, 4, 5, 6] {
            let text = minimal().to_json().replacen("\"schema_version\": 7", &format!("\"schema_version\": {old}"), 1);
            assert!(Results::parse(&text).is_ok(), "version {old}");
        }
        assert!(matches!(Results::parse("{}"), Err(LoadErrorKind::NoSchemaVersion(..))));
        for (wrong, said) in
            [("\"5\"", "a string (\"5\")"), ("-5", "the number -5"), ("5.5", "the number 5.5"), ("null", "null")]
        {
            let e = Results::parse(&format!("{{\"schema_version\": {wrong}}}")).unwrap_err();
            assert_eq!(e.to_string(), format!("`schema_version` is {said}, not a version number"));
        }
    }

    #[test]
    fn figures_outside_their_range_are_refused_by_field_and_value() {
        type Spoil = fn(&mut Metrics);
        let cases: [(&str, Spoil); 9] = [
            ("ns_per_op.samples[1] is -1.5: it must be positive", |m| m.ns_per_op.as_mut().unwrap().samples[1] = -1.5),
            ("ns_per_op.samples[0] is 0: it must be positive", |m| m.ns_per_op.as_mut().unwrap().samples[0] = 0.0),
            ("ns_per_op.median is -1: it must be positive", |m| m.ns_per_op.as_mut().unwrap().median = -1.0),
            ("ns_per_op.std_dev is -0.5: it cannot be negative", |m| m.ns_per_op.as_mut().unwrap().std_dev = -0.5),
            ("ns_per_op.ci95 is [2, 1]: its low end is above its high end", |m| {
                m.ns_per_op.as_mut().unwrap().ci95 = [2.0, 1.0]
            }),
            ("ns_per_op.sample_iters[0] is 0: every sample runs at least one iteration", |m| {
                m.ns_per_op.as_mut().unwrap().sample_iters[0] = 0
            }),
            ("allocs_per_op is -3: it cannot be negative", |m| m.allocs_per_op = Some(-3.0)),
            ("bytes_per_op is -1: it cannot be negative", |m| m.bytes_per_op = Some(-1.0)),
            ("instructions_per_op is -7: it cannot be negative", |m| m.instructions_per_op = Some(-7.0)),
        ];
        for (said, spoil) in cases {
            let mut r = minimal();
            spoil(&mut r.benchmarks[0].metrics);
            let e = Results::parse(&r.to_json()).unwrap_err();
            assert_eq!(e.to_string(), format!("benchmark `{}`: {said}", r.benchmarks[0].id));
        }
        // Zero counts are counts: a routine that allocates nothing is valid.
        let mut r = minimal();
        r.benchmarks[0].metrics.allocs_per_op = Some(0.0);
        r.benchmarks[0].metrics.bytes_per_op = Some(0.0);
        assert!(Results::parse(&r.to_json()).is_ok());
    }

    #[test]
    fn validation_catches_what_serde_cannot() {
        let mut r = minimal();
        r.benchmarks[0].metrics.ns_per_op.as_mut().unwrap().samples[0] = f64::NAN;
        // serde_json writes NaN as null, which the shape check rejects before validation.
        assert!(Results::parse(&r.to_json()).is_err());
        assert!(matches!(r.validate(), Err(LoadErrorKind::NonFinite { .. })));
        let mut r = minimal();
        r.benchmarks.push(r.benchmarks[0].clone());
        assert!(matches!(r.validate(), Err(LoadErrorKind::Invalid { .. })));
    }
}
