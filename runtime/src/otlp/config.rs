//! [`OtlpConfig`]: where and how the OTLP output sends, read from the
//! standard OpenTelemetry exporter variables, checked once when the logger
//! is built.

use crate::config::{ConfigError, EnvLookup};
use std::time::Duration;

/// How request bodies are compressed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Compression {
    /// gzip (`Content-Encoding: gzip`): the default here, since log records
    /// compress about tenfold.
    #[default]
    Gzip,
    /// Sent as they are.
    None,
}

/// The OTLP/HTTP logs output's settings. [`from_env`](Self::from_env) reads
/// them as the OpenTelemetry specification names them; each `..._LOGS_...`
/// variable wins over its general form.
///
/// ```
/// use logged_model::otlp::{Compression, OtlpConfig};
/// use std::time::Duration;
///
/// let config = OtlpConfig::new("http://collector:4318/v1/logs")
///     .header("authorization", "Bearer token")
///     .timeout(Duration::from_secs(5))
///     .compression(Compression::None);
/// assert_eq!(config.endpoint(), "http://collector:4318/v1/logs");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtlpConfig {
    endpoint: String,
    headers: Vec<(String, String)>,
    timeout: Duration,
    compression: Compression,
    retry_for: Duration,
    max_batch_records: usize,
    max_batch_bytes: usize,
    resource: Vec<(String, String)>,
}

/// The endpoint when no variable names one: a collector on this host.
pub const DEFAULT_ENDPOINT: &str = "http://localhost:4318/v1/logs";
/// The specification's default request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest request timeout taken: an hour.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(3600);
/// How long a batch is retried (connection errors, 429, 502, 503, 504)
/// before its records are counted as failed.
pub const DEFAULT_RETRY_FOR: Duration = Duration::from_secs(30);
/// The most records one request carries.
pub const DEFAULT_MAX_BATCH_RECORDS: usize = 512;
/// The most bytes of JSON lines one request carries (before encoding).
pub const DEFAULT_MAX_BATCH_BYTES: usize = 1 << 20;

impl Default for OtlpConfig {
    fn default() -> Self {
        OtlpConfig::new(DEFAULT_ENDPOINT)
    }
}

impl OtlpConfig {
    /// Sends to `endpoint` (the full URL of the logs signal, e.g.
    /// `http://collector:4318/v1/logs`), with the defaults otherwise.
    pub fn new(endpoint: impl Into<String>) -> Self {
        OtlpConfig {
            endpoint: endpoint.into(),
            headers: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            compression: Compression::default(),
            retry_for: DEFAULT_RETRY_FOR,
            max_batch_records: DEFAULT_MAX_BATCH_RECORDS,
            max_batch_bytes: DEFAULT_MAX_BATCH_BYTES,
            resource: Vec::new(),
        }
    }

    /// Reads `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT` (used as it is), else
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` with `/v1/logs` appended, else
    /// [`DEFAULT_ENDPOINT`]; `OTEL_EXPORTER_OTLP_[LOGS_]HEADERS`
    /// (`key=value,...`, values percent-decoded),
    /// `OTEL_EXPORTER_OTLP_[LOGS_]TIMEOUT` (milliseconds),
    /// `OTEL_EXPORTER_OTLP_[LOGS_]COMPRESSION` (`gzip` or `none`),
    /// `OTEL_EXPORTER_OTLP_[LOGS_]PROTOCOL` (only `http/protobuf`),
    /// `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES`.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_env_lookup(&crate::config::process_env())
    }

    pub(crate) fn from_env_lookup(env: &EnvLookup) -> Result<Self, ConfigError> {
        let either = |logs: &'static str, general: &'static str| -> Result<_, ConfigError> {
            Ok(match env(logs)? {
                Some(value) => Some((logs, value)),
                None => env(general)?.map(|value| (general, value)),
            })
        };
        let mut config = match env("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT")? {
            Some(endpoint) => OtlpConfig::new(endpoint),
            None => match env("OTEL_EXPORTER_OTLP_ENDPOINT")? {
                Some(base) => OtlpConfig::new(format!("{}/v1/logs", base.trim_end_matches('/'))),
                None => OtlpConfig::default(),
            },
        };
        if let Some((variable, protocol)) = either(
            "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        )? && protocol != "http/protobuf"
        {
            return Err(ConfigError::InvalidValue {
                variable,
                value: protocol,
                expected: "http/protobuf (the only protocol this output speaks)",
            });
        }
        if let Some((variable, headers)) = either(
            "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
            "OTEL_EXPORTER_OTLP_HEADERS",
        )? {
            config.headers = parse_pairs(variable, &headers)?;
        }
        if let Some((variable, millis)) = either(
            "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT",
            "OTEL_EXPORTER_OTLP_TIMEOUT",
        )? {
            config.timeout = millis
                .trim()
                .parse::<u64>()
                .ok()
                .map(Duration::from_millis)
                .filter(|timeout| (Duration::from_millis(1)..=MAX_TIMEOUT).contains(timeout))
                .ok_or(ConfigError::InvalidValue {
                    variable,
                    value: millis,
                    expected: "a whole number of milliseconds, 1 to 3600000",
                })?;
        }
        if let Some((variable, compression)) = either(
            "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION",
            "OTEL_EXPORTER_OTLP_COMPRESSION",
        )? {
            config.compression = match compression.trim() {
                "gzip" => Compression::Gzip,
                "none" => Compression::None,
                _ => {
                    return Err(ConfigError::InvalidValue {
                        variable,
                        value: compression,
                        expected: "gzip or none",
                    });
                }
            };
        }
        if let Some(attributes) = env("OTEL_RESOURCE_ATTRIBUTES")? {
            config.resource = parse_pairs("OTEL_RESOURCE_ATTRIBUTES", &attributes)?;
        }
        if let Some(name) = env("OTEL_SERVICE_NAME")? {
            config.resource.retain(|(key, _)| key != "service.name");
            config.resource.push(("service.name".to_owned(), name));
        }
        config.check()?;
        Ok(config)
    }

    /// Adds a header to every request.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The longest one request may take (10 s by default; 1 ms to
    /// [`MAX_TIMEOUT`], else building the logger fails).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How request bodies are compressed (gzip by default).
    pub fn compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    /// How long a batch that meets a connection error, 429, 502, 503 or 504
    /// is retried before its records are counted as failed (30 s by
    /// default). The writer thread waits meanwhile: the channel fills and
    /// the overflow policy decides what callers do.
    pub fn retry_for(mut self, retry_for: Duration) -> Self {
        self.retry_for = retry_for;
        self
    }

    /// The most records (512 by default) and bytes of JSON lines (1 MiB)
    /// one request carries; at least one record each.
    pub fn max_batch(mut self, records: usize, bytes: usize) -> Self {
        self.max_batch_records = records.max(1);
        self.max_batch_bytes = bytes.max(1);
        self
    }

    /// A resource attribute, besides the process's (`service.name`
    /// replaces the default).
    pub fn resource_attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let key = key.into();
        self.resource.retain(|(k, _)| *k != key);
        self.resource.push((key, value.into()));
        self
    }

    /// The URL records are posted to.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub(crate) fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    pub(crate) fn request_timeout(&self) -> Duration {
        self.timeout
    }

    pub(crate) fn body_compression(&self) -> Compression {
        self.compression
    }

    pub(crate) fn retry_duration(&self) -> Duration {
        self.retry_for
    }

    pub(crate) fn batch_limits(&self) -> (usize, usize) {
        (self.max_batch_records, self.max_batch_bytes)
    }

    /// The resource attributes set here, `service.name` included (the
    /// specification's `unknown_service:<executable>` when unset).
    pub(crate) fn resource_attributes(&self) -> Vec<(String, String)> {
        let mut attributes = self.resource.clone();
        if !attributes.iter().any(|(key, _)| key == "service.name") {
            let executable = std::env::current_exe()
                .ok()
                .and_then(|path| path.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_default();
            attributes.push((
                "service.name".to_owned(),
                format!("unknown_service:{executable}"),
            ));
        }
        attributes
    }

    /// Refuses an endpoint this build cannot send to, and a timeout out of
    /// bounds.
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        if !(Duration::from_millis(1)..=MAX_TIMEOUT).contains(&self.timeout) {
            return Err(ConfigError::InvalidValue {
                variable: "OTEL_EXPORTER_OTLP_TIMEOUT",
                value: format!("{}", self.timeout.as_millis()),
                expected: "a whole number of milliseconds, 1 to 3600000",
            });
        }
        let supported = self.endpoint.starts_with("http://")
            || (cfg!(feature = "otlp-tls") && self.endpoint.starts_with("https://"));
        if !supported || self.endpoint.len() <= "https://".len() {
            return Err(ConfigError::InvalidValue {
                variable: "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
                value: self.endpoint.clone(),
                expected: if cfg!(feature = "otlp-tls") {
                    "an http:// or https:// URL"
                } else {
                    "an http:// URL (https:// needs the `otlp-tls` feature)"
                },
            });
        }
        Ok(())
    }
}

/// `key=value,key=value`, values percent-decoded (W3C Baggage's format, as
/// the specification says).
fn parse_pairs(variable: &'static str, text: &str) -> Result<Vec<(String, String)>, ConfigError> {
    let invalid = || ConfigError::InvalidValue {
        variable,
        value: text.to_owned(),
        expected: "key=value pairs separated by commas",
    };
    text.split(',')
        .filter(|pair| !pair.trim().is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').ok_or_else(invalid)?;
            let key = key.trim();
            if key.is_empty() {
                return Err(invalid());
            }
            let value = percent_decode(value.trim()).ok_or_else(invalid)?;
            Ok((key.to_owned(), value))
        })
        .collect()
}

/// `%XX` escapes decoded; `None` for a broken escape or bytes that are not
/// UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::Arc;

    fn read(vars: &[(&str, &str)]) -> Result<OtlpConfig, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let env: EnvLookup = Arc::new(move |name: &str| Ok(vars.get(name).cloned()));
        OtlpConfig::from_env_lookup(&env)
    }

    #[test]
    fn the_logs_endpoint_wins_and_the_general_one_gets_the_signal_path() {
        assert_eq!(
            read(&[]).map(|c| c.endpoint),
            Ok(DEFAULT_ENDPOINT.to_owned())
        );
        let general = read(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318/")]);
        assert_eq!(
            general.map(|c| c.endpoint),
            Ok("http://c:4318/v1/logs".to_owned())
        );
        let both = read(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
            ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://l:9/custom"),
        ]);
        assert_eq!(both.map(|c| c.endpoint), Ok("http://l:9/custom".to_owned()));
    }

    #[test]
    fn headers_timeout_compression_and_resource_are_read() {
        let config = read(&[
            ("OTEL_EXPORTER_OTLP_HEADERS", "a=1, b = x%20y"),
            ("OTEL_EXPORTER_OTLP_LOGS_HEADERS", "api-key=s%3Dcret"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "none"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "service.name=a,deployment.environment=prod",
            ),
            ("OTEL_SERVICE_NAME", "credit-risk"),
        ])
        .expect("valid");
        assert_eq!(
            config.headers,
            [("api-key".to_owned(), "s=cret".to_owned())]
        );
        assert_eq!(config.timeout, Duration::from_millis(2500));
        assert_eq!(config.compression, Compression::None);
        assert_eq!(
            config.resource_attributes(),
            [
                ("deployment.environment".to_owned(), "prod".to_owned()),
                ("service.name".to_owned(), "credit-risk".to_owned())
            ]
        );
        let gzip = read(&[
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "none"),
            ("OTEL_EXPORTER_OTLP_LOGS_COMPRESSION", "gzip"),
        ]);
        assert_eq!(gzip.map(|c| c.compression), Ok(Compression::Gzip));
        let general = read(&[("OTEL_EXPORTER_OTLP_HEADERS", "a=1, b = x%20y")]).expect("valid");
        assert_eq!(
            general.headers,
            [
                ("a".to_owned(), "1".to_owned()),
                ("b".to_owned(), "x y".to_owned())
            ]
        );
        let unnamed = OtlpConfig::default().resource_attributes();
        assert!(unnamed[0].1.starts_with("unknown_service:"), "{unnamed:?}");
    }

    #[test]
    fn the_builder_sets_what_the_exporter_reads() {
        let config = OtlpConfig::new("http://c:4318/v1/logs")
            .header("authorization", "Bearer t")
            .timeout(Duration::from_millis(1500))
            .compression(Compression::None)
            .retry_for(Duration::from_secs(3))
            .max_batch(0, 2048)
            .resource_attribute("deployment.environment", "staging")
            .resource_attribute("deployment.environment", "prod")
            .resource_attribute("service.name", "svc");
        assert_eq!(config.endpoint(), "http://c:4318/v1/logs");
        assert_eq!(
            config.headers(),
            [("authorization".to_owned(), "Bearer t".to_owned())]
        );
        assert_eq!(config.request_timeout(), Duration::from_millis(1500));
        assert_eq!(config.body_compression(), Compression::None);
        assert_eq!(config.retry_duration(), Duration::from_secs(3));
        assert_eq!(config.batch_limits(), (1, 2048), "at least one record");
        assert_eq!(
            config.resource_attributes(),
            [
                ("deployment.environment".to_owned(), "prod".to_owned()),
                ("service.name".to_owned(), "svc".to_owned())
            ]
        );
        let named_otherwise = OtlpConfig::default()
            .resource_attribute("a", "b")
            .resource_attributes();
        assert_eq!(named_otherwise[0], ("a".to_owned(), "b".to_owned()));
        assert!(
            named_otherwise[1].1.starts_with("unknown_service:"),
            "{named_otherwise:?}"
        );
        assert_eq!(DEFAULT_MAX_BATCH_BYTES, 1 << 20, "1 MiB, as documented");
        let defaults = OtlpConfig::default();
        assert_eq!(defaults.request_timeout(), DEFAULT_TIMEOUT);
        assert_eq!(defaults.retry_duration(), DEFAULT_RETRY_FOR);
        assert_eq!(defaults.body_compression(), Compression::Gzip);
        assert_eq!(
            defaults.batch_limits(),
            (DEFAULT_MAX_BATCH_RECORDS, DEFAULT_MAX_BATCH_BYTES)
        );
        assert!(defaults.headers().is_empty());
    }

    #[test]
    fn https_needs_the_tls_feature_and_other_schemes_are_refused() {
        let https = OtlpConfig::new("https://collector:4318/v1/logs").check();
        assert_eq!(https.is_ok(), cfg!(feature = "otlp-tls"), "{https:?}");
        for endpoint in ["ftp://collector/v1/logs", "http://", "collector:4318"] {
            assert!(OtlpConfig::new(endpoint).check().is_err(), "{endpoint}");
        }
        assert!(OtlpConfig::new("http://c:4318/v1/logs").check().is_ok());
        for timeout in [Duration::ZERO, Duration::MAX] {
            let config = OtlpConfig::new("http://c:4318/v1/logs").timeout(timeout);
            assert!(config.check().is_err(), "{timeout:?}");
        }
    }

    #[test]
    fn bad_values_are_refused_by_name() {
        for (variable, value) in [
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "10s"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "0"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "3600001"),
            ("OTEL_EXPORTER_OTLP_LOGS_COMPRESSION", "zstd"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "novalue"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "a=%zz"),
            ("OTEL_RESOURCE_ATTRIBUTES", "=x"),
        ] {
            match read(&[(variable, value)]) {
                Err(ConfigError::InvalidValue {
                    variable: named, ..
                }) => {
                    assert_eq!(named, variable)
                }
                other => panic!("{variable}={value}: {other:?}"),
            }
        }
        assert!(read(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")]).is_ok());
        let endpoint = read(&[("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "collector:4318")]);
        assert!(
            matches!(endpoint, Err(ConfigError::InvalidValue { ref value, .. }) if value == "collector:4318"),
            "{endpoint:?}"
        );
    }
}
