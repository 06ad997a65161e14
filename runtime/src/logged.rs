//! [`Logged`]: the decorator that logs every prediction of a model.

use crate::drain::constant_values::ConstantValues;
use crate::generated::LoggedModel;
use crate::keys;
use crate::model::{AsyncModel, Model};
use crate::prediction::PredictionCall;
use slog::Logger;
use std::collections::BTreeSet;
use std::future::{Future, poll_fn};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
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
    logger: Logger,
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
}

impl<M: LoggedModel> Logged<M> {
    /// Wraps `model` so that its predictions are logged through a child of
    /// `logger`.
    ///
    /// Fails if `logger` already carries a key the decorator writes, such as
    /// an environment field named like one of the model's logged fields.
    pub fn new(model: M, logger: &Logger) -> Result<Self, WrapError> {
        let spec = M::log_spec();
        let qualified_name = M::model_qualified_name(&model).to_owned();
        let written_by_decorator = spec
            .input_keys
            .iter()
            .chain(spec.output_keys)
            .chain(keys::RESERVED);
        let carried = logger_keys(logger).map_err(|error| WrapError::UnreadableLoggerValue {
            model: qualified_name.clone(),
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
                model: qualified_name,
                key: (*key).to_owned(),
            });
        }
        let logger_name = spec
            .logger_name
            .map_or_else(|| format!("{qualified_name}_logger"), str::to_owned);
        let model_keys = ConstantValues::texts(vec![
            (keys::LOGGER, logger_name),
            (keys::ACTION, "predict".to_owned()),
            (keys::MODEL_QUALIFIED_NAME, qualified_name),
            (keys::MODEL_VERSION, M::model_version(&model).to_owned()),
        ]);
        let logger = logger.new(slog::OwnedKV(model_keys));
        Ok(Logged { model, logger })
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
    pub fn logger(&self) -> &Logger {
        &self.logger
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
        let Some(call) = PredictionCall::start(&self.logger, M::log_spec(), |fields| {
            M::record_input(input, fields)
        }) else {
            return self.model.predict(input);
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| self.model.predict(input)));
        call.finish(outcome, M::record_output)
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
        let Some(call) = PredictionCall::start(&self.logger, M::log_spec(), |fields| {
            M::record_input(input, fields)
        }) else {
            return self.model.predict(input).await;
        };
        let outcome = catch_unwind_async(self.model.predict(input)).await;
        call.finish(outcome, M::record_output)
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
