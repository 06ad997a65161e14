//! The keys that open every line of the slog-async drain: `@timestamp`
//! first, then the level, the message, the ECS version, the origin, the host
//! and the process. (The line drain writes the same keys in `json_line`.)

use crate::keys;
use slog::{KV, Level, Record, Serializer};
use std::sync::Arc;
use std::time::SystemTime;

/// What is the same on every record of the process.
pub(crate) struct ProcessFields {
    pub(crate) hostname: String,
    pub(crate) pid: u32,
}

impl ProcessFields {
    pub(crate) fn of_this_process() -> Self {
        ProcessFields {
            hostname: gethostname::gethostname().to_string_lossy().into_owned(),
            pid: std::process::id(),
        }
    }
}

/// A record's opening keys followed by its logger's values. The time is
/// taken on the caller's thread when the record is made; it is formatted
/// later, on the writer's thread.
pub(crate) struct RecordHead {
    pub(crate) time: SystemTime,
    pub(crate) process: Arc<ProcessFields>,
    pub(crate) logger_values: slog::OwnedKVList,
}

impl KV for RecordHead {
    fn serialize(&self, record: &Record<'_>, serializer: &mut dyn Serializer) -> slog::Result {
        serializer.emit_arguments(
            keys::TIMESTAMP,
            &format_args!("{}", humantime::format_rfc3339_micros(self.time)),
        )?;
        serializer.emit_str(keys::LEVEL, level_name(record.level()))?;
        serializer.emit_arguments(keys::MESSAGE, record.msg())?;
        serializer.emit_str(keys::ECS, keys::ECS_VERSION)?;
        serializer.emit_str(keys::ORIGIN_FILE, record.location().file)?;
        serializer.emit_u32(keys::ORIGIN_LINE, record.location().line)?;
        serializer.emit_str(keys::HOSTNAME, &self.process.hostname)?;
        serializer.emit_u32(keys::PID, self.process.pid)?;
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
