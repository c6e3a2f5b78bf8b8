//! The protobuf suite end to end: its small mode (one 10-series request) in every lane, with the
//! declared throughput, the reported encoded size, and exact allocation counts (every routine
//! here is deterministic: a fixed request encoded or decoded the same way on every op).

use cargo_benchgate::model::{Reported, Throughput, ThroughputRate, Unit};

use super::{assert_core_metrics, bench, ids, run_suite};

/// The 10-series request encoded, in bytes: the same for prost and quick-protobuf, whose encodings
/// are byte-identical (bench-suites' unit tests check it). Fixed by the suite's seed.
const ENCODED_BYTES: u64 = 2213;

#[test]
fn protobuf_suite_reports_sizes_and_exact_allocations() {
    let results = run_suite("protobuf", "wall,alloc,instr");
    assert_core_metrics(&results);
    let mut found = ids(&results);
    found.sort_unstable();
    assert_eq!(
        found,
        [
            "protobuf/prost/decode/10-series",
            "protobuf/prost/encode-fresh/10-series",
            "protobuf/prost/encode-reused/10-series",
            "protobuf/quick-protobuf/decode/10-series",
            "protobuf/quick-protobuf/encode-fresh/10-series",
            "protobuf/quick-protobuf/encode-reused/10-series",
        ]
    );
    for b in &results.benchmarks {
        assert_eq!(b.throughput, Some(Throughput::Elements(10)), "{}", b.id);
        assert!(matches!(b.metrics.throughput, Some(ThroughputRate::ElementsPerSec(r)) if r > 0.0), "{}", b.id);
        let reported = b.metrics.reported.get("encoded_bytes");
        assert_eq!(reported, Some(&Reported { value: ENCODED_BYTES as f64, unit: Unit::Bytes }), "{}", b.id);
        assert_eq!(b.metrics.reported.len(), 1, "{}", b.id);
    }

    // (allocations, bytes) per op, counted exactly over the lane's iterations.
    let per_op = |id: &str| {
        let counts = bench(&results, id).metrics.alloc.unwrap();
        assert_eq!(counts.allocs % counts.iters, 0, "{id}: {counts:?}");
        assert_eq!(counts.allocs, counts.frees, "{id}: everything allocated is freed in the op");
        (counts.allocs / counts.iters, counts.bytes / counts.iters)
    };
    for library in ["prost", "quick-protobuf"] {
        // One `Vec` sized exactly to the message (prost's `encoded_len`, quick-protobuf's
        // `get_size`), and nothing else.
        assert_eq!(per_op(&format!("protobuf/{library}/encode-fresh/10-series")), (1, ENCODED_BYTES));
        // The buffer kept from setup already fits: encoding allocates nothing.
        assert_eq!(per_op(&format!("protobuf/{library}/encode-reused/10-series")), (0, 0));
    }
    // The request has 10 series of 5, 5, 8, 8, 5, 7, 8, 5, 7 and 7 labels (65 in all) and 3
    // samples each. Decoding pushes into `Vec`s that grow from capacity 4 and double: the series
    // `Vec` allocates at 4, 8 and 16 (3), each labels `Vec` at 4 and 8 (2 per series, all have
    // more than 4 labels), each samples `Vec` once at 4 (1 per series): 3 + 10 * 3 = 33.
    // quick-protobuf stops there: its labels are `Cow::Borrowed` slices of the input.
    assert_eq!(per_op("protobuf/quick-protobuf/decode/10-series").0, 33);
    // prost adds one `String` for every label name and value: 33 + 2 * 65 = 163.
    assert_eq!(per_op("protobuf/prost/decode/10-series").0, 33 + 2 * 65);
}
