//! The tool's file writing: the bench side's `write_atomic` (re-exported), and `FileSet`, which
//! replaces several files of one directory as one step, cleans up after a writer that was killed, and
//! detects a set write that was interrupted half-way.
//!
//! A set write: every new file is written as a flushed temporary file beside its target (`write_temp`),
//! then a journal naming the targets and a digest of their new contents is written, then the
//! temporaries are renamed over the targets in one tight loop, the directory is flushed and the journal
//! removed. Anything that fails (or Ctrl-C) before the renames leaves the directory as it was: the
//! temporaries are removed by `FileSet`'s `Drop`. A kill before the renames leaves only temporary files
//! of a dead process, which the next `FileSet` in that directory removes; a kill within the rename loop
//! leaves a mix of old and new files, which the journal lets `pending_writes` report.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use benchgate::fsutil::{temp_owner, write_atomic, write_temp};

/// Journal files are `.benchgate-journal-PID-NANOS` (one per set write; the writer's id is inside too).
const JOURNAL_PREFIX: &str = ".benchgate-journal-";

/// Why a set of files could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SetError {
    #[error("cannot write {}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("cannot read {}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{} is a directory, not a file that can be replaced", .0.display())]
    NotAFile(PathBuf),
    /// Ctrl-C or SIGTERM arrived before the renames: nothing was replaced.
    #[error("interrupted before anything in {} was replaced; nothing was written", .0.display())]
    Interrupted(PathBuf),
    #[error("{0}")]
    Pending(PendingWrite),
}

/// What a journal says about a set write that did not finish.
#[derive(Debug, Clone)]
pub struct PendingWrite {
    pub journal: PathBuf,
    pub pid: u32,
    /// The writer is still running (a concurrent write), as far as this system can tell.
    pub alive: bool,
    /// The command that would finish the write.
    pub rerun: String,
    /// Targets that hold their new content, and those that do not.
    pub replaced: Vec<String>,
    pub not_replaced: Vec<String>,
    /// A later write rewrote some of the files it left mixed (and was itself recorded here), so the
    /// rest are what remains of the mix.
    pub partly_rewritten: bool,
}

impl PendingWrite {
    /// Some files old and some new: the directory holds neither set.
    pub fn mixed(&self) -> bool {
        self.partly_rewritten || (!self.replaced.is_empty() && !self.not_replaced.is_empty())
    }

    /// Every file the write would have replaced, sorted.
    pub fn files(&self) -> Vec<&str> {
        let mut all: Vec<&str> = self.replaced.iter().chain(&self.not_replaced).map(String::as_str).collect();
        all.sort_unstable();
        all
    }

    fn dir(&self) -> std::path::Display<'_> {
        self.journal.parent().unwrap_or(Path::new(".")).display()
    }

    /// One line: which write, and how far it got.
    pub fn summary(&self) -> String {
        if self.partly_rewritten {
            return format!(
                "the last write into {} (`{}`, PID {}) was interrupted half-way, and later writes rewrote only \
                 some of its files",
                self.dir(),
                self.rerun,
                self.pid
            );
        }
        format!(
            "the last write into {} (`{}`, PID {}) was interrupted after replacing {} of {} files",
            self.dir(),
            self.rerun,
            self.pid,
            self.replaced.len(),
            self.replaced.len() + self.not_replaced.len()
        )
    }
}

impl std::fmt::Display for PendingWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.alive {
            return write!(
                f,
                "another benchgate process (PID {}) is writing {} (`{}`); retry when it has finished (if no such \
                 process is running, remove {})",
                self.pid,
                self.dir(),
                self.rerun,
                self.journal.display()
            );
        }
        write!(
            f,
            "{}: the directory mixes old and new files (not replaced: {}); rerun `{}` to finish it, or restore the \
             old files (e.g. `git checkout -- {}`) and remove {}",
            self.summary(),
            self.not_replaced.join(", "),
            self.rerun,
            self.dir(),
            self.journal.display()
        )
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Journal {
    pid: u32,
    rerun: String,
    /// Target file name -> FNV-1a digest of its new content (hex).
    files: BTreeMap<String, String>,
    /// See `PendingWrite::partly_rewritten`.
    #[serde(default)]
    partly_rewritten: bool,
}

impl Journal {
    fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a journal serializes") + "\n"
    }
}

fn digest(bytes: &[u8]) -> String {
    format!("{:016x}", crate::meta::fnv1a64(bytes))
}

/// Whether process `pid` exists (signal 0 delivers nothing). Not knowing counts as alive, so that a
/// file is never removed on a guess.
fn alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(p) = libc::pid_t::try_from(pid) else { return true };
        if p <= 0 {
            return true;
        }
        // SAFETY: kill with signal 0 only checks that the process exists and may be signalled.
        let r = unsafe { libc::kill(p, 0) };
        r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// Whether `pid` wrote a file that no one will finish: a dead process, or this one before it started
/// writing (a stale file of an earlier process that had the same id).
fn stale(pid: u32) -> bool {
    pid == std::process::id() || !alive(pid)
}

/// Temporary files this module or `write_atomic` makes here: `.NAME.tmp-PID` of a `.json` target or of
/// a journal. Nothing else is ever removed.
fn ours(name: &str) -> Option<u32> {
    let (target, pid) = temp_owner(name)?;
    (target.ends_with(".json") || target.starts_with(JOURNAL_PREFIX)).then_some(pid)
}

fn read_dir_names(dir: &Path) -> Result<Vec<String>, SetError> {
    let io = |source| SetError::Read { path: dir.to_owned(), source };
    let mut names = Vec::new();
    for e in std::fs::read_dir(dir).map_err(io)? {
        let e = e.map_err(io)?;
        // Regular files only: a directory or link with such a name is not ours.
        if e.file_type().map_err(io)?.is_file() {
            names.push(e.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    Ok(names)
}

/// The set writes into `dir` that did not finish, from their journals: those of running processes
/// (`alive`) and those of dead ones. A missing directory has none.
pub fn pending_writes(dir: &Path) -> Result<Vec<PendingWrite>, SetError> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut pending = Vec::new();
    for name in read_dir_names(dir)? {
        if !name.starts_with(JOURNAL_PREFIX) {
            continue;
        }
        let path = dir.join(&name);
        let text = std::fs::read_to_string(&path).map_err(|source| SetError::Read { path: path.clone(), source })?;
        let Ok(journal) = serde_json::from_str::<Journal>(&text) else {
            // Journals are written atomically, so this is not one of ours; it is left alone.
            continue;
        };
        let (mut replaced, mut not_replaced) = (Vec::new(), Vec::new());
        for (file, want) in &journal.files {
            let now = std::fs::read(dir.join(file)).ok().map(|b| digest(&b));
            if now.as_deref() == Some(want.as_str()) { &mut replaced } else { &mut not_replaced }.push(file.clone());
        }
        pending.push(PendingWrite {
            journal: path,
            pid: journal.pid,
            alive: !stale(journal.pid),
            rerun: journal.rerun,
            replaced,
            not_replaced,
            partly_rewritten: journal.partly_rewritten,
        });
    }
    Ok(pending)
}

/// The first unfinished write into `dir` that leaves it inconsistent for readers: one in progress, or an
/// interrupted one that replaced some files but not all.
pub fn check_consistent(dir: &Path) -> Result<(), SetError> {
    match pending_writes(dir)?.into_iter().find(|p| p.alive || p.mixed()) {
        Some(p) => Err(SetError::Pending(p)),
        None => Ok(()),
    }
}

struct Staged {
    name: String,
    tmp: PathBuf,
    target: PathBuf,
    digest: String,
}

/// Files of one directory replaced as one step (see the module documentation). Dropped before
/// `commit`, it removes every temporary file it wrote.
pub struct FileSet {
    dir: PathBuf,
    staged: Vec<Staged>,
    /// Interrupted writes (of dead processes) that left a mix, found when the set began: a journal is
    /// removed once a set has rewritten every file it names.
    earlier: Vec<PendingWrite>,
    stop: fn() -> bool,
}

impl FileSet {
    /// Begins a set in `dir` (created if missing): refuses while another process is writing there, and
    /// removes the temporary files of writers that died. `stop` is asked before every file and before
    /// the renames (Ctrl-C); once it says yes, nothing is replaced.
    pub fn begin(dir: &Path, stop: fn() -> bool) -> Result<FileSet, SetError> {
        std::fs::create_dir_all(dir).map_err(|source| SetError::Io { path: dir.to_owned(), source })?;
        let mut earlier = Vec::new();
        for p in pending_writes(dir)? {
            if p.alive {
                return Err(SetError::Pending(p));
            } else if p.mixed() {
                earlier.push(p);
            } else {
                // Killed before its first rename or after its last: the files are one set or the other.
                std::fs::remove_file(&p.journal).map_err(|source| SetError::Io { path: p.journal.clone(), source })?;
            }
        }
        remove_stale_temps(dir)?;
        Ok(FileSet { dir: dir.to_owned(), staged: Vec::new(), earlier, stop })
    }

    /// The interrupted writes that left a mix in the directory, found when the set began.
    pub fn earlier(&self) -> &[PendingWrite] {
        &self.earlier
    }

    fn check_stop(&self) -> Result<(), SetError> {
        if (self.stop)() { Err(SetError::Interrupted(self.dir.clone())) } else { Ok(()) }
    }

    /// Writes the new content of file `name` (a plain file name in the directory) to its flushed
    /// temporary file.
    pub fn add(&mut self, name: &str, bytes: &[u8]) -> Result<(), SetError> {
        self.check_stop()?;
        let target = self.dir.join(name);
        if std::fs::symlink_metadata(&target).is_ok_and(|m| m.is_dir()) {
            return Err(SetError::NotAFile(target));
        }
        let tmp = write_temp(&target, bytes).map_err(|source| SetError::Io { path: target.clone(), source })?;
        self.staged.push(Staged { name: name.to_owned(), tmp, target, digest: digest(bytes) });
        Ok(())
    }

    /// Renames every temporary file over its target. With more than one file, a journal (which `rerun`,
    /// the command that would finish the write, goes into) is flushed first, and removed after the
    /// directory is.
    pub fn commit(mut self, rerun: &str) -> Result<(), SetError> {
        self.check_stop()?;
        // Unique even when an earlier journal's writer had this process's id.
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
        let journal = self.dir.join(format!("{JOURNAL_PREFIX}{}-{nanos}", std::process::id()));
        let journaled = self.staged.len() > 1;
        if journaled {
            let files = self.staged.iter().map(|s| (s.name.clone(), s.digest.clone())).collect();
            let j = Journal { pid: std::process::id(), rerun: rerun.to_owned(), files, partly_rewritten: false };
            write_atomic(&journal, j.to_json().as_bytes())
                .map_err(|source| SetError::Io { path: journal.clone(), source })?;
            self.sync_dir()?;
        }
        let names: std::collections::BTreeSet<String> = self.staged.iter().map(|s| s.name.clone()).collect();
        // The tight loop: nothing but renames between the first and the last.
        let mut failed = None;
        let mut done = 0;
        for s in &self.staged {
            if let Err(source) = std::fs::rename(&s.tmp, &s.target) {
                failed = Some(SetError::Io { path: s.target.clone(), source });
                break;
            }
            done += 1;
        }
        self.staged.drain(..done);
        if let Some(e) = failed {
            // The journal stays, so the next reader reports the mix; Drop removes the rest.
            return Err(e);
        }
        self.sync_dir()?;
        if journaled {
            std::fs::remove_file(&journal).map_err(|source| SetError::Io { path: journal.clone(), source })?;
        }
        // An interrupted write whose every file this set has rewritten is finished; one of whose files it
        // rewrote only some keeps the others, as what remains of the mix.
        for p in std::mem::take(&mut self.earlier) {
            let io = |source| SetError::Io { path: p.journal.clone(), source };
            let left: Vec<&str> = p.files().into_iter().filter(|f| !names.contains(*f)).collect();
            if left.is_empty() {
                std::fs::remove_file(&p.journal).map_err(io)?;
            } else if left.len() < p.files().len() {
                let text = std::fs::read_to_string(&p.journal).map_err(io)?;
                let mut j: Journal = serde_json::from_str(&text).expect("read as a journal when the set began");
                j.files.retain(|f, _| !names.contains(f));
                j.partly_rewritten = true;
                write_atomic(&p.journal, j.to_json().as_bytes()).map_err(io)?;
            }
        }
        self.sync_dir()
    }

    fn sync_dir(&self) -> Result<(), SetError> {
        #[cfg(unix)]
        std::fs::File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(|source| SetError::Io { path: self.dir.clone(), source })?;
        Ok(())
    }
}

impl Drop for FileSet {
    fn drop(&mut self) {
        for s in &self.staged {
            let _ = std::fs::remove_file(&s.tmp);
        }
    }
}

/// Removes this directory's temporary files (and finished or harmless journals) of writers that are no
/// longer running. Foreign files are never touched.
fn remove_stale_temps(dir: &Path) -> Result<(), SetError> {
    for name in read_dir_names(dir)? {
        if ours(&name).is_some_and(stale) {
            let path = dir.join(&name);
            std::fs::remove_file(&path).map_err(|source| SetError::Io { path, source })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn never() -> bool {
        false
    }

    /// Every file of `dir` (name and content), hidden ones included.
    fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| e.file_type().unwrap().is_file())
            .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap()))
            .collect()
    }

    /// A directory with `a.json`, `b.json`, `c.json` holding "old a" etc.
    fn old_set() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for n in ["a", "b", "c"] {
            std::fs::write(dir.path().join(format!("{n}.json")), format!("old {n}")).unwrap();
        }
        dir
    }

    fn write_set(dir: &Path, names: &[&str], content: &str) -> Result<(), SetError> {
        let mut set = FileSet::begin(dir, never)?;
        for n in names {
            set.add(&format!("{n}.json"), format!("{content} {n}").as_bytes())?;
        }
        set.commit("benchgate test")
    }

    /// The id of a process that has exited (and been reaped).
    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    }

    #[test]
    fn a_set_replaces_every_file_and_leaves_nothing_else() {
        let dir = old_set();
        write_set(dir.path(), &["a", "b", "c", "d"], "new").unwrap();
        let names: Vec<String> = snapshot(dir.path()).into_keys().collect();
        assert_eq!(names, ["a.json", "b.json", "c.json", "d.json"]);
        assert_eq!(std::fs::read_to_string(dir.path().join("b.json")).unwrap(), "new b");
        assert!(pending_writes(dir.path()).unwrap().is_empty());
    }

    #[test]
    fn a_failure_before_the_renames_leaves_the_old_files_and_no_temporary_file() {
        let dir = old_set();
        let before = snapshot(dir.path());
        // The second file's temporary path is taken by a directory: its write fails after the first
        // file's temporary file exists.
        let blocker = dir.path().join(format!(".b.json.tmp-{}", std::process::id()));
        std::fs::create_dir(&blocker).unwrap();
        let err = write_set(dir.path(), &["a", "b", "c"], "new").unwrap_err();
        assert!(err.to_string().contains("b.json"), "{err}");
        assert_eq!(snapshot(dir.path()), before, "old files intact, no temporary file");
        std::fs::remove_dir(&blocker).unwrap();

        // A target that is a directory is refused before anything is renamed.
        std::fs::remove_file(dir.path().join("c.json")).unwrap();
        std::fs::create_dir(dir.path().join("c.json")).unwrap();
        let before = snapshot(dir.path());
        let err = write_set(dir.path(), &["a", "b", "c"], "new").unwrap_err();
        assert!(matches!(&err, SetError::NotAFile(p) if p.ends_with("c.json")), "{err}");
        assert_eq!(snapshot(dir.path()), before);
    }

    thread_local! {
        static ASKED: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    }

    /// Ctrl-C after the first file was staged.
    fn second_time() -> bool {
        ASKED.with(|a| {
            a.set(a.get() + 1);
            a.get() > 1
        })
    }

    #[test]
    fn an_interrupt_before_the_renames_replaces_nothing() {
        let dir = old_set();
        let before = snapshot(dir.path());
        let mut set = FileSet::begin(dir.path(), second_time).unwrap();
        set.add("a.json", b"new a").unwrap();
        assert!(matches!(set.add("b.json", b"new b"), Err(SetError::Interrupted(_))));
        drop(set);
        assert_eq!(snapshot(dir.path()), before);
    }

    #[test]
    fn stale_temporary_files_are_removed_and_foreign_files_left_alone() {
        let dir = old_set();
        let dead = dead_pid();
        let stale = [format!(".a.json.tmp-{dead}"), format!("..benchgate-journal-{dead}-7.tmp-{dead}")];
        // pid 1 is always running: its files may still be renamed into place.
        let foreign = [".notes.tmp", "x.json.bak", ".x.json.tmp-1", ".notes.txt.tmp-999999999", "a.json.tmp-12"];
        for n in stale.iter().map(String::as_str).chain(foreign) {
            std::fs::write(dir.path().join(n), "x").unwrap();
        }
        std::fs::create_dir(dir.path().join(format!(".b.json.tmp-{dead}"))).unwrap();
        write_set(dir.path(), &["a"], "new").unwrap();
        for n in &stale {
            assert!(!dir.path().join(n).exists(), "{n} removed");
        }
        for n in foreign {
            assert!(dir.path().join(n).exists(), "{n} left alone");
        }
        assert!(dir.path().join(format!(".b.json.tmp-{dead}")).is_dir(), "a directory is never removed");
    }

    #[test]
    fn a_set_interrupted_among_its_renames_is_reported_until_rewritten() {
        let dir = old_set();
        let mut set = FileSet::begin(dir.path(), never).unwrap();
        for n in ["a", "b", "c"] {
            set.add(&format!("{n}.json"), format!("new {n}").as_bytes()).unwrap();
        }
        // After staging, `b.json` becomes a directory: its rename fails after `a.json`'s, as if the
        // process had been killed between the two.
        std::fs::remove_file(dir.path().join("b.json")).unwrap();
        std::fs::create_dir(dir.path().join("b.json")).unwrap();
        assert!(set.commit("benchgate baseline save --update r.json").is_err());
        std::fs::remove_dir(dir.path().join("b.json")).unwrap();
        std::fs::write(dir.path().join("b.json"), "old b").unwrap();

        let err = check_consistent(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("interrupted after replacing 1 of 3 files")
                && err.contains("not replaced: b.json, c.json")
                && err.contains("rerun `benchgate baseline save --update r.json`"),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(dir.path().join("a.json")).unwrap(), "new a");
        assert!(
            snapshot(dir.path()).keys().all(|n| temp_owner(n).is_none()),
            "the temporaries not renamed are removed"
        );

        // A set that rewrites some of its files leaves the report; one that rewrites all clears it.
        write_set(dir.path(), &["a", "b"], "newer").unwrap();
        let err = check_consistent(dir.path()).unwrap_err().to_string();
        assert!(err.contains("rewrote only some") && err.contains("not replaced: c.json"), "{err}");
        write_set(dir.path(), &["a", "b", "c"], "newer").unwrap();
        check_consistent(dir.path()).unwrap();
        let names: Vec<String> = snapshot(dir.path()).into_keys().collect();
        assert_eq!(names, ["a.json", "b.json", "c.json"]);
    }

    #[test]
    fn a_journal_of_a_write_that_replaced_all_or_nothing_is_harmless() {
        let dir = old_set();
        let dead = dead_pid();
        let journal = |files: &[(&str, &str)]| {
            let files = files.iter().map(|(n, c)| (n.to_string(), digest(c.as_bytes()))).collect();
            let text = Journal { pid: dead, rerun: "x".into(), files, partly_rewritten: false }.to_json();
            std::fs::write(dir.path().join(format!("{JOURNAL_PREFIX}{dead}-1")), text).unwrap();
        };
        journal(&[("a.json", "new a"), ("b.json", "new b")]);
        check_consistent(dir.path()).unwrap();
        journal(&[("a.json", "old a"), ("b.json", "new b")]);
        assert!(check_consistent(dir.path()).is_err());
        journal(&[("a.json", "old a"), ("b.json", "old b")]);
        check_consistent(dir.path()).unwrap();
        write_set(dir.path(), &["c"], "new").unwrap();
        assert!(!dir.path().join(format!("{JOURNAL_PREFIX}{dead}-1")).exists(), "removed by the next writer");
    }

    #[test]
    fn a_journal_of_a_running_writer_stops_readers_and_writers() {
        let dir = old_set();
        // pid 1 is always running.
        let text = Journal { pid: 1, rerun: "x".into(), files: BTreeMap::new(), partly_rewritten: false }.to_json();
        std::fs::write(dir.path().join(format!("{JOURNAL_PREFIX}1-1")), text).unwrap();
        let before = snapshot(dir.path());
        let err = check_consistent(dir.path()).unwrap_err().to_string();
        assert!(err.contains("(PID 1) is writing"), "{err}");
        assert!(matches!(write_set(dir.path(), &["a"], "new"), Err(SetError::Pending(p)) if p.alive));
        assert_eq!(snapshot(dir.path()), before);
    }
}
