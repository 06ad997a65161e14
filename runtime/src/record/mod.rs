//! What a record is: the keys that open it, its pairs in their order, the
//! compact form a prediction record is captured in, the template its model's
//! records share, the size caps, redaction, and its JSON line. No threads
//! and no locks: how records move is in `pipeline/`.
//!
//! | file | its one job |
//! | --- | --- |
//! | `json_text.rs` | JSON text as serde_json writes it: keys, escaped strings, floats |
//! | `timestamp.rs` | `@timestamp`'s text |
//! | `constant_values.rs` | pairs fixed for a logger's life (environment fields, host, process) |
//! | `head.rs` | the keys that open every record (time, level, message, origin, host, process) |
//! | `trace_context.rs` | [`TraceContext`](crate::TraceContext), the W3C trace a record belongs to, and its scope |
//! | `prediction_record.rs` | a prediction record's shape: its event (message, level, outcome) and its own pairs, in order |
//! | `capture.rs` | a prediction record's compact form, written into the channel by the caller and read by the writer |
//! | `not_scalar.rs` | the refusals of a serializer that takes only scalars, shared by the profile and `sendable.rs` |
//! | `sendable.rs` | the owned copy of a field that slog-async sends to its thread: a scalar as it is, else its JSON text |
//! | `template.rs` | what all the prediction records of one wrapped model share, made once |
//! | `json_line.rs` | formats a record as a JSON line into a byte buffer |
//! | `caps.rs` | the size caps on a finished line, the same for both drains |
//! | `unformattable.rs` | the record that replaces one that could not be formatted |
//! | `loss_report.rs` | the record that says how many records were lost, and its line |

pub(crate) mod caps;
pub(crate) mod capture;
pub(crate) mod constant_values;
pub(crate) mod head;
pub(crate) mod json_line;
pub(crate) mod json_text;
pub(crate) mod loss_report;
pub(crate) mod not_scalar;
pub(crate) mod prediction_record;
pub(crate) mod sendable;
pub(crate) mod template;
pub(crate) mod timestamp;
pub(crate) mod trace_context;
pub(crate) mod unformattable;
