//! Measured processes — bench binaries, valgrind running them, cputime's native runs — each started in
//! a process group of its own and ended as a whole: on a timeout, on an interrupt, and after it exits,
//! so that nothing a benchmark started outlives its lane.
//!
//! What ends what:
//!
//! - **Timeout and interrupt.** A watchdog thread sends `SIGKILL` to the whole group
//!   (`killpg`) at the deadline, or when Ctrl-C/SIGTERM has arrived ([`interrupted`]). The interrupt
//!   handler also kills every live group at once ([`handle_interrupts`]).
//! - **Exit.** When the group's leader (the process started) exits, whatever it left behind in its group
//!   — a benchmark's own children, a server it started in the background — is sent `SIGKILL` before the
//!   leader is reaped.
//! - **benchgate killed with SIGKILL.** Nothing of benchgate runs, so on Linux the kernel ends the
//!   leader: it is started with `PR_SET_PDEATHSIG` = `SIGKILL`. Its own children in the group are then
//!   orphans that nobody kills; they survive (README, "Exit codes"). `PR_SET_CHILD_SUBREAPER` would not
//!   help: when benchgate itself dies, its orphans go to init all the same.
//!
//! `SIGKILL`, not `SIGTERM` first and a grace period: a measured process has nothing to save — the
//! driver reads a report only from a process that exited by itself — and a benchmark cannot ignore it.
//!
//! A process that leaves the group (`setsid`, `setpgid`) escapes all of this; only a cgroup would
//! hold it, which needs privileges or a delegated cgroup tree that CI runners rarely give.
//!
//! A group's id is its leader's pid, which the kernel does not reuse while the leader is unreaped or
//! any process is still in the group. So the group is killed only while its leader is known to be
//! unreaped: the waiter waits for the exit without reaping (`waitid` with `WNOWAIT`), stops the
//! watchdog, kills the group, takes it off the registry the interrupt handler reads, and only then
//! reaps. No signal can reach a recycled id.
//!
//! The terminal: a process group of its own is not the terminal's foreground group, so a Ctrl-C
//! typed at the terminal reaches benchgate but no longer the benchmark directly. That is intended:
//! benchgate's handler kills the running groups itself, and the benchmark cannot outlive it.

use std::collections::BTreeSet;
use std::io;
use std::marker::PhantomData;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

/// Set by the SIGINT/SIGTERM handler: the running benchmarks are killed and the run stops, its results
/// file left valid (and `partial`).
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// The process groups of measured processes whose leader is not yet reaped: what the interrupt handler
/// kills.
static LIVE: Mutex<BTreeSet<libc::pid_t>> = Mutex::new(BTreeSet::new());

/// Installs the handler for Ctrl-C and SIGTERM (once per process; later calls are no-ops): it records
/// the interrupt and kills every live measured process group. The `ctrlc` crate runs the handler on a
/// thread of its own, not in a signal handler, so it may take the registry's lock.
pub fn handle_interrupts() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = ctrlc::set_handler(|| {
            INTERRUPTED.store(true, Ordering::SeqCst);
            let live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
            for &pgid in live.iter() {
                kill_group(pgid);
            }
        });
    });
}

/// Whether Ctrl-C or SIGTERM arrived since [`handle_interrupts`]: for loops that stop at the next
/// benchmark and keep what finished.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Why the watchdog ended a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    Timeout,
    Interrupted,
}

/// How a measured process ended.
#[derive(Debug, Clone, Copy)]
pub struct Ended {
    pub status: ExitStatus,
    /// Set when the watchdog killed it; `status` is then the kill's.
    pub stopped: Option<Stop>,
    /// When the leader exited (before its group was killed and it was reaped).
    pub exited: Instant,
    /// CPU time of the leader, its threads and the children it waited for, from `wait4`: user mode.
    pub user: Duration,
    /// The same, in the kernel on its behalf.
    pub sys: Duration,
}

/// Runs `cmd` as a measured process: in a process group of its own, killed with the group at `timeout`
/// or an interrupt, its group killed after it exits; returns how it ended once it is reaped (an error
/// only when it cannot be started or waited for).
///
/// The process is started and waited for on the calling thread, and this returns only once it is
/// reaped: `PR_SET_PDEATHSIG` fires when the *thread* that started the process ends, not the process,
/// so the starting thread must outlive it. That is also why nothing here hands the child to another
/// thread.
pub fn run(cmd: &mut Command, timeout: Duration) -> io::Result<Ended> {
    let mut group = Group::spawn(cmd)?;
    group.wait(timeout)
}

/// How a process that did not succeed ended, in words: `exited with status 3`, or `was killed by signal
/// 11 (SIGSEGV, a segmentation fault; core dumped)`: a crash is named as one. Valgrind ends with the
/// signal that ended the program it ran, so this reads the same under callgrind.
pub fn describe(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exited with status {code}");
    }
    let Some(sig) = status.signal() else { return format!("ended: {status}") };
    let name = match sig {
        libc::SIGSEGV => "SIGSEGV, a segmentation fault",
        libc::SIGABRT => "SIGABRT, an abort",
        libc::SIGBUS => "SIGBUS, a bus error",
        libc::SIGILL => "SIGILL, an illegal instruction",
        libc::SIGFPE => "SIGFPE, an arithmetic fault",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGKILL => "SIGKILL",
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        libc::SIGPIPE => "SIGPIPE",
        _ => "",
    };
    let core = if status.core_dumped() { "; core dumped" } else { "" };
    if name.is_empty() {
        format!("was killed by signal {sig}{}", if core.is_empty() { "" } else { " (core dumped)" })
    } else {
        format!("was killed by signal {sig} ({name}{core})")
    }
}

/// Whether process `pid` exists (a zombie counts), as far as this process can see: `kill(pid, 0)`
/// fails with `ESRCH` only when there is none. Process ids are per pid namespace.
pub fn alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else { return false };
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks that the process exists and may be signalled.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

fn kill_group(pgid: libc::pid_t) {
    // SAFETY: a plain system call; callers guarantee `pgid` is a group whose leader is unreaped.
    unsafe { libc::killpg(pgid, libc::SIGKILL) };
}

/// A started measured process, not yet reaped. Not `Send`: it must be waited for on the thread that
/// started it ([`run`]).
struct Group {
    /// Holds the process's pipes, if any; it is reaped with `wait4` ([`reap`]), never through `Child`.
    _child: Child,
    pgid: libc::pid_t,
    reaped: bool,
    _same_thread: PhantomData<*const ()>,
}

impl Group {
    fn spawn(cmd: &mut Command) -> io::Result<Group> {
        cmd.process_group(0);
        #[cfg(target_os = "linux")]
        {
            let parent = std::process::id() as libc::pid_t;
            // SAFETY: only async-signal-safe system calls between fork and exec, and no allocation
            // (the error is a raw OS error).
            unsafe {
                cmd.pre_exec(move || {
                    if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0) == -1 {
                        return Err(io::Error::last_os_error());
                    }
                    // benchgate may have died before the prctl: then nobody would ever kill this one.
                    if libc::getppid() != parent {
                        return Err(io::Error::from_raw_os_error(libc::ESRCH));
                    }
                    Ok(())
                });
            }
        }
        let child = cmd.spawn()?;
        let pgid = child.id() as libc::pid_t;
        LIVE.lock().unwrap_or_else(|e| e.into_inner()).insert(pgid);
        Ok(Group { _child: child, pgid, reaped: false, _same_thread: PhantomData })
    }

    fn wait(&mut self, timeout: Duration) -> io::Result<Ended> {
        let (done, watch) = mpsc::channel::<()>();
        let pgid = self.pgid;
        let watchdog = std::thread::Builder::new()
            .name("benchgate-watchdog".into())
            .spawn(move || watch_group(pgid, timeout, watch))?;
        let exited = wait_exited(self.pgid);
        let exited_at = Instant::now();
        drop(done);
        let stopped = watchdog.join().unwrap_or(None);
        exited?;
        let (status, user, sys) = self.end()?;
        // The interrupt handler kills live groups itself, before any watchdog notices.
        let stopped =
            stopped.or_else(|| (interrupted() && status.signal() == Some(libc::SIGKILL)).then_some(Stop::Interrupted));
        Ok(Ended { status, stopped, exited: exited_at, user, sys })
    }

    /// Kills what is left of the group, takes it off the registry and reaps the leader.
    fn end(&mut self) -> io::Result<(ExitStatus, Duration, Duration)> {
        kill_group(self.pgid);
        LIVE.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.pgid);
        self.reaped = true;
        reap(self.pgid)
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        if !self.reaped {
            let _ = self.end();
        }
    }
}

/// The watchdog: kills group `pgid` at the timeout or an interrupt unless `watch` says (by closing)
/// that its leader exited first; returns why it killed.
fn watch_group(pgid: libc::pid_t, timeout: Duration, watch: mpsc::Receiver<()>) -> Option<Stop> {
    let deadline = Instant::now() + timeout;
    loop {
        let slice = deadline.saturating_duration_since(Instant::now()).min(Duration::from_millis(100));
        match watch.recv_timeout(slice) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return None,
        }
        let why = if interrupted() {
            Stop::Interrupted
        } else if Instant::now() >= deadline {
            Stop::Timeout
        } else {
            continue;
        };
        // The leader is unreaped until this thread has ended (the waiter joins it first).
        kill_group(pgid);
        return Some(why);
    }
}

/// Waits until `pid` has exited, leaving it waitable (a zombie) so that its group can still be killed
/// and its usage read by [`reap`].
fn wait_exited(pid: libc::pid_t) -> io::Result<()> {
    loop {
        // SAFETY: an all-zero siginfo_t is valid (plain integers and unions of them).
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: `info` is a valid siginfo_t for the call to write.
        let rc = unsafe { libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, libc::WEXITED | libc::WNOWAIT) };
        if rc == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Reaps `pid`: its exit status and the user and system time of it and its threads.
fn reap(pid: libc::pid_t) -> io::Result<(ExitStatus, Duration, Duration)> {
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: an all-zero rusage is valid (integers and timevals).
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `status` and `usage` are valid for the call to write.
        let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if rc == pid {
            return Ok((ExitStatus::from_raw(status), duration(usage.ru_utime), duration(usage.ru_stime)));
        }
        let e = io::Error::last_os_error();
        if rc >= 0 || e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

fn duration(tv: libc::timeval) -> Duration {
    Duration::from_secs(tv.tv_sec.max(0) as u64) + Duration::from_micros(tv.tv_usec.max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::process::Stdio;

    /// Whether `pid` no longer runs: no such process, or a zombie (a killed grandchild is re-parented to
    /// init, which may be slow to reap it, or here, in a container, never).
    fn gone(pid: u32) -> bool {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return true };
        let state = stat.rsplit_once(") ").and_then(|(_, rest)| rest.chars().next());
        matches!(state, Some('Z' | 'X'))
    }

    /// Waits up to 30 s for `pid` to be [`gone`]: the kill is sent before the waiter returns, but
    /// the kernel takes a moment to tear a process down.
    fn assert_gone(pid: u32, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !gone(pid) {
            assert!(Instant::now() < deadline, "{what} (pid {pid}) still runs");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The pid a shell wrote to `path` (written to a temporary name and renamed, so never half).
    fn read_pid(path: &Path) -> u32 {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        text.trim().parse().unwrap_or_else(|e| panic!("{}: {text:?}: {e}", path.display()))
    }

    /// `sh -c SCRIPT` in `dir`, with a `put NAME PID` function that writes a pid file atomically.
    fn shell(dir: &Path, script: &str) -> Command {
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(format!("put() {{ echo \"$2\" > \"$1.tmp\" && mv \"$1.tmp\" \"$1\"; }}; {script}"));
        cmd.current_dir(dir).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        cmd
    }

    #[test]
    fn a_timeout_kills_the_process_and_its_children() {
        let dir = tempfile::tempdir().unwrap();
        // The shell starts a grandchild and waits for it: only a kill of the group ends both.
        let mut cmd = shell(dir.path(), "sleep 300 & put grandchild $!; put child $$; wait");
        let started = Instant::now();
        let ended = run(&mut cmd, Duration::from_secs(3)).unwrap();
        assert_eq!(ended.stopped, Some(Stop::Timeout));
        assert_eq!(ended.status.signal(), Some(libc::SIGKILL), "{:?}", ended.status);
        assert!(started.elapsed() < Duration::from_secs(60), "{:?}", started.elapsed());
        assert_gone(read_pid(&dir.path().join("child")), "the timed-out process");
        assert_gone(read_pid(&dir.path().join("grandchild")), "its child");
    }

    #[test]
    fn children_do_not_outlive_a_process_that_exits() {
        let dir = tempfile::tempdir().unwrap();
        // Exits at once with 3, leaving a grandchild in the background.
        let mut cmd = shell(dir.path(), "sleep 300 & put grandchild $!; exit 3");
        let ended = run(&mut cmd, Duration::from_secs(600)).unwrap();
        assert_eq!((ended.status.code(), ended.stopped), (Some(3), None));
        assert_gone(read_pid(&dir.path().join("grandchild")), "the child of a process that exited");
        // And after a success.
        let mut cmd = shell(dir.path(), "sleep 300 & put grandchild2 $!");
        let ended = run(&mut cmd, Duration::from_secs(600)).unwrap();
        assert!(ended.status.success() && ended.stopped.is_none(), "{ended:?}");
        assert_gone(read_pid(&dir.path().join("grandchild2")), "the child of a process that succeeded");
    }

    /// Where the helper of [`a_process_dies_with_benchgate`] writes its measured process's pid.
    const HELPER_DIR: &str = "BENCHGATE_TEST_PDEATHSIG_DIR";

    /// This test binary, run again as a helper standing in for benchgate, starts a measured process
    /// and is killed with SIGKILL: the kernel kills the measured process (`PR_SET_PDEATHSIG`).
    #[test]
    fn a_process_dies_with_benchgate() {
        if let Some(dir) = std::env::var_os(HELPER_DIR) {
            let mut cmd = shell(Path::new(&dir), "put child $$; exec sleep 300");
            let _ = run(&mut cmd, Duration::from_secs(600));
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let mut helper = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "proc::tests::a_process_dies_with_benchgate", "--test-threads=1"])
            .env(HELPER_DIR, dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let pid_file = dir.path().join("child");
        let deadline = Instant::now() + Duration::from_secs(120);
        while !pid_file.exists() {
            assert!(helper.try_wait().unwrap().is_none(), "the helper ended before starting its process");
            assert!(Instant::now() < deadline, "the helper never started its process");
            std::thread::sleep(Duration::from_millis(20));
        }
        let child = read_pid(&pid_file);
        assert!(!gone(child), "the measured process is not running");
        helper.kill().unwrap();
        helper.wait().unwrap();
        assert_gone(child, "the measured process of a killed benchgate");
    }

    #[test]
    fn alive_tells_running_processes_from_absent_ones() {
        assert!(alive(std::process::id()));
        // Above any pid_max (at most 2^22 on Linux).
        assert!(!alive(i32::MAX as u32));
        assert!(!alive(0) && !alive(u32::MAX));
    }
}
