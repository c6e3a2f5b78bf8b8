//! The measurement lanes. Only this module reads clocks or counts allocations; what it produces is raw
//! (samples, counts), and turning raw data into estimates is the job of `stats`.

pub mod alloc;
pub mod instr;
pub mod latency;
pub mod overhead;
pub mod wall;
