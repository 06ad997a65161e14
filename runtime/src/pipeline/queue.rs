//! [`LineQueue`]: the line drain's channel. A caller admits its record into
//! the channel's [`Room`] (one atomic compare-and-swap while there is room:
//! the overflow policy, the block timeout and stall detection are the
//! room's) and writes it into its own thread's buffer ([`Producers`]); the
//! writer thread waits for records ([`LineQueue::wait_for_records`]), reads
//! every buffer ([`LineQueue::read`]) and says when the records it read
//! leave the channel ([`LineQueue::taken`]). What the writer does with them
//! is in `writer.rs`.

use crate::pipeline::log_output::LogOutput;
use crate::pipeline::losses::LossCounters;
use crate::pipeline::producers::{Entry, Producers, Readers, Writing};
use crate::pipeline::room::{
    Admission, Channel, OutputState, Patience, Reservation, Room, RoomSignals, Waiter,
};
use crate::record::capture::Capture;
use crate::record::loss_report::{LossKind, ReportFormatter};
use crate::record::template::RecordTemplate;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::Waker;
use std::thread::Thread;
use std::time::{Duration, Instant};

/// While records keep coming, the writer looks for more this often instead
/// of being woken for each one: waking a thread is a system call, which
/// would cost the caller more than capturing its record. It is also the
/// longest a record waits before it is written.
const BATCH_INTERVAL: Duration = Duration::from_millis(1);

/// A read that found fewer records than this, while the channel is less
/// than half full, is followed by a pause of 50 µs, so that the next one
/// finds a batch: a writer that reads each record as soon as it is
/// published pulls the cache lines its caller is writing into, which slowed
/// the caller by a fifth and took a fifth more CPU in all (`caller/sink`
/// and `cpu/sink`, 2026-12-08: 540 against 432 ns, 876 against 623 ns).
const SMALL_READ: usize = 32;

/// After this long without a record, the writer sleeps until woken.
const IDLE_BEFORE_PARKING: Duration = Duration::from_millis(20);

/// The queue, shared by the callers, the writer thread and the guard.
#[derive(Clone)]
pub(crate) struct LineQueue {
    shared: Arc<QueueShared>,
}

struct QueueShared {
    /// Admission, capacity, patience, reservations, stall detection.
    room: Room,
    producers: Producers,
    /// The writer thread, once it runs: woken when a caller finds it
    /// waiting (its state is in the room's word, see [`Room::must_wake_writer`]).
    writer: OnceLock<Thread>,
    losses: Arc<LossCounters>,
    reports: ReportFormatter,
    /// Records the writer has taken and not yet written or lost.
    in_writer: AtomicUsize,
}

impl LineQueue {
    pub(crate) fn new(
        capacity: usize,
        patience: Patience,
        losses: Arc<LossCounters>,
        reports: ReportFormatter,
    ) -> Self {
        let room = Room::new(capacity, patience);
        LineQueue {
            shared: Arc::new(QueueShared {
                producers: Producers::new(room.signals.id()),
                room,
                writer: OnceLock::new(),
                losses,
                reports,
                in_writer: AtomicUsize::new(0),
            }),
        }
    }

    /// The handle on this queue for readiness probes and async callers.
    pub(crate) fn output(&self) -> LogOutput {
        LogOutput::new(
            Arc::clone(&self.shared) as Arc<dyn Channel>,
            Arc::clone(&self.shared.losses),
        )
    }

    /// Queues a finished line.
    pub(crate) fn push_line(&self, line: &[u8]) {
        self.push(|writing, number| writing.line(number, line));
    }

    /// Queues a captured record of `template`.
    #[inline]
    pub(crate) fn push_captured<F>(
        &self,
        template: &Arc<RecordTemplate>,
        capture: &Capture<'_, '_, F>,
    ) {
        self.push(|writing, number| {
            writing.captured(number, template, capture.len(), |out| capture.write(out));
        });
    }

    /// Queues one record with `write` (given the number its admission
    /// gave it), or drops and counts it when the channel has no room in
    /// time (at once in `drop` mode). The count is taken under the room's
    /// lock, before the channel can be seen closed, so the writer's last
    /// report covers every drop.
    #[inline]
    fn push(&self, write: impl FnOnce(&mut Writing, u32)) {
        let shared = &*self.shared;
        let (admission, counts) = shared.room.admit(
            || shared.wake_writer(),
            |lost| shared.losses.count_lost(lost),
        );
        if admission != Admission::Admitted {
            return;
        }
        shared
            .producers
            .append(|writing| write(writing, counts.number()));
        if shared.room.must_wake_writer(counts) {
            shared.unpark_writer();
        }
    }

    /// Lets the writer finish once it has written everything queued.
    pub(crate) fn close(&self) {
        self.shared.room.close();
        self.shared.wake_writer();
    }

    /// Waits until records are admitted or drops are to be reported, and
    /// says so; `false` once the queue is closed and every record admitted
    /// was read. `last_record` is when the writer last read records: after a
    /// while without any, it sleeps until a caller wakes it. Called by the
    /// writer thread only.
    pub(crate) fn wait_for_records(&self, last_record: Instant) -> bool {
        let shared = &*self.shared;
        shared.writer.get_or_init(std::thread::current);
        loop {
            if shared.room.records() > 0 || shared.losses.has_unreported(LossKind::Dropped) {
                return true;
            }
            if shared.room.is_closed() {
                return false;
            }
            // Said in the room's word: the next admission sees it.
            let park = last_record.elapsed() >= IDLE_BEFORE_PARKING;
            let admitted = shared.room.writer_waits(park);
            if shared.room.is_closed() {
                // Closed since: read the last records now.
            } else if park && admitted == 0 {
                std::thread::park();
            } else {
                std::thread::park_timeout(BATCH_INTERVAL);
            }
            shared.room.writer_runs();
        }
    }

    /// Hands `each` every record written into the threads' buffers since
    /// the last read, in the order they were logged, and says how many
    /// there were. A record admitted and not yet written (its caller is
    /// between the two), and every record logged after it, are read next
    /// time. After a read that found none, or fewer than [`SMALL_READ`]
    /// while the channel is less than half full, the writer pauses for
    /// 50 µs rather than spin. Called by the writer thread only.
    pub(crate) fn read(&self, readers: &mut Readers, each: &mut dyn FnMut(Entry<'_>)) -> usize {
        let shared = &*self.shared;
        let records = shared.producers.read(readers, each);
        let room = &shared.room;
        if records == 0 || (records < SMALL_READ && room.records() < room.capacity.div_ceil(2)) {
            std::thread::park_timeout(Duration::from_micros(50));
        }
        records
    }

    /// Says that the writer read `records` records: they leave the channel,
    /// and are counted as the writer's until [`Self::done_with`].
    pub(crate) fn taken(&self, records: usize) {
        if records > 0 {
            // Before they leave the room, so that they are always counted
            // somewhere.
            self.shared.in_writer.fetch_add(records, Ordering::AcqRel);
            self.shared.room.taken(records);
        }
    }

    /// Says that `records` the writer took were written or lost.
    pub(crate) fn done_with(&self, records: usize) {
        self.shared.in_writer.fetch_sub(records, Ordering::AcqRel);
    }

    /// Appends to `lines` the report of the drops counted so far, if there
    /// were any, and says whether it did.
    pub(crate) fn report_drops(&self, lines: &mut Vec<u8>) -> bool {
        let mut reported = false;
        let reports = &self.shared.reports;
        self.shared.losses.report(LossKind::Dropped, |report| {
            reports.format(lines, report);
            reported = true;
            true
        });
        reported
    }

    /// What was lost.
    pub(crate) fn losses(&self) -> &LossCounters {
        &self.shared.losses
    }

    /// The formatter of the reports that say what was lost.
    pub(crate) fn reports(&self) -> &ReportFormatter {
        &self.shared.reports
    }
}

impl QueueShared {
    /// Wakes the writer, however it waits.
    fn wake_writer(&self) {
        self.room.writer_runs();
        self.unpark_writer();
    }

    fn unpark_writer(&self) {
        if let Some(writer) = self.writer.get() {
            writer.unpark();
        }
    }
}

impl Channel for QueueShared {
    fn state(&self) -> OutputState {
        self.room.state()
    }

    fn try_reserve(&self, count: usize, waiter: &mut Waiter, waker: &Waker) -> Reservation {
        let reservation = self.room.try_reserve(count, waiter, waker);
        if matches!(reservation, Reservation::Wait) {
            // A writer that polls or sleeps takes the records now.
            self.wake_writer();
        }
        reservation
    }

    fn unreserve(&self, count: usize) {
        self.room.unreserve(count);
    }

    /// Records in the channel, and those the writer took and has not yet
    /// written (a stalled output holds them in its write).
    fn waiting(&self) -> usize {
        self.room.records() + self.in_writer.load(Ordering::Acquire)
    }

    fn signals(&self) -> &RoomSignals {
        &self.room.signals
    }
}
