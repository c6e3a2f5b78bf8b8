//! Interning suite: lasso (`Rodeo`, `ThreadedRodeo`), string-interner (`StringInterner`, default
//! backend), ustr (process-global) and a `HashMap<String, u32>` + `Vec<String>` baseline, on
//! realistic Prometheus metric and label names: what a hit, a miss and a resolve cost, and what
//! interning saves on a metrics path that sees the same names over and over.
//!
//! Ids: `interning/<interner>/<op>` with `<op>` `intern-hit`, `intern-miss` or `resolve`, and
//! `interning/workload/<interner>/<lookups>` against `interning/workload/owned-strings/<lookups>`,
//! the same lookups keeping an owned `String` per name instead of a key.

use std::cell::RefCell;

use bench_suites::interning::{
    self, FixedSipHash, FreshNames, HashMapInterner, Interner, UstrInterner, metric_names, prefilled,
};
use benchgate::{BatchSize, Bencher, Harness, Suite, Throughput, Unit, black_box};
use lasso::{Rodeo, Spur, ThreadedRodeo};
use string_interner::{DefaultBackend, StringInterner};

/// The seed of the names, of the hit and resolve order, and of the workload's lookup sequence:
/// changing one changes the data, and so every baseline.
const NAMES_SEED: u64 = 0x1A7E_5EED;
const ORDER_SEED: u64 = 0x0DE2_5EED;
const SEQUENCE_SEED: u64 = 0x21BF_5EED;

/// Distinct names of the per-name benchmarks, the same in every mode (they are cheap, and under
/// valgrind the environment, and so small mode, is cleared): what the interners hold, the names a
/// hit op looks up, the keys a resolve op resolves, and the new names a miss op interns. About the
/// metric and label names of a mid-sized Prometheus setup.
const NAMES: usize = 1000;

/// A workload: `lookups` Zipf-distributed lookups over `names` distinct names.
#[derive(Clone, Copy)]
struct Workload {
    names: usize,
    lookups: usize,
}

/// The workloads, smallest first, ten lookups per name; the id's parameter is `lookups`. Small
/// mode (`BENCH_SUITES_SMALL`) declares only the first. A workload's data depends only on its
/// sizes, never on the mode.
const WORKLOADS: [Workload; 2] = [Workload { names: 100, lookups: 1000 }, Workload { names: 1000, lookups: 10_000 }];

/// Declares every benchmark of the suite; each closure's setup runs only if it is selected.
fn interning(h: &mut Harness) {
    let workloads = if bench_suites::small() { &WORKLOADS[..1] } else { &WORKLOADS[..] };
    let mut s = h.suite("interning");
    declare_ops::<HashMapInterner>(&mut s, bench_intern_miss::<HashMapInterner>);
    declare_ops::<Rodeo<Spur, FixedSipHash>>(&mut s, bench_intern_miss::<Rodeo<Spur, FixedSipHash>>);
    declare_ops::<ThreadedRodeo<Spur, FixedSipHash>>(&mut s, bench_intern_miss::<ThreadedRodeo<Spur, FixedSipHash>>);
    declare_ops::<StringInterner<DefaultBackend>>(&mut s, bench_intern_miss::<StringInterner<DefaultBackend>>);
    declare_ops::<UstrInterner>(&mut s, bench_ustr_intern_miss);
    for &workload in workloads {
        s.throughput(Throughput::Elements(workload.lookups as u64));
        s.bench_with_param("workload/owned-strings", workload.lookups, |b: &mut Bencher| {
            bench_owned_workload(b, workload)
        });
        declare_workload::<HashMapInterner>(&mut s, workload);
        declare_workload::<Rodeo<Spur, FixedSipHash>>(&mut s, workload);
        declare_workload::<ThreadedRodeo<Spur, FixedSipHash>>(&mut s, workload);
        declare_workload::<StringInterner<DefaultBackend>>(&mut s, workload);
        declare_workload::<UstrInterner>(&mut s, workload);
    }
}

/// The per-name benchmarks of one interner: a hit and a resolve op go over all `NAMES` names once,
/// a miss op (`intern_miss`) interns as many new names; throughput is in names, so elements/s is
/// per hit, resolve or miss.
fn declare_ops<I: Interner>(s: &mut Suite<'_>, intern_miss: fn(&mut Bencher)) {
    s.throughput(Throughput::Elements(NAMES as u64));
    s.bench(&format!("{}/intern-hit", I::NAME), bench_intern_hit::<I>);
    s.bench(&format!("{}/intern-miss", I::NAME), intern_miss);
    s.bench(&format!("{}/resolve", I::NAME), bench_resolve::<I>);
}

/// The workload benchmark of one interner.
fn declare_workload<I: Interner>(s: &mut Suite<'_>, workload: Workload) {
    s.bench_with_param(&format!("workload/{}", I::NAME), workload.lookups, |b: &mut Bencher| {
        bench_interned_workload::<I>(b, workload)
    });
}

/// The names, each as its own `String` (lookups arrive from a parser, not from the interner), in a
/// shuffled order, so that lookups follow neither insertion order nor the table's layout.
fn shuffled_names(names: &[String]) -> Vec<String> {
    interning::shuffled(ORDER_SEED, names.len()).into_iter().map(|i| names[i as usize].clone()).collect()
}

/// An interner holding the names; one op interns each of them again (all hits).
fn bench_intern_hit<I: Interner>(b: &mut Bencher) {
    let names = metric_names(NAMES_SEED, NAMES);
    let mut interner: I = prefilled(&names);
    let lookups = shuffled_names(&names);
    b.iter(|| interning::intern_each(&mut interner, black_box(&lookups)));
}

/// An interner holding the names; one op resolves the key of each of them (shuffled order).
fn bench_resolve<I: Interner>(b: &mut Bencher) {
    let names = metric_names(NAMES_SEED, NAMES);
    let mut interner: I = prefilled(&names);
    let keys: Vec<I::Key> = shuffled_names(&names).iter().map(|name| interner.get_or_intern(name)).collect();
    b.iter(|| interning::resolve_each(&interner, black_box(&keys)));
}

/// One op interns `NAMES` names the interner has never seen (`<name>_<n>`, made once in setup) into
/// an interner that already holds the `NAMES` names, built afresh by the unmeasured setup for every
/// op. The interner grows from N to 2N strings, through one doubling of each of its vectors and
/// tables: the op pays the amortised growth of a steadily growing interner, and its allocation
/// counts are exact.
fn bench_intern_miss<I: Interner>(b: &mut Bencher) {
    let names = metric_names(NAMES_SEED, NAMES);
    let fresh = FreshNames::new(&names);
    let new_names: Vec<String> = (0..NAMES).map(|_| fresh.next_name()).collect();
    b.iter_batched_ref(
        || prefilled::<I>(&names),
        |interner| interning::intern_each(interner, black_box(&new_names)),
        BatchSize::PerIteration,
    );
}

/// ustr's global table is emptied (ustr's hidden `_clear_cache`, see [`Interner::reset`]) and
/// refilled with the names once every this many ops: emptying it zeroes its whole 8 MiB slot
/// array, which would cost several times the op itself if done for every op.
const USTR_OPS_PER_RESET: usize = 32;

/// ustr's miss benchmark: as [`bench_intern_miss`], but ustr's table is global and never frees a
/// string, so it cannot be handed out fresh for every op. Op `k` after a reset interns the `k`-th
/// of `USTR_OPS_PER_RESET` generations of `NAMES` new names (`<name>_<n>`, made once in setup;
/// generation 0 is the other interners' new names, later ones are a digit or two longer) into the
/// global table, which then holds the names and at most `USTR_OPS_PER_RESET` generations: far
/// below the 512 Ki strings at which its preallocated slot array (1 Mi slots) would first grow, so
/// the table never grows here and its probes stay short, as in a fresh table.
///
/// ustr allocates its strings from `System`, not through the global allocator, so the alloc lane
/// does not see them: the bytes one op takes that way (measured on generation 0 in setup) are
/// reported as `uncounted_bytes_per_op`.
fn bench_ustr_intern_miss(b: &mut Bencher) {
    let names = metric_names(NAMES_SEED, NAMES);
    let fresh = FreshNames::new(&names);
    let generations: Vec<Vec<String>> =
        (0..USTR_OPS_PER_RESET).map(|_| (0..NAMES).map(|_| fresh.next_name()).collect()).collect();
    let rebuild = |table: &mut UstrInterner| {
        // SAFETY: no `Ustr` outlives its op (the routine's keys are dropped before the next setup),
        // and nothing else in a bench process uses ustr.
        unsafe { table.reset() };
        interning::intern_each(table, &names);
    };
    let mut table = UstrInterner;
    rebuild(&mut table);
    let before = table.uncounted_bytes().expect("ustr's strings live outside the global allocator");
    interning::intern_each(&mut table, &generations[0]);
    let after = table.uncounted_bytes().expect("ustr's strings live outside the global allocator");
    b.report("uncounted_bytes_per_op", (after - before) as f64, Unit::Bytes);

    let table = RefCell::new(table);
    let mut next = 0;
    b.iter_batched_ref(
        || {
            // One input per batch: this runs after the previous op and before the next one.
            if next == 0 {
                rebuild(&mut table.borrow_mut());
            }
            let generation = next;
            next = (next + 1) % USTR_OPS_PER_RESET;
            generation
        },
        |generation| interning::intern_each(&mut *table.borrow_mut(), black_box(&generations[*generation])),
        BatchSize::PerIteration,
    );
}

/// The workload without interning: one op keeps an owned copy of every name of the lookup sequence
/// (the vector is reused; the previous op's strings are dropped in the op). Reports the bytes of
/// those names, which is exactly what the op must allocate.
fn bench_owned_workload(b: &mut Bencher, workload: Workload) {
    let names = metric_names(NAMES_SEED, workload.names);
    let sequence = interning::zipf_sequence(SEQUENCE_SEED, names.len(), workload.lookups);
    let name_bytes: usize = sequence.iter().map(|&i| names[i as usize].len()).sum();
    b.report("name_bytes", name_bytes as f64, Unit::Bytes);
    let mut owned = Vec::with_capacity(sequence.len());
    b.iter(|| {
        interning::own_sequence(&names, black_box(&sequence), &mut owned);
        black_box(&owned);
    });
}

/// The workload with interning: one op keeps the key of every name of the lookup sequence (the
/// vector is reused). The interner already holds every name, as in a process that has been running
/// for a while, so every lookup is a hit.
fn bench_interned_workload<I: Interner>(b: &mut Bencher, workload: Workload) {
    let names = metric_names(NAMES_SEED, workload.names);
    let sequence = interning::zipf_sequence(SEQUENCE_SEED, names.len(), workload.lookups);
    let mut interner: I = prefilled(&names);
    let mut keys = Vec::with_capacity(sequence.len());
    b.iter(|| {
        interning::intern_sequence(&mut interner, &names, black_box(&sequence), &mut keys);
        black_box(&keys);
    });
}

benchgate::main!(interning);
