//! A criterion bench file ported to benchgate by changing one import line.

// Before: use criterion::{BenchmarkId, Criterion, Throughput, black_box, criterion_group, criterion_main};
use benchgate::criterion::{BenchmarkId, Criterion, Throughput, black_box, criterion_group, criterion_main};

const LINE: &str = r#"ts=2026-11-21T10:00:00Z level=info service=ingester msg="flushed block" took=12ms series=1024"#;

fn bench_fields(c: &mut Criterion) {
    c.bench_function("fields", |b| b.iter(|| adopter::fields(black_box(LINE))));
}

fn bench_owned(c: &mut Criterion) {
    let mut group = c.benchmark_group("owned");
    for repeat in [1usize, 8] {
        let line = vec![LINE; repeat].join(" ");
        group.throughput(Throughput::Bytes(line.len() as u64));
        group.bench_with_input(BenchmarkId::new("fields_owned", repeat), &line, |b, line| {
            b.iter(|| adopter::fields_owned(black_box(line)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_fields, bench_owned);
criterion_main!(benches);
