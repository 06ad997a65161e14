//! How well the model separates good from bad credit on held-out rows.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Counts of the held-out rows by truth and prediction; `bad` is the
/// positive class.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfusionMatrix {
    /// Bad credit predicted risky.
    pub bad_predicted_risky: u32,
    /// Bad credit predicted safe: the costly mistake.
    pub bad_predicted_safe: u32,
    /// Good credit predicted risky.
    pub good_predicted_risky: u32,
    /// Good credit predicted safe.
    pub good_predicted_safe: u32,
}

/// The evaluation of a model on held-out rows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// The probability of `bad` at or above which an application is risky.
    pub threshold: f64,
    /// Rows evaluated.
    pub rows: u32,
    /// Share of rows classified correctly.
    pub accuracy: f64,
    /// Of the rows predicted risky, the share that were bad.
    pub precision_bad: f64,
    /// Of the bad rows, the share predicted risky.
    pub recall_bad: f64,
    /// Area under the ROC curve of the probability of `bad`.
    pub roc_auc: f64,
    /// Mean cost per application with the data set's cost matrix
    /// (a bad credit let through costs 5, a good one refused costs 1).
    pub mean_cost: f64,
    /// The counts behind the ratios.
    pub confusion: ConfusionMatrix,
}

/// Cost of predicting safe for a bad credit, from the data set's documentation.
pub const COST_BAD_PREDICTED_SAFE: f64 = 5.0;
/// Cost of predicting risky for a good credit.
pub const COST_GOOD_PREDICTED_RISKY: f64 = 1.0;

impl Metrics {
    /// Evaluates `(probability of bad, truly bad)` pairs at `threshold`.
    pub fn evaluate(scored: &[(f64, bool)], threshold: f64) -> Metrics {
        let mut confusion = ConfusionMatrix::default();
        for &(probability, bad) in scored {
            let risky = probability >= threshold;
            match (bad, risky) {
                (true, true) => confusion.bad_predicted_risky += 1,
                (true, false) => confusion.bad_predicted_safe += 1,
                (false, true) => confusion.good_predicted_risky += 1,
                (false, false) => confusion.good_predicted_safe += 1,
            }
        }
        let c = confusion;
        let rows = c.bad_predicted_risky
            + c.bad_predicted_safe
            + c.good_predicted_risky
            + c.good_predicted_safe;
        let ratio = |numerator: u32, denominator: u32| {
            if denominator == 0 {
                0.0
            } else {
                f64::from(numerator) / f64::from(denominator)
            }
        };
        Metrics {
            threshold,
            rows,
            accuracy: ratio(c.bad_predicted_risky + c.good_predicted_safe, rows),
            precision_bad: ratio(
                c.bad_predicted_risky,
                c.bad_predicted_risky + c.good_predicted_risky,
            ),
            recall_bad: ratio(
                c.bad_predicted_risky,
                c.bad_predicted_risky + c.bad_predicted_safe,
            ),
            roc_auc: roc_auc(scored),
            mean_cost: (COST_BAD_PREDICTED_SAFE * f64::from(c.bad_predicted_safe)
                + COST_GOOD_PREDICTED_RISKY * f64::from(c.good_predicted_risky))
                / f64::from(rows.max(1)),
            confusion,
        }
    }
}

/// The probability that a random bad row scores above a random good row
/// (ties count half): the Mann-Whitney form of the ROC AUC.
pub fn roc_auc(scored: &[(f64, bool)]) -> f64 {
    let bad: Vec<f64> = scored
        .iter()
        .filter(|(_, bad)| *bad)
        .map(|(p, _)| *p)
        .collect();
    let good: Vec<f64> = scored
        .iter()
        .filter(|(_, bad)| !*bad)
        .map(|(p, _)| *p)
        .collect();
    if bad.is_empty() || good.is_empty() {
        return 0.5;
    }
    // Each (bad, good) pair scores 1 when the bad row is scored higher and
    // 1/2 on a tie. Counted in whole half-points by binary search over the
    // sorted good scores: O(n log n), and exactly the pairwise sum (which is
    // an integer number of halves, exact in an f64).
    let mut good = good;
    good.sort_by(f64::total_cmp);
    let twice_wins: u64 = bad
        .iter()
        .map(|b| {
            let below = good.partition_point(|g| g < b);
            let tied = good.partition_point(|g| g <= b) - below;
            2 * below as u64 + tied as u64
        })
        .sum();
    (twice_wins as f64 / 2.0) / (bad.len() * good.len()) as f64
}

impl fmt::Display for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.confusion;
        writeln!(f, "held-out rows:      {}", self.rows)?;
        writeln!(f, "threshold (p bad):  {:.4}", self.threshold)?;
        writeln!(f, "accuracy:           {:.4}", self.accuracy)?;
        writeln!(f, "precision (bad):    {:.4}", self.precision_bad)?;
        writeln!(f, "recall (bad):       {:.4}", self.recall_bad)?;
        writeln!(f, "ROC AUC:            {:.4}", self.roc_auc)?;
        writeln!(f, "mean cost (5:1):    {:.4}", self.mean_cost)?;
        writeln!(f, "confusion matrix:   predicted risky  predicted safe")?;
        writeln!(
            f,
            "  truly bad         {:>14}  {:>14}",
            c.bad_predicted_risky, c.bad_predicted_safe
        )?;
        write!(
            f,
            "  truly good        {:>14}  {:>14}",
            c.good_predicted_risky, c.good_predicted_safe
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_separation_has_auc_one_and_reversed_has_zero() {
        let scored = [(0.9, true), (0.8, true), (0.2, false), (0.1, false)];
        assert_eq!(roc_auc(&scored), 1.0);
        let reversed: Vec<_> = scored.iter().map(|(p, bad)| (1.0 - p, *bad)).collect();
        assert_eq!(roc_auc(&reversed), 0.0);
    }

    #[test]
    fn ties_count_half() {
        assert_eq!(roc_auc(&[(0.5, true), (0.5, false)]), 0.5);
    }

    #[test]
    fn counts_and_ratios_follow_the_threshold() {
        let scored = [(0.9, true), (0.3, true), (0.6, false), (0.1, false)];
        let metrics = Metrics::evaluate(&scored, 0.5);
        assert_eq!(
            metrics.confusion,
            ConfusionMatrix {
                bad_predicted_risky: 1,
                bad_predicted_safe: 1,
                good_predicted_risky: 1,
                good_predicted_safe: 1
            }
        );
        assert_eq!(metrics.accuracy, 0.5);
        assert_eq!(metrics.precision_bad, 0.5);
        assert_eq!(metrics.recall_bad, 0.5);
        assert_eq!(metrics.mean_cost, (5.0 + 1.0) / 4.0);
    }
}
