# Sourced by scaling.sh and curated-shards.sh: `benchgate verdicts` over the four shards (v4) and over
# the one-shard run (v1) of OUT, each with its output, text and exit code kept.
judge_both() { # OUT
  set +e
  "$BENCHGATE" verdicts "$1/s1" "$1/s2" "$1/s3" "$1/s4" --out "$1/v4" > "$1/v4.txt" 2>&1
  echo $? > "$1/v4.rc"
  "$BENCHGATE" verdicts "$1/one" --out "$1/v1" > "$1/v1.txt" 2>&1
  echo $? > "$1/v1.rc"
  set -e
}
