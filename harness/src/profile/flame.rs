//! Flamegraphs of callgrind profiles: folded stacks rebuilt from the call graph ([`folded`]), drawn
//! as SVG by inferno ([`flamegraph_svg`]), and the differential flamegraph of a base profile against
//! a head profile ([`differential_svg`]: the head's shape, red where a stack grew, blue where it
//! shrank).
//!
//! # Stacks from a call graph
//!
//! Callgrind records no stacks, only per (caller, callee) pair the cost spent in the callee during
//! those calls. [`folded`] rebuilds stacks the way gprof2dot and the callgrind-to-flamegraph
//! converters do, by assuming that a function spends its cost the same way whoever calls it:
//!
//! - **Functions** are merged by (object, name) first. Callgrind keys code that a function inlines
//!   from another source file as a function of that file (see [`super::callgrind`]); calls go to
//!   the function's own file, so those entries are never called, yet they hold self cost and make
//!   calls (in a Rust program most of `main`'s calls come from inlined library code).
//! - The walk starts at the **roots**, the functions no other function calls (in a program, the
//!   dynamic loader's entry point, which reaches `(below main)` and `main`), in profile order, and
//!   goes depth-first along the calls.
//! - Each stack node gets a **flow**: a root's is its self cost plus the costs of its calls; a
//!   callee's is its caller's flow times the cost of the call divided by the caller's own total, its
//!   self cost plus the costs of the calls it descends into. For a function that is not recursive
//!   that total is `callgrind_annotate`'s inclusive cost; for a recursive one it leaves out the calls
//!   back into the stack, which callgrind counts once per recursion level (see [`super::callgrind`]).
//! - **Recursion and cycles**: a callee already on the stack is not descended into again, and its
//!   call is left out of the caller's total (its cost is already part of the outer frame's flow).
//!   Callgrind's deeper recursion levels (`fib'2`) are separate functions, so `fib` directly
//!   recursive reads `main;fib;fib` in the graph: the outer call, then all deeper levels together.
//! - **Limits**: stacks are cut at [`MAX_DEPTH`] frames, the walk stops after [`MAX_NODES`] stack
//!   nodes, and a call whose flow is below one millionth of the total (or below one unit of cost) is
//!   not descended into, which bounds the walk of a graph whose paths multiply.
//! - **Self costs**, exactly: each function's self cost is split among the stacks it appears on (as
//!   the leaf) in proportion to their flows, by largest-remainder apportionment (Hamilton's method:
//!   every stack gets the integer part of its exact share, and the units left over go to the largest
//!   fractional parts, ties to the earlier stack). So the folded values of a function add up to its
//!   self cost exactly and all folded values to the profile total exactly; flows cut by the limits
//!   only move a function's cost to its other stacks. A function with no stack at all (not reachable
//!   from a root, or only beyond the limits) becomes a root itself, so its callees stay under it;
//!   these extra roots are taken by decreasing inclusive cost.
//!
//! # Frame names
//!
//! A frame is the function name callgrind wrote, without its recursion suffix (`fib'2` -> `fib`),
//! semicolons replaced by `:` as FlameGraph's `stackcollapse` scripts do (inferno splits stacks on
//! `;`; Rust writes them in array types such as `[u8; 32]`), and control characters by spaces. A
//! name longer than [`SHORTEN_OVER`] characters has its type arguments below the first level of
//! `<…>` replaced by `…` (`<Vec<Option<u8>>>::push` keeps `<Vec<…>>::push`), unless that would give
//! two different functions the same frame name, in which case both keep their full names. Functions
//! of the same name in different objects (`_init` of each library) share a frame name.
//!
//! # Rendering
//!
//! inferno's options are fixed for reproducible SVGs: colours come from a hash of the frame name
//! (`deterministic`), never from its random generator, and the input lines are sorted as inferno
//! requires. [`merge_small`] optionally merges stacks below a share of the total into an `[other]`
//! frame under their caller, to keep SVGs of large profiles small.

use std::collections::{BTreeMap, HashMap};
use std::io;

use inferno::flamegraph::{self, Options};

use super::callgrind::Profile;

/// Stacks deeper than this many frames are cut: the frames below are not walked.
pub const MAX_DEPTH: usize = 128;

/// The walk stops creating stack nodes after this many.
pub const MAX_NODES: usize = 1_000_000;

/// Names longer than this many characters have their nested type arguments shortened.
pub const SHORTEN_OVER: usize = 100;

/// Folded stacks: `caller;callee` (root first) to the self cost of the leaf frame on that stack.
pub type Folded = BTreeMap<String, u64>;

/// The call graph of one event, functions merged by (object, name): callgrind keys the code a
/// function inlines from another source file as a separate function of that file, which is never
/// called itself (calls go to the function's own file) but makes calls of its own.
struct Graph {
    /// The function name of each node, as callgrind wrote it.
    names: Vec<String>,
    self_cost: Vec<u64>,
    /// Calls per node: (callee node, cost), callees in first-seen order, calls within a node left out.
    calls: Vec<Vec<(usize, u64)>>,
    /// Whether another node calls this one.
    called: Vec<bool>,
}

impl Graph {
    fn new(profile: &Profile, event: usize) -> Graph {
        let mut ids: HashMap<(&str, &str), usize> = HashMap::new();
        let mut node_of = Vec::with_capacity(profile.functions.len());
        let mut names = Vec::new();
        for f in &profile.functions {
            let next = ids.len();
            let id = *ids.entry((f.object.as_str(), f.name.as_str())).or_insert(next);
            if id == next {
                // Names shared by two builds, so that a differential flamegraph matches unnamed code too.
                names.push(f.stable_name().into_owned());
            }
            node_of.push(id);
        }
        let n = names.len();
        let mut self_cost = vec![0u64; n];
        let mut calls: Vec<Vec<(usize, u64)>> = vec![Vec::new(); n];
        let mut called = vec![false; n];
        for (f, &id) in profile.functions.iter().zip(&node_of) {
            self_cost[id] += cost(&f.self_cost, event);
            for c in &f.calls {
                let callee = node_of[c.callee];
                if callee == id {
                    continue;
                }
                called[callee] = true;
                let c = cost(&c.inclusive, event);
                match calls[id].iter_mut().find(|(to, _)| *to == callee) {
                    Some((_, sum)) => *sum += c,
                    None => calls[id].push((callee, c)),
                }
            }
        }
        Graph { names, self_cost, calls, called }
    }

    /// Self cost plus the costs of all calls of `node`.
    fn inclusive(&self, node: usize) -> u64 {
        self.self_cost[node] + self.calls[node].iter().map(|&(_, c)| c).sum::<u64>()
    }
}

/// The cost of the event at index `event` in `v`; 0 past its end.
fn cost(v: &[u64], event: usize) -> u64 {
    v.get(event).copied().unwrap_or(0)
}

/// One stack node of the walk: a graph node on a stack.
struct Node {
    func: usize,
    parent: Option<usize>,
    flow: f64,
}

/// The depth-first walk over the call graph.
struct Walk<'a> {
    graph: &'a Graph,
    /// Calls below this flow are not descended into.
    min_flow: f64,
    nodes: Vec<Node>,
    /// Stack nodes per graph node.
    by_func: Vec<Vec<usize>>,
    on_stack: Vec<bool>,
}

impl Walk<'_> {
    /// Adds the stack node of `func` (under `parent`, at `depth` frames) and walks its calls.
    fn visit(&mut self, func: usize, parent: Option<usize>, flow: f64, depth: usize) {
        if self.nodes.len() >= MAX_NODES {
            return;
        }
        let id = self.nodes.len();
        self.nodes.push(Node { func, parent, flow });
        self.by_func[func].push(id);
        if depth >= MAX_DEPTH {
            return;
        }
        self.on_stack[func] = true;
        let graph = self.graph;
        let calls = graph.calls[func].iter().filter(|&&(callee, c)| c > 0 && !self.on_stack[callee]);
        let total = graph.self_cost[func] as f64 + calls.clone().map(|&(_, c)| c as f64).sum::<f64>();
        if total > 0.0 {
            for &(callee, c) in calls.collect::<Vec<_>>() {
                let child = flow * c as f64 / total;
                if child >= self.min_flow {
                    self.visit(callee, Some(id), child, depth + 1);
                }
            }
        }
        self.on_stack[func] = false;
    }

    /// Walks from `func` as a root.
    fn root(&mut self, func: usize) {
        self.visit(func, None, self.graph.inclusive(func) as f64, 1);
    }
}

/// Folded stacks of `profile` for the event at index `event` (e.g. `Ir`), rebuilt from the call
/// graph as the module documentation describes: the values add up to the profile's total exactly,
/// and the values of the stacks ending in a function to that function's self cost. Stacks with a
/// value of 0 are left out.
pub fn folded(profile: &Profile, event: usize) -> Folded {
    let graph = Graph::new(profile, event);
    let n = graph.names.len();
    let mut walk = Walk {
        graph: &graph,
        min_flow: (profile.total(event) as f64 / 1e6).max(1.0),
        nodes: Vec::new(),
        by_func: vec![Vec::new(); n],
        on_stack: vec![false; n],
    };
    for i in (0..n).filter(|&i| !graph.called[i]) {
        walk.root(i);
    }
    // Functions with no stack become roots, the most expensive first.
    let mut rest: Vec<usize> = (0..n).filter(|&i| walk.by_func[i].is_empty()).collect();
    rest.sort_by_key(|&i| std::cmp::Reverse(graph.inclusive(i)));
    for i in rest {
        if walk.by_func[i].is_empty() {
            walk.root(i);
        }
    }

    let names = frame_names(&graph.names);
    let mut out = Folded::new();
    let mut frames: Vec<&str> = Vec::new();
    for (func, nodes) in walk.by_func.iter().enumerate() {
        let self_cost = graph.self_cost[func];
        if self_cost == 0 {
            continue;
        }
        let mut weights: Vec<f64> = nodes.iter().map(|&id| walk.nodes[id].flow).collect();
        if weights.iter().all(|&w| w <= 0.0) {
            // Only zero-flow stacks (inconsistent costs): split evenly.
            weights.iter_mut().for_each(|w| *w = 1.0);
        }
        let shares = apportion(self_cost, &weights);
        for (&id, share) in nodes.iter().zip(shares) {
            if share == 0 {
                continue;
            }
            frames.clear();
            let mut at = Some(id);
            while let Some(node) = at {
                frames.push(&names[walk.nodes[node].func]);
                at = walk.nodes[node].parent;
            }
            frames.reverse();
            *out.entry(frames.join(";")).or_insert(0) += share;
        }
    }
    out
}

/// Splits `total` into integers proportional to `weights` (non-negative, not all zero) that add up
/// to `total` exactly: largest-remainder apportionment, ties to the earlier weight.
fn apportion(total: u64, weights: &[f64]) -> Vec<u64> {
    let sum: f64 = weights.iter().sum();
    if weights.is_empty() || sum <= 0.0 {
        return vec![0; weights.len()];
    }
    let quotas: Vec<f64> = weights.iter().map(|w| total as f64 * w / sum).collect();
    let mut shares: Vec<u64> = quotas.iter().map(|q| (q.floor() as u64).min(total)).collect();
    let mut assigned: u64 = shares.iter().sum();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    // Largest fractional part first; a stable sort keeps ties in input order.
    order.sort_by(|&a, &b| (quotas[b] - quotas[b].floor()).total_cmp(&(quotas[a] - quotas[a].floor())));
    // Floating-point error can leave the floors a few units off: too many units are taken back from
    // the smallest fractional parts, too few handed out from the largest (round robin).
    for &i in order.iter().rev().cycle() {
        if assigned <= total {
            break;
        }
        if shares[i] > 0 {
            shares[i] -= 1;
            assigned -= 1;
        }
    }
    for &i in order.iter().cycle() {
        if assigned >= total {
            break;
        }
        shares[i] += 1;
        assigned += 1;
    }
    shares
}

/// The frame names of functions named `names` (see the module documentation).
fn frame_names(names: &[String]) -> Vec<String> {
    let full: Vec<String> = names.iter().map(|n| sanitize(strip_recursion(n))).collect();
    let short: Vec<String> = full.iter().map(|n| shorten(n)).collect();
    // A short name standing for more than one full name is ambiguous: those keep the full name.
    let mut owners: HashMap<&str, &str> = HashMap::new();
    let mut ambiguous: Vec<&str> = Vec::new();
    for (s, f) in short.iter().zip(&full) {
        match owners.insert(s, f) {
            Some(prev) if prev != f => ambiguous.push(s),
            _ => {}
        }
    }
    short.iter().zip(&full).map(|(s, f)| if ambiguous.contains(&s.as_str()) { f.clone() } else { s.clone() }).collect()
}

/// `name` without callgrind's recursion-level suffix (`fib'2` -> `fib`).
fn strip_recursion(name: &str) -> &str {
    match name.rsplit_once('\'') {
        Some((base, level)) if !base.is_empty() && !level.is_empty() && level.bytes().all(|b| b.is_ascii_digit()) => {
            base
        }
        _ => name,
    }
}

/// `name` made safe as a frame of a folded line: `;` becomes `:`, control characters become
/// spaces, outer whitespace goes, and a trailing number is kept from being read as a count.
fn sanitize(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c == ';' {
                ':'
            } else if c.is_control() {
                ' '
            } else {
                c
            }
        })
        .collect::<String>();
    s = s.trim().to_string();
    if s.is_empty() {
        return "???".to_string();
    }
    // inferno reads the last space-separated number of a line as its count (two in a differential
    // line): a name ending in ` 12` gets a no-break space there instead.
    if let Some(i) = s.rfind(' ')
        && s[i + 1..].bytes().all(|b| b.is_ascii_digit() || b == b'.')
    {
        s.replace_range(i..i + 1, "\u{a0}");
    }
    s
}

/// `name` with type arguments nested below the first level of `<…>` replaced by `…`, if it is
/// longer than [`SHORTEN_OVER`] characters and its angle brackets balance (`->` is not a bracket).
fn shorten(name: &str) -> String {
    if name.chars().count() <= SHORTEN_OVER {
        return name.to_string();
    }
    let mut out = String::with_capacity(name.len());
    let mut depth = 0usize;
    let mut prev = '\0';
    for c in name.chars() {
        match c {
            '<' => {
                depth += 1;
                if depth <= 2 {
                    out.push(c);
                }
                if depth == 2 {
                    out.push('…');
                }
            }
            '>' if prev != '-' => {
                if depth == 0 {
                    return name.to_string();
                }
                if depth <= 2 {
                    out.push(c);
                }
                depth -= 1;
            }
            _ if depth < 2 => out.push(c),
            _ => {}
        }
        prev = c;
    }
    if depth != 0 { name.to_string() } else { out }
}

/// Merges the stacks of `folded` whose value is below `min_share` of the total (e.g. `0.001` for
/// 0.1%) into an `[other]` frame under their caller (`a;b;c` -> `a;b;[other]`; a lone root frame
/// becomes `[other]`). The total is unchanged; stacks at or above the share are kept as they are.
pub fn merge_small(folded: &Folded, min_share: f64) -> Folded {
    let total: u64 = folded.values().sum();
    let cut = total as f64 * min_share;
    let mut out = Folded::new();
    for (stack, &value) in folded {
        let key = if (value as f64) < cut {
            match stack.rsplit_once(';') {
                Some((parent, _)) => format!("{parent};[other]"),
                None => "[other]".to_string(),
            }
        } else {
            stack.clone()
        };
        *out.entry(key).or_insert(0) += value;
    }
    out
}

/// The folded lines of `folded`, `stack value`, in sorted order as inferno requires.
pub fn folded_lines(folded: &Folded) -> Vec<String> {
    folded.iter().map(|(stack, value)| format!("{stack} {value}")).collect()
}

/// inferno's options for benchgate's graphs: fixed colours (a hash of the frame name), the title,
/// and the unit of the counts (e.g. `instructions`).
fn options(title: &str, count_name: &str) -> Options<'static> {
    let mut opt = Options::default();
    opt.title = title.to_string();
    opt.count_name = count_name.to_string();
    opt.deterministic = true;
    opt
}

/// Renders `folded` as an SVG flamegraph titled `title`, counts labelled `count_name` (e.g.
/// `"instructions"`). An empty profile gives inferno's "no stack counts" error.
pub fn flamegraph_svg(folded: &Folded, title: &str, count_name: &str) -> io::Result<String> {
    let lines = folded_lines(folded);
    let mut opt = options(title, count_name);
    let mut svg = Vec::new();
    flamegraph::from_lines(&mut opt, lines.iter().map(String::as_str), &mut svg)?;
    String::from_utf8(svg).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// The two-column folded lines of a differential flamegraph, `stack base head`, sorted: inferno's
/// `differential` merge of `base` and `head` without normalisation (instruction counts are
/// deterministic, so a grown total is a real regression and shows red).
pub fn differential_lines(base: &Folded, head: &Folded) -> io::Result<Vec<String>> {
    let base = folded_lines(base).join("\n");
    let head = folded_lines(head).join("\n");
    let mut merged = Vec::new();
    inferno::differential::from_readers(
        inferno::differential::Options::default(),
        base.as_bytes(),
        head.as_bytes(),
        &mut merged,
    )?;
    let merged = String::from_utf8(merged).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    // inferno writes the merged stacks in hash-map order.
    let mut lines: Vec<String> = merged.lines().map(str::to_string).collect();
    lines.sort();
    Ok(lines)
}

/// Renders the differential flamegraph of `base` against `head`: frames sized by the head's costs,
/// each stack coloured by its change from base to head (red grew, blue shrank, the deeper the colour
/// the larger the change; its tooltip gives the change as a share of the head's total). Stacks only
/// in the base have no width. Counts are labelled `count_name` (e.g. `"instructions"`).
pub fn differential_svg(base: &Folded, head: &Folded, title: &str, count_name: &str) -> io::Result<String> {
    let lines = differential_lines(base, head)?;
    let mut opt = options(title, count_name);
    let mut svg = Vec::new();
    flamegraph::from_lines(&mut opt, lines.iter().map(String::as_str), &mut svg)?;
    String::from_utf8(svg).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::profile::callgrind::{self, Call, Function};

    fn fixture() -> Profile {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/callgrind/small.callgrind");
        callgrind::load(&path).unwrap()
    }

    fn func(name: &str, self_cost: u64, inclusive: u64, calls: Vec<Call>) -> Function {
        Function {
            name: name.into(),
            file: "f.rs".into(),
            object: String::new(),
            self_cost: vec![self_cost],
            inclusive: vec![inclusive],
            calls,
        }
    }

    fn call(callee: usize, count: u64, cost: u64) -> Call {
        Call { callee, count, inclusive: vec![cost] }
    }

    fn profile(functions: Vec<Function>) -> Profile {
        let total = functions.iter().map(|f| f.self_cost[0]).sum();
        Profile { events: vec!["Ir".into()], totals: vec![total], functions, cmd: None }
    }

    /// The sum of folded values per leaf frame name.
    fn by_leaf(folded: &Folded) -> BTreeMap<&str, u64> {
        let mut out = BTreeMap::new();
        for (stack, v) in folded {
            *out.entry(stack.rsplit(';').next().unwrap()).or_insert(0) += v;
        }
        out
    }

    /// a (self 10) calls b (cost 40) and c (cost 20); b (self 30) calls c (cost 10); c has self 30,
    /// two thirds of it through a directly, one third through b.
    #[test]
    fn hand_made_graph_gives_exact_stacks() {
        let p = profile(vec![
            func("a", 10, 70, vec![call(1, 1, 40), call(2, 2, 20)]),
            func("b", 30, 40, vec![call(2, 1, 10)]),
            func("c", 30, 30, vec![]),
        ]);
        let got = folded(&p, 0);
        let want: Folded =
            [("a", 10), ("a;b", 30), ("a;b;c", 10), ("a;c", 20)].into_iter().map(|(s, v)| (s.to_string(), v)).collect();
        assert_eq!(got, want);
        assert_eq!(folded_lines(&got), ["a 10", "a;b 30", "a;b;c 10", "a;c 20"]);
    }

    /// Shares that do not divide evenly: c's 10 split 2:1 is 6.67 and 3.33, so 7 and 3.
    #[test]
    fn largest_remainder_keeps_sums_exact() {
        let p = profile(vec![
            func("a", 0, 30, vec![call(1, 1, 10), call(2, 1, 20)]),
            func("b", 0, 10, vec![call(3, 1, 10)]),
            func("c", 0, 20, vec![call(3, 1, 10), call(4, 1, 10)]),
            func("d", 10, 20, vec![]),
            func("e", 10, 10, vec![]),
        ]);
        // d is reached with flow 10 through b and 10 through c (c's flow 20 times 10/20): even split.
        let got = folded(&p, 0);
        assert_eq!(got.values().sum::<u64>(), 20);
        assert_eq!(got["a;b;d"], 5);
        assert_eq!(got["a;c;d"], 5);
        assert_eq!(got["a;c;e"], 10);
        assert_eq!(apportion(10, &[2.0, 1.0]), [7, 3]);
        assert_eq!(apportion(10, &[1.0, 1.0, 1.0]), [4, 3, 3]);
        assert_eq!(apportion(0, &[1.0, 2.0]), [0, 0]);
        assert_eq!(apportion(7, &[0.0, 5.0]), [0, 7]);
        let shares = apportion(1_000_003, &[1.0 / 3.0, 1.0 / 7.0, 0.1, 1e-9]);
        assert_eq!(shares.iter().sum::<u64>(), 1_000_003);
    }

    /// Direct recursion (`r` calling itself) and a cycle (`x` -> `y` -> `x`) do not loop, and the
    /// costs stay exact. Flows: main 100, main;r 50 (r's total 10 + 40, its call to itself cut),
    /// main;r;y 40, main;r;y;x 40 * 20/79 = 10.13, main;x 49, main;x;y 29. x's 20 split 10.13 : 49
    /// is 3.43 and 16.57, so 3 and 17; y's 59 split 40 : 29 is 34.20 and 24.80, so 34 and 25.
    #[test]
    fn recursion_and_cycles_terminate() {
        let p = profile(vec![
            func("main", 1, 100, vec![call(1, 1, 50), call(2, 1, 49)]),
            func("r", 10, 150, vec![call(1, 5, 100), call(3, 1, 40)]),
            func("x", 20, 49, vec![call(3, 1, 29)]),
            func("y", 59, 69, vec![call(2, 1, 20)]),
        ]);
        let got = folded(&p, 0);
        assert_eq!(got.values().sum::<u64>(), p.total(0));
        let leaves = by_leaf(&got);
        assert_eq!(leaves["main"], 1);
        assert_eq!(leaves["r"], 10);
        assert_eq!(leaves["x"], 20);
        assert_eq!(leaves["y"], 59);
        // No function twice on a stack: r's call to itself and the x -> y -> x cycle are cut.
        for stack in got.keys() {
            let frames: Vec<&str> = stack.split(';').collect();
            let mut unique = frames.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), frames.len(), "{stack}");
        }
        let want: Folded =
            [("main", 1), ("main;r", 10), ("main;r;y", 34), ("main;r;y;x", 3), ("main;x", 17), ("main;x;y", 25)]
                .into_iter()
                .map(|(s, v)| (s.to_string(), v))
                .collect();
        assert_eq!(got, want);
    }

    /// Functions no root reaches get their own stacks, their callees under them.
    #[test]
    fn unreachable_functions_are_roots() {
        let p = profile(vec![
            func("main", 5, 5, vec![]),
            func("p", 3, 10, vec![call(2, 1, 7)]),
            func("q", 7, 14, vec![call(1, 1, 10)]),
        ]);
        // p and q call each other, so neither is a root; q is the more expensive.
        let got = folded(&p, 0);
        let want: Folded = [("main", 5), ("q", 7), ("q;p", 3)].into_iter().map(|(s, v)| (s.to_string(), v)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn frame_names() {
        assert_eq!(strip_recursion("small::fib'2"), "small::fib");
        assert_eq!(strip_recursion("it's"), "it's");
        assert_eq!(strip_recursion("'2"), "'2");
        assert_eq!(sanitize("<[u8; 32] as Debug>::fmt"), "<[u8: 32] as Debug>::fmt");
        assert_eq!(sanitize(" odd\tname 12"), "odd name\u{a0}12");
        assert_eq!(sanitize(""), "???");
        let long = format!("<alloc::vec::Vec<core::option::Option<u8>>>::push::<{}>", "x".repeat(100));
        assert_eq!(shorten(&long), format!("<alloc::vec::Vec<…>>::push::<{}>", "x".repeat(100)));
        let arrow = format!("<fn() -> u8 as Foo<Bar<{}>>>::call", "y".repeat(100));
        assert_eq!(shorten(&arrow), "<fn() -> u8 as Foo<…>>::call");
        let unbalanced = format!("operator<{}", "z".repeat(100));
        assert_eq!(shorten(&unbalanced), unbalanced);
        assert_eq!(shorten("<Vec<u8>>::push"), "<Vec<u8>>::push");
        // Two long names that would shorten alike keep their full names.
        let a = format!("<{}<A<u8>>>::f", "w".repeat(100));
        let b = format!("<{}<A<u16>>>::f", "w".repeat(100));
        assert_eq!(super::frame_names(&[a.clone(), b.clone(), a.clone() + "'2"]), [a.clone(), b, a]);
    }

    #[test]
    fn fixture_folded_sums_are_exact() {
        let p = fixture();
        let ir = p.event("Ir").unwrap();
        let got = folded(&p, ir);
        assert_eq!(got.values().sum::<u64>(), p.total(ir));
        assert!(got.values().all(|&v| v > 0));
        // Per frame name (recursion levels and inlined-code entries share one), the leaf values
        // add up to the self costs.
        let names = super::frame_names(&p.functions.iter().map(|f| f.stable_name().into_owned()).collect::<Vec<_>>());
        let mut want: BTreeMap<&str, u64> = BTreeMap::new();
        for (f, name) in p.functions.iter().zip(&names) {
            *want.entry(name).or_insert(0) += f.self_cost[ir];
        }
        want.retain(|_, v| *v > 0);
        assert_eq!(by_leaf(&got), want);
    }

    #[test]
    fn fixture_stacks_follow_the_call_graph() {
        let p = fixture();
        let got = folded(&p, 0);
        let stack_of =
            |leaf: &str| -> Vec<&String> { got.keys().filter(|k| k.ends_with(&format!(";{leaf}"))).collect() };
        // small::main is reached from the entry point through std's runtime.
        let main = stack_of("small::main");
        assert!(!main.is_empty(), "no stack ends in small::main");
        for s in &main {
            assert!(s.contains("std::rt::lang_start_internal;"), "{s}");
        }
        // main's callees are above it: fib (recursion collapsed into one more frame) and the sort.
        assert!(got.keys().any(|k| k.contains("small::main;small::fib;small::fib")));
        assert!(got.keys().all(|k| !k.contains("small::fib;small::fib;small::fib")));
        assert!(got.keys().any(|k| k.contains("small::main;") && k.contains("small_sort_network")));
        // fib's self cost is on fib frames above main only.
        let fib_cost: u64 = got.iter().filter(|(k, _)| k.ends_with(";small::fib")).map(|(_, v)| v).sum();
        let want: u64 =
            p.functions.iter().filter(|f| strip_recursion(&f.name) == "small::fib").map(|f| f.self_cost[0]).sum();
        assert!(want > 0);
        assert_eq!(fib_cost, want);
        assert!(got.iter().filter(|(k, _)| k.ends_with(";small::fib")).all(|(k, _)| k.contains("small::main;")));
        assert!(got.keys().all(|k| k.split(';').count() <= MAX_DEPTH));
    }

    #[test]
    fn merge_small_keeps_the_total() {
        let f: Folded =
            [("a", 900), ("a;b", 95), ("a;c", 3), ("a;d", 2)].into_iter().map(|(s, v)| (s.to_string(), v)).collect();
        let m = merge_small(&f, 0.01);
        let want: Folded =
            [("a", 900), ("a;b", 95), ("a;[other]", 5)].into_iter().map(|(s, v)| (s.to_string(), v)).collect();
        assert_eq!(m, want);
        assert_eq!(merge_small(&folded(&fixture(), 0), 0.001).values().sum::<u64>(), fixture().total(0));
    }

    #[test]
    fn fixture_flamegraph_svg() {
        let p = fixture();
        let svg = flamegraph_svg(&folded(&p, 0), "small", "instructions").unwrap();
        assert!(svg.starts_with("<?xml") || svg.starts_with("<svg"), "{}", &svg[..100]);
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("small::main"));
        assert!(svg.contains(&format!("all ({} instructions, 100%)", group(p.total(0)))));
        // Deterministic: the same input gives the same bytes.
        assert_eq!(svg, flamegraph_svg(&folded(&p, 0), "small", "instructions").unwrap());
        assert!(flamegraph_svg(&Folded::new(), "empty", "instructions").is_err());
    }

    /// `n` with thousands separators, as inferno prints counts.
    fn group(n: u64) -> String {
        let s = n.to_string();
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    }

    /// The `<title>` and fill colour of every frame named `name` in an inferno SVG.
    fn frames_named<'a>(svg: &'a str, name: &str) -> Vec<(&'a str, &'a str)> {
        let mut out = Vec::new();
        for g in svg.split("<g>").skip(1) {
            let Some(title) = g.split("<title>").nth(1).and_then(|t| t.split("</title>").next()) else { continue };
            if !title.starts_with(&format!("{name} (")) {
                continue;
            }
            let fill = g.split("fill=\"").nth(1).and_then(|f| f.split('"').next()).unwrap_or("");
            out.push((title, fill));
        }
        out
    }

    #[test]
    fn differential_marks_the_grown_function() {
        let base = fixture();
        let mut head = base.clone();
        let i = head.functions.iter().position(|f| f.name == "small::fib'2").unwrap();
        let extra = head.functions[i].self_cost[0];
        assert!(extra > 0);
        head.functions[i].self_cost[0] *= 2;
        head.totals[0] += extra;
        let (bf, hf) = (folded(&base, 0), folded(&head, 0));
        assert_eq!(hf.values().sum::<u64>(), head.total(0));
        let lines = differential_lines(&bf, &hf).unwrap();
        let mut sorted = lines.clone();
        sorted.sort();
        assert_eq!(lines, sorted);
        for l in &lines {
            let mut parts = l.rsplitn(3, ' ');
            let (h, b, stack) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
            assert_eq!(h.parse::<u64>().unwrap(), hf.get(stack).copied().unwrap_or(0), "{l}");
            assert_eq!(b.parse::<u64>().unwrap(), bf.get(stack).copied().unwrap_or(0), "{l}");
        }

        let svg = differential_svg(&bf, &hf, "small: base vs head", "instructions").unwrap();
        assert!(svg.starts_with("<?xml"));
        let fib = frames_named(&svg, "small::fib");
        assert!(!fib.is_empty(), "no small::fib frame");
        // The leaf fib frames grew: a positive change in the tooltip and a red fill.
        let grown: Vec<_> = fib.iter().filter(|(title, _)| title.contains("%; +")).collect();
        assert!(!grown.is_empty(), "{fib:?}");
        for (_, fill) in &grown {
            assert!(fill.starts_with("rgb(255,"), "{fill}");
        }
        // A function that did not change is not marked as grown.
        for (title, _) in frames_named(&svg, "small::main") {
            assert!(!title.contains("%; +"), "{title}");
        }
        // Identical profiles: nothing grew or shrank.
        let same = differential_svg(&bf, &bf, "same", "instructions").unwrap();
        assert!(same.contains("%; 0.00%)"));
        assert!(!same.contains("%; +") && !same.contains("%; -"));
    }
}
