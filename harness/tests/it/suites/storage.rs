//! The storage suite end to end: every engine's puts, gets, scan and load run through every lane at
//! the small size (1,000 records), with their throughput in records, the size on disk of a loaded
//! store, the peak heap of a load (SQLite's included, through its routed malloc), and exact
//! allocation counts where an engine's code path fixes them.

use cargo_benchgate::model::{AllocCounts, Results, ThroughputRate, Unit};

use super::{assert_core_metrics, bench, run_suite};

/// The engines, by their names in benchmark ids (`bench_suites::storage::Store::NAME`).
const ENGINES: [&str; 4] = ["redb", "fjall", "lmdb", "sqlite"];

/// Records in the preloaded store and in `load` at the small size, records per batch, per scan.
const RECORDS: u64 = 1_000;
const BATCH: u64 = 1_000;
const SCAN_LEN: u64 = 100;

/// The least a store of `RECORDS` records must take on disk: keys (16 bytes) and values (100 bytes
/// on average). No engine compresses them here (fjall's records are all still in its journal).
const RAW_BYTES: u64 = RECORDS * (16 + 100);

fn alloc(results: &Results, id: &str) -> AllocCounts {
    bench(results, id).metrics.alloc.unwrap_or_else(|| panic!("{id}: no alloc counts"))
}

/// Asserts that `id` allocated exactly `allocs` times per op and, when given, `bytes` per op.
fn assert_allocs(results: &Results, id: &str, allocs: u64, bytes: Option<u64>) {
    let a = alloc(results, id);
    assert!(a.iters > 0, "{id}");
    assert_eq!(a.allocs, allocs * a.iters, "{id}: allocations over {} ops: {a:?}", a.iters);
    if let Some(bytes) = bytes {
        assert_eq!(a.bytes, bytes * a.iters, "{id}: bytes over {} ops: {a:?}", a.iters);
    }
}

#[test]
fn storage_suite_reports_every_metric() {
    let results = run_suite("storage", "wall,alloc,instr");
    assert_core_metrics(&results);
    assert_eq!(results.benchmarks.len(), 6 * ENGINES.len(), "{:?}", super::ids(&results));

    for engine in ENGINES {
        // Throughput in records per op: 1 for a put or get, the batch, the scan, the whole load.
        let per_op = [
            ("put-single".to_owned(), 1),
            (format!("put-batch/{BATCH}"), BATCH),
            ("get-hit".to_owned(), 1),
            ("get-miss".to_owned(), 1),
            (format!("scan/{SCAN_LEN}"), SCAN_LEN),
            (format!("load/{RECORDS}"), RECORDS),
        ];
        for (op, records) in per_op {
            let id = format!("storage/{engine}/{op}");
            let m = &bench(&results, &id).metrics;
            let median = m.ns_per_op.as_ref().unwrap_or_else(|| panic!("{id}: no ns/op")).median;
            let Some(ThroughputRate::ElementsPerSec(rate)) = m.throughput else {
                panic!("{id}: throughput {:?}, not records per second", m.throughput)
            };
            let expected = records as f64 * 1e9 / median;
            assert!((rate - expected).abs() <= 1e-9 * expected, "{id}: {rate} records/s, expected {expected}");
        }

        // The load reports the closed store's size: allocated blocks and file lengths, in bytes.
        let id = format!("storage/{engine}/load/{RECORDS}");
        let m = &bench(&results, &id).metrics;
        let disk = &m.reported["disk_bytes"];
        let file = &m.reported["file_bytes"];
        assert_eq!((disk.unit, file.unit), (Unit::Bytes, Unit::Bytes), "{id}");
        assert!(disk.value >= RAW_BYTES as f64, "{id}: {} bytes on disk hold {RAW_BYTES} bytes of records", disk.value);
        assert!(file.value > 0.0, "{id}");
        // Building a store takes heap in every engine (for LMDB only heed's own: a lower bound).
        let load = alloc(&results, &id);
        assert!(load.peak_live_bytes > 0, "{id}: {load:?}");
        if engine == "sqlite" {
            // SQLite keeps every page it writes in its page cache (up to 2 MB by default), so with
            // its malloc routed through Rust's allocator the peak is at least about the database's
            // size; rusqlite's own structures are a few KB.
            assert!(load.peak_live_bytes as f64 >= disk.value / 2.0, "{id}: peak {load:?}, disk {}", disk.value);
        }
    }

    // Exact allocations per op, stable across runs and iteration counts:
    //
    // redb: a get opens a read transaction (one 48-byte box) and the table: a copy of the table's
    // name (7 bytes) and seven type-name strings that `open_table` builds to check the definition it
    // is given against the stored one (`[u8;16]` formatted, 10 bytes; copies of `[u8;16]` and `&[u8]`'s
    // names, 7 and 5 bytes): 9 allocations, 48 + 7 + 10 + 3 * 7 + 3 * 5 = 101 bytes, hit or miss.
    for op in ["get-hit", "get-miss"] {
        assert_allocs(&results, &format!("storage/redb/{op}"), 9, Some(101));
    }
    // fjall: a read needs no transaction, every record is in the memtable (a skiplist), and the
    // value comes back as a reference-counted slice: no allocation. A single put allocates four
    // blocks: the batch's item vector, the value (100 bytes; byteview inlines only up to 20, so the
    // 16-byte key is inline), the set of partitions that `Batch::commit` checks for write stalls, and
    // the memtable's skiplist node, whose size depends on its random height (so bytes vary). A scan
    // builds its range iterators (8 blocks, 720 bytes) whatever the number of records: records are
    // shared slices.
    for op in ["get-hit", "get-miss"] {
        assert_allocs(&results, &format!("storage/fjall/{op}"), 0, Some(0));
    }
    assert_allocs(&results, "storage/fjall/put-single", 4, None);
    assert_allocs(&results, &format!("storage/fjall/scan/{SCAN_LEN}"), 8, Some(720));
    // LMDB: transactions, cursors and dirty pages are C `malloc` (not counted); heed borrows keys and
    // values and returns slices of the map, so gets and puts allocate nothing in Rust. A range copies
    // its start bound into an owned vector: one 16-byte allocation per scan.
    for op in ["get-hit", "get-miss", "put-single", &format!("put-batch/{BATCH}")] {
        assert_allocs(&results, &format!("storage/lmdb/{op}"), 0, Some(0));
    }
    assert_allocs(&results, &format!("storage/lmdb/scan/{SCAN_LEN}"), 1, Some(16));
    // SQLite: statements come from rusqlite's cache, which allocates the statement's cache key each
    // time (an `Arc<str>` of the SQL: 16 bytes of counts and the text, rounded up to 8). SQLite
    // itself serves a get, a put and even a 1,000-record batch and its commit from its page cache
    // and lookaside memory, without calling malloc (until its log reaches the 1,000 pages that
    // trigger a checkpoint, which these few ops do not). Get: 16 + 34 → 56 bytes; put: 16 + 87 → 104.
    for op in ["get-hit", "get-miss"] {
        assert_allocs(&results, &format!("storage/sqlite/{op}"), 1, Some(56));
    }
    for op in ["put-single", &format!("put-batch/{BATCH}")] {
        assert_allocs(&results, &format!("storage/sqlite/{op}"), 1, Some(104));
    }
}
