//! The queues suite end to end: every in-memory queue's push-pop, throughput and latency benchmarks
//! and the persistent queue run through every lane at the small sizes, with their declared metrics,
//! exact allocation counts where the queue's design fixes them, and every record recovered.

use cargo_benchgate::model::{AllocCounts, Results, ThroughputRate, Unit};

use super::{assert_core_metrics, bench, run_suite};

/// The queues, by their names in benchmark ids (`bench_suites::queues::Kind::name`).
const KINDS: [&str; 8] = [
    "std-channel",
    "std-sync-channel",
    "crossbeam-unbounded",
    "crossbeam-bounded",
    "flume-unbounded",
    "flume-bounded",
    "array-queue",
    "rtrb",
];

/// The list-based unbounded channels (std's channel is a port of crossbeam-channel's list flavour).
const LIST_KINDS: [&str; 2] = ["std-channel", "crossbeam-unbounded"];

/// The lock-free rings, which have no blocking operation and are waited on by yielding.
const RING_KINDS: [&str; 2] = ["array-queue", "rtrb"];

/// Messages per cross-thread op, and records per persistent op, at the small sizes.
const SMALL_BATCH: u64 = 1_000;
const SMALL_RECORDS: u64 = 100;

/// Messages per block of the list channels (`BLOCK_CAP` in crossbeam-channel's `flavors/list.rs`),
/// and the size of a block of `u64` messages: a next pointer and 31 slots of message and state,
/// 8 + 31 * 16 bytes.
const LIST_BLOCK_SLOTS: u64 = 31;
const LIST_BLOCK_BYTES: u64 = 504;

/// Blocks a list channel allocates while messages `first..first + count` are sent: the send of a
/// block's last slot (`m % 31 == 30`) allocates the next block in advance (`start_send`).
fn list_blocks(first: u64, count: u64) -> u64 {
    // Sends m < end with m % 31 == 30: one per 31 messages, the first at m = 30.
    let allocated_by = |end: u64| end / LIST_BLOCK_SLOTS;
    allocated_by(first + count) - allocated_by(first)
}

fn alloc(results: &Results, id: &str) -> AllocCounts {
    bench(results, id).metrics.alloc.unwrap_or_else(|| panic!("{id}: no alloc counts"))
}

#[test]
fn queues_suite_reports_every_metric() {
    let results = run_suite("queues", "wall,alloc,instr");
    assert_core_metrics(&results);
    assert_eq!(results.benchmarks.len(), 3 * KINDS.len() + 1, "{:?}", super::ids(&results));

    for kind in KINDS {
        // Single-threaded push-pop: one send and one receive into a queue created in setup. The
        // alloc lane's uncounted warm-up op sent message 0 (the list channels allocate their first
        // block then); the counted ops send messages 1..=iters. A bounded queue's slots are all
        // allocated when it is created, flume keeps its VecDeque's capacity, the rings never
        // allocate: no allocation at all. The list channels allocate (and their receiver frees)
        // one 504-byte block per 31 messages, exactly when a block boundary falls in the window.
        let id = format!("queues/{kind}/push-pop");
        let counts = alloc(&results, &id);
        let blocks = if LIST_KINDS.contains(&kind) { list_blocks(1, counts.iters) } else { 0 };
        assert_eq!(counts.allocs, blocks, "{id}: {counts:?}");
        assert_eq!(counts.frees, blocks, "{id}: {counts:?}");
        assert_eq!(counts.bytes, blocks * LIST_BLOCK_BYTES, "{id}: {counts:?}");
        assert!(bench(&results, &id).metrics.throughput.is_none(), "{id}: no throughput declared");
        // One thread, its own allocations only: counted once, exactly.
        assert_eq!((counts.threads, counts.other_threads), (1, 0), "{id}: {counts:?}");
        assert!(bench(&results, &id).metrics.alloc_runs.is_empty(), "{id}: one thread, one count");

        // Cross-thread throughput: one op moves a batch, so the rate is in messages per second.
        let id = format!("queues/{kind}/spsc-throughput/{SMALL_BATCH}");
        let b = bench(&results, &id);
        assert!(matches!(b.metrics.throughput, Some(ThroughputRate::ElementsPerSec(r)) if r > 0.0), "{id}");
        check_cross_thread_allocs(kind, &id, alloc(&results, &id));
        check_counted_in_several_runs(&id, &results);

        // Latency: one event per message of every measured op, percentiles in order.
        let id = format!("queues/{kind}/latency/{SMALL_BATCH}");
        let b = bench(&results, &id);
        let latency = b.metrics.latency.unwrap_or_else(|| panic!("{id}: no latency"));
        assert!(latency.count > 0, "{id}: {latency:?}");
        assert_eq!(latency.count % SMALL_BATCH, 0, "{id}: every op records one latency per message");
        assert!(latency.kept > 0 && latency.kept <= latency.count, "{id}: {latency:?}");
        assert!(
            latency.p50 <= latency.p95 && latency.p95 <= latency.p99 && latency.p99 <= latency.max,
            "{id}: {latency:?}"
        );
        assert!(latency.mean > 0.0 && latency.mean <= latency.max, "{id}: {latency:?}");
        assert!(matches!(b.metrics.throughput, Some(ThroughputRate::ElementsPerSec(_))), "{id}");
        // The recorder is off in the alloc lane, so the counts are the queue's own.
        check_cross_thread_allocs(kind, &id, alloc(&results, &id));
        check_counted_in_several_runs(&id, &results);
    }

    // The persistent queue: every op verifies every record (order and bytes) or panics, and the
    // op run in setup reports how many came back.
    let id = format!("queues/persistent-redb/append-recover/{SMALL_RECORDS}");
    let m = &bench(&results, &id).metrics;
    let recovered = &m.reported["records_recovered"];
    assert_eq!((recovered.value, recovered.unit), (SMALL_RECORDS as f64, Unit::Count), "{id}");
    let file = &m.reported["file_bytes"];
    // 100 records of about 100 bytes, in pages of 4 KiB: more than the data, less than 16 MiB.
    assert!(file.unit == Unit::Bytes && file.value > 10_000.0 && file.value < 16.0 * 1024.0 * 1024.0, "{id}: {file:?}");
    assert!(matches!(m.throughput, Some(ThroughputRate::ElementsPerSec(r)) if r > 0.0), "{id}");
    assert!(m.allocs_per_op.unwrap() > 0.0, "{id}: redb allocates its pages and transactions");
}

/// A benchmark with a producer thread: its counts can move with the scheduling, so the alloc lane ran
/// in several processes, every one of which saw the producer, and the median run is the one given.
fn check_counted_in_several_runs(id: &str, results: &Results) {
    let b = bench(results, id);
    let runs = &b.metrics.alloc_runs;
    assert_eq!(runs.len(), cargo_benchgate::driver::ALLOC_RUNS, "{id}: {runs:?}");
    assert!(runs.iter().all(|r| r.threads >= 2), "{id}: {runs:?}");
    assert!(runs.contains(&b.metrics.alloc.unwrap()), "{id}: the median is one of the runs");
}

/// Allocations of the cross-thread benchmarks, where they are fixed. The alloc lane counts
/// `iters` ops after one uncounted one, so messages `batch..(iters + 1) * batch` of each thread.
/// - The rings: exactly none. Push, pop, `yield_now` and the barrier that starts each batch (a
///   futex-based mutex and condition variable) never allocate, and the producer thread was
///   spawned in setup.
/// - The list channels: exactly one block freed per block boundary crossed (the receiver frees
///   a block when it reads its last message), and as many allocated, plus at most one blocking
///   context (an `Arc`) and one waker list (`Vec`) per thread the first time that thread blocks,
///   which may or may not happen before counting starts.
/// - The others allocate per blocking wait (flume's hooks) or only on a thread's first blocking
///   wait (crossbeam's and std's bounded channels), so their counts depend on scheduling: not
///   asserted.
fn check_cross_thread_allocs(kind: &str, id: &str, counts: AllocCounts) {
    if RING_KINDS.contains(&kind) {
        assert_eq!((counts.allocs, counts.frees, counts.bytes), (0, 0, 0), "{id}: {counts:?}");
    } else if LIST_KINDS.contains(&kind) {
        let blocks = list_blocks(SMALL_BATCH, counts.iters * SMALL_BATCH);
        assert_eq!(counts.frees, blocks, "{id}: {counts:?}");
        assert!((blocks..=blocks + 4).contains(&counts.allocs), "{id}: {blocks} blocks, {counts:?}");
        assert!(counts.bytes >= blocks * LIST_BLOCK_BYTES, "{id}: {counts:?}");
    }
}

#[test]
fn list_blocks_counts_block_boundaries() {
    assert_eq!(list_blocks(0, 30), 0);
    assert_eq!(list_blocks(0, 31), 1);
    assert_eq!(list_blocks(1, 3), 0);
    assert_eq!(list_blocks(30, 1), 1);
    assert_eq!(list_blocks(31, 31), 1);
    assert_eq!(list_blocks(1_000, 3_000), 97);
}
