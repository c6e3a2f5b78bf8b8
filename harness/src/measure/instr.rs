//! The instr lane: instructions per op, counted by running a bench binary's exec mode under valgrind's
//! callgrind directly and reading the totals of its output file with [`crate::profile::callgrind`].
//!
//! A bench binary's exec mode (`--benchgate-exec ID --iters N`) runs setup once and the routine exactly
//! N times. [`count`] runs it twice under callgrind, with N1 and N2 = N1 + K iterations; instructions
//! per op are `(Ir(N2) - Ir(N1)) / K`, so process start-up, setup and one-time lazy initialisation
//! cancel. A batched benchmark (`iter_batched`) is also run twice with `--benchgate-setup-only`, and that
//! difference subtracted. N is passed zero-padded to 20 digits: the argument strings are part of the
//! process, and `--iters 1` versus `--iters 11` otherwise differ by a few instructions (measured: K=10
//! gave 530.8 Ir/op instead of the exact 531).
//!
//! What makes two runs of one binary count alike, as iai-callgrind and gungraun do it: the environment
//! is cleared (it is copied onto the stack and moves the counts; `[instr] pass_env` names variables to
//! keep), address-space randomisation is off for the process (`personality(ADDR_NO_RANDOMIZE)`, what
//! `setarch -R` does), and the binary starts through a link of fixed length (argv[0] is copied to the
//! heap). The driver runs valgrind itself, with no runner program to install and no private API: a
//! fresh machine needs valgrind and nothing else.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::model::{Failure, FailureKind, InstrCounts};
use crate::protocol::flag;

/// Width of the zero-padded iteration count (`u64::MAX` has 20 digits).
const ITERS_WIDTH: usize = 20;

/// Callgrind's events with cache simulation that the estimated cycles need, besides `Ir`.
const CACHE_EVENTS: [&str; 8] = ["Dr", "Dw", "I1mr", "D1mr", "D1mw", "ILmr", "DLmr", "DLmw"];

/// A valgrind installation, and the environment its measured processes get.
#[derive(Debug, Clone)]
pub struct Valgrind {
    /// The `valgrind` executable, resolved on `PATH`.
    pub exe: PathBuf,
    /// What `valgrind --version` printed, e.g. `valgrind-3.19.0` (part of the instr cache key).
    pub version: String,
    /// The variables passed through to the measured process (the rest is cleared), with their values.
    pub env: Vec<(OsString, OsString)>,
}

impl Valgrind {
    /// Finds `valgrind` on `PATH`, or the one-line reason the lane cannot run here. `pass_env` names
    /// the variables kept in the measured process's environment.
    pub fn find(pass_env: &[String]) -> Result<Valgrind, String> {
        let missing =
            || "valgrind is not installed (apt-get install valgrind); instructions/op not measured".to_owned();
        let exe = std::env::var_os("PATH")
            .and_then(|p| std::env::split_paths(&p).map(|d| d.join("valgrind")).find(|c| c.is_file()))
            .ok_or_else(missing)?;
        let out = Command::new(&exe).arg("--version").stdin(Stdio::null()).stderr(Stdio::null()).output();
        let version = match out {
            Ok(o) if o.status.success() && o.stdout.starts_with(b"valgrind") => {
                String::from_utf8_lossy(&o.stdout).trim().to_owned()
            }
            _ => return Err(format!("{} --version failed; instructions/op not measured", exe.display())),
        };
        let env = pass_env.iter().filter_map(|k| std::env::var_os(k).map(|v| (OsString::from(k), v))).collect();
        Ok(Valgrind { exe, version, env })
    }

    /// The command running `program ARGS` under valgrind's `tool` with `options`: environment cleared
    /// but for [`Valgrind::env`], address-space randomisation off.
    pub fn command(&self, tool: &str, options: &[String], program: &Path, args: &[String]) -> Command {
        let mut cmd = Command::new(&self.exe);
        cmd.env_clear().envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd.arg(format!("--tool={tool}")).args(options).arg(program).args(args);
        no_aslr(&mut cmd);
        cmd
    }
}

/// Turns address-space randomisation off for the process `cmd` starts (Linux; elsewhere a no-op).
fn no_aslr(cmd: &mut Command) {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: personality(2) is a single system call, safe between fork and exec; it touches no
        // memory of the parent.
        unsafe {
            cmd.pre_exec(|| {
                if libc::personality(libc::ADDR_NO_RANDOMIZE as libc::c_ulong) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cmd;
}

/// What to count: benchmark `id` of the bench binary `exe`.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub exe: &'a Path,
    pub id: &'a str,
    /// The benchmark has per-iteration setup, counted in two more runs and subtracted.
    pub batched: bool,
    /// K: the long run has 1 + K iterations, the short one 1.
    pub extra_iters: u64,
    /// Callgrind's cache simulation, for estimated cycles (two to three times slower).
    pub cache_sim: bool,
}

fn error(message: impl Into<String>) -> Failure {
    Failure { kind: FailureKind::Error, message: message.into() }
}

/// Counts `req` under callgrind: two runs (four for a batched benchmark), each within `timeout`,
/// their output files in `scratch`. A timeout or an interrupt kills valgrind and whatever the benchmark
/// started ([`crate::driver::run_child`]).
pub fn count(
    valgrind: &Valgrind,
    req: &Request<'_>,
    scratch: &Path,
    timeout: Duration,
) -> Result<InstrCounts, Failure> {
    if req.extra_iters == 0 {
        return Err(error("instr.extra_iters must be at least 1"));
    }
    let link = fixed_length_link(req.exe).map_err(|e| error(e.to_string()))?;
    let program = link.as_ref().map_or(req.exe, |(_, path)| path.as_path());
    let dir = tempfile::Builder::new()
        .prefix("instr-")
        .tempdir_in(scratch)
        .map_err(|e| error(format!("cannot create a directory in {}: {e}", scratch.display())))?;
    let iters = [1, 1 + req.extra_iters];
    let run = |n: u64, setup_only: bool| -> Result<Totals, Failure> {
        let name = format!("{}{n}", if setup_only { "setup-" } else { "" });
        let out = dir.path().join(format!("{name}.callgrind"));
        let log = dir.path().join(format!("{name}.log"));
        let options = vec![
            format!("--callgrind-out-file={}", out.display()),
            format!("--log-file={}", log.display()),
            format!("--cache-sim={}", if req.cache_sim { "yes" } else { "no" }),
        ];
        let mut args = vec![flag::EXEC.to_owned(), req.id.to_owned(), flag::ITERS.to_owned()];
        args.push(format!("{n:0ITERS_WIDTH$}"));
        if setup_only {
            args.push(flag::SETUP_ONLY.to_owned());
        }
        let cmd = valgrind.command("callgrind", &options, program, &args);
        wait(cmd, &log, timeout)?;
        totals(&out)
    };
    let [short, long] = [run(iters[0], false)?, run(iters[1], false)?];
    if long.ir <= short.ir {
        return Err(error(format!(
            "instructions did not grow with iterations: {} at {} iterations, {} at {}",
            short.ir, iters[0], long.ir, iters[1]
        )));
    }
    let setup = if req.batched { Some([run(iters[0], true)?, run(iters[1], true)?]) } else { None };
    let cycles = |a: &Totals, b: &Totals| a.cycles.zip(b.cycles).map(|(a, b)| [a, b]);
    Ok(InstrCounts {
        iters,
        instructions: [short.ir, long.ir],
        estimated_cycles: cycles(&short, &long),
        setup_instructions: setup.as_ref().map(|[a, b]| [a.ir, b.ir]),
        setup_estimated_cycles: setup.as_ref().and_then(|[a, b]| cycles(a, b)),
    })
}

/// Runs `cmd` to the end within `timeout`; the failure says how it ended, with the end of its `log`
/// (valgrind's messages and the benchmark's output).
fn wait(mut cmd: Command, log: &Path, timeout: Duration) -> Result<(), Failure> {
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    let status = crate::driver::run_child(&mut cmd, timeout)?;
    if status.success() {
        return Ok(());
    }
    let tail = crate::driver::log_tail(log);
    // Rust's default panic handler exits with 101, which valgrind passes on.
    let kind = if status.code() == Some(101) { FailureKind::Panic } else { FailureKind::Error };
    Err(Failure { kind, message: format!("{} under callgrind{tail}", crate::proc::describe(status)) })
}

/// The totals of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Totals {
    ir: u64,
    cycles: Option<u64>,
}

/// Reads the totals of a callgrind output file: instructions, and the estimated cycles when the file has
/// the cache simulation's events.
fn totals(path: &Path) -> Result<Totals, Failure> {
    let profile = crate::profile::callgrind::load(path).map_err(|e| error(e.to_string()))?;
    let ir = profile
        .event("Ir")
        .map(|e| profile.total(e))
        .ok_or_else(|| error(format!("{}: no Ir event", path.display())))?;
    let cache: Option<Vec<u64>> =
        CACHE_EVENTS.iter().map(|name| profile.event(name).map(|e| profile.total(e))).collect();
    Ok(Totals { ir, cycles: cache.map(|c| estimated_cycles(ir, &c)) })
}

/// Estimated cycles, the formula of iai-callgrind and gungraun: accesses that hit level 1 cost one
/// cycle, level-1 misses that hit the last level 5, last-level misses 35. `events` is `[Dr, Dw, I1mr,
/// D1mr, D1mw, ILmr, DLmr, DLmw]`.
fn estimated_cycles(ir: u64, events: &[u64]) -> u64 {
    let accesses = ir + events[0] + events[1];
    let l1_misses: u64 = events[2..5].iter().sum();
    let ram = events[5..8].iter().sum::<u64>();
    let last_level = l1_misses.saturating_sub(ram);
    let l1_hits = accesses.saturating_sub(l1_misses);
    l1_hits + 5 * last_level + 35 * ram
}

/// A symbolic link to `exe` at `<temp dir>/benchgate-exe-XXXXXX/bench`, whose length depends only
/// on the temporary directory (the same for both sides of a comparison), with the directory that
/// removes it when dropped; `None` where links cannot be made (not Unix), and the real path is used.
/// Measured: one binary run from paths 6 and 67 characters long gave brotli-5 decompress (10 KB)
/// 240,238 and 241,806 instructions per op (+0.65%).
pub(crate) fn fixed_length_link(exe: &Path) -> std::io::Result<Option<(tempfile::TempDir, PathBuf)>> {
    if !cfg!(unix) {
        return Ok(None);
    }
    let dir = tempfile::Builder::new().prefix("benchgate-exe-").rand_bytes(6).tempdir()?;
    let link = dir.path().join("bench");
    let target = std::path::absolute(exe)?;
    #[cfg(unix)]
    std::os::unix::fs::symlink(&target, &link)?;
    Ok(Some((dir, link)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A program that crashes under callgrind is said to have crashed, with the signal's name: valgrind
    /// ends with the program's signal.
    #[test]
    fn a_crash_under_callgrind_names_the_signal() {
        let Ok(vg) = Valgrind::find(&[]) else {
            eprintln!("skipped: valgrind is not installed");
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("crash.log");
        for (signal, said) in
            [("SEGV", "was killed by signal 11 (SIGSEGV, a segmentation fault"), ("ABRT", "(SIGABRT, an abort")]
        {
            let options = vec![
                format!("--log-file={}", log.display()),
                format!("--callgrind-out-file={}", dir.path().join("cg.out").display()),
            ];
            let args = vec!["-c".to_owned(), format!("kill -{signal} $$")];
            let cmd = vg.command("callgrind", &options, Path::new("/bin/sh"), &args);
            let e = wait(cmd, &log, Duration::from_secs(120)).unwrap_err();
            assert!(e.message.contains(said) && e.message.contains("under callgrind"), "{}", e.message);
            assert_eq!(e.kind, FailureKind::Error);
        }
    }

    #[test]
    fn estimated_cycles_follow_the_iai_formula() {
        // 1000 instructions, 300 reads, 100 writes; 35 level-1 misses, 3 of them missing the last level.
        let events = [300, 100, 10, 20, 5, 1, 2, 0];
        assert_eq!(estimated_cycles(1000, &events), (1400 - 35) + 5 * (35 - 3) + 35 * 3);
        assert_eq!(estimated_cycles(7, &[0; 8]), 7);
    }

    #[test]
    fn totals_are_read_from_a_callgrind_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cg.out");
        let text = "# callgrind format\nversion: 1\ncreator: callgrind-3.19.0\ncmd: bench\npart: 1\n\
                    events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw\nfl=a.rs\nfn=main\n1 100 40 20 2 3 1 1 0 0\n\
                    totals: 100 40 20 2 3 1 1 0 0\n";
        std::fs::write(&path, text).unwrap();
        let t = totals(&path).unwrap();
        assert_eq!(t.ir, 100);
        assert_eq!(t.cycles, Some((160 - 6) + 5 * (6 - 1) + 35));
        let plain = text.replace(" Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw", "").replace(" 40 20 2 3 1 1 0 0", "");
        std::fs::write(&path, plain).unwrap();
        assert_eq!(totals(&path).unwrap(), Totals { ir: 100, cycles: None });
    }
}
