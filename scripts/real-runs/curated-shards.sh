#!/usr/bin/env bash
# Issue 20's check on the curated suites, made by hand (each run takes minutes, too long for CI): this
# repository's suites with compression-injected.patch in head are archived once by `benchgate build
# --compare HEAD`, measured as 4 shards one after another and as one shard (1/1) with the alloc and instr
# lanes, and judged by `verdicts` both ways. curated_shards.py then checks that both verdicts hold the
# same comparisons (benchmark and metric), that each judged them in one decision, and that both caught
# the four injected changes; it lists the comparisons whose verdicts differ, and exits 1 if a check fails.
#
# usage: scripts/real-runs/curated-shards.sh OUT_DIR   (from a clean checkout, alone on the machine)
# BENCHGATE: the tool (default target/release/benchgate of this checkout, built first).
set -euo pipefail
out=${1:?output directory}
here=$(cd "$(dirname "$0")" && pwd)
root=$(git -C "$here" rev-parse --show-toplevel)
cd "$root"
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  echo "curated-shards.sh: the working tree has uncommitted changes; run from a clean checkout" >&2
  exit 2
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
if [ -z "${BENCHGATE:-}" ]; then
  cargo build --release -q -p cargo-benchgate
  BENCHGATE=$root/target/release/benchgate
fi
git apply "$here/compression-injected.patch"
trap 'git apply -R "$here/compression-injected.patch"' EXIT
git rev-parse HEAD > "$out/commit"
start=$(date +%s)
"$BENCHGATE" build --compare HEAD --archive "$out/archive.tar.gz" 2> "$out/build.log"
echo $(( $(date +%s) - start )) > "$out/build-seconds"
git apply -R "$here/compression-injected.patch"
trap - EXIT
stat -c %s "$out/archive.tar.gz" > "$out/archive-bytes"

measure() { # name shard
  local t0; t0=$(date +%s)
  set +e
  "$BENCHGATE" run --archive "$out/archive.tar.gz" --shard "$2" --lanes alloc,instr --out "$out/$1" 2> "$out/$1.log"
  echo $? > "$out/$1.rc"
  set -e
  echo $(( $(date +%s) - t0 )) > "$out/$1.seconds"
}
for i in 1 2 3 4; do measure "s$i" "$i/4"; done
measure one 1/1
# shellcheck source=judge-both.sh
. "$here/judge-both.sh"
judge_both "$out"
python3 "$here/curated_shards.py" "$out" | tee "$out/summary.txt"
