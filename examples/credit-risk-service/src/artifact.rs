//! The trained model as a file: the classifier, its encoding, the settings it
//! was trained with and its held-out metrics, as pretty-printed JSON. The
//! same data, code and seed give the same bytes.

use crate::application::CreditApplication;
use crate::calibration::Calibration;
use crate::encoding::Encoder;
use crate::metrics::Metrics;
use crate::scoring::Classifier;
use logged_model::profile::{FieldSketch, ModelProfile, PredictionCounts, ProfiledField};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The artifact format this code reads and writes.
pub const FORMAT: &str = "credit-risk-model/1";

/// How the model was trained.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainingSettings {
    /// Seed of the train/test split.
    pub seed: u64,
    /// Share of each class held out for evaluation.
    pub test_fraction: f64,
    /// L2 penalty of the logistic regression.
    pub l2_penalty: f64,
    /// Iteration limit of the optimizer.
    pub max_iterations: u64,
    /// Probability of `bad` at or above which an application is `risky`.
    pub threshold: f64,
}

/// The trained model with everything needed to serve and to audit it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelArtifact {
    /// Always [`FORMAT`].
    pub format: String,
    /// The model's version, as logged in `model_version`.
    pub model_version: String,
    /// The algorithm, in words.
    pub algorithm: String,
    /// The settings it was trained with.
    pub settings: TrainingSettings,
    /// Rows in the data set.
    pub data_rows: usize,
    /// Rows on the training side of the split.
    pub training_rows: usize,
    /// The encoding of applications into features.
    pub encoder: Encoder,
    /// linfa's fitted logistic regression.
    pub classifier: Classifier,
    /// The evaluation on the held-out rows.
    pub metrics: Metrics,
    /// The training rows' profile: each logged field as a "Model profile."
    /// record holds it (`model_profile.fields`), its quantiles kept at a
    /// `k` of [`REFERENCE_K`] (exact up to that many rows), the reference
    /// that `evaluate` measures the traffic's profiles against.
    #[serde(default)]
    pub training_profile: serde_json::Map<String, serde_json::Value>,
    /// The calibration of the model's probabilities (cross-validated on the
    /// training rows), for the quality expected before outcomes.
    #[serde(default)]
    pub calibration: Option<Calibration>,
}

/// The `k` of the training profile's quantile sketches.
pub const REFERENCE_K: u16 = 4096;

/// Why an artifact could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// The file could not be read or written.
    #[error("cannot access model artifact {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a valid artifact.
    #[error("model artifact {path} is not valid: {reason}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

impl ModelArtifact {
    /// Assembles an artifact.
    pub fn new(
        model_version: &str,
        settings: TrainingSettings,
        data_rows: usize,
        training_rows: usize,
        encoder: Encoder,
        classifier: Classifier,
        metrics: Metrics,
    ) -> Self {
        ModelArtifact {
            format: FORMAT.to_owned(),
            model_version: model_version.to_owned(),
            algorithm: "logistic regression (linfa-logistic, L-BFGS) on standardized numeric and one-hot categorical features".to_owned(),
            settings,
            data_rows,
            training_rows,
            encoder,
            classifier,
            metrics,
            training_profile: serde_json::Map::new(),
            calibration: None,
        }
    }

    /// The artifact with the calibration of its probabilities.
    pub fn with_calibration(mut self, calibration: Option<Calibration>) -> Self {
        self.calibration = calibration;
        self
    }

    /// The artifact with the training rows' profile.
    pub fn with_training_profile(
        mut self,
        profile: serde_json::Map<String, serde_json::Value>,
    ) -> Self {
        self.training_profile = profile;
        self
    }

    /// The training profile as a model profile (its windows and counts
    /// empty), to compare the traffic's with.
    pub fn reference_profile(&self) -> Result<ModelProfile, String> {
        let mut fields = BTreeMap::new();
        for (key, field) in &self.training_profile {
            let role = field["role"].as_str().unwrap_or("input").to_owned();
            let sketch = FieldSketch::from_json(key, field).map_err(|e| e.to_string())?;
            fields.insert(key.clone(), ProfiledField { role, sketch });
        }
        Ok(ModelProfile {
            model: crate::model::QUALIFIED_NAME.to_owned(),
            version: self.model_version.clone(),
            start: String::new(),
            end: String::new(),
            windows: 0,
            predictions: PredictionCounts::default(),
            fields,
        })
    }

    /// The artifact as the bytes of its file.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self).map(|json| json + "\n")
    }

    /// Writes the artifact to `path`.
    pub fn save(&self, path: &Path) -> Result<(), ArtifactError> {
        let invalid = |reason: String| ArtifactError::Invalid {
            path: path.display().to_string(),
            reason,
        };
        let json = self.to_json().map_err(|e| invalid(e.to_string()))?;
        std::fs::write(path, json).map_err(|source| ArtifactError::Io {
            path: path.display().to_string(),
            source,
        })
    }

    /// Reads and checks the artifact at `path`.
    pub fn load(path: &Path) -> Result<Self, ArtifactError> {
        let name = path.display().to_string();
        let json = std::fs::read_to_string(path).map_err(|source| ArtifactError::Io {
            path: name.clone(),
            source,
        })?;
        Self::from_json(&json).map_err(|reason| ArtifactError::Invalid { path: name, reason })
    }

    /// Parses and checks an artifact.
    pub fn from_json(json: &str) -> Result<Self, String> {
        let artifact: ModelArtifact = serde_json::from_str(json).map_err(|e| e.to_string())?;
        if artifact.format != FORMAT {
            return Err(format!(
                "format is {:?}; this service reads {FORMAT:?}",
                artifact.format
            ));
        }
        if !artifact.encoder.matches_code(&sample_application()) {
            return Err(
                "its feature columns differ from the ones this code encodes; retrain it".to_owned(),
            );
        }
        if artifact.classifier.params().len() != artifact.encoder.feature_names.len() {
            return Err(format!(
                "the classifier has {} weights for {} features",
                artifact.classifier.params().len(),
                artifact.encoder.feature_names.len()
            ));
        }
        Ok(artifact)
    }
}

/// Any valid application: the encoder's column names do not depend on values.
fn sample_application() -> CreditApplication {
    crate::examples::good_applicant()
}
