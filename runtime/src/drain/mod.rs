//! The path a record takes from the caller to the output. Two drains take
//! it, with the same lines, policies and loss reports.
//!
//! The line drain (the default): on the caller's thread, [`line_drain`]
//! filters by level and has [`json_line`] format the record into a reused
//! buffer, with [`timestamp`] and the pre-formatted [`constant_values`];
//! [`line_queue`] takes the finished line, applies the overflow policy, and
//! its writer thread writes the queued lines in batches.
//!
//! The slog-async drain: on the caller's thread, [`async_channel`] filters
//! by level, stamps the record with the time ([`head`]) and queues an owned
//! copy on slog-async's channel; on slog-async's thread, [`async_writer`]
//! formats it with slog-json.
//!
//! Both write through [`output`], which counts the lines a failing output
//! loses, and report losses with [`losses`].

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
