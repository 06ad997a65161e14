//! The line drain's queue: finished JSON lines wait in one byte buffer, at
//! most `capacity` records, until the writer thread takes them all at once
//! and writes them in one call. Callers copy a line in under a short lock;
//! nothing is allocated once the buffers have grown to their working size.

use super::caps::SizeCaps;
use super::head::ProcessFields;
use super::json_line::format_record;
use super::losses::{LossCounters, LossKind, Report};
use super::output::LineOutput;
use super::room::{Admission, Occupancy, Patience, Room, RoomLock, RoomSignals};
use crate::log_output::{Channel, LogOutput, OutputState, Reservation};
use slog::OwnedKVList;
use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::Waker;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

/// A batch buffer larger than this is given back after it is written, so a
/// burst does not keep its memory for the life of the process.
const RETAINED_BATCH_BYTES: usize = 4 << 20;

/// While records keep coming, the writer looks for more this often instead
/// of being woken for each one: waking a thread is a system call, which
/// would cost the caller more than formatting its record. It is also the
/// longest a record waits before it is written.
const BATCH_INTERVAL: Duration = Duration::from_millis(1);

/// After this long without a record, the writer sleeps until woken.
const IDLE_BEFORE_PARKING: Duration = Duration::from_millis(20);

/// The queue, shared by the callers, the writer thread and the guard.
#[derive(Clone)]
pub(crate) struct LineQueue {
    shared: Arc<Shared>,
}

struct Shared {
    pending: Mutex<Pending>,
    not_empty: Condvar,
    not_full: Condvar,
    /// The channel's capacity, patience and signals.
    room: Room,
    losses: Arc<LossCounters>,
    reports: ReportFormatter,
}

struct Pending {
    lines: Vec<u8>,
    /// Records in `lines`, and slots reserved by async callers.
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

/// Formats the drain's own reports, with the process's keys and the
/// environment fields like every other record.
pub(crate) struct ReportFormatter {
    pub(crate) process: Arc<ProcessFields>,
    pub(crate) root_values: OwnedKVList,
    pub(crate) caps: SizeCaps,
}

impl ReportFormatter {
    fn format(&self, out: &mut Vec<u8>, report: &Report) {
        report.with_record(|record| {
            format_record(
                out,
                SystemTime::now(),
                &self.process,
                self.caps,
                record,
                &self.root_values,
            )
        });
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
            lines: Vec::new(),
            occupancy: Occupancy::default(),
            closed: false,
            writer_waiting: false,
            writer_parked: false,
        };
        LineQueue {
            shared: Arc::new(Shared {
                pending: Mutex::new(pending),
                not_empty: Condvar::new(),
                not_full: Condvar::new(),
                room: Room::new(capacity, patience),
                losses,
                reports,
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

    /// Queues one line (or drops and counts it when the queue is full in
    /// `drop` mode). A pending drop count is reported first, in the same
    /// critical section, so written lines plus reported drops add up exactly.
    pub(crate) fn push(&self, line: &[u8]) {
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
        pending.lines.extend_from_slice(line);
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
            self.shared.reports.format(&mut pending.lines, report);
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
        self.shared.room.signals.progressed();
    }

    /// Starts the writer thread.
    pub(crate) fn spawn_writer<W: Write + Send + 'static>(
        &self,
        output: W,
    ) -> std::io::Result<JoinHandle<()>> {
        let queue = self.clone();
        std::thread::Builder::new()
            .name("logged-model-writer".to_owned())
            .spawn(move || queue.write_until_closed(LineOutput::new(output)))
    }

    fn write_until_closed<W: Write>(&self, mut output: LineOutput<W>) {
        let shared = &self.shared;
        let mut batch = Vec::new();
        let mut report_line = Vec::new();
        let mut last_record = Instant::now();
        loop {
            let batch_records;
            let callers_to_wake = {
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
                    break;
                }
                std::mem::swap(&mut batch, &mut pending.lines);
                batch_records = pending.occupancy.records;
                pending.occupancy.records = 0;
                // There is room now: report drops without waiting for the
                // next record to arrive.
                self.append_drop_report(&mut pending);
                pending.occupancy.blocked_callers
            };
            last_record = Instant::now();
            shared.room.signals.progressed();
            if callers_to_wake > 0 {
                shared.not_full.notify_all();
            }
            match output.write_lines(&batch) {
                Ok(()) => {
                    shared
                        .losses
                        .written
                        .fetch_add(batch_records as u64, std::sync::atomic::Ordering::Relaxed);
                    self.report_failed_writes(&mut output, &mut report_line);
                }
                Err(lost) => shared.losses.count_failed_writes(lost),
            }
            batch.clear();
            if batch.capacity() > RETAINED_BATCH_BYTES {
                batch = Vec::new();
            }
        }
        self.report_failed_writes(&mut output, &mut report_line);
    }

    fn report_failed_writes<W: Write>(&self, output: &mut LineOutput<W>, line: &mut Vec<u8>) {
        self.shared.losses.report(LossKind::FailedWrites, |report| {
            line.clear();
            self.shared.reports.format(line, report);
            output.write_lines(line).is_ok()
        });
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

impl Channel for Shared {
    fn state(&self) -> OutputState {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        self.room.state(&mut *pending)
    }

    fn try_reserve(&self, count: usize, waiting_since: Instant, waker: &Waker) -> Reservation {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let reservation = self
            .room
            .reserve(&mut *pending, count, waiting_since, waker);
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

    fn waiting(&self) -> usize {
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .occupancy
            .records
    }

    fn signals(&self) -> &RoomSignals {
        &self.room.signals
    }
}
