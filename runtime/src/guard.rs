//! [`LogGuard`]: keeps the writer thread alive and flushes it on the way out.

use crate::config::Overflow;
use crate::drain::channel::ChannelDrain;
use crate::drain::losses::LossCounters;
use slog_async::AsyncGuard;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// How long the guard waits for room to report the last dropped records.
const DROP_REPORT_PATIENCE: Duration = Duration::from_secs(5);

/// Owns the writer thread. Dropping it writes every queued record, then
/// stops the thread. Keep it in `main` (or return it there): a guard parked
/// in a static is never dropped, and the records still queued are lost.
#[must_use = "dropping the guard at once stops the writer thread"]
pub struct LogGuard {
    channel: ChannelDrain,
    async_guard: Option<AsyncGuard>,
    losses: Arc<LossCounters>,
    overflow: Overflow,
}

/// What was lost so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogStats {
    /// Records dropped because the channel was full (only in
    /// [`Overflow::Drop`] mode).
    pub dropped: u64,
    /// Records the output failed to write.
    pub failed_writes: u64,
}

impl LogGuard {
    pub(crate) fn new(
        channel: ChannelDrain,
        async_guard: AsyncGuard,
        losses: Arc<LossCounters>,
        overflow: Overflow,
    ) -> Self {
        LogGuard {
            channel,
            async_guard: Some(async_guard),
            losses,
            overflow,
        }
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
        self.shut_down();
        self.stats()
    }

    fn shut_down(&mut self) {
        let Some(async_guard) = self.async_guard.take() else {
            return;
        };
        if self.overflow == Overflow::Drop {
            self.channel.flush_drop_report(DROP_REPORT_PATIENCE);
        }
        // Sends the finish message behind every queued record and joins.
        drop(async_guard);
        let unreported = self.losses.dropped_unreported.load(Ordering::Acquire);
        if unreported > 0 {
            eprintln!(
                "logged-model: {unreported} log records were dropped and could not be reported"
            );
        }
    }
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.shut_down();
    }
}
