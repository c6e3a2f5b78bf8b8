#!/usr/bin/env bash
# Codegen units and instruction counts outside a change: two instr-lane comparisons of all suites with
# compression-injected.patch (a change to bench-suites/src/compression.rs alone) in head, one with
# `run.codegen_units = 0` (the profile's 16 units) and one with the default 1, each in a clone of its
# own (its own target directory), so that neither reuses the other's builds. codegen_units.py counts
# the flags outside the patched benchmarks and the largest move there.
#
# usage: scripts/real-runs/codegen-units.sh OUT_DIR   (from a clean checkout; takes ~50 min; the instr
#        lane's counts do not depend on the load, so it need not run alone)
set -euo pipefail
out=$(mkdir -p "${1:?output directory}" && cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
repo=$(git -C "$here" rev-parse --show-toplevel)
cargo build --release -p cargo-benchgate --manifest-path "$repo/Cargo.toml"
cp "$repo/target/release/benchgate" "$out/benchgate"
for units in 0 1; do
  clone="$out/clone-cgu$units"
  rm -rf "$clone"
  git clone -q "$repo" "$clone"
  git -C "$clone" apply "$here/compression-injected.patch"
  printf '[run]\ncodegen_units = %s\n' "$units" > "$out/cgu$units.toml"
  start=$(date +%s)
  set +e
  (cd "$clone" && "$out/benchgate" run --compare HEAD --lanes instr --config "$out/cgu$units.toml" \
    --out "$out/cgu$units" > "$out/cgu$units.log" 2>&1)
  echo $? > "$out/cgu$units.rc"
  set -e
  echo $(( $(date +%s) - start )) > "$out/cgu$units.seconds"
done
python3 "$here/codegen_units.py" "$out/cgu0" "$out/cgu1"
