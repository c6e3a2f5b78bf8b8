//! Where a benchmark's instructions go, by category: callgrind profiles parsed per function
//! ([`callgrind`], with `callgrind_annotate`'s semantics) and functions mapped to cost categories
//! such as compression, allocation or hashing ([`category`]), and the profile of a benchmark's ops
//! alone, setup cancelled ([`ops`]); the allocation sites of a benchmark's ops under valgrind's DHAT,
//! setup cancelled likewise, and base against head the sites that are new or grew ([`dhat`]); base
//! against head function by function for a regression ([`attribute`]); the decision gate over the
//! shares: rules with thresholds, the primary recommendation, secondary opportunities and what not to
//! optimize ([`decide`]); flamegraphs, folded stacks rebuilt from the call graph and drawn as SVG by
//! inferno, and differential flamegraphs of base against head ([`flame`]); implementations of one
//! suite side by side ([`sidebyside`]); the CPU time per op measured natively, user and system (the
//! kernel time callgrind cannot see), and wall ([`cputime`]); named profile baselines, saved and compared
//! with today's profile ([`saved`]). The library half of `benchgate profile`.

pub mod attribute;
pub mod callgrind;
pub mod category;
pub mod cputime;
pub mod decide;
pub mod dhat;
pub mod flame;
pub mod ops;
pub mod saved;
pub mod sidebyside;
