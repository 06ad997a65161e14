//! The line drain's writer thread: reads what the callers wrote into the
//! [`LineQueue`], formats the captured records (their `@timestamp` from the
//! clock reading each one carries), writes the lines in pieces of about
//! [`CHUNK_BYTES`], and counts what was written and what a failed write
//! lost.

use crate::pipeline::event_clock::{EventTime, WallClock};
use crate::pipeline::output::Output;
use crate::pipeline::producers::{Entry, Readers};
use crate::pipeline::queue::LineQueue;
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

/// A line buffer larger than this is given back after it is written, so a
/// burst does not keep its memory for the life of the process.
const RETAINED_LINE_BYTES: usize = 4 << 20;

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

/// Lines gathered for one write, and how many of them are records read
/// from the queue (the others are the writer's own reports).
#[derive(Default)]
struct Chunk {
    lines: u64,
    records: usize,
}

struct Writer<W: Write> {
    queue: LineQueue,
    output: Output<W>,
    process: Arc<ProcessFields>,
    caps: SizeCaps,
}

impl<W: Write> Writer<W> {
    fn write_until_closed(mut self) {
        let queue = self.queue.clone();
        let mut readers = Readers::default();
        let mut lines = Vec::new();
        let mut report_line = Vec::new();
        let mut last_record = Instant::now();
        while queue.wait_for_records(last_record) {
            let mut clock = WallClock::now();
            let mut chunk = Chunk::default();
            // The drops counted so far, before the records read now.
            if queue.report_drops(&mut lines) {
                chunk.lines += 1;
            }
            let read = queue.read(&mut readers, &mut |entry| {
                match entry {
                    Entry::Line(line) => lines.extend_from_slice(line),
                    Entry::Captured { template, capture } => {
                        self.format_captured(&mut lines, &mut clock, template, capture);
                    }
                }
                chunk.lines += 1;
                chunk.records += 1;
                // Written from the cache they were formatted into.
                if lines.len() >= CHUNK_BYTES {
                    self.write_chunk(&mut lines, std::mem::take(&mut chunk), &mut report_line);
                }
            });
            if chunk.lines > 0 {
                self.write_chunk(&mut lines, chunk, &mut report_line);
            }
            if read > 0 {
                last_record = Instant::now();
            }
            if lines.capacity() > RETAINED_LINE_BYTES {
                lines = Vec::new();
            }
        }
        // The drops counted since the last read (a caller counts its drop
        // before the queue can be seen closed).
        if queue.report_drops(&mut lines) {
            let chunk = Chunk {
                lines: 1,
                records: 0,
            };
            self.write_chunk(&mut lines, chunk, &mut report_line);
        }
        self.report_failed_writes(&mut report_line);
    }

    /// Writes `lines` and counts them written or lost; the records among
    /// them leave the queue's channel first.
    fn write_chunk(&mut self, lines: &mut Vec<u8>, chunk: Chunk, report_line: &mut Vec<u8>) {
        self.queue.taken(chunk.records);
        let delivery = self.output.write_lines(lines);
        self.queue.losses().count_delivery(chunk.lines, delivery);
        if delivery.is_ok() {
            self.report_failed_writes(report_line);
        }
        self.queue.done_with(chunk.records);
        lines.clear();
    }

    /// Formats a captured record as its caller would have.
    fn format_captured(
        &self,
        out: &mut Vec<u8>,
        clock: &mut WallClock,
        template: Option<&RecordTemplate>,
        capture: &[u8],
    ) {
        let Some(template) = template else {
            return self.unreadable(out, PredictionEvent::Exception, SystemTime::now(), None);
        };
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
            self.unreadable(out, event, time, Some(template));
        }
    }

    /// Writes, in place of a captured record that could not be read, a
    /// record that says so.
    fn unreadable(
        &self,
        out: &mut Vec<u8>,
        event: PredictionEvent,
        time: SystemTime,
        template: Option<&RecordTemplate>,
    ) {
        static UNKNOWN: slog::RecordLocation = slog::RecordLocation {
            file: file!(),
            line: line!(),
            column: 0,
            function: "",
            module: module_path!(),
        };
        let location = template.map_or(&UNKNOWN, RecordTemplate::location);
        let values = template.map_or(&b""[..], RecordTemplate::values);
        event.with_record(location, &(), |record| {
            unformattable::with_replacement(
                record,
                "the captured record could not be read",
                |replacement| {
                    let values = LoggerValues::Rendered(values);
                    format_record(out, time, &self.process, self.caps, replacement, values);
                },
            );
        });
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
