//! The one definition of every key name the runtime writes. The runtime's
//! `logged_model::keys` module is generated from this table (by the hidden
//! `__define_keys!` macro), and the attribute's check that a logged field does
//! not reuse a framework key reads the same table, so a name is written once.

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

/// One key: the constant's name in `logged_model::keys`, the key, the
/// Elasticsearch type it is indexed as (Elastic Common Schema's, for its
/// keys), and its doc.
pub struct Key {
    pub constant: &'static str,
    pub key: &'static str,
    pub es_type: &'static str,
    pub doc: &'static str,
}

const fn key(
    constant: &'static str,
    key: &'static str,
    es_type: &'static str,
    doc: &'static str,
) -> Key {
    Key {
        constant,
        key,
        es_type,
        doc,
    }
}

/// Every key the runtime writes on a record of its own, in the order a
/// prediction record writes them.
#[rustfmt::skip]
pub const KEYS: &[Key] = &[
    key("TIMESTAMP", "@timestamp", "date", "When the event happened: RFC 3339, UTC, microseconds."),
    key("LEVEL", "log.level", "keyword", "`\"INFO\"`, `\"ERROR\"`, ..."),
    key("MESSAGE", "message", "match_only_text", "The record's message."),
    key("ECS", "ecs.version", "keyword", "The value of [`ECS_VERSION`]."),
    key("ORIGIN_FILE", "log.origin.file.name", "keyword", "The source file the record comes from."),
    key("ORIGIN_LINE", "log.origin.file.line", "long", "The source line the record comes from."),
    key("HOSTNAME", "host.hostname", "keyword", "The host the process runs on."),
    key("PID", "process.pid", "long", "The process id."),
    key("LOGGER", "log.logger", "keyword", "The logger's name."),
    key("ACTION", "action", "keyword", "`\"predict\"` on prediction records."),
    key("MODEL_QUALIFIED_NAME", "model_qualified_name", "keyword", "The model's qualified name."),
    key("MODEL_VERSION", "model_version", "keyword", "The model's version."),
    key("PREDICTION_ID", "prediction_id", "keyword", "Unique per prediction; the same on its two records."),
    key("CORRELATION_ID", "correlation_id", "keyword", "The caller's id for the current request or job."),
    key("TRACE_ID", "trace.id", "keyword", "The W3C trace id of the work, when a trace context is in scope."),
    key("SPAN_ID", "span.id", "keyword", "The span of the work in its trace."),
    key("PARENT_ID", "parent.id", "keyword", "The caller's span, when the work continues a caller's trace."),
    key("SAMPLE_RATE", "sample_rate", "double", "On every record of a model logged at a rate below 1: the rate, to weight counts by."),
    key("STATUS", "status", "keyword", "`\"success\"` or `\"error\"`."),
    key("DURATION", "event.duration", "long", "The prediction's duration in nanoseconds."),
    key("ERROR_INFO", "error_info", "match_only_text", "The error's text or the panic message."),
    key("FIELD_ERRORS", "field_errors", "keyword", "Fields whose value could not be turned into JSON, with the reason."),
    key("TRUNCATED_FIELDS", "truncated_fields", "keyword", "The keys whose values were cut to fit the size caps."),
    key("ORIGINAL_MESSAGE", "original_message", "match_only_text", "On a record that could not be formatted: the message it had."),
    key("DROPPED_RECORDS", "dropped_records", "long", "On a drop report: how many records the full channel dropped."),
    key("FAILED_WRITES", "failed_writes", "long", "On a write-failure report: how many records the output failed to take."),
    key("MODEL_PROFILE", "model_profile", "object", "On a \"Model profile.\" record: the window, its predictions, and each field's sketches."),
];

/// The Elasticsearch types a field's mapping may be given with
/// `field(type = "...")`.
pub const ES_TYPES: &[&str] = &[
    "keyword",
    "long",
    "double",
    "boolean",
    "object",
    "date",
    "text",
    "match_only_text",
    "integer",
    "float",
    "ip",
    "flattened",
];

/// Whether a field logged under `key` would collide with a framework key.
pub fn is_reserved(key: &str) -> bool {
    KEYS.iter().any(|known| known.key == key)
}

/// The constants of `logged_model::keys`, and `RESERVED`, the list of all.
pub fn define() -> TokenStream {
    let constants = KEYS.iter().map(
        |Key {
             constant, key, doc, ..
         }| {
            let name = Ident::new(constant, Span::call_site());
            quote! {
                #[doc = #doc]
                pub const #name: &str = #key;
            }
        },
    );
    let all = KEYS.iter().map(|Key { key, .. }| key);
    let typed = KEYS
        .iter()
        .map(|Key { key, es_type, .. }| quote!((#key, #es_type)));
    quote! {
        #(#constants)*

        /// Every key the runtime writes itself. A model field or environment
        /// variable may not be logged under any of these names.
        pub const RESERVED: &[&str] = &[#(#all),*];

        /// The Elasticsearch type of every key in [`RESERVED`], as the
        /// Elastic Common Schema gives it for its keys.
        pub const ES_TYPES: &[(&str, &str)] = &[#(#typed),*];
    }
}
