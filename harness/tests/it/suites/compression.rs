//! The compression suite end to end: every codec and operation at the smallest payload, in every lane.

use cargo_benchgate::model::ThroughputRate;

use super::{assert_core_metrics, bench, run_suite};

#[test]
fn compression_suite_yields_every_figure() {
    let r = run_suite("compression", "wall,alloc,instr");
    assert_core_metrics(&r);
    // 7 codecs compress and decompress; all but brotli also compress with a reused context.
    assert_eq!(r.benchmarks.len(), 7 * 2 + 6, "{:?}", super::ids(&r));
    for b in &r.benchmarks {
        assert!(matches!(b.metrics.throughput, Some(ThroughputRate::BytesPerSec(v)) if v > 0.0), "{}", b.id);
    }
    // Deterministic allocation counts. snappy's one-shot decompression allocates exactly its output
    // buffer: one allocation of the uncompressed size (10 KiB).
    let snappy = bench(&r, "compression/snappy/decompress/metrics-10KB");
    assert_eq!(snappy.metrics.allocs_per_op, Some(1.0));
    assert_eq!(snappy.metrics.bytes_per_op, Some(10.0 * 1024.0));
    // A reused zstd context with a grown output buffer allocates nothing per op.
    assert_eq!(bench(&r, "compression/zstd-1/compress-reused/metrics-10KB").metrics.allocs_per_op, Some(0.0));
}
