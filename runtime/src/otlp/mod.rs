//! The OTLP/HTTP logs output (the `otlp` feature): the same records as the
//! JSON lines, sent as OpenTelemetry log records to a collector, with every
//! record counted once as exported, dropped or failed.
//!
//! Choose it with `LOG_OUTPUT=otlp` (OTLP only) or `LOG_OUTPUT=both` (JSON
//! lines and OTLP), or [`LoggerBuilder::destination`](crate::LoggerBuilder::destination).
//! The endpoint, headers, timeout and compression come from the standard
//! variables ([`OtlpConfig::from_env`]) or from [`LoggerBuilder::otlp`](crate::LoggerBuilder::otlp).
//!
//! ```no_run
//! # #[cfg(feature = "otlp")] {
//! use logged_model::{LogDestination, LoggerBuilder};
//! use logged_model::otlp::OtlpConfig;
//!
//! let (logger, guard) = LoggerBuilder::new()
//!     .destination(LogDestination::Both)
//!     .otlp(OtlpConfig::new("http://127.0.0.1:4318/v1/logs"))
//!     .build()?;
//! logged_model::slog::info!(logger, "Service started.");
//! let stats = guard.finish();
//! eprintln!("{} exported, {} failed", stats.exported, stats.export_failed);
//! # }
//! # Ok::<(), logged_model::ConfigError>(())
//! ```
//!
//! **How it delivers.** The writer thread formats each record as a JSON line
//! (the caps, redaction and hashing applied as for stdout), maps it (the
//! table in `mapping.rs` and the README), and posts the lines it has in
//! batches of at most 512 records and 1 MiB, each one request, gzip by
//! default. Connection errors, timeouts, 429, 502, 503 and 504 are retried
//! (after `Retry-After` when the server gives one, else 100 ms doubling to
//! 5 s) for up to [`OtlpConfig::retry_for`], 30 s by default; any other
//! answer, 400 among them, fails the batch at once. A partial success
//! counts its rejected records as failed. While a batch is retried the
//! writer waits, so the channel fills and callers meet the configured
//! overflow policy: `block` waits (up to `LOG_BLOCK_TIMEOUT_MS`), `drop`
//! drops and counts; the output reads as stalled. On shutdown,
//! [`LogGuard::finish_within`](crate::LogGuard::finish_within) bounds the
//! wait, and what is still queued is counted unwritten, never twice.
//!
//! **What is counted.** [`LogStats`](crate::LogStats)`::exported` and
//! `export_failed`, beside `dropped` and `unwritten_at_shutdown`: every
//! record logged ends in exactly one of them. Each failure is also said on
//! standard error with its reason (the receiver's status and the start of
//! its answer).
//!
//! | file | its one job |
//! | --- | --- |
//! | `config.rs` | [`OtlpConfig`]: the endpoint and its settings, from the standard variables |
//! | `mapping.rs` | a JSON record as an OTLP log record, resource and scope |
//! | `exporter.rs` | batches, encoding, gzip, the requests and their retries |

pub(crate) mod config;
pub(crate) mod exporter;
pub(crate) mod mapping;

pub use config::{
    Compression, DEFAULT_ENDPOINT, DEFAULT_MAX_BATCH_BYTES, DEFAULT_MAX_BATCH_RECORDS,
    DEFAULT_RETRY_FOR, DEFAULT_TIMEOUT, MAX_TIMEOUT, OtlpConfig,
};
