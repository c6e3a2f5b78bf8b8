//! Results history kept in git, without a server: the branch [`HISTORY_REF`] holds one results file per
//! run at `<runner-class>/<commit-sha>/<key>.json`, where `<commit-sha>` is the commit the run measured
//! (`meta.git.commit`) and `<key>` the FNV-1a 64 hash (hex) of the results' canonical JSON (serde_json's
//! compact serialization), so that the path names the content. The files themselves are written like
//! baselines (pretty JSON with number arrays on one line).
//!
//! Every change is a commit built with git2 tree builders on top of the branch tip, never touching the
//! work tree, the index or HEAD, and the ref moves by compare-and-swap (retried when another process
//! moved it first). An append adds exactly one path, and appending the same results again is a no-op,
//! so two histories always merge without conflict: [`merge`] is git's three-way merge of the trees
//! (from an empty tree when the two histories share no commit); the same path with different content
//! cannot arise from appends and is reported as an error. Network access goes through the `git` command
//! line ([`pull`], [`push`]), because git2 is built without its https/ssh transports.

use std::path::Path;
use std::process::Command;

use git2::{Commit, ErrorCode, FileMode, ObjectType, Oid, Repository, Signature, Tree, TreeWalkMode, TreeWalkResult};

use crate::model::{LoadErrorKind, Results};

/// The history branch's name.
pub const HISTORY_BRANCH: &str = "benchgate-history";
/// The history branch's full reference name.
pub const HISTORY_REF: &str = "refs/heads/benchgate-history";
/// Where [`pull`] fetches the remote's history branch before merging it.
pub const FETCHED_REF: &str = "refs/benchgate/fetched-history";
/// Attempts at moving the branch by compare-and-swap before giving up.
const CAS_ATTEMPTS: u32 = 200;
/// Attempts at pushing (each after a fresh fetch and merge) before giving up.
const PUSH_ATTEMPTS: u32 = 5;

/// Why a history operation failed.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The results cannot go into the history (no commit, a dirty tree, a partial run, ...).
    #[error("{0}")]
    Refused(String),
    /// The same path holds different results: impossible by construction, so the history is damaged.
    #[error("{path} is in the history with different content (the path is the content's hash: the history is damaged)")]
    Conflict { path: String },
    /// A file in the history is not a valid results file.
    #[error("{HISTORY_BRANCH}:{path}: {kind}")]
    Corrupt { path: String, kind: LoadErrorKind },
    /// A git2 call failed.
    #[error("git: {context}: {source}")]
    Git { context: String, source: git2::Error },
    /// A `git` command failed.
    #[error("`git {args}` failed: {stderr}")]
    Command { args: String, stderr: String },
    /// Other processes kept moving the branch.
    #[error("the {HISTORY_BRANCH} branch kept moving: gave up after {0} attempts")]
    Contended(u32),
}

fn git(context: impl Into<String>) -> impl FnOnce(git2::Error) -> HistoryError {
    let context = context.into();
    move |source| HistoryError::Git { context, source }
}

/// What [`append`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Appended {
    /// A new commit on the history branch added the file at `path`.
    Added { path: String, commit: String },
    /// The same results were already in the history at `path`: nothing changed.
    AlreadyPresent { path: String },
}

/// What [`merge`] (and so [`pull`]) did to the local history branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Merged {
    /// The remote had no history branch.
    RemoteHasNone,
    /// The local branch already held everything.
    UpToDate,
    /// The local branch moved to the remote's tip (it had nothing the remote lacked).
    FastForward,
    /// A merge commit joined both.
    Merged,
}

/// What [`push`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushed {
    /// The remote already had the local history: nothing was pushed.
    UpToDate,
    /// The local history was pushed, after the remote's had been merged into it as said.
    Pushed(Merged),
}

/// One results file in the history, located by its path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    /// The runner class (first path component).
    pub class: String,
    /// The commit measured (second path component).
    pub commit: String,
    /// The content hash (file name without `.json`).
    pub key: String,
}

impl Location {
    /// The path inside the history tree.
    pub fn path(&self) -> String {
        format!("{}/{}/{}.json", self.class, self.commit, self.key)
    }

    /// Reads a path of the history tree, which comes from whatever a remote pushed: each component must
    /// be what [`location`] writes (a runner class name, a full hex commit id, a hex key), so that no
    /// entry can name a file outside the directory it is exported to.
    fn parse(path: &str) -> Option<Location> {
        let mut parts = path.split('/');
        let (class, commit, file) = (parts.next()?, parts.next()?, parts.next()?);
        let key = file.strip_suffix(".json")?;
        let valid =
            crate::baseline::check_class(class).is_ok() && full_commit_id(commit) && key.len() == 16 && lower_hex(key);
        (valid && parts.next().is_none()).then(|| Location {
            class: class.into(),
            commit: commit.into(),
            key: key.into(),
        })
    }
}

/// Lowercase hexadecimal digits only (and at least one).
fn lower_hex(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
}

/// A full commit id as git writes it: 40 (SHA-1) or 64 (SHA-256) lowercase hex digits.
fn full_commit_id(s: &str) -> bool {
    matches!(s.len(), 40 | 64) && lower_hex(s)
}

/// The key of `results`: FNV-1a 64 of the canonical (compact serde_json) serialization, in hex.
pub fn key(results: &Results) -> String {
    let canonical = serde_json::to_string(results).expect("results serialize");
    format!("{:016x}", crate::meta::fnv1a64(canonical.as_bytes()))
}

/// Where `results` go in the history of `class`, and the file's content; refuses what is not a complete,
/// clean run of a commit.
pub fn location(class: &str, results: &Results) -> Result<(Location, String), HistoryError> {
    crate::baseline::check_class(class).map_err(HistoryError::Refused)?;
    results.validate().map_err(|kind| HistoryError::Refused(format!("invalid results: {kind}")))?;
    let git = results.meta.git.as_ref().ok_or_else(|| {
        HistoryError::Refused("the results name no git commit (meta.git); history is by commit".into())
    })?;
    if !full_commit_id(&git.commit) {
        return Err(HistoryError::Refused(format!("`{}` is not a full commit id", git.commit)));
    }
    if git.dirty {
        return Err(HistoryError::Refused(format!(
            "the results were measured with uncommitted changes on top of {}: they are not that commit's",
            git.commit
        )));
    }
    if results.meta.partial {
        return Err(HistoryError::Refused("the run did not finish (partial)".into()));
    }
    let failed: Vec<&str> = results.benchmarks.iter().filter(|b| b.failed()).map(|b| b.id.as_str()).collect();
    if !failed.is_empty() {
        return Err(HistoryError::Refused(format!(
            "{} benchmark(s) failed ({}): the history keeps complete runs, as a baseline does",
            failed.len(),
            failed.join(", ")
        )));
    }
    let content = crate::baseline::compact_arrays(&results.to_json());
    Ok((Location { class: class.to_owned(), commit: git.commit.clone(), key: key(results) }, content))
}

/// Refuses results whose commit is not in `repo`: the history orders runs by the repository's commits,
/// so a run of a commit it does not have could never be placed (a typo, or a file from another project).
pub fn check_commit(repo: &Repository, results: &Results) -> Result<(), HistoryError> {
    let Some(git) = results.meta.git.as_ref() else { return Ok(()) };
    let known = Oid::from_str(&git.commit).ok().and_then(|oid| repo.find_commit(oid).ok()).is_some();
    if known {
        Ok(())
    } else {
        Err(HistoryError::Refused(format!(
            "commit {} is not in this repository: append runs in a clone that has the commit they measured \
             (fetch it first)",
            git.commit
        )))
    }
}

/// The tip of the local history branch, if it exists.
pub fn tip(repo: &Repository) -> Result<Option<Commit<'_>>, HistoryError> {
    match repo.find_reference(HISTORY_REF) {
        Ok(r) => r.peel_to_commit().map(Some).map_err(git("read the history branch")),
        Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
        Err(e) => Err(git("read the history branch")(e)),
    }
}

fn signature(repo: &Repository) -> Result<Signature<'static>, HistoryError> {
    repo.signature()
        .or_else(|_| Signature::now("benchgate", "benchgate@localhost"))
        .map_err(git("make a commit signature"))
}

/// Whether a failed reference update lost a race (and the operation should be redone on the new tip).
fn lost_race(e: &git2::Error) -> bool {
    matches!(e.code(), ErrorCode::Modified | ErrorCode::Exists | ErrorCode::Locked)
}

fn backoff(attempt: u32) {
    // Short, growing, and different per thread and process so that contenders drift apart.
    let jitter = (std::process::id() as u64 ^ thread_id_bits()) % 3;
    std::thread::sleep(std::time::Duration::from_millis(u64::from(attempt.min(6)) + jitter));
}

fn thread_id_bits() -> u64 {
    let s = format!("{:?}", std::thread::current().id());
    crate::meta::fnv1a64(s.as_bytes())
}

/// Moves the history branch from `old` (absent: create it) to `new`, failing with a lost race when it no
/// longer points to `old`.
fn swap(repo: &Repository, old: Option<Oid>, new: Oid, message: &str) -> Result<(), git2::Error> {
    // No branch yet is the zero id: libgit2 then checks, under the ref's lock, that it still does not
    // exist. (`reference` with `force = false` checks before taking the lock, so two first appends
    // could both pass and the second overwrite the first: the concurrency test lost an append so.)
    repo.reference_matching(HISTORY_REF, new, true, old.unwrap_or(Oid::ZERO_SHA1), message).map(drop)
}

/// The tree `base` (absent: empty) with the blob `blob` at `parts` (a path split at `/`).
fn insert_blob(repo: &Repository, base: Option<&Tree<'_>>, parts: &[&str], blob: Oid) -> Result<Oid, git2::Error> {
    let (first, rest) = parts.split_first().expect("a non-empty path");
    let mut builder = repo.treebuilder(base)?;
    if rest.is_empty() {
        builder.insert(first, blob, FileMode::Blob.into())?;
    } else {
        let sub = match base.and_then(|t| t.get_name(first)) {
            Some(e) if e.kind() == Some(ObjectType::Tree) => Some(repo.find_tree(e.id())?),
            _ => None,
        };
        let sub = insert_blob(repo, sub.as_ref(), rest, blob)?;
        builder.insert(first, sub, FileMode::Tree.into())?;
    }
    builder.write()
}

/// Adds `results` to the history of runner class `class`: one new commit on the history branch adding
/// one file, the branch moved by compare-and-swap and the whole step redone on the new tip when another
/// process moved it first. The same results twice give [`Appended::AlreadyPresent`].
pub fn append(repo: &Repository, class: &str, results: &Results) -> Result<Appended, HistoryError> {
    let (loc, content) = location(class, results)?;
    let path = loc.path();
    let blob = repo.blob(content.as_bytes()).map_err(git("write the results blob"))?;
    let parts: Vec<&str> = path.split('/').collect();
    let message = format!("benchgate history: {class} {} {}", &loc.commit[..12], loc.key);
    for attempt in 0..CAS_ATTEMPTS {
        let tip = tip(repo)?;
        let base = tip.as_ref().map(|c| c.tree()).transpose().map_err(git("read the history tree"))?;
        if let Some(existing) = base.as_ref().and_then(|t| t.get_path(Path::new(&path)).ok()) {
            if existing.id() == blob || read_results(repo, &path, existing.id())? == *results {
                return Ok(Appended::AlreadyPresent { path });
            }
            return Err(HistoryError::Conflict { path });
        }
        let tree = insert_blob(repo, base.as_ref(), &parts, blob).map_err(git("build the history tree"))?;
        let tree = repo.find_tree(tree).map_err(git("read the new history tree"))?;
        let sig = signature(repo)?;
        let parents: Vec<&Commit<'_>> = tip.iter().collect();
        let commit =
            repo.commit(None, &sig, &sig, &message, &tree, &parents).map_err(git("write the history commit"))?;
        match swap(repo, tip.as_ref().map(Commit::id), commit, &message) {
            Ok(()) => return Ok(Appended::Added { path, commit: commit.to_string() }),
            Err(e) if lost_race(&e) => backoff(attempt),
            Err(e) => return Err(git("move the history branch")(e)),
        }
    }
    Err(HistoryError::Contended(CAS_ATTEMPTS))
}

fn read_results(repo: &Repository, path: &str, blob: Oid) -> Result<Results, HistoryError> {
    let blob = repo.find_blob(blob).map_err(git(format!("read {path}")))?;
    let text = std::str::from_utf8(blob.content()).map_err(|e| HistoryError::Corrupt {
        path: path.to_owned(),
        kind: LoadErrorKind::Io(std::io::Error::other(e)),
    })?;
    Results::parse(text).map_err(|kind| HistoryError::Corrupt { path: path.to_owned(), kind })
}

/// Every results file in the history (all classes), by path, with its blob.
fn blobs(repo: &Repository) -> Result<Vec<(Location, Oid)>, HistoryError> {
    let Some(tip) = tip(repo)? else { return Ok(Vec::new()) };
    let tree = tip.tree().map_err(git("read the history tree"))?;
    let mut out = Vec::new();
    tree.walk(TreeWalkMode::PreOrder, |dir, entry| {
        if entry.kind() == Some(ObjectType::Blob)
            && let Some(loc) = entry.name().ok().and_then(|n| Location::parse(&format!("{dir}{n}")))
        {
            out.push((loc, entry.id()));
        }
        TreeWalkResult::Ok
    })
    .map_err(git("walk the history tree"))?;
    out.sort();
    Ok(out)
}

/// Where every results file in the history is, all classes, sorted by class, commit and key.
pub fn locations(repo: &Repository) -> Result<Vec<Location>, HistoryError> {
    Ok(blobs(repo)?.into_iter().map(|(l, _)| l).collect())
}

/// Every run in the history of runner class `class`, as (commit measured, results), sorted by commit
/// and key; empty when there is no history branch.
pub fn load(repo: &Repository, class: &str) -> Result<Vec<(String, Results)>, HistoryError> {
    let mut out = Vec::new();
    for (loc, blob) in blobs(repo)?.into_iter().filter(|(l, _)| l.class == class) {
        let results = read_results(repo, &loc.path(), blob)?;
        out.push((loc.commit, results));
    }
    Ok(out)
}

/// Writes every results file of the history to `dir/<class>/<commit>/<key>.json` (atomically), and
/// returns how many.
pub fn export(repo: &Repository, dir: &Path) -> Result<usize, HistoryError> {
    let files = blobs(repo)?;
    for (loc, oid) in &files {
        let blob = repo.find_blob(*oid).map_err(git(format!("read {}", loc.path())))?;
        let path = dir.join(&loc.class).join(&loc.commit).join(format!("{}.json", loc.key));
        crate::fsutil::write_atomic(&path, blob.content()).map_err(|e| HistoryError::Command {
            args: "export".into(),
            stderr: format!("cannot write {}: {e}", path.display()),
        })?;
    }
    Ok(files.len())
}

/// Joins the history commit `theirs` into the local history branch: nothing when the local branch has
/// it, a fast-forward when the local branch is behind it, else a merge commit of git's three-way merge
/// of the trees (from the empty tree when the histories share no commit). Moves the branch by
/// compare-and-swap, redoing the merge when the local branch moved meanwhile.
pub fn merge(repo: &Repository, theirs: Oid, label: &str) -> Result<Merged, HistoryError> {
    let their_commit = repo.find_commit(theirs).map_err(git("read the fetched history"))?;
    let message = format!("benchgate history: merge {label}");
    for attempt in 0..CAS_ATTEMPTS {
        let ours = tip(repo)?;
        let (new, outcome) = match &ours {
            None => (theirs, Merged::FastForward),
            Some(o) if o.id() == theirs => return Ok(Merged::UpToDate),
            Some(o) if repo.graph_descendant_of(o.id(), theirs).map_err(git("compare histories"))? => {
                return Ok(Merged::UpToDate);
            }
            Some(o) if repo.graph_descendant_of(theirs, o.id()).map_err(git("compare histories"))? => {
                (theirs, Merged::FastForward)
            }
            Some(o) => {
                let ancestor = match repo.merge_base(o.id(), theirs) {
                    Ok(base) => repo.find_commit(base).and_then(|c| c.tree()),
                    Err(e) if e.code() == ErrorCode::NotFound => {
                        repo.treebuilder(None).and_then(|b| b.write()).and_then(|t| repo.find_tree(t))
                    }
                    Err(e) => Err(e),
                }
                .map_err(git("find the common history"))?;
                let our_tree = o.tree().map_err(git("read the local history tree"))?;
                let their_tree = their_commit.tree().map_err(git("read the fetched history tree"))?;
                let mut index = repo
                    .merge_trees(&ancestor, &our_tree, &their_tree, None)
                    .map_err(git("merge the history trees"))?;
                if index.has_conflicts() {
                    let conflicts = index.conflicts().map_err(git("list merge conflicts"))?;
                    let path = conflicts
                        .flatten()
                        .find_map(|c| c.our.or(c.their))
                        .map(|e| String::from_utf8_lossy(&e.path).into_owned())
                        .unwrap_or_default();
                    return Err(HistoryError::Conflict { path });
                }
                let tree = index.write_tree_to(repo).map_err(git("write the merged tree"))?;
                let tree = repo.find_tree(tree).map_err(git("read the merged tree"))?;
                let sig = signature(repo)?;
                let commit = repo
                    .commit(None, &sig, &sig, &message, &tree, &[o, &their_commit])
                    .map_err(git("write the merge commit"))?;
                (commit, Merged::Merged)
            }
        };
        match swap(repo, ours.as_ref().map(Commit::id), new, &message) {
            Ok(()) => return Ok(outcome),
            Err(e) if lost_race(&e) => backoff(attempt),
            Err(e) => return Err(git("move the history branch")(e)),
        }
    }
    Err(HistoryError::Contended(CAS_ATTEMPTS))
}

/// A remote given on the command line is data for `git fetch` and `git push`: a name or a URL, never an
/// option (`--upload-pack=...` would run a command), never empty, no control characters.
pub fn check_remote(remote: &str) -> Result<(), HistoryError> {
    if remote.is_empty() || remote.starts_with('-') || remote.chars().any(char::is_control) {
        return Err(HistoryError::Refused(format!(
            "`{}` is not a git remote (a name like origin, or a URL; it may not start with `-`)",
            remote.escape_debug()
        )));
    }
    Ok(())
}

/// Runs `git` on the repository (with messages in English, so that they can be recognised, and no
/// credential prompt). Transports that run commands (`ext::`) are off whatever the user's git config.
fn git_cli(repo: &Repository, args: &[&str]) -> Result<Result<(), String>, HistoryError> {
    let out = Command::new("git")
        .args(["-c", "protocol.ext.allow=never"])
        .arg("--git-dir")
        .arg(repo.path())
        .args(args)
        // Where `git` itself would run, so that a remote given as a relative path means the same.
        .current_dir(repo.workdir().unwrap_or(repo.path()))
        .env("LC_ALL", "C")
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .map_err(|e| HistoryError::Command { args: args.join(" "), stderr: format!("cannot run git: {e}") })?;
    Ok(if out.status.success() { Ok(()) } else { Err(String::from_utf8_lossy(&out.stderr).trim().to_owned()) })
}

/// Fetches `remote`'s history branch (`git fetch`) and merges it into the local one ([`merge`]).
pub fn pull(repo: &Repository, remote: &str) -> Result<Merged, HistoryError> {
    check_remote(remote)?;
    let refspec = format!("+{HISTORY_REF}:{FETCHED_REF}");
    let args = ["fetch", "--no-tags", "--quiet", "--", remote, refspec.as_str()];
    if let Err(stderr) = git_cli(repo, &args)? {
        if stderr.contains("couldn't find remote ref") {
            return Ok(Merged::RemoteHasNone);
        }
        return Err(HistoryError::Command { args: args.join(" "), stderr });
    }
    let theirs = repo.refname_to_id(FETCHED_REF).map_err(git("read the fetched history"))?;
    merge(repo, theirs, remote)
}

/// Publishes the local history to `remote`: fetch and merge ([`pull`]), then `git push` (never forced),
/// all again when the push is rejected because the remote moved meanwhile.
pub fn push(repo: &Repository, remote: &str) -> Result<Pushed, HistoryError> {
    check_remote(remote)?;
    let refspec = format!("{HISTORY_REF}:{HISTORY_REF}");
    let args = ["push", "--quiet", "--", remote, refspec.as_str()];
    for attempt in 0..PUSH_ATTEMPTS {
        let merged = pull(repo, remote)?;
        let Some(local) = tip(repo)? else {
            return Err(HistoryError::Refused(format!("there is no local {HISTORY_BRANCH} branch to push")));
        };
        if merged != Merged::RemoteHasNone && repo.refname_to_id(FETCHED_REF).ok() == Some(local.id()) {
            return Ok(Pushed::UpToDate);
        }
        match git_cli(repo, &args)? {
            Ok(()) => return Ok(Pushed::Pushed(merged)),
            Err(stderr)
                if ["rejected", "fetch first", "non-fast-forward", "stale info"].iter().any(|s| stderr.contains(s)) =>
            {
                backoff(attempt);
            }
            Err(stderr) => return Err(HistoryError::Command { args: args.join(" "), stderr }),
        }
    }
    Err(HistoryError::Contended(PUSH_ATTEMPTS))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::*;
    use std::collections::BTreeMap;

    /// A complete, clean results file of `commit` with one benchmark per (id, ns/op, instructions/op).
    pub(crate) fn results(commit: &str, started_at: &str, benches: &[(&str, f64, f64)]) -> Results {
        let mut benchmarks: Vec<BenchResult> = benches
            .iter()
            .map(|&(id, ns, ir)| {
                let (suite, name) = id.split_once('/').unwrap();
                BenchResult {
                    id: id.into(),
                    suite: suite.into(),
                    name: name.into(),
                    param: None,
                    throughput: None,
                    metrics: Metrics {
                        ns_per_op: Some(WallEstimate {
                            median: ns,
                            mean: ns,
                            slope: ns,
                            std_dev: 0.0,
                            ci95: [ns, ns],
                            samples: vec![ns],
                            sample_iters: vec![1],
                            warmup_iters: 1,
                            rounds: Vec::new(),
                            confirm_from: None,
                        }),
                        instructions_per_op: Some(ir),
                        allocs_per_op: Some(2.0),
                        bytes_per_op: Some(64.0),
                        ..Metrics::default()
                    },
                    failures: BTreeMap::new(),
                    skipped: BTreeMap::new(),
                }
            })
            .collect();
        benchmarks.sort_by(|a, b| a.id.cmp(&b.id));
        Results {
            schema_version: SCHEMA_VERSION,
            meta: Meta {
                benchgate_version: "0.1.0".into(),
                started_at: started_at.into(),
                finished_at: Some(started_at.into()),
                partial: false,
                mode: RunMode::Full,
                lanes: vec![Lane::Wall, Lane::Alloc, Lane::Instr],
                git: Some(GitInfo { commit: commit.into(), dirty: false, branch: Some("main".into()) }),
                toolchain: Toolchain {
                    rustc_verbose: String::new(),
                    rustc_release: "1.95.0".into(),
                    target: "x86_64-unknown-linux-gnu".into(),
                },
                machine: Machine {
                    cpu_model: "cpu".into(),
                    cores: 2,
                    memory_bytes: 1 << 30,
                    os: "linux".into(),
                    kernel: "6".into(),
                    arch: "x86_64".into(),
                    fingerprint: "0".into(),
                },
                pairing: None,
                screen_p: None,
                libraries: BTreeMap::new(),
            },
            benchmarks,
        }
    }

    /// A fake commit id (history paths only need a well-formed one).
    pub(crate) fn sha(i: usize) -> String {
        format!("{:040x}", 0xabc0_0000u64 + i as u64)
    }

    fn run(i: usize) -> Results {
        results(&sha(i % 7), &format!("2026-01-01T00:00:{:02}Z", i % 60), &[("s/a", 100.0 + i as f64, 1000.0)])
    }

    fn history_commits(repo: &Repository) -> usize {
        let mut walk = repo.revwalk().unwrap();
        walk.push_ref(HISTORY_REF).unwrap();
        walk.count()
    }

    fn sh(dir: &Path, args: &[&str]) {
        let out = Command::new("git").args(args).current_dir(dir).output().unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    #[test]
    fn the_same_results_twice_are_kept_once_and_nothing_else_is_touched() {
        let d = tempfile::tempdir().unwrap();
        let repo = Repository::init(d.path()).unwrap();
        let r = run(1);
        let Appended::Added { path, .. } = append(&repo, "ci", &r).unwrap() else { panic!("not added") };
        assert_eq!(path, format!("ci/{}/{}.json", sha(1), key(&r)));
        assert_eq!(append(&repo, "ci", &r).unwrap(), Appended::AlreadyPresent { path: path.clone() });
        assert!(matches!(append(&repo, "other", &r).unwrap(), Appended::Added { .. }), "per class");
        assert_eq!(history_commits(&repo), 2);
        let loaded = load(&repo, "ci").unwrap();
        assert_eq!(loaded, vec![(sha(1), r.clone())]);
        // The branch only: HEAD, the index and the work tree are as `git init` left them.
        assert!(repo.head().is_err(), "HEAD still unborn");
        assert!(repo.index().unwrap().is_empty());
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1, "only .git");
        // Dirty or commit-less results are refused.
        let mut dirty = r.clone();
        dirty.meta.git.as_mut().unwrap().dirty = true;
        assert!(matches!(append(&repo, "ci", &dirty), Err(HistoryError::Refused(_))));
        let mut none = r.clone();
        none.meta.git = None;
        assert!(matches!(append(&repo, "ci", &none), Err(HistoryError::Refused(_))));
        // So are runs with a failed benchmark, and (for the CLI) commits the repository does not have.
        let mut failed = r.clone();
        failed.benchmarks[0].failures.insert(
            crate::model::Lane::Wall,
            crate::model::Failure { kind: crate::model::FailureKind::Panic, message: "boom".into() },
        );
        let e = append(&repo, "ci", &failed).unwrap_err().to_string();
        assert!(e.contains("1 benchmark(s) failed (s/a)"), "{e}");
        let e = check_commit(&repo, &r).unwrap_err().to_string();
        assert!(e.contains(&format!("commit {} is not in this repository", sha(1))), "{e}");
        assert_eq!(history_commits(&repo), 2, "nothing refused was added");
    }

    #[test]
    fn concurrent_appends_lose_nothing() {
        let d = tempfile::tempdir().unwrap();
        Repository::init(d.path()).unwrap();
        let per_thread = 12;
        let barrier = std::sync::Barrier::new(2);
        std::thread::scope(|s| {
            for t in 0..2 {
                let (dir, barrier) = (d.path(), &barrier);
                s.spawn(move || {
                    let repo = Repository::open(dir).unwrap();
                    barrier.wait();
                    for i in 0..per_thread {
                        let added = append(&repo, "ci", &run(t * 100 + i)).unwrap();
                        assert!(matches!(added, Appended::Added { .. }));
                    }
                });
            }
        });
        let repo = Repository::open(d.path()).unwrap();
        let loaded = load(&repo, "ci").unwrap();
        assert_eq!(loaded.len(), 2 * per_thread);
        for t in 0..2 {
            for i in 0..per_thread {
                let r = run(t * 100 + i);
                assert!(loaded.iter().any(|(c, l)| *l == r && *c == r.meta.git.as_ref().unwrap().commit));
            }
        }
        assert_eq!(history_commits(&repo), 2 * per_thread, "one commit per append, none lost");
    }

    /// Clones pushing at the same moment: the remote takes one push at a time and rejects the others,
    /// which fetch, merge and push again; every run arrives.
    #[test]
    fn simultaneous_pushes_are_retried_and_lose_nothing() {
        let d = tempfile::tempdir().unwrap();
        let remote = d.path().join("remote.git");
        Repository::init_bare(&remote).unwrap();
        let url = format!("file://{}", remote.display());
        const CLONES: usize = 4;
        let barrier = std::sync::Barrier::new(CLONES);
        std::thread::scope(|scope| {
            for i in 0..CLONES {
                let (barrier, url, dir) = (&barrier, &url, d.path().join(format!("clone{i}")));
                scope.spawn(move || {
                    let repo = Repository::init(&dir).unwrap();
                    sh(&dir, &["remote", "add", "origin", url]);
                    append(&repo, "ci", &run(10 + i)).unwrap();
                    barrier.wait();
                    assert!(matches!(push(&repo, "origin").unwrap(), Pushed::Pushed(_)), "clone {i}");
                });
            }
        });
        let bare = Repository::open_bare(&remote).unwrap();
        let ci: Vec<Results> = load(&bare, "ci").unwrap().into_iter().map(|(_, r)| r).collect();
        assert_eq!(ci.len(), CLONES);
        for i in 0..CLONES {
            assert!(ci.contains(&run(10 + i)), "run {i}");
        }
    }

    #[test]
    fn tree_paths_that_are_not_what_benchgate_writes_are_not_locations() {
        let commit = "a".repeat(40);
        let good = format!("ci/{commit}/0123456789abcdef.json");
        assert!(Location::parse(&good).is_some());
        for bad in [
            format!("../{commit}/0123456789abcdef.json"),
            "ci/../0123456789abcdef.json".to_owned(),
            format!("ci/{commit}/...json"),
            format!("ci/{commit}/..%2f..json"),
            format!("./{commit}/0123456789abcdef.json"),
            format!("ci/{}/0123456789abcdef.json", "A".repeat(40)),
            format!("ci/{commit}/0123456789abcdef.json/x"),
        ] {
            assert!(Location::parse(&bad).is_none(), "{bad}");
        }
    }

    /// A remote is never an option or a command: `--upload-pack=...` and `ext::` remotes run nothing.
    #[test]
    fn remotes_that_would_run_commands_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let repo = Repository::init(d.path().join("r")).unwrap();
        append(&repo, "ci", &run(1)).unwrap();
        let marker = d.path().join("PWNED");
        let m = marker.display();
        for remote in [format!("--upload-pack=touch {m};"), format!("--receive-pack=touch {m};"), String::new()] {
            assert!(matches!(pull(&repo, &remote), Err(HistoryError::Refused(_))), "{remote}");
            assert!(matches!(push(&repo, &remote), Err(HistoryError::Refused(_))), "{remote}");
        }
        let ext = format!("ext::sh -c touch% {m}");
        assert!(pull(&repo, &ext).is_err() && push(&repo, &ext).is_err());
        assert!(!marker.exists(), "a command ran");
    }

    /// A tree object written byte for byte (git2's tree builder refuses `..`, a crafted remote need not):
    /// `(mode, name, id)` entries, sorted by name.
    fn raw_tree(repo: &Repository, entries: &[(&str, &str, Oid)]) -> Oid {
        let mut bytes = Vec::new();
        for (mode, name, id) in entries {
            bytes.extend_from_slice(format!("{mode} {name}\0").as_bytes());
            bytes.extend_from_slice(id.as_bytes());
        }
        repo.odb().unwrap().write(ObjectType::Tree, &bytes).unwrap()
    }

    /// End to end, as `history pull` then `history export` run: a remote whose history tree has `..`
    /// components (in the class and above it) is pulled, and export writes only what benchgate itself
    /// would have written, inside the export directory; nothing appears beside it or above it.
    #[test]
    fn a_crafted_remote_history_writes_nothing_outside_the_export_directory() {
        let d = tempfile::tempdir().unwrap();
        let remote = d.path().join("remote.git");
        let bare = Repository::init_bare(&remote).unwrap();
        let (loc, content) = location("ci", &run(1)).unwrap();
        let blob = bare.blob(content.as_bytes()).unwrap();
        let file = format!("{}.json", loc.key);
        let commit_dir = raw_tree(&bare, &[("100644", &file, blob)]);
        let class_dir = raw_tree(&bare, &[("40000", &loc.commit, commit_dir)]);
        // `../../escape/<commit>/<key>.json` and `../<commit>/<key>.json` beside the real `ci/...`.
        let escape = raw_tree(&bare, &[("40000", "escape", class_dir)]);
        let up = raw_tree(&bare, &[("40000", "..", escape), ("40000", &loc.commit, commit_dir)]);
        let root = raw_tree(&bare, &[("40000", "..", up), ("40000", "ci", class_dir)]);
        let sig = Signature::now("mallory", "mallory@localhost").unwrap();
        bare.commit(Some(HISTORY_REF), &sig, &sig, "crafted", &bare.find_tree(root).unwrap(), &[]).unwrap();

        let local = d.path().join("work/clone");
        let repo = Repository::init(&local).unwrap();
        sh(&local, &["remote", "add", "origin", &format!("file://{}", remote.display())]);
        assert_eq!(pull(&repo, "origin").unwrap(), Merged::FastForward);
        let fetched = repo.find_reference(HISTORY_REF).unwrap().peel_to_tree().unwrap();
        assert!(fetched.get_name("..").is_some(), "the crafted tree reached the clone");
        let out = local.join("out");
        assert_eq!(export(&repo, &out).unwrap(), 1, "only the entry benchgate would write");
        let exported = out.join("ci").join(&loc.commit).join(&file);
        assert_eq!(std::fs::read_to_string(&exported).unwrap(), content);
        let mut seen = Vec::new();
        let mut stack = vec![d.path().to_owned()];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).unwrap() {
                let p = e.unwrap().path();
                if p.ends_with(".git") || p == remote {
                    continue;
                }
                if p.is_dir() { stack.push(p) } else { seen.push(p) }
            }
        }
        assert_eq!(seen, vec![exported], "no file but the exported one outside the repositories");
    }

    #[test]
    fn histories_of_two_clones_merge_through_a_bare_remote() {
        let d = tempfile::tempdir().unwrap();
        let remote = d.path().join("remote.git");
        Repository::init_bare(&remote).unwrap();
        let url = format!("file://{}", remote.display());
        let clone = |name: &str| {
            let p = d.path().join(name);
            let repo = Repository::init(&p).unwrap();
            sh(&p, &["remote", "add", "origin", &url]);
            repo
        };
        let (a, b) = (clone("a"), clone("b"));
        assert_eq!(pull(&a, "origin").unwrap(), Merged::RemoteHasNone);
        // Both append before either pushes: the histories share no commit, and one run is in both.
        for i in [1, 2] {
            append(&a, "ci", &run(i)).unwrap();
        }
        for i in [3, 1] {
            append(&b, "ci", &run(i)).unwrap();
        }
        append(&b, "arm", &run(4)).unwrap();
        assert_eq!(push(&a, "origin").unwrap(), Pushed::Pushed(Merged::RemoteHasNone));
        assert_eq!(push(&b, "origin").unwrap(), Pushed::Pushed(Merged::Merged));
        assert_eq!(push(&b, "origin").unwrap(), Pushed::UpToDate);
        assert_eq!(pull(&a, "origin").unwrap(), Merged::FastForward);
        let bare = Repository::open_bare(&remote).unwrap();
        for repo in [&a, &b, &bare] {
            let ci: Vec<Results> = load(repo, "ci").unwrap().into_iter().map(|(_, r)| r).collect();
            assert_eq!(ci.len(), 3);
            for i in [1, 2, 3] {
                assert!(ci.contains(&run(i)), "run {i}");
            }
            assert_eq!(load(repo, "arm").unwrap().len(), 1);
        }
        // More appends on both sides after sharing: a three-way merge with a common base.
        append(&a, "ci", &run(5)).unwrap();
        append(&b, "ci", &run(6)).unwrap();
        push(&a, "origin").unwrap();
        assert_eq!(push(&b, "origin").unwrap(), Pushed::Pushed(Merged::Merged));
        assert_eq!(pull(&a, "origin").unwrap(), Merged::FastForward);
        assert_eq!(load(&a, "ci").unwrap().len(), 5);
        assert_eq!(locations(&bare).unwrap(), locations(&a).unwrap());
        // Export writes every file where the history has it.
        let out = d.path().join("export");
        assert_eq!(export(&a, &out).unwrap(), 6);
        let r5 = run(5);
        assert_eq!(Results::load(&out.join("ci").join(sha(5)).join(format!("{}.json", key(&r5)))).unwrap(), r5);
    }
}
