//! Compression suite: snappy, zstd (levels 1 and 3), gzip and zlib (level 6), lz4 and brotli
//! (quality 5) compressing and decompressing realistic Prometheus metrics text and JSON logs,
//! one-shot and, where the library allows it, with a reused context.
//!
//! Ids are `compression/<codec>/<op>/<kind>-<size>`, e.g. `compression/zstd-3/compress/metrics-1MB`;
//! `<op>` is `compress`, `decompress` or `compress-reused`. Throughput is the uncompressed size
//! for every op, so that compress and decompress rates compare directly.

use bench_suites::compression::{self, Codec, Reusable};
use bench_suites::data;
use benchgate::{Bencher, Harness, Throughput, black_box};

/// The one seed of every payload: changing it changes the data, and so every baseline.
const SEED: u64 = 0x00BE_4C46_A7E5;

/// A payload the suite measures: its parameter name, generator and length.
struct Payload {
    param: &'static str,
    generate: fn(u64, usize) -> Vec<u8>,
    len: usize,
}

/// Metrics at every size (how codecs scale with input size), plus logs at 100KB (how they do
/// on a different kind of text) without tripling the suite's running time.
const PAYLOADS: [Payload; 4] = [
    Payload { param: "metrics-10KB", generate: data::metrics_text, len: data::SIZES[0].1 },
    Payload { param: "metrics-100KB", generate: data::metrics_text, len: data::SIZES[1].1 },
    Payload { param: "metrics-1MB", generate: data::metrics_text, len: data::SIZES[2].1 },
    Payload { param: "logs-100KB", generate: data::json_logs, len: data::SIZES[1].1 },
];

/// The payloads of the reused-context benchmarks: metrics at every size, since reuse saves a
/// fixed cost per call that matters most for small inputs.
const REUSE_PARAMS: [&str; 3] = ["metrics-10KB", "metrics-100KB", "metrics-1MB"];

/// Declares every benchmark of the suite (with `BENCH_SUITES_SMALL`, those of the smallest payload);
/// each closure's setup runs only if it is selected.
/// Per codec and payload: `compress` and `decompress`, and `compress-reused` where supported.
fn compression(h: &mut Harness) {
    let mut s = h.suite("compression");
    // Small mode (the test suite): the smallest payload only.
    let payloads = if bench_suites::small() { &PAYLOADS[..1] } else { &PAYLOADS[..] };
    for codec in Codec::ALL {
        let compress_name = format!("{codec}/compress");
        let decompress_name = format!("{codec}/decompress");
        let reused_name = format!("{codec}/compress-reused");
        for payload in payloads {
            s.throughput(Throughput::Bytes(payload.len as u64));
            s.bench_with_param(&compress_name, payload.param, |b: &mut Bencher| bench_compress(b, codec, payload));
            s.bench_with_param(&decompress_name, payload.param, |b: &mut Bencher| bench_decompress(b, codec, payload));
            if codec.supports_reuse() && REUSE_PARAMS.contains(&payload.param) {
                s.bench_with_param(&reused_name, payload.param, |b: &mut Bencher| {
                    bench_compress_reused(b, codec, payload)
                });
            }
        }
    }
}

/// One-shot compression: every op creates and drops the codec's context and output.
fn bench_compress(b: &mut Bencher, codec: Codec, payload: &Payload) {
    let input = (payload.generate)(SEED, payload.len);
    b.iter(|| compression::compress(codec, black_box(&input)));
}

/// One-shot decompression of what one-shot compression made (in setup, so not measured).
fn bench_decompress(b: &mut Bencher, codec: Codec, payload: &Payload) {
    let input = (payload.generate)(SEED, payload.len);
    let compressed = compression::compress(codec, &input);
    b.iter(|| compression::decompress(codec, black_box(&compressed), payload.len));
}

/// Compression with the context and output buffer kept across ops. One untimed call in setup
/// grows the buffer and lets the context allocate, so ops measure the steady state.
fn bench_compress_reused(b: &mut Bencher, codec: Codec, payload: &Payload) {
    let input = (payload.generate)(SEED, payload.len);
    let mut context = Reusable::new(codec).expect("declared only for codecs that support reuse");
    let mut out = Vec::new();
    context.compress_into(&input, &mut out);
    b.iter(|| context.compress_into(black_box(&input), black_box(&mut out)));
}

benchgate::main!(compression);
