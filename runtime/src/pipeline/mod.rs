//! How records move: from the caller, through a bounded channel, to a
//! writer thread and the output; who waits when the channel is full, when
//! the output counts as stalled, and what was lost. Nothing here knows JSON:
//! what a record *is* and how it is written is in `record/`.
//!
//! | file | its one job |
//! | --- | --- |
//! | `mod.rs` | [`build`]: the root logger over the configured drain, its pipeline, and its guard |
//! | `parts.rs` | what every drain is built from (its configuration, what its two sides share) and the `Pipeline` it hands back |
//! | `room.rs` | room in a channel: lock-free admission, waiting, reservations for async callers, stall detection |
//! | `log_output.rs` | [`LogOutput`](crate::LogOutput): the output's state for probes, and room awaited by async code |
//! | `guard.rs` | [`LogGuard`](crate::LogGuard): owns the writer thread, flushes it, reports losses |
//! | `losses.rs` | counting lost records, once each, and [`LogStats`](crate::LogStats) |
//! | `event_clock.rs` | the clock reading a captured record carries, and its wall-clock time |
//! | `captured_output.rs` | [`CapturedOutput`](crate::CapturedOutput): an output in memory, for tests and for slog-json's line buffer |
//! | `line_writer.rs` | writing whole lines to the user's writer, counting the lines a failed write loses |
//! | `output.rs` | where the writer thread's lines go: the user's writer, the OTLP exporter, or both; what each call delivered |
//! | `line_drain.rs` | the line drain's slog side (records formatted by their caller) and its assembly |
//! | `link.rs` | the line drain's capture path a pipeline hands to each wrapped model, and its records captured into the channel |
//! | `entries.rs` | what waits in the line drain's channel: lines and captured records, framed in one buffer |
//! | `producers.rs` | the line drain's per-thread buffers, which only their thread and the writer lock |
//! | `queue.rs` | the line drain's channel: a room and per-thread buffers, waking the writer, batches for it |
//! | `writer.rs` | the line drain's writer thread: formats captured records, writes batches, counts |
//! | `slog_async/` | the design's alternative: slog-async over slog-json, with the same room, caps and reports |

pub(crate) mod captured_output;
pub(crate) mod entries;
pub(crate) mod event_clock;
pub(crate) mod guard;
pub(crate) mod line_drain;
pub(crate) mod line_writer;
pub(crate) mod link;
pub(crate) mod log_output;
pub(crate) mod losses;
pub(crate) mod output;
pub(crate) mod parts;
pub(crate) mod producers;
pub(crate) mod queue;
pub(crate) mod room;
pub(crate) mod slog_async;
pub(crate) mod writer;

use crate::config::{ConfigError, DrainKind};
use crate::pipeline::guard::LogGuard;
use crate::pipeline::losses::LossCounters;
use crate::pipeline::output::Output;
use crate::pipeline::parts::{DrainConfig, Pipeline, Shared};
use crate::record::head::ProcessFields;
use slog::{Logger, OwnedKV, OwnedKVList};
use std::io::Write;
use std::sync::Arc;

/// The root logger over a drain of `kind` writing to `writer`, the
/// pipeline it logs into, and the guard that owns its writer thread.
pub(crate) fn build<W: Write + Send + 'static>(
    kind: DrainKind,
    config: DrainConfig,
    writer: Output<W>,
) -> Result<(Logger, Pipeline, LogGuard), ConfigError> {
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
        DrainKind::SlogAsync => slog_async::build(config, shared, writer),
    }
}
