//! Rank-based comparison of two samples: the Mann-Whitney U test, a bootstrap interval for the ratio
//! of medians, and the smallest shift a rank test can be expected to detect. Pure functions: no I/O,
//! no clocks, deterministic (the bootstrap uses a fixed seed).
//!
//! Invariants the callers uphold: both samples are non-empty and hold finite values; for the ratio
//! functions the values are positive (times, counts), so medians are positive.

use super::{BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, ResampledMedian, SplitMix64, median, quantile_sorted};

/// Result of a two-sided Mann-Whitney U test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankTest {
    /// U statistic of the first sample, `U1 = R1 - n1(n1+1)/2` with `R1` the sum of its midranks in
    /// the pooled sample (scipy's definition); `U1 + U2 = n1*n2`.
    pub u: f64,
    /// Two-sided p-value, in `[0, 1]`.
    pub p_value: f64,
}

/// Two-sided Mann-Whitney U test (Mann & Whitney, Ann. Math. Statist. 18, 1947), numerically equal to
/// `scipy.stats.mannwhitneyu(x, y, alternative='two-sided')` with its defaults (`use_continuity=True`,
/// `method='auto'`), as of scipy 1.17.
///
/// scipy's `'auto'` rule (`_mwu_choose_method`): the asymptotic method if both samples are larger than
/// 8 (`n1 > 8 && n2 > 8`); otherwise the asymptotic method if the pooled sample has any ties (also
/// ties within one sample); otherwise the exact method. With `U = max(U1, U2)`:
/// - exact: `p = 2 * P(U_null >= U)` under the permutation distribution of U without ties;
/// - asymptotic: `z = (U - n1*n2/2 - 1/2) / s` with the tie-corrected
///   `s = sqrt(n1*n2/12 * ((n+1) - sum(t^3 - t)/(n(n-1))))`, `p = 2 * (1 - Phi(z))`.
///
/// Either way `p` is clipped to `[0, 1]` (it exceeds 1 when `U = n1*n2/2`). When every value is
/// equal, `s = 0`, `z = -inf` and `p = 1`, as in scipy.
pub fn mann_whitney_u(x: &[f64], y: &[f64]) -> RankTest {
    let (n1, n2) = (x.len(), y.len());
    let (ranks, tie_term, ties) = midranks(x, y);
    let r1: f64 = ranks[..n1].iter().sum();
    let (f1, f2) = (n1 as f64, n2 as f64);
    let u1 = r1 - f1 * (f1 + 1.0) / 2.0;
    let u2 = f1 * f2 - u1;
    let u = u1.max(u2);
    let exact = (n1 <= 8 || n2 <= 8) && !ties;
    let p = if exact {
        // Without ties U is an integer; rounding only guards against a stray ulp.
        2.0 * exact_upper_tail(n1, n2, u.round() as usize)
    } else {
        let n = f1 + f2;
        let mu = f1 * f2 / 2.0;
        let s = (f1 * f2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)))).sqrt();
        let z = (u - mu - 0.5) / s;
        2.0 * normal_sf(z)
    };
    RankTest { u: u1, p_value: p.clamp(0.0, 1.0) }
}

/// Midranks (average ranks for ties, 1-based) of the pooled sample `x ++ y`, the tie term
/// `sum(t^3 - t)` over groups of equal values, and whether any group has more than one value.
fn midranks(x: &[f64], y: &[f64]) -> (Vec<f64>, f64, bool) {
    let pooled: Vec<f64> = x.iter().chain(y).copied().collect();
    let mut order: Vec<usize> = (0..pooled.len()).collect();
    order.sort_by(|&a, &b| pooled[a].total_cmp(&pooled[b]));
    let mut ranks = vec![0.0; pooled.len()];
    let mut tie_term = 0.0;
    let mut ties = false;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && pooled[order[end]] == pooled[order[start]] {
            end += 1;
        }
        // Positions start..end (0-based) share the rank mean of start+1..=end.
        let rank = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        let t = (end - start) as f64;
        if end - start > 1 {
            ties = true;
            tie_term += t * t * t - t;
        }
        start = end;
    }
    (ranks, tie_term, ties)
}

/// `P(U >= u)` for the null distribution of U with sample sizes `n1`, `n2` and no ties, for
/// `u >= n1*n2/2` (the caller passes `max(U1, U2)`).
///
/// Method: the number of arrangements with `U = k` is the coefficient of `q^k` in the Gaussian
/// binomial `[n1+n2 choose m]_q = prod_{i=1..m} (1 - q^(n+i)) / (1 - q^i)` with `m = min(n1, n2)`,
/// `n = max(n1, n2)` (Andrews, "The Theory of Partitions", 1976, Thm 3.1; the U distribution as
/// partitions in an m-by-n box goes back to Mann & Whitney 1947). Each factor is a multiplication by
/// `1 - q^(n+i)` and an exact division by `1 - q^i` (a strided running sum), truncated at the degree
/// needed, so the cost is `O(m * k)` time and `O(k)` memory. By symmetry `P(U >= u) = P(U <= n1*n2 - u)`,
/// so only coefficients up to `k = n1*n2 - u` are needed. Counts are exact in i128 while
/// `C(n1+n2, m) < 1e36` (e.g. m = 8 with n up to ~9e4); beyond that f64 counts are used, whose absolute
/// error in the probability stays near machine epsilon because all terms are bounded by the total.
fn exact_upper_tail(n1: usize, n2: usize, u: usize) -> f64 {
    let (m, n) = (n1.min(n2), n1.max(n2));
    let k = (n1 * n2).saturating_sub(u);
    let log10_total: f64 = (1..=m).map(|i| ((n + i) as f64 / i as f64).log10()).sum();
    if log10_total < 36.0 {
        let mut c = vec![0i128; k + 1];
        c[0] = 1;
        let mut total: i128 = 1;
        for i in 1..=m {
            gaussian_factor(&mut c, n + i, i);
            total = total * (n + i) as i128 / i as i128;
        }
        let count: i128 = c.iter().sum();
        count as f64 / total as f64
    } else {
        let mut c = vec![0f64; k + 1];
        c[0] = 1.0;
        let mut total = 1.0;
        for i in 1..=m {
            gaussian_factor(&mut c, n + i, i);
            total = total * (n + i) as f64 / i as f64;
        }
        c.iter().sum::<f64>() / total
    }
}

/// Multiplies the truncated polynomial `c` by `(1 - q^up) / (1 - q^down)` in place.
fn gaussian_factor<T>(c: &mut [T], up: usize, down: usize)
where
    T: Copy + std::ops::AddAssign + std::ops::SubAssign,
{
    for d in (up..c.len()).rev() {
        let v = c[d - up];
        c[d] -= v;
    }
    for d in down..c.len() {
        let v = c[d - down];
        c[d] += v;
    }
}

/// Standard normal survival function `P(Z > x)` with near full double precision in both tails
/// (relative error ~1e-15 down to the underflow of the upper tail near x = 37.5).
///
/// Method: W. J. Cody, "Rational Chebyshev approximations for the error function", Math. Comp. 23
/// (1969), in the form of Cody's ANORM (ACM TOMS Algorithm 715, SPECFUN, 1993) as used by R's
/// `pnorm`: three rational approximations on `|x| <= 0.674`, `<= sqrt(32)` and beyond, and
/// `exp(-x^2/2)` evaluated as `exp(-xs^2/2) * exp(-(x-xs)(x+xs)/2)` with `xs = trunc(16x)/16` so that
/// the exponent is split without cancellation. NaN maps to 1 (callers pass no NaN).
// The coefficients are Cody's published 20-digit values, kept verbatim so they can be checked
// against the source; the compiler rounds them to the nearest f64.
#[allow(clippy::excessive_precision)]
pub(crate) fn normal_sf(x: f64) -> f64 {
    const A: [f64; 5] = [
        2.235_252_035_460_683_928_7,
        161.028_231_068_555_878_81,
        1_067.689_485_460_370_958_2,
        18_154.981_253_343_561_249,
        0.065_682_337_918_207_449_113,
    ];
    const B: [f64; 4] =
        [47.202_581_904_688_241_87, 976.098_551_737_776_693_22, 10_260.932_208_618_978_205, 45_507.789_335_026_729_956];
    const C: [f64; 9] = [
        0.398_941_512_088_134_667_64,
        8.883_149_794_388_375_941_2,
        93.506_656_132_177_855_979,
        597.270_276_394_800_262_26,
        2_494.537_585_290_372_671_1,
        6_848.190_450_536_282_332_6,
        11_602.651_437_647_350_124,
        9_842.714_838_383_978_021_8,
        1.076_557_677_372_019_231_7e-8,
    ];
    const D: [f64; 8] = [
        22.266_688_044_328_115_691,
        235.387_901_782_624_998_61,
        1_519.377_599_407_554_805,
        6_485.558_298_266_760_755,
        18_615.571_640_885_098_091,
        34_900.952_721_145_977_266,
        38_912.003_286_093_271_411,
        19_685.429_676_859_990_727,
    ];
    const P: [f64; 6] = [
        0.215_898_534_057_956_99,
        0.127_401_161_160_247_363_9,
        0.022_235_277_870_649_807,
        0.001_421_619_193_227_893_466,
        2.911_287_495_116_879_2e-5,
        0.023_073_441_764_940_173_03,
    ];
    const Q: [f64; 5] = [
        1.284_260_096_144_911_21,
        0.468_238_212_480_865_118,
        0.065_988_137_868_928_551_5,
        0.003_782_396_332_027_582_44,
        7.297_515_550_839_662_05e-5,
    ];
    const ONE_OVER_SQRT_2PI: f64 = 0.398_942_280_401_432_677_939_946_059_934;
    const SQRT_32: f64 = 5.656_854_249_492_380_195_206_754_896_84;

    // exp(-x^2/2) * r, split as in Cody's ANORM, and the tail it belongs to.
    let gauss_times = |x: f64, r: f64| {
        let xs = (x * 16.0).trunc() / 16.0;
        let del = (x - xs) * (x + xs);
        (-xs * xs * 0.5).exp() * (-del * 0.5).exp() * r
    };
    let y = x.abs();
    if y <= 0.674_489_75 {
        let (mut num, mut den) = (0.0, 0.0);
        if y > f64::EPSILON * 0.5 {
            let xsq = x * x;
            num = A[4] * xsq;
            den = xsq;
            for i in 0..3 {
                num = (num + A[i]) * xsq;
                den = (den + B[i]) * xsq;
            }
        }
        0.5 - x * (num + A[3]) / (den + B[3])
    } else if y <= SQRT_32 {
        let mut num = C[8] * y;
        let mut den = y;
        for i in 0..7 {
            num = (num + C[i]) * y;
            den = (den + D[i]) * y;
        }
        let small = gauss_times(y, (num + C[7]) / (den + D[7]));
        if x > 0.0 { small } else { 1.0 - small }
    } else if -8.2924 < x && x < 37.5193 {
        let xsq = 1.0 / (x * x);
        let mut num = P[5] * xsq;
        let mut den = xsq;
        for i in 0..4 {
            num = (num + P[i]) * xsq;
            den = (den + Q[i]) * xsq;
        }
        let r = xsq * (num + P[4]) / (den + Q[4]);
        let small = gauss_times(x, (ONE_OVER_SQRT_2PI - r) / y);
        if x > 0.0 { small } else { 1.0 - small }
    } else if x > 0.0 {
        0.0
    } else {
        1.0
    }
}

/// Standard normal quantile `Phi^-1(q)` for `0 < q < 1`, by bisection on [`normal_sf`] (monotone, so
/// the result is accurate to the last few ulps of the search; used only for planning, never in a
/// p-value).
pub(crate) fn normal_quantile(q: f64) -> f64 {
    let (mut lo, mut hi) = (-40.0f64, 40.0f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        // Phi(mid) = P(Z <= mid) = sf(-mid).
        if normal_sf(-mid) < q { lo = mid } else { hi = mid }
    }
    0.5 * (lo + hi)
}

/// Percentile-bootstrap confidence interval (Efron & Tibshirani, "An Introduction to the Bootstrap",
/// 1993, ch. 13) of `median(head) / median(base)`: each resample draws `base` and `head` independently
/// with replacement (the samples come from separate processes), 10,000 resamples, fixed seed, so the
/// same inputs always give the same interval. Returns `[lower, upper]` at confidence `level`
/// (e.g. 0.95). Requires positive medians.
pub fn ratio_of_medians_ci(base: &[f64], head: &[f64], level: f64) -> [f64; 2] {
    let mut rng = SplitMix64::new(BOOTSTRAP_SEED);
    let (mut b, mut h) = (ResampledMedian::new(base), ResampledMedian::new(head));
    let mut ratios = Vec::with_capacity(BOOTSTRAP_RESAMPLES);
    for _ in 0..BOOTSTRAP_RESAMPLES {
        // Base's draws first, then head's, as the resamples were always drawn.
        let mb = b.draw(&mut rng);
        ratios.push(h.draw(&mut rng) / mb);
    }
    ratios.sort_by(f64::total_cmp);
    let alpha = (1.0 - level) / 2.0;
    [quantile_sorted(&ratios, alpha), quantile_sorted(&ratios, 1.0 - alpha)]
}

/// Normal-consistent scale of the median absolute deviation (1 / Phi^-1(3/4)).
const MAD_TO_SIGMA: f64 = 1.4826;

/// Smallest relative slowdown, as a ratio `> 1` (1.03 = 3%), that a two-sided rank test at level
/// `alpha` detects with probability `power` when comparing `base` (its dispersion and size) with
/// `head_n` new samples. `f64::INFINITY` when no shift is detectable with these sample sizes; 1.0
/// when `base` has no spread at all.
///
/// Method: Noether's sample-size formula for the Wilcoxon-Mann-Whitney test (Noether, "Sample size
/// determination for some common nonparametric tests", JASA 82, 1987):
/// `N = (z_{1-alpha/2} + z_power)^2 / (12 c (1-c) (p' - 1/2)^2)` with `N = n1 + n2`, `c = n1/N` and
/// `p' = P(Y > X)`. Solved for the effect: `p' - 1/2 = (z_{1-alpha/2} + z_power) / sqrt(12 n1 n2 / N)`.
/// The effect is turned into a location shift through the normal shift model, `p' = Phi(delta /
/// (sigma sqrt 2))`, so `delta = sigma sqrt(2) Phi^-1(p')`. For small shifts this is
/// `delta ~ (z_a + z_b) sigma sqrt(1/n1 + 1/n2) sqrt(pi/3)`: the t-test's detectable shift inflated by
/// the asymptotic relative efficiency 3/pi of the rank test under normality, and it stays sensible for
/// large shifts where the linearisation does not. `sigma` is the MAD of `base` times 1.4826, a robust
/// scale that outliers (common in timings) do not inflate; when the MAD is 0 (more than half of the
/// values equal) the sample standard deviation is used instead. The shift is relative to the median
/// of `base`.
pub fn min_detectable_ratio(base: &[f64], head_n: usize, alpha: f64, power: f64) -> f64 {
    if head_n == 0 {
        return f64::INFINITY;
    }
    let center = median(base);
    let deviations: Vec<f64> = base.iter().map(|v| (v - center).abs()).collect();
    let mut sigma = MAD_TO_SIGMA * median(&deviations);
    if sigma == 0.0 {
        sigma = super::std_dev(base);
    }
    if sigma == 0.0 {
        return 1.0;
    }
    let (n1, n2) = (base.len() as f64, head_n as f64);
    let z = normal_quantile(1.0 - alpha / 2.0) + normal_quantile(power);
    let effect = z / (12.0 * n1 * n2 / (n1 + n2)).sqrt();
    if effect >= 0.5 {
        return f64::INFINITY;
    }
    let delta = sigma * std::f64::consts::SQRT_2 * normal_quantile(0.5 + effect);
    1.0 + delta / center.abs()
}

#[cfg(test)]
mod tests {
    use super::super::reference::{cases, close, floats};
    use super::*;

    #[test]
    fn matches_scipy_reference_cases() {
        let cases = cases("mann_whitney");
        assert!(cases.len() >= 12);
        let mut report = Vec::new();
        for case in &cases {
            let name = case["name"].as_str().unwrap();
            let (x, y) = (floats(&case["x"]), floats(&case["y"]));
            let (u, p) = (case["u"].as_f64().unwrap(), case["p"].as_f64().unwrap());
            let got = mann_whitney_u(&x, &y);
            assert!(close(got.u, u), "{name}: U ours {} scipy {u}", got.u);
            assert!(close(got.p_value, p), "{name}: p ours {:e} scipy {p:e}", got.p_value);
            let rel = if p > 0.0 { (got.p_value - p).abs() / p } else { 0.0 };
            report.push(format!(
                "{name} [{}]: |dU| = {:e}, |dp| = {:e}, rel dp = {rel:e}",
                case["path"].as_str().unwrap(),
                (got.u - u).abs(),
                (got.p_value - p).abs()
            ));
        }
        eprintln!("{}", report.join("\n"));
    }

    #[test]
    fn normal_sf_known_values() {
        // Values from scipy.special.ndtr(-x).
        assert_eq!(normal_sf(0.0), 0.5);
        assert!((normal_sf(1.959963984540054) - 0.025).abs() < 1e-16);
        assert!((normal_sf(-1.0) - 0.8413447460685429).abs() < 1e-15);
        let far = 7.619853024160527e-24; // ndtr(-10)
        assert!((normal_sf(10.0) - far).abs() <= 1e-14 * far);
        assert_eq!(normal_sf(f64::INFINITY), 0.0);
        assert_eq!(normal_sf(f64::NEG_INFINITY), 1.0);
        assert!((normal_quantile(0.975) - 1.959963984540054).abs() < 1e-13);
    }

    /// Seeded random samples: continuous (no ties) or rounded to a few levels (heavy ties), with sizes
    /// that reach both the exact and the asymptotic path.
    fn random_pairs() -> Vec<(Vec<f64>, Vec<f64>)> {
        let mut rng = SplitMix64::new(0x4a11_7e57);
        let mut unit = move || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        (0..200)
            .map(|case| {
                let n1 = 1 + (unit() * 30.0) as usize;
                let n2 = 1 + (unit() * 30.0) as usize;
                let shift = unit();
                let mut draw = |n: usize, s: f64| -> Vec<f64> {
                    (0..n)
                        .map(|_| {
                            let v = unit() + s;
                            if case % 2 == 0 { v } else { (v * 4.0).round() }
                        })
                        .collect()
                };
                let x = draw(n1, 0.0);
                let y = draw(n2, shift);
                (x, y)
            })
            .collect()
    }

    #[test]
    fn a_sample_against_itself_is_not_significant() {
        for (x, _) in random_pairs() {
            let r = mann_whitney_u(&x, &x);
            let n = x.len() as f64;
            assert_eq!(r.u, n * n / 2.0, "{x:?}");
            assert_eq!(r.p_value, 1.0, "{x:?}");
        }
    }

    #[test]
    fn swapping_samples_mirrors_u_and_keeps_p() {
        for (x, y) in random_pairs() {
            let a = mann_whitney_u(&x, &y);
            let b = mann_whitney_u(&y, &x);
            let total = (x.len() * y.len()) as f64;
            assert!((b.u - (total - a.u)).abs() < 1e-9, "{x:?} {y:?}");
            assert!((a.p_value - b.p_value).abs() < 1e-12, "{x:?} {y:?}");
            assert!((0.0..=1.0).contains(&a.p_value));
        }
    }

    #[test]
    fn exact_distribution_sums_to_one_and_is_symmetric() {
        for (n1, n2) in [(1, 1), (3, 5), (8, 8), (4, 40), (8, 3)] {
            // P(U >= 0) = 1; the two-sided p at the centre clips to 1.
            assert!((exact_upper_tail(n1, n2, 0) - 1.0).abs() < 1e-15);
            // P(U >= n1*n2) = 1 / C(n1+n2, n1).
            let total: f64 = (1..=n1).map(|i| (n2 + i) as f64 / i as f64).product();
            assert!((exact_upper_tail(n1, n2, n1 * n2) - 1.0 / total).abs() < 1e-15);
        }
    }

    #[test]
    fn ratio_ci_brackets_the_ratio_and_is_deterministic() {
        let base: Vec<f64> = (0..40).map(|i| 100.0 + f64::from(i % 9)).collect();
        let head: Vec<f64> = (0..30).map(|i| 110.0 + f64::from(i % 7)).collect();
        let ci = ratio_of_medians_ci(&base, &head, 0.95);
        let ratio = median(&head) / median(&base);
        assert!(ci[0] <= ratio && ratio <= ci[1], "{ci:?} vs {ratio}");
        assert!(ci[0] > 1.0, "a 10% slowdown is resolved: {ci:?}");
        assert_eq!(ci, ratio_of_medians_ci(&base, &head, 0.95));
        assert_eq!(ratio_of_medians_ci(&[2.0, 2.0], &[3.0], 0.9), [1.5, 1.5]);
    }

    #[test]
    fn min_detectable_ratio_hand_checked() {
        // base: 90, 95, 100, 105, 110 ten times each: median 100, MAD 5, sigma = 7.413.
        // n1 = n2 = 50, alpha = 0.05, power = 0.8: z = 1.959964 + 0.841621 = 2.801585,
        // p' - 1/2 = 2.801585 / sqrt(12 * 50 * 50 / 100) = 0.1617496,
        // delta = 7.413 * sqrt(2) * Phi^-1(0.6617496) = 7.413 * 1.41421 * 0.417422 = 4.374,
        // ratio = 1.043742 (scipy: 1 + sqrt(2) * norm.ppf(0.5 + d) * 7.413 / 100 = 1.0437419233428078).
        let base: Vec<f64> = (0..50).map(|i| [90.0, 95.0, 100.0, 105.0, 110.0][i % 5]).collect();
        let r = min_detectable_ratio(&base, 50, 0.05, 0.8);
        assert!((r - 1.0437419233428078).abs() < 1e-12, "{r}");
        // Unequal sizes, n1 = 20, n2 = 30 (scipy: 1.065346976338722).
        let r = min_detectable_ratio(&base[..20], 30, 0.05, 0.8);
        assert!((r - 1.065346976338722).abs() < 1e-12, "{r}");
    }

    #[test]
    fn min_detectable_ratio_properties() {
        let mut rng = SplitMix64::new(0x3de);
        let mut unit = move || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let base: Vec<f64> = (0..60).map(|_| 100.0 + 10.0 * unit()).collect();
        let wide: Vec<f64> = base.iter().map(|v| 100.0 + 3.0 * (v - 100.0)).collect();
        let mut last = f64::INFINITY;
        for n in [5, 10, 20, 50, 100, 1000] {
            let r = min_detectable_ratio(&base, n, 0.05, 0.8);
            assert!(r > 1.0 && r < last, "more samples, smaller MDE: n = {n}: {r} vs {last}");
            last = r;
            assert!(min_detectable_ratio(&wide, n, 0.05, 0.8) > r, "more spread, larger MDE");
            assert!(min_detectable_ratio(&base, n, 0.01, 0.8) > r, "stricter alpha, larger MDE");
            assert!(min_detectable_ratio(&base, n, 0.05, 0.9) > r, "more power, larger MDE");
        }
        assert_eq!(min_detectable_ratio(&[5.0, 5.0, 5.0], 10, 0.05, 0.8), 1.0);
        assert_eq!(min_detectable_ratio(&[1.0, 2.0], 1, 0.05, 0.8), f64::INFINITY);
        assert_eq!(min_detectable_ratio(&base, 0, 0.05, 0.8), f64::INFINITY);
    }
}
