//! Sends the records of crates that log through the `log` facade into the
//! same drain, so a process that uses this runtime prints only JSON lines.
//!
//! Written here rather than taken from slog-stdlog, which routes through
//! slog-scope's global logger; this bridge holds the logger it was given.

use crate::config::ConfigError;
use crate::keys;
use slog::{BorrowedKV, Drain, Level, Logger, Record, RecordLocation, RecordStatic};

struct LogBridge {
    logger: Logger,
}

/// Installs the bridge as the `log` crate's logger.
pub(crate) fn install(logger: Logger, level: Level) -> Result<(), ConfigError> {
    log::set_boxed_logger(Box::new(LogBridge { logger }))
        .map_err(|_| ConfigError::LogCrateTaken)?;
    log::set_max_level(level_filter(level));
    Ok(())
}

fn level_filter(level: Level) -> log::LevelFilter {
    match level {
        Level::Critical | Level::Error => log::LevelFilter::Error,
        Level::Warning => log::LevelFilter::Warn,
        Level::Info => log::LevelFilter::Info,
        Level::Debug => log::LevelFilter::Debug,
        Level::Trace => log::LevelFilter::Trace,
    }
}

fn slog_level(level: log::Level) -> Level {
    match level {
        log::Level::Error => Level::Error,
        log::Level::Warn => Level::Warning,
        log::Level::Info => Level::Info,
        log::Level::Debug => Level::Debug,
        log::Level::Trace => Level::Trace,
    }
}

impl log::Log for LogBridge {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        self.logger.is_enabled(slog_level(metadata.level()))
    }

    fn log(&self, record: &log::Record<'_>) {
        let location = RecordLocation {
            file: record.file_static().unwrap_or("<unknown>"),
            line: record.line().unwrap_or(0),
            column: 0,
            function: "",
            module: record.module_path_static().unwrap_or("<unknown>"),
        };
        let record_static = RecordStatic {
            location: &location,
            tag: "",
            level: slog_level(record.level()),
        };
        let kv = slog::SingleKV(keys::LOGGER, record.target());
        self.logger
            .log(&Record::new(&record_static, record.args(), BorrowedKV(&kv)));
    }

    fn flush(&self) {}
}
