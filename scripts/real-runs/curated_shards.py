#!/usr/bin/env python3
"""Checks a run of curated-shards.sh: the 4-shard verdict (v4) and the one-shard verdict (v1) of one
archive hold the same comparisons (benchmark and metric), each decided once (one policy line), and both
caught the four injected changes of compression-injected.patch (summarize.py's CHANGES: a regression in
a benchmark each change touched). Lists the comparisons whose verdicts differ, with both verdicts, and
each shard's seconds. Exit 1 when a check fails.

usage: curated_shards.py OUT_DIR
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from summarize import CHANGES, touched  # noqa: E402

out = sys.argv[1]


def read(*p):
    with open(os.path.join(out, *p)) as f:
        return f.read().strip()


def verdicts(d):
    v = json.loads(read(d, "verdicts.json"))
    return v, {(c["id"], c["metric"]): c for c in v["comparisons"]}


failed = []
print(f"archive {int(read('archive-bytes')) / 1e6:.1f} MB, built in {read('build-seconds')} s")
for name in ["s1", "s2", "s3", "s4", "one"]:
    print(f"{name}: exit {read(name + '.rc')}, {read(name + '.seconds')} s")
(v4, c4), (v1, c1) = verdicts("v4"), verdicts("v1")
print(f"v4 exit {read('v4.rc')}: {v4['verdict']}; v1 exit {read('v1.rc')}: {v1['verdict']}")
if set(c4) != set(c1):
    failed.append(f"different comparisons: only in v4 {sorted(set(c4) - set(c1))[:5]}, "
                  f"only in v1 {sorted(set(c1) - set(c4))[:5]}")
else:
    print(f"same comparisons: {len(c4)}")
for v, name in [(v4, "v4"), (v1, "v1")]:
    print(f"{name} {v['policy']}")
for change, prefix in CHANGES.items():
    for name, c in [("v4", c4), ("v1", c1)]:
        hit = sorted(f"{i} {m}" for (i, m), x in c.items() if i.startswith(prefix) and x["verdict"] == "regressed")
        if not hit:
            failed.append(f"{name} missed change {change}")
        print(f"{name} change {change}: {len(hit)} regressed: {', '.join(hit[:4])}{' ...' if len(hit) > 4 else ''}")
differ = sorted(k for k in set(c4) & set(c1) if c4[k]["verdict"] != c1[k]["verdict"])
print(f"{len(differ)} comparisons judged differently:")
for k in differ:
    a, b = c4[k], c1[k]
    print(f"  {k[0]} {k[1]}: 4 shards {a['verdict']} ({a.get('base')} -> {a.get('head')}), "
          f"one {b['verdict']} ({b.get('base')} -> {b.get('head')}); {a.get('note') or b.get('note') or ''}")
for name, c in [("v4", c4), ("v1", c1)]:
    threaded = [x for x in c.values() if "threads took part" in (x.get("note") or "")]
    flagged = sorted(f"{i} {m} {x['verdict']}" for (i, m), x in c.items()
                     if x["verdict"] in ("regressed", "improved") and not touched(i))
    print(f"{name}: {len(threaded)} threaded allocation comparisons (ranges), "
          f"{sum(x['verdict'] != 'unchanged' for x in threaded)} not unchanged; "
          f"{len(flagged)} flags outside the changed benchmarks:")
    for f in flagged:
        print("   ", f)
common = {k for k in c4 if k in c1 and not touched(k[0]) and c4[k]["verdict"] in ("regressed", "improved")
          and c4[k]["verdict"] == c1[k]["verdict"]}
print(f"flags outside the changed benchmarks in both, alike: {len(common)}")
for f in failed:
    print("FAILED:", f)
sys.exit(1 if failed else 0)
