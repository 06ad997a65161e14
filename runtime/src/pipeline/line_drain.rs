//! The line drain, the default, and its assembly. A wrapped model's
//! records are captured and formatted by the writer thread (see `link.rs`);
//! any other record that reaches the drain through slog is formatted by
//! its caller as a JSON line, into a buffer it reuses, and queued finished.

use crate::config::ConfigError;
use crate::pipeline::guard::LogGuard;
use crate::pipeline::link::DrainLink;
use crate::pipeline::parts::{DrainConfig, Pipeline, Shared};
use crate::pipeline::queue::LineQueue;
use crate::pipeline::writer;
use crate::record::caps::SizeCaps;
use crate::record::head::ProcessFields;
use crate::record::json_line::{LoggerValues, format_record};
use crate::record::loss_report::ReportFormatter;
use slog::{Drain, Level, Logger, Never, OwnedKV, OwnedKVList, Record};
use std::cell::RefCell;
use std::io::Write;
use std::sync::Arc;
use std::time::SystemTime;

/// A line buffer larger than this is not kept for the next record.
const RETAINED_LINE_BYTES: usize = 64 << 10;

thread_local! {
    static LINE: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The slog drain: formats a record that reaches it through slog on the
/// caller's thread, and queues the line.
pub(crate) struct LineDrain {
    pub(crate) queue: LineQueue,
    pub(crate) level: Level,
    pub(crate) process: Arc<ProcessFields>,
    pub(crate) caps: SizeCaps,
}

impl LineDrain {
    fn format_and_queue(&self, line: &mut Vec<u8>, record: &Record<'_>, values: &OwnedKVList) {
        line.clear();
        format_record(
            line,
            SystemTime::now(),
            &self.process,
            self.caps,
            record,
            LoggerValues::List(values),
        );
        self.queue.push_line(line);
    }
}

impl Drain for LineDrain {
    type Ok = ();
    type Err = Never;

    fn log(&self, record: &Record<'_>, values: &OwnedKVList) -> Result<(), Never> {
        if !record.level().is_at_least(self.level) {
            return Ok(());
        }
        LINE.with(|cell| match cell.try_borrow_mut() {
            Ok(mut line) => {
                self.format_and_queue(&mut line, record, values);
                if line.capacity() > RETAINED_LINE_BYTES {
                    *line = Vec::new();
                }
            }
            // A value that logs while it is being formatted: use a fresh buffer.
            Err(_) => self.format_and_queue(&mut Vec::new(), record, values),
        });
        Ok(())
    }

    fn is_enabled(&self, level: Level) -> bool {
        level.is_at_least(self.level)
    }
}

/// The root logger over a line drain writing to `writer`, its pipeline, and
/// its guard.
pub(crate) fn build<W: Write + Send + 'static>(
    config: DrainConfig,
    shared: Shared,
    writer: crate::pipeline::output::Output<W>,
) -> Result<(Logger, Pipeline, LogGuard), ConfigError> {
    let reports = ReportFormatter {
        process: Arc::clone(&shared.process),
        root_values: shared.root_values,
        caps: shared.caps,
    };
    let queue = LineQueue::new(
        config.channel_size,
        config.patience(),
        Arc::clone(&shared.losses),
        reports,
    );
    let writer = writer::spawn(
        queue.clone(),
        writer,
        Arc::clone(&shared.process),
        shared.caps,
    )
    .map_err(|e| ConfigError::WriterThread(e.to_string()))?;
    let link = DrainLink::new(queue.clone(), shared.caps, Arc::clone(&shared.process));
    let drain = LineDrain {
        queue: queue.clone(),
        level: config.level,
        process: shared.process,
        caps: shared.caps,
    };
    let output = queue.output();
    let pipeline = Pipeline {
        link: Some(link),
        output: output.clone(),
    };
    let guard = LogGuard::new(
        crate::config::DrainKind::Line,
        shared.losses,
        output,
        move || {
            queue.close();
            // A writer that panicked has nothing left to flush.
            let _ = writer.join();
        },
    );
    Ok((
        Logger::root(drain, OwnedKV(config.env_fields)),
        pipeline,
        guard,
    ))
}
