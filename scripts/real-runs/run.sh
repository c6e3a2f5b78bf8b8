#!/usr/bin/env bash
# One real run of the gate on this repository at the default time budget: `cargo xtask bench --compare
# HEAD`, either A/A (`aa`: the same code on both sides, timed anyway with --force) or with the compression
# suite's four injected changes (`injected`: compression-injected.patch applied to the working tree for
# the run, head = HEAD + the patch; without --force, so as a pull request would be measured). Keeps the
# verdicts, both result files, the log, the exit code, the seconds and the load before and after in
# OUT_DIR. summarize.py reads a set of such directories.
#
# usage: scripts/real-runs/run.sh aa|injected OUT_DIR   (from a clean checkout, alone on the machine)
set -euo pipefail
kind=${1:?aa or injected}
out=${2:?output directory}
here=$(cd "$(dirname "$0")" && pwd)
cd "$(git -C "$here" rev-parse --show-toplevel)"
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  echo "run.sh: the working tree has uncommitted changes; run from a clean checkout" >&2
  exit 2
fi
args=()
case $kind in
  aa) args=(--force) ;;
  injected)
    git apply "$here/compression-injected.patch"
    trap 'git apply -R "$here/compression-injected.patch"' EXIT
    ;;
  *) echo "run.sh: unknown kind '$kind' (aa or injected)" >&2; exit 2 ;;
esac
mkdir -p "$out"
echo "$kind" > "$out/kind"
git rev-parse HEAD > "$out/commit"
cat /proc/loadavg > "$out/load-before"
start=$(date +%s)
set +e
cargo xtask bench --compare HEAD "${args[@]}" --out "$out" 2> "$out/log"
echo $? > "$out/rc"
set -e
echo $(( $(date +%s) - start )) > "$out/seconds"
cat /proc/loadavg > "$out/load-after"
