//! [`ModelSettings`]: what a wrapped model needs beyond its logger, in code
//! or from the environment: the sampling rate that overrides the attribute's,
//! and the key of hashed fields.

use crate::config::{self, ConfigError, EnvLookup};
use crate::hashing::{HASH_KEY_VARIABLE, HashKey};
use crate::pipeline::log_output::LogOutput;
use std::sync::Arc;

/// The environment variable that overrides every model's sampling rate.
pub const SAMPLE_RATE_VARIABLE: &str = "LOG_SAMPLE_RATE";

/// Settings of a wrapped model. [`Logged::new`](crate::Logged::new) reads
/// them from the environment ([`ModelSettings::from_env`]);
/// [`Logged::with_settings`](crate::Logged::with_settings) takes them from code.
///
/// ```
/// use logged_model::{HashKey, ModelSettings};
///
/// let settings = ModelSettings::new()
///     .sample_rate(0.25)?
///     .hash_key(HashKey::new("sixteen bytes or more")?);
/// assert_eq!(settings.sample_rate_override(), Some(0.25));
/// # Ok::<(), logged_model::ConfigError>(())
/// ```
#[derive(Clone, Default)]
pub struct ModelSettings {
    sample_rate: Option<f64>,
    hash_key: Option<HashKey>,
    output: Option<LogOutput>,
}

impl std::fmt::Debug for ModelSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelSettings")
            .field("sample_rate", &self.sample_rate)
            .field("hash_key", &self.hash_key)
            .field("output", &self.output.is_some())
            .finish()
    }
}

impl ModelSettings {
    /// No override of the attribute's rate, and no hash key.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads `LOG_SAMPLE_RATE` (a number from 0 to 1 that overrides every
    /// model's rate) and `LOG_HASH_KEY` (at least 16 bytes; empty counts as
    /// unset) from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_env_lookup(&config::process_env())
    }

    /// Like [`from_env`](Self::from_env), with variables read from `lookup`.
    pub fn from_env_with(
        lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Result<Self, ConfigError> {
        let lookup: EnvLookup = Arc::new(move |name: &str| Ok(lookup(name)));
        Self::from_env_lookup(&lookup)
    }

    pub(crate) fn from_env_lookup(env: &EnvLookup) -> Result<Self, ConfigError> {
        let mut settings = ModelSettings::new();
        if let Some(rate) = env(SAMPLE_RATE_VARIABLE)? {
            settings.sample_rate = Some(config::parse_sample_rate(SAMPLE_RATE_VARIABLE, &rate)?);
        }
        if let Some(key) = env(HASH_KEY_VARIABLE)?.filter(|key| !key.is_empty()) {
            settings.hash_key = Some(HashKey::named(HASH_KEY_VARIABLE, key.as_bytes())?);
        }
        Ok(settings)
    }

    /// Logs this share of every model's predictions (0 to 1), whatever the
    /// attribute says.
    pub fn sample_rate(mut self, rate: f64) -> Result<Self, ConfigError> {
        self.sample_rate = Some(config::parse_sample_rate("sample_rate", &rate.to_string())?);
        Ok(self)
    }

    /// The key of hashed fields.
    pub fn hash_key(mut self, key: HashKey) -> Self {
        self.hash_key = Some(key);
        self
    }

    /// The log's channel an [`AsyncModel`](crate::AsyncModel) awaits room
    /// in. Not needed: a model wrapped with a [`Logger`](crate::Logger)
    /// awaits room in that logger's own output, so a stalled log output never
    /// blocks the executor's threads.
    #[deprecated(
        since = "0.1.0",
        note = "a wrapped AsyncModel awaits room in its logger's own output; remove the call"
    )]
    pub fn output(mut self, output: LogOutput) -> Self {
        self.output = Some(output);
        self
    }

    pub(crate) fn log_output(&self) -> Option<&LogOutput> {
        self.output.as_ref()
    }

    /// The rate that overrides the attribute's, if any.
    pub fn sample_rate_override(&self) -> Option<f64> {
        self.sample_rate
    }

    /// Whether a hash key is set.
    pub fn has_hash_key(&self) -> bool {
        self.hash_key.is_some()
    }

    pub(crate) fn key(&self) -> Option<&HashKey> {
        self.hash_key.as_ref()
    }
}
