//! Named profile baselines (`profile --save-baseline NAME`, `profile --baseline NAME`): what a later
//! comparison needs of a profile, per benchmark — instructions per op by function and by category, the
//! folded stacks of a differential flamegraph, the allocation sites and the decision — kept small,
//! versioned and one entry a line, and today's profile compared with it through [`super::attribute`]
//! (functions, categories), [`super::dhat::compare_sites`] (allocation sites) and
//! [`super::flame::differential_svg`].
//!
//! What is kept, and why it is enough: functions of at least [`FUNCTION_SHARE`] of the op's
//! instructions (today's are cut the same way before comparing, so a function on one side only was
//! below the cut on the other); every category's whole cost; the stacks as
//! [`flame::merge_small`](super::flame::merge_small) leaves them at [`STACK_SHARE`] (the flamegraph
//! `run --compare` draws merges the same way); the [`SITES_KEPT`] largest allocation sites. Frames
//! that name a build rather than code — code without a symbol, named by its address, and cargo's
//! `-<hash>` suffix of a binary's name — are made stable on both sides ([`stable_frame`]), as a
//! baseline is compared with another build.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::attribute::{self, Attribution, FunctionCosts};
use super::decide::{Decision, Outcome};
use super::dhat::{self, OpSites, SiteChange, SiteDelta};
use super::flame::{self, Folded};
use super::ops::OpProfile;
use crate::model::RunMode;

/// The format version of a profile baseline file; bumped when its shape changes.
pub const PROFILE_BASELINE_VERSION: u32 = 1;

/// Functions below this share of the op's instructions are not kept (0.01%).
pub const FUNCTION_SHARE: f64 = 1e-4;

/// Stacks below this share of the op's instructions are merged into `[other]` under their caller (0.1%).
pub const STACK_SHARE: f64 = 1e-3;

/// The largest allocation sites kept, by bytes per op.
pub const SITES_KEPT: usize = 50;

/// How many functions that grew, and that shrank, a comparison lists per benchmark.
const TOP: usize = 10;

/// `frame` without what changes between builds: an address (`0x4c2fb55`, code without a symbol)
/// becomes `[unnamed]`, and a binary's cargo hash (`main (in fixture-7c2fe90b866fea4e)`) is dropped.
pub fn stable_frame(frame: &str) -> std::borrow::Cow<'_, str> {
    let is_hex = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
    if frame.strip_prefix("0x").is_some_and(is_hex) {
        return "[unnamed]".into();
    }
    if let Some(inner) = frame.strip_suffix(')')
        && let Some((head, hash)) = inner.rsplit_once('-')
        && hash.len() == 16
        && is_hex(hash)
        && head.rsplit_once("(in ").is_some_and(|(_, bin)| !bin.contains(' '))
    {
        return format!("{head})").into();
    }
    frame.into()
}

/// Folded stacks with stable frames ([`stable_frame`]), stacks that then meet summed.
fn stable_stacks(stacks: &Folded) -> Folded {
    let mut out = Folded::new();
    for (stack, &v) in stacks {
        let stack: Vec<_> = stack.split(';').map(stable_frame).collect();
        *out.entry(stack.join(";")).or_default() += v;
    }
    out
}

/// Sites with stable frames ([`stable_frame`]).
fn stable_sites(sites: &OpSites) -> OpSites {
    let kept = sites
        .sites
        .iter()
        .take(SITES_KEPT)
        .map(|s| SiteDelta { frames: s.frames.iter().map(|f| stable_frame(f).into_owned()).collect(), ..s.clone() })
        .collect();
    OpSites { sites: kept, ..sites.clone() }
}

/// A named profile baseline: `<baseline dir>/<runner-class>/profiles/<NAME>.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileBaseline {
    pub profile_baseline_version: u32,
    pub name: String,
    pub meta: SavedMeta,
    /// By benchmark id.
    pub benchmarks: BTreeMap<String, SavedBench>,
}

/// Where and with what a profile baseline was made: instruction counts depend on the code, the
/// compiler and (through CPU-dispatched library routines) the machine, not on its load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedMeta {
    pub created_at: String,
    /// The commit profiled, `None` outside git.
    pub commit: Option<String>,
    /// Whether tracked files had uncommitted changes.
    pub dirty: bool,
    /// `rustc`'s release, e.g. `1.95.0`, and the target triple.
    pub rustc: String,
    pub target: String,
    /// What `valgrind --version` printed.
    pub valgrind: String,
    pub cpu_model: String,
    pub mode: RunMode,
}

/// One benchmark's saved profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedBench {
    pub suite: String,
    /// The ops the profile covers (the stacks' counts are over these).
    pub ops: u64,
    pub instructions_per_op: f64,
    /// Category -> instructions per op.
    pub categories: BTreeMap<String, f64>,
    /// Normalised function name -> (category, instructions per op), those of at least
    /// [`FUNCTION_SHARE`] of the op.
    pub functions: BTreeMap<String, (String, f64)>,
    /// Folded stack -> instructions over `ops` ops, merged at [`STACK_SHARE`].
    pub stacks: BTreeMap<String, u64>,
    /// The largest allocation sites, by bytes per op; `None` where DHAT could not run.
    pub sites: Option<Vec<SavedSite>>,
    pub decision: SavedDecision,
}

/// An allocation site and what it allocates per op.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedSite {
    /// The normalised stack, innermost first.
    pub frames: Vec<String>,
    pub blocks_per_op: f64,
    pub bytes_per_op: f64,
}

/// The decision gate's outcome, in words: enough to say what it recommended then and now.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedDecision {
    /// The primary recommendation: `<path> (rule <rule>)`.
    pub primary: Option<String>,
    /// The rules that fired, in configuration order.
    pub fired: Vec<String>,
    /// The secondary opportunities' paths.
    pub secondary: Vec<String>,
}

impl SavedDecision {
    pub fn new(d: &Decision) -> SavedDecision {
        SavedDecision {
            primary: d.primary.as_ref().map(|p| format!("{} (rule {})", p.path, p.rule)),
            fired: d.matrix.iter().filter(|r| r.outcome == Outcome::Fired).map(|r| r.rule.clone()).collect(),
            secondary: d.secondary.iter().map(|s| s.path.clone()).collect(),
        }
    }
}

impl SavedBench {
    /// The saved form of one benchmark's profile: its per-op profile `p`, the functions' costs made of
    /// it ([`attribute::function_costs`]), its allocation sites where DHAT ran, and its decision.
    pub fn new(
        suite: &str,
        p: &OpProfile,
        costs: &FunctionCosts,
        sites: Option<&OpSites>,
        decision: Option<&Decision>,
    ) -> SavedBench {
        SavedBench {
            suite: suite.to_owned(),
            ops: p.ops,
            instructions_per_op: costs.instructions_per_op,
            categories: costs.categories.clone(),
            functions: costs.above(FUNCTION_SHARE).functions,
            stacks: stable_stacks(&flame::merge_small(&p.stacks, STACK_SHARE)),
            sites: sites.map(|s| {
                stable_sites(s)
                    .sites
                    .into_iter()
                    .map(|s| SavedSite {
                        frames: s.frames,
                        blocks_per_op: s.blocks_per_op,
                        bytes_per_op: s.bytes_per_op,
                    })
                    .collect()
            }),
            decision: decision.map(SavedDecision::new).unwrap_or_default(),
        }
    }

    fn costs(&self) -> FunctionCosts {
        FunctionCosts {
            instructions_per_op: self.instructions_per_op,
            functions: self.functions.clone(),
            categories: self.categories.clone(),
        }
    }

    fn op_sites(&self) -> Option<OpSites> {
        self.sites.as_ref().map(|sites| OpSites {
            ops: self.ops,
            sites: sites
                .iter()
                .map(|s| SiteDelta {
                    frames: s.frames.clone(),
                    blocks_per_op: s.blocks_per_op,
                    bytes_per_op: s.bytes_per_op,
                })
                .collect(),
            fell: dhat::Counts::default(),
            files: Vec::new(),
        })
    }

    /// The stacks scaled to `ops` ops, so that a baseline made in quick mode draws against a full
    /// profile (and the other way round) by cost per op.
    fn stacks_over(&self, ops: u64) -> Folded {
        if ops == self.ops || self.ops == 0 {
            return self.stacks.clone();
        }
        let scale = ops as f64 / self.ops as f64;
        self.stacks.iter().map(|(s, &v)| (s.clone(), (v as f64 * scale).round() as u64)).collect()
    }
}

impl ProfileBaseline {
    /// The file's text: pretty JSON whose entries (a function, a stack, a site) are one line each.
    pub fn to_json(&self) -> String {
        let mut out = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(&mut out, Lines::default());
        self.serialize(&mut ser).expect("a profile baseline serializes");
        String::from_utf8(out).expect("serde_json writes UTF-8") + "\n"
    }

    /// Reads and checks a profile baseline; the error names the file.
    pub fn load(path: &Path) -> Result<ProfileBaseline, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<ProfileBaseline, String> {
        // The version first, so that a file of another version says so rather than what field it lacks.
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not a profile baseline (invalid JSON: {e})"))?;
        match value.get("profile_baseline_version").and_then(serde_json::Value::as_u64) {
            Some(v) if v == u64::from(PROFILE_BASELINE_VERSION) => {}
            Some(v) => {
                return Err(format!(
                    "profile baseline version {v}, this benchgate reads version {PROFILE_BASELINE_VERSION} (save it \
                     again with --update)"
                ));
            }
            None => return Err("not a profile baseline (no `profile_baseline_version`)".to_owned()),
        }
        serde_json::from_value(value).map_err(|e| format!("corrupt profile baseline: {e}"))
    }
}

/// What changed between a saved baseline and today's profile: why the figures may not be comparable,
/// and per benchmark what grew and shrank.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BaselineComparison {
    pub name: String,
    pub saved: SavedMeta,
    /// Toolchain, valgrind, CPU or mode differences between then and now (the commit is expected to
    /// differ and is not among them).
    pub warnings: Vec<String>,
    pub benchmarks: Vec<BenchComparison>,
    /// Benchmarks in the baseline that today's profile lacks, and the other way round.
    pub only_in_baseline: Vec<String>,
    pub only_today: Vec<String>,
}

/// One benchmark, baseline (`base`) against today (`head`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchComparison {
    /// Functions that grew and shrank, categories, allocation sites that are new or grew, the
    /// differential flamegraph's file name.
    pub attribution: Attribution,
    /// Allocation sites that allocate less than in the baseline or are gone (`head` is today's).
    pub sites_shrank: Option<Vec<SiteChange>>,
    pub decision_then: SavedDecision,
    pub decision_now: SavedDecision,
}

/// The meta differences that can move instruction counts without a code change.
pub fn warnings(then: &SavedMeta, now: &SavedMeta) -> Vec<String> {
    let mut out = Vec::new();
    for (what, a, b) in [
        ("rustc", &then.rustc, &now.rustc),
        ("target", &then.target, &now.target),
        ("valgrind", &then.valgrind, &now.valgrind),
        ("CPU", &then.cpu_model, &now.cpu_model),
    ] {
        if a != b {
            out.push(format!("{what} differs: baseline {a}, now {b}"));
        }
    }
    if then.mode != now.mode {
        out.push(format!(
            "mode differs: baseline {}, now {} (figures are per op, stacks scaled to today's ops)",
            then.mode, now.mode
        ));
    }
    out
}

/// Today's benchmark `id` against its saved profile: `costs` and `sites` are today's.
pub fn compare_bench(
    id: &str,
    saved: &SavedBench,
    costs: &FunctionCosts,
    sites: Option<&OpSites>,
    decision_now: SavedDecision,
) -> BenchComparison {
    let mut a = attribute::compare(id, &saved.costs(), &costs.above(FUNCTION_SHARE), TOP);
    let (mut sites_shrank, base_sites) = (None, saved.op_sites());
    if let (Some(base), Some(head)) = (base_sites.as_ref(), sites) {
        // Today's sites cut and named as the baseline's were, so a site below the cut is not "new".
        let head = stable_sites(head);
        a.sites = Some(dhat::compare_sites(base, &head, TOP));
        let fell = dhat::compare_sites(&head, base, TOP).into_iter().map(|c| SiteChange {
            frames: c.frames,
            base_blocks: c.head_blocks,
            head_blocks: c.base_blocks,
            base_bytes: c.head_bytes,
            head_bytes: c.base_bytes,
        });
        sites_shrank = Some(fell.collect());
    }
    BenchComparison { attribution: a, sites_shrank, decision_then: saved.decision.clone(), decision_now }
}

/// The differential flamegraph of the baseline's stacks against today's `stacks` over `ops` ops.
pub fn differential_svg(id: &str, name: &str, saved: &SavedBench, stacks: &Folded, ops: u64) -> io::Result<String> {
    let title = format!("{id}: baseline {name} → today, instructions of {ops} ops (red grew, blue shrank)");
    let today = stable_stacks(&flame::merge_small(stacks, STACK_SHARE));
    flame::differential_svg(&saved.stacks_over(ops), &today, &title, "instructions")
}

/// The section of `profile.md`: per benchmark what grew and shrank since the baseline.
pub fn markdown(c: &BaselineComparison) -> String {
    let mut out = format!(
        "\n## Compared with profile baseline `{}`\n\nSaved {} at commit {}{} ({} mode). Instructions per op by \
         function, baseline → today; functions under {}% of an op's instructions are left out on both sides, so \
         \"new\" means new or above that since. Differential flamegraphs (`*.baseline.diff.svg`: today's \
         stacks, red where they grew, blue where they shrank) are beside this file.\n",
        c.name,
        c.saved.created_at,
        c.saved.commit.as_deref().map_or("(none)", |s| &s[..s.len().min(12)]),
        if c.saved.dirty { " with uncommitted changes" } else { "" },
        c.saved.mode,
        FUNCTION_SHARE * 100.0,
    );
    for w in &c.warnings {
        out.push_str(&format!("\n**Warning**: {w}.\n"));
    }
    if !c.only_in_baseline.is_empty() {
        out.push_str(&format!("\nOnly in the baseline (not profiled today): {}.\n", c.only_in_baseline.join(", ")));
    }
    if !c.only_today.is_empty() {
        out.push_str(&format!("\nNot in the baseline: {}.\n", c.only_today.join(", ")));
    }
    for b in &c.benchmarks {
        let a = &b.attribution;
        out.push_str(&format!("\n### {} against `{}`\n\n", a.id, c.name));
        out.push_str(&attribute::bench_markdown(a, "No function's instructions per op grew."));
        if let Some(sites) = b.sites_shrank.as_ref().filter(|s| !s.is_empty()) {
            out.push_str("\nAllocation sites that allocate less or are gone, per op, baseline → today:\n\n");
            out.push_str(&dhat::markdown(sites));
        }
        if let Some(svg) = &a.flamegraph {
            out.push_str(&format!("\nDifferential flamegraph: [`{svg}`]({svg}).\n"));
        }
        let words = |d: &SavedDecision| {
            let fired = if d.fired.is_empty() { "none".to_owned() } else { d.fired.join(", ") };
            format!("{}; rules fired: {fired}", d.primary.as_deref().unwrap_or("no recommendation"))
        };
        if b.decision_then == b.decision_now {
            out.push_str(&format!("\nDecision, unchanged: {}.\n", words(&b.decision_now)));
        } else {
            out.push_str(&format!(
                "\nDecision then: {}.\n\nDecision now: {}.\n",
                words(&b.decision_then),
                words(&b.decision_now)
            ));
        }
    }
    out
}

/// serde_json's pretty layout for the outer levels, and containers nested deeper than
/// [`Lines::INLINE`] on one line (`"demo::work": ["application", 1000.0]`, a site with its frames): a baseline's diff then shows
/// one line per function, stack or site that changed.
#[derive(Default)]
struct Lines {
    pretty: serde_json::ser::PrettyFormatter<'static>,
    depth: usize,
}

impl Lines {
    /// Containers deeper than this (the root being 1) are written on one line.
    const INLINE: usize = 4;

    fn inline(&self) -> bool {
        self.depth > Self::INLINE
    }
}

impl serde_json::ser::Formatter for Lines {
    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth += 1;
        if self.inline() { w.write_all(b"[") } else { self.pretty.begin_array(w) }
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        let inline = self.inline();
        self.depth -= 1;
        if inline { w.write_all(b"]") } else { self.pretty.end_array(w) }
    }

    fn begin_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        match (self.inline(), first) {
            (true, true) => Ok(()),
            (true, false) => w.write_all(b", "),
            (false, _) => self.pretty.begin_array_value(w, first),
        }
    }

    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        if self.inline() { Ok(()) } else { self.pretty.end_array_value(w) }
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth += 1;
        if self.inline() { w.write_all(b"{") } else { self.pretty.begin_object(w) }
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        let inline = self.inline();
        self.depth -= 1;
        if inline { w.write_all(b"}") } else { self.pretty.end_object(w) }
    }

    fn begin_object_key<W: ?Sized + io::Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        match (self.inline(), first) {
            (true, true) => Ok(()),
            (true, false) => w.write_all(b", "),
            (false, _) => self.pretty.begin_object_key(w, first),
        }
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        if self.inline() { w.write_all(b": ") } else { self.pretty.begin_object_value(w) }
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        if self.inline() { Ok(()) } else { self.pretty.end_object_value(w) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> SavedMeta {
        SavedMeta {
            created_at: "2026-12-03T14:00:00Z".into(),
            commit: Some("0123456789abcdef".into()),
            dirty: false,
            rustc: "1.95.0".into(),
            target: "x86_64-unknown-linux-gnu".into(),
            valgrind: "valgrind-3.19.0".into(),
            cpu_model: "cpu".into(),
            mode: RunMode::Quick,
        }
    }

    fn bench(work: f64, sites: &[(&str, f64)]) -> SavedBench {
        SavedBench {
            suite: "demo".into(),
            ops: 10,
            instructions_per_op: work + 500.0,
            categories: [("application".to_owned(), work), ("allocation".to_owned(), 500.0)].into(),
            functions: [
                ("demo::work".to_owned(), ("application".to_owned(), work)),
                ("malloc".to_owned(), ("allocation".to_owned(), 500.0)),
            ]
            .into(),
            stacks: [("main;demo::work".to_owned(), (work * 10.0) as u64), ("main;malloc".to_owned(), 5_000)].into(),
            sites: Some(
                sites
                    .iter()
                    .map(|&(f, bytes)| SavedSite {
                        frames: vec![f.to_owned()],
                        blocks_per_op: 1.0,
                        bytes_per_op: bytes,
                    })
                    .collect(),
            ),
            decision: SavedDecision { primary: None, fired: vec!["allocation".into()], secondary: Vec::new() },
        }
    }

    fn baseline() -> ProfileBaseline {
        ProfileBaseline {
            profile_baseline_version: PROFILE_BASELINE_VERSION,
            name: "before_optimization_X".into(),
            meta: meta(),
            benchmarks: [("demo/x".to_owned(), bench(1_000.0, &[("demo::a (lib.rs:3)", 64.0)]))].into(),
        }
    }

    #[test]
    fn the_file_round_trips_one_entry_a_line() {
        let b = baseline();
        let text = b.to_json();
        assert_eq!(ProfileBaseline::parse(&text).unwrap(), b);
        assert!(text.contains("\n        \"demo::work\": [\"application\", 1000.0],\n"), "{text}");
        assert!(
            text.contains(
                "\n        {\"frames\": [\"demo::a (lib.rs:3)\"], \"blocks_per_op\": 1.0, \"bytes_per_op\": 64.0}\n"
            ),
            "{text}"
        );
        assert!(text.contains("\n        \"main;demo::work\": 10000,\n"), "{text}");
        assert!(text.contains("\n        \"fired\": [\"allocation\"],\n"), "{text}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), serde_json::to_value(&b).unwrap());
    }

    #[test]
    fn wrong_versions_and_corrupt_files_are_errors() {
        let text = baseline().to_json();
        let other = text.replace("\"profile_baseline_version\": 1", "\"profile_baseline_version\": 7");
        assert!(ProfileBaseline::parse(&other).unwrap_err().contains("version 7"));
        let corrupt = text.replace("\"ops\": 10", "\"ops\": \"ten\"");
        assert!(ProfileBaseline::parse(&corrupt).unwrap_err().contains("corrupt"));
        assert!(ProfileBaseline::parse(&text[..text.len() / 2]).unwrap_err().contains("invalid JSON"));
        assert!(ProfileBaseline::parse("{}").unwrap_err().contains("no `profile_baseline_version`"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.json");
        std::fs::write(&path, "{").unwrap();
        assert!(ProfileBaseline::load(&path).unwrap_err().starts_with(&path.display().to_string()));
    }

    #[test]
    fn the_grown_function_comes_first_and_sites_move_both_ways() {
        let then = bench(1_000.0, &[("demo::a (lib.rs:3)", 64.0), ("demo::b (lib.rs:9)", 32.0)]);
        let now = bench(3_000.0, &[("demo::a (lib.rs:4)", 128.0)]);
        let decision = SavedDecision { primary: Some("p (rule application)".into()), ..then.decision.clone() };
        let c = compare_bench("demo/x", &then, &now.costs(), now.op_sites().as_ref(), decision);
        let a = &c.attribution;
        assert_eq!((a.base_per_op, a.head_per_op), (1_500.0, 3_500.0));
        assert_eq!((a.grew[0].name.as_str(), a.grew[0].change()), ("demo::work", 2_000.0));
        assert!(a.shrank.is_empty());
        assert_eq!(a.categories[0].category, "application");
        let grew = a.sites.as_ref().unwrap();
        assert_eq!((grew.len(), grew[0].base_bytes, grew[0].head_bytes), (1, 64.0, 128.0));
        let fell = c.sites_shrank.as_ref().unwrap();
        assert_eq!((fell.len(), fell[0].base_bytes, fell[0].head_bytes), (1, 32.0, 0.0));
        let svg = differential_svg("demo/x", "b", &then, &now.stacks, 20).unwrap();
        assert!(svg.contains("demo::work"));
        let md = markdown(&BaselineComparison {
            name: "b".into(),
            saved: meta(),
            warnings: warnings(&meta(), &SavedMeta { rustc: "1.96.0".into(), ..meta() }),
            benchmarks: vec![c],
            only_in_baseline: vec!["demo/gone".into()],
            only_today: Vec::new(),
        });
        assert!(md.contains("**Warning**: rustc differs: baseline 1.95.0, now 1.96.0."), "{md}");
        assert!(md.contains("Only in the baseline (not profiled today): demo/gone."), "{md}");
        assert!(md.contains("| `demo::work` | application | 1,000 | 3,000 | +2,000 (+200.0%) |"), "{md}");
        assert!(md.contains("Decision then: no recommendation; rules fired: allocation."), "{md}");
        assert!(md.contains("Decision now: p (rule application); rules fired: allocation."), "{md}");
    }

    #[test]
    fn frames_that_name_a_build_are_made_stable() {
        assert_eq!(stable_frame("0x000000000488c360"), "[unnamed]");
        assert_eq!(stable_frame("main (in fixture-7c2fe90b866fea4e)"), "main (in fixture)");
        for kept in
            ["demo::f (lib.rs:3)", "0xzz", "main (in fixture)", "f (in a b-7c2fe90b866fea4e)", "x-7c2fe90b866fea4e)"]
        {
            assert_eq!(stable_frame(kept), kept);
        }
        let stacks: Folded = [("main;0x1;free".to_owned(), 2), ("main;0x2;free".to_owned(), 3)].into();
        assert_eq!(stable_stacks(&stacks), [("main;[unnamed];free".to_owned(), 5)].into());
    }

    #[test]
    fn stacks_scale_to_today_s_ops() {
        let b = bench(1_000.0, &[]);
        assert_eq!(b.stacks_over(20)["main;demo::work"], 20_000);
        assert_eq!(b.stacks_over(10), b.stacks);
    }
}
