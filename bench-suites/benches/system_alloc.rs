//! The baseline for the counting allocator's overhead: the same allocation through `std::alloc` with
//! the plain system allocator as the global allocator (no counting wrapper). Compare with
//! `harness/alloc-free/counting-off` and `counting-on` (benches/harness.rs). The alloc lane reports
//! itself skipped here: without the wrapper there is nothing to count with.

use std::alloc::{Layout, System};

use benchgate::{Bencher, Harness, black_box};

#[global_allocator]
static ALLOC: System = System;

fn system_alloc(h: &mut Harness) {
    let mut s = h.suite("harness");
    let layout = Layout::from_size_align(64, 8).unwrap();
    s.bench_with_param("alloc-free", "system-global", |b: &mut Bencher| {
        // SAFETY: a non-zero-size layout, freed with the same layout right away.
        b.iter(|| unsafe {
            let p = std::alloc::alloc(black_box(layout));
            std::alloc::dealloc(black_box(p), layout);
        })
    });
}

fn main() {
    benchgate::runtime::main::<Harness>(&[system_alloc], env!("CARGO_CRATE_NAME"));
}
