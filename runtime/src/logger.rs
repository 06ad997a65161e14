//! [`Logger`]: what [`LoggerBuilder`](crate::LoggerBuilder) builds and every
//! model is wrapped with. It is slog's logger over the pipeline, the
//! pipeline itself (the line drain's capture path, the output's room and
//! state), and the models' settings, read with the rest of the
//! configuration. [`Logged`](crate::Logged), [`OutcomeLogger`](crate::OutcomeLogger)
//! and the `tracing` layer take what they need from it: nothing is searched
//! for.

use crate::config::ConfigError;
use crate::model_settings::ModelSettings;
use crate::pipeline::log_output::LogOutput;
use crate::pipeline::parts::Pipeline;
use crate::profile::profiler::Profiles;
use std::ops::Deref;
use std::sync::Arc;

/// The logger the records go through: slog's [`slog::Logger`] (it derefs to
/// one, so `slog::info!(logger, ...)` writes a record of your own through the
/// same pipeline), together with the pipeline a wrapped model captures its
/// records into.
///
/// ```
/// use logged_model::{LoggerBuilder, OutputState};
///
/// let (logger, guard) = LoggerBuilder::new().build_with_writer(std::io::sink())?;
/// slog::info!(logger, "Service started."; "port" => 8000);
/// // A child carries its values on every record, over the same pipeline.
/// let requests = logger.new(slog::o!("component" => "http"));
/// slog::info!(requests, "Request handled.");
/// assert_eq!(requests.output().state(), OutputState::Taking);
/// // Where slog's own type is wanted:
/// let plain: &slog::Logger = logger.slog();
/// # let _ = (plain, guard);
/// # Ok::<(), logged_model::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct Logger {
    slog: slog::Logger,
    pipeline: Pipeline,
    /// The models' settings, read once with the logger's configuration; an
    /// invalid one is reported when a model is wrapped, naming the model.
    settings: Arc<Result<ModelSettings, ConfigError>>,
    /// The models' profiles and their thread, when the logger profiles.
    profiles: Option<Arc<Profiles>>,
}

impl Logger {
    pub(crate) fn new_root(
        slog: slog::Logger,
        pipeline: Pipeline,
        settings: Result<ModelSettings, ConfigError>,
        profiles: Option<Arc<Profiles>>,
    ) -> Self {
        Logger {
            slog,
            pipeline,
            settings: Arc::new(settings),
            profiles,
        }
    }

    /// A child logger that adds `values` to every record, over the same
    /// pipeline (slog's [`Logger::new`](slog::Logger::new), keeping the
    /// pipeline).
    pub fn new<T>(&self, values: slog::OwnedKV<T>) -> Logger
    where
        T: slog::SendSyncRefUnwindSafeKV + 'static,
    {
        Logger {
            slog: self.slog.new(values),
            pipeline: self.pipeline.clone(),
            settings: Arc::clone(&self.settings),
            profiles: self.profiles.clone(),
        }
    }

    /// slog's logger, for code that wants slog's own type.
    pub fn slog(&self) -> &slog::Logger {
        &self.slog
    }

    /// The output's handle: whether it is stalled (for a readiness probe),
    /// room awaited by async code, and what was written and lost. The same
    /// as [`LogGuard::output`](crate::LogGuard::output).
    pub fn output(&self) -> LogOutput {
        self.pipeline.output.clone()
    }

    pub(crate) fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// The models' profiles, when the logger profiles.
    pub(crate) fn profiles(&self) -> Option<&Arc<Profiles>> {
        self.profiles.as_ref()
    }

    /// The models' settings read with the configuration, or why they are
    /// invalid.
    pub(crate) fn settings(&self) -> &Result<ModelSettings, ConfigError> {
        &self.settings
    }

    /// The settings every model wrapped with this logger gets from
    /// [`Logged::new`](crate::Logged::new): read from the environment
    /// (`LOG_SAMPLE_RATE`, `LOG_HASH_KEY`) when the logger was built, or
    /// given to [`LoggerBuilder::model_settings`](crate::LoggerBuilder::model_settings).
    /// A service that wants to adjust them (a key of its own when none is
    /// set, say) starts from these and wraps with
    /// [`Logged::with_settings`](crate::Logged::with_settings).
    ///
    /// ```
    /// let (logger, _guard) = logged_model::LoggerBuilder::from_env_with(|name| {
    ///     (name == "LOG_SAMPLE_RATE").then(|| "0.5".to_owned())
    /// })?
    /// .capture_log_crate(false)
    /// .build_with_writer(std::io::sink())?;
    /// assert_eq!(logger.model_settings()?.sample_rate_override(), Some(0.5));
    /// # Ok::<(), logged_model::ConfigError>(())
    /// ```
    pub fn model_settings(&self) -> Result<ModelSettings, ConfigError> {
        self.settings.as_ref().clone()
    }
}

impl Deref for Logger {
    type Target = slog::Logger;

    fn deref(&self) -> &slog::Logger {
        &self.slog
    }
}

impl AsRef<slog::Logger> for Logger {
    fn as_ref(&self) -> &slog::Logger {
        &self.slog
    }
}

impl From<Logger> for slog::Logger {
    fn from(logger: Logger) -> slog::Logger {
        logger.slog
    }
}

impl std::fmt::Debug for Logger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logger")
            .field("slog", &self.slog)
            .field("output", &self.pipeline.output)
            .finish()
    }
}
