//! `benchgate run --compare REV` (and `cargo xtask bench --compare REV`): resolve the base, build it
//! in the base worktree and head in place, measure both interleaved, compare, attribute each
//! regression to the functions and allocation sites that grew (callgrind and DHAT, both sides), and
//! write everything under `reports/compare-<time>/`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::{OutputArgs, Progress, RunArgs, default_run_dir, emit_with, exit_code, new_meta, select};
use crate::config::Config;
use crate::driver::{self, DriverError, Workspace};
use crate::gate::Policy;
use crate::interleave::{self, Side};
use crate::model::{Lane, Meta, Results, RunMode, SCHEMA_VERSION};
use crate::profile::attribute::{self, Attribution};
use crate::profile::dhat;
use crate::profile::flame;
use crate::profile::ops;
use crate::report;
use crate::revision::{self, short};

/// Both sides of a comparison, resolved and built: what `run --compare` measures here and `build
/// --archive` packs for other machines. Holds the state directory's lock.
pub(super) struct Prepared {
    pub base: revision::Base,
    /// The base's worktree and its copy of the workspace's root (where its configuration lies).
    pub worktree: PathBuf,
    pub base_root: PathBuf,
    /// The workspace's root as the git working tree sees it.
    pub ws_root: PathBuf,
    pub base_ws: Workspace,
    pub base_index: driver::Index,
    pub head_index: driver::Index,
    _lock: revision::StateLock,
}

impl Prepared {
    /// The verdict's context line: which commits are compared.
    pub fn context(&self, rev: &str) -> String {
        let base = &self.base;
        format!(
            "base {} ({}), head {}{}",
            short(&base.commit),
            if base.via_merge_base { format!("merge-base of {rev}") } else { rev.to_owned() },
            short(&base.head_commit),
            if base.head_dirty { " + uncommitted changes" } else { "" }
        )
    }
}

/// Resolves the base (the merge-base of `rev` and HEAD unless `no_merge_base`), prepares its worktree,
/// and builds both sides as the sides of a comparison.
pub(super) fn prepare(ws: &Workspace, config: &Config, rev: &str, no_merge_base: bool) -> anyhow::Result<Prepared> {
    let base = revision::resolve(&ws.root, rev, no_merge_base)?;
    if base.via_merge_base {
        eprintln!(
            "benchgate: base {} ({}): the merge-base of {rev} ({}) and HEAD ({})",
            short(&base.commit),
            base.summary,
            short(&base.rev_commit),
            short(&base.head_commit)
        );
    } else {
        eprintln!("benchgate: base {} ({}): {rev} itself", short(&base.commit), base.summary);
    }
    if base.head_dirty {
        eprintln!(
            "benchgate: head is the working tree, with uncommitted changes on top of {}",
            short(&base.head_commit)
        );
    } else {
        eprintln!("benchgate: head is the working tree at {}", short(&base.head_commit));
    }

    let (ws_root, rel_manifest) = manifest_in_repo(ws)?;
    let state = ws.state_dir();
    let lock = revision::lock_state(&state, &mut |m| eprintln!("{m}"))
        .with_context(|| format!("cannot lock {}", state.display()))?;
    let worktree = state.join("worktrees").join("base");
    revision::prepare_worktree(&ws_root, revision::BASE_WORKTREE, &worktree, &base.commit)?;
    let base_manifest = worktree.join(&rel_manifest);
    if !base_manifest.exists() {
        bail!("the base commit {} has no {}", short(&base.commit), rel_manifest.display());
    }
    // The base builds into head's target directory: the dependencies, built with the same flags, are
    // shared; the base's own crates get artifacts of their own (driver::Role).
    revision::claim_target_dir(&state.join("base-state"), &worktree)
        .with_context(|| format!("cannot prepare {} for building the base", worktree.display()))?;
    let base_ws =
        match Workspace::discover_with(Some(&base_manifest), Some(&ws.target_dir), Some(&state.join("base-state"))) {
            Ok(w) => w,
            Err(DriverError::NoBenchTargets(_)) => {
                bail!("the base commit {} has no benchmarks declared with benchgate", short(&base.commit))
            }
            Err(e) => return Err(e).context(format!("base {}", short(&base.commit))),
        };
    eprintln!("benchgate: building base {} in {}", short(&base.commit), worktree.display());
    let side = |role| driver::Build::Side {
        role,
        align_functions: config.run.align_functions,
        codegen_units: config.run.codegen_units,
    };
    let base_index = base_ws
        .build(side(driver::Role::Base))
        .with_context(|| format!("the base commit {} does not build", short(&base.commit)))?;
    eprintln!("benchgate: building head");
    let head_index = ws.build(side(driver::Role::Head)).context("head (the working tree) does not build")?;
    let base_root = base_manifest.parent().map_or_else(|| worktree.clone(), Path::to_owned);
    Ok(Prepared { base, worktree, base_root, ws_root, base_ws, base_index, head_index, _lock: lock })
}

/// The selected benchmarks of both sides, by id, and their union (sorted); says which exist on one side
/// only.
pub(super) fn selected<'a>(
    prepared: &'a Prepared,
    selection: &super::Selection,
) -> anyhow::Result<(SideSelection<'a>, SideSelection<'a>, Vec<String>)> {
    let base_sel: SideSelection<'a> = select(&prepared.base_index, selection)
        .unwrap_or_default()
        .into_iter()
        .map(|(b, d)| (d.id.as_str(), b))
        .collect();
    let head_sel: SideSelection<'a> =
        select(&prepared.head_index, selection)?.into_iter().map(|(b, d)| (d.id.as_str(), b)).collect();
    let ids: BTreeSet<&str> = base_sel.keys().chain(head_sel.keys()).copied().collect();
    if ids.is_empty() {
        bail!("no benchmark matches the selection");
    }
    for id in &ids {
        match (base_sel.contains_key(id), head_sel.contains_key(id)) {
            (true, false) => eprintln!("benchgate: {id} exists only in base (removed in head)"),
            (false, true) => eprintln!("benchgate: {id} exists only in head (new)"),
            _ => {}
        }
    }
    let ids = ids.into_iter().map(str::to_owned).collect();
    Ok((base_sel, head_sel, ids))
}

/// One side's selected benchmarks: id to binary.
pub(super) type SideSelection<'a> = BTreeMap<&'a str, &'a driver::BenchBinary>;

/// `config`: head's configuration and the file it came from (which may not exist: the defaults).
pub(super) fn run(
    ws: &Workspace,
    (config, config_path): (&Config, &Path),
    rev: &str,
    lanes: &[Lane],
    args: &RunArgs,
) -> anyhow::Result<i32> {
    let command_started = std::time::Instant::now();
    let mode = if args.quick { RunMode::Quick } else { RunMode::Full };
    let prepared = prepare(ws, config, rev, args.no_merge_base)?;
    let state = ws.state_dir();
    let (base_sel, head_sel, ids) = selected(&prepared, &args.selection)?;
    let (base, worktree, base_ws) = (&prepared.base, &prepared.worktree, &prepared.base_ws);
    let (base_index, head_index) = (&prepared.base_index, &prepared.head_index);
    let identical = ids.iter().all(|id| match (base_sel.get(id.as_str()), head_sel.get(id.as_str())) {
        (Some(b), Some(h)) => b.same_code(h),
        _ => false,
    });
    if identical && !args.force {
        eprintln!(
            "benchgate: base and head benchmark binaries are identical (same code digests): nothing to measure. \
             --force measures anyway (an A/A check)."
        );
        return Ok(exit_code::OK);
    }
    if identical {
        eprintln!("benchgate: base and head binaries are identical; measuring anyway (--force)");
    }

    let out_dir = args.out.clone().unwrap_or_else(|| default_run_dir(ws, config, "compare"));
    std::fs::create_dir_all(&out_dir).with_context(|| format!("cannot create {}", out_dir.display()))?;
    let seed = args.seed();
    let pairing = pairing_id(&base.commit, &base.head_commit);
    let meta = |dir: &Path, side_ws: &Workspace| new_meta(dir, side_ws, mode, lanes, Some(pairing.clone()));
    let results = |m: Meta| Results { schema_version: SCHEMA_VERSION, meta: m, benchmarks: Vec::new() };
    let mut base_side = Side {
        label: "base",
        index: base_index,
        results: results(meta(worktree, base_ws)),
        out: out_dir.join("base.json"),
    };
    let mut head_side =
        Side { label: "head", index: head_index, results: results(meta(&ws.root, ws)), out: out_dir.join("head.json") };
    let budget = args.budget(config, mode);
    // The budget is the whole command's, attribution of regressions and the report included: building
    // came out of it, and measuring keeps back one reserve for the last wall rounds' overshoot and the
    // report and another for attributing regressions.
    let measuring = budget.saturating_sub(command_started.elapsed()).saturating_sub(budget_reserve(budget) * 2);
    let opts = interleave::Options {
        lanes: lanes.to_vec(),
        mode,
        budget: measuring,
        max_rounds: config.compare.rounds,
        seed,
        cache_dir: state.join("cache"),
        state_dir: state.clone(),
        measure_identical: args.force,
        shards: 1,
    };
    eprintln!(
        "benchgate: measuring {} benchmarks, wall rounds interleaved (seed {seed}); time budget {}s for the whole \
         command, {}s of it for measuring after {:.0}s of building; results in {}",
        ids.len(),
        budget.as_secs(),
        measuring.as_secs(),
        command_started.elapsed().as_secs_f64(),
        out_dir.display()
    );
    driver::handle_interrupts();
    let mut progress = Progress::default();
    let started = std::time::Instant::now();
    interleave::run(&mut base_side, &mut head_side, &ids, config, &opts, &mut |e| progress.print(e))?;
    eprintln!("benchgate: measured in {:.0}s", started.elapsed().as_secs_f64());

    // Calibrated floors of deterministic lanes still apply (they capture per-process effects such as
    // hash seeds); the paired wall test does not use floors.
    let class = crate::baseline::runner_class(None, &config.baseline.runner_class).map_err(anyhow::Error::msg)?;
    let noise = crate::baseline::ClassDir::new(&ws.root.join(&config.baseline.dir), &class).noise()?;
    let policy = Policy { accept: &config.accept, noise: noise.as_ref(), ..Policy::new(&config.gate) };
    let mut verdicts = crate::compare::compare(&base_side.results, &head_side.results, &policy);
    verdicts.context.push(prepared.context(rev));
    // What changed in the policy goes first: a head that loosens its own gate must say so.
    for line in policy_changes(&prepared.ws_root, &prepared.base_root, config_path, config, &class).into_iter().rev() {
        verdicts.warnings.insert(0, line);
    }
    let deadline = command_started + budget.saturating_sub(REPORT_TIME);
    let (attributions, unattributed) =
        attribute_regressions(&verdicts, &base_sel, &head_sel, config, mode, deadline, &out_dir)?;
    verdicts.warnings.extend(unattributed);
    let files = report_files(&out_dir, !attributions.is_empty());
    let summary =
        report::summary::of_compare(&verdicts, Some(&base_side.results), Some(&head_side.results), Some(&files));
    write_report(&out_dir, &verdicts, &base_side.results, &head_side.results, &attributions, &summary)?;
    eprintln!(
        "benchgate: wrote {} ({:.0}s in all, of a {}s budget)",
        out_dir.display(),
        command_started.elapsed().as_secs_f64(),
        budget.as_secs()
    );
    if driver::interrupted() {
        return Err(DriverError::Interrupted(out_dir).into());
    }
    let terminal = OutputArgs { format: super::Format::Table, out: None };
    emit_with(&verdicts, Some(&base_side.results), Some(&head_side.results), &terminal, Some(&files))
}

/// Where the report folder's files are, for the summary.
fn report_files(dir: &Path, attributed: bool) -> String {
    let attribution = if attributed { ", attribution.json and attribution/ (profiles, flamegraphs)" } else { "" };
    format!("{}: verdicts.md, report.html, verdicts.json, base.json, head.json{attribution}", dir.display())
}

/// What head's policy changes against base's: the configuration file (at the same place in base's
/// checkout) and the runner class's noise floors. One line per change, each saying it is a policy
/// change; a file that cannot be compared says so rather than hiding the change.
pub(super) fn policy_changes(
    head_root: &Path,
    base_root: &Path,
    config_path: &Path,
    config: &Config,
    class: &str,
) -> Vec<String> {
    let read = |p: &Path| match std::fs::read_to_string(p) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", p.display())),
    };
    let mut out = Vec::new();
    let config_path = config_path.canonicalize().unwrap_or_else(|_| config_path.to_owned());
    match config_path.strip_prefix(head_root) {
        Ok(rel) => {
            let changes = read(&base_root.join(rel))
                .and_then(|b| Ok((b, read(&config_path)?)))
                .and_then(|(b, h)| crate::config::policy_changes(b.as_deref(), h.as_deref()));
            match changes {
                Ok(changes) => {
                    out.extend(changes.into_iter().map(|c| format!("policy changed in head ({}): {c}", rel.display())))
                }
                Err(e) => out.push(format!("policy not compared with base's ({}): {e}", rel.display())),
            }
        }
        Err(_) => out.push(format!(
            "policy not compared with base's: {} is outside the workspace, so base has no copy of it",
            config_path.display()
        )),
    }
    let rel_noise = Path::new(&config.baseline.dir).join(class).join(crate::baseline::NOISE_FILE);
    let (b, h) = (read(&base_root.join(&rel_noise)), read(&head_root.join(&rel_noise)));
    match (b, h) {
        (Ok(b), Ok(h)) if b == h => {}
        (Ok(b), Ok(h)) => out.push(format!(
            "policy changed in head ({}): the noise floors {}",
            rel_noise.display(),
            match (b, h) {
                (None, _) => "are new",
                (_, None) => "were removed",
                _ => "differ from base's",
            }
        )),
        (Err(e), _) | (_, Err(e)) => out.push(format!("noise floors not compared with base's: {e}")),
    }
    out
}

/// At most this many regressed benchmarks are attributed (the largest regressions): each takes two
/// callgrind and two DHAT runs per side, up to a minute for a long routine.
const MAX_ATTRIBUTED: usize = 5;

/// Time kept back from measuring, twice: once for the last wall rounds' overshoot (a routine longer
/// than planned still gets the minimum rounds), the verdicts and the report, and once for attributing
/// regressions. A thirtieth of the budget each, between 5 and 30 seconds. Measured: the full wall pass
/// ended 1 s past its share on a quiet machine, 30 s past it with a second job on the cores (a quick one
/// at the shortest plans 22 s past it before the pass paid long benchmarks' minimum rounds from the
/// others' shares, 1 s after); the report took about 1 s; five attributions (both sides at once) 17 s
/// in quick mode.
pub(super) fn budget_reserve(budget: std::time::Duration) -> std::time::Duration {
    (budget / 30).clamp(std::time::Duration::from_secs(5), std::time::Duration::from_secs(30))
}

/// What attribution leaves of the budget for writing the report (measured: about 1 s for all suites).
const REPORT_TIME: std::time::Duration = std::time::Duration::from_secs(3);

/// The workspace's root and its manifest's path relative to the git working tree: a worktree holds the
/// whole repository, and the workspace may sit in a subdirectory of it.
pub(super) fn manifest_in_repo(ws: &Workspace) -> anyhow::Result<(PathBuf, PathBuf)> {
    let repo_root = git2::Repository::discover(&ws.root)
        .ok()
        .and_then(|r| r.workdir().map(Path::to_owned))
        .context("the workspace is not in a git working tree")?;
    let repo_root = repo_root.canonicalize().unwrap_or(repo_root);
    let ws_root = ws.root.canonicalize().unwrap_or_else(|_| ws.root.clone());
    let manifest = ws.manifest_path.clone().unwrap_or_else(|| ws.root.join("Cargo.toml"));
    let manifest = manifest.canonicalize().unwrap_or(manifest);
    let rel_manifest = manifest
        .strip_prefix(&repo_root)
        .with_context(|| format!("{} is outside the git working tree {}", manifest.display(), repo_root.display()))?
        .to_owned();
    Ok((ws_root, rel_manifest))
}

/// For each benchmark the gate flags as regressed (in any lane), the functions whose instructions per
/// op grew and the allocation sites that are new or grew: both sides' per-op profiles under callgrind
/// and DHAT, kept in `attribution/` with a differential flamegraph. Without valgrind, or where a side
/// cannot be profiled, says so and goes on: the verdicts stand without it.
///
/// Attribution starts only while the budget has time for it: before `deadline`, and with a second one
/// only when the longest so far still fits. Returns the attributions and a warning for the verdicts
/// naming the regressions left unattributed (too many, or out of time).
pub(super) fn attribute_regressions(
    verdicts: &crate::compare::Verdicts,
    base_sel: &BTreeMap<&str, &driver::BenchBinary>,
    head_sel: &BTreeMap<&str, &driver::BenchBinary>,
    config: &Config,
    mode: RunMode,
    deadline: std::time::Instant,
    out_dir: &Path,
) -> anyhow::Result<(Vec<Attribution>, Vec<String>)> {
    // The largest regression of each benchmark (its largest ratio over its regressed metrics), largest
    // first; an extra allocation in allocation-free code (ratio undefined) counts as the largest.
    let mut largest: BTreeMap<&str, f64> = BTreeMap::new();
    for c in verdicts.comparisons.iter().filter(|c| c.verdict == crate::compare::Verdict::Regressed) {
        if base_sel.contains_key(c.id.as_str()) && head_sel.contains_key(c.id.as_str()) {
            let r = largest.entry(c.id.as_str()).or_insert(0.0);
            *r = r.max(c.ratio.unwrap_or(f64::INFINITY));
        }
    }
    let mut regressed: Vec<(&str, f64)> = largest.into_iter().collect();
    regressed.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    let mut warnings = Vec::new();
    if regressed.len() > MAX_ATTRIBUTED {
        let others: Vec<&str> = regressed[MAX_ATTRIBUTED..].iter().map(|(id, _)| *id).collect();
        eprintln!(
            "benchgate: {} benchmarks regressed: attributing the {MAX_ATTRIBUTED} largest regressions, not the others",
            regressed.len()
        );
        warnings
            .push(format!("not attributed (only the {MAX_ATTRIBUTED} largest regressions are): {}", others.join(", ")));
        regressed.truncate(MAX_ATTRIBUTED);
    }
    let regressed: Vec<&str> = regressed.into_iter().map(|(id, _)| id).collect();
    if regressed.is_empty() {
        return Ok((Vec::new(), warnings));
    }
    if crate::measure::instr::Valgrind::find(&[]).is_err() {
        eprintln!("benchgate: valgrind is not installed: regressions are not attributed to functions");
        return Ok((Vec::new(), warnings));
    }
    let dir = out_dir.join("attribution");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let ops = config.instr(mode).extra_iters;
    let categories = config.profile.categories().map_err(|e| anyhow::anyhow!("profile.category: {e}"))?;
    let mut out = Vec::new();
    let mut longest = std::time::Duration::ZERO;
    for (i, id) in regressed.iter().enumerate() {
        if driver::interrupted() {
            eprintln!("benchgate: interrupted: the remaining regressions are not attributed");
            break;
        }
        let started = std::time::Instant::now();
        if started + longest > deadline {
            let left = regressed[i..].join(", ");
            let why = if longest.is_zero() {
                "building and measuring spent the time budget".to_owned()
            } else {
                format!("the longest attribution took {:.0}s and the time budget has less left", longest.as_secs_f64())
            };
            eprintln!("benchgate: {why}: not attributed: {left} (--time-budget gives more time)");
            warnings.push(format!("not attributed within the time budget ({why}): {left}"));
            break;
        }
        eprint!("benchgate: attributing [{}/{}] {id} (callgrind, base and head) ...", i + 1, regressed.len());
        let stem = super::profile::stem(id);
        // Per-iteration setup is left in on both sides (not probed: the base binary may predate the
        // probe): it cancels in the comparison.
        let profile = |sel: &BTreeMap<&str, &driver::BenchBinary>, side: &str| {
            ops::profile_ops(sel[id], id, ops, false, &dir, &format!("{stem}.{side}"), config.timeout())
        };
        match both_sides(|| profile(base_sel, "base"), || profile(head_sel, "head")) {
            Ok((b, h)) => {
                let mut a = attribute::attribute(id, &b, &h, &categories, 8);
                let sites = |sel: &BTreeMap<&str, &driver::BenchBinary>, side: &str| {
                    dhat::alloc_sites(sel[id], id, ops, false, &dir, &format!("{stem}.{side}"), config.timeout())
                };
                match both_sides(|| sites(base_sel, "base"), || sites(head_sel, "head")) {
                    Ok((b, h)) => a.sites = Some(dhat::compare_sites(&b, &h, 8)),
                    Err(e) => eprint!(" (no allocation sites: {e})"),
                }
                let svg = dir.join(format!("{stem}.diff.svg"));
                let title = format!("{id}: base → head, instructions of {ops} ops (red grew, blue shrank)");
                let (bs, hs) = (flame::merge_small(&b.stacks, 0.001), flame::merge_small(&h.stacks, 0.001));
                match flame::differential_svg(&bs, &hs, &title, "instructions")
                    .map_err(anyhow::Error::from)
                    .and_then(|text| Ok(crate::fsutil::write_atomic(&svg, text.as_bytes()).map(|()| text)?))
                {
                    Ok(text) => {
                        a.flamegraph = svg.file_name().map(|n| format!("attribution/{}", n.to_string_lossy()));
                        a.flamegraph_svg = Some(text);
                    }
                    Err(e) => eprint!(" (no differential flamegraph: {e:#})"),
                }
                match a.grew.first() {
                    Some(f) => eprintln!(" most growth: {} (+{} instr/op)", f.name, report::format_count(f.change())),
                    None => eprintln!(" no function's instructions grew"),
                }
                out.push(a);
            }
            Err(e) => eprintln!(" not attributed: {e}"),
        }
        longest = longest.max(started.elapsed());
    }
    let path = out_dir.join("attribution.json");
    crate::fsutil::write_atomic(&path, (serde_json::to_string_pretty(&out)? + "\n").as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok((out, warnings))
}

/// Both sides' profiles at once, base on this thread and head on another: valgrind's counts do not
/// depend on the load, and attribution's time comes out of the budget (measured: five attributions took
/// 30-36 s one side after the other, 17 s both at once).
fn both_sides<T: Send>(
    base: impl FnOnce() -> Result<T, String>,
    head: impl FnOnce() -> Result<T, String> + Send,
) -> Result<(T, T), String> {
    std::thread::scope(|s| {
        let h = s.spawn(head);
        let b = base();
        let h = h.join().unwrap_or_else(|_| Err("profiling head panicked".to_owned()));
        Ok((b?, h?))
    })
}

/// The report folder's verdict files: JSON, markdown (the job summary and the pull-request comment, with
/// the attribution of regressions), and the single-file HTML report with its charts.
pub(super) fn write_report(
    dir: &Path,
    verdicts: &crate::compare::Verdicts,
    base: &crate::model::Results,
    head: &crate::model::Results,
    attributions: &[Attribution],
    summary: &[report::summary::Line],
) -> anyhow::Result<()> {
    let files: [(PathBuf, String); 3] = [
        (dir.join("verdicts.json"), serde_json::to_string_pretty(verdicts)? + "\n"),
        (
            dir.join("verdicts.md"),
            // The before/after tables last: a comment cut at its length limit loses them first.
            report::verdicts::markdown(verdicts, summary)
                + &attribute::markdown(attributions)
                + "\n"
                + &report::factors::markdown(verdicts, base, head),
        ),
        (dir.join("report.html"), report::html::html(verdicts, Some(base), Some(head), attributions, summary)),
    ];
    for (path, text) in files {
        crate::fsutil::write_atomic(&path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// An identifier unique to this job, which both sides' files carry so that `compare` pairs their rounds:
/// 128 random bits (from the standard library's per-process random hash keys, which the OS seeds) with
/// both commits. Never the seed: two jobs run with one `--seed` are still two jobs.
pub(super) fn pairing_id(base: &str, head: &str) -> String {
    use std::hash::{BuildHasher, Hasher};
    let random = || {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
        h.write_u32(std::process::id());
        h.finish()
    };
    format!("{:016x}{:016x}-{}-{}", random(), random(), short(base), short(head))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_changes_compare_the_config_and_noise_files_at_the_same_places() {
        let (base, head) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let head_root = head.path().canonicalize().unwrap();
        let config_path = head_root.join("benchgate.toml");
        let config = Config::builtin();
        let noise = |root: &Path| root.join(&config.baseline.dir).join("ci").join("noise.json");
        // Neither side has a file: nothing changed.
        assert_eq!(policy_changes(&head_root, base.path(), &config_path, &config, "ci"), Vec::<String>::new());
        // Head loosens the threshold and brings noise floors base did not have.
        std::fs::write(&config_path, "[gate]\ninstr_ratio = 0.2\n").unwrap();
        std::fs::create_dir_all(noise(&head_root).parent().unwrap()).unwrap();
        std::fs::write(noise(&head_root), "{}").unwrap();
        let lines = policy_changes(&head_root, base.path(), &config_path, &config, "ci");
        assert_eq!(
            lines,
            [
                "policy changed in head (benchgate.toml): gate.instr_ratio: 0.005 in base, 0.2 in head".to_owned(),
                format!(
                    "policy changed in head ({}): the noise floors are new",
                    Path::new("baselines/ci/noise.json").display()
                ),
            ]
        );
        // The same files on both sides: nothing to say.
        std::fs::write(base.path().join("benchgate.toml"), "[gate]\ninstr_ratio = 0.2\n").unwrap();
        std::fs::create_dir_all(noise(base.path()).parent().unwrap()).unwrap();
        std::fs::write(noise(base.path()), "{}").unwrap();
        assert_eq!(policy_changes(&head_root, base.path(), &config_path, &config, "ci"), Vec::<String>::new());
        // A base file that does not parse is said, not skipped.
        std::fs::write(base.path().join("benchgate.toml"), "[gate").unwrap();
        let lines = policy_changes(&head_root, base.path(), &config_path, &config, "ci");
        assert!(
            lines[0].starts_with("policy not compared with base's (benchgate.toml): base's configuration"),
            "{lines:?}"
        );
        // A --config outside the workspace cannot be compared, and says so.
        let elsewhere = base.path().join("other.toml");
        let lines = policy_changes(&head_root, base.path(), &elsewhere, &config, "ci");
        assert!(lines[0].contains("outside the workspace"), "{lines:?}");
    }
}
