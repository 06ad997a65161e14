//! The logger of one wrapped model: a child of the logger it was given,
//! carrying the model's keys once they are checked (a hash key where fields
//! are hashed, no key written twice), and what each of its predictions
//! needs besides the model. [`Logged`](crate::Logged) and
//! [`OutcomeLogger`](crate::OutcomeLogger) both build on it.

use crate::config::ConfigError;
use crate::generated::LoggedModel;
use crate::hashing::HashKey;
use crate::keys;
use crate::model_settings::ModelSettings;
use crate::pipeline::link::PredictionSink;
use crate::pipeline::log_output::LogOutput;
use crate::prediction_stats::PredictionCounters;
use crate::profile::collector::Collector;
use crate::record::constant_values::ConstantValues;
use crate::sampling::SampleRate;
use slog::Logger;
use std::collections::BTreeSet;
use std::sync::Arc;

/// What every prediction of a wrapped model needs besides the model.
pub(crate) struct ModelContext {
    /// The logger, carrying the model's keys.
    pub(crate) logger: Logger,
    /// The logger it was wrapped with, for the model's outcome logger.
    pub(crate) parent: crate::Logger,
    pub(crate) sample_rate: SampleRate,
    pub(crate) hash_key: Option<HashKey>,
    pub(crate) stats: Arc<PredictionCounters>,
    /// The log's channel, awaited for room by async predictions.
    pub(crate) output: LogOutput,
    /// The line drain under `logger`, which takes captured records.
    pub(crate) sink: Option<PredictionSink>,
    /// Where each prediction's values go for the model's profile, when the
    /// logger profiles.
    pub(crate) profile: Option<Arc<Collector>>,
}

/// Why a model could not be wrapped.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WrapError {
    /// The logger already carries a key that the decorator would write again.
    #[error(
        "model `{model}` logs `{key}`, but the logger already carries a `{key}` key \
         (an environment variable in LOG_ENV_VARS, or a value added with `Logger::new`); \
         rename one of them so that no record holds the key twice"
    )]
    KeyCollision {
        /// The model's qualified name.
        model: String,
        /// The key both would write.
        key: String,
    },
    /// A value the logger carries fails to serialize, so its keys (and the
    /// keys after it) cannot be checked, and every record would fail too.
    #[error(
        "model `{model}` cannot be wrapped: a value the logger carries fails to serialize ({reason}), \
         so the logger's keys cannot be checked for collisions; fix or remove that value"
    )]
    UnreadableLoggerValue {
        /// The model's qualified name.
        model: String,
        /// Why the value failed.
        reason: String,
    },
    /// The model hashes fields, and no hash key is set.
    #[error(
        "model `{model}` logs hashed fields ({fields}), but no hash key is set: set LOG_HASH_KEY \
         to a secret of at least 16 bytes (or pass one with `ModelSettings::hash_key`)"
    )]
    MissingHashKey {
        /// The model's qualified name.
        model: String,
        /// The hashed fields, comma-separated.
        fields: String,
    },
    /// The model's settings are invalid (`LOG_SAMPLE_RATE`, `LOG_HASH_KEY`).
    #[error("model `{model}`: {error}")]
    Settings {
        /// The model's qualified name.
        model: String,
        /// What is wrong, naming the variable.
        error: ConfigError,
    },
}

/// A child of `logger` carrying the model's keys (`log.logger`, `action`,
/// its name and version), after checking that the model can be logged: a
/// hash key if it hashes a field, and no key written twice.
pub(crate) fn model_logger<M: LoggedModel>(
    logger: &Logger,
    qualified_name: &str,
    version: &str,
    action: &str,
    settings: &ModelSettings,
) -> Result<Logger, WrapError> {
    let spec = M::log_spec();
    if !spec.hashed_keys.is_empty() && !settings.has_hash_key() {
        return Err(WrapError::MissingHashKey {
            model: qualified_name.to_owned(),
            fields: spec.hashed_keys.join(", "),
        });
    }
    let written_by_decorator = spec
        .input_keys
        .iter()
        .chain(spec.output_keys)
        .chain(spec.outcome_keys)
        .chain(keys::RESERVED);
    let carried = logger_keys(logger).map_err(|error| WrapError::UnreadableLoggerValue {
        model: qualified_name.to_owned(),
        reason: match error {
            slog::Error::Io(io) => io.to_string(),
            other => other.to_string(),
        },
    })?;
    if let Some(key) = written_by_decorator
        .into_iter()
        .find(|key| carried.contains(**key))
    {
        return Err(WrapError::KeyCollision {
            model: qualified_name.to_owned(),
            key: (*key).to_owned(),
        });
    }
    let logger_name = spec
        .logger_name
        .map_or_else(|| format!("{qualified_name}_logger"), str::to_owned);
    let model_keys = ConstantValues::texts(vec![
        (keys::LOGGER, logger_name),
        (keys::ACTION, action.to_owned()),
        (keys::MODEL_QUALIFIED_NAME, qualified_name.to_owned()),
        (keys::MODEL_VERSION, version.to_owned()),
    ]);
    Ok(logger.new(slog::OwnedKV(model_keys)))
}

/// The keys a logger adds to every record it makes. slog stops at the first
/// value that fails, so a failure means the keys are not all known.
fn logger_keys(logger: &Logger) -> Result<BTreeSet<String>, slog::Error> {
    struct KeyCollector(BTreeSet<String>);
    impl slog::Serializer for KeyCollector {
        fn emit_arguments(
            &mut self,
            key: slog::Key,
            _value: &std::fmt::Arguments<'_>,
        ) -> slog::Result {
            self.0.insert(key.to_string());
            Ok(())
        }

        fn emit_serde(&mut self, key: slog::Key, _value: &dyn slog::SerdeValue) -> slog::Result {
            self.0.insert(key.to_string());
            Ok(())
        }
    }
    let location = slog::RecordLocation {
        file: file!(),
        line: line!(),
        column: 0,
        function: "",
        module: module_path!(),
    };
    let record_static = slog::RecordStatic {
        location: &location,
        tag: "",
        level: slog::Level::Info,
    };
    let mut collector = KeyCollector(BTreeSet::new());
    slog::KV::serialize(
        logger.list(),
        &slog::Record::new(&record_static, &format_args!(""), slog::BorrowedKV(&())),
        &mut collector,
    )?;
    Ok(collector.0)
}
