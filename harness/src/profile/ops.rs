//! The profile of a benchmark's ops alone: its exec mode run twice under callgrind, with 1 and
//! 1 + K iterations (as the instr lane counts), and the difference per function, so that setup,
//! process start-up and one-time initialisation cancel and what remains is the cost of K ops. A
//! benchmark with per-iteration setup (`iter_batched`) runs that setup K more times too: two more
//! runs of the setup alone (`--setup-only`) are subtracted, function by function, as the instr lane
//! subtracts their totals.

use std::collections::BTreeMap;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::callgrind::{self, Function, Profile};
use super::flame::{self, Folded};
use crate::driver::{self, BenchBinary};

/// The per-op profile of one benchmark.
#[derive(Debug, Clone)]
pub struct OpProfile {
    /// The ops the difference covers (K).
    pub ops: u64,
    /// Self cost of the K ops per function, in instructions (event `Ir`): functions whose cost grew
    /// from the short run to the long one, by how much.
    pub delta: Profile,
    /// Instructions of functions whose cost fell from the short run to the long one (left out of
    /// `delta`): run-to-run variation such as a hash seed, in instructions over the K ops.
    pub fell: u64,
    /// The K ops' call stacks for flamegraphs: the folded stacks ([`flame::folded`]) of the long run
    /// minus those of the short run, stacks that did not grow left out. Stacks are rebuilt from
    /// callgrind's caller-callee costs, so this is an estimate where a function is called from several
    /// places; the per-function figures (`delta`) are exact.
    pub stacks: Folded,
    /// The raw profiles (short run, long run, then for a batched benchmark the setup's short and long
    /// runs), which open in callgrind_annotate and kcachegrind.
    pub files: Vec<PathBuf>,
}

impl OpProfile {
    /// Instructions per op: the difference of the two runs' totals divided by the ops.
    pub fn instructions_per_op(&self) -> f64 {
        (self.delta.total(0) as f64 - self.fell as f64) / self.ops as f64
    }
}

/// What a profiling run executes: the routine with its setup, or the per-iteration setup alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Ops,
    SetupOnly,
}

/// The exec-mode command of `id` of `bin` with `iters` iterations of `part`.
pub fn exec(bin: &BenchBinary, id: &str, iters: u64, part: Part) -> std::process::Command {
    match part {
        Part::Ops => driver::exec_command(bin, id, iters),
        Part::SetupOnly => driver::exec_setup_command(bin, id, iters),
    }
}

/// Runs `id` of `bin` in exec mode under callgrind with `iters` iterations of `part`, writing the
/// profile to `out`, within `timeout`. The environment is the caller's (so `BENCH_SUITES_SMALL` and the
/// like apply), which the instr lane clears: counts can differ from its figures by what the
/// environment changes, but not in the difference of two runs.
pub fn callgrind_run(
    bin: &BenchBinary,
    id: &str,
    iters: u64,
    part: Part,
    out: &Path,
    timeout: Duration,
) -> Result<(), String> {
    valgrind_run("callgrind", &[format!("--callgrind-out-file={}", out.display())], exec(bin, id, iters, part), timeout)
}

/// Runs the exec-mode command `exec` under the valgrind `tool` with its `options`, within `timeout`;
/// the error says how it failed, with the last lines valgrind printed. A timeout or an interrupt kills
/// valgrind with whatever the benchmark started ([`crate::proc`]). The binary starts through a
/// link of fixed length, as in the instr lane ([`crate::measure::instr::fixed_length_link`]), so that
/// base and head of a comparison, built in different directories, count alike.
pub fn valgrind_run(tool: &str, options: &[String], exec: Command, timeout: Duration) -> Result<(), String> {
    let program = Path::new(exec.get_program());
    let link = crate::measure::instr::fixed_length_link(program).map_err(|e| e.to_string())?;
    let mut log = tempfile::tempfile().map_err(|e| format!("cannot create a file for valgrind's messages: {e}"))?;
    let log2 = log.try_clone().map_err(|e| format!("cannot create a file for valgrind's messages: {e}"))?;
    let mut cmd = Command::new("valgrind");
    cmd.arg(format!("--tool={tool}"))
        .arg("--quiet")
        .args(options)
        .arg(link.as_ref().map_or(program, |(_, path)| path.as_path()))
        .args(exec.get_args())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log2);
    let ended = crate::proc::run(&mut cmd, timeout).map_err(|e| format!("cannot run valgrind: {e}"))?;
    match ended.stopped {
        Some(crate::proc::Stop::Timeout) => {
            return Err(format!("timed out after {} s under {tool}", timeout.as_secs()));
        }
        Some(crate::proc::Stop::Interrupted) => return Err("interrupted".into()),
        None => {}
    }
    if !ended.status.success() {
        let mut stderr = String::new();
        let _ = log.rewind().and_then(|()| log.read_to_string(&mut stderr));
        let last: Vec<&str> = stderr.lines().rev().take(5).collect();
        let last: Vec<&str> = last.into_iter().rev().collect();
        return Err(format!("{} under {tool}: {}", crate::proc::describe(ended.status), last.join(" | ")));
    }
    Ok(())
}

/// Profiles `ops` extra iterations of `id`: runs with 1 and 1 + `ops` iterations, files
/// `<stem>.short.callgrind` and `<stem>.long.callgrind` in `dir`; for a `batched` benchmark also its
/// setup alone, `<stem>.setup-short.callgrind` and `<stem>.setup-long.callgrind`, subtracted.
pub fn profile_ops(
    bin: &BenchBinary,
    id: &str,
    ops: u64,
    batched: bool,
    dir: &Path,
    stem: &str,
    timeout: Duration,
) -> Result<OpProfile, String> {
    let grown = |part: Part, name: &str| -> Result<(Profile, u64, Folded, [PathBuf; 2]), String> {
        let files =
            [dir.join(format!("{stem}.{name}short.callgrind")), dir.join(format!("{stem}.{name}long.callgrind"))];
        callgrind_run(bin, id, 1, part, &files[0], timeout)?;
        callgrind_run(bin, id, 1 + ops, part, &files[1], timeout)?;
        let load = |p: &Path| callgrind::load(p).map_err(|e| e.to_string());
        let (short, long) = (load(&files[0])?, load(&files[1])?);
        let (delta, fell) = difference(&short, &long)?;
        let ir = |p: &Profile| p.event("Ir").unwrap_or(0);
        let stacks = subtract_stacks(&flame::folded(&long, ir(&long)), &flame::folded(&short, ir(&short)));
        Ok((delta, fell, stacks, files))
    };
    let (delta, fell, stacks, files) = grown(Part::Ops, "")?;
    if !batched {
        return Ok(OpProfile { ops, delta, fell, stacks, files: files.to_vec() });
    }
    let (setup, setup_fell, setup_stacks, setup_files) = grown(Part::SetupOnly, "setup-")?;
    let (delta, fell) = subtract(&delta, fell, &setup, setup_fell);
    let stacks = subtract_stacks(&stacks, &setup_stacks);
    Ok(OpProfile { ops, delta, fell, stacks, files: files.into_iter().chain(setup_files).collect() })
}

/// The stacks of `from` with the cost of the same stacks in `less` taken off; those left without cost
/// are dropped.
fn subtract_stacks(from: &Folded, less: &Folded) -> Folded {
    from.iter()
        .filter_map(|(stack, &cost)| {
            let left = cost.saturating_sub(less.get(stack).copied().unwrap_or(0));
            (left > 0).then(|| (stack.clone(), left))
        })
        .collect()
}

/// The ops' profile with the setup's taken off: per function, what grew in the runs with the routine
/// ([`difference`]: `delta`, and `fell`) minus what grew in the runs of the setup alone (`setup`,
/// `setup_fell`). Functions left with a positive cost are kept; what the setup's runs had more of goes
/// to the cost that fell, so that total minus fell is the routine's total alone (clamped at 0).
pub fn subtract(delta: &Profile, fell: u64, setup: &Profile, setup_fell: u64) -> (Profile, u64) {
    let mut less: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    for f in &setup.functions {
        *less.entry((f.file.as_str(), f.name.as_str())).or_default() += f.self_cost[0];
    }
    let mut negative = 0u64;
    let mut functions = Vec::new();
    for f in &delta.functions {
        let minus = less.remove(&(f.file.as_str(), f.name.as_str())).unwrap_or(0);
        let cost = f.self_cost[0];
        if cost > minus {
            functions.push(Function { self_cost: vec![cost - minus], inclusive: vec![cost - minus], ..f.clone() });
        } else {
            negative += minus - cost;
        }
    }
    negative += less.values().sum::<u64>();
    let fell = (fell + negative).saturating_sub(setup_fell);
    let total = functions.iter().map(|f| f.self_cost[0]).sum();
    (Profile { events: vec!["Ir".into()], totals: vec![total], functions, cmd: delta.cmd.clone() }, fell)
}

/// The self cost (event `Ir`) each function added from `short` to `long`, as a profile with that one
/// event and no calls, and the sum of what functions lost (their cost fell, or they are absent from
/// `long`). Functions are matched by file and name.
pub fn difference(short: &Profile, long: &Profile) -> Result<(Profile, u64), String> {
    let ir = |p: &Profile| p.event("Ir").ok_or_else(|| "the profile has no Ir event".to_owned());
    let (si, li) = (ir(short)?, ir(long)?);
    let mut before: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    for f in &short.functions {
        *before.entry((f.file.as_str(), f.name.as_str())).or_default() += f.self_cost[si];
    }
    let mut functions = Vec::new();
    let mut fell = 0u64;
    for f in &long.functions {
        let was = before.remove(&(f.file.as_str(), f.name.as_str())).unwrap_or(0);
        let now = f.self_cost[li];
        if now > was {
            functions.push(Function {
                name: f.name.clone(),
                file: f.file.clone(),
                object: f.object.clone(),
                self_cost: vec![now - was],
                inclusive: vec![now - was],
                calls: Vec::new(),
            });
        } else {
            fell += was - now;
        }
    }
    fell += before.values().sum::<u64>();
    let total = functions.iter().map(|f| f.self_cost[0]).sum();
    Ok((Profile { events: vec!["Ir".into()], totals: vec![total], functions, cmd: long.cmd.clone() }, fell))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(functions: &[(&str, u64)]) -> Profile {
        let functions: Vec<Function> = functions
            .iter()
            .map(|&(name, cost)| Function {
                name: name.into(),
                file: "f.rs".into(),
                object: "bin".into(),
                self_cost: vec![cost, 7],
                inclusive: vec![cost, 7],
                calls: Vec::new(),
            })
            .collect();
        let total = functions.iter().map(|f| f.self_cost[0]).sum();
        Profile { events: vec!["Ir".into(), "Dr".into()], totals: vec![total, 7], functions, cmd: None }
    }

    #[test]
    fn the_difference_keeps_what_grew_and_sums_what_fell() {
        let short = profile(&[("setup", 1_000), ("op", 30), ("hash", 50), ("gone", 5)]);
        let long = profile(&[("setup", 1_000), ("op", 330), ("hash", 48), ("memcpy", 100)]);
        let (delta, fell) = difference(&short, &long).unwrap();
        let costs: Vec<(&str, u64)> = delta.functions.iter().map(|f| (f.name.as_str(), f.self_cost[0])).collect();
        assert_eq!(costs, [("op", 300), ("memcpy", 100)]);
        assert_eq!((delta.totals.clone(), fell), (vec![400], 2 + 5));
        let p = OpProfile { ops: 10, delta, fell, stacks: Folded::new(), files: Vec::new() };
        assert_eq!(p.instructions_per_op(), (400.0 - 7.0) / 10.0);
        let no_ir = Profile { events: vec!["Dr".into()], ..profile(&[]) };
        assert!(difference(&no_ir, &long).unwrap_err().contains("no Ir"));
    }

    #[test]
    fn the_setup_is_taken_off_function_by_function() {
        // Routine runs: the op's 300 in `op`, the setup's 200 in `vec` (its allocation) and 50 in `clone`.
        let short = profile(&[("main", 1_000), ("op", 30), ("vec", 20), ("clone", 5)]);
        let long = profile(&[("main", 1_000), ("op", 330), ("vec", 220), ("clone", 55), ("memcpy", 40)]);
        // Setup-only runs: `vec` and `clone` grow as much, `drop_in_place` grows only here.
        let s_short = profile(&[("main", 1_000), ("vec", 20), ("clone", 5)]);
        let s_long = profile(&[("main", 1_000), ("vec", 220), ("clone", 55), ("drop_in_place", 8)]);
        let (delta, fell) = difference(&short, &long).unwrap();
        let (setup, setup_fell) = difference(&s_short, &s_long).unwrap();
        assert_eq!((fell, setup_fell), (0, 0));
        let (ops, fell) = subtract(&delta, fell, &setup, setup_fell);
        let costs: Vec<(&str, u64)> = ops.functions.iter().map(|f| (f.name.as_str(), f.self_cost[0])).collect();
        assert_eq!(costs, [("op", 300), ("memcpy", 40)]);
        // The routine's own total, (long - short) - (setup long - setup short), exactly: what only the
        // setup's runs grew (`drop_in_place`) counts as fallen.
        assert_eq!(fell, 8);
        let routine = (long.totals[0] - short.totals[0]) as i64 - (s_long.totals[0] as i64 - s_short.totals[0] as i64);
        assert_eq!(ops.totals[0] as i64 - fell as i64, routine);
        assert_eq!(routine, 332);
    }
}
