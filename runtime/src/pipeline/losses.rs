//! Lost records are counted: records the full channel dropped (in `drop`
//! mode), records the output failed to take, records logged after shutdown
//! and records a stalled output still held at the end. Every loss is
//! counted once, and reported once (the report itself is in
//! `record/loss_report.rs`); [`LogStats`] is what a user reads of them.

use crate::pipeline::output::Delivery;
use crate::pipeline::room::Admission;
use crate::record::loss_report::{LossKind, Report};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// What was written and lost so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogStats {
    /// Records the output took (the drain's own loss reports included).
    pub written: u64,
    /// Records dropped because the channel was full (only in
    /// [`Overflow::Drop`](crate::Overflow::Drop) mode).
    pub dropped: u64,
    /// Records the output failed to write.
    pub failed_writes: u64,
    /// Records still queued when [`LogGuard::finish_within`](crate::LogGuard::finish_within) gave up on a
    /// stalled output.
    pub unwritten_at_shutdown: u64,
    /// Records the OTLP receiver accepted (with `LOG_OUTPUT=otlp` or
    /// `both`; always 0 otherwise). With `otlp`, the same as `written`.
    pub exported: u64,
    /// Records the OTLP receiver refused or did not get within the retry
    /// time. With `otlp`, the same as `failed_writes`.
    pub export_failed: u64,
}

impl LogStats {
    pub(crate) fn of(losses: &LossCounters) -> Self {
        LogStats {
            written: losses.written.load(Ordering::Relaxed),
            dropped: losses.dropped.load(Ordering::Relaxed),
            failed_writes: losses.failed_writes.load(Ordering::Relaxed),
            unwritten_at_shutdown: losses.unwritten_at_shutdown.load(Ordering::Relaxed),
            exported: losses.exported.load(Ordering::Relaxed),
            export_failed: losses.export_failed.load(Ordering::Relaxed),
        }
    }
}

/// Counters shared by the caller side, the writer thread and the guard.
#[derive(Default)]
pub(crate) struct LossCounters {
    /// Records the output took (loss reports included).
    pub(crate) written: AtomicU64,
    pub(crate) dropped: AtomicU64,
    pub(crate) dropped_unreported: AtomicU64,
    pub(crate) failed_writes: AtomicU64,
    pub(crate) failed_writes_unreported: AtomicU64,
    pub(crate) after_shutdown: AtomicU64,
    pub(crate) unwritten_at_shutdown: AtomicU64,
    pub(crate) exported: AtomicU64,
    pub(crate) export_failed: AtomicU64,
    /// Set, under `settling`, when the guard gave up on the output: what
    /// the writer delivers afterwards is already counted as unwritten.
    abandoned: AtomicBool,
    /// Makes counting a delivery and giving up on the output exclusive, so
    /// that no record is counted both delivered and unwritten.
    settling: Mutex<()>,
}

impl LossCounters {
    /// Counts one record dropped because the channel was full.
    pub(crate) fn count_dropped(&self) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
        self.dropped_unreported.fetch_add(1, Ordering::AcqRel);
    }

    /// Counts a record the channel did not admit: dropped, or logged after
    /// shutdown.
    pub(crate) fn count_lost(&self, lost: Admission) {
        match lost {
            Admission::Dropped => self.count_dropped(),
            Admission::Closed => self.count_after_shutdown(),
            Admission::Admitted => {}
        }
    }

    /// Counts a record logged after the guard stopped the writer thread. It
    /// cannot be written any more; the first one is reported on stderr, so
    /// the loss is never silent.
    pub(crate) fn count_after_shutdown(&self) {
        if self.after_shutdown.fetch_add(1, Ordering::Relaxed) == 0 {
            eprintln!(
                "logged-model: a record was logged after its LogGuard was dropped; \
                 it and any later ones are discarded (keep the guard until the end of main)"
            );
        }
    }

    /// Counts what the output did with `records` records: written, or lost
    /// (and to be reported), and what the OTLP exporter delivered. Nothing
    /// is counted once the guard has given up on the output.
    pub(crate) fn count_delivery(&self, records: u64, delivery: Delivery) {
        let _settling = self
            .settling
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if self.abandoned.load(Ordering::Relaxed) {
            return;
        }
        let lost = delivery.lost.min(records);
        self.written.fetch_add(records - lost, Ordering::Relaxed);
        if lost > 0 {
            self.count_failed_writes(lost);
        }
        self.exported
            .fetch_add(delivery.exported, Ordering::Relaxed);
        self.export_failed
            .fetch_add(delivery.export_failed, Ordering::Relaxed);
    }

    /// Gives up on the output: `waiting` (read under the same lock as the
    /// writer's counts) is counted unwritten, and nothing delivered later is
    /// counted again.
    pub(crate) fn abandon(&self, waiting: impl FnOnce() -> u64) -> u64 {
        let _settling = self
            .settling
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.abandoned.store(true, Ordering::Relaxed);
        let unwritten = waiting();
        self.unwritten_at_shutdown
            .store(unwritten, Ordering::Relaxed);
        unwritten
    }

    pub(crate) fn count_failed_writes(&self, lines: u64) {
        self.failed_writes.fetch_add(lines, Ordering::Relaxed);
        self.failed_writes_unreported
            .fetch_add(lines, Ordering::AcqRel);
    }

    /// Says on standard error what could not be reported in a record: the
    /// last place left once the writer thread has stopped.
    pub(crate) fn report_remaining_on_stderr(&self) {
        for kind in [LossKind::Dropped, LossKind::FailedWrites] {
            let count = self.unreported(kind).swap(0, Ordering::AcqRel);
            if count > 0 {
                let report = Report { kind, count };
                eprintln!(
                    "logged-model: {count} log records lost and not reported in the log: {}",
                    report.message()
                );
            }
        }
    }

    /// Whether losses of `kind` wait to be reported.
    pub(crate) fn has_unreported(&self, kind: LossKind) -> bool {
        self.unreported(kind).load(Ordering::Acquire) > 0
    }

    fn unreported(&self, kind: LossKind) -> &AtomicU64 {
        match kind {
            LossKind::Dropped => &self.dropped_unreported,
            LossKind::FailedWrites => &self.failed_writes_unreported,
        }
    }

    /// Takes the unreported count of `kind`, reports it with `send`, and
    /// puts the count back if the report could not be delivered.
    pub(crate) fn report(&self, kind: LossKind, send: impl FnOnce(&Report) -> bool) {
        let unreported = self.unreported(kind);
        // A load first: most calls find nothing, and a swap on every record
        // would cost each caller an atomic write.
        if unreported.load(Ordering::Acquire) == 0 {
            return;
        }
        let count = unreported.swap(0, Ordering::AcqRel);
        if count == 0 {
            return;
        }
        if !send(&Report { kind, count }) {
            unreported.fetch_add(count, Ordering::AcqRel);
        }
    }
}
