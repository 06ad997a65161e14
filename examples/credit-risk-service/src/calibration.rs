//! How far the model's probability of `bad` can be taken at its word: Platt
//! scaling (a logistic curve over the probability's log-odds) fitted on the
//! probabilities the model gives rows it was not fitted on, five-fold
//! cross-validated over the training rows. The quality expected before
//! outcomes (`evaluate`'s confidence-based estimate) reads the calibrated
//! probability as the chance that a credit goes bad; the decision still
//! compares the model's own probability with the threshold.

use serde::{Deserialize, Serialize};

/// `p' = σ(slope · logit(p) + intercept)`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Below 1: the model is surer than it should be.
    pub slope: f64,
    /// Shifts every probability's log-odds.
    pub intercept: f64,
}

/// Probabilities are kept this far from 0 and 1 before taking log-odds.
const EDGE: f64 = 1e-6;

fn logit(p: f64) -> f64 {
    let p = p.clamp(EDGE, 1.0 - EDGE);
    (p / (1.0 - p)).ln()
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

impl Calibration {
    /// No change.
    pub const IDENTITY: Calibration = Calibration {
        slope: 1.0,
        intercept: 0.0,
    };

    /// The calibrated probability of `bad`.
    pub fn apply(&self, p: f64) -> f64 {
        sigmoid(self.slope * logit(p) + self.intercept)
    }

    /// Fits the curve to `(probability, truly bad)` pairs by Newton's method
    /// on the log-loss; `None` without both classes, or if it does not
    /// converge.
    pub fn fit(pairs: &[(f64, bool)]) -> Option<Calibration> {
        if !(pairs.iter().any(|(_, bad)| *bad) && pairs.iter().any(|(_, bad)| !*bad)) {
            return None;
        }
        let (mut slope, mut intercept) = (1.0, 0.0);
        for _ in 0..100 {
            // Gradient and Hessian of the mean log-loss in (slope, intercept).
            let (mut g_s, mut g_i, mut h_ss, mut h_si, mut h_ii) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for &(p, bad) in pairs {
                let z = logit(p);
                let q = sigmoid(slope * z + intercept);
                let error = q - if bad { 1.0 } else { 0.0 };
                let weight = q * (1.0 - q);
                g_s += error * z;
                g_i += error;
                h_ss += weight * z * z;
                h_si += weight * z;
                h_ii += weight;
            }
            let determinant = h_ss * h_ii - h_si * h_si;
            if determinant.abs() < 1e-12 {
                return None;
            }
            let step_s = (h_ii * g_s - h_si * g_i) / determinant;
            let step_i = (h_ss * g_i - h_si * g_s) / determinant;
            slope -= step_s;
            intercept -= step_i;
            if step_s.abs() < 1e-10 && step_i.abs() < 1e-10 {
                return (slope.is_finite() && intercept.is_finite())
                    .then_some(Calibration { slope, intercept });
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibrated_probabilities_are_left_alone_and_overconfident_ones_are_softened() {
        // Outcomes drawn exactly at their probabilities: the identity.
        let mut pairs = Vec::new();
        for (p, bad_in_ten) in [(0.1, 1), (0.3, 3), (0.5, 5), (0.7, 7), (0.9, 9)] {
            for n in 0..10 {
                pairs.push((p, n < bad_in_ten));
            }
        }
        let fitted = Calibration::fit(&pairs).expect("converges");
        assert!(
            (fitted.slope - 1.0).abs() < 1e-6 && fitted.intercept.abs() < 1e-6,
            "{fitted:?}"
        );
        // Surer than the outcomes: 0.1 and 0.9 that come true 30 % and 70 %.
        let sure: Vec<(f64, bool)> = (0..100)
            .map(|n| if n < 50 { (0.1, n < 15) } else { (0.9, n < 85) })
            .collect();
        let fitted = Calibration::fit(&sure).expect("converges");
        assert!(fitted.slope < 1.0, "{fitted:?}");
        assert!(
            (fitted.apply(0.9) - 0.7).abs() < 1e-6,
            "{}",
            fitted.apply(0.9)
        );
        assert!(Calibration::fit(&[(0.5, true)]).is_none(), "one class");
        assert!((Calibration::IDENTITY.apply(0.25) - 0.25).abs() < 1e-12);
    }
}
