//! Curated benchmark suites for benchgate: realistic payload generators and the codec routines
//! the suites measure, kept in a library so that unit tests check them before they are timed.

pub mod compression;
pub mod data;
