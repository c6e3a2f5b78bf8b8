//! benchgate: a benchmark-and-regression harness. Declare a benchmark once; measure it in the wall,
//! alloc and instr lanes; write a versioned results file. See README.md and ARCHITECTURE.md.
//!
//! In a bench file (`harness = false`):
//!
//! ```no_run
//! use benchgate::{Bencher, Harness, Throughput, black_box};
//!
//! fn parse(h: &mut Harness) {
//!     let mut s = h.suite("parse");
//!     s.throughput(Throughput::Bytes(5));
//!     s.bench("u64", |b: &mut Bencher| {
//!         let input = String::from("12345"); // setup: not measured
//!         b.iter(|| black_box(&input).parse::<u64>().unwrap());
//!     });
//! }
//!
//! benchgate::main!(parse);
//! ```

pub mod baseline;
pub mod bisect;
pub mod cli;
pub mod compare;
pub mod config;
pub mod criterion;
pub mod define;
pub mod driver;
pub mod fsutil;
pub mod gate;
pub mod history;
pub mod interleave;
pub mod measure;
pub mod merge;
pub mod meta;
pub mod model;
pub mod profile;
pub mod protocol;
pub mod report;
pub mod revision;
pub mod runtime;
pub mod stats;
pub mod trend;

pub use define::{BatchSize, Bencher, Harness, Suite};
pub use measure::alloc::CountingAlloc;
pub use measure::latency::Latencies;
pub use model::{Throughput, Unit};
pub use std::hint::black_box;

/// The `main` of a bench binary: installs the counting allocator and runs the given group functions
/// (`fn(&mut Harness)`) under benchgate's protocol.
///
/// To wrap another global allocator, write the `main` yourself:
/// `#[global_allocator] static A: benchgate::CountingAlloc<MyAlloc> = benchgate::CountingAlloc::new(MyAlloc);`
/// and `fn main() { benchgate::runtime::main::<benchgate::Harness>(&[group], env!("CARGO_CRATE_NAME")) }`.
#[macro_export]
macro_rules! main {
    ($($group:path),+ $(,)?) => {
        #[global_allocator]
        static __BENCHGATE_ALLOC: $crate::CountingAlloc = $crate::CountingAlloc::system();

        fn main() {
            $crate::runtime::main::<$crate::Harness>(
                &[$($group as fn(&mut $crate::Harness)),+],
                env!("CARGO_CRATE_NAME"),
            );
        }
    };
}
