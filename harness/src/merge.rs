//! Sharding and merging: `run --shard I/N` measures every N-th benchmark of the selection (sorted by id,
//! starting at the I-th), and `benchgate merge` recombines the shards' results files into the results
//! of one run. Shards must come from one build of one revision; a benchmark in two shards is a conflict.

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
