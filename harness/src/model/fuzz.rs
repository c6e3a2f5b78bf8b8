//! A seeded mutation fuzzer over the file loaders (results, noise floors, configuration) and what runs
//! on whatever they accept (compare, the reports): no input may panic. Byte-level mutations find the
//! parser's edge cases; value-level ones (a random node of a valid file replaced) reach validation and
//! the code behind it.

use std::panic::{AssertUnwindSafe, catch_unwind};

use serde_json::Value;

use crate::gate::Policy;
use crate::model::{NoiseFloors, Results};
use crate::stats::SplitMix64;

const SEED_RESULTS: &str = include_str!("../../../docs/example-results.json");

/// Tokens inserted or substituted: JSON syntax, numbers at and past every limit, non-ASCII text.
const TOKENS: [&str; 28] = [
    "\"",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "-",
    "0",
    "-0.0",
    "1e308",
    "-1e308",
    "1e999",
    "4.9e-324",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775809",
    "NaN",
    "null",
    "true",
    "\"\"",
    "[]",
    "{}",
    "\"é\"",
    "日本語",
    "\u{feff}",
    "\\u0000",
    "\"../../x\"",
];

/// Values a node of a valid file is replaced with.
fn random_value(rng: &mut SplitMix64) -> Value {
    match rng.below(12) {
        0 => Value::Null,
        1 => Value::Bool(rng.below(2) == 0),
        2 => Value::from(0),
        3 => Value::from(-1),
        4 => Value::from(-1.5e300),
        5 => Value::from(u64::MAX),
        6 => Value::from(i64::MIN),
        7 => Value::from(1e-300),
        8 => Value::String(String::new()),
        9 => Value::String("../é/日本".into()),
        10 => Value::Array(Vec::new()),
        _ => Value::Object(serde_json::Map::new()),
    }
}

/// Every node of `v`, by JSON pointer.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| pointers(x, format!("{at}/{i}"), out)),
        Value::Object(o) => {
            o.iter().for_each(|(k, x)| pointers(x, format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), out))
        }
        _ => {}
    }
    out.push(at);
}

/// A valid document with one to three nodes replaced, removed (from an array) or emptied.
fn mutate_value(seed: &Value, rng: &mut SplitMix64) -> String {
    let mut v = seed.clone();
    for _ in 0..=rng.below(3) {
        let mut all = Vec::new();
        pointers(&v, String::new(), &mut all);
        let p = &all[rng.below(all.len() as u64) as usize];
        if let Some(node) = v.pointer_mut(p) {
            *node = match (rng.below(4), &*node) {
                (0, Value::Array(a)) if !a.is_empty() => Value::Array(a[..a.len() - 1].to_vec()),
                // Parallel arrays (samples, sample_iters, rounds) cut to one length, down to empty: what
                // validation must still catch when the lengths agree.
                (0 | 2, Value::Object(o)) => {
                    let k = rng.below(3) as usize;
                    let mut o = o.clone();
                    let longest = o.values().filter_map(Value::as_array).map(Vec::len).max().unwrap_or(0);
                    let parallel = o.values_mut().filter_map(Value::as_array_mut).filter(|a| a.len() == longest);
                    parallel.for_each(|a| a.truncate(k));
                    Value::Object(o)
                }
                (1, Value::Number(n)) => Value::from(-n.as_f64().unwrap_or(1.0)),
                _ => random_value(rng),
            };
        }
    }
    serde_json::to_string_pretty(&v).unwrap()
}

/// `text` with one to four byte-level edits; the result may be invalid UTF-8, read lossily as a file is.
fn mutate_bytes(text: &str, rng: &mut SplitMix64) -> String {
    let mut b = text.as_bytes().to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(b.len() as u64 + 1) as usize;
        match rng.below(5) {
            0 => b.truncate(at),
            1 if at < b.len() => b[at] = rng.below(256) as u8,
            2 => {
                let t = TOKENS[rng.below(TOKENS.len() as u64) as usize];
                b.splice(at..at, t.bytes());
            }
            3 => {
                let end = (at + rng.below(64) as usize).min(b.len());
                b.drain(at..end);
            }
            _ => {
                let end = (at + rng.below(64) as usize).min(b.len());
                let span = b[at..end].to_vec();
                b.splice(at..at, span);
            }
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

/// Runs `f`, failing the test with the input that made it panic.
fn no_panic(what: &str, input: &str, f: impl FnOnce()) {
    if catch_unwind(AssertUnwindSafe(f)).is_err() {
        let path = std::env::temp_dir().join(format!("benchgate-fuzz-{what}-{}.txt", std::process::id()));
        let _ = std::fs::write(&path, input);
        panic!("{what} panicked on an input kept in {}", path.display());
    }
}

/// Everything that runs on an accepted results file: the tables, and a comparison with the seed both
/// ways, rendered as every report renders it.
fn use_results(seed: &Results, r: &Results, noise: Option<&NoiseFloors>) {
    let config = crate::config::Config::builtin();
    let mut policy = Policy::new(&config.gate);
    policy.noise = noise;
    let _ = crate::report::table::render(r);
    let _ = crate::report::summary::of_run(r, None);
    let _ = crate::report::export::bmf(r);
    for (base, head) in [(seed, r), (r, seed), (r, r)] {
        let v = crate::compare::compare(base, head, &policy);
        let summary = crate::report::summary::of_compare(&v, Some(base), Some(head), None);
        let _ = crate::report::verdicts::table(&v, &summary);
        let _ = crate::report::verdicts::markdown(&v, &summary);
        let _ = crate::report::html::html(&v, Some(base), Some(head), &[], &summary);
    }
}

const ROUNDS: u64 = 1500;

#[test]
fn no_results_file_panics_the_loader_or_what_runs_on_it() {
    let seed = Results::parse(SEED_RESULTS).expect("the example results are valid");
    let seed_value: Value = serde_json::from_str(SEED_RESULTS).unwrap();
    let mut rng = SplitMix64::new(0xf022);
    let mut accepted = [0u32; 2];
    for i in 0..2 * ROUNDS {
        let bytes = i % 2 == 0;
        let text = if bytes { mutate_bytes(SEED_RESULTS, &mut rng) } else { mutate_value(&seed_value, &mut rng) };
        no_panic("results", &text, || {
            if let Ok(r) = Results::parse(&text) {
                accepted[usize::from(bytes)] += 1;
                use_results(&seed, &r, None);
            }
        });
    }
    // The fuzzer reaches past the parser: a share of the mutants are valid files that compare runs on.
    assert!(accepted.iter().all(|a| *a > 20), "accepted mutants (value, byte): {accepted:?}");
}

#[test]
fn no_noise_file_panics_the_loader_or_a_comparison_using_it() {
    let results = Results::parse(SEED_RESULTS).unwrap();
    let mut floors = NoiseFloors {
        noise_schema_version: super::noise::NOISE_SCHEMA_VERSION,
        runner_class: "ci".into(),
        created_at: results.meta.started_at.clone(),
        mode: results.meta.mode,
        runs: 5,
        alpha: 0.001,
        machine: results.meta.machine.clone(),
        toolchain: results.meta.toolchain.clone(),
        benchmarks: Default::default(),
    };
    for (i, b) in results.benchmarks.iter().enumerate() {
        let metrics = floors.benchmarks.entry(b.id.clone()).or_default();
        metrics.insert("ns_per_op".into(), super::noise::Floor { floor: 0.01 * i as f64, spread: 0.005 });
        metrics.insert("allocs_per_op".into(), super::noise::Floor { floor: 1.0, spread: 1.0 });
    }
    let text = floors.to_json();
    let value: Value = serde_json::from_str(&text).unwrap();
    let mut rng = SplitMix64::new(0xf023);
    let mut accepted = 0;
    for i in 0..2 * ROUNDS {
        let mutant = if i % 2 == 0 { mutate_bytes(&text, &mut rng) } else { mutate_value(&value, &mut rng) };
        no_panic("noise", &mutant, || {
            if let Ok(n) = NoiseFloors::parse(&mutant) {
                accepted += 1;
                use_results(&results, &results, Some(&n));
            }
        });
    }
    assert!(accepted > 20, "accepted mutants: {accepted}");
}

#[test]
fn no_configuration_file_panics_the_loader() {
    let seed = include_str!("../../../benchgate.toml");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("benchgate.toml");
    let mut rng = SplitMix64::new(0xf024);
    // Fewer rounds: each load compiles the configuration's category rules (regular expressions).
    for _ in 0..ROUNDS / 30 {
        let mutant = mutate_bytes(seed, &mut rng);
        std::fs::write(&path, &mutant).unwrap();
        no_panic("config", &mutant, || {
            let _ = crate::config::Config::load(&path, true);
        });
    }
}
