#!/usr/bin/env python3
"""Summarizes codegen-units.sh: for each comparison folder (instr lane, compression-injected.patch in
head), the instruction flags inside the patched benchmarks (summarize.py's CHANGES) and outside them,
the largest move outside them, and what was counted again (the verdict notes).

usage: codegen_units.py DIR [DIR ...]
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from summarize import touched  # noqa: E402

first_outside = None
for d in sys.argv[1:]:
    with open(os.path.join(d, "verdicts.json")) as f:
        v = json.load(f)
    rows = [c for c in v["comparisons"] if c["metric"] == "instructions_per_op" and c.get("base")]
    flagged = [c for c in rows if c["verdict"] in ("regressed", "improved")]
    inside = [c for c in flagged if touched(c["id"])]
    outside = [c for c in flagged if not touched(c["id"])]
    moves = sorted(((abs(c["head"] / c["base"] - 1), c["id"]) for c in rows if not touched(c["id"])), reverse=True)
    notes = [c.get("note") or "" for c in rows]
    again = sum("counted again" in n for n in notes)
    varied = sum("vary between processes" in n for n in notes)
    print(f"{d}: {len(rows)} instr comparisons; flagged {len(inside)} inside the patched benchmarks, "
          f"{len(outside)} outside")
    for c in sorted(outside, key=lambda c: c["id"]):
        print(f"  outside: {c['id']} {c['verdict']} {100 * (c['head'] / c['base'] - 1):+.2f}%")
    print(f"  largest move outside: " + ", ".join(f"{i} {100 * m:.3f}%" for m, i in moves[:3]))
    print(f"  counted again: {again} repeated exactly, {varied} varied (7 a side, judged on the ranges)")
    if first_outside is None:
        first_outside = {c["id"] for c in outside}
    elif first_outside:
        same = sorted(((abs(c["head"] / c["base"] - 1), c["id"]) for c in rows if c["id"] in first_outside),
                      reverse=True)
        print(f"  the {len(first_outside)} flagged outside in {sys.argv[1]}: largest move here "
              f"{same[0][1]} {100 * same[0][0]:.3f}%")
