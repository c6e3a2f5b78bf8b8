//! `benchgate profile`: where each selected benchmark's instructions per op go, by cost category —
//! the alloc lane, then two callgrind runs per benchmark ([`crate::profile::ops`]) and two DHAT runs
//! ([`crate::profile::dhat`]), functions mapped to categories ([`crate::profile::category`]), the
//! CPU time per op measured natively, user and system ([`crate::profile::cputime`]), the decision gate
//! ([`crate::profile::decide`]) and implementations side by side ([`crate::profile::sidebyside`]); writes
//! the raw profiles, a flamegraph per benchmark ([`crate::profile::flame`]), `profile.json` and
//! `profile.md`; saves a named profile baseline and compares with one ([`crate::profile::saved`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Serialize;

use super::{Progress, Selection, default_run_dir, exit_code, load_config, select};
use crate::config::Config;
use crate::driver::{self, BenchBinary, RunOptions, Workspace};
use crate::model::{Lane, RunMode};
use crate::profile::attribute;
use crate::profile::category::Categories;
use crate::profile::cputime::{self, CpuTime};
use crate::profile::decide::{self, BenchInput, CategoryCost, Decision, SuiteDecision};
use crate::profile::ops::{self, OpProfile};
use crate::profile::saved::{self, BaselineComparison, ProfileBaseline, SavedBench, SavedMeta};
use crate::profile::sidebyside::{self, Profiled, SideBySide};
use crate::profile::{dhat, flame};
use crate::protocol::DeclInfo;
use crate::report;

/// The format version of `profile.json`.
pub const PROFILE_VERSION: u32 = 1;

#[derive(clap::Args)]
pub(crate) struct ProfileArgs {
    #[command(flatten)]
    selection: Selection,
    /// One benchmark, by its exact id.
    #[arg(long, value_name = "ID")]
    bench: Option<String>,
    /// Quick mode: the instr lane's quick iteration count.
    #[arg(long)]
    quick: bool,
    /// Folder for the profiles, `profile.json` and `profile.md` (default: `<reports_dir>/profile-<time>`).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Keep this profile as the named baseline NAME (`<baseline dir>/<runner-class>/profiles/NAME.json`):
    /// letters, digits, `-`, `_`, `.`, not starting with `.`, at most 100 characters.
    #[arg(long, value_name = "NAME")]
    save_baseline: Option<String>,
    /// Replace an existing baseline of that name (`--save-baseline` refuses to otherwise).
    #[arg(long, requires = "save_baseline")]
    update: bool,
    /// Compare this profile with the named baseline NAME: functions, allocation sites and categories that
    /// moved, a differential flamegraph and the decision then and now, per benchmark.
    #[arg(long, value_name = "NAME")]
    baseline: Option<String>,
    /// Runner class of the baselines (default: `[baseline] runner_class`, else BENCHGATE_RUNNER_CLASS, else
    /// `<os>-<arch>`).
    #[arg(long, value_name = "CLASS")]
    runner_class: Option<String>,
}

#[derive(Serialize)]
struct Summary {
    profile_version: u32,
    /// What the shares are of.
    event: &'static str,
    benchmarks: Vec<BenchProfile>,
    suites: Vec<SuiteProfile>,
    /// The decision gate per benchmark: rules against shares, recommendations, what not to optimize.
    decisions: Vec<Decision>,
    /// The same per suite.
    suite_decisions: Vec<SuiteDecision>,
    /// Suites with several implementations of the same operations (`suite/<impl>/<op>`), side by side.
    side_by_side: Vec<SideBySide>,
    /// Today's profile against the named baseline of `--baseline`.
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline_comparison: Option<BaselineComparison>,
}

#[derive(Serialize)]
struct BenchProfile {
    id: String,
    suite: String,
    /// Ops the profile covers (the difference of two runs).
    ops: u64,
    instructions_per_op: f64,
    /// Allocations and bytes allocated per op (the alloc lane), where it could count them.
    allocs_per_op: Option<f64>,
    bytes_per_op: Option<f64>,
    /// The highest live heap above the start level while the alloc lane counted.
    peak_heap_bytes: Option<u64>,
    /// Instructions per op of functions whose cost fell between the runs (left out of the shares).
    fell_per_op: f64,
    categories: Vec<CategoryShare>,
    /// The raw callgrind files, relative to the folder.
    profiles: Vec<String>,
    /// The flamegraph of the ops (SVG), relative to the folder; absent if it could not be drawn.
    flamegraph: Option<String>,
    /// Where the ops allocate (valgrind's DHAT, 1 and 1 + K iterations), most bytes first (top 10);
    /// empty where DHAT could not run.
    allocation_sites: Vec<AllocationSite>,
    /// CPU time per op measured natively (not under callgrind): user, system (kernel time, which the
    /// instruction shares do not include) and wall; absent where it could not be measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    cpu_time: Option<CpuTime>,
}

#[derive(Serialize)]
struct AllocationSite {
    /// The first frame outside the standard library ([`dhat::caller`]).
    site: String,
    /// The stack, innermost first, the allocator's own frames left out (at most 16 frames).
    stack: Vec<String>,
    blocks_per_op: f64,
    bytes_per_op: f64,
}

#[derive(Serialize)]
struct CategoryShare {
    category: String,
    /// Part of the op's instructions, 0 to 1; the categories of a benchmark sum to 1.
    share: f64,
    instructions_per_op: f64,
    /// The costliest functions of the category: name and instructions per op.
    top: Vec<(String, f64)>,
}

#[derive(Serialize)]
struct SuiteProfile {
    suite: String,
    benchmarks: usize,
    /// Each category's mean share over the suite's benchmarks (each benchmark weighs the same).
    categories: Vec<(String, f64)>,
}

/// The file-name stem of a benchmark's profiles ([`crate::meta::file_stem`]: unique and bounded).
pub(super) fn stem(id: &str) -> String {
    crate::meta::file_stem(id)
}

fn bench_profile(id: &str, suite: &str, p: &OpProfile, categories: &Categories, dir: &Path) -> BenchProfile {
    let per_op = |cost: u64| cost as f64 / p.ops as f64;
    let shares = categories.shares(&p.delta, 0);
    BenchProfile {
        id: id.to_owned(),
        suite: suite.to_owned(),
        ops: p.ops,
        instructions_per_op: p.instructions_per_op(),
        allocs_per_op: None,
        bytes_per_op: None,
        peak_heap_bytes: None,
        fell_per_op: per_op(p.fell),
        categories: shares
            .into_iter()
            .map(|s| CategoryShare {
                category: s.category,
                share: s.share,
                instructions_per_op: per_op(s.cost),
                top: s.top.into_iter().map(|(name, cost)| (name, per_op(cost))).collect(),
            })
            .collect(),
        profiles: p.files.iter().map(|f| relative(f, dir)).collect(),
        flamegraph: None,
        allocation_sites: Vec::new(),
        cpu_time: None,
    }
}

fn relative(path: &Path, dir: &Path) -> String {
    path.strip_prefix(dir).unwrap_or(path).display().to_string()
}

/// Draws `<stem>.svg`, the flamegraph of the ops' stacks (stacks under 0.1% of the cost merged into
/// `[other]`), and returns its name.
fn draw_flamegraph(id: &str, p: &OpProfile, dir: &Path) -> anyhow::Result<String> {
    let name = format!("{}.svg", stem(id));
    let title = format!("{id}: instructions of {} ops", p.ops);
    let svg = flame::flamegraph_svg(&flame::merge_small(&p.stacks, 0.001), &title, "instructions")?;
    let path = dir.join(&name);
    crate::fsutil::write_atomic(&path, svg.as_bytes()).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(name)
}

fn suite_profiles(benchmarks: &[BenchProfile]) -> Vec<SuiteProfile> {
    let mut by_suite: BTreeMap<&str, Vec<&BenchProfile>> = BTreeMap::new();
    for b in benchmarks {
        by_suite.entry(&b.suite).or_default().push(b);
    }
    by_suite
        .into_iter()
        .map(|(suite, benches)| {
            let mut sums: BTreeMap<&str, f64> = BTreeMap::new();
            for b in &benches {
                for c in &b.categories {
                    *sums.entry(&c.category).or_default() += c.share;
                }
            }
            let n = benches.len() as f64;
            let mut categories: Vec<(String, f64)> = sums.into_iter().map(|(c, s)| (c.to_owned(), s / n)).collect();
            categories.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            SuiteProfile { suite: suite.to_owned(), benchmarks: benches.len(), categories }
        })
        .collect()
}

fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

/// `profile.md`: the summary (`head`: the decision first), then per suite, then per benchmark, the
/// categories with a share, highest first.
fn markdown(s: &Summary, head: &[report::summary::Line]) -> String {
    let mut out = String::from("# Where the instructions go\n\n");
    out.push_str(&report::summary::markdown(head));
    out.push_str(
        "Instructions per op by cost category: each benchmark's exec mode under callgrind with 1 and 1 + K \
         iterations, the difference per function divided by K (setup and start-up cancel). Kernel time is \
         invisible to callgrind (`syscalls` counts the user-space side of system calls only), so it is \
         measured separately: the exec mode run natively with 1 and 1 + N iterations, each child's user and \
         system CPU time from the kernel (its rusage, reaped with wait4), N chosen so that the N ops take \
         about a second (0.3 s in quick mode); the rule `kernel-time` looks at the system share.\n\n",
    );
    out.push_str(
        "## Suites (mean share over their benchmarks)\n\n| suite | benchmarks | categories |\n| --- | ---: | --- |\n",
    );
    for suite in &s.suites {
        let cats: Vec<String> = suite
            .categories
            .iter()
            .filter(|(_, share)| *share >= 0.0005)
            .map(|(c, share)| format!("{c} {}", percent(*share)))
            .collect();
        out.push_str(&format!("| {} | {} | {} |\n", suite.suite, suite.benchmarks, cats.join(", ")));
    }
    out.push('\n');
    out.push_str(&decide::suites_markdown(&s.suite_decisions));
    out.push_str(&sidebyside::markdown(&s.side_by_side));
    for b in &s.benchmarks {
        out.push_str(&format!(
            "\n## {}\n\n{} instr/op over {} op{}{}{}.\n\n",
            b.id,
            report::format_count(b.instructions_per_op),
            report::format_count(b.ops as f64),
            if b.ops == 1 { "" } else { "s" },
            if b.fell_per_op > 0.0 {
                format!(
                    "; functions whose cost fell between the runs: {} instr/op, left out",
                    report::format_count(b.fell_per_op)
                )
            } else {
                String::new()
            },
            match (b.allocs_per_op, b.bytes_per_op) {
                (Some(a), Some(by)) =>
                    format!("; {} allocs/op, {}/op", report::format_count(a), report::format_bytes(by)),
                _ => String::new(),
            }
        ));
        if let Some(t) = &b.cpu_time {
            out.push_str(&cpu_time_line(t));
            out.push_str("\n\n");
        }
        out.push_str("| category | share | instr/op | costliest functions (instr/op) |\n| --- | ---: | ---: | --- |\n");
        for c in b.categories.iter().filter(|c| c.share > 0.0) {
            let top: Vec<String> = c
                .top
                .iter()
                .take(3)
                .map(|(name, cost)| format!("`{}` {}", name.replace('|', "\\|"), report::format_count(*cost)))
                .collect();
            out.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                c.category,
                percent(c.share),
                report::format_count(c.instructions_per_op),
                top.join(", ")
            ));
        }
        if !b.allocation_sites.is_empty() {
            out.push_str(
                "\n| allocation site (first frame outside std) | blocks/op | bytes/op |\n| --- | ---: | ---: |\n",
            );
            for site in b.allocation_sites.iter().take(5) {
                out.push_str(&format!(
                    "| `{}` | {} | {} |\n",
                    site.site.replace('|', "\\|").replace('`', "'"),
                    report::format_count(site.blocks_per_op),
                    report::format_bytes(site.bytes_per_op)
                ));
            }
        }
        if let Some(d) = s.decisions.iter().find(|d| d.id == b.id) {
            out.push_str("\n### Decision gate\n\n");
            out.push_str(&decide::bench_markdown(d));
        }
    }
    if let Some(c) = &s.baseline_comparison {
        out.push_str(&saved::markdown(c));
    }
    out
}

/// The line of `profile.md` on a benchmark's CPU time per op.
fn cpu_time_line(t: &CpuTime) -> String {
    format!(
        "CPU time per op, measured natively (not under callgrind; the process's rusage over 1 + {} ops minus 1 \
         op{}, median of {}): user {}, system {} ({} of CPU time in the kernel, which the instruction shares above \
         do not include); wall {}.",
        report::format_count(t.ops as f64),
        if t.setup_subtracted { ", less the same runs of the per-iteration setup alone" } else { "" },
        t.repeats,
        report::format_ns(t.user_ns_per_op),
        report::format_ns(t.sys_ns_per_op),
        t.sys_share().map_or_else(|| "n/a".to_owned(), percent),
        report::format_ns(t.wall_ns_per_op)
    )
}

/// Allocations per op, bytes per op, peak heap bytes.
type AllocFigures = (f64, f64, Option<u64>);

/// Each function's instructions per op (names normalised, so recursion levels and symbol versions add up).
fn functions_per_op(p: &OpProfile, categories: &Categories) -> Vec<(String, f64)> {
    let mut by_name: BTreeMap<String, f64> = BTreeMap::new();
    for f in &p.delta.functions {
        *by_name.entry(categories.normalise(&f.name).to_owned()).or_default() += f.self_cost[0] as f64 / p.ops as f64;
    }
    by_name.into_iter().collect()
}

/// Allocations and bytes per op and the peak heap of the selected benchmarks from the alloc lane (written to
/// `alloc.json` in `out`), so that the allocation rules can fire and allocation-free benchmarks are
/// known; empty where the lane cannot count (no counting allocator in the bench binary).
fn alloc_counts(
    ws: &Workspace,
    selected: &[(&BenchBinary, &DeclInfo)],
    config: &Config,
    mode: RunMode,
    out: &Path,
) -> anyhow::Result<BTreeMap<String, AllocFigures>> {
    eprintln!("benchgate: counting allocations (alloc lane)");
    let opts = RunOptions { lanes: vec![Lane::Alloc], mode, out: out.join("alloc.json") };
    let meta = super::new_meta(out, ws, mode, &[Lane::Alloc], None);
    let mut progress = Progress::default();
    let results = driver::run(ws, selected, config, &opts, meta, &mut |e| progress.print(e))?;
    Ok(results
        .benchmarks
        .iter()
        .filter_map(|b| {
            let peak = b.metrics.alloc.as_ref().map(|a| a.peak_live_bytes);
            Some((b.id.clone(), (b.metrics.allocs_per_op?, b.metrics.bytes_per_op?, peak)))
        })
        .collect())
}

/// What a named profile baseline needs of one benchmark today, kept until the decisions are made.
struct Today {
    id: String,
    suite: String,
    profile: OpProfile,
    costs: attribute::FunctionCosts,
    sites: Option<dhat::OpSites>,
}

/// The file `--save-baseline` writes, and the name and contents of the baseline `--baseline` names.
type BaselineFiles = (Option<PathBuf>, Option<(String, ProfileBaseline)>);

/// The files of `--save-baseline` and `--baseline`, checked before anything is measured: names valid,
/// the baseline to compare with readable and of this version, the one to save new unless `--update`.
fn baseline_files(ws: &Workspace, config: &Config, args: &ProfileArgs) -> anyhow::Result<BaselineFiles> {
    if args.save_baseline.is_none() && args.baseline.is_none() {
        return Ok((None, None));
    }
    let class = crate::baseline::runner_class(args.runner_class.as_deref(), &config.baseline.runner_class)
        .map_err(anyhow::Error::msg)?;
    let dir = crate::baseline::ClassDir::new(&ws.root.join(&config.baseline.dir), &class);
    let save = match &args.save_baseline {
        Some(name) => {
            crate::baseline::check_profile_name(name).map_err(anyhow::Error::msg)?;
            let path = dir.profile_path(name);
            if path.exists() && !args.update {
                bail!("profile baseline {name} exists ({}): --update replaces it", path.display());
            }
            Some(path)
        }
        None => None,
    };
    let compare = match &args.baseline {
        Some(name) => {
            crate::baseline::check_profile_name(name).map_err(anyhow::Error::msg)?;
            let path = dir.profile_path(name);
            if !path.exists() {
                bail!(
                    "no profile baseline {name} for runner class {class} ({} does not exist; `benchgate profile \
                     --save-baseline {name}` makes one)",
                    path.display()
                );
            }
            Some((name.clone(), ProfileBaseline::load(&path).map_err(anyhow::Error::msg)?))
        }
        None => None,
    };
    Ok((save, compare))
}

fn saved_meta(ws: &Workspace, mode: RunMode, valgrind: &str) -> SavedMeta {
    let git = crate::meta::git_info(&ws.root);
    let toolchain = crate::meta::toolchain(&ws.root);
    SavedMeta {
        created_at: crate::meta::now_rfc3339(),
        commit: git.as_ref().map(|g| g.commit.clone()),
        dirty: git.is_some_and(|g| g.dirty),
        rustc: toolchain.rustc_release,
        target: toolchain.target,
        valgrind: valgrind.to_owned(),
        cpu_model: crate::meta::machine().cpu_model,
        mode,
    }
}

/// Today's profiles against the baseline `name`: per benchmark the comparison and its differential
/// flamegraph (`<stem>.baseline.diff.svg` in `out`), and the benchmarks on one side only.
fn compare_with(
    name: &str,
    base: &ProfileBaseline,
    now: &SavedMeta,
    today: &[Today],
    decisions: &[Decision],
    out: &Path,
) -> BaselineComparison {
    let warnings = saved::warnings(&base.meta, now);
    for w in &warnings {
        eprintln!("benchgate: warning: profile baseline {name}: {w}");
    }
    let mut benchmarks = Vec::new();
    for t in today {
        let Some(saved_bench) = base.benchmarks.get(&t.id) else { continue };
        let decision = decisions.iter().find(|d| d.id == t.id).map(saved::SavedDecision::new).unwrap_or_default();
        let mut c = saved::compare_bench(&t.id, saved_bench, &t.costs, t.sites.as_ref(), decision);
        let file = format!("{}.baseline.diff.svg", stem(&t.id));
        match saved::differential_svg(&t.id, name, saved_bench, &t.profile.stacks, t.profile.ops)
            .map_err(anyhow::Error::from)
            .and_then(|svg| Ok(crate::fsutil::write_atomic(&out.join(&file), svg.as_bytes())?))
        {
            Ok(()) => c.attribution.flamegraph = Some(file),
            Err(e) => eprintln!("benchgate: {}: no differential flamegraph: {e:#}", t.id),
        }
        let a = &c.attribution;
        match a.grew.first() {
            Some(f) => eprintln!(
                "benchgate: {} against {name}: {} ({}), most growth {} ({} instr/op)",
                t.id,
                report::format_count(a.head_per_op),
                attribute::percent_change(a.base_per_op, a.head_per_op),
                f.name,
                attribute::signed(f.change())
            ),
            None => eprintln!(
                "benchgate: {} against {name}: {} ({}), no function grew",
                t.id,
                report::format_count(a.head_per_op),
                attribute::percent_change(a.base_per_op, a.head_per_op)
            ),
        }
        benchmarks.push(c);
    }
    BaselineComparison {
        name: name.to_owned(),
        saved: base.meta.clone(),
        warnings,
        benchmarks,
        only_in_baseline: base.benchmarks.keys().filter(|id| !today.iter().any(|t| &t.id == *id)).cloned().collect(),
        only_today: today.iter().filter(|t| !base.benchmarks.contains_key(&t.id)).map(|t| t.id.clone()).collect(),
    }
}

pub(super) fn profile(manifest: Option<&Path>, config: Option<&Path>, args: ProfileArgs) -> anyhow::Result<i32> {
    let Ok(valgrind) = crate::measure::instr::Valgrind::find(&[]) else {
        bail!("valgrind is not installed (apt-get install valgrind): profiles are made with callgrind");
    };
    let command_started = std::time::Instant::now();
    let ws = Workspace::discover(manifest)?;
    let config = load_config(config, &ws)?;
    let mode = if args.quick { RunMode::Quick } else { RunMode::Full };
    let (save_to, compare_to) = baseline_files(&ws, &config, &args)?;
    let index = ws.build(crate::driver::Build::Plain)?;
    let mut selected = select(&index, &args.selection)?;
    if let Some(id) = &args.bench {
        selected.retain(|(_, d)| &d.id == id);
        if selected.is_empty() {
            bail!("no benchmark `{id}` (`benchgate list` prints the ids)");
        }
    }
    if selected.is_empty() {
        bail!("no benchmark matches the selection");
    }
    let out = args.out.clone().unwrap_or_else(|| default_run_dir(&ws, &config, "profile"));
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let ops = config.instr(mode).extra_iters;
    let timeout = config.timeout();
    // The native CPU-time runs: the N ops of each long run take about this long.
    let cpu_target = std::time::Duration::from_millis(if args.quick { 300 } else { 1_000 });
    let categories = config.profile.categories().map_err(|e| anyhow::anyhow!("profile.category: {e}"))?;
    driver::handle_interrupts();
    let allocs = alloc_counts(&ws, &selected, &config, mode, &out)?;
    eprintln!("benchgate: profiling {} benchmarks, {ops} ops each, into {}", selected.len(), out.display());
    let mut benchmarks = Vec::new();
    let mut profiled = Vec::new();
    let mut today = Vec::new();
    let mut failed = Vec::new();
    for (i, (bin, decl)) in selected.iter().enumerate() {
        if driver::interrupted() {
            break;
        }
        eprint!("[{}/{}] {} ...", i + 1, selected.len(), decl.id);
        let started = std::time::Instant::now();
        // Per-iteration setup runs in exec mode too: it is measured alone and taken off.
        let batched = match driver::probe_batched(bin, &decl.id, timeout) {
            Ok(batched) => batched,
            Err(_) if driver::interrupted() => {
                eprintln!(" interrupted");
                break;
            }
            Err(e) => {
                eprintln!(" FAILED: {e}");
                failed.push(decl.id.clone());
                continue;
            }
        };
        match ops::profile_ops(bin, &decl.id, ops, batched, &out, &stem(&decl.id), timeout) {
            Ok(p) => {
                let mut b = bench_profile(&decl.id, &decl.suite, &p, &categories, &out);
                if let Some(&(a, by, peak)) = allocs.get(&decl.id) {
                    (b.allocs_per_op, b.bytes_per_op, b.peak_heap_bytes) = (Some(a), Some(by), peak);
                }
                let mut op_sites = None;
                match dhat::alloc_sites(bin, &decl.id, ops, batched, &out, &stem(&decl.id), timeout) {
                    Ok(sites) => {
                        b.profiles.extend(sites.files.iter().map(|f| relative(f, &out)));
                        b.allocation_sites = sites
                            .sites
                            .iter()
                            .take(10)
                            .map(|s| AllocationSite {
                                site: dhat::caller(&s.frames).to_owned(),
                                stack: s.frames.iter().take(16).cloned().collect(),
                                blocks_per_op: s.blocks_per_op,
                                bytes_per_op: s.bytes_per_op,
                            })
                            .collect();
                        op_sites = Some(sites);
                    }
                    Err(e) => eprint!(" (no allocation sites: {e})"),
                }
                match draw_flamegraph(&decl.id, &p, &out) {
                    Ok(name) => b.flamegraph = Some(name),
                    Err(e) => eprint!(" (no flamegraph: {e:#})"),
                }
                match cputime::measure(bin, &decl.id, batched, ops, cpu_target, 3, timeout) {
                    Ok(t) => b.cpu_time = Some(t),
                    Err(_) if driver::interrupted() => {}
                    Err(e) => eprint!(" (no CPU time: {e})"),
                }
                if driver::interrupted() {
                    // Its DHAT run may have been cut short: a benchmark in progress is dropped.
                    eprintln!(" interrupted");
                    break;
                }
                profiled.push(Profiled {
                    id: decl.id.clone(),
                    instructions_per_op: b.instructions_per_op,
                    peak_heap: b.peak_heap_bytes,
                    bytes_per_op: b.bytes_per_op,
                    categories: b.categories.iter().map(|c| (c.category.clone(), c.share)).collect(),
                    functions: functions_per_op(&p, &categories),
                    sites: b.allocation_sites.iter().map(|s| (s.site.clone(), s.bytes_per_op)).collect(),
                    cpu_ns: b.cpu_time.as_ref().map(|t| (t.user_ns_per_op, t.sys_ns_per_op)),
                });
                let top: Vec<String> = b
                    .categories
                    .iter()
                    .filter(|c| c.share >= 0.05)
                    .map(|c| format!("{} {}", c.category, percent(c.share)))
                    .collect();
                let sys = match b.cpu_time.as_ref().and_then(CpuTime::sys_share) {
                    Some(share) => format!(", sys {}", percent(share)),
                    None => String::new(),
                };
                eprintln!(
                    " {} instr/op: {}{sys} ({:.1}s)",
                    report::format_count(b.instructions_per_op),
                    top.join(", "),
                    started.elapsed().as_secs_f64()
                );
                if save_to.is_some() || compare_to.is_some() {
                    let costs = attribute::function_costs(&p, &categories);
                    today.push(Today {
                        id: decl.id.clone(),
                        suite: decl.suite.clone(),
                        profile: p,
                        costs,
                        sites: op_sites,
                    });
                }
                benchmarks.push(b);
            }
            // Ctrl-C reaches valgrind too: the benchmark in progress is dropped, not recorded as failed.
            Err(_) if driver::interrupted() => eprintln!(" interrupted"),
            Err(e) => {
                eprintln!(" FAILED: {e}");
                failed.push(decl.id.clone());
            }
        }
    }
    let inputs: Vec<BenchInput> = benchmarks
        .iter()
        .map(|b| BenchInput {
            id: b.id.clone(),
            suite: b.suite.clone(),
            instructions_per_op: b.instructions_per_op,
            categories: b
                .categories
                .iter()
                .map(|c| CategoryCost {
                    category: c.category.clone(),
                    share: c.share,
                    instructions_per_op: c.instructions_per_op,
                })
                .collect(),
            allocs_per_op: b.allocs_per_op,
            bytes_per_op: b.bytes_per_op,
            system_time_share: b.cpu_time.as_ref().and_then(CpuTime::sys_share),
        })
        .collect();
    let policy = config.profile.policy();
    let decisions = policy.decide(&inputs);
    let suite_decisions = policy.suites(&inputs, &decisions);
    let now = saved_meta(&ws, mode, &valgrind.version);
    let baseline_comparison =
        compare_to.as_ref().map(|(name, base)| compare_with(name, base, &now, &today, &decisions, &out));
    let head = summary_lines(&ws, &inputs, &suite_decisions, ops, args.quick, command_started.elapsed(), &out);
    let summary = Summary {
        profile_version: PROFILE_VERSION,
        event: "Ir",
        suites: suite_profiles(&benchmarks),
        benchmarks,
        decisions,
        suite_decisions,
        side_by_side: sidebyside::compare(&profiled, policy.metric_threshold(decide::Metric::SystemTimeShare)),
        baseline_comparison,
    };
    let json = serde_json::to_string_pretty(&summary)? + "\n";
    let md = markdown(&summary, &head);
    for (name, text) in [("profile.json", json.as_str()), ("profile.md", md.as_str())] {
        let path = out.join(name);
        crate::fsutil::write_atomic(&path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    eprintln!("benchgate: wrote {}", out.display());
    if driver::interrupted() {
        if save_to.is_some() {
            eprintln!("benchgate: interrupted: the profile baseline is not saved");
        }
        return Err(driver::DriverError::Interrupted(out).into());
    }
    if !failed.is_empty() {
        eprintln!("benchgate: {} benchmark(s) could not be profiled: {}", failed.len(), failed.join(", "));
        if save_to.is_some() {
            eprintln!("benchgate: the profile baseline is not saved: a baseline without them would pass for complete");
        }
        return Ok(exit_code::BENCH_FAILED);
    }
    if let (Some(path), Some(name)) = (&save_to, &args.save_baseline) {
        let baseline = ProfileBaseline {
            profile_baseline_version: saved::PROFILE_BASELINE_VERSION,
            name: name.clone(),
            meta: now,
            benchmarks: today
                .iter()
                .map(|t| {
                    let decision = summary.decisions.iter().find(|d| d.id == t.id);
                    (t.id.clone(), SavedBench::new(&t.suite, &t.profile, &t.costs, t.sites.as_ref(), decision))
                })
                .collect(),
        };
        if path.exists() && !args.update {
            bail!("profile baseline {name} exists ({}): --update replaces it", path.display());
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        crate::fsutil::write_atomic(path, baseline.to_json().as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("benchgate: saved profile baseline {name} ({} benchmarks) to {}", today.len(), path.display());
    }
    Ok(exit_code::OK)
}

/// The summary atop `profile.md` ([`report::summary::of_profile`]), with where and how long it ran.
fn summary_lines(
    ws: &Workspace,
    inputs: &[BenchInput],
    suites: &[SuiteDecision],
    ops: u64,
    quick: bool,
    took: std::time::Duration,
    out: &Path,
) -> Vec<report::summary::Line> {
    let (machine, git) = (crate::meta::machine(), crate::meta::git_info(&ws.root));
    let files = format!(
        "{}: profile.md, profile.json, per benchmark a flamegraph (SVG) and its callgrind and DHAT files",
        out.display()
    );
    report::summary::of_profile(&report::summary::Profiled {
        inputs,
        suites,
        ops,
        quick,
        machine: &machine,
        commit: git.as_ref(),
        took,
        files: &files,
    })
}
