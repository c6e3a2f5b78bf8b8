//! The string interners the interning suite measures, behind one [`Interner`] trait: lasso's
//! single-threaded [`Rodeo`] and concurrent [`ThreadedRodeo`], string-interner's
//! [`StringInterner`] with its default backend, ustr's process-global table, and a plain
//! `HashMap<String, u32>` + `Vec<String>` baseline; plus a deterministic generator of realistic
//! Prometheus metric and label names and a Zipf-distributed lookup sequence over them.
//!
//! # Hashers
//!
//! Every interner hashes with its library's default algorithm, but the two that default to std's
//! randomly keyed SipHash (`RandomState`: lasso, and the `HashMap` baseline) get the same
//! SipHash-1-3 with fixed keys ([`FixedSipHash`]). The cost per hash is identical; what changes
//! is that the table layout, and with it probe lengths, instruction counts and (for
//! `ThreadedRodeo`, whose shards grow one by one) allocation counts, is the same in every
//! process, as a regression gate needs. string-interner keeps its default (foldhash, seeded once
//! per process), whose seed can only be fixed through the `foldhash` crate itself; its table
//! grows by item count, so its allocation counts are deterministic all the same. ustr hashes
//! with ahash's fixed keys.
//!
//! # ustr
//!
//! ustr's table is global to the process and never frees anything: every new string stays until
//! the process exits. Its string bytes come from `std::alloc::System` directly, not through Rust's
//! global allocator, so an allocation-counting allocator sees only its hash table (global
//! allocator `Vec`s), never the strings.

use std::cell::Cell;
use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::BuildHasherDefault;

use lasso::{Rodeo, Spur, ThreadedRodeo};
use string_interner::{DefaultBackend, DefaultSymbol, StringInterner};
use ustr::Ustr;

use crate::data::SplitMix64;

/// std's SipHash-1-3 with fixed (zero) keys: `RandomState`'s algorithm without its per-process
/// random keys (see the module documentation).
pub type FixedSipHash = BuildHasherDefault<DefaultHasher>;

/// What the suite needs of a string interner: map a string to a small copyable key, the same key
/// every time, and back.
pub trait Interner: Sized {
    /// The key (symbol) that stands for an interned string.
    type Key: Copy + Eq + std::fmt::Debug;

    /// The name in benchmark ids (`interning/<name>/intern-hit`). Changing one orphans the
    /// recorded baselines of that interner.
    const NAME: &'static str;

    /// An empty interner (ustr: a handle on the one global table, which may hold strings already).
    fn new() -> Self;

    /// The key of `name`, interning a copy of it if it is not there yet.
    fn get_or_intern(&mut self, name: &str) -> Self::Key;

    /// The string of a key this interner returned.
    fn resolve(&self, key: Self::Key) -> &str;

    /// How many distinct strings the interner holds (ustr: the whole process' table).
    fn len(&self) -> usize;

    /// Bytes of string storage the interner holds outside Rust's global allocator, which an
    /// allocation-counting allocator cannot see; `None` when it has none (everything but ustr).
    fn uncounted_bytes(&self) -> Option<usize> {
        None
    }

    /// Forgets every string: the interner is as new (ustr: the global table is emptied and its
    /// string storage freed, through ustr's hidden `_clear_cache`, which its own benchmarks use
    /// for the same purpose).
    ///
    /// # Safety
    ///
    /// No key made before the call may be used after it: a `Ustr` would point to freed memory
    /// (the other interners' keys would merely name other strings). For ustr, nothing else in
    /// the process may be using ustr at the same time.
    unsafe fn reset(&mut self) {
        *self = Self::new();
    }

    /// True when the interner holds no string.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The baseline: what code without an interner crate writes. Each new string is copied twice,
/// once as the map's key and once into the vector that resolves ids.
#[derive(Debug, Default)]
pub struct HashMapInterner {
    ids: HashMap<String, u32, FixedSipHash>,
    names: Vec<String>,
}

impl Interner for HashMapInterner {
    type Key = u32;
    const NAME: &'static str = "hashmap";

    fn new() -> Self {
        Self::default()
    }

    fn get_or_intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = u32::try_from(self.names.len()).expect("fewer than 2^32 strings");
        self.names.push(name.to_owned());
        self.ids.insert(name.to_owned(), id);
        id
    }

    fn resolve(&self, key: u32) -> &str {
        &self.names[key as usize]
    }

    fn len(&self) -> usize {
        self.names.len()
    }
}

/// lasso's single-threaded interner: strings in an arena of 4 KiB-and-up buckets, a hash set
/// of keys that compares through a `Vec<&str>`.
impl Interner for Rodeo<Spur, FixedSipHash> {
    type Key = Spur;
    const NAME: &'static str = "lasso";

    fn new() -> Self {
        Rodeo::with_hasher(FixedSipHash::default())
    }

    fn get_or_intern(&mut self, name: &str) -> Spur {
        Rodeo::get_or_intern(self, name)
    }

    fn resolve(&self, key: Spur) -> &str {
        Rodeo::resolve(self, &key)
    }

    fn len(&self) -> usize {
        Rodeo::len(self)
    }
}

/// lasso's concurrent interner (feature `multi-threaded`): two sharded `DashMap`s (string to key
/// and key to string) over a lock-free arena. Used from one thread here, so what it adds over
/// [`Rodeo`] is the price of being shareable, uncontended.
impl Interner for ThreadedRodeo<Spur, FixedSipHash> {
    type Key = Spur;
    const NAME: &'static str = "lasso-threaded";

    fn new() -> Self {
        ThreadedRodeo::with_hasher(FixedSipHash::default())
    }

    fn get_or_intern(&mut self, name: &str) -> Spur {
        ThreadedRodeo::get_or_intern(self, name)
    }

    fn resolve(&self, key: Spur) -> &str {
        ThreadedRodeo::resolve(self, &key)
    }

    fn len(&self) -> usize {
        ThreadedRodeo::len(self)
    }
}

/// string-interner with its default backend (`StringBackend`: every string appended to one
/// `String`, plus a `Vec` of end offsets) and default hasher.
impl Interner for StringInterner<DefaultBackend> {
    type Key = DefaultSymbol;
    const NAME: &'static str = "string-interner";

    fn new() -> Self {
        StringInterner::new()
    }

    fn get_or_intern(&mut self, name: &str) -> DefaultSymbol {
        StringInterner::get_or_intern(self, name)
    }

    fn resolve(&self, key: DefaultSymbol) -> &str {
        StringInterner::resolve(self, key).expect("a key this interner returned")
    }

    fn len(&self) -> usize {
        StringInterner::len(self)
    }
}

/// A handle on ustr's process-global table (see the module documentation: it never frees, and its
/// string bytes bypass the global allocator). Its keys are `Ustr`s, pointers to the string.
#[derive(Debug, Default)]
pub struct UstrInterner;

impl Interner for UstrInterner {
    type Key = Ustr;
    const NAME: &'static str = "ustr";

    fn new() -> Self {
        UstrInterner
    }

    fn get_or_intern(&mut self, name: &str) -> Ustr {
        ustr::ustr(name)
    }

    fn resolve(&self, key: Ustr) -> &str {
        key.as_str()
    }

    fn len(&self) -> usize {
        ustr::num_entries()
    }

    /// The bytes ustr's bump allocators have handed out (headers, strings and their NUL bytes).
    fn uncounted_bytes(&self) -> Option<usize> {
        Some(ustr::total_allocated())
    }

    unsafe fn reset(&mut self) {
        // SAFETY: the caller guarantees that no `Ustr` made before is used afterwards and that
        // nothing else uses ustr meanwhile, which is all `_clear_cache` requires.
        unsafe { ustr::_clear_cache() }
    }
}

/// An interner that already holds `names`, interned in order, as a running process holds the
/// names it has seen.
pub fn prefilled<I: Interner>(names: &[String]) -> I {
    let mut interner = I::new();
    for name in names {
        interner.get_or_intern(name);
    }
    interner
}

/// Interns every name of `names` (the intern-hit routine: all are present) and returns how many
/// keys it got; each key goes through `black_box` so no lookup is skipped.
pub fn intern_each<I: Interner>(interner: &mut I, names: &[String]) -> usize {
    let mut count = 0;
    for name in names {
        std::hint::black_box(interner.get_or_intern(name));
        count += 1;
    }
    count
}

/// Resolves every key and returns the total length of the strings (the resolve routine).
pub fn resolve_each<I: Interner>(interner: &I, keys: &[I::Key]) -> usize {
    keys.iter().map(|&key| std::hint::black_box(interner.resolve(key)).len()).sum()
}

/// The workload with interning: the key of every name of the sequence, kept in `out` (cleared
/// first; its capacity is reused), as a metrics path that stores symbols does.
pub fn intern_sequence<I: Interner>(interner: &mut I, names: &[String], sequence: &[u32], out: &mut Vec<I::Key>) {
    out.clear();
    out.extend(sequence.iter().map(|&index| interner.get_or_intern(&names[index as usize])));
}

/// The workload without interning: an owned copy of every name of the sequence, kept in `out`
/// (cleared first, which drops the previous copies; its capacity is reused), as a naive metrics
/// path that stores `String`s does. One allocation per name, of the name's length.
pub fn own_sequence(names: &[String], sequence: &[u32], out: &mut Vec<String>) {
    out.clear();
    out.extend(sequence.iter().map(|&index| names[index as usize].clone()));
}

/// Names that no interner has seen: `<base>_<n>` for a counter `n` that only goes up, with the
/// bases taken from the workload's names in turn, so that they look and measure like new metric
/// names (`http_server_requests_total_1042`). Unique for the life of one generator.
#[derive(Debug)]
pub struct FreshNames<'n> {
    bases: &'n [String],
    next: Cell<u64>,
}

impl<'n> FreshNames<'n> {
    /// A generator whose names extend `bases`, which must not be empty.
    pub fn new(bases: &'n [String]) -> Self {
        assert!(!bases.is_empty(), "FreshNames needs at least one base name");
        FreshNames { bases, next: Cell::new(0) }
    }

    /// The next new name.
    pub fn next_name(&self) -> String {
        let n = self.next.get();
        self.next.set(n + 1);
        let base = &self.bases[(n % self.bases.len() as u64) as usize];
        format!("{base}_{n}")
    }
}

// ---------------------------------------------------------------------------------------------
// Names and lookup sequences
// ---------------------------------------------------------------------------------------------

/// Exporters and applications: the first word of a metric name.
const NAMESPACES: [&str; 20] = [
    "http",
    "grpc",
    "node",
    "process",
    "go",
    "kube",
    "container",
    "etcd",
    "redis",
    "pg",
    "coredns",
    "prometheus",
    "apiserver",
    "kafka",
    "nginx",
    "envoy",
    "jvm",
    "mysql",
    "rabbitmq",
    "elasticsearch",
];

/// Subsystems: the second word.
const SUBSYSTEMS: [&str; 16] = [
    "server",
    "client",
    "disk",
    "network",
    "memory",
    "tsdb",
    "rule",
    "queue",
    "cache",
    "pool",
    "storage",
    "scheduler",
    "upstream",
    "consumer",
    "producer",
    "replication",
];

/// How a measurement is reported: its name ends in the unit, then the type's suffix.
#[derive(Clone, Copy)]
enum Type {
    /// A single series: the name as is (`_total` counters, gauges).
    Single,
    /// A histogram: `_bucket`, `_sum` and `_count` series, each its own name.
    Histogram,
}

/// Measurements with their unit, as the Prometheus naming conventions want them.
const MEASUREMENTS: [(&str, Type); 30] = [
    ("requests_total", Type::Single),
    ("errors_total", Type::Single),
    ("retries_total", Type::Single),
    ("evictions_total", Type::Single),
    ("hits_total", Type::Single),
    ("misses_total", Type::Single),
    ("operations_total", Type::Single),
    ("failures_total", Type::Single),
    ("dropped_total", Type::Single),
    ("timeouts_total", Type::Single),
    ("received_bytes_total", Type::Single),
    ("sent_bytes_total", Type::Single),
    ("read_bytes_total", Type::Single),
    ("written_bytes_total", Type::Single),
    ("cpu_seconds_total", Type::Single),
    ("connections", Type::Single),
    ("inflight_requests", Type::Single),
    ("queue_length", Type::Single),
    ("objects", Type::Single),
    ("used_bytes", Type::Single),
    ("capacity_bytes", Type::Single),
    ("utilization_ratio", Type::Single),
    ("last_success_timestamp_seconds", Type::Single),
    ("up", Type::Single),
    ("info", Type::Single),
    ("replicas", Type::Single),
    ("request_duration_seconds", Type::Histogram),
    ("response_size_bytes", Type::Histogram),
    ("batch_size_bytes", Type::Histogram),
    ("lock_wait_seconds", Type::Histogram),
];

/// The suffixes of a histogram's series.
const HISTOGRAM_SUFFIXES: [&str; 3] = ["_bucket", "_sum", "_count"];

/// Label names seen on real targets (interned alongside metric names by any TSDB or exporter).
pub const LABEL_NAMES: [&str; 48] = [
    "__name__",
    "instance",
    "job",
    "le",
    "quantile",
    "method",
    "handler",
    "code",
    "status",
    "route",
    "path",
    "pod",
    "namespace",
    "container",
    "node",
    "service",
    "endpoint",
    "device",
    "mountpoint",
    "fstype",
    "cpu",
    "mode",
    "grpc_service",
    "grpc_method",
    "grpc_code",
    "grpc_type",
    "verb",
    "resource",
    "subresource",
    "scope",
    "topic",
    "partition",
    "consumer_group",
    "datname",
    "state",
    "reason",
    "phase",
    "zone",
    "proto",
    "type",
    "version",
    "region",
    "cluster",
    "tenant",
    "shard",
    "replica",
    "upstream",
    "dialer_name",
];

/// In 100 names, how many are label names (while label names are left to draw).
const LABEL_PERCENT: u64 = 10;

/// `count` distinct Prometheus names: metric names `<namespace>_<subsystem>_<measurement>[_suffix]`
/// (`kafka_consumer_request_duration_seconds_bucket`) with label names (`grpc_method`) mixed in
/// at about one in ten, in the order they are drawn. Same `seed` and `count`, same names; a
/// shorter list is a prefix of a longer one of the same seed.
///
/// # Panics
///
/// If `count` is larger than the number of distinct names the tables can make (over 12,000).
pub fn metric_names(seed: u64, count: usize) -> Vec<String> {
    let histograms = MEASUREMENTS.iter().filter(|(_, kind)| matches!(kind, Type::Histogram)).count();
    let distinct = NAMESPACES.len() * SUBSYSTEMS.len() * (MEASUREMENTS.len() + 2 * histograms) + LABEL_NAMES.len();
    assert!(count <= distinct, "only {distinct} distinct names, asked for {count}");
    let mut rng = SplitMix64::new(seed);
    let mut names = Vec::with_capacity(count);
    // A `BTreeSet`, not a randomly seeded `HashSet`: setup must do the same work in every process,
    // or instruction counts (which include setup before it is subtracted) vary with the seed.
    let mut seen = std::collections::BTreeSet::new();
    while names.len() < count {
        let name = if rng.chance(LABEL_PERCENT) {
            rng.pick(&LABEL_NAMES).to_owned()
        } else {
            let (measurement, kind) = rng.pick(&MEASUREMENTS);
            let suffix = match kind {
                Type::Single => "",
                Type::Histogram => rng.pick(&HISTOGRAM_SUFFIXES),
            };
            format!("{}_{}_{measurement}{suffix}", rng.pick(&NAMESPACES), rng.pick(&SUBSYSTEMS))
        };
        // The set only answers membership; the order of the names is the draw order.
        if seen.insert(name.clone()) {
            names.push(name);
        }
    }
    names
}

/// `0..n` in a seeded random order (Fisher-Yates), e.g. the order in which the hit benchmarks look
/// the names up, so that it follows neither insertion order nor the table's layout.
pub fn shuffled(seed: u64, n: usize) -> Vec<u32> {
    permutation(&mut SplitMix64::new(seed), n)
}

/// `0..n` shuffled with `rng`.
fn permutation(rng: &mut SplitMix64, n: usize) -> Vec<u32> {
    let n32 = u32::try_from(n).expect("fewer than 2^32 items");
    let mut items: Vec<u32> = (0..n32).collect();
    for i in (1..n).rev() {
        items.swap(i, rng.index(i + 1));
    }
    items
}

/// Weight of rank 1 in [`zipf_sequence`]; rank `k` weighs `ZIPF_SCALE / k`.
const ZIPF_SCALE: u64 = 1 << 40;

/// `len` indices into a list of `names` names, Zipf-distributed with exponent 1 (the `k`-th most
/// frequent name is looked up about `1/k` as often as the most frequent one, as metric and label
/// names are: `le` and `__name__` on every series, a rare exporter's counter now and then). Which
/// name has which rank is a seeded shuffle, so popularity does not follow the names' order.
/// Integer arithmetic only, so the sequence is the same on every platform.
///
/// # Panics
///
/// If `names` is 0 or above `u32::MAX`.
pub fn zipf_sequence(seed: u64, names: usize, len: usize) -> Vec<u32> {
    assert!(names > 0 && u32::try_from(names).is_ok(), "zipf_sequence over {names} names");
    let mut rng = SplitMix64::new(seed);
    let by_rank = permutation(&mut rng, names);
    let mut cumulative = Vec::with_capacity(names);
    let mut total = 0u64;
    for rank in 1..=names as u64 {
        total += ZIPF_SCALE / rank;
        cumulative.push(total);
    }
    (0..len)
        .map(|_| {
            let draw = rng.below(total);
            by_rank[cumulative.partition_point(|&c| c <= draw)]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every interner behaves as an interner: same string, same key; different strings, different
    /// keys; keys resolve to their strings; misses grow it by one.
    fn check_interner<I: Interner>() {
        let names = metric_names(1, 300);
        let mut interner = I::new();
        let before = interner.len();
        let keys: Vec<I::Key> = names.iter().map(|n| interner.get_or_intern(n)).collect();
        // ustr's table is global: other tests may add strings concurrently, so at least 300.
        assert!(interner.len() >= before + names.len() || I::NAME == "ustr");
        for (name, &key) in names.iter().zip(&keys) {
            assert_eq!(interner.get_or_intern(name), key, "{}: {name}", I::NAME);
            assert_eq!(interner.resolve(key), name, "{}", I::NAME);
        }
        for (i, key) in keys.iter().enumerate() {
            assert!(!keys[..i].contains(key), "{}: two names share a key", I::NAME);
        }
        let fresh = FreshNames::new(&names);
        let name = fresh.next_name();
        let key = interner.get_or_intern(&name);
        assert!(!keys.contains(&key), "{}: a fresh name got an old key", I::NAME);
        assert_eq!(interner.resolve(key), name);
    }

    #[test]
    fn every_interner_interns() {
        check_interner::<HashMapInterner>();
        check_interner::<Rodeo<Spur, FixedSipHash>>();
        check_interner::<ThreadedRodeo<Spur, FixedSipHash>>();
        check_interner::<StringInterner<DefaultBackend>>();
        check_interner::<UstrInterner>();
    }

    #[test]
    fn local_interners_count_exactly() {
        fn count<I: Interner>() {
            let names = metric_names(2, 1000);
            let mut interner: I = prefilled(&names);
            assert_eq!(interner.len(), 1000, "{}", I::NAME);
            assert_eq!(intern_each(&mut interner, &names), 1000);
            assert_eq!(interner.len(), 1000, "{}: hits add nothing", I::NAME);
            // SAFETY: no key is kept (and only ustr's reset could make one dangle).
            unsafe { interner.reset() };
            assert!(interner.is_empty(), "{}", I::NAME);
        }
        count::<HashMapInterner>();
        count::<Rodeo<Spur, FixedSipHash>>();
        count::<ThreadedRodeo<Spur, FixedSipHash>>();
        count::<StringInterner<DefaultBackend>>();
    }

    #[test]
    fn resolve_each_sums_lengths() {
        let names = metric_names(3, 100);
        let mut interner: Rodeo<Spur, FixedSipHash> = Interner::new();
        let keys: Vec<Spur> = names.iter().map(|n| Interner::get_or_intern(&mut interner, n)).collect();
        let total: usize = names.iter().map(String::len).sum();
        assert_eq!(resolve_each(&interner, &keys), total);
    }

    #[test]
    fn with_and_without_interning_see_the_same_names() {
        let names = metric_names(4, 1000);
        let sequence = zipf_sequence(5, names.len(), 10_000);
        let mut owned = Vec::new();
        own_sequence(&names, &sequence, &mut owned);
        let mut interner = HashMapInterner::new();
        let mut keys = Vec::new();
        intern_sequence(&mut interner, &names, &sequence, &mut keys);
        assert_eq!(owned.len(), 10_000);
        assert_eq!(keys.len(), 10_000);
        for (name, &key) in owned.iter().zip(&keys) {
            assert_eq!(interner.resolve(key), name);
        }
        // A second pass reuses both buffers and gives the same result.
        let capacity = owned.capacity();
        own_sequence(&names, &sequence, &mut owned);
        assert_eq!(owned.capacity(), capacity);
        let first = keys.clone();
        intern_sequence(&mut interner, &names, &sequence, &mut keys);
        assert_eq!(keys, first);
    }

    #[test]
    fn names_are_distinct_realistic_and_deterministic() {
        let names = metric_names(6, 1000);
        assert_eq!(names, metric_names(6, 1000));
        assert_ne!(names, metric_names(7, 1000));
        assert_eq!(metric_names(6, 100), names[..100]);
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 1000);
        for name in &names {
            let valid = name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
                && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            assert!(valid, "{name}");
        }
        let labels = names.iter().filter(|n| LABEL_NAMES.contains(&n.as_str())).count();
        // About 100 draws of the 48 label names: most of them, some drawn twice.
        assert!((35..=LABEL_NAMES.len()).contains(&labels), "{labels} label names");
        assert!(names.iter().any(|n| n.ends_with("_seconds_bucket")));
        assert!(names.iter().any(|n| n.ends_with("_bytes_total")));
        let mean = names.iter().map(String::len).sum::<usize>() / names.len();
        assert!((25..=45).contains(&mean), "mean length {mean}");
    }

    #[test]
    fn asking_for_too_many_names_panics() {
        let result = std::panic::catch_unwind(|| metric_names(0, 1_000_000));
        assert!(result.is_err());
    }

    #[test]
    fn zipf_sequence_is_skewed_and_deterministic() {
        let sequence = zipf_sequence(8, 1000, 10_000);
        assert_eq!(sequence, zipf_sequence(8, 1000, 10_000));
        assert!(sequence.iter().all(|&i| i < 1000));
        let mut counts = vec![0u32; 1000];
        for &i in &sequence {
            counts[i as usize] += 1;
        }
        counts.sort_unstable_by(|a, b| b.cmp(a));
        // Harmonic number H(1000) ~ 7.49: rank 1 gets ~13% of lookups, rank 10 ~1.3%.
        assert!((1_100..1_600).contains(&counts[0]), "top name {}", counts[0]);
        assert!((80..200).contains(&counts[9]), "10th name {}", counts[9]);
        let seen = counts.iter().filter(|&&c| c > 0).count();
        assert!((500..1000).contains(&seen), "{seen} names seen");
        // The most looked-up name is not simply the first one.
        let mut by_index = vec![0u32; 1000];
        for &i in &sequence {
            by_index[i as usize] += 1;
        }
        assert_ne!(by_index.iter().position(|&c| c == counts[0]), Some(0));
    }

    #[test]
    fn fresh_names_are_new() {
        let names = metric_names(9, 100);
        let fresh = FreshNames::new(&names);
        let generated: Vec<String> = (0..1000).map(|_| fresh.next_name()).collect();
        let mut sorted = generated.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 1000);
        assert!(generated.iter().all(|g| !names.contains(g)));
        assert_eq!(generated[0], format!("{}_0", names[0]));
    }

    #[test]
    fn shuffled_is_a_permutation() {
        let order = shuffled(10, 1000);
        assert_eq!(order, shuffled(10, 1000));
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..1000).collect::<Vec<u32>>());
        assert_ne!(order, sorted);
    }
}
