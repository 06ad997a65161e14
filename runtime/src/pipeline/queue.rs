//! [`LineQueue`]: the line drain's channel. Entries (finished lines and
//! captured records, see [`Entries`]) wait under one short lock, at most
//! `capacity` records, until the writer thread takes them all at once
//! ([`LineQueue::take_batch`]). Admission, the overflow policy and the
//! drop reports are here; what the writer does with a batch is in
//! `writer.rs`. Nothing is allocated once the buffers have grown to their
//! working size.

use crate::pipeline::entries::Entries;
use crate::pipeline::log_output::LogOutput;
use crate::pipeline::losses::LossCounters;
use crate::pipeline::room::{
    Admission, Channel, Occupancy, OutputState, Patience, Reservation, Room, RoomLock, RoomSignals,
    Waiter,
};
use crate::record::capture::Capture;
use crate::record::loss_report::LossKind;
use crate::record::loss_report::ReportFormatter;
use crate::record::template::RecordTemplate;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::Waker;
use std::time::{Duration, Instant};

/// While records keep coming, the writer looks for more this often instead
/// of being woken for each one: waking a thread is a system call, which
/// would cost the caller more than capturing its record. It is also the
/// longest a record waits before it is written.
const BATCH_INTERVAL: Duration = Duration::from_millis(1);

/// After this long without a record, the writer sleeps until woken.
const IDLE_BEFORE_PARKING: Duration = Duration::from_millis(20);

/// The queue, shared by the callers, the writer thread and the guard.
#[derive(Clone)]
pub(crate) struct LineQueue {
    shared: Arc<QueueShared>,
}

struct QueueShared {
    pending: Mutex<Pending>,
    not_empty: Condvar,
    not_full: Condvar,
    /// The channel's capacity, patience and signals.
    room: Room,
    losses: Arc<LossCounters>,
    reports: ReportFormatter,
    /// Records the writer has taken and not yet written or lost.
    in_writer: AtomicUsize,
}

struct Pending {
    entries: Entries,
    /// Records in `entries`, and slots reserved by async callers.
    occupancy: Occupancy,
    closed: bool,
    /// The writer waits on `not_empty`, with a timeout.
    writer_waiting: bool,
    /// The writer waits on `not_empty` with no timeout: it must be woken.
    writer_parked: bool,
}

impl Pending {
    /// Whether a caller that just queued a record must wake the writer: it
    /// sleeps for good, or the queue is half full.
    fn writer_needs_waking(&self, capacity: usize) -> bool {
        self.writer_waiting
            && (self.writer_parked || self.occupancy.records >= capacity.div_ceil(2))
    }
}

impl LineQueue {
    pub(crate) fn new(
        capacity: usize,
        patience: Patience,
        losses: Arc<LossCounters>,
        reports: ReportFormatter,
    ) -> Self {
        let pending = Pending {
            entries: Entries::default(),
            occupancy: Occupancy::default(),
            closed: false,
            writer_waiting: false,
            writer_parked: false,
        };
        LineQueue {
            shared: Arc::new(QueueShared {
                pending: Mutex::new(pending),
                not_empty: Condvar::new(),
                not_full: Condvar::new(),
                room: Room::new(capacity, patience),
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

    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.shared
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a finished line.
    pub(crate) fn push_line(&self, line: &[u8]) {
        self.push(|entries| entries.push_line(line));
    }

    /// Queues a captured record of `template`.
    pub(crate) fn push_captured<F>(
        &self,
        template: &Arc<RecordTemplate>,
        capture: &Capture<'_, '_, F>,
    ) {
        self.push(|entries| {
            entries.push_captured(template, capture.len(), |out| capture.write(out))
        });
    }

    /// Queues one record with `append` (or drops and counts it when the
    /// queue is full in `drop` mode). A pending drop count is reported
    /// first, in the same critical section, so written records plus
    /// reported drops add up exactly.
    fn push(&self, append: impl FnOnce(&mut Entries)) {
        let shared = &self.shared;
        let pending = self.lock();
        let (mut pending, admission) = shared.room.admit(pending, &shared.not_full, |pending| {
            if pending.writer_waiting {
                shared.not_empty.notify_one();
            }
        });
        match admission {
            Admission::Admitted => {}
            // Counted under the lock, so the report appended by the next
            // push (under the lock too) covers it exactly.
            Admission::Dropped => return shared.losses.count_dropped(),
            Admission::Closed => return shared.losses.count_after_shutdown(),
        }
        self.append_drop_report(&mut pending);
        append(&mut pending.entries);
        let wake_writer = pending.writer_needs_waking(shared.room.capacity);
        if wake_writer {
            pending.writer_parked = false;
        }
        drop(pending);
        if wake_writer {
            shared.not_empty.notify_one();
        }
    }

    /// Appends the report of the drops counted so far; called under the
    /// lock that every drop is counted under.
    fn append_drop_report(&self, pending: &mut Pending) {
        self.shared.losses.report(LossKind::Dropped, |report| {
            let reports = &self.shared.reports;
            pending
                .entries
                .push_line_with(|out| reports.format(out, report));
            pending.occupancy.records += 1;
            true
        });
    }

    /// Reports the last drops, and lets the writer finish once it has
    /// written everything queued.
    pub(crate) fn close(&self) {
        let mut pending = self.lock();
        self.append_drop_report(&mut pending);
        pending.closed = true;
        drop(pending);
        self.shared.not_empty.notify_all();
        self.shared.not_full.notify_all();
        // Async callers waiting for room go on, and are counted as late.
        self.shared.room.signals.wake_waiters();
    }

    /// Waits until records are queued or the queue is closed, and swaps
    /// them all into `batch` (which must be empty). Returns how many
    /// records it took, or `None` once the queue is closed and empty.
    /// `last_record` is when the writer last took records: after a while
    /// without any, it sleeps until a caller wakes it.
    pub(crate) fn take_batch(&self, batch: &mut Entries, last_record: Instant) -> Option<usize> {
        let shared = &self.shared;
        let (records, callers_to_wake) = {
            let mut pending = self.lock();
            while pending.occupancy.records == 0 && !pending.closed {
                let park = last_record.elapsed() >= IDLE_BEFORE_PARKING;
                pending.writer_waiting = true;
                pending.writer_parked = park;
                pending = if park {
                    shared
                        .not_empty
                        .wait(pending)
                        .unwrap_or_else(PoisonError::into_inner)
                } else {
                    shared
                        .not_empty
                        .wait_timeout(pending, BATCH_INTERVAL)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                };
                pending.writer_waiting = false;
                pending.writer_parked = false;
            }
            if pending.occupancy.records == 0 {
                return None;
            }
            std::mem::swap(batch, &mut pending.entries);
            let records = pending.occupancy.records;
            pending.occupancy.records = 0;
            shared.room.signals.relieved();
            // Under the lock, so that the records are always counted somewhere.
            shared.in_writer.fetch_add(records, Ordering::AcqRel);
            // There is room now: report drops without waiting for the
            // next record to arrive.
            self.append_drop_report(&mut pending);
            (records, pending.occupancy.blocked_callers)
        };
        shared.room.signals.wake_waiters();
        if callers_to_wake > 0 {
            shared.not_full.notify_all();
        }
        Some(records)
    }

    /// Says that `records` the writer took were written or lost.
    pub(crate) fn done_with(&self, records: usize) {
        self.shared.in_writer.fetch_sub(records, Ordering::AcqRel);
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

impl RoomLock for Pending {
    fn occupancy(&mut self) -> &mut Occupancy {
        &mut self.occupancy
    }

    fn is_closed(&self) -> bool {
        self.closed
    }
}

impl Channel for QueueShared {
    fn state(&self) -> OutputState {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        self.room.state(&mut *pending)
    }

    fn try_reserve(&self, count: usize, waiter: &mut Waiter, waker: &Waker) -> Reservation {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let reservation = self.room.reserve(&mut *pending, count, waiter, waker);
        if matches!(reservation, Reservation::Wait) && pending.writer_waiting {
            // A writer on its timed wait takes the batch now.
            self.not_empty.notify_one();
        }
        reservation
    }

    fn unreserve(&self, count: usize) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        pending.occupancy.unreserve(count);
        drop(pending);
        self.not_full.notify_all();
    }

    /// Records in the channel, and those the writer took and has not yet
    /// written (a stalled output holds them in its write).
    fn waiting(&self) -> usize {
        let pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        pending.occupancy.records + self.in_writer.load(Ordering::Acquire)
    }

    fn signals(&self) -> &RoomSignals {
        &self.room.signals
    }
}
