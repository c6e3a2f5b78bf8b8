//! cargo-benchgate: the tool side of benchgate. Builds a workspace's bench targets, runs each
//! benchmark in each lane in its own process (counting instructions under callgrind itself), compares
//! against a base with statistics and a gate, renders reports, keeps history, and drives git for
//! revision comparisons and bisection. Installed as `cargo benchgate` (and `benchgate`); bench files
//! depend on the small `benchgate` crate only. See README.md and ARCHITECTURE.md.

pub mod archive;
pub mod baseline;
pub mod bisect;
pub mod cli;
pub mod compare;
pub mod config;
pub mod driver;
pub mod fsutil;
pub mod gate;
pub mod history;
pub mod interleave;
pub mod measure;
pub mod merge;
pub mod meta;
pub mod model;
pub mod proc;
pub mod profile;
pub mod report;
pub mod revision;
pub mod stats;
pub mod trend;

/// The bench side's protocol, shared with the tool (its atomic file writing is re-exported by `fsutil`).
pub use benchgate::protocol;
