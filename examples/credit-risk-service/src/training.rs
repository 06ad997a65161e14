//! Trains the model: a stratified, seeded train/test split, the encoding
//! fitted on the training rows, and linfa's logistic regression.

pub use crate::artifact::TrainingSettings;
use crate::artifact::{ModelArtifact, REFERENCE_K};
use crate::calibration::Calibration;
use crate::dataset::{Creditability, LabelledApplication};
use crate::encoding::Encoder;
use crate::metrics::{COST_BAD_PREDICTED_SAFE, COST_GOOD_PREDICTED_RISKY, Metrics};
use crate::model::CreditRisk;
use crate::scoring::probability_of_bad;
use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use logged_model::profile::FieldSketch;
use ndarray::{Array1, Array2};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// Why training failed.
#[derive(Debug, thiserror::Error)]
pub enum TrainingError {
    /// A class has too few rows for the split.
    #[error("the split left no {0:?} rows on one side; the data set is too small")]
    EmptySplit(Creditability),
    /// linfa could not fit the model.
    #[error("fitting the logistic regression failed: {0}")]
    Fit(#[from] linfa_logistic::error::Error),
    /// The feature matrix has an inconsistent shape.
    #[error("the feature matrix is malformed: {0}")]
    Shape(#[from] ndarray::ShapeError),
}

/// The settings this project trains with.
pub fn default_settings() -> TrainingSettings {
    TrainingSettings {
        seed: 42,
        test_fraction: 0.2,
        l2_penalty: 1.0,
        max_iterations: 200,
        // Predict risky when the expected cost of lending is higher than
        // that of refusing: p(bad) * 5 >= (1 - p(bad)) * 1.
        threshold: COST_GOOD_PREDICTED_RISKY
            / (COST_GOOD_PREDICTED_RISKY + COST_BAD_PREDICTED_SAFE),
    }
}

/// The row indexes of each class (good, then bad), each shuffled by
/// `rng`.
fn shuffled_by_class(rows: &[LabelledApplication], rng: &mut ChaCha8Rng) -> [Vec<usize>; 2] {
    [Creditability::Good, Creditability::Bad].map(|class| {
        let mut indexes: Vec<usize> = rows
            .iter()
            .enumerate()
            .filter(|(_, row)| row.creditability == class)
            .map(|(i, _)| i)
            .collect();
        indexes.shuffle(rng);
        indexes
    })
}

/// Row indexes of the training and test sides, each class split in the same
/// proportion, shuffled by a generator seeded with `seed`.
pub fn stratified_split(
    rows: &[LabelledApplication],
    test_fraction: f64,
    seed: u64,
) -> (Vec<usize>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut train = Vec::new();
    let mut test = Vec::new();
    for indexes in shuffled_by_class(rows, &mut rng) {
        let test_count = (indexes.len() as f64 * test_fraction).round() as usize;
        test.extend_from_slice(&indexes[..test_count]);
        train.extend_from_slice(&indexes[test_count..]);
    }
    train.sort_unstable();
    test.sort_unstable();
    (train, test)
}

/// Trains on `rows` and evaluates on the held-out side.
pub fn train(
    rows: &[LabelledApplication],
    settings: TrainingSettings,
    model_version: &str,
) -> Result<ModelArtifact, TrainingError> {
    let (train_rows, test_rows) = stratified_split(rows, settings.test_fraction, settings.seed);
    train_on(rows, &train_rows, &test_rows, settings, model_version)
}

/// Trains on the rows at `train_rows` and evaluates on those at
/// `test_rows`: the encoding, the regression, the training rows' profile and
/// the calibration from their own cross-validation.
pub fn train_on(
    rows: &[LabelledApplication],
    train_rows: &[usize],
    test_rows: &[usize],
    settings: TrainingSettings,
    model_version: &str,
) -> Result<ModelArtifact, TrainingError> {
    for class in [Creditability::Good, Creditability::Bad] {
        for side in [train_rows, test_rows] {
            if !side.iter().any(|&i| rows[i].creditability == class) {
                return Err(TrainingError::EmptySplit(class));
            }
        }
    }
    let training: Vec<&LabelledApplication> = train_rows.iter().map(|&i| &rows[i]).collect();
    let (encoder, classifier) = fit(&training, settings)?;

    let held_out: Vec<&LabelledApplication> = test_rows.iter().map(|&i| &rows[i]).collect();
    let scored: Vec<(f64, bool)> =
        probability_of_bad(&classifier, &features_of(&encoder, &held_out)?)
            .into_iter()
            .zip(&held_out)
            .map(|(probability, row)| (probability, row.creditability == Creditability::Bad))
            .collect();
    let metrics = Metrics::evaluate(&scored, settings.threshold);
    let training_probabilities =
        probability_of_bad(&classifier, &features_of(&encoder, &training)?);
    let profile = training_profile(&training, &training_probabilities, settings.threshold);
    let calibration = Calibration::fit(&out_of_fold(&training, settings)?);
    Ok(ModelArtifact::new(
        model_version,
        settings,
        rows.len(),
        train_rows.len(),
        encoder,
        classifier,
        metrics,
    )
    .with_training_profile(profile)
    .with_calibration(calibration))
}

/// Row indexes in `folds` disjoint folds that together hold every row, each
/// class spread over them evenly, shuffled by a generator seeded with `seed`.
pub fn stratified_folds(rows: &[LabelledApplication], folds: usize, seed: u64) -> Vec<Vec<usize>> {
    let folds = folds.max(1);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut assigned = vec![Vec::new(); folds];
    for indexes in shuffled_by_class(rows, &mut rng) {
        for (position, index) in indexes.into_iter().enumerate() {
            assigned[position % folds].push(index);
        }
    }
    for fold in &mut assigned {
        fold.sort_unstable();
    }
    assigned
}

/// The probability of `bad` the artifact's model gives each of `rows`.
pub fn probabilities(
    artifact: &ModelArtifact,
    rows: &[&LabelledApplication],
) -> Result<Vec<f64>, TrainingError> {
    Ok(probability_of_bad(
        &artifact.classifier,
        &features_of(&artifact.encoder, rows)?,
    ))
}

/// The encoding and the logistic regression fitted on `rows`.
fn fit(
    rows: &[&LabelledApplication],
    settings: TrainingSettings,
) -> Result<(Encoder, crate::scoring::Classifier), TrainingError> {
    let applications: Vec<_> = rows.iter().map(|row| &row.application).collect();
    let encoder =
        Encoder::fit(&applications).ok_or(TrainingError::EmptySplit(Creditability::Good))?;
    let features = matrix(&encoder, applications.iter().copied())?;
    let targets: Array1<Creditability> = rows.iter().map(|row| row.creditability).collect();
    let classifier = LogisticRegression::default()
        .alpha(settings.l2_penalty)
        .max_iterations(settings.max_iterations)
        .fit(&Dataset::new(features, targets))?;
    Ok((encoder, classifier))
}

/// Folds of the cross-validation whose probabilities calibrate the model's.
const FOLDS: usize = 10;

/// `(probability of bad, truly bad)` for every training row, each from a
/// model fitted on the other folds: probabilities of rows the model did not
/// see, as on the traffic.
fn out_of_fold(
    rows: &[&LabelledApplication],
    settings: TrainingSettings,
) -> Result<Vec<(f64, bool)>, TrainingError> {
    let mut pairs = Vec::with_capacity(rows.len());
    for fold in 0..FOLDS {
        let (fitted_on, held): (Vec<(usize, &&LabelledApplication)>, Vec<_>) = rows
            .iter()
            .enumerate()
            .partition(|(i, _)| i % FOLDS != fold);
        let fitted_on: Vec<&LabelledApplication> = fitted_on.into_iter().map(|(_, r)| *r).collect();
        let held: Vec<&LabelledApplication> = held.into_iter().map(|(_, r)| *r).collect();
        let (encoder, classifier) = fit(&fitted_on, settings)?;
        let probabilities = probability_of_bad(&classifier, &features_of(&encoder, &held)?);
        pairs.extend(
            probabilities
                .into_iter()
                .zip(&held)
                .map(|(p, row)| (p, row.creditability == Creditability::Bad)),
        );
    }
    Ok(pairs)
}

fn features_of(
    encoder: &Encoder,
    rows: &[&LabelledApplication],
) -> Result<Array2<f64>, ndarray::ShapeError> {
    matrix(encoder, rows.iter().map(|row| &row.application))
}

/// The inputs a profile only counts: the redacted and the hashed.
const COUNTED_ONLY: [&str; 2] = ["personal_status_and_sex", "applicant_id"];

/// The profile of the training rows, as the service's profile records hold
/// its fields: every attribute the records profile (numbers and categories
/// as the application serializes them), the model's probability and its
/// verdict at `threshold`. (The redacted and hashed inputs are counted in
/// the traffic's profiles only.)
fn training_profile(
    rows: &[&LabelledApplication],
    probabilities: &[f64],
    threshold: f64,
) -> serde_json::Map<String, serde_json::Value> {
    let mut fields: std::collections::BTreeMap<String, (FieldSketch, &str)> = Default::default();
    let mut add = |key: &str, role: &'static str, value: &serde_json::Value| {
        let (sketch, _) = fields
            .entry(key.to_owned())
            .or_insert_with(|| (FieldSketch::with_quantile_k(REFERENCE_K), role));
        match value {
            serde_json::Value::Number(number) => {
                sketch.add_number(number.as_f64().unwrap_or(f64::NAN))
            }
            serde_json::Value::String(text) => sketch.add_text(text),
            serde_json::Value::Bool(flag) => sketch.add_text(if *flag { "true" } else { "false" }),
            serde_json::Value::Null => sketch.add_null(),
            serde_json::Value::Array(_) | serde_json::Value::Object(_) => {}
        }
    };
    for (row, &p) in rows.iter().zip(probabilities) {
        if let Ok(serde_json::Value::Object(application)) = serde_json::to_value(&row.application) {
            for (key, value) in &application {
                if !COUNTED_ONLY.contains(&key.as_str()) {
                    add(key, "input", value);
                }
            }
        }
        add("probability_of_risky", "output", &serde_json::json!(p));
        let risk = if p >= threshold {
            CreditRisk::Risky
        } else {
            CreditRisk::Safe
        };
        add("credit_risk", "output", &serde_json::json!(risk.as_str()));
    }
    fields
        .into_iter()
        .map(|(key, (sketch, role))| {
            let json = sketch.to_json(role);
            (key, json)
        })
        .collect()
}

fn matrix<'a>(
    encoder: &Encoder,
    applications: impl Iterator<Item = &'a crate::application::CreditApplication>,
) -> Result<Array2<f64>, ndarray::ShapeError> {
    let mut values = Vec::new();
    let mut rows = 0;
    for application in applications {
        values.extend(encoder.encode(application));
        rows += 1;
    }
    Array2::from_shape_vec((rows, encoder.feature_names.len()), values)
}
