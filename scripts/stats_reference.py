#!/usr/bin/env python3
"""Reference values for benchgate's statistics (harness/src/stats/{rank,fdr,noise}.rs).

What it is for: the Rust implementations of the two-sided Mann-Whitney U test, of the
Benjamini-Hochberg adjustment, of Student's t quantile and of the calibration noise floor must agree with
scipy and statsmodels. This script computes fixed cases
with those libraries and writes them, inputs and outputs at full precision (Python's float repr
round-trips exactly), to harness/src/stats/reference_cases.json, which the unit tests in rank.rs and
fdr.rs load with include_str!.

(power.rs: the sign test's critical counts, power and interval coverage, from scipy's binom.)
(rounds.rs: the sign test with the median's interval on paired log round medians, and Welch's t-test on
separate runs' log round medians.)
Regenerate:  pip install scipy statsmodels numpy && python3 scripts/stats_reference.py
Every input comes from a fixed numpy seed, so regenerating with the same library versions gives the
same file; the versions used are recorded in the JSON.
"""

import json
import pathlib

import numpy as np
import scipy
import statsmodels
from scipy.stats import binom, binomtest, mannwhitneyu, t as student_t, ttest_ind
from statsmodels.stats.multitest import multipletests

OUT = pathlib.Path(__file__).resolve().parent.parent / "harness/src/stats/reference_cases.json"


def floats(a):
    return [float(v) for v in a]


def mwu_case(name, x, y):
    x, y = floats(x), floats(y)
    # scipy's defaults: alternative='two-sided', use_continuity=True, method='auto'.
    res = mannwhitneyu(x, y, alternative="two-sided")
    ties = len(set(x + y)) < len(x) + len(y)
    exact = (len(x) <= 8 or len(y) <= 8) and not ties
    return {
        "name": name,
        "x": x,
        "y": y,
        "u": float(res.statistic),
        "p": float(res.pvalue),
        "path": "exact" if exact else "asymptotic",
    }


def mwu_cases():
    rng = np.random.default_rng(20240601)
    c = []
    # Exact path: no ties and min(n1, n2) <= 8.
    c.append(mwu_case("exact_5_7", rng.normal(100, 5, 5), rng.normal(103, 5, 7)))
    c.append(mwu_case("exact_3_20", rng.normal(0, 1, 3), rng.normal(0.5, 1, 20)))
    c.append(mwu_case("exact_8_8_separated", np.arange(1, 9) + 0.5, np.arange(20, 28) + 0.25))
    c.append(mwu_case("exact_4_4_separated_reversed", [10.0, 11.0, 12.0, 13.0], [1.0, 2.0, 3.0, 4.0]))
    c.append(mwu_case("exact_1_5", [3.3], rng.normal(0, 1, 5)))
    c.append(mwu_case("exact_1_1", [1.0], [2.0]))
    c.append(mwu_case("exact_8_30", rng.normal(10, 2, 8), rng.normal(11, 2, 30)))
    c.append(mwu_case("exact_5_1000", rng.normal(0.3, 1, 5), rng.normal(0, 1, 1000)))
    c.append(mwu_case("exact_6_6_interleaved", [1.0, 3.0, 5.0, 7.0, 9.0, 11.0], [2.0, 4.0, 6.0, 8.0, 10.0, 12.0]))
    # Small samples with ties: asymptotic with tie correction.
    c.append(mwu_case("small_ties_6_7", np.round(rng.normal(5, 2, 6)), np.round(rng.normal(6, 2, 7))))
    c.append(mwu_case("small_ties_within_x_only", [1.0, 1.0, 2.0], [3.0, 4.0, 5.0, 6.0]))
    # Just above the exact threshold, no ties.
    c.append(mwu_case("asym_9_9_no_ties", rng.normal(0, 1, 9), rng.normal(0.8, 1, 9)))
    # Large samples.
    c.append(mwu_case("large_50_60_no_ties", rng.lognormal(4.6, 0.05, 50), rng.lognormal(4.62, 0.05, 60)))
    c.append(mwu_case("large_200_150_no_ties", rng.normal(1000, 30, 200), rng.normal(1005, 30, 150)))
    c.append(mwu_case("large_100_120_ties", np.round(rng.normal(50, 3, 100), 1), np.round(rng.normal(50.5, 3, 120), 1)))
    c.append(mwu_case("heavy_ties_int_80_90", np.round(rng.normal(2, 1, 80)), np.round(rng.normal(2.3, 1, 90))))
    c.append(mwu_case("heavy_ties_two_values", [0.0] * 40 + [1.0] * 20, [0.0] * 30 + [1.0] * 35))
    # Identical samples: p must be 1.
    same = np.round(rng.normal(10, 1, 30), 2)
    c.append(mwu_case("identical_30", same, same))
    c.append(mwu_case("all_equal_constant", [5.0, 5.0, 5.0], [5.0, 5.0]))
    # Completely separated large samples: p far below 1e-6 (relative check).
    c.append(mwu_case("separated_50_50", rng.uniform(0, 1, 50), rng.uniform(2, 3, 50)))
    c.append(mwu_case("separated_200_200", rng.uniform(2, 3, 200), rng.uniform(0, 1, 200)))
    c.append(mwu_case("mostly_separated_60_70_ties", np.round(rng.uniform(0, 10, 60)), np.round(rng.uniform(8, 18, 70))))
    return c


def bh_case(name, p):
    p = floats(p)
    return {"name": name, "p": p, "adjusted": floats(multipletests(p, method="fdr_bh")[1])}


def bh_cases():
    rng = np.random.default_rng(7)
    return [
        bh_case("sorted_distinct", [0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216]),
        bh_case("unsorted", [0.3, 0.01, 0.04, 0.0001, 0.9, 0.02, 0.5]),
        bh_case("ties", [0.02, 0.02, 0.02, 0.5, 0.01, 0.01, 0.9]),
        bh_case("with_ones", [1.0, 0.04, 1.0, 0.003, 0.7]),
        bh_case("single", [0.03]),
        bh_case("all_equal", [0.2, 0.2, 0.2, 0.2]),
        bh_case("with_zero", [0.0, 0.5, 0.02, 0.0]),
        bh_case("random_60", np.concatenate([rng.uniform(0, 1, 50), rng.uniform(0, 1e-4, 10)])[rng.permutation(60)]),
        bh_case("tiny", [1e-300, 3e-12, 2e-9, 0.5]),
    ]


def t_cases():
    return [
        {"p": p, "df": df, "q": float(student_t.ppf(p, df))}
        for p, df in [(0.999, 1), (0.999, 2), (0.999, 4), (0.999, 9), (0.99, 4), (0.975, 29), (0.5, 3), (0.9999, 19)]
    ]


def floor_case(name, values, alpha, relative):
    """The noise floor as harness/src/stats/noise.rs defines it, computed independently with numpy/scipy:
    max(largest pairwise difference, t.ppf(1 - alpha, K - 1) * sqrt(2) * sd(ddof=1)), on logs if relative,
    reported as exp(.) - 1 if relative."""
    v = np.asarray(floats(values))
    x = np.log(v) if relative else v
    spread = float(x.max() - x.min())
    sd = float(np.std(x, ddof=1))
    bound = float(student_t.ppf(1 - alpha, len(x) - 1) * np.sqrt(2) * sd)
    floor = max(spread, bound)
    if relative:
        floor, spread = float(np.expm1(floor)), float(np.expm1(spread))
    return {"name": name, "values": floats(v), "alpha": alpha, "relative": relative,
            "floor": floor, "spread": spread, "sd": sd}


def floor_cases():
    rng = np.random.default_rng(11)
    return [
        floor_case("wall_5_runs", rng.lognormal(np.log(1200), 0.02, 5), 0.001, True),
        floor_case("wall_3_runs", rng.lognormal(np.log(35.5), 0.05, 3), 0.001, True),
        floor_case("wall_10_runs_alpha_01", rng.lognormal(np.log(9e6), 0.01, 10), 0.01, True),
        floor_case("instr_hash_seed", [1_000_000.0, 1_001_900.0, 998_300.0, 1_000_400.0], 0.001, True),
        floor_case("allocs_two_values", [3.0, 3.0, 4.0, 3.0, 3.0], 0.001, False),
        floor_case("two_runs", [100.0, 104.0], 0.001, True),
    ]


def sign_case(name, base, head):
    """Paired comparison of per-round figures (harness/src/stats/rounds.rs): the sign test on the log ratios
    (scipy's binomtest over the non-zero ones), their median, and its 95% interval, the ratios of order c
    and n-1-c, checked here by inverting scipy's test: shifts just inside the interval are not rejected at
    5%, shifts just outside are."""
    b, h = np.log(floats(base)), np.log(floats(head))
    d = np.sort(h - b)
    n = len(d)
    nz = d[d != 0]
    p = float(binomtest(int((nz > 0).sum()), len(nz)).pvalue)
    c = int(np.nonzero(binom.cdf(np.arange(n + 1), n, 0.5) <= 0.025)[0].max())
    lo, hi = d[c], d[n - 1 - c]

    def sign_p(shift):
        s = d - shift
        s = s[s != 0]
        return binomtest(int((s > 0).sum()), len(s)).pvalue

    eps = 1e-9
    for inside, outside in ((lo + eps, lo - eps), (hi - eps, hi + eps)):
        assert sign_p(inside) > 0.05, (name, inside)
        assert sign_p(outside) <= 0.05, (name, outside)
    return {"name": name, "base": floats(base), "head": floats(head), "p": p,
            "ci95": [float(np.exp(lo)), float(np.exp(hi))], "ratio": float(np.exp(np.median(d)))}


def sign_cases():
    rng = np.random.default_rng(5)
    drift = rng.lognormal(0, 0.05, 30)
    base = 1000 * drift * rng.lognormal(0, 0.01, 30)
    wild = 1030 * drift[:20] * rng.lognormal(0, 0.005, 20)
    wild[[3, 11]] *= [1.6, 0.7]
    return [
        sign_case("aa_8_rounds", base[:8], 1000 * drift[:8] * rng.lognormal(0, 0.01, 8)),
        sign_case("plus_2pct_8_rounds", base[:8], 1020 * drift[:8] * rng.lognormal(0, 0.01, 8)),
        sign_case("minus_5pct_12_rounds", base[:12], 950 * drift[:12] * rng.lognormal(0, 0.01, 12)),
        sign_case("plus_3pct_20_rounds_two_wild", base[:20], wild),
        sign_case("aa_30_rounds", base, 1000 * drift * rng.lognormal(0, 0.01, 30)),
        sign_case("noisy_7_rounds", rng.lognormal(3, 0.2, 7), rng.lognormal(3, 0.2, 7)),
    ]


def welch_case(name, base, head):
    """Welch's t-test on log round medians of separate runs (harness/src/stats/rounds.rs): scipy's
    ttest_ind(equal_var=False) on the logs, its 95% interval of the difference of means, exponentiated."""
    b, h = np.log(floats(base)), np.log(floats(head))
    res = ttest_ind(h, b, equal_var=False)
    ci = res.confidence_interval(0.95)
    return {"name": name, "base": floats(base), "head": floats(head), "p": float(res.pvalue),
            "ci95": [float(np.exp(ci.low)), float(np.exp(ci.high))], "ratio": float(np.exp(np.mean(h) - np.mean(b)))}


def welch_cases():
    rng = np.random.default_rng(9)
    return [
        welch_case("aa_3_3", rng.lognormal(7, 0.05, 3), rng.lognormal(7, 0.05, 3)),
        welch_case("plus_10pct_5_5", rng.lognormal(7, 0.03, 5), rng.lognormal(7.1, 0.03, 5)),
        welch_case("unequal_sizes_3_8", rng.lognormal(3, 0.2, 3), rng.lognormal(3, 0.02, 8)),
        welch_case("bimodal_5_5", [100.0, 101.0, 160.0, 99.0, 158.0], [161.0, 100.5, 159.0, 157.0, 99.5]),
    ]


def critical(n, alpha):
    """The sign test's two-sided critical count: the largest c < n/2 with 2 P(Bin(n, 1/2) <= c) <= alpha."""
    ks = [k for k in range((n + 1) // 2) if 2 * binom.cdf(k, n, 0.5) <= alpha * (1 + 1e-12)]
    return max(ks) if ks else -1


def power_case(n, alpha, q):
    """Power of the sign test (harness/src/stats/power.rs): P(K <= c) + P(K >= n - c) for K ~ Bin(n, q),
    from scipy's binom; and the exact coverage of the order-statistic interval, 1 - 2 P(Bin(n, 1/2) <= c)
    at the 5% critical count (the range, c = 0, when there is none)."""
    c = critical(n, alpha)
    power = 0.0 if c < 0 else float(binom.cdf(c, n, q) + binom.sf(n - c - 1, n, q))
    cl = max(critical(n, 0.05), 0)
    return {"n": n, "alpha": alpha, "q": q, "critical": c, "power": power,
            "level": float(1 - 2 * binom.cdf(cl, n, 0.5))}


def power_cases():
    grid = [(3, 0.05, 0.9), (6, 0.05, 0.8), (6, 0.25, 0.7), (8, 0.05 / 30, 0.99), (11, 0.05 / 30, 0.99),
            (12, 0.05, 0.5), (16, 0.01, 0.85), (20, 0.05 / 181, 0.95), (30, 0.05 / 40, 0.9), (40, 0.001, 0.75)]
    return [power_case(*g) for g in grid]


def main():
    doc = {
        "generated_by": "scripts/stats_reference.py",
        "versions": {
            "scipy": scipy.__version__,
            "statsmodels": statsmodels.__version__,
            "numpy": np.__version__,
        },
        "mann_whitney": mwu_cases(),
        "benjamini_hochberg": bh_cases(),
        "t_quantile": t_cases(),
        "noise_floor": floor_cases(),
        "sign_test": sign_cases(),
        "welch_t": welch_cases(),
        "sign_power": power_cases(),
    }
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {OUT}: {len(doc['mann_whitney'])} Mann-Whitney cases, {len(doc['benjamini_hochberg'])} BH cases, "
          f"{len(doc['t_quantile'])} t quantiles, {len(doc['noise_floor'])} noise floors")


if __name__ == "__main__":
    main()
