//! Configuration: the built-in defaults (`default.toml`, compiled in) with the project's
//! `benchgate.toml` layered over them key by key. Unknown keys warn; invalid values are errors that
//! name the key. Parsing is raw TOML first, then validation into typed settings.

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
            return Err(invalid("compare.rounds", "must be at least 4"));
        }
        for (key, v) in [
            ("compare.time_budget_s", self.compare.time_budget_s),
            ("compare.quick_time_budget_s", self.compare.quick_time_budget_s),
        ] {
            if v == 0 {
                return Err(invalid(key, "must be greater than 0"));
            }
        }
        if self.calibrate.runs < 2 {
            return Err(invalid("calibrate.runs", "must be at least 2"));
        }
        if !(self.calibrate.alpha > 0.0 && self.calibrate.alpha < 0.5) {
            return Err(invalid("calibrate.alpha", "must be between 0 and 0.5"));
        }
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn invalid_values_name_the_key() {
        let e = load("[wall]\nsamples = 1\n").unwrap_err().to_string();
        assert!(e.contains("`wall.samples`") && e.contains("at least 2"), "{e}");
        let e = load("[alloc]\niters = \"ten\"\n").unwrap_err().to_string();
        assert!(e.contains("benchgate.toml") && e.contains("iters"), "{e}");
    }
}
