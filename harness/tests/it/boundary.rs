//! The boundary between the bench side and the tool (ARCHITECTURE.md, "The boundary: two crates"):
//! what a bench file compiles stays serde and serde_json, and the tool works as a cargo subcommand.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// Every crate a bench binary may compile because it depends on `benchgate`: the crate itself, serde
/// and serde_json, and theirs. A new entry here is a decision for ARCHITECTURE.md, not a test update.
const BENCH_SIDE: &[&str] = &[
    "benchgate",
    "itoa",
    "memchr",
    "proc-macro2",
    "quote",
    "serde",
    "serde_core",
    "serde_derive",
    "serde_json",
    "syn",
    "unicode-ident",
    "zmij",
];

/// The crate names `cargo tree` lists for `manifest` (normal and dev dependencies of its packages,
/// `package` only when given), without the roots named in `roots`.
fn tree(manifest: &Path, package: Option<&str>, edges: &str, roots: &[&str]) -> BTreeSet<String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["tree", "--locked", "--prefix", "none", "--format", "{lib}", "-e", edges, "--manifest-path"]);
    cmd.arg(manifest);
    if let Some(p) = package {
        cmd.args(["-p", p]);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "cargo tree: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(|name| name.replace('_', "-")))
        .filter(|name| !roots.contains(&name.as_str()))
        .collect()
}

fn allowed() -> BTreeSet<String> {
    BENCH_SIDE.iter().map(|c| c.replace('_', "-")).collect()
}

#[test]
fn the_bench_side_depends_on_serde_and_serde_json_only() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
    let got = tree(&root, Some("benchgate"), "normal", &[]);
    assert_eq!(got, allowed(), "crates a bench binary compiles through benchgate");
}

#[test]
fn the_adopter_and_the_fixture_compile_the_bench_side_alone() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (manifest, root) in
        [(here.join("../examples/adopter/Cargo.toml"), "adopter"), (here.join("tests/fixture/Cargo.toml"), "fixture")]
    {
        let got = tree(&manifest, None, "normal,dev", &[root]);
        assert_eq!(got, allowed(), "{}", manifest.display());
    }
}

/// `cargo benchgate` from an installed binary (the built `cargo-benchgate` copied into a directory on
/// PATH, as `cargo install` leaves it) in a scratch workspace that is not this repository.
#[test]
fn cargo_benchgate_runs_as_a_cargo_subcommand_in_any_workspace() {
    let bin = tempfile::tempdir().unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_cargo-benchgate"), bin.path().join("cargo-benchgate")).unwrap();
    let scratch = tempfile::tempdir().unwrap();
    std::fs::write(
        scratch.path().join("Cargo.toml"),
        "[package]\nname = \"scratch\"\nversion = \"0.0.0\"\nedition = \"2024\"\n",
    )
    .unwrap();
    std::fs::create_dir(scratch.path().join("src")).unwrap();
    std::fs::write(scratch.path().join("src/lib.rs"), "").unwrap();
    let path = std::env::join_paths(
        std::iter::once(bin.path().to_owned()).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let run = |args: &[&str]| {
        let out =
            Command::new(&cargo).arg("benchgate").args(args).current_dir(scratch.path()).env("PATH", &path).output();
        out.unwrap()
    };
    let help = run(&["--help"]);
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(help.status.success(), "{}", String::from_utf8_lossy(&help.stderr));
    assert!(text.contains("Usage: cargo benchgate") && text.contains("run"), "{text}");
    let version = run(&["--version"]);
    assert!(String::from_utf8_lossy(&version.stdout).contains(env!("CARGO_PKG_VERSION")));
    // In a workspace without benchgate benchmarks: the error says so (exit 2), naming the workspace.
    let list = run(&["list"]);
    let err = String::from_utf8_lossy(&list.stderr);
    assert_eq!(list.status.code(), Some(2), "{err}");
    assert!(err.contains(&scratch.path().display().to_string()) || err.contains("scratch"), "{err}");
}
