//! The routines the queues suite measures: in-memory queues (std mpsc, crossbeam-channel, flume,
//! `crossbeam_queue::ArrayQueue`, `rtrb`) used from one thread and across two, and a persistent
//! queue kept in a redb table that is appended to, closed, reopened and read back.
//!
//! Every in-memory queue carries `u64` messages and is driven through the same two small traits,
//! [`SendHalf`] and [`RecvHalf`], implemented on each library's own sending and receiving types.
//! The channels block when they must wait (their own park and wake-up); the two lock-free rings
//! have no blocking operation, so waiting on them is a loop that tries again after
//! `std::thread::yield_now()`: that keeps a waiting thread from starving the other one on a busy
//! machine, and lets the instr lane finish (valgrind runs one thread at a time).
//!
//! These are benchmark routines, not a general API: a queue error means the suite itself is
//! broken, so the functions panic on one instead of returning it.

use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::thread::{self, JoinHandle};
use std::time::Instant;

use crossbeam_queue::ArrayQueue;
use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};

use crate::data::{self, SplitMix64};

/// The capacity of every bounded queue: large enough that a producer rarely waits on a consumer
/// that keeps up, small enough to bound the backlog (and so the queueing latency) when it does not.
pub const CAPACITY: usize = 1024;

/// An in-memory queue with its settings: each variant is one column of the suite's results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `std::sync::mpsc::channel`: unbounded; since Rust 1.67 a port of crossbeam-channel's list
    /// flavour (blocks of 31 slots, allocated as they fill).
    StdChannel,
    /// `std::sync::mpsc::sync_channel(CAPACITY)`: bounded; crossbeam-channel's array flavour.
    StdSyncChannel,
    /// `crossbeam_channel::unbounded`: a linked list of 31-slot blocks.
    CrossbeamUnbounded,
    /// `crossbeam_channel::bounded(CAPACITY)`: a fixed ring of slots.
    CrossbeamBounded,
    /// `flume::unbounded`: a `VecDeque` behind a spin lock.
    FlumeUnbounded,
    /// `flume::bounded(CAPACITY)`: the same, with a queue of waiting senders when full.
    FlumeBounded,
    /// `crossbeam_queue::ArrayQueue` with `CAPACITY` slots, shared through an `Arc`: a lock-free
    /// bounded MPMC ring with no blocking, waited on by yielding.
    ArrayQueue,
    /// `rtrb::RingBuffer` with `CAPACITY` slots: a wait-free single-producer single-consumer ring
    /// split into a `Producer` and a `Consumer`, waited on by yielding.
    Rtrb,
}

impl Kind {
    /// Every queue, in the order results are listed.
    pub const ALL: [Kind; 8] = [
        Kind::StdChannel,
        Kind::StdSyncChannel,
        Kind::CrossbeamUnbounded,
        Kind::CrossbeamBounded,
        Kind::FlumeUnbounded,
        Kind::FlumeBounded,
        Kind::ArrayQueue,
        Kind::Rtrb,
    ];

    /// The stable short name used in benchmark ids (`crossbeam-bounded`). Changing one orphans the
    /// recorded baselines of that queue.
    pub const fn name(self) -> &'static str {
        match self {
            Kind::StdChannel => "std-channel",
            Kind::StdSyncChannel => "std-sync-channel",
            Kind::CrossbeamUnbounded => "crossbeam-unbounded",
            Kind::CrossbeamBounded => "crossbeam-bounded",
            Kind::FlumeUnbounded => "flume-unbounded",
            Kind::FlumeBounded => "flume-bounded",
            Kind::ArrayQueue => "array-queue",
            Kind::Rtrb => "rtrb",
        }
    }

    /// Whether the queue holds at most [`CAPACITY`] messages (a sender waits when it is full).
    pub const fn is_bounded(self) -> bool {
        !matches!(self, Kind::StdChannel | Kind::CrossbeamUnbounded | Kind::FlumeUnbounded)
    }

    /// Whether the queue stores its messages in linked blocks of [`LIST_BLOCK_SLOTS`] slots,
    /// allocating one block per that many messages (std's channel and crossbeam's unbounded
    /// channel, which share the implementation).
    pub const fn is_list(self) -> bool {
        matches!(self, Kind::StdChannel | Kind::CrossbeamUnbounded)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Messages per block of the list-based channels (`BLOCK_CAP` in crossbeam-channel's `list.rs`
/// and std's `mpmc/list.rs`). The block for messages `31k..31k+31` is allocated by the send of
/// message `31k - 1` (the last slot of the previous block), and freed by the receiver once it has
/// read the block's last message.
pub const LIST_BLOCK_SLOTS: u64 = 31;

/// The receiving half is gone: a send can never be received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Disconnected;

/// The sending half of a queue of `u64`.
pub trait SendHalf: Send + 'static {
    /// Enqueues `value`, waiting while a bounded queue is full; fails once the receiving half is
    /// gone (for the rings: when the queue is full and the receiving half is gone).
    fn send(&mut self, value: u64) -> Result<(), Disconnected>;
}

/// The receiving half of a queue of `u64`.
pub trait RecvHalf: Send + 'static {
    /// Dequeues the oldest message, waiting while the queue is empty; `None` once the queue is
    /// empty and the sending half is gone.
    fn recv(&mut self) -> Option<u64>;
}

impl SendHalf for mpsc::Sender<u64> {
    #[inline]
    fn send(&mut self, value: u64) -> Result<(), Disconnected> {
        mpsc::Sender::send(self, value).map_err(|_| Disconnected)
    }
}

impl SendHalf for mpsc::SyncSender<u64> {
    #[inline]
    fn send(&mut self, value: u64) -> Result<(), Disconnected> {
        mpsc::SyncSender::send(self, value).map_err(|_| Disconnected)
    }
}

impl RecvHalf for mpsc::Receiver<u64> {
    #[inline]
    fn recv(&mut self) -> Option<u64> {
        mpsc::Receiver::recv(self).ok()
    }
}

impl SendHalf for crossbeam_channel::Sender<u64> {
    #[inline]
    fn send(&mut self, value: u64) -> Result<(), Disconnected> {
        crossbeam_channel::Sender::send(self, value).map_err(|_| Disconnected)
    }
}

impl RecvHalf for crossbeam_channel::Receiver<u64> {
    #[inline]
    fn recv(&mut self) -> Option<u64> {
        crossbeam_channel::Receiver::recv(self).ok()
    }
}

impl SendHalf for flume::Sender<u64> {
    #[inline]
    fn send(&mut self, value: u64) -> Result<(), Disconnected> {
        flume::Sender::send(self, value).map_err(|_| Disconnected)
    }
}

impl RecvHalf for flume::Receiver<u64> {
    #[inline]
    fn recv(&mut self) -> Option<u64> {
        flume::Receiver::recv(self).ok()
    }
}

/// One end of an [`ArrayQueue`] shared by the two threads; the other end is gone when this `Arc`
/// is the last one.
#[derive(Debug)]
pub struct ArrayEnd(Arc<ArrayQueue<u64>>);

impl ArrayEnd {
    /// True when the other end has been dropped. The acquire fence pairs with the release of the
    /// other end's `Arc` decrement, so everything it pushed before dropping is visible after this.
    fn other_end_gone(&self) -> bool {
        let gone = Arc::strong_count(&self.0) == 1;
        if gone {
            std::sync::atomic::fence(Ordering::Acquire);
        }
        gone
    }
}

impl SendHalf for ArrayEnd {
    #[inline]
    fn send(&mut self, mut value: u64) -> Result<(), Disconnected> {
        loop {
            match self.0.push(value) {
                Ok(()) => return Ok(()),
                Err(back) => value = back,
            }
            if self.other_end_gone() {
                return Err(Disconnected);
            }
            thread::yield_now();
        }
    }
}

impl RecvHalf for ArrayEnd {
    #[inline]
    fn recv(&mut self) -> Option<u64> {
        loop {
            if let Some(value) = self.0.pop() {
                return Some(value);
            }
            if self.other_end_gone() {
                // The producer may have pushed its last message between the pop and the check.
                return self.0.pop();
            }
            thread::yield_now();
        }
    }
}

impl SendHalf for rtrb::Producer<u64> {
    #[inline]
    fn send(&mut self, mut value: u64) -> Result<(), Disconnected> {
        loop {
            match self.push(value) {
                Ok(()) => return Ok(()),
                Err(rtrb::PushError::Full(back)) => value = back,
            }
            if self.is_abandoned() {
                return Err(Disconnected);
            }
            thread::yield_now();
        }
    }
}

impl RecvHalf for rtrb::Consumer<u64> {
    #[inline]
    fn recv(&mut self) -> Option<u64> {
        loop {
            if let Ok(value) = self.pop() {
                return Some(value);
            }
            // `is_abandoned` loads with acquire ordering: a last push before the drop is visible.
            if self.is_abandoned() {
                return self.pop().ok();
            }
            thread::yield_now();
        }
    }
}

/// Code generic over a queue's two halves, handed the halves of a new queue by [`open`]: the way
/// to get monomorphized code (no dynamic dispatch per message) for each [`Kind`].
pub trait WithQueue {
    /// What the code returns.
    type Output;
    /// Runs with the two halves of a new, empty queue.
    fn run<S: SendHalf, R: RecvHalf>(self, tx: S, rx: R) -> Self::Output;
}

/// Creates an empty queue of `kind` (bounded ones with [`CAPACITY`] slots) and runs `code` on its
/// halves.
pub fn open<W: WithQueue>(kind: Kind, code: W) -> W::Output {
    match kind {
        Kind::StdChannel => {
            let (tx, rx) = mpsc::channel();
            code.run(tx, rx)
        }
        Kind::StdSyncChannel => {
            let (tx, rx) = mpsc::sync_channel(CAPACITY);
            code.run(tx, rx)
        }
        Kind::CrossbeamUnbounded => {
            let (tx, rx) = crossbeam_channel::unbounded();
            code.run(tx, rx)
        }
        Kind::CrossbeamBounded => {
            let (tx, rx) = crossbeam_channel::bounded(CAPACITY);
            code.run(tx, rx)
        }
        Kind::FlumeUnbounded => {
            let (tx, rx) = flume::unbounded();
            code.run(tx, rx)
        }
        Kind::FlumeBounded => {
            let (tx, rx) = flume::bounded(CAPACITY);
            code.run(tx, rx)
        }
        Kind::ArrayQueue => {
            let queue = Arc::new(ArrayQueue::new(CAPACITY));
            code.run(ArrayEnd(Arc::clone(&queue)), ArrayEnd(queue))
        }
        Kind::Rtrb => {
            let (tx, rx) = rtrb::RingBuffer::new(CAPACITY);
            code.run(tx, rx)
        }
    }
}

/// One single-threaded op: sends `value` and receives it back (the queue is empty before and
/// after, so a blocking send or receive never waits).
///
/// # Panics
///
/// If the queue loses or changes the message.
#[inline]
pub fn push_pop<S: SendHalf, R: RecvHalf>(tx: &mut S, rx: &mut R, value: u64) -> u64 {
    tx.send(value).expect("the receiving half is alive");
    let received = rx.recv().expect("the sending half is alive");
    assert_eq!(received, value, "the queue changed a message");
    received
}

/// What the producer thread of a [`Pipe`] sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload {
    /// The message's index in its batch, `0..batch`: the receiver checks order and completeness.
    Sequence,
    /// Nanoseconds since the pipe's base instant, taken just before the send: the receiver
    /// subtracts it from its own clock reading to get the enqueue-to-dequeue latency.
    Timestamp,
}

/// A queue between a persistent producer thread and the calling thread: each [`Pipe::transfer`]
/// releases the producer for one batch of messages and receives all of them.
///
/// The producer thread lives as long as the pipe, so that an op pays for moving messages, not for
/// spawning and joining a thread (tens of microseconds, and allocations the alloc lane would
/// charge to the queue). Between batches it waits on a `std::sync::Barrier` (a mutex and a
/// condition variable: it sleeps, and waking it allocates nothing); every batch therefore starts
/// with one wake-up of the producer, part of each op's time. The producer sends as fast as the
/// queue accepts: it is not paced, so messages queue up whenever it outruns the receiver, up to
/// [`CAPACITY`] in a bounded queue and up to a whole batch in an unbounded one.
///
/// Dropping the pipe stops and joins the producer, also when the receiver panicked mid-batch.
pub struct Pipe<R: RecvHalf> {
    rx: Option<R>,
    batch: u64,
    payload: Payload,
    base: Instant,
    go: Arc<Barrier>,
    stop: Arc<AtomicBool>,
    producer: Option<JoinHandle<()>>,
}

impl<R: RecvHalf> fmt::Debug for Pipe<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipe").field("batch", &self.batch).field("payload", &self.payload).finish_non_exhaustive()
    }
}

impl<R: RecvHalf> Pipe<R> {
    /// Starts the producer thread on `tx`; the calling thread receives from `rx`, `batch`
    /// messages per transfer.
    pub fn spawn<S: SendHalf>(tx: S, rx: R, batch: u64, payload: Payload) -> Pipe<R> {
        let go = Arc::new(Barrier::new(2));
        let stop = Arc::new(AtomicBool::new(false));
        let base = Instant::now();
        let producer = {
            let (go, stop) = (Arc::clone(&go), Arc::clone(&stop));
            thread::Builder::new()
                .name("queues-producer".to_owned())
                .spawn(move || produce(tx, &go, &stop, batch, payload, base))
                .expect("spawning the producer thread")
        };
        Pipe { rx: Some(rx), batch, payload, base, go, stop, producer: Some(producer) }
    }

    /// One op of the throughput benchmarks: moves one batch of [`Payload::Sequence`] messages
    /// from the producer thread to this one, and checks that they arrived complete and in order.
    ///
    /// # Panics
    ///
    /// If the pipe carries timestamps, or a message is missing or out of order.
    pub fn transfer(&mut self) {
        assert_eq!(self.payload, Payload::Sequence, "transfer needs a sequence pipe");
        let rx = self.rx.as_mut().expect("the receiving half lives until drop");
        self.go.wait();
        for expected in 0..self.batch {
            let value = rx.recv().expect("the producer thread exited mid-batch");
            assert_eq!(value, expected, "message lost or reordered");
        }
    }

    /// One op of the latency benchmarks: moves one batch of [`Payload::Timestamp`] messages and
    /// calls `record` with each message's enqueue-to-dequeue latency in nanoseconds (the clock is
    /// read right after the receive returns).
    ///
    /// # Panics
    ///
    /// If the pipe carries sequence numbers, or the producer thread exits mid-batch.
    pub fn transfer_timed(&mut self, mut record: impl FnMut(u64)) {
        assert_eq!(self.payload, Payload::Timestamp, "transfer_timed needs a timestamp pipe");
        let rx = self.rx.as_mut().expect("the receiving half lives until drop");
        self.go.wait();
        for _ in 0..self.batch {
            let stamp = rx.recv().expect("the producer thread exited mid-batch");
            record(nanos_since(self.base).saturating_sub(stamp));
        }
    }
}

impl<R: RecvHalf> Drop for Pipe<R> {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // A producer waiting on a full queue sees the disconnection and ends its batch.
        drop(self.rx.take());
        let Some(producer) = self.producer.take() else { return };
        // The producer only exits after this barrier, unless it panicked: then nobody would come.
        if !producer.is_finished() {
            self.go.wait();
        }
        if producer.join().is_err() && !thread::panicking() {
            panic!("the producer thread panicked");
        }
    }
}

/// The producer thread of a [`Pipe`]: one batch per release, until stopped.
fn produce<S: SendHalf>(mut tx: S, go: &Barrier, stop: &AtomicBool, batch: u64, payload: Payload, base: Instant) {
    loop {
        go.wait();
        if stop.load(Ordering::Acquire) {
            return;
        }
        // An error means the receiver is gone (the pipe is being dropped): the batch ends, and the
        // next barrier brings the stop.
        let _ = match payload {
            Payload::Sequence => (0..batch).try_for_each(|i| tx.send(i)),
            Payload::Timestamp => (0..batch).try_for_each(|_| tx.send(nanos_since(base))),
        };
    }
}

/// Nanoseconds from `base` to now, on the monotonic clock.
#[inline]
fn nanos_since(base: Instant) -> u64 {
    u64::try_from(base.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// The redb table of the persistent queue: sequence number to record bytes.
const QUEUE_TABLE: TableDefinition<u64, &[u8]> = TableDefinition::new("queue");

/// Records appended per write transaction: producers hand a persistent queue records in batches,
/// and each batch is one durable commit.
pub const APPEND_BATCH: usize = 1000;

/// Shortest and longest record, in bytes (about 100 on average).
const RECORD_LEN: (u64, u64) = (80, 121);

/// `n` records of 80 to 120 bytes (100 on average): the first bytes of successive JSON log lines
/// of [`data::json_logs`], each cut to a length drawn from `seed`.
pub fn records(seed: u64, n: usize) -> Vec<Vec<u8>> {
    let mut rng = SplitMix64::new(seed);
    // Log lines are longer than RECORD_LEN.1; a line per record with room to spare.
    let logs = data::json_logs(seed, n * 400 + 4096);
    let records: Vec<Vec<u8>> = logs
        .split(|&byte| byte == b'\n')
        .take(n)
        .map(|line| {
            let len = rng.range(RECORD_LEN.0, RECORD_LEN.1) as usize;
            line[..len.min(line.len())].to_vec()
        })
        .collect();
    assert_eq!(records.len(), n, "not enough log lines for {n} records");
    records
}

/// Creates a redb database at `path` (which must not exist) and appends `records` with sequence
/// numbers `0..`, [`APPEND_BATCH`] records per write transaction, each committed with
/// `Durability::Immediate` (redb's default: the commit returns after `fsync`). The database is
/// closed (dropped) on return.
///
/// # Panics
///
/// On any redb or I/O error.
pub fn append(path: &Path, records: &[Vec<u8>]) {
    let db = Database::create(path).expect("creating the redb file");
    for (batch_index, batch) in records.chunks(APPEND_BATCH).enumerate() {
        let mut txn = db.begin_write().expect("beginning a write transaction");
        txn.set_durability(Durability::Immediate).expect("no persistent savepoints exist");
        {
            let mut table = txn.open_table(QUEUE_TABLE).expect("opening the queue table");
            let first = (batch_index * APPEND_BATCH) as u64;
            for (seq, record) in (first..).zip(batch) {
                table.insert(seq, record.as_slice()).expect("inserting a record");
            }
        }
        txn.commit().expect("committing an append batch");
    }
}

/// Reopens the database at `path` and calls `visit` with every record, in sequence order.
/// Returns how many there were.
///
/// # Panics
///
/// On any redb or I/O error, or if the file has no queue table.
pub fn recover(path: &Path, mut visit: impl FnMut(u64, &[u8])) -> usize {
    let db = Database::open(path).expect("reopening the redb file");
    let txn = db.begin_read().expect("beginning a read transaction");
    let table = txn.open_table(QUEUE_TABLE).expect("opening the queue table");
    let mut count = 0;
    for entry in table.iter().expect("iterating the queue table") {
        let (seq, record) = entry.expect("reading a record");
        visit(seq.value(), record.value());
        count += 1;
    }
    count
}

/// One op of the persistent-queue benchmark: appends `records` to a new database at `path`
/// ([`append`]), closes it, reopens it and reads every record back ([`recover`]), checking that
/// each came back with its sequence number and bytes, in order. Returns the records recovered.
///
/// # Panics
///
/// On any redb or I/O error, or if a record is missing, extra, reordered or changed.
pub fn append_recover(path: &Path, records: &[Vec<u8>]) -> usize {
    append(path, records);
    let mut expected = records.iter().zip(0u64..);
    let recovered = recover(path, |seq, record| {
        let (want, want_seq) = expected.next().expect("more records recovered than appended");
        assert_eq!(seq, want_seq, "record recovered out of order");
        assert_eq!(record, want.as_slice(), "record {seq} changed");
    });
    assert_eq!(recovered, records.len(), "records lost");
    recovered
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `push_pop` on a fresh queue: messages come back unchanged, one after another.
    struct PushPopAll;

    impl WithQueue for PushPopAll {
        type Output = ();
        fn run<S: SendHalf, R: RecvHalf>(self, mut tx: S, mut rx: R) {
            for value in [0, 1, u64::MAX, 42] {
                assert_eq!(push_pop(&mut tx, &mut rx, value), value);
            }
            // More messages than a bounded queue holds, one at a time: the queue never fills.
            for value in 0..3 * CAPACITY as u64 {
                assert_eq!(push_pop(&mut tx, &mut rx, value), value);
            }
        }
    }

    #[test]
    fn push_pop_returns_each_message() {
        for kind in Kind::ALL {
            open(kind, PushPopAll);
        }
    }

    /// Fills the queue, then checks FIFO order and, for bounded queues, the capacity.
    struct FifoAndCapacity(Kind);

    impl WithQueue for FifoAndCapacity {
        type Output = ();
        fn run<S: SendHalf, R: RecvHalf>(self, mut tx: S, mut rx: R) {
            let n = CAPACITY as u64;
            for value in 0..n {
                tx.send(value).unwrap();
            }
            for value in 0..n {
                assert_eq!(rx.recv(), Some(value), "{}", self.0);
            }
            drop(tx);
            assert_eq!(rx.recv(), None, "{}: an empty queue without a sender is disconnected", self.0);
        }
    }

    #[test]
    fn queues_are_fifo_and_report_disconnection() {
        for kind in Kind::ALL {
            open(kind, FifoAndCapacity(kind));
        }
    }

    /// A sender on a full queue whose receiver is gone fails instead of waiting for ever.
    struct SendToGoneReceiver(Kind);

    impl WithQueue for SendToGoneReceiver {
        type Output = ();
        fn run<S: SendHalf, R: RecvHalf>(self, mut tx: S, rx: R) {
            drop(rx);
            let mut sent = 0;
            while tx.send(sent).is_ok() {
                sent += 1;
                assert!(sent <= CAPACITY as u64, "{}: sends kept succeeding", self.0);
            }
            let expected_ok = if self.0 == Kind::ArrayQueue || self.0 == Kind::Rtrb { CAPACITY as u64 } else { 0 };
            assert_eq!(sent, expected_ok, "{}", self.0);
        }
    }

    #[test]
    fn send_fails_once_the_receiver_is_gone() {
        for kind in Kind::ALL {
            open(kind, SendToGoneReceiver(kind));
        }
    }

    /// Transfers batches across threads; with `timed`, checks the latencies instead of the order.
    struct Transfers {
        batch: u64,
        timed: bool,
    }

    impl WithQueue for Transfers {
        type Output = Vec<u64>;
        fn run<S: SendHalf, R: RecvHalf>(self, tx: S, rx: R) -> Vec<u64> {
            let payload = if self.timed { Payload::Timestamp } else { Payload::Sequence };
            let mut pipe = Pipe::spawn(tx, rx, self.batch, payload);
            let mut latencies = Vec::new();
            for _ in 0..3 {
                if self.timed {
                    pipe.transfer_timed(|ns| latencies.push(ns));
                } else {
                    pipe.transfer();
                }
            }
            latencies
        }
    }

    #[test]
    fn pipes_move_whole_batches_in_order() {
        for kind in Kind::ALL {
            // Larger than CAPACITY: the producer waits on a full bounded queue.
            open(kind, Transfers { batch: 5000, timed: false });
        }
    }

    #[test]
    fn timed_pipes_record_one_plausible_latency_per_message() {
        let started = Instant::now();
        for kind in Kind::ALL {
            let latencies = open(kind, Transfers { batch: 2000, timed: true });
            assert_eq!(latencies.len(), 3 * 2000, "{kind}");
            let bound = u64::try_from(started.elapsed().as_nanos()).unwrap();
            assert!(latencies.iter().all(|&ns| ns <= bound), "{kind}: latency beyond the test's duration");
            assert!(latencies.iter().any(|&ns| ns > 0), "{kind}: the clock never moved");
        }
    }

    /// A pipe dropped while its producer is blocked on a full queue (the receiver stopped
    /// mid-batch) still stops and joins it.
    struct AbandonedBatch;

    impl WithQueue for AbandonedBatch {
        type Output = ();
        fn run<S: SendHalf, R: RecvHalf>(self, tx: S, rx: R) {
            let pipe = Pipe::spawn(tx, rx, 10 * CAPACITY as u64, Payload::Sequence);
            pipe.go.wait();
            // Let the producer fill the queue and block.
            thread::sleep(std::time::Duration::from_millis(20));
            drop(pipe);
        }
    }

    #[test]
    fn dropping_a_pipe_mid_batch_joins_the_producer() {
        for kind in Kind::ALL.into_iter().filter(|kind| kind.is_bounded()) {
            open(kind, AbandonedBatch);
        }
    }

    #[test]
    fn records_are_deterministic_log_prefixes_of_about_100_bytes() {
        let a = records(7, 1000);
        assert_eq!(a, records(7, 1000));
        assert_ne!(a, records(8, 1000));
        assert!(a.iter().all(|r| (80..=120).contains(&r.len()) && r.starts_with(b"{\"ts\":\"")));
        let mean = a.iter().map(Vec::len).sum::<usize>() / a.len();
        assert!((95..=105).contains(&mean), "mean record length {mean}");
    }

    #[test]
    fn recovery_returns_every_record_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("queue.redb");
        // Not a multiple of APPEND_BATCH: the last transaction is a partial batch.
        let appended = records(3, 2 * APPEND_BATCH + 17);
        append(&path, &appended);
        let mut recovered = Vec::new();
        let count = recover(&path, |seq, record| recovered.push((seq, record.to_vec())));
        assert_eq!(count, appended.len());
        let expected: Vec<(u64, Vec<u8>)> = (0..).zip(appended.iter().cloned()).collect();
        assert_eq!(recovered, expected);
    }

    #[test]
    fn append_recover_counts_every_record() {
        let dir = tempfile::tempdir().unwrap();
        let appended = records(5, 250);
        assert_eq!(append_recover(&dir.path().join("queue.redb"), &appended), 250);
    }

    /// `append_recover` checks what it reads: a file that already held more records (redb's
    /// `create` opens an existing database) recovers more than was appended, and fails.
    #[test]
    #[should_panic(expected = "more records recovered than appended")]
    fn append_recover_detects_extra_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("queue.redb");
        append(&path, &records(5, 12));
        append_recover(&path, &records(6, 10));
    }

    /// The same for records that differ from those appended: overwrite the file's records with
    /// others of the same sequence numbers, then check against the first ones.
    #[test]
    #[should_panic(expected = "changed")]
    fn recovery_check_detects_a_changed_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("queue.redb");
        let appended = records(5, 10);
        let mut other = appended.clone();
        other[4][0] ^= 1;
        append(&path, &other);
        let mut expected = appended.iter();
        recover(&path, |seq, record| assert_eq!(record, expected.next().unwrap().as_slice(), "record {seq} changed"));
    }
}
