//! `benchgate bisect --bench ID --good A --bad B`: builds commits of the range in the bisect worktree
//! and measures one benchmark's figure in one lane (instructions by default: deterministic) until the
//! commit that changed it is found; keeps every commit's results and writes `bisect.json`.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Serialize;

use super::{Progress, default_run_dir, exit_code, load_config, new_meta};
use crate::bisect::{self, Commit, Probe};
use crate::config::Config;
use crate::driver::{self, DriverError, RunOptions, Workspace};
use crate::model::{Lane, RunMode};
use crate::report;
use crate::revision::{self, short};

#[derive(clap::Args)]
pub(crate) struct BisectArgs {
    /// The benchmark, `suite/name[/param]`.
    #[arg(long)]
    bench: String,
    /// A revision with the old figure.
    #[arg(long)]
    good: String,
    /// A revision with the new figure (a descendant of --good).
    #[arg(long, default_value = "HEAD")]
    bad: String,
    /// The figure compared: `instructions` (instr lane, needs valgrind; exact), `allocs` or `bytes`
    /// (alloc lane; exact), `ns` (wall lane, median ns/op; noisy: for large changes only).
    #[arg(long, value_enum, default_value_t = Metric::Instructions)]
    metric: Metric,
    /// The smallest change between good and bad worth bisecting: a ratio for instructions and ns
    /// (0.005 = 0.5%), an amount per op for allocs and bytes (default: the gate's threshold for the
    /// benchmark).
    #[arg(long)]
    threshold: Option<f64>,
    /// Quick-mode measurement (fewer iterations).
    #[arg(long)]
    quick: bool,
    /// Folder for every commit's results and `bisect.json` (default: `<reports_dir>/bisect-<time>`).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
enum Metric {
    Instructions,
    Allocs,
    Bytes,
    Ns,
}

impl Metric {
    fn lane(self) -> Lane {
        match self {
            Metric::Instructions => Lane::Instr,
            Metric::Allocs | Metric::Bytes => Lane::Alloc,
            Metric::Ns => Lane::Wall,
        }
    }

    fn unit(self) -> &'static str {
        match self {
            Metric::Instructions => "instr/op",
            Metric::Allocs => "allocs/op",
            Metric::Bytes => "B/op",
            Metric::Ns => "ns/op",
        }
    }

    /// Whether a threshold is a ratio (else an amount per op).
    fn relative(self) -> bool {
        matches!(self, Metric::Instructions | Metric::Ns)
    }

    fn value(self, m: &crate::model::Metrics) -> Option<f64> {
        match self {
            Metric::Instructions => m.instructions_per_op,
            Metric::Allocs => m.allocs_per_op,
            Metric::Bytes => m.bytes_per_op,
            Metric::Ns => m.ns_per_op.as_ref().map(|w| w.median),
        }
    }
}

/// What `bisect.json` holds.
#[derive(Serialize)]
struct Report<'a> {
    bench: &'a str,
    metric: Metric,
    good: Measured<'a>,
    bad: Measured<'a>,
    /// The commits measured between good and bad, oldest first.
    measured: Vec<Measured<'a>>,
    /// The commit that made the change, when found.
    first_bad: Option<&'a Commit>,
    /// The commits that may have made it (one when found; more when skipped commits leave doubt).
    candidates: &'a [Commit],
}

#[derive(Serialize)]
struct Measured<'a> {
    commit: &'a Commit,
    #[serde(flatten)]
    probe: Probe,
}

/// Builds and measures commits in the bisect worktree.
struct Measurer<'a> {
    ws: &'a Workspace,
    config: &'a Config,
    ws_root: PathBuf,
    rel_manifest: PathBuf,
    bench: &'a str,
    metric: Metric,
    mode: RunMode,
    out_dir: PathBuf,
}

impl Measurer<'_> {
    /// The commit's figure, or why it cannot be measured; `Err` for what ends the bisection (an
    /// interrupt, the lane being unavailable, a failure to write).
    fn measure(&self, commit: &Commit) -> anyhow::Result<Result<f64, String>> {
        let state = self.ws.state_dir();
        let worktree = state.join("worktrees").join("bisect");
        revision::prepare_worktree(&self.ws_root, revision::BISECT_WORKTREE, &worktree, &commit.id)?;
        let manifest = worktree.join(&self.rel_manifest);
        if !manifest.exists() {
            return Ok(Err(format!("has no {}", self.rel_manifest.display())));
        }
        // The working tree's target directory: the dependencies built there for `run --compare`, with
        // the same flags, are reused; the commits' own crates get artifacts of their own (driver::Role).
        revision::claim_target_dir(&state.join("bisect-state"), &worktree)
            .with_context(|| format!("cannot prepare {} for building", worktree.display()))?;
        let ws = match Workspace::discover_with(
            Some(&manifest),
            Some(&self.ws.target_dir),
            Some(&state.join("bisect-state")),
        ) {
            Ok(ws) => ws,
            Err(DriverError::NoBenchTargets(_)) => return Ok(Err("declares no benchmarks".to_owned())),
            Err(e) => return Ok(Err(format!("cargo metadata failed: {e}"))),
        };
        eprintln!("benchgate: building {} ({})", short(&commit.id), commit.summary);
        let index = match ws.build(crate::driver::Build::Side {
            role: crate::driver::Role::Bisect,
            align_functions: self.config.run.align_functions,
            codegen_units: self.config.run.codegen_units,
        }) {
            Ok(index) => index,
            // cargo's own output, above, says why.
            Err(DriverError::Build(_)) => return Ok(Err("does not build".to_owned())),
            Err(e) => return Ok(Err(e.to_string())),
        };
        let Ok(found) = index.find(self.bench) else {
            return Ok(Err(format!("has no benchmark {}", self.bench)));
        };
        let lane = self.metric.lane();
        let out = self.out_dir.join(format!("{}.json", short(&commit.id)));
        let meta = new_meta(&worktree, &ws, self.mode, &[lane], None);
        let opts = RunOptions { lanes: vec![lane], mode: self.mode, out: out.clone() };
        let mut unavailable = None;
        let mut progress = Progress::default();
        let results = driver::run(&ws, &[found], self.config, &opts, meta, &mut |e| {
            if let driver::Event::LaneSkipped { reason, .. } = &e {
                unavailable = Some(reason.to_string());
            }
            progress.print(e);
        })?;
        if let Some(reason) = unavailable {
            bail!("the {lane} lane is unavailable ({reason}); bisect another metric (--metric allocs|bytes|ns)");
        }
        let result = results.benchmarks.first().context("the run recorded no benchmark")?;
        if let Some(failure) = result.failures.values().next() {
            return Ok(Err(format!("the benchmark failed: {}", failure.message)));
        }
        Ok(self.metric.value(&result.metrics).ok_or_else(|| format!("no {} in {}", self.metric.unit(), out.display())))
    }
}

pub(super) fn bisect(manifest: Option<&Path>, config: Option<&Path>, args: BisectArgs) -> anyhow::Result<i32> {
    let ws = Workspace::discover(manifest)?;
    let config = load_config(config, &ws)?;
    let (ws_root, rel_manifest) = super::revision::manifest_in_repo(&ws)?;
    let (good, range) = bisect::commits_between(&ws_root, &args.good, &args.bad)?;
    let suite = args.bench.split('/').next().unwrap_or_default();
    let thresholds = config.gate.thresholds(&args.bench, suite);
    let metric = args.metric;
    let threshold = args.threshold.unwrap_or(match metric {
        Metric::Instructions => thresholds.instr_ratio,
        Metric::Allocs => thresholds.alloc_allocs,
        Metric::Bytes => thresholds.alloc_bytes,
        Metric::Ns => thresholds.wall_ratio,
    });
    if !(threshold.is_finite() && threshold >= 0.0) {
        bail!("--threshold must be a number at least 0, not {threshold}");
    }
    let out_dir = args.out.clone().unwrap_or_else(|| default_run_dir(&ws, &config, "bisect"));
    std::fs::create_dir_all(&out_dir).with_context(|| format!("cannot create {}", out_dir.display()))?;
    let steps = usize::BITS - range.len().leading_zeros();
    eprintln!(
        "benchgate: bisecting {} ({}) over {} commits after {} ({}): about {steps} steps after measuring both ends; \
         results in {}",
        args.bench,
        metric.unit(),
        range.len(),
        short(&good.id),
        good.summary,
        out_dir.display()
    );
    if metric == Metric::Ns {
        eprintln!(
            "benchgate: warning: wall times are noisy and each commit is judged by one run's median: \
             use --metric instructions, allocs or bytes where the change shows there"
        );
    }
    driver::handle_interrupts();
    let state = ws.state_dir();
    let _lock = revision::lock_state(&state, &mut |m| eprintln!("{m}"))
        .with_context(|| format!("cannot lock {}", state.display()))?;
    let m = Measurer {
        ws: &ws,
        config: &config,
        ws_root,
        rel_manifest,
        bench: &args.bench,
        metric,
        mode: if args.quick { RunMode::Quick } else { RunMode::Full },
        out_dir: out_dir.clone(),
    };
    let bad = range.last().expect("the range ends with the bad commit");
    let end = |commit: &Commit, name: &str| -> anyhow::Result<Option<f64>> {
        eprintln!("benchgate: measuring {name} {} ({})", short(&commit.id), commit.summary);
        Ok(match m.measure(commit)? {
            Ok(v) => Some(v),
            Err(reason) => {
                eprintln!("benchgate: error: {name} {} cannot be measured: {reason}", short(&commit.id));
                None
            }
        })
    };
    let (Some(good_value), Some(bad_value)) = (end(&good, "good")?, end(bad, "bad")?) else {
        return Ok(exit_code::BENCH_FAILED);
    };
    let change = if metric.relative() { bad_value / good_value - 1.0 } else { bad_value - good_value };
    let describe = |v: f64| match metric {
        Metric::Ns => format!("{}/op", report::format_ns(v)),
        Metric::Bytes => format!("{}/op", report::format_bytes(v)),
        _ => format!("{} {}", report::format_count(v), metric.unit()),
    };
    let describe_change =
        |c: f64| if metric.relative() { format!("{:+.2}%", c * 100.0) } else { format!("{c:+} {}", metric.unit()) };
    eprintln!("benchgate: good {}, bad {}: {}", describe(good_value), describe(bad_value), describe_change(change));
    // (NaN: both ends zero.)
    if change.is_nan() || change.abs() <= threshold {
        eprintln!(
            "benchgate: the change is within the threshold ({}): nothing to bisect",
            if metric.relative() {
                format!("{:.2}%", threshold * 100.0)
            } else {
                format!("{threshold} {}", metric.unit())
            }
        );
        return Ok(exit_code::REGRESSION);
    }

    let mut step = 0;
    let found = bisect::search(range.len(), good_value, bad_value, &mut |i| {
        step += 1;
        let commit = &range[i];
        eprintln!("benchgate: step {step}: {} ({})", short(&commit.id), commit.summary);
        let probe = m.measure(commit)?;
        match &probe {
            Ok(v) => eprintln!(
                "benchgate: {} is {}: {}",
                short(&commit.id),
                if bisect::is_bad(*v, good_value, bad_value) { "bad" } else { "good" },
                describe(*v)
            ),
            Err(reason) => eprintln!("benchgate: {} skipped: {reason}", short(&commit.id)),
        }
        Ok::<_, anyhow::Error>(probe)
    })?;

    let mut measured: Vec<Measured<'_>> =
        found.probes.iter().map(|(i, probe)| Measured { commit: &range[*i], probe: probe.clone() }).collect();
    measured.sort_by_key(|m| range.iter().position(|c| c.id == m.commit.id));
    let candidates = &range[found.candidates.clone()];
    let first_bad = found.first_bad().map(|i| &range[i]);
    let report = Report {
        bench: &args.bench,
        metric,
        good: Measured { commit: &good, probe: Probe::Good { value: good_value } },
        bad: Measured { commit: bad, probe: Probe::Bad { value: bad_value } },
        measured,
        first_bad,
        candidates,
    };
    let path = out_dir.join("bisect.json");
    crate::fsutil::write_atomic(&path, (serde_json::to_string_pretty(&report)? + "\n").as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;

    println!("{}", table(&report, &describe));
    match first_bad {
        Some(c) => {
            println!("first {} commit: {} {}", if change > 0.0 { "higher" } else { "lower" }, c.id, c.summary);
            eprintln!("benchgate: wrote {}", path.display());
            Ok(exit_code::OK)
        }
        None => {
            println!("the change is in one of these commits (the others could not be measured):");
            for c in candidates {
                println!("  {} {}", c.id, c.summary);
            }
            eprintln!("benchgate: wrote {}", path.display());
            Ok(exit_code::BENCH_FAILED)
        }
    }
}

#[derive(tabled::Tabled)]
struct Row {
    commit: String,
    summary: String,
    figure: String,
    class: String,
}

/// The measured commits, oldest first, with their figures and classes.
fn table(report: &Report<'_>, describe: &dyn Fn(f64) -> String) -> String {
    use tabled::settings::object::Columns;
    use tabled::settings::{Alignment, Style};
    let rows = std::iter::once(&report.good).chain(&report.measured).chain(std::iter::once(&report.bad)).map(|m| {
        let (figure, class) = match &m.probe {
            Probe::Good { value } => (describe(*value), "good".to_owned()),
            Probe::Bad { value } => (describe(*value), "bad".to_owned()),
            Probe::Skipped { reason } => ("-".to_owned(), format!("skipped: {reason}")),
        };
        Row { commit: short(&m.commit.id).to_owned(), summary: m.commit.summary.clone(), figure, class }
    });
    let mut t = tabled::Table::new(rows);
    t.with(Style::sharp()).modify(Columns::new(2..3), Alignment::right());
    t.to_string()
}
