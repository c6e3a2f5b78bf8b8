//! Cost categories: functions of a callgrind profile grouped into compression, allocation, copying,
//! hashing and the like by regular expressions over their names, and each category's share of the
//! profile's self cost.
//!
//! Patterns match the function name as callgrind wrote it (demangled by default, Rust and C++ paths
//! with `::`), after removing callgrind's recursion suffix (`fib'2` -> `fib`), a symbol version
//! (`memcpy@@GLIBC_2.14` -> `memcpy`) and GCC clone suffixes (`_int_free.part.0` -> `_int_free`).
//! Categories are tried in order and the first whose patterns match wins; if no category matches
//! the name, the same patterns are tried on the file name of the function's object (e.g.
//! `libzstd.so.1`); a function matching neither is [`APPLICATION`].
//!
//! The built-in patterns anchor Rust paths at the start of the name (the path of the function
//! itself or of its `impl` self type), so that type arguments do not decide: `<alloc::sync::Arc<
//! std::sync::Mutex<T>>>::drop_slow` is not locking. Trait implementations are matched through
//! ` as trait>`, e.g. `<T as core::fmt::Display>::fmt` is formatting. The `regex` crate has no
//! look-around, which is why some exceptions are rules of an earlier category (in-memory
//! `std::io::Write for Vec<u8>` is copying, before syscalls and I/O claims `std::io`).

use std::collections::BTreeMap;

use regex::{Regex, RegexSet};
use serde::{Deserialize, Serialize};

use super::callgrind::{Function, Profile};

/// The category of functions no category matches.
pub const APPLICATION: &str = "application";

/// A named category and the regular expressions (`regex` crate syntax) that select its functions;
/// `[[profile.category]]` in `benchgate.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Category {
    /// Short name, e.g. `compression`.
    pub name: String,
    /// Regular expressions; a function belongs to the category if any of them matches.
    pub patterns: Vec<String>,
    /// One line for reports: what the category covers.
    #[serde(default)]
    pub description: String,
}

/// Compiled categories, tried in order: the first match wins.
#[derive(Debug, Clone)]
pub struct Categories {
    categories: Vec<(Category, RegexSet)>,
    /// Removes callgrind's and the linker's suffixes before matching (see the module docs).
    suffixes: Regex,
}

/// One category's part of a profile's self cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Share {
    /// The category name ([`APPLICATION`] for the rest).
    pub category: String,
    /// Self cost of the category's functions, in the event's unit.
    pub cost: u64,
    /// `cost` divided by the sum of all self costs (0 when that sum is 0).
    pub share: f64,
    /// The category's five costliest functions by self cost, names normalised as for matching
    /// (so recursion levels, clones and inlined parts of one function add up); highest first,
    /// ties by name; functions without cost are left out.
    pub top: Vec<(String, u64)>,
}

/// Start of a Rust or C++ path at the beginning of a name: `<`, `&`, `&mut `, `dyn ` of impl blocks.
const HEAD: &str = r"^<*(?:&(?:mut )?)?(?:dyn )?";

/// A pattern matching names whose leading path starts with one of `paths` (regex fragments).
fn head(paths: &[&str]) -> String {
    format!("{HEAD}(?:{})", paths.join("|"))
}

/// A pattern matching trait implementations of one of `traits` (regex fragments): `<T as trait>`,
/// and legacy-demangled `<impl trait for T>`.
fn trait_impl(traits: &[&str]) -> String {
    format!("(?: as |<impl )(?:{})", traits.join("|"))
}

/// A pattern matching a whole C symbol (letters, digits, `_`) against `names` (regex fragments).
fn c_symbol(names: &[&str]) -> String {
    format!("^(?:{})$", names.join("|"))
}

fn category(name: &str, description: &str, patterns: Vec<String>) -> Category {
    Category { name: name.into(), patterns, description: description.into() }
}

impl Category {
    /// The built-in categories, in matching order.
    pub fn defaults() -> Vec<Category> {
        vec![
            allocation(),
            copying(),
            compression(),
            serialization(),
            hashing(),
            locking(),
            syscalls(),
            formatting(),
            regex_engines(),
        ]
    }
}

fn allocation() -> Category {
    let patterns = vec![
        r"__rust_(?:alloc|dealloc|realloc|alloc_zeroed|no_alloc_shim)".into(),
        r"__r(?:dl|g)_(?:alloc|dealloc|realloc|alloc_zeroed)".into(),
        head(&[
            r"alloc::alloc::",
            r"alloc::raw_vec::",
            r"std::alloc::",
            r"core::alloc::",
            r"benchgate::measure::alloc::",
            r"alloc_no_stdlib::",
            r"alloc_stdlib::",
            r"tikv_jemallocator::",
            r"jemallocator::",
            r"mimalloc::",
            r"bumpalo::",
        ]),
        trait_impl(&[r"core::alloc::(?:global::)?GlobalAlloc\b", r"core::alloc::Allocator\b"]),
        c_symbol(&[
            r"_*(?:libc_|GI___libc_)?(?:malloc|free|cfree|realloc|reallocarray|calloc|memalign|aligned_alloc|posix_memalign|valloc|pvalloc|malloc_usable_size)",
            r"_int_\w+",
            r"malloc_consolidate|unlink_chunk|sysmalloc|systrim|alloc_perturb|arena_get2|arena_get_retry|ptmalloc_init",
            r"tcache_\w+|__malloc_\w+|__glibc_morecore|_mid_memalign|__minimal_\w+|lookup_malloc_symbol|__rtld_malloc_init\w*",
            r"(?:_rjem_|je_)\w+|mi_\w*(?:alloc|free)\w*",
            // C allocation wrappers such as sqlite3Malloc, sqlite3DbMallocRawNN, ZSTD_customMalloc.
            r"\w*(?i:malloc|calloc|realloc)\w*",
        ]),
    ];
    category("allocation", "heap allocation and deallocation: malloc/free, Rust's allocator, Vec growth", patterns)
}

fn copying() -> Category {
    let patterns = vec![
        c_symbol(&[
            r"_*(?:mem(?:cpy|move|set|pcpy)|bcopy|bzero|explicit_bzero|wmem(?:cpy|move|set)|(?:str|stp)n?cpy)(?:_\w+)?",
        ]),
        head(&[
            r"core::ptr::(?:copy|copy_nonoverlapping|write_bytes|swap_nonoverlapping)\b",
            r"core::intrinsics::(?:copy|copy_nonoverlapping|write_bytes)\b",
            r"compiler_builtins::mem::",
            r"core::slice::<impl \[T\]>::(?:copy_from_slice|clone_from_slice|copy_within)\b",
            r"\[[^\]]*\]>::(?:copy_from_slice|clone_from_slice|copy_within)\b",
            // In-memory reads and writes through std::io traits copy bytes; no kernel is involved.
            r"std::io::(?:impls|cursor)::",
            r"(?:\[u8\]|alloc::vec::Vec<u8>|std::io::cursor::Cursor<[^>]*>) as std::io::(?:Read|Write|BufRead)>",
        ]),
    ];
    category("copying", "memory copying and filling: memcpy, memmove, memset, ptr::copy, in-memory I/O", patterns)
}

fn compression() -> Category {
    let crates = [
        r"zstd::",
        r"zstd_safe::",
        r"zstd_sys::",
        r"lz4_flex::",
        r"lz4::",
        r"lz4_sys::",
        r"snap::",
        r"snappy::",
        r"miniz_oxide::",
        r"flate2::",
        r"libz_sys::",
        r"libz_rs_sys::",
        r"libz_ng_sys::",
        r"zlib_rs::",
        r"brotli::",
        r"brotli_decompressor::",
        r"bzip2::",
        r"bzip2_sys::",
        r"xz2::",
        r"lzma_sys::",
        r"lzma_rs::",
        r"liblzma::",
        r"libdeflater::",
        r"zopfli::",
        r"async_compression::",
    ];
    let patterns = vec![
        head(&crates),
        c_symbol(&[
            r"(?:ZSTD|ZSTDMT|ZDICT|COVER|HUF|FSE|HIST|POOL|ZBUFF|LZ4|LZ4F|LZ4HC|BZ2|lzma|Brotli|libdeflate)_\w*",
            r"(?:deflate|inflate)\w*",
            r"longest_match|fill_window|_tr_\w+|inflate_table|updatewindow",
        ]),
        r"(?:^|/)lib(?:zstd|z|z-ng|lz4|snappy|brotli(?:enc|dec|common)|bz2|lzma|deflate)\.so".into(),
    ];
    category(
        "compression",
        "compression codecs: zstd, lz4, snappy, deflate (miniz_oxide, flate2, zlib), brotli",
        patterns,
    )
}

fn serialization() -> Category {
    let crates = [
        r"prost::",
        r"prost_types::",
        r"quick_protobuf::",
        r"protobuf::(?:coded_input_stream|coded_output_stream|rt|message|reflect|wire_format|descriptor)::",
        r"serde::",
        r"serde_core::",
        r"serde_json::",
        r"serde_derive::",
        r"bincode::",
        r"rmp::",
        r"rmp_serde::",
        r"ciborium::",
        r"postcard::",
        r"serde_cbor::",
        r"serde_yaml::",
        r"flatbuffers::",
        r"capnp::",
        r"rkyv::",
        r"borsh::",
        r"simd_json::",
        r"sonic_rs::",
    ];
    let traits = [
        r"prost::",
        r"quick_protobuf::",
        r"protobuf::(?:message|Message)",
        r"serde::",
        r"serde_core::",
        r"bincode::",
        r"rkyv::",
        r"borsh::",
    ];
    let patterns = vec![head(&crates), trait_impl(&traits)];
    category("serialization", "encoding and decoding: prost, quick-protobuf, serde and its formats, bincode", patterns)
}

fn hashing() -> Category {
    let crates = [
        r"core::hash::",
        r"std::hash::",
        r"ahash::",
        r"foldhash::",
        r"fxhash::",
        r"rustc_hash::",
        r"twox_hash::",
        r"xxhash_rust::",
        r"seahash::",
        r"highway::",
        r"siphasher::",
        r"crc32fast::",
        r"crc32c::",
        r"crc::",
        r"crc64fast::",
        r"adler::",
        r"adler2::",
        r"adler32::",
        r"blake3::",
        r"sha1::",
        r"sha2::",
        r"sha1_smol::",
        r"md5::",
        r"fnv::",
        r"wyhash::",
        r"gxhash::",
        r"hashbrown::map::make_(?:insert_)?hash\b",
    ];
    let patterns = vec![
        head(&crates),
        trait_impl(&[r"core::hash::(?:Hasher|Hash|BuildHasher)\b"]),
        c_symbol(&[r"XXH\w*", r"(?:crc32|crc32c|crc64|adler32)\w*", r"\w*(?i:checksum|siphash)\w*"]),
    ];
    category("hashing", "hashing and checksums: Hash/Hasher, SipHash, ahash, foldhash, xxhash, crc32", patterns)
}

fn locking() -> Category {
    let paths = [
        r"std::sync::",
        r"std::sys::sync::",
        r"core::sync::atomic::",
        r"parking_lot::",
        r"parking_lot_core::",
        r"lock_api::",
        r"spin::",
        r"crossbeam_utils::sync::",
        r"tokio::sync::",
        // A path segment naming a lock type, before any type arguments.
        r"(?:\w+::)*\w*(?:Mutex|RwLock|Condvar|SpinLock|ReentrantLock)",
    ];
    let patterns = vec![
        head(&paths),
        c_symbol(&[
            r"\w*(?i:mutex|rwlock|spinlock|futex|condvar)\w*",
            r"_*pthread_(?:cond|once|barrier|spin)\w*",
            r"_*lll_\w+",
            r"__atomic_\w+",
        ]),
    ];
    category("locking", "locks, atomics and synchronisation: Mutex, RwLock, Condvar, futex, parking_lot", patterns)
}

fn syscalls() -> Category {
    let paths = [
        r"std::fs::",
        r"std::io::",
        r"std::net::",
        r"std::process::",
        r"std::sys::",
        r"std::os::",
        r"std::env::",
        r"libc::",
        r"nix::",
        r"rustix::",
        r"memmap2::",
        r"mio::",
    ];
    let wrappers = "read|write|pread|pread64|pwrite|pwrite64|readv|writev|preadv\\w*|pwritev\\w*|fsync|fdatasync|syncfs|\
        sync_file_range|open|open64|openat|openat64|creat|close|lseek|lseek64|fstat|fstat64|fstatat|fstatat64|\
        newfstatat|stat|stat64|statx|lstat|lstat64|ftruncate|ftruncate64|truncate|fallocate|fallocate64|\
        posix_fallocate|mmap|mmap64|munmap|mremap|madvise|mprotect|msync|brk|sbrk|getrandom|syscall|ioctl|fcntl|\
        fcntl64|unlink|unlinkat|rename|renameat|renameat2|mkdir|mkdirat|rmdir|getdents64|sendfile|copy_file_range|\
        socket|connect|accept|accept4|bind|listen|send|recv|sendto|recvfrom|sendmsg|recvmsg|poll|ppoll|select|\
        epoll_wait|epoll_ctl|epoll_create1|nanosleep|clock_nanosleep|sched_yield|getpid|gettid|kill|tgkill|\
        sigaltstack|sigaction|sigprocmask|prctl|getrlimit|prlimit|prlimit64|dup|dup2|dup3|pipe|pipe2|flock|clone|\
        clone3|fork|vfork|execve|wait4|waitpid|access|faccessat|readlink|readlinkat|getcwd|statfs|fstatfs|eventfd";
    let stdio = "f(?:open|open64|close|read|write|flush|puts|putc|gets|getc|seek|seeko|tell|fileno|dopen)|puts|putchar|\
        getchar|getline|getdelim|new_do_write|setvbuf|ungetc|__underflow|__uflow|__overflow";
    let patterns = vec![
        head(&paths),
        c_symbol(&[
            &format!(r"_*(?:libc_|GI___libc_|GI___|GI_)?(?:{wrappers})(?:_nocancel)?"),
            &format!(r"_*(?:IO_)?(?:{stdio})(?:_unlocked)?"),
            r"_IO_\w+",
        ]),
    ];
    let description = "system calls and I/O: std::fs/io/net/sys and libc's wrappers (the kernel's work is not counted)";
    category("syscalls", description, patterns)
}

fn formatting() -> Category {
    let paths = [
        r"core::fmt::",
        r"alloc::fmt::",
        r"std::fmt::",
        r"log::",
        r"tracing::",
        r"tracing_core::",
        r"tracing_subscriber::",
        r"env_logger::",
        r"slog::",
        r"ryu::",
        r"itoa::",
        r"dtoa::",
        // v0-demangled inherent number formatting in core::fmt::num, e.g. `<u64>::_fmt`.
        r"[iuf](?:8|16|32|64|128|size)>::_?fmt\b",
    ];
    let traits = [r"core::fmt::(?:Display|Debug|Write|LowerHex|UpperHex|Binary|Octal|Pointer|LowerExp|UpperExp)\b"];
    let patterns =
        vec![head(&paths), trait_impl(&traits), c_symbol(&[r"_*\w*(?:printf|scanf)\w*", r"_f?itoa(?:_word)?"])];
    category("formatting", "formatting and logging: core::fmt, format!, log, tracing, printf", patterns)
}

fn regex_engines() -> Category {
    let crates =
        [r"regex::", r"regex_automata::", r"regex_syntax::", r"regex_lite::", r"fancy_regex::", r"aho_corasick::"];
    let patterns = vec![head(&crates), c_symbol(&[r"regcomp|regexec|pcre2?_\w+|onig_\w+"])];
    category("regex", "regular expressions: regex, regex-automata, regex-syntax, aho-corasick, PCRE", patterns)
}

impl Categories {
    /// The built-in categories ([`Category::defaults`]).
    pub fn builtin() -> Categories {
        match Categories::new(&Category::defaults()) {
            Ok(categories) => categories,
            // The defaults are constants, compiled by every test run.
            Err(e) => panic!("built-in cost categories do not compile: {e}"),
        }
    }

    /// The project's categories (`[[profile.category]]`) tried before the built-ins, in their order;
    /// a project category with a built-in's name replaces that built-in (with no patterns, it turns it
    /// off). Errors as [`Categories::new`], and for a category named [`APPLICATION`], the name of
    /// the rest.
    pub fn with_overrides(project: &[Category]) -> Result<Categories, String> {
        if project.iter().any(|c| c.name == APPLICATION) {
            return Err(format!("cost category `{APPLICATION}` is reserved for the functions no category matches"));
        }
        let mut all = project.to_vec();
        all.extend(Category::defaults().into_iter().filter(|d| project.iter().all(|p| p.name != d.name)));
        Categories::new(&all)
    }

    /// Compiles `cats`, in matching order. Errors name the category and the pattern that does not
    /// compile, an empty name, or a name used twice.
    pub fn new(cats: &[Category]) -> Result<Categories, String> {
        let mut categories = Vec::with_capacity(cats.len());
        for (i, cat) in cats.iter().enumerate() {
            if cat.name.is_empty() {
                return Err(format!("cost category {} has an empty name", i + 1));
            }
            if cats[..i].iter().any(|c| c.name == cat.name) {
                return Err(format!("cost category `{}` is defined twice", cat.name));
            }
            for pattern in &cat.patterns {
                Regex::new(pattern)
                    .map_err(|e| format!("cost category `{}`: invalid pattern `{pattern}`: {e}", cat.name))?;
            }
            let set = RegexSet::new(&cat.patterns).map_err(|e| format!("cost category `{}`: {e}", cat.name))?;
            categories.push((cat.clone(), set));
        }
        let suffixes = Regex::new(r"(?:'\d+|@.*|\.(?:part|constprop|isra|cold|lto_priv|localalias|clone)(?:\.\d+)?)+$")
            .map_err(|e| e.to_string())?;
        Ok(Categories { categories, suffixes })
    }

    /// The categories in matching order.
    pub fn categories(&self) -> impl Iterator<Item = &Category> {
        self.categories.iter().map(|(c, _)| c)
    }

    /// The category of `f`: the first whose patterns match its normalised name, else the first
    /// matching the file name of its object, else [`APPLICATION`].
    pub fn classify(&self, f: &Function) -> &str {
        let name = self.normalise(&f.name);
        let object = f.object.rsplit('/').next().unwrap_or("");
        let by = |text: &str| self.categories.iter().find(|(_, set)| set.is_match(text));
        let found = by(name).or_else(|| if object.is_empty() { None } else { by(object) });
        found.map_or(APPLICATION, |(c, _)| c.name.as_str())
    }

    /// `name` without callgrind's recursion suffix, a symbol version and GCC clone suffixes.
    pub fn normalise<'a>(&self, name: &'a str) -> &'a str {
        match self.suffixes.find(name) {
            Some(m) if m.start() > 0 => &name[..m.start()],
            _ => name,
        }
    }

    /// Each category's share of the self cost of event `event` (an index into `p.events`): every
    /// category in matching order and [`APPLICATION`], including those without cost, sorted by cost
    /// (highest first, ties by name). The shares sum to 1 (up to rounding) unless the profile has
    /// no cost for the event.
    ///
    /// Callgrind counts user-space work only: the instructions of the syscall wrappers are counted,
    /// but the time the kernel spends serving the calls (I/O, page faults, futex waits) is
    /// invisible to it, so the `syscalls` share understates what I/O costs in wall time.
    pub fn shares(&self, p: &Profile, event: usize) -> Vec<Share> {
        let mut by_category: BTreeMap<&str, (u64, BTreeMap<&str, u64>)> = BTreeMap::new();
        for name in self.categories().map(|c| c.name.as_str()).chain([APPLICATION]) {
            by_category.entry(name).or_default();
        }
        let mut total: u64 = 0;
        for f in &p.functions {
            let cost = f.self_cost.get(event).copied().unwrap_or(0);
            total = total.saturating_add(cost);
            let entry = by_category.entry(self.classify(f)).or_default();
            entry.0 = entry.0.saturating_add(cost);
            if cost > 0 {
                let top = entry.1.entry(self.normalise(&f.name)).or_default();
                *top = top.saturating_add(cost);
            }
        }
        let mut shares: Vec<Share> = by_category
            .into_iter()
            .map(|(category, (cost, functions))| {
                let share = if total == 0 { 0.0 } else { cost as f64 / total as f64 };
                Share { category: category.to_string(), cost, share, top: top_five(functions) }
            })
            .collect();
        shares.sort_by(|a, b| b.cost.cmp(&a.cost).then_with(|| a.category.cmp(&b.category)));
        shares
    }
}

/// The five costliest functions, highest first, ties by name.
fn top_five(functions: BTreeMap<&str, u64>) -> Vec<(String, u64)> {
    let mut top: Vec<(String, u64)> = functions.into_iter().map(|(n, c)| (n.to_string(), c)).collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    top.truncate(5);
    top
}

#[cfg(test)]
mod tests {
    use super::*;

    fn function(name: &str, object: &str, cost: u64) -> Function {
        Function {
            name: name.into(),
            file: "???".into(),
            object: object.into(),
            self_cost: vec![cost],
            inclusive: vec![cost],
            calls: Vec::new(),
        }
    }

    fn profile(functions: Vec<Function>) -> Profile {
        let total = functions.iter().map(|f| f.self_cost[0]).sum();
        Profile { events: vec!["Ir".into()], totals: vec![total], functions, cmd: None }
    }

    /// Symbol names as callgrind 3.19 wrote them in profiles of the compression, protobuf and
    /// storage suites, of small Rust and C programs, and a few from other libraries, with the
    /// category each must get.
    const NAMES: &[(&str, &str)] = &[
        // allocation
        ("__rustc::__rust_alloc", "allocation"),
        ("__rustc::__rust_dealloc", "allocation"),
        ("__rustc::__rust_realloc", "allocation"),
        ("__rustc::__rust_alloc_zeroed", "allocation"),
        ("__rustc::__rust_no_alloc_shim_is_unstable_v2", "allocation"),
        ("__rustc::__rdl_alloc", "allocation"),
        ("malloc", "allocation"),
        ("free", "allocation"),
        ("realloc", "allocation"),
        ("calloc", "allocation"),
        ("_int_malloc", "allocation"),
        ("_int_free", "allocation"),
        ("_int_realloc", "allocation"),
        ("malloc_consolidate", "allocation"),
        ("unlink_chunk.constprop.0", "allocation"),
        ("sysmalloc", "allocation"),
        ("tcache_init.part.0", "allocation"),
        ("__minimal_malloc", "allocation"),
        ("sqlite3DbMallocRawNN", "allocation"),
        ("sqlite3Malloc.part.0", "allocation"),
        ("<alloc::raw_vec::RawVecInner>::finish_grow", "allocation"),
        ("<alloc::raw_vec::RawVecInner<_>>::reserve::do_reserve_and_handle::<alloc::alloc::Global>", "allocation"),
        ("alloc::raw_vec::RawVec<T,A>::grow_one", "allocation"),
        ("alloc::raw_vec::RawVecInner<A>::finish_grow", "allocation"),
        (
            "<alloc_stdlib::std_alloc::StandardAlloc as alloc_no_stdlib::stack_allocator::Allocator<T>>::alloc_cell",
            "allocation",
        ),
        ("<benchgate::measure::alloc::CountingAlloc as core::alloc::global::GlobalAlloc>::alloc", "allocation"),
        ("alloc::alloc::exchange_malloc", "allocation"),
        // copying
        ("__memcpy_avx_unaligned_erms", "copying"),
        ("__memmove_avx_unaligned_erms", "copying"),
        ("__memset_avx2_unaligned_erms", "copying"),
        ("memcpy@@GLIBC_2.14", "copying"),
        ("memmove", "copying"),
        ("mempcpy", "copying"),
        ("memset", "copying"),
        ("__strcpy_avx2", "copying"),
        ("core::ptr::copy_nonoverlapping", "copying"),
        ("<[u8]>::copy_from_slice", "copying"),
        ("<alloc::vec::Vec<u8> as std::io::Write>::write_all", "copying"),
        ("std::io::impls::<impl std::io::Write for alloc::vec::Vec<u8,A>>::write", "copying"),
        // compression
        ("ZSTD_compressBlock_fast", "compression"),
        ("ZSTD_compressBlock_doubleFast", "compression"),
        ("ZSTD_encodeSequences_bmi2", "compression"),
        ("HUF_compress1X_usingCTable_internal_bmi2", "compression"),
        ("FSE_buildCTable_wksp", "compression"),
        ("HIST_count_parallel_wksp", "compression"),
        ("snap::compress::Encoder::compress", "compression"),
        ("miniz_oxide::deflate::core::compress_inner", "compression"),
        ("<flate2::mem::Compress as flate2::zio::Ops>::run_vec", "compression"),
        ("lz4_flex::block::compress::compress_internal", "compression"),
        ("lz4_flex::block::decompress_safe::decompress_internal", "compression"),
        (
            "<brotli::enc::backward_references::AdvHasher<Specialization,Alloc> as brotli::enc::backward_references::AnyHasher>::FindLongestMatch",
            "compression",
        ),
        ("brotli::enc::brotli_bit_stream::BrotliWriteBits", "compression"),
        ("zstd::bulk::compressor::Compressor::compress", "compression"),
        ("deflate_slow", "compression"),
        ("inflate_fast", "compression"),
        // serialization
        ("prost::encoding::varint::encode_varint", "serialization"),
        ("prost::encoding::message::encode'2", "serialization"),
        ("<bench_suites::protobuf::prompb::Label as prost::message::Message>::encode_raw", "serialization"),
        ("quick_protobuf::reader::BytesReader::read_varint32", "serialization"),
        (
            "<bench_suites::protobuf::quick::TimeSeries as quick_protobuf::message::MessageRead>::from_reader",
            "serialization",
        ),
        ("serde_json::ser::format_escaped_str_contents", "serialization"),
        ("<app::Row as serde::ser::Serialize>::serialize", "serialization"),
        ("bincode::de::read::SliceReader::read_bytes", "serialization"),
        // hashing
        ("core::hash::BuildHasher::hash_one", "hashing"),
        ("crc32fast::specialized::pclmulqdq::calculate", "hashing"),
        ("xxhash_rust::xxh3::xxh3_64_129to240", "hashing"),
        ("walChecksumBytes", "hashing"),
        ("<std::hash::random::DefaultHasher as core::hash::Hasher>::write", "hashing"),
        ("<foldhash::fast::FoldHasher as core::hash::Hasher>::write", "hashing"),
        ("<core::hash::sip::Hasher<core::hash::sip::Sip13Rounds> as core::hash::Hasher>::write", "hashing"),
        ("<app::Key as core::hash::Hash>::hash", "hashing"),
        ("hashbrown::map::make_hash", "hashing"),
        ("XXH64_update", "hashing"),
        // locking
        ("pthread_mutex_lock@@GLIBC_2.2.5", "locking"),
        ("__pthread_mutex_unlock_usercnt", "locking"),
        ("__lll_lock_wait", "locking"),
        ("sqlite3_mutex_enter", "locking"),
        ("<std::sys::sync::once::futex::Once>::call", "locking"),
        ("std::sys::sync::mutex::futex::Mutex::lock_contended", "locking"),
        ("<std::sync::poison::mutex::Mutex<u32>>::lock", "locking"),
        ("parking_lot::raw_mutex::RawMutex::lock_slow", "locking"),
        ("<lock_api::rwlock::RwLock<parking_lot::raw_rwlock::RawRwLock, u32>>::read", "locking"),
        ("core::sync::atomic::atomic_add", "locking"),
        // syscalls and I/O
        ("write", "syscalls"),
        ("pwrite", "syscalls"),
        ("pread", "syscalls"),
        ("__open_nocancel", "syscalls"),
        ("fstatat", "syscalls"),
        ("mmap", "syscalls"),
        ("brk", "syscalls"),
        ("sbrk", "syscalls"),
        ("__libc_sigaction", "syscalls"),
        ("getdelim", "syscalls"),
        ("_IO_file_underflow@@GLIBC_2.2.5", "syscalls"),
        ("std::sys::random::linux::getrandom", "syscalls"),
        ("std::io::stdio::_print", "syscalls"),
        ("<&std::io::stdio::Stdout as std::io::Write>::write_fmt", "syscalls"),
        ("<std::fs::File as std::io::Write>::write", "syscalls"),
        ("std::sys::pal::unix::stack_overflow::imp::make_handler", "syscalls"),
        // formatting
        ("core::fmt::write", "formatting"),
        ("<core::fmt::Formatter>::pad_integral", "formatting"),
        ("<u64 as core::fmt::Display>::fmt", "formatting"),
        ("<&T as core::fmt::Display>::fmt", "formatting"),
        ("<alloc::string::String as core::fmt::Write>::write_str", "formatting"),
        ("alloc::fmt::format::format_inner", "formatting"),
        ("<u64>::_fmt", "formatting"),
        ("core::fmt::num::imp::<impl core::fmt::Display for u64>::fmt", "formatting"),
        ("__vfscanf_internal", "formatting"),
        ("__isoc99_sscanf", "formatting"),
        ("__vfprintf_internal", "formatting"),
        ("log::__private_api::log", "formatting"),
        ("tracing_core::dispatcher::get_default", "formatting"),
        // regex
        ("regex_automata::meta::strategy::Core::search", "regex"),
        ("<regex_automata::meta::strategy::Core as regex_automata::meta::strategy::Strategy>::search", "regex"),
        ("regex::regex::string::Regex::is_match", "regex"),
        ("aho_corasick::packed::teddy::generic::Teddy::find", "regex"),
        // application: everything else, including type arguments that name other categories
        ("bench_suites::storage::value", "application"),
        ("small::fib'2", "application"),
        ("compression::compression", "application"),
        ("sqlite3VdbeExec", "application"),
        ("hashbrown::map::HashMap<K,V,S,A>::insert", "application"),
        ("core::slice::sort::unstable::quicksort::quicksort", "application"),
        ("__memcmp_avx2_movbe", "application"),
        ("<alloc::sync::Arc<std::sync::Mutex<u32>>>::drop_slow", "application"),
        (
            "<alloc::vec::Vec<T> as alloc::vec::spec_from_iter_nested::SpecFromIterNested<T,I>>::from_iter",
            "application",
        ),
        ("core::str::converts::from_utf8", "application"),
        ("_dl_relocate_object", "application"),
        ("0x0000000000001050", "application"),
    ];

    #[test]
    fn classifies_real_symbol_names() {
        let categories = Categories::builtin();
        let wrong: Vec<String> = NAMES
            .iter()
            .filter_map(|&(name, expected)| {
                let got = categories.classify(&function(name, "/work/bench/target/release/deps/bench-0123abcd", 1));
                (got != expected).then(|| format!("{name}: expected {expected}, got {got}"))
            })
            .collect();
        assert!(wrong.is_empty(), "misclassified:\n{}", wrong.join("\n"));
    }

    #[test]
    fn builtin_categories_in_matching_order() {
        let categories = Categories::builtin();
        let names: Vec<&str> = categories.categories().map(|c| c.name.as_str()).collect();
        let expected = [
            "allocation",
            "copying",
            "compression",
            "serialization",
            "hashing",
            "locking",
            "syscalls",
            "formatting",
            "regex",
        ];
        assert_eq!(names, expected);
        assert!(Category::defaults().iter().all(|c| !c.description.is_empty() && !c.patterns.is_empty()));
    }

    #[test]
    fn object_file_name_when_the_function_name_matches_nothing() {
        let categories = Categories::builtin();
        let zstd = function("0x00000000000a1b2c", "/usr/lib/x86_64-linux-gnu/libzstd.so.1.5.4", 1);
        assert_eq!(categories.classify(&zstd), "compression");
        let libc = function("0x0000000000001050", "/usr/lib/x86_64-linux-gnu/libc.so.6", 1);
        assert_eq!(categories.classify(&libc), APPLICATION);
        // Bench binaries are named after their suite: their names must not decide.
        for object in ["/t/release/deps/compression-d801d39cd464dfc9", "/t/release/deps/deflate-0123abcd"] {
            assert_eq!(categories.classify(&function("bench::work", object, 1)), APPLICATION, "{object}");
        }
        // The name decides before the object.
        assert_eq!(categories.classify(&function("memcpy", "/usr/lib/libzstd.so.1", 1)), "copying");
    }

    #[test]
    fn normalise_strips_recursion_versions_and_clones() {
        let categories = Categories::builtin();
        let cases = [
            ("fib'2", "fib"),
            ("memcpy@@GLIBC_2.14", "memcpy"),
            ("msort_with_tmp.part.0'2", "msort_with_tmp"),
            ("init_cpu_features.constprop.0", "init_cpu_features"),
            ("walWriteOneFrame.isra.0", "walWriteOneFrame"),
            ("<u64 as core::fmt::Display>::fmt", "<u64 as core::fmt::Display>::fmt"),
            ("'2", "'2"),
        ];
        for (name, expected) in cases {
            assert_eq!(categories.normalise(name), expected, "{name}");
        }
    }

    #[test]
    fn new_names_the_category_and_the_bad_pattern() {
        let cat = |name: &str, patterns: &[&str]| Category {
            name: name.into(),
            patterns: patterns.iter().map(|p| p.to_string()).collect(),
            description: String::new(),
        };
        let e = Categories::new(&[cat("ok", &["^a"]), cat("codecs", &["^zstd", "lz4(", "x"])]).unwrap_err();
        assert!(e.starts_with("cost category `codecs`: invalid pattern `lz4(`:"), "{e}");
        let e = Categories::new(&[cat("a", &[]), cat("a", &["x"])]).unwrap_err();
        assert_eq!(e, "cost category `a` is defined twice");
        let e = Categories::new(&[cat("", &["x"])]).unwrap_err();
        assert_eq!(e, "cost category 1 has an empty name");
        let custom = Categories::new(&[cat("mine", &["^my_crate::"]), cat("copying", &["^memcpy$"])]).unwrap();
        assert_eq!(custom.classify(&function("my_crate::run", "", 1)), "mine");
        assert_eq!(custom.classify(&function("memcpy", "", 1)), "copying");
        assert_eq!(custom.classify(&function("ZSTD_compress", "", 1)), APPLICATION);
    }

    #[test]
    fn project_categories_come_first_and_replace_builtins_of_their_name() {
        let cat = |name: &str, patterns: &[&str]| Category {
            name: name.into(),
            patterns: patterns.iter().map(|p| p.to_string()).collect(),
            description: String::new(),
        };
        let c =
            Categories::with_overrides(&[cat("storage", &["^my_db::"]), cat("compression", &["^my_codec::"])]).unwrap();
        let names: Vec<&str> = c.categories().map(|c| c.name.as_str()).collect();
        assert_eq!(names[..3], ["storage", "compression", "allocation"]);
        assert_eq!(names.len(), 10);
        assert_eq!(c.classify(&function("my_db::put", "", 1)), "storage");
        assert_eq!(c.classify(&function("my_codec::encode", "", 1)), "compression");
        // The built-in compression patterns are gone with the built-in.
        assert_eq!(c.classify(&function("ZSTD_compressBlock_fast", "", 1)), APPLICATION);
        assert_eq!(c.classify(&function("memcpy", "", 1)), "copying");
        // Before the built-ins: a project category can claim what a built-in would.
        let c = Categories::with_overrides(&[cat("mine", &["^memcpy$"])]).unwrap();
        assert_eq!(c.classify(&function("memcpy", "", 1)), "mine");
        assert_eq!(Categories::with_overrides(&[]).unwrap().categories().count(), 9);
        let e = Categories::with_overrides(&[cat("application", &["x"])]).unwrap_err();
        assert!(e.contains("`application` is reserved"), "{e}");
        let e = Categories::with_overrides(&[cat("x", &["("])]).unwrap_err();
        assert!(e.starts_with("cost category `x`: invalid pattern `(`"), "{e}");
    }

    #[test]
    fn zstd_at_eighty_percent_is_a_compression_share_of_eighty_percent() {
        let p = profile(vec![
            function("ZSTD_compressBlock_doubleFast", "/bin/b", 800),
            function("__memcpy_avx_unaligned_erms", "/lib/libc.so.6", 100),
            function("bench::main", "/bin/b", 60),
            function("bench::setup", "/bin/b", 40),
        ]);
        let shares = Categories::builtin().shares(&p, 0);
        let order: Vec<(&str, u64)> = shares.iter().map(|s| (s.category.as_str(), s.cost)).collect();
        assert_eq!(
            order,
            [
                ("compression", 800),
                ("application", 100),
                ("copying", 100),
                ("allocation", 0),
                ("formatting", 0),
                ("hashing", 0),
                ("locking", 0),
                ("regex", 0),
                ("serialization", 0),
                ("syscalls", 0),
            ]
        );
        assert_eq!(shares[0].share, 800.0 / 1000.0);
        assert_eq!(shares[0].top, [("ZSTD_compressBlock_doubleFast".to_string(), 800)]);
        assert_eq!(shares[1].top, [("bench::main".to_string(), 60), ("bench::setup".to_string(), 40)]);
        assert!(shares[3].top.is_empty());
        assert!((shares.iter().map(|s| s.share).sum::<f64>() - 1.0).abs() <= 1e-12);
    }

    #[test]
    fn top_functions_add_up_normalised_names_keep_five_and_break_ties_by_name() {
        let p = profile(vec![
            function("fib", "", 10),
            function("fib'2", "", 50),
            function("g", "", 30),
            function("a", "", 30),
            function("h", "", 5),
            function("i", "", 4),
            function("j", "", 3),
            function("zero", "", 0),
        ]);
        let shares = Categories::builtin().shares(&p, 0);
        let app = shares.iter().find(|s| s.category == APPLICATION).unwrap();
        assert_eq!(app.cost, 132);
        let top: Vec<(&str, u64)> = app.top.iter().map(|(n, c)| (n.as_str(), *c)).collect();
        assert_eq!(top, [("fib", 60), ("a", 30), ("g", 30), ("h", 5), ("i", 4)]);
    }

    #[test]
    fn shares_of_a_real_profile_sum_to_one() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/callgrind/small.callgrind");
        let p = super::super::callgrind::load(&path).unwrap();
        let ir = p.event("Ir").unwrap();
        let categories = Categories::builtin();
        let shares = categories.shares(&p, ir);
        assert_eq!(shares.iter().map(|s| s.cost).sum::<u64>(), p.total(ir));
        assert!((shares.iter().map(|s| s.share).sum::<f64>() - 1.0).abs() <= 1e-12);
        for s in &shares {
            assert_eq!(s.share, s.cost as f64 / p.total(ir) as f64, "{}", s.category);
            let expected: u64 =
                p.functions.iter().filter(|f| categories.classify(f) == s.category).map(|f| f.self_cost[ir]).sum();
            assert_eq!(s.cost, expected, "{}", s.category);
        }
        // The program formats 200 strings into a hash map and prints a line. (Its hashing is inlined
        // into the hash map's functions, so it counts as application code.)
        for name in ["formatting", "allocation", "copying", "syscalls", "locking"] {
            assert!(shares.iter().any(|s| s.category == name && s.cost > 0), "{name} has no cost");
        }
        assert!(shares.windows(2).all(|w| w[0].cost >= w[1].cost));
    }

    #[test]
    fn empty_profile_has_zero_shares() {
        let shares = Categories::builtin().shares(&profile(Vec::new()), 0);
        assert_eq!(shares.len(), 10);
        assert!(shares.iter().all(|s| s.cost == 0 && s.share == 0.0 && s.top.is_empty()));
    }
}
