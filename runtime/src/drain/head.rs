//! The keys that open every record, written by one function for both
//! drains ([`write_head`]): `@timestamp` first, then the level, the message,
//! the ECS version, the origin, the host and the process. The line drain
//! writes them straight into its buffer, slog-json through slog's serializer.

use super::constant_values::{ConstantValue, ConstantValues};
use super::timestamp::format_rfc3339_micros;
use crate::keys;
use slog::{KV, Level, OwnedKVList, Record, Serializer};
use std::sync::Arc;
use std::time::SystemTime;

/// What is the same on every record of the process: `host.hostname` and
/// `process.pid`.
pub(crate) struct ProcessFields(pub(crate) ConstantValues);

impl ProcessFields {
    pub(crate) fn of_this_process() -> Self {
        let hostname = gethostname::gethostname().to_string_lossy().into_owned();
        ProcessFields(ConstantValues::new(vec![
            (keys::HOSTNAME, ConstantValue::Text(hostname)),
            (
                keys::PID,
                ConstantValue::Number(u64::from(std::process::id())),
            ),
        ]))
    }
}

/// Where a record's head is written: the line drain's byte buffer, or any
/// slog serializer (slog-json, on the slog-async drain's thread).
pub(crate) trait HeadSink {
    /// `@timestamp`.
    fn timestamp(&mut self, key: &'static str, time: SystemTime) -> slog::Result;
    /// A value that needs no escaping: the level, the ECS version.
    fn plain_text(&mut self, key: &'static str, value: &'static str) -> slog::Result;
    /// Any text.
    fn text(&mut self, key: &'static str, value: &str) -> slog::Result;
    /// Formatted text: the message.
    fn arguments(&mut self, key: &'static str, value: &std::fmt::Arguments<'_>) -> slog::Result;
    /// A whole number.
    fn number(&mut self, key: &'static str, value: u32) -> slog::Result;
    /// Constant pairs: the host and the process.
    fn constants(&mut self, record: &Record<'_>, values: &ConstantValues) -> slog::Result;
}

/// Writes a record's head into `sink`: the one place that says which keys
/// open a record, and in which order.
#[inline(always)]
pub(crate) fn write_head<S: HeadSink + ?Sized>(
    sink: &mut S,
    time: SystemTime,
    record: &Record<'_>,
    process: &ProcessFields,
) -> slog::Result {
    sink.timestamp(keys::TIMESTAMP, time)?;
    sink.plain_text(keys::LEVEL, level_name(record.level()))?;
    sink.arguments(keys::MESSAGE, record.msg())?;
    sink.plain_text(keys::ECS, keys::ECS_VERSION)?;
    sink.text(keys::ORIGIN_FILE, record.location().file)?;
    sink.number(keys::ORIGIN_LINE, record.location().line)?;
    sink.constants(record, &process.0)
}

impl HeadSink for dyn Serializer + '_ {
    fn timestamp(&mut self, key: &'static str, time: SystemTime) -> slog::Result {
        let text = format_rfc3339_micros(time);
        // Only ASCII digits and punctuation were written into it.
        self.emit_str(key, std::str::from_utf8(&text).unwrap_or_default())
    }

    fn plain_text(&mut self, key: &'static str, value: &'static str) -> slog::Result {
        self.emit_str(key, value)
    }

    fn text(&mut self, key: &'static str, value: &str) -> slog::Result {
        self.emit_str(key, value)
    }

    fn arguments(&mut self, key: &'static str, value: &std::fmt::Arguments<'_>) -> slog::Result {
        self.emit_arguments(key, value)
    }

    fn number(&mut self, key: &'static str, value: u32) -> slog::Result {
        self.emit_u32(key, value)
    }

    fn constants(&mut self, record: &Record<'_>, values: &ConstantValues) -> slog::Result {
        values.serialize(record, self)
    }
}

/// The head of a record and its logger's values, owned, for a record that
/// is formatted later, on another thread (the slog-async drain).
pub(crate) struct OwnedRecordHead {
    pub(crate) time: SystemTime,
    pub(crate) process: Arc<ProcessFields>,
    pub(crate) logger_values: OwnedKVList,
}

impl KV for OwnedRecordHead {
    fn serialize(&self, record: &Record<'_>, serializer: &mut dyn Serializer) -> slog::Result {
        write_head(serializer, self.time, record, &self.process)?;
        self.logger_values.serialize(record, serializer)
    }
}

/// The level as Elastic Common Schema examples write it.
pub(crate) fn level_name(level: Level) -> &'static str {
    match level {
        Level::Critical => "CRITICAL",
        Level::Error => "ERROR",
        Level::Warning => "WARN",
        Level::Info => "INFO",
        Level::Debug => "DEBUG",
        Level::Trace => "TRACE",
    }
}
