//! Measuring two builds in one job (`run --compare REV`): for each benchmark, the deterministic lanes
//! (alloc, instr) run once per side (a threaded benchmark's alloc lane 7 times a side, in turns:
//! `driver::alloc_outcomes`; a benchmark whose instruction counts differ beyond the threshold is counted
//! again, 2 or 7 times a side: `Recount`), from a cache keyed by the binary's code digest when possible, and
//! the wall lane runs in rounds, base and head alternating in a random order each round, so that drift
//! and noisy neighbours hit both sides alike. Samples keep their round, and `compare` pairs the rounds.
//!
//! A time budget spreads over the benchmarks: the deterministic lanes of all benchmarks run first and
//! take what they take; then each benchmark's wall rounds get an equal share of what is left, sized by
//! [`wall_plan`] and cut short when a routine turns out longer than planned. The wall pass runs one
//! round of every benchmark first, which times each benchmark's rounds, so that a benchmark whose
//! minimum rounds cost more than its share (a long setup, a long routine) is given what it needs out of
//! the others' shares ([`level`]) rather than running past the budget. When what is left cannot
//! give every benchmark the minimum rounds ([`min_wall_time`]), the wall pass is skipped and says why.
//! A benchmark whose binary is the same on both sides (same code digest) gets no wall rounds unless
//! asked (`Options::measure_identical`): the same program cannot have changed, so its rounds could only
//! produce false alarms, and they would take budget and correction from the binaries that changed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::config::{Config, WallSettings};
use crate::driver::{self, BenchBinary, DriverError, Event, Index, LaneOutcome};
use crate::measure::instr;
use crate::model::{BenchResult, Lane, Results, RunMode};
use crate::protocol::{DeclInfo, Outcome};
use crate::stats::{self, SplitMix64};

/// One side of the comparison: its built binaries and the results file it fills.
pub struct Side<'a> {
    /// `base` or `head`, for messages.
    pub label: &'static str,
    pub index: &'a Index,
    pub results: Results,
    pub out: PathBuf,
}

/// How to measure.
#[derive(Debug, Clone)]
pub struct Options {
    pub lanes: Vec<Lane>,
    pub mode: RunMode,
    /// For everything, deterministic lanes included.
    pub budget: Duration,
    /// Upper bound on wall rounds per benchmark and stage: the screen runs up to half of it (never
    /// fewer than [`MIN_ROUNDS`]), a candidate's confirmation up to all of it.
    pub max_rounds: u32,
    /// Seeds the order of each round.
    pub seed: u64,
    /// Where deterministic-lane outcomes are cached by code digest.
    pub cache_dir: PathBuf,
    /// Where the pass makes its scratch directory (`driver::scratch_dir`): the state directory.
    pub state_dir: PathBuf,
    /// Measure the wall time of benchmarks whose binary is the same on both sides (`--force`: A/A
    /// checks). Without it they are not measured, and the budget goes to the binaries that changed.
    pub measure_identical: bool,
    /// How many shards' candidates one verdict corrects over together: 1 for `run --compare`, N for
    /// shard I/N of an archive. The confirmation plans for the alpha of a family this many times its own
    /// candidates (what `verdicts` applies when the shards flag alike), not of its own candidates alone.
    pub shards: u32,
}

/// Screening rounds never go below this: from 6 pairs the sign test's interval (their range) covers
/// 96.9% and its p-value can reach 0.031, so the screen can both clear a benchmark (its interval within
/// the threshold) and flag it ([`stats::rounds::SCREEN_P`]).
pub const MIN_ROUNDS: u32 = 6;
/// The share of the wall time left after counting that the screen gets (at least what
/// [`min_wall_time`] needs); the confirmation rounds of its candidates get the rest. Half: under no
/// change about a fifth of the benchmarks are candidates (at 6 screening rounds), so each candidate
/// gets about as many confirmation rounds again as the screen gave every benchmark in total, which
/// buys the correction over the candidates.
const SCREEN_SHARE: f64 = 0.5;
/// The fewest confirmation rounds worth running: the sign test over fewer cannot be significant.
const MIN_CONFIRM: u32 = 3;
/// The shortest warm-up and measurement a plan gives a wall process (one side, one round).
const MIN_RUN_MS: u64 = 45;
/// What a wall process is assumed to take beyond its warm-up and measurement (start-up, report, exit)
/// until the pass has timed enough of its own ([`StartUp`]).
const SPAWN_MS: u64 = 15;
/// The shortest wall process a plan makes, start-up included, before any was timed.
const MIN_PROCESS_MS: u64 = MIN_RUN_MS + SPAWN_MS;

/// How every reason for wall rounds not run for lack of time begins: compare counts those benchmarks as
/// inconclusive for lack of time and says so in the verdict's first line.
pub const NO_TIME: &str = "the time budget ran out";

/// The share of the wall time left after the first round that the minimum rounds of the benchmarks kept
/// may take: a round's cost is known from one round only, and the screen gives each benchmark at least
/// its minimum whatever it costs, so the rest is kept for rounds that run longer than the first.
const FIT_SHARE: f64 = 0.9;

/// Why a benchmark in a binary that is the same on both sides has no wall verdict.
pub const SAME_CODE: &str =
    "base and head run the same binary (same code digest): the same program cannot have changed; --force times it";

/// The least time the wall pass needs for `benchmarks` benchmarks: the minimum rounds of the shortest
/// processes for each. With less, the pass is skipped rather than overrun the budget: a benchmark measured
/// in fewer rounds could not be judged anyway.
pub fn min_wall_time(benchmarks: usize) -> Duration {
    Duration::from_millis(benchmarks as u64 * 2 * u64::from(MIN_ROUNDS) * MIN_PROCESS_MS)
}

/// The wall plan for one benchmark: rounds, and what each process (one side, one round) does, for a
/// benchmark allowed `allowance` of wall time for both sides together, when a process takes `start_up`
/// beyond its warm-up and measurement.
pub fn wall_plan(
    allowance: Duration,
    configured: &WallSettings,
    max_rounds: u32,
    start_up: Duration,
) -> (u32, WallSettings) {
    let total = allowance.as_millis() as u64;
    let start_up = start_up.as_millis() as u64;
    let mut rounds = max_rounds.max(MIN_ROUNDS);
    while rounds > MIN_ROUNDS && total / (2 * u64::from(rounds)) < MIN_RUN_MS + start_up {
        rounds -= 1;
    }
    let per_process = total / (2 * u64::from(rounds));
    let warm_up_ms = (per_process * 3 / 10).clamp(10, configured.warm_up_ms.max(10));
    let measurement_ms = per_process.saturating_sub(warm_up_ms + start_up).max(10);
    let samples = configured.samples.clamp(3, 5);
    (rounds, WallSettings { warm_up_ms, measurement_ms, samples })
}

/// What wall processes take beyond their plan's warm-up and measurement: start-up (the binary is read
/// again, as its cached pages are dropped before each process), the report and exit. Measured as the
/// pass goes; plans use the lower quartile of the processes timed so far (a routine longer than its
/// plan takes longer too, and would inflate a mean), and [`SPAWN_MS`] before there are enough.
#[derive(Debug, Default)]
struct StartUp {
    ms: Vec<u64>,
}

impl StartUp {
    /// Processes timed before the measured figure replaces [`SPAWN_MS`].
    const ENOUGH: usize = 8;

    fn record(&mut self, took: Duration, plan: &WallSettings) {
        self.ms.push((took.as_millis() as u64).saturating_sub(plan.warm_up_ms + plan.measurement_ms));
    }

    fn estimate(&self) -> Duration {
        if self.ms.len() < Self::ENOUGH {
            return Duration::from_millis(SPAWN_MS);
        }
        let mut ms = self.ms.clone();
        ms.sort_unstable();
        Duration::from_millis(ms[ms.len() / 4])
    }
}

/// One benchmark's wall rounds, over the two steps of the wall pass.
struct Timed {
    /// Its index in `ids`.
    i: usize,
    /// Both sides are measured (else one side, or a failed one, runs as an ordinary run).
    both: bool,
    /// Rounds planned (fewer when the rounds run long).
    rounds: u32,
    plan: WallSettings,
    links: [Option<(tempfile::TempDir, PathBuf)>; 2],
    acc: [driver::WallAccumulator; 2],
    done: u32,
    /// Wall time of its rounds so far.
    spent: Duration,
}

impl Timed {
    /// What a round has taken, on average (zero before the first).
    fn per_round(&self) -> Duration {
        self.spent / self.done.max(1)
    }

    /// What the rounds it still needs to reach [`MIN_ROUNDS`] will take, from its rounds so far.
    fn floor(&self) -> Duration {
        if self.both { self.per_round() * MIN_ROUNDS.saturating_sub(self.done) } else { Duration::ZERO }
    }

    /// The sign test over the rounds both sides have so far, when both were measured and none failed.
    fn screen(&self) -> Option<stats::rounds::RoundTest> {
        if !self.both || self.acc.iter().any(|a| a.failed) {
            return None;
        }
        let (b, h) = (self.acc[0].round_medians(), self.acc[1].round_medians());
        let (vb, vh): (Vec<f64>, Vec<f64>) = b.iter().filter_map(|(r, v)| h.get(r).map(|w| (*v, *w))).unzip();
        stats::rounds::paired_sign_test(&vb, &vh)
    }

    /// Puts the estimates over every round so far into `results` (`confirm_from`: where the
    /// confirmation rounds start), keeping the accumulators for more rounds.
    fn finish_into(&self, results: &mut [Option<BenchResult>; 2], confirm_from: Option<u32>) {
        for (a, result) in self.acc.iter().zip(results.iter_mut()) {
            if let Some(result) = result.as_mut() {
                a.clone().finish_into(self.done > 1, &mut result.metrics);
                if let Some(w) = result.metrics.ns_per_op.as_mut() {
                    w.confirm_from = confirm_from;
                }
            }
        }
        for r in results.iter_mut().flatten() {
            driver::finish_metrics(r);
        }
    }

    /// One round: both sides, in a random order.
    #[allow(clippy::too_many_arguments)]
    fn round(
        &mut self,
        sides: [(&Side<'_>, Option<(&BenchBinary, &DeclInfo)>); 2],
        results: &mut [Option<BenchResult>; 2],
        scratch: &Path,
        config: &Config,
        opts: &Options,
        rng: &mut SplitMix64,
        start_up: &mut StartUp,
    ) -> Result<(), DriverError> {
        let started = Instant::now();
        let round = self.done;
        let order: [usize; 2] = if rng.below(2) == 0 { [0, 1] } else { [1, 0] };
        for k in order {
            let (side, found) = sides[k];
            let (Some((bin, decl)), Some(result)) = (found, results[k].as_mut()) else { continue };
            if self.acc[k].failed || !result.failures.is_empty() && self.rounds > 1 {
                continue;
            }
            let report = scratch.join(format!("{}-{}-wall-{round}.json", self.i, side.label));
            let args = driver::lane_args(Lane::Wall, decl, config, opts.mode, Some(&self.plan), &report);
            let exe = self.links[k].as_ref().map_or(bin.exe.as_path(), |(_, l)| l.as_path());
            let process_started = Instant::now();
            let outcome = driver::wall_process(exe, &args, &report, config.timeout(), &side.out)?;
            match outcome {
                LaneOutcome::Done(Outcome::Wall(s)) => {
                    if self.both {
                        start_up.record(process_started.elapsed(), &self.plan);
                    }
                    self.acc[k].push(round, s)
                }
                other => {
                    self.acc[k].failed = true;
                    driver::record(result, Lane::Wall, other);
                }
            }
        }
        self.done += 1;
        self.spent += started.elapsed();
        Ok(())
    }
}

/// Which benchmarks (indexes into `floors`, what their remaining minimum rounds take) to drop so that
/// the others' floors add up to at most `left`: the most expensive, so that the most are kept. Empty
/// when all fit.
fn over_budget(floors: &[Duration], left: Duration) -> Vec<usize> {
    if floors.iter().sum::<Duration>() <= left {
        return Vec::new();
    }
    let mut order: Vec<usize> = (0..floors.len()).collect();
    order.sort_by_key(|&n| (floors[n], n));
    let mut sum = Duration::ZERO;
    let mut dropped: Vec<usize> = order
        .into_iter()
        .filter(|&n| {
            sum += floors[n];
            sum > left
        })
        .collect();
    dropped.sort_unstable();
    dropped
}

/// The share of `left` each benchmark gets when every one gets the same, except those whose `floors`
/// (what their minimum rounds take) are more, which get their floor: the `s` with the sum of
/// `max(floor, s)` equal to `left`. Zero when the floors alone take all of it.
fn level(left: Duration, floors: &[Duration]) -> Duration {
    let mut floors = floors.to_vec();
    floors.sort_unstable_by(|a, b| b.cmp(a));
    let mut rest = left;
    for (k, &floor) in floors.iter().enumerate() {
        let share = rest / (floors.len() - k) as u32;
        if share >= floor {
            return share;
        }
        rest = rest.saturating_sub(floor);
    }
    Duration::ZERO
}

fn find<'a>(index: &'a Index, id: &str) -> Option<(&'a BenchBinary, &'a DeclInfo)> {
    index.benchmarks().into_iter().find(|(_, d)| d.id == id)
}

/// The cache file of a deterministic lane's outcome: the same code, benchmark and settings on the same
/// machine and C library give the same counts. `machine` names the machine (its fingerprint) and the C
/// library's version. For the instr lane the settings include the counter (callgrind), valgrind's
/// version and the environment passed to the measured process, each of which moves the counts.
#[allow(clippy::too_many_arguments)]
fn cache_path(
    dir: &Path,
    bin: &BenchBinary,
    id: &str,
    lane: Lane,
    config: &Config,
    mode: RunMode,
    valgrind: Option<&instr::Valgrind>,
    machine: &str,
) -> Option<PathBuf> {
    if bin.digest.is_empty() {
        return None;
    }
    let settings = match lane {
        Lane::Alloc => format!("iters={},threaded_runs={}", config.alloc_iters(mode), driver::ALLOC_RUNS),
        Lane::Instr => {
            let i = config.instr(mode);
            let (version, env) = valgrind.map_or((String::new(), String::new()), |v| {
                let env: Vec<String> =
                    v.env.iter().map(|(k, v)| format!("{}={}", k.to_string_lossy(), v.to_string_lossy())).collect();
                (v.version.clone(), env.join(","))
            });
            format!(
                "extra={},cache_sim={},protocol={},counter=callgrind,{version},env=[{env}]",
                i.extra_iters,
                i.cache_sim,
                crate::protocol::PROTOCOL_VERSION
            )
        }
        Lane::Wall => return None,
    };
    let key = format!("{}|{id}|{lane}|{settings}|{machine}", bin.digest);
    Some(dir.join(format!("{:016x}.json", crate::meta::fnv1a64(key.as_bytes()))))
}

/// Runs the comparison over `ids` (the union of both sides' selected benchmarks, sorted), writing both
/// results files after every step.
///
/// Two passes: first the deterministic lanes of every benchmark, which take what they take (from the
/// cache when the code is the same), then the wall rounds, with what is left of the budget shared
/// evenly. Measuring the counts first keeps an expensive count (a long routine under callgrind) from
/// starving the wall rounds of the benchmarks after it.
pub fn run<'a>(
    base: &mut Side<'a>,
    head: &mut Side<'a>,
    ids: &[String],
    config: &Config,
    opts: &Options,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<(), DriverError> {
    let started = Instant::now();
    let mut rng = SplitMix64::new(opts.seed);
    let scratch = driver::scratch_dir(&opts.state_dir)?;
    driver::ensure_dir(&opts.cache_dir)?;
    // The gate judges instructions, not estimated cycles: no cache simulation, which makes callgrind
    // two to three times slower.
    let mut counting = config.clone();
    counting.instr.cache_sim = false;
    counting.instr.quick.cache_sim = false;
    let config = &counting;
    let mut valgrind: Option<instr::Valgrind> = None;
    let mut instr_skip: Option<String> = None;
    if opts.lanes.contains(&Lane::Instr) {
        match instr::Valgrind::find(&config.instr.pass_env) {
            Ok(v) => valgrind = Some(v),
            Err(why) => {
                on_event(Event::LaneSkipped { lane: Lane::Instr, reason: &why });
                instr_skip = Some(why);
            }
        }
    }
    for side in [&*base, &*head] {
        write(side)?;
    }
    let machine = format!("machine={},libc={}", base.results.meta.machine.fingerprint, crate::meta::libc_version());
    let deterministic: Vec<Lane> = opts.lanes.iter().copied().filter(|l| *l != Lane::Wall).collect();
    let wall = opts.lanes.contains(&Lane::Wall);
    // Each benchmark's results on both sides, in the order of `ids`.
    let mut all: Vec<[Option<BenchResult>; 2]> = ids
        .iter()
        .map(|id| [find(base.index, id), find(head.index, id)].map(|f| f.map(|(_, d)| driver::empty_result(d))))
        .collect();
    for (n, &lane) in deterministic.iter().enumerate() {
        let counting = Counting {
            lane,
            workers: if lane == Lane::Instr { counting_workers() } else { 1 },
            last: n + 1 == deterministic.len(),
            skip: if lane == Lane::Instr { instr_skip.as_deref() } else { None },
            valgrind: if lane == Lane::Instr { valgrind.clone() } else { None },
            scratch: scratch.path(),
            machine: &machine,
        };
        counting.run(base, head, ids, &mut all, config, opts, on_event)?;
    }
    if let Some(valgrind) = &valgrind {
        let recount = Recount { valgrind, scratch: scratch.path(), machine: &machine };
        recount.run(base, head, ids, &mut all, config, opts, on_event)?;
    }

    // Benchmarks whose binary is the same on both sides get no wall rounds (unless asked): the budget
    // and the correction across benchmarks go to the binaries that changed.
    let mut measured: Vec<usize> = Vec::with_capacity(ids.len());
    let mut same_code = 0;
    for (i, id) in ids.iter().enumerate().take(if wall { ids.len() } else { 0 }) {
        let identical = match (find(base.index, id), find(head.index, id)) {
            (Some((b, _)), Some((h, _))) => b.same_code(h),
            _ => false,
        };
        if identical && !opts.measure_identical {
            same_code += 1;
            for r in all[i].iter_mut().flatten() {
                r.skipped.insert(Lane::Wall, SAME_CODE.to_owned());
            }
            keep(base, head, &all[i])?;
        } else {
            measured.push(i);
        }
    }
    let left = opts.budget.saturating_sub(started.elapsed());
    if !measured.is_empty() && left < min_wall_time(measured.len()) {
        let why = format!(
            "{NO_TIME}: {}s of it were left after building and counting, and {} benchmarks need at least {}s \
             ({MIN_ROUNDS} rounds each); raise --time-budget (counts are cached, so a second comparison of the \
             same code counts less)",
            left.as_secs(),
            measured.len(),
            min_wall_time(measured.len()).as_secs()
        );
        on_event(Event::LaneSkipped { lane: Lane::Wall, reason: &why });
        for &i in &measured {
            for r in all[i].iter_mut().flatten() {
                r.skipped.insert(Lane::Wall, why.clone());
            }
            keep(base, head, &all[i])?;
        }
    } else if !measured.is_empty() {
        let identical = if same_code > 0 {
            let s = if same_code == 1 { "" } else { "s" };
            format!("; not timed, as base and head run the same binary: {same_code} benchmark{s} (--force times them)")
        } else {
            String::new()
        };
        on_event(Event::Phase {
            text: &format!(
                "wall rounds of {} benchmarks, base and head alternating; {}s left of the budget{identical}",
                measured.len(),
                left.as_secs()
            ),
        });
        let wall_started = Instant::now();
        let mut start_up = StartUp::default();
        // First, one round of every benchmark, planned on an even share: what a round of each costs.
        // Then the other rounds, benchmark by benchmark, each with its share of what is left, where a
        // benchmark whose minimum rounds cost more than an even share gets that much ([`level`]): its
        // overrun is taken from the others instead of running past the budget at the end.
        // The screen gets its share of the wall time, the confirmation of its candidates the rest.
        let screen_left = left.mul_f64(SCREEN_SHARE).max(min_wall_time(measured.len())).min(left);
        let share = screen_left / measured.len() as u32;
        let screen_max = (opts.max_rounds / 2).max(MIN_ROUNDS);
        for side in [&mut *base, &mut *head] {
            side.results.meta.screen_p = Some(stats::rounds::SCREEN_P);
        }
        let mut timed: Vec<Timed> = Vec::with_capacity(measured.len());
        let mut told = Instant::now();
        for &i in &measured {
            if told.elapsed() >= FIRST_ROUND_PROGRESS {
                told = Instant::now();
                on_event(Event::Phase {
                    text: &format!("first round: {} of {} benchmarks timed", timed.len(), measured.len()),
                });
            }
            let id = &ids[i];
            let (b, h) = (find(base.index, id), find(head.index, id));
            let both = all[i].iter().all(|r| r.as_ref().is_some_and(|r| r.failures.is_empty()));
            let (rounds, plan) = if both {
                wall_plan(share, &config.wall(opts.mode), screen_max, start_up.estimate())
            } else {
                // One side only (a new or removed benchmark) or a failed side: measured as an ordinary run.
                config.wall_processes(opts.mode)
            };
            // Both sides start through links of one length: the binary's path is copied onto the stack and
            // the heap at start-up, so paths of different lengths would give each side its own fixed
            // offset of everything allocated after it (measured in the instr lane: +0.65% of malloc's
            // instructions on one benchmark).
            let links = [link(b.map(|(bin, _)| bin))?, link(h.map(|(bin, _)| bin))?];
            let mut t = Timed { i, both, rounds, plan, links, acc: Default::default(), done: 0, spent: Duration::ZERO };
            if both {
                t.round(
                    [(&*base, b), (&*head, h)],
                    &mut all[i],
                    scratch.path(),
                    config,
                    opts,
                    &mut rng,
                    &mut start_up,
                )?;
            }
            timed.push(t);
        }
        // What a round of each costs is known now: when the minimum rounds of all of them do not fit in
        // what is left, the most expensive are dropped (named, and counted as inconclusive for lack of
        // time) rather than run past the budget. Cheapest first keeps the most benchmarks judged.
        let after_first = left.saturating_sub(wall_started.elapsed());
        let floors: Vec<Duration> = timed.iter().map(Timed::floor).collect();
        let dropped = over_budget(&floors, after_first.mul_f64(FIT_SHARE));
        if !dropped.is_empty() {
            let need: Duration = floors.iter().sum();
            let why = format!(
                "{NO_TIME}: after the first round, {}s were left and the other {} rounds of all {} benchmarks \
                 would take {}s, so the {} with the costliest rounds were not timed further; raise --time-budget \
                 by {}s or more",
                after_first.as_secs(),
                MIN_ROUNDS - 1,
                timed.len(),
                need.as_secs(),
                dropped.len(),
                (need.saturating_sub(after_first.mul_f64(FIT_SHARE))).as_secs().max(1)
            );
            on_event(Event::Phase { text: &format!("wall rounds of {} benchmarks cut short: {why}", dropped.len()) });
            for &n in &dropped {
                let results = &mut all[timed[n].i];
                for r in results.iter_mut().flatten() {
                    r.skipped.insert(Lane::Wall, why.clone());
                }
                keep(base, head, results)?;
            }
            timed = timed
                .into_iter()
                .enumerate()
                .filter(|(n, _)| dropped.binary_search(n).is_err())
                .map(|(_, t)| t)
                .collect();
        }
        on_event(Event::Phase {
            text: &format!(
                "first round of each benchmark timed in {:.0}s; the other rounds:",
                wall_started.elapsed().as_secs_f64()
            ),
        });
        on_event(Event::Start { total: measured.len() });
        // The screen: every benchmark's rounds, within the screening share of the budget.
        let mut candidates: Vec<usize> = Vec::new();
        for n in 0..timed.len() {
            let floors: Vec<Duration> = timed[n..].iter().map(Timed::floor).collect();
            let t = &mut timed[n];
            let id = &ids[t.i];
            on_event(Event::BenchStart { index: n + 1, total: measured.len(), id });
            let bench_started = Instant::now();
            let allowance = floors[0].max(level(screen_left.saturating_sub(wall_started.elapsed()), &floors));
            let (b, h) = (find(base.index, id), find(head.index, id));
            let results = &mut all[t.i];
            while t.done < t.rounds {
                // Rounds of a routine longer than planned stop at the allowance (never below the minimum).
                if t.both && t.done >= MIN_ROUNDS && bench_started.elapsed() + t.per_round() > allowance {
                    break;
                }
                t.round([(&*base, b), (&*head, h)], results, scratch.path(), config, opts, &mut rng, &mut start_up)?;
            }
            if t.screen().is_some_and(|s| stats::rounds::screen_flags(&s)) {
                candidates.push(n);
            }
            t.finish_into(results, None);
            on_event(Event::PairDone { base: results[0].as_ref(), head: results[1].as_ref(), elapsed: t.spent });
            keep(base, head, results)?;
        }
        if !candidates.is_empty() {
            confirm(
                &mut timed,
                &candidates,
                Confirm { base, head, ids, all: &mut all, config, opts, scratch: scratch.path() },
                left.saturating_sub(wall_started.elapsed()),
                &mut rng,
                &mut start_up,
                on_event,
            )?;
        } else {
            on_event(Event::Phase { text: "screen: no candidates, nothing to confirm" });
        }
        let start_up = if start_up.ms.len() >= StartUp::ENOUGH {
            format!(
                "; starting and stopping each benchmark process cost about {} ms on top of its measuring \
                 (lower quartile over {} processes), time the budget spends but no sample gets",
                start_up.estimate().as_millis(),
                start_up.ms.len()
            )
        } else {
            String::new()
        };
        on_event(Event::Phase {
            text: &format!(
                "wall rounds took {:.0}s of {}s left{start_up}",
                wall_started.elapsed().as_secs_f64(),
                left.as_secs()
            ),
        });
    }
    for side in [&mut *base, &mut *head] {
        side.results.meta.partial = false;
        side.results.meta.finished_at = Some(crate::meta::now_rfc3339());
        write(side)?;
    }
    Ok(())
}

/// What the confirmation stage needs of the pass.
struct Confirm<'r, 'a> {
    base: &'r mut Side<'a>,
    head: &'r mut Side<'a>,
    ids: &'r [String],
    all: &'r mut [[Option<BenchResult>; 2]],
    config: &'r Config,
    opts: &'r Options,
    scratch: &'r Path,
}

/// The confirmation stage: fresh rounds for each candidate the screen flagged, numbered on from its
/// screening rounds, with an even share of `left`, up to `opts.max_rounds` each, and never fewer than the
/// sign test needs to reach the alpha the correction over the candidates applies
/// ([`stats::power::sign_floor`]): fewer could not make any change significant, so when `left` cannot
/// give every candidate that many, the candidates with the costliest rounds get none (named, not judged)
/// and the others get their floor. Says which candidates could not get the rounds that detect a change of
/// twice their threshold with 80% power at that alpha.
fn confirm(
    timed: &mut [Timed],
    candidates: &[usize],
    cx: Confirm<'_, '_>,
    left: Duration,
    rng: &mut SplitMix64,
    start_up: &mut StartUp,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<(), DriverError> {
    let Confirm { base, head, ids, all, config, opts, scratch } = cx;
    let k = candidates.len();
    let family = k * opts.shards.max(1) as usize;
    let alpha = config.gate.fdr / family as f64;
    let least = stats::power::sign_floor(alpha, opts.max_rounds as usize);
    let floor = least.map_or(opts.max_rounds, |n| n as u32).max(MIN_CONFIRM);
    let floors: Vec<Duration> = candidates.iter().map(|&n| timed[n].per_round() * floor).collect();
    let dropped = over_budget(&floors, left.mul_f64(FIT_SHARE));
    on_event(Event::Phase {
        text: &format!(
            "screen: {k} of {} benchmarks are candidates (sign test p <= {}); confirming them on fresh rounds, \
             {floor} each at least ({} alpha {}, FDR {} over {family} candidates{}), {}s left",
            timed.len(),
            stats::rounds::SCREEN_P,
            if least.is_some() {
                "the fewest over which the sign test can reach"
            } else {
                "compare.rounds: too few for the sign test to reach"
            },
            fmt_alpha(alpha),
            config.gate.fdr,
            if opts.shards > 1 { format!(", as many in each of the {} shards", opts.shards) } else { String::new() },
            left.as_secs()
        ),
    });
    let started = Instant::now();
    let mut short: Vec<String> = Vec::new();
    let mut unconfirmed: Vec<&str> = Vec::new();
    for (j, &n) in candidates.iter().enumerate() {
        let skip = dropped.binary_search(&j).is_ok();
        let rest: Vec<Duration> = (j..k).filter(|m| dropped.binary_search(m).is_err()).map(|m| floors[m]).collect();
        let t = &mut timed[n];
        let id = &ids[t.i];
        on_event(Event::BenchStart { index: j + 1, total: k, id });
        let allowance =
            if skip { Duration::ZERO } else { floors[j].max(level(left.saturating_sub(started.elapsed()), &rest)) };
        let per_round = t.per_round().max(Duration::from_millis(1));
        let planned = if skip {
            0
        } else {
            ((allowance.as_secs_f64() / per_round.as_secs_f64()) as u32).clamp(floor, opts.max_rounds.max(floor))
        };
        let threshold = config.gate.thresholds(id, &all[t.i][1].as_ref().map_or(String::new(), |r| r.suite.clone()));
        let threshold = threshold.wall_ratio_interleaved;
        let sigma = t.screen().map_or(0.0, |s| s.sigma);
        // Rounds that compare would not judge (more rounds with the same critical count detect less) are
        // not run: their time goes to the candidates after this one.
        let screen = stats::power::Stage { rounds: t.done as usize, alpha: stats::rounds::SCREEN_P };
        // A plan: the confirmation rounds that show the noise's shape are yet to come.
        let noise = stats::power::Noise::normal(sigma);
        let planned = if planned > floor {
            let judged =
                stats::power::judged_rounds(screen, planned as usize, noise, alpha, threshold, crate::compare::POWER);
            (judged as u32).max(floor)
        } else {
            planned
        };
        let target = (1.0 + threshold).powi(2);
        let needed = stats::power::confirm_rounds_needed(
            sigma,
            t.done as usize,
            alpha,
            threshold,
            target,
            crate::compare::POWER,
            opts.max_rounds as usize,
        );
        if skip {
            unconfirmed.push(id);
        } else if needed.is_none_or(|need| planned < need as u32) {
            short.push(match needed {
                Some(need) => format!("{id} ({planned} of {need})"),
                None => format!("{id} ({planned}; not even {} would do)", opts.max_rounds),
            });
        }
        let from = t.done;
        let (b, h) = (find(base.index, id), find(head.index, id));
        let results = &mut all[t.i];
        let bench_started = Instant::now();
        while t.done < from + planned {
            if t.done - from >= floor && bench_started.elapsed() + t.per_round() > allowance {
                break;
            }
            t.round([(&*base, b), (&*head, h)], results, scratch, config, opts, rng, start_up)?;
        }
        t.finish_into(results, (t.done > from).then_some(from));
        on_event(Event::PairDone { base: results[0].as_ref(), head: results[1].as_ref(), elapsed: t.spent });
        keep(base, head, results)?;
    }
    let mut text = format!("confirmation rounds of {k} candidates took {:.0}s", started.elapsed().as_secs_f64());
    if least.is_none() {
        text.push_str(&format!(
            "; over {} rounds (compare.rounds) the sign test cannot reach alpha {}: a lone change cannot be \
             confirmed, only many at once (Benjamini-Hochberg's later steps); raise compare.rounds",
            opts.max_rounds,
            fmt_alpha(alpha)
        ));
    }
    if !unconfirmed.is_empty() {
        text.push_str(&format!(
            "; {} got no confirmation rounds, as the time left could not give every candidate the {floor} a \
             confirmation needs (the costliest rounds went without; not judged): {}; a larger --time-budget \
             gives them time",
            unconfirmed.len(),
            listed(&unconfirmed)
        ));
    }
    if !short.is_empty() {
        let shown: Vec<&str> = short.iter().map(String::as_str).collect();
        text.push_str(&format!(
            "; {} could not get the confirmation rounds that detect twice the threshold with 80% power \
             (rounds given of needed): {}; a larger --time-budget gives them more",
            short.len(),
            listed(&shown)
        ));
    }
    on_event(Event::Phase { text: &text });
    Ok(())
}

/// Up to five names, and how many more.
fn listed(names: &[&str]) -> String {
    let more = if names.len() > 5 { format!(" and {} more", names.len() - 5) } else { String::new() };
    format!("{}{more}", names[..names.len().min(5)].join(", "))
}

/// An alpha as it is printed: three significant digits.
fn fmt_alpha(alpha: f64) -> String {
    format!("{alpha:.2e}")
}

/// How often the first wall round (one round of every benchmark, without a line per benchmark) says how
/// far it got.
const FIRST_ROUND_PROGRESS: Duration = Duration::from_secs(10);

/// At most this many counting processes run at once (callgrind holds a large binary's debug info in
/// memory: several hundred MB per process).
const MAX_COUNTING_JOBS: usize = 4;

/// How many instruction-counting processes run at once: one per core, up to [`MAX_COUNTING_JOBS`].
/// Instruction counts do not depend on the load: valgrind runs a program's threads one at a time on its
/// own schedule. Allocation counts of threaded code can (a queue's backlog depends on the cores free),
/// so the alloc lane runs one process at a time.
fn counting_workers() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get).min(MAX_COUNTING_JOBS)
}

/// One deterministic lane of every benchmark, once per side: outcomes from the cache where the code is
/// the same, a binary that is the same on both sides counted once, the rest by `workers` processes at
/// a time, recorded in the order of the benchmarks.
struct Counting<'s> {
    lane: Lane,
    workers: usize,
    /// The last deterministic lane: its progress is shown per benchmark, with every lane's figures.
    last: bool,
    /// Why the lane cannot run here, if it cannot.
    skip: Option<&'s str>,
    /// For the instr lane: the valgrind that counts.
    valgrind: Option<instr::Valgrind>,
    scratch: &'s Path,
    /// The machine's fingerprint and the C library's version, for the cache key.
    machine: &'s str,
}

/// One count to take: the alloc lane of one benchmark on one side or both (counted in turns), or runs
/// under callgrind (instr). Its outcomes are one per entry of `sides`.
struct Job {
    what: JobKind,
    sides: Vec<JobSide>,
}

/// Where an outcome of a job goes: the results file it is for (named on an interrupt) and its cache.
struct JobSide {
    results_file: PathBuf,
    cache: Option<PathBuf>,
}

/// A protocol request: the binary, its arguments, its report file.
struct Request {
    exe: PathBuf,
    args: Vec<String>,
    report: PathBuf,
}

enum JobKind {
    /// One request per side ([`driver::alloc_outcomes`]).
    Alloc(Vec<Request>),
    Instr {
        exe: PathBuf,
        id: String,
    },
}

/// What the cache keeps of a deterministic lane's outcome.
#[derive(serde::Serialize, serde::Deserialize)]
enum Cached {
    Alloc(Outcome),
    /// A threaded benchmark's alloc lane, every run ([`driver::alloc_outcomes`]).
    Allocs {
        runs: Vec<crate::protocol::AllocCounts>,
        reported: std::collections::BTreeMap<String, crate::model::Reported>,
    },
    Instr(crate::model::InstrCounts),
    /// A benchmark's instr lane counted again ([`Recount`]), every run.
    Instrs(Vec<crate::model::InstrCounts>),
}

impl Cached {
    fn of(outcome: &LaneOutcome) -> Option<Cached> {
        match outcome {
            LaneOutcome::Done(o) => Some(Cached::Alloc(o.clone())),
            LaneOutcome::Allocs { runs, reported } => {
                Some(Cached::Allocs { runs: runs.clone(), reported: reported.clone() })
            }
            LaneOutcome::Counted(c) => Some(Cached::Instr(*c)),
            LaneOutcome::Instrs(runs) => Some(Cached::Instrs(runs.clone())),
            LaneOutcome::Skipped(_) | LaneOutcome::Failed(_) => None,
        }
    }

    /// Keeps `outcome` in the cache file `path`, if it is a count (best effort: a cache that cannot be
    /// written only means counting again next time).
    fn store(outcome: &LaneOutcome, path: &Path) {
        if let Some(c) = Cached::of(outcome) {
            let text = serde_json::to_vec(&c).expect("outcome serializes");
            let _ = crate::fsutil::write_atomic(path, &text);
        }
    }

    fn outcome(self) -> LaneOutcome {
        match self {
            Cached::Alloc(o) => LaneOutcome::Done(o),
            Cached::Allocs { runs, reported } => LaneOutcome::Allocs { runs, reported },
            Cached::Instr(c) => LaneOutcome::Counted(c),
            Cached::Instrs(runs) => LaneOutcome::Instrs(runs),
        }
    }
}

enum Slot {
    Ready(LaneOutcome),
    /// Outcome `n` of job `j`.
    Job(usize, usize),
}

impl Counting<'_> {
    #[allow(clippy::too_many_arguments)]
    fn run(
        &self,
        base: &mut Side<'_>,
        head: &mut Side<'_>,
        ids: &[String],
        all: &mut [[Option<BenchResult>; 2]],
        config: &Config,
        opts: &Options,
        on_event: &mut dyn FnMut(Event<'_>),
    ) -> Result<(), DriverError> {
        let lane = self.lane;
        let mut jobs: Vec<Job> = Vec::new();
        let mut slots: Vec<[Option<Slot>; 2]> = Vec::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            let mut slot: [Option<Slot>; 2] = [None, None];
            let mut keys: [Option<PathBuf>; 2] = [None, None];
            // Alloc requests of both sides wait here, to be counted in turns as one job.
            let mut pending: Vec<(usize, Request, JobSide)> = Vec::new();
            // A side's cached runs of a threaded benchmark's alloc lane, with the request that counts it
            // again: used only when the other side is not counted now (see below).
            let mut threaded_cached: [Option<(LaneOutcome, Request, JobSide)>; 2] = [None, None];
            let mut shared = false;
            for (k, side) in [&*base, &*head].into_iter().enumerate() {
                let Some((bin, decl)) = find(side.index, id) else { continue };
                if let Some(why) = self.skip {
                    slot[k] = Some(Slot::Ready(LaneOutcome::Skipped(why.to_owned())));
                    continue;
                }
                let cached =
                    cache_path(&opts.cache_dir, bin, id, lane, config, opts.mode, self.valgrind.as_ref(), self.machine);
                let request = |cache: Option<PathBuf>| {
                    let report = self.scratch.join(format!("{i}-{}-{lane}.json", side.label));
                    let args = driver::lane_args(lane, decl, config, opts.mode, None, &report);
                    (Request { exe: bin.exe.clone(), args, report }, JobSide { results_file: side.out.clone(), cache })
                };
                if let Some(o) = cached
                    .as_ref()
                    .and_then(|p| std::fs::read(p).ok())
                    .and_then(|t| serde_json::from_slice::<Cached>(&t).ok())
                {
                    let o = o.outcome();
                    if matches!(o, LaneOutcome::Allocs { .. }) {
                        let (q, to) = request(cached.clone());
                        threaded_cached[k] = Some((o, q, to));
                    } else {
                        slot[k] = Some(Slot::Ready(o));
                    }
                    continue;
                }
                // The same binary on both sides: counted once, for both.
                if k == 1 && cached.is_some() && cached == keys[0] {
                    shared = true;
                    continue;
                }
                keys[k] = cached.clone();
                let to = JobSide { results_file: side.out.clone(), cache: cached };
                if lane == Lane::Instr {
                    jobs.push(Job { what: JobKind::Instr { exe: bin.exe.clone(), id: id.clone() }, sides: vec![to] });
                    slot[k] = Some(Slot::Job(jobs.len() - 1, 0));
                } else {
                    let (q, to) = request(to.cache);
                    pending.push((k, q, to));
                }
            }
            // Threaded allocation counts move with the machine's scheduling and load, so runs of another
            // job are not exchangeable with this job's (measured: a flume channel's base from the cache,
            // 19.3-1805 allocations per op over 7 runs, against head's 1.20-17.3 counted later, same
            // code: "improved"). Cached runs count only when the other side is not counted now either;
            // otherwise both sides are counted again, in turns, in one job.
            let recount = !pending.is_empty();
            for (k, c) in threaded_cached.into_iter().enumerate() {
                let Some((o, q, to)) = c else { continue };
                if recount {
                    pending.push((k, q, to));
                } else {
                    slot[k] = Some(Slot::Ready(o));
                }
            }
            pending.sort_by_key(|(k, ..)| *k);
            if !pending.is_empty() {
                let j = jobs.len();
                let (mut requests, mut sides) = (Vec::new(), Vec::new());
                for (n, (k, q, to)) in pending.into_iter().enumerate() {
                    slot[k] = Some(Slot::Job(j, n));
                    requests.push(q);
                    sides.push(to);
                }
                jobs.push(Job { what: JobKind::Alloc(requests), sides });
            }
            if shared && let Some(Slot::Job(j, n)) = slot[0] {
                slot[1] = Some(Slot::Job(j, n));
            }
            slots.push(slot);
        }

        let started = Instant::now();
        on_event(Event::Phase { text: &self.phase(jobs.iter().map(|j| j.sides.len()).sum()) });
        if self.last {
            on_event(Event::Start { total: ids.len() });
        }
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let (tx, rx) = mpsc::channel::<(usize, Result<Vec<LaneOutcome>, DriverError>, Duration)>();
        let timeout = config.timeout();
        std::thread::scope(|scope| {
            for _ in 0..self.workers.min(jobs.len()) {
                let (tx, jobs, next, stop, valgrind) = (tx.clone(), &jobs, &next, &stop, &self.valgrind);
                let settings = config.instr(opts.mode);
                scope.spawn(move || {
                    while !stop.load(Ordering::SeqCst) {
                        let j = next.fetch_add(1, Ordering::SeqCst);
                        let Some(job) = jobs.get(j) else { break };
                        let t = Instant::now();
                        let file = |n: usize| job.sides[n].results_file.as_path();
                        let r = match (&job.what, valgrind) {
                            (JobKind::Alloc(requests), _) => {
                                let sides: Vec<driver::AllocRequest<'_>> = requests
                                    .iter()
                                    .enumerate()
                                    .map(|(n, q)| driver::AllocRequest {
                                        exe: &q.exe,
                                        args: &q.args,
                                        report: &q.report,
                                        results_file: file(n),
                                    })
                                    .collect();
                                driver::alloc_outcomes(&sides, timeout)
                            }
                            (JobKind::Instr { exe, id }, Some(valgrind)) => {
                                let scratch = self.scratch;
                                driver::instr_outcome(valgrind, exe, id, settings.clone(), scratch, timeout, file(0))
                                    .map(|o| vec![o])
                            }
                            (JobKind::Instr { .. }, None) => unreachable!("instr jobs are made only with valgrind"),
                        };
                        match &r {
                            Ok(outcomes) => {
                                for (o, side) in outcomes.iter().zip(&job.sides) {
                                    if let Some(path) = &side.cache {
                                        Cached::store(o, path);
                                    }
                                }
                            }
                            Err(_) => stop.store(true, Ordering::SeqCst),
                        }
                        if tx.send((j, r, t.elapsed())).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(tx);
            let mut done: Vec<Option<(Vec<LaneOutcome>, Duration)>> = jobs.iter().map(|_| None).collect();
            let result = (|| -> Result<(), DriverError> {
                for (i, (id, slot)) in ids.iter().zip(slots).enumerate() {
                    if self.last {
                        on_event(Event::BenchStart { index: i + 1, total: ids.len(), id });
                    }
                    let mut elapsed = Duration::ZERO;
                    let mut counted = BTreeSet::new();
                    for (k, s) in slot.into_iter().enumerate() {
                        let outcome = match s {
                            None => continue,
                            Some(Slot::Ready(o)) => o,
                            Some(Slot::Job(j, n)) => {
                                while done[j].is_none() {
                                    let (got, r, took) = rx.recv().expect("counting workers send every outcome");
                                    done[got] = Some((r?, took));
                                }
                                let (outcomes, took) = done[j].as_ref().expect("received");
                                if counted.insert(j) {
                                    elapsed += *took;
                                }
                                outcomes[n].clone()
                            }
                        };
                        if let Some(result) = all[i][k].as_mut() {
                            driver::record(result, lane, outcome);
                        }
                    }
                    if self.last {
                        for r in all[i].iter_mut().flatten() {
                            driver::finish_metrics(r);
                        }
                        on_event(Event::PairDone { base: all[i][0].as_ref(), head: all[i][1].as_ref(), elapsed });
                    }
                    keep(base, head, &all[i])?;
                }
                Ok(())
            })();
            if result.is_err() {
                stop.store(true, Ordering::SeqCst);
            }
            result
        })?;
        if !self.last {
            on_event(Event::Phase { text: &format!("{lane} counted in {:.0}s", started.elapsed().as_secs_f64()) });
        }
        Ok(())
    }

    fn phase(&self, processes: usize) -> String {
        let how = if processes == 0 {
            "all from the cache".to_owned()
        } else if self.workers > 1 {
            format!("{processes} processes, {} at a time", self.workers.min(processes))
        } else {
            format!("{processes} processes, one at a time")
        };
        let threaded = if self.lane == Lane::Alloc {
            format!(", {} times a side, in turns, where threads take part", driver::ALLOC_RUNS)
        } else {
            String::new()
        };
        format!("{}, once per side{threaded} ({how})", self.lane)
    }
}

/// The instr lane's second look: a benchmark whose first counts on the two sides differ beyond its
/// threshold ([`crate::compare::instr_verdict`] on the configured threshold, which a calibrated floor
/// only raises) is counted again, base and head in turns: once more a side, and when any side's counts
/// then differ from each other and the two sides' ranges still lie apart, up to [`driver::INSTR_RUNS`] a
/// side, so that `compare` judges the counts' ranges ([`instr_runs_needed`]). Counts of one binary repeat
/// exactly when its code is deterministic; those that do not (threads under valgrind's scheduling, a
/// random hash seed) would otherwise flag one draw of their spread: seen in two verdicts of one archive,
/// which judged 8 comparisons (threaded queues, fjall, redb) differently. Counts that repeat cost one
/// more count a side, and only where a change was seen.
struct Recount<'s> {
    valgrind: &'s instr::Valgrind,
    scratch: &'s Path,
    /// The machine's fingerprint and the C library's version, for the cache key.
    machine: &'s str,
}

/// How many counts a side needs, given both sides' counts so far (base, head) and the configured
/// threshold: two a side first; [`driver::INSTR_RUNS`] while some side's counts vary and the two sides'
/// ranges (of two or more a side) still lie apart beyond the threshold, so counting stops as soon as they
/// meet. Ranges that meet stay met as counts are added (a range only widens, and a calibrated floor only
/// raises the threshold `compare` applies), so their verdict at seven a side would be "unchanged" too;
/// and seven a side lie apart only if every shorter prefix did, so stopping early changes no verdict and
/// no error rate.
fn instr_runs_needed(runs: &[Vec<crate::model::InstrCounts>; 2], threshold: f64) -> usize {
    let varies = runs.iter().any(|r| r.windows(2).any(|w| w[0] != w[1]));
    if !varies || runs.iter().any(|r| r.len() < 2) {
        return 2;
    }
    let range = |r: &[crate::model::InstrCounts]| {
        r.iter()
            .map(crate::model::InstrCounts::instructions_per_op)
            .fold([f64::INFINITY, f64::NEG_INFINITY], |[lo, hi], v| [lo.min(v), hi.max(v)])
    };
    let apart = crate::compare::instr_verdict(range(&runs[0]), range(&runs[1]), threshold)
        != crate::compare::Verdict::Unchanged;
    if apart { driver::INSTR_RUNS } else { 2 }
}

impl Recount<'_> {
    #[allow(clippy::too_many_arguments)]
    fn run(
        &self,
        base: &mut Side<'_>,
        head: &mut Side<'_>,
        ids: &[String],
        all: &mut [[Option<BenchResult>; 2]],
        config: &Config,
        opts: &Options,
        on_event: &mut dyn FnMut(Event<'_>),
    ) -> Result<(), DriverError> {
        if !crate::compare::same_toolchain(&base.results.meta, &head.results.meta) {
            return Ok(());
        }
        let runs_of = |r: &BenchResult| -> Vec<crate::model::InstrCounts> {
            if r.metrics.instr_runs.is_empty() {
                r.metrics.instr.into_iter().collect()
            } else {
                r.metrics.instr_runs.clone()
            }
        };
        // Each benchmark to count again: its index, and each side's binary and counts so far.
        type Sides = [(PathBuf, Vec<crate::model::InstrCounts>); 2];
        let mut work: Vec<(usize, Sides, f64)> = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            let [Some(b), Some(h)] = &all[i] else { continue };
            let (Some(bv), Some(hv)) = (b.metrics.instructions_per_op, h.metrics.instructions_per_op) else { continue };
            let threshold = config.gate.thresholds(id, &h.suite).instr_ratio;
            if crate::compare::instr_verdict([bv, bv], [hv, hv], threshold) == crate::compare::Verdict::Unchanged {
                continue;
            }
            let (Some((bb, _)), Some((hb, _))) = (find(base.index, id), find(head.index, id)) else { continue };
            let runs = [runs_of(b), runs_of(h)];
            let needed = instr_runs_needed(&runs, threshold);
            if runs.iter().all(|r| r.len() >= needed) {
                continue;
            }
            let [rb, rh] = runs;
            work.push((i, [(bb.exe.clone(), rb), (hb.exe.clone(), rh)], threshold));
        }
        if work.is_empty() {
            return Ok(());
        }
        let workers = counting_workers().min(work.len());
        on_event(Event::Phase {
            text: &format!(
                "instr: {} benchmark{} counted beyond the threshold; counting them again, base and head in turns \
                 (a second count a side, {} a side where counts vary and the ranges still lie apart; {workers} at \
                 a time)",
                work.len(),
                if work.len() == 1 { "" } else { "s" },
                driver::INSTR_RUNS
            ),
        });
        let started = Instant::now();
        let settings = config.instr(opts.mode);
        let timeout = config.timeout();
        let files = [base.out.clone(), head.out.clone()];
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        type Counted = Result<[Option<LaneOutcome>; 2], DriverError>;
        let (tx, rx) = mpsc::channel::<(usize, Counted)>();
        let work = &work;
        // Counts that repeated; that varied and were counted seven a side; that varied with ranges that
        // met before seven a side; that failed.
        let (mut repeated, mut varied, mut met, mut failed) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        std::thread::scope(|scope| -> Result<(), DriverError> {
            for _ in 0..workers {
                let (tx, next, stop, settings, files) = (tx.clone(), &next, &stop, &settings, &files);
                scope.spawn(move || {
                    while !stop.load(Ordering::SeqCst) {
                        let w = next.fetch_add(1, Ordering::SeqCst);
                        let Some((i, sides, threshold)) = work.get(w) else { break };
                        let id = &ids[*i];
                        let mut runs: [Vec<crate::model::InstrCounts>; 2] = [sides[0].1.clone(), sides[1].1.clone()];
                        let mut outcome: [Option<LaneOutcome>; 2] = [None, None];
                        let r = (|| -> Result<(), DriverError> {
                            loop {
                                let needed = instr_runs_needed(&runs, *threshold);
                                if runs.iter().all(|r| r.len() >= needed) {
                                    break;
                                }
                                for k in 0..2 {
                                    if runs[k].len() >= needed || outcome[k].is_some() {
                                        continue;
                                    }
                                    match driver::instr_outcome(
                                        self.valgrind,
                                        &sides[k].0,
                                        id,
                                        settings.clone(),
                                        self.scratch,
                                        timeout,
                                        &files[k],
                                    )? {
                                        LaneOutcome::Counted(c) => runs[k].push(c),
                                        failure => outcome[k] = Some(failure),
                                    }
                                }
                                if outcome.iter().any(Option::is_some) {
                                    break;
                                }
                            }
                            Ok(())
                        })();
                        for k in 0..2 {
                            if outcome[k].is_none() {
                                outcome[k] = Some(LaneOutcome::Instrs(std::mem::take(&mut runs[k])));
                            }
                        }
                        if r.is_err() {
                            stop.store(true, Ordering::SeqCst);
                        }
                        if tx.send((w, r.map(|()| outcome))).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(tx);
            let result = (|| -> Result<(), DriverError> {
                for (w, r) in rx.iter() {
                    let outcomes = r?;
                    let i = &work[w].0;
                    let id = &ids[*i];
                    let (mut varies, mut fails, mut fewest) = (false, false, usize::MAX);
                    for (k, (side, outcome)) in [&*base, &*head].into_iter().zip(outcomes).enumerate() {
                        let Some(outcome) = outcome else { continue };
                        let bin = find(side.index, id).map(|(b, _)| b);
                        match &outcome {
                            LaneOutcome::Instrs(runs) => {
                                varies |= runs.windows(2).any(|w| w[0] != w[1]);
                                fewest = fewest.min(runs.len());
                                let key = bin.and_then(|b| {
                                    cache_path(
                                        &opts.cache_dir,
                                        b,
                                        id,
                                        Lane::Instr,
                                        config,
                                        opts.mode,
                                        Some(self.valgrind),
                                        self.machine,
                                    )
                                });
                                if let Some(path) = key {
                                    Cached::store(&outcome, &path);
                                }
                            }
                            _ => fails = true,
                        }
                        if let Some(result) = all[*i][k].as_mut() {
                            driver::record(result, Lane::Instr, outcome);
                        }
                    }
                    if fails {
                        failed.push(id.as_str());
                    } else if varies && fewest >= driver::INSTR_RUNS {
                        varied.push(id.as_str());
                    } else if varies {
                        met.push(id.as_str());
                    } else {
                        repeated.push(id.as_str());
                    }
                    keep(base, head, &all[*i])?;
                }
                Ok(())
            })();
            if result.is_err() {
                stop.store(true, Ordering::SeqCst);
            }
            result
        })?;
        repeated.sort_unstable();
        varied.sort_unstable();
        met.sort_unstable();
        let mut text = format!(
            "instr counted again in {:.0}s: {} repeated exactly (the change is in the code){}",
            started.elapsed().as_secs_f64(),
            repeated.len(),
            if repeated.is_empty() { String::new() } else { format!(": {}", listed(&repeated)) }
        );
        if !met.is_empty() {
            text.push_str(&format!(
                "; {} varied between processes and their ranges met within the threshold before {} counts a side (more \
                 counts only widen them: unchanged): {}",
                met.len(),
                driver::INSTR_RUNS,
                listed(&met)
            ));
        }
        if !varied.is_empty() {
            text.push_str(&format!(
                "; {} varied between processes, judged on the ranges of {} counts a side: {}",
                varied.len(),
                driver::INSTR_RUNS,
                listed(&varied)
            ));
        }
        if !failed.is_empty() {
            text.push_str(&format!("; {} failed when counted again: {}", failed.len(), listed(&failed)));
        }
        on_event(Event::Phase { text: &text });
        Ok(())
    }
}

/// A fixed-length link to a side's binary ([`instr::fixed_length_link`]), where links can be made.
fn link(bin: Option<&BenchBinary>) -> Result<Option<(tempfile::TempDir, PathBuf)>, DriverError> {
    let Some(bin) = bin else { return Ok(None) };
    instr::fixed_length_link(&bin.exe).map_err(|source| DriverError::Io { path: std::env::temp_dir(), source })
}

/// Puts one benchmark's results into both sides' files and writes them.
fn keep(base: &mut Side<'_>, head: &mut Side<'_>, results: &[Option<BenchResult>; 2]) -> Result<(), DriverError> {
    if let Some(r) = &results[0] {
        base.results.upsert(r.clone());
    }
    if let Some(r) = &results[1] {
        head.results.upsert(r.clone());
    }
    write(base)?;
    write(head)
}

fn write(side: &Side<'_>) -> Result<(), DriverError> {
    crate::fsutil::write_atomic(&side.out, side.results.to_json().as_bytes())
        .map_err(|source| DriverError::Io { path: side.out.clone(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One count of `per_op` instructions per op (over 10 extra iterations, so tenths are exact).
    fn count(per_op: f64) -> crate::model::InstrCounts {
        crate::model::InstrCounts {
            iters: [1, 11],
            instructions: [50_000, 50_000 + (per_op * 10.0).round() as u64],
            estimated_cycles: None,
            setup_instructions: None,
            setup_estimated_cycles: None,
        }
    }

    fn counts(per_op: &[f64]) -> Vec<crate::model::InstrCounts> {
        per_op.iter().map(|&p| count(p)).collect()
    }

    #[test]
    fn seven_counts_a_side_only_where_varying_ranges_still_lie_apart() {
        let needed = |b: &[f64], h: &[f64]| instr_runs_needed(&[counts(b), counts(h)], 0.01);
        // The first counts only: a second a side, whatever they are.
        assert_eq!(needed(&[100.0], &[110.0]), 2);
        assert_eq!(needed(&[100.0, 101.0], &[110.0]), 2);
        // Counts that repeat: two a side are enough, the exact rule.
        assert_eq!(needed(&[100.0, 100.0], &[110.0, 110.0]), 2);
        // Counts that vary, ranges apart beyond 1%: seven a side; either way round.
        assert_eq!(needed(&[100.0, 100.5], &[110.0, 110.0]), driver::INSTR_RUNS);
        assert_eq!(needed(&[110.0, 110.0], &[100.0, 100.5]), driver::INSTR_RUNS);
        assert_eq!(needed(&[100.0, 100.0, 100.0], &[101.2, 101.3]), driver::INSTR_RUNS);
        // Counts that vary, ranges that overlap or lie within 1% of each other: two a side.
        assert_eq!(needed(&[100.0, 104.0], &[102.0, 103.0]), 2);
        assert_eq!(needed(&[100.0, 100.5], &[101.0, 101.0]), 2);
        assert_eq!(needed(&[101.0, 101.0], &[100.0, 100.5]), 2);
    }

    /// Stopping as soon as the ranges meet gives the verdict that counting on to seven a side gives (two
    /// a side, then seven where any count varies: the rule before the early stop): over seeded draws of
    /// seven counts a side (equal spreads, shifted or not), the counts the recount takes (its loop: one
    /// more a side while a side has fewer than needed) are judged as those seven are.
    #[test]
    fn stopping_where_ranges_meet_changes_no_verdict() {
        let mut rng = SplitMix64::new(18);
        let range = |r: &[crate::model::InstrCounts]| {
            let v: Vec<f64> = r.iter().map(crate::model::InstrCounts::instructions_per_op).collect();
            [v.iter().copied().fold(f64::INFINITY, f64::min), v.iter().copied().fold(f64::NEG_INFINITY, f64::max)]
        };
        let verdict =
            |r: &[Vec<crate::model::InstrCounts>; 2]| crate::compare::instr_verdict(range(&r[0]), range(&r[1]), 0.01);
        let (mut early, mut seven, mut two) = (0, 0, 0);
        for _ in 0..20_000 {
            let shift = [0.0, 0.5, 1.0, 1.5, 3.0][rng.below(5) as usize];
            let spread = [0.0, 0.5, 1.0, 2.0][rng.below(4) as usize];
            let mut draw = |offset: f64| -> Vec<crate::model::InstrCounts> {
                (0..driver::INSTR_RUNS).map(|_| count(offset + spread * rng.below(1_001) as f64 / 1_000.0)).collect()
            };
            let all = [draw(100.0), draw(100.0 + shift)];
            if verdict(&[all[0][..1].to_vec(), all[1][..1].to_vec()]) == crate::compare::Verdict::Unchanged {
                continue;
            }
            let mut taken = [all[0][..1].to_vec(), all[1][..1].to_vec()];
            loop {
                let needed = instr_runs_needed(&taken, 0.01);
                if taken.iter().all(|r| r.len() >= needed) {
                    break;
                }
                for k in 0..2 {
                    if taken[k].len() < needed {
                        let n = taken[k].len();
                        taken[k].push(all[k][n]);
                    }
                }
            }
            let first_two = [all[0][..2].to_vec(), all[1][..2].to_vec()];
            let varies = first_two.iter().any(|r| r[0] != r[1]);
            let before = if varies { all.clone() } else { first_two };
            assert_eq!(verdict(&taken), verdict(&before), "{all:?}");
            match (varies, taken[0].len()) {
                (false, _) => two += 1,
                (true, n) if n < driver::INSTR_RUNS => early += 1,
                _ => seven += 1,
            }
        }
        // Every path taken many times over: counts that repeat, counts that vary and stopped early, and
        // counts that vary and stayed apart to seven a side.
        assert!(two > 1_000 && early > 1_000 && seven > 1_000, "{two} {early} {seven}");
    }

    const SPAWN: Duration = Duration::from_millis(SPAWN_MS);

    #[test]
    fn the_least_wall_time_is_what_the_shortest_plan_needs() {
        let configured = WallSettings { warm_up_ms: 500, measurement_ms: 3000, samples: 50 };
        let (rounds, p) = wall_plan(min_wall_time(1), &configured, 30, SPAWN);
        assert_eq!(rounds, MIN_ROUNDS);
        assert!(
            2 * u64::from(rounds) * (p.warm_up_ms + p.measurement_ms + SPAWN_MS) <= min_wall_time(1).as_millis() as u64
        );
        assert_eq!(min_wall_time(181), Duration::from_millis(181 * 720));
    }

    #[test]
    fn wall_plans_fit_the_allowance_and_keep_enough_rounds() {
        let quick = WallSettings { warm_up_ms: 100, measurement_ms: 300, samples: 20 };
        for start_up in [0u64, SPAWN_MS, 40] {
            for ms in [200u64, 1_000, 1_500, 8_000, 60_000] {
                let (rounds, p) = wall_plan(Duration::from_millis(ms), &quick, 10, Duration::from_millis(start_up));
                assert!((MIN_ROUNDS..=10).contains(&rounds), "{ms}: {rounds}");
                assert!(p.warm_up_ms <= 100 && p.samples == 5 && p.measurement_ms >= 10);
                let spent = 2 * u64::from(rounds) * (p.warm_up_ms + p.measurement_ms + start_up);
                let least = 2 * u64::from(MIN_ROUNDS) * (20 + start_up);
                assert!(spent <= ms.max(least) + 2 * u64::from(rounds), "{start_up} ms, {ms}: {spent}");
            }
        }
        assert_eq!(wall_plan(Duration::from_millis(8_000), &quick, 10, SPAWN).0, 10);
        assert_eq!(wall_plan(Duration::from_millis(500), &quick, 10, SPAWN).0, MIN_ROUNDS);
        // A slower start-up leaves less of each process to measure, and fewer rounds when the allowance
        // is short: 1.2 s at 15 ms a start gives 10 rounds of 60 ms, at 40 ms 7 rounds of 85 ms.
        let (r15, p15) = wall_plan(Duration::from_millis(1_200), &quick, 10, SPAWN);
        let (r40, p40) = wall_plan(Duration::from_millis(1_200), &quick, 10, Duration::from_millis(40));
        assert_eq!((r15, p15.warm_up_ms + p15.measurement_ms), (10, 45));
        assert_eq!((r40, p40.warm_up_ms + p40.measurement_ms), (7, 45));
    }

    #[test]
    fn when_the_minimum_rounds_do_not_fit_the_costliest_benchmarks_are_dropped() {
        let s = Duration::from_secs;
        assert!(over_budget(&[s(1), s(2), s(3)], s(6)).is_empty());
        assert!(over_budget(&[], s(0)).is_empty());
        // 3 + 1 fit in 5; the 4 s one does not, nor does anything after it in cost order.
        assert_eq!(over_budget(&[s(3), s(4), s(1)], s(5)), vec![1]);
        assert_eq!(over_budget(&[s(3), s(4), s(1), s(9)], s(5)), vec![1, 3]);
        // Benchmarks with nothing left to run (one side only) are never dropped.
        assert_eq!(over_budget(&[s(0), s(7), s(0)], s(1)), vec![1]);
        // Ties go by position: the earlier one is kept.
        assert_eq!(over_budget(&[s(2), s(2)], s(3)), vec![1]);
    }

    #[test]
    fn a_benchmark_whose_minimum_rounds_cost_more_than_a_share_gets_them_from_the_others() {
        let s = Duration::from_secs;
        // Even shares when no floor is above them.
        assert_eq!(level(s(30), &[s(1), s(2), s(3)]), s(10));
        // One expensive benchmark (20 s) of three in 30 s: the other two share the 10 s left.
        assert_eq!(level(s(30), &[s(1), s(20), s(2)]), s(5));
        // Two expensive ones: the third gets what they leave.
        assert_eq!(level(s(30), &[s(12), s(1), s(14)]), s(4));
        // Floors that alone take everything leave nothing to share.
        assert_eq!(level(s(30), &[s(20), s(15)]), Duration::ZERO);
        assert_eq!(level(s(30), &[]), Duration::ZERO);
        // What is handed out adds up to what is left (up to rounding).
        let floors = [s(7), Duration::from_millis(300), s(2), Duration::ZERO, s(11)];
        let share = level(s(40), &floors);
        let total: Duration = floors.iter().map(|f| (*f).max(share)).sum();
        assert!(s(40) - total < Duration::from_millis(1), "{total:?}");
    }

    #[test]
    fn start_up_is_the_lower_quartile_of_what_processes_took_beyond_their_plan() {
        let plan = WallSettings { warm_up_ms: 20, measurement_ms: 40, samples: 5 };
        let mut s = StartUp::default();
        for ms in [90u64, 85, 88, 92, 86, 87, 89] {
            s.record(Duration::from_millis(ms), &plan);
        }
        assert_eq!(s.estimate(), Duration::from_millis(SPAWN_MS), "too few timed: the assumption");
        // A routine longer than its plan (the last three) does not move the estimate.
        for ms in [91u64, 400, 900, 2_000] {
            s.record(Duration::from_millis(ms), &plan);
        }
        assert_eq!(s.ms.len(), 11);
        assert_eq!(s.estimate(), Duration::from_millis(27));
        // A process quicker than its plan counts as no start-up, not as a negative one.
        let mut quick = StartUp::default();
        for _ in 0..StartUp::ENOUGH {
            quick.record(Duration::from_millis(50), &plan);
        }
        assert_eq!(quick.estimate(), Duration::ZERO);
    }
}
