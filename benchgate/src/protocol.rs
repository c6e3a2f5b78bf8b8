//! The protocol between the `benchgate` driver and a bench binary (one process per benchmark and lane).
//!
//! The driver runs `<bench-binary> --benchgate-<request> ... --report FILE`; the bench binary writes one
//! JSON [`Report`] to FILE. A file, not stdout, because benchmark code may print. Raw data only crosses
//! this boundary: estimates are computed by the driver. The base and head of a revision comparison may be
//! built with different benchgate versions, so the report carries [`PROTOCOL_VERSION`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::measure::wall::{WallPlan, WallSamples};

pub const PROTOCOL_VERSION: u32 = 2;

/// A benchmark as declared, without its closure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeclInfo {
    pub id: String,
    pub suite: String,
    pub name: String,
    pub param: Option<String>,
    pub throughput: Option<Throughput>,
}

impl DeclInfo {
    pub fn new(suite: &str, name: &str, param: Option<String>, throughput: Option<Throughput>) -> DeclInfo {
        let id = match &param {
            Some(p) => format!("{suite}/{name}/{p}"),
            None => format!("{suite}/{name}"),
        };
        DeclInfo { id, suite: suite.to_owned(), name: name.to_owned(), param, throughput }
    }
}

/// What the bench binary is asked to do with the selected benchmark.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Task {
    /// Sample wall time.
    Wall(WallPlan),
    /// Count allocations over `iters` iterations (after one uncounted iteration).
    Alloc { iters: u64 },
    /// Run exactly `iters` iterations and nothing else; with `routine: false`, only the per-iteration
    /// setup of a batched benchmark (what the instr lane subtracts).
    Exec { iters: u64, routine: bool },
    /// Run the closure's setup and report how the routine is driven, without running it.
    Probe,
}

/// The raw outcome of a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Outcome {
    Wall(WallSamples),
    Alloc {
        counts: AllocCounts,
        /// Figures the benchmark reported (`Bencher::report`).
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        reported: BTreeMap<String, Reported>,
    },
    Exec {
        iters: u64,
    },
    /// `batched`: the routine has per-iteration setup (`iter_batched`, `iter_batched_ref`).
    Probe {
        batched: bool,
    },
}

/// What a bench binary writes to its report file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub protocol: u32,
    pub body: ReportBody,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ReportBody {
    /// The declarations of this binary (`--benchgate-list`).
    List { benchmarks: Vec<DeclInfo>, duplicates: Vec<String> },
    /// The outcome of one benchmark in one lane.
    Outcome(Outcome),
    /// The benchmark could not run (unknown id, never called iter, lane unavailable).
    Error(String),
    /// The lane is not available here (e.g. valgrind missing); the reason is one line.
    Skipped(String),
}

/// Command-line flags of the protocol, in one place for both sides.
pub mod flag {
    pub const LIST: &str = "--benchgate-list";
    pub const RUN: &str = "--benchgate-run";
    pub const EXEC: &str = "--benchgate-exec";
    /// Answers whether a benchmark has per-iteration setup (`Outcome::Probe`).
    pub const PROBE: &str = "--benchgate-probe";
    pub const REPORT: &str = "--report";
    pub const LANE: &str = "--lane";
    pub const ITERS: &str = "--iters";
    pub const SETUP_ONLY: &str = "--setup-only";
    pub const WARM_UP_MS: &str = "--warm-up-ms";
    pub const MEASUREMENT_MS: &str = "--measurement-ms";
    pub const SAMPLES: &str = "--samples";
}

/// Work done by one op, as declared.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Throughput {
    /// Bytes processed per op.
    Bytes(u64),
    /// Elements (messages, records, ...) processed per op.
    Elements(u64),
}

/// A figure a benchmark reported once, not per op.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Reported {
    pub value: f64,
    pub unit: Unit,
}

/// The unit of a [`Reported`] figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Bytes,
    Count,
}

/// Exact allocation counts over `iters` iterations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AllocCounts {
    /// Iterations counted (after one uncounted warm-up iteration).
    pub iters: u64,
    /// Allocations, including reallocations.
    pub allocs: u64,
    /// Deallocations.
    pub frees: u64,
    /// Bytes requested by allocations and reallocations (new size).
    pub bytes: u64,
    /// Highest number of live heap bytes above the level at the start of counting.
    pub peak_live_bytes: u64,
    /// Of `allocs`, those made by threads other than the one running the routine (a queue's consumer,
    /// a pool's workers): how many there are can depend on how the threads were scheduled.
    #[serde(default)]
    pub other_threads: u64,
    /// Threads in the process when counting stopped (Linux; 0 where unknown). With more than one, the
    /// routine's own allocations can depend on scheduling too (a blocked send registers a waker).
    #[serde(default)]
    pub threads: u64,
}

impl AllocCounts {
    /// Whether these counts can differ from process to process with the scheduling of threads, so
    /// that one count is not the whole story: other threads allocated, or were alive.
    pub fn threaded(&self) -> bool {
        self.other_threads > 0 || self.threads > 1
    }
}
