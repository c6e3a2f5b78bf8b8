//! The measuring loops of a bench binary. Only this module reads clocks or counts allocations; what it
//! produces is raw (samples, counts), and turning raw data into estimates is the job of the tool's
//! `stats`. The instr lane is not here: the tool counts instructions by running the exec mode under
//! callgrind.

pub mod alloc;
pub mod latency;
pub mod overhead;
pub mod wall;
