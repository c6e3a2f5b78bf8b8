//! Configuration: the built-in defaults (`default.toml`, compiled in) with the project's
//! `benchgate.toml` layered over them key by key. Unknown keys warn; invalid values are errors that
//! name the key. Parsing is raw TOML first, then validation into typed settings.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::model::RunMode;

const DEFAULT_TOML: &str = include_str!("default.toml");

/// Validated configuration.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Config {
    pub run: RunConfig,
    pub wall: WallConfig,
    pub alloc: AllocConfig,
    pub instr: InstrConfig,
    /// The gate's thresholds: per lane, per suite, per benchmark glob.
    pub gate: crate::gate::GateConfig,
    /// Accepted regressions (`[[accept]]`), each with a reason and an expiry date.
    #[serde(default)]
    pub accept: Vec<crate::gate::Accept>,
    pub calibrate: CalibrateConfig,
    pub baseline: BaselineConfig,
    pub compare: CompareConfig,
    /// `benchgate profile`: cost categories and the decision gate's rules.
    pub profile: ProfileConfig,
}

/// `[profile]`: the project's cost categories and the decision gate over category shares.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ProfileConfig {
    /// Shares below this are negligible ("what not to optimize").
    pub negligible_share: f64,
    /// Within this factor of the cheapest benchmark of one operation is at the floor; 0: off.
    pub floor_ratio: f64,
    /// Project categories (`[[profile.category]]`), tried before the built-ins.
    #[serde(default)]
    pub category: Vec<crate::profile::category::Category>,
    /// Decision rules (`[[profile.rule]]`); a project's list replaces the defaults.
    #[serde(default)]
    pub rule: Vec<crate::profile::decide::Rule>,
    /// Rule name -> threshold (`[profile.thresholds]`), over the rules' own thresholds.
    #[serde(default)]
    pub thresholds: std::collections::BTreeMap<String, f64>,
}

impl ProfileConfig {
    /// The effective cost categories: the project's before the built-ins
    /// ([`crate::profile::category::Categories::with_overrides`]).
    pub fn categories(&self) -> Result<crate::profile::category::Categories, String> {
        crate::profile::category::Categories::with_overrides(&self.category)
    }

    /// The rules with `[profile.thresholds]` applied, in configuration order.
    pub fn rules(&self) -> Vec<crate::profile::decide::Rule> {
        let mut rules = self.rule.clone();
        for rule in &mut rules {
            if let Some(&t) = self.thresholds.get(&rule.name) {
                rule.threshold = t;
            }
        }
        rules
    }

    /// The decision gate these settings describe.
    pub fn policy(&self) -> crate::profile::decide::Policy {
        crate::profile::decide::Policy {
            rules: self.rules(),
            negligible_share: self.negligible_share,
            floor_ratio: self.floor_ratio,
        }
    }

    /// Checks every value; on error returns `(key, problem)` with the key's full path.
    pub fn validate(&self) -> Result<(), (String, String)> {
        if !(self.negligible_share.is_finite() && (0.0..1.0).contains(&self.negligible_share)) {
            return Err(("profile.negligible_share".into(), "must be a share, 0 or more and below 1".into()));
        }
        if !(self.floor_ratio.is_finite() && (self.floor_ratio == 0.0 || self.floor_ratio >= 1.0)) {
            return Err(("profile.floor_ratio".into(), "must be 1 or more, or 0 (off)".into()));
        }
        for (i, c) in self.category.iter().enumerate() {
            let key = format!("profile.category[{i}]");
            if self.category[..i].iter().any(|o| o.name == c.name) {
                return Err((format!("{key}.name"), format!("cost category `{}` is defined twice", c.name)));
            }
            crate::profile::category::Categories::with_overrides(std::slice::from_ref(c)).map_err(|p| (key, p))?;
        }
        let categories = self.categories().map_err(|p| ("profile.category".to_owned(), p))?;
        let mut names: Vec<&str> = categories.categories().map(|c| c.name.as_str()).collect();
        names.push(crate::profile::category::APPLICATION);
        for (i, rule) in self.rule.iter().enumerate() {
            if self.rule[..i].iter().any(|o| o.name == rule.name) {
                return Err((format!("profile.rule[{i}].name"), format!("rule `{}` is defined twice", rule.name)));
            }
            rule.validate(&names)
                .map_err(|(key, p)| (format!("profile.rule[{i}].{key}"), format!("(rule `{}`) {p}", rule.name)))?;
        }
        for (name, &t) in &self.thresholds {
            let key = format!("profile.thresholds.{name}");
            let Some(rule) = self.rule.iter().find(|r| &r.name == name) else {
                let known: Vec<&str> = self.rule.iter().map(|r| r.name.as_str()).collect();
                return Err((key, format!("names no rule (rules: {})", known.join(", "))));
            };
            crate::profile::decide::check_threshold(rule, t).map_err(|p| (key, p))?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CompareConfig {
    /// Most wall rounds per benchmark.
    pub rounds: u32,
    pub time_budget_s: u64,
    pub quick_time_budget_s: u64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CalibrateConfig {
    /// Separate runs of the same build.
    pub runs: usize,
    /// One-sided probability that unchanged code exceeds a floor.
    pub alpha: f64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BaselineConfig {
    /// Where committed baselines live, relative to the workspace root.
    pub dir: PathBuf,
    /// The runner class (empty: `BENCHGATE_RUNNER_CLASS`, else `<os>-<arch>`).
    pub runner_class: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RunConfig {
    pub align_functions: u32,
    /// Codegen units of the workspace's own crates in a comparison's builds (0: the profile's).
    pub codegen_units: u32,
    pub timeout_s: u64,
    pub reports_dir: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct WallSettings {
    pub warm_up_ms: u64,
    pub measurement_ms: u64,
    pub samples: u64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct WallQuick {
    pub warm_up_ms: u64,
    pub measurement_ms: u64,
    pub samples: u64,
    pub processes: u32,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct WallConfig {
    pub warm_up_ms: u64,
    pub measurement_ms: u64,
    pub samples: u64,
    /// Processes the samples are spread over (each warms up on its own).
    pub processes: u32,
    pub quick: WallQuick,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AllocSettings {
    pub iters: u64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AllocConfig {
    pub iters: u64,
    pub quick: AllocSettings,
}

/// The longest timeout or time budget accepted, in seconds (a week): deadlines are instants computed
/// by adding these to the clock, which must not overflow.
pub const MAX_SECONDS: u64 = 7 * 24 * 3600;

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct InstrSettings {
    pub extra_iters: u64,
    pub cache_sim: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct InstrConfig {
    pub extra_iters: u64,
    pub cache_sim: bool,
    /// Environment variables passed through to the measured process (the rest is cleared).
    pub pass_env: Vec<String>,
    pub quick: InstrSettings,
}

/// A configuration that could not be used, naming the file and the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: cannot read: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("{}: `{key}` {problem}", path.display())]
    Invalid { path: PathBuf, key: String, problem: String },
}

/// A loaded configuration and the warnings it produced (unknown keys).
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<String>,
}

impl Config {
    /// The built-in defaults alone.
    pub fn builtin() -> Config {
        toml::from_str(DEFAULT_TOML).expect("built-in default.toml is valid")
    }

    /// The built-in defaults as TOML text.
    pub fn builtin_text() -> &'static str {
        DEFAULT_TOML
    }

    /// Loads `path` over the defaults. `required`: a missing file is an error (it was named on the
    /// command line) rather than "use the defaults".
    pub fn load(path: &Path, required: bool) -> Result<Loaded, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
                return Ok(Loaded { config: Config::builtin(), warnings: Vec::new() });
            }
            Err(source) => return Err(ConfigError::Io { path: path.to_owned(), source }),
        };
        Config::from_str_over_defaults(&text, path)
    }

    /// A configuration file's text over the defaults, `path` naming it in messages (the copy an archive
    /// carries, for one).
    pub fn from_text(text: &str, path: &Path) -> Result<Loaded, ConfigError> {
        Config::from_str_over_defaults(text, path)
    }

    fn from_str_over_defaults(text: &str, path: &Path) -> Result<Loaded, ConfigError> {
        let parse_err = |message: String| ConfigError::Parse { path: path.to_owned(), message };
        let user: toml::Table = toml::from_str(text).map_err(|e| parse_err(e.to_string()))?;
        let mut merged: toml::Table = toml::from_str(DEFAULT_TOML).expect("built-in default.toml is valid");
        merge(&mut merged, user);
        let mut warnings = Vec::new();
        // Only the user's file can hold unknown keys: the defaults are known to be clean.
        let merged_text = toml::to_string(&merged).expect("merged config serializes");
        let de = toml::Deserializer::parse(&merged_text).map_err(|e| parse_err(e.to_string()))?;
        let mut warn = |key: serde_ignored::Path<'_>| {
            warnings.push(format!("{}: unknown key `{key}` ignored", path.display()));
        };
        // serde_path_to_error names the key of a value of the wrong type.
        let config: Config = serde_path_to_error::deserialize(serde_ignored::Deserializer::new(de, &mut warn))
            .map_err(|e| parse_err(format!("`{}`: {}", e.path(), e.inner().message())))?;
        config.validate(path)?;
        Ok(Loaded { config, warnings })
    }

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |key: &str, problem: &str| ConfigError::Invalid {
            path: path.to_owned(),
            key: key.to_owned(),
            problem: problem.to_owned(),
        };
        for (key, samples) in [("wall.samples", self.wall.samples), ("wall.quick.samples", self.wall.quick.samples)] {
            if samples < 2 {
                return Err(invalid(key, "must be at least 2"));
            }
        }
        for (key, v) in [
            ("wall.measurement_ms", self.wall.measurement_ms),
            ("wall.quick.measurement_ms", self.wall.quick.measurement_ms),
            ("alloc.iters", self.alloc.iters),
            ("alloc.quick.iters", self.alloc.quick.iters),
            ("run.timeout_s", self.run.timeout_s),
            ("instr.extra_iters", self.instr.extra_iters),
            ("instr.quick.extra_iters", self.instr.quick.extra_iters),
        ] {
            if v == 0 {
                return Err(invalid(key, "must be greater than 0"));
            }
        }
        self.gate.validate().map_err(|(key, problem)| invalid(&key, &problem))?;
        for (i, a) in self.accept.iter().enumerate() {
            a.validate().map_err(|(key, problem)| invalid(&format!("accept[{i}].{key}"), &problem))?;
        }
        for (key, p) in [("wall.processes", self.wall.processes), ("wall.quick.processes", self.wall.quick.processes)] {
            if p == 0 {
                return Err(invalid(key, "must be at least 1"));
            }
        }
        if self.run.align_functions != 0 && !self.run.align_functions.is_power_of_two() {
            return Err(invalid("run.align_functions", "must be 0 or a power of two"));
        }
        if self.compare.rounds < crate::interleave::MIN_ROUNDS {
            let problem = format!("must be at least {}", crate::interleave::MIN_ROUNDS);
            return Err(invalid("compare.rounds", &problem));
        }
        for (key, v) in [
            ("compare.time_budget_s", self.compare.time_budget_s),
            ("compare.quick_time_budget_s", self.compare.quick_time_budget_s),
        ] {
            if v == 0 {
                return Err(invalid(key, "must be greater than 0"));
            }
        }
        for (key, v) in [
            ("run.timeout_s", self.run.timeout_s),
            ("compare.time_budget_s", self.compare.time_budget_s),
            ("compare.quick_time_budget_s", self.compare.quick_time_budget_s),
        ] {
            if v > MAX_SECONDS {
                return Err(invalid(key, &format!("must be at most {MAX_SECONDS} (a week)")));
            }
        }
        if self.calibrate.runs < 2 {
            return Err(invalid("calibrate.runs", "must be at least 2"));
        }
        if !(self.calibrate.alpha > 0.0 && self.calibrate.alpha < 0.5) {
            return Err(invalid("calibrate.alpha", "must be between 0 and 0.5"));
        }
        self.profile.validate().map_err(|(key, problem)| invalid(&key, &problem))?;
        if !self.baseline.runner_class.is_empty() {
            crate::baseline::check_class(&self.baseline.runner_class)
                .map_err(|p| invalid("baseline.runner_class", &p))?;
        }
        Ok(())
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.run.timeout_s)
    }

    pub fn wall(&self, mode: RunMode) -> WallSettings {
        match mode {
            RunMode::Full => WallSettings {
                warm_up_ms: self.wall.warm_up_ms,
                measurement_ms: self.wall.measurement_ms,
                samples: self.wall.samples,
            },
            RunMode::Quick => WallSettings {
                warm_up_ms: self.wall.quick.warm_up_ms,
                measurement_ms: self.wall.quick.measurement_ms,
                samples: self.wall.quick.samples,
            },
        }
    }

    /// The wall lane of an ordinary run: how many processes, and what each does (the configured warm-up
    /// each, measurement time and samples shared out, at least 3 samples per process).
    pub fn wall_processes(&self, mode: RunMode) -> (u32, WallSettings) {
        let w = self.wall(mode);
        let p = match mode {
            RunMode::Full => self.wall.processes,
            RunMode::Quick => self.wall.quick.processes,
        };
        let per = WallSettings {
            warm_up_ms: w.warm_up_ms,
            measurement_ms: (w.measurement_ms / u64::from(p)).max(1),
            samples: w.samples.div_ceil(u64::from(p)).max(3),
        };
        (p, per)
    }

    pub fn alloc_iters(&self, mode: RunMode) -> u64 {
        match mode {
            RunMode::Full => self.alloc.iters,
            RunMode::Quick => self.alloc.quick.iters,
        }
    }

    /// The instr lane's settings: extra iterations of the long callgrind run, cache simulation.
    pub fn instr(&self, mode: RunMode) -> InstrSettings {
        match mode {
            RunMode::Full => InstrSettings { extra_iters: self.instr.extra_iters, cache_sim: self.instr.cache_sim },
            RunMode::Quick => self.instr.quick.clone(),
        }
    }
}

/// Deep-merges `over` into `base`: tables merge key by key, anything else replaces.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

/// The sections of the configuration that decide verdicts: what `policy_changes` compares.
const POLICY_SECTIONS: [&str; 3] = ["gate", "accept", "compare"];

/// What differs in the policy between two configuration files (`None`: no file, the defaults), each
/// over the built-in defaults: one line per changed key of `[gate]` and `[compare]` ("gate.fdr: 0.05 in
/// base, 0.1 in head") and per `[[accept]]` or `[[gate.bench]]` entry added or removed. `Err` names
/// which side's text does not parse.
pub fn policy_changes(base: Option<&str>, head: Option<&str>) -> Result<Vec<String>, String> {
    fn merged(text: Option<&str>, side: &str) -> Result<toml::Table, String> {
        let mut t: toml::Table = toml::from_str(DEFAULT_TOML).expect("built-in default.toml is valid");
        if let Some(text) = text {
            merge(&mut t, toml::from_str(text).map_err(|e| format!("{side}'s configuration: {e}"))?);
        }
        Ok(t)
    }
    /// Dotted keys to values; an array of tables is a set of entries, each keyed by its own text.
    fn flatten(prefix: &str, v: &toml::Value, out: &mut BTreeMap<String, String>) {
        match v {
            toml::Value::Table(t) => {
                for (k, v) in t {
                    flatten(&format!("{prefix}.{k}"), v, out);
                }
            }
            toml::Value::Array(a) if a.iter().all(toml::Value::is_table) && !a.is_empty() => {
                for entry in a {
                    // An inline table: `{ bench = "a/*", metric = ... }`.
                    out.insert(format!("[[{prefix}]] {entry}"), String::new());
                }
            }
            v => {
                out.insert(prefix.to_owned(), v.to_string());
            }
        }
    }
    let (b, h) = (merged(base, "base")?, merged(head, "head")?);
    let (mut fb, mut fh) = (BTreeMap::new(), BTreeMap::new());
    for section in POLICY_SECTIONS {
        for (t, f) in [(&b, &mut fb), (&h, &mut fh)] {
            if let Some(v) = t.get(section) {
                flatten(section, v, f);
            }
        }
    }
    let keys: BTreeSet<&String> = fb.keys().chain(fh.keys()).collect();
    let mut out = Vec::new();
    for k in keys {
        match (fb.get(k), fh.get(k)) {
            (Some(x), Some(y)) if x == y => {}
            (Some(x), Some(y)) => out.push(format!("{k}: {x} in base, {y} in head")),
            (None, Some(_)) if k.starts_with("[[") => out.push(format!("added in head: {k}")),
            (Some(_), None) if k.starts_with("[[") => out.push(format!("removed in head: {k}")),
            (None, Some(y)) => out.push(format!("{k}: unset in base, {y} in head")),
            (Some(x), None) => out.push(format!("{k}: {x} in base, unset in head")),
            (None, None) => unreachable!("keys come from either side"),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_changes_name_each_changed_key_and_entry() {
        assert_eq!(policy_changes(None, None).unwrap(), Vec::<String>::new());
        assert_eq!(policy_changes(None, Some("[gate]\nfdr = 0.05\n")).unwrap(), Vec::<String>::new(), "the default");
        let head = "[gate]\nwall_ratio_interleaved = 0.05\n[wall]\nprocesses = 9\n\n[[accept]]\nbench = \"a/*\"\n\
                    metric = \"ns_per_op\"\nmax_ratio = 1.2\nreason = \"r\"\nexpires = \"2027-01-01\"\n";
        let changes = policy_changes(None, Some(head)).unwrap();
        assert_eq!(changes.len(), 2, "{changes:?}: [wall] is not policy");
        assert_eq!(
            changes[0],
            "added in head: [[accept]] { bench = \"a/*\", expires = \"2027-01-01\", max_ratio = 1.2, \
             metric = \"ns_per_op\", reason = \"r\" }"
        );
        assert_eq!(changes[1], "gate.wall_ratio_interleaved: 0.01 in base, 0.05 in head");
        let back = policy_changes(Some(head), None).unwrap();
        assert!(back[0].starts_with("removed in head: [[accept]]"), "{back:?}");
        assert!(policy_changes(Some("[gate"), None).unwrap_err().starts_with("base's configuration"));
    }

    fn load(text: &str) -> Result<Loaded, ConfigError> {
        Config::from_str_over_defaults(text, Path::new("benchgate.toml"))
    }

    #[test]
    fn user_values_override_defaults_key_by_key() {
        let l = load("[wall.quick]\nsamples = 7\n").unwrap();
        assert_eq!(l.config.wall.quick.samples, 7);
        assert_eq!(l.config.wall.quick.warm_up_ms, Config::builtin().wall.quick.warm_up_ms);
        assert!(l.warnings.is_empty());
    }

    /// Durations that would overflow a deadline (the clock plus the value) are refused by name.
    #[test]
    fn timeouts_and_budgets_are_bounded() {
        for key in ["[run]\ntimeout_s", "[compare]\ntime_budget_s", "[compare]\nquick_time_budget_s"] {
            let e = load(&format!("{key} = 9223372036854775807\n")).unwrap_err().to_string();
            let name = key.replace("]\n", ".").replace('[', "");
            assert!(e.contains(&format!("`{name}`")) && e.contains("at most"), "{e}");
        }
        assert!(load(&format!("[run]\ntimeout_s = {MAX_SECONDS}\n")).is_ok());
    }

    #[test]
    fn unknown_keys_warn_with_their_path() {
        let l = load("[wall]\nsampels = 3\n[nonsense]\nx = 1\n").unwrap();
        assert_eq!(l.warnings.len(), 2, "{:?}", l.warnings);
        assert!(l.warnings.iter().any(|w| w.contains("wall.sampels")), "{:?}", l.warnings);
    }

    #[test]
    fn gate_overrides_and_accept_entries_are_read_and_checked() {
        let l = load(
            "[gate.suite.codec]\nwall_ratio = 0.1\n[[gate.bench]]\npattern = \"codec/*\"\ninstr_ratio = 0.02\n\
             [[accept]]\nbench = \"codec/zstd\"\nmetric = \"ns_per_op\"\nmax_ratio = 1.2\nreason = \"r\"\n\
             expires = \"2027-01-01\"\n",
        )
        .unwrap();
        assert!(l.warnings.is_empty(), "{:?}", l.warnings);
        let t = l.config.gate.thresholds("codec/zstd", "codec");
        assert_eq!((t.wall_ratio, t.instr_ratio), (0.1, 0.02));
        assert_eq!(l.config.accept.len(), 1);
        let e = load("[[accept]]\nbench = \"x\"\nmetric = \"ns_per_op\"\nmax_ratio = 1.2\nreason = \"r\"\nexpires = \"2027-02-30\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`accept[0].expires`") && e.contains("2027-02-30"), "{e}");
        // A TOML date (unquoted) is a day like the string; a date with a time is not.
        let l = load("[[accept]]\nbench = \"x\"\nmetric = \"ns_per_op\"\nmax_ratio = 1.2\nreason = \"r\"\nexpires = 2027-01-31\n")
            .unwrap();
        assert_eq!(l.config.accept[0].expires, "2027-01-31");
        let e = load("[[accept]]\nbench = \"x\"\nmetric = \"ns_per_op\"\nmax_ratio = 1.2\nreason = \"r\"\nexpires = 2027-01-31T10:00:00Z\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`accept[0].expires`") && e.contains("is not a day"), "{e}");
        let e = load(
            "[[accept]]\nbench = \"x\"\nmetric = \"ns\"\nmax_ratio = 1.2\nreason = \"r\"\nexpires = \"2027-01-01\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("`accept[0].metric`"), "{e}");
        let e = load("[gate.suite.codec]\nwall_ratio = -1\n").unwrap_err().to_string();
        assert!(e.contains("`gate.suite.codec.wall_ratio`"), "{e}");
        let l = load("[[gate.bench]]\npattern = \"x\"\nwall_ration = 0.1\n").unwrap();
        assert!(l.warnings.iter().any(|w| w.contains("wall_ration")), "{:?}", l.warnings);
    }

    /// A compressing benchmark: 62% compression, one allocation per op.
    fn compressing() -> crate::profile::decide::BenchInput {
        use crate::profile::decide::{BenchInput, CategoryCost};
        let cost = |category: &str, share: f64| CategoryCost {
            category: category.into(),
            share,
            instructions_per_op: share * 1e6,
        };
        BenchInput {
            id: "codec/zstd/compress".into(),
            suite: "codec".into(),
            instructions_per_op: 1e6,
            categories: vec![cost("compression", 0.62), cost("copying", 0.25), cost("application", 0.13)],
            allocs_per_op: Some(1.0),
            bytes_per_op: Some(4096.0),
            system_time_share: Some(0.05),
        }
    }

    fn primary(config: &Config) -> Option<String> {
        let d = config.profile.policy().decide(&[compressing()]).remove(0);
        d.primary.map(|p| p.rule)
    }

    #[test]
    fn profile_defaults_are_valid_and_model_the_seed_matrix() {
        let c = Config::builtin();
        c.validate(Path::new("default.toml")).unwrap();
        let p = &c.profile;
        assert_eq!((p.negligible_share, p.floor_ratio), (0.02, 1.1));
        assert!(p.category.is_empty() && p.thresholds.is_empty());
        let names: Vec<&str> = p.rule.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "compression",
                "allocation",
                "allocs-per-op",
                "copying",
                "serialization",
                "hashing",
                "locking",
                "syscalls",
                "kernel-time",
                "formatting",
                "regex",
                "application"
            ]
        );
        // Every built-in category and the rest are looked at by a rule.
        for c in p.categories().unwrap().categories().map(|c| c.name.as_str()).chain(["application"]) {
            assert!(p.rule.iter().any(|r| r.category.as_deref() == Some(c)), "{c}");
        }
        assert_eq!(primary(&c).as_deref(), Some("compression"));
    }

    #[test]
    fn a_raised_threshold_in_the_project_file_changes_the_outcome() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("benchgate.toml");
        // The project's rule list replaces the defaults: copying now fires first at 0.25 > 0.2, and
        // compression needs more than 70%.
        std::fs::write(
            &path,
            "[[profile.rule]]\nname = \"compression\"\ncategory = \"compression\"\nthreshold = 0.7\n\
             path = \"lz4\"\nrationale = \"r\"\neffort = \"medium\"\n\
             [[profile.rule]]\nname = \"copies\"\ncategory = \"copying\"\nthreshold = 0.2\n\
             path = \"borrow\"\nrationale = \"r\"\neffort = \"low\"\n",
        )
        .unwrap();
        let l = Config::load(&path, true).unwrap();
        assert!(l.warnings.is_empty(), "{:?}", l.warnings);
        assert_eq!(l.config.profile.rule.len(), 2);
        assert_eq!(l.config.profile.rule[0].reach, 1.0);
        let d = l.config.profile.policy().decide(&[compressing()]).remove(0);
        assert_eq!(d.matrix[0].outcome, crate::profile::decide::Outcome::Below);
        assert_eq!(d.primary.map(|p| p.rule).as_deref(), Some("copies"));
        // [profile.thresholds] changes one threshold and keeps the default rules.
        std::fs::write(&path, "[profile.thresholds]\ncompression = 0.65\nallocs-per-op = 0\n").unwrap();
        let l = Config::load(&path, true).unwrap();
        assert_eq!(l.config.profile.rule.len(), Config::builtin().profile.rule.len());
        let d = l.config.profile.policy().decide(&[compressing()]).remove(0);
        let row = |name: &str| d.matrix.iter().find(|r| r.rule == name).unwrap();
        assert_eq!(
            (row("compression").threshold, row("compression").outcome),
            (0.65, crate::profile::decide::Outcome::Below)
        );
        assert_eq!(row("allocs-per-op").outcome, crate::profile::decide::Outcome::Fired);
        assert_eq!(d.primary.map(|p| p.rule).as_deref(), Some("copying"));
        std::fs::write(&path, "[profile.thresholds]\ncompression = 0.5\n").unwrap();
        assert_eq!(primary(&Config::load(&path, true).unwrap().config).as_deref(), Some("compression"));
    }

    #[test]
    fn project_categories_override_builtins_and_rules_may_name_them() {
        let l = load(
            "[[profile.category]]\nname = \"codec\"\npatterns = ['^my_codec::']\n\
             [[profile.category]]\nname = \"compression\"\npatterns = ['^zstd::']\ndescription = \"zstd only\"\n\
             [[profile.rule]]\nname = \"codec\"\ncategory = \"codec\"\nthreshold = 0.3\n\
             path = \"p\"\nrationale = \"r\"\neffort = \"high\"\n",
        )
        .unwrap();
        assert!(l.warnings.is_empty(), "{:?}", l.warnings);
        let cats = l.config.profile.categories().unwrap();
        let names: Vec<&str> = cats.categories().map(|c| c.name.as_str()).collect();
        assert_eq!(names[..3], ["codec", "compression", "allocation"]);
        assert_eq!(names.len(), 10);
        let compression = cats.categories().find(|c| c.name == "compression").unwrap();
        assert_eq!(
            (compression.patterns.as_slice(), compression.description.as_str()),
            (&["^zstd::".to_string()][..], "zstd only")
        );
    }

    #[test]
    fn invalid_profile_settings_name_the_key_and_the_rule() {
        let rule = |category: &str| {
            format!(
                "[[profile.rule]]\nname = \"codec\"\ncategory = \"{category}\"\nthreshold = 0.3\npath = \"p\"\n\
                 rationale = \"r\"\neffort = \"low\"\n"
            )
        };
        let e = load(&rule("compresion")).unwrap_err().to_string();
        assert!(
            e.contains("`profile.rule[0].category` (rule `codec`) names an unknown cost category `compresion`"),
            "{e}"
        );
        let e = load(&rule("compression").replace("0.3", "30")).unwrap_err().to_string();
        assert!(e.contains("`profile.rule[0].threshold`") && e.contains("0 to 1"), "{e}");
        let e = load(&rule("compression").replace("\"low\"", "\"trivial\"")).unwrap_err().to_string();
        assert!(e.contains("profile.rule") && e.contains("effort"), "{e}");
        let e = load(&format!("{}{}", rule("compression"), rule("hashing"))).unwrap_err().to_string();
        assert!(e.contains("`profile.rule[1].name` rule `codec` is defined twice"), "{e}");
        let e = load("[[profile.category]]\nname = \"db\"\npatterns = ['^db::(']\n").unwrap_err().to_string();
        assert!(
            e.contains("`profile.category[0]`") && e.contains("cost category `db`: invalid pattern `^db::(`"),
            "{e}"
        );
        let e = load("[[profile.category]]\nname = \"application\"\npatterns = []\n").unwrap_err().to_string();
        assert!(e.contains("`profile.category[0]`") && e.contains("reserved"), "{e}");
        let e = load("[profile.thresholds]\ncompresion = 0.5\n").unwrap_err().to_string();
        assert!(e.contains("`profile.thresholds.compresion` names no rule"), "{e}");
        let e = load("[profile.thresholds]\ncompression = 5\n").unwrap_err().to_string();
        assert!(e.contains("`profile.thresholds.compression` must be a share"), "{e}");
        // system_time_share is a share too; allocs_per_op is not.
        let e = load("[profile.thresholds]\nkernel-time = 20\n").unwrap_err().to_string();
        assert!(e.contains("`profile.thresholds.kernel-time` must be a share"), "{e}");
        load("[profile.thresholds]\nkernel-time = 0.5\nallocs-per-op = 20\n").unwrap();
        let e = load("[profile]\nnegligible_share = 1.5\n").unwrap_err().to_string();
        assert!(e.contains("`profile.negligible_share`"), "{e}");
        let e = load("[profile]\nfloor_ratio = 0.5\n").unwrap_err().to_string();
        assert!(e.contains("`profile.floor_ratio`"), "{e}");
        // A rule that looks at a project category is valid once the category exists.
        let ok = format!("[[profile.category]]\nname = \"db\"\npatterns = ['^db::']\n{}", rule("db"));
        load(&ok).unwrap();
    }

    #[test]
    fn invalid_values_name_the_key() {
        let e = load("[wall]\nsamples = 1\n").unwrap_err().to_string();
        assert!(e.contains("`wall.samples`") && e.contains("at least 2"), "{e}");
        let e = load("[alloc]\niters = \"ten\"\n").unwrap_err().to_string();
        assert!(e.contains("benchgate.toml") && e.contains("iters"), "{e}");
    }
}
