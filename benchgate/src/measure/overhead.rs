//! What measuring costs, calibrated in the bench process right after its wall samples: the time one
//! timed interval adds (two clock reads), and the time the counting allocator adds to an allocation and
//! its free while counting is off (the wall lane's state). The shares of the measured work these make
//! are computed from the results by `stats::overhead`.
//!
//! Why calibrate in every wall process rather than once: the clock's cost depends on the machine's
//! clocksource (a vDSO read, or a system call where the clocksource needs one), and a results file must
//! state what its own measurements cost. The driver merges the processes' calibrations
//! (`stats::merge_calibrations`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::measure::alloc::{self, CountingAlloc};

/// The calibration of one wall process (or several merged), sent with its samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Timed intervals over the measured samples: one per sample for `iter`, `iter_custom` and
    /// `iter_latency`, one per batch for `iter_batched`.
    pub intervals: u64,
    /// What an empty timed interval measures, in nanoseconds: the median of [`TIMER_TRIES`].
    pub timer_ns: f64,
    /// Nanoseconds an allocation and its free take through [`CountingAlloc`] with counting off, beyond
    /// the system allocator alone (the fastest of [`ALLOC_ROUNDS`] rounds each, clamped at 0); `None`
    /// when `CountingAlloc` is not this process's global allocator, so allocations cost nothing extra.
    pub alloc_pair_ns: Option<f64>,
}

/// The share of the measured time that measuring may take before a report calls it out (seed 003's
/// "<5% performance overhead").
pub const TARGET_SHARE: f64 = 0.05;

/// Empty intervals timed for [`Calibration::timer_ns`].
pub const TIMER_TRIES: usize = 1001;
/// Rounds of [`ALLOC_PAIRS`] allocation-free pairs through each allocator, alternating.
pub const ALLOC_ROUNDS: usize = 15;
pub const ALLOC_PAIRS: u32 = 2000;

/// Calibrates after `intervals` timed intervals were measured. Takes about a millisecond.
pub fn calibrate(intervals: u64) -> Calibration {
    Calibration { intervals, timer_ns: timer_ns(), alloc_pair_ns: alloc::counting_installed().then(alloc_pair_ns) }
}

/// The median of [`TIMER_TRIES`] empty intervals, measured as the wall lane's stopwatch measures.
pub fn timer_ns() -> f64 {
    let mut tries: Vec<u128> = (0..TIMER_TRIES)
        .map(|_| {
            let start = black_box(Instant::now());
            start.elapsed().as_nanos()
        })
        .collect();
    tries.sort_unstable();
    tries[TIMER_TRIES / 2] as f64
}

/// The counting allocator's extra time per allocation-free pair with counting off.
pub fn alloc_pair_ns() -> f64 {
    let counting = CountingAlloc::system();
    let (mut wrapped, mut plain) = (Duration::MAX, Duration::MAX);
    for _ in 0..ALLOC_ROUNDS {
        wrapped = wrapped.min(pairs(&counting));
        plain = plain.min(pairs(&System));
    }
    (wrapped.as_nanos() as f64 - plain.as_nanos() as f64).max(0.0) / f64::from(ALLOC_PAIRS)
}

/// Time of [`ALLOC_PAIRS`] 64-byte allocations, each freed at once, through `a`.
fn pairs<A: GlobalAlloc>(a: &A) -> Duration {
    let layout = Layout::from_size_align(64, 8).expect("a valid layout");
    let start = Instant::now();
    for _ in 0..ALLOC_PAIRS {
        // SAFETY: the layout has a non-zero size; the block is freed once, with the layout it was
        // allocated with, and only if the allocation succeeded.
        unsafe {
            let p = black_box(a.alloc(layout));
            if !p.is_null() {
                a.dealloc(p, layout);
            }
        }
    }
    start.elapsed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibration_measures_a_positive_timer_cost() {
        let c = calibrate(7);
        assert_eq!(c.intervals, 7);
        // A clock read takes time on every clocksource; nothing here bounds it from above.
        assert!(c.timer_ns > 0.0 && c.timer_ns.is_finite(), "{c:?}");
        // The test binary's global allocator is the system one: no counting, no cost.
        assert_eq!(c.alloc_pair_ns, None);
        assert!(alloc_pair_ns() >= 0.0);
    }
}
