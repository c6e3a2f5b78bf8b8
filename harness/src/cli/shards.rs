//! A comparison built once and measured on several machines: `build --compare REV --archive FILE` packs
//! both sides' binaries ([`crate::archive`]), `run --archive FILE --shard I/N` measures one shard of it
//! without cargo or the sources (interleaved, as `run --compare` does), and `verdicts DIR...` judges all
//! shards in one decision (one correction over every benchmark, rounds paired only within the shard
//! that measured them), failing with its own exit code when a shard is missing or did not finish.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use super::revision;
use super::{BuildArgs, Progress, RunArgs, exit_code};
use crate::archive::{self, MANIFEST, Manifest, SideManifest};
use crate::config::Config;
use crate::driver::{self, Event, Workspace};
use crate::gate::Policy;
use crate::interleave::{self, Side};
use crate::model::{Lane, Machine, Meta, Results, RunMode, SCHEMA_VERSION};
use crate::report;

/// The shard's record beside its results: which archive and shard, which benchmarks it was given, on
/// which machine, and how its run ended.
pub const SHARD_FILE: &str = "shard.json";
/// Seconds each benchmark took (both sides, every lane), for the next build's `--costs`.
pub const COSTS_FILE: &str = "costs.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShardRecord {
    /// The archive's id ([`Manifest::id`]).
    archive: String,
    index: u32,
    count: u32,
    /// The benchmarks assigned to this shard.
    ids: Vec<String>,
    /// `running`, `complete`, `interrupted` or `failed`.
    status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    machine: Machine,
    started_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    finished_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    seconds: Option<f64>,
}

/// `build --compare REV --archive FILE`.
pub(super) fn build_archive(
    ws: &Workspace,
    (config, config_path): (&Config, &Path),
    rev: &str,
    args: &BuildArgs,
    out: &Path,
) -> anyhow::Result<i32> {
    let started = Instant::now();
    if args.selection.shard.is_some() {
        bail!("--shard belongs to `run --archive FILE --shard I/N`, which measures one shard of the archive");
    }
    let costs = read_costs(&args.costs)?;
    let prepared = revision::prepare(ws, config, rev, args.no_merge_base)?;
    let (base_sel, head_sel, ids) = revision::selected(&prepared, &args.selection)?;
    // Only the binaries of selected benchmarks travel.
    let kept = |index: &driver::Index, sel: &revision::SideSelection<'_>| driver::Index {
        binaries: index
            .binaries
            .iter()
            .filter(|b| b.benchmarks.iter().any(|d| sel.contains_key(d.id.as_str())))
            .cloned()
            .collect(),
    };
    let (base_index, head_index) = (kept(&prepared.base_index, &base_sel), kept(&prepared.head_index, &head_sel));
    let (base_bins, head_bins, files) =
        Manifest::binaries_from(&base_index, &head_index).map_err(anyhow::Error::msg)?;
    let class = crate::baseline::runner_class(None, &config.baseline.runner_class).map_err(anyhow::Error::msg)?;
    let noise = crate::baseline::ClassDir::new(&ws.root.join(&config.baseline.dir), &class).noise()?;
    let config_text = match std::fs::read_to_string(config_path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", config_path.display())),
    };
    let side = |root: &Path, ws: &Workspace, binaries| SideManifest {
        git: crate::meta::git_info(root),
        toolchain: crate::meta::toolchain(&ws.root),
        libraries: ws.libraries(),
        binaries,
    };
    let manifest = Manifest {
        archive_version: archive::ARCHIVE_VERSION,
        id: revision::pairing_id(&prepared.base.commit, &prepared.base.head_commit),
        created_at: crate::meta::now_rfc3339(),
        benchgate_version: env!("CARGO_PKG_VERSION").to_owned(),
        context: prepared.context(rev),
        base: side(&prepared.worktree, &prepared.base_ws, base_bins),
        head: side(&ws.root, ws, head_bins),
        ids,
        config: config_text,
        config_name: config_path.strip_prefix(&ws.root).unwrap_or(config_path).display().to_string(),
        runner_class: class.clone(),
        noise,
        policy: revision::policy_changes(&prepared.ws_root, &prepared.base_root, config_path, config, &class),
        costs: costs.0,
        costs_from: costs.1,
    };
    let built = started.elapsed();
    eprintln!("benchgate: packing {} binaries into {}", files.len(), out.display());
    let packing = Instant::now();
    let size = archive::pack(out, &manifest, &files)?;
    let shared = files.len() < manifest.base.binaries.len() + manifest.head.binaries.len();
    eprintln!(
        "benchgate: wrote {} ({:.1} MB: {} benchmarks; bench binaries: {} of base, {} of head{}); built in {:.0}s, packed in {:.1}s. \
         Measure it with `benchgate run --archive {} --shard I/N` on each of N machines, then `benchgate verdicts`.",
        out.display(),
        size as f64 / 1e6,
        manifest.ids.len(),
        manifest.base.binaries.len(),
        manifest.head.binaries.len(),
        if shared {
            format!(", {} stored once", manifest.base.binaries.len() + manifest.head.binaries.len() - files.len())
        } else {
            String::new()
        },
        built.as_secs_f64(),
        packing.elapsed().as_secs_f64(),
        out.display()
    );
    drop(prepared);
    Ok(exit_code::OK)
}

/// Costs files (`costs.json` of an earlier verdict or shard): id to seconds; later files win.
fn read_costs(files: &[PathBuf]) -> anyhow::Result<(BTreeMap<String, f64>, Vec<String>)> {
    let mut costs = BTreeMap::new();
    for f in files {
        let text = std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?;
        let map: BTreeMap<String, f64> = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a costs file (a JSON object of benchmark id to seconds)", f.display()))?;
        if let Some((id, c)) = map.iter().find(|(_, c)| !c.is_finite() || **c < 0.0) {
            bail!("{}: the cost of `{id}` is {c}, not a number of seconds", f.display());
        }
        costs.extend(map);
    }
    Ok((costs, files.iter().map(|f| f.display().to_string()).collect()))
}

/// `run --archive FILE --shard I/N`: never starts cargo or rustc; the bench binaries run in the current
/// directory.
pub(super) fn run_shard(
    config_file: Option<&Path>,
    archive_path: &Path,
    lanes: &[Lane],
    args: &RunArgs,
) -> anyhow::Result<i32> {
    let started = Instant::now();
    let Some(shard) = args.selection.shard else {
        bail!("--archive measures one shard: give --shard I/N (--shard 1/1 measures all of it)");
    };
    if !args.selection.suite.is_empty() || args.selection.filter.is_some() {
        bail!(
            "--suite and --filter select when the archive is built (`benchgate build --compare REV --archive FILE --suite ...`)"
        );
    }
    if config_file.is_some() {
        bail!(
            "--config: a shard measures with the configuration packed in the archive (head's), as every other shard does"
        );
    }
    let mode = if args.quick { RunMode::Quick } else { RunMode::Full };
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from(format!("shard-{}-of-{}", shard.index, shard.count)));
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let (unpacked, manifest) = open_archive(archive_path, "")?;
    let config = manifest_config(&manifest, archive_path)?;
    let base_index = Manifest::index(&manifest.base, unpacked.path());
    let head_index = Manifest::index(&manifest.head, unpacked.path());
    let mine = shard_ids(&manifest, &base_index, &head_index, shard, args.force);
    eprintln!(
        "benchgate: shard {}/{} of {}: {} of {} benchmarks ({}), unpacked in {:.1}s",
        shard.index,
        shard.count,
        manifest.context,
        mine.len(),
        manifest.ids.len(),
        if manifest.costs.is_empty() {
            "assigned by count".to_owned()
        } else {
            format!("assigned by the expected costs of {}", manifest.costs_from.join(", "))
        },
        started.elapsed().as_secs_f64()
    );
    std::fs::write(out.join(MANIFEST), serde_json::to_vec_pretty(&manifest)?)
        .with_context(|| format!("cannot write {}", out.join(MANIFEST).display()))?;
    let mut record = ShardRecord {
        archive: manifest.id.clone(),
        index: shard.index,
        count: shard.count,
        ids: mine.clone(),
        status: "running".into(),
        message: None,
        machine: crate::meta::machine(),
        started_at: crate::meta::now_rfc3339(),
        finished_at: None,
        seconds: None,
    };
    write_record(&out, &record)?;

    let pairing = format!("{}/shard-{}-of-{}", manifest.id, shard.index, shard.count);
    let meta = |side: &SideManifest| Meta {
        benchgate_version: env!("CARGO_PKG_VERSION").to_owned(),
        started_at: crate::meta::now_rfc3339(),
        finished_at: None,
        partial: true,
        mode,
        lanes: lanes.to_vec(),
        git: side.git.clone(),
        toolchain: side.toolchain.clone(),
        machine: record.machine.clone(),
        pairing: Some(pairing.clone()),
        screen_p: None,
        libraries: side.libraries.clone(),
    };
    let results = |m: Meta| Results { schema_version: SCHEMA_VERSION, meta: m, benchmarks: Vec::new() };
    let mut base_side =
        Side { label: "base", index: &base_index, results: results(meta(&manifest.base)), out: out.join("base.json") };
    let mut head_side =
        Side { label: "head", index: &head_index, results: results(meta(&manifest.head)), out: out.join("head.json") };
    let budget = args.budget(&config, mode);
    // No building and no attribution here: one reserve, for the last rounds' overshoot and the files.
    let measuring = budget.saturating_sub(started.elapsed()).saturating_sub(revision::budget_reserve(budget));
    let seed = args.seed();
    let opts = interleave::Options {
        lanes: lanes.to_vec(),
        mode,
        budget: measuring,
        max_rounds: config.compare.rounds,
        seed,
        cache_dir: args.cache_dir.clone().unwrap_or_else(|| unpacked.path().join("cache")),
        state_dir: unpacked.path().to_owned(),
        measure_identical: args.force,
        shards: shard.count,
    };
    driver::handle_interrupts();
    eprintln!(
        "benchgate: measuring {} benchmarks, wall rounds interleaved (seed {seed}); time budget {}s, {}s of it for \
         measuring; results in {}",
        mine.len(),
        budget.as_secs(),
        measuring.as_secs(),
        out.display()
    );
    let mut progress = Progress::default();
    let mut costs: BTreeMap<String, f64> = BTreeMap::new();
    let measured = if mine.is_empty() {
        // Nothing assigned (more shards than benchmarks): empty, complete results.
        for side in [&mut base_side, &mut head_side] {
            side.results.meta.partial = false;
            side.results.meta.finished_at = Some(crate::meta::now_rfc3339());
            crate::fsutil::write_atomic(&side.out, side.results.to_json().as_bytes())
                .with_context(|| format!("cannot write {}", side.out.display()))?;
        }
        Ok(())
    } else {
        interleave::run(&mut base_side, &mut head_side, &mine, &config, &opts, &mut |e| {
            if let Event::PairDone { base, head, elapsed } = &e
                && let Some(id) = base.or(*head).map(|r| r.id.clone())
            {
                *costs.entry(id).or_default() += elapsed.as_secs_f64();
            }
            progress.print(e)
        })
    };
    let costs_path = out.join(COSTS_FILE);
    crate::fsutil::write_atomic(&costs_path, (serde_json::to_string_pretty(&costs)? + "\n").as_bytes())
        .with_context(|| format!("cannot write {}", costs_path.display()))?;
    record.finished_at = Some(crate::meta::now_rfc3339());
    record.seconds = Some(started.elapsed().as_secs_f64());
    let code = match &measured {
        Ok(()) if driver::interrupted() => {
            record.status = "interrupted".into();
            exit_code::INTERRUPTED
        }
        Ok(()) => {
            record.status = "complete".into();
            let failed = [&base_side, &head_side].iter().any(|s| s.results.benchmarks.iter().any(|b| b.failed()));
            if failed { exit_code::BENCH_FAILED } else { exit_code::OK }
        }
        Err(driver::DriverError::Interrupted(_)) => {
            record.status = "interrupted".into();
            exit_code::INTERRUPTED
        }
        Err(e) => {
            record.status = "failed".into();
            record.message = Some(e.to_string());
            exit_code::INPUT
        }
    };
    write_record(&out, &record)?;
    if let Err(e) = measured {
        return Err(e.into());
    }
    eprintln!(
        "benchgate: shard {}/{} {} in {:.0}s: {}; `benchgate verdicts` over every shard's folder decides",
        shard.index,
        shard.count,
        record.status,
        started.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(code)
}

/// The configuration the archive carries (head's), over the built-in defaults.
fn manifest_config(manifest: &Manifest, archive: &Path) -> anyhow::Result<Config> {
    let Some(text) = &manifest.config else { return Ok(Config::builtin()) };
    let name = PathBuf::from(format!("{}:{}", archive.display(), manifest.config_name));
    let loaded = Config::from_text(text, &name)?;
    for w in &loaded.warnings {
        eprintln!("benchgate: warning: {w}");
    }
    Ok(loaded.config)
}

/// The benchmarks of the archive that shard `shard` measures ([`crate::merge::assign`]): those that get
/// wall rounds are the ones whose binary differs between the sides (all with `force`).
fn shard_ids(
    manifest: &Manifest,
    base: &driver::Index,
    head: &driver::Index,
    shard: crate::merge::Shard,
    force: bool,
) -> Vec<String> {
    let digest = |index: &driver::Index, id: &str| {
        index.binaries.iter().find(|b| b.benchmarks.iter().any(|d| d.id == id)).map(|b| b.digest.clone())
    };
    let timed: BTreeSet<String> = manifest
        .ids
        .iter()
        .filter(|id| force || digest(base, id).is_none() || digest(base, id) != digest(head, id))
        .cloned()
        .collect();
    let assigned = crate::merge::assign(&manifest.ids, &timed, &manifest.costs, shard.count);
    manifest.ids.iter().filter(|id| assigned.get(*id) == Some(&shard.index)).cloned().collect()
}

/// Unpacks an archive into a temporary directory of its own (checking every binary, [`archive::unpack`]),
/// for this benchgate only: the version that built it. `why` ends the progress line.
fn open_archive(path: &Path, why: &str) -> anyhow::Result<(tempfile::TempDir, Manifest)> {
    let dir = tempfile::Builder::new()
        .prefix("benchgate-archive-")
        .tempdir()
        .context("cannot create a temporary directory")?;
    eprintln!("benchgate: unpacking {}{why}", path.display());
    let manifest = archive::unpack(path, dir.path())?;
    if manifest.benchgate_version != env!("CARGO_PKG_VERSION") {
        bail!(
            "{} was built by benchgate {}, this is {}: every shard and the verdict must run the version that built it",
            path.display(),
            manifest.benchgate_version,
            env!("CARGO_PKG_VERSION")
        );
    }
    Ok((dir, manifest))
}

/// Attributes the verdict's regressions with the binaries of the archive the shards measured (the same
/// archive: its id is the shards'), within `time`.
fn attribute_from(
    archive_path: &Path,
    manifest: &Manifest,
    verdicts: &crate::compare::Verdicts,
    config: &Config,
    head: &Results,
    out: &Path,
    time: std::time::Duration,
) -> anyhow::Result<(Vec<crate::profile::attribute::Attribution>, Vec<String>)> {
    let deadline = Instant::now() + time;
    let (unpacked, archived) = open_archive(archive_path, " to attribute the regressions")?;
    if archived.id != manifest.id {
        bail!(
            "{} is archive {}, but the shards measured archive {}: attribution needs the binaries they ran",
            archive_path.display(),
            archived.id,
            manifest.id
        );
    }
    let (base_index, head_index) =
        (Manifest::index(&archived.base, unpacked.path()), Manifest::index(&archived.head, unpacked.path()));
    let select = |index: &driver::Index| -> BTreeMap<String, driver::BenchBinary> {
        index.benchmarks().into_iter().map(|(bin, decl)| (decl.id.clone(), bin.clone())).collect()
    };
    let (base_bins, head_bins) = (select(&base_index), select(&head_index));
    let base_sel: BTreeMap<&str, &driver::BenchBinary> = base_bins.iter().map(|(id, b)| (id.as_str(), b)).collect();
    let head_sel: BTreeMap<&str, &driver::BenchBinary> = head_bins.iter().map(|(id, b)| (id.as_str(), b)).collect();
    revision::attribute_regressions(verdicts, &base_sel, &head_sel, config, head.meta.mode, deadline, out)
}

fn write_record(dir: &Path, record: &ShardRecord) -> anyhow::Result<()> {
    let path = dir.join(SHARD_FILE);
    crate::fsutil::write_atomic(&path, (serde_json::to_string_pretty(record)? + "\n").as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// One shard's folder as the verdict reads it.
struct ShardDir {
    dir: PathBuf,
    record: ShardRecord,
    /// Both sides' results, when the shard wrote them.
    results: Option<(Results, Results)>,
}

/// How long `verdicts --archive` may spend attributing regressions by default.
pub const ATTRIBUTION_TIME: std::time::Duration = std::time::Duration::from_secs(600);

/// `verdicts DIR... --out OUT [--archive FILE [--time-budget T]]`.
pub(super) fn verdicts(
    dirs: &[PathBuf],
    out: &Path,
    attribute: Option<(&Path, std::time::Duration)>,
) -> anyhow::Result<i32> {
    let mut manifest: Option<(PathBuf, Manifest)> = None;
    let mut shards: Vec<ShardDir> = Vec::new();
    // Folders without a shard's record (a job that failed before writing one): named, not judged.
    let mut empty: Vec<&PathBuf> = Vec::new();
    for dir in dirs {
        if !dir.join(MANIFEST).exists() || !dir.join(SHARD_FILE).exists() {
            eprintln!("benchgate: {} holds no shard's results (no {MANIFEST} or {SHARD_FILE})", dir.display());
            empty.push(dir);
            continue;
        }
        let m = Manifest::load(&dir.join(MANIFEST))?;
        match &manifest {
            None => manifest = Some((dir.clone(), m)),
            Some((first, fm)) if fm.id != m.id => bail!(
                "{} and {} are shards of different archives ({} and {}): a verdict takes the shards of one build",
                first.display(),
                dir.display(),
                fm.id,
                m.id
            ),
            Some(_) => {}
        }
        let path = dir.join(SHARD_FILE);
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let record: ShardRecord =
            serde_json::from_str(&text).with_context(|| format!("{}: not a shard record", path.display()))?;
        let (b, h) = (dir.join("base.json"), dir.join("head.json"));
        let results = if b.exists() && h.exists() { Some((Results::load(&b)?, Results::load(&h)?)) } else { None };
        if let Some((base, head)) = &results
            && (base.meta.pairing.is_none() || base.meta.pairing != head.meta.pairing)
        {
            bail!(
                "{}: base.json and head.json were not measured in one job (pairing {:?} and {:?}): their rounds cannot be paired",
                dir.display(),
                base.meta.pairing,
                head.meta.pairing
            );
        }
        shards.push(ShardDir { dir: dir.clone(), record, results });
    }
    let Some((_, manifest)) = manifest else {
        eprintln!("benchgate: none of the {} folders holds a shard's results: nothing to judge", dirs.len());
        return Ok(exit_code::SHARD_MISSING);
    };
    let count = shards[0].record.count;
    let mut by_index: BTreeMap<u32, &ShardDir> = BTreeMap::new();
    for s in &shards {
        if s.record.count != count || s.record.archive != manifest.id {
            bail!(
                "{}: shard {}/{} does not belong with the others (of {count})",
                s.dir.display(),
                s.record.index,
                s.record.count
            );
        }
        if let Some(other) = by_index.insert(s.record.index, s) {
            bail!("{} and {} are both shard {}/{count}", other.dir.display(), s.dir.display(), s.record.index);
        }
    }
    let config = manifest_config(&manifest, &shards[0].dir.join(MANIFEST))?;
    let missing: Vec<u32> = (1..=count).filter(|i| by_index.get(i).is_none_or(|s| s.results.is_none())).collect();
    let failed: Vec<&ShardDir> =
        by_index.values().copied().filter(|s| s.results.is_some() && s.record.status != "complete").collect();

    // Merge what the shards measured; rounds stay paired within each shard (a benchmark is in one).
    let (mut base_parts, mut head_parts) = (Vec::new(), Vec::new());
    for s in by_index.values() {
        if let Some((b, h)) = &s.results {
            base_parts.push((s.dir.join("base.json"), b.clone()));
            head_parts.push((s.dir.join("head.json"), h.clone()));
        }
    }
    if base_parts.is_empty() {
        bail!("none of the {} shards left results", count);
    }
    let (mut base, base_warnings) = crate::merge::merge(base_parts)?;
    let (mut head, _) = crate::merge::merge(head_parts)?;
    base.meta.pairing = Some(manifest.id.clone());
    head.meta.pairing = Some(manifest.id.clone());
    let policy = Policy { accept: &config.accept, noise: manifest.noise.as_ref(), ..Policy::new(&config.gate) };
    let mut verdicts = crate::compare::compare(&base, &head, &policy);
    verdicts.context.push(manifest.context.clone());
    for s in by_index.values() {
        let r = &s.record;
        verdicts.context.push(format!(
            "shard {}/{}: {} benchmarks, {}, on {} ({} cores, fingerprint {}){}",
            r.index,
            r.count,
            r.ids.len(),
            r.status,
            r.machine.cpu_model,
            r.machine.cores,
            r.machine.fingerprint,
            r.seconds.map(|s| format!(", {s:.0}s")).unwrap_or_default()
        ));
    }
    for line in manifest.policy.iter().rev() {
        verdicts.warnings.insert(0, line.clone());
    }
    verdicts.warnings.extend(base_warnings);
    // What a shard was given but neither side's file holds: compare cannot see it.
    for s in by_index.values() {
        if let Some((b, h)) = &s.results {
            let held: BTreeSet<&str> = b.benchmarks.iter().chain(&h.benchmarks).map(|x| x.id.as_str()).collect();
            let lost: Vec<&str> = s.record.ids.iter().map(String::as_str).filter(|id| !held.contains(id)).collect();
            if !lost.is_empty() {
                verdicts.add_incomplete(format!(
                    "shard {}/{count} did not measure {} of its benchmarks: {}",
                    s.record.index,
                    lost.len(),
                    list(&lost)
                ));
            }
        }
    }
    for s in &failed {
        verdicts.add_incomplete(format!(
            "shard {}/{count} did not finish ({}{}): its benchmarks are judged on what it measured",
            s.record.index,
            s.record.status,
            s.record.message.as_ref().map(|m| format!(": {m}")).unwrap_or_default()
        ));
    }
    if !missing.is_empty() {
        let ids: Vec<String> = missing.iter().map(|i| format!("{i}/{count}")).collect();
        verdicts.add_incomplete(format!(
            "shard{} {} left no results (missing folder, or the job ended before it wrote them): their benchmarks \
                 are not judged",
            if missing.len() == 1 { "" } else { "s" },
            ids.join(", ")
        ));
    }
    if !empty.is_empty() {
        let names: Vec<String> = empty.iter().map(|d| d.display().to_string()).collect();
        verdicts.add_incomplete(format!("no shard's results in {}", names.join(", ")));
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let attributions = match attribute {
        Some((archive_path, time)) if verdicts.regressed() => {
            let (attributions, unattributed) =
                attribute_from(archive_path, &manifest, &verdicts, &config, &head, out, time)?;
            verdicts.warnings.extend(unattributed);
            attributions
        }
        None if verdicts.regressed() => {
            verdicts.warnings.push(
                "regressions are not attributed to functions: `benchgate verdicts --archive FILE` (the archive the \
                 shards measured) does it"
                    .into(),
            );
            Vec::new()
        }
        _ => Vec::new(),
    };
    let files = format!(
        "{}: verdicts.md, report.html, verdicts.json, base.json, head.json, {COSTS_FILE}{}",
        out.display(),
        if attributions.is_empty() { "" } else { ", attribution.json and attribution/ (profiles, flamegraphs)" }
    );
    let mut summary = report::summary::of_compare(&verdicts, Some(&base), Some(&head), Some(&files));
    // The merged files span every shard's job: say how the time went, not one span.
    if let Some(took) = summary.iter_mut().find(|l| l.label == "took") {
        let times: Vec<(u32, f64)> =
            by_index.values().filter_map(|s| s.record.seconds.map(|t| (s.record.index, t))).collect();
        if let Some((longest, t)) = times.iter().copied().max_by(|a, b| a.1.total_cmp(&b.1)) {
            took.text = format!(
                "{} shards, the longest {} (shard {longest}/{count}), {} in all; base and head interleaved within each shard's job",
                by_index.len(),
                report::summary::duration(t.round() as u64),
                report::summary::duration(times.iter().map(|x| x.1).sum::<f64>().round() as u64),
            );
        }
    }
    revision::write_report(out, &verdicts, &base, &head, &attributions, &summary)?;
    for (name, r) in [("base.json", &base), ("head.json", &head)] {
        crate::fsutil::write_atomic(&out.join(name), r.to_json().as_bytes())
            .with_context(|| format!("cannot write {}", out.join(name).display()))?;
    }
    let mut costs: BTreeMap<String, f64> = BTreeMap::new();
    for s in by_index.values() {
        let path = s.dir.join(COSTS_FILE);
        if path.exists() {
            costs.extend(read_costs(std::slice::from_ref(&path))?.0);
        }
    }
    crate::fsutil::write_atomic(&out.join(COSTS_FILE), (serde_json::to_string_pretty(&costs)? + "\n").as_bytes())
        .with_context(|| format!("cannot write {}", out.join(COSTS_FILE).display()))?;
    // The terminal gets the same summary as the files (emit_with would make its own).
    println!(
        "{}\n\n{}",
        report::verdicts::table(&verdicts, &summary),
        report::factors::terminal(&verdicts, &base, &head)
    );
    let code = super::gate_exit_code(&verdicts);
    Ok(if !missing.is_empty() || !empty.is_empty() {
        exit_code::SHARD_MISSING
    } else if !failed.is_empty() {
        exit_code::SHARD_FAILED
    } else {
        code
    })
}

/// At most ten names, then how many more.
fn list(ids: &[&str]) -> String {
    let shown: Vec<&str> = ids.iter().take(10).copied().collect();
    match ids.len().saturating_sub(10) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_cuts_long_lists() {
        let ids: Vec<String> = (0..13).map(|i| format!("b{i}")).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        assert_eq!(list(&refs[..2]), "b0, b1");
        assert!(list(&refs).ends_with("b9 and 3 more"));
    }
}
