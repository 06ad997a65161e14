//! [`LoggerBuilder`]: the logger's configuration, in code or from the
//! environment, read once. Building hands the checked configuration to the
//! pipeline and returns its [`Logger`].

use crate::config::{self, ConfigError, DrainKind, EnvLookup, LogDestination, Overflow};
use crate::log_bridge;
use crate::logger::Logger;
use crate::model_settings::ModelSettings;
#[cfg(feature = "otlp")]
use crate::otlp::OtlpConfig;
use crate::pipeline::guard::LogGuard;
use crate::pipeline::output::Output;
use crate::pipeline::{self, parts::DrainConfig};
use crate::profile::profiler::Profiles;
use crate::record::{caps::SizeCaps, constant_values::ConstantValues};
use slog::Level;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

/// Builds the root logger and the [`LogGuard`] that flushes it.
///
/// ```
/// use logged_model::{LoggerBuilder, Overflow};
///
/// let (logger, guard) = LoggerBuilder::new()
///     .level(slog::Level::Debug)
///     .env_vars(["POD_NAME", "NODE_NAME"])
///     .overflow(Overflow::Block)
///     .channel_size(4096)
///     .build_with_writer(std::io::sink())?;
/// slog::info!(logger, "Service started."; "port" => 8000);
/// drop(guard); // writes every queued record, then stops the writer thread
/// # Ok::<(), logged_model::ConfigError>(())
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct LoggerBuilder {
    level: Level,
    env_vars: Vec<String>,
    /// Where `env_vars` came from, for error messages: `LOG_ENV_VARS` or `env_vars`.
    env_vars_source: &'static str,
    overflow: Overflow,
    block_timeout: Option<Duration>,
    channel_size: usize,
    drain: DrainKind,
    caps: SizeCaps,
    capture_log_crate: bool,
    /// Set in code; otherwise read from `env` when the logger is built.
    model_settings: Option<ModelSettings>,
    /// How often profiles are written; `None`: no profiles.
    profile_interval: Option<Duration>,
    destination: LogDestination,
    /// Set in code; otherwise read from `env` when OTLP is the destination.
    #[cfg(feature = "otlp")]
    otlp: Option<OtlpConfig>,
    env: EnvLookup,
}

impl Default for LoggerBuilder {
    fn default() -> Self {
        LoggerBuilder {
            level: Level::Info,
            env_vars: Vec::new(),
            env_vars_source: "env_vars",
            overflow: Overflow::Block,
            block_timeout: None,
            channel_size: config::DEFAULT_CHANNEL_SIZE,
            drain: DrainKind::default(),
            caps: SizeCaps::DEFAULT,
            capture_log_crate: false,
            model_settings: None,
            profile_interval: Some(config::DEFAULT_PROFILE_INTERVAL),
            destination: LogDestination::default(),
            #[cfg(feature = "otlp")]
            otlp: None,
            env: config::process_env(),
        }
    }
}

impl LoggerBuilder {
    /// The defaults: level `info`, no environment fields, overflow `block`,
    /// a channel of 4096 records, the line drain, the `log` crate not
    /// captured, a profile of each model every 60 s.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads `LOG_LEVEL`, `LOG_ENV_VARS`, `LOG_OVERFLOW` and
    /// `LOG_CHANNEL_SIZE` from the process environment (see
    /// [`config`]), and captures the `log` crate's records.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_env_lookup(config::process_env())
    }

    /// Like [`from_env`](Self::from_env), with variables read from `lookup`
    /// instead of the process environment, for the configuration and for the
    /// environment fields' values alike. Made for tests.
    pub fn from_env_with(
        lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Result<Self, ConfigError> {
        Self::from_env_lookup(Arc::new(move |name: &str| Ok(lookup(name))))
    }

    fn from_env_lookup(env: EnvLookup) -> Result<Self, ConfigError> {
        let mut builder = LoggerBuilder {
            capture_log_crate: true,
            env,
            ..Self::default()
        };
        if let Some(level) = (builder.env)("LOG_LEVEL")? {
            builder.level = config::parse_level(&level)?;
        }
        if let Some(names) = (builder.env)("LOG_ENV_VARS")? {
            builder.env_vars = config::parse_env_var_list(&names);
            builder.env_vars_source = "LOG_ENV_VARS";
        }
        if let Some(overflow) = (builder.env)("LOG_OVERFLOW")? {
            builder.overflow = config::parse_overflow(&overflow)?;
        }
        if let Some(millis) = (builder.env)("LOG_BLOCK_TIMEOUT_MS")? {
            builder.block_timeout = Some(config::parse_block_timeout(&millis)?);
        }
        if let Some(size) = (builder.env)("LOG_CHANNEL_SIZE")? {
            builder.channel_size = config::parse_channel_size(&size)?;
        }
        if let Some(drain) = (builder.env)("LOG_DRAIN")? {
            builder.drain = config::parse_drain(&drain)?;
        }
        if let Some(bytes) = (builder.env)("LOG_FIELD_MAX_BYTES")? {
            builder.caps.field_max = config::parse_bytes(
                "LOG_FIELD_MAX_BYTES",
                &bytes,
                SizeCaps::MIN_FIELD,
                "a whole number of bytes, 64 or more",
            )?;
        }
        if let Some(interval) = (builder.env)(config::PROFILE_INTERVAL_VARIABLE)? {
            builder.profile_interval = config::parse_profile_interval(&interval)?;
        }
        if let Some(destination) = (builder.env)("LOG_OUTPUT")? {
            builder.destination = config::parse_destination(&destination, cfg!(feature = "otlp"))?;
        }
        if let Some(bytes) = (builder.env)("LOG_RECORD_MAX_BYTES")? {
            builder.caps.record_max = config::parse_bytes(
                "LOG_RECORD_MAX_BYTES",
                &bytes,
                SizeCaps::MIN_RECORD,
                "a whole number of bytes, 1024 or more",
            )?;
        }
        Ok(builder)
    }

    /// Records below `level` are discarded on the caller's thread, before
    /// they reach the channel.
    pub fn level(mut self, level: Level) -> Self {
        self.level = level;
        self
    }

    /// Environment variables to log on every record, each under its
    /// lower-cased name (`POD_NAME` as `pod_name`; `"N/A"` when unset). The
    /// values are read once, when the logger is built.
    pub fn env_vars<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.env_vars = names.into_iter().map(Into::into).collect();
        self.env_vars_source = "env_vars";
        self
    }

    /// What to do when the channel is full; see [`Overflow`].
    pub fn overflow(mut self, overflow: Overflow) -> Self {
        self.overflow = overflow;
        self
    }

    /// In `block` mode, the longest a caller waits for room before its
    /// record is dropped and counted, exactly as in `drop` mode; by default
    /// it waits as long as it takes, and nothing is lost.
    pub fn block_timeout(mut self, timeout: Duration) -> Self {
        self.block_timeout = Some(timeout);
        self
    }

    /// How many records the channel holds, 1 to
    /// [`MAX_CHANNEL_SIZE`](config::MAX_CHANNEL_SIZE).
    pub fn channel_size(mut self, records: usize) -> Self {
        self.channel_size = records;
        self
    }

    /// Which drain carries the records to the writer thread; see [`DrainKind`].
    pub fn drain(mut self, drain: DrainKind) -> Self {
        self.drain = drain;
        self
    }

    /// The longest string value written whole, in bytes (at least 64;
    /// default 4096). A longer one is cut at a character boundary, ends in
    /// `…[truncated]`, and its key is listed under `truncated_fields`.
    pub fn field_max_bytes(mut self, bytes: usize) -> Self {
        self.caps.field_max = bytes;
        self
    }

    /// The longest record, in bytes, its newline included (at least 1024;
    /// default 16,000, under the 16 KiB at which container runtimes split
    /// lines). A longer record has its largest values cut first, and lists
    /// them under `truncated_fields`.
    pub fn record_max_bytes(mut self, bytes: usize) -> Self {
        self.caps.record_max = bytes;
        self
    }

    /// Whether records of the `log` crate go through this logger too, so
    /// that the process prints only JSON lines. Only one logger per process
    /// can capture them.
    pub fn capture_log_crate(mut self, capture: bool) -> Self {
        self.capture_log_crate = capture;
        self
    }

    /// The settings of every model wrapped with this logger by
    /// [`Logged::new`](crate::Logged::new) (and of its outcome loggers): the
    /// sampling rate that overrides the attribute's, and the hash key. By
    /// default they are read from the environment (`LOG_SAMPLE_RATE`,
    /// `LOG_HASH_KEY`) when the logger is built, with the rest of its
    /// configuration.
    pub fn model_settings(mut self, settings: ModelSettings) -> Self {
        self.model_settings = Some(settings);
        self
    }

    /// How often each wrapped model's profile is written (a "Model
    /// profile." record per model: see [`profile`](crate::profile)); `None`
    /// profiles nothing. 60 s by default; `LOG_PROFILE_INTERVAL` sets it
    /// (`60s`, `5m`, or `off`).
    pub fn profile_interval(mut self, interval: Option<Duration>) -> Self {
        self.profile_interval = interval.filter(|interval| !interval.is_zero());
        self
    }

    /// Where the records go: JSON lines (the default), OTLP/HTTP, or both
    /// (`LOG_OUTPUT`). OTLP needs the `otlp` feature; without it, building
    /// fails with [`ConfigError::FeatureNotBuilt`]. The OTLP endpoint and
    /// its settings come from `LoggerBuilder::otlp` (a method of the `otlp`
    /// feature), else from the
    /// standard `OTEL_EXPORTER_OTLP_*` variables.
    pub fn destination(mut self, destination: LogDestination) -> Self {
        self.destination = destination;
        self
    }

    /// The OTLP output's settings, instead of the `OTEL_EXPORTER_OTLP_*`
    /// variables; used when the [`destination`](Self::destination) is
    /// `Otlp` or `Both`.
    #[cfg(feature = "otlp")]
    pub fn otlp(mut self, config: OtlpConfig) -> Self {
        self.otlp = Some(config);
        self
    }

    /// Builds a logger that writes to standard output.
    pub fn build(self) -> Result<(Logger, LogGuard), ConfigError> {
        self.build_with_writer(std::io::stdout())
    }

    /// Builds a logger that writes to `writer`: one JSON object per line,
    /// only whole lines handed to the writer (in batches with the line
    /// drain, one at a time with slog-async), each write followed by a flush.
    pub fn build_with_writer<W>(self, writer: W) -> Result<(Logger, LogGuard), ConfigError>
    where
        W: Write + Send + 'static,
    {
        if self.caps.field_max < SizeCaps::MIN_FIELD {
            return Err(ConfigError::InvalidValue {
                variable: "field_max_bytes",
                value: self.caps.field_max.to_string(),
                expected: "a whole number of bytes, 64 or more",
            });
        }
        if self.caps.record_max < SizeCaps::MIN_RECORD {
            return Err(ConfigError::InvalidValue {
                variable: "record_max_bytes",
                value: self.caps.record_max.to_string(),
                expected: "a whole number of bytes, 1024 or more",
            });
        }
        if !(1..=config::MAX_CHANNEL_SIZE).contains(&self.channel_size) {
            return Err(ConfigError::InvalidValue {
                variable: "channel_size",
                value: self.channel_size.to_string(),
                expected: "a whole number from 1 to 1048576",
            });
        }
        let env_fields = self.read_env_fields()?;
        let output = self.output(writer, env_fields.keys())?;
        let config = DrainConfig {
            level: self.level,
            overflow: self.overflow,
            block_timeout: self.block_timeout,
            channel_size: self.channel_size,
            env_fields,
            caps: self.caps,
        };
        let settings = match self.model_settings {
            Some(settings) => Ok(settings),
            None => ModelSettings::from_env_lookup(&self.env),
        };
        let (logger, pipeline, mut guard) = pipeline::build(self.drain, config, output)?;
        if self.capture_log_crate {
            log_bridge::install(logger.clone(), self.level)?;
        }
        let profiles = self.profile_interval.map(Profiles::new);
        if let Some(profiles) = &profiles {
            let profiles = Arc::clone(profiles);
            guard.before_shut_down(move || profiles.finish());
        }
        Ok((
            Logger::new_root(logger, pipeline, settings, profiles),
            guard,
        ))
    }

    /// The writer thread's output for the destination; `env_keys` go to the
    /// OTLP resource.
    #[cfg(feature = "otlp")]
    fn output<W: Write>(&self, writer: W, env_keys: Vec<String>) -> Result<Output<W>, ConfigError> {
        use crate::otlp::exporter::OtlpExporter;
        let exporter = || -> Result<OtlpExporter, ConfigError> {
            let config = match &self.otlp {
                Some(config) => {
                    config.check()?;
                    config.clone()
                }
                None => OtlpConfig::from_env_lookup(&self.env)?,
            };
            Ok(OtlpExporter::new(config, env_keys.clone()))
        };
        Ok(match self.destination {
            LogDestination::Stdout => Output::lines(writer),
            LogDestination::Otlp => Output::Otlp(exporter()?),
            LogDestination::Both => Output::Both(
                crate::pipeline::line_writer::LineWriter::new(writer),
                exporter()?,
            ),
        })
    }

    /// The writer thread's output: without the `otlp` feature, only lines.
    #[cfg(not(feature = "otlp"))]
    fn output<W: Write>(
        &self,
        writer: W,
        _env_keys: Vec<String>,
    ) -> Result<Output<W>, ConfigError> {
        match self.destination {
            LogDestination::Stdout => Ok(Output::lines(writer)),
            other => Err(ConfigError::FeatureNotBuilt {
                variable: "destination",
                value: format!("{other:?}"),
                feature: "otlp",
            }),
        }
    }

    /// Logged for a configured variable that is not set.
    const MISSING_VALUE: &'static str = "N/A";

    fn read_env_fields(&self) -> Result<ConstantValues, ConfigError> {
        let mut fields = Vec::with_capacity(self.env_vars.len());
        for (name, key) in config::env_keys(self.env_vars_source, &self.env_vars)? {
            let value = (self.env)(&name)?.unwrap_or_else(|| Self::MISSING_VALUE.to_owned());
            fields.push((key, value));
        }
        Ok(ConstantValues::texts(fields))
    }
}

/// Builds the logger from the environment variables described in
/// [`config`], writing to standard output and capturing the
/// `log` crate. Keep the guard in `main` until the end, so that every record
/// is written before the process exits.
///
/// ```no_run
/// fn main() -> Result<(), logged_model::ConfigError> {
///     let (logger, _guard) = logged_model::init_from_env()?;
///     slog::info!(logger, "Service started.");
///     Ok(())
/// }
/// ```
pub fn init_from_env() -> Result<(Logger, LogGuard), ConfigError> {
    LoggerBuilder::from_env()?.build()
}
