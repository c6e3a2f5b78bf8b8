#!/usr/bin/env python3
"""Reference change points for benchgate's PELT (harness/src/stats/changepoint.rs), from ruptures.

Synthetic series (log-scale benchmark figures over commits) with known steps, fixed numpy seeds:
clear steps (4+ noise levels), small steps, no step, outliers, a drift. For each, the penalty benchgate
uses (3 * sigma^2 * ln n, sigma = MAD of first differences * 1.4826 / sqrt 2) and the breakpoints of
ruptures.Pelt(model="l2", min_size=2, jump=1).fit(series).predict(pen=penalty). The Rust tests require
the same number of change points, each within one index, and the same sigma and penalty.

Regenerate:  pip install ruptures numpy && python3 scripts/changepoint_reference.py
"""

import json
import math
import pathlib

import numpy as np
import ruptures

OUT = pathlib.Path(__file__).resolve().parent.parent / "harness/src/stats/changepoint_cases.json"
MIN_SIZE = 2


def noise_sigma(x):
    d = np.diff(x)
    med = np.median(d)
    return 1.4826 * float(np.median(np.abs(d - med))) / math.sqrt(2.0)


def case(name, levels, lengths, sigma, seed, outliers=()):
    rng = np.random.default_rng(seed)
    parts = [np.full(n, math.log(level)) for level, n in zip(levels, lengths)]
    x = np.concatenate(parts) + rng.normal(0.0, sigma, sum(lengths))
    for i, v in outliers:
        x[i] += v
    x = [float(v) for v in x]
    s = noise_sigma(x)
    pen = 3.0 * s * s * math.log(len(x))
    bkps = ruptures.Pelt(model="l2", min_size=MIN_SIZE, jump=1).fit(np.array(x)).predict(pen=pen)
    return {
        "name": name,
        "series": x,
        "min_size": MIN_SIZE,
        "noise_sigma": s,
        "penalty": pen,
        "true_changes": [int(v) for v in np.cumsum(lengths)[:-1]],
        "ruptures": [int(b) for b in bkps],
    }


def main():
    cases = [
        case("clear one step +10%", [1.0, 1.10], [30, 30], 0.01, 1),
        case("clear two steps +5% then -8%", [1.0, 1.05, 0.966], [25, 20, 35], 0.005, 2),
        case("clear three steps", [1.0, 1.2, 1.1, 1.3], [15, 15, 15, 15], 0.02, 3),
        case("clear early step", [1.0, 1.06], [5, 55], 0.005, 4),
        case("clear late step", [1.0, 0.9], [50, 6], 0.01, 5),
        case("clear long series", [1.0, 1.03, 1.0], [100, 80, 120], 0.004, 6),
        case("small step +1% at 1 sigma", [1.0, 1.01], [40, 40], 0.01, 7),
        case("no step", [1.0], [60], 0.01, 8),
        case("no step, outliers", [1.0], [60], 0.01, 9, outliers=[(20, 0.08), (41, -0.06)]),
        case("clear step with outliers", [1.0, 1.15], [30, 30], 0.01, 10, outliers=[(10, 0.05)]),
        case("drift", [1.0, 1.01, 1.02, 1.03, 1.04, 1.05], [10] * 6, 0.01, 11),
        case("deterministic-like, tiny noise", [1.0, 1.002], [20, 20], 0.0002, 12),
    ]
    doc = {
        "generated_by": "scripts/changepoint_reference.py",
        "ruptures": ruptures.__version__,
        "numpy": np.__version__,
        "cases": cases,
    }
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
