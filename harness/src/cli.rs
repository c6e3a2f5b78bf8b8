//! The `benchgate` command line: parses arguments, calls the library, prints, and maps outcomes to the
//! documented exit codes.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::driver::{self, Event, RunOptions, Workspace};
use crate::model::{Lane, Meta, Results, RunMode};
use crate::report;

/// Exit codes, documented in README.md ("Exit codes").
pub mod exit_code {
    /// Success: everything ran (and, for comparisons, nothing regressed).
    pub const OK: i32 = 0;
    /// A comparison found at least one regression.
    pub const REGRESSION: i32 = 1;
    /// Usage or input error: bad arguments, missing/corrupt/truncated file, wrong schema version, NaN,
    /// a workspace that does not build.
    pub const INPUT: i32 = 2;
    /// At least one benchmark failed (panicked, timed out, exited with an error).
    pub const BENCH_FAILED: i32 = 3;
    /// Interrupted by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it); the results file holds
    /// every benchmark that finished.
    pub const INTERRUPTED: i32 = 130;
}

#[derive(Parser)]
#[command(name = "benchgate", version, about = "Benchmark harness and regression gate for Rust")]
struct Cli {
    /// Path to the workspace's Cargo.toml (default: the one cargo finds from the current directory).
    #[arg(long, global = true)]
    manifest_path: Option<PathBuf>,
    /// Configuration file layered over the built-in defaults (default: benchgate.toml at the
    /// workspace root, if present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the bench targets and print their benchmark ids.
    List(Selection),
    /// Build the bench targets and record their benchmarks for `exec`.
    Build,
    /// Measure benchmarks in the requested lanes and write a results file.
    Run(RunArgs),
    /// Run one benchmark's setup once and its routine exactly N times, nothing else (for profilers).
    /// Uses the binaries of the last build; never starts cargo.
    Exec {
        /// Benchmark id, `suite/name[/param]`.
        id: String,
        #[arg(long)]
        iters: u64,
        /// Print the command line instead of running it (to wrap it in valgrind, perf, ...).
        #[arg(long)]
        print: bool,
    },
    /// Compare two results files and apply the gate: exit 1 on a regression.
    Compare {
        base: PathBuf,
        head: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Write the rendering here (atomically) instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print a results file as a table (validating it).
    Show { file: PathBuf },
    /// Print the JSON Schema of the results format.
    Schema,
    /// Print the built-in default configuration.
    Config,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Table,
    Markdown,
    Json,
}

#[derive(clap::Args, Clone)]
struct Selection {
    /// Only benchmarks of these suites (repeatable).
    #[arg(long)]
    suite: Vec<String>,
    /// Only benchmarks whose id contains this text.
    #[arg(long)]
    filter: Option<String>,
}

#[derive(clap::Args)]
struct RunArgs {
    #[command(flatten)]
    selection: Selection,
    /// Lanes to run, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "wall,alloc,instr")]
    lanes: Vec<String>,
    /// Short warm-up and measurement: minutes for the whole repository instead of tens of minutes.
    #[arg(long)]
    quick: bool,
    /// Results file (default: `<reports_dir>/run-<time>/results.json`).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Runs the command line and returns the process exit code.
pub fn main(args: impl IntoIterator<Item = OsString>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { exit_code::INPUT } else { exit_code::OK };
        }
    };
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) if matches!(e.downcast_ref(), Some(driver::DriverError::Interrupted(_))) => {
            eprintln!("\nbenchgate: {e}");
            exit_code::INTERRUPTED
        }
        Err(e) => {
            eprintln!("benchgate: error: {e:#}");
            exit_code::INPUT
        }
    }
}

fn dispatch(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Schema => {
            print!("{}", crate::model::json_schema());
            Ok(exit_code::OK)
        }
        Command::Config => {
            print!("{}", Config::builtin_text());
            Ok(exit_code::OK)
        }
        Command::Compare { base, head, format, out } => {
            let loaded = match cli.config.as_deref() {
                Some(p) => Config::load(p, true)?,
                None => Config::load(Path::new("benchgate.toml"), false)?,
            };
            for w in &loaded.warnings {
                eprintln!("benchgate: warning: {w}");
            }
            let (base, head) = (Results::load(&base)?, Results::load(&head)?);
            let verdicts = crate::compare::compare(&base, &head, &loaded.config.gate);
            let text = match format {
                Format::Table => report::verdicts::table(&verdicts) + "\n",
                Format::Markdown => report::verdicts::markdown(&verdicts),
                Format::Json => serde_json::to_string_pretty(&verdicts)? + "\n",
            };
            match out {
                Some(path) => crate::fsutil::write_atomic(&path, text.as_bytes())
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => print!("{text}"),
            }
            Ok(if verdicts.regressed() {
                exit_code::REGRESSION
            } else if verdicts.failed() {
                exit_code::BENCH_FAILED
            } else {
                exit_code::OK
            })
        }
        Command::Show { file } => {
            let results = Results::load(&file)?;
            println!("{}", report::table::render(&results));
            Ok(if results.benchmarks.iter().any(|b| b.failed()) { exit_code::BENCH_FAILED } else { exit_code::OK })
        }
        Command::Build => {
            let ws = Workspace::discover(cli.manifest_path.as_deref())?;
            let index = ws.build()?;
            let n: usize = index.binaries.iter().map(|b| b.benchmarks.len()).sum();
            eprintln!("benchgate: {n} benchmarks in {} bench binaries", index.binaries.len());
            Ok(exit_code::OK)
        }
        Command::List(sel) => {
            let ws = Workspace::discover(cli.manifest_path.as_deref())?;
            let index = ws.build()?;
            let mut out = std::io::stdout().lock();
            for (_, d) in select(&index, &sel)? {
                writeln!(out, "{}", d.id)?;
            }
            Ok(exit_code::OK)
        }
        Command::Exec { id, iters, print } => {
            let ws = Workspace::discover(cli.manifest_path.as_deref())?;
            let index = ws.load_index()?;
            let (bin, _) = index.find(&id)?;
            if !bin.exe.exists() {
                bail!("{} is missing; build it with `benchgate build`", bin.exe.display());
            }
            let mut cmd = driver::exec_command(bin, &id, iters);
            if print {
                let args: Vec<String> = cmd.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
                println!("{} {}", bin.exe.display(), args.join(" "));
                return Ok(exit_code::OK);
            }
            let status = cmd.status().with_context(|| format!("cannot run {}", bin.exe.display()))?;
            Ok(if status.success() { exit_code::OK } else { exit_code::BENCH_FAILED })
        }
        Command::Run(args) => run(cli.manifest_path.as_deref(), cli.config.as_deref(), args),
    }
}

fn load_config(explicit: Option<&Path>, ws: &Workspace) -> anyhow::Result<Config> {
    let loaded = match explicit {
        Some(p) => Config::load(p, true)?,
        None => Config::load(&ws.root.join("benchgate.toml"), false)?,
    };
    for w in &loaded.warnings {
        eprintln!("benchgate: warning: {w}");
    }
    Ok(loaded.config)
}

fn select<'a>(
    index: &'a driver::Index,
    sel: &Selection,
) -> anyhow::Result<Vec<(&'a driver::BenchBinary, &'a crate::protocol::DeclInfo)>> {
    let all = index.benchmarks();
    for s in &sel.suite {
        if !all.iter().any(|(_, d)| &d.suite == s) {
            let mut suites: Vec<&str> = all.iter().map(|(_, d)| d.suite.as_str()).collect();
            suites.dedup();
            bail!("no suite `{s}`; suites here: {}", suites.join(", "));
        }
    }
    Ok(all
        .into_iter()
        .filter(|(_, d)| sel.suite.is_empty() || sel.suite.contains(&d.suite))
        .filter(|(_, d)| sel.filter.as_ref().is_none_or(|f| d.id.contains(f.as_str())))
        .collect())
}

fn run(manifest: Option<&Path>, config: Option<&Path>, args: RunArgs) -> anyhow::Result<i32> {
    let lanes = args
        .lanes
        .iter()
        .map(|l| Lane::parse(l.trim()).with_context(|| format!("unknown lane `{l}` (lanes: wall, alloc, instr)")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let ws = Workspace::discover(manifest)?;
    let config = load_config(config, &ws)?;
    let mode = if args.quick { RunMode::Quick } else { RunMode::Full };
    let started_at = crate::meta::now_rfc3339();
    let out = args.out.unwrap_or_else(|| {
        let stamp: String = started_at.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
        ws.root.join(&config.run.reports_dir).join(format!("run-{stamp}")).join("results.json")
    });
    if out.is_dir() {
        bail!("{}: is a directory; --out takes a file path", out.display());
    }
    let index = ws.build()?;
    let selected = select(&index, &args.selection)?;
    if selected.is_empty() {
        bail!("no benchmark matches the selection");
    }
    let meta = Meta {
        benchgate_version: env!("CARGO_PKG_VERSION").to_owned(),
        started_at,
        finished_at: None,
        partial: true,
        mode,
        lanes: lanes.clone(),
        git: crate::meta::git_info(&ws.root),
        toolchain: crate::meta::toolchain(&ws.root),
        machine: crate::meta::machine(),
    };
    let opts = RunOptions { lanes, mode, out: out.clone() };
    driver::handle_interrupts();
    eprintln!("benchgate: results go to {}", out.display());
    let mut progress = Progress::default();
    let results = driver::run(&ws, &selected, &config, &opts, meta, &mut |e| progress.print(e))?;
    println!("{}", report::table::render(&results));
    eprintln!("benchgate: wrote {}", out.display());
    let failed: Vec<&str> = results.benchmarks.iter().filter(|b| b.failed()).map(|b| b.id.as_str()).collect();
    if failed.is_empty() {
        Ok(exit_code::OK)
    } else {
        eprintln!("benchgate: {} benchmark(s) failed: {}", failed.len(), failed.join(", "));
        Ok(exit_code::BENCH_FAILED)
    }
}

/// Progress on stderr: one line per benchmark with its figures. A lane skipped for the whole run is
/// said once, not on every line.
#[derive(Default)]
struct Progress {
    skipped_for_all: Vec<Lane>,
}

impl Progress {
    fn print(&mut self, event: Event<'_>) {
        match event {
            Event::Start { total } => eprintln!("benchgate: running {total} benchmarks"),
            Event::LaneSkipped { lane, reason } => {
                self.skipped_for_all.push(lane);
                eprintln!("benchgate: {lane} lane skipped for every benchmark: {reason}");
            }
            Event::BenchStart { index, total, id } => {
                let width = total.to_string().len();
                eprint!("[{index:>width$}/{total}] {id} ...");
            }
            Event::BenchDone { result, elapsed } => {
                let m = &result.metrics;
                let mut parts = Vec::new();
                if let Some(w) = &m.ns_per_op {
                    parts.push(format!("{}/op", report::format_ns(w.median)));
                }
                if let (Some(a), Some(b)) = (m.allocs_per_op, m.bytes_per_op) {
                    parts.push(format!("{} allocs/op, {}/op", report::format_count(a), report::format_bytes(b)));
                }
                if let Some(i) = m.instructions_per_op {
                    parts.push(format!("{} instr/op", report::format_count(i)));
                }
                for (lane, why) in result.skipped.iter().filter(|(l, _)| !self.skipped_for_all.contains(l)) {
                    parts.push(format!("{lane} skipped: {why}"));
                }
                for (lane, f) in &result.failures {
                    parts.push(format!("{lane} FAILED: {}", f.message.lines().next().unwrap_or_default()));
                }
                eprintln!(" {} ({:.1}s)", parts.join(", "), elapsed.as_secs_f64());
            }
        }
    }
}
