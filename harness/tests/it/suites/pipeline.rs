//! The pipeline suite end to end: its small mode (10 data points) in every lane, with the declared
//! throughput, the reported sizes, and exact allocation counts: none at all in the steady state,
//! and a fixed count for the one-shot path (the same input processed the same way every op).

use cargo_benchgate::model::{Reported, Throughput, ThroughputRate, Unit};

use super::{assert_core_metrics, bench, ids, run_suite};

/// The `WriteRequest` of the 10 points encoded, and snappy-compressed, in bytes: fixed by the
/// suite's seed, and the same for both variants (they produce the same bytes).
const ENCODED_BYTES: f64 = 1086.0;
const COMPRESSED_BYTES: f64 = 395.0;

#[test]
fn pipeline_suite_steady_state_allocates_nothing() {
    let results = run_suite("pipeline", "wall,alloc,instr");
    assert_core_metrics(&results);
    let mut found = ids(&results);
    found.sort_unstable();
    assert_eq!(found, ["pipeline/one-shot/10-points", "pipeline/steady-state/10-points"]);
    for b in &results.benchmarks {
        assert_eq!(b.throughput, Some(Throughput::Elements(10)), "{}", b.id);
        assert!(matches!(b.metrics.throughput, Some(ThroughputRate::ElementsPerSec(r)) if r > 0.0), "{}", b.id);
        let reported = |name: &str| b.metrics.reported.get(name).copied();
        assert_eq!(reported("encoded_bytes"), Some(Reported { value: ENCODED_BYTES, unit: Unit::Bytes }), "{}", b.id);
        let compressed = Some(Reported { value: COMPRESSED_BYTES, unit: Unit::Bytes });
        assert_eq!(reported("compressed_bytes"), compressed, "{}", b.id);
        assert_eq!(b.metrics.reported.len(), 2, "{}", b.id);
    }

    // Every buffer (interner, series and their label strings, encoded and compressed bytes,
    // snappy's hash table) was grown by the setup run over the same input: nothing is allocated.
    let steady = bench(&results, "pipeline/steady-state/10-points").metrics.alloc.unwrap();
    assert_eq!((steady.allocs, steady.frees, steady.bytes, steady.peak_live_bytes), (0, 0, 0, 0), "{steady:?}");

    // The 10 points (among 6 comment lines) have 37 labels with `__name__` (4, 4, 4, 4, 4, 3, 3, 3,
    // 4, 4). Per op: the interner, 4 (its hash map, its strings `Vec`, its arena's first bucket and
    // the `Vec` of buckets); per point, the labels scratch `Vec` (1), the labels `Vec` (1, collected
    // at its exact size), a name and a value `String` per label (2 * 37 in all), the samples `Vec`
    // (1); the series `Vec` growing to 4, 8 and 16 (3); `encode_to_vec` (1); and snappy's output and
    // its 32 KiB hash table for inputs over 1 KiB (2). 4 + 10 * 3 + 74 + 3 + 1 + 2 = 114.
    let one_shot = bench(&results, "pipeline/one-shot/10-points").metrics.alloc.unwrap();
    assert_eq!(one_shot.allocs % one_shot.iters, 0, "{one_shot:?}");
    assert_eq!(one_shot.allocs / one_shot.iters, 114, "{one_shot:?}");
    assert_eq!(one_shot.allocs, one_shot.frees, "everything allocated is freed in the op");
    assert!(one_shot.bytes / one_shot.iters > 32 * 1024, "snappy's table alone is 32 KiB: {one_shot:?}");
}
