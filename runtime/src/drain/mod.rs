//! The path a record takes from the caller to the output. Two drains take
//! it, with the same lines, policies and loss reports.
//!
//! | file | its one job |
//! | --- | --- |
//! | `mod.rs` | what a drain is built from, and [`build`], one function per drain kind behind it |
//! | `head.rs` | the keys that open every record (time, level, message, origin, host, process) |
//! | `constant_values.rs` | pairs fixed for a logger's life (environment fields, host, process) |
//! | `timestamp.rs` | `@timestamp`'s text |
//! | `event_clock.rs` | the clock reading a captured record carries, and its wall-clock time |
//! | `json_text.rs` | JSON text as serde_json writes it: keys, escaped strings, floats |
//! | `json_line.rs` | formats a record as a JSON line into a byte buffer (the line drain's formatter) |
//! | `prediction_record.rs` | a prediction record's shape: its event (message, level, outcome) and its own pairs, in order |
//! | `capture.rs` | a prediction record's compact form, written into the channel by the caller and read by the writer |
//! | `template.rs` | what all the prediction records of one wrapped model share, made once |
//! | `link.rs` | how a wrapped model finds the line drain under its logger, and captures its records into it |
//! | `line_drain.rs` | the line drain's slog side (records formatted by their caller) and its assembly |
//! | `entries.rs` | what waits in the line drain's channel: lines and captured records, framed in one buffer |
//! | `queue.rs` | the line drain's channel: admission, overflow policy, drop reports, batches for the writer |
//! | `writer.rs` | the line drain's writer thread: formats captured records, writes batches, counts |
//! | `report_lines.rs` | the line drain's loss reports, formatted as lines |
//! | `async_channel.rs` | the slog-async drain's caller side: level filter, time stamp, channel; and its assembly |
//! | `async_writer.rs` | the slog-async drain's writer thread: slog-json formats, the line is written |
//! | `caps.rs` | the size caps on a finished line, the same for both drains |
//! | `unformattable.rs` | the record that replaces one that could not be formatted |
//! | `losses.rs` | counting lost records, and the records and messages that report them |
//! | `room.rs` | room in a channel: admission, waiting, reservations for async callers, stall detection |
//! | `output.rs` | writing whole lines to the output, counting the lines a failed write loses |

pub(crate) mod async_channel;
pub(crate) mod async_writer;
pub(crate) mod caps;
pub(crate) mod capture;
pub(crate) mod constant_values;
pub(crate) mod entries;
pub(crate) mod event_clock;
pub(crate) mod head;
pub(crate) mod json_line;
pub(crate) mod json_text;
pub(crate) mod line_drain;
pub(crate) mod link;
pub(crate) mod losses;
pub(crate) mod output;
pub(crate) mod prediction_record;
pub(crate) mod queue;
pub(crate) mod report_lines;
pub(crate) mod room;
pub(crate) mod template;
pub(crate) mod timestamp;
pub(crate) mod unformattable;
pub(crate) mod writer;

use crate::config::{ConfigError, DrainKind, Overflow};
use crate::guard::LogGuard;
use caps::SizeCaps;
use constant_values::ConstantValues;
use head::ProcessFields;
use losses::LossCounters;
use slog::{Level, Logger, OwnedKV, OwnedKVList};
use std::io::Write;
use std::sync::Arc;

/// What every drain is built from: the configuration, checked.
pub(crate) struct DrainConfig {
    pub(crate) level: Level,
    pub(crate) overflow: Overflow,
    /// In `block` mode, the longest a caller waits for room; `None`: no limit.
    pub(crate) block_timeout: Option<std::time::Duration>,
    pub(crate) channel_size: usize,
    /// The environment fields, on every record.
    pub(crate) env_fields: ConstantValues,
    /// The size caps on every line.
    pub(crate) caps: SizeCaps,
}

impl DrainConfig {
    /// How long a caller waits for room.
    pub(crate) fn patience(&self) -> room::Patience {
        match (self.overflow, self.block_timeout) {
            (Overflow::Drop, _) => room::Patience::None,
            (Overflow::Block, None) => room::Patience::Unlimited,
            (Overflow::Block, Some(timeout)) => room::Patience::Limited(timeout),
        }
    }
}

/// What both drains share between their caller side and their writer.
pub(crate) struct Shared {
    /// The host and process keys.
    pub(crate) process: Arc<ProcessFields>,
    /// What was lost, counted once.
    pub(crate) losses: Arc<LossCounters>,
    /// The environment fields, for the records the drain writes itself.
    pub(crate) root_values: OwnedKVList,
    /// The size caps on every line.
    pub(crate) caps: SizeCaps,
}

/// The root logger over a drain of `kind` writing to `writer`, and the guard
/// that owns its writer thread.
pub(crate) fn build<W: Write + Send + 'static>(
    kind: DrainKind,
    config: DrainConfig,
    writer: W,
) -> Result<(Logger, LogGuard), ConfigError> {
    // The clock records are timed with is calibrated once, here, not by
    // the first prediction.
    event_clock::EventTime::start_clock();
    let shared = Shared {
        process: Arc::new(ProcessFields::of_this_process()),
        losses: Arc::new(LossCounters::default()),
        root_values: OwnedKVList::from(OwnedKV(config.env_fields.clone())),
        caps: config.caps,
    };
    match kind {
        DrainKind::Line => line_drain::build(config, shared, writer),
        DrainKind::SlogAsync => async_channel::build(config, shared, writer),
    }
}
