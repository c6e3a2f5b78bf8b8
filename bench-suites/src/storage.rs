//! The embedded key-value stores the storage suite measures, behind one [`Store`] trait: redb
//! (copy-on-write B-tree, pure Rust), fjall (LSM tree, pure Rust), LMDB through heed
//! (memory-mapped B-tree, C) and SQLite through rusqlite (B-tree table with a write-ahead log, C).
//!
//! **Durability, the same for every engine**: every commit is on stable storage when it returns
//! (the engine has called `fsync` or `fdatasync` on what the commit wrote), and a crash after it
//! returns loses nothing. Per engine:
//! - redb: [`redb::Durability::Immediate`] (its default), set on every write transaction; the
//!   commit calls `fdatasync` on the database file.
//! - fjall: every write is a batch committed with [`fjall::PersistMode::SyncAll`], so the commit
//!   calls `fsync` on the journal before it returns (fjall's default only hands the write to the
//!   OS, without a sync).
//! - LMDB: default environment flags (neither `NO_SYNC` nor `NO_META_SYNC`): the commit writes its
//!   pages, calls `fdatasync`, then writes and syncs the meta page.
//! - SQLite: `journal_mode=WAL` and `synchronous=FULL`: the commit syncs the write-ahead log. The
//!   bundled build does not define `HAVE_FDATASYNC`, so SQLite calls `fsync`.
//!
//! **Heap accounting**: benchgate's alloc lane counts allocations made through Rust's global
//! allocator. redb and fjall are pure Rust and fully counted. SQLite is C: [`Sqlite::open`] first
//! routes its `malloc` through Rust's global allocator ([`route_sqlite_malloc`]), so that its page
//! cache and statements are counted like the Rust engines' memory. LMDB's C code calls `malloc`
//! directly and offers no hook: its transactions and cursors are not counted, and its data lives in
//! a memory map, not on the heap, so LMDB's heap figures are lower bounds.
//!
//! Keys are 16 bytes, big-endian, so byte order is key order; values are 80 to 120 bytes of JSON
//! (100 on average), made deterministically from a seed and the record's index.
//!
//! These are benchmark routines, not a general API: an engine error means the suite itself is
//! broken, so every function panics on one instead of returning it.

use std::fmt::Write as _;
use std::mem::ManuallyDrop;
use std::path::Path;

use crate::data::SplitMix64;

/// Length of every key in bytes.
pub const KEY_LEN: usize = 16;

/// A key: a 128-bit id in big-endian byte order, so that byte order is numeric order.
pub type Key = [u8; KEY_LEN];

/// The id of record 0. Keys look like time-ordered 128-bit ids (a UUIDv7-like prefix), not small
/// integers behind 14 zero bytes. Record `i` has id `KEY_BASE + 2i`; the odd ids in between are
/// absent, so that a missing key falls between two present ones.
const KEY_BASE: u128 = 0x0190_A3C4_5E00_7000_8000_0000_0000_0000;

/// Shortest and longest value, in bytes (100 on average).
pub const VALUE_MIN: usize = 80;
pub const VALUE_MAX: usize = 120;

/// The key of record `index`.
pub fn key(index: u64) -> Key {
    (KEY_BASE + 2 * u128::from(index)).to_be_bytes()
}

/// A key between record `index` and record `index + 1`: never stored.
pub fn missing_key(index: u64) -> Key {
    (KEY_BASE + 2 * u128::from(index) + 1).to_be_bytes()
}

/// Multiplier of [`scrambled`]: a prime that divides no power of ten, so multiplication by it
/// permutes `0..n` for the suite's sizes (powers of ten).
const SCRAMBLE: u64 = 7919;

/// The record the `counter`-th operation touches in a store of `n` records: consecutive counters
/// hit records spread over the whole key space, and `n` consecutive counters hit each record once
/// when `n` is a power of ten (as the suite's sizes are).
pub fn scrambled(counter: u64, n: u64) -> u64 {
    counter.wrapping_mul(SCRAMBLE) % n
}

/// Plans of the user records in values.
const PLANS: [&str; 4] = ["free", "pro", "team", "enterprise"];
/// Words of the free-text note that pads a value to its length.
const WORDS: [&str; 16] = [
    "renewed", "trial", "invoice", "sent", "via", "email", "upgraded", "seats", "support", "ticket", "closed",
    "annual", "billing", "region", "eu-west", "migrated",
];

/// The value of record `index`: a JSON object of 80 to 120 bytes, e.g.
/// `{"id":42,"user":"u183042","plan":"pro","logins":917,"note":"trial sent via email annual"}`,
/// the same for the same `seed` and `index`.
pub fn value(seed: u64, index: u64) -> Vec<u8> {
    let mut rng = SplitMix64::new(seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let len = VALUE_MIN + rng.below((VALUE_MAX - VALUE_MIN + 1) as u64) as usize;
    let mut out = String::with_capacity(VALUE_MAX + 16);
    write!(
        out,
        r#"{{"id":{index},"user":"u{:06}","plan":"{}","logins":{},"note":""#,
        rng.below(1_000_000),
        rng.pick(&PLANS),
        rng.below(10_000)
    )
    .expect("writing to a String cannot fail");
    while out.len() < len {
        out.push_str(rng.pick(&WORDS));
        out.push(' ');
    }
    out.truncate(len - 2);
    out.push_str("\"}");
    out.into_bytes()
}

/// One key-value pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub key: Key,
    pub value: Vec<u8>,
}

/// Records `0..n` with values of `seed`, in scrambled key order (as records keyed by hashed or
/// random ids arrive), so that loading them is not an append to the end of the key space.
pub fn records(seed: u64, n: u64) -> Vec<Record> {
    (0..n)
        .map(|counter| {
            let index = scrambled(counter, n);
            Record { key: key(index), value: value(seed, index) }
        })
        .collect()
}

/// An embedded key-value store, open in a directory it owns. Dropping it closes it (and waits for
/// its background work), so the directory can then be removed.
pub trait Store: Sized {
    /// The engine's name in benchmark ids.
    const NAME: &'static str;

    /// Opens the store in `dir` (an existing directory, empty or holding this engine's files),
    /// creating its table when missing.
    fn open(dir: &Path) -> Self;

    /// Writes one record (inserting or replacing) in its own durable commit.
    fn put(&mut self, key: &Key, value: &[u8]);

    /// Writes every record of `records` (inserting or replacing) in one durable commit.
    fn put_batch(&mut self, records: &[Record]);

    /// Looks `key` up in its own read transaction (where the engine has them); on a hit, replaces
    /// the contents of `out` with the value and returns true.
    fn get(&self, key: &Key, out: &mut Vec<u8>) -> bool;

    /// Visits up to `limit` records in key order, from the first key at or after `start`, in one
    /// read transaction; returns how many it visited.
    fn scan(&self, start: &Key, limit: usize, visit: &mut dyn FnMut(&[u8], &[u8])) -> usize;
}

/// Writes `records` in durable commits of `batch` records each.
pub fn load<S: Store>(store: &mut S, records: &[Record], batch: usize) {
    for chunk in records.chunks(batch) {
        store.put_batch(chunk);
    }
}

/// Sizes of the files under a directory, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DiskUsage {
    /// Sum of the files' lengths (what `ls -l` shows). A sparse file counts its holes.
    pub apparent: u64,
    /// Sum of the blocks the file system allocated to the files (`st_blocks * 512`, what `du`
    /// shows): what the files really take on disk.
    pub allocated: u64,
}

/// The sizes of every file under `dir`, recursively (symbolic links not followed).
pub fn disk_usage(dir: &Path) -> DiskUsage {
    use std::os::unix::fs::MetadataExt as _;
    let mut usage = DiskUsage::default();
    for entry in std::fs::read_dir(dir).expect("read the store's directory") {
        let entry = entry.expect("read a directory entry");
        let meta = entry.metadata().expect("stat a store file");
        if meta.is_dir() {
            let sub = disk_usage(&entry.path());
            usage.apparent += sub.apparent;
            usage.allocated += sub.allocated;
        } else if meta.is_file() {
            usage.apparent += meta.len();
            usage.allocated += meta.blocks() * 512;
        }
    }
    usage
}

/// redb: a copy-on-write B-tree in one file, pure Rust, default settings.
pub struct Redb {
    db: redb::Database,
}

/// redb's table of the suite's records.
const REDB_TABLE: redb::TableDefinition<&Key, &[u8]> = redb::TableDefinition::new("records");

impl Redb {
    /// A write transaction that is durable when committed ([`redb::Durability::Immediate`], also
    /// redb's default: set explicitly so that the policy does not hang on a default).
    fn begin_durable_write(&self) -> redb::WriteTransaction {
        let mut tx = self.db.begin_write().expect("redb: begin write");
        tx.set_durability(redb::Durability::Immediate).expect("redb: set durability");
        tx
    }
}

impl Store for Redb {
    const NAME: &'static str = "redb";

    fn open(dir: &Path) -> Self {
        let db = redb::Database::create(dir.join("records.redb")).expect("redb: create");
        let store = Redb { db };
        let tx = store.begin_durable_write();
        tx.open_table(REDB_TABLE).expect("redb: create table");
        tx.commit().expect("redb: commit");
        store
    }

    fn put(&mut self, key: &Key, value: &[u8]) {
        let tx = self.begin_durable_write();
        tx.open_table(REDB_TABLE).expect("redb: open table").insert(key, value).expect("redb: insert");
        tx.commit().expect("redb: commit");
    }

    fn put_batch(&mut self, records: &[Record]) {
        let tx = self.begin_durable_write();
        {
            let mut table = tx.open_table(REDB_TABLE).expect("redb: open table");
            for record in records {
                table.insert(&record.key, record.value.as_slice()).expect("redb: insert");
            }
        }
        tx.commit().expect("redb: commit");
    }

    fn get(&self, key: &Key, out: &mut Vec<u8>) -> bool {
        use redb::ReadableDatabase as _;
        let tx = self.db.begin_read().expect("redb: begin read");
        let table = tx.open_table(REDB_TABLE).expect("redb: open table");
        match table.get(key).expect("redb: get") {
            Some(guard) => {
                out.clear();
                out.extend_from_slice(guard.value());
                true
            }
            None => false,
        }
    }

    fn scan(&self, start: &Key, limit: usize, visit: &mut dyn FnMut(&[u8], &[u8])) -> usize {
        use redb::ReadableDatabase as _;
        let tx = self.db.begin_read().expect("redb: begin read");
        let table = tx.open_table(REDB_TABLE).expect("redb: open table");
        let mut visited = 0;
        for entry in table.range::<&Key>(start..).expect("redb: range").take(limit) {
            let (k, v) = entry.expect("redb: read range");
            visit(k.value(), v.value());
            visited += 1;
        }
        visited
    }
}

/// fjall: a log-structured merge tree (journal, memtable, sorted segment files), pure Rust, default
/// settings. With them, a partition keeps up to 16 MiB of recent writes in its memtable (and its
/// journal) before flushing them to a segment, so at the suite's sizes every record is in the
/// memtable: gets and scans read it, and the files on disk are the journal.
///
/// Closing a keyspace waits for its background threads, among them a monitor that wakes every
/// 250 ms: a close takes up to 250 ms, spent in a loop that sleeps 100 µs per turn. Its instruction
/// count measures how long it waited, so callgrind does not count it (see [`uncounted_by_callgrind`]).
pub struct Fjall {
    // Dropped by hand, partition handle first (see `Drop`).
    partition: ManuallyDrop<fjall::PartitionHandle>,
    keyspace: ManuallyDrop<fjall::Keyspace>,
}

impl Drop for Fjall {
    fn drop(&mut self) {
        uncounted_by_callgrind(|| {
            // SAFETY: both fields are dropped here, once, and never used again.
            unsafe {
                ManuallyDrop::drop(&mut self.partition);
                ManuallyDrop::drop(&mut self.keyspace);
            }
        });
    }
}

impl Fjall {
    /// A batch that `fsync`s the journal when committed.
    fn durable_batch(&self) -> fjall::Batch {
        self.keyspace.batch().durability(Some(fjall::PersistMode::SyncAll))
    }
}

impl Store for Fjall {
    const NAME: &'static str = "fjall";

    fn open(dir: &Path) -> Self {
        let keyspace = fjall::Config::new(dir).open().expect("fjall: open keyspace");
        let partition = keyspace
            .open_partition("records", fjall::PartitionCreateOptions::default())
            .expect("fjall: open partition");
        Fjall { partition: ManuallyDrop::new(partition), keyspace: ManuallyDrop::new(keyspace) }
    }

    /// A batch of one: fjall's `PartitionHandle::insert` cannot sync, so a durable single write is a
    /// batch (or an insert followed by `Keyspace::persist`, which costs the same sync).
    fn put(&mut self, key: &Key, value: &[u8]) {
        let mut batch = self.durable_batch();
        batch.insert(&self.partition, key.as_slice(), value);
        batch.commit().expect("fjall: commit");
    }

    fn put_batch(&mut self, records: &[Record]) {
        let mut batch = fjall::Batch::with_capacity((*self.keyspace).clone(), records.len())
            .durability(Some(fjall::PersistMode::SyncAll));
        for record in records {
            batch.insert(&self.partition, record.key.as_slice(), record.value.as_slice());
        }
        batch.commit().expect("fjall: commit");
    }

    /// No transaction: a partition read sees the latest committed write.
    fn get(&self, key: &Key, out: &mut Vec<u8>) -> bool {
        match self.partition.get(key).expect("fjall: get") {
            Some(v) => {
                out.clear();
                out.extend_from_slice(&v);
                true
            }
            None => false,
        }
    }

    fn scan(&self, start: &Key, limit: usize, visit: &mut dyn FnMut(&[u8], &[u8])) -> usize {
        let mut visited = 0;
        for entry in self.partition.range(*start..).take(limit) {
            let (k, v) = entry.expect("fjall: read range");
            visit(&k, &v);
            visited += 1;
        }
        visited
    }
}

/// Size of LMDB's memory map: the most the database file may grow to. Address space only; the file
/// grows as pages are written (without `WRITE_MAP`, LMDB does not extend it to the map size).
const LMDB_MAP_SIZE: usize = 1 << 30;

/// LMDB through heed: a copy-on-write B-tree read through a memory map, C (lmdb-master-sys), default
/// flags. Its transactions and cursors are allocated by C `malloc`, which the alloc lane does not
/// see, and its pages live in the map (the OS page cache), not on the heap.
pub struct Lmdb {
    db: heed::Database<'static, heed::types::Bytes, heed::types::Bytes>,
    env: heed::Env,
}

impl Store for Lmdb {
    const NAME: &'static str = "lmdb";

    fn open(dir: &Path) -> Self {
        // SAFETY: `dir` belongs to this store; nothing else maps, modifies or truncates its files
        // while it is open (heed's own registry prevents a second open in this process).
        let env = unsafe { heed::EnvOpenOptions::new().map_size(LMDB_MAP_SIZE).open(dir) }.expect("lmdb: open");
        let tx = env.write_txn().expect("lmdb: begin write");
        let db = env
            .create_databases_and_commit(tx, |opener, tx| {
                opener.create_database(tx, None).map(heed::CommitOrAbort::<_, ()>::Commit)
            })
            .expect("lmdb: create database")
            .unwrap_commit();
        Lmdb { db, env }
    }

    fn put(&mut self, key: &Key, value: &[u8]) {
        let mut tx = self.env.write_txn().expect("lmdb: begin write");
        self.db.put(&mut tx, key, value).expect("lmdb: put");
        tx.commit().expect("lmdb: commit");
    }

    fn put_batch(&mut self, records: &[Record]) {
        let mut tx = self.env.write_txn().expect("lmdb: begin write");
        for record in records {
            self.db.put(&mut tx, &record.key, &record.value).expect("lmdb: put");
        }
        tx.commit().expect("lmdb: commit");
    }

    fn get(&self, key: &Key, out: &mut Vec<u8>) -> bool {
        let tx = self.env.read_txn().expect("lmdb: begin read");
        match self.db.get(&tx, key).expect("lmdb: get") {
            Some(v) => {
                out.clear();
                out.extend_from_slice(v);
                true
            }
            None => false,
        }
    }

    fn scan(&self, start: &Key, limit: usize, visit: &mut dyn FnMut(&[u8], &[u8])) -> usize {
        let tx = self.env.read_txn().expect("lmdb: begin read");
        let range = (std::ops::Bound::Included(start.as_slice()), std::ops::Bound::Unbounded);
        let mut visited = 0;
        for entry in self.db.range(&tx, &range).expect("lmdb: range").take(limit) {
            let (k, v) = entry.expect("lmdb: read range");
            visit(k, v);
            visited += 1;
        }
        visited
    }
}

/// SQLite through rusqlite (bundled SQLite), in WAL mode with `synchronous=FULL`, records in a
/// `WITHOUT ROWID` table (a B-tree clustered on the key, like the other engines' trees), statements
/// from rusqlite's statement cache. Its `malloc` goes through Rust's global allocator (see
/// [`route_sqlite_malloc`]).
pub struct Sqlite {
    conn: rusqlite::Connection,
}

/// Inserts a record or replaces its value.
const SQLITE_PUT: &str = "INSERT INTO records (k, v) VALUES (?1, ?2) ON CONFLICT (k) DO UPDATE SET v = excluded.v";
const SQLITE_GET: &str = "SELECT v FROM records WHERE k = ?1";
const SQLITE_SCAN: &str = "SELECT k, v FROM records WHERE k >= ?1 ORDER BY k LIMIT ?2";

impl Sqlite {
    /// Opens (creating) the database file `path` with the suite's settings.
    fn open_file(path: &Path) -> Self {
        route_sqlite_malloc();
        let conn = rusqlite::Connection::open(path).expect("sqlite: open");
        let mode: String =
            conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0)).expect("sqlite: journal_mode");
        assert_eq!(mode, "wal", "sqlite: WAL mode refused");
        conn.execute_batch(
            "PRAGMA synchronous = FULL;
             CREATE TABLE IF NOT EXISTS records (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID;",
        )
        .expect("sqlite: schema");
        Sqlite { conn }
    }
}

impl Store for Sqlite {
    const NAME: &'static str = "sqlite";

    fn open(dir: &Path) -> Self {
        Sqlite::open_file(&dir.join("records.sqlite"))
    }

    /// One statement in autocommit mode: its own transaction, committed (and synced) when it ends.
    fn put(&mut self, key: &Key, value: &[u8]) {
        let mut stmt = self.conn.prepare_cached(SQLITE_PUT).expect("sqlite: prepare");
        stmt.execute((key.as_slice(), value)).expect("sqlite: insert");
    }

    fn put_batch(&mut self, records: &[Record]) {
        let tx = self.conn.transaction().expect("sqlite: begin");
        {
            let mut stmt = tx.prepare_cached(SQLITE_PUT).expect("sqlite: prepare");
            for record in records {
                stmt.execute((record.key.as_slice(), record.value.as_slice())).expect("sqlite: insert");
            }
        }
        tx.commit().expect("sqlite: commit");
    }

    /// One statement in autocommit mode: its own read transaction.
    fn get(&self, key: &Key, out: &mut Vec<u8>) -> bool {
        let mut stmt = self.conn.prepare_cached(SQLITE_GET).expect("sqlite: prepare");
        let mut rows = stmt.query([key.as_slice()]).expect("sqlite: query");
        match rows.next().expect("sqlite: step") {
            Some(row) => {
                out.clear();
                out.extend_from_slice(row.get_ref(0).and_then(|v| Ok(v.as_blob()?)).expect("sqlite: blob"));
                true
            }
            None => false,
        }
    }

    fn scan(&self, start: &Key, limit: usize, visit: &mut dyn FnMut(&[u8], &[u8])) -> usize {
        let mut stmt = self.conn.prepare_cached(SQLITE_SCAN).expect("sqlite: prepare");
        let limit = i64::try_from(limit).expect("limit fits in i64");
        let mut rows = stmt.query((start.as_slice(), limit)).expect("sqlite: query");
        let mut visited = 0;
        while let Some(row) = rows.next().expect("sqlite: step") {
            let k = row.get_ref(0).and_then(|v| Ok(v.as_blob()?)).expect("sqlite: key blob");
            let v = row.get_ref(1).and_then(|v| Ok(v.as_blob()?)).expect("sqlite: value blob");
            visit(k, v);
            visited += 1;
        }
        visited
    }
}

/// Makes SQLite allocate through Rust's global allocator, so that an allocation-counting global
/// allocator (benchgate's alloc lane) sees SQLite's memory as it sees the Rust engines'.
///
/// Installs [`sqlite_malloc`]'s functions with `sqlite3_config(SQLITE_CONFIG_MALLOC)`, once per
/// process. SQLite accepts this only before it is initialised, i.e. before the first connection
/// of the process opens: call it before opening any (as [`Sqlite`] does).
///
/// # Panics
///
/// If SQLite refuses the configuration because a connection was opened first.
pub fn route_sqlite_malloc() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let methods = rusqlite::ffi::sqlite3_mem_methods {
            xMalloc: Some(sqlite_malloc::x_malloc),
            xFree: Some(sqlite_malloc::x_free),
            xRealloc: Some(sqlite_malloc::x_realloc),
            xSize: Some(sqlite_malloc::x_size),
            xRoundup: Some(sqlite_malloc::x_roundup),
            xInit: Some(sqlite_malloc::x_init),
            xShutdown: Some(sqlite_malloc::x_shutdown),
            pAppData: std::ptr::null_mut(),
        };
        // SAFETY: SQLITE_CONFIG_MALLOC takes one pointer to a `sqlite3_mem_methods`, which SQLite
        // copies before returning. The `Once` keeps this call from racing with itself; SQLite itself
        // rejects it (SQLITE_MISUSE) once initialised, so it cannot swap allocators under live memory.
        let rc = unsafe { rusqlite::ffi::sqlite3_config(rusqlite::ffi::SQLITE_CONFIG_MALLOC, &raw const methods) };
        assert_eq!(
            rc,
            rusqlite::ffi::SQLITE_OK,
            "sqlite3_config(SQLITE_CONFIG_MALLOC) failed: a connection was opened before route_sqlite_malloc"
        );
    });
}

/// SQLite's memory functions over Rust's global allocator ([`std::alloc`]).
///
/// Every block is a 16-byte header holding the requested size, then the memory SQLite gets: the
/// size is needed to rebuild the block's [`Layout`] on free and realloc, and to answer `xSize`.
/// Blocks are 16-byte aligned (SQLite needs 8).
mod sqlite_malloc {
    use std::alloc::Layout;
    use std::ffi::{c_int, c_void};

    /// Bytes before the memory handed to SQLite: the size, padded to the alignment.
    const HEADER: usize = 16;
    /// Alignment of every block.
    const ALIGN: usize = 16;

    /// Calls of [`x_malloc`] and [`x_realloc`], so that a unit test can see SQLite use them.
    #[cfg(test)]
    pub(super) static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

    /// The layout of a block serving `size` bytes, or `None` if it cannot exist.
    fn layout(size: usize) -> Option<Layout> {
        Layout::from_size_align(size.checked_add(HEADER)?, ALIGN).ok()
    }

    /// The requested size of `n` bytes, or `None` for zero, negative and impossible sizes.
    fn requested(n: c_int) -> Option<(usize, Layout)> {
        let size = usize::try_from(n).ok().filter(|&s| s > 0)?;
        Some((size, layout(size)?))
    }

    /// The start of the block behind `p` (a pointer [`x_malloc`] or [`x_realloc`] returned) and its
    /// requested size.
    ///
    /// # Safety
    ///
    /// `p` must be a live pointer returned by [`x_malloc`] or [`x_realloc`].
    unsafe fn block(p: *mut c_void) -> (*mut u8, usize) {
        // SAFETY: `p` is HEADER bytes into a block whose first bytes hold its size (caller's promise).
        unsafe {
            let base = p.cast::<u8>().sub(HEADER);
            (base, base.cast::<usize>().read())
        }
    }

    /// `xMalloc`: `n` bytes, or null when `n` is not positive or memory is exhausted.
    pub(super) unsafe extern "C" fn x_malloc(n: c_int) -> *mut c_void {
        #[cfg(test)]
        CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let Some((size, layout)) = requested(n) else { return std::ptr::null_mut() };
        // SAFETY: the layout's size is at least HEADER > 0.
        let base = unsafe { std::alloc::alloc(layout) };
        if base.is_null() {
            return std::ptr::null_mut();
        }
        // SAFETY: the block is at least HEADER bytes, aligned for usize.
        unsafe {
            base.cast::<usize>().write(size);
            base.add(HEADER).cast()
        }
    }

    /// `xFree`: releases a block (null is ignored).
    pub(super) unsafe extern "C" fn x_free(p: *mut c_void) {
        if p.is_null() {
            return;
        }
        // SAFETY: SQLite frees only what this allocator returned, once.
        unsafe {
            let (base, size) = block(p);
            let layout = layout(size).expect("the block was allocated with this layout");
            std::alloc::dealloc(base, layout);
        }
    }

    /// `xRealloc`: resizes a block, keeping its contents. SQLite never passes null or a
    /// non-positive size (its `sqlite3Realloc` turns those into malloc and free); they are handled
    /// the same way here anyway.
    pub(super) unsafe extern "C" fn x_realloc(p: *mut c_void, n: c_int) -> *mut c_void {
        if p.is_null() {
            // SAFETY: as x_malloc.
            return unsafe { x_malloc(n) };
        }
        #[cfg(test)]
        CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let Some((new_size, new_layout)) = requested(n) else {
            // SAFETY: `p` is a live block.
            unsafe { x_free(p) };
            return std::ptr::null_mut();
        };
        // SAFETY: `p` is a live block of this allocator (SQLite's promise); its layout is rebuilt
        // from its header, and the new size (with header) is non-zero and fits in isize.
        unsafe {
            let (base, size) = block(p);
            let old = layout(size).expect("the block was allocated with this layout");
            let new_base = std::alloc::realloc(base, old, new_layout.size());
            if new_base.is_null() {
                return std::ptr::null_mut();
            }
            new_base.cast::<usize>().write(new_size);
            new_base.add(HEADER).cast()
        }
    }

    /// `xSize`: the requested size of a block (0 for null).
    pub(super) unsafe extern "C" fn x_size(p: *mut c_void) -> c_int {
        if p.is_null() {
            return 0;
        }
        // SAFETY: `p` is a live block of this allocator.
        let (_, size) = unsafe { block(p) };
        c_int::try_from(size).expect("sizes come from a c_int")
    }

    /// `xRoundup`: the size SQLite should request for `n` bytes: `n` rounded up to a multiple of 8.
    pub(super) unsafe extern "C" fn x_roundup(n: c_int) -> c_int {
        n.saturating_add(7) & !7
    }

    /// `xInit`: nothing to set up.
    pub(super) unsafe extern "C" fn x_init(_: *mut c_void) -> c_int {
        rusqlite::ffi::SQLITE_OK
    }

    /// `xShutdown`: nothing to tear down.
    pub(super) unsafe extern "C" fn x_shutdown(_: *mut c_void) {}
}

/// Waits (up to `limit`) until every other thread of the process is blocked: for a store's
/// background threads to get past their start before a benchmark measures.
///
/// A thread spawned in setup may not run before the measured ops start, and its start is work of
/// the process: std copies a named thread's name on the new thread (one allocation of the name's
/// length; fjall's "monitor" thread showed up as one 7-byte allocation in an op on a loaded machine)
/// and the instr lane would count its instructions. A thread that is asleep (in fjall's case, the
/// monitor's 250 ms sleep and the workers' waits) has started. Reads `/proc/self/task`, so it waits
/// only on Linux; elsewhere, and once `limit` has passed, it returns without waiting.
pub fn settle_threads(limit: std::time::Duration) {
    let start = std::time::Instant::now();
    let Ok(own) = std::fs::read_link("/proc/thread-self") else { return };
    let Some(own) = own.file_name().map(|tid| tid.to_owned()) else { return };
    while start.elapsed() < limit {
        let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return };
        let running = tasks.flatten().filter(|task| task.file_name() != own).any(|task| {
            // `stat` is "tid (comm) state ...": the state follows the last ')' (comm may hold one).
            std::fs::read_to_string(task.path().join("stat"))
                .ok()
                .and_then(|stat| stat.rsplit_once(')').and_then(|(_, rest)| rest.trim_start().chars().next()))
                .is_some_and(|state| state == 'R')
        });
        if !running {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// Runs `f` without callgrind counting the calling thread's instructions: for setup and teardown
/// whose instruction count varies from run to run. Outside valgrind (and on architectures other
/// than x86_64 and aarch64) it just runs `f`.
///
/// benchgate's instr lane counts a whole process and takes the difference of two runs with
/// different iteration counts, so setup and teardown must cost the same in both. A fjall close is a
/// loop that sleeps until a background thread wakes, whose instruction count varies by more than a
/// point lookup costs (measured: ±100,000, against about 3,000 for a get); redb's commits iterate
/// hash sets seeded at random per process.
///
/// Calls nest: collection is switched off by the outermost call only (a toggle inside a toggle would
/// switch it back on).
pub fn uncounted_by_callgrind<R>(f: impl FnOnce() -> R) -> R {
    thread_local! {
        /// How many calls of this thread are running `f`.
        static DEPTH: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    }
    let outermost = DEPTH.with(|depth| {
        depth.set(depth.get() + 1);
        depth.get() == 1
    });
    if outermost {
        callgrind_toggle_collect();
    }
    let result = f();
    DEPTH.with(|depth| depth.set(depth.get() - 1));
    if outermost {
        callgrind_toggle_collect();
    }
    result
}

/// Valgrind's client request `CALLGRIND_TOGGLE_COLLECT` (callgrind.h): switches the collection of
/// events on or off for the calling thread. The request is valgrind's "special instruction
/// sequence": rotations that leave the register unchanged, then an exchange of a register with
/// itself, which does nothing when the program runs natively.
#[allow(unused_mut, unused_variables)]
fn callgrind_toggle_collect() {
    /// `VG_USERREQ_TOOL_BASE('C', 'T') + 2`.
    const TOGGLE_COLLECT: u64 = ((b'C' as u64) << 24 | (b'T' as u64) << 16) + 2;
    let args: [u64; 6] = [TOGGLE_COLLECT, 0, 0, 0, 0, 0];
    let mut result: u64 = 0;
    // SAFETY: valgrind.h's `VALGRIND_DO_CLIENT_REQUEST_EXPR` for the architecture: it reads the
    // six-word argument block and writes only the result register; the rotations restore their
    // register and touch only the flags. Natively it has no effect.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        std::arch::asm!(
            "rol rdi, 3", "rol rdi, 13", "rol rdi, 61", "rol rdi, 51",
            "xchg rbx, rbx",
            inout("rdx") result,
            in("rax") args.as_ptr(),
        );
    }
    #[cfg(target_arch = "aarch64")]
    unsafe {
        std::arch::asm!(
            "ror x12, x12, #3", "ror x12, x12, #13", "ror x12, x12, #51", "ror x12, x12, #61",
            "orr x10, x10, x10",
            inout("x3") result,
            in("x4") args.as_ptr(),
        );
    }
    std::hint::black_box(result);
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: u64 = 17;

    #[test]
    fn keys_sort_as_their_indices_and_misses_fall_between() {
        assert!(key(0) < missing_key(0) && missing_key(0) < key(1));
        assert!(key(255) < key(256) && key(9_999) < key(10_000));
        assert_eq!(key(0)[0], 0x01, "no long run of zero bytes");
    }

    #[test]
    fn scrambled_permutes_the_suite_sizes() {
        for n in [100, 1_000, 10_000] {
            let mut seen: Vec<u64> = (0..n).map(|c| scrambled(c, n)).collect();
            assert_ne!(seen[..10], (0..10).collect::<Vec<_>>()[..], "not sequential");
            seen.sort_unstable();
            assert_eq!(seen, (0..n).collect::<Vec<_>>(), "n = {n}");
        }
    }

    #[test]
    fn values_are_deterministic_json_of_80_to_120_bytes() {
        let mut total = 0;
        for index in 0..2_000 {
            let v = value(SEED, index);
            assert_eq!(v, value(SEED, index));
            assert!((VALUE_MIN..=VALUE_MAX).contains(&v.len()), "{}", v.len());
            let text = std::str::from_utf8(&v).expect("ASCII");
            let json: serde_json::Value = serde_json::from_str(text).expect(text);
            assert_eq!(json["id"], index);
            total += v.len();
        }
        let mean = total / 2_000;
        assert!((95..=105).contains(&mean), "mean value length {mean}");
        assert_ne!(value(SEED, 1), value(SEED + 1, 1));
    }

    /// Puts, batched puts, overwrites, gets (hits and misses) and scans return what was written,
    /// also after the store is closed and reopened.
    fn round_trip<S: Store>() {
        let dir = tempfile::tempdir().expect("temp dir");
        let n = 1_000;
        let records = records(SEED, n);
        {
            let mut store = S::open(dir.path());
            load(&mut store, &records, 300);
            store.put(&key(n), b"single");
            store.put(&key(5), b"replaced");
            let mut out = Vec::new();
            for index in [0, 1, 499, 998, 999] {
                assert!(store.get(&key(index), &mut out), "{}: get {index}", S::NAME);
                assert_eq!(out, value(SEED, index), "{}: get {index}", S::NAME);
            }
            assert!(store.get(&key(5), &mut out) && out == b"replaced", "{}: overwrite", S::NAME);
            assert!(store.get(&key(n), &mut out) && out == b"single", "{}: single put", S::NAME);
            for index in [0, 500, n] {
                assert!(!store.get(&missing_key(index), &mut out), "{}: miss {index}", S::NAME);
            }
            assert!(!store.get(&key(n + 1), &mut out));
            assert_eq!(out, b"single", "{}: a miss leaves `out` alone", S::NAME);

            let mut seen = Vec::new();
            let visited = store.scan(&missing_key(9), 100, &mut |k, v| seen.push((k.to_vec(), v.to_vec())));
            assert_eq!(visited, 100, "{}", S::NAME);
            let expected: Vec<_> = (10..110).map(|i| (key(i).to_vec(), value(SEED, i))).collect();
            assert_eq!(seen, expected, "{}: scan from between keys", S::NAME);
            assert_eq!(store.scan(&key(n - 2), 100, &mut |_, _| ()), 3, "{}: scan to the end", S::NAME);
        }
        let reopened = S::open(dir.path());
        let mut out = Vec::new();
        assert!(reopened.get(&key(5), &mut out) && out == b"replaced", "{}: reopened", S::NAME);
        assert!(reopened.get(&key(777), &mut out) && out == value(SEED, 777), "{}: reopened", S::NAME);
        drop(reopened);
        assert!(disk_usage(dir.path()).allocated > 0);
    }

    #[test]
    fn redb_returns_what_was_put() {
        round_trip::<Redb>();
    }

    #[test]
    fn fjall_returns_what_was_put() {
        round_trip::<Fjall>();
    }

    #[test]
    fn lmdb_returns_what_was_put() {
        round_trip::<Lmdb>();
    }

    #[test]
    fn sqlite_returns_what_was_put() {
        round_trip::<Sqlite>();
    }

    /// With the methods installed, SQLite allocates through them: a database in memory works
    /// (tables, indexes, sorting, large blobs that need realloc) and the methods were called.
    #[test]
    fn sqlite_allocates_through_the_rust_allocator() {
        route_sqlite_malloc();
        let calls_before = sqlite_malloc::CALLS.load(std::sync::atomic::Ordering::Relaxed);
        let conn = rusqlite::Connection::open_in_memory().expect("open");
        conn.execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, blob BLOB); CREATE INDEX by_name ON t (name);",
        )
        .expect("schema");
        for i in 0..2_000_i64 {
            conn.execute(
                "INSERT INTO t (id, name, blob) VALUES (?1, ?2, zeroblob(?1 % 5000))",
                (i, format!("n{}", i % 97)),
            )
            .expect("insert");
        }
        let (count, bytes): (i64, i64) = conn
            .query_row("SELECT count(*), sum(length(blob)) FROM t", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("sum");
        assert_eq!(count, 2_000);
        assert_eq!(bytes, (0..2_000_i64).map(|i| i % 5000).sum::<i64>());
        let names: Vec<String> = conn
            .prepare("SELECT DISTINCT name FROM t ORDER BY name DESC LIMIT 3")
            .expect("prepare")
            .query_map([], |r| r.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        assert_eq!(names, ["n96", "n95", "n94"]);
        let long: String = conn.query_row("SELECT group_concat(name, ',') FROM t", [], |r| r.get(0)).expect("concat");
        assert!(long.len() > 7_000);
        drop(conn);
        let calls = sqlite_malloc::CALLS.load(std::sync::atomic::Ordering::Relaxed) - calls_before;
        assert!(calls > 1_000, "only {calls} calls of the routed malloc");
        // SAFETY: plain reads of SQLite's memory statistics.
        let used = unsafe { rusqlite::ffi::sqlite3_memory_used() };
        assert!(used >= 0);
    }

    /// The memory functions keep sizes and contents across realloc and reject impossible sizes.
    #[test]
    fn sqlite_memory_functions_keep_sizes_and_contents() {
        use sqlite_malloc::*;
        use std::ffi::c_int;
        // SAFETY: every pointer is one these functions returned, used within its size, freed once.
        unsafe {
            assert!(x_malloc(0).is_null() && x_malloc(-8).is_null());
            assert_eq!(x_roundup(1), 8);
            assert_eq!(x_roundup(64), 64);
            assert_eq!(x_roundup(c_int::MAX) % 8, 0);
            let p = x_malloc(24);
            assert_eq!(p as usize % 16, 0, "aligned");
            assert_eq!(x_size(p), 24);
            std::ptr::write_bytes(p.cast::<u8>(), 0xAB, 24);
            let q = x_realloc(p, 4096);
            assert_eq!(x_size(q), 4096);
            assert!(std::slice::from_raw_parts(q.cast::<u8>(), 24).iter().all(|&b| b == 0xAB));
            let r = x_realloc(q, 8);
            assert_eq!(x_size(r), 8);
            assert_eq!(*r.cast::<u8>(), 0xAB);
            x_free(r);
            x_free(std::ptr::null_mut());
            assert_eq!(x_size(std::ptr::null_mut()), 0);
            assert_eq!(x_init(std::ptr::null_mut()), rusqlite::ffi::SQLITE_OK);
        }
    }

    /// Natively the client requests do nothing: the closure runs once and its result comes back,
    /// nested or not.
    #[test]
    fn uncounted_by_callgrind_runs_the_closure() {
        let mut runs = 0;
        assert_eq!(
            uncounted_by_callgrind(|| {
                runs += 1;
                42
            }),
            42
        );
        assert_eq!(uncounted_by_callgrind(|| uncounted_by_callgrind(|| 7)), 7);
        assert_eq!(runs, 1);
    }

    #[test]
    fn disk_usage_sums_files_recursively() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("a"), [1u8; 5_000]).expect("write");
        std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
        std::fs::write(dir.path().join("sub/b"), [2u8; 100]).expect("write");
        let sparse = std::fs::File::create(dir.path().join("sparse")).expect("create");
        sparse.set_len(1 << 20).expect("set_len");
        let usage = disk_usage(dir.path());
        assert_eq!(usage.apparent, 5_000 + 100 + (1 << 20));
        assert!(usage.allocated >= 5_000 + 100 && usage.allocated < 1 << 20, "{usage:?}");
    }

    /// A thread that has been spawned but has not yet run its first line is waited for: it is
    /// runnable until it blocks on the channel.
    #[cfg(target_os = "linux")]
    #[test]
    fn settle_threads_waits_for_a_spawned_thread_to_block() {
        use std::sync::atomic::{AtomicBool, Ordering};
        static STARTED: AtomicBool = AtomicBool::new(false);
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("settling".into())
            .spawn(move || {
                STARTED.store(true, Ordering::SeqCst);
                let _ = rx.recv();
            })
            .expect("spawn");
        // Other tests' threads may be running: the limit only bounds the wait.
        settle_threads(std::time::Duration::from_secs(20));
        assert!(STARTED.load(Ordering::SeqCst));
        drop(tx);
        thread.join().expect("join");
    }
}
