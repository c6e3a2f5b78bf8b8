//! Revisions for `run --compare REV` and `bisect` (git2): resolving REV and the merge-base, whether the
//! working tree has uncommitted changes, and the git worktrees where other commits are built (the
//! base's, bisect's) under `target/benchgate/worktrees/`, reused across runs. Nothing is left in the user's branches: libgit2 needs a branch to add a worktree, so a
//! temporary one is made, the worktree's HEAD is detached onto the commit, and the branch is deleted;
//! leftovers of an interrupted run (a temporary branch, a worktree whose directory is gone) are
//! removed at the next run.

use std::path::{Path, PathBuf};

use git2::{BranchType, Oid, Repository, WorktreeAddOptions, WorktreePruneOptions};

/// The name in `.git/worktrees/` of the worktree where `run --compare` builds the base.
pub const BASE_WORKTREE: &str = "benchgate-base";
/// The same for the commits `bisect` builds.
pub const BISECT_WORKTREE: &str = "benchgate-bisect";
/// Prefix of the temporary branch that adding a worktree needs.
const TEMP_BRANCH_PREFIX: &str = "benchgate-tmp-";

#[derive(Debug, thiserror::Error)]
pub enum RevisionError {
    #[error("{} is not in a git repository: measuring revisions needs one", .0.display())]
    NoRepository(PathBuf),
    #[error("unknown revision `{0}` (not a branch, tag or commit git knows here)")]
    UnknownRevision(String),
    #[error(
        "this is a shallow clone and the merge-base of `{0}` and HEAD is not in its history; fetch the history \
         (`git fetch --unshallow`, or `fetch-depth: 0` in actions/checkout), or compare with `--no-merge-base`"
    )]
    ShallowNoMergeBase(String),
    #[error("`{0}` and HEAD have no common ancestor; compare with `--no-merge-base` to measure against it directly")]
    NoMergeBase(String),
    #[error("HEAD does not point to a commit (an empty repository?)")]
    NoHead,
    #[error("{0}")]
    Range(String),
    #[error("git: {context}: {source}")]
    Git { context: String, source: git2::Error },
}

fn git(context: impl Into<String>) -> impl FnOnce(git2::Error) -> RevisionError {
    let context = context.into();
    move |source| RevisionError::Git { context, source }
}

/// The base of a comparison, resolved.
#[derive(Debug, Clone)]
pub struct Base {
    /// As the user wrote it.
    pub rev: String,
    /// The commit measured as base.
    pub commit: String,
    /// The commit REV itself names (equal to `commit` with `--no-merge-base`).
    pub rev_commit: String,
    pub via_merge_base: bool,
    /// HEAD's commit.
    pub head_commit: String,
    /// Whether the working tree (head) has uncommitted changes to tracked files.
    pub head_dirty: bool,
    /// The base commit's first summary line.
    pub summary: String,
}

/// The first ten hex digits of a commit id, as messages show it.
pub fn short(id: &str) -> &str {
    &id[..id.len().min(10)]
}

fn open(dir: &Path) -> Result<Repository, RevisionError> {
    Repository::discover(dir).map_err(|_| RevisionError::NoRepository(dir.to_owned()))
}

/// Resolves REV (anything `git rev-parse` understands) and, unless `direct`, the merge-base of REV and HEAD.
pub fn resolve(dir: &Path, rev: &str, direct: bool) -> Result<Base, RevisionError> {
    let repo = open(dir)?;
    let rev_commit = repo
        .revparse_single(rev)
        .and_then(|o| o.peel_to_commit())
        .map_err(|_| RevisionError::UnknownRevision(rev.to_owned()))?;
    let head = repo.head().and_then(|h| h.peel_to_commit()).map_err(|_| RevisionError::NoHead)?;
    let commit = if direct {
        rev_commit.clone()
    } else {
        let oid = repo.merge_base(rev_commit.id(), head.id()).map_err(|_| {
            if repo.is_shallow() {
                RevisionError::ShallowNoMergeBase(rev.to_owned())
            } else {
                RevisionError::NoMergeBase(rev.to_owned())
            }
        })?;
        repo.find_commit(oid).map_err(git("find the merge-base"))?
    };
    Ok(Base {
        rev: rev.to_owned(),
        commit: commit.id().to_string(),
        rev_commit: rev_commit.id().to_string(),
        via_merge_base: !direct,
        head_commit: head.id().to_string(),
        head_dirty: crate::meta::git_info(dir).is_some_and(|g| g.dirty),
        summary: commit.summary().ok().flatten().unwrap_or_default().to_owned(),
    })
}

/// Exclusive use of a state directory's worktrees and base target directory, held by `run --compare`
/// and `bisect` from preparing a worktree until the last measurement: builds of different commits of
/// one package land at the same paths there (cargo names outputs by a hash of the path relative to
/// the workspace root), so a second run at the same time would measure the first one's binaries.
/// Released when dropped (or when the process ends, however it ends).
#[derive(Debug)]
pub struct StateLock {
    _file: std::fs::File,
}

/// Takes the [`StateLock`] of `state`, waiting while another benchgate holds it; `say` is told at once
/// what it waits for and who holds it (the holder's process id and command line, which the holder writes
/// into the lock file).
pub fn lock_state(state: &Path, say: &mut dyn FnMut(&str)) -> std::io::Result<StateLock> {
    use std::io::{Seek, Write};
    std::fs::create_dir_all(state)?;
    let path = state.join("revisions.lock");
    let mut file = std::fs::OpenOptions::new().create(true).truncate(false).read(true).write(true).open(&path)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            let holder = holder.trim();
            let who = if holder.is_empty() { "another benchgate".to_owned() } else { format!("benchgate {holder}") };
            say(&format!(
                "benchgate: waiting for {} to be free: {who} (a `run --compare` or `bisect`) is using it",
                path.display()
            ));
            file.lock()?;
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(e),
    }
    let command: Vec<String> = std::env::args().collect();
    file.set_len(0)?;
    file.rewind()?;
    writeln!(file, "pid {}: {}", std::process::id(), command.join(" "))?;
    Ok(StateLock { _file: file })
}

/// Checks out `commit` (detached) in the worktree `name` at `path`, creating or repairing the worktree
/// as needed, and returns its directory.
pub fn prepare_worktree(dir: &Path, name: &str, path: &Path, commit: &str) -> Result<PathBuf, RevisionError> {
    let repo = open(dir)?;
    let oid = Oid::from_str(commit).map_err(git("parse the commit id"))?;
    remove_temp_branches(&repo)?;
    if let Ok(wt) = repo.find_worktree(name) {
        // The directory must still be this repository's worktree: with one target directory shared by
        // several repositories (a global CARGO_TARGET_DIR), another one may have replaced it. Its `.git`
        // file must name this repository's administrative directory for the worktree. (Opening the
        // worktree cannot tell: it follows that same `.git` file, into whichever repository wrote it.)
        let admin = repo.commondir().join("worktrees").join(name).canonicalize().ok();
        let points_to = std::fs::read_to_string(path.join(".git"))
            .ok()
            .and_then(|t| t.trim().strip_prefix("gitdir:").map(|g| path.join(g.trim())))
            .and_then(|g| g.canonicalize().ok());
        let usable = wt.validate().is_ok() && wt.path() == path && admin.is_some() && admin == points_to;
        if !usable {
            let mut opts = WorktreePruneOptions::new();
            opts.valid(true).working_tree(true);
            wt.prune(Some(&mut opts)).map_err(git("prune a stale worktree"))?;
        }
    }
    if repo.find_worktree(name).is_err() {
        if path.exists() {
            std::fs::remove_dir_all(path).map_err(|e| RevisionError::Git {
                context: format!("remove {}", path.display()),
                source: git2::Error::from_str(&e.to_string()),
            })?;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| RevisionError::Git {
                context: format!("create {}", parent.display()),
                source: git2::Error::from_str(&e.to_string()),
            })?;
        }
        let target = repo.find_commit(oid).map_err(git("find the commit"))?;
        // A name no branch has (never forced over a user's branch), recorded before it is created so
        // that a later run can remove it if this one dies before it does.
        let branch_name = (0..)
            .map(|n| format!("{TEMP_BRANCH_PREFIX}{}-{n}", std::process::id()))
            .find(|n| repo.find_branch(n, BranchType::Local).is_err())
            .expect("an unused branch name");
        record_temp_branch(&repo, &branch_name, true)?;
        let branch = repo.branch(&branch_name, &target, false).map_err(git("create a temporary branch"))?;
        let added = {
            let reference = branch.get();
            let mut opts = WorktreeAddOptions::new();
            opts.reference(Some(reference));
            repo.worktree(name, path, Some(&opts)).map_err(git("add the worktree"))
        };
        let detached = added.and_then(|wt| {
            let wrepo = Repository::open_from_worktree(&wt).map_err(git("open the worktree"))?;
            wrepo.set_head_detached(oid).map_err(git("detach the worktree"))
        });
        // Always delete the temporary branch, even when adding failed.
        let deleted = repo
            .find_branch(&branch_name, BranchType::Local)
            .and_then(|mut b| b.delete())
            .map_err(git("delete the temporary branch"));
        if deleted.is_ok() {
            record_temp_branch(&repo, &branch_name, false)?;
        }
        detached?;
        deleted?;
    }
    let wt = repo.find_worktree(name).map_err(git("find the worktree"))?;
    let wrepo = Repository::open_from_worktree(&wt).map_err(git("open the worktree"))?;
    wrepo.set_head_detached(oid).map_err(git("move the worktree to the commit"))?;
    let mut checkout = git2::build::CheckoutBuilder::new();
    checkout.force().remove_untracked(true);
    wrepo.checkout_head(Some(&mut checkout)).map_err(git("check out the commit"))?;
    Ok(path.to_owned())
}

/// Makes the next build of `worktree` into `target_dir` a build of `worktree`'s own sources. Worktrees
/// share one target directory (`run --compare`'s base and `bisect`), and cargo decides that a package
/// is fresh by comparing its sources' modification times with its last build, wherever that build came
/// from: a worktree left untouched since its checkout looks older than another worktree's later build of
/// the same package, and cargo would hand out that build as this one's (measured: a comparison after a
/// bisect measured the bisect's last commit as the base). So when `target_dir` was last claimed by
/// another worktree, every file of this one is touched, and cargo rebuilds the workspace's own packages
/// (not its dependencies from registries).
pub fn claim_target_dir(target_dir: &Path, worktree: &Path) -> std::io::Result<()> {
    let marker = target_dir.join("benchgate-worktree");
    let owner = worktree.display().to_string();
    if std::fs::read_to_string(&marker).is_ok_and(|m| m == owner) {
        return Ok(());
    }
    touch_tree(worktree, std::time::SystemTime::now())?;
    std::fs::create_dir_all(target_dir)?;
    crate::fsutil::write_atomic(&marker, owner.as_bytes())
}

/// Sets the modification time of every file under `dir` (`.git` excluded) to `now`.
fn touch_tree(dir: &Path, now: std::time::SystemTime) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if entry.file_name() == ".git" {
            continue;
        }
        if kind.is_dir() {
            touch_tree(&entry.path(), now)?;
        } else if kind.is_file() {
            std::fs::File::options().write(true).open(entry.path())?.set_modified(now)?;
        }
    }
    Ok(())
}

/// The file in the repository's git directory listing the temporary branches benchgate created and has
/// not yet deleted: only those are ever deleted, never a user's branch that happens to share the prefix.
fn temp_branch_record(repo: &Repository) -> PathBuf {
    repo.commondir().join("benchgate-temp-branches")
}

/// Adds `name` to (or, with `add` false, removes it from) the record of temporary branches.
fn record_temp_branch(repo: &Repository, name: &str, add: bool) -> Result<(), RevisionError> {
    let path = temp_branch_record(repo);
    let mut names: Vec<String> =
        std::fs::read_to_string(&path).unwrap_or_default().lines().map(str::to_owned).filter(|l| l != name).collect();
    if add {
        names.push(name.to_owned());
    }
    let text: String = names.iter().map(|n| format!("{n}\n")).collect();
    crate::fsutil::write_atomic(&path, text.as_bytes()).map_err(|e| RevisionError::Git {
        context: format!("record the temporary branch in {}", path.display()),
        source: git2::Error::from_str(&e.to_string()),
    })
}

/// Deletes the temporary branches an earlier, interrupted run recorded and left behind.
fn remove_temp_branches(repo: &Repository) -> Result<(), RevisionError> {
    let recorded = std::fs::read_to_string(temp_branch_record(repo)).unwrap_or_default();
    for name in recorded.lines().filter(|n| n.starts_with(TEMP_BRANCH_PREFIX)) {
        match repo.find_branch(name, BranchType::Local) {
            // A branch still checked out by a half-made worktree cannot be deleted; pruning comes first.
            Ok(mut branch) if !branch.is_head() => {
                if branch.delete().is_ok() {
                    record_temp_branch(repo, name, false)?;
                }
            }
            Ok(_) => {}
            Err(_) => record_temp_branch(repo, name, false)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn sh(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git").args(args).current_dir(dir).output().unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    #[test]
    fn a_target_directory_claimed_by_another_worktree_makes_this_ones_sources_newer() {
        let d = tempfile::tempdir().unwrap();
        let (a, b, target) = (d.path().join("a"), d.path().join("b"), d.path().join("target"));
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
        for w in [&a, &b] {
            std::fs::create_dir_all(w.join("src")).unwrap();
            std::fs::write(w.join(".git"), "gitdir: elsewhere").unwrap();
            for f in [w.join("Cargo.toml"), w.join("src/lib.rs")] {
                std::fs::write(&f, "").unwrap();
            }
        }
        let mtime = |f: &Path| std::fs::metadata(f).unwrap().modified().unwrap();
        let age = |w: &Path| {
            for f in ["Cargo.toml", "src/lib.rs", ".git"] {
                std::fs::File::options().write(true).open(w.join(f)).unwrap().set_modified(old).unwrap();
            }
        };
        age(&a);
        claim_target_dir(&target, &a).unwrap();
        assert!(mtime(&a.join("src/lib.rs")) > old && mtime(&a.join("Cargo.toml")) > old);
        assert_eq!(mtime(&a.join(".git")), old, ".git is left alone");
        // Claimed again by the same worktree: nothing to do, cargo's own checks hold.
        age(&a);
        claim_target_dir(&target, &a).unwrap();
        assert_eq!(mtime(&a.join("src/lib.rs")), old);
        // Another worktree builds there, then this one again: touched.
        claim_target_dir(&target, &b).unwrap();
        claim_target_dir(&target, &a).unwrap();
        assert!(mtime(&a.join("src/lib.rs")) > old);
    }

    #[test]
    fn the_state_lock_is_exclusive_until_dropped() {
        let d = tempfile::tempdir().unwrap();
        let state = d.path().join("benchgate");
        let held = lock_state(&state, &mut |m| panic!("nothing to wait for: {m}")).unwrap();
        let other = std::fs::OpenOptions::new().write(true).open(state.join("revisions.lock")).unwrap();
        assert!(matches!(other.try_lock(), Err(std::fs::TryLockError::WouldBlock)));
        // A second benchgate says within a second what it waits for and who holds it, waits, and goes on
        // once the first is done.
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter =
            std::thread::spawn(move || lock_state(&state, &mut |m| tx.send(m.to_owned()).unwrap()).map(|_| ()));
        let said = rx.recv_timeout(std::time::Duration::from_secs(1)).expect("a message within a second");
        assert!(said.contains("revisions.lock") && said.contains(&format!("pid {}", std::process::id())), "{said}");
        assert!(!waiter.is_finished());
        drop(held);
        waiter.join().unwrap().unwrap();
    }

    fn repo() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        sh(p, &["init", "-q", "-b", "main"]);
        sh(p, &["config", "user.email", "t@example.com"]);
        sh(p, &["config", "user.name", "t"]);
        std::fs::write(p.join("a.txt"), "one\n").unwrap();
        sh(p, &["add", "."]);
        sh(p, &["commit", "-qm", "one"]);
        sh(p, &["checkout", "-qb", "feature"]);
        std::fs::write(p.join("a.txt"), "two\n").unwrap();
        sh(p, &["commit", "-qam", "two"]);
        sh(p, &["checkout", "-q", "main"]);
        std::fs::write(p.join("b.txt"), "main moved on\n").unwrap();
        sh(p, &["add", "."]);
        sh(p, &["commit", "-qm", "three"]);
        sh(p, &["checkout", "-q", "feature"]);
        d
    }

    #[test]
    fn merge_base_by_default_rev_itself_on_request_and_clear_errors() {
        let d = repo();
        let p = d.path();
        let first = sh(p, &["rev-parse", "main~1"]);
        let b = resolve(p, "main", false).unwrap();
        assert_eq!((b.commit.as_str(), b.summary.as_str()), (first.as_str(), "one"));
        let direct = resolve(p, "main", true).unwrap();
        assert_eq!(direct.commit, sh(p, &["rev-parse", "main"]));
        assert!(!b.head_dirty);
        std::fs::write(p.join("a.txt"), "dirty\n").unwrap();
        assert!(resolve(p, "main", false).unwrap().head_dirty);
        let e = resolve(p, "no-such-branch", false).unwrap_err().to_string();
        assert!(e.contains("unknown revision `no-such-branch`"), "{e}");
    }

    /// A user's branch that shares the temporary branches' prefix is neither overwritten nor deleted;
    /// a temporary branch an interrupted run recorded is.
    #[test]
    fn only_branches_benchgate_created_are_deleted() {
        let d = repo();
        let p = d.path();
        let own = format!("{TEMP_BRANCH_PREFIX}{}-0", std::process::id());
        sh(p, &["branch", &own, "main~1"]);
        sh(p, &["branch", "benchgate-tmp-users-work", "main~1"]);
        let users = sh(p, &["rev-parse", &own]);
        let leftover = format!("{TEMP_BRANCH_PREFIX}999999-0");
        sh(p, &["branch", &leftover, "main"]);
        std::fs::write(temp_branch_record(&open(p).unwrap()), format!("{leftover}\n")).unwrap();
        let wt = p.join("target/benchgate/worktrees/base");
        prepare_worktree(p, BASE_WORKTREE, &wt, &sh(p, &["rev-parse", "main"])).unwrap();
        let branches = sh(p, &["branch", "--list"]);
        assert!(branches.contains("benchgate-tmp-users-work") && branches.contains(&own), "{branches}");
        assert_eq!(sh(p, &["rev-parse", &own]), users, "not overwritten");
        assert!(!branches.contains(&leftover), "{branches}");
    }

    #[test]
    fn the_worktree_is_reused_moved_repaired_and_leaves_no_branch() {
        let d = repo();
        let p = d.path();
        let wt = p.join("target/benchgate/worktrees/base");
        let one = sh(p, &["rev-parse", "main~1"]);
        prepare_worktree(p, BASE_WORKTREE, &wt, &one).unwrap();
        assert_eq!(std::fs::read_to_string(wt.join("a.txt")).unwrap(), "one\n");
        let branches = sh(p, &["branch", "--list"]);
        assert!(!branches.contains(TEMP_BRANCH_PREFIX), "{branches}");
        assert_eq!(std::fs::read_to_string(temp_branch_record(&open(p).unwrap())).unwrap(), "");
        // Reused and moved to another commit.
        let three = sh(p, &["rev-parse", "main"]);
        prepare_worktree(p, BASE_WORKTREE, &wt, &three).unwrap();
        assert!(wt.join("b.txt").exists());
        assert_eq!(sh(&wt, &["rev-parse", "HEAD"]), three);
        // Its directory deleted (e.g. by `cargo clean`): repaired.
        std::fs::remove_dir_all(p.join("target")).unwrap();
        prepare_worktree(p, BASE_WORKTREE, &wt, &one).unwrap();
        assert_eq!(sh(&wt, &["rev-parse", "HEAD"]), one);
        assert_eq!(sh(p, &["worktree", "list"]).lines().count(), 2);
        assert_eq!(sh(p, &["rev-parse", "--abbrev-ref", "HEAD"]), "feature", "the user's checkout is untouched");
    }

    #[test]
    fn a_worktree_path_shared_by_two_repositories_is_always_the_callers() {
        // One target directory for several projects (a global CARGO_TARGET_DIR): each replaces the
        // other's worktree at the same path, and each gets its own commit checked out.
        let (a, b, shared) = (repo(), repo(), tempfile::tempdir().unwrap());
        // Each head commit exists in its own repository only (repo() makes identical commits when both
        // are made within one second, which once hid that the other repository's worktree was used).
        for (r, text) in [(&a, "a's own\n"), (&b, "b's own\n")] {
            std::fs::write(r.path().join("a.txt"), text).unwrap();
            sh(r.path(), &["commit", "-qam", text.trim()]);
        }
        let wt = shared.path().join("worktrees/base");
        for _ in 0..2 {
            for r in [&a, &b] {
                let commit = sh(r.path(), &["rev-parse", "HEAD"]);
                let want = std::fs::read_to_string(r.path().join("a.txt")).unwrap();
                prepare_worktree(r.path(), BASE_WORKTREE, &wt, &commit).unwrap();
                assert_eq!(std::fs::read_to_string(wt.join("a.txt")).unwrap(), want);
            }
        }
    }

    #[test]
    fn a_worktree_is_reused_when_benchgate_runs_in_a_linked_worktree() {
        // The user's checkout may itself be a linked worktree: the base worktree belongs to the common
        // repository, and is reused (its administrative directory survives), not pruned on every run.
        let d = repo();
        let mine = d.path().join("mine");
        sh(d.path(), &["worktree", "add", "-q", "--detach", mine.to_str().unwrap(), "main"]);
        let wt = mine.join("target/benchgate/worktrees/base");
        let one = sh(d.path(), &["rev-parse", "main~1"]);
        prepare_worktree(&mine, BASE_WORKTREE, &wt, &one).unwrap();
        let marker = d.path().join(".git/worktrees").join(BASE_WORKTREE).join("kept");
        std::fs::write(&marker, "").unwrap();
        let three = sh(d.path(), &["rev-parse", "main"]);
        prepare_worktree(&mine, BASE_WORKTREE, &wt, &three).unwrap();
        assert_eq!(sh(&wt, &["rev-parse", "HEAD"]), three);
        assert!(marker.exists(), "the worktree was re-created instead of reused");
    }

    #[test]
    fn a_shallow_clone_without_the_merge_base_says_so() {
        let d = repo();
        let c = tempfile::tempdir().unwrap();
        let url = format!("file://{}", d.path().display());
        let clone = c.path().join("clone");
        let out = Command::new("git")
            .args(["clone", "-q", "--depth", "1", "--no-single-branch", &url])
            .arg(&clone)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let e = resolve(&clone, "origin/main", false).unwrap_err().to_string();
        assert!(e.contains("shallow clone") && e.contains("fetch-depth: 0"), "{e}");
        assert!(resolve(&clone, "origin/main", true).is_ok(), "--no-merge-base still works");
    }
}
