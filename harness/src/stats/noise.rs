//! Noise floors from calibration: how far apart two runs of unchanged code can land on this machine.
//!
//! Calibration measures the same build K times, in separate runs. For one benchmark and metric that gives
//! K figures v_1..v_K. The floor is the change that a new pair of runs of unchanged code exceeds with
//! probability below `alpha` (one-sided), under a normal model of run-to-run variation:
//! the difference of two new runs has variance 2σ², σ is estimated by the sample standard deviation s
//! (K - 1 degrees of freedom), so the bound is `t(1 - alpha, K - 1) · √2 · s` (a prediction bound).
//! It is never below the largest difference actually observed between two calibration runs.
//! Relative metrics (ns/op, instructions/op) are handled on a log scale and the floor is a ratio - 1;
//! absolute ones (allocations, bytes) in their own unit.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// One benchmark's noise, estimated from repeated runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoiseEstimate {
    /// The floor: relative (0.04 = 4%) or absolute, as the input.
    pub floor: f64,
    /// The largest difference observed between two runs, in the same unit as `floor`.
    pub spread: f64,
    /// The sample standard deviation of the runs' figures (of their logarithms when relative).
    pub sd: f64,
}

/// Student's t quantile: the `p` quantile with `df` degrees of freedom.
pub fn t_quantile(p: f64, df: f64) -> f64 {
    StudentsT::new(0.0, 1.0, df).expect("df > 0").inverse_cdf(p)
}

/// The noise floor of `values` (one figure per calibration run). `None` with fewer than two runs, or
/// with a non-positive value when `relative`.
pub fn noise_floor(values: &[f64], alpha: f64, relative: bool) -> Option<NoiseEstimate> {
    if values.len() < 2 || (relative && values.iter().any(|v| *v <= 0.0)) {
        return None;
    }
    let x: Vec<f64> = if relative { values.iter().map(|v| v.ln()).collect() } else { values.to_vec() };
    let (lo, hi) = x.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(*v), h.max(*v)));
    let spread = hi - lo;
    let sd = super::std_dev(&x);
    let bound = t_quantile(1.0 - alpha, (x.len() - 1) as f64) * std::f64::consts::SQRT_2 * sd;
    let floor = spread.max(bound);
    Some(if relative {
        NoiseEstimate { floor: floor.exp_m1(), spread: spread.exp_m1(), sd }
    } else {
        NoiseEstimate { floor, spread, sd }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::reference::{cases, close, floats};

    #[test]
    fn t_quantiles_match_scipy() {
        let all = cases("t_quantile");
        assert!(all.len() >= 8);
        for c in all {
            let (p, df, q) = (c["p"].as_f64().unwrap(), c["df"].as_f64().unwrap(), c["q"].as_f64().unwrap());
            let ours = t_quantile(p, df);
            assert!((ours - q).abs() <= 1e-9 * q.abs().max(1.0), "t.ppf({p}, {df}): {ours} vs scipy {q}");
        }
    }

    #[test]
    fn floors_match_the_scipy_computation() {
        for c in cases("noise_floor") {
            let values = floats(&c["values"]);
            let (alpha, relative) = (c["alpha"].as_f64().unwrap(), c["relative"].as_bool().unwrap());
            let e = noise_floor(&values, alpha, relative).unwrap();
            let name = c["name"].as_str().unwrap();
            assert!(close(e.floor, c["floor"].as_f64().unwrap()), "{name}: floor {} vs {}", e.floor, c["floor"]);
            assert!(close(e.spread, c["spread"].as_f64().unwrap()), "{name}: spread {}", e.spread);
            assert!(close(e.sd, c["sd"].as_f64().unwrap()), "{name}: sd {}", e.sd);
        }
    }

    #[test]
    fn identical_runs_have_no_noise_and_one_run_has_no_estimate() {
        let e = noise_floor(&[1000.0; 5], 0.001, true).unwrap();
        assert_eq!((e.floor, e.spread, e.sd), (0.0, 0.0, 0.0));
        assert!(noise_floor(&[1.0], 0.001, true).is_none());
        assert!(noise_floor(&[0.0, 1.0], 0.001, true).is_none());
        assert_eq!(noise_floor(&[3.0, 3.0, 4.0], 0.001, false).unwrap().spread, 1.0);
    }
}
