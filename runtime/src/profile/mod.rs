//! Profiles of every prediction: per model and per window, each logged
//! field's count and nulls, and mergeable sketches of its values (Apache
//! DataSketches' KLL quantiles for numbers, frequent items and HyperLogLog
//! for texts), fed by *every* prediction, logged or sampled out, so that
//! drift is seen at any sampling rate. Sensitive fields (redacted, hashed)
//! are counted, never sketched.
//!
//! The caller copies its fields' values into a buffer of its thread's own
//! (`collector.rs`); the logger's profiler thread sketches them and, every
//! `LOG_PROFILE_INTERVAL` (60 s by default) and at shutdown, writes one
//! "Model profile." record per model ([`PROFILE_MESSAGE`]) under
//! [`keys::MODEL_PROFILE`]: the window, the
//! predictions made, logged, sampled out and failed in it, and each field's
//! sketches as base64 of their DataSketches images (which the Java, C++ and
//! Python libraries read). [`ModelProfile`] reads such a record back, and
//! merges profiles of any windows and pods into one.
//!
//! ```
//! use logged_model::profile::{ModelProfile, PROFILE_MESSAGE};
//! use logged_model::{logged_model, CapturedOutput, Logged, LoggerBuilder, Model};
//!
//! pub struct Input { pub amount: f64 }
//! pub struct Scorer;
//!
//! #[logged_model(input_fields = [amount], sample_rate = 0.0)]
//! impl Model for Scorer {
//!     type Input = Input;
//!     type Output = ();
//!     type Error = String;
//!     fn qualified_name(&self) -> &str { "scorer" }
//!     fn version(&self) -> &str { "1" }
//!     fn predict(&self, _input: &Input) -> Result<(), String> { Ok(()) }
//! }
//!
//! let output = CapturedOutput::default();
//! let (logger, guard) = LoggerBuilder::new().build_with_writer(output.clone())?;
//! let model = Logged::new(Scorer, &logger)?;
//! for amount in 1..=100 {
//!     model.predict(&Input { amount: f64::from(amount) })?;
//! }
//! drop(guard); // writes the last window
//!
//! let records = output.records()?;
//! let record = records.iter().find(|r| r["message"] == PROFILE_MESSAGE).expect("a profile");
//! let profile = ModelProfile::from_record(record)?;
//! assert_eq!(profile.predictions.made, 100);
//! assert_eq!(profile.predictions.sampled_out, 100, "none logged, all profiled");
//! let amount = profile.field("amount").and_then(|f| f.numbers()).expect("numbers");
//! assert_eq!(amount.count(), 100);
//! assert_eq!(amount.max(), Some(100.0));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub(crate) mod collector;
pub mod drift;
pub(crate) mod profiler;
mod sketch;
pub(crate) mod value;

pub use profiler::PROFILE_MESSAGE;
pub use sketch::{FieldSketch, MERGE_K, NumberSketch, SketchError, TextSketch};

use crate::keys;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The predictions of a profile's windows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PredictionCounts {
    /// Predictions made: succeeded or failed.
    pub made: u64,
    /// Predictions whose records were written.
    pub logged: u64,
    /// Predictions sampled out (profiled all the same).
    pub sampled_out: u64,
    /// Predictions that failed.
    pub failed: u64,
    /// Predictions whose values did not reach the profile (a caller's
    /// buffer was full): counted, never silently missing.
    pub unprofiled: u64,
    /// Outcomes the model's outcome loggers wrote (for predictions of any
    /// window): with `made`, a fleet's join rate without reading a raw line.
    pub outcomes: u64,
}

/// One field of a profile: input or output, and its sketch.
#[derive(Clone, Debug)]
pub struct ProfiledField {
    /// `"input"` or `"output"`.
    pub role: String,
    /// Its values.
    pub sketch: FieldSketch,
}

/// A model's profile over one or more windows, from one or more pods.
#[derive(Clone, Debug)]
pub struct ModelProfile {
    /// The model's qualified name.
    pub model: String,
    /// The model's version.
    pub version: String,
    /// When the earliest window started (RFC 3339).
    pub start: String,
    /// When the latest window ended (RFC 3339).
    pub end: String,
    /// How many windows were merged into this profile.
    pub windows: u64,
    /// The predictions of those windows.
    pub predictions: PredictionCounts,
    /// Each field, by key.
    pub fields: BTreeMap<String, ProfiledField>,
}

/// Why a profile could not be read or merged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// The record is not a "Model profile." record.
    #[error("not a profile record: {0}")]
    NotAProfile(&'static str),
    /// A part of the record is missing or of the wrong type.
    #[error("profile record: `{0}` is missing or not what it should be")]
    Malformed(&'static str),
    /// A field's sketches could not be read.
    #[error("profile record: {0}")]
    Sketch(#[from] SketchError),
    /// Two profiles of different models.
    #[error("cannot merge the profile of `{theirs}` into that of `{ours}`")]
    OtherModel {
        /// This profile's model and version.
        ours: String,
        /// The other's.
        theirs: String,
    },
}

impl ModelProfile {
    /// Reads a "Model profile." record (as parsed from its JSON line).
    pub fn from_record(record: &Map<String, Value>) -> Result<Self, ProfileError> {
        if record.get(keys::MESSAGE).and_then(Value::as_str) != Some(PROFILE_MESSAGE) {
            return Err(ProfileError::NotAProfile(
                "its message is not \"Model profile.\"",
            ));
        }
        let text = |key: &'static str| {
            record
                .get(key)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or(ProfileError::Malformed(key))
        };
        let profile = record
            .get(keys::MODEL_PROFILE)
            .ok_or(ProfileError::Malformed(keys::MODEL_PROFILE))?;
        let window_text = |name: &'static str, path: &'static str| {
            profile["window"][name]
                .as_str()
                .map(str::to_owned)
                .ok_or(ProfileError::Malformed(path))
        };
        let predictions = &profile["predictions"];
        let count = |name: &'static str, path: &'static str| {
            predictions[name]
                .as_u64()
                .ok_or(ProfileError::Malformed(path))
        };
        let mut fields = BTreeMap::new();
        let listed = profile["fields"]
            .as_object()
            .ok_or(ProfileError::Malformed("model_profile.fields"))?;
        for (key, field) in listed {
            let role = field["role"]
                .as_str()
                .ok_or(ProfileError::Malformed("model_profile.fields.*.role"))?
                .to_owned();
            let sketch = FieldSketch::from_json(key, field)?;
            fields.insert(key.clone(), ProfiledField { role, sketch });
        }
        Ok(ModelProfile {
            model: text(keys::MODEL_QUALIFIED_NAME)?,
            version: text(keys::MODEL_VERSION)?,
            start: window_text("start", "model_profile.window.start")?,
            end: window_text("end", "model_profile.window.end")?,
            windows: 1,
            predictions: PredictionCounts {
                made: count("made", "model_profile.predictions.made")?,
                logged: count("logged", "model_profile.predictions.logged")?,
                sampled_out: count("sampled_out", "model_profile.predictions.sampled_out")?,
                failed: count("failed", "model_profile.predictions.failed")?,
                unprofiled: count("unprofiled", "model_profile.predictions.unprofiled")?,
                outcomes: count("outcomes", "model_profile.predictions.outcomes")?,
            },
            fields,
        })
    }

    /// Adds `other` (another window, another pod) to this profile. Both
    /// must be of the same model; versions may differ (the merged profile
    /// keeps this one's).
    pub fn merge(&mut self, other: &ModelProfile) -> Result<(), ProfileError> {
        if other.model != self.model {
            return Err(ProfileError::OtherModel {
                ours: self.model.clone(),
                theirs: other.model.clone(),
            });
        }
        for (key, theirs) in &other.fields {
            match self.fields.get_mut(key) {
                Some(ours) => ours
                    .sketch
                    .merge(&theirs.sketch)
                    .map_err(|reason| SketchError {
                        field: key.clone(),
                        reason,
                    })?,
                None => {
                    self.fields.insert(key.clone(), theirs.clone());
                }
            }
        }
        // RFC 3339 in UTC with a fixed width sorts as it reads.
        if other.start < self.start {
            self.start.clone_from(&other.start);
        }
        if other.end > self.end {
            self.end.clone_from(&other.end);
        }
        self.windows += other.windows;
        let (ours, theirs) = (&mut self.predictions, other.predictions);
        ours.made += theirs.made;
        ours.logged += theirs.logged;
        ours.sampled_out += theirs.sampled_out;
        ours.failed += theirs.failed;
        ours.unprofiled += theirs.unprofiled;
        ours.outcomes += theirs.outcomes;
        Ok(())
    }

    /// A field's sketch.
    pub fn field(&self, key: &str) -> Option<&FieldSketch> {
        self.fields.get(key).map(|field| &field.sketch)
    }

    /// The drift of each field this profile shares with `reference` (see
    /// [`drift`] for the statistics), in key order.
    pub fn drift(&self, reference: &ModelProfile) -> Vec<drift::FieldDrift> {
        self.fields
            .iter()
            .filter_map(|(key, field)| {
                let theirs = reference.field(key)?;
                drift::field_drift(key, theirs, &field.sketch)
            })
            .collect()
    }
}
