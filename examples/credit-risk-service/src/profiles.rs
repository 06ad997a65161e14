//! The profile half of `evaluate`: what the model's "Model profile."
//! records say without reading a raw prediction line. Their windows and
//! counts (from every pod), the drift of each profiled field against the
//! training profile the artifact carries (or another set of windows), and the quality estimated from
//! the model's own probabilities before any outcome arrives
//! (confidence-based performance estimation, as NannyML's CBPE: a
//! calibrated model's probability of `bad` is the expected share of bad
//! credits among predictions that scored it).

use crate::artifact::ModelArtifact;
use crate::calibration::Calibration;
use crate::metrics::{COST_BAD_PREDICTED_SAFE, COST_GOOD_PREDICTED_RISKY};
use logged_model::profile::drift::{FieldDrift, psi_reading};
use logged_model::profile::{ModelProfile, NumberSketch, PredictionCounts};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The field holding the model's probability of `bad`.
pub const PROBABILITY_FIELD: &str = "probability_of_risky";

/// One window of one pod, as its profile record says.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Window {
    /// When it started (RFC 3339).
    pub start: String,
    /// When it ended.
    pub end: String,
    /// Its predictions and the outcomes reported in it.
    #[serde(flatten)]
    pub predictions: PredictionCounts,
    /// Each numeric field's 10th, 50th and 90th percentiles in it.
    pub quantiles: BTreeMap<String, [f64; 3]>,
}

/// Quality expected from the probabilities alone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EstimatedQuality {
    /// Predictions the estimate covers (every one profiled).
    pub predictions: u64,
    /// Expected bad credits predicted risky, as a share of predictions.
    pub bad_predicted_risky: f64,
    /// Expected bad credits predicted safe, as a share.
    pub bad_predicted_safe: f64,
    /// Expected good credits predicted risky, as a share.
    pub good_predicted_risky: f64,
    /// Expected good credits predicted safe, as a share.
    pub good_predicted_safe: f64,
    /// Expected mean cost (5 per bad predicted safe, 1 per good predicted
    /// risky).
    pub mean_cost: f64,
    /// Expected ROC AUC.
    pub roc_auc: f64,
}

/// What the profile records of the logs say.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProfileEvaluation {
    /// Every window of every pod, by start.
    pub windows: Vec<Window>,
    /// Their predictions, summed.
    pub made: u64,
    /// Logged, summed.
    pub logged: u64,
    /// Sampled out, summed.
    pub sampled_out: u64,
    /// Failed, summed.
    pub failed: u64,
    /// Outcomes reported, summed: over `made`, the fleet's join rate (for
    /// windows long enough for outcomes to arrive).
    pub outcomes: u64,
    /// Drift of each field against the training profile.
    pub drift: Vec<FieldDrift>,
    /// Quality expected from the probabilities of every prediction.
    pub estimated: Option<EstimatedQuality>,
}

/// The profile records of the model, merged and compared with the
/// artifact's training profile; `None` when the logs hold none.
pub fn evaluate_profiles(
    profiles: &[ModelProfile],
    artifact: &ModelArtifact,
    reference: Option<&ModelProfile>,
) -> Result<Option<ProfileEvaluation>, String> {
    let Some((first, rest)) = profiles.split_first() else {
        return Ok(None);
    };
    let mut merged = first.clone();
    for profile in rest {
        merged.merge(profile).map_err(|e| e.to_string())?;
    }
    let mut windows: Vec<Window> = profiles
        .iter()
        .map(|profile| Window {
            start: profile.start.clone(),
            end: profile.end.clone(),
            predictions: profile.predictions,
            quantiles: profile
                .fields
                .iter()
                .filter_map(|(key, field)| {
                    let numbers = field.sketch.numbers()?;
                    let at = |rank| numbers.quantile(rank);
                    Some((key.clone(), [at(0.1)?, at(0.5)?, at(0.9)?]))
                })
                .collect(),
        })
        .collect();
    windows.sort_by(|a, b| a.start.cmp(&b.start));
    let training = artifact.reference_profile()?;
    let drift = merged.drift(reference.unwrap_or(&training));
    let estimated = merged
        .field(PROBABILITY_FIELD)
        .and_then(|field| field.numbers())
        .map(|numbers| {
            let calibration = artifact.calibration.unwrap_or(Calibration::IDENTITY);
            estimate_quality(numbers, artifact.settings.threshold, calibration)
        });
    let counts = merged.predictions;
    Ok(Some(ProfileEvaluation {
        windows,
        made: counts.made,
        logged: counts.logged,
        sampled_out: counts.sampled_out,
        failed: counts.failed,
        outcomes: counts.outcomes,
        drift,
        estimated,
    }))
}

/// Ranks at which the probability's distribution is read: each stands for
/// an equal share of the predictions.
const STEPS: u32 = 2000;

/// The quality expected on predictions whose probabilities of `bad` are
/// distributed as `probabilities`: each is risky when its probability
/// reaches `threshold`, and goes bad with its probability as `calibration`
/// corrects it.
pub fn estimate_quality(
    probabilities: &NumberSketch,
    threshold: f64,
    calibration: Calibration,
) -> EstimatedQuality {
    let scores: Vec<f64> = (0..STEPS)
        .filter_map(|step| probabilities.quantile((f64::from(step) + 0.5) / f64::from(STEPS)))
        .map(|p| p.clamp(0.0, 1.0))
        .collect();
    let share = 1.0 / scores.len().max(1) as f64;
    let (mut bad_risky, mut bad_safe, mut good_risky, mut good_safe) = (0.0, 0.0, 0.0, 0.0);
    for &score in &scores {
        let p = calibration.apply(score);
        if score >= threshold {
            bad_risky += p * share;
            good_risky += (1.0 - p) * share;
        } else {
            bad_safe += p * share;
            good_safe += (1.0 - p) * share;
        }
    }
    EstimatedQuality {
        predictions: probabilities.count(),
        bad_predicted_risky: bad_risky,
        bad_predicted_safe: bad_safe,
        good_predicted_risky: good_risky,
        good_predicted_safe: good_safe,
        mean_cost: COST_BAD_PREDICTED_SAFE * bad_safe + COST_GOOD_PREDICTED_RISKY * good_risky,
        roc_auc: expected_auc(&scores, calibration),
    }
}

/// The expected ROC AUC when each prediction (ranked by its score) is bad
/// with its calibrated probability p: Σ p_i (1 − p_j) over pairs with
/// s_i > s_j (ties half), over Σ p · Σ (1 − p). `scores` are sorted.
fn expected_auc(scores: &[f64], calibration: Calibration) -> f64 {
    let bad: f64 = scores.iter().map(|s| calibration.apply(*s)).sum();
    let good: f64 = scores.iter().map(|s| 1.0 - calibration.apply(*s)).sum();
    if bad <= 0.0 || good <= 0.0 {
        return 0.5;
    }
    // Walk up the sorted scores: the good weight strictly below each score,
    // and that of its ties.
    let mut wins = 0.0;
    let mut good_below = 0.0;
    let mut index = 0;
    while index < scores.len() {
        let score = scores[index];
        let mut end = index;
        let mut tied_good = 0.0;
        let mut tied_bad = 0.0;
        while end < scores.len() && scores[end] == score {
            let p = calibration.apply(scores[end]);
            tied_good += 1.0 - p;
            tied_bad += p;
            end += 1;
        }
        wins += tied_bad * (good_below + 0.5 * tied_good);
        good_below += tied_good;
        index = end;
    }
    wins / (bad * good)
}

impl std::fmt::Display for ProfileEvaluation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "\nprofiles: {} windows, {} predictions ({} logged, {} sampled out, {} failed), {} outcomes reported",
            self.windows.len(),
            self.made,
            self.logged,
            self.sampled_out,
            self.failed,
            self.outcomes
        )?;
        for window in &self.windows {
            writeln!(
                f,
                "  {} .. {}  {:>8} made {:>8} logged {:>8} sampled out {:>6} failed {:>8} outcomes",
                window.start,
                window.end,
                window.predictions.made,
                window.predictions.logged,
                window.predictions.sampled_out,
                window.predictions.failed,
                window.predictions.outcomes
            )?;
            for (field, [p10, p50, p90]) in &window.quantiles {
                writeln!(
                    f,
                    "      {field:<22} p10 {p10:.4}  p50 {p50:.4}  p90 {p90:.4}"
                )?;
            }
        }
        writeln!(f, "drift of every prediction against the training profile:")?;
        writeln!(
            f,
            "  {:<22} {:>8} {:>8} {:>8} {:>8}  reading",
            "field", "psi", "js", "ks", "w1"
        )?;
        let optional =
            |value: Option<f64>| value.map_or_else(|| "-".to_owned(), |v| format!("{v:.4}"));
        for drift in &self.drift {
            writeln!(
                f,
                "  {:<22} {:>8.4} {:>8.4} {:>8} {:>8}  {} ({} values)",
                drift.field,
                drift.psi,
                drift.js,
                optional(drift.ks),
                optional(drift.wasserstein),
                psi_reading(drift.psi),
                drift.current_values
            )?;
        }
        if let Some(estimated) = &self.estimated {
            writeln!(
                f,
                "expected from the probabilities (before outcomes): mean cost {:.4}, ROC AUC {:.4}; \
                 shares bad/risky {:.3}, bad/safe {:.3}, good/risky {:.3}, good/safe {:.3}",
                estimated.mean_cost,
                estimated.roc_auc,
                estimated.bad_predicted_risky,
                estimated.bad_predicted_safe,
                estimated.good_predicted_risky,
                estimated.good_predicted_safe
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_model_sure_of_everything_is_expected_to_rank_perfectly() {
        // (Probabilities are kept a millionth from 0 and 1 for their log-odds.)
        let scores = [0.0, 0.0, 1.0, 1.0];
        assert!((expected_auc(&scores, Calibration::IDENTITY) - 1.0).abs() < 1e-5);
        // Every prediction at one probability: no ranking at all.
        assert!((expected_auc(&[0.3; 10], Calibration::IDENTITY) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn the_expected_auc_is_the_pairwise_sum() {
        let scores = [0.1, 0.2, 0.2, 0.6, 0.9];
        let mut wins = 0.0;
        for (i, &si) in scores.iter().enumerate() {
            for (j, &sj) in scores.iter().enumerate() {
                if i != j {
                    let weight = si * (1.0 - sj);
                    if si > sj {
                        wins += weight;
                    } else if si == sj {
                        wins += 0.5 * weight;
                    }
                }
            }
        }
        let bad: f64 = scores.iter().sum();
        let good: f64 = scores.iter().map(|p| 1.0 - p).sum();
        // The sum over i != j leaves out each prediction paired with itself,
        // which the whole-sample form counts as a tie.
        let self_ties: f64 = scores.iter().map(|p| 0.5 * p * (1.0 - p)).sum();
        let expected = (wins + self_ties) / (bad * good);
        assert!((expected_auc(&scores, Calibration::IDENTITY) - expected).abs() < 1e-12);
    }
}
