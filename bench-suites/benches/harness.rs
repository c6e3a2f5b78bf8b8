//! The harness suite: what measuring costs. The empty routine shows the wall lane's per-iteration
//! floor; the alloc-free trio shows what the counting allocator adds per allocation+free, switched off
//! (as in every timed sample) and switched on (as in the alloc lane), against the system allocator.

use std::alloc::{GlobalAlloc, Layout, System};

use benchgate::measure::alloc::{start_counting, stop_counting};
use benchgate::{Bencher, Harness, black_box};

fn harness(h: &mut Harness) {
    let mut s = h.suite("harness");
    s.bench("empty", |b: &mut Bencher| b.iter(|| ()));

    let layout = Layout::from_size_align(64, 8).unwrap();
    s.bench_with_param("alloc-free", "system-direct", |b: &mut Bencher| {
        b.iter(|| {
            // SAFETY: a non-zero-size layout, freed with the same layout right away.
            unsafe {
                let p = System.alloc(black_box(layout));
                System.dealloc(black_box(p), layout);
            }
        })
    });
    s.bench_with_param("alloc-free", "counting-off", |b: &mut Bencher| {
        // SAFETY: as above, through the global (counting) allocator.
        b.iter(|| unsafe {
            let p = std::alloc::alloc(black_box(layout));
            std::alloc::dealloc(black_box(p), layout);
        })
    });
    s.bench_with_param("alloc-free", "counting-on", |b: &mut Bencher| {
        start_counting();
        // SAFETY: as above.
        b.iter(|| unsafe {
            let p = std::alloc::alloc(black_box(layout));
            std::alloc::dealloc(black_box(p), layout);
        });
        stop_counting();
    });
}

benchgate::main!(harness);
