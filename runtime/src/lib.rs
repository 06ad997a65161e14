//! Structured, production-grade JSON logs for machine-learning model
//! deployments, from one attribute on the model's implementation.
//!
//! ```
//! use logged_model::{logged_model, CapturedOutput, Logged, LoggerBuilder, Model};
//! use serde::Serialize;
//!
//! pub struct Applicant { pub duration_in_month: u32, pub credit_amount: f64 }
//!
//! #[derive(Serialize)]
//! #[serde(rename_all = "lowercase")]
//! pub enum Risk { Safe, Risky }
//!
//! pub struct Assessment { pub credit_risk: Risk }
//!
//! pub struct CreditRiskModel;
//!
//! #[logged_model(input_fields = [duration_in_month, credit_amount], output_fields = [credit_risk])]
//! impl Model for CreditRiskModel {
//!     type Input = Applicant;
//!     type Output = Assessment;
//!     type Error = String;
//!
//!     fn qualified_name(&self) -> &str { "credit_risk_model" }
//!     fn version(&self) -> &str { "0.1.0" }
//!     fn predict(&self, input: &Applicant) -> Result<Assessment, String> {
//!         let risky = input.credit_amount > 10_000.0;
//!         Ok(Assessment { credit_risk: if risky { Risk::Risky } else { Risk::Safe } })
//!     }
//! }
//!
//! let output = CapturedOutput::default();
//! let (logger, guard) = LoggerBuilder::new().build_with_writer(output.clone())?;
//! let model = Logged::new(CreditRiskModel, &logger)?;
//! model.predict(&Applicant { duration_in_month: 12, credit_amount: 2500.0 })?;
//! drop(guard);
//!
//! let records = output.records()?;
//! assert_eq!(records[0]["message"], "Prediction requested.");
//! assert_eq!(records[0]["credit_amount"], 2500.0);
//! assert_eq!(records[1]["message"], "Prediction created.");
//! assert_eq!(records[1]["credit_risk"], "safe");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The attribute, the records, the controls and the configuration are
//! described in the [`guide`]; the items below carry the details.
//!
//! # Inside
//!
//! Four layers; a module imports only from its own layer or the ones below
//! it, and no two modules import each other.
//!
//! | layer | files | what they do |
//! | --- | --- | --- |
//! | 4. the model's side | `model.rs`, `generated.rs`, `fields.rs`, `mapping.rs`, `index_template.rs`, `profile/`, `model_logger.rs`, `logged.rs`, `prediction.rs`, `outcome.rs`, `model_settings.rs`, `sampling.rs`, `correlation.rs`, `logger.rs`, `builder.rs`, `log_bridge.rs`, `tracing_layer.rs` | what a model author and a service use: the traits, the attribute's contract, the wrapper and its predictions, outcomes, building the logger |
//! | 3. `pipeline/` | see `pipeline/mod.rs` | how records **move**: the channel and its admission, the writer thread, the event clock, outputs, stall detection, loss accounting; no JSON |
//! | 2. `record/` | see `record/mod.rs` | what a record **is**: the head, the pairs in their order, the captured form, the template, caps, redaction, JSON; no threads, no locks |
//! | 2. `otlp/` | see `otlp/mod.rs` | (feature `otlp`) a finished JSON record as an OTLP log record, and the requests that send it: an output `pipeline/output.rs` calls on the writer thread |
//! | 1. foundation | `keys.rs`, `config.rs`, `sensitive.rs`, `hashing.rs`, `prediction_id.rs`, `prediction_stats.rs` | key names, configuration values, redaction, hashing, ids, counters |
//!
//! | file | its one job |
//! | --- | --- |
//! | `model.rs` | the [`Model`] and [`AsyncModel`] traits a model implements |
//! | `generated.rs` | the contract with the attribute's code: [`LoggedModel`], [`Loggable`] |
//! | `fields.rs` | the logged fields of one record, borrowed and written with their JSON types |
//! | `mapping.rs` | the Elasticsearch mapping of a model's records, from its types |
//! | `index_template.rs` | the data stream, templates and retention that install the mapping |
//! | `profile/` | profiles of every prediction: the callers' buffers, the sketches, the profiler thread, reading profiles back |
//! | `model_logger.rs` | the logger of one wrapped model, its keys checked, and [`WrapError`] |
//! | `logged.rs` | [`Logged`]: wraps a model and runs each prediction |
//! | `prediction.rs` | the records of one prediction, from request to result |
//! | `outcome.rs` | [`OutcomeLogger`]: "Prediction outcome." records, joined to predictions by id |
//! | `model_settings.rs` | [`ModelSettings`]: a wrapped model's rate override and hash key |
//! | `sampling.rs` | whether a prediction is logged, decided once at its start |
//! | `correlation.rs` | the correlation id's scope, across threads and awaits |
//! | `builder.rs` | [`LoggerBuilder`]: configuration in code or from the environment, read once |
//! | `logger.rs` | [`Logger`]: slog's logger over the pipeline, the pipeline, and the models' settings |
//! | `log_bridge.rs` | records of the `log` crate into the same drain |
//! | `tracing_layer.rs` | (feature `tracing`) `tracing` events through the same drain |
//! | `keys.rs` | the key names, generated from the one table the attribute checks against |
//! | `config.rs` | the configuration's types, variables and parsing |
//! | `sensitive.rs` | [`Sensitive`], a value never logged in the clear |
//! | `hashing.rs` | [`HashKey`] and the keyed hash of hashed fields |
//! | `prediction_id.rs` | [`PredictionId`], which the caller learns and an outcome refers to |
//! | `prediction_stats.rs` | [`PredictionStats`]: predictions made, failed, sampled out |

mod builder;
pub mod config;
pub mod correlation;
mod fields;
mod generated;
mod hashing;
pub mod index_template;
pub mod keys;
mod log_bridge;
mod logged;
mod logger;
pub mod mapping;
mod model;
mod model_logger;
mod model_settings;
#[cfg(feature = "otlp")]
pub mod otlp;
mod outcome;
mod pipeline;
mod prediction;
mod prediction_id;
mod prediction_stats;
pub mod profile;
mod record;
mod sampling;
mod sensitive;
#[cfg(feature = "tracing")]
pub mod tracing_layer;

pub use builder::{LoggerBuilder, init_from_env};
pub use config::{ConfigError, DrainKind, LogDestination, Overflow};
pub use generated::{Loggable, LoggedModel};
pub use hashing::HashKey;
pub use logged::Logged;
pub use logger::Logger;
pub use model::{AsyncModel, Model};
pub use model_logger::WrapError;
pub use model_settings::ModelSettings;
pub use outcome::OutcomeLogger;
pub use pipeline::captured_output::CapturedOutput;
pub use pipeline::guard::LogGuard;
pub use pipeline::log_output::{LogOutput, RoomFuture, RoomPermit};
pub use pipeline::losses::LogStats;
pub use pipeline::room::OutputState;
pub use prediction_id::{InvalidPredictionId, PredictionId};
pub use prediction_stats::{DURATION_BUCKETS_NS, DurationHistogram, PredictionStats};
pub use record::prediction_record::{
    CREATED_MESSAGE, EXCEPTION_MESSAGE, OUTCOME_MESSAGE, REQUESTED_MESSAGE,
};
pub use record::trace_context::{InvalidTraceparent, TraceContext};
pub use sensitive::{REDACTED, Sensitive};

/// Generates what [`Logged`] needs to log a model's predictions.
///
/// Place it on the `impl Model for T` (or `impl AsyncModel for T`) block:
///
/// ```text
/// #[logged_model(input_fields = [duration_in_month, applicant.income], output_fields = [credit_risk])]
/// ```
///
/// - `input_fields = [...]`: fields of `Input` logged on "Prediction requested.".
/// - `output_fields = [...]`: fields of `Output` logged on "Prediction created.".
/// - `name = "..."`: the logger name, `log.logger` (default `"<qualified_name>_logger"`).
///
/// A field is an identifier, a string literal, or a dotted path into nested
/// structs (`applicant.income`, logged under the key `"applicant.income"`);
/// tuple fields are numbers (`0`). Each must exist and be `serde::Serialize`;
/// both are checked at compile time, as are duplicates and names that
/// collide with the keys the runtime writes ([`keys::RESERVED`]).
pub use logged_model_macros::logged_model;

#[doc = include_str!("guide.md")]
pub mod guide {}

/// The logging library the records go through, re-exported so that a model
/// author needs one dependency: `logged_model::slog::Logger`,
/// `logged_model::slog::info!`.
pub use slog;

/// Used by the code `#[logged_model]` generates. Not a public API. Named
/// after the crate's version, which the attribute's crate shares, so that a
/// macro of one version never links to a runtime of another.
#[doc(hidden)]
pub mod __private_v0_1_0 {
    pub use crate::fields::FieldRecorder;
    pub use crate::generated::{LogSpec, LoggableInTheClear, PlainProbe, SensitiveProbe, probe};
    pub use crate::mapping::{DynamicEsType, KnownEsType, TypeProbe};
    pub use slog::RecordLocation;
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_private_module_is_named_after_the_crate_version() {
        let expected = format!("v{}", env!("CARGO_PKG_VERSION").replace('.', "_"));
        let source = include_str!("lib.rs");
        assert!(
            source.contains(&format!("pub mod __private_{expected} {{")),
            "rename the private module to __private_{expected}"
        );
    }
}
