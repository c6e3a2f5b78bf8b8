#!/usr/bin/env bash
# The scaling run of README's "Scaling out": a generated suite of 1,000 benchmarks (routines of about 2-3 µs;
# in head b0100 and b0600 do 10% more work and b0017, b0503, b0998 allocate once more per op), archived once
# by `benchgate build --compare`, then measured as one job of ONE_JOB seconds (`--shard 1/1`) and as 4 shards
# of ONE_JOB/4 seconds each, so that every benchmark gets about the same time in both arms. The arms run
# interleaved, shard 1, shard 2, the one job, shard 3, shard 4, so that a drift of the machine over the hour
# (this VM reports steal time) falls on both. Each run's seconds, load and steal time are kept beside its
# results; scaling.py summarizes.
#
# usage: scripts/real-runs/scaling.sh OUT_DIR [ONE_JOB_SECONDS]   (alone on the machine; default 1200)
# BENCHGATE: the tool (default target/release/benchgate of this checkout, built first).
set -euo pipefail
out=${1:?output directory}
budget=${2:-1200}
here=$(cd "$(dirname "$0")" && pwd)
root=$(git -C "$here" rev-parse --show-toplevel)
mkdir -p "$out"
out=$(cd "$out" && pwd)
if [ -z "${BENCHGATE:-}" ]; then
  cargo build --release -q --manifest-path "$root/Cargo.toml" -p cargo-benchgate
  BENCHGATE=$root/target/release/benchgate
fi
repo=$out/repo
rm -rf "$repo"
mkdir -p "$repo/benches" "$repo/src"
: > "$repo/src/lib.rs"
cat > "$repo/Cargo.toml" <<TOML
[workspace]

[package]
name = "scaling"
version = "0.0.0"
edition = "2024"
publish = false

[dev-dependencies]
benchgate = { path = "$root/benchgate" }

[[bench]]
name = "many"
harness = false

[profile.bench]
debug = "line-tables-only"
TOML
cp "$root/harness/tests/fixture/Cargo.lock" "$repo/Cargo.lock"
echo "target/" > "$repo/.gitignore"
suite() {
  cat <<RUST
//! 1,000 generated benchmarks for the scaling run (scripts/real-runs/scaling.sh).
use benchgate::{Bencher, Harness, black_box};

#[inline(never)]
fn work(n: u64) -> u64 {
    (0..n).fold(0u64, |a, i| a.wrapping_add(black_box(i).wrapping_mul(3)))
}

const ALLOCATE: &[u64] = &[$1];
const SLOWER: &[u64] = &[$2];

fn many(h: &mut Harness) {
    let mut s = h.suite("many");
    for i in 0..1000u64 {
        let extra = ALLOCATE.contains(&i);
        let n = 2000 + 40 * (i % 25);
        let n = if SLOWER.contains(&i) { n * 11 / 10 } else { n };
        s.bench(&format!("b{i:04}"), move |b: &mut Bencher| {
            b.iter(|| {
                if extra {
                    black_box(Vec::<u8>::with_capacity(64));
                }
                work(black_box(n))
            })
        });
    }
}

benchgate::main!(many);
RUST
}
git -C "$repo" init -q -b main
git -C "$repo" -c user.email=s@example.com -c user.name=s commit -q --allow-empty -m init
suite "" "" > "$repo/benches/many.rs"
git -C "$repo" add .
git -C "$repo" -c user.email=s@example.com -c user.name=s commit -qm base
git -C "$repo" checkout -qb change
suite "17, 503, 998" "100, 600" > "$repo/benches/many.rs"
git -C "$repo" -c user.email=s@example.com -c user.name=s commit -qam change

export CARGO_TARGET_DIR=$out/target
start=$(date +%s)
"$BENCHGATE" --manifest-path "$repo/Cargo.toml" build --compare main --archive "$out/archive.tar.gz" 2> "$out/build.log"
echo $(( $(date +%s) - start )) > "$out/build-seconds"
stat -c %s "$out/archive.tar.gz" > "$out/archive-bytes"

steal() { awk '/^cpu /{print $9}' /proc/stat; }
measure() { # name shard seconds
  local dir=$out/$1
  rm -rf "$dir"
  cat /proc/loadavg > "$out/$1.load-before"
  steal > "$out/$1.steal-before"
  local t0; t0=$(date +%s.%N)
  set +e
  (cd "$out" && "$BENCHGATE" run --archive "$out/archive.tar.gz" --shard "$2" --lanes wall,alloc \
    --time-budget "$3s" --out "$dir" 2> "$out/$1.log")
  echo $? > "$out/$1.rc"
  set -e
  echo "$(date +%s.%N) - $t0" | bc > "$out/$1.seconds"
  cat /proc/loadavg > "$out/$1.load-after"
  steal > "$out/$1.steal-after"
}
quarter=$(( budget / 4 ))
measure s1 1/4 "$quarter"
measure s2 2/4 "$quarter"
measure one 1/1 "$budget"
measure s3 3/4 "$quarter"
measure s4 4/4 "$quarter"
# shellcheck source=judge-both.sh
. "$here/judge-both.sh"
judge_both "$out"
python3 "$here/scaling.py" "$out" | tee "$out/summary.txt"
