//! Seeded simulations of the whole wall gate: two-stage files made as `interleave` makes them (a screen
//! of every benchmark, confirmation rounds for the candidates [`stats::rounds::screen_flags`] picks, an
//! even share of a confirmation budget each), judged by [`compare`]. They check the figures the gate
//! prints: the power at the MDE a row states, the detection of a lone regression among 181 benchmarks,
//! how often "unchanged" is said of a change beyond the threshold, and false discoveries in A/A suites.
//!
//! The noise model is the one the rounds show: a drift shared by both sides of a round (cancelled by
//! pairing) and a per-round log-ratio noise; `heavy` adds the occasional round 10-50% off, `outliers`
//! rounds several noise scales off either way, as the real runs show.

use std::collections::BTreeMap;

use super::tests::results;
use super::*;
use crate::model::{Metrics, WallEstimate};
use crate::stats::SplitMix64;

struct Noise {
    rng: SplitMix64,
}

impl Noise {
    fn uniform(&mut self) -> f64 {
        ((self.rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal (Box-Muller).
    fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.uniform(), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// A simulated gate: `m` benchmarks, `screen` screening rounds each, `budget` confirmation rounds shared
/// evenly by the candidates (at most `max` each), per-round log-ratio noise `sigma`.
#[derive(Debug, Clone, Copy)]
struct Shape {
    m: usize,
    screen: usize,
    budget: usize,
    max: usize,
    sigma: f64,
    /// One round in 20 lies 10-50% off on one side.
    heavy: bool,
    /// The share of rounds whose log ratio lies 3 or more `sigma` off, either way (3 + 2.5 Exp(1)): the
    /// tails the real runs' rounds show.
    outliers: f64,
}

/// The default time budget's round counts on this machine for 181 benchmarks: about 14 rounds of every
/// benchmark fit in the wall time left after building and counting (the first round of 181 took 11-34 s,
/// see README "Comparing revisions"); the screen takes half, 7, and the confirmation the other half.
const DEFAULT_181: Shape =
    Shape { m: 181, screen: 7, budget: 7 * 181, max: 30, sigma: 0.01, heavy: false, outliers: 0.0 };

/// The shapes of the real runs (docs/real-runs.md): A/A with every count cached (screens of 11 rounds,
/// about 26 candidates confirmed over 30 rounds), and a pull request's gate with base's counts cached
/// (inj-4: screens of 6, 43 candidates over a median 17); with the noise of their rounds (aa-6,
/// scripts/real-runs/summarize.py: a round's log ratio has a robust scale of 8.4% in the median
/// benchmark, quartiles 4.7% and 16.5%, and 12.1% of rounds lie more than 3 of it off, a median 4.8).
const AA_181: Shape = Shape { m: 181, screen: 11, budget: 26 * 30, max: 30, sigma: 0.08, heavy: false, outliers: 0.12 };
const INJECTED_174: Shape =
    Shape { m: 174, screen: 6, budget: 43 * 17, max: 30, sigma: 0.08, heavy: false, outliers: 0.12 };
/// aa-7, a quieter run: screens of 12, 22 candidates over 30 rounds, a scale of 3.9% and 16.6% of rounds
/// beyond 3 of it.
const QUIET_AA_181: Shape =
    Shape { m: 181, screen: 12, budget: 22 * 30, max: 30, sigma: 0.04, heavy: false, outliers: 0.17 };

fn wall(samples: Vec<f64>, rounds: Vec<u32>, confirm_from: Option<u32>) -> WallEstimate {
    WallEstimate {
        median: stats::median(&samples),
        mean: stats::mean(&samples),
        slope: stats::mean(&samples),
        std_dev: 0.0,
        ci95: [0.0, 0.0],
        sample_iters: vec![1; samples.len()],
        samples,
        warmup_iters: 1,
        rounds,
        confirm_from,
    }
}

fn bench(i: usize, w: WallEstimate) -> BenchResult {
    BenchResult {
        id: format!("s/b{i:03}"),
        suite: "s".into(),
        name: format!("b{i:03}"),
        param: None,
        throughput: None,
        metrics: Metrics { ns_per_op: Some(w), ..Metrics::default() },
        failures: BTreeMap::new(),
        skipped: BTreeMap::new(),
    }
}

/// Rounds `from..to` of one benchmark, both sides: (base, head) figures.
fn rounds(noise: &mut Noise, s: &Shape, i: usize, ratio: f64, n: usize) -> (Vec<f64>, Vec<f64>) {
    let (mut b, mut h) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        let drift = (0.05 * noise.normal()).exp();
        let base = 1000.0 * (1.0 + i as f64) * drift;
        let mut head = base * ratio * (s.sigma * noise.normal()).exp();
        if s.heavy && noise.uniform() < 0.05 {
            head *= 1.1 + 0.4 * noise.uniform();
        }
        if noise.uniform() < s.outliers {
            let off = s.sigma * (3.0 - 2.5 * noise.uniform().ln());
            head *= if noise.uniform() < 0.5 { off.exp() } else { (-off).exp() };
        }
        b.push(base);
        h.push(head);
    }
    (b, h)
}

/// One gate with benchmark 0 at the true ratio `ratio`, the others unchanged.
fn gate(noise: &mut Noise, s: &Shape, ratio: f64, policy: &Policy<'_>) -> Verdicts {
    let true_ratio = |i: usize| if i == 0 { ratio } else { 1.0 };
    let screens: Vec<(Vec<f64>, Vec<f64>)> = (0..s.m).map(|i| rounds(noise, s, i, true_ratio(i), s.screen)).collect();
    let candidate: Vec<bool> = screens
        .iter()
        .map(|(b, h)| stats::rounds::paired_sign_test(b, h).is_some_and(|t| stats::rounds::screen_flags(&t)))
        .collect();
    let k = candidate.iter().filter(|c| **c).count();
    let n2 = s.budget.checked_div(k).map_or(0, |n| n.min(s.max));
    let (mut base, mut head) = (Vec::with_capacity(s.m), Vec::with_capacity(s.m));
    for (i, (mut b, mut h)) in screens.into_iter().enumerate() {
        let confirm = candidate[i] && n2 >= 3;
        if confirm {
            let (cb, ch) = rounds(noise, s, i, true_ratio(i), n2);
            b.extend(cb);
            h.extend(ch);
        }
        let numbers: Vec<u32> = (0..b.len() as u32).collect();
        let from = confirm.then_some(s.screen as u32);
        base.push(bench(i, wall(b, numbers.clone(), from)));
        head.push(bench(i, wall(h, numbers, from)));
    }
    let (mut a, mut b) = (results(base), results(head));
    for r in [&mut a, &mut b] {
        r.meta.pairing = Some("sim".into());
        r.meta.screen_p = Some(stats::rounds::SCREEN_P);
        r.meta.lanes = vec![Lane::Wall];
    }
    compare(&a, &b, policy)
}

fn first(v: &Verdicts) -> &Comparison {
    v.comparisons.iter().find(|c| c.id == "s/b000" && c.metric == "ns_per_op").unwrap()
}

fn gate_config() -> crate::gate::GateConfig {
    crate::config::Config::builtin().gate
}

/// Gates whose rows' stated MDE is taken (the median): with 30 the median itself moves by about a
/// tenth of the MDE, and the power at it by up to 0.15 where the power curve is steep.
const GATES: usize = 120;

/// The MDE that rows of a changed benchmark state (the median over `gates` gates at a ratio near it),
/// then the share of `trials` gates at that true ratio that flag it.
fn power_at_stated_mde(seed: u64, s: &Shape, gates: usize, trials: usize) -> (f64, f64) {
    let gate_cfg = gate_config();
    let policy = Policy::new(&gate_cfg);
    let mut noise = Noise { rng: SplitMix64::new(seed) };
    let mut guess = 1.0 + 3.0 * s.sigma;
    let mut stated = Vec::new();
    // Two passes: the stated MDE depends a little on the candidates' count, which the true ratio moves.
    for _ in 0..2 {
        stated = (0..gates).filter_map(|_| first(&gate(&mut noise, s, guess, &policy)).mde).collect();
        guess = stats::median(&stated);
    }
    assert!(stated.len() * 10 >= gates * 9, "{s:?}: most rows state an MDE");
    let mde = stats::median(&stated);
    let caught =
        (0..trials).filter(|_| first(&gate(&mut noise, s, mde, &policy)).verdict == Verdict::Regressed).count();
    (mde, caught as f64 / trials as f64)
}

#[test]
fn the_power_at_the_stated_mde_is_80_percent_over_round_counts_and_suite_sizes() {
    let grid = [
        Shape { m: 1, screen: 6, budget: 12, max: 30, sigma: 0.01, heavy: false, outliers: 0.0 },
        Shape { m: 30, screen: 6, budget: 6 * 30, max: 30, sigma: 0.01, heavy: false, outliers: 0.0 },
        Shape { m: 30, screen: 10, budget: 10 * 30, max: 30, sigma: 0.02, heavy: false, outliers: 0.0 },
        Shape { m: 30, screen: 8, budget: 8 * 30, max: 30, sigma: 0.01, heavy: true, outliers: 0.0 },
        DEFAULT_181,
        Shape { m: 181, screen: 12, budget: 4 * 181, max: 30, sigma: 0.005, heavy: false, outliers: 0.0 },
        AA_181,
        INJECTED_174,
        QUIET_AA_181,
    ];
    let mut seen = Vec::new();
    for (n, s) in grid.iter().enumerate() {
        let (mde, power) = power_at_stated_mde(100 + n as u64, s, GATES, 300);
        seen.push(format!("{s:?}: MDE {:+.2}%, power {power:.2}", (mde - 1.0) * 100.0));
        assert!((0.7..=0.9).contains(&power), "{}", seen.join("\n"));
    }
    eprintln!("{}", seen.join("\n"));
}

#[test]
fn a_lone_ten_percent_regression_among_181_is_caught_at_the_default_budget() {
    let gate_cfg = gate_config();
    let policy = Policy::new(&gate_cfg);
    for (seed, sigma) in [(1, 0.01), (2, 0.03)] {
        let s = Shape { sigma, ..DEFAULT_181 };
        let mut noise = Noise { rng: SplitMix64::new(seed) };
        let caught =
            (0..10).filter(|_| first(&gate(&mut noise, &s, 1.10, &policy)).verdict == Verdict::Regressed).count();
        assert!(caught >= 9, "sigma {sigma}: {caught} of 10");
    }
}

#[test]
fn unchanged_is_rarely_said_of_a_change_beyond_the_threshold() {
    // +1.2% against a 1% threshold: "unchanged" would be wrong. The interval's coverage bounds how often.
    let gate_cfg = gate_config();
    let policy = Policy::new(&gate_cfg);
    let s = Shape { m: 30, screen: 8, budget: 8 * 30, max: 30, sigma: 0.01, heavy: false, outliers: 0.0 };
    let mut noise = Noise { rng: SplitMix64::new(7) };
    let wrong = (0..300).filter(|_| first(&gate(&mut noise, &s, 1.012, &policy)).verdict == Verdict::Unchanged).count();
    assert!(wrong <= 9, "{wrong} of 300 called unchanged");
}

#[test]
fn aa_suites_of_181_flag_no_more_than_the_fdr_allows() {
    // Under no change at all, any flag is a false discovery, so the FDR is the chance that a suite flags
    // anything: at most gate.fdr (5%) of 1,000 suites.
    let gate_cfg = gate_config();
    let policy = Policy::new(&gate_cfg);
    for heavy in [false, true] {
        let s = Shape { heavy, ..DEFAULT_181 };
        let mut noise = Noise { rng: SplitMix64::new(if heavy { 11 } else { 10 }) };
        let flagged = (0..1000)
            .filter(|_| {
                gate(&mut noise, &s, 1.0, &policy)
                    .comparisons
                    .iter()
                    .any(|c| matches!(c.verdict, Verdict::Regressed | Verdict::Improved))
            })
            .count();
        assert!(flagged <= 50, "heavy {heavy}: {flagged} of 1000 A/A suites flagged something");
        eprintln!("heavy tails {heavy}: {flagged} of 1000 A/A suites of 181 flagged something");
    }
}

#[test]
fn a_candidate_is_judged_on_the_count_of_its_confirmation_rounds_that_detects_the_most() {
    // One candidate, so its alpha is the FDR, 0.05: the sign test rejects over 6 to 8 rounds only when
    // none is against, from 9 with one against. So of 8 confirmation rounds the first 6 are judged,
    // whichever rounds lie against: the choice is made from the count alone.
    let gate_cfg = gate_config();
    let policy = Policy::new(&gate_cfg);
    let screen = [1.08, 1.12, 1.09, 1.11, 1.10, 1.13];
    let judge = |confirm: [f64; 8]| {
        let ratios: Vec<f64> = screen.iter().chain(&confirm).copied().collect();
        let base: Vec<f64> = vec![1000.0; ratios.len()];
        let head: Vec<f64> = ratios.iter().map(|r| 1000.0 * r).collect();
        let numbers: Vec<u32> = (0..ratios.len() as u32).collect();
        let (mut a, mut b) = (
            results(vec![bench(0, wall(base, numbers.clone(), Some(6)))]),
            results(vec![bench(0, wall(head, numbers, Some(6)))]),
        );
        for r in [&mut a, &mut b] {
            r.meta.pairing = Some("sim".into());
            r.meta.screen_p = Some(stats::rounds::SCREEN_P);
            r.meta.lanes = vec![Lane::Wall];
        }
        first(&compare(&a, &b, &policy)).clone()
    };
    // The round against is the 7th: the first 6 all agree (p = 2/2^6), a regression; over all 8 (p 0.07)
    // it would not have been.
    let late = judge([1.10, 1.09, 1.12, 1.11, 1.10, 1.08, 0.95, 1.10]);
    assert_eq!(late.verdict, Verdict::Regressed, "{late:?}");
    assert_eq!(late.p_value, Some(2.0 / 64.0));
    assert!(late.note.as_deref().unwrap().contains("judged on the first 6 of the 8"), "{late:?}");
    // The round against is the 3rd: over the first 6, 5 agree (p 0.22): not a regression.
    let early = judge([1.10, 1.09, 0.95, 1.11, 1.10, 1.08, 1.12, 1.10]);
    assert_eq!(early.verdict, Verdict::Inconclusive, "{early:?}");
    assert!(early.note.as_deref().unwrap().contains("judged on the first 6 of the 8"), "{early:?}");
}
