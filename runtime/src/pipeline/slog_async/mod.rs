//! The design's alternative drain: slog-async's channel over slog-json, with
//! the same room (admission, overflow policy, stall detection), size caps and
//! loss reports as the line drain, so that both write the same bytes.
//!
//! | file | its one job |
//! | --- | --- |
//! | `channel.rs` | the caller side: level filter, time stamp, admission, slog-async's channel; and the drain's assembly |
//! | `writer.rs` | the writer thread's drain: slog-json formats, the caps apply, the line is written and counted |

pub(crate) mod channel;
pub(crate) mod writer;

pub(crate) use channel::build;
