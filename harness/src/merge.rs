//! Sharding and merging: `run --shard I/N` measures every N-th benchmark of the selection (sorted by id,
//! starting at the I-th), and `benchgate merge` recombines the shards' results files into the results
//! of one run. Shards must come from one build of one revision; a benchmark in two shards is a conflict.
//! [`assign`] spreads an archived comparison's benchmarks over shards by expected cost (`run --archive
//! FILE --shard I/N`), the same way on every machine of the matrix.

use std::path::PathBuf;
use std::str::FromStr;

use crate::model::Results;

/// Shard `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("--shard takes I/N with 1 <= I <= N, e.g. 2/4, not `{s}`");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (u32, u32) = (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// Whether the benchmark at `position` of the id-sorted selection belongs to this shard: round-robin,
    /// so that shards get equal numbers of benchmarks and every suite is spread over all of them.
    pub fn takes(&self, position: usize) -> bool {
        position % self.count as usize == (self.index - 1) as usize
    }
}

/// Which shard (1-based) measures each benchmark of an archived comparison: the same answer for the same
/// arguments on every machine, so each job of a matrix computes its own part and together they cover
/// every benchmark once.
///
/// With expected costs (seconds per benchmark from an earlier run), longest first onto the shard with
/// the least so far (Graham's LPT rule: within 4/3 of the best possible longest shard), ties broken by
/// id and by shard number; a benchmark without a cost is taken to cost the median of the known ones.
/// Without costs, by count: the benchmarks that get wall rounds (`timed`) round-robin in id order, then
/// the others (counted only) continuing the turn, so every shard gets as many of each kind as can be.
pub fn assign(
    ids: &[String],
    timed: &std::collections::BTreeSet<String>,
    costs: &std::collections::BTreeMap<String, f64>,
    count: u32,
) -> std::collections::BTreeMap<String, u32> {
    let count = count.max(1) as usize;
    let mut sorted: Vec<&String> = ids.iter().collect();
    sorted.sort();
    sorted.dedup();
    let known: Vec<f64> =
        sorted.iter().filter_map(|id| costs.get(*id)).copied().filter(|c| c.is_finite() && *c >= 0.0).collect();
    let mut out = std::collections::BTreeMap::new();
    if known.is_empty() {
        let (first, second): (Vec<&String>, Vec<&String>) = sorted.iter().partition(|id| timed.contains(**id));
        for (n, id) in first.into_iter().chain(second).enumerate() {
            out.insert(id.clone(), (n % count) as u32 + 1);
        }
        return out;
    }
    let median = crate::stats::median(&known);
    let cost = |id: &str| costs.get(id).copied().filter(|c| c.is_finite() && *c >= 0.0).unwrap_or(median);
    let mut order: Vec<(&String, f64)> = sorted.iter().map(|id| (*id, cost(id))).collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let mut load = vec![0.0f64; count];
    for (id, c) in order {
        let (shard, _) =
            load.iter().enumerate().min_by(|a, b| a.1.total_cmp(b.1).then(a.0.cmp(&b.0))).expect("at least one shard");
        load[shard] += c;
        out.insert(id.clone(), shard as u32 + 1);
    }
    out
}

/// Why shards cannot be merged, naming the files involved.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("nothing to merge")]
    Empty,
    #[error("{a} and {b} were measured on different {what} ({va} vs {vb}): they are not shards of one run")]
    Mismatch { what: &'static str, a: String, b: String, va: String, vb: String },
    #[error("benchmark `{id}` is in both {a} and {b}: shards must not overlap")]
    Conflict { id: String, a: String, b: String },
}

/// Merges shards into one results file: the first shard's meta with the earliest start, the latest
/// finish, and `partial` if any shard was partial. Shards must agree on revision, toolchain, mode and
/// lanes; a benchmark present in two shards is an error. Machine differences are returned as warnings
/// (shards on different CI machines are common, but their wall times do not compare with each other).
pub fn merge(parts: Vec<(PathBuf, Results)>) -> Result<(Results, Vec<String>), MergeError> {
    let mut parts = parts.into_iter();
    let (first_path, mut merged) = parts.next().ok_or(MergeError::Empty)?;
    let name = |p: &PathBuf| p.display().to_string();
    let mut origin: std::collections::BTreeMap<String, PathBuf> =
        merged.benchmarks.iter().map(|b| (b.id.clone(), first_path.clone())).collect();
    let mut warnings = Vec::new();
    for (path, r) in parts {
        let (m0, m1) = (&merged.meta, &r.meta);
        let commit = |m: &crate::model::Meta| m.git.as_ref().map_or("(no git)".to_owned(), |g| g.commit.clone());
        let checks = [
            ("revisions", commit(m0), commit(m1)),
            ("toolchains", m0.toolchain.rustc_verbose.clone(), m1.toolchain.rustc_verbose.clone()),
            ("modes", m0.mode.to_string(), m1.mode.to_string()),
            ("lanes", format!("{:?}", m0.lanes), format!("{:?}", m1.lanes)),
        ];
        for (what, va, vb) in checks {
            if va != vb {
                return Err(MergeError::Mismatch { what, a: name(&first_path), b: name(&path), va, vb });
            }
        }
        if m0.machine.fingerprint != m1.machine.fingerprint {
            warnings.push(format!(
                "{} and {} ran on different machines ({} vs {}): compare their wall times only with care",
                name(&first_path),
                name(&path),
                m0.machine.cpu_model,
                m1.machine.cpu_model
            ));
        }
        merged.meta.started_at = merged.meta.started_at.clone().min(r.meta.started_at.clone());
        merged.meta.finished_at = match (merged.meta.finished_at.take(), r.meta.finished_at.clone()) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
        merged.meta.partial |= r.meta.partial;
        for b in r.benchmarks {
            if let Some(p) = origin.get(&b.id) {
                return Err(MergeError::Conflict { id: b.id, a: name(p), b: name(&path) });
            }
            origin.insert(b.id.clone(), path.clone());
            merged.upsert(b);
        }
    }
    if merged.meta.partial {
        warnings.push("a shard was interrupted: the merged results are partial".into());
    }
    Ok((merged, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignment_by_count_spreads_timed_and_counted_benchmarks_alike() {
        let ids: Vec<String> = (0..10).map(|i| format!("s/b{i}")).collect();
        let timed: std::collections::BTreeSet<String> = ids[..6].iter().cloned().collect();
        let a = assign(&ids, &timed, &Default::default(), 3);
        let per =
            |shard: u32, set: &dyn Fn(&String) -> bool| a.iter().filter(|(id, s)| **s == shard && set(id)).count();
        for shard in 1..=3 {
            assert_eq!(per(shard, &|id| timed.contains(id)), 2, "{a:?}");
        }
        // The 4 counted-only ones continue the turn: shards 1, 2, 3, 1.
        assert_eq!([1, 2, 3].map(|s| per(s, &|id| !timed.contains(id))), [2, 1, 1]);
        // The input's order does not matter.
        let mut reversed = ids.clone();
        reversed.reverse();
        assert_eq!(assign(&reversed, &timed, &Default::default(), 3), a);
    }

    #[test]
    fn assignment_by_cost_balances_the_longest_shard() {
        let ids: Vec<String> = ["a", "b", "c", "d", "e", "f", "new"].map(String::from).to_vec();
        let costs: std::collections::BTreeMap<String, f64> =
            [("a", 8.0), ("b", 7.0), ("c", 6.0), ("d", 5.0), ("e", 4.0), ("f", f64::NAN)]
                .map(|(k, v)| (k.to_owned(), v))
                .into_iter()
                .collect();
        let a = assign(&ids, &Default::default(), &costs, 2);
        // LPT: a(8)->1, b(7)->2, c(6)->2 (13), d(5)->1 (13), the unknown `f` and `new` cost the median 6:
        // new (ids break ties: `f` < `new`) f->1 (19), new->2 (19), e(4)->1 (23).
        let load = |s: u32| -> f64 {
            a.iter()
                .filter(|(_, x)| **x == s)
                .map(|(id, _)| costs.get(id).copied().filter(|c| c.is_finite()).unwrap_or(6.0))
                .sum()
        };
        assert_eq!(a.len(), 7);
        assert!((load(1) - load(2)).abs() <= 4.0, "{a:?}");
        assert_eq!(a["a"], 1);
        assert_eq!(a["b"], 2);
        assert_eq!(assign(&ids, &Default::default(), &costs, 2), a, "deterministic");
        // One shard takes everything.
        assert!(assign(&ids, &Default::default(), &costs, 1).values().all(|s| *s == 1));
    }

    #[test]
    fn shards_parse_and_partition() {
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard { index: 2, count: 4 }));
        for bad in ["0/4", "5/4", "1/0", "x/2", "3", "1/2/3"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        // Every position lands in exactly one shard.
        for pos in 0..20 {
            let owners = (1..=3).filter(|&i| Shard { index: i, count: 3 }.takes(pos)).count();
            assert_eq!(owners, 1);
        }
    }
}
