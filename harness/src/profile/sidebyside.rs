//! Implementations side by side: for a suite whose ids name an implementation and an operation
//! (`suite/<implementation>/<operation>[/<param>]`, as the curated storage, queue and compression
//! suites do), each implementation's figures next to the others' — instructions per op of every
//! operation, peak heap, where the cost goes, top functions and allocation sites — and conclusions
//! derived from those numbers. The shape of a hand-written engine comparison (seed 000), computed.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::report::{format_bytes, format_count, format_ns};

/// What the comparison needs of one profiled benchmark.
#[derive(Debug, Clone, PartialEq)]
pub struct Profiled {
    pub id: String,
    pub instructions_per_op: f64,
    /// Highest live heap above the start level while the alloc lane counted, if it did.
    pub peak_heap: Option<u64>,
    pub bytes_per_op: Option<f64>,
    /// Category shares of the op, any order.
    pub categories: Vec<(String, f64)>,
    /// Functions and their instructions per op, any order.
    pub functions: Vec<(String, f64)>,
    /// Allocation sites (first frame of the asking code) and their bytes per op, any order.
    pub sites: Vec<(String, f64)>,
    /// CPU time per op measured natively, user and system (kernel) nanoseconds, if measured.
    pub cpu_ns: Option<(f64, f64)>,
}

/// One implementation's summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Implementation {
    pub name: String,
    pub benchmarks: usize,
    /// The largest peak heap over its benchmarks and the benchmark it came from.
    pub peak_heap: Option<(u64, String)>,
    /// Category shares averaged over its benchmarks (each weighs the same), highest first.
    pub categories: Vec<(String, f64)>,
    /// Functions by instructions, one op of each of its benchmarks added up, highest first (top 5).
    pub top_functions: Vec<(String, f64)>,
    /// Allocation sites by bytes, one op of each benchmark added up, highest first (top 5).
    pub top_sites: Vec<(String, f64)>,
    /// The kernel's share of CPU time, averaged over its benchmarks whose CPU time was measured.
    pub kernel_share: Option<f64>,
}

/// The comparison of one suite.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SideBySide {
    pub suite: String,
    pub implementations: Vec<Implementation>,
    /// Operation -> implementation -> instructions per op, for operations at least two have.
    pub operations: BTreeMap<String, BTreeMap<String, f64>>,
    /// Operation -> implementation -> CPU time per op measured natively, (user, system) nanoseconds,
    /// for operations at least two have measured; what the instruction counts leave out is the kernel's.
    pub cpu_time: BTreeMap<String, BTreeMap<String, (f64, f64)>>,
    /// Sentences derived from the figures above.
    pub conclusions: Vec<String>,
}

/// `(suite, implementation, operation)` of an id with at least three segments.
fn split(id: &str) -> Option<(&str, &str, &str)> {
    let mut parts = id.splitn(3, '/');
    let (suite, implementation, operation) = (parts.next()?, parts.next()?, parts.next()?);
    (!operation.is_empty()).then_some((suite, implementation, operation))
}

fn top(mut items: BTreeMap<String, f64>, n: usize) -> Vec<(String, f64)> {
    items.retain(|_, v| *v > 0.0);
    let mut v: Vec<(String, f64)> = items.into_iter().collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.truncate(n);
    v
}

/// The side-by-side comparison of every suite in `benchmarks` with at least two implementations
/// that share an operation. An implementation whose mean kernel share of CPU time exceeds
/// `kernel_notable` (the threshold of the rule on `system_time_share`; `None`: no such rule) gets a
/// sentence of its own.
pub fn compare(benchmarks: &[Profiled], kernel_notable: Option<f64>) -> Vec<SideBySide> {
    // suite -> implementation -> (operation, benchmark)
    type ByImplementation<'a> = BTreeMap<&'a str, Vec<(&'a str, &'a Profiled)>>;
    let mut suites: BTreeMap<&str, ByImplementation> = BTreeMap::new();
    for b in benchmarks {
        if let Some((suite, implementation, operation)) = split(&b.id) {
            suites.entry(suite).or_default().entry(implementation).or_default().push((operation, b));
        }
    }
    let mut out = Vec::new();
    for (suite, impls) in suites {
        let mut operations: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
        let mut cpu_time: BTreeMap<String, BTreeMap<String, (f64, f64)>> = BTreeMap::new();
        for (name, benches) in &impls {
            for (op, b) in benches {
                operations.entry((*op).to_owned()).or_default().insert((*name).to_owned(), b.instructions_per_op);
                if let Some(cpu) = b.cpu_ns {
                    cpu_time.entry((*op).to_owned()).or_default().insert((*name).to_owned(), cpu);
                }
            }
        }
        operations.retain(|_, by_impl| by_impl.len() >= 2);
        cpu_time.retain(|_, by_impl| by_impl.len() >= 2);
        if impls.len() < 2 || operations.is_empty() {
            continue;
        }
        let implementations: Vec<Implementation> = impls
            .iter()
            .map(|(name, benches)| {
                let mut categories: BTreeMap<String, f64> = BTreeMap::new();
                let mut functions: BTreeMap<String, f64> = BTreeMap::new();
                let mut sites: BTreeMap<String, f64> = BTreeMap::new();
                for (_, b) in benches {
                    for (c, s) in &b.categories {
                        *categories.entry(c.clone()).or_default() += s / benches.len() as f64;
                    }
                    for (f, v) in &b.functions {
                        *functions.entry(f.clone()).or_default() += v;
                    }
                    for (site, v) in &b.sites {
                        *sites.entry(site.clone()).or_default() += v;
                    }
                }
                let kernel: Vec<f64> = benches
                    .iter()
                    .filter_map(|(_, b)| b.cpu_ns)
                    .filter(|(user, sys)| user + sys > 0.0)
                    .map(|(user, sys)| sys / (user + sys))
                    .collect();
                let kernel_share = (!kernel.is_empty()).then(|| kernel.iter().sum::<f64>() / kernel.len() as f64);
                let peak_heap = benches
                    .iter()
                    .filter_map(|(_, b)| Some((b.peak_heap?, b.id.clone())))
                    .max_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.cmp(&a.1)));
                Implementation {
                    name: (*name).to_owned(),
                    benchmarks: benches.len(),
                    peak_heap,
                    categories: top(categories, usize::MAX),
                    top_functions: top(functions, 5),
                    top_sites: top(sites, 5),
                    kernel_share,
                }
            })
            .collect();
        let conclusions = conclusions(&implementations, &operations, &cpu_time, kernel_notable);
        out.push(SideBySide { suite: suite.to_owned(), implementations, operations, cpu_time, conclusions });
    }
    out
}

/// Per implementation, the operations in which it has the lowest figure, most operations first.
fn winners<V>(
    operations: &BTreeMap<String, BTreeMap<String, V>>,
    figure: impl Fn(&V) -> f64,
) -> Vec<(&str, Vec<&str>)> {
    let mut wins: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (op, by_impl) in operations {
        let best = by_impl.iter().min_by(|a, b| figure(a.1).total_cmp(&figure(b.1)).then_with(|| a.0.cmp(b.0)));
        if let Some((best, _)) = best {
            wins.entry(best.as_str()).or_default().push(op.as_str());
        }
    }
    let mut ranked: Vec<(&str, Vec<&str>)> = wins.into_iter().collect();
    ranked.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.0.cmp(b.0)));
    ranked
}

fn conclusions(
    impls: &[Implementation],
    operations: &BTreeMap<String, BTreeMap<String, f64>>,
    cpu_time: &BTreeMap<String, BTreeMap<String, (f64, f64)>>,
    kernel_notable: Option<f64>,
) -> Vec<String> {
    let mut out = Vec::new();
    // Who executes the fewest instructions, operation by operation.
    for (name, ops) in winners(operations, |v| *v) {
        out.push(format!(
            "{name} executes the fewest instructions per op in {} of {} operations ({}).",
            ops.len(),
            operations.len(),
            ops.join(", ")
        ));
    }
    // Who takes the least CPU time, kernel included: the ranking instructions alone can get wrong.
    for (name, ops) in winners(cpu_time, |(user, sys)| user + sys) {
        out.push(format!(
            "{name} takes the least CPU time per op, user and kernel together, in {} of {} operations ({}).",
            ops.len(),
            cpu_time.len(),
            ops.join(", ")
        ));
    }
    for i in impls {
        if let Some(share) = i.kernel_share.filter(|s| kernel_notable.is_some_and(|t| *s > t)) {
            out.push(format!(
                "{} spends {:.1}% of its CPU time in the kernel (mean over its benchmarks): a cost the \
                 instruction counts do not include.",
                i.name,
                share * 100.0
            ));
        }
    }
    // The widest spread of one operation between implementations.
    if let Some((op, lo, hi)) = operations
        .iter()
        .filter_map(|(op, by_impl)| {
            let lo = by_impl.iter().min_by(|a, b| a.1.total_cmp(b.1))?;
            let hi = by_impl.iter().max_by(|a, b| a.1.total_cmp(b.1))?;
            (*lo.1 > 0.0).then_some((op, lo, hi))
        })
        .max_by(|a, b| (a.2.1 / a.1.1).total_cmp(&(b.2.1 / b.1.1)))
    {
        out.push(format!(
            "The widest gap is in {op}: {} needs {:.1}× the instructions of {} ({} against {} per op).",
            hi.0,
            hi.1 / lo.1,
            lo.0,
            format_count(*hi.1),
            format_count(*lo.1)
        ));
    }
    // Memory: smallest against largest peak heap.
    let heaps: Vec<(&str, u64, &str)> =
        impls.iter().filter_map(|i| i.peak_heap.as_ref().map(|(p, id)| (i.name.as_str(), *p, id.as_str()))).collect();
    let smallest = heaps.iter().min_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(b.0)));
    let largest = heaps.iter().max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)));
    if let (Some(s), Some(l)) = (smallest, largest)
        && heaps.len() >= 2
        && l.1 > s.1
    {
        let times = if s.1 > 0 { format!(", {:.1}× as much", l.1 as f64 / s.1 as f64) } else { String::new() };
        out.push(format!(
            "Peak heap: {} is the largest at {} (in {}){times}; {} the smallest at {} (in {}).",
            l.0,
            format_bytes(l.1 as f64),
            l.2,
            s.0,
            format_bytes(s.1 as f64),
            s.2
        ));
    }
    // What dominates each implementation's cost.
    for i in impls {
        if let Some((c, share)) = i.categories.first() {
            let function = i.top_functions.first().map(|(f, _)| format!("; its costliest function is `{f}`"));
            out.push(format!(
                "{}: {} is the largest cost category ({:.1}% of the op on average){}.",
                i.name,
                c,
                share * 100.0,
                function.unwrap_or_default()
            ));
        }
    }
    out
}

/// The rest of a per-operation table's header after `| operation |`: one column per implementation.
fn header_cells(out: &mut String, names: &BTreeSet<&str>) {
    for n in names {
        out.push_str(&format!(" {n} |"));
    }
    out.push_str("\n| --- |");
    out.push_str(&" ---: |".repeat(names.len()));
    out.push('\n');
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// The markdown section: per suite, the operations table, the implementations table and the
/// conclusions.
pub fn markdown(all: &[SideBySide]) -> String {
    let mut out = String::new();
    for s in all {
        out.push_str(&format!("\n## Implementations side by side: {}\n\n", s.suite));
        let names: BTreeSet<&str> = s.implementations.iter().map(|i| i.name.as_str()).collect();
        out.push_str(
            "Instructions per op (fewest in bold). Callgrind counts user-space instructions only: time in the \
             kernel (fsync, page faults of memory-mapped files) is not in these figures; the CPU time below has \
             it.\n\n| operation |",
        );
        header_cells(&mut out, &names);
        for (op, by_impl) in &s.operations {
            let best = by_impl.values().copied().fold(f64::INFINITY, f64::min);
            out.push_str(&format!("| {op} |"));
            for n in &names {
                match by_impl.get(*n) {
                    Some(v) if *v == best => out.push_str(&format!(" **{}** |", format_count(*v))),
                    Some(v) => out.push_str(&format!(" {} |", format_count(*v))),
                    None => out.push_str(" — |"),
                }
            }
            out.push('\n');
        }
        if !s.cpu_time.is_empty() {
            out.push_str(
                "\nCPU time per op measured natively, user + system (the kernel's share in brackets; least in \
                 bold).\n\n| operation |",
            );
            header_cells(&mut out, &names);
            for (op, by_impl) in &s.cpu_time {
                let best = by_impl.values().map(|(u, k)| u + k).fold(f64::INFINITY, f64::min);
                out.push_str(&format!("| {op} |"));
                for n in &names {
                    match by_impl.get(*n) {
                        Some((user, sys)) => {
                            let total = user + sys;
                            let kernel = if total > 0.0 { sys / total * 100.0 } else { 0.0 };
                            let figure = format_ns(total);
                            let figure = if total == best { format!("**{figure}**") } else { figure };
                            out.push_str(&format!(" {figure} ({kernel:.0}%) |"));
                        }
                        None => out.push_str(" — |"),
                    }
                }
                out.push('\n');
            }
        }
        out.push_str(
            "\n| implementation | peak heap | largest cost categories | top functions (instr, one op of each benchmark) | top allocation sites (bytes) |\n| --- | ---: | --- | --- | --- |\n",
        );
        for i in &s.implementations {
            let heap = i
                .peak_heap
                .as_ref()
                .map(|(p, id)| format!("{} ({})", format_bytes(*p as f64), id))
                .unwrap_or_else(|| "n/a".into());
            let cats: Vec<String> =
                i.categories.iter().take(3).map(|(c, s)| format!("{c} {:.1}%", s * 100.0)).collect();
            let funcs: Vec<String> =
                i.top_functions.iter().take(3).map(|(f, v)| format!("`{}` {}", cell(f), format_count(*v))).collect();
            let sites: Vec<String> =
                i.top_sites.iter().take(3).map(|(f, v)| format!("`{}` {}", cell(f), format_bytes(*v))).collect();
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                i.name,
                heap,
                cats.join(", "),
                funcs.join("<br>"),
                if sites.is_empty() { "n/a".to_owned() } else { sites.join("<br>") }
            ));
        }
        out.push_str("\n**Conclusions** (from the figures above):\n\n");
        for c in &s.conclusions {
            out.push_str(&format!("- {c}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bench(id: &str, instr: f64, peak: Option<u64>, cats: &[(&str, f64)], funcs: &[(&str, f64)]) -> Profiled {
        Profiled {
            id: id.into(),
            instructions_per_op: instr,
            peak_heap: peak,
            bytes_per_op: None,
            categories: cats.iter().map(|(c, s)| ((*c).into(), *s)).collect(),
            functions: funcs.iter().map(|(f, v)| ((*f).into(), *v)).collect(),
            sites: Vec::new(),
            cpu_ns: None,
        }
    }

    #[test]
    fn engines_are_compared_operation_by_operation_with_conclusions_from_the_numbers() {
        let benches = [
            bench(
                "storage/redb/get",
                6_000.0,
                Some(84),
                &[("application", 0.9), ("allocation", 0.1)],
                &[("redb::get", 5_000.0)],
            ),
            bench(
                "storage/redb/load/10000",
                98e6,
                Some(5_000_000),
                &[("application", 0.7), ("copying", 0.3)],
                &[("redb::insert", 60e6)],
            ),
            bench("storage/lmdb/get", 2_400.0, Some(0), &[("application", 1.0)], &[("mdb_get", 2_000.0)]),
            bench(
                "storage/lmdb/load/10000",
                30e6,
                Some(622),
                &[("syscalls", 0.6), ("application", 0.4)],
                &[("mdb_put", 20e6)],
            ),
            bench("storage/lmdb/only-here", 10.0, None, &[("application", 1.0)], &[]),
            // A suite with one implementation, and an id without an operation, are not compared.
            bench("solo/a/op", 1.0, None, &[], &[]),
            bench("short/id", 1.0, None, &[], &[]),
        ];
        let mut benches = benches;
        benches[2].sites = vec![("lmdb::open (lib.rs:3)".into(), 16.0), ("heed::txn (txn.rs:9)".into(), 8.0)];
        benches[3].sites = vec![("lmdb::open (lib.rs:3)".into(), 600.0)];
        let all = compare(&benches, Some(0.2));
        assert_eq!(all.len(), 1);
        let s = &all[0];
        assert_eq!(s.suite, "storage");
        assert_eq!(s.operations.keys().collect::<Vec<_>>(), ["get", "load/10000"]);
        let lmdb = s.implementations.iter().find(|i| i.name == "lmdb").unwrap();
        assert_eq!(lmdb.benchmarks, 3);
        assert_eq!(lmdb.peak_heap, Some((622, "storage/lmdb/load/10000".to_owned())));
        assert_eq!(lmdb.top_functions[0], ("mdb_put".to_owned(), 20e6));
        assert_eq!(
            lmdb.top_sites,
            [("lmdb::open (lib.rs:3)".to_owned(), 616.0), ("heed::txn (txn.rs:9)".to_owned(), 8.0)]
        );
        assert_eq!(lmdb.categories[0].0, "application");
        assert!((lmdb.categories[0].1 - 0.8).abs() < 1e-12, "{:?}", lmdb.categories);
        assert_eq!(
            s.conclusions[..3],
            [
                "lmdb executes the fewest instructions per op in 2 of 2 operations (get, load/10000).".to_owned(),
                "The widest gap is in load/10000: redb needs 3.3× the instructions of lmdb (98,000,000 against 30,000,000 per op).".to_owned(),
                "Peak heap: redb is the largest at 4.77 MiB (in storage/redb/load/10000), 8038.6× as much; lmdb the smallest at 622 B (in storage/lmdb/load/10000).".to_owned(),
            ]
        );
        let md = markdown(&all);
        assert!(md.contains("| get | **2,400** | 6,000 |"), "{md}");
        assert!(md.contains("`lmdb::open (lib.rs:3)` 616 B<br>`heed::txn (txn.rs:9)` 8 B |"), "{md}");
        assert!(md.contains("- redb: application is the largest cost category (80.0% of the op on average); its costliest function is `redb::insert`."), "{md}");
        // Without CPU time, no CPU table and no sentence about it.
        assert!(s.cpu_time.is_empty() && !md.contains("CPU time per op measured natively"), "{md}");

        // With it: lmdb executes fewer instructions, but redb takes less CPU time in load, where lmdb's
        // time is mostly the kernel's.
        benches[0].cpu_ns = Some((900.0, 100.0));
        benches[1].cpu_ns = Some((20e6, 5e6));
        benches[2].cpu_ns = Some((400.0, 0.0));
        benches[3].cpu_ns = Some((8e6, 32e6));
        let all = compare(&benches, Some(0.2));
        let s = &all[0];
        assert_eq!(s.cpu_time["load/10000"]["lmdb"], (8e6, 32e6));
        let lmdb = s.implementations.iter().find(|i| i.name == "lmdb").unwrap();
        // (0 + 0.8) / 2: the benchmark without CPU time does not count.
        assert_eq!(lmdb.kernel_share, Some(0.4));
        let said = |text: &str| s.conclusions.iter().any(|c| c == text);
        assert!(
            said("lmdb takes the least CPU time per op, user and kernel together, in 1 of 2 operations (get)."),
            "{:#?}",
            s.conclusions
        );
        assert!(
            said("redb takes the least CPU time per op, user and kernel together, in 1 of 2 operations (load/10000)."),
            "{:#?}",
            s.conclusions
        );
        assert!(
            said(
                "lmdb spends 40.0% of its CPU time in the kernel (mean over its benchmarks): a cost the instruction counts do not include."
            ),
            "{:#?}",
            s.conclusions
        );
        // redb: (0.1 + 0.2) / 2 = 15%, under the 20% worth a sentence.
        assert!(!s.conclusions.iter().any(|c| c.starts_with("redb spends")), "{:#?}", s.conclusions);
        let md = markdown(&all);
        assert!(md.contains("| load/10000 | 40.0 ms (80%) | **25.0 ms** (20%) |"), "{md}");
    }
}
