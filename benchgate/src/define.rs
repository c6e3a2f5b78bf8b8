//! How a benchmark is declared, once, for every lane: [`Harness`], [`Suite`] and [`Bencher`].
//!
//! A bench binary calls its group functions with a [`Harness`]. Declaring a benchmark names it
//! (`suite/name[/param]`), annotates its throughput, and hands over a closure. The closure runs only when
//! the process was asked for that very benchmark: code before `b.iter(...)` is setup (never measured),
//! and the routine given to `iter` is what every lane measures. This is criterion's model, so criterion
//! benches port by changing their imports (see [`crate::criterion`]).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use crate::measure::latency::Latencies;
use crate::measure::{alloc, wall};
use crate::protocol::{DeclInfo, Outcome, Task};
use crate::protocol::{Reported, Throughput, Unit};

/// The benchmarks of one bench binary, and the one of them this process was asked to run.
pub struct Harness {
    task: Option<(String, Task)>,
    decls: Vec<DeclInfo>,
    outcome: Option<Result<Outcome, String>>,
    /// Default suite name for benchmarks declared without one (the bench target's name).
    default_suite: String,
}

impl Harness {
    /// A harness that only collects declarations.
    pub(crate) fn listing(default_suite: &str) -> Harness {
        Harness { task: None, decls: Vec::new(), outcome: None, default_suite: default_suite.to_owned() }
    }

    /// A harness that runs `task` on the benchmark `id` when it is declared.
    pub(crate) fn running(default_suite: &str, id: String, task: Task) -> Harness {
        Harness { task: Some((id, task)), ..Harness::listing(default_suite) }
    }

    /// Opens a suite: the benchmarks declared through it get ids `suite/name[/param]`.
    pub fn suite(&mut self, name: &str) -> Suite<'_> {
        Suite { harness: self, name: name.to_owned(), throughput: None }
    }

    pub(crate) fn default_suite(&self) -> &str {
        &self.default_suite
    }

    pub(crate) fn declarations(&self) -> &[DeclInfo] {
        &self.decls
    }

    /// The outcome of the requested benchmark, or `None` if no declaration matched it.
    pub(crate) fn take_outcome(&mut self) -> Option<Result<Outcome, String>> {
        self.outcome.take()
    }

    fn declare(&mut self, decl: DeclInfo, f: &mut dyn FnMut(&mut Bencher)) {
        let selected = matches!(&self.task, Some((id, _)) if *id == decl.id);
        if selected {
            let task = self.task.as_ref().map(|(_, t)| t.clone()).expect("selected implies a task");
            let mut bencher = Bencher { task, outcome: None, reported: BTreeMap::new() };
            f(&mut bencher);
            let reported = bencher.reported;
            self.outcome = Some(
                bencher
                    .outcome
                    .map(|outcome| with_reported(outcome, reported))
                    .ok_or_else(|| format!("benchmark `{}` never called an iter method on its Bencher", decl.id)),
            );
        }
        self.decls.push(decl);
    }
}

/// Attaches the figures a benchmark reported to the outcomes that carry them (wall and alloc).
fn with_reported(mut outcome: Outcome, values: BTreeMap<String, Reported>) -> Outcome {
    match &mut outcome {
        Outcome::Wall(samples) => samples.reported = values,
        Outcome::Alloc { reported, .. } => *reported = values,
        Outcome::Exec { .. } | Outcome::Probe { .. } => {}
    }
    outcome
}

/// A group of benchmarks sharing a suite name and, until changed, a throughput annotation.
pub struct Suite<'h> {
    harness: &'h mut Harness,
    name: String,
    throughput: Option<Throughput>,
}

impl Suite<'_> {
    /// Declares how much work one op of the benchmarks declared after this call does.
    pub fn throughput(&mut self, throughput: Throughput) -> &mut Self {
        self.throughput = Some(throughput);
        self
    }

    /// Removes the throughput annotation for the benchmarks declared after this call.
    pub fn no_throughput(&mut self) -> &mut Self {
        self.throughput = None;
        self
    }

    /// Declares benchmark `suite/name`.
    pub fn bench<F: FnMut(&mut Bencher)>(&mut self, name: &str, mut f: F) -> &mut Self {
        self.declare(name, None, &mut f);
        self
    }

    /// Declares benchmark `suite/name/param`.
    pub fn bench_with_param<F: FnMut(&mut Bencher)>(
        &mut self,
        name: &str,
        param: impl std::fmt::Display,
        mut f: F,
    ) -> &mut Self {
        self.declare(name, Some(param.to_string()), &mut f);
        self
    }

    pub(crate) fn declare(&mut self, name: &str, param: Option<String>, f: &mut dyn FnMut(&mut Bencher)) {
        let decl = DeclInfo::new(&self.name, name, param, self.throughput);
        self.harness.declare(decl, f);
    }
}

/// Batch sizes for [`Bencher::iter_batched`], as in criterion: how many inputs are set up before the
/// routine runs over them. Setup is never measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchSize {
    /// Inputs are cheap to hold: large batches.
    SmallInput,
    /// Inputs are large: small batches.
    LargeInput,
    /// One input per batch (highest timing overhead).
    PerIteration,
    /// Split each sample into this many batches.
    NumBatches(u64),
    /// Batches of this many iterations.
    NumIterations(u64),
}

impl BatchSize {
    /// Iterations per batch for a sample of `iters` iterations (criterion's rules).
    fn iters_per_batch(self, iters: u64) -> u64 {
        match self {
            BatchSize::SmallInput => iters.div_ceil(10),
            BatchSize::LargeInput => iters.div_ceil(1000),
            BatchSize::PerIteration => 1,
            BatchSize::NumBatches(n) => iters.div_ceil(n.max(1)),
            BatchSize::NumIterations(n) => n.max(1),
        }
        .max(1)
    }
}

/// Runs a benchmark's routine the way the current lane needs: timed samples, counted allocations, or
/// exactly N iterations for an external profiler.
pub struct Bencher {
    task: Task,
    outcome: Option<Outcome>,
    reported: BTreeMap<String, Reported>,
}

impl Bencher {
    /// Reports a figure of this benchmark that is not per op, e.g. the size of an encoded message or of
    /// a database on disk. Call it in setup or after the iter call; the results keep it under
    /// `metrics.reported.<name>`. Reporting a name again replaces the value.
    pub fn report(&mut self, name: &str, value: f64, unit: Unit) {
        self.reported.insert(name.to_owned(), Reported { value, unit });
    }

    /// Measures `routine`. Its return value is passed through [`black_box`] so the work is not
    /// optimized away.
    pub fn iter<O, R: FnMut() -> O>(&mut self, mut routine: R) {
        self.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                black_box(routine());
            }
            start.elapsed()
        });
    }

    /// Measures `routine` on inputs made by `setup`, which is never measured. Outputs are dropped
    /// outside the measurement.
    pub fn iter_batched<I, O, S, R>(&mut self, mut setup: S, mut routine: R, size: BatchSize)
    where
        S: FnMut() -> I,
        R: FnMut(I) -> O,
    {
        let mut run = |iters: u64, probe: &mut dyn Probe| {
            let per_batch = size.iters_per_batch(iters);
            let mut left = iters;
            while left > 0 {
                let n = per_batch.min(left);
                let inputs: Vec<I> = (0..n).map(|_| setup()).collect();
                // Allocated before the setup-only check, so that runs of the setup alone (which the instr
                // lane and profiles subtract) include this harness allocation too.
                let mut outputs = Vec::with_capacity(n as usize);
                left -= n;
                if probe.skip_routine() {
                    drop(inputs);
                    continue;
                }
                probe.start();
                for input in inputs {
                    outputs.push(black_box(routine(input)));
                }
                probe.stop();
                drop(outputs);
            }
        };
        self.drive(true, &mut run);
    }

    /// Like [`Bencher::iter_batched`], but the routine borrows its input mutably.
    pub fn iter_batched_ref<I, O, S, R>(&mut self, mut setup: S, mut routine: R, size: BatchSize)
    where
        S: FnMut() -> I,
        R: FnMut(&mut I) -> O,
    {
        let mut run = |iters: u64, probe: &mut dyn Probe| {
            let per_batch = size.iters_per_batch(iters);
            let mut left = iters;
            while left > 0 {
                let n = per_batch.min(left);
                let mut inputs: Vec<I> = (0..n).map(|_| setup()).collect();
                // Allocated before the setup-only check, so that runs of the setup alone (which the instr
                // lane and profiles subtract) include this harness allocation too.
                let mut outputs = Vec::with_capacity(n as usize);
                left -= n;
                if probe.skip_routine() {
                    drop(inputs);
                    continue;
                }
                probe.start();
                for input in &mut inputs {
                    outputs.push(black_box(routine(input)));
                }
                probe.stop();
                drop(outputs);
            }
        };
        self.drive(true, &mut run);
    }

    /// The routine times itself: it runs `iters` iterations and returns their duration. In the alloc
    /// lane everything the routine allocates is counted, so keep its own setup out of it.
    pub fn iter_custom<R: FnMut(u64) -> Duration>(&mut self, mut routine: R) {
        let mut run = |iters: u64, probe: &mut dyn Probe| {
            if probe.skip_routine() {
                return;
            }
            probe.start();
            let elapsed = routine(iters);
            probe.stop_with(elapsed);
        };
        self.drive(false, &mut run);
    }

    /// Like [`Bencher::iter_custom`], for routines that also time individual events (e.g. a message
    /// from enqueue to dequeue): the routine runs `iters` ops, records each event's latency in the
    /// [`Latencies`] it is given, and returns the ops' total duration. The wall lane keeps the
    /// latencies recorded after warm-up and the results report their percentiles
    /// (`metrics.latency`); other lanes ignore them.
    pub fn iter_latency<R: FnMut(u64, &mut Latencies) -> Duration>(&mut self, mut routine: R) {
        let latencies = RefCell::new(Latencies::new(matches!(self.task, Task::Wall(_))));
        let mut run = |iters: u64, probe: &mut dyn Probe| {
            if probe.skip_routine() {
                return;
            }
            probe.start();
            let elapsed = routine(iters, &mut latencies.borrow_mut());
            probe.stop_with(elapsed);
        };
        self.drive_with(false, &mut run, &mut || latencies.borrow_mut().reset());
        if let Some(Outcome::Wall(samples)) = &mut self.outcome {
            samples.latencies = latencies.into_inner().finish();
        }
    }

    /// Hands `run` (which performs `iters` iterations, bracketing the measured part with the probe)
    /// to the lane. `batched`: the iterations have per-iteration setup.
    fn drive(&mut self, batched: bool, run: &mut dyn FnMut(u64, &mut dyn Probe)) {
        self.drive_with(batched, run, &mut || {});
    }

    /// [`Bencher::drive`], calling `measuring` when the wall lane's warm-up ends.
    fn drive_with(&mut self, batched: bool, run: &mut dyn FnMut(u64, &mut dyn Probe), measuring: &mut dyn FnMut()) {
        if self.outcome.is_some() {
            // A second iter call in one closure would measure something else under the same id.
            panic!("a benchmark closure must call an iter method exactly once");
        }
        let outcome = match &self.task {
            Task::Wall(plan) => Outcome::Wall(wall::sample(
                plan,
                &mut |iters| {
                    let mut probe = wall::Stopwatch::default();
                    run(iters, &mut probe);
                    probe.elapsed()
                },
                measuring,
            )),
            Task::Alloc { iters } => {
                // One uncounted iteration first, so lazy one-time initialisation is not charged per op.
                run(1, &mut NoProbe::new(true));
                let mut probe = alloc::Counter::default();
                run(*iters, &mut probe);
                Outcome::Alloc { counts: probe.finish(*iters), reported: BTreeMap::new() }
            }
            Task::Exec { iters, routine } => {
                run(*iters, &mut NoProbe::new(*routine));
                Outcome::Exec { iters: *iters }
            }
            Task::Probe => Outcome::Probe { batched },
        };
        self.outcome = Some(outcome);
    }
}

/// What brackets the measured part of an iteration loop in a lane: a stopwatch, an allocation counter,
/// or nothing.
pub(crate) trait Probe {
    fn start(&mut self);
    fn stop(&mut self);
    /// Stops, with a duration the routine measured itself (`iter_custom`).
    fn stop_with(&mut self, _elapsed: Duration) {
        self.stop();
    }
    /// True when only the per-iteration setup should run (exec `--setup-only`).
    fn skip_routine(&self) -> bool {
        false
    }
}

/// Exec mode and warm-up: nothing measured; optionally the routine is skipped.
struct NoProbe {
    skip_routine: bool,
}

impl NoProbe {
    fn new(run_routine: bool) -> NoProbe {
        NoProbe { skip_routine: !run_routine }
    }
}

impl Probe for NoProbe {
    fn start(&mut self) {}
    fn stop(&mut self) {}
    fn skip_routine(&self) -> bool {
        self.skip_routine
    }
}
