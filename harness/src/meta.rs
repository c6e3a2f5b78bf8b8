//! Collects the `meta` of a results file: git revision, toolchain, library versions, and the machine with
//! its fingerprint.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use crate::model::{GitInfo, Machine, Toolchain};

/// The git state of the repository containing `dir`, or `None` outside a repository.
pub fn git_info(dir: &Path) -> Option<GitInfo> {
    let repo = git2::Repository::discover(dir).ok()?;
    let head = repo.head().ok()?;
    let commit = head.peel_to_commit().ok()?.id().to_string();
    let branch = if head.is_branch() { head.shorthand().ok().map(str::to_owned) } else { None };
    let mut opts = git2::StatusOptions::new();
    opts.include_untracked(false).include_ignored(false);
    let dirty = repo.statuses(Some(&mut opts)).map(|s| !s.is_empty()).unwrap_or(false);
    Some(GitInfo { commit, dirty, branch })
}

/// The versions Cargo.lock at `lock` records for the packages `names`: `name -> "1.2.3"`, or
/// `"0.8.5, 0.9.2"` when several versions are locked. Packages the lockfile does not list are left out;
/// an unreadable lockfile gives an empty map (the results then say nothing rather than something wrong).
pub fn library_versions(lock: &Path, names: &BTreeSet<String>) -> BTreeMap<String, String> {
    #[derive(serde::Deserialize)]
    struct Lock {
        #[serde(default)]
        package: Vec<Package>,
    }
    #[derive(serde::Deserialize)]
    struct Package {
        name: String,
        version: String,
    }
    let Some(lock) = std::fs::read_to_string(lock).ok().and_then(|t| toml::from_str::<Lock>(&t).ok()) else {
        return BTreeMap::new();
    };
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in lock.package.into_iter().filter(|p| names.contains(&p.name)) {
        found.entry(p.name).or_default().push(p.version);
    }
    found.into_iter().map(|(name, versions)| (name, versions.join(", "))).collect()
}

/// `rustc -vV` of the toolchain cargo uses here.
pub fn toolchain(dir: &Path) -> Toolchain {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let verbose = Command::new(rustc)
        .arg("-vV")
        .current_dir(dir)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let field = |key: &str| {
        verbose
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| "unknown".into())
    };
    Toolchain { rustc_release: field("release:"), target: field("host:"), rustc_verbose: verbose.clone() }
}

/// The machine this process runs on.
pub fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, v)| v.trim().to_owned()))
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(1);
    let memory_bytes = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines().find_map(|l| {
                l.strip_prefix("MemTotal:").and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            })
        })
        .map_or(0, |kib| kib * 1024);
    let os = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("PRETTY_NAME=").map(|v| v.trim_matches('"').to_owned())))
        .unwrap_or_else(|| std::env::consts::OS.to_owned());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").map(|s| s.trim().to_owned()).unwrap_or_default();
    let arch = std::env::consts::ARCH.to_owned();
    // Memory is rounded to GiB so that a few MiB reserved differently by firmware do not change it.
    let fingerprint_input = format!("{cpu_model}|{cores}|{}|{os}|{arch}", memory_bytes >> 30);
    let fingerprint = format!("{:016x}", fnv1a64(fingerprint_input.as_bytes()));
    Machine { cpu_model, cores, memory_bytes, os, kernel, arch, fingerprint }
}

/// The C library's name and version (`getconf GNU_LIBC_VERSION`: "glibc 2.36"), "unknown" where that
/// does not answer (musl, macOS). Part of what a cached count depends on: libc's code runs in the counts.
pub fn libc_version() -> String {
    std::process::Command::new("getconf")
        .arg("GNU_LIBC_VERSION")
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// A digest of an executable's code and data: every section except debug information, symbol tables
/// and notes (the build id), which record where it was built rather than what it does. Two builds of
/// the same source in different directories get the same digest. Not an ELF/Mach-O/PE file: the digest
/// of all its bytes. FNV-1a 64 over the sections' names and bytes: a stable key for the count cache
/// and the same-code skip, not a defence against a crafted collision (the binaries are the user's own).
pub fn code_digest(path: &Path) -> std::io::Result<String> {
    use object::{Object, ObjectSection};
    let data = std::fs::read(path)?;
    let mut h = 0xcbf29ce484222325u64;
    let mut feed = |bytes: &[u8]| {
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x100000001b3);
        }
    };
    match object::File::parse(&*data) {
        Ok(file) => {
            for section in file.sections() {
                let name = section.name().unwrap_or_default();
                let skip = name.starts_with(".debug")
                    || name.starts_with(".zdebug")
                    || name.starts_with(".note")
                    || matches!(name, ".comment" | ".symtab" | ".strtab" | ".gnu_debuglink" | ".gnu_debugaltlink");
                if skip {
                    continue;
                }
                feed(name.as_bytes());
                feed(section.data().unwrap_or_default());
            }
        }
        Err(_) => feed(&data),
    }
    Ok(format!("{h:016x}"))
}

/// A file-name stem for a name from the data (a benchmark id, a series): at most 64 of its letters,
/// digits, `-` and `.` (anything else made `_`), then `-` and 8 hex digits of its hash, so that two
/// names never share a file (`a/b` and `a_b`, or two long ids with one prefix) and no name is too long
/// for a file system. The one place file names are made from ids.
pub fn file_stem(name: &str) -> String {
    let safe: String = name
        .chars()
        .take(64)
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '.') { c } else { '_' })
        .collect();
    let safe = safe.trim_start_matches('.');
    format!("{safe}-{:08x}", fnv1a64(name.as_bytes()) >> 32)
}

/// FNV-1a, 64-bit: stable across platforms and releases, unlike std's hasher.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// Now as RFC 3339 UTC with second precision, without a date-time dependency.
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    rfc3339(secs)
}

/// Seconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ` (Howard Hinnant's civil-from-days algorithm).
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// The inverse of [`rfc3339`]: seconds since the Unix epoch of a `YYYY-MM-DDTHH:MM:SSZ` time (Howard
/// Hinnant's days-from-civil); `None` for anything else.
pub fn parse_rfc3339(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() != 20 || [b[4], b[7], b[10], b[13], b[16], b[19]] != *b"--T::Z" {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + hh * 3600 + mm * 60 + ss).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_rfc3339_inverts_rfc3339() {
        for secs in [0, 951_782_400, 1_700_000_000, 1_796_600_000, 4_102_444_799] {
            assert_eq!(parse_rfc3339(&rfc3339(secs)), Some(secs), "{}", rfc3339(secs));
        }
        assert_eq!(parse_rfc3339("2026-11-29T23:40:12"), None);
        assert_eq!(parse_rfc3339("2026-13-29T23:40:12Z"), None);
        assert_eq!(parse_rfc3339("not a time at all!!"), None);
    }

    #[test]
    fn file_stems_are_unique_bounded_and_plain() {
        assert_ne!(file_stem("names/with space"), file_stem("names/with_space"));
        assert!(file_stem("names/with space").starts_with("names_with_space-"));
        let long = "x".repeat(300);
        assert_ne!(file_stem(&long), file_stem(&format!("{long}y")));
        assert!(file_stem(&long).len() <= 64 + 9);
        for hostile in ["../../etc/passwd", "/abs", "..", ".hidden", "a\0b", "日本"] {
            let s = file_stem(hostile);
            assert!(!s.starts_with('.') && !s.contains('/') && !s.contains('\0'), "{hostile}: {s}");
        }
    }

    #[test]
    fn rfc3339_matches_known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_305_600 + 3_723), "2026-11-22T01:02:03Z");
    }

    #[test]
    fn fnv_is_the_reference_function() {
        // Test vectors from the FNV reference (draft-eastlake-fnv): "" and "a".
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
    }
}
