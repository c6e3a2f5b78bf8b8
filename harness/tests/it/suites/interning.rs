//! The interning suite end to end: its small mode (the per-name benchmarks over 1000 names, the
//! 1000-lookup workload) in every lane, with the declared throughput, the reported figures, and
//! exact allocation counts: every routine here does the same work on every op (the interners and
//! hashers are deterministic, see `bench_suites::interning`), so its counts per op are exact.

use cargo_benchgate::model::{Reported, Throughput, ThroughputRate, Unit};

use super::{assert_core_metrics, bench, ids, run_suite};

/// The interners, by their name in ids.
const INTERNERS: [&str; 5] = ["hashmap", "lasso", "lasso-threaded", "string-interner", "ustr"];

/// Names per hit, miss and resolve op; lookups per op of the small workload.
const NAMES: u64 = 1000;
const LOOKUPS: u64 = 1000;

/// Bytes of the 1000 names the small workload looks up (Zipf over 100 names), and of the 1000 new
/// names a miss op interns (`<name>_0` to `<name>_999`): fixed by the suite's seeds.
const LOOKUP_BYTES: u64 = 28_398;
const NEW_NAME_BYTES: u64 = 32_247;
/// What ustr's bump allocators give the 1000 new names: per string a 16-byte header (hash, length),
/// the bytes and a NUL, rounded up to 8 (`NEW_NAME_BYTES + 17 * 1000` plus the rounding).
const USTR_NEW_NAME_BYTES: u64 = 52_776;

#[test]
fn interning_suite_counts_allocations_exactly() {
    let results = run_suite("interning", "wall,alloc,instr");
    assert_core_metrics(&results);
    let mut found = ids(&results);
    found.sort_unstable();
    let mut expected: Vec<String> = INTERNERS
        .iter()
        .flat_map(|i| ["intern-hit", "intern-miss", "resolve"].map(|op| format!("interning/{i}/{op}")))
        .chain(INTERNERS.iter().map(|i| format!("interning/workload/{i}/{LOOKUPS}")))
        .chain([format!("interning/workload/owned-strings/{LOOKUPS}")])
        .collect();
    expected.sort_unstable();
    assert_eq!(found, expected);

    for b in &results.benchmarks {
        let elements = if b.id.contains("/workload/") { LOOKUPS } else { NAMES };
        assert_eq!(b.throughput, Some(Throughput::Elements(elements)), "{}", b.id);
        assert!(matches!(b.metrics.throughput, Some(ThroughputRate::ElementsPerSec(r)) if r > 0.0), "{}", b.id);
        assert!(b.metrics.instructions_per_op.is_some_and(|i| i > 0.0), "{}: no instr/op", b.id);
        let reported: Vec<&str> = b.metrics.reported.keys().map(String::as_str).collect();
        let expected_reported: &[&str] = match b.id.as_str() {
            "interning/ustr/intern-miss" => &["uncounted_bytes_per_op"],
            id if id.starts_with("interning/workload/owned-strings/") => &["name_bytes"],
            _ => &[],
        };
        assert_eq!(reported, expected_reported, "{}", b.id);
    }

    // (allocations, bytes) per op, counted exactly over the lane's iterations.
    let per_op = |id: &str| {
        let counts = bench(&results, id).metrics.alloc.unwrap();
        assert_eq!(counts.allocs % counts.iters, 0, "{id}: {counts:?}");
        assert_eq!(counts.bytes % counts.iters, 0, "{id}: {counts:?}");
        (counts.allocs / counts.iters, counts.bytes / counts.iters)
    };
    for interner in INTERNERS {
        // A hit finds the string and returns its key; a resolve indexes a vector or follows a
        // pointer (lasso-threaded: looks the key up in its second `DashMap`). Neither allocates.
        assert_eq!(per_op(&format!("interning/{interner}/intern-hit")), (0, 0), "{interner}");
        assert_eq!(per_op(&format!("interning/{interner}/resolve")), (0, 0), "{interner}");
        // The interner already holds every name of the sequence, and the key vector kept from
        // setup has the capacity: the steady state of the workload with interning allocates
        // nothing, for every interner.
        assert_eq!(per_op(&format!("interning/workload/{interner}/{LOOKUPS}")), (0, 0), "{interner}");
    }

    // Without interning: exactly one `String` per name looked up, of exactly the name's length
    // (the vector kept from setup has the capacity), i.e. the reported bytes of the names.
    let owned = format!("interning/workload/owned-strings/{LOOKUPS}");
    let name_bytes = bench(&results, &owned).metrics.reported["name_bytes"];
    assert_eq!(name_bytes, Reported { value: LOOKUP_BYTES as f64, unit: Unit::Bytes });
    assert_eq!(per_op(&owned), (LOOKUPS, LOOKUP_BYTES));

    // A miss op interns 1000 new names into an interner holding 1000 (built in setup), so it grows
    // from 1000 to 2000 strings, through one doubling of each structure. Tables are hashbrown's,
    // which hold 7/8 of their buckets: 1000 and 1792 strings fit in 2048, 2000 need 4096.
    // - hashmap: two `String` copies per name (the map's key and the vector's entry); the
    //   `Vec<String>` grows from 1024 to 2048 slots of 24 bytes, and the table from 2048 to 4096
    //   buckets of 32 bytes (a `String` and a `u32`) plus 4096 + 16 control bytes.
    assert_eq!(
        per_op("interning/hashmap/intern-miss"),
        (2 * NAMES + 2, 2 * NEW_NAME_BYTES + 2048 * 24 + 4096 * 32 + 4096 + 16)
    );
    // - lasso: one new arena bucket (its buckets double from 4 KiB: the names filled 4, 8 and
    //   16 KiB, the new ones go to a 32 KiB one), its `Vec<&str>` reallocated from 1600 to 3200
    //   entries of 16 bytes (it doubles from 50), and its table of 4-byte keys from 2048 to 4096
    //   buckets.
    assert_eq!(per_op("interning/lasso/intern-miss"), (3, 32 * 1024 + 3200 * 16 + 4096 * 4 + 4096 + 16));
    // - string-interner: its one `String` of all strings doubles (54 to 108 KiB), its `Vec<usize>`
    //   of end offsets doubles (1024 to 2048) and its table of 4-byte symbols goes from 2048 to
    //   4096 buckets.
    assert_eq!(per_op("interning/string-interner/intern-miss"), (3, 108 * 1024 + 2048 * 8 + 4096 * 4 + 4096 + 16));
    // - lasso-threaded: one arena bucket, plus table growth in the shards of its two `DashMap`s,
    //   whose number is 4 x the available cores rounded up to a power of two (machine-dependent,
    //   so only bounded here): more than lasso's 3, at most one arena bucket and two resizes per
    //   shard of each map.
    let (threaded, _) = per_op("interning/lasso-threaded/intern-miss");
    let shards = (4 * std::thread::available_parallelism().unwrap().get()).next_power_of_two() as u64;
    assert!(threaded > 3 && threaded <= 1 + 2 * 2 * shards, "{threaded} allocs with {shards} shards");
    // - ustr: none through the global allocator. Its slot array (1 Mi slots, allocated once at
    //   first use, in setup) does not grow, and the strings come from its bump allocators, which
    //   take their memory from `System` directly: the alloc lane cannot see them, which is why the
    //   benchmark reports them.
    assert_eq!(per_op("interning/ustr/intern-miss"), (0, 0));
    let uncounted = bench(&results, "interning/ustr/intern-miss").metrics.reported["uncounted_bytes_per_op"];
    assert_eq!(uncounted, Reported { value: USTR_NEW_NAME_BYTES as f64, unit: Unit::Bytes });
    assert!((NEW_NAME_BYTES + 17 * NAMES..NEW_NAME_BYTES + 24 * NAMES).contains(&USTR_NEW_NAME_BYTES));
}
