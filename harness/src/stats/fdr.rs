//! False-discovery-rate control across many comparisons. Pure: no I/O, no clocks.
//!
//! Invariants the callers uphold: p-values are finite and in `[0, 1]`.

/// Benjamini-Hochberg adjusted p-values ("q-values"), in input order.
///
/// Method: Benjamini & Hochberg, "Controlling the false discovery rate: a practical and powerful
/// approach to multiple testing", JRSS B 57 (1995). With `p_(1) <= … <= p_(m)` sorted, the adjusted
/// value of `p_(i)` is `min_{j >= i} p_(j) / (j/m)`, capped at 1. The arithmetic follows
/// `statsmodels.stats.multitest.multipletests(p, method='fdr_bh')` (divide by the empirical CDF
/// factor `j/m`, a running minimum from the largest p down, then the cap), so the values agree to the
/// last bit or two. Ties in `p` get the same adjusted value whatever their order.
///
/// Guarantees: the result has `p.len()` values, each `>= ` its raw p and `<= 1`, and it is monotone
/// (non-decreasing) in the order of the raw p-values. An empty input gives an empty output.
pub fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut adjusted = vec![0.0; m];
    let mut running = f64::INFINITY;
    for (rank0, &i) in order.iter().enumerate().rev() {
        let ecdf = (rank0 + 1) as f64 / m as f64;
        running = running.min(p[i] / ecdf);
        adjusted[i] = running.min(1.0);
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::super::SplitMix64;
    use super::super::reference::{cases, close, floats};
    use super::*;

    #[test]
    fn matches_statsmodels_reference_cases() {
        let cases = cases("benjamini_hochberg");
        assert!(cases.len() >= 6);
        let mut max_dev = 0.0f64;
        for case in &cases {
            let name = case["name"].as_str().unwrap();
            let p = floats(&case["p"]);
            let want = floats(&case["adjusted"]);
            let got = benjamini_hochberg(&p);
            assert_eq!(got.len(), want.len(), "{name}");
            for (g, w) in got.iter().zip(&want) {
                assert!(close(*g, *w), "{name}: ours {g:e}, statsmodels {w:e}");
                max_dev = max_dev.max((g - w).abs());
            }
        }
        eprintln!("benjamini_hochberg: max |ours - statsmodels| = {max_dev:e}");
    }

    #[test]
    fn empty_and_single() {
        assert!(benjamini_hochberg(&[]).is_empty());
        assert_eq!(benjamini_hochberg(&[0.03]), vec![0.03]);
    }

    #[test]
    fn adjusted_values_are_monotone_and_not_below_raw() {
        let mut rng = SplitMix64::new(0xfd2);
        for case in 0..300 {
            let m = 1 + rng.below(40) as usize;
            // Every third case draws from a few values, so ties are common.
            let p: Vec<f64> = (0..m)
                .map(|_| {
                    let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                    if case % 3 == 0 { (u * 5.0).floor() / 4.0 } else { u * u }
                })
                .collect();
            let q = benjamini_hochberg(&p);
            let mut order: Vec<usize> = (0..m).collect();
            order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
            for w in order.windows(2) {
                assert!(q[w[0]] <= q[w[1]], "case {case}: not monotone: {p:?} -> {q:?}");
            }
            for (raw, adj) in p.iter().zip(&q) {
                assert!(adj >= raw && *adj <= 1.0, "case {case}: {raw} -> {adj}");
            }
        }
    }
}
