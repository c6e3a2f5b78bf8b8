//! Committed baselines: `baselines/<runner-class>/<suite>.json` (one results file per suite, sorted,
//! numbers of a sample array on one line so that diffs stay readable) and `noise.json` (the class's
//! calibrated noise floors). A baseline is only ever written by an explicit command, and an existing one
//! only with `--update`: everything the command reads or replaces is read and validated first, then all
//! files are replaced as one step (`fsutil::FileSet`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::fsutil::{FileSet, PendingWrite, SetError};
use crate::model::{BenchResult, Floor, LoadError, NOISE_SCHEMA_VERSION, NoiseFloors, Results};

/// The file of a runner class's noise floors.
pub const NOISE_FILE: &str = "noise.json";

/// The environment variable that names the runner class when the configuration does not.
pub const CLASS_ENV: &str = "BENCHGATE_RUNNER_CLASS";

/// One plain path component: letters, digits, `-`, `_`, `.`, not empty, not starting with `.`.
fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// A runner-class name must be usable as one path component.
pub fn check_class(name: &str) -> Result<(), String> {
    if plain_name(name) {
        Ok(())
    } else {
        Err(format!("`{name}` is not a runner class name (letters, digits, `-`, `_`, `.`)"))
    }
}

/// A suite name from a results file becomes a file name, `<suite>.json`, beside the class's
/// `noise.json`: it must be one plain path component (letters, digits, `-`, `_`, `.`, not starting with
/// `.`) and not `noise`. Suite names come from benchmark code and results files, so they are checked,
/// never trusted.
pub fn check_suite(name: &str) -> Result<(), String> {
    let ok = plain_name(name) && name.len() <= 200 && format!("{name}.json") != NOISE_FILE;
    if ok {
        Ok(())
    } else {
        Err(format!(
            "suite `{}` cannot be a baseline file name (letters, digits, `-`, `_`, `.`, not starting with `.`, \
             not `noise`)",
            name.escape_debug()
        ))
    }
}

/// A profile baseline's name (`profile --save-baseline NAME`, `--baseline NAME`) becomes a file name,
/// `<NAME>.json` in the class's `profiles/` folder: it must be one plain path component (letters,
/// digits, `-`, `_`, `.`, not starting with `.`) of at most 100 characters. Names come from the command
/// line, so they are checked, never trusted.
pub fn check_profile_name(name: &str) -> Result<(), String> {
    if plain_name(name) && name.len() <= 100 {
        Ok(())
    } else {
        Err(format!(
            "`{}` cannot be a profile baseline name (letters, digits, `-`, `_`, `.`, not starting with `.`, at \
             most 100 characters)",
            name.escape_debug()
        ))
    }
}

/// The runner class: the command line's, else the configuration's, else `BENCHGATE_RUNNER_CLASS`,
/// else `<os>-<arch>` of this machine.
pub fn runner_class(flag: Option<&str>, configured: &str) -> Result<String, String> {
    let env = std::env::var(CLASS_ENV).ok().filter(|v| !v.is_empty());
    let class = match (flag, configured, env) {
        (Some(f), _, _) => f.to_owned(),
        (None, c, _) if !c.is_empty() => c.to_owned(),
        (None, _, Some(e)) => e,
        (None, _, None) => format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH),
    };
    check_class(&class)?;
    Ok(class)
}

/// Why a baseline could not be saved or read.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("{0}")]
    Refused(String),
    #[error("cannot read {}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Set(#[from] SetError),
}

impl BaselineError {
    /// Ctrl-C or SIGTERM stopped the write before anything was replaced.
    pub fn interrupted(&self) -> bool {
        matches!(self, BaselineError::Set(SetError::Interrupted(_)))
    }
}

/// One runner class's directory of baselines.
#[derive(Debug, Clone)]
pub struct ClassDir {
    pub class: String,
    pub dir: PathBuf,
}

/// What `save` did, suite by suite: the file and the baseline it replaced, if any.
#[derive(Debug)]
pub struct Saved {
    pub suite: String,
    pub path: PathBuf,
    pub previous: Option<Results>,
    pub new: Results,
}

/// What `save` wrote, and what it read to describe it.
#[derive(Debug)]
pub struct SaveOutcome {
    pub saved: Vec<Saved>,
    /// The class's noise floors, read (and validated) when a baseline is replaced, for the change list.
    pub noise: Option<NoiseFloors>,
    /// Interrupted earlier saves this one found in the directory (and finished, where it rewrote all
    /// their files).
    pub earlier: Vec<PendingWrite>,
}

impl ClassDir {
    pub fn new(baselines: &Path, class: &str) -> ClassDir {
        ClassDir { class: class.to_owned(), dir: baselines.join(class) }
    }

    pub fn suite_path(&self, suite: &str) -> PathBuf {
        self.dir.join(format!("{suite}.json"))
    }

    /// The file of the named profile baseline `name` ([`check_profile_name`] must have accepted it):
    /// `<class>/profiles/<name>.json`, a folder of its own so that no name meets a suite's file.
    pub fn profile_path(&self, name: &str) -> PathBuf {
        self.dir.join("profiles").join(format!("{name}.json"))
    }

    pub fn noise_path(&self) -> PathBuf {
        self.dir.join(NOISE_FILE)
    }

    /// Writes one baseline file per suite in `results`, as one step. Refuses partial runs and failed
    /// benchmarks, and existing baselines unless `update`; reads every baseline it replaces and, when it
    /// replaces one, the noise floors (for the change list) first: on any refusal or unreadable file
    /// nothing is written. `stop` (Ctrl-C) is asked between files; once it says yes, nothing is replaced.
    pub fn save(
        &self,
        results: &Results,
        source: &Path,
        update: bool,
        stop: fn() -> bool,
    ) -> Result<SaveOutcome, BaselineError> {
        check_complete(results, source, "a baseline")?;
        let mut by_suite: BTreeMap<&str, Vec<BenchResult>> = BTreeMap::new();
        for b in &results.benchmarks {
            by_suite.entry(b.suite.as_str()).or_default().push(b.clone());
        }
        if by_suite.is_empty() {
            return Err(BaselineError::Refused(format!("{}: holds no benchmark", source.display())));
        }
        for suite in by_suite.keys() {
            check_suite(suite).map_err(|why| BaselineError::Refused(format!("{}: {why}", source.display())))?;
        }
        // Read everything that would be replaced before writing anything.
        let mut plans = Vec::new();
        let mut existing = Vec::new();
        for (suite, benchmarks) in by_suite {
            let path = self.suite_path(suite);
            let previous = if path.exists() {
                existing.push(path.display().to_string());
                Some(Results::load(&path)?)
            } else {
                None
            };
            let mut new = Results { schema_version: results.schema_version, meta: results.meta.clone(), benchmarks };
            new.benchmarks.sort_by(|a, b| a.id.cmp(&b.id));
            plans.push(Saved { suite: suite.to_owned(), path, previous, new });
        }
        if !existing.is_empty() && !update {
            return Err(BaselineError::Refused(format!(
                "baseline exists: {}; pass --update to replace it (and review the diff before committing)",
                existing.join(", ")
            )));
        }
        let noise = if existing.is_empty() { None } else { self.noise()? };
        let mut set = FileSet::begin(&self.dir, stop)?;
        for p in &plans {
            set.add(&format!("{}.json", p.suite), compact_arrays(&p.new.to_json()).as_bytes())?;
        }
        let earlier = set.earlier().iter().map(PendingWrite::clone).collect();
        set.commit(&format!("benchgate baseline save --update {}", source.display()))?;
        Ok(SaveOutcome { saved: plans, noise, earlier })
    }

    /// Reads the baselines of the suites named (all of them when `suites` is empty) into one results
    /// value, with warnings for suites that have no baseline and for files that disagree on where
    /// they were measured.
    pub fn load(&self, suites: &BTreeSet<String>) -> Result<(Results, Vec<String>), BaselineError> {
        if !self.dir.is_dir() {
            return Err(BaselineError::Refused(format!(
                "no baseline for runner class {} ({} does not exist); create one with `benchgate baseline save RESULTS`",
                self.class,
                self.dir.display()
            )));
        }
        // A save that is running, or was killed half-way, leaves a set that is neither old nor new.
        crate::fsutil::check_consistent(&self.dir)?;
        let entries =
            std::fs::read_dir(&self.dir).map_err(|source| BaselineError::Read { path: self.dir.clone(), source })?;
        let mut files = Vec::new();
        for e in entries {
            let e = e.map_err(|source| BaselineError::Read { path: self.dir.clone(), source })?;
            let name = e.file_name().to_string_lossy().into_owned();
            // Hidden files (temporary files among them) are never baselines: `check_suite` refuses them.
            let baseline = name != NOISE_FILE && !name.starts_with('.');
            if let Some(suite) = name.strip_suffix(".json").filter(|_| baseline) {
                files.push((suite.to_owned(), e.path()));
            }
        }
        files.sort();
        let mut warnings = Vec::new();
        for s in suites {
            if !files.iter().any(|(f, _)| f == s) {
                warnings
                    .push(format!("suite {s} has no baseline for runner class {}: its benchmarks are new", self.class));
            }
        }
        let mut merged: Option<Results> = None;
        for (suite, path) in files.into_iter().filter(|(s, _)| suites.is_empty() || suites.contains(s)) {
            let r = Results::load(&path)?;
            if let Some(b) = r.benchmarks.iter().find(|b| b.suite != suite) {
                return Err(BaselineError::Refused(format!(
                    "{}: holds benchmark {} of suite {}; a baseline file holds one suite",
                    path.display(),
                    b.id,
                    b.suite
                )));
            }
            match merged.as_mut() {
                None => merged = Some(r),
                Some(m) => {
                    if m.meta.machine.fingerprint != r.meta.machine.fingerprint {
                        warnings.push(format!(
                            "{} was measured on another machine than the other baselines: wall times not judged",
                            path.display()
                        ));
                        m.meta.machine.fingerprint = "mixed".into();
                    }
                    if m.meta.toolchain != r.meta.toolchain {
                        warnings.push(format!(
                            "{} was built by another toolchain than the other baselines",
                            path.display()
                        ));
                        m.meta.toolchain.rustc_verbose = "mixed".into();
                    }
                    for b in r.benchmarks {
                        m.upsert(b);
                    }
                }
            }
        }
        let merged = merged.ok_or_else(|| {
            BaselineError::Refused(format!(
                "no baseline in {} for these suites; create one with `benchgate baseline save RESULTS`",
                self.dir.display()
            ))
        })?;
        Ok((merged, warnings))
    }

    /// The class's noise floors, if calibrated.
    pub fn noise(&self) -> Result<Option<NoiseFloors>, LoadError> {
        let path = self.noise_path();
        if path.exists() { NoiseFloors::load(&path).map(Some) } else { Ok(None) }
    }

    /// Whether the noise floors may be written: refuses to replace existing ones unless `update`, and
    /// refuses to replace ones that cannot be read (they are never replaced without being read: the
    /// user removes them explicitly). `calibrate` asks before measuring, `save_noise` again.
    pub fn check_noise_replaceable(&self, update: bool) -> Result<(), BaselineError> {
        let path = self.noise_path();
        if !path.exists() {
            return Ok(());
        }
        if !update {
            return Err(BaselineError::Refused(format!(
                "noise floors exist: {}; pass --update to replace them",
                path.display()
            )));
        }
        match NoiseFloors::load(&path) {
            Ok(_) => Ok(()),
            Err(e) => Err(BaselineError::Refused(format!(
                "{e}; a noise file that cannot be read is not replaced: look at it (`git diff`, `git log`), then                  remove it (`rm {}`) and run calibrate again",
                path.display()
            ))),
        }
    }

    /// Writes the noise floors (see `check_noise_replaceable`); `stop` as for `save`.
    pub fn save_noise(&self, floors: &NoiseFloors, update: bool, stop: fn() -> bool) -> Result<PathBuf, BaselineError> {
        self.check_noise_replaceable(update)?;
        let mut set = FileSet::begin(&self.dir, stop)?;
        set.add(NOISE_FILE, floors.to_json().as_bytes())?;
        set.commit("benchgate calibrate --update")?;
        Ok(self.noise_path())
    }
}

/// Refuses a partial run and a run with a failed benchmark as the source of `what` (a baseline, a
/// calibration): both are judged against later runs, so every benchmark must have been measured.
pub fn check_complete(results: &Results, source: &Path, what: &str) -> Result<(), BaselineError> {
    if results.meta.partial {
        return Err(BaselineError::Refused(format!(
            "{}: the run did not finish (partial); {what} needs a complete run",
            source.display()
        )));
    }
    let failed: Vec<&str> = results.benchmarks.iter().filter(|b| b.failed()).map(|b| b.id.as_str()).collect();
    if !failed.is_empty() {
        return Err(BaselineError::Refused(format!(
            "{}: {} benchmark(s) failed ({}); {what} needs every benchmark measured",
            source.display(),
            failed.len(),
            failed.join(", ")
        )));
    }
    Ok(())
}

/// The fewest calibration runs accepted: from 5, the prediction bound at alpha 0.001 is 10 standard
/// deviations (t = 7.2 with 4 degrees of freedom, times √2); from 2 it would be 450.
pub const MIN_CALIBRATION_RUNS: usize = 5;

/// A deterministic lane's floor (instructions, allocations, bytes) is at most this many times the
/// largest difference between two calibration runs.
const DETERMINISTIC_CAP: f64 = 2.0;

/// Noise floors from separate, complete runs of the same build (at least [`MIN_CALIBRATION_RUNS`]): per
/// benchmark and metric, over the runs that measured it. Wall floors are kept for every benchmark;
/// deterministic metrics only where the runs disagreed, capped at [`DETERMINISTIC_CAP`] times their
/// spread.
pub fn noise_from_runs(runs: &[Results], alpha: f64, class: &str) -> Result<NoiseFloors, String> {
    let first = runs.first().ok_or("no calibration runs")?;
    if runs.len() < MIN_CALIBRATION_RUNS {
        return Err(format!(
            "calibration needs at least {MIN_CALIBRATION_RUNS} runs, got {}: with fewer, the prediction bound's t \
             quantile at alpha {alpha} makes the floors too wide to gate anything (2 runs: t = {:.0}; 5 runs: {:.1})",
            runs.len(),
            crate::stats::noise::t_quantile(1.0 - alpha, 1.0),
            crate::stats::noise::t_quantile(1.0 - alpha, 4.0)
        ));
    }
    if let Some(r) = runs.iter().find(|r| r.meta.partial) {
        return Err(format!(
            "a calibration run is partial (interrupted; started {}): its missing benchmarks would make the floors \
             of the others rest on fewer runs",
            r.meta.started_at
        ));
    }
    if let Some(r) = runs.iter().find(|r| r.meta.machine.fingerprint != first.meta.machine.fingerprint) {
        return Err(format!("calibration runs come from different machines (started {})", r.meta.started_at));
    }
    let mut values: BTreeMap<(&str, &str), Vec<f64>> = BTreeMap::new();
    for r in runs {
        for b in r.benchmarks.iter().filter(|b| !b.failed()) {
            let m = &b.metrics;
            let figures = [
                ("ns_per_op", m.ns_per_op.as_ref().map(|w| w.median)),
                ("instructions_per_op", m.instructions_per_op),
                ("allocs_per_op", m.allocs_per_op),
                ("bytes_per_op", m.bytes_per_op),
            ];
            for (metric, v) in figures {
                if let Some(v) = v {
                    values.entry((b.id.as_str(), metric)).or_default().push(v);
                }
            }
        }
    }
    let mut benchmarks: BTreeMap<String, BTreeMap<String, Floor>> = BTreeMap::new();
    for ((id, metric), v) in values {
        let relative = matches!(metric, "ns_per_op" | "instructions_per_op");
        let Some(e) = crate::stats::noise::noise_floor(&v, alpha, relative) else { continue };
        if metric != "ns_per_op" && e.spread == 0.0 {
            continue;
        }
        // Deterministic lanes vary by discrete causes (per-process hash seeds), not by a normal spread:
        // their floor is capped at twice the largest difference the runs showed, so one odd run cannot
        // make it tens of percent.
        let floor = if metric == "ns_per_op" { e.floor } else { e.floor.min(DETERMINISTIC_CAP * e.spread) };
        benchmarks.entry(id.to_owned()).or_default().insert(metric.to_owned(), Floor { floor, spread: e.spread });
    }
    Ok(NoiseFloors {
        noise_schema_version: NOISE_SCHEMA_VERSION,
        runner_class: class.to_owned(),
        created_at: crate::meta::now_rfc3339(),
        mode: first.meta.mode,
        runs: runs.len(),
        alpha,
        machine: first.meta.machine.clone(),
        toolchain: first.meta.toolchain.clone(),
        benchmarks,
    })
}

/// Puts every array of plain numbers on one line: pretty JSON otherwise gives each sample its own line
/// and a baseline diff would be thousands of lines of noise. The result is the same JSON value.
pub fn compact_arrays(pretty: &str) -> String {
    let lines: Vec<&str> = pretty.lines().collect();
    let mut out = String::with_capacity(pretty.len());
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.ends_with('[') {
            let mut j = i + 1;
            let mut items = Vec::new();
            while j < lines.len() && is_number_item(lines[j]) {
                items.push(lines[j].trim().trim_end_matches(','));
                j += 1;
            }
            if !items.is_empty() && j < lines.len() && lines[j].trim_start().starts_with(']') {
                out.push_str(line);
                out.push_str(&items.join(", "));
                out.push_str(lines[j].trim_start());
                out.push('\n');
                i = j + 1;
                continue;
            }
        }
        out.push_str(line);
        out.push('\n');
        i += 1;
    }
    out
}

fn is_number_item(line: &str) -> bool {
    let t = line.trim().trim_end_matches(',');
    !t.is_empty() && t.parse::<f64>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn never() -> bool {
        false
    }

    /// The example results with its benchmarks spread over three suites.
    fn three_suites(factor: f64) -> Results {
        let mut r = Results::parse(include_str!("../../docs/example-results.json")).unwrap();
        for (i, b) in r.benchmarks.iter_mut().enumerate() {
            b.suite = format!("s{}", i % 3);
            if let Some(w) = b.metrics.ns_per_op.as_mut() {
                w.median *= factor;
            }
        }
        r
    }

    /// Every file under `dir` (relative path and content).
    fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut out = BTreeMap::new();
        let mut stack = vec![dir.to_owned()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.insert(p.strip_prefix(dir).unwrap().to_owned(), std::fs::read(&p).unwrap());
                }
            }
        }
        out
    }

    /// A project directory with the three suites saved as class `c`, and the results file they came from.
    fn saved() -> (tempfile::TempDir, ClassDir, PathBuf) {
        let root = tempfile::tempdir().unwrap();
        let source = root.path().join("r.json");
        std::fs::write(&source, three_suites(1.0).to_json()).unwrap();
        let dir = ClassDir::new(&root.path().join("bl"), "c");
        dir.save(&three_suites(1.0), &source, false, never).unwrap();
        (root, dir, source)
    }

    #[test]
    fn an_update_with_a_corrupt_noise_file_writes_nothing_and_names_it() {
        let (root, dir, source) = saved();
        std::fs::write(dir.noise_path(), "{\"noise_schema_version\": 1, ").unwrap();
        let before = snapshot(root.path());
        let err = dir.save(&three_suites(2.0), &source, true, never).unwrap_err().to_string();
        assert!(err.contains("noise.json") && err.contains("truncated"), "{err}");
        assert_eq!(snapshot(root.path()), before, "every baseline byte-identical, nothing added");
    }

    #[test]
    fn an_update_over_a_corrupt_baseline_writes_nothing_and_names_it() {
        let (root, dir, source) = saved();
        std::fs::write(dir.suite_path("s1"), "not json").unwrap();
        let before = snapshot(root.path());
        let err = dir.save(&three_suites(2.0), &source, true, never).unwrap_err().to_string();
        assert!(err.contains("s1.json"), "{err}");
        assert_eq!(snapshot(root.path()), before);
        // Without --update the same: refused before anything is written.
        assert!(dir.save(&three_suites(2.0), &source, false, never).is_err());
        assert_eq!(snapshot(root.path()), before);
    }

    #[test]
    fn an_update_replaces_every_suite_and_reads_the_noise_floors_for_the_change_list() {
        let (root, dir, source) = saved();
        let runs: Vec<Results> = [1.0, 1.02, 0.99, 1.01, 1.0].iter().map(|f| three_suites(*f)).collect();
        dir.save_noise(&noise_from_runs(&runs, 0.001, "c").unwrap(), false, never).unwrap();
        let out = dir.save(&three_suites(2.0), &source, true, never).unwrap();
        assert_eq!(out.saved.len(), 3);
        assert!(out.saved.iter().all(|s| s.previous.is_some()) && out.noise.is_some());
        let (loaded, _) = dir.load(&BTreeSet::new()).unwrap();
        assert_eq!(loaded.benchmarks.len(), three_suites(2.0).benchmarks.len());
        let names: Vec<String> =
            snapshot(root.path()).keys().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(names, ["noise.json", "s0.json", "s1.json", "s2.json", "r.json"]);
    }

    #[test]
    fn calibrating_over_a_corrupt_noise_file_is_refused_and_leaves_it() {
        let (root, dir, _) = saved();
        std::fs::write(dir.noise_path(), "{ oops").unwrap();
        let before = snapshot(root.path());
        let runs: Vec<Results> = [1.0, 1.02, 0.99, 1.01, 1.0].iter().map(|f| three_suites(*f)).collect();
        let floors = noise_from_runs(&runs, 0.001, "c").unwrap();
        for err in [dir.check_noise_replaceable(true).unwrap_err(), dir.save_noise(&floors, true, never).unwrap_err()] {
            let err = err.to_string();
            assert!(err.contains("noise.json") && err.contains("not replaced") && err.contains("rm "), "{err}");
        }
        assert_eq!(snapshot(root.path()), before);
        // Removed explicitly, it is written afresh.
        std::fs::remove_file(dir.noise_path()).unwrap();
        dir.save_noise(&floors, true, never).unwrap();
        assert_eq!(dir.noise().unwrap().unwrap().runs, 5);
    }

    #[test]
    fn a_save_killed_within_its_renames_stops_loading_until_saved_again() {
        let (_root, dir, source) = saved();
        // A rename that fails after the first one leaves what a kill there would: s0 new, s1 and s2 old,
        // and the journal.
        let mut set = FileSet::begin(&dir.dir, never).unwrap();
        for s in ["s0", "s1", "s2"] {
            let mut r = three_suites(3.0);
            r.benchmarks.retain(|b| b.suite == s);
            set.add(&format!("{s}.json"), r.to_json().as_bytes()).unwrap();
        }
        let s1 = dir.suite_path("s1");
        let kept = std::fs::read(&s1).unwrap();
        std::fs::remove_file(&s1).unwrap();
        std::fs::create_dir(&s1).unwrap();
        assert!(set.commit("benchgate baseline save --update r.json").is_err());
        std::fs::remove_dir(&s1).unwrap();
        std::fs::write(&s1, kept).unwrap();

        let err = dir.load(&BTreeSet::new()).unwrap_err().to_string();
        assert!(err.contains("interrupted after replacing 1 of 3 files") && err.contains("s1.json, s2.json"), "{err}");
        let out = dir.save(&three_suites(2.0), &source, true, never).unwrap();
        assert_eq!(out.earlier.len(), 1, "the save says it found the interrupted one");
        let (loaded, _) = dir.load(&BTreeSet::new()).unwrap();
        assert_eq!(loaded.benchmarks.len(), three_suites(2.0).benchmarks.len());
    }

    #[test]
    fn a_save_removes_stale_temporary_files_and_leaves_foreign_ones() {
        let (_root, dir, source) = saved();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let stale = dir.dir.join(format!(".s0.json.tmp-{dead}"));
        std::fs::write(&stale, "half a baseline").unwrap();
        for foreign in [".notes.tmp", "x.json.bak"] {
            std::fs::write(dir.dir.join(foreign), "mine").unwrap();
        }
        let (loaded, _) = dir.load(&BTreeSet::new()).unwrap();
        assert_eq!(loaded.benchmarks.len(), three_suites(1.0).benchmarks.len(), "temporary files are not baselines");
        dir.save(&three_suites(2.0), &source, true, never).unwrap();
        assert!(!stale.exists());
        for foreign in [".notes.tmp", "x.json.bak"] {
            assert_eq!(std::fs::read_to_string(dir.dir.join(foreign)).unwrap(), "mine");
        }
    }

    #[test]
    fn suite_names_that_are_not_one_plain_file_name_are_refused() {
        for bad in ["../../../../tmp/x", "/tmp/x", "", "noise", ".hidden", "a/b", "a\\b", "x\0y", "é"] {
            assert!(check_suite(bad).is_err(), "{bad:?}");
        }
        for good in ["compression", "queues-mpmc", "v1.2_x"] {
            assert!(check_suite(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn profile_baseline_names_are_one_plain_bounded_file_name() {
        let long = "x".repeat(101);
        for bad in ["../x", "/tmp/x", "", ".hidden", "a/b", "a\\b", "x\0y", "é", "a b", long.as_str()] {
            assert!(check_profile_name(bad).is_err(), "{bad:?}");
        }
        for good in ["before_optimization_X", "v1.2-rc", "noise", "x"] {
            assert!(check_profile_name(good).is_ok(), "{good}");
        }
        let dir = ClassDir::new(Path::new("/b"), "linux-x86_64");
        assert_eq!(dir.profile_path("v1"), Path::new("/b/linux-x86_64/profiles/v1.json"));
    }

    #[test]
    fn compacting_keeps_the_json_value() {
        let v = serde_json::json!({"a": [1.5, 2, -3e-7], "b": {"c": [], "d": ["x", "y"], "e": [[1, 2], [3]]}, "f": 4});
        let pretty = serde_json::to_string_pretty(&v).unwrap();
        let compact = compact_arrays(&pretty);
        assert!(compact.contains("\"a\": [1.5, 2, -3e-7]"), "{compact}");
        assert!(compact.lines().count() < pretty.lines().count());
        assert_eq!(serde_json::from_str::<serde_json::Value>(&compact).unwrap(), v);
    }

    #[test]
    fn runner_classes_are_path_safe() {
        assert!(check_class("gha-ubuntu-24.04").is_ok());
        for bad in ["", "..", "a/b", ".hidden", "a b"] {
            assert!(check_class(bad).is_err(), "{bad}");
        }
        assert_eq!(runner_class(Some("x1"), "cfg").unwrap(), "x1");
        assert_eq!(runner_class(None, "cfg").unwrap(), "cfg");
    }
}
