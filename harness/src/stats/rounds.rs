//! Tests on rounds: the wall lane runs each benchmark in several processes (rounds), and the unit of
//! evidence is the round's median, not the sample, since samples of one process share its address-space
//! layout, frequency and neighbours and are correlated.
//!
//! - Interleaved in one job (base and head alternate, round by round): a paired t-test on the per-round
//!   log ratios `ln(head_r / base_r)` (scipy's `ttest_rel` on the logs).
//! - Separate runs: Welch's t-test on the two sides' log round medians (scipy's `ttest_ind` with
//!   `equal_var=False`).
//!
//! Each gives the ratio (geometric mean), its 95% interval, the p-value, and the smallest ratio it could
//! detect with the given power.

use statrs::distribution::{ContinuousCDF, StudentsT};

use super::noise::t_quantile;

/// The evidence of a comparison over rounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoundTest {
    /// Geometric mean of the per-round ratios head/base.
    pub ratio: f64,
    /// 95% interval of that ratio.
    pub ci95: [f64; 2],
    /// Two-sided p-value of the paired t-test.
    pub p_value: f64,
    /// The smallest ratio (> 1) detectable at two-sided level `alpha` with the given power.
    pub mde: f64,
    /// Rounds (pairs for the paired test; the smaller side for Welch's).
    pub rounds: usize,
}

fn evidence(mean: f64, se: f64, df: f64, alpha: f64, power: f64, rounds: usize) -> RoundTest {
    let p_value = if se == 0.0 {
        if mean == 0.0 { 1.0 } else { 0.0 }
    } else {
        let t = StudentsT::new(0.0, 1.0, df).expect("df > 0");
        (2.0 * t.sf((mean / se).abs())).min(1.0)
    };
    let half = t_quantile(0.975, df) * se;
    let mde = ((t_quantile(1.0 - alpha / 2.0, df) + t_quantile(power, df)) * se).exp();
    RoundTest { ratio: mean.exp(), ci95: [(mean - half).exp(), (mean + half).exp()], p_value, mde, rounds }
}

/// Welch's t-test on the logs of two sides' round medians; `None` with fewer than 2 rounds a side or a
/// non-positive figure.
pub fn welch_log_ratio(base: &[f64], head: &[f64], alpha: f64, power: f64) -> Option<RoundTest> {
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
    Some(evidence(super::mean(&lh) - super::mean(&lb), se, df, alpha, power, lb.len().min(lh.len())))
}

/// Paired t-test on the logs of per-round figures; `None` with fewer than 3 pairs or a non-positive figure.
pub fn paired_log_ratio(base: &[f64], head: &[f64], alpha: f64, power: f64) -> Option<RoundTest> {
    let n = base.len();
    if n < 3 || head.len() != n || base.iter().chain(head).any(|v| *v <= 0.0 || !v.is_finite()) {
        return None;
    }
    let d: Vec<f64> = base.iter().zip(head).map(|(b, h)| (h / b).ln()).collect();
    let se = super::std_dev(&d) / (n as f64).sqrt();
    Some(evidence(super::mean(&d), se, (n - 1) as f64, alpha, power, n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::reference::{cases, close, floats};

    #[test]
    fn matches_scipy_ttest_rel_on_logs() {
        let all = cases("paired_t");
        assert!(all.len() >= 5);
        for c in all {
            let name = c["name"].as_str().unwrap();
            let p = paired_log_ratio(&floats(&c["base"]), &floats(&c["head"]), 0.05, 0.8).unwrap();
            assert!(close(p.p_value, c["p"].as_f64().unwrap()), "{name}: p {} vs {}", p.p_value, c["p"]);
            let ci = floats(&c["ci95"]);
            assert!(close(p.ci95[0], ci[0]) && close(p.ci95[1], ci[1]), "{name}: ci {:?} vs {ci:?}", p.ci95);
            assert!(close(p.ratio, c["ratio"].as_f64().unwrap()), "{name}: ratio");
        }
    }

    #[test]
    fn welch_matches_scipy_ttest_ind_on_logs() {
        let all = cases("welch_t");
        assert!(all.len() >= 4);
        for c in all {
            let name = c["name"].as_str().unwrap();
            let w = welch_log_ratio(&floats(&c["base"]), &floats(&c["head"]), 0.05, 0.8).unwrap();
            assert!(close(w.p_value, c["p"].as_f64().unwrap()), "{name}: p {} vs {}", w.p_value, c["p"]);
            let ci = floats(&c["ci95"]);
            assert!(close(w.ci95[0], ci[0]) && close(w.ci95[1], ci[1]), "{name}: ci {:?} vs {ci:?}", w.ci95);
            assert!(close(w.ratio, c["ratio"].as_f64().unwrap()), "{name}: ratio");
        }
    }

    #[test]
    fn identical_rounds_are_not_a_change_and_too_few_rounds_are_no_evidence() {
        let r = paired_log_ratio(&[10.0, 11.0, 12.0], &[10.0, 11.0, 12.0], 0.05, 0.8).unwrap();
        assert_eq!((r.ratio, r.p_value, r.mde), (1.0, 1.0, 1.0));
        assert!(paired_log_ratio(&[1.0, 2.0], &[1.0, 2.0], 0.05, 0.8).is_none());
        let shifted = paired_log_ratio(&[10.0, 11.0, 12.0, 10.5], &[11.0, 12.1, 13.2, 11.55], 0.05, 0.8).unwrap();
        assert!((shifted.ratio - 1.1).abs() < 1e-12 && shifted.p_value < 1e-6, "{shifted:?}");
    }
}
