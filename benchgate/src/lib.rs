//! benchgate's bench side: what a benchmark file depends on. Declare a benchmark once, natively or
//! through the criterion-compatible front end ([`criterion`]); the bench binary measures wall time and
//! allocations and answers the `cargo benchgate` driver over a file protocol ([`protocol`]). Everything
//! else (building, instruction counts under callgrind, statistics, the gate, reports, git) is the tool,
//! crate `cargo-benchgate`, installed as a cargo subcommand. See README.md.
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

pub mod criterion;
pub mod define;
pub mod fsutil;
pub mod measure;
pub mod protocol;
pub mod runtime;

pub use define::{BatchSize, Bencher, Harness, Suite};
pub use measure::alloc::CountingAlloc;
pub use measure::latency::Latencies;
pub use protocol::{Throughput, Unit};
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
