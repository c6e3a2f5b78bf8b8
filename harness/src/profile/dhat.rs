//! Allocation sites per op: a benchmark's exec mode run twice under valgrind's DHAT (`--tool=dhat`),
//! with 1 and 1 + K iterations as [`super::ops`] does with callgrind, DHAT's JSON parsed into sites
//! (normalised call stacks with their blocks and bytes), and the difference per site, so that what
//! remains is what K ops allocate and where. Base against head, the sites that are new or grew.
//!
//! Valgrind's DHAT and not the `dhat` crate: bench binaries install benchgate's counting global
//! allocator, and the crate's profiler must own the global allocator; valgrind intercepts `malloc`
//! under any binary.
//!
//! Normalisation, so that the sites of two builds (base and head) and of two runs match:
//! - the code address DHAT puts before each frame (`0x4C2FB55: `) is dropped;
//! - source paths and object paths are reduced to the file name: a frame reads `function (file:line)`
//!   (`demo::parse (lib.rs:10)`) or `function (in object)` (`malloc (in vgpreload_dhat-amd64-linux.so)`);
//!   two checkouts of the same code then give the same frames;
//! - the allocator's own frames at the top of each stack ([`ALLOCATOR_FRAMES`]: `malloc`, the global
//!   allocator, `__rust_alloc`, `alloc::alloc`, `alloc::raw_vec`, ...) are dropped, so a site's first
//!   frame is the code that asked for memory; the rest of the stack is kept below it;
//! - program points whose stacks normalise to the same frames are one site, their counts summed.
//!
//! Line numbers are kept within one build (they separate two allocations in one function), but
//! [`compare_sites`] matches base and head without them, as an edit shifts every line below it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use regex::{Regex, RegexSet};
use serde::{Deserialize, Serialize};

use super::ops::Part;
use crate::driver::BenchBinary;

/// The DHAT file format this parser reads (`dhatFileVersion`, valgrind 3.15 and later).
pub const DHAT_FILE_VERSION: u64 = 2;

/// Frames deeper than this are cut by valgrind (`--num-callers`, default 12): enough to reach the
/// benchmark's code under the allocator's own frames and a few callers of it.
pub const NUM_CALLERS: u32 = 40;

/// The allocator's own frames, as regular expressions matched against a frame with its address
/// removed but its path as DHAT wrote it (`alloc (library/alloc/src/alloc.rs:95)`). Frames that match
/// are dropped from the top of a stack (never all of them), so a site starts at the code that asked
/// for memory. Inlined frames carry only the function's last name (`allocate`, `alloc_impl`), hence
/// the patterns that also look at the file.
pub const ALLOCATOR_FRAMES: &[&str] = &[
    // The C allocator (valgrind's replacements, in its preloaded object).
    r"^(malloc|calloc|realloc|reallocarray|free|memalign|posix_memalign|aligned_alloc|valloc|pvalloc) \(",
    r"\(in [^()]*vgpreload_[^()]*\)$",
    // Rust's allocator shims: `__rust_alloc`, `__rustc::__rust_realloc`, `__rdl_alloc`, `__rg_alloc`.
    r"^(__rustc::)?__r(ust|dl|g)_[a-z_]+ \(",
    // Any global allocator: `std::alloc::System`, benchgate's `CountingAlloc` and their impls.
    r"GlobalAlloc(>| for )",
    r"^<?std::(sys::)?alloc::",
    r"^(alloc|alloc_zeroed|realloc|dealloc|aligned_malloc|realloc_fallback)(<.*>)? \(([^()]*/)?(sys/alloc/[^()]*|unix\.rs):\d+\)$",
    // `alloc::alloc` (`Global`, `exchange_malloc`), qualified or inlined from `alloc.rs`.
    r"^<?alloc::alloc::",
    r"^(alloc|alloc_zeroed|realloc|dealloc|alloc_impl|alloc_impl_runtime|allocate|allocate_zeroed|grow|grow_zeroed|grow_impl|shrink|exchange_malloc)(<.*>)? \(([^()]*/)?alloc\.rs:\d+\)$",
    // `alloc::raw_vec`, the buffer behind `Vec`, `String` and `VecDeque`, with `finish_grow`.
    r"^<?alloc::raw_vec::",
    r"raw_vec(\.rs|/[a-z_]+\.rs):\d+\)$",
    // `RawVecInner::with_capacity_in<A>` inlined: generic over the allocator alone (`Vec`'s is `<T, A>`).
    r"^(with_capacity_in|with_capacity_zeroed_in|try_with_capacity_in)<[^,<>]+> \(",
    r"^(try_allocate_in|allocate_in|grow_amortized|grow_exact|grow_one|finish_grow|reserve_for_push|do_reserve_and_handle)(<.*>)? \(",
];

/// A DHAT heap profile (`--mode=heap`, the default), as read from its JSON file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dhat {
    /// The command DHAT ran (`cmd`).
    pub cmd: String,
    /// The run's length in DHAT's time unit, instructions (`te`).
    pub end_time: u64,
    /// The program points: one per distinct allocation stack, in the file's order.
    pub points: Vec<Point>,
}

/// One DHAT program point: a call stack that allocated, and what it allocated over the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Point {
    /// The stack, innermost frame first, as DHAT wrote it (`0x4C2FB55: malloc (vg_replace_malloc.c:299)`).
    pub frames: Vec<String>,
    /// Total bytes allocated (`tb`).
    pub bytes: u64,
    /// Total blocks allocated (`tbk`).
    pub blocks: u64,
    /// Bytes live at this point's peak (`mb`).
    pub max_bytes: u64,
    /// Blocks live at this point's peak (`mbk`).
    pub max_blocks: u64,
}

/// An allocation site: a normalised stack (see the module documentation) and its totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// The stack, innermost first: the code that asked for memory, then its callers.
    pub frames: Vec<String>,
    /// Total bytes allocated.
    pub bytes: u64,
    /// Total blocks allocated.
    pub blocks: u64,
}

/// Blocks and bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub blocks: u64,
    pub bytes: u64,
}

/// What one site allocates per op.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteDelta {
    /// The site's normalised stack.
    pub frames: Vec<String>,
    /// Blocks per op: the growth from the short run to the long one, divided by the ops.
    pub blocks_per_op: f64,
    /// Bytes per op, likewise.
    pub bytes_per_op: f64,
}

/// The allocation sites of one benchmark's ops.
#[derive(Debug, Clone, PartialEq)]
pub struct OpSites {
    /// The ops the difference covers (K).
    pub ops: u64,
    /// The sites whose blocks or bytes grew from the short run to the long one, by bytes per op,
    /// largest first.
    pub sites: Vec<SiteDelta>,
    /// Blocks and bytes of sites whose counts fell from the short run to the long one (left out of
    /// `sites`), over the K ops: run-to-run variation such as a hash map's resizes.
    pub fell: Counts,
    /// The raw profiles (short run, long run, then for a batched benchmark the setup's short and long
    /// runs), which open in valgrind's `dh_view.html`.
    pub files: Vec<PathBuf>,
}

impl OpSites {
    /// Blocks per op: the difference of the two runs' totals divided by the ops.
    pub fn blocks_per_op(&self) -> f64 {
        self.sites.iter().map(|s| s.blocks_per_op).sum::<f64>() - self.fell.blocks as f64 / self.ops as f64
    }

    /// Bytes per op: the difference of the two runs' totals divided by the ops.
    pub fn bytes_per_op(&self) -> f64 {
        self.sites.iter().map(|s| s.bytes_per_op).sum::<f64>() - self.fell.bytes as f64 / self.ops as f64
    }
}

/// A site that is new in head or allocates more per op than in base.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteChange {
    /// The site's normalised stack, as in head.
    pub frames: Vec<String>,
    /// Blocks per op in base (0 for a new site).
    pub base_blocks: f64,
    /// Blocks per op in head.
    pub head_blocks: f64,
    /// Bytes per op in base (0 for a new site).
    pub base_bytes: f64,
    /// Bytes per op in head.
    pub head_bytes: f64,
}

/// The frame a site is shown by: the first frame of its (normalised) stack that is named and outside
/// the standard library (`alloc::`, `core::`, `std::` paths and their `impl`s; valgrind names inlined
/// code without debug names `UnknownInlinedFun`), which is usually the code that asked for the memory;
/// the first frame if there is none such, `???` for an empty stack.
pub fn caller(frames: &[String]) -> &str {
    const SKIP: [&str; 7] = ["alloc::", "core::", "std::", "<alloc::", "<core::", "<std::", "UnknownInlinedFun"];
    frames.iter().find(|f| !SKIP.iter().any(|p| f.starts_with(p))).or(frames.first()).map_or("???", String::as_str)
}

impl SiteChange {
    /// Whether base does not allocate at this site at all.
    pub fn is_new(&self) -> bool {
        self.base_blocks == 0.0 && self.base_bytes == 0.0
    }
}

#[derive(Deserialize)]
struct Header {
    #[serde(rename = "dhatFileVersion")]
    version: Option<u64>,
    mode: Option<String>,
}

#[derive(Deserialize)]
struct RawFile {
    cmd: String,
    te: u64,
    pps: Vec<RawPoint>,
    ftbl: Vec<String>,
}

#[derive(Deserialize)]
struct RawPoint {
    tb: u64,
    tbk: u64,
    #[serde(default)]
    mb: u64,
    #[serde(default)]
    mbk: u64,
    fs: Vec<usize>,
}

/// Parses the text of a DHAT JSON file (`dhatFileVersion` 2, mode `heap`). Fields this parser does
/// not use (`acc`, `rb`, `gb`... which vary with the options) are ignored; a truncated or otherwise
/// invalid file, another version or mode, and a frame index past the frame table are errors.
pub fn parse(text: &str) -> Result<Dhat, String> {
    let json = |e: serde_json::Error| {
        if e.is_eof() {
            format!("the file is truncated: it ends inside the JSON (line {}, column {})", e.line(), e.column())
        } else {
            format!("not a DHAT JSON file: {e}")
        }
    };
    let header: Header = serde_json::from_str(text).map_err(json)?;
    match header.version {
        Some(DHAT_FILE_VERSION) => {}
        Some(v) => return Err(format!("unsupported dhatFileVersion {v}: expected {DHAT_FILE_VERSION}")),
        None => return Err("not a DHAT JSON file: no dhatFileVersion".to_owned()),
    }
    match header.mode.as_deref() {
        Some("heap") => {}
        Some(mode) => {
            return Err(format!("DHAT mode is \"{mode}\", expected \"heap\" (run DHAT without --mode)"));
        }
        None => return Err("not a DHAT JSON file: no mode".to_owned()),
    }
    let raw: RawFile = serde_json::from_str(text).map_err(|e| format!("invalid DHAT heap profile: {e}"))?;
    let points = raw
        .pps
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let frames =
                p.fs.iter()
                    .map(|&f| {
                        raw.ftbl.get(f).cloned().ok_or_else(|| {
                            format!(
                                "program point {i} refers to frame {f}, but the frame table has {} frames",
                                raw.ftbl.len()
                            )
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
            Ok(Point { frames, bytes: p.tb, blocks: p.tbk, max_bytes: p.mb, max_blocks: p.mbk })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Dhat { cmd: raw.cmd, end_time: raw.te, points })
}

/// Reads and parses the DHAT JSON file at `path` (see [`parse`]); errors name the file.
pub fn load(path: &Path) -> Result<Dhat, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("cannot read DHAT profile {}: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("invalid DHAT profile {}: {e}", path.display()))
}

fn allocator_frames() -> &'static RegexSet {
    static SET: OnceLock<RegexSet> = OnceLock::new();
    SET.get_or_init(|| RegexSet::new(ALLOCATOR_FRAMES).expect("ALLOCATOR_FRAMES are valid regexes"))
}

fn address() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^0x[0-9A-Fa-f]+: ").expect("valid regex"))
}

fn location() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // The last parenthesised group, which holds no parentheses (a function's name may: `<(), (dyn Fn)>`).
    RE.get_or_init(|| {
        Regex::new(r"^(?<func>.*) \((?:in (?<object>[^()]*)|(?<file>[^()]*):(?<line>\d+))\)$").expect("valid regex")
    })
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// A frame without its address (`0x4C2FB55: `), its path as DHAT wrote it.
fn strip_address(frame: &str) -> &str {
    address().find(frame).map_or(frame, |m| &frame[m.end()..])
}

/// Whether `frame` (address stripped) is one of the allocator's own ([`ALLOCATOR_FRAMES`]).
pub fn is_allocator_frame(frame: &str) -> bool {
    allocator_frames().is_match(strip_address(frame))
}

/// A frame as sites show it: no address, the path reduced to its file name (`function (file:line)`
/// or `function (in object)`). A frame without a location (`???`) is kept as it is.
pub fn normalise_frame(frame: &str) -> String {
    let frame = strip_address(frame);
    match location().captures(frame) {
        Some(c) => match (c.name("object"), c.name("file"), c.name("line")) {
            (Some(object), _, _) => format!("{} (in {})", &c["func"], file_name(object.as_str())),
            (None, Some(file), Some(line)) => {
                format!("{} ({}:{})", &c["func"], file_name(file.as_str()), line.as_str())
            }
            _ => frame.to_owned(),
        },
        None => frame.to_owned(),
    }
}

/// A DHAT stack as a site's: the allocator's frames at the top dropped (all but the last if every
/// frame is the allocator's), the rest normalised.
pub fn normalise_stack(frames: &[String]) -> Vec<String> {
    let skip = frames.iter().take_while(|f| is_allocator_frame(f)).count().min(frames.len().saturating_sub(1));
    frames[skip..].iter().map(|f| normalise_frame(f)).collect()
}

/// The sites of a profile: program points grouped by normalised stack, their counts summed, by bytes
/// then blocks, largest first (ties by stack).
pub fn sites(dhat: &Dhat) -> Vec<Site> {
    let mut by_stack: BTreeMap<Vec<String>, Counts> = BTreeMap::new();
    for p in &dhat.points {
        let c = by_stack.entry(normalise_stack(&p.frames)).or_default();
        c.blocks += p.blocks;
        c.bytes += p.bytes;
    }
    let mut sites: Vec<Site> =
        by_stack.into_iter().map(|(frames, c)| Site { frames, bytes: c.bytes, blocks: c.blocks }).collect();
    sites.sort_by(|a, b| (b.bytes, b.blocks).cmp(&(a.bytes, a.blocks)).then_with(|| a.frames.cmp(&b.frames)));
    sites
}

/// Runs `id` of `bin` in exec mode under DHAT with `iters` iterations, writing the profile to `out`,
/// within `timeout`. The environment is the caller's, as for [`super::ops::callgrind_run`].
pub fn dhat_run(
    bin: &BenchBinary,
    id: &str,
    iters: u64,
    part: Part,
    out: &Path,
    timeout: Duration,
) -> Result<(), String> {
    let options = [format!("--num-callers={NUM_CALLERS}"), format!("--dhat-out-file={}", out.display())];
    super::ops::valgrind_run("dhat", &options, super::ops::exec(bin, id, iters, part), timeout)
}

/// The allocation sites of `ops` extra iterations of `id`: runs with 1 and 1 + `ops` iterations
/// under DHAT, files `<stem>.short.dhat.json` and `<stem>.long.dhat.json` in `dir`, and the
/// [`difference`] of their sites; for a `batched` benchmark, less the sites its setup alone grows
/// (`<stem>.setup-short.dhat.json`, `<stem>.setup-long.dhat.json`; [`without_setup`]).
pub fn alloc_sites(
    bin: &BenchBinary,
    id: &str,
    ops: u64,
    batched: bool,
    dir: &Path,
    stem: &str,
    timeout: Duration,
) -> Result<OpSites, String> {
    if ops == 0 {
        return Err("alloc_sites needs at least one op".to_owned());
    }
    let grown = |part: Part, name: &str| -> Result<(Vec<SiteDelta>, Counts, [PathBuf; 2]), String> {
        let files =
            [dir.join(format!("{stem}.{name}short.dhat.json")), dir.join(format!("{stem}.{name}long.dhat.json"))];
        dhat_run(bin, id, 1, part, &files[0], timeout)?;
        dhat_run(bin, id, 1 + ops, part, &files[1], timeout)?;
        let (short, long) = (sites(&load(&files[0])?), sites(&load(&files[1])?));
        let (sites, fell) = difference(&short, &long, ops);
        Ok((sites, fell, files))
    };
    let (sites, fell, files) = grown(Part::Ops, "")?;
    if !batched {
        return Ok(OpSites { ops, sites, fell, files: files.to_vec() });
    }
    let (setup, _, setup_files) = grown(Part::SetupOnly, "setup-")?;
    Ok(OpSites {
        ops,
        sites: without_setup(sites, &setup),
        fell,
        files: files.into_iter().chain(setup_files).collect(),
    })
}

/// The sites of `sites` less the same stacks' blocks and bytes per op in `setup`, those left with
/// nothing dropped. A setup's allocations have stacks of their own (through the setup closure), so
/// this mostly drops whole sites; the order stays largest first.
pub fn without_setup(sites: Vec<SiteDelta>, setup: &[SiteDelta]) -> Vec<SiteDelta> {
    let less: BTreeMap<&[String], (f64, f64)> =
        setup.iter().map(|s| (s.frames.as_slice(), (s.blocks_per_op, s.bytes_per_op))).collect();
    let mut left: Vec<SiteDelta> = sites
        .into_iter()
        .filter_map(|mut s| {
            let (blocks, bytes) = less.get(s.frames.as_slice()).copied().unwrap_or_default();
            s.blocks_per_op = (s.blocks_per_op - blocks).max(0.0);
            s.bytes_per_op = (s.bytes_per_op - bytes).max(0.0);
            (s.blocks_per_op > 0.0 || s.bytes_per_op > 0.0).then_some(s)
        })
        .collect();
    left.sort_by(|a, b| {
        (b.bytes_per_op, b.blocks_per_op)
            .partial_cmp(&(a.bytes_per_op, a.blocks_per_op))
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.frames.cmp(&b.frames))
    });
    left
}

/// The sites that allocated more in `long` than in `short`, per op (the growth divided by `ops`),
/// by bytes per op then blocks per op, largest first; and the blocks and bytes that fell (a site's
/// counts that shrank, or a site absent from `long`), summed. Sites are matched by their frames.
pub fn difference(short: &[Site], long: &[Site], ops: u64) -> (Vec<SiteDelta>, Counts) {
    let mut before: BTreeMap<&[String], Counts> = BTreeMap::new();
    for s in short {
        let c = before.entry(&s.frames).or_default();
        c.blocks += s.blocks;
        c.bytes += s.bytes;
    }
    let mut now: BTreeMap<&[String], Counts> = BTreeMap::new();
    for s in long {
        let c = now.entry(&s.frames).or_default();
        c.blocks += s.blocks;
        c.bytes += s.bytes;
    }
    let per_op = |n: u64| n as f64 / ops.max(1) as f64;
    let mut fell = Counts::default();
    let mut grew = Vec::new();
    for (frames, n) in now {
        let was = before.remove(frames).unwrap_or_default();
        fell.blocks += was.blocks.saturating_sub(n.blocks);
        fell.bytes += was.bytes.saturating_sub(n.bytes);
        let added = Counts { blocks: n.blocks.saturating_sub(was.blocks), bytes: n.bytes.saturating_sub(was.bytes) };
        if added != Counts::default() {
            grew.push((frames.to_vec(), added));
        }
    }
    for was in before.values() {
        fell.blocks += was.blocks;
        fell.bytes += was.bytes;
    }
    grew.sort_by(|a, b| (b.1.bytes, b.1.blocks).cmp(&(a.1.bytes, a.1.blocks)).then_with(|| a.0.cmp(&b.0)));
    let sites = grew
        .into_iter()
        .map(|(frames, c)| SiteDelta { frames, blocks_per_op: per_op(c.blocks), bytes_per_op: per_op(c.bytes) })
        .collect();
    (sites, fell)
}

/// A frame without its line number (`demo::f (lib.rs)`), for matching two builds.
fn without_line(frame: &str) -> String {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r":\d+\)$").expect("valid regex")).replace(frame, ")").into_owned()
}

/// The sites that are new in `head` or allocate more blocks or bytes per op than in `base`, by the
/// growth in bytes per op then in blocks per op, largest first, at most `top`. Base and head are
/// matched by stacks without line numbers (an edit shifts the lines below it); sites that then fall
/// together are summed, and the change shows the frames of head's largest.
pub fn compare_sites(base: &OpSites, head: &OpSites, top: usize) -> Vec<SiteChange> {
    fn key(frames: &[String]) -> Vec<String> {
        frames.iter().map(|f| without_line(f)).collect()
    }
    let mut before: BTreeMap<Vec<String>, (f64, f64)> = BTreeMap::new();
    for s in &base.sites {
        let e = before.entry(key(&s.frames)).or_default();
        e.0 += s.blocks_per_op;
        e.1 += s.bytes_per_op;
    }
    // Head's sites are sorted largest first, so the first of a key names it.
    let mut after: BTreeMap<Vec<String>, SiteChange> = BTreeMap::new();
    for s in &head.sites {
        let e = after.entry(key(&s.frames)).or_insert_with(|| SiteChange {
            frames: s.frames.clone(),
            base_blocks: 0.0,
            head_blocks: 0.0,
            base_bytes: 0.0,
            head_bytes: 0.0,
        });
        e.head_blocks += s.blocks_per_op;
        e.head_bytes += s.bytes_per_op;
    }
    // Per-op figures are quotients: ignore differences below rounding.
    let grew = |base: f64, head: f64| head - base > 1e-9 * base.abs().max(1.0);
    let mut changes: Vec<SiteChange> = after
        .into_iter()
        .filter_map(|(k, mut c)| {
            let (blocks, bytes) = before.get(&k).copied().unwrap_or_default();
            c.base_blocks = blocks;
            c.base_bytes = bytes;
            (grew(c.base_blocks, c.head_blocks) || grew(c.base_bytes, c.head_bytes)).then_some(c)
        })
        .collect();
    changes.sort_by(|a, b| {
        let growth = |c: &SiteChange| (c.head_bytes - c.base_bytes, c.head_blocks - c.base_blocks);
        let (ga, gb) = (growth(a), growth(b));
        gb.0.total_cmp(&ga.0).then(gb.1.total_cmp(&ga.1)).then_with(|| a.frames.cmp(&b.frames))
    });
    changes.truncate(top);
    changes
}

/// A short markdown table of `changes`: the site (its first frame; "new" when base has none), blocks
/// per op and bytes per op, base → head.
pub fn markdown(changes: &[SiteChange]) -> String {
    if changes.is_empty() {
        return "No allocation site is new or allocates more per op.\n".to_owned();
    }
    let count = crate::report::format_count;
    let mut out = String::from("| allocation site | blocks/op | bytes/op |\n| --- | ---: | ---: |\n");
    for c in changes {
        let site = caller(&c.frames).replace('|', "\\|").replace('`', "'");
        let new = if c.is_new() { " (new)" } else { "" };
        out.push_str(&format!(
            "| `{site}`{new} | {} → {} | {} → {} |\n",
            count(c.base_blocks),
            count(c.head_blocks),
            count(c.base_bytes),
            count(c.head_bytes)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dhat").join(name)
    }

    fn strings(frames: &[&str]) -> Vec<String> {
        frames.iter().map(|f| (*f).to_owned()).collect()
    }

    #[test]
    fn a_site_is_shown_by_its_first_frame_outside_std() {
        let stack = strings(&[
            "alloc::boxed::box_new_uninit (boxed.rs:254)",
            "<alloc::vec::Vec<u8>>::with_capacity (mod.rs:480)",
            "sites::small_boxes (sites.rs:31)",
            "main (sites.rs:50)",
        ]);
        assert_eq!(caller(&stack), "sites::small_boxes (sites.rs:31)");
        let inlined =
            strings(&["UnknownInlinedFun (unix.rs:14)", "UnknownInlinedFun (alloc.rs:95)", "demo::run (demo.rs:9)"]);
        assert_eq!(caller(&inlined), "demo::run (demo.rs:9)");
        assert_eq!(caller(&stack[..2]), "alloc::boxed::box_new_uninit (boxed.rs:254)");
        assert_eq!(caller(&[]), "???");
    }

    /// The site whose first frame is `first`.
    fn site<'a>(sites: &'a [Site], first: &str) -> &'a Site {
        sites.iter().find(|s| s.frames[0] == first).unwrap_or_else(|| panic!("no site at {first}: {sites:#?}"))
    }

    #[test]
    fn a_real_profile_parses_with_the_known_sites() {
        let dhat = load(&fixture("sites.short.dhat.json")).unwrap();
        assert_eq!(dhat.cmd, "./sites 1");
        assert!(dhat.end_time > 0);
        // What DHAT's own summary printed: 6,976 bytes in 16 blocks.
        let total = dhat.points.iter().fold((0, 0), |(b, k), p| (b + p.bytes, k + p.blocks));
        assert_eq!(total, (6_976, 16));
        let boxes = dhat.points.iter().find(|p| p.bytes == 300).unwrap();
        assert_eq!(boxes.blocks, 3);
        let vec = dhat.points.iter().find(|p| p.bytes == 4000).unwrap();
        assert_eq!((vec.blocks, vec.max_bytes, vec.max_blocks), (1, 4000, 1));
        assert!(boxes.frames[0].starts_with("0x") && boxes.frames[0].contains(": malloc (in "), "{:?}", boxes.frames);

        let sites = sites(&dhat);
        // Small boxes: three of 100 bytes, through `Box::new`.
        let boxes = site(&sites, "alloc::boxed::box_new_uninit (boxed.rs:248)");
        assert_eq!((boxes.blocks, boxes.bytes), (3, 300));
        assert_eq!(boxes.frames[1..3], ["new<[u8; 100]> (boxed.rs:286)", "sites::small_boxes (sites.rs:31)"]);
        // The big vector: raw_vec's frames dropped, `Vec::with_capacity` (inlined, then not) asked.
        let vec = site(&sites, "with_capacity_in<u8, alloc::alloc::Global> (mod.rs:965)");
        assert_eq!((vec.blocks, vec.bytes), (1, 4000));
        assert_eq!(
            vec.frames[1..3],
            ["alloc::vec::Vec<T>::with_capacity (mod.rs:524)", "sites::big_vec (sites.rs:38)"]
        );
        assert_eq!(vec.frames.last().unwrap(), "main (in sites)");
        // Largest first; every site's counts come from the file, none lost.
        assert_eq!(sites[0], *vec);
        assert_eq!(sites.iter().map(|s| (s.bytes, s.blocks)).fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1)), (6_976, 16));
        for s in &sites {
            assert!(!s.frames.iter().any(|f| f.starts_with("0x") || f.contains('/')), "{:?}", s.frames);
            assert!(!is_allocator_frame(&s.frames[0]), "{:?}", s.frames);
        }
        // A libc allocation keeps its C frames: `__fopen_internal` asked.
        assert_eq!(site(&sites, "__fopen_internal (iofopen.c:65)").bytes, 472);
    }

    #[test]
    fn the_difference_of_two_real_runs_is_the_ops_allocations() {
        let short = sites(&load(&fixture("sites.short.dhat.json")).unwrap());
        let long = sites(&load(&fixture("sites.long.dhat.json")).unwrap());
        let (delta, fell) = difference(&short, &long, 5);
        let got: Vec<(&str, &str, f64, f64)> = delta
            .iter()
            .map(|d| (d.frames[0].as_str(), d.frames[2].as_str(), d.blocks_per_op, d.bytes_per_op))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "with_capacity_in<u8, alloc::alloc::Global> (mod.rs:965)",
                    "sites::big_vec (sites.rs:38)",
                    1.0,
                    4000.0
                ),
                ("alloc::boxed::box_new_uninit (boxed.rs:248)", "sites::small_boxes (sites.rs:31)", 3.0, 300.0),
            ]
        );
        assert_eq!(fell, Counts::default());
    }

    #[test]
    fn frames_lose_address_path_and_allocator() {
        assert_eq!(
            normalise_frame("0x11EB35: alloc::vec::Vec<T>::with_capacity (library/alloc/src/vec/mod.rs:524)"),
            "alloc::vec::Vec<T>::with_capacity (mod.rs:524)"
        );
        assert_eq!(
            normalise_frame("0x48417B4: malloc (in /usr/libexec/valgrind/vgpreload_dhat-amd64-linux.so)"),
            "malloc (in vgpreload_dhat-amd64-linux.so)"
        );
        // Parentheses inside the name are not the location.
        assert_eq!(
            normalise_frame("0x1: call_once<(), (dyn core::ops::function::Fn<(), Output=i32>)> (function.rs:287)"),
            "call_once<(), (dyn core::ops::function::Fn<(), Output=i32>)> (function.rs:287)"
        );
        assert_eq!(normalise_frame("0x4005A1: ???"), "???");
        assert_eq!(normalise_frame("demo::f (/home/me/base/src/lib.rs:10)"), "demo::f (lib.rs:10)");

        for frame in [
            "0x48417B4: malloc (in /usr/libexec/valgrind/vgpreload_dhat-amd64-linux.so)",
            "0x48465EF: calloc (in /usr/libexec/valgrind/vgpreload_dhat-amd64-linux.so)",
            "0x1: realloc (vg_replace_malloc.c:1437)",
            "0x11D4DB: __rustc::__rust_alloc (sites.rs:25)",
            "0x1: __rust_realloc (lib.rs:1)",
            "0x1: __rdl_alloc (alloc.rs:400)",
            "0x11D75F: std::sys::alloc::unix::<impl core::alloc::global::GlobalAlloc for std::alloc::System>::alloc (library/std/src/sys/alloc/unix.rs:14)",
            "0x1: <benchgate::measure::alloc::CountingAlloc as core::alloc::global::GlobalAlloc>::alloc (alloc.rs:67)",
            "0x11EC6D: alloc (library/alloc/src/alloc.rs:95)",
            "0x146D67: alloc_impl_runtime (alloc.rs:190)",
            "0x146D67: allocate (alloc.rs:429)",
            "0x11EC6D: alloc::alloc::Global::alloc_impl_runtime (library/alloc/src/alloc.rs:190)",
            "0x1: alloc::alloc::exchange_malloc (alloc.rs:349)",
            "0x14DC75: <alloc::raw_vec::RawVecInner>::try_allocate_in (in /tmp/x/sites)",
            "0x11EB35: with_capacity_in<u8, alloc::alloc::Global> (library/alloc/src/raw_vec/mod.rs:177)",
            "0x1: try_allocate_in<alloc::alloc::Global> (mod.rs:464)",
            "0x1: alloc::raw_vec::finish_grow (raw_vec.rs:459)",
            "0x1: finish_grow<alloc::alloc::Global> (mod.rs:800)",
            "0x1: grow_one<u8> (mod.rs:340)",
            "0x144DCF: with_capacity_in<alloc::alloc::Global> (mod.rs:433)",
            // A release build of a benchmark: `System` and `CountingAlloc` inlined into `__rust_alloc`.
            "0x18A8B9: alloc (library/std/src/sys/alloc/unix.rs:14)",
            "0x18A8B9: alloc (unix.rs:14)",
            "0x18A8B9: alloc<std::alloc::System> (alloc.rs:69)",
            "0x18A8B9: __rust_alloc (lib.rs:61)",
        ] {
            assert!(is_allocator_frame(frame), "{frame}");
        }
        for frame in [
            "0x11EB35: with_capacity_in<u8, alloc::alloc::Global> (library/alloc/src/vec/mod.rs:965)",
            "0x144DCF: with_capacity_in<u8, alloc::alloc::Global> (mod.rs:965)",
            "0x11EEC1: sites::small_boxes (sites.rs:31)",
            "0x1: demo::alloc_table (demo.rs:3)",
            "0x1: alloc (demo.rs:3)",
            "0x48F11FA: __fopen_internal (iofopen.c:65)",
            "0x1: ???",
        ] {
            assert!(!is_allocator_frame(frame), "{frame}");
        }

        let stack = strings(&[
            "0x1: malloc (in /usr/libexec/valgrind/vgpreload_dhat-amd64-linux.so)",
            "0x2: __rustc::__rust_alloc (lib.rs:25)",
            "0x3: demo::grow (/src/demo.rs:10)",
            "0x4: alloc (demo.rs:3)",
        ]);
        assert_eq!(normalise_stack(&stack), ["demo::grow (demo.rs:10)", "alloc (demo.rs:3)"]);
        // A stack of `harness/alloc-free/counting-on`, built for `cargo bench`.
        let stack = strings(&[
            "0x48417B4: malloc (in /usr/libexec/valgrind/vgpreload_dhat-amd64-linux.so)",
            "0x18A8B9: alloc (library/std/src/sys/alloc/unix.rs:14)",
            "0x18A8B9: alloc<std::alloc::System> (alloc.rs:69)",
            "0x18A8B9: __rust_alloc (lib.rs:61)",
            "0x18A8B9: alloc (library/alloc/src/alloc.rs:95)",
            "0x18A8B9: {closure#0} (harness.rs:35)",
            "0x18A8B9: benchgate::define::Bencher::iter_custom::{{closure}} (define.rs:253)",
        ]);
        assert_eq!(
            normalise_stack(&stack),
            ["{closure#0} (harness.rs:35)", "benchgate::define::Bencher::iter_custom::{{closure}} (define.rs:253)"]
        );
        // Only the top is dropped, and never the whole stack.
        let all = strings(&["0x1: malloc (in /lib/vgpreload_dhat.so)", "0x2: __rust_alloc (lib.rs:1)"]);
        assert_eq!(normalise_stack(&all), ["__rust_alloc (lib.rs:1)"]);
        assert!(normalise_stack(&[]).is_empty());
    }

    #[test]
    fn points_with_the_same_normalised_stack_are_one_site() {
        let point = |frames: &[&str], bytes, blocks| Point {
            frames: strings(frames),
            bytes,
            blocks,
            max_bytes: 0,
            max_blocks: 0,
        };
        let dhat = Dhat {
            cmd: "x".into(),
            end_time: 1,
            points: vec![
                point(&["0x1: malloc (in /a/vgpreload_dhat.so)", "0x10: demo::f (/base/demo.rs:3)"], 10, 1),
                point(&["0x2: calloc (in /a/vgpreload_dhat.so)", "0x11: demo::f (/base/demo.rs:3)"], 30, 2),
                point(&["0x2: malloc (in /a/vgpreload_dhat.so)", "0x12: demo::g (/base/demo.rs:9)"], 40, 1),
            ],
        };
        let got = sites(&dhat);
        assert_eq!(
            got,
            [
                Site { frames: strings(&["demo::f (demo.rs:3)"]), bytes: 40, blocks: 3 },
                Site { frames: strings(&["demo::g (demo.rs:9)"]), bytes: 40, blocks: 1 },
            ]
        );
    }

    fn s(frames: &[&str], blocks: u64, bytes: u64) -> Site {
        Site { frames: strings(frames), bytes, blocks }
    }

    #[test]
    fn the_difference_keeps_what_grew_and_sums_what_fell() {
        let short = [
            s(&["setup"], 5, 5_000),
            s(&["op"], 1, 64),
            s(&["map"], 4, 400),
            s(&["gone"], 1, 8),
            s(&["mixed"], 10, 100),
        ];
        let long = [
            s(&["setup"], 5, 5_000),
            s(&["op"], 11, 704),
            s(&["map"], 3, 500),
            s(&["fresh"], 10, 2_000),
            s(&["mixed"], 9, 120),
        ];
        let (delta, fell) = difference(&short, &long, 10);
        let got: Vec<(&str, f64, f64)> =
            delta.iter().map(|d| (d.frames[0].as_str(), d.blocks_per_op, d.bytes_per_op)).collect();
        assert_eq!(got, [("fresh", 1.0, 200.0), ("op", 1.0, 64.0), ("map", 0.0, 10.0), ("mixed", 0.0, 2.0)]);
        assert_eq!(fell, Counts { blocks: 1 + 1 + 1, bytes: 8 });
        let ops = OpSites { ops: 10, sites: delta, fell, files: Vec::new() };
        assert_eq!(ops.blocks_per_op(), 2.0 - 0.3);
        assert_eq!(ops.bytes_per_op(), 276.0 - 0.8);
    }

    #[test]
    fn the_setups_sites_are_taken_off() {
        let site = |frames: &[&str], blocks_per_op, bytes_per_op| SiteDelta {
            frames: strings(frames),
            blocks_per_op,
            bytes_per_op,
        };
        let with_setup = vec![
            site(&["alloc::vec::from_elem", "fixture::setup"], 1.0, 1024.0),
            site(&["fixture::op"], 1.0, 64.0),
            site(&["shared"], 2.0, 40.0),
        ];
        let setup = [site(&["alloc::vec::from_elem", "fixture::setup"], 1.0, 1024.0), site(&["shared"], 1.0, 30.0)];
        let left = without_setup(with_setup, &setup);
        let got: Vec<(&str, f64, f64)> =
            left.iter().map(|s| (s.frames[0].as_str(), s.blocks_per_op, s.bytes_per_op)).collect();
        assert_eq!(got, [("fixture::op", 1.0, 64.0), ("shared", 1.0, 10.0)]);
    }

    fn op_sites(sites: &[(&[&str], f64, f64)]) -> OpSites {
        OpSites {
            ops: 10,
            sites: sites
                .iter()
                .map(|&(frames, blocks_per_op, bytes_per_op)| SiteDelta {
                    frames: strings(frames),
                    blocks_per_op,
                    bytes_per_op,
                })
                .collect(),
            fell: Counts::default(),
            files: Vec::new(),
        }
    }

    #[test]
    fn compare_lists_new_and_grown_sites_largest_growth_first() {
        let base = op_sites(&[
            (&["demo::parse (lib.rs:10)", "main (main.rs:3)"], 2.0, 128.0),
            (&["demo::same (lib.rs:20)"], 1.0, 64.0),
            (&["demo::shrank (lib.rs:30)"], 4.0, 400.0),
            (&["demo::more_blocks (lib.rs:40)"], 1.0, 100.0),
        ]);
        let head = op_sites(&[
            (&["demo::fresh (lib.rs:5)"], 1.0, 1000.0),
            // Same site, moved down by an edit: matched, and grew.
            (&["demo::parse (lib.rs:12)", "main (main.rs:3)"], 3.0, 192.0),
            (&["demo::same (lib.rs:22)"], 1.0, 64.0),
            (&["demo::shrank (lib.rs:30)"], 2.0, 200.0),
            (&["demo::more_blocks (lib.rs:40)"], 2.0, 100.0),
        ]);
        let changes = compare_sites(&base, &head, 10);
        let got: Vec<(&str, f64, f64, f64, f64)> = changes
            .iter()
            .map(|c| (c.frames[0].as_str(), c.base_blocks, c.head_blocks, c.base_bytes, c.head_bytes))
            .collect();
        assert_eq!(
            got,
            [
                ("demo::fresh (lib.rs:5)", 0.0, 1.0, 0.0, 1000.0),
                ("demo::parse (lib.rs:12)", 2.0, 3.0, 128.0, 192.0),
                ("demo::more_blocks (lib.rs:40)", 1.0, 2.0, 100.0, 100.0),
            ]
        );
        assert!(changes[0].is_new() && !changes[1].is_new());
        assert_eq!(compare_sites(&base, &head, 1).len(), 1);
        assert!(compare_sites(&head, &head, 10).is_empty());

        let md = markdown(&changes);
        assert!(md.starts_with("| allocation site | blocks/op | bytes/op |\n| --- | ---: | ---: |\n"), "{md}");
        assert!(md.contains("| `demo::fresh (lib.rs:5)` (new) | 0 → 1 | 0 → 1,000 |\n"), "{md}");
        assert!(md.contains("| `demo::parse (lib.rs:12)` | 2 → 3 | 128 → 192 |\n"), "{md}");
        assert_eq!(md.lines().count(), 5);
        assert!(markdown(&[]).contains("No allocation site"));
    }

    #[test]
    fn bad_files_are_errors_naming_the_problem() {
        let text = std::fs::read_to_string(fixture("sites.short.dhat.json")).unwrap();
        let err = parse(&text[..text.len() / 2]).unwrap_err();
        assert!(err.contains("truncated"), "{err}");
        let err = parse("{\"dhatFileVersion\":1,\"mode\":\"heap\"}").unwrap_err();
        assert!(err.contains("dhatFileVersion 1"), "{err}");
        let err = parse(&text.replacen("\"mode\":\"heap\"", "\"mode\":\"copy\"", 1)).unwrap_err();
        assert!(err.contains("\"copy\"") && err.contains("heap"), "{err}");
        let err = parse("[1, 2]").unwrap_err();
        assert!(err.contains("not a DHAT JSON file"), "{err}");
        let err = parse("{\"mode\":\"heap\"}").unwrap_err();
        assert!(err.contains("no dhatFileVersion"), "{err}");
        let err = parse(&text.replacen("\"pps\":", "\"pps_\":", 1)).unwrap_err();
        assert!(err.contains("missing field `pps`"), "{err}");
        let err = parse(&text.replacen("\"fs\":[1,", "\"fs\":[9999,", 1)).unwrap_err();
        assert!(err.contains("refers to frame 9999"), "{err}");
        let err = load(Path::new("/nonexistent/x.dhat.json")).unwrap_err();
        assert!(err.contains("cannot read DHAT profile /nonexistent/x.dhat.json"), "{err}");
    }
}
