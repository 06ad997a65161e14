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
//! The attribute, the records and the configuration are described in the
//! README; the items below carry the details.
//!
//! # Inside
//!
//! | file | its one job |
//! | --- | --- |
//! | `model.rs` | the [`Model`] and [`AsyncModel`] traits a model implements |
//! | `generated.rs` | the contract with the attribute's code: [`LoggedModel`], [`Loggable`] |
//! | `logged.rs` | [`Logged`]: wraps a model, checks its keys, runs each prediction |
//! | `model_logger.rs` | the logger of one wrapped model, its keys checked, and [`WrapError`] |
//! | `prediction.rs` | the records of one prediction, from request to result |
//! | `prediction_id.rs` | [`PredictionId`], which the caller learns and an outcome refers to |
//! | `outcome.rs` | [`OutcomeLogger`]: "Prediction outcome." records, joined to predictions by id |
//! | `fields.rs` | the logged fields of one record, borrowed and written with their JSON types |
//! | `correlation.rs` | the correlation id's scope, across threads and awaits |
//! | `tracing_layer.rs` | (feature `tracing`) `tracing` events through the same drain |
//! | `trace_context.rs` | [`TraceContext`], the W3C trace a record belongs to |
//! | `sensitive.rs` | [`Sensitive`], a value never logged in the clear |
//! | `hashing.rs` | [`HashKey`] and the keyed hash of hashed fields |
//! | `sampling.rs` | whether a prediction is logged, decided once at its start |
//! | `model_settings.rs` | [`ModelSettings`]: a wrapped model's rate override and hash key |
//! | `mapping.rs` | the Elasticsearch mapping of a model's records, from its types |
//! | `prediction_stats.rs` | [`PredictionStats`]: predictions made, failed, sampled out |
//! | `keys.rs` | the key names, generated from the one table the attribute checks against |
//! | `config.rs` | the configuration's types, variables and parsing |
//! | `builder.rs` | [`LoggerBuilder`]: configuration in code or from the environment |
//! | `guard.rs` | [`LogGuard`]: owns the writer thread, flushes it, reports losses |
//! | `log_output.rs` | [`LogOutput`]: the output's state for probes, and room awaited by async code |
//! | `log_bridge.rs` | records of the `log` crate into the same drain |
//! | `captured_output.rs` | [`CapturedOutput`], an in-memory output for tests |
//! | `drain/` | the path from the caller to the output; its own table is in `drain/mod.rs` |

mod builder;
mod captured_output;
pub mod config;
pub mod correlation;
mod drain;
mod fields;
mod generated;
mod guard;
mod hashing;
pub mod keys;
mod log_bridge;
mod log_output;
mod logged;
pub mod mapping;
mod model;
mod model_logger;
mod model_settings;
mod outcome;
mod prediction;
mod prediction_id;
mod prediction_stats;
mod sampling;
mod sensitive;
mod trace_context;
#[cfg(feature = "tracing")]
pub mod tracing_layer;

pub use builder::{LoggerBuilder, init_from_env};
pub use captured_output::CapturedOutput;
pub use config::{ConfigError, DrainKind, Overflow};
pub use drain::losses::LogStats;
pub use drain::room::OutputState;
pub use generated::{Loggable, LoggedModel};
pub use guard::LogGuard;
pub use hashing::HashKey;
pub use log_output::{LogOutput, RoomFuture, RoomPermit};
pub use logged::Logged;
pub use model::{AsyncModel, Model};
pub use model_logger::WrapError;
pub use model_settings::ModelSettings;
pub use outcome::{OUTCOME_MESSAGE, OutcomeLogger};
pub use prediction_id::{InvalidPredictionId, PredictionId};
pub use prediction_stats::{DURATION_BUCKETS_NS, DurationHistogram, PredictionStats};
pub use sensitive::{REDACTED, Sensitive};
pub use trace_context::{InvalidTraceparent, TraceContext};

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
