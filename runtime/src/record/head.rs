//! The keys that open every record, written by one function for both
//! drains ([`write_head`]): `@timestamp` first, then the level, the message,
//! the ECS version, the origin, the host and the process. The line drain
//! writes them straight into its buffer, slog-json through slog's
//! serializer: both are a [`PairSink`], which a prediction record's own
//! pairs are written into too (`capture.rs`).

use crate::keys;
use crate::record::constant_values::{ConstantValue, ConstantValues};
use crate::record::timestamp::{TimestampText, format_rfc3339_micros};
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

/// A key known at compile time: its name, and `,"name":` as the line drain
/// writes it.
#[derive(Clone, Copy)]
pub(crate) struct FixedKey {
    pub(crate) name: &'static str,
    pub(crate) json: &'static [u8],
}

/// `,"key":` as bytes; `N` is the key's length plus four.
pub(crate) const fn json_key<const N: usize>(key: &str) -> [u8; N] {
    let bytes = key.as_bytes();
    let mut out = [0; N];
    out[0] = b',';
    out[1] = b'"';
    let mut index = 0;
    while index < bytes.len() {
        out[2 + index] = bytes[index];
        index += 1;
    }
    out[N - 2] = b'"';
    out[N - 1] = b':';
    out
}

/// The [`FixedKey`] of a key constant (whose text needs no escaping: a unit
/// test checks every key the runtime writes).
macro_rules! fixed_key {
    ($name:path) => {{
        const JSON: [u8; $name.len() + 4] = $crate::record::head::json_key($name);
        $crate::record::head::FixedKey {
            name: $name,
            json: &JSON,
        }
    }};
}

pub(crate) use fixed_key;

/// Where pairs of fixed keys are written: the line drain's byte buffer, or
/// any slog serializer (slog-json, on the slog-async drain's thread).
pub(crate) trait PairSink {
    /// `@timestamp`, as its text.
    fn timestamp(&mut self, key: FixedKey, text: &TimestampText) -> slog::Result;
    /// Text that needs no escaping: the level, the ECS version, an id.
    fn plain_text(&mut self, key: FixedKey, value: &str) -> slog::Result;
    /// ASCII text that needs no escaping, as bytes: an id.
    fn plain_bytes(&mut self, key: FixedKey, value: &[u8]) -> slog::Result;
    /// Any text.
    fn text(&mut self, key: FixedKey, value: &str) -> slog::Result;
    /// Formatted text: the message.
    fn arguments(&mut self, key: FixedKey, value: &std::fmt::Arguments<'_>) -> slog::Result;
    /// A whole number.
    fn number(&mut self, key: FixedKey, value: u64) -> slog::Result;
    /// A float.
    fn float(&mut self, key: FixedKey, value: f64) -> slog::Result;
    /// Constant pairs: the host and the process.
    fn constants(&mut self, record: &Record<'_>, values: &ConstantValues) -> slog::Result;
}

/// Writes a record's head into `sink`: the one place that says which keys
/// open a record, and in which order.
#[inline(always)]
pub(crate) fn write_head<S: PairSink + ?Sized>(
    sink: &mut S,
    time: SystemTime,
    record: &Record<'_>,
    process: &ProcessFields,
) -> slog::Result {
    write_timestamp(sink, &format_rfc3339_micros(time))?;
    write_head_after_timestamp(sink, record, process)
}

/// `@timestamp`, which opens every record.
#[inline(always)]
pub(crate) fn write_timestamp<S: PairSink + ?Sized>(
    sink: &mut S,
    text: &TimestampText,
) -> slog::Result {
    sink.timestamp(fixed_key!(keys::TIMESTAMP), text)
}

/// The rest of the head, the same for every record of a level, message and
/// origin (a template renders it once).
#[inline(always)]
pub(crate) fn write_head_after_timestamp<S: PairSink + ?Sized>(
    sink: &mut S,
    record: &Record<'_>,
    process: &ProcessFields,
) -> slog::Result {
    sink.plain_text(fixed_key!(keys::LEVEL), level_name(record.level()))?;
    sink.arguments(fixed_key!(keys::MESSAGE), record.msg())?;
    sink.plain_text(fixed_key!(keys::ECS), keys::ECS_VERSION)?;
    sink.text(fixed_key!(keys::ORIGIN_FILE), record.location().file)?;
    sink.number(
        fixed_key!(keys::ORIGIN_LINE),
        u64::from(record.location().line),
    )?;
    sink.constants(record, &process.0)
}

impl PairSink for dyn Serializer + '_ {
    fn timestamp(&mut self, key: FixedKey, text: &TimestampText) -> slog::Result {
        // Only ASCII digits and punctuation were written into it.
        self.emit_str(key.name, std::str::from_utf8(text).unwrap_or_default())
    }

    fn plain_text(&mut self, key: FixedKey, value: &str) -> slog::Result {
        self.emit_str(key.name, value)
    }

    fn plain_bytes(&mut self, key: FixedKey, value: &[u8]) -> slog::Result {
        let text = std::str::from_utf8(value).map_err(|_| slog::Error::Other)?;
        self.emit_str(key.name, text)
    }

    fn text(&mut self, key: FixedKey, value: &str) -> slog::Result {
        self.emit_str(key.name, value)
    }

    fn arguments(&mut self, key: FixedKey, value: &std::fmt::Arguments<'_>) -> slog::Result {
        self.emit_arguments(key.name, value)
    }

    fn number(&mut self, key: FixedKey, value: u64) -> slog::Result {
        self.emit_u64(key.name, value)
    }

    fn float(&mut self, key: FixedKey, value: f64) -> slog::Result {
        self.emit_f64(key.name, value)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_key_is_the_key_between_a_comma_quotes_and_a_colon() {
        let key = fixed_key!(keys::ORIGIN_FILE);
        assert_eq!(key.name, "log.origin.file.name");
        assert_eq!(key.json, b",\"log.origin.file.name\":");
    }
}
