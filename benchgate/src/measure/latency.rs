//! Per-event latencies recorded by a routine (`Bencher::iter_latency`): exact count, sum and maximum,
//! and the events themselves up to a fixed number per process, a uniform reservoir sample beyond it.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Events kept per process for percentiles: 800 KB of `u64`, allocated before measuring starts.
pub const KEEP: usize = 100_000;

/// What a routine records latencies into. In lanes other than wall it ignores every event, so that
/// recording neither allocates nor costs anything the alloc and instr lanes would count.
#[derive(Debug)]
pub struct Latencies {
    active: bool,
    kept: Vec<u64>,
    count: u64,
    sum_ns: u128,
    max_ns: u64,
    /// xorshift64 state of the reservoir sampling (fixed seed: runs are reproducible).
    rng: u64,
}

impl Latencies {
    /// A recorder; `active` only in the wall lane.
    pub(crate) fn new(active: bool) -> Latencies {
        let kept = if active { Vec::with_capacity(KEEP) } else { Vec::new() };
        Latencies { active, kept, count: 0, sum_ns: 0, max_ns: 0, rng: 0x9E37_79B9_7F4A_7C15 }
    }

    /// Records one event's latency.
    #[inline]
    pub fn record(&mut self, latency: Duration) {
        self.record_ns(u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX));
    }

    /// Records one event's latency in nanoseconds.
    #[inline]
    pub fn record_ns(&mut self, ns: u64) {
        if !self.active {
            return;
        }
        self.count += 1;
        self.sum_ns += u128::from(ns);
        self.max_ns = self.max_ns.max(ns);
        if self.kept.len() < KEEP {
            self.kept.push(ns);
        } else {
            // Algorithm R: the n-th event replaces a kept one with probability KEEP / n.
            let j = self.next_random() % self.count;
            if let Some(slot) = self.kept.get_mut(j as usize) {
                *slot = ns;
            }
        }
    }

    fn next_random(&mut self) -> u64 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        x
    }

    /// Forgets everything recorded so far (the warm-up's events).
    pub(crate) fn reset(&mut self) {
        self.kept.clear();
        self.count = 0;
        self.sum_ns = 0;
        self.max_ns = 0;
    }

    /// The raw record the bench process reports, or `None` if nothing was recorded.
    pub(crate) fn finish(self) -> Option<LatencySamples> {
        (self.count > 0).then_some(LatencySamples {
            count: self.count,
            sum_ns: self.sum_ns as f64,
            max_ns: self.max_ns,
            kept: self.kept,
        })
    }
}

/// Latencies of one process, raw: what crosses the protocol; the driver pools processes and computes
/// the percentiles (`stats::latency_summary`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencySamples {
    pub count: u64,
    pub sum_ns: f64,
    pub max_ns: u64,
    pub kept: Vec<u64>,
}

impl LatencySamples {
    /// Adds another process's latencies to these.
    pub fn merge(&mut self, other: LatencySamples) {
        self.count += other.count;
        self.sum_ns += other.sum_ns;
        self.max_ns = self.max_ns.max(other.max_ns);
        self.kept.extend(other.kept);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inactive_recorder_records_nothing() {
        let mut l = Latencies::new(false);
        l.record_ns(5);
        assert!(l.finish().is_none());
    }

    #[test]
    fn keeps_every_event_up_to_the_limit_then_samples_uniformly() {
        let mut l = Latencies::new(true);
        for ns in 0..(3 * KEEP as u64) {
            l.record_ns(ns);
        }
        let s = l.finish().unwrap();
        assert_eq!((s.count, s.max_ns, s.kept.len()), (3 * KEEP as u64, 3 * KEEP as u64 - 1, KEEP));
        assert_eq!(s.sum_ns, (3 * KEEP as u64 * (3 * KEEP as u64 - 1) / 2) as f64);
        // A uniform sample of 0..3K has about a third of its values in each third.
        let first_third = s.kept.iter().filter(|&&v| v < KEEP as u64).count() as f64 / KEEP as f64;
        assert!((first_third - 1.0 / 3.0).abs() < 0.01, "{first_third}");
    }
}
