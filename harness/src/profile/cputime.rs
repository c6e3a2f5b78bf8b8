//! CPU time per op measured natively (no valgrind): a benchmark's exec mode run with 1 and 1 + N
//! iterations, each child's user and system time read from the kernel when it is reaped, the
//! difference divided by N. It shows what callgrind cannot: time the kernel spends on the op's behalf
//! (system calls, page faults), and how much of the wall time is not CPU time at all (waiting on I/O,
//! sleeping, other threads). A benchmark with per-iteration setup (`iter_batched`) runs it in exec
//! mode too: each pair of runs is followed by a pair of its setup alone (`--setup-only`), subtracted.
//!
//! Each child is reaped with `wait4`, which returns that child's resource usage (all its threads, and
//! its own children that it waited for): the same figures `getrusage(RUSAGE_CHILDREN)` accumulates,
//! but for this child alone, so a child reaped meanwhile by another thread of this process (tests run
//! in parallel) cannot leak into the figure. Each child is a measured process of [`crate::proc`]: its
//! own process group, killed as a whole at the timeout or an interrupt, reaped by `wait4` there.
//!
//! N is chosen from the measured wall time of the ops so that the long run's extra ops take about the
//! time `target`, because Linux splits CPU time into user and system by sampling at the scheduler tick
//! (1 to 10 ms) and scales the samples to the precise runtime: the split is reliable only when a run
//! takes many ticks. Per-op figures of ops far shorter than a tick are therefore sound only over the
//! long run's total, which the time target keeps at hundreds of ticks.

use std::io::{Read, Seek};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::ops::{self, Part};
use crate::driver::{self, BenchBinary};
use crate::proc::Stop;
use crate::stats;

/// The most ops a long run makes.
pub const MAX_OPS: u64 = 10_000_000;

/// The most a calibration step multiplies the ops by: a start-up jitter can pass for the ops' time.
const MAX_GROWTH: f64 = 100.0;

/// CPU and wall time of one child process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Time on a CPU in user mode, all threads.
    pub user: Duration,
    /// Time on a CPU in the kernel on the process's behalf, all threads.
    pub sys: Duration,
    /// From just before the spawn to the exit.
    pub wall: Duration,
}

/// CPU time per op of one benchmark, measured natively.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CpuTime {
    /// The ops each long run adds to the short run (N).
    pub ops: u64,
    /// Short/long pairs measured; the figures are the medians over them.
    pub repeats: u32,
    /// Whether pairs of runs of the setup alone were taken off (a batched benchmark).
    pub setup_subtracted: bool,
    /// User-mode CPU time per op, ns.
    pub user_ns_per_op: f64,
    /// Kernel CPU time per op, ns: what the instruction counts of callgrind do not include.
    pub sys_ns_per_op: f64,
    /// Wall time per op, ns: what exceeds user + system is time the op's process was not on a CPU
    /// (or, for several threads, is overlapped by them).
    pub wall_ns_per_op: f64,
}

impl CpuTime {
    /// The kernel's part of the op's CPU time, sys / (user + sys); `None` when both are 0.
    pub fn sys_share(&self) -> Option<f64> {
        let cpu = self.user_ns_per_op + self.sys_ns_per_op;
        (cpu > 0.0).then(|| self.sys_ns_per_op / cpu)
    }
}

/// The ops for a long run: enough for `target` at `per_op_ns` each, at least `min_ops` (and 1), at most
/// [`MAX_OPS`]; [`MAX_OPS`] when the op's time is 0 or unknown (not finite).
pub fn choose_ops(per_op_ns: f64, target: Duration, min_ops: u64) -> u64 {
    let floor = min_ops.clamp(1, MAX_OPS);
    if !(per_op_ns.is_finite() && per_op_ns > 0.0) {
        return MAX_OPS;
    }
    let ops = (target.as_nanos() as f64 / per_op_ns).ceil();
    if ops >= MAX_OPS as f64 { MAX_OPS } else { (ops as u64).max(floor) }
}

/// One calibration step: `None` when `ops` extra ops that took `extra` (long run minus short run, wall
/// time) are enough to estimate an op's time (at least a quarter of `target`, or already [`MAX_OPS`]),
/// else the ops to try next: scaled towards `target`, by at most 100 times ([`MAX_GROWTH`]).
pub fn next_probe(ops: u64, extra: Duration, target: Duration) -> Option<u64> {
    if ops >= MAX_OPS || extra >= target / 4 {
        return None;
    }
    let factor =
        if extra.is_zero() { MAX_GROWTH } else { (target.as_secs_f64() / extra.as_secs_f64()).min(MAX_GROWTH) };
    let next = (ops.max(1) as f64 * factor).ceil();
    Some(if next >= MAX_OPS as f64 { MAX_OPS } else { next as u64 })
}

/// The figures per op of `pairs`, each a short run and a long run of `ops` more iterations: for user,
/// system and wall time separately, the median over the pairs of (long − short) / `ops`, clamped at 0.
/// With `setup` pairs (runs of a batched benchmark's setup alone, as many as `pairs`), each pair's
/// difference has its setup pair's taken off first.
pub fn summarise(pairs: &[(Usage, Usage)], setup: &[(Usage, Usage)], ops: u64) -> CpuTime {
    let per_op = |f: fn(&Usage) -> Duration| -> f64 {
        if pairs.is_empty() || ops == 0 {
            return 0.0;
        }
        let grew = |(short, long): &(Usage, Usage)| f(long).as_nanos() as f64 - f(short).as_nanos() as f64;
        let diffs: Vec<f64> = pairs
            .iter()
            .enumerate()
            .map(|(i, pair)| (grew(pair) - setup.get(i).map_or(0.0, grew)) / ops as f64)
            .collect();
        stats::median(&diffs).max(0.0)
    };
    CpuTime {
        ops,
        repeats: pairs.len() as u32,
        setup_subtracted: !setup.is_empty(),
        user_ns_per_op: per_op(|u| u.user),
        sys_ns_per_op: per_op(|u| u.sys),
        wall_ns_per_op: per_op(|u| u.wall),
    }
}

/// Measures the CPU time per op of `id` of `bin`: one run with 1 iteration, calibration runs of 1 + n
/// iterations until the ops' wall time is known well enough, then `repeats` pairs of runs with 1 and
/// 1 + N iterations (for a `batched` benchmark, each followed by the same pair of its setup alone,
/// subtracted), N such that the N ops take about `target` (at least `min_ops`, at most
/// [`MAX_OPS`]). Each run within `timeout`; stops with an error at an interrupt.
pub fn measure(
    bin: &BenchBinary,
    id: &str,
    batched: bool,
    min_ops: u64,
    target: Duration,
    repeats: u32,
    timeout: Duration,
) -> Result<CpuTime, String> {
    let run_part = |iters: u64, part: Part| -> Result<Usage, String> {
        if driver::interrupted() {
            return Err("interrupted".into());
        }
        child_usage(ops::exec(bin, id, iters, part), timeout).map_err(|e| {
            let what = if part == Part::SetupOnly { " of the setup alone" } else { "" };
            format!("the native run{what} with {iters} iteration{}: {e}", if iters == 1 { "" } else { "s" })
        })
    };
    let run = |iters: u64| run_part(iters, Part::Ops);
    let short = run(1)?;
    // One op takes at most the whole short run (start-up and setup included): a first guess that does
    // not overshoot the target.
    let mut probe = choose_ops(short.wall.as_nanos() as f64, target, min_ops);
    let per_op_ns = loop {
        let extra = run(1 + probe)?.wall.saturating_sub(short.wall);
        match next_probe(probe, extra, target) {
            Some(next) => probe = next,
            None => break extra.as_nanos() as f64 / probe as f64,
        }
    };
    let ops = choose_ops(per_op_ns, target, min_ops);
    let mut pairs = Vec::with_capacity(repeats.max(1) as usize);
    let mut setup = Vec::new();
    for _ in 0..repeats.max(1) {
        let short = run(1)?;
        let long = run(1 + ops)?;
        pairs.push((short, long));
        if batched {
            setup.push((run_part(1, Part::SetupOnly)?, run_part(1 + ops, Part::SetupOnly)?));
        }
    }
    Ok(summarise(&pairs, &setup, ops))
}

/// Runs `cmd` (stdin and stdout null, stderr kept for the error) within `timeout` and returns its CPU
/// time (from `wait4`) and wall time. A non-zero exit is an error with the last lines of its stderr; a
/// timeout or an interrupt kills it and whatever it started ([`crate::proc::run`]).
pub fn child_usage(mut cmd: Command, timeout: Duration) -> Result<Usage, String> {
    let mut log = tempfile::tempfile().map_err(|e| format!("cannot create a file for its stderr: {e}"))?;
    let log2 = log.try_clone().map_err(|e| format!("cannot create a file for its stderr: {e}"))?;
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(log2);
    let started = Instant::now();
    let ended = crate::proc::run(&mut cmd, timeout)
        .map_err(|e| format!("cannot start {}: {e}", cmd.get_program().to_string_lossy()))?;
    match ended.stopped {
        Some(Stop::Timeout) => return Err(format!("timed out after {} s", timeout.as_secs_f64())),
        Some(Stop::Interrupted) => return Err("interrupted".to_owned()),
        None => {}
    }
    if ended.status.success() {
        return Ok(Usage { user: ended.user, sys: ended.sys, wall: ended.exited - started });
    }
    let mut stderr = String::new();
    let _ = log.rewind().and_then(|()| log.read_to_string(&mut stderr));
    let last: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).rev().take(5).collect();
    let last: Vec<&str> = last.into_iter().rev().collect();
    Err(format!("{}: {}", crate::proc::describe(ended.status), last.join(" | ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn usage(user_ms: u64, sys_ms: u64, wall_ms: u64) -> Usage {
        Usage { user: MS * user_ms as u32, sys: MS * sys_ms as u32, wall: MS * wall_ms as u32 }
    }

    #[test]
    fn ops_fill_the_target_within_the_bounds() {
        let second = Duration::from_secs(1);
        // 1 µs per op: a million ops in a second.
        assert_eq!(choose_ops(1_000.0, second, 10), 1_000_000);
        assert_eq!(choose_ops(3_000.0, Duration::from_millis(300), 1), 100_000);
        // A slow op: never fewer than the instr lane's ops, nor 0.
        assert_eq!(choose_ops(2e9, second, 10), 10);
        assert_eq!(choose_ops(2e9, second, 0), 1);
        // A fast op, or one too fast to see: capped.
        assert_eq!(choose_ops(0.01, second, 10), MAX_OPS);
        assert_eq!(choose_ops(0.0, second, 10), MAX_OPS);
        assert_eq!(choose_ops(f64::NAN, second, 10), MAX_OPS);
        assert_eq!(choose_ops(1_000.0, second, u64::MAX), MAX_OPS);
    }

    #[test]
    fn calibration_grows_towards_the_target_and_stops_once_measurable() {
        let second = Duration::from_secs(1);
        // Nothing measurable yet: the largest step.
        assert_eq!(next_probe(10, Duration::ZERO, second), Some(1_000));
        // 1 ms of 1,000 ops: at most 100x at a time.
        assert_eq!(next_probe(1_000, MS, second), Some(100_000));
        // 100 ms: scaled by 10 towards the second.
        assert_eq!(next_probe(100_000, MS * 100, second), Some(1_000_000));
        // Just under a quarter: 7 x 1000 / 249 = 28.1, rounded up.
        assert_eq!(next_probe(7, MS * 249, second), Some(29));
        // Measurable: a quarter of the target or more, or the cap reached.
        assert_eq!(next_probe(1_000_000, MS * 250, second), None);
        assert_eq!(next_probe(MAX_OPS, MS, second), None);
        assert_eq!(next_probe(MAX_OPS / 2, Duration::ZERO, second), Some(MAX_OPS));
    }

    #[test]
    fn per_op_figures_are_medians_of_the_differences_clamped_at_zero() {
        let pairs = [
            (usage(10, 5, 20), usage(110, 25, 150)),
            (usage(12, 4, 21), usage(132, 44, 200)),
            (usage(11, 6, 30), usage(91, 4, 130)),
        ];
        let t = summarise(&pairs, &[], 1_000);
        assert_eq!((t.ops, t.repeats), (1_000, 3));
        // user differences 100, 120, 80 ms over 1,000 ops: median 100 µs per op.
        assert_eq!(t.user_ns_per_op, 100_000.0);
        // sys 20, 40, -2 ms: median 20 µs.
        assert_eq!(t.sys_ns_per_op, 20_000.0);
        // wall 130, 179, 100 ms: median 130 µs.
        assert_eq!(t.wall_ns_per_op, 130_000.0);
        assert!((t.sys_share().unwrap() - 20.0 / 120.0).abs() < 1e-12);
        // Noise can make the long run look cheaper: clamped at 0, and no share without CPU time.
        let t = summarise(&[(usage(10, 10, 10), usage(9, 9, 9))], &[], 5);
        assert_eq!((t.user_ns_per_op, t.sys_ns_per_op, t.wall_ns_per_op), (0.0, 0.0, 0.0));
        assert_eq!(t.sys_share(), None);
        let t = CpuTime {
            ops: 1,
            repeats: 1,
            setup_subtracted: false,
            user_ns_per_op: 0.0,
            sys_ns_per_op: 7.0,
            wall_ns_per_op: 9.0,
        };
        assert_eq!(t.sys_share(), Some(1.0));
        // A batched benchmark: each pair's setup-only pair is taken off before the median.
        let setup = [
            (usage(10, 5, 20), usage(60, 15, 80)),
            (usage(12, 4, 21), usage(52, 24, 81)),
            (usage(11, 6, 30), usage(31, 6, 50)),
        ];
        let t = summarise(&pairs, &setup, 1_000);
        // user 100-50, 120-40, 80-20 = 50, 80, 60 ms; sys 20-10, 40-20, -2-0 = 10, 20, -2; wall 70, 119, 80.
        assert_eq!((t.user_ns_per_op, t.sys_ns_per_op, t.wall_ns_per_op), (60_000.0, 10_000.0, 80_000.0));
        assert!(t.setup_subtracted);
    }

    #[test]
    fn a_child_doing_system_calls_shows_system_time() {
        let timeout = Duration::from_secs(60);
        let mut dd = Command::new("dd");
        dd.args(["if=/dev/zero", "of=/dev/null", "bs=1", "count=300000"]);
        let u = child_usage(dd, timeout).unwrap();
        assert!(u.sys > Duration::ZERO, "{u:?}");
        assert!(u.user + u.sys <= u.wall.mul_f64(1.5) + MS * 10, "{u:?}");
        let mut noop = Command::new("sh");
        noop.args(["-c", ":"]);
        let n = child_usage(noop, timeout).unwrap();
        assert!(n.user + n.sys <= n.wall.mul_f64(1.5) + MS * 10, "{n:?}");
        // 600,000 system calls cost more kernel time than a shell that makes a few dozen.
        assert!(u.sys > n.sys, "{u:?} {n:?}");
    }

    #[test]
    fn failures_say_how_the_child_failed() {
        let mut fail = Command::new("sh");
        fail.args(["-c", "echo first >&2; echo 'no such table' >&2; exit 3"]);
        let e = child_usage(fail, Duration::from_secs(60)).unwrap_err();
        assert!(e.contains("exited with status 3") && e.contains("first | no such table"), "{e}");
        let mut hang = Command::new("sleep");
        hang.arg("30");
        let started = Instant::now();
        let e = child_usage(hang, Duration::from_millis(300)).unwrap_err();
        assert!(e.contains("timed out after 0.3 s"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(20), "{:?}", started.elapsed());
        let e = child_usage(Command::new("/nonexistent/benchgate-test"), Duration::from_secs(1)).unwrap_err();
        assert!(e.starts_with("cannot start /nonexistent/benchgate-test"), "{e}");
    }
}
