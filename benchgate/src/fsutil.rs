//! File writing that never leaves a half-written file: write to a temporary file beside the target,
//! flush it to disk, then rename over the target. Temporary files are named `.NAME.tmp-PID`, so that
//! one left by a killed process can be recognised (`temp_owner`) and removed by the next writer.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Replaces `path` with `bytes` atomically; creates parent directories.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = write_temp(path, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// Writes `bytes` to the temporary file of `path` (beside it, in the same directory, so that renaming
/// it over `path` is atomic) and flushes it to disk; creates parent directories. Returns the temporary
/// file's path; on error none is left behind.
pub fn write_temp(path: &Path, bytes: &[u8]) -> std::io::Result<PathBuf> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    match result {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// The target's file name and the writer's process id of a temporary file name made by [`write_temp`]
/// (`.NAME.tmp-PID`); `None` for any other name.
pub fn temp_owner(file_name: &str) -> Option<(&str, u32)> {
    let rest = file_name.strip_prefix('.')?;
    let (target, pid) = rest.rsplit_once(".tmp-")?;
    let plain_number = !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit());
    if target.is_empty() || !plain_number {
        return None;
    }
    Some((target, pid.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_content_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/out.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(p.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("out.json")]);
    }

    #[test]
    fn temporary_names_are_recognised_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let tmp = write_temp(&dir.path().join("a.json"), b"x").unwrap();
        let name = tmp.file_name().unwrap().to_str().unwrap();
        assert_eq!(temp_owner(name), Some(("a.json", std::process::id())));
        for other in
            [".notes.tmp", "x.json.bak", "a.json.tmp-12", ".a.json.tmp-", ".a.json.tmp-1x", "..tmp-3", ".tmp-3"]
        {
            assert_eq!(temp_owner(other), None, "{other}");
        }
    }
}
