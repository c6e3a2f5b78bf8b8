//! Measuring two builds in one job (`run --compare REV`): for each benchmark, the deterministic lanes
//! (alloc, instr) run once per side, from a cache keyed by the binary's code digest when possible, and
//! the wall lane runs in rounds, base and head alternating in a random order each round, so that drift
//! and noisy neighbours hit both sides alike. Samples keep their round, and `compare` pairs the rounds.
//!
//! A time budget spreads over the benchmarks: the deterministic lanes of all benchmarks run first and
//! take what they take; then each benchmark's wall rounds get an equal share of what is left, sized by
//! [`wall_plan`] and cut short when a routine turns out longer than planned. When what is left cannot
//! give every benchmark the minimum rounds ([`min_wall_time`]), the wall pass is skipped and says why.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::config::{Config, WallSettings};
use crate::driver::{self, BenchBinary, DriverError, Event, Index, LaneOutcome, Workspace};
use crate::measure::instr;
use crate::model::{BenchResult, Lane, Results, RunMode};
use crate::protocol::{DeclInfo, Outcome};
use crate::stats::SplitMix64;

/// One side of the comparison: a built workspace and the results file it fills.
pub struct Side<'a> {
    /// `base` or `head`, for messages.
    pub label: &'static str,
    pub ws: &'a Workspace,
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
    /// Upper bound on wall rounds per benchmark (fewer when the budget is short, never below 4).
    pub max_rounds: u32,
    /// Seeds the order of each round.
    pub seed: u64,
    /// Where deterministic-lane outcomes are cached by code digest.
    pub cache_dir: PathBuf,
}

/// Rounds never go below this: with fewer pairs the sign test can never be significant at 5% (its
/// smallest two-sided p-value over n pairs is 2/2^n).
pub const MIN_ROUNDS: u32 = 6;
/// The shortest wall process a plan makes (one side, one round), start-up included.
const MIN_PROCESS_MS: u64 = 60;
/// An allowance for process start-up and report handling per wall process (an estimate, not a
/// measurement); the plan reserves this much.
const SPAWN_MS: u64 = 15;

/// The least time the wall pass needs for `benchmarks` benchmarks: the minimum rounds of the shortest
/// processes for each. With less, the pass is skipped rather than overrun the budget: a benchmark measured
/// in fewer rounds could not be judged anyway.
pub fn min_wall_time(benchmarks: usize) -> Duration {
    Duration::from_millis(benchmarks as u64 * 2 * u64::from(MIN_ROUNDS) * MIN_PROCESS_MS)
}

/// The wall plan for one benchmark: rounds, and what each process (one side, one round) does, for a
/// benchmark allowed `allowance` of wall time for both sides together.
pub fn wall_plan(allowance: Duration, configured: &WallSettings, max_rounds: u32) -> (u32, WallSettings) {
    let total = allowance.as_millis() as u64;
    let mut rounds = max_rounds.max(MIN_ROUNDS);
    while rounds > MIN_ROUNDS && total / (2 * u64::from(rounds)) < MIN_PROCESS_MS {
        rounds -= 1;
    }
    let per_process = total / (2 * u64::from(rounds));
    let warm_up_ms = (per_process * 3 / 10).clamp(10, configured.warm_up_ms.max(10));
    let measurement_ms = per_process.saturating_sub(warm_up_ms + SPAWN_MS).max(10);
    let samples = configured.samples.clamp(3, 5);
    (rounds, WallSettings { warm_up_ms, measurement_ms, samples })
}

fn find<'a>(index: &'a Index, id: &str) -> Option<(&'a BenchBinary, &'a DeclInfo)> {
    index.benchmarks().into_iter().find(|(_, d)| d.id == id)
}

/// The cache file of a deterministic lane's outcome: the same code, benchmark and settings give the
/// same counts.
fn cache_path(dir: &Path, bin: &BenchBinary, id: &str, lane: Lane, config: &Config, mode: RunMode) -> Option<PathBuf> {
    if bin.digest.is_empty() {
        return None;
    }
    let settings = match lane {
        Lane::Alloc => format!("iters={}", config.alloc_iters(mode)),
        Lane::Instr => {
            let i = config.instr(mode);
            format!("extra={},cache_sim={},protocol={}", i.extra_iters, i.cache_sim, crate::protocol::PROTOCOL_VERSION)
        }
        Lane::Wall => return None,
    };
    let key = format!("{}|{id}|{lane}|{settings}", bin.digest);
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
    let scratch = tempfile::tempdir_in(driver::ensure_dir(&head.ws.state_dir())?)
        .map_err(|source| DriverError::Io { path: head.ws.state_dir(), source })?;
    driver::ensure_dir(&opts.cache_dir)?;
    // The gate judges instructions, not estimated cycles: no cache simulation, which makes callgrind
    // two to three times slower.
    let mut counting = config.clone();
    counting.instr.cache_sim = false;
    counting.instr.quick.cache_sim = false;
    let config = &counting;
    let mut instr_env = instr::ChildEnv::default();
    let mut instr_skip: Option<String> = None;
    if opts.lanes.contains(&Lane::Instr) {
        match instr::prepare(&instr::tools_dir(&head.ws.state_dir().join("tools"))) {
            Ok(env) => instr_env = env,
            Err(why) => {
                on_event(Event::LaneSkipped { lane: Lane::Instr, reason: &why });
                instr_skip = Some(why);
            }
        }
    }
    for side in [&*base, &*head] {
        write(side)?;
    }
    let deterministic: Vec<Lane> = opts.lanes.iter().copied().filter(|l| *l != Lane::Wall).collect();
    let wall = opts.lanes.contains(&Lane::Wall);
    // Each benchmark's results on both sides, in the order of `ids`.
    let mut all: Vec<[Option<BenchResult>; 2]> = Vec::with_capacity(ids.len());

    if !deterministic.is_empty() {
        let lanes = deterministic.iter().map(ToString::to_string).collect::<Vec<_>>().join(" and ");
        on_event(Event::Phase { text: &format!("{lanes}, once per side") });
    }
    on_event(Event::Start { total: ids.len() });
    for (i, id) in ids.iter().enumerate() {
        let (b, h) = (find(base.index, id), find(head.index, id));
        let mut results = [b.map(|(_, d)| driver::empty_result(d)), h.map(|(_, d)| driver::empty_result(d))];
        let bench_started = Instant::now();
        if !deterministic.is_empty() {
            on_event(Event::BenchStart { index: i + 1, total: ids.len(), id });
        }
        let sides = [(&*base, b), (&*head, h)];
        for &lane in &deterministic {
            for (k, (side, found)) in sides.iter().enumerate() {
                let (Some((bin, decl)), Some(result)) = (found, results[k].as_mut()) else { continue };
                if lane == Lane::Instr
                    && let Some(why) = &instr_skip
                {
                    result.skipped.insert(lane, why.clone());
                    continue;
                }
                let cached = cache_path(&opts.cache_dir, bin, id, lane, config, opts.mode);
                if let Some(o) = cached
                    .as_ref()
                    .and_then(|p| std::fs::read(p).ok())
                    .and_then(|t| serde_json::from_slice::<Outcome>(&t).ok())
                {
                    driver::record(result, lane, LaneOutcome::Done(o));
                    continue;
                }
                let report = scratch.path().join(format!("{i}-{}-{lane}.json", side.label));
                let args = driver::lane_args(lane, decl, config, opts.mode, None, &report, side.ws);
                let env = if lane == Lane::Instr { instr_env.clone() } else { instr::ChildEnv::default() };
                let outcome = driver::lane_outcome(&bin.exe, &args, &report, config.timeout(), &env, &side.out)?;
                if let (LaneOutcome::Done(o), Some(path)) = (&outcome, &cached) {
                    let _ = crate::fsutil::write_atomic(path, &serde_json::to_vec(o).expect("outcome serializes"));
                }
                driver::record(result, lane, outcome);
            }
        }
        if !deterministic.is_empty() {
            for r in results.iter_mut().flatten() {
                driver::finish_metrics(r);
            }
            let elapsed = bench_started.elapsed();
            on_event(Event::PairDone { base: results[0].as_ref(), head: results[1].as_ref(), elapsed });
            keep(base, head, &results)?;
        }
        all.push(results);
    }

    let left = opts.budget.saturating_sub(started.elapsed());
    if wall && left < min_wall_time(ids.len()) {
        let why = format!(
            "{}s of the time budget were left after building and counting, and {} benchmarks need at least {}s \
             ({MIN_ROUNDS} rounds each); raise --time-budget (counts are cached, so a second comparison of the \
             same code counts less)",
            left.as_secs(),
            ids.len(),
            min_wall_time(ids.len()).as_secs()
        );
        on_event(Event::LaneSkipped { lane: Lane::Wall, reason: &why });
        for results in &mut all {
            for r in results.iter_mut().flatten() {
                r.skipped.insert(Lane::Wall, why.clone());
            }
            keep(base, head, results)?;
        }
    } else if wall {
        on_event(Event::Phase {
            text: &format!("wall rounds, base and head alternating; {}s left of the budget", left.as_secs()),
        });
        on_event(Event::Start { total: ids.len() });
        let wall_started = Instant::now();
        for (i, id) in ids.iter().enumerate() {
            on_event(Event::BenchStart { index: i + 1, total: ids.len(), id });
            let bench_started = Instant::now();
            let allowance = left.saturating_sub(wall_started.elapsed()) / (ids.len() - i) as u32;
            let (b, h) = (find(base.index, id), find(head.index, id));
            let results = &mut all[i];
            let sides = [(&*base, b), (&*head, h)];
            let both = results.iter().all(|r| r.as_ref().is_some_and(|r| r.failures.is_empty()));
            let (rounds, plan) = if both {
                wall_plan(allowance, &config.wall(opts.mode), opts.max_rounds)
            } else {
                // One side only (a new or removed benchmark) or a failed side: measured as an ordinary run.
                config.wall_processes(opts.mode)
            };
            // Both sides start through links of one length: the binary's path is copied onto the stack and
            // the heap at start-up, so paths of different lengths would give each side its own fixed
            // offset of everything allocated after it (measured in the instr lane: +0.65% of malloc's
            // instructions on one benchmark).
            let links = [link(b.map(|(bin, _)| bin))?, link(h.map(|(bin, _)| bin))?];
            let mut acc: [driver::WallAccumulator; 2] = Default::default();
            let mut done = 0;
            for round in 0..rounds {
                // Rounds of a routine longer than planned stop at the allowance (never below the minimum).
                let per_round = bench_started.elapsed() / done.max(1);
                if both && done >= MIN_ROUNDS && bench_started.elapsed() + per_round > allowance {
                    break;
                }
                let order: [usize; 2] = if rng.below(2) == 0 { [0, 1] } else { [1, 0] };
                for k in order {
                    let (side, found) = sides[k];
                    let (Some((bin, decl)), Some(result)) = (found, results[k].as_mut()) else { continue };
                    if acc[k].failed || !result.failures.is_empty() && rounds > 1 {
                        continue;
                    }
                    let report = scratch.path().join(format!("{i}-{}-wall-{round}.json", side.label));
                    let args = driver::lane_args(Lane::Wall, decl, config, opts.mode, Some(&plan), &report, side.ws);
                    let exe = links[k].as_ref().map_or(bin.exe.as_path(), |(_, l)| l.as_path());
                    let outcome = driver::wall_process(exe, &args, &report, config.timeout(), &side.out)?;
                    match outcome {
                        LaneOutcome::Done(Outcome::Wall(s)) => acc[k].push(round, s),
                        other => {
                            acc[k].failed = true;
                            driver::record(result, Lane::Wall, other);
                        }
                    }
                }
                done += 1;
            }
            for (a, result) in acc.into_iter().zip(results.iter_mut()) {
                if let Some(result) = result.as_mut() {
                    a.finish_into(done > 1, &mut result.metrics);
                }
            }
            for r in results.iter_mut().flatten() {
                driver::finish_metrics(r);
            }
            let elapsed = bench_started.elapsed();
            on_event(Event::PairDone { base: results[0].as_ref(), head: results[1].as_ref(), elapsed });
            keep(base, head, results)?;
        }
    }
    for side in [&mut *base, &mut *head] {
        side.results.meta.partial = false;
        side.results.meta.finished_at = Some(crate::meta::now_rfc3339());
        write(side)?;
    }
    Ok(())
}

/// A fixed-length link to a side's binary ([`instr::fixed_length_link`]), where links can be made.
fn link(bin: Option<&BenchBinary>) -> Result<Option<(tempfile::TempDir, PathBuf)>, DriverError> {
    let Some(bin) = bin else { return Ok(None) };
    instr::fixed_length_link(&bin.exe)
        .map_err(|e| DriverError::Io { path: std::env::temp_dir(), source: std::io::Error::other(e.to_string()) })
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

    #[test]
    fn the_least_wall_time_is_what_the_shortest_plan_needs() {
        let configured = WallSettings { warm_up_ms: 500, measurement_ms: 3000, samples: 50 };
        let (rounds, p) = wall_plan(min_wall_time(1), &configured, 30);
        assert_eq!(rounds, MIN_ROUNDS);
        assert!(
            2 * u64::from(rounds) * (p.warm_up_ms + p.measurement_ms + SPAWN_MS) <= min_wall_time(1).as_millis() as u64
        );
        assert_eq!(min_wall_time(181), Duration::from_millis(181 * 720));
    }

    #[test]
    fn wall_plans_fit_the_allowance_and_keep_enough_rounds() {
        let quick = WallSettings { warm_up_ms: 100, measurement_ms: 300, samples: 20 };
        for ms in [200u64, 1_000, 1_500, 8_000, 60_000] {
            let (rounds, p) = wall_plan(Duration::from_millis(ms), &quick, 10);
            assert!((MIN_ROUNDS..=10).contains(&rounds), "{ms}: {rounds}");
            assert!(p.warm_up_ms <= 100 && p.samples == 5 && p.measurement_ms >= 10);
            let spent = 2 * u64::from(rounds) * (p.warm_up_ms + p.measurement_ms + SPAWN_MS);
            assert!(spent <= ms.max(2 * u64::from(MIN_ROUNDS) * 35) + 2 * u64::from(rounds), "{ms}: {spent}");
        }
        assert_eq!(wall_plan(Duration::from_millis(8_000), &quick, 10).0, 10);
        assert_eq!(wall_plan(Duration::from_millis(500), &quick, 10).0, MIN_ROUNDS);
    }
}
