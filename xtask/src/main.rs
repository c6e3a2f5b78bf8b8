//! `cargo xtask`: thin glue over the benchgate library for this repository's own workflows.
//!
//! `cargo xtask bench [ARGS]` is `benchgate run [ARGS]` on this workspace; `cargo xtask schema`
//! regenerates docs/results.schema.json; `cargo xtask suite-tables RESULTS` writes the figures of a run
//! into the curated suites' READMEs; `cargo xtask scale-compare [N]` times `benchgate compare` of N
//! synthetic benchmarks (`scale.rs`).

use std::ffi::OsString;

mod scale;
mod suite_tables;

fn main() {
    let mut args = std::env::args_os().skip(1);
    let code = match args.next().as_deref().and_then(|a| a.to_str()) {
        Some("bench") => {
            let forwarded = [OsString::from("benchgate"), OsString::from("run")].into_iter().chain(args);
            cargo_benchgate::cli::main(forwarded)
        }
        Some("schema") => {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/results.schema.json");
            match cargo_benchgate::fsutil::write_atomic(&path, cargo_benchgate::model::json_schema().as_bytes()) {
                Ok(()) => {
                    eprintln!("wrote {}", path.display());
                    0
                }
                Err(e) => {
                    eprintln!("xtask: {}: {e}", path.display());
                    2
                }
            }
        }
        Some("suite-tables") => match args.next() {
            Some(results) => suite_tables::run(std::path::Path::new(&results)),
            None => {
                eprintln!("usage: cargo xtask suite-tables RESULTS.json");
                2
            }
        },
        Some("scale-compare") => scale::run(&args.map(|a| a.to_string_lossy().into_owned()).collect::<Vec<_>>()),
        Some("scale-compare-child") => scale::child(args),
        _ => {
            eprintln!(
                "usage: cargo xtask bench [benchgate run options]\n       cargo xtask schema\n       \
                 cargo xtask suite-tables RESULTS.json\n       cargo xtask scale-compare [BENCHMARKS] [--without-rounds]"
            );
            2
        }
    };
    std::process::exit(code);
}
