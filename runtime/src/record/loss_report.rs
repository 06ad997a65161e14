//! A loss report: the record that says how many records were lost and how,
//! as a slog record (for any drain) and, by [`ReportFormatter`], as a line
//! with the process's keys and the environment fields like every other
//! record. What is counted, and when a report is due, is the pipeline's.

use crate::keys;
use crate::record::caps::SizeCaps;
use crate::record::head::ProcessFields;
use crate::record::json_line::{LoggerValues, format_record};
use slog::OwnedKVList;
use slog::{BorrowedKV, Drain, Level, Record, RecordLocation, RecordStatic};
use std::sync::Arc;
use std::time::SystemTime;

/// Formats the drain's own reports.
pub(crate) struct ReportFormatter {
    pub(crate) process: Arc<ProcessFields>,
    pub(crate) root_values: OwnedKVList,
    pub(crate) caps: SizeCaps,
}

impl ReportFormatter {
    /// Appends `report` to `out` as one line.
    pub(crate) fn format(&self, out: &mut Vec<u8>, report: &Report) {
        report.with_record(|record| {
            format_record(
                out,
                SystemTime::now(),
                &self.process,
                self.caps,
                record,
                LoggerValues::List(&self.root_values),
            )
        });
    }
}

/// The two ways a record can be lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LossKind {
    /// The channel was full and the overflow policy is `drop`.
    Dropped,
    /// The output returned an error.
    FailedWrites,
}

/// A record that says how many records were lost.
pub(crate) struct Report {
    pub(crate) kind: LossKind,
    pub(crate) count: u64,
}

/// Report records come from the runtime itself.
static REPORT_LOCATION: RecordLocation = RecordLocation {
    file: file!(),
    line: line!(),
    column: 0,
    function: "report",
    module: module_path!(),
};

impl Report {
    /// The report's message: what happened, in words an operator can search.
    pub(crate) fn message(&self) -> &'static str {
        match self.kind {
            LossKind::Dropped => "Log records dropped: the log channel was full.",
            LossKind::FailedWrites => "Log records lost: the log output failed to write them.",
        }
    }

    /// Logs the report into `drain` as a `WARN` record.
    pub(crate) fn log_to<D: Drain>(
        &self,
        drain: &D,
        values: &OwnedKVList,
    ) -> Result<D::Ok, D::Err> {
        self.with_record(|record| drain.log(record, values))
    }

    /// Calls `f` with the report as a `WARN` record.
    pub(crate) fn with_record<R>(&self, f: impl FnOnce(&Record<'_>) -> R) -> R {
        let key = match self.kind {
            LossKind::Dropped => keys::DROPPED_RECORDS,
            LossKind::FailedWrites => keys::FAILED_WRITES,
        };
        let record_static = RecordStatic {
            location: &REPORT_LOCATION,
            tag: "",
            level: Level::Warning,
        };
        let kv = slog::SingleKV(key, self.count);
        f(&Record::new(
            &record_static,
            &format_args!("{}", self.message()),
            BorrowedKV(&kv),
        ))
    }
}
