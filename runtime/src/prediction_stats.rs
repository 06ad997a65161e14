//! [`PredictionStats`]: how many predictions a wrapped model made, and how
//! many of them were sampled out. Counted without a lock, on every path.

use std::sync::atomic::{AtomicU64, Ordering};

/// Counts of one wrapped model's predictions, from [`Logged::stats`](crate::Logged::stats).
///
/// `succeeded + failed` predictions were made; of them, `sampled_out` (all
/// successes: a failure is always logged) wrote no record, and the rest were
/// logged, so `made() == logged() + sampled_out` exactly.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PredictionStats {
    /// Predictions that returned an output.
    pub succeeded: u64,
    /// Predictions that returned an error, panicked or were cancelled.
    pub failed: u64,
    /// Successful predictions not logged, by sampling.
    pub sampled_out: u64,
}

impl PredictionStats {
    /// Every prediction made.
    pub fn made(&self) -> u64 {
        self.succeeded + self.failed
    }

    /// The predictions whose records were written (or, with the level
    /// filtering them out, would have been).
    pub fn logged(&self) -> u64 {
        self.made() - self.sampled_out
    }
}

/// The counters behind [`PredictionStats`].
#[derive(Default)]
pub(crate) struct PredictionCounters {
    succeeded: AtomicU64,
    failed: AtomicU64,
    sampled_out: AtomicU64,
}

impl PredictionCounters {
    pub(crate) fn count_success(&self) {
        self.succeeded.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_failure(&self) {
        self.failed.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_sampled_out(&self) {
        self.sampled_out.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> PredictionStats {
        PredictionStats {
            succeeded: self.succeeded.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            sampled_out: self.sampled_out.load(Ordering::Relaxed),
        }
    }
}
