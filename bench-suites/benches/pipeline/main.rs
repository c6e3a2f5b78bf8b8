//! Pipeline suite: an end-to-end metrics path, Prometheus text exposition in, a snappy-compressed
//! remote-write request out (parse, intern label names, build the `WriteRequest`, encode,
//! compress), at 10, 100 and 1,000 data points, run the naive way and with every buffer reused.
//!
//! Ids are `pipeline/<variant>/<n>-points`, e.g. `pipeline/steady-state/100-points`: `one-shot`
//! builds everything afresh on every op (interner, request, strings, buffers, snappy encoder);
//! `steady-state` keeps all of it from one op to the next, so that it allocates nothing per op.
//! Both produce the same bytes. Every benchmark reports `encoded_bytes` (the protobuf request) and
//! `compressed_bytes` (what goes on the wire). Throughput is in elements, one per data point.

use bench_suites::pipeline::{self, Pipeline};
use benchgate::{Bencher, Harness, Throughput, Unit, black_box};

/// The one seed of every input: changing it changes the data, and so every baseline.
const SEED: u64 = 0x0091_BE11_4E5D;

/// Data points (sample lines) per op: one small scrape, a typical one, a large one or a batch.
const POINTS: [usize; 3] = [10, 100, 1000];

/// Declares every benchmark of the suite; each closure's setup runs only if it is selected.
/// In small mode (`BENCH_SUITES_SMALL`), only 10 points.
fn pipeline(h: &mut Harness) {
    let mut s = h.suite("pipeline");
    let sizes = if bench_suites::small() { &POINTS[..1] } else { &POINTS[..] };
    for &points in sizes {
        s.throughput(Throughput::Elements(points as u64));
        let param = format!("{points}-points");
        s.bench_with_param("one-shot", &param, |b: &mut Bencher| bench_one_shot(b, points));
        s.bench_with_param("steady-state", &param, |b: &mut Bencher| bench_steady_state(b, points));
    }
}

/// The input of `points` points, with the sizes of its output reported (from a pipeline run in
/// setup, which also checks the input parses).
fn setup(b: &mut Bencher, points: usize) -> (Vec<u8>, Pipeline) {
    let text = pipeline::exposition(SEED, points);
    let mut warm = Pipeline::new();
    let compressed = warm.push(&text).expect("generated text parses").len();
    b.report("encoded_bytes", warm.encoded().len() as f64, Unit::Bytes);
    b.report("compressed_bytes", compressed as f64, Unit::Bytes);
    (text, warm)
}

/// The naive path: every op allocates its interner, request, strings and buffers.
fn bench_one_shot(b: &mut Bencher, points: usize) {
    let (text, _) = setup(b, points);
    b.iter(|| pipeline::one_shot(black_box(&text)).expect("generated text parses"));
}

/// The steady state: a pipeline that has already processed this input keeps every buffer.
fn bench_steady_state(b: &mut Bencher, points: usize) {
    let (text, mut pipeline) = setup(b, points);
    b.iter(|| pipeline.push(black_box(&text)).expect("generated text parses").len());
}

benchgate::main!(pipeline);
