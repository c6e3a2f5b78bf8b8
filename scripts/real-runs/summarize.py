#!/usr/bin/env python3
"""Summarizes real runs made by run.sh: per run, the verdict's first line, the exit code, the seconds,
the load, the false regressions and (for injected runs) which of the four injected changes were caught
and in which lanes; over all runs, the median MDE the wall rows state and the wall pass's shape (screen
rounds, candidates, confirmation rounds, and the noise of a round: the robust scale of its log ratio and
how often a round lies more than 3 of those off) that a simulation of the same shape needs
(harness/src/compare_sim.rs).

A false regression is a regressed or improved comparison outside the benchmarks a change touched (in an
A/A run, any). A change counts as caught when the gate flagged at least one benchmark it touched as
regressed; the lanes that flagged it are listed.

usage: scripts/real-runs/summarize.py [--verdicts STEM] RUN_DIR [RUN_DIR ...]

--verdicts STEM reads the verdicts from STEM.json and STEM.md in each run directory instead of the run's
own verdicts.json and verdicts.md, and counts the comparisons whose verdict differs from the run's: for
a run's files judged again by later code, e.g. in RUN_DIR
  cargo benchgate compare base.json head.json --format json > final.json
  cargo benchgate compare base.json head.json --format markdown > final.md
"""

import json
import math
import statistics
import sys
from pathlib import Path

# The injected changes (compression-injected.patch) and the benchmark ids each touches.
CHANGES = {
    "1: +1 allocation in snappy compress": "compression/snappy/compress/",
    "2: zstd-1 compress, a checksum over a 32nd of the input": "compression/zstd-1/compress/",
    "3: lz4 reused compress, a checksum over a 48th of the input": "compression/lz4/compress-reused/",
    "4: zlib-6 reused compress, a checksum over a quarter of the input": "compression/zlib-6/compress-reused/",
}


def touched(bench_id):
    return any(bench_id.startswith(p) for p in CHANGES.values())


def pct(ratio):
    return f"{(ratio - 1) * 100:+.2f}%"


def wall_shape(head):
    """Screen rounds per benchmark, candidates (with confirmation rounds) and their rounds."""
    screen, confirm = [], []
    for b in head["benchmarks"]:
        w = b["metrics"].get("ns_per_op")
        if not w or not w.get("rounds"):
            continue
        rounds = sorted(set(w["rounds"]))
        start = w.get("confirm_from")
        screen.append(sum(1 for r in rounds if start is None or r < start))
        if start is not None:
            confirm.append(sum(1 for r in rounds if r >= start))
    return screen, confirm


# Croux & Rousseeuw's small-sample factors, as harness/src/stats/power.rs's robust_sigma.
SMALL_N = {2: 1.196, 3: 1.495, 4: 1.363, 5: 1.206, 6: 1.200, 7: 1.140, 8: 1.129, 9: 1.107}


def robust_sigma(d):
    n = len(d)
    m = statistics.median(d)
    b = SMALL_N.get(n, n / (n - 0.8))
    return b * 1.4826 * statistics.median(abs(x - m) for x in d)


def round_medians(w):
    by = {}
    for r, s in zip(w["rounds"], w["samples"]):
        by.setdefault(r, []).append(s)
    return {r: statistics.median(v) for r, v in by.items()}


def round_noise(base, head):
    """Per benchmark timed in paired rounds on both sides: the robust scale of a round's log ratio (over
    at least 6 rounds), and every round's signed distance from its benchmark's median log ratio in units
    of that scale (under normal noise 0.27% of rounds lie beyond 3 either way)."""
    by_id = {b["id"]: b for b in base["benchmarks"]}
    sigmas, offs = [], []
    for h in head["benchmarks"]:
        b = by_id.get(h["id"])
        hw, bw = h["metrics"].get("ns_per_op"), b and b["metrics"].get("ns_per_op")
        if not hw or not bw or not hw.get("rounds") or not bw.get("rounds"):
            continue
        mh, mb = round_medians(hw), round_medians(bw)
        d = [math.log(mh[r] / mb[r]) for r in sorted(mh) if r in mb and mh[r] > 0 and mb[r] > 0]
        if len(d) < 6:
            continue
        sigma = robust_sigma(d)
        sigmas.append(sigma)
        m = statistics.median(d)
        offs.extend((x - m) / sigma if sigma > 0 else 0.0 for x in d)
    return sigmas, offs


def outliers(offs):
    """The rounds more than 3 scales off: how many, above and below, and their median distance."""
    far = [o for o in offs if abs(o) > 3]
    median = f", a median {statistics.median(abs(o) for o in far):.1f} scales off" if far else ""
    return f"{len(far)} of {len(offs)} rounds more than 3 scales off their benchmark's median ({sum(o > 0 for o in far)} above, {sum(o < 0 for o in far)} below{median})"


def main(args):
    stem = "verdicts"
    if args[:1] == ["--verdicts"]:
        stem, args = args[1], args[2:]
    dirs = args
    mdes = {"aa": [], "injected": []}
    sigmas, offs = [], []
    caught = {c: 0 for c in CHANGES}
    injected_runs = 0
    false_total = 0
    for d in map(Path, dirs):
        kind = (d / "kind").read_text().strip()
        v = json.loads((d / f"{stem}.json").read_text())
        head = json.loads((d / "head.json").read_text())
        first = (d / f"{stem}.md").read_text().splitlines()[0].strip("*")
        rc = (d / "rc").read_text().strip()
        secs = (d / "seconds").read_text().strip()
        load = [(d / f).read_text().split()[0] for f in ("load-before", "load-after")]
        flagged = [c for c in v["comparisons"] if c["verdict"] in ("regressed", "improved")]
        false = [c for c in flagged if kind == "aa" or not touched(c["id"])]
        false_total += len(false)
        wall = [c for c in v["comparisons"] if c["metric"] == "ns_per_op"]
        run_mdes = [c["mde"] for c in wall if c.get("mde")]
        mdes[kind].extend(run_mdes)
        screen, confirm = wall_shape(head)
        run_sigmas, run_offs = round_noise(json.loads((d / "base.json").read_text()), head)
        sigmas.extend(run_sigmas)
        offs.extend(run_offs)
        print(f"## {d.name} ({kind}, exit {rc}, {secs} s, load {load[0]} before, {load[1]} after)")
        print(first)
        print(
            f"wall: {len(wall)} rows, {sum(c['verdict'] == 'inconclusive' for c in wall)} inconclusive, "
            f"{sum(c['verdict'] == 'unchanged' for c in wall)} unchanged; screen rounds median "
            f"{statistics.median(screen) if screen else 0} (min {min(screen, default=0)}), "
            f"{len(confirm)} candidates confirmed, confirmation rounds median "
            f"{statistics.median(confirm) if confirm else 0}; stated MDE median "
            f"{pct(statistics.median(run_mdes)) if run_mdes else 'none stated (no wall rounds)'}"
        )
        if run_sigmas:
            print(
                f"round noise: robust sigma of a round's log ratio median {statistics.median(run_sigmas):.4f} "
                f"over {len(run_sigmas)} benchmarks; {outliers(run_offs)}"
            )
        if stem != "verdicts":
            own = json.loads((d / "verdicts.json").read_text())
            then = {(c["id"], c["metric"]): c["verdict"] for c in own["comparisons"]}
            now = {(c["id"], c["metric"]): c["verdict"] for c in v["comparisons"]}
            differ = sum(then.get(k) != now.get(k) for k in then.keys() | now.keys())
            print(f"{stem}: {differ} of {len(then.keys() | now.keys())} comparisons judged otherwise than as run")
        for c in false:
            ratio = "-" if c.get("ratio") is None else f"{c['ratio']:.4f}"
            print(f"FALSE {c['verdict']}: {c['id']} {c['metric']} ratio {ratio} {c.get('note') or ''}")
        if kind == "injected":
            injected_runs += 1
            for name, prefix in CHANGES.items():
                hits = [c for c in flagged if c["id"].startswith(prefix) and c["verdict"] == "regressed"]
                lanes = sorted({c["metric"] for c in hits})
                if hits:
                    caught[name] += 1
                wall_hits = sorted(c["id"].removeprefix(prefix) for c in hits if c["metric"] == "ns_per_op")
                print(
                    f"change {name}: {'caught' if hits else 'MISSED'} ({len(hits)} comparisons; "
                    f"{', '.join(lanes) or 'none'}; wall on: {', '.join(wall_hits) or 'none'})"
                )
        print()
    print("## over all runs")
    print(f"false regressions or improvements: {false_total}")
    if injected_runs:
        for name, n in caught.items():
            print(f"change {name}: caught in {n} of {injected_runs} runs")
    if sigmas:
        q = statistics.quantiles(sigmas, n=4)
        print(
            f"round noise: robust sigma median {statistics.median(sigmas):.4f} (quartiles {q[0]:.4f}, {q[2]:.4f}) "
            f"over {len(sigmas)} benchmark rows; {outliers(offs)}: "
            f"{100 * sum(abs(o) > 3 for o in offs) / len(offs):.1f}% (normal noise: 0.27%)"
        )
    for kind, m in mdes.items():
        if m:
            print(f"median stated wall MDE, {kind} runs: {pct(statistics.median(m))} over {len(m)} rows")


if __name__ == "__main__":
    main(sys.argv[1:])
