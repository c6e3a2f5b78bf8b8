//! A criterion-compatible front end: a crate with criterion benches gets every benchgate lane by
//! changing `use criterion::...` to `use benchgate::criterion::...` (see README, "Adopting benchgate").
//!
//! The subset covered is what bench files commonly use: `Criterion::bench_function`,
//! `benchmark_group` with `throughput`, `bench_function`, `bench_with_input` and `finish`,
//! `BenchmarkId`, `Throughput`, `BatchSize`, `black_box`, `criterion_group!` and `criterion_main!`.
//! Sampling settings (`sample_size`, `measurement_time`, ...) are accepted and ignored: benchgate's
//! configuration decides them, so every benchmark of a suite is measured alike.

use std::fmt::Display;
use std::time::Duration;

pub use std::hint::black_box;

use crate::define::Harness;
pub use crate::define::{BatchSize, Bencher};
use crate::runtime::GroupTarget;

/// criterion's `Criterion`, over a benchgate [`Harness`].
pub struct Criterion {
    harness: Harness,
}

impl GroupTarget for Criterion {
    fn from_harness(harness: Harness) -> Self {
        Criterion { harness }
    }
    fn into_harness(self) -> Harness {
        self.harness
    }
}

impl Default for Criterion {
    /// Only for `config = Criterion::default()...` in `criterion_group!`, whose settings are ignored.
    fn default() -> Self {
        Criterion { harness: Harness::listing("") }
    }
}

/// criterion's throughput annotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throughput {
    Bytes(u64),
    BytesDecimal(u64),
    Elements(u64),
}

impl From<Throughput> for crate::protocol::Throughput {
    fn from(t: Throughput) -> Self {
        match t {
            Throughput::Bytes(n) | Throughput::BytesDecimal(n) => crate::protocol::Throughput::Bytes(n),
            Throughput::Elements(n) => crate::protocol::Throughput::Elements(n),
        }
    }
}

/// criterion's benchmark id: a function name and an optional parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchmarkId {
    function: Option<String>,
    parameter: Option<String>,
}

impl BenchmarkId {
    pub fn new(function_name: impl Into<String>, parameter: impl Display) -> Self {
        BenchmarkId { function: Some(function_name.into()), parameter: Some(parameter.to_string()) }
    }

    pub fn from_parameter(parameter: impl Display) -> Self {
        BenchmarkId { function: None, parameter: Some(parameter.to_string()) }
    }

    /// benchgate's (name, param): a parameter-only id uses the parameter as the name.
    fn split(self) -> (String, Option<String>) {
        match (self.function, self.parameter) {
            (Some(f), p) => (f, p),
            (None, Some(p)) => (p, None),
            (None, None) => (String::from("bench"), None),
        }
    }
}

impl From<&str> for BenchmarkId {
    fn from(s: &str) -> Self {
        BenchmarkId { function: Some(s.to_owned()), parameter: None }
    }
}

impl From<String> for BenchmarkId {
    fn from(s: String) -> Self {
        BenchmarkId { function: Some(s), parameter: None }
    }
}

macro_rules! ignored_settings {
    () => {
        pub fn sample_size(&mut self, _n: usize) -> &mut Self {
            self
        }
        pub fn measurement_time(&mut self, _d: Duration) -> &mut Self {
            self
        }
        pub fn warm_up_time(&mut self, _d: Duration) -> &mut Self {
            self
        }
        pub fn noise_threshold(&mut self, _t: f64) -> &mut Self {
            self
        }
        pub fn significance_level(&mut self, _l: f64) -> &mut Self {
            self
        }
        pub fn confidence_level(&mut self, _l: f64) -> &mut Self {
            self
        }
        pub fn nresamples(&mut self, _n: usize) -> &mut Self {
            self
        }
    };
}

impl Criterion {
    ignored_settings!();

    /// Benchmarks outside a group belong to the suite named after the bench target.
    pub fn bench_function<F: FnMut(&mut Bencher)>(&mut self, id: impl Into<BenchmarkId>, mut f: F) -> &mut Self {
        let suite = self.harness.default_suite().to_owned();
        let (name, param) = id.into().split();
        self.harness.suite(&suite).declare(&name, param, &mut f);
        self
    }

    pub fn bench_with_input<I: ?Sized, F: FnMut(&mut Bencher, &I)>(
        &mut self,
        id: BenchmarkId,
        input: &I,
        mut f: F,
    ) -> &mut Self {
        self.bench_function(id, |b| f(b, input))
    }

    pub fn benchmark_group(&mut self, name: impl Into<String>) -> BenchmarkGroup<'_> {
        BenchmarkGroup { harness: &mut self.harness, name: name.into(), throughput: None }
    }

    /// criterion's builder passes `Criterion` by value in `config = ...`; accepted and ignored.
    pub fn configure_from_args(self) -> Self {
        self
    }

    pub fn final_summary(&mut self) {}
}

/// criterion's `BenchmarkGroup`: a benchgate suite named after the group.
pub struct BenchmarkGroup<'h> {
    harness: &'h mut Harness,
    name: String,
    throughput: Option<Throughput>,
}

impl BenchmarkGroup<'_> {
    ignored_settings!();

    pub fn throughput(&mut self, t: Throughput) -> &mut Self {
        self.throughput = Some(t);
        self
    }

    pub fn bench_function<F: FnMut(&mut Bencher)>(&mut self, id: impl Into<BenchmarkId>, mut f: F) -> &mut Self {
        let (name, param) = id.into().split();
        let mut suite = self.harness.suite(&self.name);
        if let Some(t) = self.throughput {
            suite.throughput(t.into());
        }
        suite.declare(&name, param, &mut f);
        self
    }

    pub fn bench_with_input<I: ?Sized, F: FnMut(&mut Bencher, &I)>(
        &mut self,
        id: BenchmarkId,
        input: &I,
        mut f: F,
    ) -> &mut Self {
        self.bench_function(id, |b| f(b, input))
    }

    pub fn finish(self) {}
}

/// criterion's `criterion_group!`, both forms. A `config = ...` expression is evaluated and ignored.
#[macro_export]
macro_rules! criterion_group {
    (name = $name:ident; config = $config:expr; targets = $($target:path),+ $(,)?) => {
        pub fn $name(c: &mut $crate::criterion::Criterion) {
            let _ = $config;
            $($target(c);)+
        }
    };
    ($name:ident, $($target:path),+ $(,)?) => {
        pub fn $name(c: &mut $crate::criterion::Criterion) {
            $($target(c);)+
        }
    };
}

/// criterion's `criterion_main!`: the bench binary's `main`, speaking benchgate's protocol.
#[macro_export]
macro_rules! criterion_main {
    ($($group:path),+ $(,)?) => {
        #[global_allocator]
        static __BENCHGATE_ALLOC: $crate::CountingAlloc = $crate::CountingAlloc::system();

        fn main() {
            $crate::runtime::main::<$crate::criterion::Criterion>(
                &[$($group as fn(&mut $crate::criterion::Criterion)),+],
                env!("CARGO_CRATE_NAME"),
            );
        }
    };
}

pub use crate::{criterion_group, criterion_main};
