//! The noise-floor file (`baselines/<runner-class>/noise.json`): what `benchgate calibrate` measured
//! about each benchmark's run-to-run variation on one runner class. Versioned on its own
//! ([`NOISE_SCHEMA_VERSION`]); documented in docs/results-format.md ("Noise floors").

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{LoadError, LoadErrorKind, Machine, RunMode, Toolchain};

/// The version of the noise-floor format this build reads and writes.
pub const NOISE_SCHEMA_VERSION: u32 = 1;

/// Calibrated noise floors of one runner class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoiseFloors {
    /// Always [`NOISE_SCHEMA_VERSION`].
    pub noise_schema_version: u32,
    pub runner_class: String,
    /// RFC 3339 UTC time of the calibration.
    pub created_at: String,
    /// The calibration runs' mode: floors of quick runs fit quick runs.
    pub mode: RunMode,
    /// How many separate runs of the same build were compared.
    pub runs: usize,
    /// One-sided probability that two runs of unchanged code differ by more than a floor.
    pub alpha: f64,
    pub machine: Machine,
    pub toolchain: Toolchain,
    /// Benchmark id -> metric name (`ns_per_op`, ...) -> floor. Deterministic metrics appear only where
    /// the runs disagreed.
    pub benchmarks: BTreeMap<String, BTreeMap<String, Floor>>,
}

/// One benchmark's floor for one metric.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Floor {
    /// Changes up to this are noise here: a ratio - 1 for `ns_per_op` and `instructions_per_op`, an
    /// absolute count for `allocs_per_op` and `bytes_per_op`.
    pub floor: f64,
    /// The largest difference seen between two calibration runs, in the same unit.
    pub spread: f64,
}

impl NoiseFloors {
    /// The floor of one benchmark's metric, if calibrated.
    pub fn floor(&self, id: &str, metric: &str) -> Option<f64> {
        self.benchmarks.get(id)?.get(metric).map(|f| f.floor)
    }

    pub fn load(path: &Path) -> Result<NoiseFloors, LoadError> {
        let err = |kind| LoadError { path: path.to_owned(), kind };
        let text = std::fs::read_to_string(path).map_err(|e| err(LoadErrorKind::Io(e)))?;
        NoiseFloors::parse(&text).map_err(err)
    }

    pub fn parse(text: &str) -> Result<NoiseFloors, LoadErrorKind> {
        let value = super::parse_json(text)?;
        let version = super::schema_version(&value, "noise_schema_version", "noise-floor")?;
        if version != u64::from(NOISE_SCHEMA_VERSION) {
            return Err(LoadErrorKind::SchemaVersion { found: version, expected: NOISE_SCHEMA_VERSION });
        }
        let floors: NoiseFloors = serde_json::from_value(value).map_err(LoadErrorKind::Shape)?;
        for (id, metrics) in &floors.benchmarks {
            for (metric, f) in metrics {
                for (name, v) in [("floor", f.floor), ("spread", f.spread)] {
                    if !v.is_finite() {
                        return Err(LoadErrorKind::NonFinite { id: id.clone(), field: format!("{metric}.{name}") });
                    }
                    if v < 0.0 {
                        let problem = format!("{metric}.{name} is {v}: it cannot be negative");
                        return Err(LoadErrorKind::Invalid { id: id.clone(), problem });
                    }
                }
            }
        }
        Ok(floors)
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("noise floors serialize");
        s.push('\n');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_versions_and_bad_numbers_are_rejected() {
        assert!(matches!(NoiseFloors::parse("{\"x\": 1}"), Err(LoadErrorKind::NoSchemaVersion(..))));
        assert!(matches!(
            NoiseFloors::parse("{\"noise_schema_version\": 9}"),
            Err(LoadErrorKind::SchemaVersion { found: 9, .. })
        ));
        assert!(matches!(NoiseFloors::parse("{\"noise_schema_version\": 1"), Err(LoadErrorKind::Truncated { .. })));
        let e = NoiseFloors::parse("{\"noise_schema_version\": \"1\"}").unwrap_err().to_string();
        assert_eq!(e, "`noise_schema_version` is a string (\"1\"), not a version number");
    }
}
