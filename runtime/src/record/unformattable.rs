//! The record written in place of one that could not be formatted (a value
//! whose serialization failed), so that a record is never lost or cut in
//! half: `"Log record could not be formatted."` at `ERROR`, with the reason
//! and the original message.

use crate::keys;
use slog::{BorrowedKV, Level, Record, RecordStatic, SingleKV};
use std::any::Any;

/// The replacement record's message.
pub(crate) const MESSAGE: &str = "Log record could not be formatted.";

/// Calls `f` with the record that stands for `record`, which failed for `reason`.
pub(crate) fn with_replacement<R>(
    record: &Record<'_>,
    reason: &str,
    f: impl FnOnce(&Record<'_>) -> R,
) -> R {
    let original = record.msg().to_string();
    let kv = (
        SingleKV(keys::ERROR_INFO, reason),
        SingleKV(keys::ORIGINAL_MESSAGE, original.as_str()),
    );
    let replacement_static = RecordStatic {
        location: record.location(),
        tag: "",
        level: Level::Error,
    };
    f(&Record::new(
        &replacement_static,
        &format_args!("{MESSAGE}"),
        BorrowedKV(&kv),
    ))
}

/// The text of a panic payload: the message of `panic!("...")`.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(message) = payload.downcast_ref::<&'static str>() {
        message
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message
    } else {
        "the prediction panicked with a payload that is not a string"
    }
}
