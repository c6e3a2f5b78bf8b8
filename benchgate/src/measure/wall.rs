//! The wall lane's sampler: criterion's method (warm-up, then linear sampling), run in-process.
//!
//! Why not criterion itself: criterion's `bench_function` runs warm-up, sampling, analysis and its
//! own reporting in one call, prints to stdout and keeps its raw samples only in its files. benchgate
//! needs the raw samples handed back, the sampling plan under its control (quick mode, time budgets,
//! and in revision comparisons a few samples at a time, interleaved between two binaries), and no
//! analysis in the measured process. So this module reimplements criterion's sampling method
//! (criterion `src/routine.rs`, `Routine::sample` with `SamplingMode::Linear`):
//!
//! 1. warm-up: run the routine with 1, 2, 4, ... iterations until the warm-up time has passed, and
//!    estimate the time per iteration from it;
//! 2. linear sampling: sample `i` (1-based) runs `i * d` iterations, `d` chosen so the `n` samples
//!    together take about the measurement time; or, when even `d = 1` would take more than twice the
//!    measurement time (slow routines), flat sampling: every sample runs the same number of iterations.
//!    This is criterion's `SamplingMode::Auto`.
//!
//! Estimates (median, mean, slope) are computed by `stats` from the samples returned here.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::define::Probe;
use crate::measure::overhead;

/// How to sample one benchmark.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WallPlan {
    pub warm_up: Duration,
    pub measurement: Duration,
    pub samples: u64,
}

/// The raw samples of one benchmark: `(iterations, nanoseconds)` pairs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WallSamples {
    pub warmup_iters: u64,
    pub warmup_ns: u64,
    pub iters: Vec<u64>,
    pub ns: Vec<u64>,
    /// Per-event latencies the routine recorded while the samples were taken (`iter_latency`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latencies: Option<crate::measure::latency::LatencySamples>,
    /// Figures the benchmark reported (`Bencher::report`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub reported: std::collections::BTreeMap<String, crate::protocol::Reported>,
    /// What the measurement cost, calibrated after the samples; absent from bench binaries built with a
    /// benchgate that did not calibrate (the base of a comparison may be older).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<crate::measure::overhead::Calibration>,
}

/// Times the measured part of a loop, and counts the timed intervals.
#[derive(Default)]
pub(crate) struct Stopwatch {
    started: Option<Instant>,
    total: Duration,
    intervals: u64,
}

impl Stopwatch {
    /// The measured time and the number of timed intervals it adds up.
    pub(crate) fn elapsed(&self) -> (Duration, u64) {
        (self.total, self.intervals)
    }
}

impl Probe for Stopwatch {
    fn start(&mut self) {
        self.intervals += 1;
        self.started = Some(Instant::now());
    }

    fn stop(&mut self) {
        if let Some(s) = self.started.take() {
            self.total += s.elapsed();
        }
    }

    fn stop_with(&mut self, elapsed: Duration) {
        self.started = None;
        self.total += elapsed;
    }
}

/// Warms up, then takes `plan.samples` linear samples, then calibrates what the measurement cost
/// ([`overhead::calibrate`]). `run(iters)` performs `iters` iterations and returns the measured time and
/// the number of timed intervals it adds up.
/// `measuring` is called once, between warm-up and the first sample.
pub fn sample(
    plan: &WallPlan,
    run: &mut dyn FnMut(u64) -> (Duration, u64),
    measuring: &mut dyn FnMut(),
) -> WallSamples {
    let (warmup_iters, warmup_ns) = warm_up(plan.warm_up, run);
    measuring();
    let per_iter_ns = (warmup_ns as f64 / warmup_iters.max(1) as f64).max(1e-3);
    let schedule = schedule(plan.measurement, plan.samples, per_iter_ns);
    let mut iters = Vec::with_capacity(plan.samples as usize);
    let mut ns = Vec::with_capacity(plan.samples as usize);
    let mut intervals = 0;
    for n in schedule {
        let (t, k) = run(n);
        iters.push(n);
        ns.push(u64::try_from(t.as_nanos()).unwrap_or(u64::MAX));
        intervals += k;
    }
    let calibration = Some(overhead::calibrate(intervals));
    WallSamples { warmup_iters, warmup_ns, iters, ns, latencies: None, reported: Default::default(), calibration }
}

/// Runs 1, 2, 4, ... iterations until `duration` has passed on the wall clock; returns the total
/// iterations and the measured nanoseconds.
fn warm_up(duration: Duration, run: &mut dyn FnMut(u64) -> (Duration, u64)) -> (u64, u64) {
    let start = Instant::now();
    let mut n = 1u64;
    let (mut total_iters, mut total_ns) = (0u64, 0u64);
    loop {
        let (t, _) = run(n);
        total_iters += n;
        total_ns = total_ns.saturating_add(u64::try_from(t.as_nanos()).unwrap_or(u64::MAX));
        if start.elapsed() >= duration {
            return (total_iters, total_ns);
        }
        n = n.saturating_mul(2);
    }
}

/// Iterations per sample: linear (`d, 2d, ..., n*d`) unless that would take more than twice the
/// measurement time at `d = 1`, then flat (criterion's `SamplingMode::Auto`, `src/lib.rs`).
pub fn schedule(measurement: Duration, samples: u64, per_iter_ns: f64) -> Vec<u64> {
    let linear_runs = (samples * (samples + 1) / 2) as f64;
    let budget_ns = measurement.as_nanos() as f64;
    if per_iter_ns * linear_runs > 2.0 * budget_ns {
        let per_sample = (budget_ns / per_iter_ns / samples as f64).ceil().max(1.0) as u64;
        vec![per_sample; samples as usize]
    } else {
        let d = linear_step(measurement, samples, per_iter_ns);
        (1..=samples).map(|i| i * d).collect()
    }
}

/// criterion's linear step: the `d` such that samples of `d, 2d, ..., n*d` iterations take about
/// `measurement` in total at `per_iter_ns` per iteration (at least 1).
pub fn linear_step(measurement: Duration, samples: u64, per_iter_ns: f64) -> u64 {
    let total_runs = samples * (samples + 1) / 2;
    let d = (measurement.as_nanos() as f64 / per_iter_ns / total_runs as f64).ceil();
    if d.is_finite() && d >= 1.0 { d as u64 } else { 1 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_step_matches_criterion_formula() {
        // 5 s over 100 samples (5050 runs) at 1 µs per iteration: ceil(5e9 / 1e3 / 5050) = 991.
        assert_eq!(linear_step(Duration::from_secs(5), 100, 1000.0), 991);
        // A routine slower than the whole budget still gets one iteration per step.
        assert_eq!(linear_step(Duration::from_millis(1), 10, 1e9), 1);
    }

    #[test]
    fn slow_routines_are_sampled_flat() {
        // 29 ms per iteration, 20 samples in 300 ms: linear would need 210 iterations (6 s).
        assert_eq!(schedule(Duration::from_millis(300), 20, 29e6), vec![1; 20]);
        // 1 ms per iteration, 10 samples in 100 ms: linear needs 55 ms, within budget.
        assert_eq!(schedule(Duration::from_millis(100), 10, 1e6), (1..=10).map(|i| i * 2).collect::<Vec<_>>());
        // 2 ms: linear at d = 1 takes 110 ms > 2 x 50 ms, so flat with ceil(50 / 2 / 10) = 3.
        assert_eq!(schedule(Duration::from_millis(50), 10, 2e6), vec![3; 10]);
    }

    #[test]
    fn samples_are_linear_in_the_step() {
        let plan = WallPlan { warm_up: Duration::from_millis(1), measurement: Duration::from_millis(5), samples: 5 };
        let calls = std::cell::RefCell::new(Vec::new());
        let mut warm_up_calls = None;
        let mut run = |n: u64| {
            calls.borrow_mut().push(n);
            std::thread::sleep(Duration::from_micros(100));
            (Duration::from_nanos(n.saturating_mul(100)), 2)
        };
        let s = sample(&plan, &mut run, &mut || warm_up_calls = Some(calls.borrow().len()));
        // `measuring` was called once, after the warm-up's calls and before the 5 samples.
        assert_eq!(warm_up_calls, Some(calls.borrow().len() - 5));
        let d = s.iters[0];
        assert_eq!(s.iters, vec![d, 2 * d, 3 * d, 4 * d, 5 * d]);
        assert_eq!(s.ns, s.iters.iter().map(|n| n * 100).collect::<Vec<_>>());
        assert!(s.warmup_iters >= 1);
        // Intervals are counted over the samples only, and the process calibrated after them.
        assert_eq!(s.calibration.map(|c| c.intervals), Some(10));
    }
}
