//! The profile of a benchmark's ops alone: its exec mode run twice under callgrind, with 1 and
//! 1 + K iterations (as the instr lane counts), and the difference per function, so that setup,
//! process start-up and one-time initialisation cancel and what remains is the cost of K ops.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use wait_timeout::ChildExt;

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
    /// The two raw profiles (short run, long run), which open in callgrind_annotate and kcachegrind.
    pub files: [PathBuf; 2],
}

impl OpProfile {
    /// Instructions per op: the difference of the two runs' totals divided by the ops.
    pub fn instructions_per_op(&self) -> f64 {
        (self.delta.total(0) as f64 - self.fell as f64) / self.ops as f64
    }
}

/// Runs `id` of `bin` in exec mode under callgrind with `iters` iterations, writing the profile to
/// `out`, within `timeout`. The environment is the caller's (so `BENCH_SUITES_SMALL` and the like
/// apply), which the instr lane clears: counts can differ from its figures by what the environment
/// changes, but not in the difference of two runs.
pub fn callgrind_run(bin: &BenchBinary, id: &str, iters: u64, out: &Path, timeout: Duration) -> Result<(), String> {
    valgrind_run("callgrind", &[format!("--callgrind-out-file={}", out.display())], bin, id, iters, timeout)
}

/// Runs `id` of `bin` in exec mode with `iters` iterations under the valgrind `tool` with its
/// `options`, within `timeout`; the error says how it failed, with the last lines valgrind printed.
pub fn valgrind_run(
    tool: &str,
    options: &[String],
    bin: &BenchBinary,
    id: &str,
    iters: u64,
    timeout: Duration,
) -> Result<(), String> {
    let exec = driver::exec_command(bin, id, iters);
    let mut cmd = Command::new("valgrind");
    cmd.arg(format!("--tool={tool}"))
        .arg("--quiet")
        .args(options)
        .arg(exec.get_program())
        .args(exec.get_args())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| format!("cannot run valgrind: {e}"))?;
    let status = match child.wait_timeout(timeout).map_err(|e| e.to_string())? {
        Some(status) => status,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("timed out after {} s under {tool}", timeout.as_secs()));
        }
    };
    if !status.success() {
        let mut stderr = String::new();
        if let Some(mut pipe) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
        }
        let last: Vec<&str> = stderr.lines().rev().take(5).collect();
        let last: Vec<&str> = last.into_iter().rev().collect();
        return Err(format!("exited with {status} under {tool}: {}", last.join(" | ")));
    }
    Ok(())
}

/// Profiles `ops` extra iterations of `id`: runs with 1 and 1 + `ops` iterations, files
/// `<stem>.short.callgrind` and `<stem>.long.callgrind` in `dir`.
pub fn profile_ops(
    bin: &BenchBinary,
    id: &str,
    ops: u64,
    dir: &Path,
    stem: &str,
    timeout: Duration,
) -> Result<OpProfile, String> {
    let files = [dir.join(format!("{stem}.short.callgrind")), dir.join(format!("{stem}.long.callgrind"))];
    callgrind_run(bin, id, 1, &files[0], timeout)?;
    callgrind_run(bin, id, 1 + ops, &files[1], timeout)?;
    let load = |p: &Path| callgrind::load(p).map_err(|e| e.to_string());
    let (short, long) = (load(&files[0])?, load(&files[1])?);
    let (delta, fell) = difference(&short, &long)?;
    let ir = |p: &Profile| p.event("Ir").unwrap_or(0);
    let before = flame::folded(&short, ir(&short));
    let stacks = flame::folded(&long, ir(&long))
        .into_iter()
        .filter_map(|(stack, cost)| {
            let grown = cost.saturating_sub(before.get(&stack).copied().unwrap_or(0));
            (grown > 0).then_some((stack, grown))
        })
        .collect();
    Ok(OpProfile { ops, delta, fell, stacks, files })
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
        let p = OpProfile { ops: 10, delta, fell, stacks: Folded::new(), files: [PathBuf::new(), PathBuf::new()] };
        assert_eq!(p.instructions_per_op(), (400.0 - 7.0) / 10.0);
        let no_ir = Profile { events: vec!["Dr".into()], ..profile(&[]) };
        assert!(difference(&no_ir, &long).unwrap_err().contains("no Ir"));
    }
}
