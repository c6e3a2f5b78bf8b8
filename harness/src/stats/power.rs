//! Power of the wall lane's tests, and the minimum detectable effect (MDE) it implies: the true ratio
//! that a benchmark's comparison detects with the stated power at the alpha actually applied to it, with
//! the sign test's discreteness (its p-value over n rounds cannot go below 2/2^n) and the rule that the
//! estimate must exceed the threshold.
//!
//! The model: a round's log ratio is the true log ratio plus noise symmetric about 0 (base and head
//! alternate in a random order), of the scale [`robust_sigma`] estimates from the rounds and of the
//! shape the job's confirmation rounds show ([`Noise`]; the normal where there are too few). The
//! sign test counts positive rounds, K ~ Bin(n, q) with q = F(δ/σ), F the shape's distribution
//! (Φ for the normal), and rejects at level α when K or n - K is at
//! most the critical count ([`sign_critical`]); the estimate (the median log ratio) is near normal with
//! standard error 1.2533 σ/√n. The power of "significant and estimate beyond the threshold" is taken as
//! the product of the two probabilities; they are positively correlated, so the product is a lower bound
//! and the stated MDE errs towards larger. `compare::sim` (compare_sim.rs) simulates the whole gate and
//! checks that the power at the stated MDE lies between 0.7 and 0.9.

/// `P(Bin(n, q) = k)` for k in 0..=n.
pub fn binomial_pmf(n: usize, q: f64) -> Vec<f64> {
    let mut pmf = vec![0.0; n + 1];
    pmf[0] = 1.0;
    for _ in 0..n {
        for k in (1..=n).rev() {
            pmf[k] = pmf[k] * (1.0 - q) + pmf[k - 1] * q;
        }
        pmf[0] *= 1.0 - q;
    }
    pmf
}

/// The sign test's critical count at two-sided level `alpha` over `n` rounds: the largest `c` with
/// `2 P(Bin(n, 1/2) <= c) <= alpha`, so that it rejects when K <= c or K >= n - c. `None` when no count
/// reaches `alpha` (too few rounds: even all rounds of one sign give p = 2/2^n).
pub fn sign_critical(n: usize, alpha: f64) -> Option<usize> {
    let mut cum = 0.0;
    let mut last = None;
    for (k, p) in binomial_pmf(n, 0.5).into_iter().enumerate().take(n.div_ceil(2)) {
        cum += p;
        if 2.0 * cum > alpha * (1.0 + 1e-12) {
            break;
        }
        last = Some(k);
    }
    last
}

/// The fewest rounds, up to `max`, over which the sign test can reject at two-sided level `alpha` at all
/// (all rounds of one sign: p = 2/2^n); `None` when `max` rounds cannot. Rounds below it are spent in
/// vain: they cannot make a change significant, however large.
pub fn sign_floor(alpha: f64, max: usize) -> Option<usize> {
    (1..=max).find(|&n| sign_critical(n, alpha).is_some())
}

/// The probability that the sign test over `n` rounds rejects at two-sided level `alpha` when each round
/// is positive with probability `q`. Zero when `n` rounds cannot reach `alpha`.
pub fn sign_power(n: usize, alpha: f64, q: f64) -> f64 {
    sign_critical(n, alpha).map_or(0.0, |c| power_at(n, c, q))
}

/// `P(K <= c) + P(K >= n - c)` for K ~ Bin(n, q): the rejection probability at critical count `c`.
fn power_at(n: usize, c: usize, q: f64) -> f64 {
    (lower_tail(n, c, q) + lower_tail(n, c, 1.0 - q)).min(1.0)
}

/// `P(Bin(n, q) <= c)`, summed from k = 0 with the ratio of successive terms (c + 1 terms, where the
/// whole distribution would take n^2 steps); a term too small for a double is 0, as it should be.
fn lower_tail(n: usize, c: usize, q: f64) -> f64 {
    if q <= 0.0 {
        return 1.0;
    }
    if q >= 1.0 {
        return if c >= n { 1.0 } else { 0.0 };
    }
    let mut term = (1.0 - q).powi(n as i32);
    let mut sum = term;
    for k in 0..c.min(n) {
        term *= (n - k) as f64 / (k + 1) as f64 * q / (1.0 - q);
        sum += term;
    }
    sum
}

/// The order statistics (from 0) that bound the sign test's interval of the median over `n` rounds,
/// `c` and `n - 1 - c`, and the interval's exact coverage `1 - 2 P(Bin(n, 1/2) < c + 1)` for continuous
/// data. The nominal level is 95%; below 6 rounds no interval reaches it and the range (c = 0) stands
/// in, with its lower coverage.
pub fn sign_interval(n: usize) -> (usize, f64) {
    let c = sign_critical(n, 0.05).unwrap_or(0).min(n.saturating_sub(1) / 2);
    // θ lies below d_(c) when at most c of the ratios are below it, and above d_(n-1-c) likewise.
    let miss: f64 = binomial_pmf(n, 0.5)[..=c].iter().sum();
    (c, 1.0 - 2.0 * miss)
}

/// The standard normal CDF (statrs).
pub fn normal_cdf(x: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    Normal::standard().cdf(x)
}

/// A robust scale of log ratios: the median absolute deviation from their median, times 1.4826 (the
/// normal's consistency factor) and Croux & Rousseeuw's small-sample correction ("Time-efficient
/// algorithms for two highly robust estimators of scale", 1992: b_n for n <= 9, else n / (n - 0.8)).
/// Robust because a round now and then lies 10-50% off; the sign test ignores how far, and so does this.
pub fn robust_sigma(d: &[f64]) -> f64 {
    let n = d.len();
    if n < 2 {
        return 0.0;
    }
    let m = super::median(d);
    let dev: Vec<f64> = d.iter().map(|x| (x - m).abs()).collect();
    let b = match n {
        2 => 1.196,
        3 => 1.495,
        4 => 1.363,
        5 => 1.206,
        6 => 1.200,
        7 => 1.140,
        8 => 1.129,
        9 => 1.107,
        _ => n as f64 / (n as f64 - 0.8),
    };
    b * 1.4826 * super::median(&dev)
}

/// The smallest log shift δ >= `from` with `power(δ) >= target`, for a `power` that grows with δ; `None`
/// when even a shift of 2 (a factor of 7.4) does not reach it.
pub fn smallest_shift(power: impl Fn(f64) -> f64, from: f64, target: f64) -> Option<f64> {
    let (mut lo, mut hi) = (from, from + 2.0);
    if power(hi) < target {
        return None;
    }
    if power(lo) >= target {
        return Some(lo);
    }
    // 40 halvings of [from, from + 2]: 2e-12 in the log, far below any figure shown.
    for _ in 0..40 {
        let mid = 0.5 * (lo + hi);
        if power(mid) >= target { hi = mid } else { lo = mid }
    }
    Some(hi)
}

/// One stage of paired rounds: `n` rounds, tested at two-sided `alpha`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stage {
    pub rounds: usize,
    pub alpha: f64,
}

/// The noise of a round's log ratio: its scale `sigma` ([`robust_sigma`]) and its shape, the
/// standardized residuals (a round's log ratio less its benchmark's median, over its benchmark's scale)
/// pooled from the job's rounds, sorted; empty for the normal. Real rounds are not normal: on this
/// repository's VM 12% of rounds lie more than 3 scales off their benchmark's median (a normal puts
/// 0.3% there), and such a round's sign says nothing of a change, so the normal overstates what the
/// sign test detects (docs/real-runs.md).
#[derive(Debug, Clone, Copy)]
pub struct Noise<'a> {
    pub sigma: f64,
    pub shape: &'a [f64],
}

impl Noise<'_> {
    /// Normal noise of scale `sigma`.
    pub fn normal(sigma: f64) -> Noise<'static> {
        Noise { sigma, shape: &[] }
    }

    /// The probability that a round's log ratio is positive for a true shift `delta`.
    fn positive(&self, delta: f64) -> f64 {
        if self.sigma <= 0.0 {
            return if delta > 0.0 { 1.0 } else { 0.5 };
        }
        let t = delta / self.sigma;
        if self.shape.is_empty() {
            return normal_cdf(t);
        }
        // The share of residuals above -t.
        let at_or_below = self.shape.partition_point(|z| *z <= -t);
        1.0 - at_or_below as f64 / self.shape.len() as f64
    }
}

/// The standardized residuals of `d` (log ratios of one benchmark's rounds): `(x - median) / scale`,
/// none when the scale is 0. What [`Noise::shape`] pools.
pub fn residuals(d: &[f64]) -> Vec<f64> {
    let sigma = robust_sigma(d);
    if sigma <= 0.0 {
        return Vec::new();
    }
    let m = super::median(d);
    d.iter().map(|x| (x - m) / sigma).collect()
}

/// The probability that a stage's sign test rejects for a true log shift `delta`.
pub fn stage_power(s: Stage, noise: Noise<'_>, delta: f64) -> f64 {
    sign_critical(s.rounds, s.alpha).map_or(0.0, |c| power_at(s.rounds, c, noise.positive(delta)))
}

/// The probability that the median of `n` log ratios with scale `sigma` lies beyond `log_threshold` for a
/// true shift `delta` (the normal's standard error of a median: a small term where noise is large).
pub fn beyond_threshold(n: usize, sigma: f64, delta: f64, log_threshold: f64) -> f64 {
    if sigma == 0.0 || n == 0 {
        return if delta > log_threshold { 1.0 } else { 0.0 };
    }
    let se = 1.2533 * sigma / (n as f64).sqrt();
    normal_cdf((delta - log_threshold) / se)
}

/// The MDE, as a ratio, of the paired gate: a change is flagged when every stage in `stages` rejects
/// (a screen, then a confirmation on fresh rounds; or one stage) and the last stage's estimate exceeds
/// the threshold. `None` when no ratio up to 7.4 reaches `power` (a stage has too few rounds for its
/// alpha).
pub fn paired_mde(stages: &[Stage], noise: Noise<'_>, threshold: f64, power: f64) -> Option<f64> {
    let last = stages.last()?;
    let critical: Vec<(usize, usize)> =
        stages.iter().map(|s| sign_critical(s.rounds, s.alpha).map(|c| (s.rounds, c))).collect::<Option<_>>()?;
    let lt = threshold.ln_1p();
    let p = |delta: f64| {
        let q = noise.positive(delta);
        critical.iter().map(|&(n, c)| power_at(n, c, q)).product::<f64>()
            * beyond_threshold(last.rounds, noise.sigma, delta, lt)
    };
    smallest_shift(p, 0.0, power).map(f64::exp)
}

/// How many of `n` confirmation rounds to judge on: of the counts from the fewest rounds with `n`'s
/// critical count up to `n`, the one whose stated MDE (the gate of [`paired_mde`], `screen` before it,
/// at `alpha`, for `noise`) is smallest, the larger on a tie. The sign test is discrete: over more
/// rounds with the same critical count it allows the same number of rounds of the minority sign among
/// more, so it detects less (at alpha 0.05/42 it rejects with at most 1 round of 15 to 18 against, and
/// with at most 2 from 19: a true +6.7% at noise 5% is detected with probability 0.56 over 15 rounds,
/// 0.47 over 18, 0.72 over 19); only the estimate's distance from the threshold gains from the extra
/// rounds. `n` when `n` rounds cannot reach `alpha`.
pub fn judged_rounds(screen: Stage, n: usize, noise: Noise<'_>, alpha: f64, threshold: f64, power: f64) -> usize {
    let Some(critical) = sign_critical(n, alpha) else { return n };
    let fewest = (1..n).rev().take_while(|&k| sign_critical(k, alpha) == Some(critical)).last().unwrap_or(n);
    if fewest == n {
        return n;
    }
    let mde = |k: usize| paired_mde(&[screen, Stage { rounds: k, alpha }], noise, threshold, power);
    let mut best = (mde(n).unwrap_or(f64::INFINITY), n);
    for k in (fewest..n).rev() {
        if let Some(m) = mde(k).filter(|m| *m < best.0) {
            best = (m, k);
        }
    }
    best.1
}

/// The fewest confirmation rounds, up to `max`, with which the two-stage gate (a screen of
/// `screen_rounds` at [`super::rounds::SCREEN_P`], then a confirmation at `alpha`) detects the ratio
/// `target` with `power`, for normal noise of scale `sigma` (a plan, made before the confirmation rounds
/// that show the noise's shape); `None` if `max` rounds do not.
pub fn confirm_rounds_needed(
    sigma: f64,
    screen_rounds: usize,
    alpha: f64,
    threshold: f64,
    target: f64,
    power: f64,
    max: usize,
) -> Option<usize> {
    let screen = Stage { rounds: screen_rounds, alpha: super::rounds::SCREEN_P };
    (3..=max).find(|&n| {
        paired_mde(&[screen, Stage { rounds: n, alpha }], Noise::normal(sigma), threshold, power)
            .is_some_and(|m| m <= target)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::reference::{cases, close};

    #[test]
    fn critical_counts_and_power_match_scipy_binom() {
        let all = cases("sign_power");
        assert!(all.len() >= 8);
        for c in all {
            let n = c["n"].as_u64().unwrap() as usize;
            let (alpha, q) = (c["alpha"].as_f64().unwrap(), c["q"].as_f64().unwrap());
            let critical = c["critical"].as_i64().unwrap();
            assert_eq!(sign_critical(n, alpha).map_or(-1, |c| c as i64), critical, "n {n} alpha {alpha}");
            let power = sign_power(n, alpha, q);
            assert!(close(power, c["power"].as_f64().unwrap()), "n {n} alpha {alpha} q {q}: {power} vs {}", c["power"]);
            let (_, level) = sign_interval(n);
            assert!(close(level, c["level"].as_f64().unwrap()), "n {n}: level {level} vs {}", c["level"]);
        }
    }

    #[test]
    fn rounds_beyond_the_fewest_with_the_same_critical_count_are_not_judged_when_they_detect_less() {
        // At alpha 0.05/42 the sign test allows no round against from 11 rounds to 14, 1 from 15 to 18, 2
        // from 19 to 21.
        let alpha = 0.05 / 42.0;
        assert_eq!(
            (14..=22).map(|n| sign_critical(n, alpha)).collect::<Vec<_>>(),
            [Some(0), Some(1), Some(1), Some(1), Some(1), Some(2), Some(2), Some(2), Some(3)]
        );
        // scipy: 1 - binom.cdf(c, n, 1 - q) for q = norm.cdf(ln(1.067) / 0.05).
        let q = normal_cdf(1.067f64.ln() / 0.05);
        for (n, p) in [(15, 0.563_474), (18, 0.465_682), (19, 0.719_876)] {
            assert!((sign_power(n, alpha, q) - p).abs() < 1e-5, "n {n}: {}", sign_power(n, alpha, q));
        }
        let screen = Stage { rounds: 11, alpha: crate::stats::rounds::SCREEN_P };
        let judged = |n| judged_rounds(screen, n, Noise::normal(0.05), alpha, 0.01, 0.8);
        assert_eq!((14..=22).map(judged).collect::<Vec<_>>(), [11, 15, 15, 15, 15, 19, 19, 19, 22]);
        // The count judged never states a larger MDE than all the rounds would.
        for n in 3..=30 {
            let mde = |k| {
                paired_mde(&[screen, Stage { rounds: k, alpha }], Noise::normal(0.05), 0.01, 0.8)
                    .unwrap_or(f64::INFINITY)
            };
            assert!(mde(judged(n)) <= mde(n), "n {n}");
        }
        // Too few rounds for the alpha: all of them (none can be flagged either way).
        assert_eq!(judged_rounds(screen, 8, Noise::normal(0.05), alpha, 0.01, 0.8), 8);
    }

    /// The `p`-quantile of the standard normal, by bisection of [`normal_cdf`].
    fn normal_quantile(p: f64) -> f64 {
        let (mut lo, mut hi) = (-10.0, 10.0);
        for _ in 0..80 {
            let mid = 0.5 * (lo + hi);
            if normal_cdf(mid) < p { lo = mid } else { hi = mid }
        }
        0.5 * (lo + hi)
    }

    #[test]
    fn the_noise_shape_gives_the_share_of_positive_rounds_and_outliers_lower_it() {
        let quantiles = |n: usize| (0..n).map(|i| normal_quantile((i as f64 + 0.5) / n as f64)).collect::<Vec<_>>();
        let normal = quantiles(2000);
        // 12% of rounds 8 scales off, half each way: such a round is positive whatever the change.
        let mut tailed = quantiles(1760);
        tailed.extend([8.0; 240].iter().zip(0..).map(|(z, i)| if i % 2 == 0 { *z } else { -z }));
        tailed.sort_by(f64::total_cmp);
        for t in [-2.0, -0.5, 0.0, 0.7, 1.5, 2.5] {
            let shaped = Noise { sigma: 0.05, shape: &normal }.positive(t * 0.05);
            assert!((shaped - normal_cdf(t)).abs() < 1e-3, "t {t}: {shaped}");
            let expected = 0.88 * normal_cdf(t) + 0.06;
            let with_outliers = Noise { sigma: 0.05, shape: &tailed }.positive(t * 0.05);
            assert!((with_outliers - expected).abs() < 1e-3, "t {t}: {with_outliers} vs {expected}");
        }
        let stages =
            [Stage { rounds: 11, alpha: crate::stats::rounds::SCREEN_P }, Stage { rounds: 30, alpha: 0.05 / 26.0 }];
        let mde = |shape: &[f64]| paired_mde(&stages, Noise { sigma: 0.08, shape }, 0.01, 0.8).unwrap();
        assert!((mde(&normal) / mde(&[]) - 1.0).abs() < 0.002, "{} vs {}", mde(&normal), mde(&[]));
        assert!(mde(&tailed) > mde(&[]) + 0.02, "{} vs {}", mde(&tailed), mde(&[]));
        // The residuals of a benchmark's rounds: centred on the median, over the robust scale.
        let r = residuals(&[0.01, 0.02, 0.03, 0.04, 0.05]);
        assert_eq!(r.len(), 5);
        assert_eq!(r[2], 0.0);
        assert!((r[4] * robust_sigma(&[0.01, 0.02, 0.03, 0.04, 0.05]) - 0.02).abs() < 1e-12);
        assert!(residuals(&[0.01; 6]).is_empty());
    }

    #[test]
    fn too_few_rounds_for_the_alpha_detect_nothing() {
        // 10 rounds: the smallest p is 2/1024 = 0.00195; a Bonferroni share of 0.05 over 30 is 0.00167.
        assert_eq!(sign_critical(10, 0.05 / 30.0), None);
        assert_eq!(paired_mde(&[Stage { rounds: 10, alpha: 0.05 / 30.0 }], Noise::normal(0.01), 0.01, 0.8), None);
        assert_eq!(sign_critical(11, 0.05 / 30.0), Some(0));
        // 2/2^11 = 9.8e-4 <= 0.05/30 = 1.7e-3 < 2/2^10: eleven rounds are the floor.
        assert_eq!(sign_floor(0.05 / 30.0, 30), Some(11));
        assert_eq!(sign_floor(0.05 / 30.0, 10), None);
        // 1,000 benchmarks, a fifth of them candidates: 2/2^13 = 2.44e-4 > 0.05/220 = 2.27e-4.
        assert_eq!(sign_floor(0.05 / 220.0, 30), Some(14));
        // README's other example: 7 candidates, 2/2^9 = 3.9e-3 <= 0.05/7 = 7.1e-3 < 2/2^8.
        assert_eq!(sign_floor(0.05 / 7.0, 30), Some(9));
        assert!(paired_mde(&[Stage { rounds: 11, alpha: 0.05 / 30.0 }], Noise::normal(0.01), 0.01, 0.8).is_some());
    }

    #[test]
    fn the_mde_shrinks_with_rounds_and_grows_with_the_correction() {
        let mde = |n, alpha| paired_mde(&[Stage { rounds: n, alpha }], Noise::normal(0.01), 0.01, 0.8).unwrap();
        let mut last = f64::INFINITY;
        for n in [8, 12, 16, 20, 30, 40] {
            let m = mde(n, 0.05);
            assert!(m < last, "{n}: {m} after {last}");
            last = m;
        }
        assert!(mde(20, 0.05 / 181.0) > mde(20, 0.05));
        // Never below the threshold: the estimate must exceed it.
        assert!(mde(40, 0.05) > 1.01);
    }

    #[test]
    fn robust_sigma_is_near_the_normal_scale_and_ignores_a_wild_round() {
        let mut rng = crate::stats::SplitMix64::new(3);
        let mut normal = || {
            let u1 = ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
            let u2 = ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
            (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
        };
        for n in [6, 10, 30] {
            let mut s: Vec<f64> = (0..2000)
                .map(|_| {
                    let d: Vec<f64> = (0..n).map(|_| 0.01 * normal()).collect();
                    robust_sigma(&d)
                })
                .collect();
            s.sort_by(f64::total_cmp);
            let mean = s.iter().sum::<f64>() / s.len() as f64;
            assert!((mean - 0.01).abs() < 0.0008, "n {n}: mean {mean}");
        }
        let mut d: Vec<f64> = (0..12).map(|i| 0.001 * (i as f64 - 5.5)).collect();
        let before = robust_sigma(&d);
        d[3] = 0.5;
        assert!(robust_sigma(&d) < 1.5 * before);
    }
}
