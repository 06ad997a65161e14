//! The keys that open every record, written by one [`KV`] for both drains:
//! `@timestamp` first, then the level, the message, the ECS version, the
//! origin, the host and the process.

use super::constant_values::{ConstantValue, ConstantValues};
use super::timestamp::format_rfc3339_micros;
use crate::keys;
use slog::{KV, Level, OwnedKVList, Record, Serializer};
use std::sync::Arc;
use std::time::SystemTime;

/// What is the same on every record of the process: `host.hostname` and
/// `process.pid`.
pub(crate) struct ProcessFields(ConstantValues);

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

/// A record's opening keys. The time is taken when the record is made.
pub(crate) struct RecordHead<'a> {
    pub(crate) time: SystemTime,
    pub(crate) process: &'a ProcessFields,
}

impl KV for RecordHead<'_> {
    fn serialize(&self, record: &Record<'_>, serializer: &mut dyn Serializer) -> slog::Result {
        let time = format_rfc3339_micros(self.time);
        // Only ASCII digits and punctuation were written into it.
        let time = std::str::from_utf8(&time).unwrap_or_default();
        serializer.emit_str(keys::TIMESTAMP, time)?;
        serializer.emit_str(keys::LEVEL, level_name(record.level()))?;
        serializer.emit_arguments(keys::MESSAGE, record.msg())?;
        serializer.emit_str(keys::ECS, keys::ECS_VERSION)?;
        serializer.emit_str(keys::ORIGIN_FILE, record.location().file)?;
        serializer.emit_u32(keys::ORIGIN_LINE, record.location().line)?;
        self.process.0.serialize(record, serializer)
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
        RecordHead {
            time: self.time,
            process: &self.process,
        }
        .serialize(record, serializer)?;
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
