//! The line drain's writer thread: takes each batch from the
//! [`LineQueue`], formats its captured records (their `@timestamp` from the
//! clock reading each one carries), writes the batch in one call, and
//! counts what was written and what a failed write lost.

use crate::pipeline::entries::Entry;
use crate::pipeline::event_clock::{EventTime, WallClock};
use crate::pipeline::output::Output;
use crate::pipeline::queue::{Batch, LineQueue};
use crate::record::caps::SizeCaps;
use crate::record::capture;
use crate::record::head::ProcessFields;
use crate::record::json_line::{LoggerValues, format_record, format_with_constant_part};
use crate::record::loss_report::LossKind;
use crate::record::prediction_record::PredictionEvent;
use crate::record::template::RecordTemplate;
use crate::record::unformattable;
use std::io::Write;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Instant, SystemTime};

/// A batch buffer larger than this is given back after it is written, so a
/// burst does not keep its memory for the life of the process.
const RETAINED_BATCH_BYTES: usize = 4 << 20;

/// The writer writes its lines in pieces of about this size: small enough
/// to stay in the cache they were formatted into, large enough that a file
/// takes few writes.
const CHUNK_BYTES: usize = 64 << 10;

/// Starts the writer thread of `queue`, writing to `output`.
pub(crate) fn spawn<W: Write + Send + 'static>(
    queue: LineQueue,
    output: Output<W>,
    process: Arc<ProcessFields>,
    caps: SizeCaps,
) -> std::io::Result<JoinHandle<()>> {
    let writer = Writer {
        queue,
        output,
        process,
        caps,
    };
    std::thread::Builder::new()
        .name("logged-model-writer".to_owned())
        .spawn(move || writer.write_until_closed())
}

struct Writer<W: Write> {
    queue: LineQueue,
    output: Output<W>,
    process: Arc<ProcessFields>,
    caps: SizeCaps,
}

impl<W: Write> Writer<W> {
    fn write_until_closed(mut self) {
        let mut batch = Batch::default();
        let mut lines = Vec::new();
        let mut report_line = Vec::new();
        let mut last_record = Instant::now();
        while self.queue.take_batch(&mut batch, last_record).is_some() {
            last_record = Instant::now();
            self.write_batch(&batch, &mut lines, &mut report_line);
            batch.clear(RETAINED_BATCH_BYTES);
            if lines.capacity() > RETAINED_BATCH_BYTES {
                lines = Vec::new();
            }
        }
        // The drops counted since the last batch (a caller counts its drop
        // before the queue can be seen closed).
        if self.queue.report_drops(&mut lines) {
            self.write_chunk(&mut lines, 1, 0, &mut report_line);
        }
        self.report_failed_writes(&mut report_line);
    }

    /// Writes the report of the drops counted so far, then formats the
    /// entries of `batch` in order, and writes their lines
    /// whenever `CHUNK_BYTES` are ready, so that the lines are written from
    /// the cache they were formatted into. Every entry is one line.
    fn write_batch(&mut self, batch: &Batch, lines: &mut Vec<u8>, report_line: &mut Vec<u8>) {
        let mut clock = WallClock::now();
        // Lines in `lines`, and how many of them are the batch's records.
        let mut in_chunk = u64::from(self.queue.report_drops(lines));
        let mut taken_in_chunk = 0;
        for entry in batch.entries() {
            match entry {
                Entry::Line(line) => lines.extend_from_slice(line),
                Entry::Captured { template, capture } => {
                    self.format_captured(lines, &mut clock, template, capture);
                }
            }
            in_chunk += 1;
            taken_in_chunk += 1;
            if lines.len() >= CHUNK_BYTES {
                self.write_chunk(lines, in_chunk, taken_in_chunk, report_line);
                in_chunk = 0;
                taken_in_chunk = 0;
            }
        }
        if in_chunk > 0 {
            self.write_chunk(lines, in_chunk, taken_in_chunk, report_line);
        }
    }

    /// Writes `lines`, `records` lines of which `taken` are records taken
    /// from the queue (the rest the writer's own reports), and counts them
    /// written or lost.
    fn write_chunk(
        &mut self,
        lines: &mut Vec<u8>,
        records: u64,
        taken: usize,
        report_line: &mut Vec<u8>,
    ) {
        let delivery = self.output.write_lines(lines);
        self.queue.losses().count_delivery(records, delivery);
        if delivery.is_ok() {
            self.report_failed_writes(report_line);
        }
        self.queue.done_with(taken);
        lines.clear();
    }

    /// Formats a captured record as its caller would have.
    fn format_captured(
        &self,
        out: &mut Vec<u8>,
        clock: &mut WallClock,
        template: &RecordTemplate,
        capture: &[u8],
    ) {
        let decoded = capture::decode(capture, template.sample_rate());
        let written =
            decoded
                .as_ref()
                .ok_or(slog::Error::Other)
                .and_then(|(event, time, pairs)| {
                    format_with_constant_part(
                        out,
                        &clock.timestamp(EventTime::from_nanos(*time)),
                        template.constant_part(*event),
                        self.caps,
                        |line| {
                            pairs.write(line, |line, fields| {
                                fields.write_line(line, template.keys_json())
                            })
                        },
                    )
                });
        if written.is_err() {
            // Never seen: the capture was written by this crate. Should it
            // happen, a record says so in its place.
            let (event, time) = decoded.map_or(
                (PredictionEvent::Exception, SystemTime::now()),
                |(event, time, _)| (event, clock.wall_time(EventTime::from_nanos(time))),
            );
            event.with_record(template.location(), &(), |record| {
                unformattable::with_replacement(
                    record,
                    "the captured record could not be read",
                    |replacement| {
                        let values = LoggerValues::Rendered(template.values());
                        format_record(out, time, &self.process, self.caps, replacement, values);
                    },
                );
            });
        }
    }

    fn report_failed_writes(&mut self, line: &mut Vec<u8>) {
        let (losses, reports) = (self.queue.losses(), self.queue.reports());
        let output = &mut self.output;
        losses.report(LossKind::FailedWrites, |report| {
            line.clear();
            reports.format(line, report);
            output.write_lines(line).is_ok()
        });
    }
}
