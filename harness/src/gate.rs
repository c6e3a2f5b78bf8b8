//! The gate's policy: which thresholds apply to a benchmark (per lane, per suite, per benchmark glob),
//! which regressions are accepted (`[[accept]]`, with an expiry date), and the calibrated noise floors.
//! `compare` asks this module "what applies here?"; it alone decides verdicts.

use std::collections::BTreeMap;

use globset::{Glob, GlobMatcher};
use serde::Deserialize;

use crate::model::NoiseFloors;

/// Thresholds for one benchmark, after per-suite and per-benchmark overrides.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Extra allocations per op tolerated before a regression.
    pub alloc_allocs: f64,
    /// Extra bytes per op tolerated before a regression.
    pub alloc_bytes: f64,
    /// Relative change of instructions per op tolerated (0.005 = 0.5%).
    pub instr_ratio: f64,
    /// Relative change of the median ns/op that counts (0.03 = 3%), if significant, between separate runs.
    pub wall_ratio: f64,
    /// The same for base and head measured interleaved in one job (`run --compare`).
    pub wall_ratio_interleaved: f64,
}

/// Some thresholds: a per-suite or per-benchmark override. Absent keys keep the outer value.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Override {
    pub alloc_allocs: Option<f64>,
    pub alloc_bytes: Option<f64>,
    pub instr_ratio: Option<f64>,
    pub wall_ratio: Option<f64>,
    pub wall_ratio_interleaved: Option<f64>,
}

/// `[[gate.bench]]`: an override for the benchmarks whose id matches a glob.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BenchOverride {
    /// A glob over benchmark ids (`suite/name[/param]`); `*` also crosses `/`.
    pub pattern: String,
    pub alloc_allocs: Option<f64>,
    pub alloc_bytes: Option<f64>,
    pub instr_ratio: Option<f64>,
    pub wall_ratio: Option<f64>,
    pub wall_ratio_interleaved: Option<f64>,
}

/// The `[gate]` section: lane defaults, then `[gate.suite.<name>]`, then `[[gate.bench]]` (later
/// entries win over earlier ones).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GateConfig {
    pub alloc_allocs: f64,
    pub alloc_bytes: f64,
    pub instr_ratio: f64,
    pub wall_ratio: f64,
    pub wall_ratio_interleaved: f64,
    /// False discovery rate across all wall comparisons of one compare.
    pub fdr: f64,
    /// Judge wall times of separate runs (not interleaved in one job). Off by default: wall times are
    /// then reported with their evidence, never failed.
    pub judge_separate_wall: bool,
    /// What a benchmark whose comparison is inconclusive does to the gate.
    pub inconclusive: OnInconclusive,
    #[serde(default)]
    pub suite: BTreeMap<String, Override>,
    #[serde(default)]
    pub bench: Vec<BenchOverride>,
}

/// `gate.inconclusive`: what an inconclusive comparison (neither a change nor shown unchanged) does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnInconclusive {
    /// Nothing: counted in the summary only.
    Pass,
    /// Counted in the summary's first line and listed as a warning; the gate still passes.
    Warn,
    /// The gate fails (exit 1), as for a regression.
    Fail,
}

impl std::fmt::Display for OnInconclusive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            OnInconclusive::Pass => "pass",
            OnInconclusive::Warn => "warn",
            OnInconclusive::Fail => "fail",
        })
    }
}

/// `[[accept]]`: an intentional regression, accepted up to a ratio (and/or a head value) until a date.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Accept {
    /// A glob over benchmark ids, as in `[[gate.bench]]`.
    pub bench: String,
    /// The results-format metric name: `ns_per_op`, `allocs_per_op`, `bytes_per_op`, `instructions_per_op`.
    pub metric: String,
    /// Accepted while head / base is at most this.
    pub max_ratio: Option<f64>,
    /// Accepted while the head value is at most this (for a base of zero, where no ratio exists).
    pub max_value: Option<f64>,
    pub reason: String,
    /// Last day (`YYYY-MM-DD`, UTC) on which the entry applies: a quoted string or a TOML date.
    #[serde(deserialize_with = "date_or_string")]
    pub expires: String,
}

/// Reads a day written either as a string (`"2027-01-31"`) or as a TOML date (`2027-01-31`, which TOML
/// parses as a date, not a string), into `YYYY-MM-DD`. A TOML date with a time or an offset is refused:
/// an expiry is a day.
fn date_or_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    struct Day;
    impl<'de> serde::de::Visitor<'de> for Day {
        type Value = String;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a date, YYYY-MM-DD")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_owned())
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<String, A::Error> {
            let t = toml::value::Datetime::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
            match (t.date, t.time, t.offset) {
                (Some(_), None, None) => Ok(t.to_string()),
                _ => Err(serde::de::Error::custom(format!("`{t}` is not a day: write the date alone, YYYY-MM-DD"))),
            }
        }
    }
    d.deserialize_any(Day)
}

/// The metrics a threshold or an accept entry can name.
pub const METRICS: [&str; 4] = ["ns_per_op", "allocs_per_op", "bytes_per_op", "instructions_per_op"];

fn matcher(pattern: &str) -> Result<GlobMatcher, String> {
    Glob::new(pattern).map(|g| g.compile_matcher()).map_err(|e| format!("is not a valid glob: {e}"))
}

/// Checks a `YYYY-MM-DD` date (a real calendar day). Dates in this form order as strings.
pub fn parse_date(s: &str) -> Result<(), String> {
    let bad = || format!("`{s}` is not a date of the form YYYY-MM-DD");
    let b = s.as_bytes();
    // Digits only: `u32::from_str` alone would take a sign (`+027-01-01`).
    let digits = b.iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() });
    if b.len() != 10 || !digits {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|t| t.parse::<u32>().ok()).ok_or_else(bad);
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(bad()),
    };
    if d == 0 || d > days {
        return Err(bad());
    }
    Ok(())
}

impl GateConfig {
    /// Checks every value; on error returns `(key, problem)` with the key's full path.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let nonneg = |key: String, v: Option<f64>| match v {
            Some(v) if !(v.is_finite() && v >= 0.0) => Err((key, "must be a finite number, 0 or more".to_owned())),
            _ => Ok(()),
        };
        let check = |prefix: &str, o: &Override| {
            nonneg(format!("{prefix}.alloc_allocs"), o.alloc_allocs)?;
            nonneg(format!("{prefix}.alloc_bytes"), o.alloc_bytes)?;
            nonneg(format!("{prefix}.instr_ratio"), o.instr_ratio)?;
            nonneg(format!("{prefix}.wall_ratio"), o.wall_ratio)?;
            nonneg(format!("{prefix}.wall_ratio_interleaved"), o.wall_ratio_interleaved)
        };
        check("gate", &self.defaults_as_override())?;
        if !(self.fdr > 0.0 && self.fdr < 1.0) {
            return Err(("gate.fdr".into(), "must be between 0 and 1".into()));
        }
        for (name, o) in &self.suite {
            check(&format!("gate.suite.{name}"), o)?;
        }
        for (i, b) in self.bench.iter().enumerate() {
            matcher(&b.pattern).map_err(|p| (format!("gate.bench[{i}].pattern"), p))?;
            check(&format!("gate.bench[{i}]"), &b.as_override())?;
        }
        Ok(())
    }

    fn defaults_as_override(&self) -> Override {
        Override {
            alloc_allocs: Some(self.alloc_allocs),
            alloc_bytes: Some(self.alloc_bytes),
            instr_ratio: Some(self.instr_ratio),
            wall_ratio: Some(self.wall_ratio),
            wall_ratio_interleaved: Some(self.wall_ratio_interleaved),
        }
    }

    /// The thresholds that apply to one benchmark.
    pub fn thresholds(&self, id: &str, suite: &str) -> Thresholds {
        let mut t = Thresholds {
            alloc_allocs: self.alloc_allocs,
            alloc_bytes: self.alloc_bytes,
            instr_ratio: self.instr_ratio,
            wall_ratio: self.wall_ratio,
            wall_ratio_interleaved: self.wall_ratio_interleaved,
        };
        if let Some(o) = self.suite.get(suite) {
            t.apply(o);
        }
        for b in &self.bench {
            // Patterns were validated with the configuration.
            if matcher(&b.pattern).is_ok_and(|m| m.is_match(id)) {
                t.apply(&b.as_override());
            }
        }
        t
    }
}

impl BenchOverride {
    fn as_override(&self) -> Override {
        Override {
            alloc_allocs: self.alloc_allocs,
            alloc_bytes: self.alloc_bytes,
            instr_ratio: self.instr_ratio,
            wall_ratio: self.wall_ratio,
            wall_ratio_interleaved: self.wall_ratio_interleaved,
        }
    }
}

impl Thresholds {
    fn apply(&mut self, o: &Override) {
        self.alloc_allocs = o.alloc_allocs.unwrap_or(self.alloc_allocs);
        self.alloc_bytes = o.alloc_bytes.unwrap_or(self.alloc_bytes);
        self.instr_ratio = o.instr_ratio.unwrap_or(self.instr_ratio);
        self.wall_ratio = o.wall_ratio.unwrap_or(self.wall_ratio);
        self.wall_ratio_interleaved = o.wall_ratio_interleaved.unwrap_or(self.wall_ratio_interleaved);
    }
}

impl Accept {
    /// Checks the entry; on error returns `(key, problem)` relative to the entry.
    pub fn validate(&self) -> Result<(), (String, String)> {
        matcher(&self.bench).map_err(|p| ("bench".to_owned(), p))?;
        if !METRICS.contains(&self.metric.as_str()) {
            return Err(("metric".into(), format!("must be one of {}", METRICS.join(", "))));
        }
        match (self.max_ratio, self.max_value) {
            (None, None) => return Err(("max_ratio".into(), "or `max_value` is required".into())),
            (Some(r), _) if !(r.is_finite() && r >= 1.0) => {
                return Err(("max_ratio".into(), "must be a finite ratio, 1 or more".into()));
            }
            (_, Some(v)) if !(v.is_finite() && v >= 0.0) => {
                return Err(("max_value".into(), "must be a finite number, 0 or more".into()));
            }
            _ => {}
        }
        if self.reason.trim().is_empty() {
            return Err(("reason".into(), "must say why the regression is accepted".into()));
        }
        parse_date(&self.expires).map_err(|p| ("expires".to_owned(), p))
    }

    /// Whether this entry names the benchmark and metric (expired or not).
    pub fn names(&self, id: &str, metric: &str) -> bool {
        self.metric == metric && matcher(&self.bench).is_ok_and(|m| m.is_match(id))
    }

    /// Whether a regression to `head` (at `ratio` of base, if base is not zero) is within the entry.
    pub fn covers(&self, head: f64, ratio: Option<f64>) -> bool {
        let ratio_ok = match (self.max_ratio, ratio) {
            (Some(max), Some(r)) => r <= max,
            (Some(_), None) => self.max_value.is_some(),
            (None, _) => true,
        };
        ratio_ok && self.max_value.is_none_or(|max| head <= max)
    }

    /// Whether the entry has expired on `today` (`YYYY-MM-DD`): it applies through its expiry day.
    pub fn expired(&self, today: &str) -> bool {
        today > self.expires.as_str()
    }
}

/// Everything `compare` needs to know besides the two results: thresholds, accepted regressions, noise
/// floors, and today's date for the expiry of accept entries.
#[derive(Debug, Clone)]
pub struct Policy<'a> {
    pub gate: &'a GateConfig,
    pub accept: &'a [Accept],
    pub noise: Option<&'a NoiseFloors>,
    /// `YYYY-MM-DD` (UTC).
    pub today: String,
}

impl<'a> Policy<'a> {
    /// A policy with thresholds only: no accept entries, no noise floors.
    pub fn new(gate: &'a GateConfig) -> Policy<'a> {
        Policy { gate, accept: &[], noise: None, today: crate::meta::now_rfc3339()[..10].to_owned() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate() -> GateConfig {
        crate::config::Config::builtin().gate
    }

    #[test]
    fn suite_and_glob_overrides_layer_in_order() {
        let mut g = gate();
        g.suite.insert("codec".into(), Override { wall_ratio: Some(0.05), ..Override::default() });
        g.bench.push(BenchOverride {
            pattern: "codec/*/1mb".into(),
            alloc_allocs: None,
            alloc_bytes: None,
            instr_ratio: Some(0.01),
            wall_ratio: None,
            wall_ratio_interleaved: None,
        });
        g.bench.push(BenchOverride {
            pattern: "codec/zstd*".into(),
            alloc_allocs: None,
            alloc_bytes: Some(64.0),
            instr_ratio: Some(0.02),
            wall_ratio: None,
            wall_ratio_interleaved: None,
        });
        let plain = g.thresholds("other/x", "other");
        assert_eq!(plain.wall_ratio, 0.03);
        let t = g.thresholds("codec/lz4/1kb", "codec");
        assert_eq!((t.wall_ratio, t.instr_ratio), (0.05, 0.005));
        let t = g.thresholds("codec/lz4/1mb", "codec");
        assert_eq!((t.wall_ratio, t.instr_ratio), (0.05, 0.01));
        // The later entry wins; `*` crosses `/`.
        let t = g.thresholds("codec/zstd/level3/1mb", "codec");
        assert_eq!((t.instr_ratio, t.alloc_bytes), (0.02, 64.0));
        assert!(g.validate().is_ok());
        g.bench[0].pattern = "codec/[".into();
        assert_eq!(g.validate().unwrap_err().0, "gate.bench[0].pattern");
    }

    #[test]
    fn dates_are_checked_and_order_as_strings() {
        for ok in ["2026-11-22", "2024-02-29", "2000-02-29"] {
            assert!(parse_date(ok).is_ok(), "{ok}");
        }
        for bad in ["2026-13-01", "2025-02-29", "1900-02-29", "2026-1-01", "tomorrow", "2026-11-31", ""]
            .into_iter()
            .chain(["+026-11-22", "2026-+1-01", "2026-11-+1", "-026-11-22", "2026-11-2\u{00e9}"])
        {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
        let a = Accept {
            bench: "s/*".into(),
            metric: "ns_per_op".into(),
            max_ratio: Some(1.1),
            max_value: None,
            reason: "r".into(),
            expires: "2026-11-22".into(),
        };
        assert!(!a.expired("2026-11-22") && a.expired("2026-11-23") && !a.expired("2025-12-31"));
        assert!(a.names("s/x/1", "ns_per_op") && !a.names("t/x", "ns_per_op") && !a.names("s/x", "bytes_per_op"));
        assert!(a.covers(1.0, Some(1.1)) && !a.covers(1.0, Some(1.11)) && !a.covers(5.0, None));
    }
}
