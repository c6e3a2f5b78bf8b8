//! Protobuf suite: a Prometheus remote-write `WriteRequest` encoded and decoded by prost (derived
//! messages, owned strings) and quick-protobuf (pb-rs-style messages, labels borrowed on decode),
//! at 10, 100 and 1,000 series of 5 to 8 labels and 3 samples each.
//!
//! Ids are `protobuf/<library>/<op>/<n>-series`, e.g. `protobuf/quick-protobuf/decode/100-series`;
//! `<library>` is `prost` or `quick-protobuf`, `<op>` is `encode-fresh` (a new buffer per op),
//! `encode-reused` (clear and encode into a kept buffer) or `decode`. Every benchmark reports
//! `encoded_bytes`, the size of its request encoded, the same for both libraries (their encodings
//! are byte-identical, which the library's unit tests check).
//!
//! Throughput is in elements, one per series, for every op: the series is the unit a remote-write
//! sender is sized by (series per second per shard), it compares encode and decode of both
//! libraries directly, and it is known when the benchmark is declared. Bytes per second are one
//! division away with `encoded_bytes`.

use bench_suites::protobuf::{self, prompb, quick};
use benchgate::{Bencher, Harness, Throughput, Unit, black_box};

/// The one seed of every request: changing it changes the data, and so every baseline.
const SEED: u64 = 0x0070_B0F5_EED5;

/// Series per request: a small batch, a typical one, and a full one (Prometheus'
/// `max_samples_per_send` defaults to 2,000 samples).
const SERIES: [usize; 3] = [10, 100, 1000];

/// A benchmark routine over a request made in setup.
type Routine = fn(&mut Bencher, &prompb::WriteRequest);

/// The benchmarks declared at every size: name (`<library>/<op>`) and routine.
const BENCHES: [(&str, Routine); 6] = [
    ("prost/encode-fresh", prost_encode_fresh),
    ("prost/encode-reused", prost_encode_reused),
    ("prost/decode", prost_decode),
    ("quick-protobuf/encode-fresh", quick_encode_fresh),
    ("quick-protobuf/encode-reused", quick_encode_reused),
    ("quick-protobuf/decode", quick_decode),
];

/// Declares every benchmark of the suite; each closure's setup runs only if it is selected.
/// In small mode (`BENCH_SUITES_SMALL`), only the 10-series request.
fn protobuf(h: &mut Harness) {
    let mut s = h.suite("protobuf");
    let sizes = if bench_suites::small() { &SERIES[..1] } else { &SERIES[..] };
    for (name, routine) in BENCHES {
        for &series in sizes {
            s.throughput(Throughput::Elements(series as u64));
            s.bench_with_param(name, format!("{series}-series"), |b: &mut Bencher| {
                let request = protobuf::write_request(SEED, series);
                b.report("encoded_bytes", protobuf::prost_encode(&request).len() as f64, Unit::Bytes);
                routine(b, &request);
            });
        }
    }
}

/// `encode_to_vec`: one exactly sized `Vec` per op.
fn prost_encode_fresh(b: &mut Bencher, request: &prompb::WriteRequest) {
    b.iter(|| protobuf::prost_encode(black_box(request)));
}

/// Encoding into a buffer grown in setup: no allocation per op.
fn prost_encode_reused(b: &mut Bencher, request: &prompb::WriteRequest) {
    let mut out = Vec::new();
    protobuf::prost_encode_into(request, &mut out);
    b.iter(|| protobuf::prost_encode_into(black_box(request), black_box(&mut out)));
}

/// Decoding into owned messages (a `String` per label name and value), dropped after each op.
fn prost_decode(b: &mut Bencher, request: &prompb::WriteRequest) {
    let bytes = protobuf::prost_encode(request);
    b.iter(|| protobuf::prost_decode(black_box(&bytes)).expect("the request decodes"));
}

/// `Vec::with_capacity(get_size())` and the `std::io::Write` backend: one `Vec` per op.
fn quick_encode_fresh(b: &mut Bencher, request: &prompb::WriteRequest) {
    let request = quick::WriteRequest::borrowing(request);
    b.iter(|| protobuf::quick_encode(black_box(&request)));
}

/// Encoding into a buffer grown in setup: no allocation per op.
fn quick_encode_reused(b: &mut Bencher, request: &prompb::WriteRequest) {
    let request = quick::WriteRequest::borrowing(request);
    let mut out = Vec::new();
    protobuf::quick_encode_into(&request, &mut out);
    b.iter(|| protobuf::quick_encode_into(black_box(&request), black_box(&mut out)));
}

/// Decoding into messages that borrow every label from the input: only the `Vec`s of series,
/// labels and samples are allocated.
fn quick_decode(b: &mut Bencher, request: &prompb::WriteRequest) {
    let bytes = protobuf::prost_encode(request);
    b.iter(|| protobuf::quick_decode(black_box(&bytes)).expect("the request decodes"));
}

benchgate::main!(protobuf);
