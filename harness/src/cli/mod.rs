//! The `benchgate` command line: parses arguments, calls the library, prints, and maps outcomes to the
//! documented exit codes.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::driver::{self, Event, RunOptions, Workspace};
use crate::gate::Policy;
use crate::model::{Lane, Meta, Results, RunMode};
use crate::report;

mod bisect;
mod history;
mod profile;
mod revision;
mod shards;

/// Exit codes, documented in README.md ("Exit codes").
pub mod exit_code {
    /// Success: everything ran (and, for comparisons, nothing regressed).
    pub const OK: i32 = 0;
    /// A comparison found at least one regression (or, under `gate.inconclusive = "fail"`, an
    /// inconclusive comparison).
    pub const REGRESSION: i32 = 1;
    /// Usage or input error: bad arguments, missing/corrupt/truncated file, wrong schema version, NaN,
    /// a workspace that does not build.
    pub const INPUT: i32 = 2;
    /// At least one benchmark failed (panicked, timed out, exited with an error).
    pub const BENCH_FAILED: i32 = 3;
    /// A comparison could not judge everything it was given: a benchmark or lane base has and head lacks,
    /// a partial results file, a benchmark that failed in base.
    pub const INCOMPLETE: i32 = 4;
    /// `verdicts`: a shard of the comparison left no results (its folder is missing, or its job ended
    /// before writing them): its benchmarks are not judged.
    pub const SHARD_MISSING: i32 = 5;
    /// `verdicts`: a shard did not finish (interrupted, or its run failed): judged on what it measured.
    pub const SHARD_FAILED: i32 = 6;
    /// Interrupted by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it); the results file holds
    /// every benchmark that finished. `baseline save` and `calibrate` interrupted before their renames
    /// replaced no file.
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
    /// Build the bench targets and record their benchmarks for `exec`; with --compare REV --archive
    /// FILE, build both sides of a comparison and pack them for `run --archive FILE --shard I/N` on other
    /// machines.
    Build(BuildArgs),
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
        #[command(flatten)]
        output: OutputArgs,
        #[command(flatten)]
        noise: NoiseArgs,
    },
    /// Compare a results file with the committed baseline of this runner class: exit 1 on a regression.
    /// Wall times are judged only where the machine fingerprint matches.
    Check {
        results: PathBuf,
        #[command(flatten)]
        output: OutputArgs,
        #[command(flatten)]
        noise: NoiseArgs,
    },
    /// Committed baselines.
    #[command(subcommand)]
    Baseline(BaselineCommand),
    /// Measure this build against itself several times and store each benchmark's noise floor with the
    /// runner class's baseline (`noise.json`), for compare and check to use.
    Calibrate(CalibrateArgs),
    /// Merge the results files of shards (`run --shard I/N`) of one run into one results file.
    Merge {
        /// The shards' results files.
        #[arg(required = true, num_args = 1..)]
        files: Vec<PathBuf>,
        /// The merged results file (written atomically).
        #[arg(long)]
        out: PathBuf,
    },
    /// Judge the shards of an archived comparison (`run --archive FILE --shard I/N`, one folder each) in
    /// one decision: exit 0 pass, 1 regression, 3 a benchmark failed, 4 incomplete, 5 a shard left no
    /// results, 6 a shard did not finish.
    Verdicts {
        /// The shards' output folders.
        #[arg(required = true, num_args = 1..)]
        dirs: Vec<PathBuf>,
        /// Where the verdicts, the merged results and the costs go.
        #[arg(long)]
        out: PathBuf,
        /// The archive the shards measured: with it, regressions are attributed to functions and
        /// allocation sites (callgrind and DHAT on both sides' binaries), as `run --compare` does.
        #[arg(long)]
        archive: Option<PathBuf>,
        /// How long attributing may take (e.g. 10m; default 10 minutes); it starts only while there is time.
        #[arg(long, value_parser = parse_duration)]
        time_budget: Option<std::time::Duration>,
    },
    /// Print a results file as tables (validating it).
    Show {
        file: PathBuf,
        /// Only benchmarks of these suites (repeatable).
        #[arg(long)]
        suite: Vec<String>,
        /// `table` for a terminal, `markdown` for a README or a comment, `json` for the file itself.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Write a results file in another tracker's format: Bencher (BMF JSON) or github-action-benchmark.
    Export {
        results: PathBuf,
        #[arg(long, value_enum)]
        to: ExportFormat,
        /// Write here (atomically) instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print the JSON Schema of the results format.
    Schema,
    /// Print the built-in default configuration.
    Config,
    /// The results history on the `benchgate-history` branch (kept in git, shared by push).
    #[command(subcommand)]
    History(history::HistoryCommand),
    /// Change points of each benchmark's figures over the history's commits: trend.json, trend.md and
    /// SVG charts.
    Trend(history::TrendArgs),
    /// Find the commit between --good and --bad that changed a benchmark's figure: builds commits in a
    /// worktree and measures them (instructions by default). Exit 0: found; 1: good and bad do not
    /// differ beyond the threshold; 3: an end cannot be measured, or skipped commits leave several
    /// candidates.
    Bisect(bisect::BisectArgs),
    /// Where each benchmark's instructions per op go, by cost category (compression, allocation,
    /// copying, hashing, ...), allocation sites and kernel time: callgrind, DHAT and native runs of 1 and
    /// 1 + K iterations per benchmark; writes the raw profiles, profile.json and profile.md.
    Profile(profile::ProfileArgs),
}

#[derive(Subcommand)]
enum BaselineCommand {
    /// Write `<baseline dir>/<runner-class>/<suite>.json` for each suite in RESULTS. Refuses to replace an
    /// existing baseline without --update, and prints what changed.
    Save {
        results: PathBuf,
        /// Replace existing baselines of these suites.
        #[arg(long)]
        update: bool,
        #[arg(long)]
        runner_class: Option<String>,
    },
}

#[derive(clap::Args)]
struct OutputArgs {
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Write the rendering here (atomically) instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(clap::Args)]
struct NoiseArgs {
    /// Noise floors to use (default: the runner class's `noise.json`, if present).
    #[arg(long, conflicts_with = "no_noise")]
    noise: Option<PathBuf>,
    /// Use no calibrated noise floors.
    #[arg(long)]
    no_noise: bool,
    /// Runner class (default: `[baseline] runner_class`, else BENCHGATE_RUNNER_CLASS, else `<os>-<arch>`).
    #[arg(long)]
    runner_class: Option<String>,
}

#[derive(clap::Args)]
struct CalibrateArgs {
    #[command(flatten)]
    selection: Selection,
    /// Separate runs of the build (default: `[calibrate] runs`).
    #[arg(long)]
    runs: Option<usize>,
    /// Lanes to run, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "wall,alloc,instr")]
    lanes: Vec<String>,
    /// Calibrate quick-mode runs.
    #[arg(long)]
    quick: bool,
    /// Compute the floors from these results files (separate runs of one build) instead of running.
    #[arg(long, num_args = 2.., conflicts_with_all = ["runs", "quick"])]
    from: Vec<PathBuf>,
    /// Replace existing noise floors.
    #[arg(long)]
    update: bool,
    #[arg(long)]
    runner_class: Option<String>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Table,
    Markdown,
    Json,
    /// A self-contained HTML report with charts (compare and check).
    Html,
}

/// The formats of other benchmark trackers that `export` writes.
#[derive(Clone, Copy, clap::ValueEnum)]
enum ExportFormat {
    /// Bencher Metric Format JSON (`bencher run --adapter json`).
    Bmf,
    /// github-action-benchmark's `customSmallerIsBetter` JSON.
    GithubActionBenchmark,
}

#[derive(clap::Args, Clone)]
pub(crate) struct Selection {
    /// Only benchmarks of these suites (repeatable).
    #[arg(long)]
    suite: Vec<String>,
    /// Only benchmarks whose id contains this text.
    #[arg(long)]
    filter: Option<String>,
    /// Only shard I of N (`2/4`): every N-th benchmark of the selection sorted by id, starting at the
    /// I-th, so that a suite can be split over N CI jobs and recombined with `benchgate merge`.
    #[arg(long, value_name = "I/N")]
    shard: Option<crate::merge::Shard>,
}

#[derive(clap::Args)]
pub(crate) struct BuildArgs {
    #[command(flatten)]
    selection: Selection,
    /// Build base (the merge-base of REV and HEAD) and head (the working tree) as `run --compare` does.
    #[arg(long, value_name = "REV", requires = "archive")]
    compare: Option<String>,
    /// With --compare: write both sides' bench binaries and what measuring them needs into FILE
    /// (a .tar.gz), for `run --archive FILE --shard I/N`.
    #[arg(long, value_name = "FILE", requires = "compare")]
    archive: Option<PathBuf>,
    /// With --compare: measure against REV itself, not the merge-base.
    #[arg(long, requires = "compare")]
    no_merge_base: bool,
    /// Expected seconds per benchmark (`costs.json` of an earlier `verdicts` or shard), to assign
    /// shards by cost rather than by count (repeatable; later files win).
    #[arg(long, requires = "archive")]
    costs: Vec<PathBuf>,
}

#[derive(clap::Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    selection: Selection,
    /// Lanes to run, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "wall,alloc,instr")]
    lanes: Vec<String>,
    /// Short warm-up and measurement: minutes for the whole repository instead of tens of minutes.
    #[arg(long)]
    quick: bool,
    /// Results file (default: `<reports_dir>/run-<time>/results.json`). With --compare: the folder
    /// for both sides' results and the verdicts (default: `<reports_dir>/compare-<time>`).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Compare the working tree with REV (branch, tag, sha, `origin/main`): by default with the
    /// merge-base of REV and HEAD, both built and measured in this job, wall rounds interleaved.
    #[arg(long, value_name = "REV")]
    compare: Option<String>,
    /// With --compare: measure against REV itself, not the merge-base.
    #[arg(long, requires = "compare")]
    no_merge_base: bool,
    /// With --compare or --archive: measure even when base and head binaries are identical (A/A checks).
    #[arg(long)]
    force: bool,
    /// With --compare or --archive: time for the whole command, building included, e.g. `90s`, `15m`,
    /// `1h` (default: `[compare]` settings, 15 minutes, 5 with --quick).
    #[arg(long, value_parser = parse_duration)]
    time_budget: Option<std::time::Duration>,
    /// With --compare or --archive: the seed of the rounds' random order (default: from the clock).
    #[arg(long)]
    seed: Option<u64>,
    /// Measure shard --shard I/N of an archive (`build --compare REV --archive FILE`) on this machine:
    /// no cargo, no sources; writes base.json, head.json, shard.json and costs.json into --out
    /// (default: shard-I-of-N).
    #[arg(long, value_name = "FILE", conflicts_with = "compare", requires = "shard")]
    archive: Option<PathBuf>,
    /// With --archive: keep the alloc and instr lanes' counts here, keyed by code digest, machine, C
    /// library, valgrind and settings, so a later shard on a like machine counts an unchanged binary
    /// only once (default: a temporary directory, removed after the run).
    #[arg(long, value_name = "DIR", requires = "archive")]
    cache_dir: Option<PathBuf>,
}

impl RunArgs {
    /// The comparison's time budget: `--time-budget`, else `[compare]`'s for the mode.
    fn budget(&self, config: &Config, mode: RunMode) -> std::time::Duration {
        self.time_budget.unwrap_or_else(|| {
            std::time::Duration::from_secs(match mode {
                RunMode::Full => config.compare.time_budget_s,
                RunMode::Quick => config.compare.quick_time_budget_s,
            })
        })
    }

    /// The seed of the rounds' order: `--seed`, else from the clock.
    fn seed(&self) -> u64 {
        self.seed.unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1)
        })
    }
}

/// `90`, `90s`, `15m`, `1h`, `1h30m`: more than zero, at most [`crate::config::MAX_SECONDS`].
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let bad = || format!("`{s}` is not a duration like 90s, 15m or 1h30m");
    let total = match s.parse::<u64>() {
        Ok(secs) => secs,
        Err(_) => {
            let (mut total, mut num) = (0u64, String::new());
            for c in s.chars() {
                if c.is_ascii_digit() {
                    num.push(c);
                    continue;
                }
                let unit = match c {
                    'h' => 3600,
                    'm' => 60,
                    's' => 1,
                    _ => return Err(bad()),
                };
                let n = num.parse::<u64>().map_err(|_| bad())?;
                total = n.checked_mul(unit).and_then(|v| total.checked_add(v)).ok_or_else(bad)?;
                num.clear();
            }
            if !num.is_empty() {
                return Err(bad());
            }
            total
        }
    };
    if total == 0 {
        return Err(format!("`{s}`: the duration must be more than zero"));
    }
    if total > crate::config::MAX_SECONDS {
        return Err(format!("`{s}`: at most {}s (a week)", crate::config::MAX_SECONDS));
    }
    Ok(std::time::Duration::from_secs(total))
}

/// `word` as one word of a POSIX shell command line: unchanged when it holds only characters no shell
/// treats specially, else in single quotes (a `'` inside as `'\''`). Benchmark ids are data: `exec --print`
/// must print a command that runs that benchmark, whatever its id holds.
fn shell_quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./=:,+@%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        return word.to_owned();
    }
    format!("'{}'", word.replace('\'', "'\\''"))
}

/// The arguments of `cargo benchgate ARGS`, which cargo runs as `cargo-benchgate benchgate ARGS`: the
/// program name becomes `benchgate` and the subcommand's name is dropped, so help and errors name the
/// command the user typed. Run directly (`cargo-benchgate ARGS`), the arguments are kept.
pub fn subcommand_args(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut args: Vec<OsString> = args.into_iter().collect();
    if args.get(1).is_some_and(|a| a == "benchgate") {
        args.remove(1);
    }
    if let Some(program) = args.first_mut() {
        *program = OsString::from("cargo benchgate");
    }
    args
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
        Err(e)
            if matches!(e.downcast_ref(), Some(driver::DriverError::Interrupted(_)))
                || e.downcast_ref::<crate::baseline::BaselineError>().is_some_and(|b| b.interrupted()) =>
        {
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
        Command::Compare { base, head, output, noise } => {
            let project = Project::find(cli.manifest_path.as_deref(), cli.config.as_deref())?;
            let (base, head) = (Results::load(&base)?, Results::load(&head)?);
            let class = project.class(noise.runner_class.as_deref())?;
            let floors = project.noise(&noise, &class)?;
            let verdicts = crate::compare::compare(&base, &head, &project.policy(floors.as_ref()));
            emit_with(&verdicts, Some(&base), Some(&head), &output, None)
        }
        Command::Check { results, output, noise } => {
            let project = Project::find(cli.manifest_path.as_deref(), cli.config.as_deref())?;
            let head = Results::load(&results)?;
            let class = project.class(noise.runner_class.as_deref())?;
            let dir = project.class_dir(&class);
            let suites = head.benchmarks.iter().map(|b| b.suite.clone()).collect();
            let (base, warnings) = dir.load(&suites)?;
            eprintln!("benchgate: checking against the baseline of runner class {class} ({})", dir.dir.display());
            let floors = project.noise(&noise, &class)?;
            let mut verdicts = crate::compare::compare(&base, &head, &project.policy(floors.as_ref()));
            verdicts.warnings.splice(0..0, warnings);
            emit_with(&verdicts, Some(&base), Some(&head), &output, None)
        }
        Command::Baseline(BaselineCommand::Save { results, update, runner_class }) => {
            let project = Project::find(cli.manifest_path.as_deref(), cli.config.as_deref())?;
            let class = project.class(runner_class.as_deref())?;
            let new = Results::load(&results)?;
            driver::handle_interrupts();
            let outcome = project.class_dir(&class).save(&new, &results, update, driver::interrupted)?;
            for p in &outcome.earlier {
                let rewritten: Vec<String> = outcome.saved.iter().map(|s| format!("{}.json", s.suite)).collect();
                let left: Vec<&str> = p.files().into_iter().filter(|f| !rewritten.iter().any(|r| r == f)).collect();
                if left.is_empty() {
                    eprintln!("benchgate: {}; this save rewrote all of them", p.summary());
                } else {
                    eprintln!(
                        "benchgate: warning: {}; this save did not rewrite {} ({} stays until they are)",
                        p.summary(),
                        left.join(", "),
                        p.journal.display()
                    );
                }
            }
            let floors = outcome.noise;
            for s in &outcome.saved {
                if driver::interrupted() {
                    eprintln!("\nbenchgate: interrupted; every baseline was written, the change list is cut short");
                    return Ok(exit_code::INTERRUPTED);
                }
                match &s.previous {
                    None => println!("created {} ({} benchmarks)", s.path.display(), s.new.benchmarks.len()),
                    Some(old) => {
                        println!("updated {}; changes against the previous baseline:", s.path.display());
                        let v = crate::compare::compare(old, &s.new, &project.policy(floors.as_ref()));
                        println!("{}", report::verdicts::changes(&v));
                    }
                }
            }
            Ok(exit_code::OK)
        }
        Command::Calibrate(args) => calibrate(cli.manifest_path.as_deref(), cli.config.as_deref(), args),
        Command::Merge { files, out } => {
            let parts = files.iter().map(|f| Ok((f.clone(), Results::load(f)?))).collect::<anyhow::Result<Vec<_>>>()?;
            let (merged, warnings) = crate::merge::merge(parts)?;
            for w in warnings {
                eprintln!("benchgate: warning: {w}");
            }
            crate::fsutil::write_atomic(&out, merged.to_json().as_bytes())
                .with_context(|| format!("cannot write {}", out.display()))?;
            eprintln!(
                "benchgate: merged {} files, {} benchmarks, into {}",
                files.len(),
                merged.benchmarks.len(),
                out.display()
            );
            Ok(if merged.benchmarks.iter().any(|b| b.failed()) { exit_code::BENCH_FAILED } else { exit_code::OK })
        }
        Command::Show { file, suite, format } => {
            let mut results = Results::load(&file)?;
            if !suite.is_empty() {
                results.benchmarks.retain(|b| suite.contains(&b.suite));
            }
            match format {
                Format::Table => println!("{}", report::table::render(&results)),
                Format::Markdown => println!("{}", report::table::render_markdown(&results)),
                Format::Json => print!("{}", results.to_json()),
                Format::Html => bail!("`--format html` renders comparisons: use it with `compare` or `check`"),
            }
            Ok(if results.benchmarks.iter().any(|b| b.failed()) { exit_code::BENCH_FAILED } else { exit_code::OK })
        }
        Command::Export { results, to, out } => {
            let results = Results::load(&results)?;
            let text = match to {
                ExportFormat::Bmf => report::export::bmf(&results),
                ExportFormat::GithubActionBenchmark => report::export::github_action_benchmark(&results),
            };
            match &out {
                Some(path) => crate::fsutil::write_atomic(path, text.as_bytes())
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => print!("{text}"),
            }
            Ok(exit_code::OK)
        }
        Command::Build(args) => {
            let ws = Workspace::discover(cli.manifest_path.as_deref())?;
            if let (Some(rev), Some(archive)) = (&args.compare, &args.archive) {
                let config = load_config(cli.config.as_deref(), &ws)?;
                let config_path = cli.config.clone().unwrap_or_else(|| ws.root.join("benchgate.toml"));
                return shards::build_archive(&ws, (&config, &config_path), rev, &args, archive);
            }
            if args.selection.shard.is_some() || !args.selection.suite.is_empty() || args.selection.filter.is_some() {
                bail!(
                    "`build` builds every bench target; --suite, --filter and --shard select with --compare REV --archive FILE"
                );
            }
            let index = ws.build(driver::Build::Plain)?;
            let n: usize = index.binaries.iter().map(|b| b.benchmarks.len()).sum();
            eprintln!("benchgate: {n} benchmarks in {} bench binaries", index.binaries.len());
            Ok(exit_code::OK)
        }
        Command::List(sel) => {
            let ws = Workspace::discover(cli.manifest_path.as_deref())?;
            let index = ws.build(driver::Build::Plain)?;
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
                let words: Vec<String> = std::iter::once(bin.exe.as_os_str())
                    .chain(cmd.get_args())
                    .map(|a| shell_quote(&a.to_string_lossy()))
                    .collect();
                println!("{}", words.join(" "));
                return Ok(exit_code::OK);
            }
            let status = cmd.status().with_context(|| format!("cannot run {}", bin.exe.display()))?;
            Ok(if status.success() { exit_code::OK } else { exit_code::BENCH_FAILED })
        }
        Command::Run(args) if args.archive.is_some() => {
            let lanes = parse_lanes(&args.lanes)?;
            let archive = args.archive.clone().expect("checked");
            shards::run_shard(cli.config.as_deref(), &archive, &lanes, &args)
        }
        Command::Run(args) => run(cli.manifest_path.as_deref(), cli.config.as_deref(), args),
        Command::Verdicts { dirs, out, archive, time_budget } => {
            let attribute = archive.map(|a| (a, time_budget.unwrap_or(shards::ATTRIBUTION_TIME)));
            shards::verdicts(&dirs, &out, attribute.as_ref().map(|(a, t)| (a.as_path(), *t)))
        }
        Command::History(cmd) => history::history(cli.manifest_path.as_deref(), cli.config.as_deref(), cmd),
        Command::Trend(args) => history::trend(cli.manifest_path.as_deref(), cli.config.as_deref(), args),
        Command::Bisect(args) => bisect::bisect(cli.manifest_path.as_deref(), cli.config.as_deref(), args),
        Command::Profile(args) => profile::profile(cli.manifest_path.as_deref(), cli.config.as_deref(), args),
    }
}

/// Renders verdicts and maps them to the exit code. The compared results files, when given, supply the
/// summary's facts, the before/after tables and the HTML report's sample charts; `files` is what the
/// summary says of where the files are (by default the output file, if any).
fn emit_with(
    verdicts: &crate::compare::Verdicts,
    base: Option<&Results>,
    head: Option<&Results>,
    output: &OutputArgs,
    files: Option<&str>,
) -> anyhow::Result<i32> {
    let out_file = output.out.as_ref().map(|p| p.display().to_string());
    let summary = report::summary::of_compare(verdicts, base, head, files.or(out_file.as_deref()));
    let text = match output.format {
        Format::Table => {
            let after = base.zip(head).map(|(b, h)| report::factors::terminal(verdicts, b, h));
            report::verdicts::table(verdicts, &summary) + "\n" + &after.map(|t| format!("\n{t}")).unwrap_or_default()
        }
        Format::Markdown => {
            let after = base.zip(head).map(|(b, h)| report::factors::markdown(verdicts, b, h));
            report::verdicts::markdown(verdicts, &summary) + &after.map(|t| format!("\n{t}")).unwrap_or_default()
        }
        Format::Json => serde_json::to_string_pretty(verdicts)? + "\n",
        Format::Html => report::html::html(verdicts, base, head, &[], &summary),
    };
    match &output.out {
        Some(path) => crate::fsutil::write_atomic(path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{text}"),
    }
    if output.out.is_some() || !matches!(output.format, Format::Table) {
        eprintln!("benchgate: {}", report::verdicts::summary_line(verdicts));
    }
    Ok(gate_exit_code(verdicts))
}

/// The exit code of a comparison: a regression (or a failing inconclusive) first, then a failure in
/// head, then incomplete evidence.
pub(crate) fn gate_exit_code(verdicts: &crate::compare::Verdicts) -> i32 {
    if verdicts.regressed() || verdicts.inconclusive_fails {
        exit_code::REGRESSION
    } else if verdicts.failed() {
        exit_code::BENCH_FAILED
    } else if !verdicts.incomplete.is_empty() {
        exit_code::INCOMPLETE
    } else {
        exit_code::OK
    }
}

/// Where the files-only commands (compare, check, baseline) find the configuration and the baselines:
/// the workspace root that `cargo locate-project` reports, or the current directory outside a Cargo
/// project.
struct Project {
    root: PathBuf,
    config: Config,
}

impl Project {
    fn find(manifest: Option<&Path>, config: Option<&Path>) -> anyhow::Result<Project> {
        let mut cmd = std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        cmd.args(["locate-project", "--workspace", "--message-format", "plain"]);
        if let Some(m) = manifest {
            cmd.arg("--manifest-path").arg(m);
        }
        let located = cmd.output().ok().filter(|o| o.status.success());
        let root = match located {
            Some(o) => PathBuf::from(String::from_utf8_lossy(&o.stdout).trim())
                .parent()
                .map(Path::to_owned)
                .unwrap_or_default(),
            None if manifest.is_some() => bail!("cannot locate the workspace of {}", manifest.unwrap().display()),
            None => std::env::current_dir()?,
        };
        let loaded = match config {
            Some(p) => Config::load(p, true)?,
            None => Config::load(&root.join("benchgate.toml"), false)?,
        };
        for w in &loaded.warnings {
            eprintln!("benchgate: warning: {w}");
        }
        Ok(Project { root, config: loaded.config })
    }

    fn class(&self, flag: Option<&str>) -> anyhow::Result<String> {
        crate::baseline::runner_class(flag, &self.config.baseline.runner_class).map_err(anyhow::Error::msg)
    }

    fn class_dir(&self, class: &str) -> crate::baseline::ClassDir {
        crate::baseline::ClassDir::new(&self.root.join(&self.config.baseline.dir), class)
    }

    /// The noise floors the options ask for: a file, none, or the class's if calibrated.
    fn noise(&self, args: &NoiseArgs, class: &str) -> anyhow::Result<Option<crate::model::NoiseFloors>> {
        let floors = match (&args.noise, args.no_noise) {
            (_, true) => None,
            (Some(path), false) => Some(crate::model::NoiseFloors::load(path)?),
            (None, false) => self.class_dir(class).noise()?,
        };
        if let Some(f) = &floors {
            eprintln!(
                "benchgate: using noise floors of runner class {} ({} runs, {} benchmarks, calibrated {})",
                f.runner_class,
                f.runs,
                f.benchmarks.len(),
                f.created_at
            );
        }
        Ok(floors)
    }

    fn policy<'a>(&'a self, noise: Option<&'a crate::model::NoiseFloors>) -> Policy<'a> {
        Policy { accept: &self.config.accept, noise, ..Policy::new(&self.config.gate) }
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
    let mut selected: Vec<_> = all
        .into_iter()
        .filter(|(_, d)| sel.suite.is_empty() || sel.suite.contains(&d.suite))
        .filter(|(_, d)| sel.filter.as_ref().is_none_or(|f| d.id.contains(f.as_str())))
        .collect();
    if let Some(shard) = sel.shard {
        selected.sort_by(|a, b| a.1.id.cmp(&b.1.id));
        selected = selected.into_iter().enumerate().filter(|(i, _)| shard.takes(*i)).map(|(_, x)| x).collect();
    }
    Ok(selected)
}

fn parse_lanes(names: &[String]) -> anyhow::Result<Vec<Lane>> {
    names
        .iter()
        .map(|l| Lane::parse(l.trim()).with_context(|| format!("unknown lane `{l}` (lanes: wall, alloc, instr)")))
        .collect()
}

fn run(manifest: Option<&Path>, config_file: Option<&Path>, args: RunArgs) -> anyhow::Result<i32> {
    let lanes = parse_lanes(&args.lanes)?;
    let ws = Workspace::discover(manifest)?;
    let config = load_config(config_file, &ws)?;
    if let Some(rev) = args.compare.clone() {
        let config_path = config_file.map_or_else(|| ws.root.join("benchgate.toml"), Path::to_owned);
        return revision::run(&ws, (&config, &config_path), &rev, &lanes, &args);
    }
    if args.force || args.time_budget.is_some() || args.seed.is_some() {
        bail!("--force, --time-budget and --seed apply to comparisons: use them with --compare REV or --archive FILE");
    }
    let mode = if args.quick { RunMode::Quick } else { RunMode::Full };
    let out = args.out.unwrap_or_else(|| default_run_dir(&ws, &config, "run").join("results.json"));
    if out.is_dir() {
        bail!("{}: is a directory; --out takes a file path", out.display());
    }
    let index = ws.build(driver::Build::Plain)?;
    let selected = select(&index, &args.selection)?;
    driver::handle_interrupts();
    let results = measure(&ws, &selected, &config, &lanes, mode, &out)?;
    // The summary first, then the tables it sums up.
    let summary = report::summary::of_run(&results, Some(&out.display().to_string()));
    println!("{}\n{}", report::summary::terminal(&summary), report::table::render(&results));
    eprintln!("benchgate: wrote {}", out.display());
    let failed: Vec<&str> = results.benchmarks.iter().filter(|b| b.failed()).map(|b| b.id.as_str()).collect();
    if failed.is_empty() {
        Ok(exit_code::OK)
    } else {
        eprintln!("benchgate: {} benchmark(s) failed: {}", failed.len(), failed.join(", "));
        Ok(exit_code::BENCH_FAILED)
    }
}

/// `<reports_dir>/<kind>-<time>` of the workspace.
fn default_run_dir(ws: &Workspace, config: &Config, kind: &str) -> PathBuf {
    let stamp: String = crate::meta::now_rfc3339().chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    ws.root.join(&config.run.reports_dir).join(format!("{kind}-{stamp}"))
}

/// One run of the selected benchmarks into `out`, with progress on stderr.
fn measure(
    ws: &Workspace,
    selected: &[(&driver::BenchBinary, &crate::protocol::DeclInfo)],
    config: &Config,
    lanes: &[Lane],
    mode: RunMode,
    out: &Path,
) -> anyhow::Result<Results> {
    if selected.is_empty() {
        bail!("no benchmark matches the selection");
    }
    let meta = new_meta(&ws.root, ws, mode, lanes, None);
    let opts = RunOptions { lanes: lanes.to_vec(), mode, out: out.to_owned() };
    eprintln!("benchgate: results go to {}", out.display());
    let mut progress = Progress::default();
    Ok(driver::run(ws, selected, config, &opts, meta, &mut |e| progress.print(e))?)
}

/// The `meta` of a run starting now: the revision checked out in `dir`, `ws`'s toolchain, this machine.
fn new_meta(dir: &Path, ws: &Workspace, mode: RunMode, lanes: &[Lane], pairing: Option<String>) -> Meta {
    Meta {
        benchgate_version: env!("CARGO_PKG_VERSION").to_owned(),
        started_at: crate::meta::now_rfc3339(),
        finished_at: None,
        partial: true,
        mode,
        lanes: lanes.to_vec(),
        git: crate::meta::git_info(dir),
        toolchain: crate::meta::toolchain(&ws.root),
        machine: crate::meta::machine(),
        pairing,
        screen_p: None,
        libraries: ws.libraries(),
    }
}

fn calibrate(manifest: Option<&Path>, config: Option<&Path>, args: CalibrateArgs) -> anyhow::Result<i32> {
    let project = Project::find(manifest, config)?;
    let class = project.class(args.runner_class.as_deref())?;
    let dir = project.class_dir(&class);
    // Before measuring: an existing file must be replaceable (and readable) for the runs to be of use.
    dir.check_noise_replaceable(args.update)?;
    let alpha = project.config.calibrate.alpha;
    let runs: Vec<Results> = if args.from.is_empty() {
        let n = args.runs.unwrap_or(project.config.calibrate.runs);
        if n < crate::baseline::MIN_CALIBRATION_RUNS {
            bail!(
                "--runs must be at least {} (fewer give floors too wide to gate anything)",
                crate::baseline::MIN_CALIBRATION_RUNS
            );
        }
        let lanes = parse_lanes(&args.lanes)?;
        let ws = Workspace::discover(manifest)?;
        let config = load_config(config, &ws)?;
        let mode = if args.quick { RunMode::Quick } else { RunMode::Full };
        let index = ws.build(driver::Build::Plain)?;
        let selected = select(&index, &args.selection)?;
        let folder = default_run_dir(&ws, &config, "calibrate");
        driver::handle_interrupts();
        let mut runs = Vec::new();
        for i in 1..=n {
            eprintln!("benchgate: calibration run {i} of {n}");
            runs.push(measure(&ws, &selected, &config, &lanes, mode, &folder.join(format!("run-{i}.json")))?);
        }
        runs
    } else {
        let mut runs = Vec::new();
        for path in &args.from {
            let run = Results::load(path)?;
            crate::baseline::check_complete(&run, path, "a calibration")?;
            runs.push(run);
        }
        runs
    };
    let floors = crate::baseline::noise_from_runs(&runs, alpha, &class).map_err(anyhow::Error::msg)?;
    println!("{}", report::noise::table(&floors));
    driver::handle_interrupts();
    let path = dir.save_noise(&floors, args.update, driver::interrupted)?;
    eprintln!("benchgate: wrote {}", path.display());
    Ok(exit_code::OK)
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
            Event::Phase { text } => eprintln!("benchgate: {text}"),
            Event::LaneSkipped { lane, reason } => {
                self.skipped_for_all.push(lane);
                eprintln!("benchgate: {lane} lane skipped for every benchmark: {reason}");
            }
            Event::BenchStart { index, total, id } => {
                let width = total.to_string().len();
                eprint!("[{index:>width$}/{total}] {id} ...");
            }
            Event::PairDone { base, head, elapsed } => {
                let side = |r: Option<&crate::model::BenchResult>| match r {
                    None => "absent".to_owned(),
                    Some(r) => self.figures(r).join(", "),
                };
                eprintln!(" base: {}; head: {} ({:.1}s)", side(base), side(head), elapsed.as_secs_f64());
            }
            Event::BenchDone { result, elapsed } => {
                eprintln!(" {} ({:.1}s)", self.figures(result).join(", "), elapsed.as_secs_f64());
            }
        }
    }

    fn figures(&self, result: &crate::model::BenchResult) -> Vec<String> {
        {
            {
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
                parts
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_commands_quote_what_a_shell_would_split_or_expand() {
        assert_eq!(shell_quote("fixture/sum/1000"), "fixture/sum/1000");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's $(rm -rf ~)"), "'it'\\''s $(rm -rf ~)'");
        assert_eq!(shell_quote(""), "''");
        // What sh makes of it: the original word.
        let word = "it's $(x) `y` \"z\" a\tb";
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("printf %s {}", shell_quote(word)))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), word);
    }

    #[test]
    fn durations_are_positive_bounded_and_never_overflow() {
        assert_eq!(parse_duration("1h30m"), Ok(std::time::Duration::from_secs(5400)));
        assert_eq!(parse_duration("90"), Ok(std::time::Duration::from_secs(90)));
        for zero in ["0", "0s", "0m0s"] {
            assert!(parse_duration(zero).unwrap_err().contains("more than zero"), "{zero}");
        }
        for huge in ["18446744073709551615", "18446744073709551615h", "9999999999999999999m", "604801"] {
            assert!(parse_duration(huge).is_err(), "{huge}");
        }
        assert!(parse_duration("604800").is_ok(), "a week is accepted");
        assert!(parse_duration("15x").unwrap_err().contains("not a duration"));
    }

    #[test]
    fn cargo_s_subcommand_name_is_dropped() {
        let os = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        let got = subcommand_args(os(&["/x/cargo-benchgate", "benchgate", "run", "--quick"]));
        assert_eq!(got, os(&["cargo benchgate", "run", "--quick"]));
        // Run directly, with a first argument that is not the subcommand's name: kept.
        assert_eq!(subcommand_args(os(&["cargo-benchgate", "list"])), os(&["cargo benchgate", "list"]));
    }

    fn example() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/example-results.json")
    }

    fn run(args: &[&std::ffi::OsStr]) -> i32 {
        main(std::iter::once(OsString::from("benchgate")).chain(args.iter().map(|a| a.to_os_string())))
    }

    #[test]
    fn export_writes_both_formats() {
        let dir = tempfile::tempdir().unwrap();
        for (to, shape) in [("bmf", "object"), ("github-action-benchmark", "array")] {
            let out = dir.path().join(format!("{to}.json"));
            let code = run(&[
                "export".as_ref(),
                example().as_os_str(),
                "--to".as_ref(),
                to.as_ref(),
                "--out".as_ref(),
                out.as_os_str(),
            ]);
            assert_eq!(code, exit_code::OK, "{to}");
            let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
            assert_eq!(if v.is_object() { "object" } else { "array" }, shape, "{to}");
        }
        assert_eq!(run(&["export".as_ref(), example().as_os_str(), "--to".as_ref(), "csv".as_ref()]), exit_code::INPUT);
    }

    #[test]
    fn compare_renders_html() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("report.html");
        let ex = example();
        let args = [
            "compare".as_ref(),
            ex.as_os_str(),
            ex.as_os_str(),
            "--no-noise".as_ref(),
            "--format".as_ref(),
            "html".as_ref(),
            "--out".as_ref(),
            out.as_os_str(),
        ];
        assert_eq!(run(&args), exit_code::OK);
        let html = std::fs::read_to_string(&out).unwrap();
        assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
        assert!(html.contains("<h1 class=\"pass\">benchgate: PASS"), "{html}");
        assert!(html.contains("<svg"), "the ratio chart");
    }
}
