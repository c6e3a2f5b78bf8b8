//! The measurement lanes. Wall time and allocations are measured inside the bench binary, by the
//! bench-side crate's loops (re-exported here); instructions are counted by the driver under callgrind
//! ([`instr`]).

pub use benchgate::measure::{alloc, latency, overhead, wall};

pub mod instr;
