#!/usr/bin/env bash
# What adopting benchgate costs a criterion project (issue: "Adopting benchgate costs what adopting
# criterion costs"). Generates a project of 12 criterion bench files, then, cold (fresh target
# directories, registry already fetched):
#   1. `cargo bench --no-run` with criterion = "0.8"
#   2. `cargo bench --no-run` with benchgate's bench side, the bench files' import changed
#   3. `cargo benchgate run --quick` after 2, to the table (the build is reused)
#   4. a first `cargo benchgate run --compare HEAD --quick` with one routine changed in the working tree
# and prints the times, the crates compiled and the ratio of 2 to 1. Run it on a quiet machine; it
# prints the load average before and after.
#
# Usage: scripts/adoption_cost.sh [WORKDIR]   (default: a new temporary directory)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
echo "workdir: $work"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== building the tool (release), not timed"
cargo build --release -q --manifest-path "$repo/Cargo.toml" -p cargo-benchgate
tool="$repo/target/release/benchgate"

make_project() { # DIR DEPENDENCY-LINE IMPORT-PATH
  local dir="$1" dep="$2" import="$3"
  rm -rf "$dir"
  mkdir -p "$dir/src" "$dir/benches"
  {
    printf '[workspace]\n\n[package]\nname = "adoptcost"\nversion = "0.1.0"\nedition = "2024"\npublish = false\n\n'
    printf '[dev-dependencies]\n%s\n\n[profile.bench]\ndebug = "line-tables-only"\n' "$dep"
    for i in $(seq -w 1 12); do printf '\n[[bench]]\nname = "b%s"\nharness = false\n' "$i"; done
  } > "$dir/Cargo.toml"
  cat > "$dir/src/lib.rs" <<'RS'
/// A small tokenizer, the code under test.
pub fn tokenize(s: &str, rounds: u32) -> usize {
    let mut n = 0;
    for _ in 0..rounds {
        n += s.split(|c: char| !c.is_alphanumeric()).filter(|t| !t.is_empty()).count();
    }
    n
}
RS
  for i in $(seq -w 1 12); do
    cat > "$dir/benches/b$i.rs" <<RS
use $import::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput, black_box};

fn bench(c: &mut Criterion) {
    let text = "the quick brown fox jumps over the lazy dog; ".repeat(20 * $((10#$i)));
    c.bench_function("tokenize_$i", |b| b.iter(|| adoptcost::tokenize(black_box(&text), 1)));
    let mut g = c.benchmark_group("sizes_$i");
    for n in [1u32, 4] {
        g.throughput(Throughput::Bytes(text.len() as u64 * u64::from(n)));
        g.bench_with_input(BenchmarkId::new("rounds", n), &n, |b, &n| b.iter(|| adoptcost::tokenize(&text, n)));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
RS
  done
}

timed() { # LABEL LOG COMMAND...
  local label="$1" log="$2"; shift 2
  local t0 t1
  t0=$(date +%s.%N)
  "$@" > "$log" 2>&1 || { echo "$label failed, see $log"; tail -20 "$log"; exit 1; }
  t1=$(date +%s.%N)
  printf '%-44s %7.1f s   %3d crates compiled\n' "$label" "$(echo "$t1 - $t0" | bc)" "$(grep -c '^ *Compiling ' "$log" || true)"
}

# Exit 1 of a comparison is a verdict (a regression), not a failure of the script.
verdict_ok() { local c=0; "$@" || c=$?; [ "$c" -le 1 ]; }

make_project "$work/criterion" 'criterion = "0.8"' criterion
make_project "$work/benchgate" "benchgate = { path = \"$repo/benchgate\" }" benchgate::criterion
for p in criterion benchgate; do (cd "$work/$p" && cargo fetch -q); done

echo "== cold builds"
timed "criterion: cargo bench --no-run" "$work/criterion.log" \
  env CARGO_TARGET_DIR="$work/criterion/target" cargo bench --no-run --manifest-path "$work/criterion/Cargo.toml"
timed "benchgate: cargo bench --no-run" "$work/benchgate.log" \
  env CARGO_TARGET_DIR="$work/benchgate/target" cargo bench --no-run --manifest-path "$work/benchgate/Cargo.toml"

echo "== the tool on the benchgate project"
timed "cargo benchgate run --quick (to the table)" "$work/run.log" \
  env CARGO_TARGET_DIR="$work/benchgate/target" "$tool" --manifest-path "$work/benchgate/Cargo.toml" run --quick \
  --out "$work/run.json"
(cd "$work/benchgate" && git init -q -b main && printf 'target/\n' > .gitignore && git add . \
  && git -c user.email=a@b -c user.name=a commit -qm base)
sed -i 's/filter(|t| !t.is_empty())/filter(|t| t.len() > 1)/' "$work/benchgate/src/lib.rs"
timed "first run --compare HEAD --quick" "$work/compare.log" \
  verdict_ok env CARGO_TARGET_DIR="$work/benchgate/target" "$tool" --manifest-path "$work/benchgate/Cargo.toml" run --quick \
  --compare HEAD --out "$work/compare"
grep -E "time budget|benchmarks? (in|measured)|verdict|regress" "$work/compare.log" | head -5 || true
echo "serde compiled in the first comparison: $(grep -c 'Compiling serde v' "$work/compare.log" || true)"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
