//! The keys that logged-model writes on its records itself. A model field
//! logged under one of these names would appear twice in one JSON object.

use proc_macro2::TokenStream;
use quote::quote;

/// Every key the runtime writes on a prediction record or on its own reports.
pub const RESERVED_KEYS: &[&str] = &[
    "@timestamp",
    "log.level",
    "message",
    "ecs.version",
    "log.logger",
    "log.origin.file.name",
    "log.origin.file.line",
    "host.hostname",
    "process.pid",
    "action",
    "model_qualified_name",
    "model_version",
    "prediction_id",
    "correlation_id",
    "status",
    "event.duration",
    "error_info",
    "field_errors",
    "dropped_records",
    "failed_writes",
];

/// Whether a field logged under `key` would collide with a framework key.
pub fn is_reserved(key: &str) -> bool {
    RESERVED_KEYS.contains(&key)
}

/// `[ "@timestamp", "log.level", ... ]` as tokens.
pub fn array_literal() -> TokenStream {
    let keys = RESERVED_KEYS.iter();
    quote!(&[#(#keys),*])
}
