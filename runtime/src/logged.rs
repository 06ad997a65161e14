//! [`Logged`]: the decorator that logs every prediction of a model.

use crate::config::ConfigError;
use crate::drain::constant_values::ConstantValues;
use crate::drain::link::PredictionSink;
use crate::generated::LoggedModel;
use crate::hashing::HashKey;
use crate::keys;
use crate::log_output::{LogOutput, RoomPermit};
use crate::model::{AsyncModel, Model};
use crate::model_settings::ModelSettings;
use crate::outcome::OutcomeLogger;
use crate::prediction::PredictionCall;
use crate::prediction_id::PredictionId;
use crate::prediction_stats::{PredictionCounters, PredictionStats};
use crate::sampling::SampleRate;
use slog::Logger;
use std::collections::BTreeSet;
use std::future::{Future, poll_fn};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;

/// A model whose every prediction is logged. It implements the same trait as
/// the model it wraps, with the same input, output and error types, so it can
/// be used wherever the model can.
///
/// ```
/// use logged_model::{logged_model, Logged, LoggerBuilder, Model};
///
/// struct Echo;
///
/// #[logged_model(input_fields = [0], output_fields = [0])]
/// impl Model for Echo {
///     type Input = (u32,);
///     type Output = (u32,);
///     type Error = std::convert::Infallible;
///     fn qualified_name(&self) -> &str { "echo" }
///     fn version(&self) -> &str { "1" }
///     fn predict(&self, input: &(u32,)) -> Result<(u32,), Self::Error> { Ok(*input) }
/// }
///
/// let (logger, _guard) = LoggerBuilder::new().build_with_writer(std::io::sink())?;
/// let model = Logged::new(Echo, &logger)?;
/// assert_eq!(model.predict(&(7,)), Ok((7,)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Logged<M> {
    model: M,
    context: ModelContext,
}

/// What every prediction of a wrapped model needs besides the model.
pub(crate) struct ModelContext {
    /// The logger, carrying the model's keys.
    pub(crate) logger: Logger,
    /// The logger it was wrapped with, for the model's outcome logger.
    pub(crate) parent: Logger,
    pub(crate) sample_rate: SampleRate,
    pub(crate) hash_key: Option<HashKey>,
    pub(crate) stats: Arc<PredictionCounters>,
    /// The log's channel, awaited for room by async predictions.
    pub(crate) output: Option<LogOutput>,
    /// The line drain under `logger`, which takes captured records.
    pub(crate) sink: Option<PredictionSink>,
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

impl<M: LoggedModel> Logged<M> {
    /// Wraps `model` so that its predictions are logged through a child of
    /// `logger`, with the settings of the environment
    /// ([`ModelSettings::from_env`]: `LOG_SAMPLE_RATE`, `LOG_HASH_KEY`).
    ///
    /// Fails if `logger` already carries a key the decorator writes, such as
    /// an environment field named like one of the model's logged fields, if
    /// a setting is invalid, or if the model hashes a field and no key is set.
    pub fn new(model: M, logger: &Logger) -> Result<Self, WrapError> {
        let settings = ModelSettings::from_env().map_err(|error| WrapError::Settings {
            model: M::model_qualified_name(&model).to_owned(),
            error,
        })?;
        Self::with_settings(model, logger, &settings)
    }

    /// Wraps `model` with `settings` given in code.
    ///
    /// ```
    /// use logged_model::{logged_model, Logged, LoggerBuilder, Model, ModelSettings};
    ///
    /// struct Echo;
    ///
    /// #[logged_model(input_fields = [0], sample_rate = 0.5)]
    /// impl Model for Echo {
    ///     type Input = (u32,);
    ///     type Output = u32;
    ///     type Error = std::convert::Infallible;
    ///     fn qualified_name(&self) -> &str { "echo" }
    ///     fn version(&self) -> &str { "1" }
    ///     fn predict(&self, input: &(u32,)) -> Result<u32, Self::Error> { Ok(input.0) }
    /// }
    ///
    /// let (logger, _guard) = LoggerBuilder::new().build_with_writer(std::io::sink())?;
    /// // The environment's (or this) rate overrides the attribute's.
    /// let model = Logged::with_settings(Echo, &logger, &ModelSettings::new().sample_rate(0.0)?)?;
    /// model.predict(&(7,))?;
    /// assert_eq!(model.stats().sampled_out, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_settings(
        model: M,
        logger: &Logger,
        settings: &ModelSettings,
    ) -> Result<Self, WrapError> {
        let spec = M::log_spec();
        let qualified_name = M::model_qualified_name(&model);
        let rate = settings
            .sample_rate_override()
            .or(spec.sample_rate)
            .unwrap_or(1.0);
        let sample_rate = SampleRate::new(rate).ok_or_else(|| WrapError::Settings {
            model: qualified_name.to_owned(),
            error: ConfigError::InvalidValue {
                variable: "sample_rate",
                value: rate.to_string(),
                expected: "a number from 0 to 1",
            },
        })?;
        let version = M::model_version(&model);
        let parent = logger.clone();
        let logger = model_logger::<M>(logger, qualified_name, version, "predict", settings)?;
        let sink = PredictionSink::find(
            &logger,
            &spec.location,
            spec.input_keys,
            spec.output_keys,
            sample_rate.below_one(),
        );
        Ok(Logged {
            model,
            context: ModelContext {
                logger,
                parent,
                sample_rate,
                hash_key: settings.key().cloned(),
                stats: Arc::default(),
                output: settings.log_output().cloned(),
                sink,
            },
        })
    }

    /// An [`OutcomeLogger`] for this model's predictions, with its hash key.
    pub fn outcome_logger(&self) -> Result<OutcomeLogger<M>, WrapError> {
        let mut settings = ModelSettings::new();
        if let Some(key) = &self.context.hash_key {
            settings = settings.hash_key(key.clone());
        }
        OutcomeLogger::with_settings(
            &self.context.parent,
            M::model_qualified_name(&self.model),
            M::model_version(&self.model),
            &settings,
        )
    }
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

impl<M> Logged<M> {
    /// The wrapped model.
    pub fn inner(&self) -> &M {
        &self.model
    }

    /// Unwraps the model.
    pub fn into_inner(self) -> M {
        self.model
    }

    /// The logger the prediction records go through, carrying the model's keys.
    pub fn logger(&self) -> &Logger {
        &self.context.logger
    }

    /// How many predictions were made, failed and sampled out so far.
    pub fn stats(&self) -> PredictionStats {
        self.context.stats.snapshot()
    }
}

impl<M> Logged<M>
where
    M: Model + LoggedModel<Input = <M as Model>::Input, Output = <M as Model>::Output>,
{
    /// Predicts like [`Model::predict`], and says which id the prediction's
    /// records carry, so that an outcome can refer to it later (see
    /// [`OutcomeLogger`]). The id is `None` when no record was written: the
    /// prediction was sampled out, or the level filters the records out.
    pub fn predict_with_id(
        &self,
        input: &<M as Model>::Input,
    ) -> (
        Option<PredictionId>,
        Result<<M as Model>::Output, <M as Model>::Error>,
    ) {
        let call = PredictionCall::<M>::start(&self.context, input);
        let id = call.prediction_id();
        let outcome = catch_unwind(AssertUnwindSafe(|| self.model.predict(input)));
        (id, call.finish(outcome))
    }
}

impl<M> Logged<M>
where
    M: AsyncModel
        + LoggedModel<Input = <M as AsyncModel>::Input, Output = <M as AsyncModel>::Output>
        + Sync,
    <M as AsyncModel>::Input: Sync,
{
    /// The asynchronous [`predict_with_id`](Self::predict_with_id).
    pub async fn predict_async_with_id(
        &self,
        input: &<M as AsyncModel>::Input,
    ) -> (
        Option<PredictionId>,
        Result<<M as AsyncModel>::Output, <M as AsyncModel>::Error>,
    ) {
        // Room for both records is awaited, never blocked on (see
        // `ModelSettings::output`), and held until they are logged.
        let mut room = match &self.context.output {
            Some(output) => Some(output.room_for(2).await),
            None => None,
        };
        let call = with_room(&mut room, || {
            PredictionCall::<M>::start(&self.context, input)
        });
        let id = call.prediction_id();
        let outcome = catch_unwind_async(self.model.predict(input)).await;
        (id, with_room(&mut room, || call.finish(outcome)))
    }
}

/// Runs `log` inside the held room, if any.
fn with_room<R>(room: &mut Option<RoomPermit>, log: impl FnOnce() -> R) -> R {
    match room {
        Some(room) => room.enter(log),
        None => log(),
    }
}

impl<M> Model for Logged<M>
where
    M: Model + LoggedModel<Input = <M as Model>::Input, Output = <M as Model>::Output>,
{
    type Input = <M as Model>::Input;
    type Output = <M as Model>::Output;
    type Error = <M as Model>::Error;

    fn qualified_name(&self) -> &str {
        self.model.qualified_name()
    }

    fn version(&self) -> &str {
        self.model.version()
    }

    fn predict(&self, input: &Self::Input) -> Result<Self::Output, Self::Error> {
        let call = PredictionCall::<M>::start(&self.context, input);
        let outcome = catch_unwind(AssertUnwindSafe(|| self.model.predict(input)));
        call.finish(outcome)
    }
}

impl<M> AsyncModel for Logged<M>
where
    M: AsyncModel
        + LoggedModel<Input = <M as AsyncModel>::Input, Output = <M as AsyncModel>::Output>
        + Sync,
    <M as AsyncModel>::Input: Sync,
{
    type Input = <M as AsyncModel>::Input;
    type Output = <M as AsyncModel>::Output;
    type Error = <M as AsyncModel>::Error;

    fn qualified_name(&self) -> &str {
        self.model.qualified_name()
    }

    fn version(&self) -> &str {
        self.model.version()
    }

    async fn predict(&self, input: &Self::Input) -> Result<Self::Output, Self::Error> {
        self.predict_async_with_id(input).await.1
    }
}

/// Awaits `future`, catching a panic in any of its polls.
async fn catch_unwind_async<F: Future>(future: F) -> std::thread::Result<F::Output> {
    let mut future = pin!(future);
    poll_fn(
        |cx| match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(payload) => Poll::Ready(Err(payload)),
        },
    )
    .await
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
