#!/usr/bin/env python3
"""Summarizes a scaling run of scaling.sh: for the one job (v1) and the 4 shards (v4), each run's seconds,
load and steal time, the wall verdicts, the stated MDE (median over the benchmarks that have one, and how
many have none), the intervals' widths, the rounds per benchmark, the verdicts of the injected changes, and
the routines' speed shard by shard against the one job (same binaries: a ratio away from 1 is the machine).

usage: scaling.py OUT_DIR
"""
import json
import math
import os
import statistics
import sys
from collections import Counter

out = sys.argv[1]


def load(*p):
    with open(os.path.join(out, *p)) as f:
        return json.load(f)


def text(name):
    with open(os.path.join(out, name)) as f:
        return f.read().strip()


def wall(v):
    return {c["id"]: c for c in v["comparisons"] if c["metric"] == "ns_per_op"}


def rounds(results):
    """id -> (screen rounds, confirmation rounds) from a side's results."""
    r = {}
    for b in results["benchmarks"]:
        w = (b.get("metrics") or {}).get("ns_per_op")
        if not w or not w.get("rounds"):
            continue
        seen = sorted(set(w["rounds"]))
        cf = w.get("confirm_from")
        r[b["id"]] = (len([x for x in seen if cf is None or x < cf]), len([x for x in seen if cf is not None and x >= cf]))
    return r


def med(xs, scale=1.0, minus=0.0, fmt="{:.2f}"):
    return fmt.format(scale * (statistics.median(xs) - minus)) if xs else "-"


def medians(results):
    return {b["id"]: b["metrics"]["ns_per_op"]["median"] for b in results["benchmarks"]
            if (b.get("metrics") or {}).get("ns_per_op")}


print(f"archive: {int(text('archive-bytes')) / 1e6:.1f} MB, built in {text('build-seconds')} s")
for name in ["s1", "s2", "one", "s3", "s4"]:
    steal = int(text(f"{name}.steal-after")) - int(text(f"{name}.steal-before"))
    print(f"{name}: rc {text(name + '.rc')}, {float(text(name + '.seconds')):.1f} s, load "
          f"{text(name + '.load-before').split()[0]} -> {text(name + '.load-after').split()[0]}, "
          f"steal {steal / os.sysconf('SC_CLK_TCK'):.1f} s (all cores)")
shards = [float(text(f"s{i}.seconds")) for i in range(1, 5)]
print(f"slowest shard {max(shards):.1f} s; one job {float(text('one.seconds')):.1f} s; "
      f"ratio {float(text('one.seconds')) / max(shards):.2f}")

arms = {"one job": "v1", "4 shards": "v4"}
w = {k: wall(load(d, "verdicts.json")) for k, d in arms.items()}
for k, d in arms.items():
    v = w[k]
    mdes = [c["mde"] for c in v.values() if c.get("mde")]
    widths = [c["ci"][1] / c["ci"][0] - 1 for c in v.values() if c.get("ci")]
    rs = rounds(load(d, "head.json"))
    screen = [s for s, _ in rs.values()]
    conf = [c for _, c in rs.values() if c > 0]
    print(f"{k} (exit {text(d + '.rc')}): {dict(Counter(c['verdict'] for c in v.values()))}; "
          f"MDE median {med(mdes, 100, 1)}% over {len(mdes)} (none: {len(v) - len(mdes)}); "
          f"interval width median {med(widths, 100)}%; screening rounds median "
          f"{statistics.median(screen) if screen else 0}, {len(conf)} confirmed over a median of "
          f"{statistics.median(conf) if conf else 0} rounds")
    print("  policy:", load(d, "verdicts.json")["policy"])
both = [i for i in w["one job"] if w["one job"][i].get("mde") and w["4 shards"].get(i, {}).get("mde")]
if both:
    r = [w["4 shards"][i]["mde"] / w["one job"][i]["mde"] for i in both]
    print(f"MDE of 4 shards / one job, per benchmark with both ({len(both)}): median {statistics.median(r):.3f}")
for i in ["many/b0100", "many/b0600"]:
    print(i, {k: {f: w[k][i].get(f) for f in ("verdict", "ratio", "p_value", "p_adjusted", "mde", "note")}
              for k in arms})


def round_sigma(base, head):
    """Per benchmark: the robust sigma (1.4826 MAD) of its rounds' log ratios, as stats::power uses."""
    out = []
    heads = {b["id"]: b for b in head["benchmarks"]}
    for b in base["benchmarks"]:
        if b["id"] not in heads:
            continue
        rb, rh = (round_medians(x) for x in (b, heads[b["id"]]))
        logs = [math.log(rh[r] / rb[r]) for r in rb if r in rh]
        if len(logs) >= 3:
            m = statistics.median(logs)
            out.append(1.4826 * statistics.median([abs(v - m) for v in logs]))
    return out


def round_medians(b):
    w = (b.get("metrics") or {}).get("ns_per_op") or {}
    by = {}
    for r, v in zip(w.get("rounds") or [], w.get("samples") or []):
        by.setdefault(r, []).append(v)
    return {r: statistics.median(v) for r, v in by.items()}


one_base, one_head = load("one", "base.json"), load("one", "head.json")
ns = [m for m in medians(one_base).values()]
print(f"one job: base ns/op {min(ns):.0f}-{max(ns):.0f}; round log-ratio sigma median "
      f"{med(round_sigma(one_base, one_head), 100, fmt='{:.2f}')}%")
for k, d in arms.items():
    alloc = [c for c in load(d, "verdicts.json")["comparisons"] if c["metric"] == "allocs_per_op"
             and c["verdict"] == "regressed"]
    print(f"{k}: allocs/op regressed in {sorted(c['id'] for c in alloc)}")
one = medians(one_base)
for s in range(1, 5):
    m = medians(load(f"s{s}", "base.json"))
    r = [m[i] / one[i] for i in m if i in one]
    print(f"shard {s}: base ns/op / one job's, median over {len(r)}: {med(r, fmt='{:.3f}')}")
