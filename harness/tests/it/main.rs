//! End-to-end tests of the `benchgate` binary on the fixture workspace (harness/tests/fixture), whose
//! benchmarks have known allocation counts, a panic, a hang and a benchmark that starts a process.

mod adopter;
mod baseline;
mod boundary;
mod browser;
mod cli;
mod lanes;
mod processes;
mod profile;
mod revision;
mod shards;
mod suites;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The fixture workspace's manifest.
pub fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixture/Cargo.toml")
}

/// A `benchgate` command on the fixture, with its own target directory.
pub fn benchgate() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_benchgate"));
    cmd.env("CARGO_TARGET_DIR", Path::new(env!("CARGO_TARGET_TMPDIR")).join("fixture-target"));
    cmd.arg("--manifest-path").arg(fixture());
    cmd
}

/// Builds the fixture once per test process (tests run in parallel; cargo would serialize anyway).
pub fn built() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let out = benchgate().arg("build").output().unwrap();
        assert!(out.status.success(), "fixture build failed:\n{}", String::from_utf8_lossy(&out.stderr));
    });
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
