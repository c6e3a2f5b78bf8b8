//! `benchgate bisect`: the commits between a good and a bad revision (first parents, oldest first)
//! and the binary search for the first commit whose figure is nearer the bad revision's than the good
//! one's. Measuring a commit is the caller's (`cli::bisect`): here it is a callback, so the search is
//! tested on synthetic histories.

use std::path::Path;

use git2::{Oid, Repository, Sort};
use serde::Serialize;

use crate::revision::{RevisionError, short};

/// A commit of the bisected range.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Commit {
    pub id: String,
    /// The first line of its message.
    pub summary: String,
}

/// The good revision's commit and the commits after it up to the bad one (the last), following first
/// parents from the bad one, as `git bisect --first-parent` does: a change made on a merged branch is
/// found at its merge.
pub fn commits_between(dir: &Path, good: &str, bad: &str) -> Result<(Commit, Vec<Commit>), RevisionError> {
    let repo = Repository::discover(dir).map_err(|_| RevisionError::NoRepository(dir.to_owned()))?;
    let resolve = |rev: &str| {
        repo.revparse_single(rev)
            .and_then(|o| o.peel_to_commit())
            .map_err(|_| RevisionError::UnknownRevision(rev.to_owned()))
    };
    let (good_commit, bad_commit) = (resolve(good)?, resolve(bad)?);
    let git = |context: &str| {
        let context = context.to_owned();
        move |source| RevisionError::Git { context, source }
    };
    if good_commit.id() == bad_commit.id() {
        return Err(RevisionError::Range(format!("--good {good} and --bad {bad} are the same commit")));
    }
    if !repo.graph_descendant_of(bad_commit.id(), good_commit.id()).map_err(git("compare the revisions"))? {
        return Err(RevisionError::Range(format!(
            "--good {good} ({}) is not an ancestor of --bad {bad} ({})",
            short(&good_commit.id().to_string()),
            short(&bad_commit.id().to_string())
        )));
    }
    let mut walk = repo.revwalk().map_err(git("walk the history"))?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE).map_err(git("walk the history"))?;
    walk.simplify_first_parent().map_err(git("walk the history"))?;
    walk.push(bad_commit.id()).map_err(git("walk the history"))?;
    walk.hide(good_commit.id()).map_err(git("walk the history"))?;
    let commit = |oid: Oid| -> Result<Commit, RevisionError> {
        let c = repo.find_commit(oid).map_err(git("read a commit"))?;
        Ok(Commit { id: oid.to_string(), summary: c.summary().ok().flatten().unwrap_or_default().to_owned() })
    };
    let mut range = Vec::new();
    for oid in walk {
        range.push(commit(oid.map_err(git("walk the history"))?)?);
    }
    Ok((commit(good_commit.id())?, range))
}

/// What measuring one commit came to.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "class")]
pub enum Probe {
    /// Its figure is nearer the good revision's.
    Good { value: f64 },
    /// Its figure is nearer the bad revision's.
    Bad { value: f64 },
    /// It could not be measured (does not build, lacks the benchmark, the benchmark failed), as
    /// `git bisect skip`: the search goes on around it.
    Skipped { reason: String },
}

/// Whether `value` is nearer `bad` than `good`: at or past the midpoint from `good` towards `bad`.
/// The midpoint is linear, so it also works when one side is zero (an allocation-free benchmark that
/// starts to allocate). When a change came in several steps, the step that crosses the midpoint is the
/// one found.
pub fn is_bad(value: f64, good: f64, bad: f64) -> bool {
    (value - good) / (bad - good) >= 0.5
}

/// The search's result over `range` (the commits after the good one, the bad one last).
#[derive(Debug, Clone, PartialEq)]
pub struct Bisection {
    /// Every commit measured between good and bad (by index into the range), in the order measured.
    pub probes: Vec<(usize, Probe)>,
    /// The indices of the commits that may have made the change: one when found, more when skipped
    /// commits sit between the last good and the first bad one.
    pub candidates: std::ops::RangeInclusive<usize>,
}

impl Bisection {
    /// The commit that made the change, if skipped commits leave no doubt.
    pub fn first_bad(&self) -> Option<usize> {
        (self.candidates.start() == self.candidates.end()).then_some(*self.candidates.start())
    }
}

/// Binary search over `len` commits, of which the last (the bad revision) is known bad and the
/// commit before the first (the good revision) known good. `measure(i)` measures commit `i` and
/// returns its figure, or `Ok(None)` with a reason to skip it; an `Err` ends the search.
///
/// Each step measures the untried commit nearest the middle of the commits still in doubt (the lower
/// one on a tie), so a history of n commits takes about log2(n) steps, plus one per skipped commit.
pub fn search<E>(
    len: usize,
    good: f64,
    bad: f64,
    measure: &mut dyn FnMut(usize) -> Result<Result<f64, String>, E>,
) -> Result<Bisection, E> {
    assert!(len > 0, "the range holds at least the bad commit");
    // Positions: 0 is the good revision, i + 1 is commit i of the range; `lo` is the last known good,
    // `hi` the first known bad.
    let (mut lo, mut hi) = (0usize, len);
    let mut skipped = std::collections::BTreeSet::new();
    let mut probes = Vec::new();
    loop {
        let mid = (lo + hi) / 2;
        let next = (lo + 1..hi).filter(|p| !skipped.contains(p)).min_by_key(|&p| (p.abs_diff(mid), p));
        let Some(p) = next else { break };
        match measure(p - 1)? {
            Ok(value) if is_bad(value, good, bad) => {
                probes.push((p - 1, Probe::Bad { value }));
                hi = p;
            }
            Ok(value) => {
                probes.push((p - 1, Probe::Good { value }));
                lo = p;
            }
            Err(reason) => {
                probes.push((p - 1, Probe::Skipped { reason }));
                skipped.insert(p);
            }
        }
    }
    Ok(Bisection { probes, candidates: lo..=hi - 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the search over `values` (the range's figures; `None` cannot be measured), good = 100.
    fn bisect(values: &[Option<f64>]) -> (Bisection, Vec<usize>) {
        let bad = values.last().unwrap().unwrap();
        let mut measured = Vec::new();
        let b = search::<()>(values.len(), 100.0, bad, &mut |i| {
            measured.push(i);
            Ok(values[i].ok_or_else(|| "does not build".to_owned()))
        })
        .unwrap();
        (b, measured)
    }

    #[test]
    fn finds_the_step_in_every_position_in_about_log2_steps() {
        for len in 1..40usize {
            for step in 0..len {
                let values: Vec<Option<f64>> = (0..len).map(|i| Some(if i >= step { 120.0 } else { 100.0 })).collect();
                let (b, measured) = bisect(&values);
                assert_eq!(b.first_bad(), Some(step), "len {len}, step at {step}");
                // At most ceil(log2(len)) measurements (the bad end is already known).
                let bound = usize::BITS - (len.max(1)).leading_zeros();
                assert!(measured.len() as u32 <= bound, "len {len}: {} steps, {measured:?}", measured.len());
                assert!(!measured.contains(&(len - 1)), "the bad end is not measured again");
            }
        }
    }

    #[test]
    fn improvements_and_allocation_free_bases_are_bisected_too() {
        // Got faster at index 3.
        let values = [Some(100.0), Some(99.0), Some(101.0), Some(60.0), Some(61.0)];
        let b = search::<()>(5, 100.0, 61.0, &mut |i| Ok(Ok(values[i].unwrap()))).unwrap();
        assert_eq!(b.first_bad(), Some(3));
        // From no allocation to one per op at index 1.
        let b = search::<()>(4, 0.0, 1.0, &mut |i| Ok(Ok(if i >= 1 { 1.0 } else { 0.0 }))).unwrap();
        assert_eq!(b.first_bad(), Some(1));
    }

    #[test]
    fn a_change_in_two_steps_is_found_where_it_crosses_the_midpoint() {
        // 100 → 104 at index 2, → 110 at index 5: the midpoint 105 is crossed at 5.
        let values: Vec<Option<f64>> = (0..8)
            .map(|i| {
                Some(if i >= 5 {
                    110.0
                } else if i >= 2 {
                    104.0
                } else {
                    100.0
                })
            })
            .collect();
        assert_eq!(bisect(&values).0.first_bad(), Some(5));
        assert!(!is_bad(104.9, 100.0, 110.0) && is_bad(105.0, 100.0, 110.0));
    }

    #[test]
    fn skipped_commits_are_stepped_around_and_can_leave_several_candidates() {
        // The step at 4; commit 2 does not build: still found.
        let mut values: Vec<Option<f64>> = (0..8).map(|i| Some(if i >= 4 { 200.0 } else { 100.0 })).collect();
        values[2] = None;
        let (b, _) = bisect(&values);
        assert_eq!(b.first_bad(), Some(4));
        // Commits 3 and 4 do not build, the step is at 4: it is 3, 4 or 5.
        values[2] = Some(100.0);
        values[3] = None;
        values[4] = None;
        let (b, measured) = bisect(&values);
        assert_eq!((b.first_bad(), b.candidates.clone()), (None, 3..=5));
        assert!(measured.contains(&3) && measured.contains(&4), "{measured:?}");
        let skipped: Vec<usize> =
            b.probes.iter().filter(|(_, p)| matches!(p, Probe::Skipped { .. })).map(|(i, _)| *i).collect();
        assert_eq!(skipped.len(), 2, "{:?}", b.probes);
    }

    #[test]
    fn measuring_errors_end_the_search() {
        let r = search(5, 1.0, 2.0, &mut |i| if i == 2 { Err("interrupted") } else { Ok(Ok(1.0)) });
        assert_eq!(r.unwrap_err(), "interrupted");
    }

    fn git(dir: &Path, args: &[&str]) -> String {
        let out = std::process::Command::new("git").args(args).current_dir(dir).output().unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    #[test]
    fn the_range_follows_first_parents_oldest_first_and_bad_input_is_named() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        git(p, &["init", "-q", "-b", "main"]);
        git(p, &["config", "user.email", "t@example.com"]);
        git(p, &["config", "user.name", "t"]);
        let commit = |name: &str| {
            std::fs::write(p.join("f"), name).unwrap();
            git(p, &["add", "f"]);
            git(p, &["commit", "-qm", name]);
        };
        commit("zero");
        commit("one");
        git(p, &["checkout", "-qb", "side"]);
        commit("side work");
        git(p, &["checkout", "-q", "main"]);
        std::fs::write(p.join("g"), "g").unwrap();
        git(p, &["add", "g"]);
        git(p, &["commit", "-qm", "two"]);
        git(p, &["merge", "-q", "--no-ff", "-X", "theirs", "-m", "merge side", "side"]);
        commit("three");
        let (good, range) = commits_between(p, "main~4", "main").unwrap();
        assert_eq!(good.summary, "zero");
        let summaries: Vec<&str> = range.iter().map(|c| c.summary.as_str()).collect();
        assert_eq!(summaries, ["one", "two", "merge side", "three"]);
        assert_eq!(range.last().unwrap().id, git(p, &["rev-parse", "main"]));

        let e = |good: &str, bad: &str| commits_between(p, good, bad).unwrap_err().to_string();
        assert!(e("main", "main~2").contains("is not an ancestor of --bad main~2"), "{}", e("main", "main~2"));
        assert!(e("main", "main").contains("the same commit"));
        assert!(e("nope", "main").contains("unknown revision `nope`"));
    }
}
