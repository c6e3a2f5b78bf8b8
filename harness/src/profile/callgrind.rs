//! Reads callgrind profiles (valgrind's "Callgrind Format Specification", format version 1) into
//! per-function self and inclusive costs and the call graph, with the semantics of
//! `callgrind_annotate` 3.19, which the tests check it against function by function.
//!
//! What the numbers mean, as `callgrind_annotate` computes them:
//!
//! - **Functions** are keyed by (file, name), which `callgrind_annotate` prints as `file:function`;
//!   the object is not part of the key. The file is the one in effect for the cost lines: `fl=`
//!   sets it, and `fi=`/`fe=` switch it inside a function for inlined code, so the code a function
//!   inlines from another source file is a separate entry (that file, same function name). File
//!   names are kept as written (`callgrind_annotate` also strips its current directory from `fl=`,
//!   `fi=` and `fe=` names; run it from `/` to compare).
//! - **Self cost** is the sum of a function's cost lines. The cost line after `calls=` is the
//!   inclusive cost of that call and is not part of the caller's self cost.
//! - **Inclusive cost** is what `callgrind_annotate --inclusive=yes` prints: for a function that is
//!   the target of at least one call, the sum of the costs recorded on all calls to it; for a
//!   function that is never called (the root, e.g. the entry point in `ld.so`), its self cost plus
//!   the costs of the calls it makes. Callgrind names deeper recursion levels `f'2`, and the calls
//!   of `f'2` to itself are added again at every level, so the inclusive cost of a recursive
//!   function counts nested levels more than once and can exceed the program total.
//! - **Call costs** add up per (caller, callee) pair, with the call counts.
//!
//! Name compression (`fn=(12) name`, then `fn=(12)`) uses three tables as `callgrind_annotate` and
//! callgrind do: one for objects (`ob=`, `cob=`), one for files (`fl=`, `fi=`, `fe=`, `cfi=`,
//! `cfl=`, `jfi=`) and one for functions (`fn=`, `cfn=`, `jfn=`). `cob=` and `cfi=`/`cfl=` apply
//! to the next `cfn=` only. Positions (`line`, `instr line`; absolute, hex, `+N`, `-N`, `*`) are
//! validated and skipped: costs are kept per function, not per line. Jumps are ignored.
//!
//! A file may hold several parts (header lines again after body lines): costs add up, compressed
//! names stay defined. Each part's `totals:` (or, without one, its `summary:`) must equal the sum
//! of its cost lines, and a part written by callgrind (`creator: callgrind…`) must end with
//! `totals:`, as callgrind always writes it; with the newline required at the end of the last line,
//! this turns truncated files into errors instead of partial profiles. (`summary:` yields to
//! `totals:` because callgrind 3.19 with `--cache-sim=yes` writes a `summary:` a few `Ir` too high,
//! which `callgrind_annotate` then prints as the program total.)
//!
//! Differences from `callgrind_annotate`, all on input callgrind does not write: unknown body lines
//! are errors (it warns and skips them), event counts may be hexadecimal as the specification allows
//! (it reads them as 0), and a compressed name used before it is defined is an error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A parsed profile: every function with its costs, in (file, name) order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// Event names from the `events:` line, e.g. `["Ir"]`; every cost vector has this length.
    pub events: Vec<String>,
    /// Total cost per event: the sum of all self costs (checked against `summary:`/`totals:`).
    pub totals: Vec<u64>,
    /// Functions sorted by (file, name); [`Call::callee`] indexes this vector.
    pub functions: Vec<Function>,
    /// The profiled command line (`cmd:`), if the file names it.
    pub cmd: Option<String>,
}

/// One function, keyed by (file, name) as `callgrind_annotate` keys it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    /// The function name as callgrind wrote it (demangled by default, `'N` for recursion levels).
    pub name: String,
    /// The source file of this code (`???` when callgrind had no debug info).
    pub file: String,
    /// The object file (executable or shared library) of the last `fn=`/`fi=`/`fe=` line naming
    /// this function; for a function only seen as a call target, the call's `cob=` (or the caller's
    /// object). Empty when the profile names none.
    pub object: String,
    /// Cost of the function's own instructions, per event.
    pub self_cost: Vec<u64>,
    /// Inclusive cost per event, as `callgrind_annotate --inclusive=yes` computes it (see the module
    /// documentation for recursion).
    pub inclusive: Vec<u64>,
    /// Calls made by this function, one per callee, sorted by callee index.
    pub calls: Vec<Call>,
}

/// The calls from one function to one callee, summed over call sites and parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// Index of the callee in [`Profile::functions`].
    pub callee: usize,
    /// Number of calls.
    pub count: u64,
    /// Cost spent in the callee (and below) during these calls, per event.
    pub inclusive: Vec<u64>,
}

/// Why a profile could not be parsed, with the line (1-based) it was found on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct ParseError {
    /// The line the problem was found on (for a missing line, the last line of the file).
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

/// A profile file that could not be loaded, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read callgrind profile {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a valid (or complete) callgrind profile.
    #[error("invalid callgrind profile {}: {source}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// Where and why parsing failed.
        source: ParseError,
    },
}

impl Profile {
    /// Index of the event called `name` (e.g. `"Ir"`), if the profile has it.
    pub fn event(&self, name: &str) -> Option<usize> {
        self.events.iter().position(|e| e == name)
    }

    /// Total cost of the event at index `event`; 0 for an index past the events.
    pub fn total(&self, event: usize) -> u64 {
        self.totals.get(event).copied().unwrap_or(0)
    }

    /// The function keyed by (`file`, `name`), if any.
    pub fn function(&self, file: &str, name: &str) -> Option<&Function> {
        self.functions
            .binary_search_by(|f| (f.file.as_str(), f.name.as_str()).cmp(&(file, name)))
            .ok()
            .map(|i| &self.functions[i])
    }
}

impl Function {
    /// The key as `callgrind_annotate` prints it: `file:function`.
    pub fn key(&self) -> String {
        format!("{}:{}", self.file, self.name)
    }

    /// A name that two builds of the same code share. Code without a symbol (hand-written assembly,
    /// a PLT stub) is named by callgrind after its address (`0x00000000002d93c0`), and addresses move
    /// between builds; such code is named `unnamed code in <file>` after its source file, or after its
    /// object file (without cargo's `-<hash>` suffix) when there is none; with neither, the address
    /// stays. Several unnamed functions of one file thus share a name, and are compared as one.
    pub fn stable_name(&self) -> std::borrow::Cow<'_, str> {
        let hex = self.name.strip_prefix("0x").unwrap_or("");
        if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return self.name.as_str().into();
        }
        let base = |path: &str| path.rsplit('/').next().unwrap_or(path).to_owned();
        let place = if !self.file.is_empty() && self.file != "???" {
            base(&self.file)
        } else if !self.object.is_empty() && self.object != "???" {
            let object = base(&self.object);
            match object.rsplit_once('-') {
                Some((stem, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    stem.to_owned()
                }
                _ => object,
            }
        } else {
            return self.name.as_str().into();
        };
        format!("unnamed code in {place}").into()
    }
}

/// Reads and parses the callgrind profile at `path` (see [`parse`]). Bytes that are not UTF-8 are
/// replaced, so a profile with odd file names still loads.
pub fn load(path: &Path) -> Result<Profile, LoadError> {
    let bytes = std::fs::read(path).map_err(|source| LoadError::Read { path: path.to_owned(), source })?;
    parse(&String::from_utf8_lossy(&bytes)).map_err(|source| LoadError::Parse { path: path.to_owned(), source })
}

/// Parses the text of a callgrind profile. The text must end with a newline (callgrind's files do;
/// a missing one means the file was cut mid-line).
pub fn parse(text: &str) -> Result<Profile, ParseError> {
    let mut parser = Parser::new();
    for raw in text.split_inclusive('\n') {
        parser.line += 1;
        let Some(line) = raw.strip_suffix('\n') else {
            return Err(parser.error("the last line does not end with a newline: the file is truncated".into()));
        };
        let line = line.strip_suffix('\r').unwrap_or(line);
        parser.read_line(line).map_err(|reason| parser.error(reason))?;
    }
    parser.finish()
}

/// The name-compression tables (see the module documentation).
#[derive(Clone, Copy)]
enum Table {
    Object = 0,
    File = 1,
    Function = 2,
}

/// A function while parsing: its costs and outgoing calls, by parse-order index.
struct Acc {
    name: String,
    file: String,
    object: String,
    self_cost: Vec<u64>,
    /// Sum of the costs of all calls to this function; `None` if it was never called.
    incoming: Option<Vec<u64>>,
    /// Callee (parse-order index) -> (count, cost).
    calls: BTreeMap<usize, (u64, Vec<u64>)>,
}

/// The target named by the last `cfn=` (with its `cfi=`/`cob=`).
struct Target {
    file: String,
    name: String,
    object: String,
}

/// One part of the file: header lines, then body lines.
#[derive(Default)]
struct Part {
    /// A body line was seen (a header line other than `summary:`/`totals:` then starts a new part).
    body: bool,
    /// `creator:` names callgrind, which always ends a part with `totals:`.
    by_callgrind: bool,
    /// Sum of the self costs of this part.
    self_sum: Vec<u64>,
    /// `summary:` (line, costs).
    summary: Option<(usize, Vec<u64>)>,
    /// `totals:` (line, costs); body lines after it are errors.
    totals: Option<(usize, Vec<u64>)>,
}

struct Parser {
    /// Current line number (1-based).
    line: usize,
    events: Vec<String>,
    /// Number of position columns of a cost line (`positions:`; 1 by default, for `line`).
    positions: usize,
    cmd: Option<String>,
    /// The last `creator:` seen (it may come before the first `part:`).
    by_callgrind: bool,
    /// Name-compression tables, indexed by [`Table`].
    names: [BTreeMap<u64, String>; 3],
    /// (file, name) -> index into `funcs`; iterates in output order.
    index: BTreeMap<(String, String), usize>,
    funcs: Vec<Acc>,
    /// The object, file and function name in effect (`ob=`, `fl=`/`fi=`/`fe=`, `fn=`).
    object: String,
    file: String,
    fn_name: Option<String>,
    /// The function cost lines go to: (`file`, `fn_name`).
    current: Option<usize>,
    /// `cob=` and `cfi=`/`cfl=` waiting for the next `cfn=`.
    call_object: Option<String>,
    call_file: Option<String>,
    /// The callee of the next `calls=`.
    target: Option<Target>,
    /// A `calls=` line (its line number and count) waiting for its cost line.
    pending: Option<(usize, u64)>,
    part: Part,
}

impl Parser {
    fn new() -> Parser {
        Parser {
            line: 0,
            events: Vec::new(),
            positions: 1,
            cmd: None,
            by_callgrind: false,
            names: Default::default(),
            index: BTreeMap::new(),
            funcs: Vec::new(),
            object: String::new(),
            file: String::new(),
            fn_name: None,
            current: None,
            call_object: None,
            call_file: None,
            target: None,
            pending: None,
            part: Part::default(),
        }
    }

    fn error(&self, reason: String) -> ParseError {
        ParseError { line: self.line, reason }
    }

    fn read_line(&mut self, line: &str) -> Result<(), String> {
        if line.trim().is_empty() || line.starts_with('#') {
            return Ok(());
        }
        let first = line.as_bytes()[0];
        if first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'*') {
            return self.cost_line(line);
        }
        if let Some((key, _)) = self.pending {
            return Err(format!("the calls= line {key} must be followed by its cost line, found `{line}`"));
        }
        if let Some((key, value)) = line.split_once('=').filter(|(k, _)| is_word(k, false)) {
            return self.spec_line(key, value);
        }
        if let Some((key, value)) = line.split_once(':').filter(|(k, _)| is_word(k, true)) {
            return self.header_line(key, value.trim_start());
        }
        Err(format!("unrecognised line `{line}`"))
    }

    fn header_line(&mut self, key: &str, value: &str) -> Result<(), String> {
        if self.part.body && key != "summary" && key != "totals" {
            self.finish_part().map_err(|e| e.reason)?;
            self.part = Part { by_callgrind: self.by_callgrind, ..Part::default() };
        }
        match key {
            "version" => {
                let digits: String = value.chars().take_while(char::is_ascii_digit).collect();
                let major: u64 = digits.parse().map_err(|_| format!("invalid version `{value}`"))?;
                if major >= 2 {
                    return Err(format!("format version {major} is not supported (only 0 and 1)"));
                }
            }
            "creator" => {
                self.by_callgrind = value.starts_with("callgrind");
                self.part.by_callgrind = self.by_callgrind;
            }
            "cmd" => self.cmd = Some(value.to_string()),
            "positions" => self.positions = positions(value)?,
            "events" => self.set_events(value)?,
            "summary" => {
                if self.part.summary.is_some() {
                    return Err("a second summary: line in one part".into());
                }
                self.part.summary = Some((self.line, self.counts(value.split_ascii_whitespace())?));
            }
            "totals" => {
                if self.part.totals.is_some() {
                    return Err("a second totals: line in one part".into());
                }
                self.part.totals = Some((self.line, self.counts(value.split_ascii_whitespace())?));
            }
            // pid, thread, part, desc, event and unknown keys are informational.
            _ => {}
        }
        Ok(())
    }

    fn set_events(&mut self, value: &str) -> Result<(), String> {
        let events: Vec<String> = value.split_ascii_whitespace().map(str::to_string).collect();
        if events.is_empty() {
            return Err("events: names no event".into());
        }
        if !self.events.is_empty() && self.events != events {
            return Err(format!("events: {} differ from the first part's {}", events.join(" "), self.events.join(" ")));
        }
        self.events = events;
        Ok(())
    }

    /// Checks that a body line may come here and marks the part as having a body.
    fn body_line(&mut self) -> Result<(), String> {
        if self.events.is_empty() {
            return Err("body line before the events: header line".into());
        }
        if let Some((line, _)) = self.part.totals {
            return Err(format!("body line after the part's totals: line {line}"));
        }
        self.part.body = true;
        Ok(())
    }

    fn spec_line(&mut self, key: &str, value: &str) -> Result<(), String> {
        self.body_line()?;
        match key {
            "ob" => self.object = self.name(Table::Object, value)?,
            "fl" => self.file = self.name(Table::File, value)?,
            "fn" => {
                let name = self.name(Table::Function, value)?;
                self.current = Some(self.enter(self.file.clone(), name.clone()));
                self.fn_name = Some(name);
            }
            "fi" | "fe" => {
                self.file = self.name(Table::File, value)?;
                let name = self.fn_name.clone().ok_or_else(|| format!("{key}= before any fn= line"))?;
                self.current = Some(self.enter(self.file.clone(), name));
            }
            "cob" => self.call_object = Some(self.name(Table::Object, value)?),
            "cfi" | "cfl" => self.call_file = Some(self.name(Table::File, value)?),
            "cfn" => {
                let name = self.name(Table::Function, value)?;
                if self.current.is_none() {
                    return Err("cfn= before any fn= line".into());
                }
                let file = self.call_file.take().unwrap_or_else(|| self.file.clone());
                let object = self.call_object.take().unwrap_or_else(|| self.object.clone());
                self.target = Some(Target { file, name, object });
            }
            "calls" => {
                if self.target.is_none() {
                    return Err("calls= without a preceding cfn= line".into());
                }
                let count = value.split_ascii_whitespace().next().unwrap_or("");
                let count: u64 = count.parse().map_err(|_| format!("invalid call count in calls={value}"))?;
                // callgrind_annotate treats the cost line after `calls=0` as self cost.
                if count > 0 {
                    self.pending = Some((self.line, count));
                }
            }
            "jump" | "jcnd" => {}
            "jfi" => {
                self.name(Table::File, value)?;
            }
            "jfn" => {
                self.name(Table::Function, value)?;
            }
            _ => return Err(format!("unknown specification `{key}=`")),
        }
        Ok(())
    }

    fn cost_line(&mut self, line: &str) -> Result<(), String> {
        self.body_line()?;
        let mut tokens = line.split_ascii_whitespace();
        for i in 0..self.positions {
            let token = tokens.next().ok_or_else(|| format!("cost line has {i} of {} positions", self.positions))?;
            if !is_position(token) {
                return Err(format!("invalid position `{token}`"));
            }
        }
        let costs = self.counts(tokens)?;
        if let Some((_, count)) = self.pending.take() {
            return self.call_cost(count, &costs);
        }
        let f = self.current.ok_or("cost line before any fn= line")?;
        add(&mut self.funcs[f].self_cost, &costs)?;
        add(&mut self.part.self_sum, &costs)
    }

    fn call_cost(&mut self, count: u64, costs: &[u64]) -> Result<(), String> {
        let caller = self.current.ok_or("call before any fn= line")?;
        let target = self.target.as_ref().ok_or("call without cfn=")?;
        let key = (target.file.clone(), target.name.clone());
        let callee = match self.index.get(&key) {
            Some(&i) => i,
            None => self.insert(key.0, key.1, target.object.clone()),
        };
        add(self.funcs[callee].incoming.get_or_insert_with(Vec::new), costs)?;
        let (total_count, cost) = self.funcs[caller].calls.entry(callee).or_insert((0, Vec::new()));
        *total_count = total_count.checked_add(count).ok_or("call count overflows u64")?;
        add(cost, costs)
    }

    /// The function (file, name) entered by `fn=`, `fi=` or `fe=`, which also sets its object.
    fn enter(&mut self, file: String, name: String) -> usize {
        match self.index.get(&(file.clone(), name.clone())) {
            Some(&i) => {
                self.funcs[i].object.clone_from(&self.object);
                i
            }
            None => self.insert(file, name, self.object.clone()),
        }
    }

    fn insert(&mut self, file: String, name: String, object: String) -> usize {
        let i = self.funcs.len();
        self.index.insert((file.clone(), name.clone()), i);
        let acc = Acc { name, file, object, self_cost: Vec::new(), incoming: None, calls: BTreeMap::new() };
        self.funcs.push(acc);
        i
    }

    /// Resolves name compression: `(N) name` defines N, `(N)` refers to it, anything else is literal.
    fn name(&mut self, table: Table, value: &str) -> Result<String, String> {
        let compressed = value.strip_prefix('(').and_then(|rest| rest.split_once(')'));
        let Some((id, rest)) = compressed.filter(|(id, _)| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
        else {
            return Ok(value.to_string());
        };
        let id: u64 = id.parse().map_err(|_| format!("compressed name id ({id}) is too large"))?;
        let name = rest.trim_start();
        let names = &mut self.names[table as usize];
        if name.is_empty() {
            return names.get(&id).cloned().ok_or_else(|| format!("compressed name ({id}) used before it is defined"));
        }
        names.insert(id, name.to_string());
        Ok(name.to_string())
    }

    /// Event counts: decimal or `0x` hex, at most one per event, missing ones 0.
    fn counts<'a>(&self, tokens: impl Iterator<Item = &'a str>) -> Result<Vec<u64>, String> {
        if self.events.is_empty() {
            return Err("costs before the events: header line".into());
        }
        let mut counts = vec![0; self.events.len()];
        for (i, token) in tokens.enumerate() {
            let slot = counts.get_mut(i).ok_or_else(|| format!("more than {} event counts", self.events.len()))?;
            *slot = number(token).ok_or_else(|| format!("invalid event count `{token}`"))?;
        }
        Ok(counts)
    }

    /// Checks the part's `summary:` and `totals:` against the sum of its cost lines.
    fn finish_part(&self) -> Result<(), ParseError> {
        // callgrind 3.19 with --cache-sim=yes writes a summary: a few Ir above its totals: and the
        // cost lines (measured: 755,364 versus 755,362), so totals: wins when both are present.
        let check = match (&self.part.totals, &self.part.summary) {
            (Some(totals), _) => Some(("totals", totals)),
            (None, Some(summary)) => Some(("summary", summary)),
            (None, None) => None,
        };
        if let Some((label, (line, expected))) = check {
            for (i, event) in self.events.iter().enumerate() {
                let (want, got) = (expected[i], self.part.self_sum.get(i).copied().unwrap_or(0));
                if want != got {
                    let reason = format!(
                        "{label}: gives {want} {event} but the cost lines of this part sum to {got} \
                         (the file is truncated or damaged)"
                    );
                    return Err(ParseError { line: *line, reason });
                }
            }
        }
        if self.part.by_callgrind && self.part.totals.is_none() {
            let reason = "no totals: line at the end of a part written by callgrind: the file is truncated".into();
            return Err(self.error(reason));
        }
        Ok(())
    }

    fn finish(self) -> Result<Profile, ParseError> {
        if let Some((line, _)) = self.pending {
            let reason = "the calls= line is not followed by its cost line: the file is truncated".into();
            return Err(ParseError { line, reason });
        }
        if self.events.is_empty() {
            return Err(self.error("no events: line: empty, truncated or not a callgrind profile".into()));
        }
        self.finish_part()?;
        self.build().map_err(|reason| ParseError { line: self.line, reason })
    }

    fn build(&self) -> Result<Profile, String> {
        let n = self.events.len();
        // The index iterates in (file, name) order: that is the output order.
        let mut new_index = vec![0; self.funcs.len()];
        for (new, &old) in self.index.values().enumerate() {
            new_index[old] = new;
        }
        let mut functions = Vec::with_capacity(self.funcs.len());
        let mut totals = vec![0; n];
        for &old in self.index.values() {
            let acc = &self.funcs[old];
            let self_cost = padded(&acc.self_cost, n);
            add(&mut totals, &self_cost)?;
            let calls: Vec<Call> = acc
                .calls
                .iter()
                .map(|(&callee, (count, cost))| Call {
                    callee: new_index[callee],
                    count: *count,
                    inclusive: padded(cost, n),
                })
                .collect();
            let inclusive = match &acc.incoming {
                Some(incoming) => padded(incoming, n),
                None => {
                    let mut sum = self_cost.clone();
                    calls.iter().try_for_each(|c| add(&mut sum, &c.inclusive))?;
                    sum
                }
            };
            let mut calls = calls;
            calls.sort_by_key(|c| c.callee);
            let (name, file, object) = (acc.name.clone(), acc.file.clone(), acc.object.clone());
            functions.push(Function { name, file, object, self_cost, inclusive, calls });
        }
        Ok(Profile { events: self.events.clone(), totals, functions, cmd: self.cmd.clone() })
    }
}

/// `positions:` value -> number of position columns.
fn positions(value: &str) -> Result<usize, String> {
    let kinds: Vec<&str> = value.split_ascii_whitespace().collect();
    if kinds.is_empty() {
        return Err("positions: names no position".into());
    }
    if let Some(bad) = kinds.iter().find(|k| !matches!(**k, "instr" | "addr" | "bb" | "line")) {
        return Err(format!("unknown position `{bad}` (known: instr, addr, bb, line)"));
    }
    Ok(kinds.len())
}

/// A key of a `key=` (lowercase letters) or `key:` (letters, digits, `_`) line.
fn is_word(key: &str, header: bool) -> bool {
    !key.is_empty()
        && key.bytes().all(|b| if header { b.is_ascii_alphanumeric() || b == b'_' } else { b.is_ascii_lowercase() })
}

/// A subposition: `*`, `+N`, `-N`, `N` or `0xHEX`.
fn is_position(token: &str) -> bool {
    let relative = token.strip_prefix('+').or_else(|| token.strip_prefix('-'));
    match relative {
        Some(digits) => !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()),
        None => token == "*" || number(token).is_some(),
    }
}

/// A decimal or `0x` hexadecimal number.
fn number(token: &str) -> Option<u64> {
    match token.strip_prefix("0x").or_else(|| token.strip_prefix("0X")) {
        Some(hex) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => u64::from_str_radix(hex, 16).ok(),
        Some(_) => None,
        None if !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit()) => token.parse().ok(),
        None => None,
    }
}

/// Adds `b` into `a` element-wise, growing `a` as needed.
fn add(a: &mut Vec<u64>, b: &[u64]) -> Result<(), String> {
    if a.len() < b.len() {
        a.resize(b.len(), 0);
    }
    for (x, y) in a.iter_mut().zip(b) {
        *x = x.checked_add(*y).ok_or("cost overflows u64")?;
    }
    Ok(())
}

fn padded(v: &[u64], n: usize) -> Vec<u64> {
    let mut v = v.to_vec();
    v.resize(n, 0);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The extended example of the format specification: main calls func1 once and func2 three
    /// times, func1 calls func2 twice.
    const SPEC_EXAMPLE: &str = "events: Instructions

fl=file1.c
fn=main
16 20
cfn=func1
calls=1 50
16 400
cfl=file2.c
cfn=func2
calls=3 20
16 400

fn=func1
51 100
cfl=file2.c
cfn=func2
calls=2 20
51 300

fl=file2.c
fn=func2
20 700
";

    /// The same profile with name compression, as in the specification.
    const SPEC_COMPRESSED: &str = "events: Instructions

fl=(1) file1.c
fn=(1) main
16 20
cfn=(2) func1
calls=1 50
16 400
cfl=(2) file2.c
cfn=(3) func2
calls=3 20
16 400

fn=(2)
51 100
cfl=(2)
cfn=(3)
calls=2 20
51 300

fl=(2)
fn=(3)
20 700
";

    fn f<'a>(p: &'a Profile, file: &str, name: &str) -> &'a Function {
        p.function(file, name).unwrap_or_else(|| panic!("no function {file}:{name}"))
    }

    #[test]
    fn code_without_a_symbol_is_named_after_its_file_or_object_not_its_address() {
        let f = |name: &str, file: &str, object: &str| Function {
            name: name.to_owned(),
            file: file.to_owned(),
            object: object.to_owned(),
            self_cost: vec![1],
            inclusive: vec![1],
            calls: Vec::new(),
        };
        let asm = "/r/zstd-sys-2.1.2/zstd/lib/decompress/huf_decompress_amd64.S";
        assert_eq!(
            f("0x00000000002d93c0", asm, "/t/deps/compression-0123456789abcdef").stable_name(),
            "unnamed code in huf_decompress_amd64.S"
        );
        assert_eq!(
            f("0x00000000002d98c0", asm, "/t2/deps/compression-fedcba9876543210").stable_name(),
            "unnamed code in huf_decompress_amd64.S"
        );
        assert_eq!(
            f("0x0000000000001050", "???", "/t/deps/compression-0123456789abcdef").stable_name(),
            "unnamed code in compression"
        );
        assert_eq!(
            f("0x10", "???", "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2").stable_name(),
            "unnamed code in ld-linux-x86-64.so.2"
        );
        assert_eq!(f("0x10", "???", "/bin/short-abc").stable_name(), "unnamed code in short-abc");
        // Named functions, and names that only look like addresses, stay as they are.
        assert_eq!(f("ZSTD_decompressBlock", "zstd.c", "/t/x").stable_name(), "ZSTD_decompressBlock");
        assert_eq!(f("0xcafe_handler", "???", "/t/x").stable_name(), "0xcafe_handler");
        assert_eq!(f("0x", "???", "/t/x").stable_name(), "0x");
        assert_eq!(f("0x10", "???", "").stable_name(), "0x10");
        assert_eq!(f("0x10", "???", "???").stable_name(), "0x10");
    }

    fn parse_err(text: &str) -> ParseError {
        parse(text).expect_err("the profile should be rejected")
    }

    #[test]
    fn spec_example_self_inclusive_and_calls() {
        let p = parse(SPEC_EXAMPLE).unwrap();
        assert_eq!(p.events, ["Instructions"]);
        assert_eq!(p.totals, [820]);
        let keys: Vec<String> = p.functions.iter().map(Function::key).collect();
        assert_eq!(keys, ["file1.c:func1", "file1.c:main", "file2.c:func2"]);
        let main = f(&p, "file1.c", "main");
        assert_eq!((main.self_cost.as_slice(), main.inclusive.as_slice()), (&[20][..], &[820][..]));
        let func1 = f(&p, "file1.c", "func1");
        assert_eq!((func1.self_cost.as_slice(), func1.inclusive.as_slice()), (&[100][..], &[400][..]));
        let func2 = f(&p, "file2.c", "func2");
        assert_eq!((func2.self_cost.as_slice(), func2.inclusive.as_slice()), (&[700][..], &[700][..]));
        assert_eq!(
            main.calls,
            [Call { callee: 0, count: 1, inclusive: vec![400] }, Call { callee: 2, count: 3, inclusive: vec![400] }]
        );
        assert_eq!(func1.calls, [Call { callee: 2, count: 2, inclusive: vec![300] }]);
        assert!(func2.calls.is_empty());
        assert_eq!(p.event("Instructions"), Some(0));
        assert_eq!(p.event("Ir"), None);
        assert_eq!((p.total(0), p.total(1)), (820, 0));
        assert_eq!(p.cmd, None);
    }

    #[test]
    fn name_compression_gives_the_same_profile() {
        assert_eq!(parse(SPEC_COMPRESSED).unwrap(), parse(SPEC_EXAMPLE).unwrap());
    }

    #[test]
    fn header_lines_and_summary() {
        let text = "# callgrind format\nversion: 1\ncreator: callgrind-3.19.0\npid: 42\ncmd:  ./prog --fast\n\
                    part: 1\n\ndesc: I1 cache: \ndesc: Trigger: Program termination\n\npositions: line\n\
                    event: Ir : Instruction Fetches\nevents: Ir\nsummary: 12\n\n\nob=(1) /bin/prog\n\
                    fl=(1) prog.c\nfn=(1) main\n3 12\n\ntotals: 12\n";
        let p = parse(text).unwrap();
        assert_eq!(p.cmd.as_deref(), Some("./prog --fast"));
        assert_eq!(p.totals, [12]);
        assert_eq!(f(&p, "prog.c", "main").object, "/bin/prog");
    }

    #[test]
    fn instr_positions_relative_hex_and_missing_event_columns() {
        let text = "positions: instr line\nevents: Ir Dr Dw\n\
                    fl=a.c\nfn=work\n0x80001234 90 1 2 3\n+3 * 5\n+1 +1 6 1\n-2 -1 7\n* * 1 0 4\n0x10 12\n\
                    cfn=leaf\ncalls=2 0x4000 5\n* * 100 10\n";
        let p = parse(text).unwrap();
        let work = f(&p, "a.c", "work");
        assert_eq!(work.self_cost, [20, 3, 7]);
        assert_eq!(work.inclusive, [120, 13, 7]);
        let leaf = f(&p, "a.c", "leaf");
        assert_eq!((leaf.self_cost.as_slice(), leaf.inclusive.as_slice()), (&[0, 0, 0][..], &[100, 10, 0][..]));
        assert_eq!(p.totals, [20, 3, 7]);
    }

    #[test]
    fn line_positions_relative_and_star() {
        let text = "events: Ir\nfl=a.c\nfn=f\n10 1\n+2 2\n-5 3\n* 4\n7\n";
        assert_eq!(f(&parse(text).unwrap(), "a.c", "f").self_cost, [10]);
    }

    #[test]
    fn jumps_are_ignored_and_jfi_jfn_define_names() {
        let text = "positions: instr line\nevents: Ir\nfl=(1) a.c\nfn=(1) f\n0x10 1 5\n\
                    jfi=(2) b.c\njfn=(2) g\njump=3 +4 *\n* *\njcnd=1/2 +8 *\n* *\n+4 +1 6\n\
                    fl=(2)\nfn=(2)\n0x40 7 9\n";
        let p = parse(text).unwrap();
        assert_eq!(f(&p, "a.c", "f").self_cost, [11]);
        assert_eq!(f(&p, "b.c", "g").self_cost, [9]);
        assert_eq!(p.totals, [20]);
    }

    #[test]
    fn inlined_code_is_keyed_by_its_file_and_calls_from_it_too() {
        // As callgrind_annotate: fi= switches the function's key to (inlined file, name); a cfn=
        // without cfi= names a callee in the current (inlined) file.
        let text = "events: Ir\nob=/bin/p\nfl=main.c\nfn=main\n1 10\nfi=util.h\n5 3\ncfn=helper\n\
                    calls=1 7\n5 40\nfe=main.c\n2 1\nfl=util.h\nfn=helper\n7 40\n";
        let p = parse(text).unwrap();
        let keys: Vec<String> = p.functions.iter().map(Function::key).collect();
        assert_eq!(keys, ["main.c:main", "util.h:helper", "util.h:main"]);
        assert_eq!(f(&p, "main.c", "main").self_cost, [11]);
        assert_eq!(f(&p, "main.c", "main").inclusive, [11]);
        let inlined = f(&p, "util.h", "main");
        assert_eq!((inlined.self_cost.as_slice(), inlined.inclusive.as_slice()), (&[3][..], &[43][..]));
        assert_eq!(inlined.object, "/bin/p");
        assert_eq!(inlined.calls, [Call { callee: 1, count: 1, inclusive: vec![40] }]);
        assert_eq!(f(&p, "util.h", "helper").inclusive, [40]);
    }

    #[test]
    fn objects_of_functions_and_call_targets() {
        // cob= and cfi= apply to the next cfn= only; a target never entered with fn= takes the
        // call's object.
        let text = "events: Ir\nob=(1) /bin/p\nfl=(1) p.c\nfn=(1) main\n1 5\n\
                    cob=(2) /lib/libc.so.6\ncfi=(2) malloc.c\ncfn=(2) malloc\ncalls=1 9\n1 30\n\
                    cfn=(3) local\ncalls=1 20\n2 4\n\
                    ob=(1)\nfn=(3)\n20 4\nob=(2)\nfl=(2)\nfn=(2)\n9 30\n";
        let p = parse(text).unwrap();
        assert_eq!(f(&p, "malloc.c", "malloc").object, "/lib/libc.so.6");
        assert_eq!(f(&p, "p.c", "local").object, "/bin/p");
        assert_eq!(f(&p, "p.c", "main").object, "/bin/p");
        assert_eq!(f(&p, "p.c", "main").inclusive, [39]);

        let only_called = "events: Ir\nob=/bin/p\nfl=p.c\nfn=main\n1 5\ncob=/lib/x.so\ncfi=x.c\ncfn=x\n\
                           calls=1 1\n1 7\ncfn=y\ncalls=1 1\n1 2\n";
        let p = parse(only_called).unwrap();
        assert_eq!(f(&p, "x.c", "x").object, "/lib/x.so");
        assert_eq!(f(&p, "p.c", "y").object, "/bin/p");
        assert_eq!(f(&p, "x.c", "x").self_cost, [0]);
        assert_eq!(f(&p, "x.c", "x").inclusive, [7]);
    }

    #[test]
    fn recursion_counts_every_level_in_inclusive_costs() {
        // main (self 5) -> f (self 5) -> f'2 (self 10) -> f'2 (self 15): callgrind_annotate adds the
        // call f'2 -> f'2 again, so f'2's inclusive cost (40) exceeds the program total (35).
        let text = "events: Ir\nfl=r.c\nfn=main\n1 5\ncfn=f\ncalls=1 10\n1 30\n\
                    fn=f\n10 5\ncfn=f'2\ncalls=1 10\n10 25\n\
                    fn=f'2\n10 25\ncfn=f'2\ncalls=1 10\n10 15\n";
        let p = parse(text).unwrap();
        assert_eq!(p.totals, [35]);
        assert_eq!(f(&p, "r.c", "main").inclusive, [35]);
        assert_eq!(f(&p, "r.c", "f").inclusive, [30]);
        let rec = f(&p, "r.c", "f'2");
        assert_eq!((rec.self_cost.as_slice(), rec.inclusive.as_slice()), (&[25][..], &[40][..]));
        assert_eq!(rec.calls, [Call { callee: 1, count: 1, inclusive: vec![15] }]);
    }

    #[test]
    fn calls_to_the_same_callee_add_up() {
        let text = "events: Ir\nfl=a.c\nfn=f\n1 1\ncfn=g\ncalls=2 5\n1 10\n2 1\ncfn=g\ncalls=3 5\n3 20\n\
                    fn=g\n5 30\n";
        let p = parse(text).unwrap();
        assert_eq!(f(&p, "a.c", "f").calls, [Call { callee: 1, count: 5, inclusive: vec![30] }]);
        assert_eq!(f(&p, "a.c", "f").self_cost, [2]);
    }

    #[test]
    fn calls_zero_is_self_cost_as_in_callgrind_annotate() {
        let text = "events: Ir\nfl=a.c\nfn=f\ncfn=g\ncalls=0 5\n1 10\n";
        let p = parse(text).unwrap();
        assert_eq!(f(&p, "a.c", "f").self_cost, [10]);
        assert!(f(&p, "a.c", "f").calls.is_empty());
    }

    #[test]
    fn parts_add_up_and_keep_compressed_names() {
        let text = "version: 1\ncreator: callgrind-3.19.0\npid: 7\npart: 1\npositions: line\nevents: Ir\n\
                    summary: 15\n\nfl=(1) a.c\nfn=(1) f\n1 10\ncfn=(2) g\ncalls=1 2\n1 5\nfn=(2)\n2 5\n\
                    totals: 15\n\
                    pid: 7\npart: 2\npositions: line\nevents: Ir\nsummary: 8\n\nfl=(1)\nfn=(1)\n1 6\nfn=(2)\n\
                    2 2\n\ntotals: 8\n";
        let p = parse(text).unwrap();
        assert_eq!(p.totals, [23]);
        assert_eq!(f(&p, "a.c", "f").self_cost, [16]);
        assert_eq!(f(&p, "a.c", "g").self_cost, [7]);
        assert_eq!(f(&p, "a.c", "g").inclusive, [5]);
    }

    #[test]
    fn totals_mismatch_names_the_event_and_the_values() {
        let e = parse_err("events: Ir Dr\nfl=a.c\nfn=f\n1 10 2\n2 5\ntotals: 15 3\n");
        assert_eq!(e.line, 6);
        assert!(e.reason.contains("totals: gives 3 Dr but the cost lines of this part sum to 2"), "{e}");
        let e = parse_err("events: Ir\nsummary: 99\nfl=a.c\nfn=f\n1 10\n");
        assert_eq!(e.line, 2);
        assert!(e.reason.contains("summary: gives 99 Ir but the cost lines of this part sum to 10"), "{e}");
        let e = parse_err(
            "events: Ir\nsummary: 10\nfl=a.c\nfn=f\n1 10\ntotals: 10\npart: 2\nsummary: 3\n\
                           fl=a.c\nfn=f\n1 3\ntotals: 4\n",
        );
        assert_eq!(e.line, 12);
        // With both lines, totals: decides (callgrind's summary: can be off, see the module docs).
        let p = parse("events: Ir\nsummary: 12\nfl=a.c\nfn=f\n1 10\ntotals: 10\n").unwrap();
        assert_eq!(p.totals, [10]);
    }

    #[test]
    fn truncated_files_are_errors() {
        let full = "version: 1\ncreator: callgrind-3.19.0\nevents: Ir\nsummary: 40\n\nfl=(1) a.c\nfn=(1) f\n\
                    1 10\ncfn=(2) g\ncalls=1 2\n1 5\nfn=(2)\n2 5\n3 25\n\ntotals: 40\n";
        assert_eq!(parse(full).unwrap().totals, [40]);
        let end = full.find("totals:").unwrap();
        for cut in 1..end {
            assert!(parse(&full[..cut]).is_err(), "cut at byte {cut} was accepted:\n{}", &full[..cut]);
        }
        let e = parse_err("events: Ir\nfl=a.c\nfn=f\n1 10");
        assert_eq!(e.line, 4);
        assert!(e.reason.contains("does not end with a newline"), "{e}");
        let e = parse_err("events: Ir\nfl=a.c\nfn=f\ncfn=g\ncalls=1 2\n");
        assert_eq!(e.line, 5);
        assert!(e.reason.contains("not followed by its cost line"), "{e}");
        let e = parse_err("creator: callgrind-3.19.0\nevents: Ir\nfl=a.c\nfn=f\n1 10\n");
        assert!(e.reason.contains("no totals: line"), "{e}");
        let e = parse_err("");
        assert!(e.reason.contains("no events: line"), "{e}");
    }

    #[test]
    fn malformed_lines_are_errors_with_their_line() {
        let cases = [
            ("events: Ir\nfl=a.c\nfn=f\ncfn=g\ncalls=1 2\nfn=h\n1 2\n", 6, "must be followed by its cost line"),
            ("events: Ir\nfl=a.c\n1 10\n", 3, "cost line before any fn= line"),
            ("events: Ir\nfl=a.c\nfn=(3)\n", 3, "compressed name (3) used before it is defined"),
            ("events: Ir\nfl=a.c\nfn=f\n1 10 20\n", 4, "more than 1 event counts"),
            ("events: Ir\nfl=a.c\nfn=f\n1 ten\n", 4, "invalid event count `ten`"),
            ("positions: instr line\nevents: Ir\nfl=a.c\nfn=f\n0x1 +x 3\n", 5, "invalid position `+x`"),
            ("positions: instr line\nevents: Ir\nfl=a.c\nfn=f\n0x1\n", 5, "cost line has 1 of 2 positions"),
            ("events: Ir\nfl=a.c\nfn=f\nxyz=1\n", 4, "unknown specification `xyz=`"),
            ("events: Ir\nfl=a.c\nfn=f\nwhat is this\n", 4, "unrecognised line"),
            ("version: 2\nevents: Ir\n", 1, "format version 2 is not supported"),
            ("positions: line column\nevents: Ir\n", 1, "unknown position `column`"),
            ("fl=a.c\nevents: Ir\n", 1, "body line before the events: header line"),
            ("events: Ir\nfl=a.c\nfn=f\n1 1\ntotals: 1\nfn=g\n", 6, "body line after the part's totals: line 5"),
            ("events: Ir\nfl=a.c\nfn=f\n1 1\npart: 2\nevents: Dr\n", 6, "differ from the first part's Ir"),
            ("events: Ir\nfl=a.c\ncalls=1 2\n", 3, "calls= without a preceding cfn= line"),
            ("events: Ir\nfl=a.c\ncfn=g\n", 3, "cfn= before any fn= line"),
            ("events: Ir\nfl=a.c\nfi=b.h\n", 3, "fi= before any fn= line"),
            ("events: Ir\nfl=a.c\nfn=f\ncfn=g\ncalls=x 1\n", 5, "invalid call count"),
            ("events: Ir\nfl=a.c\nfn=f\n1 18446744073709551615\n2 1\n", 5, "cost overflows u64"),
        ];
        for (text, line, reason) in cases {
            let e = parse_err(text);
            assert_eq!(e.line, line, "{text:?}: {e}");
            assert!(e.reason.contains(reason), "{text:?}: expected {reason:?}, got {e}");
        }
    }

    #[test]
    fn load_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.out");
        let e = load(&missing).unwrap_err().to_string();
        assert!(e.contains("missing.out") && e.contains("cannot read"), "{e}");
        let bad = dir.path().join("bad.out");
        std::fs::write(&bad, "events: Ir\nfl=a.c\n1 2\n").unwrap();
        let e = load(&bad).unwrap_err().to_string();
        assert!(e.contains("bad.out") && e.contains("line 3: cost line before any fn= line"), "{e}");
        let good = dir.path().join("good.out");
        std::fs::write(&good, SPEC_EXAMPLE).unwrap();
        assert_eq!(load(&good).unwrap().totals, [820]);
    }

    #[test]
    fn fixture_profile_of_a_rust_program() {
        let p = load(&fixture()).unwrap();
        assert_eq!(p.events, ["Ir"]);
        assert_eq!(p.cmd.as_deref(), Some("./small"));
        // The self costs add up to the file's own summary (checked by parse) and main is called once.
        let index = |name: &str| {
            let key = (FIXTURE_SOURCE, name);
            p.functions.binary_search_by(|f| (f.file.as_str(), f.name.as_str()).cmp(&key)).expect(name)
        };
        let main = index("small::main");
        let callers: Vec<&Call> = p.functions.iter().flat_map(|f| &f.calls).filter(|c| c.callee == main).collect();
        assert_eq!(callers.iter().map(|c| c.count).sum::<u64>(), 1);
        let fib = index("small::fib");
        assert_eq!(p.functions[main].calls.iter().find(|c| c.callee == fib).map(|c| c.count), Some(1));
        // The root's inclusive cost is the whole program.
        let max = p.functions.iter().map(|f| f.inclusive[0]).filter(|&c| c <= p.totals[0]).max();
        assert_eq!(max, Some(p.totals[0]));
    }

    /// The source file of the fixture, as its profile names it.
    const FIXTURE_SOURCE: &str = "/tmp/benchgate-fixture/small.rs";

    fn fixture() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/callgrind/small.callgrind")
    }

    /// The function table of `callgrind_annotate` for `path`: `file:function` -> costs and the
    /// object shown in brackets (if any).
    struct Annotated {
        functions: BTreeMap<String, (Vec<u64>, Option<String>)>,
    }

    /// Runs `callgrind_annotate` 3.19 from `/` (so that it strips no directory from file names).
    fn annotate(path: &Path, inclusive: bool, p: &Profile) -> Annotated {
        let output = std::process::Command::new("callgrind_annotate")
            .current_dir("/")
            .arg(format!("--inclusive={}", if inclusive { "yes" } else { "no" }))
            .args(["--threshold=100", "--auto=no"])
            .arg(path)
            .output()
            .expect("run callgrind_annotate");
        assert!(output.status.success(), "callgrind_annotate failed: {}", String::from_utf8_lossy(&output.stderr));
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        parse_annotate(&text, p)
    }

    /// Parses `callgrind_annotate`'s output: the table after the `file:function` header, one line per function until a blank line. Each line holds one column
    /// per event (a count with thousands separators or `.`, and a percentage unless it is 0), then
    /// `file:function`, then ` [object]` when the function was entered with fn=.
    fn parse_annotate(text: &str, p: &Profile) -> Annotated {
        let n = p.events.len();
        let objects: std::collections::BTreeSet<&str> = p.functions.iter().map(|f| f.object.as_str()).collect();
        let mut lines = text.lines().skip_while(|l| !l.ends_with(" file:function")).skip(2);
        let mut functions = BTreeMap::new();
        for line in lines.by_ref().take_while(|l| !l.is_empty()) {
            let (costs, rest) = columns(line, n);
            let (key, object) = match rest.rfind(" [") {
                Some(i) if rest.ends_with(']') && objects.contains(&rest[i + 2..rest.len() - 1]) => {
                    (rest[..i].to_string(), Some(rest[i + 2..rest.len() - 1].to_string()))
                }
                _ => (rest.to_string(), None),
            };
            assert!(functions.insert(key.clone(), (costs, object)).is_none(), "{key} listed twice");
        }
        assert!(!functions.is_empty(), "no function table in:\n{text}");
        Annotated { functions }
    }

    /// `n` count columns (`1,234 (5.67%)`, `0`, `.`) from the start of `line`, and the rest.
    fn columns(line: &str, n: usize) -> (Vec<u64>, &str) {
        let mut rest = line;
        let mut costs = Vec::with_capacity(n);
        for _ in 0..n {
            rest = rest.trim_start();
            let end = rest.find(' ').unwrap_or(rest.len());
            let token = &rest[..end];
            let value = if token == "." { 0 } else { token.replace(',', "").parse().expect(line) };
            costs.push(value);
            rest = rest[end..].trim_start();
            if rest.starts_with('(') {
                rest = &rest[rest.find(')').expect(line) + 1..];
            }
        }
        (costs, rest.trim_start())
    }

    /// Checks every function of `callgrind_annotate`'s tables against `p`, parsed from `path`.
    fn assert_matches_annotate(path: &Path, p: &Profile) {
        let by_key: BTreeMap<String, &Function> = p.functions.iter().map(|f| (f.key(), f)).collect();
        let exclusive = annotate(path, false, p);
        // Not its PROGRAM TOTALS line: that is the file's summary:, which can be off (module docs).
        let mut sum = vec![0; p.events.len()];
        exclusive.functions.values().try_for_each(|(costs, _)| add(&mut sum, costs)).unwrap();
        assert_eq!(sum, p.totals, "{}: sum of the self costs", path.display());
        for (key, (costs, object)) in &exclusive.functions {
            let f = by_key.get(key).unwrap_or_else(|| panic!("{}: {key} is not in our profile", path.display()));
            assert_eq!(&f.self_cost, costs, "{}: self cost of {key}", path.display());
            if let Some(object) = object {
                assert_eq!(&f.object, object, "{}: object of {key}", path.display());
            }
        }
        for f in p.functions.iter().filter(|f| !exclusive.functions.contains_key(&f.key())) {
            assert!(
                f.self_cost.iter().all(|&c| c == 0),
                "{}: {} has self cost but is not listed",
                path.display(),
                f.key()
            );
        }
        let inclusive = annotate(path, true, p);
        let theirs: Vec<&String> = inclusive.functions.keys().collect();
        let ours: Vec<&String> = by_key.keys().collect();
        assert_eq!(theirs, ours, "{}: functions with --inclusive=yes", path.display());
        for (key, (costs, _)) in &inclusive.functions {
            assert_eq!(&by_key[key].inclusive, costs, "{}: inclusive cost of {key}", path.display());
        }
    }

    /// Whether the valgrind tools (and `cc`, if `need_cc`) are installed. When one is missing the
    /// test fails, saying which, unless BENCHGATE_SKIP_VALGRIND_TESTS=1 (then it is skipped).
    fn tools_available(need_cc: bool) -> bool {
        let tools: &[&str] = if need_cc { &["valgrind", "callgrind_annotate", "cc"] } else { &["callgrind_annotate"] };
        let missing: Vec<&str> = tools
            .iter()
            .copied()
            .filter(|tool| std::process::Command::new(tool).arg("--version").output().is_err())
            .collect();
        if missing.is_empty() {
            return true;
        }
        let why = format!("not installed: {} (valgrind 3.19 tests)", missing.join(", "));
        if std::env::var("BENCHGATE_SKIP_VALGRIND_TESTS").as_deref() == Ok("1") {
            eprintln!("skipped: {why}; BENCHGATE_SKIP_VALGRIND_TESTS=1");
            return false;
        }
        panic!("{why}; install valgrind, or set BENCHGATE_SKIP_VALGRIND_TESTS=1 to skip");
    }

    #[test]
    fn fixture_matches_callgrind_annotate() {
        if !tools_available(false) {
            return;
        }
        let path = fixture();
        assert_matches_annotate(&path, &load(&path).unwrap());
    }

    /// A deterministic C program: a recursive fib, qsort with a callback, malloc/memcpy/free.
    const C_PROGRAM: &str = r#"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static int cmp(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}
__attribute__((noinline)) unsigned long fib(unsigned n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
__attribute__((noinline)) void sort_values(int *v, int n) { qsort(v, n, sizeof(int), cmp); }
int main(int argc, char **argv) {
    (void)argv;
    int n = 1000 * argc;
    int *v = malloc(n * sizeof(int));
    for (int i = 0; i < n; i++) v[i] = (i * 7919) % n;
    sort_values(v, n);
    int *w = malloc(n * sizeof(int));
    memcpy(w, v, n * sizeof(int));
    printf("%d %lu\n", w[n / 2], fib(20));
    free(w);
    free(v);
    return 0;
}
"#;

    #[test]
    fn real_profiles_match_callgrind_annotate() {
        if !tools_available(true) {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("prog.c");
        std::fs::write(&source, C_PROGRAM).unwrap();
        let program = dir.path().join("prog");
        let status = std::process::Command::new("cc")
            .args(["-O0", "-fno-builtin", "-gdwarf-4", "-o"])
            .arg(&program)
            .arg(&source)
            .status()
            .expect("run cc");
        assert!(status.success(), "cc failed");
        let variants: [&[&str]; 4] = [
            &[],
            &["--dump-instr=yes", "--collect-jumps=yes"],
            &["--compress-strings=no", "--compress-pos=no"],
            &["--cache-sim=yes", "--branch-sim=yes"],
        ];
        for (i, options) in variants.iter().enumerate() {
            let out = dir.path().join(format!("callgrind.{i}.out"));
            let status = std::process::Command::new("valgrind")
                .arg("--tool=callgrind")
                .arg(format!("--callgrind-out-file={}", out.display()))
                .args(*options)
                .arg(&program)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .expect("run valgrind");
            assert!(status.success(), "valgrind {options:?} failed");
            let p = load(&out).unwrap();
            assert_matches_annotate(&out, &p);
            assert_c_program_calls(&p, options);
        }
    }

    /// Call counts fixed by the C program's semantics: one call of fib(20) from main, then 21,890
    /// recursive calls (fib(n) makes 2·F(n+1) − 2 of them), which callgrind names fib'2.
    fn assert_c_program_calls(p: &Profile, options: &[&str]) {
        let index = |name: &str| p.functions.iter().position(|f| f.name == name && f.file.ends_with("prog.c"));
        let (main, fib, fib2) = (index("main").unwrap(), index("fib").unwrap(), index("fib'2").unwrap());
        let count = |from: usize, to: usize| p.functions[from].calls.iter().find(|c| c.callee == to).map(|c| c.count);
        assert_eq!(count(main, fib), Some(1), "{options:?}");
        assert_eq!(count(fib, fib2).unwrap_or(0) + count(fib2, fib2).unwrap_or(0), 21_890, "{options:?}");
        assert!(p.functions[fib2].inclusive[0] > p.functions[fib].inclusive[0], "{options:?}: recursion counted again");
        let sort = index("sort_values").unwrap();
        assert!(p.functions[sort].calls.iter().any(|c| p.functions[c.callee].name == "qsort"), "{options:?}");
    }
}
