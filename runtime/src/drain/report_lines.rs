//! [`ReportFormatter`]: the line drain's loss reports as lines, with the
//! process's keys and the environment fields like every other record.

use super::caps::SizeCaps;
use super::head::ProcessFields;
use super::json_line::{LoggerValues, format_record};
use super::losses::Report;
use slog::OwnedKVList;
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
