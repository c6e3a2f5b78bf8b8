//! Tests on rounds: the wall lane runs each benchmark in several processes (rounds), and the unit of
//! evidence is the round's median, not the sample, since samples of one process share its address-space
//! layout, frequency and neighbours and are correlated.
//!
//! - Interleaved in one job (base and head alternate, round by round): the sign test on the per-round
//!   log ratios `ln(head_r / base_r)`, with the median ratio and its interval ([`paired_sign_test`]).
//! - Separate runs: Welch's t-test on the two sides' log round medians (scipy's `ttest_ind` with
//!   `equal_var=False`).
//!
//! Each gives the ratio, an interval labelled with its coverage, the p-value, and the noise scale from
//! which [`super::power`] and [`welch_mde`] compute what the comparison can detect.

use statrs::distribution::{ContinuousCDF, StudentsT};

use super::noise::t_quantile;

/// The evidence of a comparison over rounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoundTest {
    /// head/base: the ratio of geometric means (Welch), or the median of the per-round ratios (paired).
    pub ratio: f64,
    /// An interval of that ratio, of coverage `level`.
    pub ci: [f64; 2],
    /// The interval's coverage: 0.95 for Welch's; for the sign test's order statistics their exact
    /// coverage, at least 0.95 from 6 rounds, less below.
    pub level: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// The noise scale, in logs: of one round's log ratio (paired, [`super::power::robust_sigma`]), or
    /// the standard error of the difference of log means (Welch).
    pub sigma: f64,
    /// Welch's degrees of freedom (0 for the paired test).
    pub df: f64,
    /// Rounds (pairs for the paired test; the smaller side for Welch's).
    pub rounds: usize,
}

fn evidence(mean: f64, se: f64, df: f64, rounds: usize) -> RoundTest {
    let p_value = if se == 0.0 {
        if mean == 0.0 { 1.0 } else { 0.0 }
    } else {
        let t = StudentsT::new(0.0, 1.0, df).expect("df > 0");
        (2.0 * t.sf((mean / se).abs())).min(1.0)
    };
    let half = t_quantile(0.975, df) * se;
    RoundTest {
        ratio: mean.exp(),
        ci: [(mean - half).exp(), (mean + half).exp()],
        level: 0.95,
        p_value,
        sigma: se,
        df,
        rounds,
    }
}

/// The MDE of Welch's test, as a ratio: the smallest true ratio that is significant at two-sided `alpha`
/// and estimated beyond `threshold` with probability `power` (the product of the two, as in
/// [`super::power`]), for the standard error and degrees of freedom of `test`.
pub fn welch_mde(test: &RoundTest, alpha: f64, threshold: f64, power: f64) -> Option<f64> {
    if test.sigma == 0.0 {
        return Some(1.0 + threshold);
    }
    let df = test.df.max(1.0);
    let t = StudentsT::new(0.0, 1.0, df).ok()?;
    let critical = t_quantile(1.0 - alpha / 2.0, df);
    let lt = threshold.ln_1p();
    let p = |delta: f64| t.sf(critical - delta / test.sigma) * t.cdf((delta - lt) / test.sigma);
    super::power::smallest_shift(p, 0.0, power).map(f64::exp)
}

/// Welch's t-test on the logs of two sides' round medians; `None` with fewer than 2 rounds a side or a
/// non-positive figure.
pub fn welch_log_ratio(base: &[f64], head: &[f64]) -> Option<RoundTest> {
    if base.len() < 2 || head.len() < 2 || base.iter().chain(head).any(|v| *v <= 0.0 || !v.is_finite()) {
        return None;
    }
    let lb: Vec<f64> = base.iter().map(|v| v.ln()).collect();
    let lh: Vec<f64> = head.iter().map(|v| v.ln()).collect();
    let (vb, vh) = (super::std_dev(&lb).powi(2) / lb.len() as f64, super::std_dev(&lh).powi(2) / lh.len() as f64);
    let se = (vb + vh).sqrt();
    let df = if se == 0.0 {
        (lb.len() + lh.len() - 2) as f64
    } else {
        (vb + vh).powi(2) / (vb.powi(2) / (lb.len() - 1) as f64 + vh.powi(2) / (lh.len() - 1) as f64)
    };
    Some(evidence(super::mean(&lh) - super::mean(&lb), se, df, lb.len().min(lh.len())))
}

/// Paired comparison of per-round figures by their log ratios `ln(head_r / base_r)`: the sign test, the
/// median ratio, and its distribution-free interval (order statistics of the ratios, the sign test
/// inverted), labelled with its exact coverage ([`super::power::sign_interval`]: at least 95% from 6
/// pairs; below, the range of the ratios, 75% for 3 and 94% for 5). `None` with fewer than 3 pairs or a
/// non-positive figure.
///
/// The sign test rather than a t-test or Wilcoxon's signed-rank test because the rounds' ratios are
/// heavy-tailed: now and then one process of a pair draws a slow layout or a noisy neighbour and its
/// ratio lies 10-50% off. That widens a t-test's interval for every other round, and the signed-rank
/// test gives such rounds its largest ranks. Measured on this repository's compression suite (21 rounds
/// a benchmark, four injected slowdowns of 1.6-5%): the sign test flagged all four, the signed-rank
/// test two, the t-test's MDE was 3x larger, and none flagged an untouched benchmark. The sign test only
/// needs the ratios' median to be 1 under no change, which alternating the sides in a random order
/// makes so.
///
/// The p-value is scipy's `binomtest(positives, n)` over the non-zero ratios. What the test can detect
/// depends on the alpha it is held to and on the stages of the gate: [`super::power::paired_mde`], from
/// the noise scale returned here.
pub fn paired_sign_test(base: &[f64], head: &[f64]) -> Option<RoundTest> {
    let n = base.len();
    if n < 3 || head.len() != n || base.iter().chain(head).any(|v| *v <= 0.0 || !v.is_finite()) {
        return None;
    }
    let mut d = log_ratios(base, head);
    d.sort_by(f64::total_cmp);
    let estimate = super::median(&d);
    let positive = d.iter().filter(|v| **v > 0.0).count();
    let non_zero = d.iter().filter(|v| **v != 0.0).count();
    let p_value = sign_p(positive, non_zero);
    let (c, level) = super::power::sign_interval(n);
    Some(RoundTest {
        ratio: estimate.exp(),
        ci: [d[c].exp(), d[n - 1 - c].exp()],
        level,
        p_value,
        sigma: super::power::robust_sigma(&d),
        df: 0.0,
        rounds: n,
    })
}

/// Each round's log ratio, head over base.
pub fn log_ratios(base: &[f64], head: &[f64]) -> Vec<f64> {
    base.iter().zip(head).map(|(b, h)| (h / b).ln()).collect()
}

/// The screen of the two-stage wall pass: a benchmark whose screening rounds give a sign-test p-value at
/// or below this is a candidate and gets confirmation rounds. Generous on purpose: a lone candidate
/// costs confirmation rounds, a missed one a regression. Over 6 screening rounds it takes a benchmark
/// with at most one round of the minority sign (under no change, 22% of benchmarks); over 8, at most 1
/// (7%); over 10, at most 2 (11%).
pub const SCREEN_P: f64 = 0.25;

/// The screen's rule ([`SCREEN_P`]), the one place it is decided: the pass that plans confirmation
/// rounds and `compare`, which reads the stages back, both ask it.
pub fn screen_flags(screen: &RoundTest) -> bool {
    screen.p_value <= SCREEN_P
}

/// Two-sided p-value of the sign test: `positive` of `n` non-zero ratios above 1 (scipy's
/// `binomtest(positive, n)`; with p = 1/2 the two tails are mirror images).
fn sign_p(positive: usize, n: usize) -> f64 {
    if n == 0 {
        return 1.0;
    }
    let pmf = super::power::binomial_pmf(n, 0.5);
    let k = positive.min(n - positive);
    let tail: f64 = pmf[..=k].iter().sum();
    (2.0 * tail).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::reference::{cases, close, floats};

    #[test]
    fn matches_scipy_binomtest_and_the_inverted_test() {
        let all = cases("sign_test");
        assert!(all.len() >= 6);
        for c in all {
            let name = c["name"].as_str().unwrap();
            let p = paired_sign_test(&floats(&c["base"]), &floats(&c["head"])).unwrap();
            assert!(close(p.p_value, c["p"].as_f64().unwrap()), "{name}: p {} vs {}", p.p_value, c["p"]);
            let ci = floats(&c["ci95"]);
            assert!(close(p.ci[0], ci[0]) && close(p.ci[1], ci[1]), "{name}: ci {:?} vs {ci:?}", p.ci);
            assert!(close(p.ratio, c["ratio"].as_f64().unwrap()), "{name}: ratio {} vs {}", p.ratio, c["ratio"]);
        }
    }

    #[test]
    fn welch_matches_scipy_ttest_ind_on_logs() {
        let all = cases("welch_t");
        assert!(all.len() >= 4);
        for c in all {
            let name = c["name"].as_str().unwrap();
            let w = welch_log_ratio(&floats(&c["base"]), &floats(&c["head"])).unwrap();
            assert!(close(w.p_value, c["p"].as_f64().unwrap()), "{name}: p {} vs {}", w.p_value, c["p"]);
            let ci = floats(&c["ci95"]);
            assert!(close(w.ci[0], ci[0]) && close(w.ci[1], ci[1]), "{name}: ci {:?} vs {ci:?}", w.ci);
            assert!(close(w.ratio, c["ratio"].as_f64().unwrap()), "{name}: ratio");
        }
    }

    #[test]
    fn identical_rounds_are_not_a_change_and_too_few_rounds_are_no_evidence() {
        let r = paired_sign_test(&[10.0, 11.0, 12.0], &[10.0, 11.0, 12.0]).unwrap();
        assert_eq!((r.ratio, r.p_value, r.sigma, r.level), (1.0, 1.0, 0.0, 0.75));
        assert!(paired_sign_test(&[1.0, 2.0], &[1.0, 2.0]).is_none());
        // Four rounds that agree exactly: the estimate is exact, but four signs can never be significant.
        let shifted = paired_sign_test(&[10.0, 11.0, 12.0, 10.5], &[11.0, 12.1, 13.2, 11.55]).unwrap();
        assert!((shifted.ratio - 1.1).abs() < 1e-12 && shifted.p_value > 0.05, "{shifted:?}");
    }

    #[test]
    fn one_wild_round_does_not_hide_a_clear_shift() {
        // 20 rounds at +3% with 0.3% noise, and one round where head drew a layout 60% slower.
        let base: Vec<f64> = (0..20).map(|i| 1000.0 * (1.0 + 0.003 * ((i * 7 % 5) as f64 - 2.0))).collect();
        let mut head: Vec<f64> =
            base.iter().enumerate().map(|(i, b)| b * 1.03 * (1.0 + 0.002 * ((i % 3) as f64 - 1.0))).collect();
        head[7] *= 1.6;
        let r = paired_sign_test(&base, &head).unwrap();
        assert!((r.ratio - 1.03).abs() < 0.003 && r.p_value < 1e-4 && r.sigma < 0.005, "{r:?}");
        assert!(r.ci[0] > 1.02 && r.ci[1] < 1.04, "{r:?}");
    }
}
