//! What dhat costs per allocation, measured rather than assumed: the record behind choosing a counting
//! wrapper over dhat for the alloc lane (ARCHITECTURE.md, "Decisions"). dhat must be the global
//! allocator, so this bench binary has its own `main`; the alloc lane reports itself skipped here.

use std::alloc::Layout;

use benchgate::{Bencher, Harness, black_box};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

fn dhat_overhead(h: &mut Harness) {
    let mut s = h.suite("harness");
    let layout = Layout::from_size_align(64, 8).unwrap();
    let alloc_free = move || {
        // SAFETY: a non-zero-size layout, freed with the same layout right away.
        unsafe {
            let p = std::alloc::alloc(black_box(layout));
            std::alloc::dealloc(black_box(p), layout);
        }
    };
    s.bench_with_param("alloc-free", "dhat-off", |b: &mut Bencher| b.iter(alloc_free));
    s.bench_with_param("alloc-free", "dhat-on", |b: &mut Bencher| {
        // Testing mode keeps the profile in memory instead of writing dhat-heap.json.
        let _profiler = dhat::Profiler::builder().testing().build();
        b.iter(alloc_free);
    });
}

fn main() {
    benchgate::runtime::main::<Harness>(&[dhat_overhead], env!("CARGO_CRATE_NAME"));
}
