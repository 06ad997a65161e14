//! [`Logged`]: the decorator that logs every prediction of a model.

use crate::config::ConfigError;
use crate::generated::LoggedModel;
use crate::logger::Logger;
use crate::model::{AsyncModel, Model};
use crate::model_logger::{ModelContext, WrapError, model_logger};
use crate::model_settings::ModelSettings;
use crate::outcome::OutcomeLogger;
use crate::pipeline::link::PredictionSink;
use crate::prediction::PredictionCall;
use crate::prediction_id::PredictionId;
use crate::prediction_stats::{PredictionCounters, PredictionStats};
use crate::profile::collector::Collector;
use crate::profile::profiler::ProfiledField;
use crate::sampling::SampleRate;
use slog::Drain as _;
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

impl<M: LoggedModel> Logged<M> {
    /// Wraps `model` so that its predictions are logged through a child of
    /// `logger`, with the models' settings the logger was built with (read
    /// from the environment, `LOG_SAMPLE_RATE` and `LOG_HASH_KEY`, unless
    /// [`LoggerBuilder::model_settings`](crate::LoggerBuilder::model_settings)
    /// set them in code).
    ///
    /// Fails if `logger` already carries a key the decorator writes, such as
    /// an environment field named like one of the model's logged fields, if
    /// a setting is invalid, or if the model hashes a field and no key is set.
    pub fn new(model: M, logger: &Logger) -> Result<Self, WrapError> {
        match logger.settings() {
            Ok(settings) => Self::with_settings(model, logger, settings),
            Err(error) => Err(WrapError::Settings {
                model: M::model_qualified_name(&model).to_owned(),
                error: error.clone(),
            }),
        }
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
        let pipeline = logger.pipeline();
        let logger = model_logger::<M>(logger, qualified_name, version, "predict", settings)?;
        let sink = pipeline.link.as_ref().and_then(|link| {
            PredictionSink::new(
                link,
                &logger,
                &spec.location,
                spec.input_keys,
                spec.output_keys,
                sample_rate.below_one(),
            )
        });
        let stats = Arc::<PredictionCounters>::default();
        let profile = match parent.profiles() {
            Some(profiles) if logger.is_enabled(slog::Level::Info) => {
                let collector = Arc::new(Collector::new());
                let fields = (spec.input_keys.iter().map(|key| (key, "input")))
                    .chain(spec.output_keys.iter().map(|key| (key, "output")))
                    .chain(spec.profile_keys.iter().map(|key| (key, "input")))
                    .map(|(key, role)| ProfiledField { key, role })
                    .collect();
                let profile_logger =
                    model_logger::<M>(&parent, qualified_name, version, "profile", settings)?;
                profiles.register(
                    qualified_name,
                    Arc::clone(&collector),
                    fields,
                    Arc::clone(&stats),
                    profile_logger,
                );
                Some(collector)
            }
            _ => None,
        };
        Ok(Logged {
            model,
            context: ModelContext {
                logger,
                parent,
                sample_rate,
                hash_key: settings.key().cloned(),
                stats,
                profile,
                output: settings
                    .log_output()
                    .cloned()
                    .unwrap_or_else(|| pipeline.output.clone()),
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
    pub fn logger(&self) -> &slog::Logger {
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
        // Room for both records is awaited in the logger's channel, never
        // blocked on, and held until they are logged.
        let mut room = self.context.output.room_for(2).await;
        let call = room.enter(|| PredictionCall::<M>::start(&self.context, input));
        let id = call.prediction_id();
        let outcome = catch_unwind_async(self.model.predict(input)).await;
        (id, room.enter(|| call.finish(outcome)))
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
