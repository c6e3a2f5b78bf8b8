//! Where a benchmark's instructions go, by category: callgrind profiles parsed per function
//! ([`callgrind`], with `callgrind_annotate`'s semantics) and functions mapped to cost categories
//! such as compression, allocation or hashing ([`category`]), and the profile of a benchmark's ops
//! alone, setup cancelled ([`ops`]). The library half of `benchgate profile`.

pub mod callgrind;
pub mod category;
pub mod ops;
