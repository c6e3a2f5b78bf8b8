//! Storage suite: four embedded key-value stores of different designs — redb (copy-on-write
//! B-tree, pure Rust), fjall (LSM tree, pure Rust), LMDB through heed (memory-mapped B-tree, C) and
//! SQLite through rusqlite (B-tree table with a write-ahead log, C) — writing, reading and scanning
//! 16-byte keys with values of about 100 bytes, every commit durable (see
//! `bench_suites::storage` for what that means per engine).
//!
//! Ids are `storage/<engine>/<op>[/<param>]`: `put-single` (one record per commit), `put-batch/1000`
//! (1,000 records per commit), `get-hit`, `get-miss`, `scan/100` (100 consecutive records), each on
//! a store preloaded with 10,000 records (1,000 with `BENCH_SUITES_SMALL`), and `load/<n>` (a fresh
//! store loaded with `n` records in commits of 1,000, then closed), which also reports the store's
//! size on disk (`disk_bytes`: allocated blocks; `file_bytes`: file lengths).
//!
//! Every store lives in its own temporary directory, closed and removed when its benchmark ends.

use bench_suites::storage::{self, Fjall, Lmdb, Redb, Sqlite, Store};
use benchgate::{BatchSize, Bencher, Harness, Suite, Throughput, Unit, black_box};
use tempfile::TempDir;

/// Seed of the preloaded and loaded values: changing it changes the data, and so every baseline.
const VALUE_SEED: u64 = 0x5704_A6E0_0001;
/// Seed of the values the put benchmarks write over the preloaded ones.
const UPDATE_SEED: u64 = 0x5704_A6E0_0002;

/// Records in the preloaded store and in `load`.
const RECORDS: u64 = 10_000;
/// The same with `BENCH_SUITES_SMALL`.
const SMALL_RECORDS: u64 = 1_000;
/// Records per commit of `put-batch` and of every load (preloading included).
const BATCH: usize = 1_000;
/// Records per `scan`.
const SCAN_LEN: usize = 100;

/// Declares every benchmark of the suite, engine by engine; each closure's setup runs only if it is
/// selected.
fn storage(h: &mut Harness) {
    let records = if bench_suites::small() { SMALL_RECORDS } else { RECORDS };
    let mut s = h.suite("storage");
    declare::<Redb>(&mut s, records);
    declare::<Fjall>(&mut s, records);
    declare::<Lmdb>(&mut s, records);
    declare::<Sqlite>(&mut s, records);
}

/// The six benchmarks of engine `S` on `n` records. Throughput is in records.
fn declare<S: Store>(s: &mut Suite<'_>, n: u64) {
    let name = |op: &str| format!("{}/{op}", S::NAME);
    s.throughput(Throughput::Elements(1));
    s.bench(&name("put-single"), |b: &mut Bencher| bench_put_single::<S>(b, n));
    s.throughput(Throughput::Elements(BATCH as u64));
    s.bench_with_param(&name("put-batch"), BATCH, |b: &mut Bencher| bench_put_batch::<S>(b, n));
    s.throughput(Throughput::Elements(1));
    s.bench(&name("get-hit"), |b: &mut Bencher| bench_get::<S>(b, n, true));
    s.bench(&name("get-miss"), |b: &mut Bencher| bench_get::<S>(b, n, false));
    s.throughput(Throughput::Elements(SCAN_LEN as u64));
    s.bench_with_param(&name("scan"), SCAN_LEN, |b: &mut Bencher| bench_scan::<S>(b, n));
    s.throughput(Throughput::Elements(n));
    s.bench_with_param(&name("load"), n, |b: &mut Bencher| bench_load::<S>(b, n));
}

/// An open store in its own temporary directory, closed (and the directory then removed) when
/// dropped.
///
/// Creating, preloading and closing it is setup and teardown, and callgrind does not count it
/// ([`storage::uncounted_by_callgrind`]): benchgate's instr lane counts the whole process and takes
/// the difference of two runs, so setup must cost the same instructions in both, and it does not
/// here. redb's commits iterate hash sets seeded at random per process, and fjall's close waits on a
/// sleeping thread: measured, one run's preload and close differ from the next by more than a lookup
/// costs.
struct Preloaded<S: Store> {
    store: Option<S>,
    dir: Option<TempDir>,
}

impl<S: Store> Preloaded<S> {
    /// A store holding records `0..n` of [`VALUE_SEED`], loaded in durable commits of [`BATCH`].
    fn new(n: u64) -> Self {
        let records = storage::records(VALUE_SEED, n);
        storage::uncounted_by_callgrind(|| {
            let dir = tempfile::tempdir().expect("temp dir");
            let mut store = S::open(dir.path());
            storage::load(&mut store, &records, BATCH);
            // The ops measured next must not see the start of the store's background threads.
            storage::settle_threads(std::time::Duration::from_secs(2));
            Preloaded { store: Some(store), dir: Some(dir) }
        })
    }

    /// The open store.
    fn store(&mut self) -> &mut S {
        self.store.as_mut().expect("open until dropped")
    }
}

impl<S: Store> Drop for Preloaded<S> {
    fn drop(&mut self) {
        storage::uncounted_by_callgrind(|| {
            drop(self.store.take());
            drop(self.dir.take());
        });
    }
}

/// One record per durable commit, overwriting a preloaded record with a new value: the store keeps
/// its `n` records whatever the number of ops, so every op sees the same store size. Consecutive ops
/// write records spread over the key space.
fn bench_put_single<S: Store>(b: &mut Bencher, n: u64) {
    let mut db = Preloaded::<S>::new(n);
    let store = db.store();
    let updates: Vec<Vec<u8>> = (0..n).map(|index| storage::value(UPDATE_SEED, index)).collect();
    let mut counter = 0;
    b.iter(|| {
        let index = storage::scrambled(counter, n);
        counter += 1;
        store.put(&storage::key(index), &updates[index as usize]);
    });
}

/// [`BATCH`] records per durable commit, overwriting preloaded records (in scrambled order) with new
/// values; successive ops take successive slices of the key space's permutation.
fn bench_put_batch<S: Store>(b: &mut Bencher, n: u64) {
    let mut db = Preloaded::<S>::new(n);
    let store = db.store();
    let updates = storage::records(UPDATE_SEED, n);
    let mut batches = updates.chunks(BATCH).cycle();
    b.iter(|| store.put_batch(batches.next().expect("cycle never ends")));
}

/// One point lookup in its own read transaction, of a present key (`hit`) or of a key between two
/// present ones (`miss`), keys spread over the key space. The value is copied into a reused buffer.
fn bench_get<S: Store>(b: &mut Bencher, n: u64, hit: bool) {
    let mut db = Preloaded::<S>::new(n);
    let store = db.store();
    let mut out = Vec::with_capacity(storage::VALUE_MAX);
    let mut counter = 0;
    b.iter(|| {
        let index = storage::scrambled(counter, n);
        counter += 1;
        let key = if hit { storage::key(index) } else { storage::missing_key(index) };
        let found = store.get(black_box(&key), &mut out);
        assert_eq!(found, hit, "{}: get of record {index}", S::NAME);
    });
}

/// [`SCAN_LEN`] consecutive records in key order from a present key, in one read transaction;
/// start keys spread over the key space.
fn bench_scan<S: Store>(b: &mut Bencher, n: u64) {
    let mut db = Preloaded::<S>::new(n);
    let store = db.store();
    let starts = n - SCAN_LEN as u64 + 1;
    let mut counter = 0;
    b.iter(|| {
        let start = storage::key(storage::scrambled(counter, starts));
        counter += 1;
        let mut bytes = 0;
        let visited = store.scan(black_box(&start), SCAN_LEN, &mut |k, v| bytes += k.len() + v.len());
        assert_eq!(visited, SCAN_LEN, "{}: scan", S::NAME);
        bytes
    });
}

/// Creating a store in an empty directory, loading `n` records in durable commits of [`BATCH`]
/// (keys in scrambled order), and closing it. The directory is made before and removed after each
/// op, unmeasured. Setup loads one store first (not counted by callgrind, as [`Preloaded`]) and
/// reports its size once closed: `disk_bytes`, the blocks its files take (`st_blocks * 512`), and
/// `file_bytes`, the sum of their lengths.
fn bench_load<S: Store>(b: &mut Bencher, n: u64) {
    let records = storage::records(VALUE_SEED, n);
    let load = |dir: TempDir| {
        let mut store = S::open(dir.path());
        storage::load(&mut store, &records, BATCH);
        drop(store);
        dir
    };
    let usage = storage::uncounted_by_callgrind(|| {
        let dir = load(tempfile::tempdir().expect("temp dir"));
        storage::disk_usage(dir.path())
    });
    b.report("disk_bytes", usage.allocated as f64, Unit::Bytes);
    b.report("file_bytes", usage.apparent as f64, Unit::Bytes);
    b.iter_batched(|| tempfile::tempdir().expect("temp dir"), load, BatchSize::PerIteration);
}

benchgate::main!(storage);
