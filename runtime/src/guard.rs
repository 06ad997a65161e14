//! [`LogGuard`]: keeps the writer thread alive and flushes it on the way out.

use crate::config::DrainKind;
use crate::drain::losses::LossCounters;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Owns the writer thread. Dropping it writes every queued record, then
/// stops the thread. Keep it in `main` (or return it there): a guard parked
/// in a static is never dropped, and the records still queued are lost.
#[must_use = "dropping the guard at once stops the writer thread"]
pub struct LogGuard {
    drain: DrainKind,
    losses: Arc<LossCounters>,
    shut_down: Option<Box<dyn FnOnce() + Send>>,
}

/// What was lost so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogStats {
    /// Records dropped because the channel was full (only in
    /// [`Overflow::Drop`](crate::Overflow::Drop) mode).
    pub dropped: u64,
    /// Records the output failed to write.
    pub failed_writes: u64,
}

impl LogGuard {
    /// A guard that runs `shut_down` once, when dropped or finished.
    pub(crate) fn new(
        drain: DrainKind,
        losses: Arc<LossCounters>,
        shut_down: impl FnOnce() + Send + 'static,
    ) -> Self {
        LogGuard {
            drain,
            losses,
            shut_down: Some(Box::new(shut_down)),
        }
    }

    /// The drain the records go through, as configured.
    pub fn drain(&self) -> DrainKind {
        self.drain
    }

    /// The losses counted so far.
    pub fn stats(&self) -> LogStats {
        LogStats {
            dropped: self.losses.dropped.load(Ordering::Relaxed),
            failed_writes: self.losses.failed_writes.load(Ordering::Relaxed),
        }
    }

    /// Writes every queued record, stops the writer thread, and returns the
    /// final losses.
    pub fn finish(mut self) -> LogStats {
        self.run_shut_down();
        self.stats()
    }

    fn run_shut_down(&mut self) {
        if let Some(shut_down) = self.shut_down.take() {
            shut_down();
            // The writer thread has stopped: what it could not report in a
            // record goes to standard error.
            self.losses.report_remaining_on_stderr();
        }
    }
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.run_shut_down();
    }
}
