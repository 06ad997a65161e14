//! How the logger is configured: in code with [`LoggerBuilder`](crate::LoggerBuilder), or from
//! environment variables with [`LoggerBuilder::from_env`](crate::LoggerBuilder::from_env).
//!
//! | variable | values | default |
//! | --- | --- | --- |
//! | `LOG_LEVEL` | `trace`, `debug`, `info`, `warning` (or `warn`), `error`, `critical` | `info` |
//! | `LOG_ENV_VARS` | comma-separated variable names, e.g. `POD_NAME,NODE_NAME,APP_NAME` | none |
//! | `LOG_OVERFLOW` | `block` (nothing is ever dropped) or `drop` (the caller never waits; losses are counted and reported) | `block` |
//! | `LOG_BLOCK_TIMEOUT_MS` | in `block` mode, the longest a caller waits for room before its record is dropped and counted | none: wait as long as it takes |
//! | `LOG_CHANNEL_SIZE` | records the channel holds, 1 to 1048576 | `4096` |
//! | `LOG_DRAIN` | `line` (a prediction's caller captures what changes per record, the writer thread formats and writes in batches) or `slog-async` (slog-async over slog-json) | `line` |
//! | `LOG_FIELD_MAX_BYTES` | the longest string value written whole, in bytes, 64 or more | `4096` |
//! | `LOG_RECORD_MAX_BYTES` | the longest record, in bytes, 1024 or more | `16000` |
//! | `LOG_PROFILE_INTERVAL` | how often each model's profile is written: `60s`, `5m`, `1h` (a bare number is seconds), at least a second, or `off` | `60s` |
//! | `LOG_OUTPUT` | `stdout`, `otlp` (OTLP/HTTP only) or `both`; `otlp` and `both` need the `otlp` feature and read the standard `OTEL_EXPORTER_OTLP_*` variables (see the `otlp` module) | `stdout` |
//!
//! Two more are the models' settings ([`ModelSettings`](crate::ModelSettings)),
//! read with the rest when the logger is built and used by every model
//! wrapped with it: `LOG_SAMPLE_RATE` (0 to 1, overrides every model's
//! rate) and `LOG_HASH_KEY` (the secret of hashed fields, 16 bytes or more).
//!
//! An invalid value is an error that names the variable and the values it
//! takes; nothing falls back to a default silently.

use crate::keys;
use slog::Level;
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::sync::{Arc, Mutex, PoisonError};

/// What happens when records arrive faster than the output takes them and
/// the channel to the writer thread is full.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Overflow {
    /// The caller waits for room. Nothing is ever dropped.
    #[default]
    Block,
    /// The caller never waits: the record is dropped and counted, and the
    /// count is reported in a record of its own as soon as there is room.
    Drop,
}

/// How records travel from the caller to the writer thread. Both write the
/// same lines, with the same policies and loss reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DrainKind {
    /// A wrapped model's caller captures what changes per record (clock
    /// reading, ids, field values) and the writer thread formats the JSON
    /// line from the model's template; other records are formatted by
    /// their caller. The writer writes lines in batches. The fastest.
    #[default]
    Line,
    /// slog-async hands an owned copy of the record to its worker thread,
    /// where slog-json formats it.
    SlogAsync,
}

/// Where the records go: `LOG_OUTPUT`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogDestination {
    /// JSON lines to standard output (or the writer given to
    /// [`build_with_writer`](crate::LoggerBuilder::build_with_writer)).
    #[default]
    Stdout,
    /// OTLP/HTTP logs only (the `otlp` feature).
    Otlp,
    /// JSON lines, and the same records over OTLP (the `otlp` feature).
    Both,
}

/// The largest channel the configuration accepts.
pub const MAX_CHANNEL_SIZE: usize = 1 << 20;

/// The channel size when none is configured: a burst of 2,000 prediction
/// records (1,000 predictions) fits without waiting for the output. The
/// line drain keeps a prediction record in its channel in its captured
/// form, some 120 bytes, so a full channel typically takes half a MiB; at
/// most, every record at `LOG_RECORD_MAX_BYTES`, 64 MiB.
pub const DEFAULT_CHANNEL_SIZE: usize = 4096;

/// A configuration value that cannot be used.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// A variable holds a value outside the ones it takes.
    #[error("{variable}={value:?} is not valid; expected {expected}")]
    InvalidValue {
        /// The variable's name.
        variable: &'static str,
        /// The value found.
        value: String,
        /// The values the variable takes.
        expected: &'static str,
    },
    /// A variable's value is not valid Unicode.
    #[error("{variable} is not valid Unicode")]
    NotUnicode {
        /// The variable's name.
        variable: String,
    },
    /// An environment field's name cannot name an environment variable.
    #[error(
        "{variable}: {name:?} is not a variable name; use letters, digits and `_`, e.g. POD_NAME"
    )]
    InvalidEnvVarName {
        /// Where the list came from: `LOG_ENV_VARS`, or `env_vars` in code.
        variable: &'static str,
        /// The name as given.
        name: String,
    },
    /// An environment field would be written under a key the runtime writes.
    #[error(
        "{variable}: environment variable {name} would be logged as `{key}`, a key logged-model writes itself; leave it out"
    )]
    ReservedEnvKey {
        /// Where the list came from: `LOG_ENV_VARS`, or `env_vars` in code.
        variable: &'static str,
        /// The variable's name.
        name: String,
        /// Its lower-cased key.
        key: String,
    },
    /// Two environment fields would be written under the same key.
    #[error(
        "{variable}: environment variables {first} and {second} would both be logged as `{key}`; keep one"
    )]
    DuplicateEnvKey {
        /// Where the list came from: `LOG_ENV_VARS`, or `env_vars` in code.
        variable: &'static str,
        /// The first variable.
        first: String,
        /// The second variable.
        second: String,
        /// The key both map to.
        key: String,
    },
    /// The hash key is too short to be a secret.
    #[error(
        "{variable} holds {length} bytes; a hash key needs at least 16 (the value is not shown)"
    )]
    HashKeyTooShort {
        /// Where the key came from.
        variable: &'static str,
        /// Its length in bytes.
        length: usize,
    },
    /// The writer thread could not be started.
    #[error("the log writer thread could not be started: {0}")]
    WriterThread(String),
    /// A value asks for what this build of the crate leaves out.
    #[error(
        "{variable}={value:?} needs logged-model's `{feature}` feature, which this program was built without; build with `features = [\"{feature}\"]` or use {variable}=stdout"
    )]
    FeatureNotBuilt {
        /// The variable's name.
        variable: &'static str,
        /// The value found.
        value: String,
        /// The feature it needs.
        feature: &'static str,
    },
    /// The process already has a logger for the `log` crate.
    #[error(
        "another logger is already installed for the `log` crate; turn off `capture_log_crate` or remove the other logger"
    )]
    LogCrateTaken,
}

/// Reads a variable; `Err` for a value that is not Unicode.
pub(crate) type EnvLookup = Arc<dyn Fn(&str) -> Result<Option<String>, ConfigError> + Send + Sync>;

pub(crate) fn process_env() -> EnvLookup {
    Arc::new(|name| match std::env::var_os(name) {
        None => Ok(None),
        Some(value) => {
            value
                .into_string()
                .map(Some)
                .map_err(|_: OsString| ConfigError::NotUnicode {
                    variable: name.to_owned(),
                })
        }
    })
}

pub(crate) fn parse_level(value: &str) -> Result<Level, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "trace" => Ok(Level::Trace),
        "debug" => Ok(Level::Debug),
        "info" => Ok(Level::Info),
        "warning" | "warn" => Ok(Level::Warning),
        "error" => Ok(Level::Error),
        "critical" => Ok(Level::Critical),
        _ => Err(ConfigError::InvalidValue {
            variable: "LOG_LEVEL",
            value: value.to_owned(),
            expected: "one of trace, debug, info, warning, error, critical",
        }),
    }
}

pub(crate) fn parse_overflow(value: &str) -> Result<Overflow, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "block" => Ok(Overflow::Block),
        "drop" => Ok(Overflow::Drop),
        _ => Err(ConfigError::InvalidValue {
            variable: "LOG_OVERFLOW",
            value: value.to_owned(),
            expected: "block or drop",
        }),
    }
}

pub(crate) fn parse_drain(value: &str) -> Result<DrainKind, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "line" => Ok(DrainKind::Line),
        "slog-async" => Ok(DrainKind::SlogAsync),
        _ => Err(ConfigError::InvalidValue {
            variable: "LOG_DRAIN",
            value: value.to_owned(),
            expected: "line or slog-async",
        }),
    }
}

/// `LOG_OUTPUT`'s value; `otlp` and `both` only when `otlp_built`.
pub(crate) fn parse_destination(
    value: &str,
    otlp_built: bool,
) -> Result<LogDestination, ConfigError> {
    let destination = match value.trim().to_ascii_lowercase().as_str() {
        "stdout" => LogDestination::Stdout,
        "otlp" => LogDestination::Otlp,
        "both" => LogDestination::Both,
        _ => {
            return Err(ConfigError::InvalidValue {
                variable: "LOG_OUTPUT",
                value: value.to_owned(),
                expected: "stdout, otlp or both",
            });
        }
    };
    if destination != LogDestination::Stdout && !otlp_built {
        return Err(ConfigError::FeatureNotBuilt {
            variable: "LOG_OUTPUT",
            value: value.to_owned(),
            feature: "otlp",
        });
    }
    Ok(destination)
}

pub(crate) fn parse_channel_size(value: &str) -> Result<usize, ConfigError> {
    match value.trim().parse::<usize>() {
        Ok(size) if (1..=MAX_CHANNEL_SIZE).contains(&size) => Ok(size),
        _ => Err(ConfigError::InvalidValue {
            variable: "LOG_CHANNEL_SIZE",
            value: value.to_owned(),
            expected: "a whole number from 1 to 1048576",
        }),
    }
}

pub(crate) fn parse_block_timeout(value: &str) -> Result<std::time::Duration, ConfigError> {
    match value.trim().parse::<u64>() {
        Ok(millis) if millis > 0 => Ok(std::time::Duration::from_millis(millis)),
        _ => Err(ConfigError::InvalidValue {
            variable: "LOG_BLOCK_TIMEOUT_MS",
            value: value.to_owned(),
            expected: "a whole number of milliseconds above 0",
        }),
    }
}

/// The variable that sets how often profiles are written.
pub(crate) const PROFILE_INTERVAL_VARIABLE: &str = "LOG_PROFILE_INTERVAL";

/// How often profiles are written unless told.
pub(crate) const DEFAULT_PROFILE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

/// `LOG_PROFILE_INTERVAL`: a duration (`60s`, `5m`, `1h`; a bare number is
/// seconds) of at least a second, or `off`.
pub(crate) fn parse_profile_interval(
    value: &str,
) -> Result<Option<std::time::Duration>, ConfigError> {
    let text = value.trim();
    if text.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let parsed = match text.parse::<u64>() {
        Ok(seconds) => Ok(std::time::Duration::from_secs(seconds)),
        Err(_) => humantime::parse_duration(text),
    };
    match parsed {
        Ok(interval) if interval >= std::time::Duration::from_secs(1) => Ok(Some(interval)),
        _ => Err(ConfigError::InvalidValue {
            variable: PROFILE_INTERVAL_VARIABLE,
            value: value.to_owned(),
            expected: "a duration of a second or more (60s, 5m, 1h; a bare number is seconds), or off",
        }),
    }
}

pub(crate) fn parse_sample_rate(variable: &'static str, value: &str) -> Result<f64, ConfigError> {
    match value.trim().parse::<f64>() {
        Ok(rate) if (0.0..=1.0).contains(&rate) => Ok(rate),
        _ => Err(ConfigError::InvalidValue {
            variable,
            value: value.to_owned(),
            expected: "a number from 0 to 1",
        }),
    }
}

/// A size in bytes from `minimum` up.
pub(crate) fn parse_bytes(
    variable: &'static str,
    value: &str,
    minimum: usize,
    expected: &'static str,
) -> Result<usize, ConfigError> {
    match value.trim().parse::<usize>() {
        Ok(bytes) if bytes >= minimum => Ok(bytes),
        _ => Err(ConfigError::InvalidValue {
            variable,
            value: value.to_owned(),
            expected,
        }),
    }
}

pub(crate) fn parse_env_var_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The key each environment variable is logged under, checked: every name
/// is a variable name, no key is the runtime's own, and no two collide.
/// `variable` names where the list came from, for the errors.
pub(crate) fn env_keys(
    variable: &'static str,
    names: &[String],
) -> Result<Vec<(String, &'static str)>, ConfigError> {
    let mut keyed: Vec<(String, &'static str)> = Vec::with_capacity(names.len());
    for name in names {
        let is_variable_name = !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !is_variable_name {
            return Err(ConfigError::InvalidEnvVarName {
                variable,
                name: name.clone(),
            });
        }
        let key = name.to_ascii_lowercase();
        if keys::RESERVED.contains(&key.as_str()) {
            return Err(ConfigError::ReservedEnvKey {
                variable,
                name: name.clone(),
                key,
            });
        }
        if let Some((first, _)) = keyed.iter().find(|(_, existing)| **existing == key) {
            return Err(ConfigError::DuplicateEnvKey {
                variable,
                first: first.clone(),
                second: name.clone(),
                key,
            });
        }
        keyed.push((name.clone(), intern(key)));
    }
    Ok(keyed)
}

/// The one `&'static str` holding `key`. slog keys are `&'static str`, and
/// environment keys are only known at run time: each distinct key is stored
/// once for the life of the process, however many loggers are built.
fn intern(key: String) -> &'static str {
    static KEYS: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());
    let mut keys = KEYS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(known) = keys.get(key.as_str()) {
        return known;
    }
    let key: &'static str = Box::leak(key.into_boxed_str());
    keys.insert(key);
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_case_insensitively() {
        assert_eq!(parse_level("INFO"), Ok(Level::Info));
        assert_eq!(parse_level(" warn "), Ok(Level::Warning));
    }

    #[test]
    fn an_unknown_level_names_the_variable_and_the_choices() {
        let message = parse_level("verbose").expect_err("not a level").to_string();
        assert_eq!(
            message,
            "LOG_LEVEL=\"verbose\" is not valid; expected one of trace, debug, info, warning, error, critical"
        );
    }

    #[test]
    fn the_destination_is_one_of_three_and_otlp_needs_the_feature() {
        assert_eq!(
            parse_destination(" Stdout", false),
            Ok(LogDestination::Stdout)
        );
        assert_eq!(parse_destination("otlp", true), Ok(LogDestination::Otlp));
        assert_eq!(parse_destination("BOTH", true), Ok(LogDestination::Both));
        for value in ["otlp", "both"] {
            let error = parse_destination(value, false).expect_err("not built");
            assert_eq!(
                error.to_string(),
                format!(
                    "LOG_OUTPUT=\"{value}\" needs logged-model's `otlp` feature, which this program was built without; build with `features = [\"otlp\"]` or use LOG_OUTPUT=stdout"
                )
            );
        }
        let unknown = parse_destination("kafka", true).expect_err("unknown");
        assert_eq!(
            unknown.to_string(),
            "LOG_OUTPUT=\"kafka\" is not valid; expected stdout, otlp or both"
        );
    }

    #[test]
    fn channel_size_must_be_positive_and_bounded() {
        assert!(parse_channel_size("0").is_err());
        assert!(parse_channel_size("-3").is_err());
        assert!(parse_channel_size("1048577").is_err());
        assert_eq!(parse_channel_size("64"), Ok(64));
    }

    #[test]
    fn env_var_list_ignores_blanks_and_spaces() {
        assert_eq!(
            parse_env_var_list(" POD_NAME, ,NODE_NAME,"),
            ["POD_NAME", "NODE_NAME"]
        );
    }

    #[test]
    fn env_keys_reject_reserved_duplicate_and_malformed_names() {
        let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(matches!(
            env_keys("LOG_ENV_VARS", &names(&["STATUS"])),
            Err(ConfigError::ReservedEnvKey { .. })
        ));
        assert!(matches!(
            env_keys("LOG_ENV_VARS", &names(&["POD_NAME", "pod_name"])),
            Err(ConfigError::DuplicateEnvKey { .. })
        ));
        assert!(matches!(
            env_keys("LOG_ENV_VARS", &names(&["POD-NAME"])),
            Err(ConfigError::InvalidEnvVarName { .. })
        ));
        assert_eq!(
            env_keys("LOG_ENV_VARS", &names(&["POD_NAME"])),
            Ok(vec![("POD_NAME".to_string(), "pod_name")])
        );
    }
}

#[cfg(test)]
mod intern_tests {
    use super::*;

    #[test]
    fn a_key_is_stored_once_however_often_it_is_interned() {
        let first = intern("logged_model_intern_test".to_owned());
        let second = intern("logged_model_intern_test".to_owned());
        assert!(std::ptr::eq(first, second));
    }

    #[test]
    fn every_error_about_the_environment_fields_names_the_variable() {
        let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        for list in [&["BAD-NAME", "X"][..], &["STATUS"], &["A", "a"]] {
            let error = env_keys("LOG_ENV_VARS", &names(list)).expect_err("refused");
            assert!(error.to_string().starts_with("LOG_ENV_VARS: "), "{error}");
        }
    }
}
