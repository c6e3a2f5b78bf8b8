//! The alloc lane: a counting global allocator wrapping the system allocator (or any other).
//!
//! Counting follows valgrind memcheck's "total heap usage" so memcheck can serve as an independent
//! reference: every `alloc`, `alloc_zeroed` and `realloc` is one allocation, and a `realloc` adds its
//! new size to the bytes allocated; every `dealloc` is one free.
//!
//! Why our own wrapper and not dhat (measured by the `harness/alloc-free/*` benchmarks in
//! bench-suites, 64-byte alloc+free through `std::alloc`, on the 2-core development machine): the plain
//! system allocator takes about 18 ns; this wrapper adds about 4 ns (15 instructions) when counting is
//! off and about 40 ns when on (relaxed atomic read-modify-writes); dhat, which must own the global
//! allocator, adds about 17 ns even when not profiling and takes 2.7-4.5 µs per pair when profiling (it
//! records a backtrace each time). dhat remains the tool for allocation *sites* (the profile lane).
//! Re-measured with the counting-thread check (ARCHITECTURE.md, "Own counting allocator"): 9.0 ns
//! plain, 11.4 ns off, 15.7 ns counting.
//!
//! Counting is switched on only around the measured loop of the alloc lane, which runs in its own
//! process; the wall lane runs with counting off, so timed samples pay only the "off" cost.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};

use crate::define::Probe;
use crate::protocol::AllocCounts;

static ENABLED: AtomicBool = AtomicBool::new(false);
static ALLOCS: AtomicU64 = AtomicU64::new(0);
static FREES: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);
/// Live bytes since counting was last reset; negative when memory allocated earlier is freed.
static LIVE: AtomicI64 = AtomicI64::new(0);
static PEAK: AtomicI64 = AtomicI64::new(0);
/// Allocations made on threads other than the one that started counting.
static OTHER: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Set on the thread that started counting. A `const`-initialised `Cell` without a destructor: its
    /// access never allocates and never fails while the thread lives, so the allocator may read it.
    static COUNTING_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// A global allocator that counts allocations while counting is enabled and otherwise only forwards.
/// `benchgate::main!` installs it over [`System`]; wrap another allocator with [`CountingAlloc::new`].
pub struct CountingAlloc<A = System> {
    inner: A,
}

impl CountingAlloc<System> {
    pub const fn system() -> Self {
        CountingAlloc { inner: System }
    }
}

impl<A> CountingAlloc<A> {
    pub const fn new(inner: A) -> Self {
        CountingAlloc { inner }
    }
}

#[inline]
fn on_alloc(size: usize) {
    // A thread being torn down (its thread-locals gone) is not the counting thread either.
    if !COUNTING_THREAD.try_with(Cell::get).unwrap_or(false) {
        OTHER.fetch_add(1, Relaxed);
    }
    ALLOCS.fetch_add(1, Relaxed);
    BYTES.fetch_add(size as u64, Relaxed);
    let live = LIVE.fetch_add(size as i64, Relaxed) + size as i64;
    PEAK.fetch_max(live, Relaxed);
}

#[inline]
fn on_free(size: usize) {
    FREES.fetch_add(1, Relaxed);
    LIVE.fetch_sub(size as i64, Relaxed);
}

// SAFETY: every method forwards to the inner allocator with the caller's arguments unchanged; the
// counting touches only atomics and never allocates.
unsafe impl<A: GlobalAlloc> GlobalAlloc for CountingAlloc<A> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::alloc`'s contract.
        let p = unsafe { self.inner.alloc(layout) };
        if ENABLED.load(Relaxed) && !p.is_null() {
            on_alloc(layout.size());
        }
        p
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        let p = unsafe { self.inner.alloc_zeroed(layout) };
        if ENABLED.load(Relaxed) && !p.is_null() {
            on_alloc(layout.size());
        }
        p
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged.
        unsafe { self.inner.dealloc(ptr, layout) };
        if ENABLED.load(Relaxed) {
            on_free(layout.size());
        }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        let p = unsafe { self.inner.realloc(ptr, layout, new_size) };
        if ENABLED.load(Relaxed) && !p.is_null() {
            // memcheck: one allocation of the new size and one free of the old block.
            on_free(layout.size());
            on_alloc(new_size);
        }
        p
    }
}

/// Resets the counters and starts counting; the calling thread is the counting thread (allocations of
/// any other thread are counted too, and also as [`other_thread_allocs`]).
pub fn start_counting() {
    for c in [&ALLOCS, &FREES, &BYTES, &OTHER] {
        c.store(0, Relaxed);
    }
    LIVE.store(0, Relaxed);
    PEAK.store(0, Relaxed);
    COUNTING_THREAD.with(|c| c.set(true));
    ENABLED.store(true, Relaxed);
}

/// Stops counting and returns `(allocs, frees, bytes, peak_live_bytes)` since [`start_counting`].
pub fn stop_counting() -> (u64, u64, u64, u64) {
    ENABLED.store(false, Relaxed);
    COUNTING_THREAD.with(|c| c.set(false));
    let peak = PEAK.load(Relaxed).max(0) as u64;
    (ALLOCS.load(Relaxed), FREES.load(Relaxed), BYTES.load(Relaxed), peak)
}

/// Of the allocations counted between [`start_counting`] and [`stop_counting`], those made by other
/// threads than the one that started counting.
pub fn other_thread_allocs() -> u64 {
    OTHER.load(Relaxed)
}

/// The number of threads of this process (Linux: from `/proc/self/stat`; 0 elsewhere or when it cannot
/// be read). It allocates: call it with counting stopped.
pub fn process_threads() -> u64 {
    #[cfg(target_os = "linux")]
    {
        // Field 20 of stat(5); the fields after the command's closing parenthesis start at field 3.
        std::fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|s| s.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(17)?.parse().ok()))
            .unwrap_or(0)
    }
    #[cfg(not(target_os = "linux"))]
    0
}

/// Whether [`CountingAlloc`] is this process's global allocator: a bench binary with its own `main` and
/// another allocator cannot count, and must say so rather than report zero allocations.
pub fn counting_installed() -> bool {
    start_counting();
    drop(std::hint::black_box(Box::new(0u64)));
    let (allocs, ..) = stop_counting();
    allocs > 0
}

/// Accumulates counts over the measured parts of a loop (the alloc lane's probe).
#[derive(Default)]
pub(crate) struct Counter {
    allocs: u64,
    frees: u64,
    bytes: u64,
    peak: u64,
    /// Live bytes carried over from earlier measured parts, so the peak spans the whole loop.
    live: i64,
    other: u64,
    /// The most threads the process had at the end of any measured part.
    threads: u64,
}

impl Probe for Counter {
    fn start(&mut self) {
        start_counting();
    }

    fn stop(&mut self) {
        let (a, f, b, peak) = stop_counting();
        let live_here = LIVE.load(Relaxed);
        self.other += other_thread_allocs();
        // Read with counting stopped: it allocates.
        self.threads = self.threads.max(process_threads());
        self.allocs += a;
        self.frees += f;
        self.bytes += b;
        self.peak = self.peak.max((self.live + peak as i64).max(0) as u64);
        self.live += live_here;
    }
}

impl Counter {
    pub(crate) fn finish(self, iters: u64) -> AllocCounts {
        AllocCounts {
            iters,
            allocs: self.allocs,
            frees: self.frees,
            bytes: self.bytes,
            peak_live_bytes: self.peak,
            other_threads: self.other,
            threads: self.threads,
        }
    }
}
