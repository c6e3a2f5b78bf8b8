//! The archive of a comparison built once and measured on other machines (`build --compare REV
//! --archive FILE`, then `run --archive FILE --shard I/N`): both sides' bench binaries, each stored once
//! by code digest, and a manifest with the index, both sides' revision and toolchain, head's
//! configuration, the noise floors, the policy-change lines, the expected cost of each benchmark and
//! the pairing identifier the shards share. A gzip'd tar file; unpacking reads only the entries it
//! expects (the manifest and `bin/<digest>`) and checks every binary's code digest against its name, so
//! a name in the file is never a path and a damaged binary is never measured.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::driver::{BenchBinary, Index};
use crate::model::{GitInfo, NoiseFloors, Toolchain};

/// Version of the archive's manifest; a shard refuses another version, naming both.
pub const ARCHIVE_VERSION: u32 = 1;
/// The manifest's name inside the archive, and in every shard's output folder.
pub const MANIFEST: &str = "benchgate-archive.json";

/// What travels with the binaries.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub archive_version: u32,
    /// The pairing identifier of this build: every shard's results carry it (with the shard), and the
    /// verdict takes only shards of one archive.
    pub id: String,
    pub created_at: String,
    /// benchgate's version that built the archive; shards must run the same one.
    pub benchgate_version: String,
    /// What is compared, as the verdict's context line says it ("base X (merge-base of main), head Y").
    pub context: String,
    pub base: SideManifest,
    pub head: SideManifest,
    /// The selected benchmarks (the union of both sides'), sorted.
    pub ids: Vec<String>,
    /// Head's configuration file, as text (`None`: the built-in defaults), and its name for messages.
    pub config: Option<String>,
    pub config_name: String,
    /// The runner class the noise floors are of, and the floors (if calibrated).
    pub runner_class: String,
    pub noise: Option<NoiseFloors>,
    /// What head's policy changes against base's (config and noise files), computed where both were
    /// checked out: the verdict shows them first.
    pub policy: Vec<String>,
    /// Expected seconds of each benchmark (both sides, all lanes), from `--costs`; empty: shards are
    /// assigned by count.
    #[serde(default)]
    pub costs: BTreeMap<String, f64>,
    /// Where the costs came from, for messages.
    #[serde(default)]
    pub costs_from: Vec<String>,
}

/// One side of the archived comparison.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SideManifest {
    pub git: Option<GitInfo>,
    pub toolchain: Toolchain,
    pub libraries: BTreeMap<String, String>,
    /// The side's bench binaries; `exe` is `bin/<digest>` inside the archive.
    pub binaries: Vec<BenchBinary>,
}

/// An archive that cannot be written or used, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}: not a benchgate archive: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
    #[error(
        "{}: archive version {found}, but this benchgate ({}) reads version {ARCHIVE_VERSION}: measure it with the \
         benchgate that built it ({built_by})",
        path.display(),
        env!("CARGO_PKG_VERSION")
    )]
    Version { path: PathBuf, found: u32, built_by: String },
}

/// A code digest as [`crate::meta::code_digest`] writes it: the only names binaries have in an archive.
fn valid_digest(d: &str) -> bool {
    (8..=64).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Base's and head's binaries as the manifest names them, and the files to pack: (digest, built file).
pub type Packed = (Vec<BenchBinary>, Vec<BenchBinary>, Vec<(String, PathBuf)>);

impl Manifest {
    /// Both sides' binaries renamed to their place in the archive, and the files to pack (digest,
    /// built file), each digest once.
    pub fn binaries_from(base: &Index, head: &Index) -> Result<Packed, String> {
        let mut files: BTreeMap<String, PathBuf> = BTreeMap::new();
        let mut side = |index: &Index| -> Result<Vec<BenchBinary>, String> {
            index
                .binaries
                .iter()
                .map(|b| {
                    if !valid_digest(&b.digest) {
                        return Err(format!("{} has no code digest (`{}`)", b.exe.display(), b.digest));
                    }
                    files.entry(b.digest.clone()).or_insert_with(|| b.exe.clone());
                    Ok(BenchBinary { exe: PathBuf::from(format!("bin/{}", b.digest)), ..b.clone() })
                })
                .collect()
        };
        let (b, h) = (side(base)?, side(head)?);
        Ok((b, h, files.into_iter().collect()))
    }

    /// The index of one side with its binaries where `unpacked` holds them.
    pub fn index(side: &SideManifest, unpacked: &Path) -> Index {
        let binaries = side
            .binaries
            .iter()
            .map(|b| BenchBinary { exe: unpacked.join("bin").join(&b.digest), ..b.clone() })
            .collect();
        Index { binaries }
    }

    /// Reads a manifest written into a shard's folder (the copy `run --archive` leaves beside the
    /// results).
    pub fn load(path: &Path) -> Result<Manifest, ArchiveError> {
        let bytes = std::fs::read(path).map_err(|source| ArchiveError::Io { path: path.to_owned(), source })?;
        parse(path, &bytes)
    }
}

fn parse(path: &Path, bytes: &[u8]) -> Result<Manifest, ArchiveError> {
    let invalid = |message: String| ArchiveError::Invalid { path: path.to_owned(), message };
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| invalid(format!("{MANIFEST} does not parse: {e}")))?;
    let found = value.get("archive_version").and_then(serde_json::Value::as_u64);
    let built_by = value.get("benchgate_version").and_then(|v| v.as_str()).unwrap_or("unknown").to_owned();
    match found {
        Some(v) if v == u64::from(ARCHIVE_VERSION) => {}
        Some(v) => {
            return Err(ArchiveError::Version {
                path: path.to_owned(),
                found: u32::try_from(v).unwrap_or(u32::MAX),
                built_by,
            });
        }
        None => return Err(invalid(format!("{MANIFEST} has no archive_version"))),
    }
    let m: Manifest = serde_json::from_value(value).map_err(|e| invalid(format!("{MANIFEST}: {e}")))?;
    for b in m.base.binaries.iter().chain(&m.head.binaries) {
        if !valid_digest(&b.digest) || b.exe != Path::new("bin").join(&b.digest) {
            return Err(invalid(format!("binary `{}` is not stored by its code digest", b.target)));
        }
    }
    Ok(m)
}

/// Writes the archive atomically: a temporary file in `path`'s folder, renamed over `path` once
/// complete. `files` are (digest, built binary). Returns the archive's size in bytes.
pub fn pack(path: &Path, manifest: &Manifest, files: &[(String, PathBuf)]) -> Result<u64, ArchiveError> {
    let io = |p: &Path| {
        let p = p.to_owned();
        move |source| ArchiveError::Io { path: p, source }
    };
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{}.tmp-{}-", path.file_name().unwrap_or_default().to_string_lossy(), std::process::id()))
        .tempfile_in(dir)
        .map_err(io(dir))?;
    // Level 1: bench binaries compress to about a third at it (measured: see ARCHITECTURE.md), and the
    // higher levels cost the build job much more time for a few percent.
    let gz = flate2::write::GzEncoder::new(std::io::BufWriter::new(tmp.as_file()), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    let json = serde_json::to_vec_pretty(manifest).expect("manifest serializes");
    let mut header = tar::Header::new_gnu();
    header.set_size(json.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_cksum();
    tar.append_data(&mut header, MANIFEST, json.as_slice()).map_err(io(path))?;
    for (digest, exe) in files {
        let mut f = std::fs::File::open(exe).map_err(io(exe))?;
        let len = f.metadata().map_err(io(exe))?.len();
        let mut header = tar::Header::new_gnu();
        header.set_size(len);
        header.set_mode(0o755);
        header.set_mtime(0);
        header.set_cksum();
        tar.append_data(&mut header, format!("bin/{digest}"), &mut f).map_err(io(exe))?;
    }
    let gz = tar.into_inner().map_err(io(path))?;
    let mut buf = gz.finish().map_err(io(path))?;
    buf.flush().map_err(io(path))?;
    drop(buf);
    // Readable as any other build output (a temporary file is created private).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o644)).map_err(io(path))?;
    }
    tmp.as_file().sync_all().map_err(io(path))?;
    let size = tmp.as_file().metadata().map_err(io(path))?.len();
    tmp.persist(path).map_err(|e| ArchiveError::Io { path: path.to_owned(), source: e.error })?;
    Ok(size)
}

/// Unpacks `archive` into `dest` (which must exist): the manifest, and each binary the manifest names
/// as `dest/bin/<digest>`, executable, its code digest checked. Any other entry is an error.
pub fn unpack(archive: &Path, dest: &Path) -> Result<Manifest, ArchiveError> {
    let invalid = |message: String| ArchiveError::Invalid { path: archive.to_owned(), message };
    let io = |source| ArchiveError::Io { path: archive.to_owned(), source };
    let file = std::fs::File::open(archive).map_err(io)?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(std::io::BufReader::new(file)));
    let bin_dir = dest.join("bin");
    std::fs::create_dir_all(&bin_dir).map_err(|source| ArchiveError::Io { path: bin_dir.clone(), source })?;
    let mut manifest_bytes: Option<Vec<u8>> = None;
    let mut unpacked: BTreeMap<String, PathBuf> = BTreeMap::new();
    for entry in tar.entries().map_err(|e| invalid(format!("cannot read: {e}")))? {
        let mut entry = entry.map_err(|e| invalid(format!("damaged or truncated: {e}")))?;
        let name = entry.path().map_err(|e| invalid(e.to_string()))?.to_string_lossy().into_owned();
        if name == MANIFEST {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).map_err(|e| invalid(format!("damaged or truncated: {e}")))?;
            manifest_bytes = Some(bytes);
        } else if let Some(digest) = name.strip_prefix("bin/").filter(|d| valid_digest(d)) {
            let target = bin_dir.join(digest);
            let mut out =
                std::fs::File::create(&target).map_err(|source| ArchiveError::Io { path: target.clone(), source })?;
            std::io::copy(&mut entry, &mut out).map_err(|e| invalid(format!("damaged or truncated at {name}: {e}")))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                out.set_permissions(std::fs::Permissions::from_mode(0o755))
                    .map_err(|source| ArchiveError::Io { path: target.clone(), source })?;
            }
            unpacked.insert(digest.to_owned(), target);
        } else {
            return Err(invalid(format!("unexpected entry `{}`", name.escape_debug())));
        }
    }
    let manifest = parse(archive, &manifest_bytes.ok_or_else(|| invalid(format!("no {MANIFEST}")))?)?;
    for b in manifest.base.binaries.iter().chain(&manifest.head.binaries) {
        let Some(path) = unpacked.get(&b.digest) else {
            return Err(invalid(format!("binary {} of bench target `{}` is missing", b.digest, b.target)));
        };
        let digest =
            crate::meta::code_digest(path).map_err(|source| ArchiveError::Io { path: path.clone(), source })?;
        if digest != b.digest {
            return Err(invalid(format!(
                "binary {} of bench target `{}` is damaged: its code digest is {digest}",
                b.digest, b.target
            )));
        }
    }
    std::fs::write(dest.join(MANIFEST), serde_json::to_vec_pretty(&manifest).expect("manifest serializes"))
        .map_err(|source| ArchiveError::Io { path: dest.join(MANIFEST), source })?;
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_the_only_names_and_anything_else_is_refused() {
        assert!(valid_digest("0123456789abcdef"));
        for bad in ["", "../../etc", "0123456789ABCDEF", "0123/56789abcdef", "abc", "0123456789abcdeg"] {
            assert!(!valid_digest(bad), "{bad}");
        }
    }

    /// A tar.gz with the given entries.
    fn tarball(path: &Path, entries: &[(&str, &[u8])]) {
        let gz = flate2::write::GzEncoder::new(std::fs::File::create(path).unwrap(), flate2::Compression::fast());
        let mut tar = tar::Builder::new(gz);
        for (name, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            // The name written as is: the builder refuses `..`, a hostile archive would not.
            h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
            h.set_cksum();
            tar.append(&h, *data).unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap();
    }

    #[test]
    fn unpacking_refuses_foreign_entries_truncation_and_other_versions() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out");
        std::fs::create_dir_all(&dest).unwrap();
        let a = dir.path().join("a.tar.gz");
        tarball(&a, &[("../escape", b"x")]);
        let e = unpack(&a, &dest).unwrap_err().to_string();
        assert!(e.contains("unexpected entry `../escape`"), "{e}");
        assert!(!dir.path().join("escape").exists());
        tarball(&a, &[(MANIFEST, br#"{"archive_version": 99, "benchgate_version": "9.9.9"}"#)]);
        let e = unpack(&a, &dest).unwrap_err().to_string();
        assert!(e.contains("archive version 99") && e.contains("9.9.9"), "{e}");
        tarball(&a, &[("bin/0123456789abcdef", &[7u8; 100_000])]);
        let bytes = std::fs::read(&a).unwrap();
        std::fs::write(&a, &bytes[..bytes.len() / 2]).unwrap();
        let e = unpack(&a, &dest).unwrap_err().to_string();
        assert!(e.contains("damaged or truncated") && e.contains("a.tar.gz"), "{e}");
        std::fs::write(&a, b"not gzip at all").unwrap();
        assert!(unpack(&a, &dest).is_err());
    }
}
