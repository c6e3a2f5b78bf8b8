//! Why a benchmark's cost changed between base and head: the per-op profiles of both sides
//! ([`super::ops`]) compared function by function and category by category, so that a regression the
//! gate flags comes with the functions whose instructions per op grew most.
//!
//! Functions are matched by their normalised name ([`Categories::normalise`]), not by file: base and
//! head are built in different directories, so the same function's source file differs in its path.
//! Code without a symbol, which callgrind names by its address, is matched by its file instead
//! ([`Function::stable_name`](super::callgrind::Function::stable_name)): addresses move between builds.
//! Functions that exist on one side only (new, removed, or renamed) count as zero on the other.

use std::collections::BTreeMap;

use serde::Serialize;

use super::category::Categories;
use super::dhat::{self, SiteChange};
use super::ops::OpProfile;

/// One function's instructions per op on both sides.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunctionChange {
    pub name: String,
    pub category: String,
    pub base: f64,
    pub head: f64,
}

impl FunctionChange {
    pub fn change(&self) -> f64 {
        self.head - self.base
    }
}

/// One category's instructions per op on both sides.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryChange {
    pub category: String,
    pub base: f64,
    pub head: f64,
}

/// What changed in one benchmark's per-op profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attribution {
    pub id: String,
    /// Instructions per op of the profiles (the instr lane's figures may differ slightly: the lane runs
    /// in a cleared environment).
    pub base_per_op: f64,
    pub head_per_op: f64,
    /// The functions whose cost grew, largest growth first (at most the `top` asked for).
    pub grew: Vec<FunctionChange>,
    /// The functions whose cost fell, largest fall first (at most `top`).
    pub shrank: Vec<FunctionChange>,
    /// Every category with cost on either side, largest growth first.
    pub categories: Vec<CategoryChange>,
    /// Allocation sites new in head or allocating more per op (DHAT, [`super::dhat::compare_sites`]);
    /// `None` where they were not measured.
    pub sites: Option<Vec<SiteChange>>,
    /// The differential flamegraph's file name, beside `attribution.json`, when one was drawn.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flamegraph: Option<String>,
    /// That flamegraph's SVG text, for the HTML report to show inline (not in `attribution.json`).
    #[serde(skip)]
    pub flamegraph_svg: Option<String>,
}

/// One side's instructions per op by function and by category: what [`compare`] needs of a profile.
/// Made from a per-op profile ([`function_costs`]) or read back from a saved profile baseline
/// ([`super::saved`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FunctionCosts {
    /// The profile's instructions per op ([`OpProfile::instructions_per_op`]).
    pub instructions_per_op: f64,
    /// Normalised function name -> (its category, instructions per op).
    pub functions: BTreeMap<String, (String, f64)>,
    /// Category -> instructions per op (of every function, including any left out of `functions`).
    pub categories: BTreeMap<String, f64>,
}

impl FunctionCosts {
    /// The same without the functions below `share` of the op's instructions (the categories keep
    /// their whole cost). Both sides of a comparison with a saved baseline are cut alike, so a function
    /// that is missing on one side was below the cut there, not absent.
    pub fn above(&self, share: f64) -> FunctionCosts {
        let cut = share * self.instructions_per_op;
        FunctionCosts {
            functions: self
                .functions
                .iter()
                .filter(|(_, (_, c))| *c >= cut)
                .map(|(n, v)| (n.clone(), v.clone()))
                .collect(),
            ..self.clone()
        }
    }
}

/// The per-function and per-category instructions per op of `p`, functions matched by their
/// normalised stable name (see the module documentation).
pub fn function_costs(p: &OpProfile, categories: &Categories) -> FunctionCosts {
    let mut out = FunctionCosts { instructions_per_op: p.instructions_per_op(), ..FunctionCosts::default() };
    for f in &p.delta.functions {
        let per_op = f.self_cost[0] as f64 / p.ops as f64;
        let category = categories.classify(f).to_owned();
        let name = f.stable_name();
        *out.categories.entry(category.clone()).or_default() += per_op;
        out.functions.entry(categories.normalise(&name).to_owned()).or_insert_with(|| (category, 0.0)).1 += per_op;
    }
    out
}

/// Compares the per-op profiles of `id` on base and head, keeping the `top` functions that grew and
/// the `top` that shrank most.
pub fn attribute(id: &str, base: &OpProfile, head: &OpProfile, categories: &Categories, top: usize) -> Attribution {
    compare(id, &function_costs(base, categories), &function_costs(head, categories), top)
}

/// Compares base's and head's costs of `id`, keeping the `top` functions that grew and the `top` that
/// shrank most; a function on one side only counts as zero on the other (its category is base's).
pub fn compare(id: &str, base: &FunctionCosts, head: &FunctionCosts, top: usize) -> Attribution {
    // name -> (category, base, head), per op.
    let mut functions: BTreeMap<&str, (&str, f64, f64)> =
        base.functions.iter().map(|(n, (c, cost))| (n.as_str(), (c.as_str(), *cost, 0.0))).collect();
    for (n, (c, cost)) in &head.functions {
        functions.entry(n).or_insert((c, 0.0, 0.0)).2 += cost;
    }
    let mut by_category: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
    for (c, cost) in &base.categories {
        by_category.entry(c).or_default().0 += cost;
    }
    for (c, cost) in &head.categories {
        by_category.entry(c).or_default().1 += cost;
    }
    let changes: Vec<FunctionChange> = functions
        .into_iter()
        .map(|(name, (category, base, head))| FunctionChange {
            name: name.to_owned(),
            category: category.to_owned(),
            base,
            head,
        })
        .collect();
    let mut grew: Vec<FunctionChange> = changes.iter().filter(|c| c.change() > 0.0).cloned().collect();
    grew.sort_by(|a, b| b.change().total_cmp(&a.change()).then_with(|| a.name.cmp(&b.name)));
    grew.truncate(top);
    let mut shrank: Vec<FunctionChange> = changes.into_iter().filter(|c| c.change() < 0.0).collect();
    shrank.sort_by(|a, b| a.change().total_cmp(&b.change()).then_with(|| a.name.cmp(&b.name)));
    shrank.truncate(top);
    let mut categories: Vec<CategoryChange> = by_category
        .into_iter()
        .map(|(category, (base, head))| CategoryChange { category: category.to_owned(), base, head })
        .collect();
    categories
        .sort_by(|a, b| (b.head - b.base).total_cmp(&(a.head - a.base)).then_with(|| a.category.cmp(&b.category)));
    Attribution {
        id: id.to_owned(),
        base_per_op: base.instructions_per_op,
        head_per_op: head.instructions_per_op,
        grew,
        shrank,
        categories,
        sites: None,
        flamegraph: None,
        flamegraph_svg: None,
    }
}

pub(crate) fn signed(v: f64) -> String {
    let s = crate::report::format_count(v.abs());
    if v < 0.0 { format!("−{s}") } else { format!("+{s}") }
}

pub(crate) fn percent_change(base: f64, head: f64) -> String {
    if base > 0.0 { format!("{:+.1}%", (head / base - 1.0) * 100.0) } else { "new".to_owned() }
}

/// The markdown section for the verdicts report: per benchmark, the functions that grew and the
/// categories that changed.
pub fn markdown(attributions: &[Attribution]) -> String {
    if attributions.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "\n## Where the regressions come from\n\nInstructions per op by function, base → head: each side's benchmark \
         under callgrind with 1 and 1 + K iterations, the difference divided by K. The raw profiles and a \
         differential flamegraph per benchmark (`*.diff.svg`: head's stacks, red where they grew, blue where \
         they shrank) are in `attribution/`.\n",
    );
    for a in attributions {
        out.push_str(&format!("\n### {}\n\n", a.id));
        out.push_str(&bench_markdown(
            a,
            "No function's instructions per op grew: the regression is not in the instructions executed (look at \
             allocations or wall time: memory, cache, layout).",
        ));
    }
    out
}

/// One benchmark's part of [`markdown`], without its heading: the instructions per op base → head,
/// the functions that grew (or `no_growth` when none did), the categories that moved, the
/// allocation sites that grew, the functions that fell most.
pub fn bench_markdown(a: &Attribution, no_growth: &str) -> String {
    let count = crate::report::format_count;
    let mut out = format!(
        "{} → {} instr/op ({}).\n\n",
        count(a.base_per_op),
        count(a.head_per_op),
        percent_change(a.base_per_op, a.head_per_op)
    );
    if a.grew.is_empty() {
        out.push_str(no_growth);
        out.push('\n');
    } else {
        out.push_str("| function | category | base | head | change |\n| --- | --- | ---: | ---: | ---: |\n");
        for f in &a.grew {
            out.push_str(&format!(
                "| `{}` | {} | {} | {} | {} ({}) |\n",
                f.name.replace('|', "\\|"),
                f.category,
                count(f.base),
                count(f.head),
                signed(f.change()),
                percent_change(f.base, f.head)
            ));
        }
    }
    let moved: Vec<String> = a
        .categories
        .iter()
        .filter(|c| (c.head - c.base).abs() >= 0.005 * a.base_per_op.max(1.0))
        .map(|c| format!("{} {}", c.category, signed(c.head - c.base)))
        .collect();
    if !moved.is_empty() {
        out.push_str(&format!("\nBy category (instr/op): {}.\n", moved.join(", ")));
    }
    if let Some(sites) = &a.sites {
        out.push_str("\nAllocation sites (DHAT) that are new or allocate more, per op, base → head:\n\n");
        out.push_str(&dhat::markdown(sites));
    }
    if !a.shrank.is_empty() {
        let fell: Vec<String> =
            a.shrank.iter().take(3).map(|f| format!("`{}` {}", f.name, signed(f.change()))).collect();
        out.push_str(&format!("\nFell: {}.\n", fell.join(", ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::callgrind::{Function, Profile};

    fn op_profile(ops: u64, functions: &[(&str, &str, u64)]) -> OpProfile {
        let functions: Vec<Function> = functions
            .iter()
            .map(|&(name, file, cost)| Function {
                name: name.into(),
                file: file.into(),
                object: "bin".into(),
                self_cost: vec![cost],
                inclusive: vec![cost],
                calls: Vec::new(),
            })
            .collect();
        let total = functions.iter().map(|f| f.self_cost[0]).sum();
        OpProfile {
            ops,
            delta: Profile { events: vec!["Ir".into()], totals: vec![total], functions, cmd: None },
            fell: 0,
            stacks: Default::default(),
            files: Vec::new(),
        }
    }

    #[test]
    fn the_function_that_grew_comes_first_matched_across_source_paths() {
        let categories = Categories::builtin();
        let base = op_profile(
            10,
            &[
                ("demo::work", "/base/src/lib.rs", 10_000),
                ("demo::parse", "/base/src/lib.rs", 5_000),
                ("malloc", "malloc.c", 1_000),
                ("memcpy@@GLIBC_2.14", "memcpy.S", 500),
            ],
        );
        let head = op_profile(
            20,
            &[
                ("demo::work", "/head/src/lib.rs", 40_000),
                ("demo::parse", "/head/src/lib.rs", 8_000),
                ("malloc", "malloc.c", 4_000),
                ("memcpy", "memcpy.S", 1_000),
                ("demo::new_helper", "/head/src/lib.rs", 200),
            ],
        );
        let a = attribute("demo/x", &base, &head, &categories, 3);
        assert_eq!((a.base_per_op, a.head_per_op), (1_650.0, 2_660.0));
        let grew: Vec<(&str, f64, f64)> = a.grew.iter().map(|f| (f.name.as_str(), f.base, f.head)).collect();
        assert_eq!(grew, [("demo::work", 1_000.0, 2_000.0), ("malloc", 100.0, 200.0), ("demo::new_helper", 0.0, 10.0)]);
        assert_eq!(a.grew[1].category, "allocation");
        // `parse` fell from 500 to 400 per op; memcpy (two symbol spellings, one function) stayed at 50.
        let shrank: Vec<(&str, f64)> = a.shrank.iter().map(|f| (f.name.as_str(), f.change())).collect();
        assert_eq!(shrank, [("demo::parse", -100.0)]);
        assert_eq!(a.categories[0].category, "application");
        assert_eq!((a.categories[0].base, a.categories[0].head), (1_500.0, 2_410.0));
        let md = markdown(std::slice::from_ref(&a));
        assert!(
            md.contains("### demo/x")
                && md.contains("| `demo::work` | application | 1,000 | 2,000 | +1,000 (+100.0%) |"),
            "{md}"
        );
        assert!(md.contains("| `demo::new_helper` | application | 0 | 10 | +10 (new) |"), "{md}");
        assert_eq!(markdown(&[]), "");
    }
}
