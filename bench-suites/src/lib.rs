//! Curated benchmark suites for benchgate: realistic payload generators and the routines the suites
//! measure, kept in a library so that unit tests check them before they are timed.

pub mod compression;
pub mod data;
pub mod interning;
pub mod pipeline;
pub mod protobuf;
pub mod queues;
pub mod storage;

/// The environment variable that restricts every suite to its smallest sizes (the test suite sets it,
/// so that each suite runs through every lane in seconds).
pub const SMALL_ENV: &str = "BENCH_SUITES_SMALL";

/// True when [`SMALL_ENV`] is set (to anything but `0`): suites declare only their smallest sizes.
pub fn small() -> bool {
    std::env::var_os(SMALL_ENV).is_some_and(|v| v != "0")
}
