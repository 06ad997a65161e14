//! The probability of bad credit from the fitted classifier.

use crate::dataset::Creditability;
use linfa_logistic::FittedLogisticRegression;
use ndarray::{ArrayBase, Data, Ix2};

/// The classifier as linfa fits it, labelled with the data set's classes.
pub type Classifier = FittedLogisticRegression<f64, Creditability>;

/// The probability of `bad` for each row of `features`. linfa gives the
/// probability of the class it calls positive (the more frequent one), so
/// it is turned around when that class is `good`.
pub fn probability_of_bad<D: Data<Elem = f64>>(
    classifier: &Classifier,
    features: &ArrayBase<D, Ix2>,
) -> Vec<f64> {
    let positive_is_bad = classifier.labels().pos.class == Creditability::Bad;
    classifier
        .predict_probabilities(features)
        .iter()
        .map(|&p| if positive_is_bad { p } else { 1.0 - p })
        .collect()
}
