//! The path a record takes from the caller to the output.
//!
//! On the caller's thread, [`channel::ChannelDrain`] filters by level, stamps
//! the record with the current time and queues it on slog-async's channel,
//! applying the overflow policy and counting what it drops. On slog-async's
//! worker thread, [`line_writer::LineWriter`] formats the record with
//! slog-json into one line and writes it, counting the writes that fail.
//! [`head::RecordHead`] supplies the keys that open every line.

pub(crate) mod async_channel;
pub(crate) mod async_writer;
pub(crate) mod constant_values;
pub(crate) mod head;
pub(crate) mod json_line;
pub(crate) mod line_drain;
pub(crate) mod line_queue;
pub(crate) mod losses;
pub(crate) mod output;
pub(crate) mod timestamp;
