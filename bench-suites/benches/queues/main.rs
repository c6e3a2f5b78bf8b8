//! Queues suite: std mpsc (`channel`, `sync_channel`), crossbeam-channel and flume (unbounded and
//! bounded), `crossbeam_queue::ArrayQueue` and `rtrb` moving `u64` messages within one thread and
//! from one thread to another, and a persistent queue in redb appended to, closed and recovered.
//!
//! Ids are `queues/<queue>/<op>[/<messages>]`, e.g. `queues/crossbeam-bounded/push-pop`,
//! `queues/flume-unbounded/spsc-throughput/10000`, `queues/rtrb/latency/10000` and
//! `queues/persistent-redb/append-recover/1000`. Bounded queues hold `queues::CAPACITY` (1024)
//! messages. The cross-thread ops move one batch from a persistent producer thread to the
//! measuring thread (see `queues::Pipe`), so their throughput is in messages.

use std::time::Instant;

use bench_suites::queues::{self, Kind, Payload, Pipe, RecvHalf, SendHalf, WithQueue};
use benchgate::{BatchSize, Bencher, Harness, Throughput, Unit, black_box};

/// The seed of the persistent queue's records: changing it changes the data, and so every baseline.
const SEED: u64 = 0x0C0E_0E5E_ED00;

/// Messages per cross-thread op; the small mode's batch.
const BATCH: u64 = 10_000;
const SMALL_BATCH: u64 = 1_000;

/// Records (about 100 bytes each) per persistent-queue op; the small mode's count.
const RECORDS: usize = 1_000;
const SMALL_RECORDS: usize = 100;

/// The message every push-pop op sends (through `black_box`, so it is not constant-folded).
const MESSAGE: u64 = 0x5EED;

/// Declares every benchmark of the suite; each closure's setup runs only if it is selected.
/// Per queue: `push-pop`, `spsc-throughput/<batch>` and `latency/<batch>`; then the persistent queue.
fn queues(h: &mut Harness) {
    let small = bench_suites::small();
    let batch = if small { SMALL_BATCH } else { BATCH };
    let records = if small { SMALL_RECORDS } else { RECORDS };
    let mut s = h.suite("queues");
    for kind in Kind::ALL {
        s.no_throughput();
        s.bench(&format!("{kind}/push-pop"), |b: &mut Bencher| queues::open(kind, PushPop(b)));
        s.throughput(Throughput::Elements(batch));
        s.bench_with_param(&format!("{kind}/spsc-throughput"), batch, |b: &mut Bencher| {
            queues::open(kind, SpscThroughput { b, batch })
        });
        s.bench_with_param(&format!("{kind}/latency"), batch, |b: &mut Bencher| {
            queues::open(kind, Latency { b, batch })
        });
    }
    s.throughput(Throughput::Elements(records as u64));
    s.bench_with_param("persistent-redb/append-recover", records, |b: &mut Bencher| bench_append_recover(b, records));
}

/// Single-threaded steady state: the queue is created in setup, and one op sends one message and
/// receives it back, so the queue is empty between ops and nothing ever waits.
struct PushPop<'b>(&'b mut Bencher);

impl WithQueue for PushPop<'_> {
    type Output = ();
    fn run<S: SendHalf, R: RecvHalf>(self, mut tx: S, mut rx: R) {
        self.0.iter(|| queues::push_pop(&mut tx, &mut rx, black_box(MESSAGE)));
    }
}

/// Producer-to-consumer throughput: one op moves `batch` sequence numbers from the producer
/// thread, started in setup and joined when the benchmark ends, to the measuring thread, which
/// checks each one. An op ends when the last message is received.
struct SpscThroughput<'b> {
    b: &'b mut Bencher,
    batch: u64,
}

impl WithQueue for SpscThroughput<'_> {
    type Output = ();
    fn run<S: SendHalf, R: RecvHalf>(self, tx: S, rx: R) {
        let mut pipe = Pipe::spawn(tx, rx, self.batch, Payload::Sequence);
        self.b.iter(|| pipe.transfer());
    }
}

/// Enqueue-to-dequeue latency of every message of a batch, under saturation: the producer stamps
/// each message with the monotonic clock and sends as fast as the queue takes them (unpaced), the
/// measuring thread records the time from stamp to dequeue. The op's time is the whole batch's.
struct Latency<'b> {
    b: &'b mut Bencher,
    batch: u64,
}

impl WithQueue for Latency<'_> {
    type Output = ();
    fn run<S: SendHalf, R: RecvHalf>(self, tx: S, rx: R) {
        let mut pipe = Pipe::spawn(tx, rx, self.batch, Payload::Timestamp);
        self.b.iter_latency(|iters, latencies| {
            let start = Instant::now();
            for _ in 0..iters {
                pipe.transfer_timed(|ns| latencies.record_ns(ns));
            }
            start.elapsed()
        });
    }
}

/// The persistent queue: one op appends `n` records to a new redb file (durable commits), closes
/// it, reopens it and reads every record back, checking order and contents. Each op gets its own
/// temporary directory, made before and removed after the measured part. One op in setup gives the
/// reported figures: records recovered and the file's size.
fn bench_append_recover(b: &mut Bencher, n: usize) {
    let records = queues::records(SEED, n);
    let dir = tempfile::tempdir().expect("creating a temporary directory");
    let path = dir.path().join("queue.redb");
    let recovered = queues::append_recover(&path, &records);
    let file_bytes = std::fs::metadata(&path).expect("the redb file exists").len();
    dir.close().expect("removing the temporary directory");
    b.report("records_recovered", recovered as f64, Unit::Count);
    b.report("file_bytes", file_bytes as f64, Unit::Bytes);
    b.iter_batched(
        || tempfile::tempdir().expect("creating a temporary directory"),
        |dir| {
            let recovered = queues::append_recover(&dir.path().join("queue.redb"), black_box(&records));
            // Returned, so that the directory is removed outside the measurement.
            (dir, recovered)
        },
        BatchSize::PerIteration,
    );
}

benchgate::main!(queues);
