//! The writer thread's side of the drain: slog-json formats each record into
//! a buffer, and the finished line goes to the output in one piece. A failed
//! write is counted, never turned into a panic, and reported as soon as the
//! output takes a line again.

use crate::pipeline::captured_output::CapturedOutput;
use crate::pipeline::losses::LossCounters;
use crate::pipeline::output::Output;
use crate::pipeline::room::Room;
use crate::record::caps::SizeCaps;
use crate::record::head::{OwnedRecordHead, ProcessFields};
use crate::record::loss_report::LossKind;
use crate::record::unformattable;
use slog::{Drain, Never, OwnedKV, OwnedKVList, Record};
use std::cell::RefCell;
use std::io::{self, BufWriter, Write};
use std::sync::Arc;
use std::time::SystemTime;

/// Formats records as JSON lines and writes them to `W`.
pub(crate) struct SlogJsonWriter<W: Write> {
    /// slog-json writes a record in many small pieces: they gather in the
    /// `BufWriter` and reach `line` in one piece, when slog-json flushes at
    /// the end of the record.
    json: RefCell<slog_json::Json<BufWriter<LineBuffer>>>,
    line: LineBuffer,
    /// The current line, taken out of `line`; its allocation is reused.
    scratch: RefCell<Vec<u8>>,
    output: RefCell<Output<W>>,
    losses: Arc<LossCounters>,
    process: Arc<ProcessFields>,
    root_values: OwnedKVList,
    caps: SizeCaps,
    /// Told of every record written, so that callers get room again.
    room: Arc<Room>,
}

impl<W: Write> SlogJsonWriter<W> {
    pub(crate) fn new(
        output: Output<W>,
        losses: Arc<LossCounters>,
        process: Arc<ProcessFields>,
        root_values: OwnedKVList,
        caps: SizeCaps,
        room: Arc<Room>,
    ) -> Self {
        let line = LineBuffer::default();
        SlogJsonWriter {
            json: RefCell::new(json_into(&line)),
            line,
            scratch: RefCell::new(Vec::new()),
            output: RefCell::new(output),
            losses,
            process,
            root_values,
            caps,
            room,
        }
    }

    /// Formats one record with slog-json into the scratch line.
    fn format(&self, record: &Record<'_>, values: &OwnedKVList) -> io::Result<()> {
        // Sensitive values met at any depth are written as the redaction marker.
        let _redacting = crate::sensitive::RedactionScope::enter();
        let formatted = self.json.borrow_mut().log(record, values);
        if formatted.is_err() {
            // The part written before the failure is still buffered: drop
            // it with the formatter, and start from a fresh one.
            *self.json.borrow_mut() = json_into(&self.line);
        }
        let mut scratch = self.scratch.borrow_mut();
        self.line.take_into(&mut scratch);
        if formatted.is_err() {
            scratch.clear();
        } else {
            self.caps.apply(&mut scratch, 0);
        }
        formatted
    }

    /// Formats and writes one record; returns whether the output took it.
    fn write_record(&self, record: &Record<'_>, values: &OwnedKVList) -> bool {
        match self.format(record, values) {
            Ok(()) => self.write_line(&self.scratch.borrow()),
            Err(error) => {
                // A value failed to serialize: the record is replaced by one
                // that says so, rather than written half or not at all.
                self.write_unformattable(record, &error)
            }
        }
    }

    fn write_unformattable(&self, record: &Record<'_>, error: &io::Error) -> bool {
        unformattable::with_replacement(record, &error.to_string(), |replacement| {
            self.format(replacement, &self.own_head()).is_ok()
                && self.write_line(&self.scratch.borrow())
        })
    }

    fn write_line(&self, line: &[u8]) -> bool {
        let delivery = self.output.borrow_mut().write_lines(line);
        self.losses.count_delivery(1, delivery);
        delivery.is_ok()
    }

    fn report_failed_writes(&self) {
        self.losses.report(LossKind::FailedWrites, |report| {
            let formatted = report.with_record(|record| self.format(record, &self.own_head()));
            formatted.is_ok() && self.write_line_uncounted(&self.scratch.borrow())
        });
    }

    /// Writes a report line; a report that fails is not itself a lost record.
    fn write_line_uncounted(&self, line: &[u8]) -> bool {
        self.output.borrow_mut().write_lines(line).is_ok()
    }

    /// The head of a record the writer makes itself.
    fn own_head(&self) -> OwnedKVList {
        OwnedKVList::from(OwnedKV(OwnedRecordHead {
            time: SystemTime::now(),
            process: Arc::clone(&self.process),
            logger_values: self.root_values.clone(),
        }))
    }
}

impl<W: Write> Drain for SlogJsonWriter<W> {
    type Ok = ();
    type Err = Never;

    fn log(&self, record: &Record<'_>, values: &OwnedKVList) -> Result<(), Never> {
        if self.write_record(record, values) {
            self.report_failed_writes();
        }
        self.room.taken(1);
        Ok(())
    }
}

impl<W: Write> Drop for SlogJsonWriter<W> {
    fn drop(&mut self) {
        self.report_failed_writes();
    }
}

/// The buffer slog-json formats one record into.
type LineBuffer = CapturedOutput;

/// slog-json, writing one line per record into `line`, flushed at its end.
fn json_into(line: &LineBuffer) -> slog_json::Json<BufWriter<LineBuffer>> {
    slog_json::Json::new(BufWriter::new(line.clone()))
        .set_newlines(true)
        .set_flush(true)
        .build()
}
