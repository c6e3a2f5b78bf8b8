//! The counting allocator tells the counting thread's allocations from other threads': exactly one
//! allocation more on a spawned thread is exactly one more in `other_thread_allocs`, none on the
//! counting thread, and a live thread shows in `process_threads`. One test in its own binary, so that no
//! other test's threads run beside it.

use std::hint::black_box;
use std::sync::mpsc;

use benchgate::measure::alloc::{other_thread_allocs, process_threads, start_counting, stop_counting};

#[global_allocator]
static ALLOC: benchgate::CountingAlloc = benchgate::CountingAlloc::system();

/// Counts a thread, spawned and joined while counting, that allocates `boxes` boxes, and `own` boxes on
/// the counting thread: (all allocations, those of other threads).
fn count(boxes: usize, own: usize) -> (u64, u64) {
    start_counting();
    for _ in 0..own {
        drop(black_box(Box::new(7u64)));
    }
    std::thread::spawn(move || {
        for _ in 0..boxes {
            drop(black_box(Box::new(7u64)));
        }
    })
    .join()
    .unwrap();
    let (allocs, ..) = stop_counting();
    (allocs, other_thread_allocs())
}

#[test]
fn allocations_of_other_threads_are_counted_as_theirs() {
    // Whatever spawning and joining allocate is in the baseline; the first spawn of the process may
    // allocate what later ones reuse, so it is not the baseline.
    count(0, 0);
    let (base_all, base_other) = count(0, 0);
    let (all, other) = count(1, 0);
    assert_eq!((all - base_all, other - base_other), (1, 1));
    let (all, other) = count(3, 2);
    assert_eq!((all - base_all, other - base_other), (5, 3));
    // Counting on this thread alone: nothing is another thread's.
    start_counting();
    drop(black_box(vec![1u8; 64]));
    let (allocs, ..) = stop_counting();
    assert_eq!((allocs, other_thread_allocs()), (1, 0));

    if cfg!(target_os = "linux") {
        let before = process_threads();
        assert!(before >= 1);
        let (stop, stopped) = mpsc::channel::<()>();
        let parked = std::thread::spawn(move || stopped.recv().unwrap());
        assert_eq!(process_threads(), before + 1);
        stop.send(()).unwrap();
        parked.join().unwrap();
    }
}
