//! [`PredictionStats`]: how many predictions a wrapped model made, and how
//! many of them were sampled out. Counted without a lock, on every path.

use std::sync::atomic::{AtomicU64, Ordering};

/// Counts of one wrapped model's predictions, from [`Logged::stats`](crate::Logged::stats).
///
/// `succeeded + failed` predictions were made; of them, `sampled_out` (all
/// successes: a failure is always logged) wrote no record, and the rest were
/// logged, so `made() == logged() + sampled_out` exactly.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PredictionStats {
    /// Predictions that returned an output.
    pub succeeded: u64,
    /// Predictions that returned an error, panicked or were cancelled.
    pub failed: u64,
    /// Successful predictions not logged, by sampling.
    pub sampled_out: u64,
    /// The durations of the logged predictions (a sampled-out prediction is
    /// not timed: a clock read would be most of its cost).
    pub durations: DurationHistogram,
}

/// Prediction durations in buckets, for a Prometheus histogram.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DurationHistogram {
    /// Each bucket's upper bound in seconds, with the count of durations
    /// in it (above the previous bound); the last bound is infinity.
    pub buckets: Vec<(f64, u64)>,
    /// The sum of the durations, in seconds.
    pub sum_seconds: f64,
    /// How many durations.
    pub count: u64,
}

/// The buckets' upper bounds, in nanoseconds: from a microsecond to ten
/// seconds, then infinity.
pub const DURATION_BUCKETS_NS: [u64; 13] = [
    1_000,
    10_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
    10_000_000_000,
    u64::MAX,
];

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
    duration_buckets: [AtomicU64; DURATION_BUCKETS_NS.len()],
    duration_sum_ns: AtomicU64,
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

    /// Counts one logged prediction's duration.
    #[inline]
    pub(crate) fn count_duration(&self, nanoseconds: u64) {
        let bucket = DURATION_BUCKETS_NS.partition_point(|bound| *bound < nanoseconds);
        if let Some(counter) = self.duration_buckets.get(bucket) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        self.duration_sum_ns
            .fetch_add(nanoseconds, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> PredictionStats {
        let buckets: Vec<(f64, u64)> = DURATION_BUCKETS_NS
            .iter()
            .zip(&self.duration_buckets)
            .map(|(bound, count)| {
                let bound = if *bound == u64::MAX {
                    f64::INFINITY
                } else {
                    *bound as f64 / 1e9
                };
                (bound, count.load(Ordering::Relaxed))
            })
            .collect();
        let count = buckets.iter().map(|(_, count)| count).sum();
        PredictionStats {
            succeeded: self.succeeded.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            sampled_out: self.sampled_out.load(Ordering::Relaxed),
            durations: DurationHistogram {
                buckets,
                sum_seconds: self.duration_sum_ns.load(Ordering::Relaxed) as f64 / 1e9,
                count,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_counts_successes_and_failures_and_logged_is_the_rest() {
        let stats = PredictionStats {
            succeeded: 7,
            failed: 3,
            sampled_out: 4,
            durations: DurationHistogram::default(),
        };
        assert_eq!(stats.made(), 10);
        assert_eq!(stats.logged(), 6);
    }

    #[test]
    fn a_duration_lands_in_the_first_bucket_whose_bound_it_does_not_exceed() {
        let counters = PredictionCounters::default();
        for nanoseconds in [0, 1_000, 1_001, 250_000, 10_000_000_001, u64::MAX / 2] {
            counters.count_duration(nanoseconds);
        }
        let durations = counters.snapshot().durations;
        let counts: Vec<u64> = durations.buckets.iter().map(|(_, count)| *count).collect();
        assert_eq!(counts, [2, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        assert_eq!(durations.count, 6);
        let bounds: Vec<f64> = durations.buckets.iter().map(|(bound, _)| *bound).collect();
        assert_eq!(bounds[0], 1e-6);
        assert_eq!(bounds[3], 250e-6);
        assert_eq!(bounds[11], 10.0);
        assert!(bounds[12].is_infinite());
    }

    #[test]
    fn the_sum_is_in_seconds() {
        let counters = PredictionCounters::default();
        counters.count_duration(1_500_000_000);
        counters.count_duration(500_000_000);
        let stats = counters.snapshot();
        assert_eq!(stats.durations.sum_seconds, 2.0);
        assert_eq!(stats.durations.count, 2);
    }

    #[test]
    fn each_counter_counts_its_own_outcome() {
        let counters = PredictionCounters::default();
        counters.count_success();
        counters.count_success();
        counters.count_failure();
        counters.count_sampled_out();
        let stats = counters.snapshot();
        assert_eq!(
            (stats.succeeded, stats.failed, stats.sampled_out),
            (2, 1, 1)
        );
    }
}
