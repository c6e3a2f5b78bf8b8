//! Pure statistics: estimators over samples. No I/O, no clocks, deterministic (bootstrap resampling
//! uses a fixed seed so the same samples always give the same interval).
//!
//! Invariants the callers uphold: sample slices are non-empty and hold finite values.

pub mod changepoint;
pub mod fdr;
pub mod noise;
pub mod power;
pub mod rank;
pub mod rounds;

use crate::measure::latency::LatencySamples;
use crate::measure::overhead::Calibration;
use crate::measure::wall::WallSamples;
use crate::model::{LatencySummary, Overhead, WallEstimate};

/// Bootstrap resamples for confidence intervals (criterion uses 100,000; 10,000 gives percentile
/// bounds stable to well under the sampling noise of 20-100 samples, at a fraction of the cost).
const BOOTSTRAP_RESAMPLES: usize = 10_000;
const BOOTSTRAP_SEED: u64 = 0x5eed_be9c_6a7e_0001;

/// The percentiles, mean and maximum of recorded latencies. Percentiles are nearest-rank (numpy's
/// `inverted_cdf` method): the smallest kept value with at least `p` of the kept values at or below it,
/// always a latency that was observed.
pub fn latency_summary(l: &LatencySamples) -> LatencySummary {
    let mut kept = l.kept.clone();
    kept.sort_unstable();
    let rank = |p: f64| -> f64 {
        if kept.is_empty() {
            return 0.0;
        }
        let i = ((p * kept.len() as f64).ceil() as usize).clamp(1, kept.len()) - 1;
        kept[i] as f64
    };
    LatencySummary {
        count: l.count,
        kept: kept.len() as u64,
        mean: if l.count == 0 { 0.0 } else { l.sum_ns / l.count as f64 },
        p50: rank(0.50),
        p95: rank(0.95),
        p99: rank(0.99),
        max: l.max_ns as f64,
    }
}

/// Turns raw wall samples into the estimate stored in results.
pub fn wall_estimate(s: &WallSamples) -> WallEstimate {
    let per_op: Vec<f64> = s.ns.iter().zip(&s.iters).map(|(&ns, &n)| ns as f64 / n as f64).collect();
    let x: Vec<f64> = s.iters.iter().map(|&n| n as f64).collect();
    let y: Vec<f64> = s.ns.iter().map(|&ns| ns as f64).collect();
    WallEstimate {
        median: median(&per_op),
        mean: mean(&per_op),
        slope: slope_through_origin(&x, &y),
        std_dev: std_dev(&per_op),
        ci95: bootstrap_median_ci(&per_op, 0.95),
        samples: per_op,
        sample_iters: s.iters.clone(),
        warmup_iters: s.warmup_iters,
        rounds: Vec::new(),
        confirm_from: None,
    }
}

/// What the wall measurement of `s` cost as a share of its median ns/op, from the calibration the
/// samples carry: the timer's intervals over the samples' iterations times what an interval adds. The
/// allocation counter's share needs the alloc lane's figure: [`overhead_alloc_share`] adds it. `None`
/// without a calibration, iterations or a positive median.
pub fn overhead(s: &WallSamples, median_ns: f64) -> Option<Overhead> {
    let c: &Calibration = s.calibration.as_ref()?;
    let iters: u64 = s.iters.iter().sum();
    if iters == 0 || median_ns.is_nan() || median_ns <= 0.0 {
        return None;
    }
    let intervals_per_op = c.intervals as f64 / iters as f64;
    Some(Overhead {
        intervals_per_op,
        timer_ns: c.timer_ns,
        timer_share: intervals_per_op * c.timer_ns / median_ns,
        alloc_pair_ns: c.alloc_pair_ns,
        alloc_share: None,
    })
}

/// Sets the allocation counter's share of `o`: every allocation (and its free) of an op pays
/// `alloc_pair_ns` in the wall lane, set against the median ns/op.
pub fn overhead_alloc_share(o: &mut Overhead, allocs_per_op: Option<f64>, median_ns: f64) {
    o.alloc_share = match (allocs_per_op, o.alloc_pair_ns) {
        (Some(a), Some(pair)) if median_ns > 0.0 => Some(a * pair / median_ns),
        _ => None,
    };
}

/// The calibrations of several wall processes of one benchmark as one: intervals add up, the costs are
/// the medians over the processes (the lower middle one for an even count: a value one process
/// measured). `None` if none calibrated (bench binaries built with a benchgate before calibration).
pub fn merge_calibrations(calibrations: &[Calibration]) -> Option<Calibration> {
    if calibrations.is_empty() {
        return None;
    }
    let median = |mut v: Vec<f64>| -> Option<f64> {
        v.sort_by(f64::total_cmp);
        v.get(v.len().saturating_sub(1) / 2).copied()
    };
    Some(Calibration {
        intervals: calibrations.iter().map(|c| c.intervals).sum(),
        timer_ns: median(calibrations.iter().map(|c| c.timer_ns).collect())?,
        alloc_pair_ns: median(calibrations.iter().filter_map(|c| c.alloc_pair_ns).collect()),
    })
}

pub fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Sample standard deviation (n - 1 in the denominator); 0 for a single value.
pub fn std_dev(xs: &[f64]) -> f64 {
    if xs.len() < 2 {
        return 0.0;
    }
    let m = mean(xs);
    (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64).sqrt()
}

/// Median (the mean of the two middle values for an even count), as numpy.median.
pub fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    median_sorted(&v)
}

fn median_sorted(v: &[f64]) -> f64 {
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
}

/// Ordinary least squares of `y = b * x` (no intercept): criterion's slope estimate for linear
/// sampling, `b = sum(x*y) / sum(x*x)`.
pub fn slope_through_origin(x: &[f64], y: &[f64]) -> f64 {
    let xy: f64 = x.iter().zip(y).map(|(a, b)| a * b).sum();
    let xx: f64 = x.iter().map(|a| a * a).sum();
    xy / xx
}

/// Percentile-bootstrap confidence interval of the median (Efron & Tibshirani, "An Introduction to the
/// Bootstrap", ch. 13), with a fixed seed.
pub fn bootstrap_median_ci(xs: &[f64], level: f64) -> [f64; 2] {
    if xs.len() < 2 {
        return [xs[0], xs[0]];
    }
    let mut rng = SplitMix64::new(BOOTSTRAP_SEED);
    let mut resample = ResampledMedian::new(xs);
    let mut medians: Vec<f64> = (0..BOOTSTRAP_RESAMPLES).map(|_| resample.draw(&mut rng)).collect();
    medians.sort_by(f64::total_cmp);
    let alpha = (1.0 - level) / 2.0;
    [quantile_sorted(&medians, alpha), quantile_sorted(&medians, 1.0 - alpha)]
}

/// Medians of bootstrap resamples of `xs`: the values a resample's sorted median would give, from the
/// same draws of `rng` (one index per value, in order), without sorting each resample. The values are
/// sorted once; a resample is a count per sorted position, and its median is read off the running
/// count. O(n) per resample instead of O(n log n): the bootstrap is most of what comparing files
/// without rounds costs (measured: 78% of `compare`'s time was the resamples' sorts).
pub(crate) struct ResampledMedian {
    sorted: Vec<f64>,
    /// The sorted position of each value of `xs`, by its index in `xs`.
    position: Vec<usize>,
    counts: Vec<u32>,
}

impl ResampledMedian {
    /// Requires at least one value.
    pub(crate) fn new(xs: &[f64]) -> Self {
        let mut order: Vec<usize> = (0..xs.len()).collect();
        order.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]));
        let mut position = vec![0; xs.len()];
        for (p, &i) in order.iter().enumerate() {
            position[i] = p;
        }
        let sorted = order.iter().map(|&i| xs[i]).collect();
        ResampledMedian { sorted, position, counts: vec![0; xs.len()] }
    }

    /// The median of one resample drawn with `rng`.
    pub(crate) fn draw(&mut self, rng: &mut SplitMix64) -> f64 {
        let n = self.sorted.len();
        self.counts.fill(0);
        for _ in 0..n {
            self.counts[self.position[rng.below(n as u64) as usize]] += 1;
        }
        // The resample's values at sorted places `lo` and `hi` (equal for odd n).
        let (lo, hi) = if n % 2 == 1 { (n / 2, n / 2) } else { (n / 2 - 1, n / 2) };
        let (mut seen, mut low) = (0usize, None);
        for (p, c) in self.counts.iter().enumerate() {
            seen += *c as usize;
            if low.is_none() && seen > lo {
                low = Some(self.sorted[p]);
            }
            if seen > hi {
                let low = low.unwrap_or(self.sorted[p]);
                return if lo == hi { low } else { (low + self.sorted[p]) / 2.0 };
            }
        }
        unreachable!("a resample has n values")
    }
}

/// Linear-interpolation quantile of sorted values (numpy's default method, "linear").
pub fn quantile_sorted(v: &[f64], q: f64) -> f64 {
    let pos = q.clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

/// SplitMix64 (Steele, Lea & Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014):
/// small, fast and good enough for resampling.
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (Lemire's multiply-shift; the bias is below 2^-32 for the sizes used here).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
}

/// Reference cases computed by scipy and statsmodels (`scripts/stats_reference.py`) and the tolerance
/// the tests hold them to.
#[cfg(test)]
pub(crate) mod reference {
    pub(crate) fn cases(family: &str) -> Vec<serde_json::Value> {
        let doc: serde_json::Value = serde_json::from_str(include_str!("reference_cases.json")).unwrap();
        doc[family].as_array().unwrap().clone()
    }

    pub(crate) fn floats(v: &serde_json::Value) -> Vec<f64> {
        v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
    }

    /// |ours - reference| <= 1e-9, and relatively 1e-9 when the reference is below 1e-6.
    pub(crate) fn close(ours: f64, theirs: f64) -> bool {
        let d = (ours - theirs).abs();
        d <= 1e-9 && (theirs.abs() >= 1e-6 || d <= 1e-9 * theirs.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_adds_intervals_and_takes_medians() {
        let c = |intervals, timer_ns, alloc_pair_ns| Calibration { intervals, timer_ns, alloc_pair_ns };
        let merged = merge_calibrations(&[c(10, 30.0, Some(4.0)), c(20, 20.0, None), c(5, 25.0, Some(2.0))]).unwrap();
        assert_eq!(merged, c(35, 25.0, Some(2.0)));
        assert_eq!(merge_calibrations(&[c(1, 9.0, None)]).unwrap(), c(1, 9.0, None));
        assert_eq!(merge_calibrations(&[]), None);
    }

    // Expected values from numpy 1.26 (np.median, np.mean, np.std(ddof=1), np.quantile).
    #[test]
    fn estimators_match_numpy() {
        let xs = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0];
        assert_eq!(median(&xs), 3.5);
        assert_eq!(mean(&xs), 3.875);
        assert!((std_dev(&xs) - 2.748376143).abs() < 1e-9);
        let mut s = xs.to_vec();
        s.sort_by(f64::total_cmp);
        assert!((quantile_sorted(&s, 0.9) - 6.9).abs() < 1e-12);
        assert_eq!(median(&[2.0, 1.0, 3.0]), 2.0);
    }

    /// The bootstrap's medians without sorting are the sorted resamples' medians, exactly.
    #[test]
    fn resampled_medians_equal_the_sorted_resamples_medians() {
        let mut data = SplitMix64::new(7);
        for n in [1usize, 2, 3, 4, 7, 20, 21, 64] {
            // Ties included: values from a small set.
            let xs: Vec<f64> = (0..n).map(|_| 100.0 + (data.below(9) as f64) * 0.5).collect();
            let (mut a, mut b) = (SplitMix64::new(11), SplitMix64::new(11));
            let mut fast = ResampledMedian::new(&xs);
            let mut buf = vec![0.0; n];
            for _ in 0..500 {
                for slot in buf.iter_mut() {
                    *slot = xs[b.below(n as u64) as usize];
                }
                buf.sort_by(f64::total_cmp);
                assert_eq!(fast.draw(&mut a).to_bits(), median_sorted(&buf).to_bits(), "n = {n}");
            }
        }
    }

    #[test]
    fn slope_recovers_a_linear_cost() {
        let x = [1.0, 2.0, 3.0, 4.0];
        let y = [10.0, 20.0, 30.0, 40.0];
        assert_eq!(slope_through_origin(&x, &y), 10.0);
    }

    #[test]
    fn bootstrap_interval_brackets_the_median_and_is_deterministic() {
        let xs: Vec<f64> = (0..50).map(|i| 100.0 + f64::from(i % 7)).collect();
        let ci = bootstrap_median_ci(&xs, 0.95);
        let m = median(&xs);
        assert!(ci[0] <= m && m <= ci[1], "{ci:?} vs {m}");
        assert_eq!(ci, bootstrap_median_ci(&xs, 0.95));
        assert_eq!(bootstrap_median_ci(&[5.0, 5.0, 5.0], 0.95), [5.0, 5.0]);
    }
}
